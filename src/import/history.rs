//! Interactions files: who took which item when, how many, how rated.

use std::collections::HashSet;

use csv::StringRecord;

use super::ImportError;
use super::columns::{ColumnOverride, Role};
use super::dates::TimestampParser;
use super::fields::{self, EventColumns, field};
use super::report::{ImportReport, SkipReason};
use super::table::Table;
use crate::pipeline::JobContext;
use crate::store::{Histories, NewEvent};

pub(super) const ROLES: [Role; 6] = [
    Role::UserId,
    Role::ItemId,
    Role::Timestamp,
    Role::Quantity,
    Role::Rating,
    Role::Basket,
];

/// Reads a history file. Rows naming items not in `known_items` are skipped and counted.
pub fn parse_interactions(
    table: &Table,
    overrides: &[ColumnOverride],
    known_items: &HashSet<String>,
    mut histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<Histories, ImportError> {
    let map = table.columns(&ROLES, overrides)?;
    let columns = EventColumns::new(table, &map)?;
    table.describe_in(report, &map);
    let file = table.file_name();
    // The day/month order of `03/04/2024` is decided from the file, not row by row.
    let finding = table.date_order(columns.ts);
    report.notes.extend(finding.note());
    let mut times = TimestampParser::new(finding.order, None);
    let read = table.for_each_record(job, |line, record| {
        match event(record, &columns, known_items, &mut times) {
            Ok(event) => report.merged_duplicates += u64::from(histories.add(event)),
            Err(reason) => report.skip(&file, line, reason),
        }
        Ok(())
    })?;
    report.rows_read += read;
    if histories.is_empty() && report.skipped_count(SkipReason::UnknownItem) == read {
        return Err(ImportError::NothingImported {
            path: table.path.clone(),
            reason: format!(
                "none of the {read} rows names an item in the catalogue; import the items file first (or check the item id column: {})",
                map.describe(&table.headers)
                    .iter()
                    .find(|(r, _)| *r == Role::ItemId)
                    .map_or("none", |(_, c)| c.as_str())
            ),
        });
    }
    Ok(histories)
}

/// One row as an event, or why it is skipped.
fn event<'r>(
    record: &'r StringRecord,
    columns: &EventColumns,
    known_items: &HashSet<String>,
    times: &mut TimestampParser,
) -> Result<NewEvent<'r>, SkipReason> {
    let user_id = field(record, Some(columns.user));
    let item_id = field(record, Some(columns.item));
    if user_id.is_empty() {
        return Err(SkipReason::NoUserId);
    }
    if item_id.is_empty() {
        return Err(SkipReason::NoItemId);
    }
    if !known_items.contains(item_id) {
        return Err(SkipReason::UnknownItem);
    }
    let basket = field(record, columns.basket);
    Ok(NewEvent {
        user_id,
        item_id,
        ts: fields::time(times, field(record, columns.ts))?,
        quantity: fields::quantity(field(record, columns.quantity))?,
        rating: fields::rating(field(record, columns.rating))?,
        basket_id: (!basket.is_empty()).then_some(basket),
    })
}
