//! Users: a searchable list; the selected user's layers as strength bars, their history, and
//! per-layer recommendation tables with score and reason. The app overlays their history and
//! recommendations on the map.

use super::command::{Command, ExportWhat};
use crate::recommend::{ProjectRecommender, RecommendationRow, UserLists, UserRecommendations};

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
    selected: Option<Selected>,
}

/// The selected user's lists, by item index (for the map) and as rows (for the tables).
struct Selected {
    user: usize,
    lists: UserRecommendations,
    rows: UserLists,
}

impl UsersPanel {
    /// Forgets the selection (another project or layer run).
    pub fn reset(&mut self) {
        self.selected = None;
    }

    /// The selected user's history and merged list, for the map.
    pub fn overlay(&self, recommender: &ProjectRecommender) -> Option<UserOverlay> {
        let Selected { user, lists, .. } = self.selected.as_ref()?;
        let mut history: Vec<u32> = recommender.interactions.events[*user]
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
        recommender: &ProjectRecommender,
        commands: &mut Vec<Command>,
    ) {
        let users = &recommender.interactions.user_ids;
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
                            let chosen = self.selected.as_ref().is_some_and(|s| s.user == u);
                            if ui.selectable_label(chosen, &users[u]).clicked() && !chosen {
                                let lists = recommender.lists(u);
                                let rows = recommender.rows(u, &lists);
                                self.selected = Some(Selected {
                                    user: u,
                                    lists,
                                    rows,
                                });
                            }
                        }
                    },
                );
            });
        egui::CentralPanel::default_margins().show(ui, |ui| match &self.selected {
            None => {
                ui.weak("Select a user to see their layers, history and recommendations.");
            }
            Some(selected) => {
                egui::ScrollArea::vertical().show(ui, |ui| {
                    user_ui(ui, recommender, selected, commands);
                });
            }
        });
    }
}

fn user_ui(
    ui: &mut egui::Ui,
    recommender: &ProjectRecommender,
    selected: &Selected,
    commands: &mut Vec<Command>,
) {
    let rows = &selected.rows;
    let user_id = &rows.user_id;
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
    for layer in &rows.layers {
        ui.add(
            egui::ProgressBar::new(layer.strength as f32)
                .text(format!(
                    "{} · {:.0}%",
                    layer.layer_name,
                    layer.strength * 100.0
                ))
                .desired_width(ui.available_width().min(520.0)),
        );
    }
    ui.add_space(8.0);
    ui.strong("Recommended (merged list)");
    recommendation_table_ui(ui, "merged", &rows.merged);
    for layer in &rows.layers {
        ui.add_space(6.0);
        egui::CollapsingHeader::new(format!(
            "{} · {:.0}%",
            layer.layer_name,
            layer.strength * 100.0
        ))
        .id_salt(("layer_recs", layer.layer))
        .default_open(true)
        .show(ui, |ui| {
            recommendation_table_ui(ui, &layer.layer.to_string(), &layer.recommendations);
        });
    }
    ui.add_space(8.0);
    let history = &recommender.interactions.events[selected.user];
    egui::CollapsingHeader::new(format!("History ({} interactions)", history.len()))
        .id_salt("history")
        .show(ui, |ui| {
            for event in history.iter().rev().take(200) {
                ui.label(format!(
                    "{} · {}",
                    recommender.title(event.item),
                    recommender.layer_name(recommender.model.item_layer(event.item))
                ));
            }
            if history.len() > 200 {
                ui.weak(format!("… and {} older", history.len() - 200));
            }
        });
}

fn recommendation_table_ui(ui: &mut egui::Ui, id: &str, rows: &[RecommendationRow]) {
    egui::Grid::new(("recommendations", id))
        .striped(true)
        .num_columns(4)
        .show(ui, |ui| {
            for name in ["#", "item", "score", "because of"] {
                ui.strong(name);
            }
            ui.end_row();
            for row in rows {
                ui.label(row.rank.to_string());
                ui.label(&row.title).on_hover_text(&row.layer_name);
                ui.label(format!("{:.3}", row.score));
                ui.label(row.reason_title.as_deref().unwrap_or(""));
                ui.end_row();
            }
        });
}
