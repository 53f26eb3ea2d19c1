//! Interest layers: the catalogue split by k-means into layers, each split again into
//! sub-layers, named by c-TF-IDF, scored, and projected to 2D for the map.
//!
//! k is chosen from the data: every k of a small range is tried (the best of several seeded
//! k-means runs each) and scored by mean silhouette on a seeded sample; the smallest k whose
//! silhouette is within [`K_TOLERANCE`] of the best is kept, because a few clear layers serve
//! a user better than many that split what belongs together, and sub-layers carry the detail
//! (issue 16). The whole curve is kept because on sentence-embedding vectors it often keeps
//! rising with k, and the user should see that rather than trust one number. Everything is
//! seeded: the same vectors and parameters give the same layers.

mod changes;
mod identity;
mod kmeans;
mod names;
mod pca;
mod project;
mod quality;
mod update;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use rayon::prelude::*;

use serde::{Deserialize, Serialize};

pub use changes::{LayerChange, LayerChanges, RunItems, SPLIT_SHARE};
pub use identity::{
    MATCH_SIMILARITY, NAME_KEPT_SHARE, carry_identities, cosine, keeps_name, match_centroids,
};
pub use kmeans::{KMeansFit, best_of, kmeans, kmeans_from, kmeans_to, refine, restart_seed};
pub use names::cluster_names;
pub use pca::{Projection, project_2d};
pub use project::{
    ProjectLayerError, layer_changes, layer_project, project_vectors, update_project_layers,
};
pub use quality::{SampleDistances, adjusted_rand_index, sample_indices};
pub use update::{PreviousRun, RESPLIT_DRIFT, RESPLIT_GROWTH, current_centroids, update_layers};

use crate::pipeline::{Cancelled, JobContext};

/// The sweep runs each k to this many times the usual k-means tolerance; only the chosen k is
/// then run to full convergence (same trajectory, same result as running it there directly).
/// The last iterations move few points and the silhouette barely at all.
const SWEEP_LOOSENESS: f64 = 100.0;

/// Default [`LayerParams::sweep_rows`]: above this many rows, k is chosen on a seeded sample
/// of this many (see [`sweep`]).
pub const SWEEP_ROWS: usize = 20_000;

/// Default [`LayerParams::k_tolerance`]. Measured with `strata layer` on 24 generated
/// catalogues of 5–8 planted families (30–60 titles each, sharing colour, size and pack words;
/// all-MiniLM-L6-v2): the highest silhouette recovered the families with mean ARI 0.879 (10 of
/// 24 at ≥ 0.9), the smallest k within 6% of it 0.905 (15 of 24); without the shared words
/// 0.868 (9) against 0.945 (19). Tried in scikit-learn on the same catalogues: 4% and 8% did
/// worse than 6%, and so did a one-standard-error rule on the sample's silhouettes.
pub const K_TOLERANCE: f64 = 0.06;

/// Default [`LayerParams::restarts`]: scikit-learn's classic `n_init`. On the same catalogues
/// (in scikit-learn) 4 runs per k recovered 14 of 24 at ARI ≥ 0.9, 10 runs 18.
pub const RESTARTS: usize = 10;

/// Layers smaller than this stay whole.
pub const MIN_SPLIT: usize = 10;

/// How to split. `None` means "choose from the data".
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct LayerParams {
    /// A fixed number of layers, or `None` to sweep `k_min..=k_max`.
    pub k: Option<usize>,
    pub k_min: usize,
    /// Upper end of the sweep; `None` means min(16, √n).
    pub k_max: Option<usize>,
    /// A fixed number of sub-layers per layer, or `None` to sweep 2..=min(8, √size).
    pub sub: Option<usize>,
    pub seed: u64,
    /// Rows the silhouette is computed on.
    pub sample: usize,
    /// Above this many items, k is chosen on a seeded sample of this many (see [`sweep`]).
    pub sweep_rows: usize,
    /// k-means runs per k and per sub-layer split (seeds [`restart_seed`]), the least inertia
    /// kept.
    pub restarts: usize,
    /// An automatic k (and number of sub-layers) is the smallest whose mean silhouette is
    /// within this share of the best one's.
    pub k_tolerance: f64,
}

