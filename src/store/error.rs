use std::path::PathBuf;

/// Errors from opening or writing a project file.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{path}: not a Strata project ({reason})")]
    NotAProject { path: PathBuf, reason: String },

    #[error(
        "{path}: written by a newer Strata (project schema v{found}, this version reads up to v{supported}); update Strata to open it"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        supported: i64,
    },

    #[error("{path}: {source}")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error("{path}: migration to schema v{version} failed: {source}")]
    Migration {
        path: PathBuf,
        version: i64,
        #[source]
        source: rusqlite::Error,
    },

    #[error("{path}: the project's {what} is unreadable: {reason}")]
    Corrupt {
        path: PathBuf,
        what: &'static str,
        reason: String,
    },

    #[error("{path}: {source}")]
    Sqlite {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },

    #[error(
        "{path}: the project is busy: another Strata has been writing it for {seconds} s; try again when it is done"
    )]
    Busy { path: PathBuf, seconds: u64 },
}

impl StoreError {
    /// Whether SQLite said another connection holds the file (busy or locked).
    pub fn is_busy(&self) -> bool {
        let source = match self {
            StoreError::Open { source, .. }
            | StoreError::Migration { source, .. }
            | StoreError::Sqlite { source, .. } => source,
            StoreError::Busy { .. } => return true,
            _ => return false,
        };
        matches!(
            source.sqlite_error_code(),
            Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
        )
    }
}

impl crate::pipeline::JobError for StoreError {}
