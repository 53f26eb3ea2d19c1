//! Platform exports recognised from their header and imported without hand mapping
//! (issue 14). The fixtures in `tests/data/platforms/` follow each platform's documented
//! columns; what each must import is counted here by hand from the fixture.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::PathBuf;

use common::{data, dump};
use strata::import::{
    ImportKind, ImportOptions, ImportReport, ImportRequest, SkipReason, run_import,
};
use strata::pipeline::JobContext;
use strata::store::Store;

fn platform(name: &str) -> PathBuf {
    data(&format!("platforms/{name}"))
}

/// Imports `files` into `store` as one request, recognised from their headers.
fn import(store: &mut Store, files: &[&str], options: ImportOptions) -> ImportReport {
    let mut paths = files.iter().map(|f| platform(f));
    let request = ImportRequest {
        kind: ImportKind::Auto,
        path: paths.next().unwrap(),
        also: paths.collect(),
        overrides: Vec::new(),
        options,
    };
    run_import(store, &request, &JobContext::silent()).unwrap()
}

fn project() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("p.strata")).unwrap();
    (dir, store)
}

/// Each user's items, sorted, as `user: item item…` lines.
fn histories(store: &Store) -> Vec<String> {
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let mut stmt = conn
        .prepare(
            "SELECT u.user_id, i.item_id FROM interactions x
               JOIN users u ON u.user_key = x.user_key JOIN items i ON i.item_key = x.item_key
             ORDER BY u.user_id, i.item_id",
        )
        .unwrap();
    let pairs: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut lines: Vec<String> = Vec::new();
    let mut last_user = None;
    for (user, item) in pairs {
        if last_user.as_ref() == Some(&user) {
            let line = lines.last_mut().unwrap();
            line.push(' ');
            line.push_str(&item);
        } else {
            lines.push(format!("{user}: {item}"));
            last_user = Some(user);
        }
    }
    lines
}

#[test]
fn shopify_orders_alone_issue_14() {
    let (_dir, mut store) = project();
    let report = import(
        &mut store,
        &["shopify_orders.csv"],
        ImportOptions::default(),
    );
    let r = &report.recognised[0];
    assert_eq!(r.layout, "a Shopify orders export");
    assert_eq!(r.columns_used + r.columns_ignored, 79);
    assert!(
        report.to_string().contains(
            "shopify_orders.csv: recognised as a Shopify orders export: 10 columns used, 69 ignored"
        ),
        "{report}"
    );
    assert_eq!(report.rows_read, 12);
    // Order-level fields are on each order's first row only; later rows inherit them.
    assert_eq!(report.skipped_count(SkipReason::RefundedOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::VoidedOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::CancelledOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::TestOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::GuestOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::BadTimestamp), 0);
    // Lines are the file's own: the first order's note runs over two lines, so the refunded
    // order #1003 is on line 7.
    assert_eq!(report.bad_lines[0].line, 7);
    assert_eq!(report.interactions_imported, 7);
    // The tee's three variants are one product, named like its Shopify handle.
    assert_eq!(report.variants_grouped, 3);
    let mut ids: Vec<String> = store.item_ids().unwrap().into_iter().collect();
    ids.sort();
    assert_eq!(
        ids,
        ["ceramic-mug", "classic-tee", "green-tea-tin", "tea-towel"]
    );
    assert_eq!(
        store.item("classic-tee").unwrap().unwrap().title,
        "Classic Tee"
    );
    assert_eq!(
        histories(&store),
        [
            "ann@example.com: classic-tee green-tea-tin",
            "bob@example.com: ceramic-mug classic-tee",
            "cy@example.com: classic-tee green-tea-tin tea-towel",
        ]
    );
    // `Created at` 2024-03-01 12:31:00 -0500 is 17:31 UTC.
    assert_eq!(store.info().unwrap().first_ts, Some(1_709_314_260));
}

