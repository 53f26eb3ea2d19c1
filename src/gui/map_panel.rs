//! The layer map: every item a point at its PCA position, coloured by layer with sub-layers as
//! shades; a legend tree that hides and shows layers; hover names the item; drag pans, the
//! wheel zooms, a double click fits the map again; the search box highlights matches.
//!
//! The points are rasterised into one texture ([`crate::map::rasterize`]) only when what the
//! map shows changes, and never on the UI thread: a `strata-map-raster` thread draws the new
//! image while the frames go on showing the last one, moved and scaled to the current view.
//! So a frame costs the same at 1M points as at 1k, dragging and zooming included.

use std::sync::Arc;

use egui::{Color32, ColorImage, Sense, TextureHandle, TextureOptions, Vec2};

use super::task::Task;
use super::users_panel::UserOverlay;
use crate::map::{Highlight, MapData, MapView, rasterize};

/// Pixels around the pointer in which hover finds a point.
const HOVER_RADIUS: f32 = 6.0;
/// Search matches, drawn on top of the dimmed map.
const MATCH_COLOUR: [u8; 4] = [255, 210, 0, 255];
/// The selected user's history.
const HISTORY_COLOUR: [u8; 4] = [240, 240, 240, 255];
/// The selected user's recommendations.
const RECOMMENDED_COLOUR: [u8; 4] = [0, 200, 255, 255];

/// What the texture shows; a new raster is drawn when this changes.
#[derive(Clone, Debug, PartialEq)]
struct Drawn {
    view: MapView,
    /// `colours[layer][sublayer]`, transparent where hidden.
    colours: Vec<Vec<[u8; 4]>>,
    query: String,
    overlay: UserOverlay,
    point_size: usize,
}

/// A raster being drawn off the UI thread.
struct PendingRaster {
    drawn: Drawn,
    /// The image, and the search's matches it highlights.
    image: Task<(ColorImage, Arc<Vec<u32>>)>,
}

#[derive(Default)]
pub struct MapPanel {
    view: Option<MapView>,
    /// Per layer: hidden itself, and which of its sub-layers are hidden.
    hidden: Vec<(bool, Vec<bool>)>,
    /// What the search box says.
    search: String,
    /// Items matching `matched_query` (searched on the raster thread).
    matches: Arc<Vec<u32>>,
    matched_query: String,
    texture: Option<TextureHandle>,
    /// What the texture shows.
    drawn: Option<Drawn>,
    pending: Option<PendingRaster>,
    /// The item under the pointer in the last frame.
    hovered: Option<u32>,
    /// Put the keyboard focus in the search box next frame.
    wants_search_focus: bool,
}

impl MapPanel {
    /// Puts the keyboard focus in the search box.
    pub fn focus_search(&mut self) {
        self.wants_search_focus = true;
    }

    /// Forgets the view and the texture (another project or layer run).
    pub fn reset(&mut self) {
        *self = Self {
            search: std::mem::take(&mut self.search),
            ..Self::default()
        };
    }

    pub fn ui(&mut self, ui: &mut egui::Ui, data: Option<&Arc<MapData>>, overlay: &UserOverlay) {
        let Some(data) = data else {
            ui.weak("No layers yet: run Layers on this project to see its map.");
            return;
        };
        if self.hidden.len() != data.legend.len() {
            self.hidden = data
                .legend
                .iter()
                .map(|l| (false, vec![false; l.sublayers.len()]))
                .collect();
        }
        self.toolbar_ui(ui, data, overlay);
        egui::Panel::right("map_legend")
            .resizable(true)
            .default_size(240.0)
            .show(ui, |ui| self.legend_ui(ui, data));
        egui::CentralPanel::default_margins().show(ui, |ui| self.canvas_ui(ui, data, overlay));
    }