impl Default for LayerParams {
    fn default() -> Self {
        Self {
            k: None,
            k_min: 4,
            k_max: None,
            sub: None,
            seed: 0,
            sample: 3000,
            sweep_rows: SWEEP_ROWS,
            restarts: RESTARTS,
            k_tolerance: K_TOLERANCE,
        }
    }
}

/// Why layering could not run.
#[derive(Debug, thiserror::Error)]
pub enum LayerError {
    #[error("the project has no items to split into layers")]
    NoItems,
    #[error("{k} layers were asked for: more layers than there are items ({items})")]
    TooManyLayers { k: usize, items: usize },
    #[error("{0}")]
    Math(String),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl crate::pipeline::JobError for LayerError {
    fn is_cancelled(&self) -> bool {
        matches!(self, LayerError::Cancelled(_))
    }
}

/// Quality of the top-level split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quality {
    /// Mean silhouette on the sample (`None` with a single layer).
    pub silhouette: Option<f64>,
    pub davies_bouldin: Option<f64>,
    pub calinski_harabasz: Option<f64>,
    /// Mean adjusted Rand index between the runs with seeds s, s + 1 and s + 2.
    pub stability_ari: Option<f64>,
    /// Share of the total variance on the map's two axes.
    pub explained_variance: [f64; 2],
}

/// One sub-layer of a layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sublayer {
    pub name: Vec<String>,
    pub size: usize,
    pub silhouette: Option<f64>,
}

/// One layer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Layer {
    /// The layer's number (from 0; shown from 1) and its colour's key, carried from run to
    /// run for as long as the layer is matched (see [`carry_identities`]). Runs stored
    /// before issue 16 have none: [`LayerRun::ensure_ids`] numbers them by position.
    #[serde(default)]
    pub id: usize,
    pub name: Vec<String>,
    pub size: usize,
    /// Mean silhouette of its sampled items.
    pub silhouette: Option<f64>,
    /// Unit-scale centre in the embedding space (d values).
    pub centroid: Vec<f32>,
    pub sublayers: Vec<Sublayer>,
    /// Silhouette by number of sub-layers, when they were chosen automatically.
    pub sub_curve: Vec<(usize, f64)>,
    /// How many items the layer had when its sub-layers were fitted (0 in runs stored before
    /// issue 16); an update fits them again past [`RESPLIT_GROWTH`].
    #[serde(default)]
    pub split_at: usize,
}

/// The result of one layering run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerRun {
    pub params: LayerParams,
    pub k: usize,
    /// Silhouette by k over the sweep (empty when k was fixed or the catalogue too small).
    pub curve: Vec<(usize, f64)>,
    pub layers: Vec<Layer>,
    /// Layer of each item (input order).
    pub item_layer: Vec<usize>,
    /// Sub-layer of each item within its layer.
    pub item_sublayer: Vec<usize>,
    /// Map position of each item.
    pub points: Vec<[f32; 2]>,
    pub quality: Quality,
    /// Said to the user about this run (e.g. why there is only one layer).
    pub notes: Vec<String>,
    pub seconds: f64,
    /// The run this one updated ([`update_layers`]); `None` for a run built from scratch.
    #[serde(default)]
    pub updated_from: Option<i64>,
}

/// A layer run as reports show it (`strata layer --json`): everything but the per-item
/// arrays and the layers' centroids, with the run's id in the project.
#[derive(Clone, Debug, Serialize)]
pub struct LayerRunSummary<'a> {
    pub run_id: i64,
    pub params: &'a LayerParams,
    pub k: usize,
    pub curve: &'a [(usize, f64)],
    pub layers: Vec<LayerSummary<'a>>,
    pub quality: &'a Quality,
    pub notes: &'a [String],
    pub seconds: f64,
}

