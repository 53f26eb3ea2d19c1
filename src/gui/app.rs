//! The app: persisted [`Settings`], one struct per panel, and the runtime
//! handles (the open project with its reads, the running job, a pending file dialog).

use std::path::PathBuf;
use std::sync::Arc;

use super::command::{Command, ExportRequest, ExportWhat};
use super::fonts;
use super::import_panel::ImportPanel;
use super::jobs::{
    DialogTarget, JobKind, JobOutcome, NoRecommender, PendingDialog, RunningJob, describe,
    read_map, read_quality, read_users, user_lists,
};
use super::map_panel::MapPanel;
use super::pipeline_panel::{PipelinePanel, UnknownLanguage};
use super::project_panel::{ProjectPanel, ProjectView};
use super::quality_panel::{QualityData, QualityPanel};
use super::settings::{Settings, Tab};
use super::task::{Read, Task, TaskError};
use super::users_panel::{Selected, UsersPanel};
use super::widgets::task_progress_ui;
use crate::map::MapData;
use crate::memory::MemoryBudget;
use crate::recommend::ProjectRecommender;
use crate::store::{ProjectInfo, Store};

/// Live handles: not persisted, not drawn directly.
struct Runtime {
    project: Option<OpenProject>,
    /// The user's job (an import, a step, an export, the demo); one at a time.
    job: Option<RunningJob>,
    dialog: Option<PendingDialog>,
    /// The last error not tied to a panel, shown in the status bar until dismissed.
    error: Option<String>,
    /// A short message for the status bar.
    status: Option<String>,
    /// Where "Open demo" builds the demo project.
    demo_path: PathBuf,
    /// Answers for the next file dialogs instead of native ones (tests and scripts).
    scripted_dialogs: std::collections::VecDeque<Option<PathBuf>>,
}

/// The open project and what was read from it. Reads belong to the project: closing it
/// drops them, and whatever they were reading with them.
struct OpenProject {
    store: Store,
    info: ProjectInfo,
    /// `None` when the project has no layer run yet.
    map: Read<Option<Arc<MapData>>>,
    /// The recommender, or why there is none yet (read when the Users view is first shown).
    users: Read<Result<Arc<ProjectRecommender>, NoRecommender>>,
    /// The latest layer run's quality and evaluation (`None` before the first layer run).
    quality: Read<Option<Arc<QualityData>>>,
    /// The lists of the user chosen in the Users view, being worked out.
    user_lists: Option<Task<Selected>>,
}

impl OpenProject {
    /// The recommender, once fitted.
    fn recommender(&self) -> Option<&Arc<ProjectRecommender>> {
        self.users.loaded().and_then(|users| users.as_ref().ok())
    }
}

pub struct StrataApp {
    settings: Settings,
    project_panel: ProjectPanel,
    import_panel: ImportPanel,
    map_panel: MapPanel,
    pipeline_panel: PipelinePanel,
    users_panel: UsersPanel,
    quality_panel: QualityPanel,
    runtime: Runtime,
}

/// Where the demo project lives: beside the app's settings, else in the temporary folder.
fn default_demo_path() -> PathBuf {
    eframe::storage_dir("strata")
        .unwrap_or_else(|| std::env::temp_dir().join("strata"))
        .join("demo")
        .join("demo-shop.strata")
}

impl StrataApp {
    /// Builds the app; opens `project` (created if missing), else the last project if it still exists.
    pub fn new(cc: &eframe::CreationContext<'_>, project: Option<PathBuf>) -> Self {
        fonts::install(&cc.egui_ctx);
        let settings: Settings = cc
            .storage
            .and_then(|s| eframe::get_value(s, Settings::STORAGE_KEY))
            .unwrap_or_default();
        let reopen = project.or_else(|| settings.last_project.clone().filter(|p| p.is_file()));
        let folder_text = match &settings.model {
            super::settings::ModelChoice::Folder(dir) => dir.display().to_string(),
            _ => String::new(),
        };
        let mut app = Self {
            settings,
            project_panel: ProjectPanel::default(),
            import_panel: ImportPanel::default(),
            map_panel: MapPanel::default(),
            pipeline_panel: PipelinePanel::default(),
            users_panel: UsersPanel::default(),
            quality_panel: QualityPanel,
            runtime: Runtime {
                project: None,
                job: None,
                dialog: None,
                error: None,
                status: None,
                demo_path: default_demo_path(),
                scripted_dialogs: Default::default(),
            },
        };
        app.pipeline_panel.folder_text = folder_text;
        if let Some(path) = reopen {
            app.apply(Command::OpenProject(path), &cc.egui_ctx);
        }
        app
    }

