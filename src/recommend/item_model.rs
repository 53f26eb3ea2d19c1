//! Item–item models learnt from all users' histories: EASE (Steck 2019) for Strata's
//! collaborative evidence and the EASE baseline, cosine for item-kNN. Dense n × n matrices:
//! catalogues up to about 20k items (1.6 GB at 20k).

use faer::linalg::solvers::DenseSolveCore;
use faer::{Mat, Side};
use rayon::prelude::*;

use super::data::Event;
use crate::linalg::{in_pool, rows_dot_rows, threads};

/// An item–item matrix, row-major: row i says how much having item i speaks for each item.
pub struct ItemModel {
    pub n_items: usize,
    /// n_items × n_items.
    pub weights: Vec<f32>,
    /// Column j of `weights` from its row j: weights[i][j] = weights[j][i] · f[i] / f[j]. A
    /// column then costs one contiguous row instead of a cache miss per element.
    column_factor: Vec<f32>,
}

impl ItemModel {
    /// Row i: what item i speaks for.
    pub fn row(&self, item: usize) -> &[f32] {
        &self.weights[item * self.n_items..(item + 1) * self.n_items]
    }

    /// weights[from][to] for each of `from`, read from row `to`.
    pub fn column_at(&self, to: usize, from: impl Iterator<Item = usize>) -> Vec<f32> {
        let row = self.row(to);
        let base = self.column_factor[to];
        from.map(|i| row[i] * self.column_factor[i] / base)
            .collect()
    }
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
    ItemModel {
        n_items,
        weights: gram,
        // Symmetric: a column is its row.
        column_factor: vec![1.0; n_items],
    }
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
    b.iter().all(|v| v.is_finite()).then_some(ItemModel {
        n_items,
        weights: b,
        column_factor,
    })
}
