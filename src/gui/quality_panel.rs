//! Quality: how good the layers are (silhouette by k with the chosen k, each layer's
//! silhouette and size, Davies–Bouldin, Calinski–Harabasz, stability), what the latest run
//! changed since the one before and the layers' sizes across the recent runs, and how good the
//! recommendations are against the baselines (the latest evaluation).

use egui_plot::{Bar, BarChart, Legend, Line, Plot, PlotPoints, Points, VLine};

use super::project_panel::thousands;
use crate::layers::LayerChanges;
use crate::map::layer_colour;
use crate::recommend::StoredEvaluation;
use crate::store::{StoredLayerRun, display_name};

/// The latest layer run and evaluation, read off the UI thread.
pub struct QualityData {
    pub run: StoredLayerRun,
    pub evaluation: Option<StoredEvaluation>,
    /// What changed since the run stored before the latest (`None` for a first run).
    pub changes: Option<LayerChanges>,
    /// The recent runs, oldest first, the latest last: their layers' sizes side by side.
    pub recent: Vec<StoredLayerRun>,
}

#[derive(Default)]
pub struct QualityPanel;

impl QualityPanel {
    pub fn ui(&mut self, ui: &mut egui::Ui, data: &QualityData) {
        // A solid scroll bar takes its own width, so the columns' right edge (the evaluation's
        // lines, the bar chart) is not drawn under a floating one.
        ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
        egui::ScrollArea::vertical().show(ui, |ui| {
            layers_quality_ui(ui, &data.run);
            ui.add_space(8.0);
            // The layer table on the left, the evaluation beside it: both in one screen.
            ui.columns(2, |columns| {
                layer_table_ui(&mut columns[0], &data.run);
                evaluation_ui(&mut columns[1], data.evaluation.as_ref(), data.run.run_id);
            });
            ui.add_space(8.0);
            ui.columns(2, |columns| {
                changes_ui(&mut columns[0], data.changes.as_ref());
                sizes_across_runs_ui(&mut columns[1], &data.recent);
            });
        });
    }
}

fn colour(layer: usize) -> egui::Color32 {
    let [r, g, b, _] = layer_colour(layer);
    egui::Color32::from_rgb(r, g, b)
}

fn optional(value: Option<f64>, digits: usize) -> String {
    value.map_or_else(|| "–".to_owned(), |v| format!("{v:.digits$}"))
}

fn layers_quality_ui(ui: &mut egui::Ui, stored: &StoredLayerRun) {
    let run = &stored.run;
    let items: usize = run.layers.iter().map(|l| l.size).sum();
    ui.heading(format!(
        "Layers: k = {} over {} items (layer run {})",
        run.k,
        thousands(items as u64),
        stored.run_id
    ));
    for note in &run.notes {
        ui.weak(note);
    }
    let q = &run.quality;
    egui::Grid::new("layer_quality")
        .num_columns(3)
        .striped(true)
        .spacing([24.0, 4.0])
        .show(ui, |ui| {
            let mut row = |what: &str, value: String, help: &str| {
                ui.label(what);
                ui.strong(value);
                ui.weak(help);
                ui.end_row();
            };
            row(
                "Silhouette",
                optional(q.silhouette, 3),
                "−1…1, higher is better: items sit nearer their own layer than the next",
            );
            row(
                "Davies–Bouldin",
                optional(q.davies_bouldin, 3),
                "lower is better: layers compact and far apart",
            );
            row(
                "Calinski–Harabasz",
                optional(q.calinski_harabasz, 1),
                "higher is better: spread between layers over spread within",
            );
            row(
                "Stability",
                optional(q.stability_ari, 3),
                "adjusted Rand index between runs with three seeds; 1 = the same layers",
            );
            row(
                "Map variance",
                format!(
                    "{:.1}%",
                    (q.explained_variance[0] + q.explained_variance[1]) * 100.0
                ),
                "of the vectors' variance the map's two PCA axes show",
            );
        });
    ui.add_space(8.0);

    ui.columns(2, |columns| {
        let ui = &mut columns[0];
        ui.strong("Silhouette by number of layers");
        if run.curve.is_empty() {
            ui.weak("k was fixed or the catalogue too small: no sweep.");
        } else {
            let curve: Vec<[f64; 2]> = run.curve.iter().map(|&(k, s)| [k as f64, s]).collect();
            let marker = ui.visuals().warn_fg_color;
            Plot::new("silhouette_curve")
                .height(220.0)
                .x_axis_label("k")
                .y_axis_label("silhouette")
                .legend(Legend::default().position(egui_plot::Corner::RightBottom))
                .allow_scroll(false)
                .show(ui, |plot| {
                    plot.line(Line::new("silhouette", PlotPoints::from(curve.clone())));
                    plot.points(Points::new("", PlotPoints::from(curve)).radius(3.0));
                    plot.vline(
                        VLine::new(format!("chosen k = {}", run.k), run.k as f64).color(marker),
                    );
                });
        }
        let ui = &mut columns[1];
        ui.strong("Silhouette of each layer");
        let bars: Vec<Bar> = run
            .layers
            .iter()
            .map(|layer| {
                Bar::new(layer.id as f64 + 1.0, layer.silhouette.unwrap_or(0.0))
                    .name(display_name(&layer.name))
                    .fill(colour(layer.id))
                    .width(0.7)
            })
            .collect();
        Plot::new("layer_silhouettes")
            .height(220.0)
            .x_axis_label("layer")
            .y_axis_label("silhouette")
            .allow_scroll(false)
            .show(ui, |plot| plot.bar_chart(BarChart::new("silhouette", bars)));
    });
}