    /// Shows `tab` in the main area.
    pub fn show(&mut self, tab: Tab) {
        self.settings.tab = tab;
    }

    /// Builds the demo shop and opens it, as the "Open demo" button does.
    pub fn open_demo(&mut self, ctx: &egui::Context) {
        self.apply(Command::OpenDemo, ctx);
    }

    /// Builds the demo at `path` instead of beside the settings (tests, scripts).
    pub fn set_demo_path(&mut self, path: PathBuf) {
        self.runtime.demo_path = path;
    }

    /// Answers the next file dialog with `answer` (`None` = cancelled) instead of showing a
    /// native one: how tests and scripts drive Browse, New and Export.
    pub fn answer_next_dialog(&mut self, answer: Option<PathBuf>) {
        self.runtime.scripted_dialogs.push_back(answer);
    }

    fn apply(&mut self, command: Command, ctx: &egui::Context) {
        match command {
            Command::OpenProject(path) => self.open_project(path),
            Command::BrowseProject { create } => {
                let target = if create {
                    DialogTarget::NewProject
                } else {
                    DialogTarget::OpenProject
                };
                self.open_dialog(ctx, target);
            }
            Command::BrowseImportSource(kind) => {
                self.open_dialog(ctx, DialogTarget::ImportSource(kind))
            }
            Command::StartImport(request) => {
                self.start_job(ctx, |ctx, path| RunningJob::import(ctx, path, request));
            }
            Command::StartEmbed { model, anyway } => {
                self.start_job(ctx, |ctx, path| RunningJob::embed(ctx, path, model, anyway));
            }
            Command::StartLayers => self.start_job(ctx, RunningJob::layers),
            Command::UpdateLayers { rebuild } => {
                let model = self.settings.model.clone();
                self.start_job(ctx, |ctx, path| {
                    RunningJob::update_layers(ctx, path, model, rebuild)
                });
            }
            Command::StartEvaluate => {
                let profile = self.settings.profile();
                self.start_job(ctx, |ctx, path| RunningJob::evaluate(ctx, path, profile));
            }
            Command::Export(what) => {
                if self.runtime.project.is_none() {
                    self.runtime.error = Some("Open or create a project first.".into());
                    return;
                }
                let request = ExportRequest {
                    what,
                    bom: self.settings.export_bom,
                };
                self.open_dialog(ctx, DialogTarget::Export(request));
            }
            Command::OpenDemo => {
                if self.runtime.job.is_some() {
                    return;
                }
                let path = self.runtime.demo_path.clone();
                // The demo is rebuilt, so the open copy is closed first.
                if self.runtime.project.as_ref().map(|p| p.store.path()) == Some(path.as_path()) {
                    self.runtime.project = None;
                }
                let (model, profile) = (self.settings.model.clone(), self.settings.profile());
                match RunningJob::demo(ctx, path, model, profile) {
                    Ok(job) => self.started(job),
                    Err(e) => self.runtime.error = Some(format!("could not start the demo: {e}")),
                }
            }
            Command::CancelJob => {
                if let Some(job) = &self.runtime.job {
                    job.task.cancel();
                }
            }
            Command::CancelUsersFit => {
                if let Some(Read::Loading(task)) = self.runtime.project.as_ref().map(|p| &p.users) {
                    task.cancel();
                }
            }
            Command::FitUsers => self.invalidate(false, true, false),
            Command::ShowUser(user) => {
                let Some(project) = &mut self.runtime.project else {
                    return;
                };
                let Some(recommender) = project.recommender().map(Arc::clone) else {
                    return;
                };
                match user_lists(ctx, recommender, user) {
                    Ok(task) => project.user_lists = Some(task),
                    Err(e) => {
                        self.runtime.error = Some(format!("could not work out the lists: {e}"));
                    }
                }
            }
        }
    }

    /// Starts a job on the open project, unless a job runs.
    fn start_job(
        &mut self,
        ctx: &egui::Context,
        spawn: impl FnOnce(&egui::Context, PathBuf) -> std::io::Result<RunningJob>,
    ) {
        let Some(project) = &self.runtime.project else {
            self.runtime.error = Some("Open or create a project first.".into());
            return;
        };
        if self.runtime.job.is_some() {
            return;
        }
        match spawn(ctx, project.store.path().to_path_buf()) {
            Ok(job) => self.started(job),
            Err(e) => self.runtime.error = Some(format!("could not start the job: {e}")),
        }
    }

