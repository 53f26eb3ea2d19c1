//! The app: persisted [`Settings`], one struct per panel, and the runtime
//! handles (the open project, the running job, a pending file dialog).

use std::path::PathBuf;
use std::sync::Arc;

use super::command::Command;
use super::fonts;
use super::import_panel::ImportPanel;
use super::jobs::Step;
use super::jobs::{DialogTarget, JobOutcome, PendingDialog, RunningJob};
use super::map_panel::MapPanel;
use super::pipeline_panel::PipelinePanel;
use super::project_panel::{ProjectPanel, ProjectView};
use super::settings::{Settings, Tab};
use super::users_panel::{LoadedRecommender, UsersPanel};
use crate::map::MapData;
use crate::store::{ProjectInfo, Store};

/// Live handles: not persisted, not drawn directly.
#[derive(Default)]
struct Runtime {
    project: Option<OpenProject>,
    /// The user's job (an import); one at a time.
    job: Option<RunningJob>,
    /// Reading the map of the project at this path, beside any user's job.
    map_job: Option<(PathBuf, RunningJob)>,
    /// Loading the recommender of the project at this path.
    users_job: Option<(PathBuf, RunningJob)>,
    dialog: Option<PendingDialog>,
    /// The last error not tied to a panel, shown in the status bar until dismissed.
    error: Option<String>,
    /// A short message for the status bar.
    status: Option<String>,
}

struct OpenProject {
    store: Store,
    info: ProjectInfo,
    /// `None` when the project has no layer run yet.
    map: Loadable<Option<Arc<MapData>>>,
    /// The recommender, or why there is none yet (read when the Users view is first shown).
    users: Loadable<Result<Arc<LoadedRecommender>, String>>,
}

/// Something read from the project off the UI thread.
enum Loadable<T> {
    NotLoaded,
    Loading,
    Loaded(T),
}

