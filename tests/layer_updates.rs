//! Issue 16: a living project. New orders and products update the layers instead of
//! reshuffling them; a rebuild keeps the matched layers' numbers; a change report says what
//! moved. Measured on the committed Online Retail file with the real model (`scripts/test`
//! fetches it and sets STRATA_MODEL_DIR), and through the CLI with the LSA fallback.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{data, import, split_online_retail};
use strata::embed::{BertSentenceEmbedder, embed_project, item_text};
use strata::import::ImportKind;
use strata::layers::{
    LayerParams, LayerRun, cosine, layer_changes, layer_project, update_project_layers,
};
use strata::pipeline::JobContext;
use strata::store::Store;

fn model() -> BertSentenceEmbedder {
    let dir = std::env::var_os("STRATA_MODEL_DIR").map(PathBuf::from).expect(
        "these tests need the real model: run scripts/test (it fetches it) or set STRATA_MODEL_DIR",
    );
    BertSentenceEmbedder::load(&dir, "all-MiniLM-L6-v2").unwrap()
}

fn layer_ids(run: &LayerRun) -> Vec<usize> {
    run.layers.iter().map(|l| l.id).collect()
}

/// Issue 16, "measured stability": Online Retail layered on its first 11 months, then its
/// last month imported and the layers updated. Every old item keeps its layer, k is
/// unchanged, the new items are placed, and the same input gives the same layers. A rebuild
/// from scratch afterwards keeps the numbers of the layers it matches.
#[test]
fn online_retail_update_keeps_the_old_items_layers_issue_16() {
    let dir = tempfile::tempdir().unwrap();
    let (early, late) = split_online_retail(dir.path(), "2011-11-01");
    let project = dir.path().join("shop.strata");
    let model = model();
    let mut store = Store::open(&project).unwrap();
    import(&mut store, ImportKind::Orders, &early).unwrap();
    embed_project(&mut store, &model, 32, &JobContext::silent()).unwrap();
    let params = LayerParams::default();
    let (first_id, first) = layer_project(&mut store, &params, &JobContext::silent()).unwrap();
    let old_texts: std::collections::HashMap<String, String> = store
        .items()
        .unwrap()
        .iter()
        .map(|i| (i.item_id.clone(), item_text(i)))
        .collect();
    let old_items = old_texts.len();

    // Same input, same layers: a copy of the project layered again.
    drop(store);
    let copy = dir.path().join("copy.strata");
    std::fs::copy(&project, &copy).unwrap();
    let mut store = Store::open(&copy).unwrap();
    let (_, again) = layer_project(&mut store, &params, &JobContext::silent()).unwrap();
    assert_eq!(
        again.item_layer, first.item_layer,
        "same input, same layers"
    );
    assert_eq!(again.item_sublayer, first.item_sublayer);
    assert_eq!(layer_ids(&again), layer_ids(&first));
    drop(store);

    let mut store = Store::open(&project).unwrap();
    import(&mut store, ImportKind::Orders, &late).unwrap();
    let summary = embed_project(&mut store, &model, 32, &JobContext::silent()).unwrap();
    let new_items = store.items().unwrap().len() - old_items;
    assert!(
        new_items > 50,
        "the last month brings new products: {new_items}"
    );
    // Only new items and those whose text the new orders changed are embedded (fewer when
    // their text was met before); every other item comes from the cache.
    let changed = store
        .items()
        .unwrap()
        .iter()
        .filter(|i| {
            old_texts
                .get(&i.item_id)
                .is_some_and(|t| *t != item_text(i))
        })
        .count();
    eprintln!("{new_items} new items, {changed} old items with a new text");
    assert!(
        summary.embedded as usize <= new_items + changed,
        "{summary:?}"
    );
    assert!(
        summary.from_cache as usize >= old_items - changed,
        "{summary:?}"
    );
    let (update_id, updated) = update_project_layers(&mut store, &JobContext::silent()).unwrap();
    assert_eq!(updated.updated_from, Some(first_id));
    let stored = store.latest_layer_run().unwrap().unwrap();
    assert_eq!(
        (stored.run_id, stored.run.updated_from),
        (update_id, Some(first_id)),
        "the project remembers which run was updated"
    );
    assert_eq!(updated.k, first.k, "an update keeps k");
    assert_eq!(layer_ids(&updated), layer_ids(&first));
    let changes = layer_changes(&store, first_id, update_id).unwrap();
    let report = changes.describe().join("\n");
    eprintln!("{report}");
    assert_eq!(changes.common, old_items);
    assert_eq!(changes.added, new_items);
    let kept = changes.kept as f64 / changes.common as f64;
    assert!(kept >= 0.95, "{kept}\n{report}");
    assert!(
        changes.born.is_empty() && changes.gone.is_empty(),
        "{report}"
    );
    assert_eq!(changes.ari, Some(1.0), "{report}");
    // Each layer's name is kept unless its words clearly changed.
    let renamed = updated
        .layers
        .iter()
        .zip(&first.layers)
        .filter(|(a, b)| a.name != b.name)
        .count();
    eprintln!("{renamed} of {} layers renamed by the update", first.k);
    assert!(renamed * 4 <= first.k, "{renamed} of {} renamed", first.k);

    // The update is deterministic too.
    let mut store_copy = Store::open(&copy).unwrap();
    import(&mut store_copy, ImportKind::Orders, &late).unwrap();
    embed_project(&mut store_copy, &model, 32, &JobContext::silent()).unwrap();
    let (_, updated_again) = update_project_layers(&mut store_copy, &JobContext::silent()).unwrap();
    assert_eq!(updated_again.item_layer, updated.item_layer);
    assert_eq!(updated_again.item_sublayer, updated.item_sublayer);
    drop(store_copy);

    // Rebuilt from scratch: the layers it matches keep their numbers.
    let (rebuild_id, rebuilt) = layer_project(&mut store, &params, &JobContext::silent()).unwrap();
    let old_centroids: Vec<&[f32]> = updated
        .layers
        .iter()
        .map(|l| l.centroid.as_slice())
        .collect();
    for layer in &rebuilt.layers {
        let mut similarities: Vec<f64> = old_centroids
            .iter()
            .map(|c| cosine(&layer.centroid, c))
            .collect();
        similarities.sort_by(|a, b| b.total_cmp(a));
        eprintln!(
            "rebuilt layer {:>2}: most similar old layer {:.3}, next {:.3}",
            layer.id + 1,
            similarities[0],
            similarities.get(1).copied().unwrap_or(0.0)
        );
    }
    let changes = layer_changes(&store, update_id, rebuild_id).unwrap();
    let report = changes.describe().join("\n");
    eprintln!("{report}");
    let matched = rebuilt
        .layers
        .iter()
        .filter(|l| updated.layers.iter().any(|o| o.id == l.id))
        .count();
    eprintln!("rebuild: {matched} of {} layers matched", rebuilt.k);
    assert!(
        rebuilt
            .notes
            .iter()
            .any(|n| n.contains("kept their numbers")),
        "{:?}",
        rebuilt.notes
    );
    // Matched layers hold mostly the items they held: more agree than under renumbering.
    let kept = changes.kept as f64 / changes.common as f64;
    assert!(kept > 0.5, "{kept}\n{report}");
}

