//! Users: a searchable list; the selected user's layers as strength bars, their history, and
//! per-layer recommendation tables with score and reason. The app overlays their history and
//! recommendations on the map.

use super::command::{Command, ExportWhat};
use crate::recommend::{ProjectRecommender, RecommendParams, UserRecommendations};

/// A project's recommender with the settings its lists use, loaded off the UI thread.
pub struct LoadedRecommender {
    pub recommender: ProjectRecommender,
    pub params: RecommendParams,
}

/// What the map shows for the selected user.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UserOverlay {
    pub history: Vec<u32>,
    pub recommended: Vec<u32>,
}

#[derive(Default)]
pub struct UsersPanel {
    filter: String,
    /// The selected user (index into the recommender's users) and their lists.
    selected: Option<(usize, UserRecommendations)>,
}

impl UsersPanel {
    /// Forgets the selection (another project or layer run).
    pub fn reset(&mut self) {
        self.selected = None;
    }

    /// The selected user's history and merged list, for the map.
    pub fn overlay(&self, loaded: &LoadedRecommender) -> Option<UserOverlay> {
        let (user, lists) = self.selected.as_ref()?;
        let mut history: Vec<u32> = loaded.recommender.interactions.events[*user]
            .iter()
            .map(|e| e.item)
            .collect();
        history.sort_unstable();
        history.dedup();
        Some(UserOverlay {
            history,
            recommended: lists.merged.iter().map(|r| r.item).collect(),
        })
    }

    pub fn ui(
        &mut self,
        ui: &mut egui::Ui,
        loaded: &LoadedRecommender,
        commands: &mut Vec<Command>,
    ) {
        let users = &loaded.recommender.interactions.user_ids;
        egui::Panel::left("users_list")
            .resizable(true)
            .default_size(200.0)
            .show(ui, |ui| {
                let label = ui.label("Find a user");
                ui.add(
                    egui::TextEdit::singleline(&mut self.filter)
                        .hint_text("user id")
                        .desired_width(f32::INFINITY),
                )
                .labelled_by(label.id);
                let filter = self.filter.trim().to_lowercase();
                let matching: Vec<usize> = (0..users.len())
                    .filter(|&u| filter.is_empty() || users[u].to_lowercase().contains(&filter))
                    .collect();
                ui.weak(format!("{} of {} users", matching.len(), users.len()));
                let row_height = ui.text_style_height(&egui::TextStyle::Button) + 4.0;
                egui::ScrollArea::vertical().auto_shrink(false).show_rows(
                    ui,
                    row_height,
                    matching.len(),
                    |ui, rows| {
                        for &u in &matching[rows] {
                            let chosen = self.selected.as_ref().is_some_and(|(s, _)| *s == u);
                            if ui.selectable_label(chosen, &users[u]).clicked() && !chosen {
                                let lists = loaded.recommender.model.recommend(
                                    &loaded.recommender.interactions.events[u],
                                    &loaded.params,
                                );
                                self.selected = Some((u, lists));
                            }
                        }
                    },
                );
            });
        egui::CentralPanel::default_margins().show(ui, |ui| match &self.selected {
            None => {
                ui.weak("Select a user to see their layers, history and recommendations.");
            }
            Some((user, lists)) => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    user_ui(ui, loaded, *user, lists, commands);
                });
            }
        });
    }
}

fn user_ui(
    ui: &mut egui::Ui,
    loaded: &LoadedRecommender,
    user: usize,
    lists: &UserRecommendations,
    commands: &mut Vec<Command>,
) {
    let recommender = &loaded.recommender;
    let title = |item: u32| recommender.title(item);
    let layer_name = |layer: usize| recommender.layer_name(layer);
    let user_id = &recommender.interactions.user_ids[user];
    ui.horizontal(|ui| {
        ui.heading(format!("User {user_id}"));
        if ui
            .button("Export this user's recommendations…")
            .on_hover_text("Their per-layer lists to CSV")
            .clicked()
        {
            commands.push(Command::Export(ExportWhat::Recommendations {
                user: Some(user_id.clone()),
            }));
        }
    });
    ui.label("Layers by strength");
    for strength in &lists.layers {
        ui.add(
            egui::ProgressBar::new(strength.strength as f32)
                .text(format!(
                    "{} · {:.0}%",
                    layer_name(strength.layer),
                    strength.strength * 100.0
                ))
                .desired_width(ui.available_width().min(520.0)),
        );
    }
    ui.add_space(8.0);
    ui.strong("Recommended (merged list)");
    recommendation_table_ui(ui, "merged", &lists.merged, recommender);
    for (strength, recs) in lists.layers.iter().zip(&lists.per_layer) {
        ui.add_space(6.0);
        egui::CollapsingHeader::new(format!(
            "{} · {:.0}%",
            layer_name(strength.layer),
            strength.strength * 100.0
        ))
        .id_salt(("layer_recs", strength.layer))
        .default_open(true)
        .show(ui, |ui| {
            recommendation_table_ui(ui, &strength.layer.to_string(), recs, recommender);
        });
    }
    ui.add_space(8.0);
    let history = &recommender.interactions.events[user];
    egui::CollapsingHeader::new(format!("History ({} interactions)", history.len()))
        .id_salt("history")
        .show(ui, |ui| {
            for event in history.iter().rev().take(200) {
                ui.label(format!(
                    "{} · {}",
                    title(event.item),
                    layer_name(recommender.model.item_layer(event.item))
                ));
            }
            if history.len() > 200 {
                ui.weak(format!("… and {} older", history.len() - 200));
            }
        });
}

fn recommendation_table_ui(
    ui: &mut egui::Ui,
    id: &str,
    recs: &[crate::recommend::Recommendation],
    recommender: &ProjectRecommender,
) {
    let title = |item: u32| recommender.title(item);
    egui::Grid::new(("recommendations", id))
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for name in ["#", "item", "score", "because of"] {
                ui.strong(name);
            }
            ui.end_row();
            for (rank, rec) in recs.iter().enumerate() {
                ui.label((rank + 1).to_string());
                ui.label(title(rec.item))
                    .on_hover_text(recommender.layer_name(rec.layer));
                ui.label(format!("{:.3}", rec.score));
                ui.label(rec.reason.map_or("", &title));
                ui.end_row();
            }
        });
}
