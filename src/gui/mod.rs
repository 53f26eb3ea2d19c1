//! The desktop app (eframe with the glow renderer): the only part of Strata
//! that knows egui, eframe or rfd exist.
//!
//! Layout follows egui's demo and rerun: panels draw and push [`Command`]s;
//! the app applies them after drawing. Long work runs as a [`task::Task`] on a named
//! thread that reports progress over a channel and wakes the UI ([`jobs`] says which).

mod advice;
mod app;
mod command;
mod fonts;
mod import_panel;
mod jobs;
mod map_panel;
mod pipeline_panel;
mod project_panel;
mod quality_panel;
mod settings;
mod task;
mod users_panel;
mod widgets;

pub use app::StrataApp;
pub use command::{Command, ExportRequest, ExportWhat};
pub use map_panel::MapPanel;
pub use settings::{ModelChoice, Settings, Tab};
pub use users_panel::UserOverlay;

use std::path::PathBuf;

/// Opens the main window (on `view`, else the last view shown) and runs until it is closed;
/// with `demo`, builds and opens the demo shop.
pub fn run(project: Option<PathBuf>, demo: bool, view: Option<Tab>) -> anyhow::Result<()> {
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
        Box::new(move |cc| {
            let mut app = StrataApp::new(cc, project);
            if demo {
                app.open_demo(&cc.egui_ctx);
            }
            if let Some(view) = view {
                app.show(view);
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("could not open the Strata window: {e}"))
}
