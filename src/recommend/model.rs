//! The recommender: user profiles (layer strengths from weighted, recency-decayed histories)
//! and per-layer candidates scored by a blend of content similarity to the user's interest in
//! that layer, collaborative evidence (EASE's item–item model of all users' histories) and
//! popularity; each recommendation names the history item that contributes most.

use std::cell::RefCell;
use std::collections::HashMap;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{Event, Weighting};
use super::item_model::{ItemModel, binary_matrix, ease_matrix, item_cosine, item_gram};
pub(crate) use crate::embed::kernels::dot;
use multiversion::multiversion;

use crate::layers::linalg::in_pool;

const SECONDS_PER_DAY: f64 = 86_400.0;

/// How a history becomes a profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileParams {
    pub weighting: Weighting,
    /// An interaction this many days older than the user's latest counts half.
    pub half_life_days: f64,
}

impl Default for ProfileParams {
    fn default() -> Self {
        Self {
            weighting: Weighting::One,
            half_life_days: 180.0,
        }
    }
}

/// Weights of the three kinds of evidence in a recommendation's score. Each kind is scaled
/// to 0..=1 over the user's candidates first, so the weights compare.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Blend {
    pub content: f32,
    pub collaborative: f32,
    pub popularity: f32,
}

impl Default for Blend {
    /// Between what validation chose on Online Retail (content 0.25, popularity 0.25) and
    /// MovieLens (content 1, popularity 0); `strata evaluate` chooses a project's own.
    fn default() -> Self {
        Self {
            content: 0.5,
            collaborative: 1.0,
            popularity: 0.25,
        }
    }
}

/// What to recommend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecommendParams {
    pub profile: ProfileParams,
    pub blend: Blend,
    /// Items per layer in the per-layer lists.
    pub per_layer: usize,
    /// Length of the merged list.
    pub list_len: usize,
    /// The merged list holds at least one item from each of this many strongest layers.
    pub top_layers: usize,
    /// Share of the merged list's places (after the top layers' one each) left to the best
    /// candidates of any layer, the user's other layers included; the rest are shared by
    /// strength. 0 gives plain quotas; `strata evaluate` chooses it on validation.
    pub free_share: f64,
}

impl Default for RecommendParams {
    fn default() -> Self {
        Self {
            profile: ProfileParams::default(),
            blend: Blend::default(),
            per_layer: 5,
            list_len: 10,
            top_layers: 3,
            // Validation chose 0.6 on both shared datasets.
            free_share: 0.6,
        }
    }
}

/// One recommended item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub item: u32,
    pub layer: usize,
    pub score: f32,
    /// The history item that contributes most to the score.
    pub reason: Option<u32>,
}

/// A layer of a user's profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerStrength {
    pub layer: usize,
    /// Weighted share of the history in this layer (the strengths sum to 1).
    pub strength: f64,
    /// Share of the layer's weight in each of its sub-layers.
    pub sublayers: Vec<f64>,
}

/// Everything shown for one user.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserRecommendations {
    /// Layers with any weight, strongest first.
    pub layers: Vec<LayerStrength>,
    /// Per layer (same order as `layers`), best first.
    pub per_layer: Vec<Vec<Recommendation>>,
    /// The merged list: quotas by strength, each top layer represented, best first.
    pub merged: Vec<Recommendation>,
}

/// The catalogue side and everything learnt from all users' histories.
pub struct Model {
    pub n_items: usize,
    dim: usize,
    /// Unit vectors, n_items × dim.
    vectors: Vec<f32>,
    item_layer: Vec<usize>,
    item_sublayer: Vec<usize>,
    n_layers: usize,
    sublayer_counts: Vec<usize>,
    /// log(1 + users) scaled to 0..=1, each user counted by recency ([`popularity`]).
    popularity: Vec<f32>,
    /// Item–item weights learnt from all histories (EASE).
    item_item: ItemModel,
}

