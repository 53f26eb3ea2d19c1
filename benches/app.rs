//! The whole app while its jobs run (issue #6: "frame time under 50 ms while jobs run").
//!
//! Run: `cargo bench --bench app [-- --orders FILE]`. The real app, headless through
//! egui_kittest at 1280 × 800, is driven as a user would: type the Online Retail orders file,
//! Start import, then 1. Embed items (the default model when `$STRATA_MODEL_DIR` has it, else
//! the LSA fallback), 2. Make layers and 3. Evaluate. While each job runs on its own thread,
//! frames are stepped at about 60 per second and each frame's CPU time is recorded (egui's
//! pass: layout, panels, the app's polling; no GPU). The jobs compete with the frames for this
//! machine's cores, as they do on a user's laptop.
//!
//! With `-- --project FILE` (a copy of it, for `benches/scale.rs --keep FILE`'s 100k-item
//! shop, issue 15) it times the views of a finished project instead: the map loading, then
//! panned and zoomed; the Quality view loading and shown; the Users view fitting the
//! recommender, a search typed (`--user ID`, default U12), that user chosen.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use strata::gui::StrataApp;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// Frame times (ms) while a job runs.
struct Frames {
    what: &'static str,
    millis: Vec<f64>,
    seconds: f64,
}

impl Frames {
    fn report(&self) {
        let mut sorted = self.millis.clone();
        sorted.sort_by(f64::total_cmp);
        if sorted.is_empty() {
            println!("{:<22} no frames", self.what);
            return;
        }
        let n = sorted.len();
        let mean = sorted.iter().sum::<f64>() / n as f64;
        let p95 = sorted[((n as f64 * 0.95) as usize).min(n - 1)];
        let worst = sorted.last().copied().unwrap_or(0.0);
        let over = sorted.iter().filter(|&&ms| ms >= 50.0).count();
        println!(
            "{:<22} {:>6} frames over {:>6.1} s   mean {:>6.2} ms   p95 {:>6.2} ms   worst {:>6.1} ms   ≥ 50 ms: {over}",
            self.what,
            sorted.len(),
            self.seconds,
            mean,
            p95,
            worst
        );
    }
}

/// One frame's CPU time in ms, then a sleep to the next sixtieth of a second.
fn timed_frame(harness: &mut Harness<'_, StrataApp>) -> f64 {
    let frame = Instant::now();
    harness.step();
    let spent = frame.elapsed();
    std::thread::sleep(Duration::from_millis(16).saturating_sub(spent));
    spent.as_secs_f64() * 1000.0
}

/// Steps frames at ~60 per second until `done` says so (or 10 minutes pass).
fn frames_until(
    harness: &mut Harness<'_, StrataApp>,
    what: &'static str,
    done: impl Fn(&Harness<'_, StrataApp>) -> bool,
) -> Frames {
    let started = Instant::now();
    let mut millis = Vec::new();
    while !done(harness) {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{what} did not finish"
        );
        millis.push(timed_frame(harness));
    }
    Frames {
        what,
        millis,
        seconds: started.elapsed().as_secs_f64(),
    }
}

fn says(harness: &Harness<'_, StrataApp>, text: &str) -> bool {
    harness.query_all_by_label_contains(text).next().is_some()
}

/// The first label on screen containing `text`.
fn said(harness: &Harness<'_, StrataApp>, text: &str) -> Option<String> {
    harness
        .query_all_by_label_contains(text)
        .next()
        .and_then(|node| {
            let node = node.accesskit_node();
            node.label().or_else(|| node.value())
        })
}

fn main() {
    // `cargo test --all-targets` runs benches too, without `--bench`: nothing to time then.
    if !std::env::args().any(|a| a == "--bench") {
        println!("app benchmark: run it with `cargo bench --bench app`");
        return;
    }
    if let Some(project) = arg("--project") {
        views(&PathBuf::from(project));
        return;
    }
    let orders = arg("--orders").map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/online_retail.csv.gz")
    });
    let dir = tempfile::tempdir().expect("a temporary folder");
    let project = dir.path().join("bench.strata");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.step();
    harness.get_by_label("Orders export").click();
    harness.step();
    harness.get_by_label("File to import").focus();
    harness.step();
    harness
        .get_by_label("File to import")
        .type_text(&orders.display().to_string());
    let file_name = orders
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let preview = frames_until(&mut harness, "preview", |h| {
        says(h, &format!("Preview of {file_name}"))
    });
    harness
        .get_by_role_and_label(Role::Button, "Start import")
        .click();
    let import = frames_until(&mut harness, "import", |h| says(h, "Imported "));
    let mut messages = vec![said(&harness, "Imported ")];

    let mut runs = vec![preview, import];
    for (button, what, done) in [
        ("1. Embed items", "embed", "Embedded "),
        ("2. Make layers", "layers", " layers in "),
        ("3. Evaluate", "evaluate", "Evaluated "),
    ] {
        harness.get_by_role_and_label(Role::Button, button).click();
        runs.push(frames_until(&mut harness, what, |h| {
            says(h, done) || says(h, "failed")
        }));
        if let Some(failed) = said(&harness, "failed") {
            panic!("{what} failed: {failed}");
        }
        messages.push(said(&harness, done));
    }
    // The map and the users, read and fitted on their threads while the frames go on.
    harness.get_by_label("Map").click();
    runs.push(frames_until(&mut harness, "map load", |h| {
        says(h, "PCA axes keep")
    }));
    harness.get_by_label("Users").click();
    runs.push(frames_until(&mut harness, "recommender fit", |h| {
        says(h, "Find a user")
    }));

    println!(
        "Frame CPU time while jobs run ({}, 1280 × 800, ~60 frames/s; target < 50 ms)",
        orders.display()
    );
    for message in messages.iter().flatten() {
        println!("  {message}");
    }
    report(&runs);
}

