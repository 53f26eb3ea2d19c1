//! Embedding benchmark (issue #3): the MovieLens titles (with genres) and the Online Retail
//! descriptions, embedded by Strata and by sentence-transformers (`embed_peer.py`, PyTorch)
//! in the same run, on the same texts, cores and model.
//!
//! Run: `cargo bench --bench embed`. Needs the model (`--model-dir` or `STRATA_MODEL_DIR`)
//! and, for the peer, a Python with sentence-transformers (`--python`, default
//! `~/.cache/strata-peers/venv/bin/python`; `../shared/peers/README.md` says how to make it).
//! Options: `--movielens DIR`, `--orders FILE`, `--peer FILE`, `--batch-size N`, `--rounds N`.
//! The texts are exactly what `strata embed` embeds: each item's text after import.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use strata::embed::{
    BertSentenceEmbedder, Embedder, configure_process, embed_all, embed_workers, item_text,
};
use strata::import::{ImportKind, ImportRequest, run_import};
use strata::pipeline::JobContext;
use strata::store::Store;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// The distinct item texts of `path` imported as `kind`, one line each (the peer reads lines).
fn texts(kind: ImportKind, path: &Path, dir: &Path) -> Vec<String> {
    let project = dir.join(format!("{kind:?}.strata"));
    let mut store = Store::open(&project).expect("open project");
    let request = ImportRequest {
        kind,
        path: path.to_path_buf(),
        overrides: vec![],
        also: Vec::new(),
        options: Default::default(),
    };
    run_import(&mut store, &request, &JobContext::silent()).expect("import");
    let mut texts: Vec<String> = store
        .items()
        .expect("items")
        .iter()
        .map(item_text)
        .collect();
    texts.sort();
    texts.dedup();
    texts
}

/// Best of `rounds` timed runs after a warm-up, in sentences per second.
fn run_strata(
    embedder: &BertSentenceEmbedder,
    texts: &[String],
    batch: usize,
    rounds: usize,
) -> f64 {
    let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
    let job = JobContext::silent();
    embed_all(
        embedder,
        &texts[..texts.len().min(64)],
        batch,
        embed_workers(),
        &job,
    )
    .expect("warm-up");
    let mut best = f64::MAX;
    for _ in 0..rounds {
        let started = Instant::now();
        let vectors = embed_all(embedder, &texts, batch, embed_workers(), &job).expect("embed");
        best = best.min(started.elapsed().as_secs_f64());
        assert_eq!(vectors.len(), texts.len());
        assert_eq!(vectors[0].len(), embedder.dim());
    }
    texts.len() as f64 / best
}

fn run_peer(python: &str, peer: &Path, model: &Path, file: &Path, rounds: usize) -> Option<f64> {
    let out = Command::new(python)
        .arg(peer)
        .arg("--model-dir")
        .arg(model)
        .arg("--texts")
        .arg(file)
        .args(["--threads", &embed_workers().to_string()])
        .args(["--repeat", &rounds.to_string()])
        .output()
        .ok()?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprintln!("peer failed: {}", stderr.lines().last().unwrap_or(""));
        return None;
    }
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).ok()?;
    json["sent_per_s"].as_f64()
}

/// candle's single-threaded sgemm on the feed-forward shape of a batch of 32 short texts,
/// in GFLOP/s: the ceiling the model's matrix multiplies run against on one core.
fn sgemm_gflops() -> f64 {
    use candle_core::{Device, Tensor};
    let (m, k, n) = (480, 384, 1536);
    let a = Tensor::randn(0f32, 1., (m, k), &Device::Cpu).expect("tensor");
    let b = Tensor::randn(0f32, 1., (k, n), &Device::Cpu).expect("tensor");
    let rounds = 200;
    a.matmul(&b).expect("matmul");
    let started = Instant::now();
    for _ in 0..rounds {
        a.matmul(&b).expect("matmul");
    }
    let seconds = started.elapsed().as_secs_f64() / rounds as f64;
    2.0 * (m * k * n) as f64 / seconds / 1e9
}

fn main() {
    // `cargo test --all-targets` builds and runs this too; only `cargo bench` passes --bench.
    if !std::env::args().any(|a| a == "--bench") {
        println!("embedding benchmark: run it with `cargo bench --bench embed`");
        return;
    }
    configure_process();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    let model = arg("--model-dir")
        .or_else(|| std::env::var("STRATA_MODEL_DIR").ok())
        .map(PathBuf::from)
        .expect("--model-dir or STRATA_MODEL_DIR");
    let movielens =
        arg("--movielens").map_or_else(|| shared.join("data/movielens-small"), PathBuf::from);
    let orders = arg("--orders").map_or_else(
        || root.join("tests/data/online_retail.csv.gz"),
        PathBuf::from,
    );
    let peer = arg("--peer").map_or_else(|| shared.join("peers/embed_peer.py"), PathBuf::from);
    let python = arg("--python").unwrap_or_else(|| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/strata-peers/venv/bin/python")
    });
    let batch: usize = arg("--batch-size")
        .and_then(|b| b.parse().ok())
        .unwrap_or(32);
    let rounds: usize = arg("--rounds").and_then(|r| r.parse().ok()).unwrap_or(3);
    let dir = tempfile::tempdir().expect("temp dir");
    let embedder = BertSentenceEmbedder::load(&model, "all-MiniLM-L6-v2").expect("model");
    println!(
        "embedding benchmark: {} workers, batch {batch}, best of {rounds}",
        embed_workers()
    );
    println!(
        "  candle sgemm, one core, 480x384 . 384x1536: {:.0} GFLOP/s",
        sgemm_gflops()
    );
    let mut sets = Vec::new();
    if movielens.is_dir() {
        sets.push((
            "MovieLens titles + genres",
            ImportKind::MovieLens,
            movielens,
        ));
    } else {
        println!("  MovieLens skipped: no {}", movielens.display());
    }
    sets.push(("Online Retail descriptions", ImportKind::Orders, orders));
    for (name, kind, path) in sets {
        let texts = texts(kind, &path, dir.path());
        let file = dir.path().join(format!("{kind:?}.txt"));
        std::fs::write(&file, texts.join("\n") + "\n").expect("write texts");
        let ours = run_strata(&embedder, &texts, batch, rounds);
        let theirs = if peer.is_file() {
            run_peer(&python, &peer, &model, &file, rounds)
        } else {
            None
        };
        println!("{name} ({} texts)", texts.len());
        println!("  strata                 {ours:7.0} sentences/s");
        match theirs {
            Some(theirs) => {
                println!("  sentence-transformers  {theirs:7.0} sentences/s");
                println!(
                    "  ratio                  {:.2}x (target >= 1.5x)",
                    ours / theirs
                );
            }
            None => println!(
                "  sentence-transformers  not run (needs {python} with sentence-transformers)"
            ),
        }
    }
}
