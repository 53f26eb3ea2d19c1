//! A living shop's day (issue 16): Online Retail without its last day is imported, embedded,
//! layered, evaluated and its recommender fitted and kept (not timed); then the last day's
//! orders are imported, only the new items embedded, and the layers updated. The benchmark
//! times each of those steps and then what stands between the update and the customers of that
//! day having new lists: loading the project with its kept fit extended to the new items, and
//! the lists of the customers whose histories changed. The target: those lists ready
//! within 1 s of the layers' update. A full refit is timed beside it, with how many of the
//! extended fit's recommendations it shares.
//!
//! Run: `cargo bench --bench incremental` (the model from `--model-dir` or `STRATA_MODEL_DIR`;
//! `--lsa` embeds with the LSA fallback instead).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use strata::embed::{
    BertSentenceEmbedder, LsaEmbedder, configure_process, embed_project, item_text,
};
use strata::import::{ImportKind, ImportRequest, run_import};
use strata::layers::{LayerParams, layer_changes, layer_project, update_project_layers};
use strata::pipeline::JobContext;
use strata::recommend::{ProfileParams, ProjectRecommender, evaluate_project};
use strata::store::Store;

/// Online Retail's last day: its orders are the day a living project appends.
const LAST_DAY: &str = "2011-12-09";

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Writes the orders before `day` and those from it on to two files, and returns them with the
/// customers of the second.
fn split_at_day(source: &Path, dir: &Path, day: &str) -> (PathBuf, PathBuf, BTreeSet<String>) {
    let file = std::fs::File::open(source).expect("Online Retail");
    let mut lines = BufReader::new(flate2::read::GzDecoder::new(file)).lines();
    let header = lines.next().expect("header").expect("header");
    let column = |name: &str| {
        header
            .split(',')
            .position(|c| c == name)
            .expect("Online Retail's header")
    };
    let (date, customer) = (column("InvoiceDate"), column("CustomerID"));
    let (before_path, day_path) = (dir.join("before.csv"), dir.join("day.csv"));
    let open = |path: &Path| {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("slice"));
        writeln!(out, "{header}").expect("slice");
        out
    };
    let (mut before, mut last) = (open(&before_path), open(&day_path));
    let mut customers = BTreeSet::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(std::io::Cursor::new(Vec::new()));
    for line in lines {
        let line = line.expect("Online Retail");
        // Descriptions may hold quoted commas: read the fields with a CSV reader.
        *reader.get_mut() = std::io::Cursor::new(line.clone().into_bytes());
        let record = reader.records().next().expect("row").expect("row");
        if &record[date] < day {
            writeln!(before, "{line}").expect("slice");
        } else {
            writeln!(last, "{line}").expect("slice");
            if !record[customer].is_empty() {
                customers.insert(record[customer].to_owned());
            }
        }
    }
    before.flush().expect("slice");
    last.flush().expect("slice");
    (before_path, day_path, customers)
}

fn import(store: &mut Store, path: &Path) {
    let request = ImportRequest {
        kind: ImportKind::Orders,
        path: path.to_path_buf(),
        overrides: vec![],
        also: Vec::new(),
        options: Default::default(),
    };
    run_import(store, &request, &JobContext::silent()).expect("import");
}

