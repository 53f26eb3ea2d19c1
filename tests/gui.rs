//! The first window, driven with egui_kittest: create a project, import a
//! small fixture through the real import code, see the counts (issue #2).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::data;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use strata::gui::StrataApp;
use strata::import::ImportKind;

/// Steps the app until `done` holds, for up to `seconds`.
fn step_while(
    harness: &mut Harness<'_, StrataApp>,
    seconds: u64,
    what: &str,
    mut done: impl FnMut(&Harness<'_, StrataApp>) -> bool,
) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    while !done(harness) {
        assert!(Instant::now() < deadline, "{what} never appeared");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Steps the app until `label` is on screen (jobs run on their own threads).
fn step_until(harness: &mut Harness<'_, StrataApp>, label: &str) {
    step_while(harness, 60, &format!("'{label}'"), |h| {
        h.query_by_label(label).is_some()
    });
}

/// Steps the app until a label containing `text` is on screen.
fn step_until_contains(harness: &mut Harness<'_, StrataApp>, text: &str) {
    step_while(harness, 60, &format!("something with '{text}'"), |h| {
        h.query_all_by_label_contains(text).next().is_some()
    });
}

#[test]
fn create_project_import_fixture_and_see_counts() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("gui.strata");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, None));

    harness.get_by_label("Project file").focus();
    harness.run();
    harness
        .get_by_label("Project file")
        .type_text(project.to_str().unwrap());
    harness.run();
    harness.get_by_label("Open or create").click();
    // Opening starts the map's read on its own thread; its wake-up may land a frame or two
    // later than `run()`'s four steps allow, so step until the counts show.
    step_until(&mut harness, "0 items");
    assert!(project.is_file(), "the project file was created");

    harness.get_by_label("Items (catalogue)").click();
    harness.run();
    harness.get_by_label("File to import").focus();
    harness.run();
    harness
        .get_by_label("File to import")
        .type_text(data("shop_items.csv").to_str().unwrap());
    step_until_contains(&mut harness, "Preview of shop_items.csv");
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    step_until(&mut harness, "5 items");
    harness.get_by_label_contains("Imported 5 items and 0 interactions");

    // The import's end starts the project's reads on their own threads; one finishing here
    // asks for more frames than `run()` allows on a busy machine: fixed steps instead.
    harness.get_by_label("Interactions (histories)").click();
    harness.run_steps(4);
    harness.get_by_label("File to import").focus();
    harness.run_steps(4);
    // Select the old path and type over it.
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::A]);
    harness.run_steps(4);
    harness
        .get_by_label("File to import")
        .type_text(data("shop_interactions.csv").to_str().unwrap());
    step_until_contains(&mut harness, "Preview of shop_interactions.csv");
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    step_until(&mut harness, "7 interactions");
    harness.get_by_label("3 users");
    // The report shows the skips by reason.
    harness.get_by_label_contains("item not in the catalogue");
    harness.get_by_label_contains("time not in a known format");
}

#[test]
fn a_broken_file_shows_the_error_and_imports_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("gui.strata");
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "item_id,title\n1,a\n2,b,c\n").unwrap();
    // A project with something in it already: the failed import must leave it exactly so.
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(
        &mut store,
        strata::import::ImportKind::Items,
        data("shop_items.csv"),
    )
    .unwrap();
    drop(store);
    let before = common::dump(&project);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.get_by_label("Items (catalogue)").click();
    harness.run();
    harness.get_by_label("File to import").focus();
    harness.run();
    harness
        .get_by_label("File to import")
        .type_text(bad.to_str().unwrap());
    step_until_contains(&mut harness, "Preview of bad.csv");
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    let deadline = Instant::now() + Duration::from_secs(30);
    while harness
        .query_by_label_contains("Import failed, nothing was written")
        .is_none()
    {
        assert!(Instant::now() < deadline, "no error shown");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.get_by_label_contains("bad.csv:3: expected 2 fields");
    harness.get_by_label("5 items");
    assert_eq!(common::dump(&project), before, "the project changed");
}

#[test]
fn reopening_a_project_shows_its_counts_and_last_import() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop.strata");
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(
        &mut store,
        strata::import::ImportKind::Items,
        data("shop_items.csv"),
    )
    .unwrap();
    drop(store);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.get_by_label("5 items");
    harness.get_by_label_contains("Last import");
    harness.get_by_label_contains(": 5 items and 0 interactions");
}

