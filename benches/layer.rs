//! Layering benchmark (issue #4): the whole layering step (k sweep with silhouette, sub-layers,
//! names, quality, PCA) on the MovieLens and Online Retail item vectors and on a 100k-item set
//! (those vectors tiled with small noise), side by side with scikit-learn
//! (`../shared/peers/layer_peer.py`) on the same vectors, k range, sample and sub-layer count.
//!
//! Run: `cargo bench --bench layer`. Needs the model (`--model-dir` or `STRATA_MODEL_DIR`) and
//! a Python with scikit-learn (`--python`, default `~/.cache/strata-peers/venv/bin/python`).
//! Each set is then layered once more with the defaults of `strata layer` (10 runs per k, the
//! parsimonious k, sub-layers chosen per layer), the time a user waits.
//! Options: `--movielens DIR`, `--orders FILE`, `--peer FILE`, `--big N` (rows of the tiled set),
//! `--sweep-rows N` (k is chosen on a sample of N rows above N; the default is the app's).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use rand::{Rng, SeedableRng};
use strata::embed::{BertSentenceEmbedder, configure_process, embed_project};
use strata::import::{ImportKind, ImportRequest, run_import};
use strata::layers::{LayerParams, build_layers, project_vectors};
use strata::pipeline::JobContext;
use strata::store::Store;

const K_MIN: usize = 4;
const K_MAX: usize = 16;
const SAMPLE: usize = 3000;
const SUB: usize = 4;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Item vectors and texts of `path` imported as `kind` and embedded.
fn vectors(
    kind: ImportKind,
    path: &Path,
    dir: &Path,
    model: &BertSentenceEmbedder,
) -> (Vec<f32>, Vec<String>) {
    let mut store = Store::open(dir.join(format!("{kind:?}.strata"))).expect("project");
    let request = ImportRequest {
        kind,
        path: path.to_path_buf(),
        overrides: vec![],
        also: Vec::new(),
        options: Default::default(),
    };
    run_import(&mut store, &request, &JobContext::silent()).expect("import");
    embed_project(&mut store, model, 32, &JobContext::silent()).expect("embed");
    let (_, _, vectors, texts) = project_vectors(&store).expect("vectors");
    (vectors, texts)
}

/// `rows` rows drawn cyclically from `base`, each with N(0, 0.005²) noise per component
/// (about 0.1 in norm against unit vectors), renormalised.
fn tiled(base: &[f32], texts: &[String], d: usize, rows: usize) -> (Vec<f32>, Vec<String>) {
    let n = base.len() / d;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let mut out = Vec::with_capacity(rows * d);
    let mut out_texts = Vec::with_capacity(rows);
    for r in 0..rows {
        let row = &base[(r % n) * d..(r % n + 1) * d];
        let noisy: Vec<f32> = row
            .iter()
            .map(|v| {
                let (u1, u2): (f32, f32) = (rng.r#gen::<f32>().max(1e-7), rng.r#gen());
                v + 0.005 * (-2.0 * u1.ln()).sqrt() * (std::f32::consts::TAU * u2).cos()
            })
            .collect();
        let norm = noisy.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        out.extend(noisy.iter().map(|v| v / norm));
        out_texts.push(texts[r % n].clone());
    }
    (out, out_texts)
}

fn run_peer(python: &str, peer: &Path, file: &Path) -> Option<serde_json::Value> {
    let out = Command::new(python)
        .arg(peer)
        .arg("--vectors")
        .arg(file)
        .args([
            "--dim",
            "384",
            "--k-min",
            &K_MIN.to_string(),
            "--k-max",
            &K_MAX.to_string(),
        ])
        .args(["--sample", &SAMPLE.to_string(), "--sub", &SUB.to_string()])
        .env("OMP_NUM_THREADS", strata_threads().to_string())
        .output()
        .ok()?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        eprintln!("peer failed: {}", stderr.lines().last().unwrap_or(""));
        return None;
    }
    serde_json::from_slice(&out.stdout).ok()
}

