//! Interactions files: who took which item when, how many, how rated.

use std::collections::HashSet;

use super::ImportError;
use super::columns::{ColumnOverride, Role};
use super::dates::TimestampParser;
use super::report::{ImportReport, SkipReason};
use super::table::Table;
use crate::pipeline::JobContext;
use crate::store::{Histories, NewEvent};

const ROLES: [Role; 6] = [
    Role::UserId,
    Role::ItemId,
    Role::Timestamp,
    Role::Quantity,
    Role::Rating,
    Role::Basket,
];

/// Parses a number as exported by spreadsheets: "3", "3.5", "4,5".
pub fn parse_number(raw: &str) -> Option<f64> {
    let s = raw.trim();
    s.parse::<f64>()
        .ok()
        .or_else(|| s.replace(',', ".").parse().ok())
        .filter(|n| n.is_finite())
}

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
    let user_col = table.required(&map, Role::UserId)?;
    let item_col = table.required(&map, Role::ItemId)?;
    let (ts_col, qty_col, rating_col, basket_col) = (
        map.get(Role::Timestamp),
        map.get(Role::Quantity),
        map.get(Role::Rating),
        map.get(Role::Basket),
    );
    report.files.push(table.file_name());
    report.encoding = table.encoding.to_owned();
    report.columns.extend(map.describe(&table.headers));
    let file = table.file_name();

    let mut times = TimestampParser::default();
    let read = table.for_each_record(job, |line, record| {
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim();
        let (user_id, item_id) = (field(Some(user_col)), field(Some(item_col)));
        let skip = if user_id.is_empty() {
            Some(SkipReason::NoUserId)
        } else if item_id.is_empty() {
            Some(SkipReason::NoItemId)
        } else if !known_items.contains(item_id) {
            Some(SkipReason::UnknownItem)
        } else {
            None
        };
        if let Some(reason) = skip {
            report.skip(&file, line, reason);
            return Ok(());
        }
        let ts = match field(ts_col) {
            "" => None,
            raw => match times.parse(raw) {
                Some(ts) => Some(ts),
                None => {
                    report.skip(&file, line, SkipReason::BadTimestamp);
                    return Ok(());
                }
            },
        };
        let quantity = match field(qty_col) {
            "" => None,
            raw => match parse_number(raw) {
                Some(q) if q > 0.0 => Some(q),
                Some(_) => {
                    report.skip(&file, line, SkipReason::NonPositiveQuantity);
                    return Ok(());
                }
                None => {
                    report.skip(&file, line, SkipReason::BadQuantity);
                    return Ok(());
                }
            },
        };
        let rating = match field(rating_col) {
            "" => None,
            raw => match parse_number(raw) {
                Some(r) => Some(r),
                None => {
                    report.skip(&file, line, SkipReason::BadRating);
                    return Ok(());
                }
            },
        };
        let basket = field(basket_col);
        let merged = histories.add(NewEvent {
            user_id,
            item_id,
            ts,
            quantity,
            rating,
            basket_id: (!basket.is_empty()).then_some(basket),
        });
        report.merged_duplicates += u64::from(merged);
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