#[test]
fn a_long_import_can_be_cancelled_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop.strata");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.get_by_label("Orders export").click();
    harness.run();
    harness.get_by_label("File to import").focus();
    harness.run();
    harness
        .get_by_label("File to import")
        .type_text(data("online_retail.csv.gz").to_str().unwrap());
    step_until_contains(&mut harness, "Preview of online_retail.csv.gz");
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    harness.step();
    harness.step();
    harness
        .get_by_role_and_label(Role::Button, "Cancel")
        .click();
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness
        .query_by_label("Import cancelled; the project is unchanged.")
        .is_none()
    {
        assert!(Instant::now() < deadline, "the cancel never landed");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    harness.get_by_label("0 items");
    harness.get_by_label("0 interactions");
}

/// Issue #6: the map tab shows the latest layer run's legend (names and sizes), the share of
/// variance the axes keep, and the search box counts the titles it highlights.
#[test]
fn the_map_shows_the_layers_and_search_highlights_matches() {
    use strata::store::display_name;

    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("topics.strata");
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(
        &mut store,
        strata::import::ImportKind::Items,
        data("planted_topics.csv"),
    )
    .unwrap();
    let items = store.items().unwrap();
    common::layered(&mut store);
    let run = store.latest_layer_run().unwrap().unwrap().run;
    let gardening = items
        .iter()
        .filter(|i| i.title.to_lowercase().contains("garden"))
        .count();
    drop(store);

    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.get_by_label("Map").click();
    harness.step();
    let first = &run.layers[0];
    step_until(
        &mut harness,
        &format!(
            "{}. {} ({})",
            first.id + 1,
            display_name(&first.name),
            first.size
        ),
    );
    harness.get_by_label_contains(&format!("{} items · PCA axes keep", items.len()));
    // The raster is drawn on its own thread: step rather than wait for the UI to settle.
    harness.get_by_label("Search").focus();
    harness.step();
    harness.get_by_label("Search").type_text("Garden");
    assert!(gardening > 0);
    step_until(&mut harness, &format!("{gardening} matching"));
    // Shortcuts switch views: Ctrl+I to Import, Ctrl+M back to the map.
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::I]);
    harness.step();
    harness.get_by_role_and_label(Role::Button, "Start import");
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::M]);
    step_until(&mut harness, &format!("{gardening} matching"));
    // Hiding a layer is a click on its legend entry.
    harness
        .get_by_label(&format!(
            "{}. {} ({})",
            first.id + 1,
            display_name(&first.name),
            first.size
        ))
        .click();
    harness.step();
}

/// Issue #6: the pipeline runs from the window: LSA embedding, then layers, each on its own
/// thread with a message when done, and the map then shows the new layer run.
#[test]
fn the_pipeline_embeds_and_layers_and_the_map_follows() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("topics.strata");
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(
        &mut store,
        strata::import::ImportKind::Items,
        data("planted_topics.csv"),
    )
    .unwrap();
    let items = store.items().unwrap().len();
    drop(store);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.get_by_label("Map").click();
    step_until(
        &mut harness,
        "No layers yet: run Layers on this project to see its map.",
    );
    harness.get_by_label("LSA (no model, weaker)").click();
    harness.run();
    harness.get_by_label("1. Embed items").click();
    step_until_contains(&mut harness, &format!("Embedded {items} items with"));
    harness.get_by_label("2. Make layers").click();
    step_until_contains(&mut harness, "layers in");
    let store = strata::store::Store::open(&project).unwrap();
    let run = store.latest_layer_run().unwrap().expect("a layer run").run;
    let first = &run.layers[0];
    step_until(
        &mut harness,
        &format!(
            "{}. {} ({})",
            first.id + 1,
            strata::store::display_name(&first.name),
            first.size
        ),
    );
}

/// The small shop of `tests/data` (6 items, 3 users' histories), layered with LSA, in `dir`.
fn small_shop(dir: &std::path::Path) -> std::path::PathBuf {
    let project = dir.join("shop.strata");
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(&mut store, ImportKind::Items, data("shop_items.csv")).unwrap();
    common::import(
        &mut store,
        ImportKind::Interactions,
        data("shop_interactions.csv"),
    )
    .unwrap();
    common::layered(&mut store);
    project
}

/// The app on `project`, in its Users view with the recommender ready.
fn users_view(project: &std::path::Path) -> Harness<'static, StrataApp> {
    let project = project.to_path_buf();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .build_eframe(move |cc| StrataApp::new(cc, Some(project)));
    harness.run();
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::U]);
    step_until(&mut harness, "3 of 3 users");
    harness
}

