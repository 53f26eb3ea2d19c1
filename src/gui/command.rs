use std::path::PathBuf;

use super::settings::ModelChoice;
use crate::import::{ImportKind, ImportRequest};

/// What an export writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExportWhat {
    /// Every user's per-layer lists, or one user's.
    Recommendations { user: Option<String> },
    /// One row per layer and sub-layer.
    LayerList,
    /// One row per item: its layer, sub-layer and map position.
    ItemLayers,
}

/// An export to write, as chosen in the app.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportRequest {
    pub what: ExportWhat,
    /// Start with a UTF-8 byte-order mark (Excel needs it to read UTF-8).
    pub bom: bool,
}

impl ExportRequest {
    /// The file name the save dialog suggests.
    pub fn file_name(&self) -> String {
        match &self.what {
            ExportWhat::Recommendations { user: None } => "recommendations.csv".to_owned(),
            ExportWhat::Recommendations { user: Some(user) } => {
                let safe: String = user
                    .chars()
                    .map(|c| if c.is_alphanumeric() { c } else { '_' })
                    .collect();
                format!("recommendations-{safe}.csv")
            }
            ExportWhat::LayerList => "layers.csv".to_owned(),
            ExportWhat::ItemLayers => "item-layers.csv".to_owned(),
        }
    }
}

/// What a panel asks the app to do; applied after the frame is drawn.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Open the project at this path, creating it if missing.
    OpenProject(PathBuf),
    /// Ask the user for a project file in a native dialog.
    BrowseProject { create: bool },
    /// Ask the user for a file (a folder for MovieLens) to import.
    BrowseImportSource(ImportKind),
    /// Run an import on a background thread.
    StartImport(ImportRequest),
    /// Embed every item of the open project with `model`, on a background thread; with
    /// `anyway`, even when the model does not read the catalogue's language.
    StartEmbed { model: ModelChoice, anyway: bool },
    /// Split the open project's catalogue into layers, on a background thread.
    StartLayers,
    /// Bring the open project's layers up to its new items (embedding them first) on a
    /// background thread: updated, or with `rebuild` made again from scratch.
    UpdateLayers { rebuild: bool },
    /// Evaluate the open project's recommendations against the baselines.
    StartEvaluate,
    /// Ask where to save an export, then write it on a background thread.
    Export(ExportWhat),
    /// Build (or rebuild) the demo shop and open it.
    OpenDemo,
    /// Ask the running job to stop.
    CancelJob,
    /// Work out the lists of this user (an index into the recommender's users) off the UI
    /// thread, for the Users view.
    ShowUser(usize),
    /// Stop fitting the Users view's recommender.
    CancelUsersFit,
    /// Fit the Users view's recommender again (after a cancel).
    FitUsers,
}