/// Each run's frame times, then the worst frame of all.
fn report(runs: &[Frames]) {
    for run in runs {
        run.report();
    }
    let worst = runs
        .iter()
        .flat_map(|r| r.millis.iter().copied())
        .fold(0.0, f64::max);
    println!("worst frame of all: {worst:.1} ms");
}

/// `frames` more frames, each after `input` adds its events (the frame's number given).
fn frames_with(
    harness: &mut Harness<'_, StrataApp>,
    what: &'static str,
    frames: usize,
    mut input: impl FnMut(&mut Harness<'_, StrataApp>, usize),
) -> Frames {
    let started = Instant::now();
    let mut millis = Vec::with_capacity(frames);
    for n in 0..frames {
        input(harness, n);
        millis.push(timed_frame(harness));
    }
    Frames {
        what,
        millis,
        seconds: started.elapsed().as_secs_f64(),
    }
}

/// The views of the finished project `source` (a copy of it), frame by frame.
fn views(source: &std::path::Path) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let project = dir.path().join("views.strata");
    std::fs::copy(source, &project).expect("a copy of the project");
    let info = strata::store::Store::open(&project)
        .and_then(|store| store.info())
        .expect("the project");
    let mut harness = Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_eframe(|cc| StrataApp::new(cc, Some(project.clone())));
    harness.step();
    harness.get_by_label("Map").click();
    let mut runs = vec![frames_until(&mut harness, "map load", |h| {
        says(h, "PCA axes keep")
    })];
    // The map's middle: drag across it, then zoom in and out there.
    let centre = egui::pos2(800.0, 420.0);
    runs.push(frames_with(&mut harness, "map pan", 120, |h, n| {
        let at = centre + egui::vec2((n as f32 * 3.0) % 240.0 - 120.0, 0.0);
        let events = &mut h.input_mut().events;
        if n == 0 {
            events.push(egui::Event::PointerMoved(at));
            events.push(egui::Event::PointerButton {
                pos: at,
                button: egui::PointerButton::Primary,
                pressed: true,
                modifiers: egui::Modifiers::NONE,
            });
        } else if n == 119 {
            events.push(egui::Event::PointerButton {
                pos: at,
                button: egui::PointerButton::Primary,
                pressed: false,
                modifiers: egui::Modifiers::NONE,
            });
        } else {
            events.push(egui::Event::PointerMoved(at));
        }
    }));
    runs.push(frames_with(&mut harness, "map zoom", 120, |h, n| {
        let factor = if n < 60 { 1.03 } else { 1.0 / 1.03 };
        let events = &mut h.input_mut().events;
        events.push(egui::Event::PointerMoved(centre));
        events.push(egui::Event::Zoom(factor));
    }));
    harness.get_by_label("Quality").click();
    runs.push(frames_until(&mut harness, "quality load", |h| {
        says(h, "Layers: k = ")
    }));
    runs.push(frames_with(&mut harness, "quality shown", 60, |_, _| {}));
    harness.get_by_label("Users").click();
    runs.push(frames_until(&mut harness, "recommender fit", |h| {
        says(h, "Find a user")
    }));
    harness.get_by_label("Find a user").focus();
    harness.step();
    // The scale shop's customers are U0…U49999; `--user ID` names another project's.
    let user = arg("--user").unwrap_or_else(|| "U12".to_owned());
    harness.get_by_label("Find a user").type_text(&user);
    runs.push(frames_with(&mut harness, "user search", 30, |_, _| {}));
    let first = said(&harness, &format!(" of {} users", info.users)).unwrap_or_default();
    harness.get_by_label(&user).click();
    runs.push(frames_until(&mut harness, "a user's lists", |h| {
        says(h, "Recommended (merged list)")
    }));
    println!(
        "Frame CPU time on the views of {} ({} items, {} users; 1280 × 800, ~60 frames/s; target < 50 ms)",
        source.display(),
        info.items,
        info.users
    );
    println!("  search: {first}");
    report(&runs);
}
