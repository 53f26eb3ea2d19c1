//! Importers: catalogues, histories, raw orders exports and MovieLens folders.
//!
//! Every import parses and validates the whole input first, then writes it in
//! one transaction. A structural fault (encoding, quoting, columns, conflicting
//! duplicates) is an error naming file and line, and writes nothing; a bad row
//! is skipped and counted by reason in the [`ImportReport`], never dropped silently.

mod catalogue;
mod columns;
mod dates;
mod fields;
mod history;
mod movielens;
mod orders;
mod preview;
mod report;
mod source;
mod table;

pub use columns::{ColumnOverride, Role};
pub use dates::parse_timestamp;
pub use orders::is_service_code;
pub use preview::{Preview, preview};
pub use report::{BadLine, ImportReport, MAX_BAD_LINES, SkipReason};
pub use table::MAX_FIELD_BYTES;

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
    pub overrides: Vec<ColumnOverride>,
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
    let known_items = match request.kind {
        ImportKind::Interactions | ImportKind::MovieLens => store.item_ids()?,
        ImportKind::Items | ImportKind::Orders => HashSet::new(),
    };
    let mut report = ImportReport {
        kind: request.kind.name().to_owned(),
        ..ImportReport::default()
    };
    let source = request.path.display().to_string();
    let report_slot = &mut report;
    let batch = store.import_with(request.kind.name(), &source, job, move |histories| {
        let batch = parse(request, known_items, histories, report_slot, job)?;
        if batch.items.is_empty() && batch.histories.is_empty() {
            let reasons: Vec<String> = report_slot
                .skipped
                .iter()
                .map(|(r, n)| format!("{n} {}", r.describe()))
                .collect();
            return Err(ImportError::NothingImported {
                path: request.path.clone(),
                reason: format!(
                    "all {} rows were skipped ({})",
                    report_slot.rows_read,
                    reasons.join("; ")
                ),
            });
        }
        report_slot.items_imported = batch.items.len() as u64;
        report_slot.interactions_imported = batch.histories.len() as u64;
        report_slot.parse_seconds = started.elapsed().as_secs_f64();
        let report_json = serde_json::to_string(&*report_slot).unwrap_or_default();
        Ok((batch, report_json))
    })?;
    drop(batch);
    report.seconds = started.elapsed().as_secs_f64();
    report.write_seconds = report.seconds - report.parse_seconds;
    Ok(report)
}

fn parse(
    request: &ImportRequest,
    known_items: HashSet<String>,
    histories: Histories,
    report: &mut ImportReport,
    job: &JobContext,
) -> Result<ImportBatch, ImportError> {
    let path = request.path.as_path();
    let overrides = request.overrides.as_slice();
    match request.kind {
        ImportKind::Items => {
            let table = table::Table::open(path)?;
            let items = catalogue::parse_items(&table, overrides, report, job)?;
            Ok(ImportBatch { items, histories })
        }
        ImportKind::Interactions => {
            let table = table::Table::open(path)?;
            let histories = history::parse_interactions(
                &table,
                overrides,
                &known_items,
                histories,
                report,
                job,
            )?;
            Ok(ImportBatch {
                items: vec![],
                histories,
            })
        }
        ImportKind::Orders => {
            let table = table::Table::open(path)?;
            orders::parse_orders(&table, overrides, histories, report, job)
        }
        ImportKind::MovieLens => {
            movielens::parse_movielens(path, known_items, histories, report, job)
        }
    }
}