/// A layer as reports show it: no centroid.
#[derive(Clone, Debug, Serialize)]
pub struct LayerSummary<'a> {
    /// The layer's number as users see it (its id + 1).
    pub number: usize,
    pub name: &'a [String],
    pub size: usize,
    pub silhouette: Option<f64>,
    pub sublayers: &'a [Sublayer],
    pub sub_curve: &'a [(usize, f64)],
}

impl LayerRun {
    /// Numbers the layers by position when their ids are not distinct (runs stored before
    /// layers had ids).
    pub fn ensure_ids(&mut self) {
        let mut ids: Vec<usize> = self.layers.iter().map(|l| l.id).collect();
        ids.sort_unstable();
        ids.dedup();
        if ids.len() != self.layers.len() {
            for (position, layer) in self.layers.iter_mut().enumerate() {
                layer.id = position;
            }
        }
    }

    /// The position of the layer with id `id`, if the run has it.
    pub fn position_of(&self, id: usize) -> Option<usize> {
        self.layers.iter().position(|l| l.id == id)
    }

    /// This run, stored as `run_id`, as reports show it.
    pub fn summary(&self, run_id: i64) -> LayerRunSummary<'_> {
        LayerRunSummary {
            run_id,
            params: &self.params,
            k: self.k,
            curve: &self.curve,
            layers: self
                .layers
                .iter()
                .map(|l| LayerSummary {
                    number: l.id + 1,
                    name: &l.name,
                    size: l.size,
                    silhouette: l.silhouette,
                    sublayers: &l.sublayers,
                    sub_curve: &l.sub_curve,
                })
                .collect(),
            quality: &self.quality,
            notes: &self.notes,
            seconds: self.seconds,
        }
    }
}

/// How many distinct rows `x` has, up to `limit`.
fn distinct_rows(x: &[f32], d: usize, limit: usize) -> usize {
    let mut seen = std::collections::HashSet::new();
    for row in x.chunks_exact(d) {
        seen.insert(row.iter().map(|v| v.to_bits()).collect::<Vec<u32>>());
        if seen.len() >= limit {
            break;
        }
    }
    seen.len()
}

/// The chosen fit of a sweep, its k, the silhouette curve and its best point.
struct Swept {
    fit: KMeansFit,
    k: usize,
    curve: Vec<(usize, f64)>,
    /// The k with the highest silhouette, and that silhouette.
    best: (usize, f64),
    /// Rows the k values were compared on, when fewer than all.
    sampled: Option<usize>,
}

/// Chooses k for rows `x` (n × d) in `range` by mean silhouette on `sample` (of `x`).
///
/// Above `params.sweep_rows` rows the k values are compared on a seeded sample of that many rows
/// (with its own silhouette sample), and only the chosen k is fitted on all rows: comparing k
/// needs far fewer points than the layers themselves, and at 100k items the sweep was 75% of
/// the layering time. The result says so in `sampled`.
fn sweep(
    x: &[f32],
    d: usize,
    range: std::ops::RangeInclusive<usize>,
    sample: &SampleDistances,
    params: &LayerParams,
    job: &JobContext,
    stage: &'static str,
) -> Result<Swept, LayerError> {
    let n = x.len() / d.max(1);
    let limit = params.sweep_rows.max(2);
    if n > limit {
        let rows: Vec<f32> = sample_indices(n, limit, params.seed)
            .iter()
            .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
            .collect();
        let rows_sample =
            SampleDistances::new(&rows, d, sample_indices(limit, params.sample, params.seed));
        let on_rows = sweep_rows(&rows, d, range, &rows_sample, params, job, stage)?;
        job.check()?;
        // All rows, warm-started from the sample's layers.
        let fit = kmeans_from(x, d, on_rows.fit.centroids);
        return Ok(Swept {
            fit,
            sampled: Some(limit),
            ..on_rows
        });
    }
    let swept = sweep_rows(x, d, range, sample, params, job, stage)?;
    job.check()?;
    let fit = refine(x, d, swept.fit);
    Ok(Swept { fit, ..swept })
}

