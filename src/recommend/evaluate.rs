//! Offline evaluation under one fixed protocol, so the numbers compare across tools:
//!
//! - a user's holdout is all of their interactions at their last timestamp; their training
//!   history is everything earlier, each (user, item) pair once;
//! - relevant = holdout items not in the training history (new items, not repurchases);
//! - every method trains on the training histories of all users only;
//! - users count with at least one training item and one relevant item;
//! - full ranking over every item not in the user's training history; HR@10, NDCG@10
//!   (binary gains, ideal DCG over min(|relevant|, 10)), Recall@10, catalogue coverage and
//!   intra-list diversity (1 − mean pairwise cosine of the list's item vectors).
//!
//! Baselines on the same split: most popular, item-kNN (cosine over the binary user × item
//! matrix, all neighbours; the top 100 where the dense matrix does not fit the memory budget),
//! EASE (closed form, λ chosen on validation; skipped, with a note, where it does not fit),
//! RP3beta (Paudel et al. 2017; top 100 neighbours, α and β chosen on validation), iALS (Rendle
//! et al. 2022's form; dimension, regularisation and unobserved weight chosen on validation
//! within a work budget) and content kNN (the user's mean vector). Tuning (Strata's blend, free
//! share and popularity half-life, EASE's λ, RP3beta's α and β, iALS's setting, the mix of
//! global and local item models) uses two validation
//! folds carved from training the same way, never the test holdout. The report ends with
//! Strata's NDCG@10 minus the best baseline's and its paired standard error, so a reader can
//! tell a difference from noise.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use super::data::{Event, distinct_items};
use super::ials::{Ials, IalsParams, ItemFactors};
use super::item_model::{
    ItemModel, binary_matrix, dense_bytes, ease_matrix, item_cosine, item_gram,
};
use super::model::{
    Blend, Model, ModelMix, Ranked, RecommendParams, global_item_model, popularity,
    sparse_item_model, with_factors, with_local_models,
};
use super::neighbours::{Incidence, NEIGHBOURS, Similarity};
use crate::linalg::{dot, in_pool, rows_dot_rows};
use crate::memory::{Bytes, MemoryBudget};
use crate::pipeline::{Cancelled, JobContext};

/// List length the metrics are taken at.
pub const CUTOFF: usize = 10;

/// EASE's λ candidates (tried on the validation split).
const EASE_LAMBDAS: [f64; 3] = [100.0, 500.0, 2000.0];

/// RP3beta's α (the walk's transition probabilities raised to it) tried on validation.
const RP3_ALPHAS: [f64; 4] = [0.25, 0.5, 0.75, 1.0];

/// RP3beta's β (popularity's penalty) tried on validation.
const RP3_BETAS: [f64; 4] = [0.0, 0.25, 0.5, 0.75];

/// iALS's regularisation λ tried on validation (scaled per row by its weight, so it compares
/// across datasets).
const IALS_REGULARIZATIONS: [f64; 3] = [0.01, 0.001, 0.1];

/// iALS's weight of unobserved pairs tried on validation, as multiples of the history's
/// density (distinct pairs per user over items): at 1 the unobserved pairs of an average row
/// weigh as much as its observed ones. (A first grid of 0.1, 1 and 10 chose 10, its edge, on
/// both shared datasets.)
const IALS_UNOBSERVED: [f64; 3] = [10.0, 3.0, 30.0];

/// iALS's dimensions tried on validation, at the best λ and α₀ of the first (64).
const IALS_FACTORS: [usize; 3] = [64, 32, 128];

/// iALS's alternations: its validation NDCG@10 no longer moves after about 10 on the shared
/// datasets.
const IALS_EPOCHS: usize = 10;

/// Floating-point operations iALS's tuning may spend; settings beyond it are left out (first
/// λ and α₀ at the centre of their grids, then the others, then the dimensions), with a note.
const IALS_TUNING_WORK: f64 = 1e12;

/// Mixes of the global and the layers' local item models tried on validation, each with
/// Strata's whole setting grid: the global alone (as before issue 15) and local models added
/// at two weights.
const MIXES: [ModelMix; 3] = [
    ModelMix {
        global: 1.0,
        local: 0.0,
        factors: 0.0,
    },
    ModelMix {
        global: 1.0,
        local: 0.25,
        factors: 0.0,
    },
    ModelMix {
        global: 1.0,
        local: 1.0,
        factors: 0.0,
    },
];

/// Mixes with iALS's scores added to the global model, tried too where [`FACTORS_WORK`]
/// allows: an EASE (or neighbours) score and an iALS score both estimate the same 0/1 entry,
/// so they add on one scale.
const FACTOR_MIXES: [ModelMix; 3] = [
    ModelMix {
        global: 1.0,
        local: 0.0,
        factors: 0.5,
    },
    ModelMix {
        global: 1.0,
        local: 0.0,
        factors: 1.0,
    },
    ModelMix {
        global: 1.0,
        local: 0.0,
        factors: 2.0,
    },
];

/// Floating-point work iALS's scores may cost Strata's lists: its fit at the tuned setting and
/// every user's scores over the catalogue. Online Retail and MovieLens need about 1.5 · 10¹¹;
/// a 100,000-item shop ten times that, so it keeps the item–item models alone and its lists
/// stay within a minute (issue 15).
pub const FACTORS_WORK: f64 = 3e11;

/// Whether iALS's scores at `params` fit [`FACTORS_WORK`] for `users` histories of
/// `interactions` distinct pairs over `n_items` items.
pub fn factors_fit(params: &IalsParams, interactions: usize, users: usize, n_items: usize) -> bool {
    let scores = 2.0 * users as f64 * n_items as f64 * params.factors as f64;
    params.work(interactions, users, n_items) + scores <= FACTORS_WORK
}

