//! The user's jobs (import, the pipeline's steps, exports, the demo) and the project reads
//! the views need, each a [`Task`] on its own named thread. The work is the core's; this
//! file only says which thread runs it and what the app shows of the result.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::command::{ExportRequest, ExportWhat};
use super::quality_panel::QualityData;
use super::settings::ModelChoice;
use super::task::{Task, TaskError};
use super::users_panel::Selected;
use crate::demo::{DemoSummary, build_demo};
use crate::embed::{EmbedWarning, choose_embedder, embed_project, item_text};
use crate::export::{write_item_layers, write_layer_list, write_recommendations};
use crate::import::{ImportKind, ImportReport, ImportRequest, run_import};
use crate::layers::{LayerParams, layer_changes, layer_project, update_project_layers};
use crate::map::MapData;
use crate::pipeline::{Cancelled, JobContext, JobError, StepError};
use crate::recommend::{
    Method, ProfileParams, ProjectRecommender, RecommendError, evaluate_project,
};
use crate::store::{ProjectInfo, Store, StoreError};

/// What a job does, so each panel shows only its own and words its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobKind {
    Import,
    Embed,
    Layers,
    Evaluate,
    Export,
    Demo,
}

impl JobKind {
    /// True for the jobs the Pipeline panel shows (all but the import).
    pub fn is_pipeline(self) -> bool {
        self != JobKind::Import
    }

    /// What the app says when the user cancelled this job.
    pub fn cancelled(self) -> &'static str {
        match self {
            JobKind::Import => "Import cancelled; the project is unchanged.",
            JobKind::Embed => "Embedding cancelled; the items embedded so far are kept.",
            JobKind::Layers => "Layers cancelled; the last layer run is kept.",
            JobKind::Evaluate => "Evaluation cancelled; the settings chosen before are kept.",
            JobKind::Export => "Export cancelled; nothing was written.",
            JobKind::Demo => "The demo was cancelled.",
        }
    }

    /// What the app puts before the reason when this job failed.
    pub fn failed(self) -> &'static str {
        match self {
            JobKind::Import => "Import failed, nothing was written",
            JobKind::Embed => "Embedding failed",
            JobKind::Layers => "Layers failed",
            JobKind::Evaluate => "Evaluation failed",
            JobKind::Export => "Export failed, nothing was written",
            JobKind::Demo => "The demo could not be built",
        }
    }
}

/// What a finished job produced.
pub enum JobOutcome {
    /// The report, the project's new counts, and how many items the latest layer run does
    /// not hold (`None` without layers): an update of the layers is offered for them.
    Import(ImportReport, ProjectInfo, Option<u64>),
    /// A pipeline step or an export: what it did, in a sentence.
    Said(String),
    /// The model does not read the catalogue's language: nothing was embedded; the user
    /// chooses another model, LSA, or to embed anyway.
    UnknownLanguage { share: f64, model: String },
    /// The demo project, built and ready to open.
    Demo(PathBuf, DemoSummary),
}

/// The user's job in flight (one at a time).
pub struct RunningJob {
    pub kind: JobKind,
    pub task: Task<JobOutcome>,
}

impl RunningJob {
    fn spawn(
        kind: JobKind,
        ctx: &egui::Context,
        thread: &str,
        title: String,
        work: impl FnOnce(&JobContext) -> Result<JobOutcome, StepError> + Send + 'static,
    ) -> std::io::Result<Self> {
        Ok(Self {
            kind,
            task: Task::spawn(ctx, thread, title, work)?,
        })
    }

    /// Imports `request` into the project at `project` on the thread `strata-import`.
    /// The thread opens its own connection; SQLite's WAL lets the UI keep reading.
    pub fn import(
        ctx: &egui::Context,
        project: PathBuf,
        request: ImportRequest,
    ) -> std::io::Result<Self> {
        let title = format!("Importing {}", request.path.display());
        Self::spawn(JobKind::Import, ctx, "strata-import", title, move |job| {
            let mut store = Store::open(&project)?;
            let report = run_import(&mut store, &request, job)?;
            // Counted here, off the UI thread.
            let info = store.info()?;
            let outside_layers = store.items_outside_latest_run()?;
            Ok(JobOutcome::Import(report, info, outside_layers))
        })
    }

