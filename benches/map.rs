//! Layer map benchmark (issue #6): egui's CPU time per frame with the map of 1M points, and
//! the hover lookup, against the targets (≤ 8 ms a frame, ≤ 1 ms a lookup).
//!
//! Run: `cargo bench --bench map [-- --points N]`. Headless: a real `egui::Context` runs the
//! real map panel at 1280 × 800 and tessellates its output each frame; only the GPU upload is
//! left out. The points are a seeded scatter of 12 layers with 4 sub-layers each.

use std::time::Instant;

use egui::{Event, PointerButton, Pos2, RawInput, Rect, pos2, vec2};
use strata::gui::{MapPanel, UserOverlay};
use strata::map::{
    LegendLayer, LegendSublayer, MapData, MapView, layer_colour, rasterize, sublayer_colour,
};
use strata::store::ItemLayerRow;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// A seeded generator (64-bit LCG), uniform in 0..1.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32) / (1u64 << 24) as f32
    }

    /// Roughly normal (sum of four uniforms, centred).
    fn normal(&mut self) -> f32 {
        (self.next() + self.next() + self.next() + self.next() - 2.0) * 1.7
    }
}

fn synthetic(n: usize) -> MapData {
    let (layers, subs) = (12usize, 4usize);
    let mut rng = Seeded(42);
    let centres: Vec<[f32; 2]> = (0..layers)
        .map(|_| [rng.next() * 10.0 - 5.0, rng.next() * 8.0 - 4.0])
        .collect();
    let mut sizes = vec![vec![0usize; subs]; layers];
    let rows: Vec<ItemLayerRow> = (0..n)
        .map(|i| {
            let (l, s) = (i % layers, (i / layers) % subs);
            sizes[l][s] += 1;
            let c = centres[l];
            let offset = [(s % 2) as f32 * 0.6 - 0.3, (s / 2) as f32 * 0.6 - 0.3];
            ItemLayerRow {
                item_id: format!("I{i}"),
                title: format!("item {i} of layer {l}"),
                layer: l as i64 + 1,
                layer_index: l,
                layer_name: String::new(),
                sublayer: s as i64 + 1,
                sublayer_name: String::new(),
                x: f64::from(c[0] + offset[0] + rng.normal() * 0.35),
                y: f64::from(c[1] + offset[1] + rng.normal() * 0.35),
            }
        })
        .collect();
    let legend = (0..layers)
        .map(|l| LegendLayer {
            number: l + 1,
            name: format!("layer {l}"),
            size: sizes[l].iter().sum(),
            colour: layer_colour(l),
            sublayers: (0..subs)
                .map(|s| LegendSublayer {
                    name: format!("sub {s}"),
                    size: sizes[l][s],
                    colour: sublayer_colour(l, s, subs),
                })
                .collect(),
        })
        .collect();
    MapData::new(&rows, legend, [0.041, 0.033])
}

/// One frame's input at `time` seconds (60 frames a second, so tooltips' delays pass).
fn input(events: Vec<Event>, time: f64) -> RawInput {
    RawInput {
        screen_rect: Some(Rect::from_min_size(Pos2::ZERO, vec2(1280.0, 800.0))),
        max_texture_side: Some(8192),
        time: Some(time),
        predicted_dt: 1.0 / 60.0,
        events,
        ..Default::default()
    }
}

