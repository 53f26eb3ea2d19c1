//! The terminal progress bar a long stage draws through its [`JobContext`].

use std::sync::atomic::AtomicBool;

use indicatif::{ProgressBar, ProgressStyle};
use strata::pipeline::{JobContext, Progress};

/// Runs `work` with a terminal progress bar (on stderr, hidden when it is not a terminal).
pub fn with_progress<T>(work: impl FnOnce(&JobContext) -> T) -> T {
    let bar = ProgressBar::new(0).with_style(
        ProgressStyle::with_template("{msg:>9} [{bar:40}] {pos}/{len}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let on_progress = |p: Progress| {
        bar.set_message(p.stage);
        bar.set_length(p.total);
        bar.set_position(p.done);
    };
    let cancel = AtomicBool::new(false);
    let result = work(&JobContext::new(&on_progress, &cancel));
    bar.finish_and_clear();
    result
}