    /// Embeds every item of the project at `project` with `model` on the thread
    /// `strata-embed` (items already embedded by that model come from the cache). Unless
    /// `anyway`, a model that does not read the catalogue's language embeds nothing and
    /// says so first.
    pub fn embed(
        ctx: &egui::Context,
        project: PathBuf,
        model: ModelChoice,
        anyway: bool,
    ) -> std::io::Result<Self> {
        let title = "Embedding the items".to_owned();
        Self::spawn(JobKind::Embed, ctx, "strata-embed", title, move |job| {
            let mut store = Store::open(&project)?;
            Ok(match embed_items(&mut store, &model, anyway, job)? {
                Embedded::Done(said) => JobOutcome::Said(said),
                Embedded::UnknownLanguage(outcome) => *outcome,
            })
        })
    }

    /// Brings the layers of the project at `project` up to its new items on the thread
    /// `strata-layer-update`: the items not embedded yet are embedded with `model` (the others
    /// come from the cache), then the layers are updated (see [`update_project_layers`]) or,
    /// with `rebuild`, made again from scratch; says what changed since the last run.
    pub fn update_layers(
        ctx: &egui::Context,
        project: PathBuf,
        model: ModelChoice,
        rebuild: bool,
    ) -> std::io::Result<Self> {
        let title = if rebuild {
            "Rebuilding the layers"
        } else {
            "Updating the layers"
        };
        Self::spawn(
            JobKind::Layers,
            ctx,
            "strata-layer-update",
            title.to_owned(),
            move |job| {
                let mut store = Store::open(&project)?;
                let embedded = match embed_items(&mut store, &model, false, job)? {
                    Embedded::Done(said) => said,
                    Embedded::UnknownLanguage(outcome) => return Ok(*outcome),
                };
                let (run_id, run) = if rebuild {
                    layer_project(&mut store, &LayerParams::default(), job)?
                } else {
                    update_project_layers(&mut store, job)?
                };
                let mut said = format!(
                    "{embedded}. Layers {} in {:.1} s (layer run {run_id}, {} layers)",
                    if rebuild { "rebuilt" } else { "updated" },
                    run.seconds,
                    run.layers.len()
                );
                if let Some(from) = store.layer_run_before(run_id)? {
                    for line in layer_changes(&store, from, run_id)?.describe() {
                        said.push_str(&format!("; {line}"));
                    }
                }
                Ok(JobOutcome::Said(said))
            },
        )
    }

    /// Makes a new layer run of the project at `project` on the thread `strata-layer-run`.
    pub fn layers(ctx: &egui::Context, project: PathBuf) -> std::io::Result<Self> {
        let title = "Making the layers".to_owned();
        Self::spawn(
            JobKind::Layers,
            ctx,
            "strata-layer-run",
            title,
            move |job| {
                let mut store = Store::open(&project)?;
                let (_, run) = layer_project(&mut store, &LayerParams::default(), job)?;
                let mut said = format!("{} layers in {:.1} s", run.layers.len(), run.seconds);
                for note in &run.notes {
                    said.push_str(&format!("; {note}"));
                }
                Ok(JobOutcome::Said(said))
            },
        )
    }

    /// Evaluates the project's recommendations against the baselines on the thread
    /// `strata-evaluate`; the chosen settings and the report are kept in the project.
    pub fn evaluate(
        ctx: &egui::Context,
        project: PathBuf,
        profile: ProfileParams,
    ) -> std::io::Result<Self> {
        let title = "Evaluating the recommendations".to_owned();
        Self::spawn(
            JobKind::Evaluate,
            ctx,
            "strata-evaluate",
            title,
            move |job| {
                let mut store = Store::open(&project)?;
                let evaluation = evaluate_project(&mut store, &profile, job)?;
                let strata = evaluation
                    .methods
                    .get(&Method::Strata)
                    .map_or(0.0, |m| m.ndcg);
                let versus = &evaluation.versus_best_baseline;
                Ok(JobOutcome::Said(format!(
                    "Evaluated {} users in {:.1} s: Strata NDCG@10 {strata:.4}, {} {:.4} (the best baseline)",
                    evaluation.users,
                    evaluation.seconds,
                    versus.baseline,
                    strata - versus.ndcg_difference
                )))
            },
        )
    }

