//! Imports of each supported kind, on real data and small fixtures (issue #2).
#![allow(clippy::unwrap_used)]

mod common;

use common::{data, dump, import, request};
use strata::import::{ImportKind, SkipReason, run_import};
use strata::pipeline::JobContext;
use strata::store::Store;

#[test]
fn online_retail_orders_import_with_counts_by_reason() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("shop.strata")).unwrap();
    let report = import(&mut store, ImportKind::Orders, data("online_retail.csv.gz")).unwrap();
    // Figures checked independently with Python's csv module (README, "Online Retail").
    assert_eq!(report.rows_read, 541_909);
    assert_eq!(report.items_imported, 3_942);
    assert_eq!(report.interactions_imported, 386_282);
    assert_eq!(report.merged_duplicates, 10_092);
    assert_eq!(report.skipped_count(SkipReason::CancelledInvoice), 9_288);
    assert_eq!(report.skipped_count(SkipReason::NonPositiveQuantity), 1_336);
    assert_eq!(report.skipped_count(SkipReason::ServiceCode), 2_362);
    assert_eq!(report.skipped_count(SkipReason::NoCustomer), 132_549);
    assert_eq!(report.skipped_total(), 145_535);
    // Every row is accounted for: kept lines are the imported events plus the merged ones.
    assert_eq!(
        report.rows_read,
        report.skipped_total() + report.interactions_imported + report.merged_duplicates
    );
    let info = store.info().unwrap();
    assert_eq!(
        (info.items, info.users, info.interactions),
        (3_942, 4_335, 386_282)
    );
    assert_eq!(info.first_ts, Some(1_291_191_960)); // 2010-12-01 08:26
    let heart = store.item("85123A").unwrap().unwrap();
    assert_eq!(heart.title, "WHITE HANGING HEART T-LIGHT HOLDER");
    // Party bags have letter codes but are products; postage is not.
    assert!(store.item("DCGSSGIRL").unwrap().is_some());
    assert!(store.item("POST").unwrap().is_none());
    assert_foreign_keys_hold(store.path());
    // Re-importing the same export changes nothing but the import log.
    let before = store.info().unwrap();
    import(&mut store, ImportKind::Orders, data("online_retail.csv.gz")).unwrap();
    assert_eq!(store.info().unwrap(), before);
    assert_eq!(store.imports().unwrap().len(), 2);
    assert_foreign_keys_hold(store.path());
}

/// Bulk imports write with foreign keys off; every reference must still resolve.
fn assert_foreign_keys_hold(project: &std::path::Path) {
    let conn = rusqlite::Connection::open(project).unwrap();
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(violations, 0);
}

#[test]
fn items_then_interactions_with_header_synonyms() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("p.strata")).unwrap();
    let items = import(&mut store, ImportKind::Items, data("shop_items.csv")).unwrap();
    assert_eq!(items.items_imported, 5);
    let towel = store.item("A100").unwrap().unwrap();
    assert_eq!(towel.title, "Linen tea towel");
    assert_eq!(towel.description, "Soft linen towel, 50x70 cm");
    assert_eq!(towel.category, "Kitchen");
    assert_eq!(towel.extra, r#"{"colour":"natural"}"#);

    let history = import(
        &mut store,
        ImportKind::Interactions,
        data("shop_interactions.csv"),
    )
    .unwrap();
    assert_eq!(history.rows_read, 9);
    assert_eq!(history.interactions_imported, 7);
    assert_eq!(history.skipped_count(SkipReason::UnknownItem), 1);
    assert_eq!(history.skipped_count(SkipReason::BadTimestamp), 1);
    let lines: Vec<u64> = history.bad_lines.iter().map(|b| b.line).collect();
    assert_eq!(lines, [9, 10]);
    let u2 = store.user_interactions("u2").unwrap();
    assert_eq!(u2.len(), 3);
    assert_eq!(u2[1].quantity, Some(4.0));
    let info = store.info().unwrap();
    assert_eq!((info.items, info.users, info.interactions), (5, 3, 7));
    assert_foreign_keys_hold(store.path());

    // Same files again: nothing doubles.
    let snapshot = store.info().unwrap();
    import(&mut store, ImportKind::Items, data("shop_items.csv")).unwrap();
    import(
        &mut store,
        ImportKind::Interactions,
        data("shop_interactions.csv"),
    )
    .unwrap();
    assert_eq!(store.info().unwrap(), snapshot);
}

