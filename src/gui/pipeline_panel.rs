//! The pipeline, under the project: which model embeds the items and how histories weigh,
//! then Embed, Layers and Evaluate on background threads with a progress bar and Cancel, what
//! the last step said, and the exports.

use std::path::PathBuf;

use super::command::{Command, ExportWhat};
use super::jobs::RunningJob;
use super::project_panel::thousands;
use super::settings::{ModelChoice, Settings};
use super::widgets::job_progress_ui;
use crate::embed::MULTILINGUAL_MODEL;
use crate::memory::{Bytes, MemoryBudget};
use crate::recommend::Weighting;

#[derive(Default)]
pub struct PipelinePanel {
    /// The model folder typed when the choice is a folder.
    pub folder_text: String,
    /// What the last step (or export, or demo) said, or why it failed.
    pub last: Option<Result<String, String>>,
    /// Embedding stopped before any work: the model does not read the catalogue's language.
    pub unknown_language: Option<UnknownLanguage>,
    /// Items imported since the latest layer run, which an update of the layers would place
    /// (set after an import into a layered project, cleared by the next layer run).
    pub update_offer: Option<u64>,
    /// The automatic memory budget, read once.
    automatic_budget: Option<MemoryBudget>,
}

/// What the app says when the chosen model does not read the catalogue's language.
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownLanguage {
    /// Share of the catalogue's tokens that are `[UNK]` to `model`.
    pub share: f64,
    pub model: String,
}

impl PipelinePanel {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        settings: &mut Settings,
        project_open: bool,
        job: Option<&RunningJob>,
        commands: &mut Vec<Command>,
    ) {
        let Settings {
            model,
            weighting,
            export_bom,
            memory_budget_mb,
            ..
        } = settings;
        ui.heading("Pipeline");
        ui.label("Model");
        let mut kind = match model {
            ModelChoice::Default => 0,
            ModelChoice::Folder(_) => 1,
            ModelChoice::Multilingual => 3,
            ModelChoice::Lsa => 2,
        };
        ui.radio_value(&mut kind, 0, "all-MiniLM-L6-v2 (default)")
            .on_hover_text("From $STRATA_MODEL_DIR or the Hugging Face cache; the LSA fallback, with a note, when it is missing");
        ui.radio_value(&mut kind, 3, "Multilingual MiniLM (reads Chinese)")
            .on_hover_text(format!(
                "{MULTILINGUAL_MODEL}, from the Hugging Face cache; the LSA fallback, with a note, when it is missing"
            ));
        ui.radio_value(&mut kind, 1, "A model folder");
        ui.radio_value(&mut kind, 2, "LSA (no model, weaker)");
        *model = match kind {
            1 => {
                let label = ui.label("Model folder");
                ui.add(
                    egui::TextEdit::singleline(&mut self.folder_text)
                        .hint_text("folder with model.safetensors")
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
                ModelChoice::Folder(PathBuf::from(self.folder_text.trim()))
            }
            2 => ModelChoice::Lsa,
            3 => ModelChoice::Multilingual,
            _ => ModelChoice::Default,
        };
        ui.label("Histories weigh each event")
            .on_hover_text("Used by the evaluation and the Users view");
        ui.horizontal(|ui| {
            ui.radio_value(weighting, Weighting::One, "once");
            ui.radio_value(weighting, Weighting::Quantity, "by quantity");
            ui.radio_value(weighting, Weighting::Rating, "by rating");
        });
        let automatic = *self.automatic_budget.get_or_insert_with(|| {
            MemoryBudget::from_env().unwrap_or_else(|_| MemoryBudget::quarter_of_physical())
        });
        memory_budget_ui(ui, memory_budget_mb, automatic);
        ui.add_space(4.0);
        let idle = job.is_none();
        let ready = project_open && idle;
        let why_not = "Open a project (and wait for the running job) first";
        let folder_missing =
            matches!(model, ModelChoice::Folder(dir) if dir.as_os_str().is_empty());
        ui.horizontal_wrapped(|ui| {
            let embed = ui
                .add_enabled(
                    ready && !folder_missing,
                    egui::Button::new("1. Embed items"),
                )
                .on_disabled_hover_text(why_not);
            if embed.clicked() {
                commands.push(Command::StartEmbed {
                    model: model.clone(),
                    anyway: false,
                });
            }
            let layers = ui
                .add_enabled(ready, egui::Button::new("2. Make layers"))
                .on_hover_text(
                    "Split the catalogue into layers from scratch; layers that match the last \
                     run's keep their numbers and colours",
                )
                .on_disabled_hover_text(why_not);
            if layers.clicked() {
                commands.push(Command::StartLayers);
            }
            let update = ui
                .add_enabled(ready, egui::Button::new("Update layers"))
                .on_hover_text(UPDATE_HELP)
                .on_disabled_hover_text(why_not);
            if update.clicked() {
                commands.push(Command::UpdateLayers { rebuild: false });
            }
            let evaluate = ui
                .add_enabled(ready, egui::Button::new("3. Evaluate"))
                .on_hover_text(
                    "Score the recommendations against popular, item-kNN, EASE and content \
                     baselines on each user's last basket; later lists use the settings it chooses",
                )
                .on_disabled_hover_text(why_not);
            if evaluate.clicked() {
                commands.push(Command::StartEvaluate);
            }
        });
        if let Some(new_items) = self.update_offer {
            update_offer_ui(ui, new_items, ready, commands);
        }
        if let Some(job) = job.filter(|j| j.kind.is_pipeline()) {
            ui.weak(job.task.title());
            job_progress_ui(ui, &job.task, commands);
        }
        if let Some(unknown) = &self.unknown_language {
            unknown_language_ui(ui, unknown, model, ready, commands);
        }
        match &self.last {
            Some(Ok(said)) => {
                ui.weak(said);
            }
            Some(Err(e)) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }

        ui.separator();
        ui.heading("Export");
        ui.checkbox(export_bom, "For Excel (UTF-8 with BOM)")
            .on_hover_text(
                "Excel needs the byte-order mark to read Chinese and other non-English text",
            );
        ui.horizontal_wrapped(|ui| {
            let exports = [
                (
                    "Recommendations…",
                    ExportWhat::Recommendations { user: None },
                    "Every user's per-layer lists: user_id, layer, rank, item, score, reason (Ctrl+E)",
                ),
                (
                    "Layers…",
                    ExportWhat::LayerList,
                    "One row per layer and sub-layer: name, size, silhouette, share",
                ),
                (
                    "Item assignments…",
                    ExportWhat::ItemLayers,
                    "One row per item: its layer, sub-layer and map position",
                ),
            ];
            for (label, what, help) in exports {
                let button = ui
                    .add_enabled(ready, egui::Button::new(label))
                    .on_hover_text(help)
                    .on_disabled_hover_text(why_not);
                if button.clicked() {
                    commands.push(Command::Export(what));
                }
            }
        });
    }
}

