//! Raw orders exports (the UCI Online Retail layout: InvoiceNo, StockCode,
//! Description, Quantity, InvoiceDate, UnitPrice, CustomerID, Country).
//!
//! Both the catalogue and the histories are derived. A product's title is its
//! most frequent description (ties: the first seen), so one-off notes like
//! "damaged" or "?" never name it. Lines that are not purchases of a product by
//! a known customer are skipped and counted by reason, checked in this order:
//! no product code, cancelled invoice, quantity not a number, quantity ≤ 0,
//! service code (postage, fees, vouchers), no customer, unparseable time.

use csv::StringRecord;
use rustc_hash::FxHashMap;

use super::ImportError;
use super::columns::{ColumnOverride, Role};
use super::dates::TimestampParser;
use super::fields::{self, EventColumns, field};
use super::report::{ImportReport, SkipReason};
use super::table::Table;
use crate::pipeline::JobContext;
use crate::store::{Histories, ImportBatch, ItemRow, NewEvent};

pub(super) const ROLES: [Role; 6] = [
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
    let columns = EventColumns::new(table, &map)?;
    let title_col = table.required(&map, Role::Title)?;
    table.describe_in(report, &map);
    let file = table.file_name();

    let mut products = Products::default();
    // The day/month order of `03/04/2024` is decided from the file, not row by row.
    let finding = table.date_order(columns.ts);
    report.notes.extend(finding.note());
    let mut times = TimestampParser::new(finding.order, None);
    let mut order = 0u64;
    let read = table.for_each_record(job, |line, record| {
        order += 1;
        let code = field(record, Some(columns.item));
        if code.is_empty() {
            report.skip(&file, line, SkipReason::NoItemId);
            return Ok(());
        }
        // Every line with a description votes for its product's title, bought or not.
        let description = field(record, Some(title_col));
        let service = is_service_code(code);
        if !service && !description.is_empty() {
            products.votes(code).add(description, order);
        }
        match purchase(record, &columns, service, &mut times) {
            Ok(event) => {
                products.votes(code);
                report.merged_duplicates += u64::from(histories.add(event));
            }
            Err(reason) => report.skip(&file, line, reason),
        }
        Ok(())
    })?;
    report.rows_read += read;
    Ok(ImportBatch {
        items: products.into_items(),
        histories,
    })
}

/// Products in order of first appearance, with their title votes.
#[derive(Default)]
struct Products {
    index: FxHashMap<String, usize>,
    votes: Vec<(String, TitleVotes)>,
}

impl Products {
    /// The votes of product `code`, which is added if new.
    fn votes(&mut self, code: &str) -> &mut TitleVotes {
        let i = match self.index.get(code) {
            Some(&i) => i,
            None => {
                self.index.insert(code.to_owned(), self.votes.len());
                self.votes.push((code.to_owned(), TitleVotes::default()));
                self.votes.len() - 1
            }
        };
        &mut self.votes[i].1
    }

    /// Each product titled by its most frequent description (its code if it had none).
    fn into_items(self) -> Vec<ItemRow> {
        self.votes
            .into_iter()
            .map(|(code, votes)| ItemRow {
                title: votes.winner().unwrap_or_else(|| code.clone()),
                item_id: code,
                description: String::new(),
                category: String::new(),
                extra: "{}".to_owned(),
            })
            .collect()
    }
}

/// One order line as a purchase, or why it is skipped (reasons checked in the order the
/// module documents).
fn purchase<'r>(
    record: &'r StringRecord,
    columns: &EventColumns,
    service: bool,
    times: &mut TimestampParser,
) -> Result<NewEvent<'r>, SkipReason> {
    let basket = field(record, columns.basket);
    if basket.starts_with(['C', 'c']) {
        return Err(SkipReason::CancelledInvoice);
    }
    // A line without a quantity is one unit.
    let quantity = fields::quantity(field(record, columns.quantity))?.unwrap_or(1.0);
    if service {
        return Err(SkipReason::ServiceCode);
    }
    let user_id = clean_user_id(field(record, Some(columns.user)));
    if user_id.is_empty() {
        return Err(SkipReason::NoCustomer);
    }
    Ok(NewEvent {
        user_id,
        item_id: field(record, Some(columns.item)),
        ts: fields::time(times, field(record, columns.ts))?,
        quantity: Some(quantity),
        rating: None,
        basket_id: (!basket.is_empty()).then_some(basket),
    })
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
