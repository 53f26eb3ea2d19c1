//! iALS, implicit alternating least squares (Hu, Koren & Volinsky 2008), in the form Rendle et
//! al. tuned it into a strong baseline ("Revisiting the Performance of iALS on Item
//! Recommendation Benchmarks", RecSys 2022): every (user, item) pair of the history is a 1,
//! every other pair a 0 weighted by `unobserved`, and each row's regularisation grows with its
//! observed and unobserved weight.
//!
//! Loss: Σ_{(u,i) seen} (w_u·h_i − 1)² + α₀ Σ_{all (u,i)} (w_u·h_i)²
//!       + λ (Σ_u (|I_u| + α₀ |I|) ‖w_u‖² + Σ_i (|U_i| + α₀ |U|) ‖h_i‖²).
//! Each half-step solves one d × d system per row: α₀ HᵀH (the Gramian, shared by all rows)
//! plus the row's own items' outer products, so the unobserved pairs cost nothing per row.

use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt::{factor, solve};
use faer::{MatMut, MatRef, Par};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::data::{Event, distinct_items};
use crate::linalg::{dot, gram, gram_serial, in_pool, rows_dot_rows, rows_dot_rows_serial};
use crate::pipeline::{Cancelled, JobContext};

/// Seed of the item factors' starting values.
const SEED: u64 = 0x1a15;

/// Standard deviation of each starting factor, times √factors (Rendle et al.'s 0.1 / √d).
const INIT_SCALE: f32 = 0.1;

/// An iALS setting.
#[derive(Clone, Copy, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IalsParams {
    /// Dimension of the user and item vectors.
    pub factors: usize,
    /// λ, scaled per row by its observed and unobserved weight.
    pub regularization: f64,
    /// α₀, the weight of each pair not in the history.
    pub unobserved: f64,
    /// Alternations (a user step and an item step each).
    pub epochs: usize,
}

impl IalsParams {
    /// Floating-point operations of a fit on `interactions` distinct (user, item) pairs:
    /// per epoch and side, the outer products of every pair, one Cholesky factorisation and
    /// solve per row, and the Gramian.
    pub fn work(&self, interactions: usize, users: usize, items: usize) -> f64 {
        let d = self.factors as f64;
        let rows = (users + items) as f64;
        let per_epoch = 2.0 * interactions as f64 * d * d
            + rows * (d * d * d / 3.0 + 2.0 * d * d)
            + 2.0 * rows * d * d;
        per_epoch * self.epochs as f64
    }
}

/// A fitted model: a vector per user and per item.
pub struct Ials {
    n_items: usize,
    factors: usize,
    /// users × factors, row-major.
    users: Vec<f32>,
    /// n_items × factors, row-major.
    items: Vec<f32>,
}

impl Ials {
    /// Fits `params` to `histories` (each user's items, seen once each), alternating user and
    /// item steps from seeded item vectors; the same data gives the same model.
    pub fn fit(
        histories: &[Vec<Event>],
        n_items: usize,
        params: &IalsParams,
        job: &JobContext,
    ) -> Result<Self, Cancelled> {
        let d = params.factors.max(1);
        let user_items: Vec<Vec<u32>> = histories.iter().map(|h| distinct_items(h)).collect();
        let mut item_users: Vec<Vec<u32>> = vec![Vec::new(); n_items];
        for (u, items) in user_items.iter().enumerate() {
            for &i in items {
                item_users[i as usize].push(u as u32);
            }
        }
        let mut rng = ChaCha8Rng::seed_from_u64(SEED);
        // Uniform on ±a has standard deviation a / √3.
        let a = INIT_SCALE * 3f32.sqrt() / (d as f32).sqrt();
        let mut items: Vec<f32> = (0..n_items * d).map(|_| rng.gen_range(-a..=a)).collect();
        let mut users = vec![0f32; histories.len() * d];
        for _ in 0..params.epochs {
            job.check()?;
            in_pool(|| {
                solve_side(&mut users, &user_items, &items, n_items, d, params);
                solve_side(&mut items, &item_users, &users, histories.len(), d, params);
            });
        }
        Ok(Self {
            n_items,
            factors: d,
            users,
            items,
        })
    }

    /// Scores of `users` (one row of n_items each): their vectors' dot products with every
    /// item's.
    pub fn scores(&self, users: &[usize]) -> Vec<f32> {
        let d = self.factors;
        let rows: Vec<f32> = users
            .iter()
            .flat_map(|&u| self.users[u * d..(u + 1) * d].iter().copied())
            .collect();
        in_pool(|| rows_dot_rows(&rows, users.len(), &self.items, self.n_items, d))
    }
}