/// How popular each item is: log(1 + users) scaled to 0..=1. With a half-life (days, > 0)
/// each user counts ½^(age / half-life), age measured from their latest interaction with the
/// item back from the latest interaction of all, so popularity says what sells *now*: a shop's
/// season, a course's current intake. 0 counts every user fully (all-time popularity).
pub fn popularity(histories: &[Vec<Event>], n_items: usize, trend_half_life_days: f64) -> Vec<f32> {
    let now = histories.iter().flatten().map(|e| e.ts).max().unwrap_or(0);
    let mut users_per_item = vec![0f64; n_items];
    let mut latest: HashMap<u32, i64> = HashMap::new();
    for events in histories {
        latest.clear();
        for e in events {
            let ts = latest.entry(e.item).or_insert(e.ts);
            *ts = (*ts).max(e.ts);
        }
        for (&item, &ts) in &latest {
            users_per_item[item as usize] += if trend_half_life_days > 0.0 {
                let age_days = now.saturating_sub(ts) as f64 / SECONDS_PER_DAY;
                0.5f64.powf(age_days / trend_half_life_days)
            } else {
                1.0
            };
        }
    }
    let top = users_per_item.iter().copied().fold(0f64, f64::max);
    users_per_item
        .iter()
        .map(|&c| {
            if top > 0.0 {
                ((1.0 + c).ln() / (1.0 + top).ln()) as f32
            } else {
                0.0
            }
        })
        .collect()
}

impl Model {
    /// Learns popularity and the item–item model (EASE with `lambda`) from `histories`
    /// (each user's training events).
    pub fn fit(
        histories: &[Vec<Event>],
        lambda: f64,
        vectors: Vec<f32>,
        dim: usize,
        item_layer: Vec<usize>,
        item_sublayer: Vec<usize>,
    ) -> Self {
        let n_items = item_layer.len();
        let x = binary_matrix(histories, n_items);
        let gram = item_gram(&x, histories.len(), n_items);
        let item_item = match ease_matrix(&gram, n_items, lambda) {
            Some(b) => b,
            None => item_cosine(gram, n_items),
        };
        Self::with_item_model(
            histories,
            item_item,
            vectors,
            dim,
            item_layer,
            item_sublayer,
        )
    }

    /// As [`Model::fit`], with the item–item matrix (n_items × n_items, row i for item i)
    /// already learnt: the evaluation shares one between Strata and the EASE baseline.
    pub fn with_item_model(
        histories: &[Vec<Event>],
        item_item: ItemModel,
        vectors: Vec<f32>,
        dim: usize,
        item_layer: Vec<usize>,
        item_sublayer: Vec<usize>,
    ) -> Self {
        let n_items = item_layer.len();
        let n_layers = item_layer.iter().max().map_or(0, |m| m + 1);
        let mut sublayer_counts = vec![0usize; n_layers];
        for (&l, &s) in item_layer.iter().zip(&item_sublayer) {
            sublayer_counts[l] = sublayer_counts[l].max(s + 1);
        }
        let popularity = popularity(histories, n_items, 0.0);
        Self {
            n_items,
            dim,
            vectors,
            item_layer,
            item_sublayer,
            n_layers,
            sublayer_counts,
            popularity,
            item_item,
        }
    }

    /// The same model with popularity counted by recency ([`popularity`]'s half-life).
    #[must_use]
    pub fn with_trend(mut self, histories: &[Vec<Event>], trend_half_life_days: f64) -> Self {
        self.popularity = popularity(histories, self.n_items, trend_half_life_days);
        self
    }

    pub fn item_layer(&self, item: u32) -> usize {
        self.item_layer[item as usize]
    }

    fn vector(&self, item: usize) -> &[f32] {
        &self.vectors[item * self.dim..(item + 1) * self.dim]
    }

