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
//! matrix, all neighbours), EASE (closed form, λ chosen on a validation split) and content kNN
//! (the user's mean vector). Tuning (Strata's blend, EASE's λ) uses a validation split carved
//! from training the same way, never the test holdout.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use super::data::Event;
use super::model::{
    Blend, Model, RecommendParams, binary_matrix, dot, ease_matrix, item_cosine, item_gram,
};
use crate::layers::linalg::{in_pool, rows_dot_rows, rows_times};
use crate::pipeline::{Cancelled, JobContext};

/// List length the metrics are taken at.
pub const CUTOFF: usize = 10;

/// EASE's λ candidates (tried on the validation split).
const EASE_LAMBDAS: [f64; 3] = [100.0, 500.0, 2000.0];

/// Free shares of the merged list tried on the validation split (0 = plain quotas).
const FREE_SHARES: [f64; 3] = [0.0, 0.3, 0.6];

/// Strata settings tried on the validation split: every blend with every free share.
fn setting_grid() -> Vec<(Blend, f64)> {
    blend_grid()
        .into_iter()
        .flat_map(|b| FREE_SHARES.map(|q| (b, q)))
        .collect()
}

/// Strata blends tried on the validation split.
fn blend_grid() -> Vec<Blend> {
    let mut grid = Vec::new();
    for content in [0.0, 0.25, 0.5, 1.0] {
        for collaborative in [0.0, 0.5, 1.0] {
            for popularity in [0.0, 0.1, 0.25, 0.5] {
                if content + collaborative + popularity > 0.0 {
                    grid.push(Blend {
                        content,
                        collaborative,
                        popularity,
                    });
                }
            }
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
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Metrics {
    #[serde(rename = "hr@10")]
    pub hit_rate: f64,
    #[serde(rename = "ndcg@10")]
    pub ndcg: f64,
    #[serde(rename = "recall@10")]
    pub recall: f64,
    pub coverage: f64,
    pub diversity: f64,
}

/// Accumulates lists into [`Metrics`].
struct Tally {
    hits: f64,
    ndcg: f64,
    recall: f64,
    diversity: f64,
    users: usize,
    shown: HashSet<u32>,
}

impl Tally {
    fn new() -> Self {
        Self {
            hits: 0.0,
            ndcg: 0.0,
            recall: 0.0,
            diversity: 0.0,
            users: 0,
            shown: HashSet::new(),
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
        self.diversity += diversity(list, vectors, dim);
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

/// Everything `strata evaluate` reports.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub users: usize,
    pub methods: BTreeMap<String, Metrics>,
    /// Strata's blend and EASE's λ as chosen on the validation split.
    pub tuned: Tuned,
    /// Share of counted users with ≥ 2 layers whose Strata list draws on ≥ 2 layers.
    pub multi_layer_share: f64,
    pub seconds: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Tuned {
    pub blend: Blend,
    pub free_share: f64,
    pub ease_lambda: f64,
    /// Validation NDCG@10 of the chosen settings.
    pub strata_validation_ndcg: f64,
    pub ease_validation_ndcg: f64,
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

/// Rows of `x` (users × items) for `users`.
fn rows_of(x: &[f32], users: &[usize], n_items: usize) -> Vec<f32> {
    users
        .iter()
        .flat_map(|&u| x[u * n_items..(u + 1) * n_items].iter().copied())
        .collect()
}

/// Scores X·B for `users` of an item–item matrix `b` (row-major, row i for item i).
fn item_model_scores(x: &[f32], n_items: usize, b: &[f32], users: &[usize]) -> ScoreRows {
    let rows = rows_of(x, users, n_items);
    in_pool(|| rows_times(&rows, users.len(), b, n_items, n_items))
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

/// Metrics of a dense method's score rows.
fn tally_rows(
    scores: &[f32],
    users: &[usize],
    split: &Split,
    catalogue: &Catalogue<'_>,
    train_items: &[Vec<u32>],
) -> Metrics {
    let n_items = catalogue.item_layer.len();
    let mut tally = Tally::new();
    for (row, &u) in users.iter().enumerate() {
        let list = top_items(&scores[row * n_items..(row + 1) * n_items], &train_items[u]);
        tally.add(&list, &split.relevant[u], catalogue.vectors, catalogue.dim);
    }
    tally.metrics(n_items)
}

/// Strata's merged lists under each blend of `blends`, metrics per blend (and, for the
/// first, the share of multi-layer users whose list spans ≥ 2 layers).
fn strata_metrics(
    model: &Model,
    split: &Split,
    users: &[usize],
    settings: &[(Blend, f64)],
    params: &RecommendParams,
    catalogue: &Catalogue<'_>,
    job: &JobContext,
) -> Result<(Vec<Metrics>, f64), Cancelled> {
    type PerUser = (Vec<Vec<u32>>, Option<bool>);
    let lists: Vec<Result<PerUser, Cancelled>> = in_pool(|| {
        users
            .par_iter()
            .map(|&u| {
                job.check()?;
                let weights = model.weights(&split.train[u], &params.profile);
                let layers = model.strengths(&weights);
                let evidence = model.evidence(&weights);
                let mut per_blend = Vec::with_capacity(settings.len());
                let mut spans = None;
                for (b, (blend, free_share)) in settings.iter().enumerate() {
                    let scores = evidence.scores(blend);
                    let setting = RecommendParams {
                        free_share: *free_share,
                        ..params.clone()
                    };
                    let merged = model.merged(&evidence, &scores, &layers, &setting);
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
    let mut tallies: Vec<Tally> = settings.iter().map(|_| Tally::new()).collect();
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

/// Runs the whole protocol on `histories` (per user, oldest first).
pub fn evaluate(
    histories: &[Vec<Event>],
    catalogue: &Catalogue<'_>,
    params: &RecommendParams,
    job: &JobContext,
) -> Result<Evaluation, Cancelled> {
    let started = Instant::now();
    let n_items = catalogue.item_layer.len();
    // Strata's collaborative evidence is the EASE model of the same split (learnt once, for
    // both); the cosine model stands in if EASE's factorisation failed.
    let fit = |train: &[Vec<Event>], item_model: Option<Vec<f32>>| {
        let item_model = item_model.unwrap_or_else(|| {
            item_cosine(
                item_gram(&binary_matrix(train, n_items), train.len(), n_items),
                n_items,
            )
        });
        Model::with_item_model(
            train,
            item_model,
            catalogue.vectors.to_vec(),
            catalogue.dim,
            catalogue.item_layer.to_vec(),
            catalogue.item_sublayer.to_vec(),
        )
    };
    let sorted_items = |train: &[Vec<Event>]| -> Vec<Vec<u32>> {
        train
            .iter()
            .map(|events| {
                let mut items: Vec<u32> = events.iter().map(|e| e.item).collect();
                items.sort_unstable();
                items.dedup();
                items
            })
            .collect()
    };

    // Validation: the training histories split again the same way. EASE's λ first: Strata's
    // collaborative evidence is the same item–item model.
    job.progress("validation", 0, 3);
    let test = Split::last_timestamp(histories);
    let validation = Split::last_timestamp(&test.train);
    let val_users = validation.counted();
    let val_x = binary_matrix(&validation.train, n_items);
    let val_items = sorted_items(&validation.train);
    let val_gram = item_gram(&val_x, validation.train.len(), n_items);
    let mut ease_lambda = EASE_LAMBDAS[0];
    let mut ease_validation_ndcg = f64::NEG_INFINITY;
    let mut val_item_model = None;
    for lambda in EASE_LAMBDAS {
        job.check()?;
        let Some(b) = ease_matrix(&val_gram, n_items, lambda) else {
            continue;
        };
        let scores = item_model_scores(&val_x, n_items, &b, &val_users);
        let ndcg = tally_rows(&scores, &val_users, &validation, catalogue, &val_items).ndcg;
        if ndcg > ease_validation_ndcg {
            (ease_lambda, ease_validation_ndcg) = (lambda, ndcg);
            val_item_model = Some(b);
        }
    }
    drop((val_x, val_gram));
    job.progress("validation", 2, 3);
    let val_model = fit(&validation.train, val_item_model);
    let grid = setting_grid();
    let (val_metrics, _) = strata_metrics(
        &val_model,
        &validation,
        &val_users,
        &grid,
        params,
        catalogue,
        job,
    )?;
    let ((best_blend, free_share), strata_validation_ndcg) = grid
        .iter()
        .zip(&val_metrics)
        .map(|(setting, m)| (*setting, m.ndcg))
        .fold(
            ((params.blend, params.free_share), f64::NEG_INFINITY),
            |best, (setting, n)| if n > best.1 { (setting, n) } else { best },
        );
    drop(val_model);
    job.progress("validation", 3, 3);

    // Test: everything trained on the training histories, scored on the holdout.
    job.progress("test", 0, 5);
    let users = test.counted();
    let train_items = sorted_items(&test.train);
    let mut methods = BTreeMap::new();
    let x = binary_matrix(&test.train, n_items);
    // One co-occurrence matrix serves EASE and item-kNN.
    let gram = item_gram(&x, test.train.len(), n_items);
    let test_item_model = ease_matrix(&gram, n_items, ease_lambda);
    let ease = match &test_item_model {
        Some(b) => item_model_scores(&x, n_items, b, &users),
        None => vec![0.0; users.len() * n_items],
    };
    methods.insert(
        "ease".to_owned(),
        tally_rows(&ease, &users, &test, catalogue, &train_items),
    );
    drop(ease);
    let model = fit(&test.train, test_item_model);
    let tuned_params = RecommendParams {
        blend: best_blend,
        free_share,
        ..params.clone()
    };
    let (strata, multi_layer_share) = strata_metrics(
        &model,
        &test,
        &users,
        &[(best_blend, free_share)],
        &tuned_params,
        catalogue,
        job,
    )?;
    methods.insert(
        "strata".to_owned(),
        strata.into_iter().next().unwrap_or_default(),
    );
    drop(model);
    job.progress("test", 1, 5);
    let popular = popular_scores(&test.train, n_items);
    let popular_rows: Vec<f32> = users.iter().flat_map(|_| popular.iter().copied()).collect();
    methods.insert(
        "popular".to_owned(),
        tally_rows(&popular_rows, &users, &test, catalogue, &train_items),
    );
    drop(popular_rows);
    job.check()?;
    job.progress("test", 2, 5);
    let knn = item_model_scores(&x, n_items, &item_cosine(gram, n_items), &users);
    methods.insert(
        "itemknn".to_owned(),
        tally_rows(&knn, &users, &test, catalogue, &train_items),
    );
    drop(knn);
    job.check()?;
    job.progress("test", 4, 5);
    let content = content_scores(&test.train, catalogue, &users);
    methods.insert(
        "content".to_owned(),
        tally_rows(&content, &users, &test, catalogue, &train_items),
    );
    job.progress("test", 5, 5);
    Ok(Evaluation {
        users: users.len(),
        methods,
        tuned: Tuned {
            blend: best_blend,
            free_share,
            ease_lambda,
            strata_validation_ndcg,
            ease_validation_ndcg,
        },
        multi_layer_share,
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
        let b = ease_matrix(&item_gram(&x, 6, 3), 3, 1.0).unwrap();
        assert!(b[1] > 0.5, "0 speaks for 1: {b:?}");
        assert!(b[2].abs() < 1e-6 && b[0] == 0.0);
    }
}