    /// Takes a finished raster, and starts the next one when the texture is not what `wanted`
    /// says (one at a time: while the user drags, each new raster shows the latest view).
    fn update_texture(&mut self, ctx: &egui::Context, data: &Arc<MapData>, wanted: &Drawn) {
        if let Some(pending) = &mut self.pending {
            match pending.image.poll() {
                Some(Ok((image, matches))) => {
                    self.matches = matches;
                    self.matched_query = pending.drawn.query.clone();
                    match &mut self.texture {
                        Some(texture) => texture.set(image, TextureOptions::NEAREST),
                        None => {
                            self.texture = Some(ctx.load_texture(
                                "strata-map",
                                image,
                                TextureOptions::NEAREST,
                            ));
                        }
                    }
                    self.drawn = self.pending.take().map(|p| p.drawn);
                }
                None => return,
                // The thread died: try again below.
                Some(Err(_)) => self.pending = None,
            }
        }
        if self.drawn.as_ref() == Some(wanted) {
            return;
        }
        let (data, drawn) = (Arc::clone(data), wanted.clone());
        // Titles are searched on the raster thread (10–20 ms at 1M items), once per query.
        let known = (wanted.query == self.matched_query).then(|| Arc::clone(&self.matches));
        let overlay = wanted.overlay.clone();
        let started = Task::spawn_value(ctx, "strata-map-raster", move || {
            let matches = known.unwrap_or_else(|| Arc::new(data.search(&drawn.query)));
            let highlights: Vec<Highlight<'_>> = [
                (&overlay.history, HISTORY_COLOUR),
                (&overlay.recommended, RECOMMENDED_COLOUR),
                (matches.as_ref(), MATCH_COLOUR),
            ]
            .into_iter()
            .filter(|(items, _)| !items.is_empty())
            .map(|(items, colour)| Highlight { items, colour })
            .collect();
            let raster = rasterize(
                &data.points,
                &drawn.view,
                &drawn.colours,
                &highlights,
                drawn.point_size,
            );
            let pixels = raster
                .pixels
                .iter()
                .map(|p| {
                    let [r, g, b, a] = p.to_le_bytes();
                    Color32::from_rgba_premultiplied(r, g, b, a)
                })
                .collect();
            (ColorImage::new(raster.size, pixels), matches)
        });
        if let Ok(image) = started {
            self.pending = Some(PendingRaster {
                drawn: wanted.clone(),
                image,
            });
        }
    }

    fn toolbar_ui(&mut self, ui: &mut egui::Ui, data: &MapData, overlay: &UserOverlay) {
        ui.horizontal(|ui| {
            let label = ui.label("Search");
            let search = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text("title words (Ctrl+F)")
                        .desired_width(220.0),
                )
                .labelled_by(label.id);
            if std::mem::take(&mut self.wants_search_focus) {
                search.request_focus();
            }
            if !self.search.trim().is_empty() {
                if self.matched_query == self.search {
                    ui.label(format!("{} matching", self.matches.len()));
                } else {
                    ui.spinner();
                }
            }
            if ui
                .button("Fit")
                .on_hover_text("Show the whole map (double click)")
                .clicked()
            {
                self.view = None;
            }
            if !overlay.history.is_empty() {
                ui.label(
                    egui::RichText::new(format!("■ history ({})", overlay.history.len()))
                        .color(colour(HISTORY_COLOUR)),
                );
                ui.label(
                    egui::RichText::new(format!("■ recommended ({})", overlay.recommended.len()))
                        .color(colour(RECOMMENDED_COLOUR)),
                );
            }
            let [x, y] = data.explained_variance;
            ui.weak(format!(
                "{} items · PCA axes keep {:.1}% + {:.1}% of the variance",
                data.points.len(),
                x * 100.0,
                y * 100.0
            ));
        });
    }

    fn legend_ui(&mut self, ui: &mut egui::Ui, data: &MapData) {
        ui.heading("Layers");
        egui::ScrollArea::vertical().show(ui, |ui| {
            for (l, layer) in data.legend.iter().enumerate() {
                let (hidden, hidden_subs) = &mut self.hidden[l];
                let mut visible = !*hidden;
                ui.horizontal(|ui| {
                    swatch_ui(ui, layer.colour);
                    ui.checkbox(
                        &mut visible,
                        format!("{}. {} ({})", layer.number, layer.name, layer.size),
                    );
                });
                *hidden = !visible;
                if !layer.sublayers.is_empty() {
                    let subs = match layer.sublayers.len() {
                        1 => "1 sub-layer".to_owned(),
                        n => format!("{n} sub-layers"),
                    };
                    egui::CollapsingHeader::new(subs)
                        .id_salt(("sublayers", l))
                        .show(ui, |ui| {
                            for (sub, sub_hidden) in layer.sublayers.iter().zip(hidden_subs) {
                                let mut visible = !*sub_hidden;
                                ui.horizontal(|ui| {
                                    swatch_ui(ui, sub.colour);
                                    ui.checkbox(
                                        &mut visible,
                                        format!("{} ({})", sub.name, sub.size),
                                    );
                                });
                                *sub_hidden = !visible;
                            }
                        });
                }
            }
        });
    }

    /// The raster's colours: the data's, transparent for hidden layers and sub-layers.
    fn visible_colours(&self, data: &MapData) -> Vec<Vec<[u8; 4]>> {
        data.colours
            .iter()
            .enumerate()
            .map(|(l, shades)| {
                let (hidden, hidden_subs) = self
                    .hidden
                    .get(l)
                    .map_or((false, &[][..]), |(h, subs)| (*h, &subs[..]));
                shades
                    .iter()
                    .enumerate()
                    .map(|(s, &c)| {
                        if hidden || hidden_subs.get(s).copied().unwrap_or(false) {
                            [0, 0, 0, 0]
                        } else {
                            c
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn canvas_ui(&mut self, ui: &mut egui::Ui, data: &Arc<MapData>, overlay: &UserOverlay) {
        let (rect, response) = ui.allocate_exact_size(
            ui.available_size().max(Vec2::splat(16.0)),
            Sense::click_and_drag(),
        );
        let pixels_per_point = ui.ctx().pixels_per_point();
        let size = [
            (rect.width() * pixels_per_point).round().max(1.0) as usize,
            (rect.height() * pixels_per_point).round().max(1.0) as usize,
        ];
        let mut view = match self.view {
            Some(view) if !response.double_clicked() => view.resized(size),
            _ => MapView::fit(data.points.bounds(), size),
        };
        let to_pixel = |p: egui::Pos2| {
            [
                (p.x - rect.min.x) * pixels_per_point,
                (p.y - rect.min.y) * pixels_per_point,
            ]
        };
        if response.dragged() {
            let delta = response.drag_delta() * pixels_per_point;
            view.pan([delta.x, delta.y]);
        }
        if let Some(pointer) = response.hover_pos() {
            let (scroll, zoom) = ui.input(|i| (i.smooth_scroll_delta.y, i.zoom_delta()));
            let factor = zoom * (scroll * 0.003).exp();
            if factor != 1.0 {
                view.zoom_at(to_pixel(pointer), factor);
            }
        }
        self.view = Some(view);

        // Small catalogues get bigger points, so a few hundred items still read as a map.
        let point_size = match data.points.len() {
            0..2_000 => 5,
            2_000..50_000 => 3,
            _ => 2,
        };
        let wanted = Drawn {
            view,
            colours: self.visible_colours(data),
            query: self.search.clone(),
            overlay: overlay.clone(),
            point_size,
        };
        self.update_texture(ui.ctx(), data, &wanted);
        let painter = ui.painter_at(rect);
        if let (Some(texture), Some(drawn)) = (&self.texture, &self.drawn) {
            // The texture's corners, drawn for `drawn.view`, where the current view puts them.
            let corner = |pixel: [f32; 2]| {
                let [x, y] = view.to_pixel(drawn.view.to_world(pixel));
                rect.min + egui::vec2(x, y) / pixels_per_point
            };
            let [width, height] = drawn.view.size;
            let placed =
                egui::Rect::from_min_max(corner([0.0, 0.0]), corner([width as f32, height as f32]));
            let uv = egui::Rect::from_min_max(egui::pos2(0.0, 0.0), egui::pos2(1.0, 1.0));
            painter.image(texture.id(), placed, uv, Color32::WHITE);
        }

        self.hovered = response.hover_pos().and_then(|pointer| {
            let world = view.to_world(to_pixel(pointer));
            let radius = HOVER_RADIUS * pixels_per_point / view.pixels_per_unit;
            let colours = &wanted.colours;
            data.grid.nearest(&data.points.xy, world, radius, |item| {
                let i = item as usize;
                colours
                    .get(usize::from(data.points.layer[i]))
                    .and_then(|shades| shades.get(usize::from(data.points.sublayer[i])))
                    .is_none_or(|c| c[3] > 0)
            })
        });
        if let Some(item) = self.hovered {
            let [px, py] = view.to_pixel(data.points.xy[item as usize]);
            let centre = rect.min + egui::vec2(px, py) / pixels_per_point;
            painter.circle_stroke(centre, 5.0, (1.5, ui.visuals().strong_text_color()));
            response.on_hover_ui_at_pointer(|ui| item_tooltip_ui(ui, data, item));
        }
    }
}

/// Title, layer and sub-layer of a hovered item.
fn item_tooltip_ui(ui: &mut egui::Ui, data: &MapData, item: u32) {
    let i = item as usize;
    ui.strong(&data.titles[i]);
    ui.weak(&data.item_ids[i]);
    let (l, s) = (
        usize::from(data.points.layer[i]),
        usize::from(data.points.sublayer[i]),
    );
    if let Some(layer) = data.legend.get(l) {
        ui.label(format!("Layer {}: {}", layer.number, layer.name));
        if let Some(sub) = layer.sublayers.get(s) {
            ui.label(format!("Sub-layer {}: {}", s + 1, sub.name));
        }
    }
}

fn colour([r, g, b, a]: [u8; 4]) -> Color32 {
    Color32::from_rgba_premultiplied(r, g, b, a)
}

/// A small square of `colour`.
fn swatch_ui(ui: &mut egui::Ui, colour: [u8; 4]) {
    let (rect, _) = ui.allocate_exact_size(Vec2::splat(12.0), Sense::hover());
    let [r, g, b, a] = colour;
    ui.painter()
        .rect_filled(rect, 2.0, Color32::from_rgba_premultiplied(r, g, b, a));
}
