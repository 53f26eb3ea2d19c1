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
}

impl crate::pipeline::JobError for StoreError {}