    /// A job has started: the panel it reports to forgets the last one's outcome.
    fn started(&mut self, job: RunningJob) {
        if job.kind == JobKind::Import {
            self.import_panel.report = None;
            self.import_panel.error = None;
        } else {
            self.pipeline_panel.last = None;
            self.pipeline_panel.unknown_language = None;
        }
        self.runtime.job = Some(job);
    }

    fn open_project(&mut self, path: PathBuf) {
        match Store::open(&path).and_then(|store| Ok((store.info()?, store))) {
            Ok((info, store)) => {
                self.project_panel.path_text = path.display().to_string();
                self.settings.remember_project(path);
                // Show the last import's report, so reopening a project says what is in it.
                let last = store.imports().ok().and_then(|log| log.into_iter().next());
                self.import_panel.report = last
                    .as_ref()
                    .and_then(|e| serde_json::from_str(&e.report).ok());
                self.import_panel.report_logged_at = last.map(|e| e.imported_at);
                self.import_panel.error = None;
                self.runtime.project = Some(OpenProject {
                    store,
                    info,
                    map: Read::NotLoaded,
                    users: Read::NotLoaded,
                    quality: Read::NotLoaded,
                    user_lists: None,
                });
                self.map_panel.reset();
                self.users_panel.reset();
                self.runtime.error = None;
            }
            Err(e) => self.runtime.error = Some(e.to_string()),
        }
    }

    fn open_dialog(&mut self, ctx: &egui::Context, target: DialogTarget) {
        if self.runtime.dialog.is_some() {
            return;
        }
        if let Some(answer) = self.runtime.scripted_dialogs.pop_front() {
            self.dialog_answered(answer, target, ctx);
            return;
        }
        match PendingDialog::spawn(ctx, target) {
            Ok(dialog) => self.runtime.dialog = Some(dialog),
            Err(e) => self.runtime.error = Some(format!("could not open a file dialog: {e}")),
        }
    }

    fn dialog_answered(
        &mut self,
        answer: Option<PathBuf>,
        target: DialogTarget,
        ctx: &egui::Context,
    ) {
        let Some(path) = answer else {
            self.runtime.status = Some(match target {
                DialogTarget::Export(_) => "Nothing exported: no file chosen.".into(),
                _ => "No file chosen. You can also type the path.".into(),
            });
            return;
        };
        match target {
            DialogTarget::OpenProject | DialogTarget::NewProject => {
                self.apply(Command::OpenProject(path), ctx);
            }
            DialogTarget::ImportSource(_) => self.import_panel.set_source(path),
            DialogTarget::Export(request) => self.start_export(request, path, ctx),
        }
    }

    /// Writes an export on a background thread, with the Users view's recommender when it is
    /// loaded.
    fn start_export(&mut self, request: ExportRequest, out: PathBuf, ctx: &egui::Context) {
        if self.runtime.job.is_some() {
            self.runtime.error = Some("Wait for the running job, then export again.".into());
            return;
        }
        let loaded = match (&request.what, &self.runtime.project) {
            (ExportWhat::Recommendations { .. }, Some(project)) => {
                project.recommender().map(Arc::clone)
            }
            _ => None,
        };
        let profile = self.settings.profile();
        self.start_job(ctx, |ctx, path| {
            RunningJob::export(ctx, path, request, out, loaded, profile)
        });
    }

    /// Forgets what was read from the open project, so it is read again; reads in flight are
    /// dropped, as they may predate the change.
    fn invalidate(&mut self, map: bool, users: bool, quality: bool) {
        let Some(project) = &mut self.runtime.project else {
            return;
        };
        if map {
            project.map = Read::NotLoaded;
        }
        if users {
            project.users = Read::NotLoaded;
            project.user_lists = None;
            self.users_panel.reset();
        }
        if quality {
            project.quality = Read::NotLoaded;
        }
    }