    /// Each distinct history item with its weight: value × ½^(age / half-life), age measured
    /// back from the user's latest interaction.
    pub fn weights(&self, events: &[Event], params: &ProfileParams) -> Vec<(u32, f32)> {
        let latest = events.iter().map(|e| e.ts).max().unwrap_or(i64::MIN);
        let mut weights: Vec<(u32, f32)> = Vec::new();
        let mut position: HashMap<u32, usize> = HashMap::new();
        for e in events {
            let age_days = if e.ts == i64::MIN || latest == i64::MIN {
                0.0
            } else {
                (latest - e.ts) as f64 / SECONDS_PER_DAY
            };
            let decay = if params.half_life_days > 0.0 {
                0.5f64.powf(age_days / params.half_life_days)
            } else {
                1.0
            };
            let w = e.value * decay as f32;
            match position.entry(e.item) {
                std::collections::hash_map::Entry::Occupied(at) => weights[*at.get()].1 += w,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(weights.len());
                    weights.push((e.item, w));
                }
            }
        }
        weights
    }

    /// Layer strengths of a weighted history, strongest first.
    pub fn strengths(&self, weights: &[(u32, f32)]) -> Vec<LayerStrength> {
        let mut by_layer = vec![0f64; self.n_layers];
        let mut by_sub: Vec<Vec<f64>> =
            self.sublayer_counts.iter().map(|&c| vec![0.0; c]).collect();
        for &(item, w) in weights {
            let (l, s) = (
                self.item_layer[item as usize],
                self.item_sublayer[item as usize],
            );
            by_layer[l] += f64::from(w);
            by_sub[l][s] += f64::from(w);
        }
        let total: f64 = by_layer.iter().sum();
        let mut layers: Vec<LayerStrength> = (0..self.n_layers)
            .filter(|&l| by_layer[l] > 0.0)
            .map(|l| LayerStrength {
                layer: l,
                strength: by_layer[l] / total,
                sublayers: by_sub[l].iter().map(|s| s / by_layer[l]).collect(),
            })
            .collect();
        layers.sort_by(|a, b| {
            b.strength
                .total_cmp(&a.strength)
                .then(a.layer.cmp(&b.layer))
        });
        layers
    }

    /// The three kinds of evidence for every candidate of a user (every item not in the
    /// history; a layer's list draws on its own), each scaled to 0..=1 over the candidates.
    pub fn evidence(&self, weights: &[(u32, f32)]) -> Evidence {
        self.evidence_from(weights, None)
    }

    /// The user's interest in each layer: the weighted mean of their history vectors there,
    /// unit length (n_layers × dim), and which layers have one.
    fn layer_means(&self, weights: &[(u32, f32)]) -> (Vec<f32>, Vec<bool>) {
        let mut means = vec![0f32; self.n_layers * self.dim];
        for &(item, w) in weights {
            let l = self.item_layer[item as usize];
            for (m, &v) in means[l * self.dim..(l + 1) * self.dim]
                .iter_mut()
                .zip(self.vector(item as usize))
            {
                *m += w * v;
            }
        }
        let mut has_mean = vec![false; self.n_layers];
        for (mean, has) in means.chunks_exact_mut(self.dim.max(1)).zip(&mut has_mean) {
            let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                mean.iter_mut().for_each(|v| *v /= norm);
                *has = true;
            }
        }
        (means, has_mean)
    }

    /// [`Model::evidence`], with the content evidence of every item already computed
    /// (`content_row`, n_items long) when the caller batches users.
    fn evidence_from(&self, weights: &[(u32, f32)], content_row: Option<&[f32]>) -> Evidence {
        let mut seen = vec![false; self.n_items];
        for &(item, _) in weights {
            seen[item as usize] = true;
        }
        let candidates: Vec<u32> = (0..self.n_items as u32)
            .filter(|&i| !seen[i as usize])
            .collect();
        let total_weight: f32 = weights.iter().map(|&(_, w)| w).sum();
        let mut collaborative_all = vec![0f32; self.n_items];
        add_weighted_rows(&mut collaborative_all, &self.item_item.weights, weights);
        let mut content = match content_row {
            Some(row) => candidates.iter().map(|&j| row[j as usize]).collect(),
            None => {
                let (means, has_mean) = self.layer_means(weights);
                layer_dots(
                    &candidates,
                    &self.item_layer,
                    &means,
                    &has_mean,
                    &self.vectors,
                    self.dim,
                )
            }
        };
        let mut collaborative = Vec::with_capacity(candidates.len());
        let mut popularity = Vec::with_capacity(candidates.len());
        for &j in &candidates {
            collaborative.push(
                (collaborative_all[j as usize] / total_weight.max(f32::MIN_POSITIVE)).max(0.0),
            );
            popularity.push(self.popularity[j as usize]);
        }
        scale_to_unit(&mut content);
        scale_to_unit(&mut collaborative);
        Evidence {
            candidates,
            content,
            collaborative,
            popularity,
        }
    }

    /// Per-layer lists and the merged list for one user's history.
    pub fn recommend(&self, events: &[Event], params: &RecommendParams) -> UserRecommendations {
        let weights = self.weights(events, &params.profile);
        self.recommend_weighted(&weights, params, None)
    }

    fn recommend_weighted(
        &self,
        weights: &[(u32, f32)],
        params: &RecommendParams,
        content_row: Option<&[f32]>,
    ) -> UserRecommendations {
        let layers = self.strengths(weights);
        let evidence = self.evidence_from(weights, content_row);
        let scores = evidence.scores(&params.blend);
        let ranked = self.ranked(
            &evidence.candidates,
            &scores,
            params.per_layer.max(params.list_len),
        );
        // Most merged items are in the per-layer lists too: each reason is worked out once.
        let reasons: RefCell<HashMap<u32, Recommendation>> = RefCell::default();
        let to_recommendation = |&(c, score): &(usize, f32)| {
            let item = evidence.candidates[c];
            reasons
                .borrow_mut()
                .entry(item)
                .or_insert_with(|| self.recommendation(item, score, weights, &params.blend))
                .clone()
        };
        let per_layer = layers
            .iter()
            .map(|strength| {
                ranked.by_layer[strength.layer]
                    .iter()
                    .take(params.per_layer)
                    .map(to_recommendation)
                    .collect()
            })
            .collect();
        let merged = self
            .merged(&ranked, &layers, params)
            .iter()
            .map(to_recommendation)
            .collect();
        UserRecommendations {
            layers,
            per_layer,
            merged,
        }
    }

    /// A user's best candidates under `scores` (one per candidate): the best `depth` of each
    /// layer and the best 2 × `depth` of all, best first, in one pass.
    pub fn ranked(&self, candidates: &[u32], scores: &[f32], depth: usize) -> Ranked {
        let mut by_layer: Vec<Vec<(usize, f32)>> =
            vec![Vec::with_capacity(depth + 1); self.n_layers];
        let mut overall = Vec::with_capacity(2 * depth + 1);
        for (c, (&j, &score)) in candidates.iter().zip(scores).enumerate() {
            let entry = (c, score);
            offer(
                &mut by_layer[self.item_layer[j as usize]],
                entry,
                depth,
                candidates,
            );
            offer(&mut overall, entry, 2 * depth, candidates);
        }
        Ranked { by_layer, overall }
    }

    /// Candidate positions of the merged list: each of the top layers gets one place, the
    /// rest are shared in proportion to strength (largest remainders), places a layer cannot
    /// fill go to the best candidates left anywhere; best first. `ranked` must hold at least
    /// `params.list_len` per layer.
    pub fn merged(
        &self,
        ranked: &Ranked,
        layers: &[LayerStrength],
        params: &RecommendParams,
    ) -> Vec<(usize, f32)> {
        let n = params.list_len;
        let mut quota = vec![0usize; self.n_layers];
        let top = params.top_layers.min(layers.len()).min(n);
        for l in &layers[..top] {
            quota[l.layer] = 1;
        }
        let rest = n - top;
        let rest = rest - (rest as f64 * params.free_share.clamp(0.0, 1.0)).round() as usize;
        let shares: Vec<f64> = layers.iter().map(|l| l.strength * rest as f64).collect();
        let mut given = 0;
        for (l, share) in layers.iter().zip(&shares) {
            let whole = share.floor() as usize;
            quota[l.layer] += whole;
            given += whole;
        }
        let mut remainders: Vec<(f64, usize)> = layers
            .iter()
            .zip(&shares)
            .map(|(l, s)| (s - s.floor(), l.layer))
            .collect();
        remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, layer) in remainders.iter().take(rest.saturating_sub(given)) {
            quota[layer] += 1;
        }
        let mut chosen: Vec<(usize, f32)> = Vec::with_capacity(n);
        for l in layers {
            chosen.extend(ranked.by_layer[l.layer].iter().take(quota[l.layer]));
        }
        // At most n are taken, so the best 2n of all hold enough that are not.
        for &entry in &ranked.overall {
            if chosen.len() >= n {
                break;
            }
            if !chosen.iter().any(|&(c, _)| c == entry.0) {
                chosen.push(entry);
            }
        }
        // Candidate positions are in item order: ties go to the lower item, as everywhere.
        chosen.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        chosen.truncate(n);
        chosen
    }

    fn recommendation(
        &self,
        item: u32,
        score: f32,
        weights: &[(u32, f32)],
        blend: &Blend,
    ) -> Recommendation {
        let layer = self.item_layer[item as usize];
        let similarities = history_dots(
            &self.vectors,
            self.dim,
            weights,
            &self.item_layer,
            layer,
            self.vector(item as usize),
        );
        let collaborative = self
            .item_item
            .column_at(item as usize, weights.iter().map(|&(i, _)| i as usize));
        let reason = weights
            .iter()
            .zip(similarities)
            .zip(collaborative)
            .map(|((&(i, w), similarity), collaborative)| {
                let same_layer = self.item_layer[i as usize] == layer;
                let content = if same_layer { similarity.max(0.0) } else { 0.0 };
                (
                    i,
                    w * (blend.content * content + blend.collaborative * collaborative),
                )
            })
            .filter(|&(_, v)| v > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i);
        Recommendation {
            item,
            layer,
            score,
            reason,
        }
    }

    /// Recommendations for many users at once, on all cores.
    pub fn recommend_all(
        &self,
        histories: &[Vec<Event>],
        params: &RecommendParams,
    ) -> Vec<UserRecommendations> {
        in_pool(|| {
            let weights: Vec<Vec<(u32, f32)>> = histories
                .par_iter()
                .map(|events| self.weights(events, &params.profile))
                .collect();
            // Users in groups whose content rows fill about 16 MB, not one matrix of all.
            let group = (CONTENT_FLOATS / self.n_items.max(1)).max(USER_BLOCK);
            let mut all = Vec::with_capacity(histories.len());
            for weights in weights.chunks(group) {
                let content = self.batch_content(weights);
                all.par_extend(
                    weights
                        .par_iter()
                        .zip(content.par_chunks(self.n_items.max(1)))
                        .map(|(w, row)| self.recommend_weighted(w, params, Some(row))),
                );
            }
            all
        })
    }

    /// Content evidence of every item for every user (users × n_items): per layer, blocks of
    /// users' means against the layer's item vectors, so each item vector is read once per
    /// block rather than once per user. Each value is the same [`dot`] as the one-user path
    /// computes, so a user's list is the same either way, to the bit.
    fn batch_content(&self, weights: &[Vec<(u32, f32)>]) -> Vec<f32> {
        let (n, d) = (self.n_items, self.dim);
        let means: Vec<(Vec<f32>, Vec<bool>)> =
            weights.par_iter().map(|w| self.layer_means(w)).collect();
        let mut content = vec![0f32; weights.len() * n];
        for layer in 0..self.n_layers {
            let users: Vec<usize> = (0..weights.len()).filter(|&u| means[u].1[layer]).collect();
            let items: Vec<usize> = (0..n).filter(|&i| self.item_layer[i] == layer).collect();
            if users.is_empty() || items.is_empty() {
                continue;
            }
            let user_rows: Vec<f32> = users
                .iter()
                .flat_map(|&u| means[u].0[layer * d..(layer + 1) * d].iter().copied())
                .collect();
            let item_rows: Vec<f32> = items
                .iter()
                .flat_map(|&i| self.vector(i).iter().copied())
                .collect();
            let mut dots = vec![0f32; users.len() * items.len()];
            dots.par_chunks_mut(USER_BLOCK * items.len())
                .zip(user_rows.par_chunks(USER_BLOCK * d))
                .for_each(|(out, block)| block_dots(block, &item_rows, d, out));
            for (row, &u) in dots.chunks_exact(items.len()).zip(&users) {
                let out = &mut content[u * n..(u + 1) * n];
                for (&v, &i) in row.iter().zip(&items) {
                    out[i] = v.max(0.0);
                }
            }
        }
        content
    }
}

