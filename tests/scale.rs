//! Issue 15 at a size CI can afford: a 20,000-item synthetic shop (the scale benchmark's
//! generator, few customers) evaluated under a memory budget too small for dense EASE. The
//! evaluation runs without any n × n matrix, says why EASE is skipped, scores RP3beta and the
//! sparse item-kNN, and Strata's lists still beat "bestsellers".
#![allow(clippy::unwrap_used)]

mod common;

#[path = "../benches/common/synthetic_shop.rs"]
mod synthetic_shop;

use std::process::Command;

use common::import;
use strata::import::ImportKind;
use strata::store::Store;

#[test]
fn evaluation_of_a_20k_item_shop_without_dense_matrices_issue_15() {
    let dir = tempfile::tempdir().unwrap();
    synthetic_shop::write_shop(dir.path(), 20_000, 600, 15_000);
    let path = dir.path().join("shop.strata");
    let mut store = Store::open(&path).unwrap();
    import(&mut store, ImportKind::Items, dir.path().join("items.csv")).unwrap();
    import(
        &mut store,
        ImportKind::Interactions,
        dir.path().join("purchases.csv"),
    )
    .unwrap();
    common::layered(&mut store);
    drop(store);
    let project = path.to_str().unwrap();
    let strata = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_strata"))
            .args(args)
            .env("STRATA_MEMORY_BUDGET", "400MB")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let json: serde_json::Value =
        serde_json::from_str(&strata(&["evaluate", "--project", project, "--json"])).unwrap();
    let methods = &json["methods"];
    assert!(methods.get("ease").is_none(), "{methods}");
    let notes = json["notes"].to_string();
    assert!(
        notes.contains("EASE skipped: its dense 20000 × 20000 matrices need")
            && notes.contains("top 100 neighbours"),
        "{notes}"
    );
    let ndcg = |m: &str| methods[m]["ndcg@10"].as_f64().unwrap();
    for method in ["strata", "rp3beta", "ials", "itemknn", "popular", "content"] {
        assert!((0.0..=1.0).contains(&ndcg(method)), "{method}: {methods}");
    }
    assert!(
        ndcg("strata") > ndcg("popular") && ndcg("rp3beta") > ndcg("popular"),
        "{methods}"
    );
    eprintln!("20k items: {methods}");
    // The chosen mix is kept, and one customer's lists come from the same sparse models.
    let user = Store::open(&path).unwrap().interaction_keys().unwrap()[0]
        .0
        .clone();
    let table = strata(&["recommend", "--project", project, "--user", &user]);
    assert!(table.contains("because of"), "{table}");
}
