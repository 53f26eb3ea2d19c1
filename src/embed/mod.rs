//! Item embeddings, computed in-process.
//!
//! [`BertSentenceEmbedder`] runs a BERT-family sentence-transformer with candle
//! exactly as sentence-transformers does (masked mean pooling, L2 normalisation,
//! 256 tokens, batches padded to their longest member), so vectors match what
//! the Python stack would produce. [`resolve`] finds the model: an explicit
//! folder, the Hugging Face cache, or a download.

mod bert;
mod error;
mod project;
pub mod resolve;

pub use bert::BertSentenceEmbedder;
pub use error::EmbedError;
pub use project::{EmbedSummary, ProjectEmbedError, embed_project, item_text, text_hash};

use crate::pipeline::JobContext;

/// Turns texts into unit-length vectors.
pub trait Embedder: Send + Sync {
    /// A stable name for the model, part of every cached vector's key.
    fn model_id(&self) -> &str;
    fn dim(&self) -> usize;
    /// One vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// Embeds `texts` in batches of `batch_size`, shortest first (less padding per batch:
/// +70-85% throughput measured here), handing each batch to `sink` as (input positions,
/// vectors) and reporting progress; a cancel takes effect between batches.
pub fn embed_batches<E: From<EmbedError>>(
    embedder: &dyn Embedder,
    texts: &[&str],
    batch_size: usize,
    job: &JobContext,
    mut sink: impl FnMut(&[usize], Vec<Vec<f32>>) -> Result<(), E>,
) -> Result<(), E> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let total = texts.len() as u64;
    let mut done = 0u64;
    job.progress("embedding", 0, total);
    for batch in order.chunks(batch_size.max(1)) {
        job.check().map_err(EmbedError::from)?;
        let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
        sink(batch, embedder.embed(&batch_texts)?)?;
        done += batch.len() as u64;
        job.progress("embedding", done, total);
    }
    Ok(())
}

/// Embeds `texts` (see [`embed_batches`]); the result is in the input order.
pub fn embed_all(
    embedder: &dyn Embedder,
    texts: &[&str],
    batch_size: usize,
    job: &JobContext,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
    embed_batches(embedder, texts, batch_size, job, |positions, vectors| {
        for (&i, v) in positions.iter().zip(vectors) {
            out[i] = v;
        }
        Ok::<_, EmbedError>(())
    })?;
    Ok(out)
}