#[test]
fn shopify_products_then_orders_find_products_by_variant_sku_issue_14() {
    let (_dir, mut store) = project();
    let products = import(
        &mut store,
        &["shopify_products.csv"],
        ImportOptions::default(),
    );
    assert_eq!(products.recognised[0].layout, "a Shopify products export");
    assert_eq!(products.items_imported, 3);
    assert_eq!(products.variants_grouped, 2);
    // The tee's second picture is a row of its own; its line is the file's own line (the
    // first row's description runs over two lines).
    assert_eq!(products.skipped_count(SkipReason::ImageOnlyRow), 1);
    assert_eq!(products.bad_lines[0].line, 6);
    let tee = store.item("classic-tee").unwrap().unwrap();
    assert_eq!(
        tee.description,
        "Soft organic cotton tee.\nUnisex fit\nMachine wash"
    );
    assert_eq!(
        tee.category,
        "Apparel & Accessories > Clothing > Shirts & Tops"
    );
    let extra: serde_json::Value = serde_json::from_str(&tee.extra).unwrap();
    assert_eq!(extra["variants"].as_array().unwrap().len(), 3);
    assert_eq!(extra["variants"][1]["options"], "M / Black");
    assert!(
        extra["description_html"]
            .as_str()
            .unwrap()
            .contains("<strong>")
    );
    let tea = store.item("green-tea-tin").unwrap().unwrap();
    assert_eq!(tea.description, "Sencha from Shizuoka & a resealable tin.");

    let orders = import(
        &mut store,
        &["shopify_orders.csv"],
        ImportOptions::default(),
    );
    assert_eq!(orders.interactions_imported, 7);
    // Only the towel (no SKU, no product row) is new; the products keep their rows.
    assert_eq!(orders.items_imported, 1);
    assert_eq!(store.item("classic-tee").unwrap().unwrap(), tee);
    assert_eq!(store.info().unwrap().items, 4);
}

#[test]
fn shopify_products_new_header_issue_14() {
    let (_dir, mut store) = project();
    let report = import(
        &mut store,
        &["shopify_products_2024.csv"],
        ImportOptions::default(),
    );
    assert_eq!(report.items_imported, 2);
    assert_eq!(report.variants_grouped, 2);
    assert_eq!(report.skipped_count(SkipReason::ImageOnlyRow), 1);
    let apron = store.item("linen-apron").unwrap().unwrap();
    assert_eq!(apron.description, "Stonewashed linen, two pockets.");
    assert_eq!(apron.category, "Aprons");
}

#[test]
fn variants_can_stay_separate_issue_14() {
    let (_dir, mut store) = project();
    let options = ImportOptions {
        keep_variants: true,
        ..ImportOptions::default()
    };
    let report = import(&mut store, &["shopify_products.csv"], options.clone());
    assert_eq!(report.items_imported, 5);
    let m = store.item("TEE-M-BLK").unwrap().unwrap();
    assert_eq!(m.title, "Classic Tee - M / Black");
    let orders = import(&mut store, &["shopify_orders.csv"], options);
    assert_eq!(orders.interactions_imported, 7);
    assert_eq!(orders.variants_grouped, 0);
    assert!(histories(&store).contains(&"bob@example.com: MUG-01 TEE-L-BLK".to_owned()));
}

#[test]
fn woocommerce_products_and_orders_issue_14() {
    let (_dir, mut store) = project();
    let report = import(
        &mut store,
        &["woocommerce_orders.csv", "woocommerce_products.csv"],
        ImportOptions::default(),
    );
    let layouts: Vec<&str> = report
        .recognised
        .iter()
        .map(|r| r.layout.as_str())
        .collect();
    assert_eq!(
        layouts,
        [
            "a WooCommerce products export",
            "a WooCommerce orders export (one row per line item)"
        ]
    );
    // Variations (by `id:101` and by the parent's SKU) fold into the hoodie.
    assert_eq!(report.skipped_count(SkipReason::UnknownParent), 1);
    assert_eq!(report.items_imported, 3);
    let hoodie = store.item("101").unwrap().unwrap();
    assert_eq!(hoodie.category, "Clothing > Hoodies");
    assert_eq!(
        hoodie.description,
        "Warm fleece hoodie.\nBrushed fleece & a kangaroo pocket."
    );
    assert_eq!(
        store.item("105").unwrap().unwrap().description,
        "Our band\u{2019}s first album."
    );
    assert_eq!(report.skipped_count(SkipReason::CancelledOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::RefundedOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::FailedOrder), 1);
    // A guest with a billing email is a customer; one with none is counted.
    assert_eq!(report.skipped_count(SkipReason::GuestOrder), 1);
    assert_eq!(
        histories(&store),
        ["7: 101 104", "8: 101", "guest@example.com: 105"]
    );
}