/// Mean and worst milliseconds of `frames` frames; `events(frame)` gives each frame's input.
fn frames(
    ctx: &egui::Context,
    panel: &mut MapPanel,
    data: &std::sync::Arc<MapData>,
    frames: usize,
    events: impl Fn(usize) -> Vec<Event>,
) -> (f64, f64) {
    let mut times = Vec::with_capacity(frames);
    for frame in 0..frames {
        let time = ctx.input(|i| i.time) + 1.0 / 60.0;
        let started = Instant::now();
        let output = ctx.run_ui(input(events(frame), time), |ui| {
            panel.ui(ui, Some(data), &UserOverlay::default());
        });
        let primitives = ctx.tessellate(output.shapes, output.pixels_per_point);
        std::hint::black_box(primitives);
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    (mean, times.iter().copied().fold(0.0, f64::max))
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        println!("map benchmark: run it with `cargo bench --bench map`");
        return;
    }
    let n: usize = arg("--points")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let started = Instant::now();
    let data = std::sync::Arc::new(synthetic(n));
    println!(
        "{n} points: data and grid index built in {:.2} s",
        started.elapsed().as_secs_f64()
    );

    // Hover lookups at seeded positions over the whole map, 6 px radius at the fitted view.
    let view = MapView::fit(data.points.bounds(), [1000, 760]);
    let radius = 6.0 / view.pixels_per_unit;
    let mut rng = Seeded(7);
    let queries: Vec<[f32; 2]> = (0..20_000)
        .map(|_| view.to_world([rng.next() * 1000.0, rng.next() * 760.0]))
        .collect();
    let mut worst = 0f64;
    let mut found = 0usize;
    let started = Instant::now();
    for &at in &queries {
        let one = Instant::now();
        found += usize::from(
            data.grid
                .nearest(&data.points.xy, at, radius, |_| true)
                .is_some(),
        );
        worst = worst.max(one.elapsed().as_secs_f64() * 1e3);
    }
    let mean = started.elapsed().as_secs_f64() * 1e3 / queries.len() as f64;
    println!(
        "hover lookup: mean {:.4} ms, worst {worst:.3} ms over {} positions ({found} on a point; target ≤ 1 ms)",
        mean,
        queries.len()
    );

    // The raster itself, as the `strata-map-raster` thread draws it (off the UI thread).
    let colours = &data.colours;
    let mut times = Vec::new();
    for step in 0..10 {
        let mut moved = view;
        moved.pan([step as f32 * 7.0, 0.0]);
        let started = Instant::now();
        let raster = rasterize(&data.points, &moved, colours, &[], 2);
        std::hint::black_box(raster);
        times.push(started.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "raster of every point at 1000 × 760 (background thread): mean {:.2} ms, worst {:.2} ms",
        times.iter().sum::<f64>() / times.len() as f64,
        times.iter().copied().fold(0.0, f64::max)
    );

    let ctx = egui::Context::default();
    let mut panel = MapPanel::default();
    // First frames: layout settles, the first raster is started; wait until it shows.
    let (first, _) = frames(&ctx, &mut panel, &data, 3, |_| Vec::new());
    std::thread::sleep(std::time::Duration::from_millis(500));
    println!("first frames: mean {first:.3} ms");
    let (still, still_worst) = frames(&ctx, &mut panel, &data, 60, |_| Vec::new());
    println!("still view: mean {still:.3} ms, worst {still_worst:.3} ms per frame (target ≤ 8 ms)");
    let centre = pos2(500.0, 420.0);
    // The pointer glides for a second, then rests on a point for a second (its tooltip shows).
    let resting = {
        let world = data.points.xy[0];
        let fitted = MapView::fit(data.points.bounds(), [1000, 740]);
        let [x, y] = fitted.to_pixel(world);
        pos2(x, y)
    };
    let (hover, hover_worst) = frames(&ctx, &mut panel, &data, 120, |f| {
        let t = f as f32 / 60.0 * std::f32::consts::TAU;
        if f < 60 {
            vec![Event::PointerMoved(centre + vec2(t.cos(), t.sin()) * 200.0)]
        } else {
            vec![Event::PointerMoved(resting)]
        }
    });
    println!(
        "pointer moving (hover + tooltip): mean {hover:.3} ms, worst {hover_worst:.3} ms per frame (target ≤ 8 ms)"
    );
    let (pan, pan_worst) = frames(&ctx, &mut panel, &data, 40, |f| {
        let at = centre + vec2(f as f32 * 3.0, 0.0);
        let mut events = vec![Event::PointerMoved(at)];
        if f == 0 {
            events.push(Event::PointerButton {
                pos: at,
                button: PointerButton::Primary,
                pressed: true,
                modifiers: Default::default(),
            });
        }
        events
    });
    println!(
        "dragging (the last raster moves, new ones drawn off the UI thread): mean {pan:.3} ms, worst {pan_worst:.3} ms per frame (target ≤ 8 ms)"
    );
}