/// Issue #6: the Users view lists users; selecting one shows their layers, the merged list and
/// per-layer tables with reasons, and the map overlays their history and recommendations.
#[test]
fn selecting_a_user_shows_their_layers_recommendations_and_map_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let project = small_shop(dir.path());
    let mut harness = users_view(&project);
    harness.get_by_label("u1").click();
    step_until(&mut harness, "User u1");
    harness.get_by_label("Recommended (merged list)");
    assert!(harness.query_all_by_label("because of").next().is_some());
    assert!(
        harness.query_all_by_label_contains("%").next().is_some(),
        "strength bars"
    );
    // u1 has 3 distinct items: the map overlays them.
    harness.get_by_label("Map").click();
    step_until_contains(&mut harness, "history (3)");
}

/// Issue 16: the Users view keeps its fit in the project; after new orders are imported it
/// offers to list only the users with new history.
#[test]
fn after_new_orders_the_users_view_lists_those_with_new_history_issue_16() {
    let dir = tempfile::tempdir().unwrap();
    let project = small_shop(dir.path());
    let harness = users_view(&project);
    // Every user is new to the first fit: nothing to narrow down.
    assert!(
        harness
            .query_by_label_contains("with new history")
            .is_none()
    );
    drop(harness);

    let orders = dir.path().join("new_orders.csv");
    std::fs::write(
        &orders,
        "customer_id,sku,date,qty\nu2,A101,2024-05-02 11:00,1\n",
    )
    .unwrap();
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(&mut store, ImportKind::Interactions, &orders).unwrap();
    drop(store);
    let mut harness = users_view(&project);
    harness.get_by_label("Only the 1 with new history").click();
    step_until(&mut harness, "1 of 3 users");
    harness.get_by_label("u2");
    assert!(harness.query_by_label("u1").is_none());
}

/// Issue #6, the newcomer's path: Open demo builds the demo shop (import, embed, layers,
/// evaluate) → the map → a user and their recommendations → export writes the file; the
/// Quality view shows the layers' quality and the evaluation.
#[test]
fn open_demo_then_a_users_recommendations_then_export() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo").join("demo-shop.strata");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_eframe(|cc| StrataApp::new(cc, None));
    harness.state_mut().set_demo_path(demo.clone());
    harness.run();
    harness.get_by_label("Open demo").click();
    step_while(&mut harness, 300, "the demo", |h| {
        h.query_all_by_label_contains("The demo shop is ready")
            .next()
            .is_some()
    });
    // Built through the real pipeline: 320 products, 302 customers, a layer run, an evaluation.
    let store = strata::store::Store::open(&demo).unwrap();
    let info = store.info().unwrap();
    assert_eq!((info.items, info.users), (320, 302));
    assert!(store.latest_layer_run().unwrap().is_some());
    assert!(
        strata::recommend::latest_evaluation(&store)
            .unwrap()
            .is_some()
    );
    let user = store.interaction_keys().unwrap()[0].0.clone();
    drop(store);
    step_until_contains(&mut harness, "320 items · PCA axes keep");

    // Issue 15: the Users view fits its recommender on a background thread, with progress
    // and Cancel; a cancelled fit can be started again.
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::U]);
    harness.step();
    harness.step();
    harness.get_by_label("Fitting the recommender to every customer's history…");
    harness
        .get_by_role_and_label(Role::Button, "Cancel")
        .click();
    step_while(&mut harness, 60, "the fit's end", |h| {
        h.query_by_label("Fitting the recommender was cancelled.")
            .is_some()
            || h.query_by_label("302 of 302 users").is_some()
    });
    // The demo's fit takes a few milliseconds: it may finish before the cancel lands.
    if harness
        .query_by_label("Fitting the recommender was cancelled.")
        .is_some()
    {
        harness.get_by_label("Fit it again").click();
    }
    step_until(&mut harness, "302 of 302 users");
    harness.get_by_label(&user).click();
    step_until(&mut harness, &format!("User {user}"));
    harness.get_by_label("Recommended (merged list)");

    // One user's lists, through the (scripted) save dialog.
    let one = dir.path().join("one.csv");
    harness.state_mut().answer_next_dialog(Some(one.clone()));
    harness
        .get_by_label("Export this user's recommendations…")
        .click();
    step_while(&mut harness, 60, "the export of one user", |h| {
        h.query_all_by_label_contains("recommendations for 1 user(s)")
            .next()
            .is_some()
    });
    let text = std::fs::read_to_string(&one).unwrap();
    let text = text.trim_start_matches('\u{feff}');
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("user_id,layer,layer_name,rank,item_id,title,score,reason_item_id")
    );
    let rows: Vec<&str> = lines.collect();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|r| r.starts_with(&format!("{user},"))));

    // Everyone's, with Ctrl+E.
    let all = dir.path().join("all.csv");
    harness.state_mut().answer_next_dialog(Some(all.clone()));
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::E]);
    step_while(&mut harness, 60, "the export of every user", |h| {
        h.query_all_by_label_contains("recommendations for 302 user(s)")
            .next()
            .is_some()
    });
    let mut reader = csv::Reader::from_path(&all).unwrap();
    let users: std::collections::HashSet<String> = reader
        .records()
        .map(|r| r.unwrap()[0].trim_start_matches('\u{feff}').to_owned())
        .collect();
    assert_eq!(users.len(), 302);

    // A cancelled dialog writes nothing and says so.
    harness.state_mut().answer_next_dialog(None);
    harness.get_by_label("Layers…").click();
    step_until_contains(&mut harness, "Nothing exported");

    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::L]);
    step_until(&mut harness, "Recommendations against the baselines");
    harness.get_by_label("Silhouette by number of layers");
    harness.get_by_label("Davies–Bouldin");
    harness.get_by_label_contains("(the best baseline)");
}

