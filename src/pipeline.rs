//! Long-running work with progress and cancellation, shared by the CLI and the GUI.
//!
//! A stage reports through a [`JobContext`]: the CLI draws a terminal progress
//! bar from it, the GUI forwards it over a channel from a named worker thread.
//! Work checks [`JobContext::is_cancelled`] between batches and stops with
//! [`Cancelled`], leaving the project as it was.
//!
//! A stage's error says what went wrong and where; [`JobError`] adds, as data, whether the
//! user cancelled and which [`NextStep`] would clear it. Each edge words that step in its own
//! terms ("run `strata embed`" on the command line, "press 1. Embed items" in the app), so no
//! core message names a flag or a button.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};

/// The step that would clear an error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NextStep {
    /// Embed the project's items (again: the catalogue changed).
    Embed { project: PathBuf },
    /// Make the layers (again: the catalogue changed).
    Layer { project: PathBuf },
    /// Import users' histories (orders, enrolments, ratings).
    ImportHistories { project: PathBuf },
    /// Name the column that plays `role` (`item_id`, `title`, …).
    MapColumn { role: String },
    /// Get the sentence model `model`: a folder in Hugging Face layout, or a download.
    GetModel { model: String },
    /// Allow the memory budget at least `needed` bytes (the work did not start).
    RaiseMemoryBudget { needed: u64 },
}

/// An error of a pipeline stage: was it the user's cancel, and what would clear it?
pub trait JobError: std::error::Error + Send + Sync + 'static {
    /// True when the user cancelled (the project is as it was), not a failure.
    fn is_cancelled(&self) -> bool {
        false
    }

    /// The step that would clear this error, if there is one.
    fn next_step(&self) -> Option<NextStep> {
        None
    }
}

impl JobError for std::convert::Infallible {}

/// An error of any stage, for a flow that runs several (the demo, the app's jobs): each
/// stage's own error, kept typed so that cancels and next steps still show through.
#[derive(Debug, thiserror::Error)]
pub enum StepError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error(transparent)]
    Model(#[from] crate::embed::EmbedError),
    #[error(transparent)]
    Embed(#[from] crate::embed::ProjectEmbedError),
    #[error(transparent)]
    Layers(#[from] crate::layers::ProjectLayerError),
    #[error(transparent)]
    Recommend(#[from] crate::recommend::RecommendError),
    #[error(transparent)]
    Export(#[from] crate::export::ProjectExportError),
}

impl StepError {
    /// The stage's own error (none for a file the flow itself could not write).
    fn stage(&self) -> Option<&dyn JobError> {
        Some(match self {
            StepError::Io { .. } => return None,
            StepError::Store(e) => e,
            StepError::Import(e) => e,
            StepError::Model(e) => e,
            StepError::Embed(e) => e,
            StepError::Layers(e) => e,
            StepError::Recommend(e) => e,
            StepError::Export(e) => e,
        })
    }
}

impl JobError for StepError {
    fn is_cancelled(&self) -> bool {
        self.stage().is_some_and(JobError::is_cancelled)
    }

    fn next_step(&self) -> Option<NextStep> {
        self.stage().and_then(JobError::next_step)
    }
}

impl JobError for Cancelled {
    fn is_cancelled(&self) -> bool {
        true
    }
}

/// One progress report: `done` of `total` units (rows, bytes, batches) in `stage`.
#[derive(Clone, Debug, PartialEq)]
pub struct Progress {
    pub stage: &'static str,
    pub done: u64,
    pub total: u64,
}

impl Progress {
    /// Completed share in 0..=1; 0 while the total is unknown.
    pub fn fraction(&self) -> f32 {
        if self.total == 0 {
            0.0
        } else {
            (self.done as f64 / self.total as f64).clamp(0.0, 1.0) as f32
        }
    }
}

/// The user cancelled the job; nothing was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("cancelled; the project is unchanged")]
pub struct Cancelled;

/// What a long stage needs from whoever runs it: somewhere to report progress and a cancel flag.
pub struct JobContext<'a> {
    on_progress: &'a (dyn Fn(Progress) + Sync),
    cancel: &'a AtomicBool,
}

static NEVER_CANCELLED: AtomicBool = AtomicBool::new(false);

impl<'a> JobContext<'a> {
    pub fn new(on_progress: &'a (dyn Fn(Progress) + Sync), cancel: &'a AtomicBool) -> Self {
        Self {
            on_progress,
            cancel,
        }
    }

    /// A context that reports nowhere and is never cancelled (tests, scripts).
    pub fn silent() -> JobContext<'static> {
        JobContext {
            on_progress: &|_| {},
            cancel: &NEVER_CANCELLED,
        }
    }

    pub fn progress(&self, stage: &'static str, done: u64, total: u64) {
        (self.on_progress)(Progress { stage, done, total });
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// `Err(Cancelled)` once the user has asked to stop.
    pub fn check(&self) -> Result<(), Cancelled> {
        if self.is_cancelled() {
            Err(Cancelled)
        } else {
            Ok(())
        }
    }
}
