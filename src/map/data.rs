//! Everything the map shows, read from a project's latest layer run.

use super::grid::GridIndex;
use super::palette::{layer_colour, sublayer_colour};
use super::raster::MapPoints;
use crate::store::{ItemLayerRow, Store, StoreError, display_name};

/// A layer's line in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendLayer {
    /// The layer's number as users see it (its id + 1); its colour follows the id.
    pub number: usize,
    pub name: String,
    pub size: usize,
    pub colour: [u8; 4],
    pub sublayers: Vec<LegendSublayer>,
}

/// A sub-layer's line in the legend.
#[derive(Clone, Debug, PartialEq)]
pub struct LegendSublayer {
    pub name: String,
    pub size: usize,
    pub colour: [u8; 4],
}

/// The map of one layer run: points, their index, names for hover and search, the legend.
#[derive(Clone, Debug)]
pub struct MapData {
    pub points: MapPoints,
    pub grid: GridIndex,
    pub item_ids: Vec<String>,
    pub titles: Vec<String>,
    /// Titles in lower case, for search.
    pub search_titles: Vec<String>,
    pub legend: Vec<LegendLayer>,
    /// `colours[layer][sublayer]`, as the raster wants them.
    pub colours: Vec<Vec<[u8; 4]>>,
    /// Share of the total variance on each axis.
    pub explained_variance: [f64; 2],
}

impl MapData {
    /// The map of `store`'s latest layer run; `None` before the first run.
    pub fn load(store: &Store) -> Result<Option<Self>, StoreError> {
        let Some(run) = store.latest_layer_run()? else {
            return Ok(None);
        };
        let rows = store.item_layer_rows(&run)?;
        let legend = run
            .run
            .layers
            .iter()
            .map(|layer| LegendLayer {
                number: layer.id + 1,
                name: display_name(&layer.name),
                size: layer.size,
                colour: layer_colour(layer.id),
                sublayers: layer
                    .sublayers
                    .iter()
                    .enumerate()
                    .map(|(s, sub)| LegendSublayer {
                        name: display_name(&sub.name),
                        size: sub.size,
                        colour: sublayer_colour(layer.id, s, layer.sublayers.len()),
                    })
                    .collect(),
            })
            .collect();
        Ok(Some(Self::new(
            &rows,
            legend,
            run.run.quality.explained_variance,
        )))
    }

    /// A map of `rows`, whose layers are positions in `legend` and sub-layers numbered from 1.
    pub fn new(rows: &[ItemLayerRow], legend: Vec<LegendLayer>, explained: [f64; 2]) -> Self {
        let index = |v: i64| u16::try_from((v - 1).max(0)).unwrap_or(u16::MAX);
        let points = MapPoints {
            xy: rows.iter().map(|r| [r.x as f32, r.y as f32]).collect(),
            layer: rows
                .iter()
                .map(|r| u16::try_from(r.layer_index).unwrap_or(u16::MAX))
                .collect(),
            sublayer: rows.iter().map(|r| index(r.sublayer)).collect(),
        };
        let grid = GridIndex::new(&points.xy);
        let colours = legend
            .iter()
            .map(|l| {
                if l.sublayers.is_empty() {
                    vec![l.colour]
                } else {
                    l.sublayers.iter().map(|s| s.colour).collect()
                }
            })
            .collect();
        Self {
            points,
            grid,
            item_ids: rows.iter().map(|r| r.item_id.clone()).collect(),
            titles: rows.iter().map(|r| r.title.clone()).collect(),
            search_titles: rows.iter().map(|r| r.title.to_lowercase()).collect(),
            legend,
            colours,
            explained_variance: explained,
        }
    }

    /// Items whose title contains `query` (any case); empty for an empty query.
    pub fn search(&self, query: &str) -> Vec<u32> {
        let query = query.trim().to_lowercase();
        if query.is_empty() {
            return Vec::new();
        }
        self.search_titles
            .iter()
            .enumerate()
            .filter(|(_, t)| t.contains(&query))
            .map(|(i, _)| i as u32)
            .collect()
    }
}
