//! The import wizard: pick a kind and a file (type, browse or drop it), see its first rows
//! and how its columns map, change the mapping, run the import in the background, then read
//! its report.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::command::Command;
use super::jobs::{JobKind, RunningJob, read_preview};
use super::project_panel::thousands;
use super::task::Task;
use super::widgets::job_progress_ui;
use crate::import::{ColumnOverride, ImportKind, ImportReport, ImportRequest, Preview, Role};

pub struct ImportPanel {
    pub kind: ImportKind,
    /// The file (folder for MovieLens) typed, picked or dropped.
    pub source_text: String,
    /// The other half of a two-file export (Taobao's order and item reports), typed.
    pub companion_text: String,
    /// Columns the user chose for roles, over what was recognised.
    overrides: BTreeMap<Role, String>,
    /// The preview of the file as the import would read it, or why it cannot be read.
    preview: Option<Result<Preview, String>>,
    /// The preview being read, and for what.
    preview_job: Option<(PreviewKey, Task<Preview>)>,
    /// What the shown preview is of.
    preview_key: Option<PreviewKey>,
    pub report: Option<ImportReport>,
    /// When the shown report comes from the project's import log: when it ran (Unix seconds).
    pub report_logged_at: Option<i64>,
    /// Why the last import wrote nothing, as a sentence.
    pub error: Option<String>,
}

/// What a preview depends on.
#[derive(Clone, Debug, PartialEq)]
struct PreviewKey {
    kind: ImportKind,
    path: PathBuf,
    overrides: Vec<ColumnOverride>,
}

/// Rows shown in the preview.
const PREVIEW_ROWS: usize = 8;

impl Default for ImportPanel {
    fn default() -> Self {
        Self {
            kind: ImportKind::Auto,
            source_text: String::new(),
            companion_text: String::new(),
            overrides: BTreeMap::new(),
            preview: None,
            preview_job: None,
            preview_key: None,
            report: None,
            report_logged_at: None,
            error: None,
        }
    }
}

fn kind_label(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Items => "Items (catalogue)",
        ImportKind::Interactions => "Interactions (histories)",
        ImportKind::Orders => "Orders export",
        ImportKind::MovieLens => "MovieLens folder",
        ImportKind::Auto => "Recognise from the file",
    }
}

fn kind_help(kind: ImportKind) -> &'static str {
    match kind {
        ImportKind::Items => {
            "One row per item: id, title, description, category. Other columns are kept."
        }
        ImportKind::Interactions => {
            "One row per event: user, item, time, quantity or rating. Import the items first."
        }
        ImportKind::Orders => {
            "A shop's raw orders export (invoice, product code, description, quantity, date, customer). \
             Products and purchase histories are derived; cancelled, postage and anonymous lines are counted and skipped."
        }
        ImportKind::MovieLens => {
            "A MovieLens folder with movies.csv and ratings.csv; genres become the category."
        }
        ImportKind::Auto => {
            "Shopify, WooCommerce, Taobao, Pinduoduo, Moodle and Canvas exports are recognised from their columns."
        }
    }
}

impl ImportPanel {
    /// Sets the file to import (picked in a dialog or dropped on the window); a folder is
    /// read as MovieLens.
    pub fn set_source(&mut self, path: PathBuf) {
        if path.is_dir() {
            self.kind = ImportKind::MovieLens;
        } else if self.kind == ImportKind::MovieLens {
            self.kind = ImportKind::Auto;
        }
        self.source_text = path.display().to_string();
    }

    fn overrides(&self) -> Vec<ColumnOverride> {
        self.overrides
            .iter()
            .map(|(&role, column)| ColumnOverride {
                role,
                column: column.clone(),
            })
            .collect()
    }