#[test]
fn taobao_order_and_item_reports_join_on_the_order_number_issue_14() {
    let (_dir, mut store) = project();
    let report = import(
        &mut store,
        &["taobao_items.csv", "taobao_orders.csv"],
        ImportOptions::default(),
    );
    assert_eq!(report.encoding, "GB18030");
    assert_eq!(report.recognised.len(), 2);
    assert_eq!(report.skipped_count(SkipReason::ClosedOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::UnpaidOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::UnknownOrder), 1);
    assert_eq!(report.interactions_imported, 3);
    assert_eq!(histories(&store), ["小明: POT-01 TEA-LJ", "小红: POT-01"]);
    // `="3812345678901"` keeps its digits and loses Excel's quotes.
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let baskets: Vec<String> = conn
        .prepare("SELECT DISTINCT basket_id FROM interactions ORDER BY 1")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(baskets, ["3812345678901", "3812345678902"]);
    // The order report alone holds no line items: it says what else to import.
    let (_dir2, mut other) = project();
    let request = ImportRequest::new(ImportKind::Auto, platform("taobao_orders.csv"));
    let err = run_import(&mut other, &request, &JobContext::silent()).unwrap_err();
    assert!(err.to_string().contains("宝贝报表"), "{err}");
}

#[test]
fn pinduoduo_and_chinese_single_file_exports_issue_14() {
    let (_dir, mut store) = project();
    let report = import(
        &mut store,
        &["pinduoduo_orders.csv"],
        ImportOptions::default(),
    );
    assert_eq!(report.recognised[0].layout, "a Pinduoduo orders export");
    assert_eq!(report.skipped_count(SkipReason::CancelledOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::RefundedOrder), 1);
    assert_eq!(report.interactions_imported, 3);
    assert_eq!(
        histories(&store),
        ["李* 139****5678: 500001", "王* 138****1234: 500001 500002"]
    );
    assert_eq!(
        store.item("500001").unwrap().unwrap().title,
        "云南普洱茶饼 357克"
    );

    let (_dir, mut store) = project();
    let report = import(
        &mut store,
        &["chinese_orders.csv"],
        ImportOptions::default(),
    );
    assert_eq!(
        report.recognised[0].layout,
        "a Chinese orders export (订单导出)"
    );
    assert_eq!(report.skipped_count(SkipReason::ClosedOrder), 1);
    assert_eq!(report.skipped_count(SkipReason::RefundedOrder), 1);
    assert_eq!(
        histories(&store),
        ["阿强: SOAP-01", "阿花: SOAP-01 TOWEL-01"]
    );
    assert_eq!(report.variants_grouped, 3);
}

#[test]
fn moodle_course_list_and_logs_issue_14() {
    let (_dir, mut store) = project();
    let options = ImportOptions {
        year: Some(2025),
        ..ImportOptions::default()
    };
    let report = import(
        &mut store,
        &["moodle_logs.csv", "moodle_courses.csv"],
        options,
    );
    assert_eq!(report.items_imported, 3);
    let python = store.item("PY101").unwrap().unwrap();
    assert_eq!(python.description, "Variables, loops & functions.");
    assert_eq!(report.skipped_count(SkipReason::NotCourseEvent), 1);
    assert_eq!(report.interactions_imported, 5);
    assert_eq!(
        histories(&store),
        [
            "Ada Lovelace: DS201 PY101",
            "Alan Turing: PY101",
            "Grace Hopper: ART110 ART110"
        ]
    );
    // Newest first: January is 2025, December the year before.
    let info = store.info().unwrap();
    assert_eq!(info.first_ts, common_ts("2024-12-12 07:59"));
    assert_eq!(info.last_ts, common_ts("2025-01-03 10:05"));
    assert!(
        report.notes.iter().any(|n| n.contains("2025")),
        "{:?}",
        report.notes
    );
}

fn common_ts(s: &str) -> Option<i64> {
    strata::import::parse_timestamp(s)
}

#[test]
fn canvas_courses_and_enrollments_issue_14() {
    let (_dir, mut store) = project();
    let report = import(
        &mut store,
        &["canvas_enrollments.csv", "canvas_courses.csv"],
        ImportOptions::default(),
    );
    assert_eq!(report.items_imported, 2);
    assert_eq!(report.skipped_count(SkipReason::DeletedRecord), 1);
    assert_eq!(report.skipped_count(SkipReason::InactiveEnrolment), 2);
    assert_eq!(report.interactions_imported, 4);
    assert_eq!(
        histories(&store),
        ["s1: BIO-100 CHEM-110", "s2: BIO-100", "t1: BIO-100"]
    );
}

