//! Scale benchmark (issue 15): a seeded synthetic shop of 100,000 items, 50,000 customers and
//! 1,000,000 purchases, through the whole pipeline: import, LSA embedding, layers, fitting the
//! recommender, every customer's lists, one customer's lists, and `evaluate`. Prints each
//! step's time and the process's peak RSS, against the targets.
//!
//! Run: `cargo bench --bench scale` (options: `--items N`, `--users N`, `--purchases N`,
//! `--skip-evaluate`; `--items 30000` for the one-customer target at 30k items; `--keep FILE`
//! copies the finished project there, for `cargo bench --bench app -- --project FILE`). The
//! memory budget is the default (a quarter of physical memory) unless `STRATA_MEMORY_BUDGET`
//! sets it.
//!
//! The shop is `common/synthetic_shop.rs`'s (shared with `tests/scale.rs`).

use std::time::Instant;

use strata::embed::{LsaEmbedder, embed_project, item_text};
use strata::import::{ImportKind, ImportRequest, run_import};
use strata::layers::{LayerParams, layer_project};
use strata::pipeline::JobContext;
use strata::recommend::{ProfileParams, ProjectRecommender, evaluate_project};
use strata::store::Store;

#[path = "common/synthetic_shop.rs"]
mod synthetic_shop;
use synthetic_shop::write_shop;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn number(name: &str, default: usize) -> usize {
    arg(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Peak resident set size of this process so far (Linux), in MiB.
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("scale benchmark: run it with `cargo bench --bench scale`");
        return;
    }
    let items = number("--items", 100_000);
    let users = number("--users", 50_000);
    let purchases = number("--purchases", 1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    write_shop(dir.path(), items, users, purchases);
    println!(
        "scale: {items} items, {users} customers, {purchases} purchases (generated in {:.1} s, not timed below)",
        started.elapsed().as_secs_f64()
    );
    let silent = JobContext::silent();
    let whole = Instant::now();
    let step = |name: &str, started: Instant| {
        println!(
            "  {name:<28} {:>8.1} s   peak RSS {:>6.0} MiB",
            started.elapsed().as_secs_f64(),
            peak_rss_mib().unwrap_or(f64::NAN)
        );
    };

    let t = Instant::now();
    let mut store = Store::open(dir.path().join("shop.strata")).expect("project");
    for (kind, file) in [
        (ImportKind::Items, "items.csv"),
        (ImportKind::Interactions, "purchases.csv"),
    ] {
        run_import(
            &mut store,
            &ImportRequest::new(kind, dir.path().join(file)),
            &silent,
        )
        .expect("import");
    }
    step("import", t);

    let t = Instant::now();
    let texts: Vec<String> = store
        .items()
        .expect("items")
        .iter()
        .map(item_text)
        .collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let lsa = LsaEmbedder::fit(&refs).expect("LSA");
    drop(refs);
    drop(texts);
    embed_project(&mut store, &lsa, 256, &silent).expect("embed");
    step("LSA embedding", t);

    let t = Instant::now();
    layer_project(&mut store, &LayerParams::default(), &silent).expect("layers");
    step("layers", t);

    let t = Instant::now();
    let recommender = ProjectRecommender::load(&store, ProfileParams::default(), 5, &silent)
        .expect("recommender");
    let fit = t.elapsed().as_secs_f64();
    step("load + fit", t);
    let t = Instant::now();
    let one = recommender.lists(0);
    assert!(!one.merged.is_empty(), "no list for the first customer");
    step("one customer's lists", t);
    println!(
        "  one customer's lists, fit included: {:.1} s (target < 10 s at 30k items)",
        fit + t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let all = recommender.for_all();
    let lists = t.elapsed().as_secs_f64();
    step(&format!("all {} customers' lists", all.len()), t);
    println!("  fit + all lists: {:.1} s (target < 60 s)", fit + lists);
    drop((all, recommender));

    if !std::env::args().any(|a| a == "--skip-evaluate") {
        let t = Instant::now();
        let evaluation =
            evaluate_project(&mut store, &ProfileParams::default(), &silent).expect("evaluate");
        step("evaluate (target < 600 s)", t);
        for (method, m) in &evaluation.methods {
            println!("    {:<10} NDCG@10 {:.4}", method.name(), m.ndcg);
        }
        for note in &evaluation.notes {
            println!("    note: {note}");
        }
        let versus = &evaluation.versus_best_baseline;
        println!(
            "    strata minus {}: {:+.4} ± {:.4}; mix global {} + local {}; tuning users {:?}",
            versus.baseline,
            versus.ndcg_difference,
            versus.standard_error,
            evaluation.tuned.mix.global,
            evaluation.tuned.mix.local,
            evaluation.tuning_users
        );
    }
    println!(
        "whole pipeline {:.1} s (target < 900 s); peak RSS {:.0} MiB (target < 2048 MiB)",
        whole.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    if let Some(keep) = arg("--keep") {
        // Closing the last connection folds the write-ahead log into the one file.
        drop(store);
        std::fs::copy(dir.path().join("shop.strata"), &keep).expect("copy the project");
        println!("kept the project at {keep}");
    }
}
