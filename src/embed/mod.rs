//! Item embeddings, computed in-process.
//!
//! [`BertSentenceEmbedder`] runs a BERT-family sentence-transformer with candle
//! exactly as sentence-transformers does (masked mean pooling, L2 normalisation,
//! 256 tokens, batches padded to their longest member), so vectors match what
//! the Python stack would produce. [`resolve`] finds the model: an explicit
//! folder, the Hugging Face cache, or a download.

mod bert;
mod bert_config;
mod bert_model;
mod choose;
mod error;
mod kernels;
mod lsa;
mod project;
pub mod resolve;

pub use bert::BertSentenceEmbedder;
pub use choose::{
    ChosenEmbedder, EmbedWarning, EmbedderChoice, EmbedderRequest, MULTILINGUAL_MODEL,
    ModelQueryRequest, UNKNOWN_TOKEN_WARNING, choose_embedder,
};
pub use error::EmbedError;
pub use lsa::{LSA_DIMS, LsaEmbedder};
pub use project::{EmbedSummary, ProjectEmbedError, embed_project, item_text, text_hash};

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crate::pipeline::JobContext;

/// Turns texts into unit-length vectors.
pub trait Embedder: Send + Sync {
    /// A stable name for the model, part of every cached vector's key.
    fn model_id(&self) -> &str;
    /// What the user knows the model by (a repo id, a folder name, "LSA fallback").
    fn name(&self) -> &str;
    /// True for the LSA fallback, which is not a neural model.
    fn is_fallback(&self) -> bool {
        false
    }
    fn dim(&self) -> usize;
    /// One vector per text, in order.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// How many batches run at once: one per core (at most 8).
pub fn embed_workers() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 8)
}

/// Sets the process up for embedding; call it first thing in `main`, before any other
/// thread exists. Measured in `benches/embed.rs`:
/// - candle runs each operation on the calling thread only. Strata runs one model forward
///   per core on different batches instead ([`embed_batches`]): splitting every small
///   operation of a short-text batch over the cores cost more in synchronisation (candle's
///   spinning barrier threads competing with gemm's) than it gained.
/// - glibc's malloc keeps freed activation buffers instead of unmapping them and
///   page-faulting fresh zeroed pages back in for the next tensor (-8% run time).
pub fn configure_process() {
    // SAFETY: called at start-up while the process has a single thread, so no other
    // thread can be reading the environment or allocating.
    unsafe {
        std::env::set_var("CANDLE_NUM_THREADS", "1");
        std::env::set_var("RAYON_NUM_THREADS", "1");
        #[cfg(all(target_os = "linux", target_env = "gnu"))]
        {
            libc::mallopt(libc::M_MMAP_THRESHOLD, 512 << 20);
            libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
        }
    }
}

/// Embeds `texts` in batches of `batch_size`, shortest first (less padding per batch:
/// +70-85% throughput measured here), on `workers` threads that each take the next batch.
/// Each finished batch goes to `sink` on the calling thread as (input positions, vectors),
/// in the order batches finish, with progress reported. A cancel takes effect within a batch
/// per worker; batches finished by then are still handed to `sink` (a stopped run keeps
/// them), except after `sink` itself failed.
pub fn embed_batches<E: From<EmbedError>>(
    embedder: &dyn Embedder,
    texts: &[&str],
    batch_size: usize,
    workers: usize,
    job: &JobContext,
    mut sink: impl FnMut(&[usize], Vec<Vec<f32>>) -> Result<(), E>,
) -> Result<(), E> {
    let mut order: Vec<usize> = (0..texts.len()).collect();
    order.sort_by_key(|&i| texts[i].len());
    let batches: Vec<&[usize]> = order.chunks(batch_size.max(1)).collect();
    let total = texts.len() as u64;
    job.progress("embedding", 0, total);
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (sender, receiver) = std::sync::mpsc::channel();
        for worker in 0..workers.clamp(1, batches.len().max(1)) {
            let sender = sender.clone();
            let (next, stop, batches) = (&next, &stop, &batches);
            let spawned = std::thread::Builder::new()
                .name(format!("strata-embed-{worker}"))
                .spawn_scoped(scope, move || {
                    while !stop.load(Ordering::Relaxed) {
                        let Some(batch) = batches.get(next.fetch_add(1, Ordering::Relaxed)) else {
                            break;
                        };
                        let result = job.check().map_err(EmbedError::from).and_then(|()| {
                            let batch_texts: Vec<&str> = batch.iter().map(|&i| texts[i]).collect();
                            embedder.embed(&batch_texts)
                        });
                        let failed = result.is_err();
                        if sender.send((*batch, result)).is_err() || failed {
                            break;
                        }
                    }
                });
            if let Err(e) = spawned {
                stop.store(true, Ordering::Relaxed);
                return Err(E::from(EmbedError::Thread(e.to_string())));
            }
        }
        drop(sender);
        // After a cancel or a failed batch, the other workers' finished batches are still
        // stored (each stops within its current batch); after a failed store, nothing more is.
        let mut done = 0u64;
        let mut first_error: Option<E> = None;
        let mut storing = true;
        for (batch, result) in receiver {
            match result {
                Ok(vectors) if storing => {
                    if let Err(e) = sink(batch, vectors) {
                        stop.store(true, Ordering::Relaxed);
                        first_error.get_or_insert(e);
                        storing = false;
                    } else {
                        done += batch.len() as u64;
                        job.progress("embedding", done, total);
                    }
                }
                Ok(_) => {}
                Err(e) => {
                    stop.store(true, Ordering::Relaxed);
                    first_error.get_or_insert(E::from(e));
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    })
}

/// Embeds `texts` (see [`embed_batches`]); the result is in the input order.
pub fn embed_all(
    embedder: &dyn Embedder,
    texts: &[&str],
    batch_size: usize,
    workers: usize,
    job: &JobContext,
) -> Result<Vec<Vec<f32>>, EmbedError> {
    let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
    embed_batches(
        embedder,
        texts,
        batch_size,
        workers,
        job,
        |positions, vectors| {
            for (&i, v) in positions.iter().zip(vectors) {
                out[i] = v;
            }
            Ok::<_, EmbedError>(())
        },
    )?;
    Ok(out)
}
