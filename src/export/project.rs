//! The project's tables as CSV: item assignments, the layer list and recommendations. The
//! command line and the app both write through these, so their files are the same.

use std::path::Path;

use super::{Cell, ExportError, write_csv};
use crate::recommend::{ProjectRecommender, UserRecommendations};
use crate::store::{Store, StoreError, StoredLayerRun, display_name};

/// Why a project export failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectExportError {
    #[error("{path}: no layer run yet: make the layers first (`strata layer`)")]
    NoLayers { path: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] ExportError),
}

/// The columns of a recommendations export.
pub const RECOMMENDATION_HEADER: [&str; 8] = [
    "user_id",
    "layer",
    "layer_name",
    "rank",
    "item_id",
    "title",
    "score",
    "reason_item_id",
];

fn latest_run(store: &Store) -> Result<StoredLayerRun, ProjectExportError> {
    store
        .latest_layer_run()?
        .ok_or_else(|| ProjectExportError::NoLayers {
            path: store.path().display().to_string(),
        })
}

/// One row per item of the latest run:
/// `item_id,title,layer,layer_name,sublayer,sublayer_name,x,y`. Returns the rows written.
pub fn write_item_layers(store: &Store, out: &Path, bom: bool) -> Result<u64, ProjectExportError> {
    let latest = latest_run(store)?;
    let rows = store.item_layer_rows(latest.run_id)?;
    let header = [
        "item_id",
        "title",
        "layer",
        "layer_name",
        "sublayer",
        "sublayer_name",
        "x",
        "y",
    ];
    let cells = rows.iter().map(|r| {
        vec![
            Cell::Text(&r.item_id),
            Cell::Text(&r.title),
            Cell::Int(r.layer),
            Cell::Text(&r.layer_name),
            Cell::Int(r.sublayer),
            Cell::Text(&r.sublayer_name),
            Cell::Float(r.x),
            Cell::Float(r.y),
        ]
    });
    Ok(write_csv(out, &header, cells, bom)?)
}

/// One row per layer and per sub-layer of the latest run:
/// `layer,sublayer,name,size,silhouette,share`. A layer's own row has an empty `sublayer`;
/// `share` is its part of the catalogue. Returns the rows written.
pub fn write_layer_list(store: &Store, out: &Path, bom: bool) -> Result<u64, ProjectExportError> {
    let run = latest_run(store)?.run;
    let total = run.layers.iter().map(|l| l.size).sum::<usize>().max(1) as f64;
    struct Row {
        layer: i64,
        sublayer: Option<i64>,
        name: String,
        size: usize,
        silhouette: Option<f64>,
    }
    let mut rows = Vec::new();
    for (l, layer) in run.layers.iter().enumerate() {
        rows.push(Row {
            layer: l as i64 + 1,
            sublayer: None,
            name: display_name(&layer.name),
            size: layer.size,
            silhouette: layer.silhouette,
        });
        for (s, sub) in layer.sublayers.iter().enumerate() {
            rows.push(Row {
                layer: l as i64 + 1,
                sublayer: Some(s as i64 + 1),
                name: display_name(&sub.name),
                size: sub.size,
                silhouette: sub.silhouette,
            });
        }
    }
    let header = ["layer", "sublayer", "name", "size", "silhouette", "share"];
    let cells = rows.iter().map(|r| {
        vec![
            Cell::Int(r.layer),
            r.sublayer.map_or(Cell::Text(""), Cell::Int),
            Cell::Text(&r.name),
            Cell::Int(r.size as i64),
            r.silhouette.map_or(Cell::Text(""), Cell::Float),
            Cell::Float(r.size as f64 / total),
        ]
    });
    Ok(write_csv(out, &header, cells, bom)?)
}

/// One row per recommendation of each given user, layer by layer (strongest first):
/// [`RECOMMENDATION_HEADER`]. `users` pairs a user's index in the recommender with their lists.
pub fn write_recommendations<'a>(
    recommender: &ProjectRecommender,
    users: impl IntoIterator<Item = (usize, &'a UserRecommendations)>,
    out: &Path,
    bom: bool,
) -> Result<u64, ProjectExportError> {
    let item = |i: u32| &recommender.items[i as usize];
    let rows = users.into_iter().flat_map(|(user, lists)| {
        let user_id = recommender
            .interactions
            .user_ids
            .get(user)
            .map_or("", String::as_str);
        lists
            .layers
            .iter()
            .zip(&lists.per_layer)
            .flat_map(move |(strength, recs)| {
                recs.iter().enumerate().map(move |(rank, r)| {
                    vec![
                        Cell::Text(user_id),
                        Cell::Int(strength.layer as i64 + 1),
                        Cell::Text(recommender.layer_name(strength.layer)),
                        Cell::Int(rank as i64 + 1),
                        Cell::Text(&item(r.item).item_id),
                        Cell::Text(&item(r.item).title),
                        Cell::Float(f64::from(r.score)),
                        Cell::Text(r.reason.map_or("", |i| item(i).item_id.as_str())),
                    ]
                })
            })
    });
    Ok(write_csv(out, &RECOMMENDATION_HEADER, rows, bom)?)
}