/// A user's best candidates under one score row (candidate position, score), best first.
pub struct Ranked {
    /// Per layer (all layers of the model), the best `depth`.
    pub by_layer: Vec<Vec<(usize, f32)>>,
    /// The best 2 × `depth` of every layer.
    pub overall: Vec<(usize, f32)>,
}

/// Keeps `entry` in `best` (at most `depth`, best first) if it belongs there. Candidates come
/// in item order, so an equal score never displaces an earlier item: ties go to the lower
/// item index, as in [`best_first`].
fn offer(best: &mut Vec<(usize, f32)>, entry: (usize, f32), depth: usize, candidates: &[u32]) {
    if depth == 0 || (best.len() == depth && entry.1 <= best[depth - 1].1) {
        return;
    }
    let at = best.partition_point(|other| best_first(other, &entry, candidates).is_le());
    best.insert(at, entry);
    best.truncate(depth);
}

/// The evidence for one user's candidates (parallel vectors, each scaled to 0..=1).
pub struct Evidence {
    pub candidates: Vec<u32>,
    pub content: Vec<f32>,
    pub collaborative: Vec<f32>,
    pub popularity: Vec<f32>,
}

impl Evidence {
    /// Replaces the popularity evidence with `popularity` (one value per item).
    pub fn set_popularity(&mut self, popularity: &[f32]) {
        for (p, &j) in self.popularity.iter_mut().zip(&self.candidates) {
            *p = popularity[j as usize];
        }
    }

