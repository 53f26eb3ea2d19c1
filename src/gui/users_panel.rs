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
    /// The user whose lists are being worked out off the UI thread.
    pending: Option<usize>,
    /// Only the users whose histories changed since the recommender's last full fit.
    only_changed: bool,
    /// The users' ids in lower case, and the users the filter (and `only_changed`) last
    /// matched: worked out when they change, not every frame (50,000 users took 11 ms a frame).
    lower_ids: Vec<String>,
    matching: Option<(String, bool, Vec<usize>)>,
}

/// A user's lists, by item index (for the map) and as rows (for the tables).
pub struct Selected {
    pub user: usize,
    pub lists: UserRecommendations,
    pub rows: UserLists,
}

impl Selected {
    /// Works out the lists of `user` (tens of milliseconds at 100,000 items: off the UI
    /// thread).
    pub fn of(recommender: &ProjectRecommender, user: usize) -> Self {
        let lists = recommender.lists(user);
        let rows = recommender.rows(user, &lists);
        Self { user, lists, rows }
    }
}

impl UsersPanel {
    /// Forgets the selection and the users (another project or layer run).
    pub fn reset(&mut self) {
        self.selected = None;
        self.pending = None;
        self.lower_ids.clear();
        self.matching = None;
    }

    /// Shows `selected`, the lists worked out for the user last chosen.
    pub fn show(&mut self, selected: Selected) {
        if self.pending == Some(selected.user) {
            self.pending = None;
            self.selected = Some(selected);
        }
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
                // After an import: the users with new history, whose lists changed (issue 16).
                let changed = &recommender.changed_users;
                if !changed.is_empty() && changed.len() < users.len() {
                    ui.checkbox(
                        &mut self.only_changed,
                        format!("Only the {} with new history", changed.len()),
                    )
                    .on_hover_text(
                        "Users whose histories changed since the recommender was last fitted \
                         in full: after an import, the customers with new orders",
                    );
                } else {
                    self.only_changed = false;
                }
                if self.lower_ids.len() != users.len() {
                    self.lower_ids = users.iter().map(|id| id.to_lowercase()).collect();
                    self.matching = None;
                }
                let filter = self.filter.trim().to_lowercase();
                let only_changed = self.only_changed;
                if self
                    .matching
                    .as_ref()
                    .is_none_or(|(f, only, _)| *f != filter || *only != only_changed)
                {
                    // `changed_users` is in user order.
                    let matching = (0..users.len())
                        .filter(|u| !only_changed || changed.binary_search(u).is_ok())
                        .filter(|&u| filter.is_empty() || self.lower_ids[u].contains(&filter))
                        .collect();
                    self.matching = Some((filter, only_changed, matching));
                }
                let matching = self.matching.as_ref().map_or(&[][..], |(_, _, m)| m);
                ui.weak(format!("{} of {} users", matching.len(), users.len()));
                let row_height = ui.text_style_height(&egui::TextStyle::Button) + 4.0;
                egui::ScrollArea::vertical().auto_shrink(false).show_rows(
                    ui,
                    row_height,
                    matching.len(),
                    |ui, rows| {
                        for &u in &matching[rows] {
                            let chosen =
                                self.pending.or(self.selected.as_ref().map(|s| s.user)) == Some(u);
                            if ui.selectable_label(chosen, &users[u]).clicked() && !chosen {
                                self.pending = Some(u);
                                commands.push(Command::ShowUser(u));
                            }
                        }
                    },
                );
            });
        egui::CentralPanel::default_margins().show(ui, |ui| match &self.selected {
            _ if self.pending.is_some() => {
                ui.horizontal(|ui| {
                    ui.spinner();
                    ui.label("Working out the lists…");
                });
            }
            None => {
                ui.weak("Select a user to see their layers, history and recommendations.");
            }
            Some(selected) => {
                // A solid scroll bar takes its own width: the tables' right edge stays in view.
                ui.spacing_mut().scroll = egui::style::ScrollStyle::solid();
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
