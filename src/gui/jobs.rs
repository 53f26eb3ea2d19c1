//! Background work for the app: each job runs on a named thread, sends
//! progress and its outcome over a channel, and wakes the UI to show them.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, Sender, TryRecvError, channel};

use super::command::ExportRequest;
use super::quality_panel::QualityData;
use super::settings::ModelChoice;
use super::users_panel::LoadedRecommender;
use crate::embed::resolve::{ModelQuery, resolve};
use crate::embed::{
    BertSentenceEmbedder, EmbedError, LsaEmbedder, ProjectEmbedError, embed_project, item_text,
};
use crate::export::{write_item_layers, write_layer_list, write_recommendations};
use crate::import::{ImportError, ImportKind, ImportReport, ImportRequest, run_import};
use crate::layers::{LayerError, LayerParams, ProjectLayerError, layer_project};
use crate::map::MapData;
use crate::pipeline::{JobContext, Progress};
use crate::recommend::{
    ProfileParams, ProjectRecommender, RecommendError, Weighting, evaluate_project,
    latest_evaluation, project_params,
};
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
    /// The latest layer run and evaluation (`None` before the first layer run).
    Quality(Result<Option<QualityData>, String>),
    /// What was written, or why not.
    Export(Result<String, String>),
    /// The demo project, built and ready to open, or why not.
    Demo(Result<PathBuf, String>),
}

/// The pipeline's steps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    Embed,
    Layers,
    Evaluate,
}

