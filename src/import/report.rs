//! What an import did, row by row: counts, skips by reason, the first bad lines.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::columns::Role;
use super::layout::Layout;
use super::table::Table;

/// Most bad lines listed by line number; the rest are only counted.
pub const MAX_BAD_LINES: usize = 20;

/// Why a row was left out. Rows are skipped only for these reasons, and always counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    NoItemId,
    NoTitle,
    NoUserId,
    UnknownItem,
    BadTimestamp,
    BadQuantity,
    NonPositiveQuantity,
    BadRating,
    CancelledInvoice,
    NoCustomer,
    ServiceCode,
    CancelledOrder,
    RefundedOrder,
    VoidedOrder,
    ClosedOrder,
    FailedOrder,
    UnpaidOrder,
    TestOrder,
    GuestOrder,
    UnknownOrder,
    ImageOnlyRow,
    UnknownParent,
    DeletedRecord,
    NotCourseEvent,
    InactiveEnrolment,
}

impl SkipReason {
    pub fn describe(self) -> &'static str {
        match self {
            SkipReason::NoItemId => "no item id",
            SkipReason::NoTitle => "no title or description",
            SkipReason::NoUserId => "no user id",
            SkipReason::UnknownItem => "item not in the catalogue",
            SkipReason::BadTimestamp => "time not in a known format",
            SkipReason::BadQuantity => "quantity is not a number",
            SkipReason::NonPositiveQuantity => "quantity zero or negative (returns, adjustments)",
            SkipReason::BadRating => "rating is not a number",
            SkipReason::CancelledInvoice => "cancelled invoice (number starts with C)",
            SkipReason::NoCustomer => "no customer id",
            SkipReason::ServiceCode => "not a product (postage, fees, vouchers, manual lines)",
            SkipReason::CancelledOrder => "cancelled order",
            SkipReason::RefundedOrder => "refunded order",
            SkipReason::VoidedOrder => "voided order (payment voided)",
            SkipReason::ClosedOrder => "closed trade (交易关闭)",
            SkipReason::FailedOrder => "failed order (payment failed)",
            SkipReason::UnpaidOrder => "order not paid (awaiting payment)",
            SkipReason::TestOrder => "test order",
            SkipReason::GuestOrder => "guest order without a customer",
            SkipReason::UnknownOrder => "order not in the order report",
            SkipReason::ImageOnlyRow => "image-only row of a product",
            SkipReason::UnknownParent => "variation whose parent product is not in the file",
            SkipReason::DeletedRecord => "deleted",
            SkipReason::NotCourseEvent => "event outside a course (site, front page, category)",
            SkipReason::InactiveEnrolment => "deleted or inactive enrolment",
        }
    }
}

/// One bad line, for the user to find in their file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BadLine {
    pub file: String,
    pub line: u64,
    pub reason: SkipReason,
}

/// A file read as a platform's export.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Recognised {
    pub file: String,
    /// What the layout is called: "a Shopify orders export".
    pub layout: String,
    pub columns_used: usize,
    pub columns_ignored: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImportReport {
    pub kind: String,
    /// A check that wrote nothing (`strata import --dry-run`): what the import would bring.
    pub dry_run: bool,
    pub files: Vec<String>,
    /// The files whose layout was recognised (a platform's export), with the columns read.
    pub recognised: Vec<Recognised>,
    /// Decisions the import took for the whole file (the day/month order, the year of
    /// yearless times), in words.
    pub notes: Vec<String>,
    /// Variant rows or lines folded into their product.
    pub variants_grouped: u64,
    pub encoding: String,
    pub columns: BTreeMap<Role, String>,
    pub rows_read: u64,
    pub items_imported: u64,
    pub interactions_imported: u64,
    /// Rows that repeated an earlier row's key and were merged into it (quantities summed).
    pub merged_duplicates: u64,
    pub skipped: BTreeMap<SkipReason, u64>,
    pub bad_lines: Vec<BadLine>,
    /// Reading, decoding and checking the file(s).
    pub parse_seconds: f64,
    /// Writing to the project (one transaction).
    pub write_seconds: f64,
    pub seconds: f64,
}

impl ImportReport {
    pub fn skip(&mut self, file: &str, line: u64, reason: SkipReason) {
        *self.skipped.entry(reason).or_default() += 1;
        if self.bad_lines.len() < MAX_BAD_LINES {
            self.bad_lines.push(BadLine {
                file: file.to_owned(),
                line,
                reason,
            });
        }
    }

    /// Notes that `table` was read as `layout`, using the columns `used`.
    pub fn recognise(&mut self, table: &Table, layout: Layout, used: &[usize]) {
        let mut used = used.to_vec();
        used.sort_unstable();
        used.dedup();
        let file = table.file_name();
        self.files.push(file.clone());
        self.encoding = table.encoding.to_owned();
        self.recognised.push(Recognised {
            file,
            layout: layout.describe().to_owned(),
            columns_used: used.len(),
            columns_ignored: table.headers.len().saturating_sub(used.len()),
        });
    }

    pub fn skipped_total(&self) -> u64 {
        self.skipped.values().sum()
    }

    pub fn skipped_count(&self, reason: SkipReason) -> u64 {
        self.skipped.get(&reason).copied().unwrap_or(0)
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} {} ({}) from {}",
            if self.dry_run {
                "Checked, nothing written (dry run):"
            } else {
                "Imported"
            },
            self.kind,
            self.encoding,
            self.files.join(", ")
        )?;
        for r in &self.recognised {
            writeln!(
                f,
                "  {}: recognised as {}: {} columns used, {} ignored",
                r.file, r.layout, r.columns_used, r.columns_ignored
            )?;
        }
        if self.recognised.is_empty() || !self.columns.is_empty() {
            let columns: Vec<String> = self
                .columns
                .iter()
                .map(|(role, col)| format!("{role}={col}"))
                .collect();
            writeln!(f, "  columns: {}", columns.join(", "))?;
        }
        for note in &self.notes {
            writeln!(f, "  note: {note}")?;
        }
        writeln!(f, "  rows read:            {:>9}", self.rows_read)?;
        writeln!(f, "  items imported:       {:>9}", self.items_imported)?;
        writeln!(
            f,
            "  interactions imported:{:>9}",
            self.interactions_imported
        )?;
        if self.variants_grouped > 0 {
            writeln!(f, "  variants grouped:     {:>9}", self.variants_grouped)?;
        }
        if self.merged_duplicates > 0 {
            writeln!(f, "  merged duplicates:    {:>9}", self.merged_duplicates)?;
        }
        writeln!(f, "  skipped:              {:>9}", self.skipped_total())?;
        for (reason, count) in &self.skipped {
            writeln!(f, "    {:>9}  {}", count, reason.describe())?;
        }
        if !self.bad_lines.is_empty() {
            writeln!(f, "  first skipped lines:")?;
            for bad in &self.bad_lines {
                writeln!(
                    f,
                    "    {}:{}: {}",
                    bad.file,
                    bad.line,
                    bad.reason.describe()
                )?;
            }
        }
        write!(
            f,
            "  took {:.2} s ({:.2} s reading, {:.2} s writing)",
            self.seconds, self.parse_seconds, self.write_seconds
        )
    }
}
