//! Issue 16: a living project. New orders and products update the layers instead of
//! reshuffling them; a rebuild keeps the matched layers' numbers; a change report says what
//! moved; the recommender's kept fit is extended after an import instead of refitted.
//! Measured on the committed Online Retail file with the real model (`scripts/test` fetches it
//! and sets STRATA_MODEL_DIR) or the LSA fallback, and through the CLI.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::{import, split_online_retail};
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
    let (first, second) = common::planted_topics_in_two(dir.path(), 48);
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

/// Issue 16, "incremental after an import": a recommender fitted on Online Retail before its
/// last day is kept in the project; the same data then uses it as it is (the same lists as the
/// fit); after the last day's orders and a layer update it is extended to the new items, and the
/// users whose histories changed are exactly the day's customers. A refit names the same users,
/// and a damaged kept fit is refitted, never trusted.
#[test]
fn the_kept_fit_serves_the_same_data_and_extends_to_a_new_day_issue_16() {
    use strata::recommend::{FitOrigin, KEPT_FIT_FORMAT, ProfileParams, ProjectRecommender};
    let dir = tempfile::tempdir().unwrap();
    let (before, day) = split_online_retail(dir.path(), "2011-12-09");
    let mut store = Store::open(dir.path().join("shop.strata")).unwrap();
    import(&mut store, ImportKind::Orders, &before).unwrap();
    common::layered(&mut store);
    let silent = JobContext::silent();
    let load =
        |store: &Store| ProjectRecommender::load(store, ProfileParams::default(), 5, &silent);

    let fitted = load(&store).unwrap();
    assert_eq!(fitted.origin, FitOrigin::Fitted);
    assert_eq!(
        fitted.changed_users.len(),
        fitted.interactions.user_ids.len()
    );
    assert!(fitted.keep(&mut store).unwrap(), "the fit is kept");
    let kept = load(&store).unwrap();
    assert_eq!(kept.origin, FitOrigin::Kept);
    assert!(kept.changed_users.is_empty());
    assert!(
        !kept.keep(&mut store).unwrap(),
        "a kept fit is not written again"
    );
    let some: Vec<usize> = (0..fitted.interactions.user_ids.len())
        .step_by(50)
        .collect();
    assert_eq!(
        kept.for_users(&some),
        fitted.for_users(&some),
        "the same lists"
    );
    drop((fitted, kept));

    // The day: its orders, their new items embedded, the layers updated. The users whose
    // histories it changed, read from the project before and after.
    let histories = |store: &Store| {
        let mut by_user: std::collections::BTreeMap<String, Vec<(i64, Option<i64>)>> =
            Default::default();
        for (user, item, ts, _, _) in store.interaction_keys().unwrap() {
            by_user.entry(user).or_default().push((item, ts));
        }
        by_user
    };
    let old_histories = histories(&store);
    let items_before = store.items().unwrap().len();
    import(&mut store, ImportKind::Orders, &day).unwrap();
    common::lsa_embedded(&mut store);
    update_project_layers(&mut store, &silent).unwrap();
    let new_items = store.items().unwrap().len() - items_before;
    assert!(new_items > 0, "the day brings a new product");
    let customers: std::collections::BTreeSet<String> = histories(&store)
        .into_iter()
        .filter(|(user, history)| old_histories.get(user) != Some(history))
        .map(|(user, _)| user)
        .collect();
    assert!(
        customers.len() > 10,
        "{} customers that day",
        customers.len()
    );

    let updated =
        ProjectRecommender::load_updated(&store, ProfileParams::default(), 5, &silent).unwrap();
    assert_eq!(updated.origin, FitOrigin::Extended { new_items });
    let changed: std::collections::BTreeSet<String> = updated
        .changed_users
        .iter()
        .map(|&u| updated.interactions.user_ids[u].clone())
        .collect();
    assert_eq!(changed, customers, "the day's customers, and only they");
    let lists = updated.for_users(&updated.changed_users);
    assert_eq!(lists.len(), customers.len());
    assert!(lists.iter().all(|l| !l.merged.is_empty()));
    // The same from the command line: the day's customers' lists, as CSV.
    let out = dir.path().join("day.csv");
    let project = dir.path().join("shop.strata");
    let said = strata(&[
        "export",
        "recommendations",
        "--project",
        project.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--changed",
    ]);
    ok(&said);
    let stderr = String::from_utf8_lossy(&said.stderr);
    assert!(
        stderr.contains(&format!("{} user(s) with new history", customers.len()))
            && stderr.contains(&format!("extended to {new_items} new item(s)")),
        "{stderr}"
    );
    let mut reader = csv::Reader::from_path(&out).unwrap();
    let exported: std::collections::BTreeSet<String> =
        reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(exported, customers);
    // Without asking for an extension, the changed project is refitted.
    let refit = load(&store).unwrap();
    assert_eq!(refit.origin, FitOrigin::Fitted);
    assert_eq!(refit.changed_users, updated.changed_users);
    drop((updated, refit));

    // A damaged kept fit is not read: the run refits.
    store.keep_fit(KEPT_FIT_FORMAT, b"not a fit").unwrap();
    let after_damage =
        ProjectRecommender::load_updated(&store, ProfileParams::default(), 5, &silent).unwrap();
    assert_eq!(after_damage.origin, FitOrigin::Fitted);
}
