//! Recommendation benchmark (issue #5), against the absolute targets:
//! recommendations for every Online Retail customer in under 1 s, and the whole evaluation of
//! both shared datasets (baselines and validation tuning included) in under 60 s.
//!
//! Run: `cargo bench --bench recommend`. Needs the model (`--model-dir` or `STRATA_MODEL_DIR`);
//! MovieLens is read from `../shared/data/movielens-small` (`--movielens DIR`), never committed.
//! Each project is imported, embedded and layered first (not timed). Online Retail's lists are
//! timed before its evaluation and again with the settings it chose.

use std::path::{Path, PathBuf};
use std::time::Instant;

use strata::embed::{BertSentenceEmbedder, configure_process, embed_project};
use strata::import::{ImportKind, ImportRequest, run_import};
use strata::layers::{LayerParams, layer_project};
use strata::pipeline::JobContext;
use strata::recommend::{ProfileParams, ProjectRecommender, Weighting, evaluate_project};
use strata::store::Store;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Times every customer's lists of `shop` (and, apart, loading and fitting the model).
fn every_customers_lists(shop: &Store, profile: &ProfileParams, settings: &str) {
    let started = Instant::now();
    let recommender =
        ProjectRecommender::load(shop, profile.clone(), 5, &JobContext::silent()).expect("load");
    let load = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let all = recommender.for_all();
    let lists = started.elapsed().as_secs_f64();
    let shown: usize = all.iter().map(|r| r.merged.len()).sum();
    println!(
        "Online Retail, {settings}: recommendations for {} customers ({shown} merged-list items) in {lists:.3} s (target < 1 s); loading and fitting the model {load:.2} s",
        all.len()
    );
}

/// A project of `path` imported as `kind`, embedded and layered.
fn layered(kind: ImportKind, path: &Path, dir: &Path, model: &BertSentenceEmbedder) -> Store {
    let mut store = Store::open(dir.join(format!("{kind:?}.strata"))).expect("project");
    let request = ImportRequest {
        kind,
        path: path.to_path_buf(),
        overrides: vec![],
        also: Vec::new(),
        options: Default::default(),
    };
    let silent = JobContext::silent();
    run_import(&mut store, &request, &silent).expect("import");
    embed_project(&mut store, model, 32, &silent).expect("embed");
    layer_project(&mut store, &LayerParams::default(), &silent).expect("layers");
    store
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("recommendation benchmark: run it with `cargo bench --bench recommend`");
        return;
    }
    configure_process();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model_dir = arg("--model-dir")
        .or_else(|| std::env::var("STRATA_MODEL_DIR").ok())
        .map(PathBuf::from)
        .expect("--model-dir or STRATA_MODEL_DIR");
    let movielens = arg("--movielens").map_or_else(
        || root.join("../shared/data/movielens-small"),
        PathBuf::from,
    );
    let model = BertSentenceEmbedder::load(&model_dir, "all-MiniLM-L6-v2").expect("model");
    let dir = tempfile::tempdir().expect("temp dir");
    let silent = JobContext::silent();

    let mut shop = layered(
        ImportKind::Orders,
        &root.join("tests/data/online_retail.csv.gz"),
        dir.path(),
        &model,
    );
    // Both projects are prepared before anything is timed.
    let mut films = movielens
        .join("ratings.csv")
        .exists()
        .then(|| layered(ImportKind::MovieLens, &movielens, dir.path(), &model));
    drop(model);
    let profile = ProfileParams::default();
    every_customers_lists(&shop, &profile, "before any evaluation");

    let started = Instant::now();
    let evaluation = evaluate_project(&mut shop, &profile, &silent).expect("evaluate");
    let shop_seconds = started.elapsed().as_secs_f64();
    println!(
        "Online Retail: evaluation of {} users in {shop_seconds:.1} s",
        evaluation.users
    );
    every_customers_lists(&shop, &profile, "with the settings evaluation chose");
    let mut total = shop_seconds;
    if let Some(films) = &mut films {
        let rated = ProfileParams {
            weighting: Weighting::Rating,
            ..ProfileParams::default()
        };
        let started = Instant::now();
        let evaluation = evaluate_project(films, &rated, &silent).expect("evaluate");
        let seconds = started.elapsed().as_secs_f64();
        total += seconds;
        println!(
            "MovieLens: evaluation of {} users in {seconds:.1} s",
            evaluation.users
        );
    } else {
        println!("MovieLens skipped: no {}", movielens.display());
    }
    println!("both evaluations: {total:.1} s (target < 60 s)");
}