/// The sweep itself: every k of `range` on all rows of `x` (the best of `params.restarts`
/// runs each), loosely converged; the smallest k within `params.k_tolerance` of the best
/// silhouette is chosen, its fit returned as it is (the caller refines or refits it).
fn sweep_rows(
    x: &[f32],
    d: usize,
    range: std::ops::RangeInclusive<usize>,
    sample: &SampleDistances,
    params: &LayerParams,
    job: &JobContext,
    stage: &'static str,
) -> Result<Swept, LayerError> {
    let ks: Vec<usize> = range.collect();
    let total = ks.len() as u64;
    let finished = AtomicU64::new(0);
    job.progress(stage, 0, total);
    // The k values are independent: they run side by side, one per core.
    let fits: Vec<Result<(usize, f64, KMeansFit), Cancelled>> = crate::linalg::in_pool(|| {
        ks.par_iter()
            .map(|&k| {
                job.check()?;
                let fit = best_of(x, d, k, params.seed, params.restarts, SWEEP_LOOSENESS);
                let score = sample
                    .mean_silhouette(&fit.labels, k)
                    .unwrap_or(f64::NEG_INFINITY);
                job.progress(stage, finished.fetch_add(1, Ordering::Relaxed) + 1, total);
                Ok((k, score, fit))
            })
            .collect()
    });
    let fits: Vec<(usize, f64, KMeansFit)> = fits.into_iter().collect::<Result<_, _>>()?;
    job.progress(stage, total, total);
    let best = fits
        .iter()
        .map(|&(k, score, _)| (k, score))
        .reduce(|best, next| if next.1 > best.1 { next } else { best })
        .ok_or_else(|| LayerError::Math("empty k range".to_owned()))?;
    let threshold = best.1 - params.k_tolerance * best.1.abs();
    let curve: Vec<(usize, f64)> = fits
        .iter()
        .map(|&(k, score, _)| (k, score))
        .filter(|(_, s)| s.is_finite())
        .collect();
    let (k, _, fit) = fits
        .into_iter()
        .find(|&(_, score, _)| score >= threshold)
        .ok_or_else(|| LayerError::Math("empty k range".to_owned()))?;
    Ok(Swept {
        fit,
        k,
        curve,
        best,
        sampled: None,
    })
}

/// Splits one layer into sub-layers: (its members, their sub-layer labels or `None` when
/// it stays whole, the number of sub-layers, the silhouette curve, silhouette per sub-layer).
type Split = (
    Vec<usize>,
    Option<Vec<usize>>,
    usize,
    Vec<(usize, f64)>,
    Vec<Option<f64>>,
);

fn split_layer(
    vectors: &[f32],
    d: usize,
    labels: &[usize],
    layer: usize,
    params: &LayerParams,
) -> Result<Split, LayerError> {
    let members: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] == layer).collect();
    let rows: Vec<f32> = members
        .iter()
        .flat_map(|&i| vectors[i * d..(i + 1) * d].iter().copied())
        .collect();
    let size = members.len();
    let member_distinct = distinct_rows(&rows, d, 3);
    let wanted = params.sub.map(|s| s.min(size).min(member_distinct));
    let whole = (size < MIN_SPLIT && params.sub.is_none())
        || member_distinct < 3
        || wanted.is_some_and(|s| s <= 1);
    if whole {
        return Ok((members, None, 1, Vec::new(), vec![None]));
    }
    // One sample serves the sweep and the per-sub-layer silhouettes.
    let sample = SampleDistances::new(&rows, d, sample_indices(size, params.sample, params.seed));
    let (sub_fit, sub_k, sub_curve) = match wanted {
        Some(s) => (
            best_of(&rows, d, s, params.seed, params.restarts, 1.0),
            s,
            Vec::new(),
        ),
        None => {
            let top = 8.min((size as f64).sqrt() as usize).max(2).min(size - 1);
            let silent = JobContext::silent();
            let swept = sweep(&rows, d, 2..=top, &sample, params, &silent, "sub-layers")?;
            (swept.fit, swept.k, swept.curve)
        }
    };
    let silhouettes = sample.silhouette_by_cluster(&sub_fit.labels, sub_k);
    Ok((members, Some(sub_fit.labels), sub_k, sub_curve, silhouettes))
}