    /// Takes news from the background: a dialog's answer, job progress, a finished job or read.
    fn poll_background(&mut self, ctx: &egui::Context) {
        // Work started from now on (jobs, reads) respects the budget the settings name.
        MemoryBudget::choose(self.settings.memory_budget());
        // A recommender fitted with another weighting than the chosen one is fitted again.
        let refit = self.runtime.project.as_ref().is_some_and(|p| {
            p.recommender()
                .is_some_and(|r| r.params.profile.weighting != self.settings.weighting)
        });
        if refit {
            self.invalidate(false, true, false);
        }
        if let Some(answer) = self.runtime.dialog.as_mut().and_then(PendingDialog::poll)
            && let Some(dialog) = self.runtime.dialog.take()
        {
            self.dialog_answered(answer, dialog.target, ctx);
        }
        if let Some(result) = self.runtime.job.as_mut().and_then(|job| job.task.poll())
            && let Some(job) = self.runtime.job.take()
        {
            self.finished(job.kind, result);
        }
        self.poll_reads();
        self.load_when_needed(ctx);
    }

    /// Takes the open project's finished reads; a read that failed says why in the status bar.
    fn poll_reads(&mut self) {
        let Some(project) = &mut self.runtime.project else {
            return;
        };
        let mut failed = None;
        let map_was_loading = matches!(project.map, Read::Loading(_));
        project.map.poll(|e| {
            failed = Some(format!(
                "could not load the map: {}",
                super::advice::explain(&e)
            ));
            None
        });
        if map_was_loading && project.map.loaded().is_some() {
            self.map_panel.reset();
        }
        project.quality.poll(|e| {
            failed = Some(format!(
                "could not load the quality: {}",
                super::advice::explain(&e)
            ));
            None
        });
        if let Some(result) = project.user_lists.as_mut().and_then(Task::poll) {
            project.user_lists = None;
            match result {
                Ok(selected) => self.users_panel.show(selected),
                Err(e) => {
                    failed = Some(format!(
                        "could not work out the lists: {}",
                        super::advice::explain(&e)
                    ))
                }
            }
        }
        let users_were_loading = matches!(project.users, Read::Loading(_));
        project.users.poll(|e| {
            Err(match e {
                TaskError::Cancelled => NoRecommender::Cancelled,
                e => NoRecommender::Unavailable(super::advice::explain(&e)),
            })
        });
        if users_were_loading && project.users.loaded().is_some() {
            self.users_panel.reset();
        }
        if failed.is_some() {
            self.runtime.error = failed;
        }
    }

    fn finished(&mut self, kind: JobKind, result: Result<JobOutcome, TaskError>) {
        let outcome = match result {
            Ok(outcome) => outcome,
            Err(e) => {
                let said = describe(kind, &e);
                if kind == JobKind::Import {
                    self.import_panel.error = Some(said);
                } else {
                    self.runtime.status = None;
                    self.pipeline_panel.last = Some(Err(said));
                }
                return;
            }
        };
        match outcome {
            JobOutcome::Import(report, info, outside_layers) => {
                self.runtime.status = Some(format!("Imported {}", report.files.join(", ")));
                // New items in a layered project: updating the layers is the next step.
                self.pipeline_panel.update_offer = outside_layers.filter(|&n| n > 0);
                self.import_panel.report = Some(report);
                self.import_panel.report_logged_at = None;
                if let Some(project) = &mut self.runtime.project {
                    project.info = info;
                }
                // New histories: the recommender is fitted again when next shown.
                self.invalidate(false, true, false);
            }
            JobOutcome::Said(said) => {
                match kind {
                    // A new layer run: its map, recommender and quality are read again.
                    JobKind::Layers => {
                        self.pipeline_panel.update_offer = None;
                        self.invalidate(true, true, true);
                    }
                    // New settings for the lists, and a new report.
                    JobKind::Evaluate => self.invalidate(false, true, true),
                    _ => {}
                }
                self.runtime.status = Some(said.clone());
                self.pipeline_panel.last = Some(Ok(said));
            }
            JobOutcome::UnknownLanguage { share, model } => {
                self.runtime.status = Some(
                    "Nothing embedded: choose a model that reads the catalogue's language.".into(),
                );
                self.pipeline_panel.unknown_language = Some(UnknownLanguage { share, model });
            }
            JobOutcome::Demo(path, summary) => {
                self.open_project(path);
                if self.settings.tab == Tab::Import {
                    self.settings.tab = Tab::Map;
                }
                self.runtime.status = Some(format!(
                    "The demo shop is ready: {} products and {} customers of UCI Online Retail (CC BY 4.0).",
                    summary.info.items, summary.info.users
                ));
            }
        }
    }

