//! The desktop app (eframe with the glow renderer): the only part of Strata
//! that knows egui, eframe or rfd exist.
//!
//! Layout follows egui's demo and rerun: panels draw and push [`Command`]s;
//! the app applies them after drawing. Long work runs on named threads
//! ([`jobs`]) that report progress over a channel and wake the UI.

mod app;
mod command;
mod fonts;
mod import_panel;
mod jobs;
mod project_panel;
mod settings;

pub use app::StrataApp;
pub use command::Command;
pub use settings::Settings;

use std::path::PathBuf;

/// Opens the main window and runs until it is closed.
pub fn run(project: Option<PathBuf>) -> anyhow::Result<()> {
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Glow,
        viewport: egui::ViewportBuilder::default()
            .with_title("Strata")
            .with_app_id("strata")
            .with_inner_size([1120.0, 740.0])
            .with_min_inner_size([720.0, 480.0]),
        ..Default::default()
    };
    eframe::run_native(
        "Strata",
        options,
        Box::new(move |cc| Ok(Box::new(StrataApp::new(cc, project)))),
    )
    .map_err(|e| anyhow::anyhow!("could not open the Strata window: {e}"))
}