/// Splits the rows of `vectors` (n × d, one per item, `texts` in the same order) into layers
/// and sub-layers, names and scores them, and projects them to 2D.
pub fn build_layers(
    vectors: &[f32],
    d: usize,
    texts: &[&str],
    params: &LayerParams,
    job: &JobContext,
) -> Result<LayerRun, LayerError> {
    let started = Instant::now();
    let n = vectors.len() / d.max(1);
    if n == 0 || d == 0 {
        return Err(LayerError::NoItems);
    }
    let mut notes = Vec::new();
    let distinct = distinct_rows(vectors, d, 64);
    let fixed = params.k;
    if let Some(k) = fixed
        && (k == 0 || k > n)
    {
        return Err(LayerError::TooManyLayers { k, items: n });
    }
    // One sample serves the k sweep and the per-layer silhouettes.
    let sample = SampleDistances::new(vectors, d, sample_indices(n, params.sample, params.seed));
    let (fit, k, curve) = if distinct < 3 && fixed.is_none() {
        notes.push(format!(
            "{n} item(s) with {distinct} distinct vector(s): too few to split, kept as one layer"
        ));
        (kmeans(vectors, d, 1, params.seed), 1, Vec::new())
    } else if let Some(k) = fixed {
        let fit = best_of(vectors, d, k, params.seed, params.restarts, 1.0);
        (fit, k, Vec::new())
    } else {
        let k_max = params
            .k_max
            .unwrap_or_else(|| 16.min((n as f64).sqrt() as usize))
            .max(2)
            .min(n - 1)
            .min(distinct);
        let k_min = params.k_min.clamp(2, k_max);
        let swept = sweep(
            vectors,
            d,
            k_min..=k_max,
            &sample,
            params,
            job,
            "choosing k",
        )?;
        if let Some(rows) = swept.sampled {
            notes.push(format!(
                "k was chosen on a seeded sample of {rows} of the {n} items; the layers are k-means on all of them"
            ));
        }
        let (best_k, best_silhouette) = swept.best;
        if best_k != swept.k {
            notes.push(format!(
                "{} layers: the fewest whose silhouette is within {:.0}% of the best ({best_silhouette:.3}, at k = {best_k}); sub-layers carry the detail",
                swept.k,
                params.k_tolerance * 100.0
            ));
        }
        if swept.k == k_max && k_max < (n - 1).min(distinct) {
            notes.push(format!(
                "k = {k_max} is the largest k tried: more layers might split this catalogue better (raise k_max to try)"
            ));
        }
        (swept.fit, swept.k, swept.curve)
    };
    let by_layer = sample.silhouette_by_cluster(&fit.labels, k);

    // Sub-layers: each layer split on its own, the layers side by side.
    let done_layers = AtomicU64::new(0);
    job.progress("sub-layers", 0, k as u64);
    let splits: Vec<Result<_, LayerError>> = crate::linalg::in_pool(|| {
        (0..k)
            .into_par_iter()
            .map(|layer| {
                job.check()?;
                let split = split_layer(vectors, d, &fit.labels, layer, params)?;
                let finished = done_layers.fetch_add(1, Ordering::Relaxed) + 1;
                job.progress("sub-layers", finished, k as u64);
                Ok(split)
            })
            .collect()
    });
    let mut item_sublayer = vec![0usize; n];
    let mut sub_counts = Vec::with_capacity(k);
    let mut sub_curves = Vec::with_capacity(k);
    let mut sub_silhouettes = Vec::with_capacity(k);
    for split in splits {
        let (members, sub_labels, sub_k, sub_curve, silhouettes) = split?;
        if let Some(labels) = sub_labels {
            for (&i, &s) in members.iter().zip(&labels) {
                item_sublayer[i] = s;
            }
        }
        sub_counts.push(sub_k);
        sub_curves.push(sub_curve);
        sub_silhouettes.push(silhouettes);
    }

    // Names: layers against each other, and sub-layers against all sub-layers of the catalogue.
    job.progress("names", 0, 1);
    let layer_names = cluster_names(texts, &fit.labels, k);
    let offsets: Vec<usize> = sub_counts
        .iter()
        .scan(0, |acc, &c| {
            let start = *acc;
            *acc += c;
            Some(start)
        })
        .collect();
    let global_sub: Vec<usize> = (0..n)
        .map(|i| offsets[fit.labels[i]] + item_sublayer[i])
        .collect();
    let sub_names = cluster_names(texts, &global_sub, sub_counts.iter().sum());

    // Stability: the same k from two more seeds.
    job.check()?;
    job.progress("stability", 0, 1);
    let stability_ari = (k >= 2).then(|| {
        let runs: Vec<Vec<usize>> = crate::linalg::in_pool(|| {
            (1..=2u64)
                .into_par_iter()
                .map(|s| {
                    let seed = params.seed.wrapping_add(s);
                    best_of(vectors, d, k, seed, params.restarts, 1.0).labels
                })
                .collect()
        });
        (adjusted_rand_index(&fit.labels, &runs[0])
            + adjusted_rand_index(&fit.labels, &runs[1])
            + adjusted_rand_index(&runs[0], &runs[1]))
            / 3.0
    });

    job.check()?;
    job.progress("map", 0, 1);
    let projection = project_2d(vectors, d).map_err(LayerError::Math)?;

    let mut sizes = vec![0usize; k];
    let mut sub_sizes: Vec<Vec<usize>> = sub_counts.iter().map(|&c| vec![0; c]).collect();
    for i in 0..n {
        sizes[fit.labels[i]] += 1;
        sub_sizes[fit.labels[i]][item_sublayer[i]] += 1;
    }
    let layers = (0..k)
        .map(|layer| Layer {
            id: layer,
            name: layer_names[layer].clone(),
            size: sizes[layer],
            silhouette: by_layer[layer],
            centroid: fit.centroids[layer * d..(layer + 1) * d].to_vec(),
            sublayers: (0..sub_counts[layer])
                .map(|s| Sublayer {
                    name: sub_names[offsets[layer] + s].clone(),
                    size: sub_sizes[layer][s],
                    silhouette: sub_silhouettes[layer].get(s).copied().flatten(),
                })
                .collect(),
            sub_curve: sub_curves[layer].clone(),
            split_at: sizes[layer],
        })
        .collect();
    let quality = Quality {
        silhouette: sample.mean_silhouette(&fit.labels, k),
        davies_bouldin: quality::davies_bouldin(vectors, d, &fit.labels, &fit.centroids, k),
        calinski_harabasz: quality::calinski_harabasz(vectors, d, &fit.labels, &fit.centroids, k),
        stability_ari,
        explained_variance: projection.explained,
    };
    Ok(LayerRun {
        params: params.clone(),
        k,
        curve,
        layers,
        item_layer: fit.labels,
        item_sublayer,
        points: projection.points,
        quality,
        notes,
        seconds: started.elapsed().as_secs_f64(),
        updated_from: None,
    })
}