    /// Starts reading the open project's map when it has not been read, its quality when the
    /// Quality view wants it, and its recommender when the Users view does.
    fn load_when_needed(&mut self, ctx: &egui::Context) {
        let Some(project) = &mut self.runtime.project else {
            return;
        };
        let path = project.store.path().to_path_buf();
        let mut failed = None;
        if matches!(project.map, Read::NotLoaded) {
            project.map = start_read(read_map(ctx, path.clone()), || None, &mut failed);
        }
        if self.settings.tab == Tab::Quality && matches!(project.quality, Read::NotLoaded) {
            project.quality = start_read(read_quality(ctx, path.clone()), || None, &mut failed);
        }
        let wanted = self.settings.tab == Tab::Users && self.runtime.job.is_none();
        if wanted && matches!(project.users, Read::NotLoaded) {
            let profile = self.settings.profile();
            project.users = match read_users(ctx, path, profile) {
                Ok(task) => Read::Loading(task),
                Err(e) => Read::Loaded(Err(NoRecommender::Unavailable(format!(
                    "could not start fitting the recommender: {e}"
                )))),
            };
        }
        if failed.is_some() {
            self.runtime.error = failed;
        }
    }

    /// Ctrl+O opens a project, Ctrl+I shows Import, Ctrl+M the map, Ctrl+F the map's search,
    /// Ctrl+U the users, Ctrl+L the quality, Ctrl+E exports every user's recommendations,
    /// Ctrl+Q quits (⌘ on macOS).
    fn shortcuts(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        use egui::{Key, KeyboardShortcut, Modifiers};
        let pressed = |ui: &mut egui::Ui, key| {
            ui.input_mut(|i| i.consume_shortcut(&KeyboardShortcut::new(Modifiers::COMMAND, key)))
        };
        if pressed(ui, Key::O) {
            commands.push(Command::BrowseProject { create: false });
        }
        if pressed(ui, Key::I) {
            self.settings.tab = Tab::Import;
        }
        if pressed(ui, Key::M) {
            self.settings.tab = Tab::Map;
        }
        if pressed(ui, Key::U) {
            self.settings.tab = Tab::Users;
        }
        if pressed(ui, Key::L) {
            self.settings.tab = Tab::Quality;
        }
        if pressed(ui, Key::E) {
            commands.push(Command::Export(ExportWhat::Recommendations { user: None }));
        }
        if pressed(ui, Key::Q) {
            // Closing saves the settings and the window's size and place.
            ui.ctx().send_viewport_cmd(egui::ViewportCommand::Close);
        }
        if pressed(ui, Key::F) {
            self.settings.tab = Tab::Map;
            self.map_panel.focus_search();
        }
    }

    /// A file dropped on the window: a project opens, anything else goes to the import wizard.
    /// While files hover over the window, says what dropping does.
    fn dropped_files(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        let (dropped, hovering) = ui.input(|i| {
            let dropped = i.raw.dropped_files.first().map(|f| f.path().to_path_buf());
            (dropped, !i.raw.hovered_files.is_empty())
        });
        if let Some(path) = dropped {
            if path.extension().is_some_and(|e| e == "strata") {
                commands.push(Command::OpenProject(path));
            } else {
                self.import_panel.set_source(path);
                self.settings.tab = Tab::Import;
            }
        }
        if hovering {
            let screen = ui.ctx().content_rect();
            let painter = ui.ctx().layer_painter(egui::LayerId::new(
                egui::Order::Foreground,
                egui::Id::unique("drop_overlay"),
            ));
            painter.rect_filled(screen, 0.0, egui::Color32::from_black_alpha(160));
            painter.text(
                screen.center(),
                egui::Align2::CENTER_CENTER,
                "Drop a CSV file to import it, or a .strata project to open it",
                egui::TextStyle::Heading.resolve(ui.style()),
                egui::Color32::WHITE,
            );
        }
    }

