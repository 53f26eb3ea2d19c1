//! Layering a whole project: its current vectors in, a stored layer run out, whether built
//! from scratch (its layers matched to the last run's) or updated from the last run.

use super::{
    LayerChanges, LayerError, LayerParams, LayerRun, PreviousRun, RunItems, build_layers,
    carry_identities, current_centroids, update_layers,
};
use crate::embed::{item_text, text_hash};
use crate::memory::{MemoryBudget, OverBudget};
use crate::pipeline::JobContext;
use crate::pipeline::{JobError, NextStep};
use crate::store::{Placements, Store, StoreError, StoredLayerRun, display_name};

/// Why a project could not be layered.
#[derive(Debug, thiserror::Error)]
pub enum ProjectLayerError {
    #[error("{path}: no item vectors yet")]
    NotEmbedded { path: String },
    #[error(
        "{path}: {missing} of {items} items have no vector from {model} (the catalogue changed since the last embedding)"
    )]
    MissingVectors {
        path: String,
        missing: usize,
        items: usize,
        model: String,
    },
    #[error("{path}: {source}")]
    OverBudget {
        path: String,
        #[source]
        source: OverBudget,
    },
    #[error("{path}: no layer run to update yet")]
    NoLayers { path: String },
    #[error("{path}: no layer run {run_id}")]
    NoRun { path: String, run_id: i64 },
    #[error(transparent)]
    Layer(#[from] LayerError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl JobError for ProjectLayerError {
    fn is_cancelled(&self) -> bool {
        matches!(self, ProjectLayerError::Layer(LayerError::Cancelled(_)))
    }

    fn next_step(&self) -> Option<NextStep> {
        match self {
            ProjectLayerError::NotEmbedded { path }
            | ProjectLayerError::MissingVectors { path, .. } => Some(NextStep::Embed {
                project: path.into(),
            }),
            ProjectLayerError::OverBudget { source, .. } => Some(NextStep::RaiseMemoryBudget {
                needed: source.needed,
            }),
            ProjectLayerError::NoLayers { path } => Some(NextStep::Layer {
                project: path.into(),
            }),
            ProjectLayerError::NoRun { .. }
            | ProjectLayerError::Layer(_)
            | ProjectLayerError::Store(_) => None,
        }
    }
}

/// The vectors of every item (in item order) from the project's current embedding.
pub fn project_vectors(
    store: &Store,
) -> Result<(String, usize, Vec<f32>, Vec<String>), ProjectLayerError> {
    let path = store.path().display().to_string();
    let embedding = store
        .embedding()?
        .ok_or_else(|| ProjectLayerError::NotEmbedded { path: path.clone() })?;
    let items = store.items()?;
    let mut vectors = Vec::with_capacity(items.len() * embedding.dim);
    let mut texts = Vec::with_capacity(items.len());
    let mut missing = 0;
    for item in &items {
        let text = item_text(item);
        match store.cached_vector(&embedding.model_id, &text_hash(&text))? {
            Some(v) if v.len() == embedding.dim => vectors.extend(v),
            _ => missing += 1,
        }
        texts.push(text);
    }
    if missing > 0 {
        return Err(ProjectLayerError::MissingVectors {
            path,
            missing,
            items: items.len(),
            model: embedding.name,
        });
    }
    Ok((embedding.model_id, embedding.dim, vectors, texts))
}

/// What layering `items` vectors of `dim` floats holds at its peak, about: the vectors, the
/// reduced and normalised copies the sweep clusters, and each item's text for the names.
pub fn layering_bytes(items: u64, dim: usize) -> u64 {
    const TEXT_BYTES: u64 = 200;
    items * (3 * dim as u64 * 4 + TEXT_BYTES)
}

/// Refuses layering work that does not fit the process's [`MemoryBudget`], before any work.
fn check_budget(store: &Store) -> Result<(), ProjectLayerError> {
    let info = store.info()?;
    if let Some(embedding) = &info.embedding {
        let what = format!(
            "layering {} items of {} dimensions",
            info.items, embedding.dim
        );
        MemoryBudget::default()
            .check(what, layering_bytes(info.items, embedding.dim))
            .map_err(|source| ProjectLayerError::OverBudget {
                path: store.path().display().to_string(),
                source,
            })?;
    }
    Ok(())
}

