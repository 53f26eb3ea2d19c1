//! Importers: catalogues, histories, raw orders exports and MovieLens folders, and the
//! platform exports recognised from their header (Shopify, WooCommerce, Taobao, Pinduoduo,
//! Moodle, Canvas; see [`Layout`]), from CSV or a workbook. One import may hold several files
//! (a catalogue with its histories, both halves of a two-file export): they are read
//! catalogues first and written together.
//!
//! Every import parses and validates the whole input first, then writes it in
//! one transaction. A structural fault (encoding, quoting, columns, conflicting
//! duplicates) is an error naming file and line, and writes nothing; a bad row
//! is skipped and counted by reason in the [`ImportReport`], never dropped silently.

mod catalogue;
mod columns;
mod courses;
mod dates;
mod fields;
mod history;
mod html;
mod layout;
mod movielens;
mod orders;
mod preview;
mod report;
mod shop_orders;
mod shop_products;
mod source;
mod table;
mod workbook;

pub use columns::{ColumnOverride, Role};
pub use dates::parse_timestamp;
pub use html::to_plain_text;
pub use layout::Layout;
pub use orders::is_service_code;
pub use preview::{Preview, preview};
pub use report::{BadLine, ImportReport, MAX_BAD_LINES, Recognised, SkipReason};
pub use table::MAX_FIELD_BYTES;
pub use workbook::EXTENSIONS as WORKBOOK_EXTENSIONS;

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::Serialize;

use crate::pipeline::{Cancelled, JobContext};
use crate::store::{Histories, ImportBatch, Store, StoreError, WriteError};

/// What kind of file is being imported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// A catalogue: id, title, description, category, other columns kept.
    Items,
    /// Histories: user, item, time, quantity or rating.
    Interactions,
    /// A raw orders export (UCI Online Retail layout): items and histories derived.
    Orders,
    /// A MovieLens folder: movies.csv + ratings.csv.
    MovieLens,
    /// Whatever the file's header says: a platform's export, else the generic kind its
    /// columns fit.
    Auto,
}

impl ImportKind {
    pub const ALL: [ImportKind; 4] = [
        ImportKind::Items,
        ImportKind::Interactions,
        ImportKind::Orders,
        ImportKind::MovieLens,
    ];

    pub fn name(self) -> &'static str {
        match self {
            ImportKind::Items => "items",
            ImportKind::Interactions => "interactions",
            ImportKind::Orders => "orders",
            ImportKind::MovieLens => "movielens",
            ImportKind::Auto => "auto",
        }
    }
}

impl fmt::Display for ImportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One import to run: a kind, a file (a folder for MovieLens) and column overrides.
#[derive(Clone, Debug, PartialEq)]
pub struct ImportRequest {
    pub kind: ImportKind,
    pub path: PathBuf,
    /// Other files of the same import, written in the same transaction: a catalogue with its
    /// histories, or the second half of a two-file export (Taobao's order and item reports).
    pub also: Vec<PathBuf>,
    pub overrides: Vec<ColumnOverride>,
    pub options: ImportOptions,
}

impl ImportRequest {
    /// An import of one file with default options.
    pub fn new(kind: ImportKind, path: impl Into<PathBuf>) -> Self {
        Self {
            kind,
            path: path.into(),
            also: Vec::new(),
            overrides: Vec::new(),
            options: ImportOptions::default(),
        }
    }
}

/// Choices a user can make about how files are read.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ImportOptions {
    /// Keep each variant (size, colour) as an item of its own instead of grouping it into its
    /// product.
    pub keep_variants: bool,
    /// The workbook sheet to read (the first when none).
    pub sheet: Option<String>,
    /// The year of times written without one (Moodle's logs); the file's date when none.
    pub year: Option<i32>,
}