    pub fn scores(&self, blend: &Blend) -> Vec<f32> {
        self.content
            .iter()
            .zip(&self.collaborative)
            .zip(&self.popularity)
            .map(|((&a, &b), &c)| {
                blend.content * a + blend.collaborative * b + blend.popularity * c
            })
            .collect()
    }
}

/// Best score first; ties by item index, so lists are reproducible.
fn best_first(a: &(usize, f32), b: &(usize, f32), candidates: &[u32]) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1)
        .then(candidates[a.0].cmp(&candidates[b.0]))
}

fn scale_to_unit(values: &mut [f32]) {
    let top = values.iter().copied().fold(0f32, f32::max);
    if top > 0.0 {
        values.iter_mut().for_each(|v| *v /= top);
    }
}

/// `out += Σ w · matrix[row]` over `(row, w)`: a user's collaborative evidence, the sum of
/// their history items' rows of the item–item model. Compiled for AVX-512 and AVX2 too.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn add_weighted_rows(out: &mut [f32], matrix: &[f32], rows: &[(u32, f32)]) {
    let n = out.len();
    for &(row, w) in rows {
        let row = &matrix[row as usize * n..(row as usize + 1) * n];
        for (o, &v) in out.iter_mut().zip(row) {
            *o += w * v;
        }
    }
}

