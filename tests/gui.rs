//! The first window, driven with egui_kittest: create a project, import a
//! small fixture through the real import code, see the counts (issue #2).
#![allow(clippy::unwrap_used)]

mod common;

use std::time::{Duration, Instant};

use common::data;
use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use strata::gui::StrataApp;

/// Steps the app until `label` is on screen (the import runs on its own thread).
fn step_until(harness: &mut Harness<'_, StrataApp>, label: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness.query_by_label(label).is_none() {
        assert!(Instant::now() < deadline, "'{label}' never appeared");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Steps the app until a label containing `text` is on screen.
fn step_until_contains(harness: &mut Harness<'_, StrataApp>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while harness.query_all_by_label_contains(text).next().is_none() {
        assert!(Instant::now() < deadline, "nothing with '{text}' appeared");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
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
    harness.run();
    assert!(project.is_file(), "the project file was created");
    harness.get_by_label("0 items");

    harness.get_by_label("Items (catalogue)").click();
    harness.run();
    harness.get_by_label("File to import").focus();
    harness.run();
    harness
        .get_by_label("File to import")
        .type_text(data("shop_items.csv").to_str().unwrap());
    harness.run();
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    step_until(&mut harness, "5 items");
    harness.get_by_label_contains("Imported 5 items and 0 interactions");

    harness.get_by_label("Interactions (histories)").click();
    harness.run();
    harness.get_by_label("File to import").focus();
    harness.run();
    // Select the old path and type over it.
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::A]);
    harness.run();
    harness
        .get_by_label("File to import")
        .type_text(data("shop_interactions.csv").to_str().unwrap());
    harness.run();
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
    harness.run();
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    step_until(&mut harness, "0 items");
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
    harness.run();
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
    use strata::embed::{LsaEmbedder, embed_project, item_text};
    use strata::layers::{LayerParams, layer_project};
    use strata::pipeline::JobContext;
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
    let texts: Vec<String> = items.iter().map(item_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let lsa = LsaEmbedder::fit(&refs).unwrap();
    embed_project(&mut store, &lsa, 64, &JobContext::silent()).unwrap();
    layer_project(&mut store, &LayerParams::default(), &JobContext::silent()).unwrap();
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
    harness.run();
    let first = &run.layers[0];
    step_until(
        &mut harness,
        &format!("{} ({})", display_name(&first.name), first.size),
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
        .get_by_label(&format!("{} ({})", display_name(&first.name), first.size))
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
            "{} ({})",
            strata::store::display_name(&first.name),
            first.size
        ),
    );
}

/// Issue #6: the Users view lists users; selecting one shows their layers, the merged list and
/// per-layer tables with reasons, and the map overlays their history and recommendations.
#[test]
fn selecting_a_user_shows_their_layers_recommendations_and_map_overlay() {
    use strata::embed::{LsaEmbedder, embed_project, item_text};
    use strata::layers::{LayerParams, layer_project};
    use strata::pipeline::JobContext;

    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("shop.strata");
    let mut store = strata::store::Store::open(&project).unwrap();
    common::import(
        &mut store,
        strata::import::ImportKind::Items,
        data("shop_items.csv"),
    )
    .unwrap();
    common::import(
        &mut store,
        strata::import::ImportKind::Interactions,
        data("shop_interactions.csv"),
    )
    .unwrap();
    let texts: Vec<String> = store.items().unwrap().iter().map(item_text).collect();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let lsa = LsaEmbedder::fit(&refs).unwrap();
    embed_project(&mut store, &lsa, 64, &JobContext::silent()).unwrap();
    layer_project(&mut store, &LayerParams::default(), &JobContext::silent()).unwrap();
    drop(store);

    let mut harness = Harness::builder()
        .with_size(egui::vec2(1100.0, 900.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.run();
    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::U]);
    step_until(&mut harness, "3 of 3 users");
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