fn layer_table_ui(ui: &mut egui::Ui, stored: &StoredLayerRun) {
    let run = &stored.run;
    let items: usize = run.layers.iter().map(|l| l.size).sum();
    ui.strong("Layers by size and silhouette");
    // What the other four columns and the spacing leave for the name.
    let name_width = (ui.available_width() - 250.0).max(80.0);
    egui::Grid::new("layer_sizes")
        .num_columns(5)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for title in ["layer", "name", "items", "share", "silhouette"] {
                ui.strong(title);
            }
            ui.end_row();
            for layer in &run.layers {
                ui.colored_label(colour(layer.id), format!("● {}", layer.id + 1));
                let subs: Vec<String> = layer
                    .sublayers
                    .iter()
                    .map(|s| format!("{} ({})", display_name(&s.name), s.size))
                    .collect();
                // Long names are cut (the whole name is in the tooltip), so the table keeps to
                // its column.
                ui.scope(|ui| {
                    ui.set_max_width(name_width);
                    ui.add(egui::Label::new(display_name(&layer.name)).truncate())
                        .on_hover_text(format!(
                            "{}\nSub-layers: {}",
                            display_name(&layer.name),
                            subs.join("; ")
                        ));
                });
                ui.label(thousands(layer.size as u64));
                ui.label(format!(
                    "{:.1}%",
                    layer.size as f64 * 100.0 / items.max(1) as f64
                ));
                ui.label(optional(layer.silhouette, 3));
                ui.end_row();
            }
        });
}

/// What the latest run changed, in plain words (the lines `strata layer --diff` prints).
fn changes_ui(ui: &mut egui::Ui, changes: Option<&LayerChanges>) {
    let Some(changes) = changes else {
        ui.strong("Changes since the last run");
        ui.weak(
            "This is the project's first layer run. After new orders or products are imported, \
             \"Update layers\" places them and this says what changed.",
        );
        return;
    };
    ui.strong(format!("What changed since layer run {}", changes.from_run));
    for line in changes.describe().iter().skip(1) {
        ui.label(line);
    }
    if changes.born.is_empty()
        && changes.gone.is_empty()
        && changes.splits.is_empty()
        && changes.merges.is_empty()
    {
        ui.weak("No layer was born, split, merged or lost.");
    }
}