fn strata(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_strata"))
        .args(args)
        .output()
        .unwrap()
}

fn ok(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Issue 16: `strata layer --update` and `--diff` from the command line, with the LSA
/// fallback, whose vectors change with the catalogue (it is fitted again on every embed).
#[test]
fn cli_update_and_diff_issue_16() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(data("planted_topics.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let (first, second) = rows.split_at(48);
    let write = |name: &str, rows: &[&str]| {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("{header}\n{}\n", rows.join("\n"))).unwrap();
        path
    };
    let (first, second) = (write("first.csv", first), write("second.csv", second));
    let project = dir.path().join("p.strata");
    let p = project.to_str().unwrap();

    // An update before any layers says what to do instead.
    ok(&strata(&[
        "import",
        "--project",
        p,
        "--items",
        first.to_str().unwrap(),
    ]));
    ok(&strata(&["embed", "--project", p, "--lsa"]));
    let out = strata(&["layer", "--project", p, "--update"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no layer run to update yet"), "{err}");

    let table = ok(&strata(&["layer", "--project", p, "--k", "4"]));
    assert!(
        !table.contains("changes since"),
        "a first run has nothing to compare: {table}"
    );
    ok(&strata(&[
        "import",
        "--project",
        p,
        "--items",
        second.to_str().unwrap(),
    ]));
    ok(&strata(&["embed", "--project", p, "--lsa"]));
    let out = strata(&["layer", "--project", p, "--update"]);
    let table = ok(&out);
    assert!(table.contains("k = 4 (kept from layer run 1)"), "{table}");
    assert!(table.contains("changes since layer run 1:"), "{table}");
    assert!(
        table.contains("48 of the 48 items of both runs kept their layer (100.0%)"),
        "{table}"
    );
    assert!(table.contains("12 added"), "{table}");
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(
        notes.contains("vectors changed since layer run 1"),
        "{notes}"
    );

    let diff: serde_json::Value = serde_json::from_str(&ok(&strata(&[
        "layer",
        "--project",
        p,
        "--diff",
        "1",
        "2",
        "--json",
    ])))
    .unwrap();
    assert_eq!(diff["common"], 48);
    assert_eq!(diff["kept"], 48);
    assert_eq!(diff["added"], 12);
    let added: u64 = diff["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["added"].as_u64().unwrap())
        .sum();
    assert_eq!(added, 12);

    // A rebuild compares itself with the update, and says how many layers it matched.
    let out = strata(&["layer", "--project", p, "--k", "4"]);
    let table = ok(&out);
    assert!(table.contains("changes since layer run 2:"), "{table}");
    let notes = String::from_utf8_lossy(&out.stderr);
    assert!(notes.contains("matched layers of run 2"), "{notes}");

    // Unknown runs and clashing options are refused clearly.
    let out = strata(&["layer", "--project", p, "--diff", "1", "9"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no layer run 9"));
    let out = strata(&["layer", "--project", p, "--update", "--k", "5"]);
    assert_eq!(out.status.code(), Some(2), "clap refuses --update with --k");
}
