use std::path::PathBuf;

use crate::pipeline::Cancelled;

/// Why embedding could not run, naming the model folder or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum EmbedError {
    #[error("{path}: {reason}")]
    Model { path: PathBuf, reason: String },

    #[error("no model '{model}' found: {tried}. {advice}")]
    NotFound {
        model: String,
        tried: String,
        advice: String,
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
