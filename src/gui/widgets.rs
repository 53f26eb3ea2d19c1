//! Small drawing helpers shared by panels.

use super::command::Command;
use super::task::Task;

/// The running job's progress bar with its stage, and a Cancel button.
pub fn job_progress_ui<T>(ui: &mut egui::Ui, task: &Task<T>, commands: &mut Vec<Command>) {
    task_progress_ui(ui, task, Command::CancelJob, commands);
}

/// A running task's progress bar with its stage, and a Cancel button that sends `cancel`.
pub fn task_progress_ui<T>(
    ui: &mut egui::Ui,
    task: &Task<T>,
    cancel: Command,
    commands: &mut Vec<Command>,
) {
    ui.horizontal(|ui| {
        let (fraction, stage) = task
            .progress()
            .map_or((0.0, "starting"), |p| (p.fraction(), p.stage));
        ui.add(
            egui::ProgressBar::new(fraction)
                .desired_width((ui.available_width() - 70.0).max(60.0))
                .text(format!("{stage} {:.0}%", fraction * 100.0))
                .animate(true),
        );
        if ui
            .add_enabled(!task.is_cancelling(), egui::Button::new("Cancel"))
            .clicked()
        {
            commands.push(cancel);
        }
    });
}