    /// Reads a new preview off the UI thread when the kind, file or mapping changed, and takes
    /// a finished one.
    fn refresh_preview(&mut self, ctx: &egui::Context) {
        let source = self.source_text.trim();
        let wanted = (!source.is_empty()).then(|| PreviewKey {
            kind: self.kind,
            path: PathBuf::from(source),
            overrides: self.overrides(),
        });
        if let Some((key, job)) = &mut self.preview_job
            && let Some(result) = job.poll()
        {
            self.preview_key = Some(key.clone());
            self.preview = Some(result.map_err(|e| super::advice::explain(&e)));
            self.preview_job = None;
        }
        let current = self
            .preview_job
            .as_ref()
            .map(|(key, _)| key)
            .or(self.preview_key.as_ref());
        match wanted {
            None => {
                self.preview = None;
                self.preview_key = None;
                self.preview_job = None;
            }
            Some(key) if current != Some(&key) => {
                // A path typed halfway does not exist yet: nothing to read.
                if key.path.exists() {
                    let job = read_preview(
                        ctx,
                        key.kind,
                        &key.path,
                        key.overrides.clone(),
                        PREVIEW_ROWS,
                    );
                    match job {
                        Ok(job) => self.preview_job = Some((key, job)),
                        Err(e) => self.preview = Some(Err(format!("could not read the file: {e}"))),
                    }
                } else {
                    self.preview = Some(Err(format!(
                        "{}: no such file or folder",
                        key.path.display()
                    )));
                    self.preview_key = Some(key);
                    self.preview_job = None;
                }
            }
            Some(_) => {}
        }
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        project_open: bool,
        job: Option<&RunningJob>,
        commands: &mut Vec<Command>,
    ) {
        ui.heading("Import");
        ui.weak("Each file is checked whole before anything is written: a file with an error imports nothing. You can also drop a file on the window.");
        ui.add_space(6.0);
        let kind_before = self.kind;
        ui.horizontal_wrapped(|ui| {
            for kind in std::iter::once(ImportKind::Auto).chain(ImportKind::ALL) {
                ui.radio_value(&mut self.kind, kind, kind_label(kind));
            }
        });
        if self.kind != kind_before {
            self.overrides.clear();
        }
        ui.label(kind_help(self.kind));
        ui.add_space(6.0);

        let what = if self.kind == ImportKind::MovieLens {
            "Folder to import"
        } else {
            "File to import"
        };
        let label = ui.label(what);
        ui.horizontal(|ui| {
            let browse_width = 90.0;
            let edit = ui
                .add(
                    egui::TextEdit::singleline(&mut self.source_text)
                        .hint_text("orders.csv, items.csv.gz …")
                        .desired_width(ui.available_width() - browse_width),
                )
                .labelled_by(label.id);
            if edit.changed() {
                self.overrides.clear();
            }
            if ui.button("Browse…").clicked() {
                commands.push(Command::BrowseImportSource(self.kind));
            }
        });
        self.refresh_preview(ui.ctx());
        let missing = self.preview_ui(ui);
        let partner = self
            .preview
            .as_ref()
            .and_then(|p| p.as_ref().ok())
            .and_then(|p| p.layout)
            .and_then(|layout| layout.partner());
        if let Some(partner) = partner {
            ui.add_space(4.0);
            let label = ui.label(format!(
                "This file is one half of a two-file export: also import {partner}"
            ));
            ui.add(
                egui::TextEdit::singleline(&mut self.companion_text)
                    .hint_text("宝贝报表.csv / 订单报表.csv")
                    .desired_width(ui.available_width()),
            )
            .labelled_by(label.id);
        }
        let companion = self.companion_text.trim();
        let companion_missing = partner.is_some() && companion.is_empty();
        ui.add_space(6.0);

        if let Some(job) = job.filter(|j| j.kind == JobKind::Import) {
            job_progress_ui(ui, &job.task, commands);
            ui.weak(job.task.title());
        } else {
            let source = self.source_text.trim();
            let ready =
                project_open && !source.is_empty() && missing.is_empty() && !companion_missing;
            let button = ui.add_enabled(ready, egui::Button::new("Start import"));
            let button = if !project_open {
                button.on_disabled_hover_text("Open or create a project first")
            } else if !missing.is_empty() {
                button.on_disabled_hover_text("Choose a column for each required role first")
            } else if companion_missing {
                button.on_disabled_hover_text("Name the export's other file first")
            } else {
                button.on_disabled_hover_text("Type, browse for or drop a file first")
            };
            if button.clicked() {
                commands.push(Command::StartImport(ImportRequest {
                    kind: self.kind,
                    path: source.into(),
                    overrides: self.overrides(),
                    also: if partner.is_some() {
                        vec![companion.into()]
                    } else {
                        Vec::new()
                    },
                    options: Default::default(),
                }));
            }
        }

        if let Some(error) = &self.error {
            ui.add_space(6.0);
            ui.colored_label(ui.visuals().error_fg_color, error);
        }
        if let Some(report) = &self.report {
            ui.add_space(6.0);
            ui.separator();
            report_ui(ui, report, self.report_logged_at);
        }
    }