/// Layers the project's items from scratch and stores the run; returns its id and the run.
/// The layers are matched to the latest run's (same vectors): a matched layer keeps its
/// number, colour and name (see [`carry_identities`]). A catalogue whose layering does not fit
/// the process's [`MemoryBudget`] is refused before any work.
pub fn layer_project(
    store: &mut Store,
    params: &LayerParams,
    job: &JobContext,
) -> Result<(i64, LayerRun), ProjectLayerError> {
    check_budget(store)?;
    job.progress("loading vectors", 0, 1);
    let (model_id, dim, vectors, texts) = project_vectors(store)?;
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let mut run = build_layers(&vectors, dim, &text_refs, params, job)?;
    job.check().map_err(LayerError::from)?;
    let keys = store.item_keys()?;
    if let Some(previous) = store.latest_layer_run()? {
        let placements = store.run_placements(&previous)?;
        let centroids = current_centroids(&vectors, dim, &keys, &placements.of(&previous));
        let matched = carry_identities(
            &mut run.layers,
            &mut run.item_layer,
            &previous.run.layers,
            &centroids,
        );
        run.notes.push(format!(
            "{matched} of the {} layers matched layers of run {} and kept their numbers and colours",
            run.layers.len(),
            previous.run_id
        ));
    }
    let run_id = store.save_layer_run(&model_id, &keys, &run)?;
    Ok((run_id, run))
}

/// Updates the project's latest layer run to its current items (see [`update_layers`]) and
/// stores the result as a new run; returns its id and the run.
pub fn update_project_layers(
    store: &mut Store,
    job: &JobContext,
) -> Result<(i64, LayerRun), ProjectLayerError> {
    let path = store.path().display().to_string();
    check_budget(store)?;
    let previous = store
        .latest_layer_run()?
        .ok_or_else(|| ProjectLayerError::NoLayers { path: path.clone() })?;
    job.progress("loading vectors", 0, 1);
    let (model_id, dim, vectors, texts) = project_vectors(store)?;
    let placements = store.run_placements(&previous)?;
    let keys = store.item_keys()?;
    let text_refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let run = update_layers(
        &vectors,
        dim,
        &text_refs,
        &keys,
        &placements.of(&previous),
        previous.model_id == model_id,
        job,
    )?;
    job.check().map_err(LayerError::from)?;
    let run_id = store.save_layer_run(&model_id, &keys, &run)?;
    Ok((run_id, run))
}

impl Placements {
    /// `run` (whose placements these are) as the run an update or a rebuild starts from.
    fn of<'a>(&'a self, run: &'a StoredLayerRun) -> PreviousRun<'a> {
        PreviousRun {
            run_id: run.run_id,
            run: &run.run,
            item_keys: &self.item_keys,
            item_layer: &self.item_layer,
            item_sublayer: &self.item_sublayer,
        }
    }
}

/// A stored run's items by their layers' ids, for [`LayerChanges`].
fn run_items(store: &Store, run: &StoredLayerRun) -> Result<RunItems, ProjectLayerError> {
    let placements = store.run_placements(run)?;
    Ok(RunItems {
        run_id: run.run_id,
        layer_ids: placements
            .item_layer
            .iter()
            .map(|&p| run.run.layers[p].id)
            .collect(),
        item_keys: placements.item_keys,
        names: run
            .run
            .layers
            .iter()
            .map(|l| (l.id, display_name(&l.name)))
            .collect(),
    })
}

/// What changed from stored run `from` to stored run `to`.
pub fn layer_changes(store: &Store, from: i64, to: i64) -> Result<LayerChanges, ProjectLayerError> {
    let load = |run_id: i64| {
        store
            .layer_run(run_id)?
            .ok_or_else(|| ProjectLayerError::NoRun {
                path: store.path().display().to_string(),
                run_id,
            })
    };
    let (a, b) = (load(from)?, load(to)?);
    Ok(LayerChanges::between(
        &run_items(store, &a)?,
        &run_items(store, &b)?,
    ))
}