pub struct StrataApp {
    settings: Settings,
    project_panel: ProjectPanel,
    import_panel: ImportPanel,
    map_panel: MapPanel,
    pipeline_panel: PipelinePanel,
    users_panel: UsersPanel,
    runtime: Runtime,
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
            runtime: Runtime::default(),
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
                let Some(project) = &self.runtime.project else {
                    self.runtime.error = Some("Open or create a project first.".into());
                    return;
                };
                if self.runtime.job.is_some() {
                    return;
                }
                let path = project.store.path().to_path_buf();
                match RunningJob::spawn_import(ctx, path, request) {
                    Ok(job) => {
                        self.import_panel.report = None;
                        self.import_panel.error = None;
                        self.runtime.job = Some(job);
                    }
                    Err(e) => self.runtime.error = Some(format!("could not start the import: {e}")),
                }
            }
            Command::StartEmbed(model) => {
                self.start_job(|ctx, path| RunningJob::spawn_embed(ctx, path, model), ctx);
            }
            Command::StartLayers => self.start_job(RunningJob::spawn_layers, ctx),
            Command::CancelJob => {
                if let Some(job) = &self.runtime.job {
                    job.cancel();
                }
            }
        }
    }

    /// Starts a pipeline step on the open project, unless a job runs.
    fn start_job(
        &mut self,
        spawn: impl FnOnce(&egui::Context, PathBuf) -> std::io::Result<RunningJob>,
        ctx: &egui::Context,
    ) {
        let Some(project) = &self.runtime.project else {
            self.runtime.error = Some("Open or create a project first.".into());
            return;
        };
        if self.runtime.job.is_some() {
            return;
        }
        match spawn(ctx, project.store.path().to_path_buf()) {
            Ok(job) => {
                self.pipeline_panel.last = None;
                self.runtime.job = Some(job);
            }
            Err(e) => self.runtime.error = Some(format!("could not start the job: {e}")),
        }
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
                    map: Loadable::NotLoaded,
                    users: Loadable::NotLoaded,
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
        match PendingDialog::spawn(ctx, target) {
            Ok(dialog) => self.runtime.dialog = Some(dialog),
            Err(e) => self.runtime.error = Some(format!("could not open a file dialog: {e}")),
        }
    }

    /// Takes news from the background: a dialog's answer, job progress, a finished job.
    fn poll_background(&mut self, ctx: &egui::Context) {
        if let Some(answer) = self.runtime.dialog.as_ref().and_then(PendingDialog::poll) {
            let target = self.runtime.dialog.take().map(|d| d.target);
            match (answer, target) {
                (Some(path), Some(DialogTarget::OpenProject | DialogTarget::NewProject)) => {
                    self.apply(Command::OpenProject(path), ctx);
                }
                (Some(path), Some(DialogTarget::ImportSource(_))) => {
                    self.import_panel.source_text = path.display().to_string();
                }
                _ => {
                    self.runtime.status =
                        Some("No file chosen. You can also type the path.".into());
                }
            }
        }
        if let Some(outcome) = self.runtime.job.as_mut().and_then(RunningJob::poll) {
            self.runtime.job = None;
            self.finished(outcome);
        }
        let reads = [
            take_finished(&mut self.runtime.map_job),
            take_finished(&mut self.runtime.users_job),
        ];
        for (read_from, outcome) in reads.into_iter().flatten() {
            let open = self.runtime.project.as_ref().map(|p| p.store.path());
            // What was read for a project that has since been closed is dropped.
            if open == Some(read_from.as_path()) {
                self.finished(outcome);
            }
        }
        self.load_when_needed(ctx);
    }

    fn finished(&mut self, outcome: JobOutcome) {
        match outcome {
            JobOutcome::Import(Ok((report, info))) => {
                self.runtime.status = Some(format!("Imported {}", report.files.join(", ")));
                self.import_panel.report = Some(report);
                self.import_panel.report_logged_at = None;
                if let Some(project) = &mut self.runtime.project {
                    project.info = info;
                }
            }
            JobOutcome::Import(Err(e)) => self.import_panel.error = Some(e),
            JobOutcome::Step(step, said) => {
                if step == Step::Layers && said.is_ok() {
                    // A new layer run: read its map and fit its recommender again.
                    if let Some(project) = &mut self.runtime.project {
                        project.map = Loadable::NotLoaded;
                        project.users = Loadable::NotLoaded;
                    }
                    self.users_panel.reset();
                }
                self.runtime.status = said.as_ref().ok().cloned();
                self.pipeline_panel.last = Some((step, said));
            }
            JobOutcome::Map(loaded) => {
                let map = match loaded {
                    Ok(map) => map,
                    Err(e) => {
                        self.runtime.error = Some(e);
                        None
                    }
                };
                if let Some(project) = &mut self.runtime.project {
                    project.map = Loadable::Loaded(map.map(Arc::new));
                }
                self.map_panel.reset();
            }
            JobOutcome::Users(loaded) => {
                if let Some(project) = &mut self.runtime.project {
                    project.users = Loadable::Loaded(loaded.map(Arc::new));
                }
                self.users_panel.reset();
            }
        }
    }

    /// Starts reading the open project's map when it has not been read, and its recommender
    /// when the Users view wants it.
    fn load_when_needed(&mut self, ctx: &egui::Context) {
        let Some(project) = &mut self.runtime.project else {
            return;
        };
        let path = project.store.path().to_path_buf();
        if self.runtime.map_job.is_none() && matches!(project.map, Loadable::NotLoaded) {
            match RunningJob::spawn_map_load(ctx, path.clone()) {
                Ok(job) => {
                    project.map = Loadable::Loading;
                    self.runtime.map_job = Some((path.clone(), job));
                }
                Err(e) => {
                    project.map = Loadable::Loaded(None);
                    self.runtime.error = Some(format!("could not start loading the map: {e}"));
                }
            }
        }
        let wanted = self.settings.tab == Tab::Users && self.runtime.job.is_none();
        if wanted
            && self.runtime.users_job.is_none()
            && matches!(project.users, Loadable::NotLoaded)
        {
            match RunningJob::spawn_users_load(ctx, path.clone()) {
                Ok(job) => {
                    project.users = Loadable::Loading;
                    self.runtime.users_job = Some((path, job));
                }
                Err(e) => {
                    project.users = Loadable::Loaded(Err(format!("could not start loading: {e}")));
                }
            }
        }
    }

    /// Ctrl+O opens a project, Ctrl+I shows Import, Ctrl+M the map, Ctrl+F the map's search
    /// (⌘ on macOS).
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
        if pressed(ui, Key::F) {
            self.settings.tab = Tab::Map;
            self.map_panel.focus_search();
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
                    .and_then(|p| match &p.users {
                        Loadable::Loaded(Ok(loaded)) => self.users_panel.overlay(loaded),
                        _ => None,
                    })
                    .unwrap_or_default();
                match project.map(|p| &p.map) {
                    None => {
                        ui.weak("Open a project to see its map.");
                    }
                    Some(Loadable::NotLoaded | Loadable::Loading) => loading_ui(ui, "the map"),
                    Some(Loadable::Loaded(map)) => {
                        self.map_panel.ui(ui, map.as_ref(), &overlay);
                    }
                }
            }
            Tab::Users => match self.runtime.project.as_ref().map(|p| &p.users) {
                None => {
                    ui.weak("Open a project to see its users.");
                }
                Some(Loadable::NotLoaded | Loadable::Loading) => loading_ui(ui, "the users"),
                Some(Loadable::Loaded(Err(why))) => {
                    ui.colored_label(ui.visuals().error_fg_color, why);
                }
                Some(Loadable::Loaded(Ok(loaded))) => self.users_panel.ui(ui, loaded),
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
                ui.label(&job.title);
            } else if let Some(status) = &self.runtime.status {
                ui.weak(status);
            } else {
                ui.weak("Ready");
            }
        });
    }
}

/// The outcome of a finished read, with the project it was read from; the slot is emptied.
fn take_finished(slot: &mut Option<(PathBuf, RunningJob)>) -> Option<(PathBuf, JobOutcome)> {
    let outcome = slot.as_mut().and_then(|(_, job)| job.poll())?;
    slot.take().map(|(path, _)| (path, outcome))
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

        egui::Panel::bottom("status_bar").show(ui, |ui| self.status_bar_ui(ui));
        egui::Panel::left("project_panel")
            .resizable(true)
            .default_size(280.0)
            .size_range(220.0..=480.0)
            .show(ui, |ui| {
                let open = self.runtime.project.as_ref().map(|p| ProjectView {
                    path: p.store.path(),
                    info: &p.info,
                });
                self.project_panel
                    .ui(ui, open, &self.settings.recent_projects, &mut commands);
                ui.separator();
                self.pipeline_panel.ui(
                    ui,
                    &mut self.settings.model,
                    self.runtime.project.is_some(),
                    self.runtime.job.as_ref(),
                    &mut commands,
                );
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