    /// Writes `request` to `out` on the thread `strata-export`. Recommendations use `loaded`
    /// when the Users view has it, else a recommender is fitted here with `profile`.
    pub fn export(
        ctx: &egui::Context,
        project: PathBuf,
        request: ExportRequest,
        out: PathBuf,
        loaded: Option<Arc<ProjectRecommender>>,
        profile: ProfileParams,
    ) -> std::io::Result<Self> {
        let title = format!("Exporting to {}", out.display());
        Self::spawn(JobKind::Export, ctx, "strata-export", title, move |job| {
            let store = Store::open(&project)?;
            let bom = request.bom;
            let written = |count: u64, what: &str| {
                JobOutcome::Said(format!("Wrote {count} {what} to {}", out.display()))
            };
            Ok(match &request.what {
                ExportWhat::ItemLayers => written(write_item_layers(&store, &out, bom)?, "items"),
                ExportWhat::LayerList => written(
                    write_layer_list(&store, &out, bom)?,
                    "layers and sub-layers",
                ),
                ExportWhat::Recommendations { user } => {
                    let recommender = match loaded {
                        Some(loaded) => loaded,
                        None => Arc::new(ProjectRecommender::load(&store, profile, 5, job)?),
                    };
                    job.progress("ranking", 0, 1);
                    let users = recommender.rows_for(user.as_deref())?;
                    job.check().map_err(RecommendError::from)?;
                    let count = write_recommendations(&users, &out, bom)?;
                    JobOutcome::Said(format!(
                        "Wrote {count} recommendations for {} user(s) to {}",
                        users.len(),
                        out.display()
                    ))
                }
            })
        })
    }

    /// Builds the demo shop at `project` (replacing an earlier demo) on the thread
    /// `strata-demo`: the bundled orders are imported, embedded with `model`, split into
    /// layers and evaluated, so every view has something to show.
    pub fn demo(
        ctx: &egui::Context,
        project: PathBuf,
        model: ModelChoice,
        profile: ProfileParams,
    ) -> std::io::Result<Self> {
        let title = "Building the demo shop".to_owned();
        Self::spawn(JobKind::Demo, ctx, "strata-demo", title, move |job| {
            let summary = build_demo(&project, &model.request(), &profile, job)?;
            Ok(JobOutcome::Demo(project, summary))
        })
    }
}

/// Reads the latest layer run of the project at `project` and indexes its points for hover,
/// on the thread `strata-map-load`.
pub fn read_map(
    ctx: &egui::Context,
    project: PathBuf,
) -> std::io::Result<Task<Option<Arc<MapData>>>> {
    Task::spawn(ctx, "strata-map-load", "Loading the map", move |_| {
        let store = Store::open(&project)?;
        Ok::<_, StoreError>(MapData::load(&store)?.map(Arc::new))
    })
}

/// Why the Users view has no recommender.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoRecommender {
    /// The user cancelled the fit.
    Cancelled,
    /// It cannot be made yet (no layers, no histories), or failed: why, in the app's words.
    Unavailable(String),
}

/// Loads the project's histories and fits its recommender with the settings evaluation chose
/// (or extends the project's kept fit), on the thread `strata-recommender`, with progress and
/// cancel; or says why there is none yet (no layers, no histories), with the step that would
/// make one.
pub fn read_users(
    ctx: &egui::Context,
    project: PathBuf,
    profile: ProfileParams,
) -> std::io::Result<Task<Result<Arc<ProjectRecommender>, NoRecommender>>> {
    Task::spawn(
        ctx,
        "strata-recommender",
        "Fitting the recommender",
        move |job| {
            // After an import that added little, the kept fit is extended rather than refitted
            // (issue 16); a fit made now is kept for the next time. Keeping it only spares the
            // next open a refit: where it cannot be written (another job holding the project),
            // the lists still come.
            let fitted = Store::open(&project)
                .map_err(StepError::from)
                .and_then(|mut store| {
                    let recommender = ProjectRecommender::load_updated(&store, profile, 5, job)?;
                    let _kept = recommender.keep(&mut store).is_ok();
                    Ok(recommender)
                });
            match fitted {
                Ok(recommender) => Ok(Ok(Arc::new(recommender))),
                Err(e) if e.is_cancelled() => Err(Cancelled),
                Err(e) => Ok(Err(NoRecommender::Unavailable(super::advice::explain(
                    &TaskError::of(&e),
                )))),
            }
        },
    )
}

/// Works out the lists of `user` on the thread `strata-user-lists`.
pub fn user_lists(
    ctx: &egui::Context,
    recommender: Arc<ProjectRecommender>,
    user: usize,
) -> std::io::Result<Task<Selected>> {
    Task::spawn_value(ctx, "strata-user-lists", move || {
        Selected::of(&recommender, user)
    })
}

/// How many recent layer runs the Quality view shows the sizes of.
const RECENT_RUNS: usize = 6;

/// What [`embed_items`] did.
enum Embedded {
    /// Embedded, in a sentence.
    Done(String),
    /// Nothing embedded: the model does not read the catalogue's language.
    UnknownLanguage(Box<JobOutcome>),
}