    /// The first rows and the column mapping, with a choice of column per role; returns the
    /// required roles still without a column.
    fn preview_ui(&mut self, ui: &mut egui::Ui) -> Vec<Role> {
        if self.preview_job.is_some() && self.preview.is_none() {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Reading a preview…");
            });
            return Vec::new();
        }
        let Some(preview) = &self.preview else {
            return Vec::new();
        };
        let preview = match preview {
            Ok(preview) => preview.clone(),
            Err(e) => {
                ui.colored_label(ui.visuals().warn_fg_color, e);
                return Vec::new();
            }
        };
        ui.add_space(6.0);
        ui.strong(format!(
            "Preview of {} ({}, first {} rows)",
            preview.file,
            preview.encoding,
            preview.rows.len()
        ));
        if let Some(layout) = preview.layout {
            ui.label(format!(
                "Recognised as {layout}: read with its platform's rules (which orders count, variants grouped into their products)."
            ));
        } else if self.kind == ImportKind::Auto {
            ui.label(format!(
                "Read as {}.",
                kind_label(preview.read_as).to_lowercase()
            ));
        }
        let role_of = |column: usize| {
            preview
                .mapping
                .iter()
                .find(|(_, c)| *c == Some(column))
                .map(|(r, _)| *r)
        };
        egui::ScrollArea::horizontal()
            .id_salt("import_preview")
            .show(ui, |ui| {
                egui::Grid::new("import_preview_rows")
                    .striped(true)
                    .spacing([12.0, 2.0])
                    .show(ui, |ui| {
                        for (c, header) in preview.headers.iter().enumerate() {
                            match role_of(c) {
                                Some(role) => ui.strong(format!("{header} → {}", role.name())),
                                None => ui.weak(header),
                            };
                        }
                        ui.end_row();
                        for row in &preview.rows {
                            for cell in row {
                                let short: String = cell.chars().take(40).collect();
                                ui.label(short);
                            }
                            ui.end_row();
                        }
                    });
            });
        if preview.mapping.is_empty() {
            return Vec::new();
        }
        ui.add_space(4.0);
        ui.label("Columns (change one if Strata guessed wrong)");
        egui::Grid::new("import_mapping")
            .num_columns(2)
            .spacing([12.0, 4.0])
            .show(ui, |ui| {
                for &(role, column) in &preview.mapping {
                    let required = preview.required.contains(&role);
                    let label = if required {
                        format!("{} (required)", role.name())
                    } else {
                        role.name().to_owned()
                    };
                    let label = ui.label(label);
                    let shown = column
                        .and_then(|c| preview.headers.get(c))
                        .map_or("(none)", String::as_str);
                    egui::ComboBox::from_id_salt(("import_role", role as usize))
                        .selected_text(shown)
                        .show_ui(ui, |ui| {
                            for header in &preview.headers {
                                if ui.selectable_label(shown == header, header).clicked() {
                                    self.overrides.insert(role, header.clone());
                                }
                            }
                        })
                        .response
                        .labelled_by(label.id);
                    ui.end_row();
                }
            });
        let missing = preview.missing();
        if !missing.is_empty() {
            let names: Vec<&str> = missing.iter().map(|r| r.name()).collect();
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("No column for {}: choose one above.", names.join(", ")),
            );
        }
        missing
    }
}

fn report_ui(ui: &mut egui::Ui, report: &ImportReport, logged_at: Option<i64>) {
    let counts = format!(
        "{} items and {} interactions",
        thousands(report.items_imported),
        thousands(report.interactions_imported)
    );
    match logged_at.and_then(|ts| chrono::DateTime::from_timestamp(ts, 0)) {
        Some(at) => ui.strong(format!(
            "Last import, {} UTC: {counts}",
            at.format("%Y-%m-%d %H:%M")
        )),
        None => ui.strong(format!("Imported {counts} in {:.2} s", report.seconds)),
    };
    ui.weak(format!("{} · {}", report.files.join(", "), report.encoding));
    for r in &report.recognised {
        ui.label(format!(
            "{}: recognised as {}: {} columns used, {} ignored",
            r.file, r.layout, r.columns_used, r.columns_ignored
        ));
    }
    for note in &report.notes {
        ui.weak(note);
    }
    egui::Grid::new("import_report")
        .num_columns(2)
        .striped(true)
        .spacing([24.0, 4.0])
        .show(ui, |ui| {
            let mut row = |what: &str, value: String| {
                ui.label(what);
                ui.label(value);
                ui.end_row();
            };
            row("Rows read", thousands(report.rows_read));
            row("Items imported", thousands(report.items_imported));
            row(
                "Interactions imported",
                thousands(report.interactions_imported),
            );
            if report.variants_grouped > 0 {
                row(
                    "Variants grouped into products",
                    thousands(report.variants_grouped),
                );
            }
            row("Duplicate rows merged", thousands(report.merged_duplicates));
            row("Rows skipped", thousands(report.skipped_total()));
            for (reason, count) in &report.skipped {
                row(&format!("    {}", reason.describe()), thousands(*count));
            }
            if !report.columns.is_empty() {
                let columns: Vec<String> = report
                    .columns
                    .iter()
                    .map(|(role, col)| format!("{role} = {col}"))
                    .collect();
                row("Columns", columns.join(", "));
            }
        });
    if !report.bad_lines.is_empty() {
        egui::CollapsingHeader::new(format!("First {} skipped lines", report.bad_lines.len()))
            .show(ui, |ui| {
                for bad in &report.bad_lines {
                    ui.monospace(format!(
                        "{}:{}  {}",
                        bad.file,
                        bad.line,
                        bad.reason.describe()
                    ));
                }
            });
    }
}
