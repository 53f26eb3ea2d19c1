use std::path::PathBuf;

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
    /// Ask the running job to stop.
    CancelJob,
}
