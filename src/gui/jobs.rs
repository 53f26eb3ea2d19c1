//! Background work for the app: each job runs on a named thread, sends
//! progress and its outcome over a channel, and wakes the UI to show them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use crate::import::{ImportError, ImportKind, ImportReport, ImportRequest, run_import};
use crate::map::MapData;
use crate::pipeline::{JobContext, Progress};
use crate::store::{ProjectInfo, Store};

/// What a finished job produced.
pub enum JobOutcome {
    /// The report and the project's new counts, or a sentence saying why nothing was imported.
    Import(Result<(ImportReport, ProjectInfo), String>),
    /// The map of the project's latest layer run (`None` before the first run).
    Map(Result<Option<MapData>, String>),
}

enum JobEvent {
    Progress(Progress),
    Done(Box<JobOutcome>),
}

/// A job in flight.
pub struct RunningJob {
    pub title: String,
    /// The outcome to report if the thread dies without one.
    lost: fn(String) -> JobOutcome,
    pub progress: Option<Progress>,
    cancel: Arc<AtomicBool>,
    events: Receiver<JobEvent>,
}

impl RunningJob {
    /// Imports `request` into the project at `project` on the thread `strata-import`.
    /// The thread opens its own connection; SQLite's WAL lets the UI keep reading.
    pub fn spawn_import(
        ctx: &egui::Context,
        project: PathBuf,
        request: ImportRequest,
    ) -> std::io::Result<Self> {
        let title = format!("Importing {}", request.path.display());
        let lost = |e| JobOutcome::Import(Err(e));
        Self::spawn("strata-import", title, lost, ctx, move |job| {
            let failed =
                |e: &dyn std::fmt::Display| format!("Import failed, nothing was written: {e}");
            let outcome = Store::open(&project)
                .map_err(|e| failed(&e))
                .and_then(|mut store| {
                    let report = run_import(&mut store, &request, job).map_err(|e| match e {
                        ImportError::Cancelled(_) => {
                            "Import cancelled; the project is unchanged.".to_owned()
                        }
                        e => failed(&e),
                    })?;
                    // Counted here, off the UI thread.
                    let info = store.info().map_err(|e| failed(&e))?;
                    Ok((report, info))
                });
            JobOutcome::Import(outcome)
        })
    }

    /// Reads the latest layer run of the project at `project` and indexes its points for
    /// hover, on the thread `strata-map-load`.
    pub fn spawn_map_load(ctx: &egui::Context, project: PathBuf) -> std::io::Result<Self> {
        let title = "Loading the map".to_owned();
        let lost = |e| JobOutcome::Map(Err(e));
        Self::spawn("strata-map-load", title, lost, ctx, move |_job| {
            let loaded = Store::open(&project).and_then(|store| MapData::load(&store));
            JobOutcome::Map(loaded.map_err(|e| format!("could not load the map: {e}")))
        })
    }

    fn spawn(
        thread_name: &str,
        title: String,
        lost: fn(String) -> JobOutcome,
        ctx: &egui::Context,
        work: impl FnOnce(&JobContext) -> JobOutcome + Send + 'static,
    ) -> std::io::Result<Self> {
        let (tx, events) = channel();
        let cancel = Arc::new(AtomicBool::new(false));
        let thread_cancel = Arc::clone(&cancel);
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name(thread_name.to_owned())
            .spawn(move || {
                let progress_tx: Sender<JobEvent> = tx.clone();
                let progress_ctx = ctx.clone();
                let on_progress = move |p: Progress| {
                    // The receiver is gone only when the app closed; nothing left to tell.
                    let _ = progress_tx.send(JobEvent::Progress(p));
                    progress_ctx.request_repaint();
                };
                let outcome = work(&JobContext::new(&on_progress, &thread_cancel));
                let _ = tx.send(JobEvent::Done(Box::new(outcome)));
                ctx.request_repaint();
            })?;
        Ok(Self {
            title,
            lost,
            progress: None,
            cancel,
            events,
        })
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Takes the news: keeps the latest progress, returns the outcome once finished.
    pub fn poll(&mut self) -> Option<JobOutcome> {
        loop {
            match self.events.try_recv() {
                Ok(JobEvent::Progress(p)) => self.progress = Some(p),
                Ok(JobEvent::Done(outcome)) => return Some(*outcome),
                Err(TryRecvError::Empty) => return None,
                Err(TryRecvError::Disconnected) => {
                    return Some((self.lost)("the job stopped unexpectedly".into()));
                }
            }
        }
    }
}

/// Which field a file dialog fills.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogTarget {
    OpenProject,
    NewProject,
    ImportSource(ImportKind),
}

/// A native file dialog shown off the UI thread (`strata-file-dialog`).
pub struct PendingDialog {
    pub target: DialogTarget,
    answer: Receiver<Option<PathBuf>>,
}

impl PendingDialog {
    pub fn spawn(ctx: &egui::Context, target: DialogTarget) -> std::io::Result<Self> {
        let (tx, answer) = channel();
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name("strata-file-dialog".into())
            .spawn(move || {
                let project_filter =
                    |d: rfd::FileDialog| d.add_filter("Strata project", &["strata"]);
                let picked = match target {
                    DialogTarget::OpenProject => project_filter(rfd::FileDialog::new()).pick_file(),
                    DialogTarget::NewProject => project_filter(rfd::FileDialog::new())
                        .set_file_name("project.strata")
                        .save_file(),
                    DialogTarget::ImportSource(ImportKind::MovieLens) => {
                        rfd::FileDialog::new().pick_folder()
                    }
                    DialogTarget::ImportSource(_) => rfd::FileDialog::new()
                        .add_filter("CSV", &["csv", "gz", "tsv", "txt"])
                        .pick_file(),
                };
                let _ = tx.send(picked);
                ctx.request_repaint();
            })?;
        Ok(Self { target, answer })
    }

    /// `Some(answer)` once the dialog closed; `Some(None)` when cancelled or unavailable.
    pub fn poll(&self) -> Option<Option<PathBuf>> {
        match self.answer.try_recv() {
            Ok(answer) => Some(answer),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(None),
        }
    }
}