/// Dot product with `target` of each history item in `layer` (0 for the others): the content
/// part of a recommendation's reason, which only the layer's own history can give.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn history_dots(
    vectors: &[f32],
    dim: usize,
    history: &[(u32, f32)],
    item_layer: &[usize],
    layer: usize,
    target: &[f32],
) -> Vec<f32> {
    history
        .iter()
        .map(|&(i, _)| {
            if item_layer[i as usize] == layer {
                dot(&vectors[i as usize * dim..(i as usize + 1) * dim], target)
            } else {
                0.0
            }
        })
        .collect()
}

/// Content evidence values [`Model::recommend_all`] holds at once (16 MB).
const CONTENT_FLOATS: usize = 4 << 20;

/// Users per block of [`Model::batch_content`]: their means (64 × 1.5 KB) stay in L2.
const USER_BLOCK: usize = 64;

/// `out[u][i] = dot(users[u], items[i])` for a block of users against a layer's items.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn block_dots(users: &[f32], items: &[f32], dim: usize, out: &mut [f32]) {
    let n_items = items.len() / dim.max(1);
    for (i, item) in items.chunks_exact(dim.max(1)).enumerate() {
        for (u, user) in users.chunks_exact(dim.max(1)).enumerate() {
            out[u * n_items + i] = dot(user, item);
        }
    }
}

