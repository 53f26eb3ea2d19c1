//! The recommender: user profiles (layer strengths from weighted, recency-decayed histories)
//! and per-layer candidates scored by a blend of content similarity to the user's interest in
//! that layer, collaborative evidence (EASE's item–item model of all users' histories) and
//! popularity; each recommendation names the history item that contributes most.

use std::collections::{HashMap, HashSet};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{Event, Weighting};
pub(crate) use crate::embed::kernels::dot;
use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};
use multiversion::multiversion;

use crate::layers::linalg::{in_pool, rows_dot_rows, threads};

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
    /// Chosen on validation splits of Online Retail and MovieLens (`strata evaluate`).
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
            free_share: 0.0,
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
    /// log(1 + users) scaled to 0..=1.
    popularity: Vec<f32>,
    /// Item–item weights learnt from all histories (EASE), n_items × n_items: row i says how
    /// much having item i speaks for each other item.
    item_item: Vec<f32>,
}

/// Binary user × item matrix (dense, row-major) of `histories`.
pub fn binary_matrix(histories: &[Vec<Event>], n_items: usize) -> Vec<f32> {
    let mut x = vec![0f32; histories.len() * n_items];
    for (u, events) in histories.iter().enumerate() {
        for e in events {
            x[u * n_items + e.item as usize] = 1.0;
        }
    }
    x
}

/// Item–item cosine from the co-occurrence counts [`item_gram`] gives (normalised in place).
pub fn item_cosine(mut gram: Vec<f32>, n_items: usize) -> Vec<f32> {
    let norms: Vec<f32> = (0..n_items).map(|i| gram[i * n_items + i].sqrt()).collect();
    for (i, row) in gram.chunks_exact_mut(n_items.max(1)).enumerate() {
        for (j, v) in row.iter_mut().enumerate() {
            let denominator = norms[i] * norms[j];
            *v = if denominator > 0.0 {
                *v / denominator
            } else {
                0.0
            };
        }
    }
    gram
}

/// XᵀX of the binary matrix `x` (users × items): co-occurrence counts, items × items.
pub fn item_gram(x: &[f32], n_users: usize, n_items: usize) -> Vec<f32> {
    let mut xt = vec![0f32; n_items * n_users];
    for (u, row) in x.chunks_exact(n_items.max(1)).enumerate() {
        for (i, &v) in row.iter().enumerate() {
            xt[i * n_users + u] = v;
        }
    }
    in_pool(|| rows_dot_rows(&xt, n_items, &xt, n_items, n_users))
}

