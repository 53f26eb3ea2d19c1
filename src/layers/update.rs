//! Updating a layer run with the items added since, instead of rebuilding it. A shop imports
//! new orders and products every week; rebuilding from scratch would move items between
//! layers every time and undo whatever the user built on them (issue 16). An update keeps
//! every old item where it was, puts each new item in its nearest layer and sub-layer, and
//! refreshes the centroids and names; only a layer that has grown or drifted past
//! [`RESPLIT_GROWTH`] or [`RESPLIT_DRIFT`] has its sub-layers fitted again, warm-started
//! from their current centroids so that they, too, move as little as the data allows.

use std::collections::HashMap;
use std::time::Instant;

use super::identity::{cosine, keeps_name};
use super::{
    Layer, LayerError, LayerRun, MIN_SPLIT, Quality, SampleDistances, Sublayer, cluster_names,
    kmeans_from, project_2d, quality, sample_indices, split_layer,
};
use crate::pipeline::JobContext;

/// A layer whose items have grown by this share since its sub-layers were fitted has them
/// fitted again.
pub const RESPLIT_GROWTH: f64 = 0.25;

/// A layer whose centroid moved by more than this cosine distance in one update has its
/// sub-layers fitted again.
pub const RESPLIT_DRIFT: f64 = 0.02;

/// The run being updated: its layers and, for each of its items (by key), the layer and
/// sub-layer it is in (positions).
pub struct PreviousRun<'a> {
    pub run_id: i64,
    pub run: &'a LayerRun,
    pub item_keys: &'a [i64],
    pub item_layer: &'a [usize],
    pub item_sublayer: &'a [usize],
}

/// Sums of rows by label, divided into means; a label without rows gets `None`.
fn means(x: &[f32], d: usize, labels: &[usize], groups: usize) -> Vec<Option<Vec<f32>>> {
    let mut sums = vec![vec![0.0f64; d]; groups];
    let mut counts = vec![0usize; groups];
    for (row, &l) in x.chunks_exact(d).zip(labels) {
        counts[l] += 1;
        for (s, &v) in sums[l].iter_mut().zip(row) {
            *s += f64::from(v);
        }
    }
    sums.into_iter()
        .zip(counts)
        .map(|(s, c)| (c > 0).then(|| s.iter().map(|v| (v / c as f64) as f32).collect()))
        .collect()
}

fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum()
}

/// The index of the nearest of `centres` (those that exist) to `x`.
fn nearest(x: &[f32], centres: &[Option<&[f32]>]) -> usize {
    centres
        .iter()
        .enumerate()
        .filter_map(|(i, c)| c.map(|c| (i, squared_distance(x, c))))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0, |(i, _)| i)
}

/// Each of `previous`'s layers' centroid in the current vectors (n × d, in the order of
/// `item_keys`): the mean of its items that are still there, `None` for a layer with none.
/// Measured in the vectors at hand, so that layers stay comparable when the vectors changed
/// (another model, or an LSA fit again over a grown catalogue).
pub fn current_centroids(
    vectors: &[f32],
    d: usize,
    item_keys: &[i64],
    previous: &PreviousRun<'_>,
) -> Vec<Option<Vec<f32>>> {
    let (labels, _) = old_places(item_keys, previous);
    let (rows, old_labels): (Vec<usize>, Vec<usize>) = labels
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.map(|l| (i, l)))
        .unzip();
    let x: Vec<f32> = rows
        .iter()
        .flat_map(|&i| vectors[i * d..(i + 1) * d].iter().copied())
        .collect();
    means(&x, d, &old_labels, previous.run.layers.len())
}

/// For each item of `item_keys`, its layer and sub-layer (positions) in `previous`, if it was
/// there.
fn old_places(item_keys: &[i64], previous: &PreviousRun<'_>) -> (Vec<Option<usize>>, Vec<usize>) {
    let k = previous.run.layers.len();
    let place: HashMap<i64, (usize, usize)> = previous
        .item_keys
        .iter()
        .zip(previous.item_layer.iter().zip(previous.item_sublayer))
        .map(|(&key, (&l, &s))| (key, (l, s)))
        .collect();
    item_keys
        .iter()
        .map(|key| match place.get(key) {
            Some(&(l, s)) if l < k => (
                Some(l),
                s.min(previous.run.layers[l].sublayers.len().saturating_sub(1)),
            ),
            _ => (None, 0),
        })
        .unzip()
}

