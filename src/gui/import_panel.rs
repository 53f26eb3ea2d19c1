//! The import panel: pick a kind and a file, optionally override columns, run
//! the import in the background, then read its report.

use super::command::Command;
use super::jobs::{JobKind, RunningJob};
use super::project_panel::thousands;
use crate::import::{ColumnOverride, ImportKind, ImportReport, ImportRequest};

pub struct ImportPanel {
    pub kind: ImportKind,
    /// The file (folder for MovieLens) typed or picked.
    pub source_text: String,
    /// `role=Column` overrides, comma- or line-separated.
    pub overrides_text: String,
    pub report: Option<ImportReport>,
    /// When the shown report comes from the project's import log: when it ran (Unix seconds).
    pub report_logged_at: Option<i64>,
    /// Why the last import wrote nothing, as a sentence.
    pub error: Option<String>,
}

impl Default for ImportPanel {
    fn default() -> Self {
        Self {
            kind: ImportKind::Orders,
            source_text: String::new(),
            overrides_text: String::new(),
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
    }
}

/// Parses the overrides field: `title=Description, user_id=客户编号`.
fn parse_overrides(text: &str) -> Result<Vec<ColumnOverride>, String> {
    text.split([',', '\n', ';'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::parse)
        .collect()
}

impl ImportPanel {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        project_open: bool,
        job: Option<&RunningJob>,
        commands: &mut Vec<Command>,
    ) {
        ui.heading("Import");
        ui.weak("Each file is checked whole before anything is written: a file with an error imports nothing.");
        ui.add_space(6.0);
        ui.horizontal_wrapped(|ui| {
            for kind in ImportKind::ALL {
                ui.radio_value(&mut self.kind, kind, kind_label(kind));
            }
        });
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
            ui.add(
                egui::TextEdit::singleline(&mut self.source_text)
                    .hint_text("orders.csv, items.csv.gz …")
                    .desired_width(ui.available_width() - browse_width),
            )
            .labelled_by(label.id);
            if ui.button("Browse…").clicked() {
                commands.push(Command::BrowseImportSource(self.kind));
            }
        });
        let label = ui.label("Column overrides (optional)");
        ui.add(
            egui::TextEdit::singleline(&mut self.overrides_text)
                .hint_text("title=Description, user_id=客户编号")
                .desired_width(f32::INFINITY),
        )
        .labelled_by(label.id);
        let overrides = parse_overrides(&self.overrides_text);
        if let Err(e) = &overrides {
            ui.colored_label(ui.visuals().error_fg_color, e);
        }
        ui.add_space(6.0);

        if let Some(job) = job.filter(|j| j.kind == JobKind::Import) {
            ui.horizontal(|ui| {
                let (fraction, stage) = job
                    .progress
                    .as_ref()
                    .map_or((0.0, "starting"), |p| (p.fraction(), p.stage));
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(ui.available_width() - 90.0)
                        .text(format!("{stage} {:.0}%", fraction * 100.0))
                        .animate(true),
                );
                let cancel = ui.add_enabled(!job.is_cancelling(), egui::Button::new("Cancel"));
                if cancel.clicked() {
                    commands.push(Command::CancelJob);
                }
            });
            ui.weak(&job.title);
        } else {
            let source = self.source_text.trim();
            let ready = project_open && !source.is_empty();
            let button = ui.add_enabled(
                ready && overrides.is_ok(),
                egui::Button::new("Start import"),
            );
            let button = if project_open {
                button.on_disabled_hover_text("Type or browse for a file first")
            } else {
                button.on_disabled_hover_text("Open or create a project first")
            };
            if button.clicked()
                && let Ok(overrides) = overrides
            {
                commands.push(Command::StartImport(ImportRequest {
                    kind: self.kind,
                    path: source.into(),
                    overrides,
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
            row("Duplicate rows merged", thousands(report.merged_duplicates));
            row("Rows skipped", thousands(report.skipped_total()));
            for (reason, count) in &report.skipped {
                row(&format!("    {}", reason.describe()), thousands(*count));
            }
            let columns: Vec<String> = report
                .columns
                .iter()
                .map(|(role, col)| format!("{role} = {col}"))
                .collect();
            row("Columns", columns.join(", "));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::Role;

    #[test]
    fn overrides_field_accepts_commas_and_lines() {
        let parsed = parse_overrides("title=Description,\n user_id = 客户编号 ").unwrap();
        assert_eq!(parsed.len(), 2);
        assert_eq!(
            (parsed[1].role, parsed[1].column.as_str()),
            (Role::UserId, "客户编号")
        );
        assert!(parse_overrides("").unwrap().is_empty());
        assert!(parse_overrides("colour=red").is_err());
    }
}
