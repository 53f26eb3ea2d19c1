//! Interest layers on real vectors from the real model (issue #4): planted topics are
//! recovered, Online Retail's Christmas layer is named so, runs are reproducible, tiny and
//! degenerate catalogues give a sensible result, and the CLI table and CSV export work.
//! Needs the real model: `scripts/test` fetches it and sets STRATA_MODEL_DIR.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../benches/common/planted_families.rs"]
mod planted_families;

use std::path::PathBuf;
use std::process::Command;

use common::{data, import};
use planted_families::planted_families;
use strata::embed::{BertSentenceEmbedder, Embedder, LsaEmbedder, embed_project, item_text};
use strata::import::ImportKind;
use strata::layers::{
    LayerParams, adjusted_rand_index, build_layers, layer_project, project_vectors,
};
use strata::pipeline::{JobContext, JobError as _, NextStep};
use strata::store::Store;

fn model() -> BertSentenceEmbedder {
    let dir = std::env::var_os("STRATA_MODEL_DIR").map(PathBuf::from).expect(
        "these tests need the real model: run scripts/test (it fetches it) or set STRATA_MODEL_DIR",
    );
    BertSentenceEmbedder::load(&dir, "all-MiniLM-L6-v2").unwrap()
}

fn embedded(kind: ImportKind, file: &str) -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("p.strata")).unwrap();
    import(&mut store, kind, data(file)).unwrap();
    embed_project(&mut store, &model(), 32, &JobContext::silent()).unwrap();
    (dir, store)
}

#[test]
fn planted_topics_are_recovered() {
    let (_dir, mut store) = embedded(ImportKind::Items, "planted_topics.csv");
    let (_, run) =
        layer_project(&mut store, &LayerParams::default(), &JobContext::silent()).unwrap();
    let families: Vec<String> = store
        .items()
        .unwrap()
        .iter()
        .map(|item| {
            let extra: serde_json::Value = serde_json::from_str(&item.extra).unwrap();
            extra["family"].as_str().unwrap().to_owned()
        })
        .collect();
    let mut names: Vec<&String> = families.iter().collect();
    names.sort();
    names.dedup();
    let truth: Vec<usize> = families
        .iter()
        .map(|f| names.iter().position(|n| *n == f).unwrap())
        .collect();
    let ari = adjusted_rand_index(&truth, &run.item_layer);
    assert_eq!(run.k, 5, "curve {:?}", run.curve);
    assert!(ari >= 0.9, "ARI {ari}, curve {:?}", run.curve);
    // Each layer is named after its family.
    let named: Vec<String> = run.layers.iter().map(|l| l.name.join(" ")).collect();
    for word in ["coffee", "football", "python", "baby"] {
        assert!(
            named.iter().any(|n| n.contains(word)),
            "{word} in {named:?}"
        );
    }
    // Same input, same layers.
    let (_, again) =
        layer_project(&mut store, &LayerParams::default(), &JobContext::silent()).unwrap();
    assert_eq!(run.item_layer, again.item_layer);
    assert_eq!(run.item_sublayer, again.item_sublayer);
    assert_eq!(run.points, again.points);
    assert_eq!(run.curve, again.curve);
    assert!(run.notes.is_empty(), "{:?}", run.notes);

    // Big catalogues choose k on a seeded sample of rows and fit the layers on all of them:
    // 40 of the 60 items still find the five families.
    let params = LayerParams {
        sweep_rows: 40,
        ..LayerParams::default()
    };
    let (_, sampled) = layer_project(&mut store, &params, &JobContext::silent()).unwrap();
    assert_eq!(sampled.k, 5, "curve {:?}", sampled.curve);
    assert_eq!(sampled.item_layer.len(), truth.len());
    let ari = adjusted_rand_index(&truth, &sampled.item_layer);
    assert!(ari >= 0.9, "ARI {ari} with the k sweep on 40 rows");
    assert!(
        sampled
            .notes
            .iter()
            .any(|n| n.contains("sample of 40 of the 60 items")),
        "{:?}",
        sampled.notes
    );
}