/// Embeds every item of `store` with `model` (items already embedded by that model come from
/// the cache). Unless `anyway`, a model that does not read the catalogue's language embeds
/// nothing and says so first.
fn embed_items(
    store: &mut Store,
    model: &ModelChoice,
    anyway: bool,
    job: &JobContext,
) -> Result<Embedded, StepError> {
    let texts: Vec<String> = store.items()?.iter().map(item_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let choice = choose_embedder(&model.request(), &refs)?;
    for warning in &choice.warnings {
        if let EmbedWarning::UnknownTokens { share, model } = warning
            && !anyway
        {
            return Ok(Embedded::UnknownLanguage(Box::new(
                JobOutcome::UnknownLanguage {
                    share: *share,
                    model: model.clone(),
                },
            )));
        }
    }
    let summary = embed_project(store, choice.embedder.as_embedder(), 32, job)?;
    let fallback = if summary.fallback {
        " (the LSA fallback: no sentence-transformer was found)"
    } else {
        ""
    };
    Ok(Embedded::Done(format!(
        "Embedded {} items with {}{fallback}: {} new, {} from the cache, {:.1} s",
        summary.items, summary.model_name, summary.embedded, summary.from_cache, summary.seconds
    )))
}

/// Reads the latest layer run and evaluation on the thread `strata-quality-load`.
pub fn read_quality(
    ctx: &egui::Context,
    project: PathBuf,
) -> std::io::Result<Task<Option<Arc<QualityData>>>> {
    Task::spawn(
        ctx,
        "strata-quality-load",
        "Loading the quality report",
        move |_| {
            let store = Store::open(&project)?;
            let Some(run) = store.latest_layer_run()? else {
                return Ok(None);
            };
            let evaluation = crate::recommend::latest_evaluation(&store)?;
            let changes = match store.layer_run_before(run.run_id)? {
                Some(before) => Some(layer_changes(&store, before, run.run_id)?),
                None => None,
            };
            let recent = store.recent_layer_runs(RECENT_RUNS)?;
            Ok::<_, StepError>(Some(Arc::new(QualityData {
                run,
                evaluation,
                changes,
                recent,
            })))
        },
    )
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
    pub answer: Task<Option<PathBuf>>,
}

impl PendingDialog {
    pub fn spawn(ctx: &egui::Context, target: DialogTarget) -> std::io::Result<Self> {
        let thread_target = target.clone();
        let answer = Task::spawn_value(ctx, "strata-file-dialog", move || {
            let project_filter = |d: rfd::FileDialog| d.add_filter("Strata project", &["strata"]);
            match &thread_target {
                DialogTarget::OpenProject => project_filter(rfd::FileDialog::new()).pick_file(),
                DialogTarget::NewProject => project_filter(rfd::FileDialog::new())
                    .set_file_name("project.strata")
                    .save_file(),
                DialogTarget::ImportSource(ImportKind::MovieLens) => {
                    rfd::FileDialog::new().pick_folder()
                }
                DialogTarget::ImportSource(_) => {
                    let mut tables = vec!["csv", "gz", "tsv", "txt"];
                    tables.extend_from_slice(crate::import::WORKBOOK_EXTENSIONS);
                    rfd::FileDialog::new()
                        .add_filter("CSV and workbooks", &tables)
                        .add_filter(
                            "Excel and OpenDocument workbooks",
                            crate::import::WORKBOOK_EXTENSIONS,
                        )
                        .add_filter("CSV", &["csv", "gz", "tsv", "txt"])
                        .pick_file()
                }
                DialogTarget::Export(request) => rfd::FileDialog::new()
                    .add_filter("CSV", &["csv"])
                    .set_file_name(request.file_name())
                    .save_file(),
            }
        })?;
        Ok(Self { target, answer })
    }

    /// `Some(answer)` once the dialog closed; `Some(None)` when cancelled or unavailable.
    pub fn poll(&mut self) -> Option<Option<PathBuf>> {
        self.answer.poll().map(|answer| answer.ok().flatten())
    }
}

/// Reads the first `rows` rows of what a `kind` import of `path` would read, on the thread
/// `strata-preview`.
pub fn read_preview(
    ctx: &egui::Context,
    kind: ImportKind,
    path: &Path,
    overrides: Vec<crate::import::ColumnOverride>,
    rows: usize,
) -> std::io::Result<Task<crate::import::Preview>> {
    let path = path.to_path_buf();
    Task::spawn(ctx, "strata-preview", "Reading a preview", move |_| {
        crate::import::preview(kind, &path, &overrides, rows)
    })
}

/// The sentence the app shows for a task that brought no result.
pub fn describe(kind: JobKind, error: &TaskError) -> String {
    match error {
        TaskError::Cancelled => kind.cancelled().to_owned(),
        failed => format!("{}: {}", kind.failed(), super::advice::explain(failed)),
    }
}
