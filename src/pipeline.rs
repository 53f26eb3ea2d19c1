//! Long-running work with progress and cancellation, shared by the CLI and the GUI.
//!
//! A stage reports through a [`JobContext`]: the CLI draws a terminal progress
//! bar from it, the GUI forwards it over a channel from a named worker thread.
//! Work checks [`JobContext::is_cancelled`] between batches and stops with
//! [`Cancelled`], leaving the project as it was.

use std::sync::atomic::{AtomicBool, Ordering};

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