/// Validation users a fold counts at most: beyond this, tuning's choices no longer move.
const MAX_TUNING_USERS: usize = 3_000;

/// Candidate scorings tuning may spend per fold (users × items × settings × mixes): at
/// 100,000 items it counts about 830 users per fold, which keeps `evaluate` within minutes
/// (issue 15; measured on `benches/scale.rs`).
const TUNING_WORK: f64 = 3e10;

/// Score rows held at once while a method's lists are taken (64 MB of f32), users in chunks.
const SCORE_FLOATS: usize = 16 << 20;

/// Free shares of the merged list tried on validation (0 = plain quotas).
const FREE_SHARES: [f64; 3] = [0.0, 0.3, 0.6];

/// Popularity half-lives in days tried on validation (0 = all-time popularity).
const TREND_HALF_LIVES: [f64; 3] = [0.0, 14.0, 60.0];

/// One way of making Strata's lists, as tuned on validation.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Setting {
    blend: Blend,
    free_share: f64,
    /// Index into the popularity rows the lists are scored with ([`TREND_HALF_LIVES`] when
    /// tuning).
    trend: usize,
}

/// Strata settings tried on validation: every blend with every free share and popularity
/// half-life.
fn setting_grid() -> Vec<Setting> {
    let mut grid = Vec::new();
    for blend in blend_grid() {
        for trend in 0..TREND_HALF_LIVES.len() {
            // Without popularity in the blend its half-life changes nothing.
            if trend > 0 && blend.popularity == 0.0 {
                continue;
            }
            for free_share in FREE_SHARES {
                grid.push(Setting {
                    blend,
                    free_share,
                    trend,
                });
            }
        }
    }
    grid
}

/// Strata blends tried on validation. Only the ratios matter (each kind of evidence is scaled
/// to 0..=1 first), so collaborative evidence is fixed at 1 and the others vary against it:
/// 16 blends rather than 48 with the same lists, which keeps the winner's curse of picking the
/// best of many on a few hundred users small.
fn blend_grid() -> Vec<Blend> {
    let mut grid = Vec::new();
    for content in [0.0, 0.25, 0.5, 1.0] {
        for popularity in [0.0, 0.25, 0.5, 1.0] {
            grid.push(Blend {
                content,
                collaborative: 1.0,
                popularity,
            });
        }
    }
    grid
}

/// A train/test split of every user.
pub struct Split {
    /// Per user, the training events (earlier than the last timestamp), each item once (its
    /// latest event kept, with the summed value).
    pub train: Vec<Vec<Event>>,
    /// Per user, relevant items (at the last timestamp, not in training).
    pub relevant: Vec<Vec<u32>>,
}

impl Split {
    /// Splits `histories` (oldest first) at each user's last timestamp.
    pub fn last_timestamp(histories: &[Vec<Event>]) -> Self {
        let mut train = Vec::with_capacity(histories.len());
        let mut relevant = Vec::with_capacity(histories.len());
        for events in histories {
            let last = events.iter().map(|e| e.ts).max();
            let (before, at): (Vec<Event>, Vec<Event>) =
                events.iter().partition(|e| Some(e.ts) != last);
            let mut once: BTreeMap<u32, Event> = BTreeMap::new();
            for e in before {
                once.entry(e.item)
                    .and_modify(|seen| {
                        seen.value += e.value;
                        seen.ts = seen.ts.max(e.ts);
                    })
                    .or_insert(e);
            }
            let mut user_train: Vec<Event> = once.into_values().collect();
            user_train.sort_by_key(|e| (e.ts, e.item));
            let seen: HashSet<u32> = user_train.iter().map(|e| e.item).collect();
            let mut rel: Vec<u32> = at
                .iter()
                .map(|e| e.item)
                .filter(|i| !seen.contains(i))
                .collect();
            rel.sort_unstable();
            rel.dedup();
            train.push(user_train);
            relevant.push(rel);
        }
        Self { train, relevant }
    }

    /// Users that count: at least one training item and one relevant item.
    pub fn counted(&self) -> Vec<usize> {
        (0..self.train.len())
            .filter(|&u| !self.train[u].is_empty() && !self.relevant[u].is_empty())
            .collect()
    }
}

/// The five measures of one method.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    #[serde(rename = "hr@10")]
    pub hit_rate: f64,
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    #[serde(rename = "recall@10")]
    pub recall: f64,
    pub coverage: f64,
    pub diversity: f64,
    /// Each counted user's NDCG@10, in user order (for paired comparisons; not reported).
    #[serde(skip)]
    pub per_user_ndcg: Vec<f64>,
}

/// Accumulates lists into [`Metrics`].
struct Tally {
    hits: f64,
    ndcg: f64,
    per_user_ndcg: Vec<f64>,
    recall: f64,
    diversity: f64,
    users: usize,
    shown: HashSet<u32>,
    /// Diversity costs 45 dot products a list; tuning needs only the ranking measures.
    with_diversity: bool,
}

impl Tally {
    fn new() -> Self {
        Self {
            hits: 0.0,
            ndcg: 0.0,
            per_user_ndcg: Vec::new(),
            recall: 0.0,
            diversity: 0.0,
            users: 0,
            shown: HashSet::new(),
            with_diversity: true,
        }
    }

    /// A tally of HR, NDCG, recall and coverage only (diversity stays 0).
    fn ranking_only() -> Self {
        Self {
            with_diversity: false,
            ..Self::new()
        }
    }