    /// The tab bar and the chosen view.
    fn main_area_ui(&mut self, ui: &mut egui::Ui, commands: &mut Vec<Command>) {
        ui.horizontal(|ui| {
            for tab in Tab::ALL {
                ui.selectable_value(&mut self.settings.tab, tab, tab.label())
                    .on_hover_text(tab.shortcut());
            }
        });
        ui.separator();
        match self.settings.tab {
            Tab::Import => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    self.import_panel.ui(
                        ui,
                        self.runtime.project.is_some(),
                        self.runtime.job.as_ref(),
                        commands,
                    );
                });
            }
            Tab::Map => {
                let project = self.runtime.project.as_ref();
                let overlay = project
                    .and_then(OpenProject::recommender)
                    .and_then(|recommender| self.users_panel.overlay(recommender))
                    .unwrap_or_default();
                match project.map(|p| &p.map) {
                    None => {
                        ui.weak("Open a project to see its map.");
                    }
                    Some(Read::NotLoaded | Read::Loading(_)) => loading_ui(ui, "the map"),
                    Some(Read::Loaded(map)) => {
                        self.map_panel.ui(ui, map.as_ref(), &overlay);
                    }
                }
            }
            Tab::Users => match self.runtime.project.as_ref().map(|p| &p.users) {
                None => {
                    ui.weak("Open a project to see its users.");
                }
                Some(Read::NotLoaded) => loading_ui(ui, "the users"),
                Some(Read::Loading(task)) => {
                    ui.label("Fitting the recommender to every customer's history…");
                    task_progress_ui(ui, task, Command::CancelUsersFit, commands);
                }
                Some(Read::Loaded(Err(NoRecommender::Cancelled))) => {
                    ui.label("Fitting the recommender was cancelled.");
                    if ui.button("Fit it again").clicked() {
                        commands.push(Command::FitUsers);
                    }
                }
                Some(Read::Loaded(Err(NoRecommender::Unavailable(why)))) => {
                    ui.colored_label(ui.visuals().error_fg_color, why);
                }
                Some(Read::Loaded(Ok(recommender))) => {
                    self.users_panel.ui(ui, recommender, commands)
                }
            },
            Tab::Quality => match self.runtime.project.as_ref().map(|p| &p.quality) {
                None => {
                    ui.weak("Open a project to see the quality of its layers.");
                }
                Some(Read::NotLoaded | Read::Loading(_)) => loading_ui(ui, "the quality"),
                Some(Read::Loaded(None)) => {
                    ui.weak("No layers yet: run \"1. Embed items\" and \"2. Make layers\".");
                }
                Some(Read::Loaded(Some(data))) => self.quality_panel.ui(ui, data),
            },
        }
    }

    fn status_bar_ui(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            if let Some(error) = &self.runtime.error {
                ui.colored_label(ui.visuals().error_fg_color, error);
                if ui.small_button("Dismiss").clicked() {
                    self.runtime.error = None;
                }
            } else if let Some(job) = &self.runtime.job {
                ui.spinner();
                ui.label(job.task.title());
            } else if let Some(status) = &self.runtime.status {
                ui.weak(status);
            } else {
                ui.weak("Ready");
            }
        });
    }
}

/// A read that has started, or, when its thread could not, `empty` with why in `failed`.
fn start_read<T>(
    task: std::io::Result<Task<T>>,
    empty: impl FnOnce() -> T,
    failed: &mut Option<String>,
) -> Read<T> {
    match task {
        Ok(task) => Read::Loading(task),
        Err(e) => {
            *failed = Some(format!("could not start a read: {e}"));
            Read::Loaded(empty())
        }
    }
}

/// A spinner while `what` is read off the UI thread.
fn loading_ui(ui: &mut egui::Ui, what: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(format!("Loading {what}…"));
    });
}

impl eframe::App for StrataApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        let ctx = ui.ctx().clone();
        self.poll_background(&ctx);
        let mut commands = Vec::new();
        self.shortcuts(ui, &mut commands);
        self.dropped_files(ui, &mut commands);

        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar_ui(ui));
        egui::Panel::left("project_panel")
            .resizable(true)
            .default_size(280.0)
            .size_range(220.0..=480.0)
            .show(ui, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    let open = self.runtime.project.as_ref().map(|p| ProjectView {
                        path: p.store.path(),
                        info: &p.info,
                    });
                    self.project_panel
                        .ui(ui, open, &self.settings.recent_projects, &mut commands);
                    ui.separator();
                    self.pipeline_panel.ui(
                        ui,
                        &mut self.settings,
                        self.runtime.project.is_some(),
                        self.runtime.job.as_ref(),
                        &mut commands,
                    );
                });
            });
        egui::CentralPanel::default_margins().show(ui, |ui| {
            self.main_area_ui(ui, &mut commands);
        });

        for command in commands {
            self.apply(command, &ctx);
        }
    }

    fn save(&mut self, storage: &mut dyn eframe::Storage) {
        eframe::set_value(storage, Settings::STORAGE_KEY, &self.settings);
    }
}