/// Content evidence of each candidate: its vector's dot product with the user's mean vector
/// in its layer (0 where the user has none, and never below 0). Compiled for AVX-512 and
/// AVX2 too: this is the largest part of a user's lists.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn layer_dots(
    candidates: &[u32],
    item_layer: &[usize],
    means: &[f32],
    has_mean: &[bool],
    vectors: &[f32],
    dim: usize,
) -> Vec<f32> {
    candidates
        .iter()
        .map(|&j| {
            let l = item_layer[j as usize];
            if has_mean[l] {
                let v = &vectors[j as usize * dim..(j as usize + 1) * dim];
                dot(&means[l * dim..(l + 1) * dim], v).max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn e(item: u32, ts: i64) -> Event {
        Event {
            item,
            ts,
            value: 1.0,
        }
    }

    /// 12 items in 3 layers of 4 (vectors along 3 axes), users buying within layers.
    fn model() -> Model {
        let dim = 3;
        let mut vectors = Vec::new();
        let mut item_layer = Vec::new();
        for item in 0..12 {
            let layer = item / 4;
            let mut v = [0.1f32; 3];
            v[layer] = 1.0;
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            vectors.extend(v.iter().map(|x| x / norm));
            item_layer.push(layer);
        }
        let histories: Vec<Vec<Event>> = (0..30)
            .map(|u| {
                let layer = (u % 3) as u32;
                vec![
                    e(layer * 4, 1),
                    e(layer * 4 + 1, 2),
                    e(layer * 4 + (u % 2) as u32 + 2, 3),
                ]
            })
            .collect();
        Model::fit(&histories, 10.0, vectors, dim, item_layer, vec![0; 12])
    }

    #[test]
    fn recency_halves_weight_per_half_life() {
        let m = model();
        let day = 86_400;
        let params = ProfileParams {
            weighting: Weighting::One,
            half_life_days: 10.0,
        };
        let w = m.weights(&[e(0, 0), e(4, 10 * day), e(4, 20 * day)], &params);
        assert_eq!(w.len(), 2);
        assert!((w[0].1 - 0.25).abs() < 1e-6, "{w:?}");
        assert!((w[1].1 - 1.5).abs() < 1e-6, "{w:?}");
        let strengths = m.strengths(&w);
        assert_eq!(strengths[0].layer, 1);
        assert!((strengths[0].strength - 1.5 / 1.75).abs() < 1e-6);
    }

    #[test]
    fn lists_hold_each_top_layer_no_duplicates_and_reasons_from_the_history() {
        let m = model();
        // Mostly layer 0, a little of layer 2.
        let history = [e(0, 1), e(1, 2), e(8, 3)];
        let params = RecommendParams {
            list_len: 4,
            ..RecommendParams::default()
        };
        let recs = m.recommend(&history, &params);
        assert_eq!(
            recs.layers.iter().map(|l| l.layer).collect::<Vec<_>>(),
            [0, 2]
        );
        let layers: HashSet<usize> = recs.merged.iter().map(|r| r.layer).collect();
        assert!(
            layers.contains(&0) && layers.contains(&2),
            "{:?}",
            recs.merged
        );
        let items: HashSet<u32> = recs.merged.iter().map(|r| r.item).collect();
        assert_eq!(items.len(), recs.merged.len(), "no duplicates");
        assert!(
            recs.merged.iter().all(|r| ![0, 1, 8].contains(&r.item)),
            "nothing seen"
        );
        for (strength, list) in recs.layers.iter().zip(&recs.per_layer) {
            for r in list {
                assert_eq!(m.item_layer(r.item), strength.layer);
                let reason = r.reason.expect("a reason");
                assert!([0, 1, 8].contains(&reason));
            }
        }
        // Same input, same lists; one user alone gets exactly their list of a batch (the
        // batch computes the content evidence block-wise, the same dot for each pair).
        assert_eq!(recs, m.recommend(&history, &params));
        let others = vec![e(4, 1), e(5, 2)];
        let batch = m.recommend_all(&[others.clone(), history.to_vec(), others], &params);
        assert_eq!(batch[1], recs);
        // Plain quotas: one place each for the two top layers, the other two shared 2/3 : 1/3
        // (1.33 and 0.67: one each by whole parts, the last by the larger remainder).
        let per_layer = |list: &[Recommendation], layer: usize| {
            list.iter().filter(|r| r.layer == layer).count()
        };
        assert_eq!(per_layer(&recs.merged, 0), 2, "{:?}", recs.merged);
        assert_eq!(per_layer(&recs.merged, 2), 2, "{:?}", recs.merged);
    }

    #[test]
    fn ranked_keeps_what_a_full_sort_keeps_ties_to_the_lower_item() {
        let model = model();
        // Every other item a candidate; many equal scores.
        let candidates: Vec<u32> = (0..12).filter(|i| i % 3 != 1).collect();
        let scores: Vec<f32> = candidates
            .iter()
            .map(|&i| f32::from((i % 4) as u8 / 2))
            .collect();
        for depth in [0, 1, 2, 5] {
            let ranked = model.ranked(&candidates, &scores, depth);
            let mut all: Vec<(usize, f32)> = scores.iter().copied().enumerate().collect();
            all.sort_by(|a, b| best_first(a, b, &candidates));
            let expect_overall: Vec<(usize, f32)> = all.iter().copied().take(2 * depth).collect();
            assert_eq!(ranked.overall, expect_overall, "depth {depth}");
            for layer in 0..3 {
                let expect: Vec<(usize, f32)> = all
                    .iter()
                    .copied()
                    .filter(|&(c, _)| model.item_layer(candidates[c]) == layer)
                    .take(depth)
                    .collect();
                assert_eq!(
                    ranked.by_layer[layer], expect,
                    "depth {depth} layer {layer}"
                );
            }
        }
    }

    #[test]
    fn trending_popularity_counts_recent_buyers_more() {
        let day = SECONDS_PER_DAY as i64;
        // Item 0: three buyers a year ago; item 1: two buyers last week; item 2: nobody.
        let histories = vec![
            vec![e(0, 0)],
            vec![e(0, 0)],
            vec![e(0, 0), e(1, 358 * day)],
            vec![e(1, 365 * day)],
        ];
        let all_time = popularity(&histories, 3, 0.0);
        assert!(
            all_time[0] > all_time[1] && all_time[2] == 0.0,
            "{all_time:?}"
        );
        assert!((all_time[0] - 1.0).abs() < 1e-6);
        let trending = popularity(&histories, 3, 30.0);
        assert!(trending[1] > trending[0], "{trending:?}");
        assert!((trending[1] - 1.0).abs() < 1e-6 && trending[2] == 0.0);
    }

    #[test]
    fn an_item_models_columns_read_from_its_rows() {
        let histories: Vec<Vec<Event>> = (0..20u32)
            .map(|u| {
                (0..6)
                    .filter(|i| (u + i) % 3 != 0)
                    .map(|i| e(i, 1))
                    .collect()
            })
            .collect();
        let x = binary_matrix(&histories, 6);
        let gram = item_gram(&x, 20, 6);
        for item_model in [
            ease_matrix(&gram, 6, 3.0).unwrap(),
            item_cosine(gram.clone(), 6),
        ] {
            for to in 0..6 {
                let column = item_model.column_at(to, 0..6);
                for (from, value) in column.into_iter().enumerate() {
                    let direct = item_model.weights[from * 6 + to];
                    assert!(
                        (value - direct).abs() < 1e-5,
                        "{from}→{to}: {value} vs {direct}"
                    );
                }
            }
        }
    }
}