#[test]
fn a_failed_second_file_leaves_the_project_as_it_was_issue_14() {
    let (_dir, mut store) = project();
    import(
        &mut store,
        &["shopify_products.csv"],
        ImportOptions::default(),
    );
    let before = dump(store.path());
    let dir = tempfile::tempdir().unwrap();
    let broken = dir.path().join("orders.csv");
    std::fs::write(&broken, "Name,Email\n\"#1,a\n").unwrap();
    let request = ImportRequest {
        also: vec![broken],
        ..ImportRequest::new(ImportKind::Auto, platform("shopify_products_2024.csv"))
    };
    assert!(run_import(&mut store, &request, &JobContext::silent()).is_err());
    assert_eq!(dump(store.path()), before);
}

/// Generic files are not claimed by any layout and import exactly as before.
#[test]
fn generic_files_are_recognised_by_their_columns_issue_14() {
    let (_dir, mut store) = project();
    let report = run_import(
        &mut store,
        &ImportRequest {
            also: vec![data("shop_interactions.csv")],
            ..ImportRequest::new(ImportKind::Auto, data("shop_items.csv"))
        },
        &JobContext::silent(),
    )
    .unwrap();
    assert!(report.recognised.is_empty());
    assert_eq!(report.kind, "items+interactions");
    let (_dir2, mut flagged) = project();
    common::import(&mut flagged, ImportKind::Items, data("shop_items.csv")).unwrap();
    let again = common::import(
        &mut flagged,
        ImportKind::Interactions,
        data("shop_interactions.csv"),
    )
    .unwrap();
    assert_eq!(report.items_imported, store.info().unwrap().items);
    assert_eq!(report.interactions_imported, again.interactions_imported);
    assert_eq!(histories(&store), histories(&flagged));
}

fn import_one(
    store: &mut Store,
    kind: ImportKind,
    file: &str,
    sheet: Option<&str>,
) -> Result<ImportReport, String> {
    let request = ImportRequest {
        options: ImportOptions {
            sheet: sheet.map(str::to_owned),
            ..ImportOptions::default()
        },
        ..ImportRequest::new(kind, platform(file))
    };
    run_import(store, &request, &JobContext::silent()).map_err(|e| e.to_string())
}

#[test]
fn excel_workbooks_are_read_directly_issue_14() {
    let (_dir, mut store) = project();
    // The first sheet by default: whole numbers lose Excel's `.0`, a line break in a cell
    // stays in its row.
    let items = import_one(&mut store, ImportKind::Items, "workbook.xlsx", None).unwrap();
    assert_eq!(items.encoding, "workbook");
    assert_eq!(items.items_imported, 3);
    let towel = store.item("1001").unwrap().unwrap();
    assert_eq!(towel.description, "Soft linen towel, 50x70 cm");
    assert!(store.item("1003.5").unwrap().is_some());
    // A named sheet; dates stored as Excel serial numbers are times.
    let orders = import_one(
        &mut store,
        ImportKind::Interactions,
        "workbook.xlsx",
        Some("Orders"),
    )
    .unwrap();
    assert_eq!(orders.interactions_imported, 3);
    assert_eq!(histories(&store), ["13047: 1001", "17850: 1001 1002"]);
    assert_eq!(
        store.info().unwrap().first_ts,
        common_ts("2024-03-01 12:31")
    );
    let err = import_one(&mut store, ImportKind::Items, "workbook.xlsx", Some("Nope")).unwrap_err();
    assert!(
        err.contains("no sheet 'Nope' (its sheets: Items, Orders)"),
        "{err}"
    );
    // .xls and .ods too, recognised without saying the kind.
    let xls = import_one(&mut store, ImportKind::Auto, "workbook.xls", None).unwrap();
    assert_eq!((xls.kind.as_str(), xls.items_imported), ("items", 2));
    let ods = import_one(&mut store, ImportKind::Auto, "workbook.ods", None).unwrap();
    assert_eq!(ods.items_imported, 2);
    assert_eq!(store.item("C2").unwrap().unwrap().title, "线性代数");
}

#[test]
fn protected_damaged_and_bomb_workbooks_are_refused_with_nothing_written_issue_14() {
    let (_dir, mut store) = project();
    let before = dump(store.path());
    for (file, says) in [
        ("protected.xlsx", "protected by a password"),
        ("bomb.xlsx", "unpacks to more than 2 GiB"),
    ] {
        let err = import_one(&mut store, ImportKind::Items, file, None).unwrap_err();
        assert!(err.contains(file) && err.contains(says), "{err}");
    }
    assert_eq!(dump(store.path()), before);
}
