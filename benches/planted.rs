//! Automatic k on planted families (issue 16): 24 generated catalogues of 5–8 product families
//! (`common/planted_families.rs`, 30–60 titles each) embedded with the real model and layered
//! with the default settings. Prints, per catalogue, the chosen k against the number of families
//! and the adjusted Rand index against the families, then how many reach the ARI ≥ 0.9.
//!
//! Run: `cargo bench --bench planted` (the model from `--model-dir` or `STRATA_MODEL_DIR`).
//! `--tolerance T` and `--restarts N` try other settings of the k rule; `--dump DIR` also writes
//! each catalogue's vectors (`seed-N.f32`, little-endian, 384 per title) and families
//! (`seed-N.families`, one per line) for trying other rules in Python.

#[path = "common/planted_families.rs"]
mod planted_families;

use std::path::PathBuf;

use strata::embed::{BertSentenceEmbedder, Embedder, configure_process};
use strata::layers::{LayerParams, adjusted_rand_index, build_layers};
use strata::pipeline::JobContext;

/// The catalogues: seeds 1–24, 5 to 8 families in turn.
const CATALOGUES: u64 = 24;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("planted-families benchmark: run it with `cargo bench --bench planted`");
        return;
    }
    configure_process();
    let dir = arg("--model-dir")
        .or_else(|| std::env::var("STRATA_MODEL_DIR").ok())
        .map(PathBuf::from)
        .expect("--model-dir or STRATA_MODEL_DIR");
    let model = BertSentenceEmbedder::load(&dir, "all-MiniLM-L6-v2").expect("model");
    let defaults = LayerParams::default();
    let params = LayerParams {
        k_tolerance: arg("--tolerance")
            .map(|t| t.parse().expect("--tolerance T"))
            .unwrap_or(defaults.k_tolerance),
        restarts: arg("--restarts")
            .map(|r| r.parse().expect("--restarts N"))
            .unwrap_or(defaults.restarts),
        ..defaults
    };
    println!(
        "k tolerance {}, {} restarts per k",
        params.k_tolerance, params.restarts
    );
    let mut aris = Vec::new();
    for seed in 1..=CATALOGUES {
        let families = 5 + ((seed - 1) % 4) as usize;
        let (titles, truth) = planted_families::planted_families(seed, families);
        let refs: Vec<&str> = titles.iter().map(String::as_str).collect();
        let vectors = model.embed(&refs).expect("embed").concat();
        if let Some(dir) = arg("--dump").map(PathBuf::from) {
            std::fs::create_dir_all(&dir).expect("--dump DIR");
            let bytes: Vec<u8> = vectors.iter().flat_map(|v| v.to_le_bytes()).collect();
            std::fs::write(dir.join(format!("seed-{seed}.f32")), bytes).expect("dump");
            let families: Vec<String> = truth.iter().map(usize::to_string).collect();
            std::fs::write(
                dir.join(format!("seed-{seed}.families")),
                families.join("\n") + "\n",
            )
            .expect("dump");
        }
        let run = build_layers(&vectors, model.dim(), &refs, &params, &JobContext::silent())
            .expect("layers");
        let ari = adjusted_rand_index(&truth, &run.item_layer);
        let best = run
            .curve
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or(run.k, |&(k, _)| k);
        println!(
            "seed {seed:>2}: {families} families, {:>3} titles: k = {:>2} (highest silhouette at \
             {best:>2}), ARI {ari:.3}",
            titles.len(),
            run.k
        );
        aris.push(ari);
    }
    let mean = aris.iter().sum::<f64>() / aris.len() as f64;
    let recovered = aris.iter().filter(|&&a| a >= 0.9).count();
    println!(
        "mean ARI {mean:.3}; {recovered} of {} catalogues at ARI ≥ 0.9",
        aris.len()
    );
}