const UPDATE_HELP: &str = "Place the items imported since the last layer run in their nearest \
    layers and sub-layers (embedding them first); every layer keeps its number, name and colour, \
    and a layer that grew or drifted a lot has its sub-layers fitted again";

/// New items came into a layered project: updating the layers is the suggested next step,
/// rebuilding the alternative.
fn update_offer_ui(ui: &mut egui::Ui, new_items: u64, ready: bool, commands: &mut Vec<Command>) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.label(format!(
            "{} new item(s) are not in the layers yet. Updating keeps every layer (number, \
             name, colour) and places the new items; rebuilding starts again from scratch.",
            thousands(new_items)
        ));
        ui.horizontal_wrapped(|ui| {
            let update = ui
                .add_enabled(ready, egui::Button::new("Update the layers now"))
                .on_hover_text(UPDATE_HELP);
            if update.clicked() {
                commands.push(Command::UpdateLayers { rebuild: false });
            }
            let rebuild = ui
                .add_enabled(ready, egui::Button::new("Rebuild from scratch"))
                .on_hover_text(
                    "Embed the new items and split the whole catalogue again; layers that \
                     match the last run's keep their numbers and colours",
                );
            if rebuild.clicked() {
                commands.push(Command::UpdateLayers { rebuild: true });
            }
        });
    });
}

/// The model does not read the catalogue's language: say so, and offer the multilingual
/// model, LSA, or to embed anyway.
fn unknown_language_ui(
    ui: &mut egui::Ui,
    unknown: &UnknownLanguage,
    model: &ModelChoice,
    ready: bool,
    commands: &mut Vec<Command>,
) {
    ui.colored_label(
        ui.visuals().warn_fg_color,
        format!(
            "{:.0}% of this catalogue's words are unknown to {}: it does not read their \
             language, so its vectors would group unlike items. Nothing was embedded.",
            unknown.share * 100.0,
            unknown.model
        ),
    );
    ui.horizontal_wrapped(|ui| {
        let multilingual = ui
            .add_enabled(ready, egui::Button::new("Use the multilingual model"))
            .on_hover_text(format!(
                "{MULTILINGUAL_MODEL}: reads Chinese and about 50 other languages (from the \
                 Hugging Face cache, downloaded when missing)"
            ));
        if multilingual.clicked() {
            commands.push(Command::StartEmbed {
                model: ModelChoice::Multilingual,
                anyway: false,
            });
        }
        let lsa = ui
            .add_enabled(ready, egui::Button::new("Use LSA"))
            .on_hover_text("Word-based, no model needed; segments Chinese into words");
        if lsa.clicked() {
            commands.push(Command::StartEmbed {
                model: ModelChoice::Lsa,
                anyway: false,
            });
        }
        if ui
            .add_enabled(ready, egui::Button::new("Embed anyway"))
            .clicked()
        {
            commands.push(Command::StartEmbed {
                model: model.clone(),
                anyway: true,
            });
        }
    });
}

/// The memory budget: automatic, or a size in MB the user sets.
fn memory_budget_ui(
    ui: &mut egui::Ui,
    memory_budget_mb: &mut Option<u64>,
    automatic: MemoryBudget,
) {
    ui.label("Memory budget").on_hover_text(
        "What the layers, the recommender and the evaluation may hold. Above it Strata uses its \
         sparse models, or says what does not fit before starting",
    );
    ui.horizontal(|ui| {
        let mut is_automatic = memory_budget_mb.is_none();
        // The size goes in the tooltip: the label reads the same on every machine.
        ui.checkbox(&mut is_automatic, "automatic")
            .on_hover_text(format!(
                "{}: STRATA_MEMORY_BUDGET, else a quarter of this machine's memory",
                Bytes(automatic.bytes)
            ));
        if is_automatic {
            *memory_budget_mb = None;
        } else {
            let mb = memory_budget_mb.get_or_insert(automatic.bytes / 1_000_000);
            ui.add(
                egui::DragValue::new(mb)
                    .range(100..=1_000_000)
                    .speed(10)
                    .suffix(" MB"),
            );
        }
    });
}
