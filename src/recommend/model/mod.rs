//! The recommender: user profiles (layer strengths from weighted, recency-decayed histories)
//! and per-layer candidates scored by a blend of content similarity to the user's interest in
//! that layer, collaborative evidence (EASE's item–item model of all users' histories where it
//! fits the memory budget, each item's top cosine neighbours where it does not, mixed with the
//! layers' own EASE models) and popularity; each recommendation names the history item that
//! contributes most.
//!
//! One concern a file: `params` (settings and results), `profile` (weights and strengths),
//! `evidence` (the three kinds of evidence), `ranking` (one-pass ranking and the merged list's
//! quotas), `reasons` (the history item behind each recommendation), `kernels` (inner loops).

mod evidence;
mod kernels;
mod params;
mod profile;
mod ranking;
mod reasons;

use std::cell::RefCell;
use std::collections::HashMap;

use rayon::prelude::*;

use super::data::Event;
use super::ials::{FoldedIn, Ials, IalsParams, ItemFactors};
use super::item_model::{
    ItemModel, binary_matrix, dense_bytes, ease_matrix, item_cosine, item_gram,
};
use super::local_models::LocalModels;
use super::neighbours::{Incidence, NEIGHBOURS, Similarity};
use crate::linalg::in_pool;
use crate::memory::MemoryBudget;
use crate::pipeline::{Cancelled, JobContext};
use evidence::{CONTENT_FLOATS, Evidence, USER_BLOCK};
pub use params::{
    Blend, LayerStrength, ModelMix, ProfileParams, RecommendParams, Recommendation,
    UserRecommendations,
};
pub use ranking::Ranked;

const SECONDS_PER_DAY: f64 = 86_400.0;

/// What the progress of [`Model::fit`]'s global item model is called.
pub const ITEM_MODEL_STAGE: &str = "item model";

/// What the progress of [`Model::fit`]'s iALS model is called.
pub const FACTORS_STAGE: &str = "iALS model";

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
    /// Each layer's items, in item order.
    layer_items: Vec<Vec<u32>>,
    /// log(1 + users) scaled to 0..=1, each user counted by recency ([`popularity`]).
    popularity: Vec<f32>,
    /// Items by popularity, most popular first (ties by item).
    by_popularity: Vec<u32>,
    /// Item–item weights learnt from all histories (EASE, or sparse cosine neighbours).
    item_item: ItemModel,
}

