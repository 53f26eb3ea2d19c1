//! The pipeline, under the project: which model embeds the items, then Embed and Layers on
//! background threads with a progress bar and Cancel, and what the last step said.

use std::path::PathBuf;

use super::command::Command;
use super::jobs::{JobKind, RunningJob, Step};
use super::settings::ModelChoice;

#[derive(Default)]
pub struct PipelinePanel {
    /// The model folder typed when the choice is a folder.
    pub folder_text: String,
    /// What the last step said, or why it failed.
    pub last: Option<(Step, Result<String, String>)>,
}

impl PipelinePanel {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        model: &mut ModelChoice,
        project_open: bool,
        job: Option<&RunningJob>,
        commands: &mut Vec<Command>,
    ) {
        ui.heading("Pipeline");
        ui.label("Model");
        let mut kind = match model {
            ModelChoice::Default => 0,
            ModelChoice::Folder(_) => 1,
            ModelChoice::Lsa => 2,
        };
        ui.radio_value(&mut kind, 0, "all-MiniLM-L6-v2 (default)")
            .on_hover_text("From $STRATA_MODEL_DIR or the Hugging Face cache; the LSA fallback, with a note, when it is missing");
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
            _ => ModelChoice::Default,
        };
        ui.add_space(4.0);
        let running_step = job.and_then(|j| match j.kind {
            JobKind::Step(step) => Some(step),
            _ => None,
        });
        let idle = job.is_none();
        ui.horizontal(|ui| {
            let folder_missing =
                matches!(model, ModelChoice::Folder(dir) if dir.as_os_str().is_empty());
            let embed = ui
                .add_enabled(
                    project_open && idle && !folder_missing,
                    egui::Button::new("1. Embed items"),
                )
                .on_disabled_hover_text("Open a project (and wait for the running job) first");
            if embed.clicked() {
                commands.push(Command::StartEmbed(model.clone()));
            }
            let layers = ui
                .add_enabled(project_open && idle, egui::Button::new("2. Make layers"))
                .on_disabled_hover_text("Open a project (and wait for the running job) first");
            if layers.clicked() {
                commands.push(Command::StartLayers);
            }
        });
        if let (Some(job), Some(_)) = (job, running_step) {
            ui.horizontal(|ui| {
                let (fraction, stage) = job
                    .progress
                    .as_ref()
                    .map_or((0.0, "starting"), |p| (p.fraction(), p.stage));
                ui.add(
                    egui::ProgressBar::new(fraction)
                        .desired_width(ui.available_width() - 70.0)
                        .text(format!("{stage} {:.0}%", fraction * 100.0))
                        .animate(true),
                );
                if ui
                    .add_enabled(!job.is_cancelling(), egui::Button::new("Cancel"))
                    .clicked()
                {
                    commands.push(Command::CancelJob);
                }
            });
        }
        match &self.last {
            Some((_, Ok(said))) => {
                ui.weak(said);
            }
            Some((_, Err(e))) => {
                ui.colored_label(ui.visuals().error_fg_color, e);
            }
            None => {}
        }
    }
}
