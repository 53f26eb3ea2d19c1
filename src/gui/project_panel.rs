//! The left panel: which project is open, its counts, recent projects.

use std::path::{Path, PathBuf};

use super::command::Command;
use crate::store::ProjectInfo;

/// The open project as the panel shows it.
pub struct ProjectView<'a> {
    pub path: &'a Path,
    pub info: &'a ProjectInfo,
}

#[derive(Default)]
pub struct ProjectPanel {
    /// The path typed (or picked) in the "Project file" field.
    pub path_text: String,
}

impl ProjectPanel {
    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        open: Option<ProjectView<'_>>,
        recent: &[PathBuf],
        commands: &mut Vec<Command>,
    ) {
        ui.heading("Project");
        ui.add_space(4.0);
        let label = ui.label("Project file");
        let edit = ui
            .add(
                egui::TextEdit::singleline(&mut self.path_text)
                    .hint_text("shop.strata")
                    .desired_width(f32::INFINITY),
            )
            .labelled_by(label.id);
        let entered = edit.lost_focus() && ui.input(|i| i.key_pressed(egui::Key::Enter));
        ui.horizontal_wrapped(|ui| {
            let typed = self.path_text.trim();
            let open_clicked = ui
                .add_enabled(!typed.is_empty(), egui::Button::new("Open or create"))
                .on_hover_text("Open this project file, or create it if it does not exist")
                .clicked();
            if (open_clicked || entered) && !typed.is_empty() {
                commands.push(Command::OpenProject(PathBuf::from(typed)));
            }
            if ui.button("Browse…").clicked() {
                commands.push(Command::BrowseProject { create: false });
            }
            if ui.button("New…").clicked() {
                commands.push(Command::BrowseProject { create: true });
            }
            if ui
                .button("Open demo")
                .on_hover_text(
                    "A demo shop (320 products, 2,605 orders from UCI Online Retail): imported, \
                     embedded, layered and evaluated in under a minute",
                )
                .clicked()
            {
                commands.push(Command::OpenDemo);
            }
        });
        ui.separator();
        match open {
            Some(view) => project_summary_ui(ui, view),
            None => {
                ui.weak("No project open. A project is one .strata file: type a name and press \"Open or create\", or try \"Open demo\".");
            }
        }
        if !recent.is_empty() {
            ui.separator();
            ui.label("Recent");
            for path in recent {
                let name = path.file_name().map_or_else(
                    || path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                );
                if ui
                    .link(name)
                    .on_hover_text(path.display().to_string())
                    .clicked()
                {
                    commands.push(Command::OpenProject(path.clone()));
                }
            }
        }
    }
}

fn project_summary_ui(ui: &mut egui::Ui, view: ProjectView<'_>) {
    let name = view.path.file_name().map_or_else(
        || view.path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    ui.strong(name)
        .on_hover_text(view.path.display().to_string());
    let info = view.info;
    for (count, what) in [
        (info.items, "items"),
        (info.users, "users"),
        (info.interactions, "interactions"),
    ] {
        ui.label(format!("{} {what}", thousands(count)));
    }
    if let (Some(first), Some(last)) = (info.first_ts, info.last_ts) {
        ui.label(format!("From {} to {}", day(first), day(last)));
    }
}

fn day(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map_or_else(|| ts.to_string(), |dt| dt.format("%Y-%m-%d").to_string())
}

/// 397924 → "397,924".
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(397_924), "397,924");
        assert_eq!(super::thousands(1_234_567), "1,234,567");
    }
}
