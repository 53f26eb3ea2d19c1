//! The embedding cache in the project (issue #3): nothing is embedded twice, an edit
//! is re-embedded, two models' vectors live side by side, and a stopped run keeps
//! its finished batches. Uses the real model (scripts/test sets STRATA_MODEL_DIR).
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use common::{data, import};
use strata::embed::{
    BertSentenceEmbedder, EmbedError, Embedder, ProjectEmbedError, embed_project, item_text,
    text_hash,
};
use strata::import::ImportKind;
use strata::pipeline::{JobContext, Progress};
use strata::store::Store;

fn model() -> BertSentenceEmbedder {
    let dir = std::env::var_os("STRATA_MODEL_DIR").map(PathBuf::from).expect(
        "these tests need the real model: run scripts/test (it fetches it) or set STRATA_MODEL_DIR",
    );
    BertSentenceEmbedder::load(&dir, "all-MiniLM-L6-v2").unwrap()
}

/// The real model, counting how many texts it is asked to embed; optionally under another id.
struct Counting<'a> {
    inner: &'a dyn Embedder,
    texts: AtomicUsize,
    model_id: Option<&'static str>,
    /// Set as the first batch starts: the user pressing Cancel mid-run.
    cancel_on_first_batch: Option<&'a AtomicBool>,
}

impl<'a> Counting<'a> {
    fn new(inner: &'a dyn Embedder) -> Self {
        Self {
            inner,
            texts: AtomicUsize::new(0),
            model_id: None,
            cancel_on_first_batch: None,
        }
    }
    fn count(&self) -> usize {
        self.texts.load(Ordering::Relaxed)
    }
}

impl Embedder for Counting<'_> {
    fn model_id(&self) -> &str {
        self.model_id.unwrap_or_else(|| self.inner.model_id())
    }
    fn name(&self) -> &str {
        self.inner.name()
    }
    fn dim(&self) -> usize {
        self.inner.dim()
    }
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if let Some(cancel) = self.cancel_on_first_batch {
            cancel.store(true, Ordering::Relaxed);
        }
        self.texts.fetch_add(texts.len(), Ordering::Relaxed);
        self.inner.embed(texts)
    }
}

fn shop() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("p.strata")).unwrap();
    import(&mut store, ImportKind::Items, data("shop_items.csv")).unwrap();
    (dir, store)
}

#[test]
fn unchanged_catalogue_calls_the_model_zero_times_and_an_edit_once() {
    let real = model();
    let (dir, mut store) = shop();
    let counting = Counting::new(&real);
    let first = embed_project(&mut store, &counting, 2, &JobContext::silent()).unwrap();
    assert_eq!((first.items, first.embedded, first.from_cache), (5, 5, 0));
    assert_eq!(counting.count(), 5);

    let again = Counting::new(&real);
    let second = embed_project(&mut store, &again, 2, &JobContext::silent()).unwrap();
    assert_eq!((second.embedded, second.from_cache), (0, 5));
    assert_eq!(
        again.count(),
        0,
        "an unchanged catalogue must not reach the model"
    );

    // Edit one item's title and import again: exactly that item is embedded.
    let edited = dir.path().join("items.csv");
    let csv = std::fs::read_to_string(data("shop_items.csv"))
        .unwrap()
        .replace("Enamel mug", "Enamel camping mug");
    std::fs::write(&edited, csv).unwrap();
    import(&mut store, ImportKind::Items, &edited).unwrap();
    let after_edit = Counting::new(&real);
    let third = embed_project(&mut store, &after_edit, 2, &JobContext::silent()).unwrap();
    assert_eq!((third.embedded, third.from_cache), (1, 4));
    assert_eq!(after_edit.count(), 1);

    // The cached vector is the model's vector of the item's text.
    let mug = store.item("A101").unwrap().unwrap();
    let text = item_text(&mug);
    assert_eq!(
        text,
        "Enamel camping mug. Kitchen. Camping mug with a blue rim"
    );
    let cached = store
        .cached_vector(real.model_id(), &text_hash(&text))
        .unwrap()
        .unwrap();
    let fresh = &real.embed(&[&text]).unwrap()[0];
    let diff = cached
        .iter()
        .zip(fresh)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0f32, f32::max);
    assert!(diff <= 1e-6, "{diff}");
}

#[test]
fn switching_models_keeps_both_sets() {
    let real = model();
    let (_dir, mut store) = shop();
    embed_project(&mut store, &Counting::new(&real), 8, &JobContext::silent()).unwrap();
    let mut other = Counting::new(&real);
    other.model_id = Some("another-model");
    let summary = embed_project(&mut store, &other, 8, &JobContext::silent()).unwrap();
    assert_eq!(summary.embedded, 5);
    assert_eq!(store.cached_vector_count(real.model_id()).unwrap(), 5);
    assert_eq!(store.cached_vector_count("another-model").unwrap(), 5);
    let back = Counting::new(&real);
    embed_project(&mut store, &back, 8, &JobContext::silent()).unwrap();
    assert_eq!(back.count(), 0);
}

#[test]
fn a_stopped_run_keeps_finished_batches_and_the_next_embeds_the_rest() {
    let real = model();
    let (_dir, mut store) = shop();
    let cancel = AtomicBool::new(false);
    // Cancel while the first batches run, as a closed app or a stopped job would: the third
    // batch (of 2 texts) never starts; every batch that finished is stored.
    let mut first = Counting::new(&real);
    first.cancel_on_first_batch = Some(&cancel);
    let err = embed_project(
        &mut store,
        &first,
        2,
        &JobContext::new(&|_: Progress| {}, &cancel),
    )
    .unwrap_err();
    assert!(
        matches!(err, ProjectEmbedError::Embed(EmbedError::Cancelled(_))),
        "{err}"
    );
    let stored = store.cached_vector_count(real.model_id()).unwrap() as usize;
    assert_eq!(stored, first.count(), "every finished batch is kept");
    assert!((2..=4).contains(&stored), "{stored}");
    let rest = Counting::new(&real);
    let summary = embed_project(&mut store, &rest, 2, &JobContext::silent()).unwrap();
    assert_eq!(
        (summary.embedded, summary.from_cache, rest.count()),
        (5 - stored as u64, stored as u64, 5 - stored)
    );
}

#[test]
fn the_same_model_from_another_folder_shares_the_cache() {
    let real = model();
    let copy = tempfile::tempdir().unwrap();
    let dir = PathBuf::from(std::env::var_os("STRATA_MODEL_DIR").unwrap());
    for file in strata::embed::resolve::MODEL_FILES {
        std::os::unix::fs::symlink(dir.join(file), copy.path().join(file)).unwrap();
    }
    let elsewhere = BertSentenceEmbedder::load(copy.path(), "model").unwrap();
    assert_eq!(elsewhere.model_id(), real.model_id());
    assert!(real.model_id().starts_with("sha256:"));
}
