//! The project's tables as CSV: item assignments, the layer list and recommendations. The
//! command line and the app both write through these, so their files are the same.

use std::path::Path;

use super::{Cell, ExportError, write_csv};
use crate::recommend::UserLists;
use crate::store::{Store, StoreError, StoredLayerRun, display_name};

/// Why a project export failed.
#[derive(Debug, thiserror::Error)]
pub enum ProjectExportError {
    #[error("{path}: no layer run yet")]
    NoLayers { path: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Write(#[from] ExportError),
}

impl crate::pipeline::JobError for ProjectExportError {
    fn next_step(&self) -> Option<crate::pipeline::NextStep> {
        match self {
            ProjectExportError::NoLayers { path } => Some(crate::pipeline::NextStep::Layer {
                project: path.into(),
            }),
            ProjectExportError::Store(_) | ProjectExportError::Write(_) => None,
        }
    }
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
    let rows = store.item_layer_rows(&latest)?;
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
    for layer in &run.layers {
        let number = layer.id as i64 + 1;
        rows.push(Row {
            layer: number,
            sublayer: None,
            name: display_name(&layer.name),
            size: layer.size,
            silhouette: layer.silhouette,
        });
        for (s, sub) in layer.sublayers.iter().enumerate() {
            rows.push(Row {
                layer: number,
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

/// One row per recommendation: [`RECOMMENDATION_HEADER`], from each user's
/// [`UserLists::per_layer_rows`] (layer by layer, strongest first). Returns the rows written.
pub fn write_recommendations<'a>(
    users: impl IntoIterator<Item = &'a UserLists>,
    out: &Path,
    bom: bool,
) -> Result<u64, ProjectExportError> {
    let rows = users.into_iter().flat_map(|lists| {
        lists.per_layer_rows().map(|r| {
            vec![
                Cell::Text(&r.user_id),
                Cell::Int(r.layer as i64),
                Cell::Text(&r.layer_name),
                Cell::Int(r.rank as i64),
                Cell::Text(&r.item_id),
                Cell::Text(&r.title),
                Cell::Float(f64::from(r.score)),
                Cell::Text(r.reason_item_id.as_deref().unwrap_or("")),
            ]
        })
    });
    Ok(write_csv(out, &RECOMMENDATION_HEADER, rows, bom)?)
}