#[test]
fn online_retail_christmas_layer_is_named_christmas() {
    let (_dir, mut store) = embedded(ImportKind::Orders, "online_retail.csv.gz");
    let (run_id, run) =
        layer_project(&mut store, &LayerParams::default(), &JobContext::silent()).unwrap();
    assert!((4..=16).contains(&run.k));
    assert_eq!(run.curve.len(), 16 - 4 + 1);
    let items = store.items().unwrap();
    // The layer holding most of the items with "christmas" in their title.
    let mut counts = vec![0usize; run.k];
    for (item, &layer) in items.iter().zip(&run.item_layer) {
        if item.title.to_lowercase().contains("christmas") {
            counts[layer] += 1;
        }
    }
    let christmas = (0..run.k).max_by_key(|&l| counts[l]).unwrap();
    assert!(
        run.layers[christmas].name.contains(&"christmas".to_owned()),
        "{:?}",
        run.layers[christmas].name
    );
    // The map says how little two axes keep.
    let kept = run.quality.explained_variance[0] + run.quality.explained_variance[1];
    assert!(kept > 0.02 && kept < 0.2, "{kept}");
    // Stored: the latest run, every item placed.
    let latest = store.latest_layer_run().unwrap().unwrap();
    assert_eq!(latest.run_id, run_id);
    assert_eq!(latest.run.k, run.k);
    assert_eq!(store.item_layer_rows(&latest).unwrap().len(), items.len());
}

#[test]
fn tiny_and_degenerate_catalogues_give_a_result_not_a_panic() {
    let embedder = model();
    let cases: [&[&str]; 5] = [
        &["one item"],
        &["red mug", "blue bicycle"],
        &["red mug", "blue bicycle", "green tea"],
        &["same", "same", "same", "same", "same"],
        &["", "", ""],
    ];
    for texts in cases {
        let vectors = embedder.embed(texts).unwrap();
        let flat: Vec<f32> = vectors.concat();
        let run = build_layers(
            &flat,
            384,
            texts,
            &LayerParams::default(),
            &JobContext::silent(),
        )
        .unwrap();
        assert_eq!(run.item_layer.len(), texts.len());
        assert!(run.k >= 1 && run.k <= texts.len());
        assert!(
            run.points.iter().flatten().all(|v| v.is_finite()),
            "{texts:?}"
        );
    }
    let err = build_layers(
        &[],
        384,
        &[],
        &LayerParams::default(),
        &JobContext::silent(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("no items"), "{err}");
    let params = LayerParams {
        k: Some(5),
        ..LayerParams::default()
    };
    let two = embedder.embed(&["a", "b"]).unwrap().concat();
    let err = build_layers(&two, 384, &["a", "b"], &params, &JobContext::silent()).unwrap_err();
    assert!(
        err.to_string().contains("more layers than there are items"),
        "{err}"
    );
}

#[test]
fn layering_before_embedding_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("p.strata")).unwrap();
    import(&mut store, ImportKind::Items, data("shop_items.csv")).unwrap();
    let err =
        layer_project(&mut store, &LayerParams::default(), &JobContext::silent()).unwrap_err();
    // The error says what is missing and carries the step that clears it; each edge words
    // it (the CLI's "run `strata embed`" is checked in tests/cli.rs, issue 13).
    assert!(err.to_string().contains("no item vectors yet"), "{err}");
    assert!(
        matches!(err.next_step(), Some(NextStep::Embed { .. })),
        "{err}"
    );
    // LSA vectors layer too (the fallback is a full citizen downstream).
    let texts: Vec<String> = store.items().unwrap().iter().map(item_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let lsa = LsaEmbedder::fit(&refs).unwrap();
    embed_project(&mut store, &lsa, 32, &JobContext::silent()).unwrap();
    let (_, dim, _, _) = project_vectors(&store).unwrap();
    assert_eq!(dim, 5);
    layer_project(&mut store, &LayerParams::default(), &JobContext::silent()).unwrap();
}