/// A file dropped on the window, as the windowing layer hands it to egui.
#[derive(Debug)]
struct Dropped(std::path::PathBuf);

impl egui::DroppedFile for Dropped {
    fn path(&self) -> &std::path::Path {
        &self.0
    }

    fn bytes(&self) -> Result<Vec<u8>, String> {
        std::fs::read(&self.0).map_err(|e| e.to_string())
    }
}

/// Issue #6, the import wizard: a file dropped on the window is previewed with its column
/// mapping; a required column the import does not recognise is chosen by hand, then imported.
#[test]
fn a_dropped_file_is_previewed_and_its_mapping_can_be_changed() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop.strata");
    let orders = dir.path().join("订单.csv");
    std::fs::write(
        &orders,
        "单号,货号,名称,数量,日期,买家编码\n\
         1,A1,红茶,2,2024-01-02 10:00,c1\n\
         1,B2,绿茶,1,2024-01-02 10:00,c1\n\
         2,B2,绿茶,3,2024-01-05 09:30,c2\n",
    )
    .unwrap();
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 900.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.get_by_label("Map").click();
    harness.run();
    harness
        .input_mut()
        .dropped_files
        .push(std::sync::Arc::new(Dropped(orders.clone())));
    step_until_contains(&mut harness, "Preview of 订单.csv");
    // Recognised from its columns it would be a catalogue (no user column is named like one);
    // the user says it is an orders export.
    harness.get_by_label_contains("Read as items");
    harness.get_by_label("Orders export").click();
    step_until_contains(&mut harness, "No column for user_id");
    // The first rows, with the recognised columns marked.
    harness.get_by_label("红茶");
    harness.get_by_label("名称 → title");
    harness.get_by_label_contains("No column for user_id");
    assert!(
        harness
            .get_by_role_and_label(Role::Button, "Start import")
            .accesskit_node()
            .is_disabled()
    );
    harness.get_by_label("user_id (required)").click();
    harness.run();
    // The option in the opened list, not the preview's header cell.
    harness
        .get_by_role_and_label(Role::Button, "买家编码")
        .click();
    step_until(&mut harness, "买家编码 → user_id");
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    step_until(&mut harness, "2 users");
    harness.get_by_label("2 items");
    harness.get_by_label_contains("user_id = 买家编码");
}