/// What a job does, so each panel shows only its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Import,
    Map,
    Users,
    Quality,
    Export,
    Demo,
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
    pub fn spawn_users_load(
        ctx: &egui::Context,
        project: PathBuf,
        weighting: Weighting,
    ) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Users(Err(e));
        let title = "Loading the users".to_owned();
        Self::spawn(
            JobKind::Users,
            "strata-recommender",
            title,
            lost,
            ctx,
            move |_job| JobOutcome::Users(load_recommender(&project, weighting)),
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
            move |job| JobOutcome::Step(Step::Layers, make_layers(&project, job)),
        )
    }

    /// Evaluates the project's recommendations against the baselines on the thread
    /// `strata-evaluate`; the chosen settings and the report are kept in the project.
    pub fn spawn_evaluate(
        ctx: &egui::Context,
        project: PathBuf,
        weighting: Weighting,
    ) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Step(Step::Evaluate, Err(e));
        let title = "Evaluating the recommendations".to_owned();
        Self::spawn(
            JobKind::Step(Step::Evaluate),
            "strata-evaluate",
            title,
            lost,
            ctx,
            move |job| JobOutcome::Step(Step::Evaluate, evaluate(&project, weighting, job)),
        )
    }

    /// Reads the latest layer run and evaluation on the thread `strata-quality-load`.
    pub fn spawn_quality_load(ctx: &egui::Context, project: PathBuf) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Quality(Err(e));
        Self::spawn(
            JobKind::Quality,
            "strata-quality-load",
            "Loading the quality report".to_owned(),
            lost,
            ctx,
            move |_job| {
                let loaded = Store::open(&project).and_then(|store| {
                    let Some(run) = store.latest_layer_run()? else {
                        return Ok(None);
                    };
                    let evaluation = latest_evaluation(&store)?;
                    Ok(Some(QualityData { run, evaluation }))
                });
                JobOutcome::Quality(loaded.map_err(|e| format!("could not load the quality: {e}")))
            },
        )
    }

    /// Writes `request` to `out` on the thread `strata-export`. Recommendations use `loaded`
    /// when the Users view has it, else a recommender is fitted here with `weighting`.
    pub fn spawn_export(
        ctx: &egui::Context,
        project: PathBuf,
        request: ExportRequest,
        out: PathBuf,
        loaded: Option<Arc<LoadedRecommender>>,
        weighting: Weighting,
    ) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Export(Err(e));
        let title = format!("Exporting to {}", out.display());
        Self::spawn(
            JobKind::Export,
            "strata-export",
            title,
            lost,
            ctx,
            move |job| {
                let recommender = loaded.ok_or(weighting);
                JobOutcome::Export(export(&project, &request, &out, recommender, job))
            },
        )
    }

    /// Builds the demo shop at `project` (replacing an earlier demo) on the thread
    /// `strata-demo`: the bundled orders are imported, embedded with `model`, split into
    /// layers and evaluated, so every view has something to show.
    pub fn spawn_demo(
        ctx: &egui::Context,
        project: PathBuf,
        model: ModelChoice,
        weighting: Weighting,
    ) -> std::io::Result<Self> {
        let lost = |e| JobOutcome::Demo(Err(e));
        Self::spawn(
            JobKind::Demo,
            "strata-demo",
            "Building the demo shop".to_owned(),
            lost,
            ctx,
            move |job| {
                JobOutcome::Demo(build_demo(&project, &model, weighting, job).map(|()| project))
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
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DialogTarget {
    OpenProject,
    NewProject,
    ImportSource(ImportKind),
    /// Where to save an export.
    Export(ExportRequest),
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
        let thread_target = target.clone();
        std::thread::Builder::new()
            .name("strata-file-dialog".into())
            .spawn(move || {
                let project_filter =
                    |d: rfd::FileDialog| d.add_filter("Strata project", &["strata"]);
                let picked = match &thread_target {
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
                    DialogTarget::Export(request) => rfd::FileDialog::new()
                        .add_filter("CSV", &["csv"])
                        .set_file_name(request.file_name())
                        .save_file(),
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

/// Loads the project's histories and fits its recommender with the settings evaluation chose.
fn load_recommender(
    project: &std::path::Path,
    weighting: Weighting,
) -> Result<LoadedRecommender, String> {
    let store = Store::open(project).map_err(|e| e.to_string())?;
    let profile = ProfileParams {
        weighting,
        ..ProfileParams::default()
    };
    let params = project_params(&store, profile).map_err(|e| e.to_string())?;
    let recommender =
        ProjectRecommender::load(&store, params.profile.weighting).map_err(|e| e.to_string())?;
    Ok(LoadedRecommender {
        recommender,
        params,
    })
}

/// Makes a new layer run; what it did, in a sentence.
fn make_layers(project: &std::path::Path, job: &JobContext) -> Result<String, String> {
    let result = Store::open(project)
        .map_err(ProjectLayerError::from)
        .and_then(|mut store| layer_project(&mut store, &LayerParams::default(), job));
    result
        .map(|(_, run)| {
            let mut said = format!("{} layers in {:.1} s", run.layers.len(), run.seconds);
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
        })
}

/// Runs the evaluation and keeps its report; what it found, in a sentence.
fn evaluate(
    project: &std::path::Path,
    weighting: Weighting,
    job: &JobContext,
) -> Result<String, String> {
    let failed = |e: &dyn std::fmt::Display| format!("Evaluation failed: {e}");
    let mut store = Store::open(project).map_err(|e| failed(&e))?;
    let profile = ProfileParams {
        weighting,
        ..ProfileParams::default()
    };
    let params = project_params(&store, profile).map_err(|e| failed(&e))?;
    let evaluation = evaluate_project(&mut store, &params, job).map_err(|e| match e {
        RecommendError::Cancelled(_) => {
            "Evaluation cancelled; the settings chosen before are kept.".to_owned()
        }
        e => failed(&e),
    })?;
    let strata = evaluation.methods.get("strata").map_or(0.0, |m| m.ndcg);
    let versus = &evaluation.versus_best_baseline;
    Ok(format!(
        "Evaluated {} users in {:.1} s: Strata NDCG@10 {strata:.4}, {} {:.4} (the best baseline)",
        evaluation.users,
        evaluation.seconds,
        versus.baseline,
        strata - versus.ndcg_difference
    ))
}

/// Writes one export; what was written, in a sentence.
fn export(
    project: &std::path::Path,
    request: &ExportRequest,
    out: &std::path::Path,
    recommender: Result<Arc<LoadedRecommender>, Weighting>,
    job: &JobContext,
) -> Result<String, String> {
    let failed = |e: &dyn std::fmt::Display| format!("Export failed, nothing was written: {e}");
    let store = Store::open(project).map_err(|e| failed(&e))?;
    let bom = request.bom;
    let written = |count: u64, what: &str| format!("Wrote {count} {what} to {}", out.display());
    match &request.what {
        super::command::ExportWhat::ItemLayers => write_item_layers(&store, out, bom)
            .map(|n| written(n, "items"))
            .map_err(|e| failed(&e)),
        super::command::ExportWhat::LayerList => write_layer_list(&store, out, bom)
            .map(|n| written(n, "layers and sub-layers"))
            .map_err(|e| failed(&e)),
        super::command::ExportWhat::Recommendations { user } => {
            job.progress("fitting", 0, 2);
            let loaded = match recommender {
                Ok(loaded) => loaded,
                Err(weighting) => {
                    Arc::new(load_recommender(project, weighting).map_err(|e| failed(&e))?)
                }
            };
            let recommender = &loaded.recommender;
            job.progress("ranking", 1, 2);
            let lists: Vec<(usize, _)> = match user {
                Some(user_id) => {
                    let index = recommender
                        .interactions
                        .user_index(user_id)
                        .ok_or_else(|| {
                            failed(&format!("no user {user_id:?} in {}", project.display()))
                        })?;
                    let lists = recommender
                        .model
                        .recommend(&recommender.interactions.events[index], &loaded.params);
                    vec![(index, lists)]
                }
                None => recommender
                    .for_all(&loaded.params)
                    .into_iter()
                    .enumerate()
                    .collect(),
            };
            job.check().map_err(|e| failed(&e))?;
            let count =
                write_recommendations(recommender, lists.iter().map(|(u, l)| (*u, l)), out, bom)
                    .map_err(|e| failed(&e))?;
            Ok(format!(
                "Wrote {count} recommendations for {} user(s) to {}",
                lists.len(),
                out.display()
            ))
        }
    }
}

/// Builds the demo project at `project` from the bundled orders: import, embed, layers,
/// evaluate. An earlier demo there is replaced.
fn build_demo(
    project: &std::path::Path,
    model: &ModelChoice,
    weighting: Weighting,
    job: &JobContext,
) -> Result<(), String> {
    let failed = |e: &dyn std::fmt::Display| format!("The demo could not be built: {e}");
    let dir = project.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| failed(&format!("{}: {e}", dir.display())))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut path = project.as_os_str().to_owned();
        path.push(suffix);
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                return Err(failed(&format!("{}: {e}", project.display())));
            }
            _ => {}
        }
    }
    let orders = dir.join(crate::demo::ORDERS_FILE_NAME);
    std::fs::write(&orders, crate::demo::ORDERS_GZ)
        .map_err(|e| failed(&format!("{}: {e}", orders.display())))?;
    {
        let mut store = Store::open(project).map_err(|e| failed(&e))?;
        let request = ImportRequest {
            kind: ImportKind::Orders,
            path: orders,
            overrides: Vec::new(),
        };
        run_import(&mut store, &request, job).map_err(|e| failed(&e))?;
    }
    embed_with(project, model, job)?;
    make_layers(project, job)?;
    evaluate(project, weighting, job)?;
    Ok(())
}

/// A file preview read on the thread `strata-preview`.
pub struct PreviewJob {
    answer: Receiver<Result<crate::import::Preview, String>>,
}

impl PreviewJob {
    /// Reads the first `rows` rows of what a `kind` import of `path` would read.
    pub fn spawn(
        ctx: &egui::Context,
        kind: ImportKind,
        path: PathBuf,
        overrides: Vec<crate::import::ColumnOverride>,
        rows: usize,
    ) -> std::io::Result<Self> {
        let (tx, answer) = channel();
        let ctx = ctx.clone();
        std::thread::Builder::new()
            .name("strata-preview".into())
            .spawn(move || {
                let preview = crate::import::preview(kind, &path, &overrides, rows)
                    .map_err(|e| e.to_string());
                let _ = tx.send(preview);
                ctx.request_repaint();
            })?;
        Ok(Self { answer })
    }

    /// The preview once read.
    pub fn poll(&self) -> Option<Result<crate::import::Preview, String>> {
        match self.answer.try_recv() {
            Ok(answer) => Some(answer),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => Some(Err("the preview stopped unexpectedly".into())),
        }
    }
}
