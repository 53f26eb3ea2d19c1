//! Field readers shared by the importers. Each returns the value, or the reason
//! to skip the row, so an importer reads a row with `?` and counts skips in one place.

use csv::StringRecord;

use super::ImportError;
use super::columns::{ColumnMap, Role};
use super::dates::TimestampParser;
use super::report::SkipReason;
use super::table::Table;

/// The trimmed field at `column`; empty when the column is absent.
pub fn field(record: &StringRecord, column: Option<usize>) -> &str {
    clean(column.and_then(|c| record.get(c)).unwrap_or(""))
}

/// A field without surrounding blanks or stray byte-order marks (a BOM mid-file, where two
/// exports were pasted together, is invisible in a spreadsheet but would change the id).
pub fn clean(raw: &str) -> &str {
    raw.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// Parses a number as exported by spreadsheets: "3", "3.5", "4,5".
pub fn parse_number(raw: &str) -> Option<f64> {
    let s = raw.trim();
    s.parse::<f64>()
        .ok()
        .or_else(|| s.replace(',', ".").parse().ok())
        .filter(|n| n.is_finite())
}

/// A time, or none when the field is empty.
pub fn time(times: &mut TimestampParser, raw: &str) -> Result<Option<i64>, SkipReason> {
    match raw {
        "" => Ok(None),
        raw => times.parse(raw).map(Some).ok_or(SkipReason::BadTimestamp),
    }
}

/// A positive quantity, or none when the field is empty. Returns and adjustments (≤ 0) are skipped.
pub fn quantity(raw: &str) -> Result<Option<f64>, SkipReason> {
    match raw {
        "" => Ok(None),
        raw => match parse_number(raw) {
            Some(q) if q > 0.0 => Ok(Some(q)),
            Some(_) => Err(SkipReason::NonPositiveQuantity),
            None => Err(SkipReason::BadQuantity),
        },
    }
}

/// A rating, or none when the field is empty.
pub fn rating(raw: &str) -> Result<Option<f64>, SkipReason> {
    match raw {
        "" => Ok(None),
        raw => parse_number(raw).map(Some).ok_or(SkipReason::BadRating),
    }
}

/// Where an event's fields are in a history or orders file.
pub struct EventColumns {
    pub user: usize,
    pub item: usize,
    pub ts: Option<usize>,
    pub quantity: Option<usize>,
    pub rating: Option<usize>,
    pub basket: Option<usize>,
}

impl EventColumns {
    pub fn new(table: &Table, map: &ColumnMap) -> Result<Self, ImportError> {
        Ok(Self {
            user: table.required(map, Role::UserId)?,
            item: table.required(map, Role::ItemId)?,
            ts: map.get(Role::Timestamp),
            quantity: map.get(Role::Quantity),
            rating: map.get(Role::Rating),
            basket: map.get(Role::Basket),
        })
    }
}
