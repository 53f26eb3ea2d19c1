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

/// Embeds `texts` in batches of `batch_size`, reporting progress and checking for a
/// cancel between batches. Texts are ordered by length first (less padding per batch:
/// +70-85% throughput measured here); the result is in the input order.
pub fn embed_all(
    embedder: &dyn Embedder,
    texts: &[&str],
    batch_size: usize,
    job: &JobContext,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
    let total = texts.len() as u64;
    let mut done = 0u64;
    for batch in order.chunks(batch_size.max(1)) {
        job.check()?;
        let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
        let vectors = embedder.embed(&batch_texts)?;
        for (&i, v) in batch.iter().zip(vectors) {
            out[i] = v;
        }
        done += batch.len() as u64;
        job.progress("embedding", done, total);
    }
    Ok(out)
}
