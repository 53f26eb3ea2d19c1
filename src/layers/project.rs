//! Layering a whole project: its current vectors in, a stored layer run out.

use super::{LayerError, LayerParams, LayerRun, build_layers};
use crate::embed::{item_text, text_hash};
use crate::memory::{MemoryBudget, OverBudget};
use crate::pipeline::JobContext;
use crate::pipeline::{JobError, NextStep};
use crate::store::{Store, StoreError};

/// Why a project could not be layered.
#[derive(Debug, thiserror::Error)]
pub enum ProjectLayerError {
    #[error("{path}: no item vectors yet")]
    NotEmbedded { path: String },
    #[error(
        "{path}: {missing} of {items} items have no vector from {model} (the catalogue changed since the last embedding)"
    )]
    MissingVectors {
        path: String,
        missing: usize,
        items: usize,
        model: String,
    },
    #[error("{path}: {source}")]
    OverBudget {
        path: String,
        #[source]
        source: OverBudget,
    },
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl JobError for ProjectLayerError {
    fn is_cancelled(&self) -> bool {
        matches!(self, ProjectLayerError::Layer(LayerError::Cancelled(_)))
    }

    fn next_step(&self) -> Option<NextStep> {
        match self {
            ProjectLayerError::NotEmbedded { path }
            | ProjectLayerError::MissingVectors { path, .. } => Some(NextStep::Embed {
                project: path.into(),
            }),
            ProjectLayerError::OverBudget { source, .. } => Some(NextStep::RaiseMemoryBudget {
                needed: source.needed,
            }),
            ProjectLayerError::Layer(_) | ProjectLayerError::Store(_) => None,
        }
    }
}

/// The vectors of every item (in item order) from the project's current embedding.
pub fn project_vectors(
    store: &Store,
) -> Result<(String, usize, Vec<f32>, Vec<String>), ProjectLayerError> {
    let path = store.path().display().to_string();
    let embedding = store
        .embedding()?
        .ok_or_else(|| ProjectLayerError::NotEmbedded { path: path.clone() })?;
    let items = store.items()?;
    let mut vectors = Vec::with_capacity(items.len() * embedding.dim);
    let mut texts = Vec::with_capacity(items.len());
    let mut missing = 0;
    for item in &items {
        let text = item_text(item);
        match store.cached_vector(&embedding.model_id, &text_hash(&text))? {
            Some(v) if v.len() == embedding.dim => vectors.extend(v),
            _ => missing += 1,
        }
        texts.push(text);
    }
    if missing > 0 {
        return Err(ProjectLayerError::MissingVectors {
            path,
            missing,
            items: items.len(),
            model: embedding.name,
        });
    }
    Ok((embedding.model_id, embedding.dim, vectors, texts))
}

/// What layering `items` vectors of `dim` floats holds at its peak, about: the vectors, the
/// reduced and normalised copies the sweep clusters, and each item's text for the names.
pub fn layering_bytes(items: u64, dim: usize) -> u64 {
    const TEXT_BYTES: u64 = 200;
    items * (3 * dim as u64 * 4 + TEXT_BYTES)
}

/// Layers the project's items and stores the run; returns its id and the run. A catalogue
/// whose layering does not fit the process's [`MemoryBudget`] is refused before any work.
pub fn layer_project(
    store: &mut Store,
    params: &LayerParams,
    job: &JobContext,
) -> Result<(i64, LayerRun), ProjectLayerError> {
    let info = store.info()?;
    if let Some(embedding) = &info.embedding {
        let what = format!(
            "layering {} items of {} dimensions",
            info.items, embedding.dim
        );
        MemoryBudget::default()
            .check(what, layering_bytes(info.items, embedding.dim))
            .map_err(|source| ProjectLayerError::OverBudget {
                path: store.path().display().to_string(),
                source,
            })?;
    }
    job.progress("loading vectors", 0, 1);
    let (model_id, dim, vectors, texts) = project_vectors(store)?;
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let run = build_layers(&vectors, dim, &text_refs, params, job)?;
    job.check().map_err(LayerError::from)?;
    let keys = store.item_keys()?;
    let run_id = store.save_layer_run(&model_id, &keys, &run)?;
    Ok((run_id, run))
}