fn strata_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("layering benchmark: run it with `cargo bench --bench layer`");
        return;
    }
    configure_process();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    let model_dir = arg("--model-dir")
        .or_else(|| std::env::var("STRATA_MODEL_DIR").ok())
        .map(PathBuf::from)
        .expect("--model-dir or STRATA_MODEL_DIR");
    let movielens =
        arg("--movielens").map_or_else(|| shared.join("data/movielens-small"), PathBuf::from);
    let orders = arg("--orders").map_or_else(
        || root.join("tests/data/online_retail.csv.gz"),
        PathBuf::from,
    );
    let peer = arg("--peer").map_or_else(|| shared.join("peers/layer_peer.py"), PathBuf::from);
    let python = arg("--python").unwrap_or_else(|| {
        let home = std::env::var("HOME").unwrap_or_default();
        format!("{home}/.cache/strata-peers/venv/bin/python")
    });
    let big: usize = arg("--big").and_then(|b| b.parse().ok()).unwrap_or(100_000);
    let model = BertSentenceEmbedder::load(&model_dir, "all-MiniLM-L6-v2").expect("model");
    let dir = tempfile::tempdir().expect("temp dir");
    println!(
        "layering benchmark: k {K_MIN}..={K_MAX}, silhouette sample {SAMPLE}, {SUB} sub-layers, {} threads each",
        strata_threads()
    );
    let mut sets: Vec<(String, Vec<f32>, Vec<String>)> = Vec::new();
    let (or_vectors, or_texts) = vectors(ImportKind::Orders, &orders, dir.path(), &model);
    let mut all = (or_vectors.clone(), or_texts.clone());
    sets.push(("Online Retail".to_owned(), or_vectors, or_texts));
    if movielens.is_dir() {
        let (ml_vectors, ml_texts) = vectors(ImportKind::MovieLens, &movielens, dir.path(), &model);
        all.0.extend(&ml_vectors);
        all.1.extend(ml_texts.iter().cloned());
        sets.push(("MovieLens".to_owned(), ml_vectors, ml_texts));
    } else {
        println!("  MovieLens skipped: no {}", movielens.display());
    }
    let (big_vectors, big_texts) = tiled(&all.0, &all.1, 384, big);
    sets.push((format!("{big} tiled with noise"), big_vectors, big_texts));
    let params = LayerParams {
        k: None,
        k_min: K_MIN,
        k_max: Some(K_MAX),
        sub: Some(SUB),
        seed: 0,
        sample: SAMPLE,
        // `--sweep-rows N` (default 20,000): above N items k is chosen on a sample of N.
        sweep_rows: arg("--sweep-rows")
            .and_then(|v| v.parse().ok())
            .unwrap_or(strata::layers::SWEEP_ROWS),
        // The peer's work: one k-means run per k, the highest silhouette.
        restarts: 1,
        k_tolerance: 0.0,
    };
    for (name, vectors, texts) in sets {
        let n = vectors.len() / 384;
        let file = dir.path().join("vectors.f32");
        let bytes: Vec<u8> = vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
        std::fs::write(&file, bytes).expect("write vectors");
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let started = Instant::now();
        let run =
            build_layers(&vectors, 384, &refs, &params, &JobContext::silent()).expect("layers");
        let ours = started.elapsed().as_secs_f64();
        let best = run
            .curve
            .iter()
            .map(|c| c.1)
            .fold(f64::NEG_INFINITY, f64::max);
        println!("{name} ({n} items)");
        println!(
            "  strata        {ours:7.2} s   best k {:>2}, silhouette {best:.4}",
            run.k
        );
        match peer
            .is_file()
            .then(|| run_peer(&python, &peer, &file))
            .flatten()
        {
            Some(json) => {
                let theirs = json["seconds_total"].as_f64().unwrap_or(f64::NAN);
                let their_best = json["best_silhouette"].as_f64().unwrap_or(f64::NAN);
                println!(
                    "  scikit-learn  {theirs:7.2} s   best k {:>2}, silhouette {their_best:.4}",
                    json["best_k"]
                );
                println!(
                    "  ratio         {:.2}x faster (target >= 3x); silhouette {:+.4} vs the peer (target >= -0.01)",
                    theirs / ours,
                    best - their_best
                );
            }
            None => println!("  scikit-learn  not run (needs {python} with scikit-learn)"),
        }
        // What a user's `strata layer` does: the defaults (10 runs per k, the smallest k
        // within the tolerance, sub-layers chosen per layer).
        let started = Instant::now();
        let run = build_layers(
            &vectors,
            384,
            &refs,
            &LayerParams {
                sweep_rows: params.sweep_rows,
                ..LayerParams::default()
            },
            &JobContext::silent(),
        )
        .expect("layers");
        println!(
            "  strata, the defaults ({} runs per k, k {}..={}): {:.2} s, k {}",
            run.params.restarts,
            run.params.k_min,
            run.curve.last().map_or(run.k, |c| c.0),
            started.elapsed().as_secs_f64(),
            run.k
        );
    }
}
