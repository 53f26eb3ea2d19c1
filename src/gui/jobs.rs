//! Background work for the app: each job runs on a named thread, sends
//! progress and its outcome over a channel, and wakes the UI to show them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use super::settings::ModelChoice;
use super::users_panel::LoadedRecommender;
use crate::embed::resolve::{ModelQuery, resolve};
use crate::embed::{
    BertSentenceEmbedder, EmbedError, LsaEmbedder, ProjectEmbedError, embed_project, item_text,
};
use crate::import::{ImportError, ImportKind, ImportReport, ImportRequest, run_import};
use crate::layers::{LayerError, LayerParams, ProjectLayerError, layer_project};
use crate::map::MapData;
use crate::pipeline::{JobContext, Progress};
use crate::recommend::{ProfileParams, ProjectRecommender, Weighting, project_params};
use crate::store::{ProjectInfo, Store};

/// What a finished job produced.
pub enum JobOutcome {
    /// The report and the project's new counts, or a sentence saying why nothing was imported.
    Import(Result<(ImportReport, ProjectInfo), String>),
    /// The map of the project's latest layer run (`None` before the first run).
    Map(Result<Option<MapData>, String>),
    /// A pipeline step: what it did, or why it failed.
    Step(Step, Result<String, String>),
    /// The project's recommender, or why there is none yet.
    Users(Result<LoadedRecommender, String>),
}

/// The pipeline's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Embed,
    Layers,
}

/// What a job does, so each panel shows only its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Import,
    Map,
    Users,
    Step(Step),
}

enum JobEvent {
    Progress(Progress),
    Done(Box<JobOutcome>),
}

/// A job in flight.
pub struct RunningJob {
    pub kind: JobKind,
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
        Self::spawn(
            JobKind::Import,
            "strata-import",
            title,
            lost,
            ctx,
            move |job| {
                let failed =
                    |e: &dyn std::fmt::Display| format!("Import failed, nothing was written: {e}");
                let outcome =
                    Store::open(&project)
                        .map_err(|e| failed(&e))
                        .and_then(|mut store| {
                            let report =
                                run_import(&mut store, &request, job).map_err(|e| match e {
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
            },
        )
    }

    /// Reads the latest layer run of the project at `project` and indexes its points for
    /// hover, on the thread `strata-map-load`.
    pub fn spawn_map_load(ctx: &egui::Context, project: PathBuf) -> std::io::Result<Self> {
        let title = "Loading the map".to_owned();
        let lost = |e| JobOutcome::Map(Err(e));
        Self::spawn(
            JobKind::Map,
            "strata-map-load",
            title,
            lost,
            ctx,
            move |_job| {
                let loaded = Store::open(&project).and_then(|store| MapData::load(&store));
                JobOutcome::Map(loaded.map_err(|e| format!("could not load the map: {e}")))
            },
        )
    }

    /// Loads the project's histories and fits its recommender on the thread
    /// `strata-recommender`.
    pub fn spawn_users_load(ctx: &egui::Context, project: PathBuf) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Users(Err(e));
        let title = "Loading the users".to_owned();
        Self::spawn(
            JobKind::Users,
            "strata-recommender",
            title,
            lost,
            ctx,
            move |_job| {
                let loaded = Store::open(&project)
                    .map_err(|e| e.to_string())
                    .and_then(|store| {
                        let profile = ProfileParams {
                            weighting: Weighting::One,
                            ..ProfileParams::default()
                        };
                        let params = project_params(&store, profile).map_err(|e| e.to_string())?;
                        let recommender =
                            ProjectRecommender::load(&store, params.profile.weighting)
                                .map_err(|e| e.to_string())?;
                        Ok(LoadedRecommender {
                            recommender,
                            params,
                        })
                    });
                JobOutcome::Users(loaded)
            },
        )
    }

    /// Embeds every item of the project at `project` with `model` on the thread `strata-embed`
    /// (items already embedded by that model come from the cache).
    pub fn spawn_embed(
        ctx: &egui::Context,
        project: PathBuf,
        model: ModelChoice,
    ) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Step(Step::Embed, Err(e));
        let title = "Embedding the items".to_owned();
        Self::spawn(
            JobKind::Step(Step::Embed),
            "strata-embed",
            title,
            lost,
            ctx,
            move |job| JobOutcome::Step(Step::Embed, embed_with(&project, &model, job)),
        )
    }

    /// Makes a new layer run of the project at `project` on the thread `strata-layers`.
    pub fn spawn_layers(ctx: &egui::Context, project: PathBuf) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Step(Step::Layers, Err(e));
        let title = "Making the layers".to_owned();
        Self::spawn(
            JobKind::Step(Step::Layers),
            "strata-layer-run",
            title,
            lost,
            ctx,
            move |job| {
                let result = Store::open(&project)
                    .map_err(ProjectLayerError::from)
                    .and_then(|mut store| layer_project(&mut store, &LayerParams::default(), job));
                let said = result
                    .map(|(_, run)| {
                        let mut said =
                            format!("{} layers in {:.1} s", run.layers.len(), run.seconds);
                        for note in &run.notes {
                            said.push_str(&format!("; {note}"));
                        }
                        said
                    })
                    .map_err(|e| match e {
                        ProjectLayerError::Layer(LayerError::Cancelled(_)) => {
                            "Layers cancelled; the last layer run is kept.".to_owned()
                        }
                        e => format!("Layers failed: {e}"),
                    });
                JobOutcome::Step(Step::Layers, said)
            },
        )
    }

    fn spawn(
        kind: JobKind,
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
            kind,
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

/// Embeds the project at `project` with `model`; what happened, in a sentence.
fn embed_with(
    project: &std::path::Path,
    model: &ModelChoice,
    job: &JobContext,
) -> Result<String, String> {
    let failed = |e: &dyn std::fmt::Display| format!("Embedding failed: {e}");
    let mut store = Store::open(project).map_err(|e| failed(&e))?;
    let texts: Vec<String> = store
        .items()
        .map_err(|e| failed(&e))?
        .iter()
        .map(item_text)
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let query = match model {
        ModelChoice::Default => Some(ModelQuery::default().or_env_dir()),
        ModelChoice::Folder(dir) => Some(ModelQuery {
            dir: Some(dir.clone()),
            ..ModelQuery::default()
        }),
        ModelChoice::Lsa => None,
    };
    let neural = match query
        .map(|q| resolve(&q).and_then(|m| BertSentenceEmbedder::load(&m.dir, &m.name)))
    {
        Some(Ok(embedder)) => Some(embedder),
        // The default model missing is not an error: the LSA fallback stands in, and says so.
        Some(Err(EmbedError::NotFound { .. })) if *model == ModelChoice::Default => None,
        Some(Err(e)) => return Err(failed(&e)),
        None => None,
    };
    let summary = match &neural {
        Some(embedder) => embed_project(&mut store, embedder, 32, job),
        None => {
            let lsa = LsaEmbedder::fit(&refs).map_err(|e| failed(&e))?;
            embed_project(&mut store, &lsa, 32, job)
        }
    }
    .map_err(|e| match e {
        ProjectEmbedError::Embed(EmbedError::Cancelled(_)) => {
            "Embedding cancelled; the items embedded so far are kept.".to_owned()
        }
        e => failed(&e),
    })?;
    let fallback = if summary.fallback {
        " (the LSA fallback: no sentence-transformer was found)"
    } else {
        ""
    };
    Ok(format!(
        "Embedded {} items with {}{fallback}: {} new, {} from the cache, {:.1} s",
        summary.items, summary.model_name, summary.embedded, summary.from_cache, summary.seconds
    ))
}
