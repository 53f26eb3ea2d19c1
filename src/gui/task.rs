//! The app's one type for background work: a named thread that reports progress over a
//! channel, can be asked to stop, and hands back its result, waking the UI each time (like
//! poll-promise, with progress and cancel). `update()` only ever polls.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError, channel};

use crate::pipeline::{JobContext, JobError, NextStep, Progress};

/// Why a task brought no result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TaskError {
    /// The user cancelled it; what it was changing is as it was.
    Cancelled,
    /// It failed: what went wrong, and the step that would clear it.
    Failed {
        message: String,
        next_step: Option<NextStep>,
    },
}

impl TaskError {
    /// A cancel, or a failure with its message and next step.
    pub fn of<E: JobError>(error: &E) -> Self {
        if error.is_cancelled() {
            TaskError::Cancelled
        } else {
            TaskError::Failed {
                message: error.to_string(),
                next_step: error.next_step(),
            }
        }
    }
}

enum TaskEvent<T> {
    Progress(Progress),
    Done(Result<T, TaskError>),
}

/// Work running on its own thread.
pub struct Task<T> {
    title: String,
    progress: Option<Progress>,
    cancel: Arc<AtomicBool>,
    events: Receiver<TaskEvent<T>>,
    finished: bool,
}

impl<T: Send + 'static> Task<T> {
    /// Runs `work` on a thread named `thread`; `title` says what it does.
    pub fn spawn<E: JobError>(
        ctx: &egui::Context,
        thread: &str,
        title: impl Into<String>,
        work: impl FnOnce(&JobContext) -> Result<T, E> + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, events) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let thread_cancel = Arc::clone(&cancel);
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name(thread.to_owned())
            .spawn(move || {
                let progress_tx = tx.clone();
                let progress_ctx = ctx.clone();
                let on_progress = move |p: Progress| {
                    // The receiver is gone only when nobody waits any more; nothing to tell.
                    let _ = progress_tx.send(TaskEvent::Progress(p));
                    progress_ctx.request_repaint();
                };
                let result = work(&JobContext::new(&on_progress, &thread_cancel));
                let _ = tx.send(TaskEvent::Done(result.map_err(|e| TaskError::of(&e))));
                ctx.request_repaint();
            })?;
        Ok(Self {
            title: title.into(),
            progress: None,
            cancel,
            events,
            finished: false,
        })
    }

    /// Runs `work`, which cannot fail, on a thread named `thread`.
    pub fn spawn_value(
        ctx: &egui::Context,
        thread: &str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> std::io::Result<Self> {
        Self::spawn(ctx, thread, String::new(), move |_| {
            Ok::<_, std::convert::Infallible>(work())
        })
    }
}

impl<T> Task<T> {
    pub fn title(&self) -> &str {
        &self.title
    }

    /// The latest progress report, once there is one.
    pub fn progress(&self) -> Option<&Progress> {
        self.progress.as_ref()
    }

    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Takes the news: keeps the latest progress, and returns the result once, when the work
    /// has finished (a thread that died without one counts as failed).
    pub fn poll(&mut self) -> Option<Result<T, TaskError>> {
        if self.finished {
            return None;
        }
        loop {
            match self.events.try_recv() {
                Ok(TaskEvent::Progress(p)) => self.progress = Some(p),
                Ok(TaskEvent::Done(result)) => {
                    self.finished = true;
                    return Some(result);
                }
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    self.finished = true;
                    return Some(Err(TaskError::Failed {
                        message: format!("{} stopped unexpectedly", self.title),
                        next_step: None,
                    }));
                }
            }
        }
    }
}

/// Dropping a task (its project closed, the app quitting) asks its work to stop: nobody will
/// read its result.
impl<T> Drop for Task<T> {
    fn drop(&mut self) {
        if !self.finished {
            self.cancel();
        }
    }
}

/// Something read off the UI thread: not asked for yet, being read, or read.
pub enum Read<T> {
    NotLoaded,
    Loading(Task<T>),
    Loaded(T),
}

impl<T> Read<T> {
    /// The value, once read.
    pub fn loaded(&self) -> Option<&T> {
        match self {
            Read::Loaded(value) => Some(value),
            Read::NotLoaded | Read::Loading(_) => None,
        }
    }

    /// Takes a finished read's result, turning an error into a value with `or`.
    pub fn poll(&mut self, or: impl FnOnce(TaskError) -> T) {
        if let Read::Loading(task) = self
            && let Some(result) = task.poll()
        {
            *self = Read::Loaded(result.unwrap_or_else(or));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::Cancelled;

    fn finished<T: Send + 'static>(mut task: Task<T>) -> Result<T, TaskError> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(result) = task.poll() {
                assert!(task.poll().is_none(), "a result is handed back once");
                return result;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the task never finished"
            );
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
    }

    #[test]
    fn a_task_reports_progress_and_its_value() {
        let ctx = egui::Context::default();
        let mut task = Task::spawn(&ctx, "strata-test", "counting", |job| {
            job.progress("counting", 1, 2);
            Ok::<_, Cancelled>(42)
        })
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        let value = task.poll();
        assert_eq!(task.progress().map(|p| p.done), Some(1));
        assert_eq!(value, Some(Ok(42)));
    }

    #[test]
    fn a_cancelled_task_is_told_apart_from_a_failed_one() {
        let ctx = egui::Context::default();
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let task = Task::spawn(&ctx, "strata-test", "waiting", move |job| {
            let _ = wait.recv();
            job.check()?;
            Ok::<_, Cancelled>(())
        })
        .unwrap();
        task.cancel();
        go.send(()).unwrap();
        assert_eq!(finished(task), Err(TaskError::Cancelled));

        let failing = Task::spawn(&ctx, "strata-test", "failing", |_| {
            Err::<(), _>(crate::recommend::RecommendError::NoLayers {
                path: "shop.strata".into(),
            })
        })
        .unwrap();
        assert_eq!(
            finished(failing),
            Err(TaskError::Failed {
                message: "shop.strata: no layers yet".into(),
                next_step: Some(NextStep::Layer {
                    project: "shop.strata".into()
                }),
            })
        );
    }

    #[test]
    fn a_thread_that_dies_counts_as_failed() {
        let ctx = egui::Context::default();
        let task: Task<()> = Task::spawn_value(&ctx, "strata-test", || panic!("boom")).unwrap();
        assert!(matches!(finished(task), Err(TaskError::Failed { .. })));
    }
}