/// `previous` updated to the items of `vectors` (n × d, `texts` and `item_keys` in the same
/// order): see the module's doc. `same_vectors` says whether `previous` was made from the
/// same model's vectors; when not, every centroid is measured again in the current vectors
/// and no layer counts as drifted.
pub fn update_layers(
    vectors: &[f32],
    d: usize,
    texts: &[&str],
    item_keys: &[i64],
    previous: &PreviousRun<'_>,
    same_vectors: bool,
    job: &JobContext,
) -> Result<LayerRun, LayerError> {
    let started = Instant::now();
    let n = vectors.len() / d.max(1);
    let old_layers = &previous.run.layers;
    let k = old_layers.len();
    if n == 0 || d == 0 {
        return Err(LayerError::NoItems);
    }
    if k == 0 || (same_vectors && old_layers.iter().any(|l| l.centroid.len() != d)) {
        return Err(LayerError::Math(format!(
            "layer run {} does not hold {d}-dimensional layers to update",
            previous.run_id
        )));
    }
    let params = previous.run.params.clone();
    let row = |i: usize| &vectors[i * d..(i + 1) * d];
    job.progress("placing new items", 0, 1);
    let (places, mut subs) = old_places(item_keys, previous);
    let fresh: Vec<usize> = (0..n).filter(|&i| places[i].is_none()).collect();
    let mut labels: Vec<usize> = places.iter().map(|l| l.unwrap_or(usize::MAX)).collect();

    // The old items' centroids, from their current vectors; a layer none of whose items are
    // left keeps its stored centroid for placing new ones (when it is in the same space).
    let old_rows: Vec<usize> = (0..n).filter(|&i| labels[i] != usize::MAX).collect();
    if old_rows.is_empty() {
        return Err(LayerError::Math(format!(
            "none of layer run {}'s items are in the catalogue any more: make the layers again",
            previous.run_id
        )));
    }
    let old_x: Vec<f32> = old_rows
        .iter()
        .flat_map(|&i| row(i).iter().copied())
        .collect();
    let old_labels: Vec<usize> = old_rows.iter().map(|&i| labels[i]).collect();
    let layer_means = means(&old_x, d, &old_labels, k);
    let stored = |l: usize| same_vectors.then_some(old_layers[l].centroid.as_slice());
    let layer_centres: Vec<Option<&[f32]>> = layer_means
        .iter()
        .enumerate()
        .map(|(l, m)| m.as_deref().or_else(|| stored(l)))
        .collect();
    let offsets: Vec<usize> = old_layers
        .iter()
        .scan(0, |acc, l| {
            let start = *acc;
            *acc += l.sublayers.len().max(1);
            Some(start)
        })
        .collect();
    let total_subs = old_layers.iter().map(|l| l.sublayers.len().max(1)).sum();
    let old_global_sub: Vec<usize> = old_rows
        .iter()
        .map(|&i| offsets[labels[i]] + subs[i])
        .collect();
    let sub_means = means(&old_x, d, &old_global_sub, total_subs);
    for &i in &fresh {
        let l = nearest(row(i), &layer_centres);
        let count = old_layers[l].sublayers.len().max(1);
        let centres: Vec<Option<&[f32]>> = (0..count)
            .map(|s| sub_means[offsets[l] + s].as_deref())
            .collect();
        labels[i] = l;
        subs[i] = nearest(row(i), &centres);
    }
    job.check()?;

    // Refreshed centroids, and which layers are fitted again below.
    let refreshed = means(vectors, d, &labels, k);
    let mut added = vec![0usize; k];
    for &i in &fresh {
        added[labels[i]] += 1;
    }
    let mut notes = vec![format!(
        "updated from layer run {}: {} new item(s) placed in their nearest layer and sub-layer; the other {} kept theirs",
        previous.run_id,
        fresh.len(),
        n - fresh.len()
    )];
    if !same_vectors {
        notes.push(format!(
            "the items' vectors changed since layer run {} (another model, or LSA fitted again): every layer's centre was measured again from its items' new vectors",
            previous.run_id
        ));
    }
    let mut sizes = vec![0usize; k];
    for &l in &labels {
        sizes[l] += 1;
    }
    let resplit: Vec<bool> = (0..k)
        .map(|l| {
            let layer = &old_layers[l];
            // Runs stored before issue 16 did not record it: their sub-layers are as old as
            // the run.
            let since = if layer.split_at == 0 { layer.size } else { layer.split_at }.max(1);
            let grown = sizes[l] as f64 >= (1.0 + RESPLIT_GROWTH) * since as f64;
            let drift = match &refreshed[l] {
                Some(c) if same_vectors => 1.0 - cosine(c, &layer.centroid),
                _ => 0.0,
            };
            let again = added[l] > 0 && (grown || drift > RESPLIT_DRIFT);
            if again {
                notes.push(format!(
                    "layer {}: sub-layers fitted again ({} items against {since} when they were fitted, centroid moved by {drift:.3})",
                    layer.id + 1,
                    sizes[l]
                ));
            }
            again
        })
        .collect();

    job.progress("sub-layers", 0, k as u64);
    let mut sub_counts = Vec::with_capacity(k);
    let mut sub_curves = Vec::with_capacity(k);
    let mut sub_silhouettes: Vec<Vec<Option<f64>>> = Vec::with_capacity(k);
    for l in 0..k {
        job.check()?;
        let layer = &old_layers[l];
        let count = layer.sublayers.len().max(1);
        if !resplit[l] {
            sub_counts.push(count);
            sub_curves.push(layer.sub_curve.clone());
            sub_silhouettes.push(layer.sublayers.iter().map(|s| s.silhouette).collect());
            continue;
        }
        let members: Vec<usize> = (0..n).filter(|&i| labels[i] == l).collect();
        let rows: Vec<f32> = members
            .iter()
            .flat_map(|&i| row(i).iter().copied())
            .collect();
        let centres: Option<Vec<f32>> = (0..count)
            .map(|s| sub_means[offsets[l] + s].clone())
            .collect::<Option<Vec<Vec<f32>>>>()
            .map(|c| c.concat());
        let (member_subs, count, curve, silhouettes) = match centres {
            // Warm-started from the current sub-layers: they keep their order and most items.
            Some(centres) if count >= 2 => {
                let fit = kmeans_from(&rows, d, centres);
                let sample = SampleDistances::new(
                    &rows,
                    d,
                    sample_indices(members.len(), params.sample, params.seed),
                );
                let silhouettes = sample.silhouette_by_cluster(&fit.labels, count);
                (fit.labels, count, layer.sub_curve.clone(), silhouettes)
            }
            // A layer that was whole (or lost a sub-layer's items) is split afresh.
            _ if members.len() >= MIN_SPLIT => {
                let mut local = vec![1usize; n];
                for &i in &members {
                    local[i] = 0;
                }
                let (_, split, count, curve, silhouettes) =
                    split_layer(vectors, d, &local, 0, &params)?;
                let split = split.unwrap_or_else(|| vec![0; members.len()]);
                (split, count, curve, silhouettes)
            }
            _ => (vec![0; members.len()], 1, Vec::new(), vec![None]),
        };
        for (&i, &s) in members.iter().zip(&member_subs) {
            subs[i] = s;
        }
        sub_counts.push(count);
        sub_curves.push(curve);
        sub_silhouettes.push(silhouettes);
        job.progress("sub-layers", l as u64 + 1, k as u64);
    }

    // Names: recomputed, an old one kept unless its words clearly changed.
    job.progress("names", 0, 1);
    let fresh_names = cluster_names(texts, &labels, k);
    let new_offsets: Vec<usize> = sub_counts
        .iter()
        .scan(0, |acc, &c| {
            let start = *acc;
            *acc += c;
            Some(start)
        })
        .collect();
    let global_sub: Vec<usize> = (0..n).map(|i| new_offsets[labels[i]] + subs[i]).collect();
    let fresh_sub_names = cluster_names(texts, &global_sub, sub_counts.iter().sum());
    let mut sub_sizes: Vec<Vec<usize>> = sub_counts.iter().map(|&c| vec![0; c]).collect();
    for i in 0..n {
        sub_sizes[labels[i]][subs[i]] += 1;
    }

    job.check()?;
    job.progress("quality", 0, 1);
    let sample = SampleDistances::new(vectors, d, sample_indices(n, params.sample, params.seed));
    let by_layer = sample.silhouette_by_cluster(&labels, k);
    // A layer left without items keeps its stored centroid (zeros in other vectors).
    let centroids: Vec<f32> = (0..k)
        .flat_map(|l| {
            refreshed[l].clone().unwrap_or_else(|| match stored(l) {
                Some(c) => c.to_vec(),
                None => vec![0.0; d],
            })
        })
        .collect();
    job.progress("map", 0, 1);
    let projection = project_2d(vectors, d).map_err(LayerError::Math)?;
    let layers: Vec<Layer> = (0..k)
        .map(|l| {
            let old = &old_layers[l];
            let keep = |old: &[String], new: &[String]| {
                if keeps_name(old, new) {
                    old.to_vec()
                } else {
                    new.to_vec()
                }
            };
            Layer {
                id: old.id,
                name: keep(&old.name, &fresh_names[l]),
                size: sizes[l],
                silhouette: by_layer[l],
                centroid: centroids[l * d..(l + 1) * d].to_vec(),
                sublayers: (0..sub_counts[l])
                    .map(|s| {
                        let new_name = &fresh_sub_names[new_offsets[l] + s];
                        let name = match old.sublayers.get(s) {
                            Some(o) if !resplit[l] => keep(&o.name, new_name),
                            _ => new_name.clone(),
                        };
                        Sublayer {
                            name,
                            size: sub_sizes[l][s],
                            silhouette: sub_silhouettes[l].get(s).copied().flatten(),
                        }
                    })
                    .collect(),
                sub_curve: sub_curves[l].clone(),
                split_at: if resplit[l] { sizes[l] } else { old.split_at },
            }
        })
        .collect();
    notes.push(
        "stability (ARI) is the previous run's: an update does not run k-means again".to_owned(),
    );
    let quality = Quality {
        silhouette: sample.mean_silhouette(&labels, k),
        davies_bouldin: quality::davies_bouldin(vectors, d, &labels, &centroids, k),
        calinski_harabasz: quality::calinski_harabasz(vectors, d, &labels, &centroids, k),
        stability_ari: previous.run.quality.stability_ari,
        explained_variance: projection.explained,
    };
    Ok(LayerRun {
        params,
        k,
        curve: previous.run.curve.clone(),
        layers,
        item_layer: labels,
        item_sublayer: subs,
        points: projection.points,
        quality,
        notes,
        seconds: started.elapsed().as_secs_f64(),
        updated_from: Some(previous.run_id),
    })
}
