//! Snapshot images of the app's main views (issue #6), rendered headlessly with wgpu
//! (Mesa's lavapipe in CI) and compared with `tests/snapshots/*.png`. After a deliberate
//! change to the UI, `UPDATE_SNAPSHOTS=1 cargo test --test snapshots` writes new images:
//! look at them before committing.
//!
//! Every path shown is relative and the demo uses the seeded LSA fallback, so the images are
//! the same on every machine; no clock or timing text is on screen when they are taken.
#![allow(clippy::unwrap_used)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use strata::gui::StrataApp;

fn step_until_contains(harness: &mut Harness<'_, StrataApp>, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(300);
    while harness.query_all_by_label_contains(text).next().is_none() {
        assert!(Instant::now() < deadline, "nothing with '{text}' appeared");
        harness.step();
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// A few more frames, so images made on background threads (the map) are shown.
fn settle(harness: &mut Harness<'_, StrataApp>) {
    for _ in 0..20 {
        harness.step();
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn main_views() {
    // Relative to the package root, where tests run: the same text on every machine.
    let demo = PathBuf::from("target/snapshot-demo/demo-shop.strata");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .wgpu()
        .build_eframe(|cc| StrataApp::new(cc, None));
    harness.state_mut().set_demo_path(demo);
    harness.step();

    // The import wizard previewing a Chinese catalogue (the bundled CJK font renders it).
    harness.get_by_label("Items (catalogue)").click();
    harness.step();
    harness.get_by_label("File to import").focus();
    harness.step();
    harness
        .get_by_label("File to import")
        .type_text("tests/data/shop_items_zh.csv");
    step_until_contains(&mut harness, "Preview of shop_items_zh.csv");
    settle(&mut harness);
    harness.snapshot("import_preview");

    // The demo shop with the LSA fallback (seeded, no model needed).
    harness.get_by_label("LSA (no model, weaker)").click();
    harness.step();
    harness.get_by_label("Open demo").click();
    step_until_contains(&mut harness, "The demo shop is ready");
    step_until_contains(&mut harness, "320 items · PCA axes keep");
    settle(&mut harness);
    harness.snapshot("map");

    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::U]);
    step_until_contains(&mut harness, "302 of 302 users");
    harness.get_by_label("Find a user").focus();
    harness.step();
    harness.get_by_label("Find a user").type_text("12347");
    step_until_contains(&mut harness, "1 of 302 users");
    harness.get_by_role_and_label(Role::Button, "12347").click();
    step_until_contains(&mut harness, "Recommended (merged list)");
    settle(&mut harness);
    harness.snapshot("users");

    harness.key_combination_modifiers(egui::Modifiers::COMMAND, &[egui::Key::L]);
    step_until_contains(&mut harness, "Recommendations against the baselines");
    settle(&mut harness);
    harness.snapshot("quality");
}
