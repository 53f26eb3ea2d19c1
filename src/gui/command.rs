use std::path::PathBuf;

use super::settings::ModelChoice;
use crate::import::{ImportKind, ImportRequest};

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
    /// Embed every item of the open project with this model, on a background thread.
    StartEmbed(ModelChoice),
    /// Split the open project's catalogue into layers, on a background thread.
    StartLayers,
    /// Ask the running job to stop.
    CancelJob,
}
