use std::path::PathBuf;

use crate::pipeline::Cancelled;

/// Why embedding could not run, naming the model folder or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{path}: {reason}")]
    Model { path: PathBuf, reason: String },

    /// No folder was named, the Hugging Face cache at `cache` lacks it and the download failed.
    #[error("no model '{model}' found: no model folder was named, it is not in the Hugging Face cache {}, and the download failed ({reason})", .cache.display())]
    NotFound {
        model: String,
        cache: PathBuf,
        reason: String,
    },

    #[error("could not tokenize: {0}")]
    Tokenize(String),

    #[error("model run failed: {0}")]
    Compute(#[from] candle_core::Error),

    #[error("LSA fallback: {0}")]
    Lsa(String),

    #[error("could not start an embedding thread: {0}")]
    Thread(String),

    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl crate::pipeline::JobError for EmbedError {
    fn is_cancelled(&self) -> bool {
        matches!(self, EmbedError::Cancelled(_))
    }

    fn next_step(&self) -> Option<crate::pipeline::NextStep> {
        match self {
            EmbedError::NotFound { model, .. } => Some(crate::pipeline::NextStep::GetModel {
                model: model.clone(),
            }),
            _ => None,
        }
    }
}
