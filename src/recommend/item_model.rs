//! Item–item models learnt from all users' histories: EASE (Steck 2019) for Strata's
//! collaborative evidence and the EASE baseline, cosine for item-kNN, and the sparse models of
//! [`super::neighbours`]. The dense ones are n × n matrices (1.6 GB at 20k items): they are
//! built only where [`crate::memory::MemoryBudget`] allows (issue 15).

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};
use multiversion::multiversion;
use rayon::prelude::*;

use super::data::{Event, distinct_items};
use super::ials::{FoldedIn, ItemFactors};
use super::local_models::LocalModels;
use super::neighbours::Neighbours;
use crate::linalg::{in_pool, rows_dot_rows, threads};

/// An item–item model: row i says how much having item i speaks for each item.
#[derive(serde::Serialize, serde::Deserialize)]
pub enum ItemModel {
    /// Every pair, row-major.
    Dense(DenseItemModel),
    /// Each item's top neighbours.
    Sparse(Neighbours),
    /// A global model and the layers' local ones, weighted: row i is
    /// `global_weight · global[i] + local_weight · local[i]`.
    Layered {
        global: Box<ItemModel>,
        global_weight: f32,
        local: LocalModels,
        local_weight: f32,
    },
    /// An item–item model plus iALS's scores of the same history, weighted by
    /// `factors_weight` (a history's rows add up to their folded-in user's scores, so this
    /// evidence needs the whole history at once: [`ItemModel::add_rows`] gets it).
    WithFactors {
        items: Box<ItemModel>,
        factors: ItemFactors,
        factors_weight: f32,
    },
}

/// An n × n item–item matrix, row-major.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct DenseItemModel {
    pub n_items: usize,
    /// n_items × n_items.
    pub weights: Vec<f32>,
    /// Column j of `weights` from its row j: weights[i][j] = weights[j][i] · f[i] / f[j]. A
    /// column then costs one contiguous row instead of a cache miss per element.
    column_factor: Vec<f32>,
}

impl ItemModel {
    pub fn n_items(&self) -> usize {
        match self {
            ItemModel::Dense(m) => m.n_items,
            ItemModel::Sparse(m) => m.n_items,
            ItemModel::Layered { local, .. } => local.n_items(),
            ItemModel::WithFactors { factors, .. } => factors.n_items(),
        }
    }

    /// Bytes the model holds (its weights; a little more once encoded).
    pub fn bytes(&self) -> u64 {
        match self {
            ItemModel::Dense(m) => (4 * (m.weights.len() + m.column_factor.len())) as u64,
            ItemModel::Sparse(m) => m.bytes(),
            ItemModel::Layered { global, local, .. } => global.bytes() + local.bytes(),
            ItemModel::WithFactors { items, factors, .. } => items.bytes() + factors.bytes(),
        }
    }

    /// Whether the model is whole for `n_items` items: every array of the length its indices
    /// need (a model decoded from a damaged file may not be).
    pub fn is_consistent(&self, n_items: usize) -> bool {
        match self {
            ItemModel::Dense(m) => {
                m.n_items == n_items
                    && m.weights.len() == n_items * n_items
                    && m.column_factor.len() == n_items
            }
            ItemModel::Sparse(m) => m.is_consistent(n_items),
            ItemModel::Layered { global, local, .. } => {
                global.is_consistent(n_items) && local.is_consistent(n_items)
            }
            ItemModel::WithFactors { items, factors, .. } => {
                items.is_consistent(n_items) && factors.is_consistent(n_items)
            }
        }
    }