/// One half-step: each row of `solved` (one per entry of `observed`) from the other side's
/// vectors `fixed` (`n_fixed` × d): (α₀ FᵀF + Σ_{j seen} f_j f_jᵀ + λ (|seen| + α₀ n_fixed) I) x
/// = Σ_{j seen} f_j.
fn solve_side(
    solved: &mut [f32],
    observed: &[Vec<u32>],
    fixed: &[f32],
    n_fixed: usize,
    d: usize,
    params: &IalsParams,
) {
    let unobserved_gramian = unobserved_gramian(fixed, n_fixed, d, params);
    let side = Side::new(fixed, n_fixed, d, &unobserved_gramian, params);
    solved.par_chunks_mut(d).zip(observed).for_each_init(
        || side.scratch(),
        |scratch, (x, seen)| {
            side.solve_row(x, seen, scratch);
        },
    );
}

/// α₀ FᵀF (d × d) of the vectors `fixed` (`n_fixed` × d): the unobserved pairs of every row.
fn unobserved_gramian(fixed: &[f32], n_fixed: usize, d: usize, params: &IalsParams) -> Vec<f32> {
    let alpha = params.unobserved as f32;
    let mut gramian = gram(fixed, n_fixed, d);
    gramian.iter_mut().for_each(|g| *g *= alpha);
    gramian
}

/// The fixed side of a half-step: its vectors, α₀ times their Gramian, and λ.
struct Side<'a> {
    fixed: &'a [f32],
    n_fixed: usize,
    d: usize,
    /// α₀ FᵀF, d × d.
    unobserved_gramian: &'a [f32],
    alpha: f32,
    lambda: f32,
}

/// A thread's buffers for [`Side::solve_row`]: the seen rows and the factorisation's stack.
struct Scratch {
    rows: Vec<f32>,
    stack: MemBuffer,
}

impl<'a> Side<'a> {
    fn new(
        fixed: &'a [f32],
        n_fixed: usize,
        d: usize,
        unobserved_gramian: &'a [f32],
        params: &IalsParams,
    ) -> Self {
        Self {
            fixed,
            n_fixed,
            d,
            unobserved_gramian,
            alpha: params.unobserved as f32,
            lambda: params.regularization as f32,
        }
    }

    fn scratch(&self) -> Scratch {
        Scratch {
            rows: Vec::new(),
            stack: MemBuffer::new(factor::cholesky_in_place_scratch::<f32>(
                self.d,
                Par::Seq,
                Default::default(),
            )),
        }
    }

    /// Solves the row that has seen `seen` into `x` and returns its system's Cholesky factor
    /// (d × d, column-major, lower); `None`, with `x` at 0, for an empty row (or a system that
    /// is not positive definite, which λ > 0 rules out).
    fn solve_row(&self, x: &mut [f32], seen: &[u32], scratch: &mut Scratch) -> Option<Vec<f32>> {
        let d = self.d;
        x.fill(0.0);
        if seen.is_empty() {
            return None;
        }
        // The seen rows' outer products as one multiply: FᵀF over the seen rows.
        let rows = &mut scratch.rows;
        rows.clear();
        for &j in seen {
            rows.extend_from_slice(&self.fixed[j as usize * d..(j as usize + 1) * d]);
        }
        let mut system = gram_serial(rows, seen.len(), d);
        for (s, &g) in system.iter_mut().zip(self.unobserved_gramian) {
            *s += g;
        }
        for row in rows.chunks_exact(d) {
            x.iter_mut().zip(row).for_each(|(b, &v)| *b += v);
        }
        let ridge = self.lambda * (seen.len() as f32 + self.alpha * self.n_fixed as f32);
        for k in 0..d {
            system[k * d + k] += ridge;
        }
        let mut a = MatMut::from_column_major_slice_mut(&mut system, d, d);
        let factored = factor::cholesky_in_place(
            a.as_mut(),
            Default::default(),
            Par::Seq,
            MemStack::new(&mut scratch.stack),
            Default::default(),
        );
        if factored.is_err() {
            x.fill(0.0);
            return None;
        }
        solve::solve_in_place(
            a.as_ref(),
            MatMut::from_column_major_slice_mut(x, d, 1),
            Par::Seq,
            MemStack::new(&mut []),
        );
        Some(system)
    }
}

/// The item vectors of a fitted model, for any history: the history's user vector solves the
/// user step's normal equations with the item vectors fixed, so a new or grown history needs
/// no refit, and the score x·h_i splits exactly over the history's items (x = A⁻¹ Σ_j h_j, so
/// item j gives h_iᵀ A⁻¹ h_j): Strata's collaborative evidence can draw on it like an
/// item–item model, reasons included.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct ItemFactors {
    n_items: usize,
    factors: usize,
    /// n_items × factors, row-major.
    items: Vec<f32>,
    /// α₀ HᵀH, shared by every history.
    unobserved_gramian: Vec<f32>,
    params: IalsParams,
}

