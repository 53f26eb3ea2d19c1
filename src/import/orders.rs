//! Raw orders exports (the UCI Online Retail layout: InvoiceNo, StockCode,
//! Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country).
//!
//! Both the catalogue and the histories are derived. A product's title is its
//! most frequent description (ties: the first seen), so one-off notes like
//! "damaged" or "?" never name it. Lines that are not purchases of a product by
//! a known customer are skipped and counted by reason, checked in this order:
//! no product code, cancelled invoice, quantity not a number, quantity ≤ 0,
//! service code (postage, fees, vouchers), no customer, unparseable time.

use rustc_hash::FxHashMap;

use super::ImportError;
use super::columns::{ColumnOverride, Role};
use super::dates::TimestampParser;
use super::history::parse_number;
use super::report::{ImportReport, SkipReason};
use super::table::Table;
use crate::pipeline::JobContext;
use crate::store::{Histories, ImportBatch, ItemRow, NewEvent};

const ROLES: [Role; 6] = [
    Role::Basket,
    Role::ItemId,
    Role::Title,
    Role::Quantity,
    Role::Timestamp,
    Role::UserId,
];

/// Stock codes that are charges, not products (from the UCI file and common shop exports).
const SERVICE_CODES: &[&str] = &[
    "POST",
    "DOT",
    "M",
    "C2",
    "D",
    "S",
    "B",
    "CRUK",
    "AMAZONFEE",
    "BANK CHARGES",
    "ADJUST",
    "SHIPPING",
    "DISCOUNT",
    "FEE",
    "CARRIAGE",
];

/// Whether `code` names a charge (postage, fee, discount, voucher…) rather than a product.
pub fn is_service_code(code: &str) -> bool {
    let code = code.trim();
    SERVICE_CODES.iter().any(|s| s.eq_ignore_ascii_case(code))
        || code
            .get(..5)
            .is_some_and(|p| p.eq_ignore_ascii_case("gift_"))
}

/// Votes for a product's title: count and first position of each description.
#[derive(Default)]
struct TitleVotes {
    votes: FxHashMap<String, (u64, u64)>,
}

impl TitleVotes {
    fn add(&mut self, description: &str, order: u64) {
        if let Some(vote) = self.votes.get_mut(description) {
            vote.0 += 1;
        } else {
            self.votes.insert(description.to_owned(), (1, order));
        }
    }

    fn winner(self) -> Option<String> {
        self.votes
            .into_iter()
            .max_by(|(_, (n1, o1)), (_, (n2, o2))| n1.cmp(n2).then(o2.cmp(o1)))
            .map(|(description, _)| description)
    }
}

/// A customer id as spreadsheets write it: `17850.0` is `17850`.
fn clean_user_id(raw: &str) -> &str {
    match raw.strip_suffix(".0") {
        Some(int) if !int.is_empty() && int.bytes().all(|b| b.is_ascii_digit()) => int,
        _ => raw,
    }
}

pub fn parse_orders(
    table: &Table,
    overrides: &[ColumnOverride],
    mut histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<ImportBatch, ImportError> {
    let map = table.columns(&ROLES, overrides)?;
    let code_col = table.required(&map, Role::ItemId)?;
    let title_col = table.required(&map, Role::Title)?;
    let user_col = table.required(&map, Role::UserId)?;
    let (basket_col, qty_col, ts_col) = (
        map.get(Role::Basket),
        map.get(Role::Quantity),
        map.get(Role::Timestamp),
    );
    report.files.push(table.file_name());
    report.encoding = table.encoding.to_owned();
    report.columns.extend(map.describe(&table.headers));
    let file = table.file_name();

    // Products in order of first appearance, with their title votes.
    let mut product_index: FxHashMap<String, usize> = FxHashMap::default();
    let mut products: Vec<(String, TitleVotes)> = Vec::new();
    let mut times = TimestampParser::default();
    let mut order = 0u64;
    let read = table.for_each_record(job, |line, record| {
        order += 1;
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).unwrap_or("").trim();
        let code = field(Some(code_col));
        if code.is_empty() {
            report.skip(&file, line, SkipReason::NoItemId);
            return Ok(());
        }
        let service = is_service_code(code);
        let description = field(Some(title_col));
        if !service && !description.is_empty() {
            let index = match product_index.get(code) {
                Some(&i) => i,
                None => {
                    product_index.insert(code.to_owned(), products.len());
                    products.push((code.to_owned(), TitleVotes::default()));
                    products.len() - 1
                }
            };
            products[index].1.add(description, order);
        }
        let basket = field(basket_col);
        if basket.starts_with(['C', 'c']) {
            report.skip(&file, line, SkipReason::CancelledInvoice);
            return Ok(());
        }
        let quantity = match field(qty_col) {
            "" => 1.0,
            raw => match parse_number(raw) {
                Some(q) => q,
                None => {
                    report.skip(&file, line, SkipReason::BadQuantity);
                    return Ok(());
                }
            },
        };
        let reason = if quantity <= 0.0 {
            Some(SkipReason::NonPositiveQuantity)
        } else if service {
            Some(SkipReason::ServiceCode)
        } else if field(Some(user_col)).is_empty() {
            Some(SkipReason::NoCustomer)
        } else {
            None
        };
        if let Some(reason) = reason {
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
        if !product_index.contains_key(code) {
            product_index.insert(code.to_owned(), products.len());
            products.push((code.to_owned(), TitleVotes::default()));
        }
        let merged = histories.add(NewEvent {
            user_id: clean_user_id(field(Some(user_col))),
            item_id: code,
            ts,
            quantity: Some(quantity),
            rating: None,
            basket_id: (!basket.is_empty()).then_some(basket),
        });
        report.merged_duplicates += u64::from(merged);
        Ok(())
    })?;
    report.rows_read += read;
    let items = products
        .into_iter()
        .map(|(code, votes)| ItemRow {
            title: votes.winner().unwrap_or_else(|| code.clone()),
            item_id: code,
            description: String::new(),
            category: String::new(),
            extra: "{}".to_owned(),
        })
        .collect();
    Ok(ImportBatch { items, histories })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_codes() {
        for code in [
            "POST",
            "DOT",
            "M",
            "m",
            "C2",
            "BANK CHARGES",
            "AMAZONFEE",
            "gift_0001_20",
            "CRUK",
        ] {
            assert!(is_service_code(code), "{code}");
        }
        for code in ["85123A", "DCGSSGIRL", "PADS", "22423", "MUG"] {
            assert!(!is_service_code(code), "{code}");
        }
    }

    #[test]
    fn title_is_most_frequent_description_first_seen_on_ties() {
        let mut v = TitleVotes::default();
        for (d, o) in [
            ("damaged", 1),
            ("HEART HOLDER", 2),
            ("HEART HOLDER", 3),
            ("?", 4),
        ] {
            v.add(d, o);
        }
        assert_eq!(v.winner().as_deref(), Some("HEART HOLDER"));
        let mut tie = TitleVotes::default();
        tie.add("B", 1);
        tie.add("A", 2);
        assert_eq!(tie.winner().as_deref(), Some("B"));
    }

    #[test]
    fn spreadsheet_float_ids() {
        assert_eq!(clean_user_id("17850.0"), "17850");
        assert_eq!(clean_user_id("17850"), "17850");
        assert_eq!(clean_user_id("A.0"), "A.0");
    }
}