    /// The same model for a catalogue grown to `n_items` by items appended after the old ones
    /// (not fewer): the new items neither get nor give collaborative weight until the next
    /// fit; everything learnt about the old items is kept as it is.
    #[must_use]
    pub fn extended(self, n_items: usize) -> Self {
        match self {
            ItemModel::Dense(m) => ItemModel::Dense(m.extended(n_items)),
            ItemModel::Sparse(m) => ItemModel::Sparse(m.extended(n_items)),
            ItemModel::Layered {
                global,
                global_weight,
                local,
                local_weight,
            } => ItemModel::Layered {
                global: Box::new(global.extended(n_items)),
                global_weight,
                local: local.extended(n_items),
                local_weight,
            },
            ItemModel::WithFactors {
                items,
                factors,
                factors_weight,
            } => ItemModel::WithFactors {
                items: Box::new(items.extended(n_items)),
                factors: factors.extended(n_items),
                factors_weight,
            },
        }
    }

    /// What a history's columns need worked out once for all its targets: iALS's fold-in of it.
    pub fn fold(&self, rows: &[(u32, f32)]) -> Option<FoldedIn> {
        match self {
            ItemModel::WithFactors {
                factors,
                factors_weight,
                ..
            } if *factors_weight != 0.0 => factors.fold_in(rows),
            _ => None,
        }
    }

    /// weights[from][to] for each `from` of the history `rows` (item, weight): what each of
    /// its items gives item `to`, before its weight; `folded` is [`ItemModel::fold`] of `rows`.
    pub fn column_at(&self, to: usize, rows: &[(u32, f32)], folded: Option<&FoldedIn>) -> Vec<f32> {
        let from = rows.iter().map(|&(i, _)| i as usize);
        match self {
            ItemModel::Dense(m) => {
                let row = m.row(to);
                let base = m.column_factor[to];
                from.map(|i| row[i] * m.column_factor[i] / base).collect()
            }
            ItemModel::Sparse(m) => from.map(|i| m.weight(i, to)).collect(),
            ItemModel::Layered {
                global,
                global_weight,
                local,
                local_weight,
            } => global
                .column_at(to, rows, folded)
                .into_iter()
                .zip(from)
                .map(|(g, i)| global_weight * g + local_weight * local.weight(i, to))
                .collect(),
            ItemModel::WithFactors {
                items,
                factors,
                factors_weight,
            } => {
                let mut column = items.column_at(to, rows, folded);
                if *factors_weight != 0.0 {
                    let given = factors.contributions(to, rows, folded);
                    column
                        .iter_mut()
                        .zip(given)
                        .for_each(|(c, f)| *c += factors_weight * f);
                }
                column
            }
        }
    }

    /// Adds `w` × row for each `(row, w)` to `out` (n_items long).
    /// `folded` is [`ItemModel::fold`] of `rows`.
    pub fn add_rows(&self, out: &mut [f32], rows: &[(u32, f32)], folded: Option<&FoldedIn>) {
        match self {
            ItemModel::Dense(m) => add_weighted_rows(out, &m.weights, rows),
            ItemModel::Sparse(m) => m.add_rows(out, rows),
            ItemModel::Layered {
                global,
                global_weight,
                local,
                local_weight,
            } => {
                if *global_weight != 0.0 {
                    let scaled: Vec<(u32, f32)> =
                        rows.iter().map(|&(i, w)| (i, w * global_weight)).collect();
                    global.add_rows(out, &scaled, folded);
                }
                if *local_weight != 0.0 {
                    local.add_rows(out, rows, *local_weight);
                }
            }
            ItemModel::WithFactors {
                items,
                factors,
                factors_weight,
            } => {
                items.add_rows(out, rows, folded);
                if *factors_weight != 0.0 {
                    factors.add_scores(out, folded, *factors_weight);
                }
            }
        }
    }

    /// Scores of `users` (one row of n_items each): the sum of their items' rows. A history
    /// holds a few dozen of the catalogue's thousands of items, so adding its rows beats a
    /// dense product.
    pub fn scores(&self, histories: &[Vec<Event>], users: &[usize]) -> Vec<f32> {
        let n = self.n_items();
        let mut out = vec![0f32; users.len() * n];
        in_pool(|| {
            out.par_chunks_mut(n.max(1))
                .zip(users)
                .for_each(|(row, &u)| {
                    let items: Vec<(u32, f32)> = distinct_items(&histories[u])
                        .into_iter()
                        .map(|i| (i, 1.0))
                        .collect();
                    self.add_rows(row, &items, self.fold(&items).as_ref());
                });
        });
        out
    }
}