#[test]
fn cli_layer_table_and_csv_export() {
    let (dir, store) = embedded(ImportKind::Items, "planted_topics.csv");
    let project = store.path().to_path_buf();
    drop(store);
    let strata = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .output()
            .unwrap()
    };
    let p = project.to_str().unwrap();
    let out = strata(&["layer", "--project", p, "--k", "3", "--sub", "2"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("layer  subs    size  silhouette  name"),
        "{table}"
    );
    assert!(table.contains("k = 3 (fixed)"), "{table}");
    assert!(table.contains("of the variance"), "{table}");
    let csv_path = dir.path().join("layers.csv");
    let out = strata(&[
        "export",
        "layers",
        "--project",
        p,
        "--out",
        csv_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_path(&csv_path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        [
            "item_id",
            "title",
            "layer",
            "layer_name",
            "sublayer",
            "sublayer_name",
            "x",
            "y"
        ]
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 60);
    for row in &rows {
        let layer: usize = row[2].parse().unwrap();
        let sub: usize = row[4].parse().unwrap();
        assert!(
            (1..=3).contains(&layer) && (1..=2).contains(&sub),
            "{row:?}"
        );
        assert!(row[6].parse::<f64>().unwrap().is_finite());
    }
    // The layer list: a row per layer (empty sub-layer) then its sub-layers; sizes add up.
    let list_path = dir.path().join("layer-list.csv");
    let out = strata(&[
        "export",
        "layer-list",
        "--project",
        p,
        "--out",
        list_path.to_str().unwrap(),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut reader = csv::Reader::from_path(&list_path).unwrap();
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        ["layer", "sublayer", "name", "size", "silhouette", "share"]
    );
    let list: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(list.len(), 3 + 3 * 2);
    let layer_rows: Vec<&csv::StringRecord> = list.iter().filter(|r| r[1].is_empty()).collect();
    assert_eq!(layer_rows.len(), 3);
    let total: usize = layer_rows
        .iter()
        .map(|r| r[3].parse::<usize>().unwrap())
        .sum();
    assert_eq!(total, 60);
    let shares: f64 = layer_rows
        .iter()
        .map(|r| r[5].parse::<f64>().unwrap())
        .sum();
    assert!((shares - 1.0).abs() < 1e-9);
    let bad = strata(&["layer", "--project", p, "--k", "zero"]);
    assert_eq!(bad.status.code(), Some(2));
    // Runs stay until deleted; deleting one removes its rows.
    let listed = strata(&["layer", "--project", p, "--list"]);
    let listed = String::from_utf8_lossy(&listed.stdout).into_owned();
    assert!(
        listed
            .lines()
            .nth(1)
            .unwrap()
            .trim_start()
            .starts_with("1 "),
        "{listed}"
    );
    let out = strata(&["layer", "--project", p, "--delete", "1"]);
    assert!(out.status.success());
    let store = Store::open(&project).unwrap();
    assert!(store.latest_layer_run().unwrap().is_none());
    let conn = rusqlite::Connection::open(&project).unwrap();
    let placed: i64 = conn
        .query_row(
            "SELECT count(*) FROM item_layers WHERE run_id = 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(placed, 0, "the run's items went with it");
    let out = strata(&["layer", "--project", p, "--delete", "1"]);
    assert_eq!(out.status.code(), Some(1));
}

/// Issue 16: the automatic k prefers few, clear layers. On generated catalogues of 5–8
/// planted families the default settings recover the families, and better than the highest
/// silhouette alone (which split families that belong together).
#[test]
fn planted_families_are_recovered_with_few_layers_issue_16() {
    let embedder = model();
    let parsimonious = LayerParams::default();
    let highest = LayerParams {
        k_tolerance: 0.0,
        ..LayerParams::default()
    };
    let mut rows = Vec::new();
    for (seed, families) in [
        (1, 5),
        (2, 6),
        (3, 7),
        (4, 8),
        (5, 5),
        (6, 6),
        (7, 7),
        (8, 8),
    ] {
        let (titles, truth) = planted_families(seed, families);
        let refs: Vec<&str> = titles.iter().map(String::as_str).collect();
        let vectors = embedder.embed(&refs).unwrap().concat();
        let silent = JobContext::silent();
        let run = build_layers(&vectors, 384, &refs, &parsimonious, &silent).unwrap();
        let best = build_layers(&vectors, 384, &refs, &highest, &silent).unwrap();
        let ari = adjusted_rand_index(&truth, &run.item_layer);
        let best_ari = adjusted_rand_index(&truth, &best.item_layer);
        println!(
            "seed {seed}: {families} families, {} titles: k = {} (ARI {ari:.3}); highest silhouette k = {} (ARI {best_ari:.3})",
            titles.len(),
            run.k,
            best.k
        );
        assert!(run.k <= best.k, "seed {seed}: {} > {}", run.k, best.k);
        rows.push((families, run.k, ari, best_ari));
    }
    let mean = |f: fn(&(usize, usize, f64, f64)) -> f64| {
        rows.iter().map(f).sum::<f64>() / rows.len() as f64
    };
    let (ari, best_ari) = (mean(|r| r.2), mean(|r| r.3));
    assert!(ari >= 0.9, "mean ARI {ari:.3}: {rows:?}");
    assert!(ari > best_ari, "{ari:.3} against {best_ari:.3}: {rows:?}");
}