/// How popular each item is: log(1 + users) scaled to 0..=1. With a half-life (days, > 0)
/// each user counts ½^(age / half-life), age measured from their latest interaction with the
/// item back from the latest interaction of all, so popularity says what sells *now*: a shop's
/// season, a course's current intake. 0 counts every user fully (all-time popularity).
pub fn popularity(histories: &[Vec<Event>], n_items: usize, trend_half_life_days: f64) -> Vec<f32> {
    let now = histories.iter().flatten().map(|e| e.ts).max().unwrap_or(0);
    let mut users_per_item = vec![0f64; n_items];
    // Per item, the latest time of the user being counted, and that user (so each user's
    // items are counted once without a map); `touched` lists their items.
    let mut latest = vec![(usize::MAX, i64::MIN); n_items];
    let mut touched: Vec<u32> = Vec::new();
    for (user, events) in histories.iter().enumerate() {
        for e in events {
            let (by, ts) = &mut latest[e.item as usize];
            if *by != user {
                (*by, *ts) = (user, e.ts);
                touched.push(e.item);
            }
            *ts = (*ts).max(e.ts);
        }
        for item in touched.drain(..) {
            let ts = latest[item as usize].1;
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

/// Items by `popularity`, most popular first, ties by item.
fn by_popularity(popularity: &[f32]) -> Vec<u32> {
    let mut items: Vec<u32> = (0..popularity.len() as u32).collect();
    items.sort_by(|&a, &b| {
        popularity[b as usize]
            .total_cmp(&popularity[a as usize])
            .then(a.cmp(&b))
    });
    items
}

/// Each item's top [`NEIGHBOURS`] by cosine: the item–item model when dense EASE does not fit.
pub fn sparse_item_model(histories: &[Vec<Event>], n_items: usize) -> ItemModel {
    ItemModel::Sparse(Incidence::new(histories, n_items).neighbours(Similarity::Cosine, NEIGHBOURS))
}

/// The global item model of `histories` where the dense matrices fit `budget`: EASE with
/// `lambda` (the dense cosine without one, or where EASE's factorisation fails); each item's
/// top cosine neighbours where they do not fit.
pub fn global_item_model(
    histories: &[Vec<Event>],
    n_items: usize,
    lambda: Option<f64>,
    budget: &MemoryBudget,
) -> ItemModel {
    if !budget.fits(dense_bytes(histories.len(), n_items)) {
        return sparse_item_model(histories, n_items);
    }
    let gram = item_gram(&binary_matrix(histories, n_items), histories.len(), n_items);
    match lambda.and_then(|lambda| ease_matrix(&gram, n_items, lambda)) {
        Some(ease) => ease,
        None => item_cosine(gram, n_items),
    }
}

/// `global` mixed by `mix` with an EASE per layer (with `lambda`) of `histories`; `global`
/// alone when the mix gives the local models no weight.
#[allow(clippy::too_many_arguments)]
pub fn with_local_models(
    global: ItemModel,
    mix: ModelMix,
    histories: &[Vec<Event>],
    lambda: f64,
    item_layer: &[usize],
    item_sublayer: &[usize],
    budget: &MemoryBudget,
    job: &JobContext,
) -> Result<ItemModel, Cancelled> {
    if mix.local == 0.0 {
        return Ok(global);
    }
    job.check()?;
    let (groups, skipped) = LocalModels::groups(item_layer, item_sublayer, budget);
    Ok(ItemModel::Layered {
        global: Box::new(global),
        global_weight: mix.global,
        local: LocalModels::fit(histories, item_layer.len(), groups, skipped, lambda, job)?,
        local_weight: mix.local,
    })
}

/// What [`Model::fit`] holds at its peak besides `histories` and the vectors, about: dense
/// EASE's matrices where they fit `budget`; otherwise each item's neighbours (the candidates
/// before the strongest are kept, and the user–item incidence both ways) and the layers' local
/// models with `mix`; iALS's vectors with `ials`; and the content rows of one batch of users.
pub fn fit_bytes(
    histories: &[Vec<Event>],
    mix: ModelMix,
    ials: Option<&IalsParams>,
    item_layer: &[usize],
    item_sublayer: &[usize],
    budget: &MemoryBudget,
) -> u64 {
    let n_items = item_layer.len();
    // iALS's user and item vectors, and the item lists of both sides while it fits.
    let interactions: u64 = histories.iter().map(|h| h.len() as u64).sum();
    let factors = ials.map_or(0, |p| {
        4 * ((histories.len() + n_items) * p.factors) as u64 + 8 * interactions
    });
    let content = (CONTENT_FLOATS * 4) as u64 + factors;
    let dense = dense_bytes(histories.len(), n_items);
    if budget.fits(dense) {
        return dense + content;
    }
    let neighbours = 2 * 8 * (n_items * NEIGHBOURS) as u64 + 2 * 4 * interactions;
    let local = if mix.local == 0.0 {
        0
    } else {
        LocalModels::fit_bytes(&LocalModels::groups(item_layer, item_sublayer, budget).0)
    };
    neighbours + local + content
}

/// `model` with iALS's scores from `factors` added at `mix.factors`; `model` alone without
/// them or their weight.
pub fn with_factors(model: ItemModel, factors: Option<ItemFactors>, mix: ModelMix) -> ItemModel {
    match factors {
        Some(factors) if mix.factors != 0.0 => ItemModel::WithFactors {
            items: Box::new(model),
            factors,
            factors_weight: mix.factors,
        },
        _ => model,
    }
}

impl Model {
    /// Learns popularity and the item–item model from `histories` (each user's training
    /// events): EASE with `lambda` where its dense matrices fit `budget`, each item's top
    /// cosine neighbours otherwise, mixed by `mix` with the layers' own EASE models and, with
    /// `ials`, iALS's scores. Reports its stages to `job` ([`ITEM_MODEL_STAGE`] for the global
    /// model), and stops between them (and between the layers' models) when cancelled.
    #[allow(clippy::too_many_arguments)]
    pub fn fit(
        histories: &[Vec<Event>],
        lambda: f64,
        mix: ModelMix,
        ials: Option<&IalsParams>,
        budget: &MemoryBudget,
        vectors: Vec<f32>,
        dim: usize,
        item_layer: Vec<usize>,
        item_sublayer: Vec<usize>,
        job: &JobContext,
    ) -> Result<Self, Cancelled> {
        let n_items = item_layer.len();
        job.progress(ITEM_MODEL_STAGE, 0, 1);
        let global = global_item_model(histories, n_items, Some(lambda), budget);
        job.progress(ITEM_MODEL_STAGE, 1, 1);
        job.check()?;
        let local = with_local_models(
            global,
            mix,
            histories,
            lambda,
            &item_layer,
            &item_sublayer,
            budget,
            job,
        )?;
        let factors = match ials.filter(|_| mix.factors != 0.0) {
            Some(params) => {
                job.progress(FACTORS_STAGE, 0, 1);
                let model = Ials::fit(histories, n_items, params, job)?;
                job.progress(FACTORS_STAGE, 1, 1);
                Some(model.into_item_factors(params))
            }
            None => None,
        };
        let item_item = with_factors(local, factors, mix);
        Ok(Self::with_item_model(
            histories,
            item_item,
            vectors,
            dim,
            item_layer,
            item_sublayer,
        ))
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
        let mut layer_items = vec![Vec::new(); n_layers];
        for (item, &l) in item_layer.iter().enumerate() {
            layer_items[l].push(item as u32);
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
            layer_items,
            by_popularity: by_popularity(&popularity),
            popularity,
            item_item,
        }
    }

    /// The same model with popularity counted by recency ([`popularity`]'s half-life).
    #[must_use]
    pub fn with_trend(mut self, histories: &[Vec<Event>], trend_half_life_days: f64) -> Self {
        self.popularity = popularity(histories, self.n_items, trend_half_life_days);
        self.by_popularity = by_popularity(&self.popularity);
        self
    }

    /// Sets the weights of the global and local item models and of iALS's scores (a model
    /// without local ones keeps its global model as it is; one without iALS's, without).
    pub(crate) fn set_mix(&mut self, mix: ModelMix) {
        let mut model = &mut self.item_item;
        if let ItemModel::WithFactors {
            items,
            factors_weight,
            ..
        } = model
        {
            *factors_weight = mix.factors;
            model = items;
        }
        if let ItemModel::Layered {
            global_weight,
            local_weight,
            ..
        } = model
        {
            (*global_weight, *local_weight) = (mix.global, mix.local);
        }
    }

    /// The item–item model learnt from all histories.
    pub(crate) fn item_model(&self) -> &ItemModel {
        &self.item_item
    }

    pub fn item_layer(&self, item: u32) -> usize {
        self.item_layer[item as usize]
    }

    pub(super) fn vector(&self, item: usize) -> &[f32] {
        &self.vectors[item * self.dim..(item + 1) * self.dim]
    }

    /// Per-layer lists and the merged list for one user's history.
    pub fn recommend(&self, events: &[Event], params: &RecommendParams) -> UserRecommendations {
        let weights = self.weights(events, &params.profile);
        let content = self.user_content(&weights);
        let content: Vec<Option<&[f32]>> = content.iter().map(Option::as_deref).collect();
        self.recommend_weighted(&weights, params, &content)
    }

    fn recommend_weighted(
        &self,
        weights: &[(u32, f32)],
        params: &RecommendParams,
        content: &[Option<&[f32]>],
    ) -> UserRecommendations {
        let depth = params.per_layer.max(params.list_len);
        // iALS's fold-in of the history (where its scores are in the mix), once for the
        // evidence and the reasons.
        let folded = self.item_item.fold(weights);
        let evidence = self.list_evidence(weights, content, &params.blend, depth, folded.as_ref());
        self.lists(weights, params, &evidence, folded.as_ref())
    }

    /// A user's lists from the evidence of their candidates; `folded` is the item model's
    /// [`ItemModel::fold`] of the history, for the reasons.
    fn lists(
        &self,
        weights: &[(u32, f32)],
        params: &RecommendParams,
        evidence: &Evidence,
        folded: Option<&FoldedIn>,
    ) -> UserRecommendations {
        let layers = self.strengths(weights);
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
                .or_insert_with(|| self.recommendation(item, score, weights, &params.blend, folded))
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
            .merged(&evidence.candidates, &ranked, &layers, params)
            .iter()
            .map(to_recommendation)
            .collect();
        UserRecommendations {
            layers,
            per_layer,
            merged,
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
            // Users in groups whose content rows (their layers' items) fill about 16 MB, not
            // one matrix of all.
            let mut all = Vec::with_capacity(histories.len());
            let mut start = 0;
            while start < weights.len() {
                let mut end = start;
                let mut floats = 0;
                while end < weights.len() && (end - start < USER_BLOCK || floats < CONTENT_FLOATS) {
                    floats += self.content_len(&weights[end]);
                    end += 1;
                }
                let weights = &weights[start..end];
                start = end;
                let content = self.batch_content(weights);
                all.par_extend(
                    weights
                        .par_iter()
                        .enumerate()
                        .map(|(u, w)| self.recommend_weighted(w, params, &content.user(u, self))),
                );
            }
            all
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::ranking::best_first;
    use super::*;
    use crate::recommend::data::Weighting;

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
        Model::fit(
            &histories,
            10.0,
            ModelMix::default(),
            None,
            &MemoryBudget { bytes: 1 << 30 },
            vectors,
            dim,
            item_layer,
            vec![0; 12],
            &JobContext::silent(),
        )
        .unwrap()
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

    /// 90 items in 6 layers of 15 (vectors near one of 6 axes), the sparse global model and
    /// the local ones (the budget is too small for dense EASE), 40 users in one layer, a few in
    /// two.
    fn sparse_model(factors: f32) -> (Model, Vec<Vec<Event>>) {
        let (n, dim, layers) = (90usize, 6usize, 6usize);
        let mut vectors = Vec::new();
        let mut item_layer = Vec::new();
        for item in 0..n {
            let layer = item % layers;
            let mut v: Vec<f32> = (0..dim)
                .map(|d| ((item * 7 + d * 3) % 11) as f32 / 40.0)
                .collect();
            v[layer] = 1.0;
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            vectors.extend(v.iter().map(|x| x / norm));
            item_layer.push(layer);
        }
        let item_sublayer: Vec<usize> = (0..n).map(|i| (i / layers) % 2).collect();
        let histories: Vec<Vec<Event>> = (0..40u32)
            .map(|u| {
                let own = u % 6;
                let other = (u * 5 + 1) % 6;
                let mut events: Vec<Event> = (0..4)
                    .map(|k| e(own + 6 * ((u + 3 * k) % 15), i64::from(k)))
                    .collect();
                // Few cross-layer purchases, so the item models leave most layers unreached
                // and the popular head of those has to be offered.
                if u % 9 == 0 {
                    events.push(e(other + 6 * (u % 15), 9));
                }
                events
            })
            .collect();
        let model = Model::fit(
            &histories,
            10.0,
            ModelMix {
                global: 1.0,
                local: 0.5,
                factors,
            },
            Some(&IalsParams {
                factors: 4,
                regularization: 0.05,
                unobserved: 0.2,
                epochs: 3,
            }),
            &MemoryBudget { bytes: 4096 },
            vectors,
            dim,
            item_layer,
            item_sublayer,
            &JobContext::silent(),
        )
        .unwrap();
        if factors == 0.0 {
            assert!(matches!(model.item_item, ItemModel::Layered { .. }));
        } else {
            assert!(matches!(model.item_item, ItemModel::WithFactors { .. }));
        }
        (model, histories)
    }

    /// The blends the candidates test tries: popularity weighted, unweighted, negative, alone.
    fn blends() -> Vec<Blend> {
        vec![
            Blend::default(),
            Blend {
                content: 0.25,
                collaborative: 1.0,
                popularity: 0.0,
            },
            Blend {
                content: 0.0,
                collaborative: 0.5,
                popularity: 1.0,
            },
            Blend {
                content: 1.0,
                collaborative: 0.0,
                popularity: -0.5,
            },
            // Popularity alone: the merged list's free places go to the popular head of the
            // layers the history does not touch.
            Blend {
                content: 0.0,
                collaborative: 0.0,
                popularity: 1.0,
            },
            Blend {
                content: 0.0,
                collaborative: 0.0,
                popularity: -1.0,
            },
        ]
    }

    /// Issue 15: a user's lists score only the candidates that can reach them (their layers'
    /// items, what the item model reaches, the popular head), and are the lists every
    /// candidate's evidence gives, whatever the blend and with iALS's scores in the mix or not,
    /// alone and in a batch.
    #[test]
    fn lists_from_the_reachable_candidates_equal_lists_from_every_candidate() {
        // iALS's scores in the mix or not: they reach most items, some below 0 (counted 0).
        for factors in [0.0, 1.0] {
            let (model, histories) = sparse_model(factors);
            for blend in blends() {
                let params = RecommendParams {
                    blend,
                    per_layer: 4,
                    list_len: 8,
                    ..RecommendParams::default()
                };
                let batch = model.recommend_all(&histories, &params);
                for (events, from_batch) in histories.iter().zip(&batch) {
                    let weights = model.weights(events, &params.profile);
                    let folded = model.item_item.fold(&weights);
                    let evidence = model.evidence(&weights);
                    let every = model.lists(&weights, &params, &evidence, folded.as_ref());
                    let alone = model.recommend(events, &params);
                    assert_eq!(alone, every, "{factors} {blend:?} {events:?}");
                    assert_eq!(from_batch, &alone, "{factors} {blend:?} {events:?}");
                    assert_eq!(every.merged.len(), 8);
                }
            }
        }
    }

    #[test]
    fn ranked_keeps_what_a_full_sort_keeps_ties_to_the_lower_item() {
        let model = model();
        // Every other item a candidate; many equal scores; in item order and out of it.
        let ascending: Vec<u32> = (0..12).filter(|i| i % 3 != 1).collect();
        let shuffled: Vec<u32> = ascending.iter().map(|&i| (i * 5) % 12).rev().collect();
        for (candidates, depth) in [ascending, shuffled]
            .into_iter()
            .flat_map(|c| [0, 1, 2, 5].map(|depth| (c.clone(), depth)))
        {
            let scores: Vec<f32> = candidates
                .iter()
                .map(|&i| f32::from((i % 4) as u8 / 2))
                .collect();
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
                let rows: Vec<(u32, f32)> = (0..6).map(|i| (i, 1.0)).collect();
                let column = item_model.column_at(to, &rows, None);
                for (from, value) in column.into_iter().enumerate() {
                    let ItemModel::Dense(dense) = &item_model else {
                        unreachable!("both models are dense")
                    };
                    let direct = dense.weights[from * 6 + to];
                    assert!(
                        (value - direct).abs() < 1e-5,
                        "{from}→{to}: {value} vs {direct}"
                    );
                }
            }
        }
    }
}