/// Why an import wrote nothing.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: {reason}", at(.path, *.line))]
    Format {
        path: PathBuf,
        line: Option<u64>,
        reason: String,
    },

    #[error("{}:1: no {role} column (looked for names like {looked_for}); the columns are: {columns}", .path.display())]
    MissingColumn {
        path: PathBuf,
        role: Role,
        looked_for: String,
        columns: String,
    },

    #[error("{}: nothing imported: {reason}", .path.display())]
    NothingImported { path: PathBuf, reason: String },

    #[error(transparent)]
    Store(#[from] StoreError),

    #[error("could not start a worker thread: {0}")]
    Thread(std::io::Error),

    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl crate::pipeline::JobError for ImportError {
    fn is_cancelled(&self) -> bool {
        matches!(self, ImportError::Cancelled(_))
    }

    fn next_step(&self) -> Option<crate::pipeline::NextStep> {
        match self {
            ImportError::MissingColumn { role, .. } => Some(crate::pipeline::NextStep::MapColumn {
                role: role.to_string(),
            }),
            _ => None,
        }
    }
}

impl From<WriteError> for ImportError {
    fn from(e: WriteError) -> Self {
        match e {
            WriteError::Store(e) => ImportError::Store(e),
            WriteError::UnknownItem { path, item_id } => ImportError::Format {
                path,
                line: None,
                reason: format!("item '{item_id}' is not in the catalogue"),
            },
            WriteError::Cancelled(c) => ImportError::Cancelled(c),
            WriteError::Thread(e) => ImportError::Thread(e),
        }
    }
}

fn at(path: &Path, line: Option<u64>) -> String {
    match line {
        Some(line) => format!("{}:{line}", path.display()),
        None => path.display().to_string(),
    }
}

/// Parses `request` and writes it to `store` in one transaction: the parser runs on its
/// own thread and hands finished events to the writer as it goes.
pub fn run_import(
    store: &mut Store,
    request: &ImportRequest,
    job: &JobContext,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let catalogue = Catalogue::of(store)?;
    let mut report = ImportReport::started(request);
    let report_slot = &mut report;
    let batch = store.import_with(
        request.kind.name(),
        &source_name(request),
        job,
        move |histories| {
            let batch = parse_checked(request, catalogue, histories, report_slot, started, job)?;
            let report_json = serde_json::to_string(&*report_slot).unwrap_or_default();
            Ok::<_, ImportError>((batch, report_json))
        },
    )?;
    drop(batch);
    report.finish(started);
    Ok(report)
}

/// Reads and checks `request` as [`run_import`] does, against the items `store` holds (none
/// without one), and writes nothing: the report the import would give, or its error.
pub fn check_import(
    store: Option<&Store>,
    request: &ImportRequest,
    job: &JobContext,
) -> Result<ImportReport, ImportError> {
    let started = Instant::now();
    let catalogue = match store {
        Some(store) => Catalogue::of(store)?,
        None => Catalogue::default(),
    };
    let mut report = ImportReport {
        dry_run: true,
        ..ImportReport::started(request)
    };
    parse_checked(
        request,
        catalogue,
        Histories::default(),
        &mut report,
        started,
        job,
    )?;
    report.finish(started);
    Ok(report)
}

/// Every file of the import, as its source is recorded.
fn source_name(request: &ImportRequest) -> String {
    std::iter::once(&request.path)
        .chain(&request.also)
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses the import and refuses one that brings nothing, naming why every row was skipped.
fn parse_checked(
    request: &ImportRequest,
    catalogue: Catalogue,
    histories: Histories,
    report: &mut ImportReport,
    started: Instant,
    job: &JobContext,
) -> Result<ImportBatch, ImportError> {
    let batch = parse(request, catalogue, histories, report, job)?;
    if batch.items.is_empty() && batch.histories.is_empty() {
        let reasons: Vec<String> = report
            .skipped
            .iter()
            .map(|(r, n)| format!("{n} {}", r.describe()))
            .collect();
        return Err(ImportError::NothingImported {
            path: request.path.clone(),
            reason: format!(
                "all {} rows were skipped ({})",
                report.rows_read,
                reasons.join("; ")
            ),
        });
    }
    report.items_imported = batch.items.len() as u64;
    report.interactions_imported = batch.histories.len() as u64;
    report.parse_seconds = started.elapsed().as_secs_f64();
    Ok(batch)
}

impl ImportReport {
    fn started(request: &ImportRequest) -> Self {
        ImportReport {
            kind: request.kind.name().to_owned(),
            ..ImportReport::default()
        }
    }

    fn finish(&mut self, started: Instant) {
        self.seconds = started.elapsed().as_secs_f64();
        self.write_seconds = self.seconds - self.parse_seconds;
    }
}

/// What the project holds already, that an import reads against.
#[derive(Default)]
struct Catalogue {
    ids: HashSet<String>,
    aliases: crate::store::ItemAliases,
}

impl Catalogue {
    fn of(store: &Store) -> Result<Self, StoreError> {
        Ok(Self {
            ids: store.item_ids()?,
            aliases: store.item_aliases()?,
        })
    }

    /// Adds items this import brings, for the files read after them.
    fn add(&mut self, items: &[crate::store::ItemRow]) {
        for item in items {
            self.ids.insert(item.item_id.clone());
            self.aliases
                .titles
                .entry(item.title.clone())
                .or_insert_with(|| item.item_id.clone());
            let extra: serde_json::Value = serde_json::from_str(&item.extra).unwrap_or_default();
            for variant in extra["variants"].as_array().into_iter().flatten() {
                if let Some(sku) = variant["sku"].as_str().filter(|s| !s.is_empty()) {
                    self.aliases
                        .skus
                        .entry(sku.to_owned())
                        .or_insert_with(|| item.item_id.clone());
                }
            }
            if let Some(sku) = extra["sku"].as_str().filter(|s| !s.is_empty()) {
                self.aliases
                    .skus
                    .entry(sku.to_owned())
                    .or_insert_with(|| item.item_id.clone());
            }
        }
    }
}

/// How one file of an import is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FileRole {
    Layout(Layout),
    Generic(ImportKind),
}

impl FileRole {
    /// A platform's layout when the header is one (and the user mapped no columns by hand,
    /// and named no other kind), else the kind asked for, else the kind the columns fit.
    fn of(table: &table::Table, request: &ImportRequest) -> Result<Self, ImportError> {
        if request.overrides.is_empty()
            && let Some(layout) = Layout::detect(&table.headers)
            && (request.kind == ImportKind::Auto || request.kind == layout.kind())
        {
            return Ok(FileRole::Layout(layout));
        }
        if request.kind != ImportKind::Auto {
            return Ok(FileRole::Generic(request.kind));
        }
        guess_kind(table, &request.overrides).map(FileRole::Generic)
    }

    /// Catalogues are read first, then order reports, then histories.
    fn stage(self) -> u8 {
        match self {
            FileRole::Generic(ImportKind::Items) => 0,
            FileRole::Layout(layout) if layout.kind() == ImportKind::Items => 0,
            FileRole::Layout(Layout::TaobaoOrders) => 1,
            _ => 2,
        }
    }

    fn kind(self) -> ImportKind {
        match self {
            FileRole::Layout(layout) => layout.kind(),
            FileRole::Generic(kind) => kind,
        }
    }
}

/// The generic kind a file's columns fit: a user and an item make histories (an orders
/// export when they come with a product name), an item with a title a catalogue.
pub(super) fn guess_kind(
    table: &table::Table,
    overrides: &[ColumnOverride],
) -> Result<ImportKind, ImportError> {
    let map = table.columns(&Role::ALL, overrides)?;
    let has = |role| map.get(role).is_some();
    if has(Role::UserId) && has(Role::ItemId) {
        Ok(if has(Role::Title) {
            ImportKind::Orders
        } else {
            ImportKind::Interactions
        })
    } else if has(Role::ItemId) && (has(Role::Title) || has(Role::Description)) {
        Ok(ImportKind::Items)
    } else {
        Err(table.format_err(
            Some(1),
            format!(
                "could not tell what this file holds: it is no known platform's export, and its columns ({}) name no item and title (a catalogue) or user and item (histories)",
                table.headers.join(", ")
            ),
        ))
    }
}

fn parse(
    request: &ImportRequest,
    mut catalogue: Catalogue,
    mut histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<ImportBatch, ImportError> {
    let overrides = request.overrides.as_slice();
    let options = &request.options;
    if request.kind == ImportKind::MovieLens {
        return movielens::parse_movielens(&request.path, catalogue.ids, histories, report, job);
    }
    let mut files = Vec::new();
    for path in std::iter::once(&request.path).chain(&request.also) {
        let table = table::Table::open_with(path, options.sheet.as_deref())?;
        let role = FileRole::of(&table, request)?;
        files.push((table, role));
    }
    files.sort_by_key(|(_, role)| role.stage());
    let mut kinds: Vec<&str> = Vec::new();
    for (_, role) in &files {
        if !kinds.contains(&role.kind().name()) {
            kinds.push(role.kind().name());
        }
    }
    report.kind = kinds.join("+");

    let mut items = Vec::new();
    let mut order_report = None;
    let mut taobao_items = false;
    for (table, role) in &files {
        match *role {
            FileRole::Generic(ImportKind::Items) => {
                let new = catalogue::parse_items(table, overrides, report, job)?;
                catalogue.add(&new);
                items.extend(new);
            }
            FileRole::Layout(layout @ (Layout::ShopifyProducts | Layout::WooCommerceProducts)) => {
                let new = shop_products::parse_shop_products(table, layout, options, report, job)?;
                catalogue.add(&new);
                items.extend(new);
            }
            FileRole::Layout(layout @ (Layout::MoodleCourses | Layout::CanvasCourses)) => {
                let new = courses::parse_course_list(table, layout, report, job)?;
                catalogue.add(&new);
                items.extend(new);
            }
            FileRole::Layout(Layout::TaobaoOrders) => {
                order_report = Some(shop_orders::OrderReport::read(table, report, job)?);
            }
            FileRole::Generic(ImportKind::Interactions) => {
                histories = history::parse_interactions(
                    table,
                    overrides,
                    &catalogue.ids,
                    histories,
                    report,
                    job,
                )?;
            }
            FileRole::Generic(ImportKind::Orders) => {
                let batch = orders::parse_orders(table, overrides, histories, report, job)?;
                items.extend(batch.items);
                histories = batch.histories;
            }
            FileRole::Layout(Layout::CanvasEnrollments) => {
                histories = courses::parse_canvas_enrollments(
                    table,
                    &catalogue.ids,
                    histories,
                    report,
                    job,
                )?;
            }
            FileRole::Layout(Layout::MoodleLogs) => {
                let batch = courses::parse_moodle_logs(
                    table,
                    &catalogue.aliases,
                    options,
                    histories,
                    report,
                    job,
                )?;
                items.extend(batch.items);
                histories = batch.histories;
            }
            FileRole::Layout(layout) => {
                let joined = match layout {
                    Layout::TaobaoItems => {
                        taobao_items = true;
                        Some(order_report.as_ref().ok_or_else(|| {
                            table.format_err(
                                None,
                                "this Taobao item report (宝贝报表) names no buyers or times: import it together with its order report (订单报表)".into(),
                            )
                        })?)
                    }
                    _ => None,
                };
                let batch = shop_orders::parse_shop_orders(
                    table,
                    layout,
                    joined,
                    &catalogue.aliases,
                    options,
                    histories,
                    report,
                    job,
                )?;
                items.extend(batch.items);
                histories = batch.histories;
            }
            FileRole::Generic(ImportKind::MovieLens | ImportKind::Auto) => {
                return Err(
                    table.format_err(None, "a MovieLens folder is imported on its own".into())
                );
            }
        }
    }
    if order_report.is_some() && !taobao_items {
        return Err(ImportError::Format {
            path: request.path.clone(),
            line: None,
            reason: "a Taobao order report (订单报表) lists orders, not the items in them: import it together with its item report (宝贝报表)".into(),
        });
    }
    Ok(ImportBatch { items, histories })
}
