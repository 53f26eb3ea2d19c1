//! Embedding a whole project, through the cache.

use std::time::Instant;

use serde::Serialize;
use sha2::Digest;

use super::{EmbedError, Embedder, embed_batches, embed_workers};
use crate::pipeline::JobContext;
use crate::store::{EmbeddingInfo, ItemRow, Store, StoreError, TextHash};

/// The text an item is embedded from: title, category and description, in that order.
pub fn item_text(item: &ItemRow) -> String {
    [
        item.title.trim(),
        item.category.trim(),
        item.description.trim(),
    ]
    .into_iter()
    .filter(|part| !part.is_empty())
    .collect::<Vec<_>>()
    .join(". ")
}

pub fn text_hash(text: &str) -> TextHash {
    sha2::Sha256::digest(text.as_bytes()).into()
}

/// What [`embed_project`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct EmbedSummary {
    pub model_id: String,
    pub model_name: String,
    /// True when the LSA fallback made the vectors, not a neural model.
    pub fallback: bool,
    pub items: u64,
    /// Distinct texts the model was run on.
    pub embedded: u64,
    /// Items whose vector came from the cache.
    pub from_cache: u64,
    pub seconds: f64,
    /// Texts embedded per second (0 when all came from the cache).
    pub sentences_per_s: f64,
}

/// Why a project could not be embedded.
#[derive(Debug, thiserror::Error)]
pub enum ProjectEmbedError {
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl crate::pipeline::JobError for ProjectEmbedError {
    fn is_cancelled(&self) -> bool {
        matches!(self, ProjectEmbedError::Embed(EmbedError::Cancelled(_)))
    }

    fn next_step(&self) -> Option<crate::pipeline::NextStep> {
        match self {
            ProjectEmbedError::Embed(e) => e.next_step(),
            ProjectEmbedError::Store(_) => None,
        }
    }
}

/// Embeds every item whose text is not cached for this model, in batches of `batch_size`
/// ([`embed_batches`]), storing each batch as it finishes (a cancelled or killed run keeps
/// them; the next run embeds only the rest).
pub fn embed_project(
    store: &mut Store,
    embedder: &dyn Embedder,
    batch_size: usize,
    job: &JobContext,
) -> Result<EmbedSummary, ProjectEmbedError> {
    let started = Instant::now();
    let model_id = embedder.model_id().to_owned();
    let items = store.items()?;
    let mut missing: Vec<(TextHash, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut from_cache = 0u64;
    for item in &items {
        let text = item_text(item);
        let hash = text_hash(&text);
        if store.cached_vector(&model_id, &hash)?.is_some() {
            from_cache += 1;
        } else if seen.insert(hash) {
            missing.push((hash, text));
        }
    }
    let texts: Vec<&str> = missing.iter().map(|(_, t)| t.as_str()).collect();
    embed_batches(
        embedder,
        &texts,
        batch_size,
        embed_workers(),
        job,
        |positions, vectors| {
            let rows: Vec<(TextHash, Vec<f32>)> = positions
                .iter()
                .map(|&i| missing[i].0)
                .zip(vectors)
                .collect();
            store
                .store_vectors(&model_id, &rows)
                .map_err(ProjectEmbedError::from)
        },
    )?;
    store.set_embedding(&EmbeddingInfo {
        model_id: model_id.clone(),
        name: embedder.name().to_owned(),
        dim: embedder.dim(),
        fallback: embedder.is_fallback(),
    })?;
    let total = missing.len() as u64;
    let seconds = started.elapsed().as_secs_f64();
    Ok(EmbedSummary {
        model_id,
        model_name: embedder.name().to_owned(),
        fallback: embedder.is_fallback(),
        items: items.len() as u64,
        embedded: total,
        from_cache,
        seconds,
        sentences_per_s: if total == 0 {
            0.0
        } else {
            total as f64 / seconds
        },
    })
}