/// Each layer's size in the recent runs, by layer number (a number is a layer's identity from
/// run to run).
fn sizes_across_runs_ui(ui: &mut egui::Ui, recent: &[StoredLayerRun]) {
    ui.strong("Layer sizes across runs");
    if recent.len() < 2 {
        ui.weak("One layer run so far.");
        return;
    }
    let mut ids: Vec<usize> = recent
        .iter()
        .flat_map(|r| r.run.layers.iter().map(|l| l.id))
        .collect();
    ids.sort_unstable();
    ids.dedup();
    egui::Grid::new("layer_sizes_across_runs")
        .num_columns(recent.len() + 1)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            ui.strong("layer");
            for run in recent {
                ui.strong(format!("run {}", run.run_id));
            }
            ui.end_row();
            for id in ids {
                let name = recent
                    .iter()
                    .rev()
                    .find_map(|r| r.run.layers.iter().find(|l| l.id == id))
                    .map(|l| display_name(&l.name))
                    .unwrap_or_default();
                ui.colored_label(colour(id), format!("● {}", id + 1))
                    .on_hover_text(name);
                for run in recent {
                    match run.run.layers.iter().find(|l| l.id == id) {
                        Some(layer) => ui.label(thousands(layer.size as u64)),
                        None => ui.weak("–"),
                    };
                }
                ui.end_row();
            }
        });
}

fn evaluation_ui(ui: &mut egui::Ui, stored: Option<&StoredEvaluation>, run_id: i64) {
    ui.strong("Recommendations against the baselines");
    let Some(stored) = stored else {
        ui.weak(
            "Not evaluated yet. Run \"3. Evaluate\": each user's last basket is held out, \
             and Strata's lists are scored against popular, item-kNN, EASE and content baselines.",
        );
        return;
    };
    let evaluation = &stored.evaluation;
    if stored.layer_run_id != run_id {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            "This evaluation scored an older layer run: evaluate again to score these layers.",
        );
    }
    ui.label(format!(
        "{} users, each with their last basket held out; higher is better.",
        thousands(evaluation.users as u64)
    ));
    let best_ndcg = evaluation
        .methods
        .values()
        .map(|m| m.ndcg)
        .fold(f64::NEG_INFINITY, f64::max);
    egui::Grid::new("evaluation")
        .num_columns(6)
        .striped(true)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            for title in [
                "method",
                "HR@10",
                "NDCG@10",
                "Recall@10",
                "coverage",
                "diversity",
            ] {
                ui.strong(title);
            }
            ui.end_row();
            for (method, m) in &evaluation.methods {
                if method.is_baseline() {
                    ui.label(method.name());
                } else {
                    ui.strong(method.name());
                }
                ui.label(format!("{:.4}", m.hit_rate));
                if m.ndcg == best_ndcg {
                    ui.strong(format!("{:.4}", m.ndcg));
                } else {
                    ui.label(format!("{:.4}", m.ndcg));
                }
                ui.label(format!("{:.4}", m.recall));
                ui.label(format!("{:.4}", m.coverage));
                ui.label(format!("{:.4}", m.diversity));
                ui.end_row();
            }
        });
    let versus = &evaluation.versus_best_baseline;
    ui.label(format!(
        "Strata minus {} (the best baseline): NDCG@10 {:+.4} ± {:.4} (standard error, paired over users).",
        versus.baseline, versus.ndcg_difference, versus.standard_error
    ));
    let tuned = &evaluation.tuned;
    ui.weak(format!(
        "Chosen on validation: content {}, collaborative {}, popularity {} (half-life {} days), free share {}; item models: global {} + layers' local {} + iALS scores {}.",
        tuned.blend.content,
        tuned.blend.collaborative,
        tuned.blend.popularity,
        tuned.trend_half_life_days,
        tuned.free_share,
        tuned.mix.global,
        tuned.mix.local,
        tuned.mix.factors,
    ));
    ui.weak(format!(
        "Baselines' settings: EASE λ {}; RP3beta α {}, β {}; iALS {} factors, λ {}, unobserved weight {:.2e}.",
        tuned.ease_lambda,
        tuned.rp3_alpha,
        tuned.rp3_beta,
        tuned.ials_factors,
        tuned.ials_regularization,
        tuned.ials_unobserved
    ));
    for note in &evaluation.notes {
        ui.weak(note);
    }
}