impl DenseItemModel {
    /// Row i: what item i speaks for.
    pub fn row(&self, item: usize) -> &[f32] {
        &self.weights[item * self.n_items..(item + 1) * self.n_items]
    }

    /// The same weights with zero rows and columns for the items from `self.n_items` to
    /// `n_items`.
    fn extended(self, n_items: usize) -> Self {
        let old = self.n_items;
        if n_items <= old {
            return self;
        }
        let mut weights = vec![0f32; n_items * n_items];
        if old > 0 {
            for (row, kept) in weights.chunks_mut(n_items).zip(self.weights.chunks(old)) {
                row[..old].copy_from_slice(kept);
            }
        }
        // Any positive factor: a new item's column is zero whatever it is.
        let mut column_factor = self.column_factor;
        column_factor.resize(n_items, 1.0);
        Self {
            n_items,
            weights,
            column_factor,
        }
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

/// Bytes the dense path takes at its peak for `users` × `n_items`: the binary matrix and its
/// transpose, the co-occurrence matrix, and EASE's system, inverse and weights.
pub fn dense_bytes(users: usize, n_items: usize) -> u64 {
    let (u, n) = (users as u64, n_items as u64);
    4 * (2 * u * n + 4 * n * n)
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
pub fn item_cosine(mut gram: Vec<f32>, n_items: usize) -> ItemModel {
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
    ItemModel::Dense(DenseItemModel {
        n_items,
        weights: gram,
        // Symmetric: a column is its row.
        column_factor: vec![1.0; n_items],
    })
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
pub fn ease_matrix(gram: &[f32], n_items: usize, lambda: f64) -> Option<ItemModel> {
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
    // B[i][j] = −P[i][j] / P[j][j] = B[j][i] · P[i][i] / P[j][j], as P is symmetric.
    let column_factor = (0..n_items).map(|j| p[(j, j)]).collect();
    b.iter()
        .all(|v| v.is_finite())
        .then_some(ItemModel::Dense(DenseItemModel {
            n_items,
            weights: b,
            column_factor,
        }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::neighbours::{Incidence, Similarity};

    fn history(items: &[u32]) -> Vec<Event> {
        items.iter().map(|&i| Event::bought(i)).collect()
    }

    /// Issue 16: a model extended to new items scores the old ones as before, and the new ones
    /// neither get nor give collaborative weight.
    #[test]
    fn an_extended_model_keeps_the_old_weights_and_gives_new_items_none_issue_16() {
        let histories = vec![history(&[0, 1]), history(&[1, 2]), history(&[0, 2, 3])];
        let gram = item_gram(&binary_matrix(&histories, 4), histories.len(), 4);
        let dense = ease_matrix(&gram, 4, 1.0).unwrap();
        let sparse =
            ItemModel::Sparse(Incidence::new(&histories, 4).neighbours(Similarity::Cosine, 2));
        for model in [dense, sparse] {
            let rows = [(0u32, 1.0f32), (2, 0.5)];
            let mut before = vec![0f32; 4];
            model.add_rows(&mut before, &rows, None);
            let old_column = model.column_at(1, &rows, None);
            let extended = model.extended(6);
            assert_eq!(extended.n_items(), 6);
            assert!(extended.is_consistent(6) && !extended.is_consistent(4));
            let mut after = vec![0f32; 6];
            extended.add_rows(&mut after, &rows, None);
            assert_eq!(&after[..4], &before[..]);
            assert_eq!(&after[4..], &[0.0, 0.0]);
            assert_eq!(extended.column_at(1, &rows, None), old_column);
            let with_new = [(0u32, 1.0f32), (5, 1.0)];
            assert_eq!(extended.column_at(1, &with_new, None)[1], 0.0);
            assert!(extended.column_at(4, &rows, None).iter().all(|&w| w == 0.0));
        }
    }
}