    fn add(&mut self, list: &[u32], relevant: &[u32], vectors: &[f32], dim: usize) {
        let found: Vec<bool> = list
            .iter()
            .map(|i| relevant.binary_search(i).is_ok())
            .collect();
        let hits = found.iter().filter(|&&f| f).count();
        self.hits += f64::from(u8::from(hits > 0));
        self.recall += hits as f64 / relevant.len() as f64;
        let dcg: f64 = found
            .iter()
            .enumerate()
            .filter(|&(_, &f)| f)
            .map(|(rank, _)| 1.0 / (rank as f64 + 2.0).log2())
            .sum();
        let ideal: f64 = (0..relevant.len().min(CUTOFF))
            .map(|rank| 1.0 / (rank as f64 + 2.0).log2())
            .sum();
        self.ndcg += dcg / ideal;
        self.per_user_ndcg.push(dcg / ideal);
        if self.with_diversity {
            self.diversity += diversity(list, vectors, dim);
        }
        self.shown.extend(list);
        self.users += 1;
    }

    fn metrics(&self, n_items: usize) -> Metrics {
        let users = self.users.max(1) as f64;
        Metrics {
            hit_rate: self.hits / users,
            ndcg: self.ndcg / users,
            recall: self.recall / users,
            coverage: self.shown.len() as f64 / n_items.max(1) as f64,
            diversity: self.diversity / users,
            per_user_ndcg: self.per_user_ndcg.clone(),
        }
    }
}

/// 1 − mean pairwise cosine of the list's item vectors (unit vectors).
pub fn diversity(list: &[u32], vectors: &[f32], dim: usize) -> f64 {
    let mut total = 0f64;
    let mut pairs = 0usize;
    for (a, &i) in list.iter().enumerate() {
        for &j in &list[a + 1..] {
            let vi = &vectors[i as usize * dim..(i as usize + 1) * dim];
            let vj = &vectors[j as usize * dim..(j as usize + 1) * dim];
            total += f64::from(dot(vi, vj));
            pairs += 1;
        }
    }
    if pairs == 0 {
        0.0
    } else {
        1.0 - total / pairs as f64
    }
}

/// The top `CUTOFF` items of a score row, skipping `exclude` (sorted); ties by index.
fn top_items(scores: &[f32], exclude: &[u32]) -> Vec<u32> {
    let mut best: Vec<(f32, u32)> = Vec::with_capacity(CUTOFF + 1);
    for (j, &s) in scores.iter().enumerate() {
        let j = j as u32;
        if best.len() == CUTOFF && s <= best[CUTOFF - 1].0 {
            continue;
        }
        if exclude.binary_search(&j).is_ok() {
            continue;
        }
        let at = best.partition_point(|&(b, _)| b >= s);
        best.insert(at, (s, j));
        best.truncate(CUTOFF);
    }
    best.into_iter().map(|(_, j)| j).collect()
}

/// The catalogue the evaluation runs on.
pub struct Catalogue<'a> {
    pub vectors: &'a [f32],
    pub dim: usize,
    pub item_layer: &'a [usize],
    pub item_sublayer: &'a [usize],
}

/// The methods an evaluation scores: Strata and its baselines. Their stored names (and the
/// keys of `--json`) are the lowercase ones; the order is the report's.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Content,
    Ease,
    Ials,
    #[serde(rename = "itemknn")]
    ItemKnn,
    /// The default only fills an empty [`Comparison`].
    #[default]
    Popular,
    #[serde(rename = "rp3beta")]
    Rp3Beta,
    Strata,
}

impl Method {
    /// Every method, in the report's order.
    pub const ALL: [Method; 7] = [
        Method::Content,
        Method::Ease,
        Method::Ials,
        Method::ItemKnn,
        Method::Popular,
        Method::Rp3Beta,
        Method::Strata,
    ];

    /// The name in reports and `--json` keys.
    pub fn name(self) -> &'static str {
        match self {
            Method::Content => "content",
            Method::Ease => "ease",
            Method::Ials => "ials",
            Method::ItemKnn => "itemknn",
            Method::Popular => "popular",
            Method::Rp3Beta => "rp3beta",
            Method::Strata => "strata",
        }
    }

    /// True for the methods Strata is measured against.
    pub fn is_baseline(self) -> bool {
        self != Method::Strata
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Everything `strata evaluate` reports.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Evaluation {
    pub users: usize,
    pub methods: BTreeMap<Method, Metrics>,
    /// Strata's blend and EASE's λ as chosen on the validation split.
    pub tuned: Tuned,
    /// Share of counted users with ≥ 2 layers whose Strata list draws on ≥ 2 layers.
    pub multi_layer_share: f64,
    /// Strata against the best baseline.
    pub versus_best_baseline: Comparison,
    /// Baselines skipped or run differently at this catalogue's size, and why.
    #[serde(default)]
    pub notes: Vec<String>,
    /// Users of the two validation folds that tuning counted.
    #[serde(default)]
    pub tuning_users: [usize; 2],
    pub seconds: f64,
}

/// Strata against the best baseline on the same users: is the difference more than noise?
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The baseline with the highest NDCG@10.
    pub baseline: Method,
    /// Strata's NDCG@10 minus the baseline's.
    pub ndcg_difference: f64,
    /// Standard error of that difference (paired over users): a difference within about two
    /// of these is not evidence either way.
    pub standard_error: f64,
}