#[test]
fn movielens_layout_fixture() {
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path().join("m.strata")).unwrap();
    let report = import(&mut store, ImportKind::MovieLens, data("movielens-tiny")).unwrap();
    assert_eq!(
        (report.items_imported, report.interactions_imported),
        (4, 6)
    );
    assert_eq!(report.files, ["movies.csv", "ratings.csv"]);
    let movie = store.item("3").unwrap().unwrap();
    assert_eq!(movie.category, "Animation, Children, Comedy");
    assert_eq!(store.item("4").unwrap().unwrap().category, "");
    assert_eq!(
        store.item("2").unwrap().unwrap().title,
        "Long Night, The (2003)"
    );
    let user = store.user_interactions("2").unwrap();
    assert_eq!(user[0].rating, Some(5.0));
    assert_eq!(user[0].ts, Some(1_445_714_835));
    let info = store.info().unwrap();
    assert_eq!(
        (info.users, info.first_ts, info.last_ts),
        (3, Some(964_982_703), Some(1_445_715_013))
    );
}

#[test]
fn chinese_gbk_export_with_chinese_headers() {
    let dir = tempfile::tempdir().unwrap();
    let text = "商品编号,商品名称,商品描述,分类\n\
                S1,运动鞋 男款 透气,轻便透气的跑步鞋,鞋类\n\
                S2,保温杯,\"不锈钢, 500毫升\",厨房\n";
    let (gbk, _, _) = encoding_rs::GBK.encode(text);
    let items = dir.path().join("商品.csv");
    std::fs::write(&items, &gbk).unwrap();
    let history = dir.path().join("订单.csv");
    let (gbk, _, _) = encoding_rs::GBK.encode(
        "用户ID,商品编号,下单时间,数量\n张三,S1,2024/5/1 12:00,2\n李四,S2,2024-05-02 08:30:00,1\n",
    );
    std::fs::write(&history, &gbk).unwrap();

    let mut store = Store::open(dir.path().join("c.strata")).unwrap();
    let report = import(&mut store, ImportKind::Items, &items).unwrap();
    assert_eq!(report.encoding, "GB18030");
    let shoe = store.item("S1").unwrap().unwrap();
    assert_eq!(
        (shoe.title.as_str(), shoe.category.as_str()),
        ("运动鞋 男款 透气", "鞋类")
    );
    assert_eq!(
        store.item("S2").unwrap().unwrap().description,
        "不锈钢, 500毫升"
    );
    let report = import(&mut store, ImportKind::Interactions, &history).unwrap();
    assert_eq!(report.interactions_imported, 2);
    let zhang = store.user_interactions("张三").unwrap();
    assert_eq!(
        (zhang[0].ts, zhang[0].quantity),
        (Some(1_714_564_800), Some(2.0))
    );
}

#[test]
fn utf8_bom_gzip_and_overrides() {
    let dir = tempfile::tempdir().unwrap();
    let csv = "\u{feff}code,label,notes\nk1,Kettle,Boils water\nk2,Teapot,Holds tea\n";
    let gz = dir.path().join("items.csv.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, csv.as_bytes()).unwrap();
    std::fs::write(&gz, encoder.finish().unwrap()).unwrap();
    let mut store = Store::open(dir.path().join("o.strata")).unwrap();
    let req = request(
        ImportKind::Items,
        &gz,
        &["item_id=code", "title=label", "description=notes"],
    );
    let report = run_import(&mut store, &req, &JobContext::silent()).unwrap();
    assert_eq!(report.encoding, "UTF-8 (BOM)");
    assert_eq!(store.item("k2").unwrap().unwrap().description, "Holds tea");
    assert_eq!(store.item("k1").unwrap().unwrap().title, "Kettle");
}

#[test]
fn cancelling_an_import_writes_nothing() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.strata");
    let mut store = Store::open(&path).unwrap();
    import(&mut store, ImportKind::Items, data("shop_items.csv")).unwrap();
    let before = dump(&path);
    let cancel = AtomicBool::new(false);
    // Cancel as soon as the writing stage begins: the transaction must roll back.
    let on_progress = |p: strata::pipeline::Progress| {
        if p.stage == "writing" {
            cancel.store(true, Ordering::Relaxed);
        }
    };
    let job = JobContext::new(&on_progress, &cancel);
    let result = run_import(
        &mut store,
        &request(ImportKind::Orders, data("online_retail.csv.gz"), &[]),
        &job,
    );
    assert!(
        matches!(result, Err(strata::import::ImportError::Cancelled(_))),
        "{result:?}"
    );
    drop(store);
    assert_eq!(dump(&path), before);
}