/// A history folded in: its user vector and its system's Cholesky factor.
pub struct FoldedIn {
    user: Vec<f32>,
    factor: Vec<f32>,
}

impl Ials {
    /// The item side of this model, fitted with `params`.
    pub fn into_item_factors(self, params: &IalsParams) -> ItemFactors {
        let unobserved_gramian =
            in_pool(|| unobserved_gramian(&self.items, self.n_items, self.factors, params));
        ItemFactors {
            n_items: self.n_items,
            factors: self.factors,
            items: self.items,
            unobserved_gramian,
            params: *params,
        }
    }
}

impl ItemFactors {
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Whether the vectors are whole for `n_items` items.
    pub fn is_consistent(&self, n_items: usize) -> bool {
        self.n_items == n_items
            && self.items.len() == n_items * self.factors
            && self.unobserved_gramian.len() == self.factors * self.factors
    }

    /// Bytes the vectors hold.
    pub fn bytes(&self) -> u64 {
        (4 * (self.items.len() + self.unobserved_gramian.len())) as u64
    }

    /// The same vectors for a catalogue grown to `n_items` (not fewer): a new item's vector is
    /// zero, so it neither gets nor gives iALS's evidence until the next fit, and the
    /// unobserved Gramian (Σ h hᵀ) is unchanged.
    pub fn extended(mut self, n_items: usize) -> Self {
        self.n_items = n_items.max(self.n_items);
        self.items.resize(self.n_items * self.factors, 0.0);
        self
    }

    fn item(&self, i: usize) -> &[f32] {
        &self.items[i * self.factors..(i + 1) * self.factors]
    }

    /// The user step for the history's distinct items `rows` (their weights do not count:
    /// iALS's pairs are seen or not); `None` for an empty history.
    pub fn fold_in(&self, rows: &[(u32, f32)]) -> Option<FoldedIn> {
        let mut seen: Vec<u32> = rows.iter().map(|&(i, _)| i).collect();
        seen.sort_unstable();
        seen.dedup();
        let side = Side::new(
            &self.items,
            self.n_items,
            self.factors,
            &self.unobserved_gramian,
            &self.params,
        );
        let mut user = vec![0f32; self.factors];
        let factor = side.solve_row(&mut user, &seen, &mut side.scratch())?;
        Some(FoldedIn { user, factor })
    }

    /// Adds `scale` × the score of every item to `out` (n_items long), for the history
    /// `folded` is the [`ItemFactors::fold_in`] of (nothing for an empty one).
    pub fn add_scores(&self, out: &mut [f32], folded: Option<&FoldedIn>, scale: f32) {
        let Some(folded) = folded else {
            return;
        };
        // One matrix–vector product (this thread's: users are already spread over the cores).
        let scores = rows_dot_rows_serial(&folded.user, 1, &self.items, self.n_items, self.factors);
        for (o, s) in out.iter_mut().zip(scores) {
            *o += scale * s;
        }
    }