impl Comparison {
    fn paired(baseline: Method, strata: &[f64], other: &[f64]) -> Self {
        let n = strata.len().min(other.len());
        let differences: Vec<f64> = strata.iter().zip(other).map(|(a, b)| a - b).collect();
        let mean = differences.iter().sum::<f64>() / n.max(1) as f64;
        let variance = differences
            .iter()
            .map(|d| (d - mean) * (d - mean))
            .sum::<f64>()
            / n.saturating_sub(1).max(1) as f64;
        Self {
            baseline,
            ndcg_difference: mean,
            standard_error: (variance / n.max(1) as f64).sqrt(),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Tuned {
    pub blend: Blend,
    pub free_share: f64,
    /// Popularity's half-life in days (0 = all-time).
    pub trend_half_life_days: f64,
    pub ease_lambda: f64,
    /// How the collaborative evidence mixes the global and the layers' local models.
    #[serde(default)]
    pub mix: ModelMix,
    /// RP3beta's α and β.
    #[serde(default)]
    pub rp3_alpha: f64,
    #[serde(default)]
    pub rp3_beta: f64,
    /// iALS's dimension, regularisation and weight of unobserved pairs.
    #[serde(default)]
    pub ials_factors: usize,
    #[serde(default)]
    pub ials_regularization: f64,
    #[serde(default)]
    pub ials_unobserved: f64,
    /// Validation NDCG@10 of the chosen settings, both folds' users pooled.
    pub strata_validation_ndcg: f64,
    pub ease_validation_ndcg: f64,
}

impl Tuned {
    /// iALS's whole setting, its alternations too: the lists' iALS scores use it.
    pub fn ials_params(&self) -> IalsParams {
        IalsParams {
            factors: self.ials_factors,
            regularization: self.ials_regularization,
            unobserved: self.ials_unobserved,
            epochs: IALS_EPOCHS,
        }
    }
}

/// Scores of a dense method for a set of users: one row of n_items per user.
type ScoreRows = Vec<f32>;

fn popular_scores(train: &[Vec<Event>], n_items: usize) -> Vec<f32> {
    let mut counts = vec![0f32; n_items];
    for events in train {
        for e in events {
            counts[e.item as usize] += 1.0;
        }
    }
    counts
}

/// Metrics of an item–item model's lists for the counted users of `fold`.
fn item_model_metrics(model: &ItemModel, fold: &Fold, catalogue: &Catalogue<'_>) -> Metrics {
    tally_scored(fold, catalogue, |users| {
        model.scores(&fold.split.train, users)
    })
}

fn content_scores(train: &[Vec<Event>], catalogue: &Catalogue<'_>, users: &[usize]) -> ScoreRows {
    let dim = catalogue.dim;
    let n_items = catalogue.item_layer.len();
    let mut means = vec![0f32; users.len() * dim];
    for (row, &u) in users.iter().enumerate() {
        let mean = &mut means[row * dim..(row + 1) * dim];
        for e in &train[u] {
            for (m, &v) in mean
                .iter_mut()
                .zip(&catalogue.vectors[e.item as usize * dim..(e.item as usize + 1) * dim])
            {
                *m += v;
            }
        }
    }
    in_pool(|| rows_dot_rows(&means, users.len(), catalogue.vectors, n_items, dim))
}

/// Metrics of a method that scores every item: `score` gives the rows (n_items each) of a
/// chunk of the counted users of `fold`, so no more than [`SCORE_FLOATS`] are held at once.
fn tally_scored(
    fold: &Fold,
    catalogue: &Catalogue<'_>,
    score: impl Fn(&[usize]) -> ScoreRows,
) -> Metrics {
    let n_items = catalogue.item_layer.len();
    let mut tally = Tally::new();
    for users in fold.users.chunks((SCORE_FLOATS / n_items.max(1)).max(1)) {
        let scores = score(users);
        let lists: Vec<Vec<u32>> = in_pool(|| {
            users
                .par_iter()
                .zip(scores.par_chunks(n_items.max(1)))
                .map(|(&u, row)| top_items(row, &fold.train_items[u]))
                .collect()
        });
        for (list, &u) in lists.iter().zip(users) {
            tally.add(
                list,
                &fold.split.relevant[u],
                catalogue.vectors,
                catalogue.dim,
            );
        }
    }
    tally.metrics(n_items)
}

/// Strata's merged lists under each of `settings`, metrics per setting (and, for the first,
/// the share of multi-layer users whose list spans ≥ 2 layers). A setting's popularity
/// evidence is its row of `popularities` (one value per item).
///
/// `tuning` leaves diversity out (0), which tuning does not use.
#[allow(clippy::too_many_arguments)]
fn strata_metrics(
    model: &Model,
    fold: &Fold,
    settings: &[Setting],
    popularities: &[Vec<f32>],
    params: &RecommendParams,
    catalogue: &Catalogue<'_>,
    job: &JobContext,
    tuning: bool,
) -> Result<(Vec<Metrics>, f64), Cancelled> {
    let (split, users) = (&fold.split, &fold.users);
    type PerUser = (Vec<Vec<u32>>, Option<bool>);
    let lists: Vec<Result<PerUser, Cancelled>> = in_pool(|| {
        users
            .par_iter()
            .map(|&u| {
                job.check()?;
                let weights = model.weights(&split.train[u], &params.profile);
                let layers = model.strengths(&weights);
                let mut evidence = model.evidence(&weights);
                let mut per_blend = Vec::with_capacity(settings.len());
                let mut spans = None;
                let mut trend = None;
                let mut ranked: Option<(Blend, usize, Ranked)> = None;
                for (b, setting) in settings.iter().enumerate() {
                    if trend != Some(setting.trend) {
                        evidence.set_popularity(&popularities[setting.trend]);
                        trend = Some(setting.trend);
                    }
                    // Settings that differ only in free share share one ranking.
                    let ranked = match ranked.take() {
                        Some(r) if r.0 == setting.blend && r.1 == setting.trend => ranked.insert(r),
                        _ => {
                            let scores = evidence.scores(&setting.blend);
                            let r = model.ranked(&evidence.candidates, &scores, params.list_len);
                            ranked.insert((setting.blend, setting.trend, r))
                        }
                    };
                    let setting = RecommendParams {
                        free_share: setting.free_share,
                        ..params.clone()
                    };
                    let merged = model.merged(&evidence.candidates, &ranked.2, &layers, &setting);
                    let list: Vec<u32> = merged
                        .iter()
                        .map(|&(c, _)| evidence.candidates[c])
                        .collect();
                    if b == 0 && layers.len() >= 2 {
                        let distinct: HashSet<usize> =
                            list.iter().map(|&i| model.item_layer(i)).collect();
                        spans = Some(distinct.len() >= 2);
                    }
                    per_blend.push(list);
                }
                Ok((per_blend, spans))
            })
            .collect()
    });
    let new_tally = if tuning {
        Tally::ranking_only
    } else {
        Tally::new
    };
    let mut tallies: Vec<Tally> = settings.iter().map(|_| new_tally()).collect();
    let (mut multi, mut multi_ok) = (0usize, 0usize);
    for (result, &u) in lists.into_iter().zip(users) {
        let (per_blend, spans) = result?;
        for (tally, list) in tallies.iter_mut().zip(&per_blend) {
            tally.add(list, &split.relevant[u], catalogue.vectors, catalogue.dim);
        }
        if let Some(ok) = spans {
            multi += 1;
            multi_ok += usize::from(ok);
        }
    }
    let n_items = catalogue.item_layer.len();
    let share = if multi == 0 {
        1.0
    } else {
        multi_ok as f64 / multi as f64
    };
    Ok((tallies.iter().map(|t| t.metrics(n_items)).collect(), share))
}

/// One split with what every method needs of it.
struct Fold {
    split: Split,
    /// Users that count.
    users: Vec<usize>,
    /// Per user, their training items, sorted (excluded from the ranking).
    train_items: Vec<Vec<u32>>,
}

impl Fold {
    fn new(split: Split) -> Self {
        Self::sampled(split, usize::MAX)
    }

    /// A fold counting at most `max_users` of its users, spread evenly over them (every
    /// k-th, so the same data gives the same users).
    fn sampled(split: Split, max_users: usize) -> Self {
        let counted = split.counted();
        let step = counted.len().div_ceil(max_users.max(1)).max(1);
        let users = counted.into_iter().step_by(step).collect();
        let train_items = split.train.iter().map(|t| distinct_items(t)).collect();
        Self {
            split,
            users,
            train_items,
        }
    }
}

/// Strata's model of a training split with its item–item model.
type FitModel<'a> = dyn Fn(&[Vec<Event>], ItemModel) -> Model + 'a;

/// The global item model of a training split where EASE is not there: the dense cosine, or
/// each item's top neighbours where that does not fit the budget.
type GlobalModel<'a> = dyn Fn(&[Vec<Event>]) -> ItemModel + 'a;

/// Popularity of a training split at each of [`TREND_HALF_LIVES`].
type Popularities<'a> = dyn Fn(&[Vec<Event>]) -> Vec<Vec<f32>> + 'a;

/// What one validation fold needs besides the fold itself.
struct FoldContext<'a> {
    grid: &'a [Setting],
    params: &'a RecommendParams,
    catalogue: &'a Catalogue<'a>,
    fit: &'a FitModel<'a>,
    global: &'a GlobalModel<'a>,
    popularities: &'a Popularities<'a>,
    budget: &'a MemoryBudget,
    job: &'a JobContext<'a>,
}

/// What a validation fold found.
struct FoldResult {
    /// EASE's λ with the best NDCG@10 here, among those tried.
    lambda: f64,
    /// EASE's NDCG@10 at `lambda` (`None` when no λ's factorisation succeeded, or the dense
    /// matrices do not fit the memory budget).
    ease_ndcg: Option<f64>,
    /// Strata's metrics for each of the mixes tried and each setting of the grid.
    strata: Vec<Vec<Metrics>>,
}

/// RP3beta's (α, β) of the grid with the best NDCG@10 on `fold`.
fn tune_rp3(
    fold: &Fold,
    catalogue: &Catalogue<'_>,
    job: &JobContext,
) -> Result<(f64, f64), Cancelled> {
    let incidence = Incidence::new(&fold.split.train, catalogue.item_layer.len());
    let mut best = ((RP3_ALPHAS[0], RP3_BETAS[0]), f64::NEG_INFINITY);
    for alpha in RP3_ALPHAS {
        for beta in RP3_BETAS {
            job.check()?;
            let model = ItemModel::Sparse(
                incidence.neighbours(Similarity::Rp3Beta { alpha, beta }, NEIGHBOURS),
            );
            let ndcg = item_model_metrics(&model, fold, catalogue).ndcg;
            if ndcg > best.1 {
                best = ((alpha, beta), ndcg);
            }
        }
    }
    Ok(best.0)
}

/// What iALS's tuning chose, its model of the fold, and how much of its grid the work budget
/// allowed.
struct IalsChoice {
    params: IalsParams,
    model: Option<Ials>,
    tried: usize,
    grid: usize,
}

/// iALS's setting with the best NDCG@10 on `fold`: λ and α₀ on their grids at 64 factors,
/// then the other dimensions at the best of those, as far as [`IALS_TUNING_WORK`] allows.
fn tune_ials(
    fold: &Fold,
    catalogue: &Catalogue<'_>,
    job: &JobContext,
) -> Result<IalsChoice, Cancelled> {
    let n_items = catalogue.item_layer.len();
    let train = &fold.split.train;
    let interactions: usize = fold.train_items.iter().map(Vec::len).sum();
    let density = interactions as f64 / (train.len().max(1) * n_items.max(1)) as f64;
    let setting = |factors, regularization, unobserved: f64| IalsParams {
        factors,
        regularization,
        unobserved: unobserved * density,
        epochs: IALS_EPOCHS,
    };
    let grid = IALS_REGULARIZATIONS.len() * IALS_UNOBSERVED.len() + IALS_FACTORS.len() - 1;
    let mut spent = 0.0;
    let mut tried = 0;
    let mut best: Option<(IalsParams, f64, Ials)> = None;
    let mut score = |params: IalsParams, best: &mut Option<(IalsParams, f64, Ials)>| {
        let work = params.work(interactions, train.len(), n_items);
        // The first setting always runs: a baseline is never left untuned for lack of time.
        if tried > 0 && spent + work > IALS_TUNING_WORK {
            return Ok(());
        }
        spent += work;
        tried += 1;
        job.progress("iALS tuning", tried as u64, grid as u64);
        let model = Ials::fit(train, n_items, &params, job)?;
        let ndcg = tally_scored(fold, catalogue, |users| model.scores(users)).ndcg;
        if best.as_ref().is_none_or(|(_, b, _)| ndcg > *b) {
            *best = Some((params, ndcg, model));
        }
        Ok(())
    };
    for regularization in IALS_REGULARIZATIONS {
        for unobserved in IALS_UNOBSERVED {
            score(
                setting(IALS_FACTORS[0], regularization, unobserved),
                &mut best,
            )?;
        }
    }
    let centre = setting(IALS_FACTORS[0], IALS_REGULARIZATIONS[0], IALS_UNOBSERVED[0]);
    let at = best.as_ref().map_or(centre, |(params, _, _)| *params);
    for &factors in &IALS_FACTORS[1..] {
        score(IalsParams { factors, ..at }, &mut best)?;
    }
    Ok(match best {
        Some((params, _, model)) => IalsChoice {
            params,
            model: Some(model),
            tried,
            grid,
        },
        None => IalsChoice {
            params: centre,
            model: None,
            tried,
            grid,
        },
    })
}

/// Scores EASE at each of `lambdas` on `fold` (where its dense matrices fit the budget), then
/// mixes the best EASE (or the global model standing in) with the layers' local EASE models
/// and iALS's scores from `factors` at each of `mixes` and scores Strata's whole setting grid
/// with each. Progress runs from `step` to `step + 2` of 4.
fn validate_fold(
    fold: &Fold,
    lambdas: &[f64],
    mixes: &[ModelMix],
    factors: Option<ItemFactors>,
    context: &FoldContext<'_>,
    step: u64,
) -> Result<FoldResult, Cancelled> {
    let catalogue = context.catalogue;
    let n_items = catalogue.item_layer.len();
    let train = &fold.split.train;
    let mut lambda = lambdas.first().copied().unwrap_or(EASE_LAMBDAS[0]);
    let mut ease_ndcg: Option<f64> = None;
    let mut item_model = None;
    if context.budget.fits(dense_bytes(train.len(), n_items)) {
        let gram = item_gram(&binary_matrix(train, n_items), train.len(), n_items);
        for &candidate in lambdas {
            context.job.check()?;
            let Some(b) = ease_matrix(&gram, n_items, candidate) else {
                continue;
            };
            let ndcg = item_model_metrics(&b, fold, catalogue).ndcg;
            if ease_ndcg.is_none_or(|best| ndcg > best) {
                (lambda, ease_ndcg) = (candidate, Some(ndcg));
                item_model = Some(b);
            }
        }
    }
    context.job.check()?;
    let global = item_model.unwrap_or_else(|| (context.global)(train));
    // One model holds every part any mix weighs; each mix then sets its weights.
    let with =
        |weighs: fn(&ModelMix) -> bool| mixes.iter().copied().find(weighs).unwrap_or_default();
    let local = with_local_models(
        global,
        with(|m| m.local != 0.0),
        train,
        lambda,
        catalogue.item_layer,
        catalogue.item_sublayer,
        context.budget,
        context.job,
    )?;
    let mut model = (context.fit)(
        train,
        with_factors(local, factors, with(|m| m.factors != 0.0)),
    );
    context.job.progress("validation", step + 1, 4);
    let trends = (context.popularities)(train);
    let mut strata = Vec::with_capacity(mixes.len());
    for &mix in mixes {
        model.set_mix(mix);
        let metrics = strata_metrics(
            &model,
            fold,
            context.grid,
            &trends,
            context.params,
            catalogue,
            context.job,
            true,
        )?
        .0;
        strata.push(metrics);
    }
    context.job.progress("validation", step + 2, 4);
    Ok(FoldResult {
        lambda,
        ease_ndcg,
        strata,
    })
}

/// NDCG@10 pooled over folds: the mean over all their counted users.
fn pooled(ndcgs: &[(f64, usize)]) -> f64 {
    let users: usize = ndcgs.iter().map(|&(_, n)| n).sum();
    let total: f64 = ndcgs.iter().map(|&(ndcg, n)| ndcg * n as f64).sum();
    total / users.max(1) as f64
}

/// Runs the whole protocol on `histories` (per user, oldest first).
///
/// Tuning uses two validation folds carved from training the way the test split is carved
/// from all data: the first holds out each user's last training basket, the second the one
/// before. Strata's settings are chosen on both folds' users pooled, which halves the chance
/// of picking a setting that was only lucky on one fold's few hundred users.
pub fn evaluate(
    histories: &[Vec<Event>],
    catalogue: &Catalogue<'_>,
    params: &RecommendParams,
    job: &JobContext,
) -> Result<Evaluation, Cancelled> {
    let started = Instant::now();
    let n_items = catalogue.item_layer.len();
    // Strata's global evidence is the EASE model of the same split (learnt once, for both);
    // the cosine model stands in where EASE was not learnt (its factorisation failed, or its
    // dense matrices do not fit the budget: then the top neighbours).
    let budget = &params.budget;
    let global = |train: &[Vec<Event>]| global_item_model(train, n_items, None, budget);
    let fit = |train: &[Vec<Event>], item_model: ItemModel| {
        Model::with_item_model(
            train,
            item_model,
            catalogue.vectors.to_vec(),
            catalogue.dim,
            catalogue.item_layer.to_vec(),
            catalogue.item_sublayer.to_vec(),
        )
    };
    let popularities = |train: &[Vec<Event>]| -> Vec<Vec<f32>> {
        TREND_HALF_LIVES
            .iter()
            .map(|&half_life| popularity(train, n_items, half_life))
            .collect()
    };
    let test = Fold::new(Split::last_timestamp(histories));
    let grid = setting_grid();
    let tuning_users = MAX_TUNING_USERS
        .min((TUNING_WORK / (n_items.max(1) * grid.len() * MIXES.len()) as f64) as usize)
        .max(100);
    let first = Fold::sampled(Split::last_timestamp(&test.split.train), tuning_users);
    let second = Fold::sampled(Split::last_timestamp(&first.split.train), tuning_users);

    // EASE's λ and RP3beta's α and β are chosen on the first fold; the second uses that λ. On
    // each, Strata's settings are scored with the fold's EASE, mixed with the layers' local
    // models at each of the mixes, as its collaborative evidence.
    let fold_context = FoldContext {
        grid: &grid,
        params,
        catalogue,
        fit: &fit,
        global: &global,
        popularities: &popularities,
        budget,
        job,
    };
    let (rp3_alpha, rp3_beta) = tune_rp3(&first, catalogue, job)?;
    let mut ials = tune_ials(&first, catalogue, job)?;
    // iALS's scores join Strata's mixes where their fit and scores are affordable.
    let mut notes = Vec::new();
    let pairs: usize = test.train_items.iter().map(Vec::len).sum();
    let factors = factors_fit(&ials.params, pairs, test.split.train.len(), n_items);
    let mut mixes = MIXES.to_vec();
    if factors {
        mixes.extend(FACTOR_MIXES);
    } else {
        notes.push(format!(
            "Strata's mix leaves out iALS's scores: at this catalogue's size they cost more \
             than {FACTORS_WORK:.0e} operations"
        ));
    }
    let first_factors = ials
        .model
        .take()
        .filter(|_| factors)
        .map(|model| model.into_item_factors(&ials.params));
    let on_first = validate_fold(
        &first,
        &EASE_LAMBDAS,
        &mixes,
        first_factors,
        &fold_context,
        0,
    )?;
    let ease_lambda = on_first.lambda;
    let second_factors = if factors {
        let model = Ials::fit(&second.split.train, n_items, &ials.params, job)?;
        Some(model.into_item_factors(&ials.params))
    } else {
        None
    };
    let on_second = validate_fold(
        &second,
        &[ease_lambda],
        &mixes,
        second_factors,
        &fold_context,
        2,
    )?;
    let ease_first = on_first.ease_ndcg.unwrap_or(0.0);
    let ease_second = on_second.ease_ndcg.unwrap_or(0.0);
    // The best mix and setting, both folds' users pooled; ties go to the earlier (the global
    // model alone, then the grid's order).
    let mut chosen = (MIXES[0], grid[0], f64::NEG_INFINITY);
    for (&mix, (on_a, on_b)) in mixes
        .iter()
        .zip(on_first.strata.iter().zip(&on_second.strata))
    {
        for (setting, (a, b)) in grid.iter().zip(on_a.iter().zip(on_b)) {
            let ndcg = pooled(&[(a.ndcg, first.users.len()), (b.ndcg, second.users.len())]);
            if ndcg > chosen.2 {
                chosen = (mix, *setting, ndcg);
            }
        }
    }
    let (mix, best, strata_validation_ndcg) = chosen;
    let trend_half_life_days = TREND_HALF_LIVES[best.trend];
    let ease_validation_ndcg = pooled(&[
        (ease_first, first.users.len()),
        (ease_second, second.users.len()),
    ]);

    // Test: everything trained on the training histories, scored on the holdout.
    job.progress("test", 0, 5);
    let mut methods = BTreeMap::new();
    let train = &test.split.train;
    let dense = dense_bytes(train.len(), n_items);
    // One co-occurrence matrix serves EASE and item-kNN where the dense matrices fit.
    let (test_item_model, knn) = if budget.fits(dense) {
        let gram = item_gram(&binary_matrix(train, n_items), train.len(), n_items);
        let ease = ease_matrix(&gram, n_items, ease_lambda);
        if ease.is_none() {
            notes.push(format!(
                "EASE skipped: its factorisation failed at λ = {ease_lambda}"
            ));
        }
        (ease, item_cosine(gram, n_items))
    } else {
        notes.push(format!(
            "EASE skipped: its dense {n_items} × {n_items} matrices need {} but the memory \
             budget is {}",
            Bytes(dense),
            Bytes(budget.bytes)
        ));
        notes.push(format!(
            "item-kNN keeps each item's top {NEIGHBOURS} neighbours (all of them do not fit the \
             memory budget)"
        ));
        (None, sparse_item_model(train, n_items))
    };
    if let Some(ease) = &test_item_model {
        methods.insert(Method::Ease, item_model_metrics(ease, &test, catalogue));
    }
    job.check()?;
    if ials.tried < ials.grid {
        notes.push(format!(
            "iALS tuned on {} of its {} settings (the others exceed its tuning work budget at \
             this catalogue's size)",
            ials.tried, ials.grid
        ));
    }
    // iALS's model of the training histories: the baseline, and Strata's where its mix has it.
    let factors = Ials::fit(train, n_items, &ials.params, job)?;
    let ials_metrics = tally_scored(&test, catalogue, |users| factors.scores(users));
    methods.insert(Method::Ials, ials_metrics);
    let factors = (mix.factors != 0.0).then(|| factors.into_item_factors(&ials.params));
    job.progress("test", 1, 5);
    let global_model = test_item_model.unwrap_or_else(|| global(train));
    let local = with_local_models(
        global_model,
        mix,
        train,
        ease_lambda,
        catalogue.item_layer,
        catalogue.item_sublayer,
        budget,
        job,
    )?;
    let model = fit(train, with_factors(local, factors, mix));
    let (strata, multi_layer_share) = strata_metrics(
        &model,
        &test,
        &[Setting { trend: 0, ..best }],
        &[popularity(train, n_items, trend_half_life_days)],
        params,
        catalogue,
        job,
        false,
    )?;
    methods.insert(
        Method::Strata,
        strata.into_iter().next().unwrap_or_default(),
    );
    drop(model);
    job.progress("test", 2, 5);
    let popular = popular_scores(train, n_items);
    let popular_metrics = tally_scored(&test, catalogue, |users| {
        users.iter().flat_map(|_| popular.iter().copied()).collect()
    });
    methods.insert(Method::Popular, popular_metrics);
    job.check()?;
    job.progress("test", 3, 5);
    methods.insert(Method::ItemKnn, item_model_metrics(&knn, &test, catalogue));
    drop(knn);
    let rp3 = ItemModel::Sparse(Incidence::new(train, n_items).neighbours(
        Similarity::Rp3Beta {
            alpha: rp3_alpha,
            beta: rp3_beta,
        },
        NEIGHBOURS,
    ));
    methods.insert(Method::Rp3Beta, item_model_metrics(&rp3, &test, catalogue));
    drop(rp3);
    job.check()?;
    job.progress("test", 4, 5);
    let content = tally_scored(&test, catalogue, |users| {
        content_scores(train, catalogue, users)
    });
    methods.insert(Method::Content, content);
    job.progress("test", 5, 5);
    let strata = methods.get(&Method::Strata).cloned().unwrap_or_default();
    let versus_best_baseline = methods
        .iter()
        .filter(|(method, _)| method.is_baseline())
        .max_by(|a, b| a.1.ndcg.total_cmp(&b.1.ndcg))
        .map(|(&method, best)| {
            Comparison::paired(method, &strata.per_user_ndcg, &best.per_user_ndcg)
        })
        .unwrap_or_default();
    Ok(Evaluation {
        users: test.users.len(),
        methods,
        tuned: Tuned {
            blend: best.blend,
            free_share: best.free_share,
            trend_half_life_days,
            ease_lambda,
            mix,
            rp3_alpha,
            rp3_beta,
            ials_factors: ials.params.factors,
            ials_regularization: ials.params.regularization,
            ials_unobserved: ials.params.unobserved,
            strata_validation_ndcg,
            ease_validation_ndcg,
        },
        multi_layer_share,
        versus_best_baseline,
        notes,
        tuning_users: [first.users.len(), second.users.len()],
        seconds: started.elapsed().as_secs_f64(),
    })
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

    #[test]
    fn holdout_is_the_last_basket_minus_repurchases() {
        // User 0: item 1 twice before, then a basket {1, 2, 3} at t = 9: 1 is a repurchase.
        // User 1: everything at one time: no training, does not count.
        // User 2: only a repurchase at the end: no relevant item, does not count.
        let histories = vec![
            vec![e(1, 1), e(4, 2), e(1, 3), e(1, 9), e(2, 9), e(3, 9)],
            vec![e(1, 5), e(2, 5)],
            vec![e(3, 1), e(3, 2)],
        ];
        let split = Split::last_timestamp(&histories);
        let items: Vec<u32> = split.train[0].iter().map(|e| e.item).collect();
        assert_eq!(items, [4, 1], "each pair once, by latest time");
        assert_eq!(
            split.train[0][1].value, 2.0,
            "values of a repeated pair add up"
        );
        assert_eq!(split.relevant[0], [2, 3]);
        assert!(split.train[1].is_empty());
        assert!(split.relevant[2].is_empty());
        assert_eq!(split.counted(), [0]);
    }

    #[test]
    fn ndcg_hit_rate_and_recall_by_hand() {
        let vectors: Vec<f32> = (0..20).flat_map(|_| [1.0f32, 0.0]).collect();
        let mut tally = Tally::new();
        // Relevant {5, 7, 9}; the list hits 7 at rank 2 and 9 at rank 4.
        tally.add(&[1, 7, 2, 9], &[5, 7, 9], &vectors, 2);
        let m = tally.metrics(20);
        let dcg = 1.0 / 3f64.log2() + 1.0 / 5f64.log2();
        let ideal = 1.0 + 1.0 / 3f64.log2() + 1.0 / 4f64.log2();
        assert!((m.ndcg - dcg / ideal).abs() < 1e-12, "{m:?}");
        assert_eq!(m.hit_rate, 1.0);
        assert!((m.recall - 2.0 / 3.0).abs() < 1e-12);
        assert!((m.coverage - 4.0 / 20.0).abs() < 1e-12);
        // Identical vectors: no diversity.
        assert!(m.diversity.abs() < 1e-6);
    }

    #[test]
    fn top_items_skip_training_items_and_break_ties_by_index() {
        let scores = [
            0.5f32, 0.9, 0.9, 0.1, 0.7, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3,
        ];
        let top = top_items(&scores, &[1]);
        assert_eq!(&top[..4], &[2, 4, 0, 12]);
        assert_eq!(top.len(), CUTOFF);
        assert!(!top.contains(&1));
    }

    #[test]
    fn ease_learns_co_occurrence() {
        // Items 0 and 1 always together, 2 alone.
        let histories: Vec<Vec<Event>> = (0..6)
            .map(|u| {
                if u < 4 {
                    vec![e(0, 1), e(1, 1)]
                } else {
                    vec![e(2, 1)]
                }
            })
            .collect();
        let x = binary_matrix(&histories, 3);
        let Some(ItemModel::Dense(ease)) = ease_matrix(&item_gram(&x, 6, 3), 3, 1.0) else {
            panic!("EASE is dense")
        };
        let b = ease.weights;
        assert!(b[1] > 0.5, "0 speaks for 1: {b:?}");
        assert!(b[2].abs() < 1e-6 && b[0] == 0.0);
    }
}
