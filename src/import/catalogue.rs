//! Items files: one row per item; unrecognised columns are kept as JSON.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::ImportError;
use super::columns::{ColumnOverride, Role};
use super::report::{ImportReport, SkipReason};
use super::table::Table;
use crate::pipeline::JobContext;
use crate::store::ItemRow;

pub(super) const ROLES: [Role; 4] = [Role::ItemId, Role::Title, Role::Description, Role::Category];

/// Reads a catalogue. The same id twice with the same text is merged; with a
/// different title, description or category it is an error naming both lines.
pub fn parse_items(
    table: &Table,
    overrides: &[ColumnOverride],
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<Vec<ItemRow>, ImportError> {
    let map = table.columns(&ROLES, overrides)?;
    let id_col = table.required(&map, Role::ItemId)?;
    if map.get(Role::Title).is_none() && map.get(Role::Description).is_none() {
        table.required(&map, Role::Title)?;
    }
    let (title_col, desc_col, cat_col) = (
        map.get(Role::Title),
        map.get(Role::Description),
        map.get(Role::Category),
    );
    let extra_cols: Vec<usize> = (0..table.headers.len())
        .filter(|&i| !map.is_mapped(i))
        .collect();
    table.describe_in(report, &map);
    let file = table.file_name();

    let mut items: Vec<ItemRow> = Vec::new();
    let mut first_line: HashMap<String, (usize, u64)> = HashMap::new();
    let read = table.for_each_record(job, |line, record| {
        let field = |col: Option<usize>| super::fields::clean(col.and_then(|c| record.get(c)).unwrap_or(""));
        let item_id = field(Some(id_col));
        if item_id.is_empty() {
            report.skip(&file, line, SkipReason::NoItemId);
            return Ok(());
        }
        let (mut title, description) = (field(title_col), field(desc_col));
        if title.is_empty() {
            if description.is_empty() {
                report.skip(&file, line, SkipReason::NoTitle);
                return Ok(());
            }
            title = first_words(description);
        }
        let mut extra = serde_json::Map::new();
        for &c in &extra_cols {
            let value = super::fields::clean(record.get(c).unwrap_or(""));
            if !value.is_empty() {
                extra.insert(table.headers[c].clone(), value.into());
            }
        }
        let item = ItemRow {
            item_id: item_id.to_owned(),
            title: title.to_owned(),
            description: description.to_owned(),
            category: field(cat_col).to_owned(),
            extra: serde_json::Value::Object(extra).to_string(),
        };
        match first_line.entry(item.item_id.clone()) {
            Entry::Vacant(slot) => {
                slot.insert((items.len(), line));
                items.push(item);
            }
            Entry::Occupied(seen) => {
                let (index, earlier) = *seen.get();
                let before = &items[index];
                if (&before.title, &before.description, &before.category) != (&item.title, &item.description, &item.category) {
                    return Err(table.format_err(
                        Some(line),
                        format!(
                            "item id '{}' is already defined on line {earlier} with different text ('{}' here, '{}' there); keep one row per item",
                            item.item_id, item.title, before.title
                        ),
                    ));
                }
                report.merged_duplicates += 1;
            }
        }
        Ok(())
    })?;
    report.rows_read += read;
    Ok(items)
}

/// A title made from a description's first words, for catalogues without titles.
fn first_words(description: &str) -> &str {
    const MAX_CHARS: usize = 80;
    match description.char_indices().nth(MAX_CHARS) {
        Some((end, _)) => description[..end].trim_end(),
        None => description,
    }
}