/// Embeds the project's items that are not embedded yet (all of them with LSA, which is fitted
/// on the whole catalogue), returning how many were embedded.
fn embed(store: &mut Store, model: Option<&BertSentenceEmbedder>) -> u64 {
    let silent = JobContext::silent();
    let summary = match model {
        Some(model) => embed_project(store, model, 32, &silent),
        None => {
            let texts: Vec<String> = store
                .items()
                .expect("items")
                .iter()
                .map(item_text)
                .collect();
            let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
            let lsa = LsaEmbedder::fit(&refs).expect("LSA");
            embed_project(store, &lsa, 64, &silent)
        }
    }
    .expect("embed");
    summary.embedded
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("incremental benchmark: run it with `cargo bench --bench incremental`");
        return;
    }
    configure_process();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let model = if std::env::args().any(|a| a == "--lsa") {
        None
    } else {
        let dir = arg("--model-dir")
            .or_else(|| std::env::var("STRATA_MODEL_DIR").ok())
            .map(PathBuf::from)
            .expect("--model-dir or STRATA_MODEL_DIR (or --lsa)");
        Some(BertSentenceEmbedder::load(&dir, "all-MiniLM-L6-v2").expect("model"))
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let (before, day, customers) = split_at_day(
        &root.join("tests/data/online_retail.csv.gz"),
        dir.path(),
        LAST_DAY,
    );
    let silent = JobContext::silent();
    let profile = ProfileParams::default();

    // The project as it stood the day before (not timed).
    let mut shop = Store::open(dir.path().join("shop.strata")).expect("project");
    import(&mut shop, &before);
    embed(&mut shop, model.as_ref());
    let (first_run, _) =
        layer_project(&mut shop, &LayerParams::default(), &silent).expect("layers");
    evaluate_project(&mut shop, &profile, &silent).expect("evaluate");
    // Lists for everyone, as the shop's last export made them: the fit is kept.
    let before_day = ProjectRecommender::load(&shop, profile.clone(), 5, &silent).expect("fit");
    assert!(before_day.keep(&mut shop).expect("keep"), "the fit is kept");
    drop(before_day);

    // The day's orders.
    let started = Instant::now();
    import(&mut shop, &day);
    let import_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let embedded = embed(&mut shop, model.as_ref());
    let embed_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let (update_run, updated) = update_project_layers(&mut shop, &silent).expect("update");
    let update_seconds = started.elapsed().as_secs_f64();
    let changes = layer_changes(&shop, first_run, update_run).expect("changes");
    println!(
        "Online Retail's last day ({LAST_DAY}, {} customers): import {import_seconds:.2} s; \
         {embedded} items embedded in {embed_seconds:.2} s; layers updated in {update_seconds:.2} s \
         ({} items added, {} of {} old items kept their layer, k {})",
        customers.len(),
        changes.added,
        changes.kept,
        changes.common,
        updated.k
    );

    // From the update to the day's customers' new lists: the fit kept before the day is
    // extended to the day's new items, and only the customers whose histories changed get lists.
    let started = Instant::now();
    let recommender =
        ProjectRecommender::load_updated(&shop, profile.clone(), 5, &silent).expect("recommender");
    let load_seconds = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let lists = recommender.for_users(&recommender.changed_users);
    let lists_seconds = started.elapsed().as_secs_f64();
    let total = load_seconds + lists_seconds;
    let listed: BTreeSet<&str> = lists.iter().map(|l| l.user_id.as_str()).collect();
    let missed = customers
        .iter()
        .filter(|c| !listed.contains(c.as_str()) && recommender.user_index(c).is_ok())
        .count();
    println!(
        "the {} customers whose histories changed ({missed} more of the day's customers only \
         cancelled, which changes no history; fit {:?}): loading the project and the kept fit {load_seconds:.2} s + their lists \
         {lists_seconds:.3} s = {total:.2} s after the update (target < 1 s: {})",
        lists.len(),
        recommender.origin,
        if total < 1.0 { "met" } else { "missed" }
    );

    // What a full refit would have given them, for comparison.
    let started = Instant::now();
    let refit = ProjectRecommender::load(&shop, profile, 5, &silent).expect("refit");
    let refit_lists = refit.for_users(&refit.changed_users);
    let refit_seconds = started.elapsed().as_secs_f64();
    let (mut same, mut shown) = (0usize, 0usize);
    for (extended, full) in lists.iter().zip(&refit_lists) {
        let full_items: BTreeSet<&str> = full.merged.iter().map(|r| r.item_id.as_str()).collect();
        shown += extended.merged.len();
        same += extended
            .merged
            .iter()
            .filter(|r| full_items.contains(r.item_id.as_str()))
            .count();
    }
    println!(
        "a full refit instead: {refit_seconds:.2} s ({:?}); its merged lists hold {same} of the \
         extended fit's {shown} items ({:.1}%)",
        refit.origin,
        100.0 * same as f64 / shown.max(1) as f64
    );
}