/// EASE's item–item matrix (Steck 2019), row-major: B = I − P·diag(1/diag P) with
/// P = (G + λI)⁻¹, G = XᵀX, and diag B = 0, so B[i][j] = −P[i][j] / P[j][j].
///
/// In f32: with λ ≥ 1 added to a matrix of counts the system is well conditioned, and f32
/// halves the time of the inverse, which is most of an evaluation. P is symmetric, so row i
/// of B is column i of P (contiguous in faer's column-major layout) scaled column by column.
/// `None` when the factorisation fails (it cannot for λ > 0 in exact arithmetic).
pub fn ease_matrix(gram: &[f32], n_items: usize, lambda: f64) -> Option<Vec<f32>> {
    let lambda = lambda as f32;
    // G is symmetric: element (i, j) read as gram[j·n + i] fills faer's columns in order.
    let g = Mat::<f32>::from_fn(n_items, n_items, |i, j| {
        gram[j * n_items + i] + if i == j { lambda } else { 0.0 }
    });
    let p = in_pool(|| {
        faer::set_global_parallelism(faer::Par::rayon(threads()));
        g.llt(Side::Lower).map(|llt| llt.inverse())
    })
    .ok()?;
    drop(g);
    let scale: Vec<f32> = (0..n_items).map(|j| -1.0 / p[(j, j)]).collect();
    let mut b = vec![0f32; n_items * n_items];
    in_pool(|| {
        b.par_chunks_mut(n_items.max(1))
            .enumerate()
            .for_each(|(i, row)| {
                let column = p.col(i);
                for (j, (v, s)) in row.iter_mut().zip(&scale).enumerate() {
                    *v = if i == j { 0.0 } else { column[j] * s };
                }
            });
    });
    b.iter().all(|v| v.is_finite()).then_some(b)
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
        item_item: Vec<f32>,
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
        let mut users_per_item = vec![0f32; n_items];
        for events in histories {
            let distinct: HashSet<u32> = events.iter().map(|e| e.item).collect();
            for item in distinct {
                users_per_item[item as usize] += 1.0;
            }
        }
        let top = users_per_item.iter().copied().fold(0f32, f32::max);
        let popularity = users_per_item
            .iter()
            .map(|&c| {
                if top > 0.0 {
                    (1.0 + c).ln() / (1.0 + top).ln()
                } else {
                    0.0
                }
            })
            .collect();
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
        let seen: HashSet<u32> = weights.iter().map(|&(i, _)| i).collect();
        let candidates: Vec<u32> = (0..self.n_items as u32)
            .filter(|i| !seen.contains(i))
            .collect();
        let total_weight: f32 = weights.iter().map(|&(_, w)| w).sum();
        let mut collaborative_all = vec![0f32; self.n_items];
        add_weighted_rows(&mut collaborative_all, &self.item_item, weights);
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
        let mut per_layer = Vec::with_capacity(layers.len());
        for strength in &layers {
            let mut ranked: Vec<(usize, f32)> = evidence
                .candidates
                .iter()
                .enumerate()
                .filter(|&(_, &j)| self.item_layer[j as usize] == strength.layer)
                .map(|(c, _)| (c, scores[c]))
                .collect();
            keep_best(&mut ranked, params.per_layer, &evidence.candidates);
            per_layer.push(
                ranked
                    .into_iter()
                    .map(|(c, score)| {
                        self.recommendation(evidence.candidates[c], score, weights, &params.blend)
                    })
                    .collect(),
            );
        }
        let merged = self
            .merged(&evidence, &scores, &layers, params)
            .into_iter()
            .map(|(c, score)| {
                self.recommendation(evidence.candidates[c], score, weights, &params.blend)
            })
            .collect();
        UserRecommendations {
            layers,
            per_layer,
            merged,
        }
    }

    /// Candidate positions of the merged list: each of the top layers gets one place, the
    /// rest are shared in proportion to strength (largest remainders), places a layer cannot
    /// fill go to the best candidates left anywhere; best first.
    pub fn merged(
        &self,
        evidence: &Evidence,
        scores: &[f32],
        layers: &[LayerStrength],
        params: &RecommendParams,
    ) -> Vec<(usize, f32)> {
        let n = params.list_len;
        let mut by_layer: Vec<Vec<(usize, f32)>> = vec![Vec::new(); self.n_layers];
        for (c, &j) in evidence.candidates.iter().enumerate() {
            by_layer[self.item_layer[j as usize]].push((c, scores[c]));
        }
        for ranked in &mut by_layer {
            keep_best(ranked, n, &evidence.candidates);
        }
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
        let mut taken = vec![false; evidence.candidates.len()];
        for l in layers {
            for &(c, s) in by_layer[l.layer].iter().take(quota[l.layer]) {
                chosen.push((c, s));
                taken[c] = true;
            }
        }
        if chosen.len() < n {
            let mut left: Vec<(usize, f32)> = (0..evidence.candidates.len())
                .filter(|&c| !taken[c])
                .map(|c| (c, scores[c]))
                .collect();
            keep_best(&mut left, n - chosen.len(), &evidence.candidates);
            chosen.extend(left.into_iter().take(n - chosen.len()));
        }
        sort_best_first(&mut chosen, &evidence.candidates);
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
        let reason = weights
            .iter()
            .zip(similarities)
            .map(|(&(i, w), similarity)| {
                let same_layer = self.item_layer[i as usize] == layer;
                let content = if same_layer { similarity.max(0.0) } else { 0.0 };
                let collaborative = self.item_item[i as usize * self.n_items + item as usize];
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
            let content = self.batch_content(&weights);
            weights
                .par_iter()
                .zip(content.par_chunks(self.n_items.max(1)))
                .map(|(w, row)| self.recommend_weighted(w, params, Some(row)))
                .collect()
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

/// The evidence for one user's candidates (parallel vectors, each scaled to 0..=1).
pub struct Evidence {
    pub candidates: Vec<u32>,
    pub content: Vec<f32>,
    pub collaborative: Vec<f32>,
    pub popularity: Vec<f32>,
}

impl Evidence {
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
fn sort_best_first(ranked: &mut [(usize, f32)], candidates: &[u32]) {
    ranked.sort_by(|a, b| best_first(a, b, candidates));
}

fn best_first(a: &(usize, f32), b: &(usize, f32), candidates: &[u32]) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1)
        .then(candidates[a.0].cmp(&candidates[b.0]))
}

/// Keeps the best `n` of `ranked`, best first, in linear time plus a sort of `n`.
fn keep_best(ranked: &mut Vec<(usize, f32)>, n: usize, candidates: &[u32]) {
    if ranked.len() > n && n > 0 {
        ranked.select_nth_unstable_by(n - 1, |a, b| best_first(a, b, candidates));
    }
    ranked.truncate(n);
    sort_best_first(ranked, candidates);
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
}