/// Issue 13: the `[UNK]` warning reaches the app before any work, with the multilingual model
/// and LSA offered as buttons; the app words each next step as a button to press.
#[test]
fn a_catalogue_the_model_cannot_read_is_stopped_and_another_model_offered() {
    assert!(
        std::env::var_os("STRATA_MODEL_DIR").is_some(),
        "this test needs the real model: run scripts/test (it fetches it) or set STRATA_MODEL_DIR"
    );
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("zh.strata");
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(
        &mut store,
        strata::import::ImportKind::Items,
        data("shop_items_zh.csv"),
    )
    .unwrap();
    drop(store);
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    // Before any layers, the Users view says which button makes them.
    harness.get_by_label("Users").click();
    step_until_contains(&mut harness, "press \"2. Make layers\"");

    harness.get_by_label("all-MiniLM-L6-v2 (default)").click();
    harness.run();
    harness.get_by_label("1. Embed items").click();
    step_until_contains(&mut harness, "of this catalogue's words are unknown to");
    let store = strata::store::Store::open(&project).unwrap();
    assert!(store.embedding().unwrap().is_none(), "nothing was embedded");
    drop(store);
    harness.get_by_role_and_label(Role::Button, "Use the multilingual model");
    harness.get_by_role_and_label(Role::Button, "Embed anyway");
    harness
        .get_by_role_and_label(Role::Button, "Use LSA")
        .click();
    step_until_contains(&mut harness, "Embedded 9 items with LSA");
    let store = strata::store::Store::open(&project).unwrap();
    assert!(store.embedding().unwrap().is_some_and(|e| e.fallback));
}

/// Issue 14: the wizard names a recognised platform export and asks for the second file of a
/// two-file export (Taobao's order and item reports), then imports both at once.
#[test]
fn the_wizard_recognises_a_two_file_export_and_asks_for_its_other_half() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("taobao.strata");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    step_until(&mut harness, "0 items");
    harness.get_by_label("File to import").focus();
    harness.run();
    harness
        .get_by_label("File to import")
        .type_text(data("platforms/taobao_orders.csv").to_str().unwrap());
    step_until_contains(&mut harness, "Recognised as a Taobao/Tmall order report");
    harness.get_by_label_contains("also import a Taobao/Tmall item report");
    assert!(
        harness
            .get_by_role_and_label(Role::Button, "Start import")
            .accesskit_node()
            .is_disabled(),
        "the import waits for the other half"
    );
    harness
        .get_by_label_contains("one half of a two-file export")
        .focus();
    harness.run();
    harness
        .get_by_label_contains("one half of a two-file export")
        .type_text(data("platforms/taobao_items.csv").to_str().unwrap());
    harness.run();
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    step_until(&mut harness, "3 interactions");
    harness.get_by_label_contains("recognised as a Taobao/Tmall item report (宝贝报表)");
    harness.get_by_label_contains("closed trade (交易关闭)");
}

/// Issue 16: new items imported into a layered project get "Update layers" offered; the update
/// keeps the layers, and the Quality view says what changed and shows the sizes across runs.
#[test]
fn importing_into_a_layered_project_offers_an_update_and_reports_it_issue_16() {
    let dir = tempfile::tempdir().unwrap();
    let (first, second) = common::planted_topics_in_two(dir.path(), 48);
    let project = dir.path().join("living.strata");
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(&mut store, strata::import::ImportKind::Items, first).unwrap();
    common::layered(&mut store);
    let before = store.latest_layer_run().unwrap().unwrap();
    drop(store);

    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.get_by_label("LSA (no model, weaker)").click();
    harness.run();
    harness.get_by_label("Items (catalogue)").click();
    harness.run();
    harness.get_by_label("File to import").focus();
    harness.run();
    harness
        .get_by_label("File to import")
        .type_text(second.to_str().unwrap());
    step_until_contains(&mut harness, "Preview of second.csv");
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    step_until_contains(&mut harness, "12 new item(s) are not in the layers yet");
    harness.get_by_label("Update the layers now").click();
    step_until_contains(&mut harness, "Layers updated in");
    // The offer is gone once the layers hold the new items.
    assert!(
        harness
            .query_all_by_label_contains("are not in the layers yet")
            .next()
            .is_none()
    );

    let store = strata::store::Store::open(&project).unwrap();
    let after = store.latest_layer_run().unwrap().unwrap();
    assert_eq!(after.run.updated_from, Some(before.run_id));
    assert_eq!(after.run.layers.len(), before.run.layers.len());
    assert_eq!(store.items_outside_latest_run().unwrap(), Some(0));
    drop(store);

    harness.get_by_label("Quality").click();
    step_until_contains(
        &mut harness,
        &format!("What changed since layer run {}", before.run_id),
    );
    // The report in the view, besides the finished job's own line.
    assert!(
        harness
            .query_all_by_label_contains("kept their layer")
            .count()
            >= 2
    );
    harness.get_by_label("No layer was born, split, merged or lost.");
    harness.get_by_label("Layer sizes across runs");
    harness.get_by_label(&format!("run {}", after.run_id));
}