    /// What each of the history `rows`' items gives the score of item `to`: h_toᵀ A⁻¹ h_j,
    /// with `folded` the history's [`ItemFactors::fold_in`].
    pub fn contributions(
        &self,
        to: usize,
        rows: &[(u32, f32)],
        folded: Option<&FoldedIn>,
    ) -> Vec<f32> {
        let Some(folded) = folded else {
            return vec![0.0; rows.len()];
        };
        let d = self.factors;
        let mut z = self.item(to).to_vec();
        solve::solve_in_place(
            MatRef::from_column_major_slice(&folded.factor, d, d),
            MatMut::from_column_major_slice_mut(&mut z, d, 1),
            Par::Seq,
            MemStack::new(&mut []),
        );
        rows.iter()
            .map(|&(j, _)| dot(self.item(j as usize), &z))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 30 users over 12 items, a 4-factor model of them, their distinct items, and their
    /// vectors redone from the final item vectors (the last step was the items').
    fn thirty_users() -> (IalsParams, Ials, Vec<Vec<u32>>, Vec<f32>) {
        let histories: Vec<Vec<Event>> = (0..30u32)
            .map(|u| {
                (0..12)
                    .filter(|i| (u * 7 + i * 3) % 5 < 2)
                    .map(Event::bought)
                    .collect()
            })
            .collect();
        let params = IalsParams {
            factors: 4,
            regularization: 0.05,
            unobserved: 0.2,
            epochs: 3,
        };
        let model = Ials::fit(&histories, 12, &params, &JobContext::silent()).expect("fit");
        let seen: Vec<Vec<u32>> = histories.iter().map(|h| distinct_items(h)).collect();
        let mut users = vec![0f32; 30 * 4];
        solve_side(&mut users, &seen, &model.items, 12, 4, &params);
        (params, model, seen, users)
    }

    /// Every user vector solves its normal equations: the gradient of the loss in w_u is 0.
    #[test]
    fn a_user_step_solves_the_weighted_least_squares_exactly() {
        let (params, model, seen, users) = thirty_users();
        let d = 4;
        for u in 0..30 {
            let w = &users[u * d..(u + 1) * d];
            for k in 0..d {
                let mut gradient = 0f64;
                for i in 0..12 {
                    let h = &model.items[i * d..(i + 1) * d];
                    let y: f64 = w.iter().zip(h).map(|(a, b)| f64::from(a * b)).sum();
                    // Half the derivative of (y − 1)² + α₀ y² for a seen pair, α₀ y² unseen.
                    let seen_part = if seen[u].contains(&(i as u32)) {
                        y - 1.0
                    } else {
                        0.0
                    };
                    gradient += (seen_part + params.unobserved * y) * f64::from(h[k]);
                }
                let ridge =
                    params.regularization * (seen[u].len() as f64 + params.unobserved * 12.0);
                gradient += ridge * f64::from(w[k]);
                assert!(gradient.abs() < 1e-4, "user {u} factor {k}: {gradient}");
            }
        }
    }

    /// Two groups of users buying within two groups of items: each user's unseen items of
    /// their own group score above every item of the other.
    #[test]
    fn learns_the_groups_and_is_reproducible() {
        let histories: Vec<Vec<Event>> = (0..40u32)
            .map(|u| {
                let base = (u % 2) * 10;
                (0..10)
                    .filter(|i| (u / 2 + i) % 3 != 0)
                    .map(|i| Event::bought(base + i))
                    .collect()
            })
            .collect();
        let params = IalsParams {
            factors: 8,
            regularization: 0.01,
            unobserved: 0.1,
            epochs: 8,
        };
        let job = JobContext::silent();
        let model = Ials::fit(&histories, 20, &params, &job).expect("fit");
        let users: Vec<usize> = (0..40).collect();
        let scores = model.scores(&users);
        for u in 0..40 {
            let row = &scores[u * 20..(u + 1) * 20];
            let own = (u % 2) * 10;
            let other = 10 - own;
            let worst_own = (own..own + 10)
                .map(|i| row[i])
                .fold(f32::INFINITY, f32::min);
            let best_other = (other..other + 10)
                .map(|i| row[i])
                .fold(f32::NEG_INFINITY, f32::max);
            assert!(worst_own > best_other, "user {u}: {row:?}");
        }
        let again = Ials::fit(&histories, 20, &params, &job).expect("fit");
        assert_eq!(again.scores(&users), scores);
    }

    /// Issue 15: a history folded into the item vectors gets the user step's vector (the
    /// scores a refit would give), and each score splits exactly over the history's items,
    /// so Strata's reasons can name the one that gives the most.
    #[test]
    fn a_folded_in_history_scores_as_the_user_step_and_splits_over_its_items() {
        let (params, model, seen, users) = thirty_users();
        let d = 4;
        let items = model.items.clone();
        let factors = model.into_item_factors(&params);
        for (u, seen) in seen.iter().enumerate() {
            // Weights do not count, nor the order or repeats of the history.
            let rows: Vec<(u32, f32)> = seen
                .iter()
                .rev()
                .chain(seen.first())
                .map(|&i| (i, 0.5 + i as f32))
                .collect();
            let mut scores = vec![0f32; 12];
            let folded = factors.fold_in(&rows);
            factors.add_scores(&mut scores, folded.as_ref(), 2.0);
            for (i, &score) in scores.iter().enumerate() {
                let direct: f32 = users[u * d..(u + 1) * d]
                    .iter()
                    .zip(&items[i * d..(i + 1) * d])
                    .map(|(a, b)| a * b)
                    .sum();
                assert!((score - 2.0 * direct).abs() < 1e-5, "user {u} item {i}");
                let split: f32 = factors
                    .contributions(i, &rows[..seen.len()], folded.as_ref())
                    .iter()
                    .sum();
                assert!(
                    (split - direct).abs() < 1e-5,
                    "user {u} item {i}: {split} vs {direct}"
                );
            }
        }
        let mut nothing = vec![0f32; 12];
        assert!(factors.fold_in(&[]).is_none());
        factors.add_scores(&mut nothing, None, 1.0);
        assert!(nothing.iter().all(|&s| s == 0.0));
    }
}
