//! PCA of the item vectors to 2D for the map, with the true share of variance it keeps.
//!
//! linfa-reduction's `Pca` takes f64 only (a 300 MB copy at 100k × 384), runs on one thread,
//! and its `explained_variance_ratio()` is normalised over the kept components, so it always
//! sums to 1; here the covariance is one `xᵀx` multiply in f32 and the ratio is over the total
//! variance (for MiniLM vectors two axes keep only about 7–8% of it, which users must see).
//! Only two eigenvectors are needed, so they come from subspace iteration on the covariance
//! (a few milliseconds) rather than a full eigendecomposition (0.3 s at d = 384).

use linfa_linalg::eigh::Eigh;
use ndarray::Array2;

use crate::linalg::{dot_f64 as dot, gram};

/// Items on the map and what the two axes explain.
#[derive(Clone, Debug)]
pub struct Projection {
    /// (x, y) per row.
    pub points: Vec<[f32; 2]>,
    /// Share of the total variance along each axis.
    pub explained: [f64; 2],
}

/// Projects the rows of `x` (n × d) onto their first two principal components. Signs are
/// fixed (each axis' largest loading is positive) so the map does not flip between runs.
pub fn project_2d(x: &[f32], d: usize) -> Result<Projection, String> {
    let n = x.len() / d.max(1);
    if n == 0 || d == 0 {
        return Ok(Projection {
            points: vec![[0.0, 0.0]; n],
            explained: [0.0, 0.0],
        });
    }
    let mut mean = vec![0f64; d];
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v);
        }
    }
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let g = gram(x, n, d);
    let covariance = Array2::from_shape_fn((d, d), |(i, j)| {
        f64::from(g[i * d + j]) / n as f64 - mean[i] * mean[j]
    });
    let total: f64 = (0..d).map(|i| covariance[(i, i)].max(0.0)).sum();
    let (values, vectors) = top_eigenvectors(&covariance, 2)?;
    let mut axes = [vec![0f64; d], vec![0f64; d]];
    let mut explained = [0f64; 2];
    for (axis, (value, column)) in values.iter().zip(&vectors).enumerate() {
        let value = *value;
        let largest = column
            .iter()
            .copied()
            .fold(0f64, |acc, v| if v.abs() > acc.abs() { v } else { acc });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        axes[axis] = column.iter().map(|v| v * sign).collect();
        explained[axis] = if total > 0.0 {
            value.max(0.0) / total
        } else {
            0.0
        };
    }
    let offsets = [dot(&mean, &axes[0]), dot(&mean, &axes[1])];
    let points = x
        .chunks_exact(d)
        .map(|row| {
            let mut point = [0f32; 2];
            for (p, (axis, offset)) in point.iter_mut().zip(axes.iter().zip(offsets)) {
                let value: f64 = row.iter().zip(axis).map(|(&v, a)| f64::from(v) * a).sum();
                *p = (value - offset) as f32;
            }
            point
        })
        .collect();
    Ok(Projection { points, explained })
}

/// Vectors iterated together; more than the two wanted so the second converges fast.
const BLOCK: usize = 8;
const MAX_ITERATIONS: usize = 1000;

/// The `count` largest eigenvalues of the symmetric matrix `c` (d × d), largest first, with
/// their unit eigenvectors: subspace iteration from a fixed start with a Rayleigh–Ritz step,
/// until the residuals ‖c·v − λ·v‖ are below 1e-10 of the largest eigenvalue.
fn top_eigenvectors(c: &Array2<f64>, count: usize) -> Result<(Vec<f64>, Vec<Vec<f64>>), String> {
    let d = c.nrows();
    let b = BLOCK.max(count).min(d);
    let scale = (0..d)
        .map(|i| c[(i, i)].abs())
        .fold(0f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let multiply = |basis: &[Vec<f64>]| -> Vec<Vec<f64>> {
        basis
            .iter()
            .map(|q| {
                let mut z = vec![0f64; d];
                for (i, &qi) in q.iter().enumerate() {
                    for (zj, &cij) in z.iter_mut().zip(c.row(i)) {
                        *zj += qi * cij;
                    }
                }
                z
            })
            .collect()
    };
    // A fixed, full-rank start: sin of distinct frequencies (no RNG needed to be reproducible).
    let mut basis: Vec<Vec<f64>> = (0..b)
        .map(|j| {
            (0..d)
                .map(|i| ((i + 1) as f64 * (j as f64 + 1.618)).sin())
                .collect()
        })
        .collect();
    orthonormalise(&mut basis);
    for iteration in 0..MAX_ITERATIONS {
        let images = multiply(&basis);
        // Rayleigh–Ritz every few steps: the small projected problem gives the best vectors
        // in the current subspace and their residuals.
        if iteration % 5 == 4 || iteration + 1 == MAX_ITERATIONS {
            let projected = Array2::from_shape_fn((b, b), |(i, j)| dot(&basis[i], &images[j]));
            let (values, small) = projected.eigh().map_err(|e| format!("PCA failed: {e}"))?;
            let mut order: Vec<usize> = (0..b).collect();
            order.sort_by(|&x, &y| values[y].total_cmp(&values[x]));
            let rotate = |vectors: &[Vec<f64>], k: usize| -> Vec<f64> {
                let mut out = vec![0f64; d];
                for (row, vector) in vectors.iter().enumerate() {
                    let w = small[(row, k)];
                    for (o, &v) in out.iter_mut().zip(vector) {
                        *o += w * v;
                    }
                }
                out
            };
            let ritz: Vec<Vec<f64>> = order.iter().map(|&k| rotate(&basis, k)).collect();
            let ritz_images: Vec<Vec<f64>> = order.iter().map(|&k| rotate(&images, k)).collect();
            let converged = (0..count).all(|t| {
                let lambda = values[order[t]];
                let residual: f64 = ritz_images[t]
                    .iter()
                    .zip(&ritz[t])
                    .map(|(cv, v)| (cv - lambda * v).powi(2))
                    .sum();
                residual.sqrt() <= 1e-10 * scale
            });
            if converged || iteration + 1 == MAX_ITERATIONS {
                let top = order.iter().take(count).map(|&k| values[k]).collect();
                return Ok((top, ritz.into_iter().take(count).collect()));
            }
            basis = ritz_images;
        } else {
            basis = images;
        }
        orthonormalise(&mut basis);
    }
    Err("PCA did not converge".to_owned())
}

/// Modified Gram–Schmidt, twice for stability; a vector that vanishes is replaced by a unit
/// vector along the first axis it is not yet spanned by.
fn orthonormalise(vectors: &mut [Vec<f64>]) {
    for _ in 0..2 {
        for j in 0..vectors.len() {
            for i in 0..j {
                let (done, rest) = vectors.split_at_mut(j);
                let projection = dot(&done[i], &rest[0]);
                for (v, &u) in rest[0].iter_mut().zip(&done[i]) {
                    *v -= projection * u;
                }
            }
            let norm = dot(&vectors[j], &vectors[j]).sqrt();
            if norm > 1e-300 {
                vectors[j].iter_mut().for_each(|v| *v /= norm);
            } else {
                let d = vectors[j].len();
                vectors[j] = (0..d).map(|i| if i == j % d { 1.0 } else { 0.0 }).collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subspace_iteration_matches_a_full_eigendecomposition() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let d = 60;
        let a = Array2::from_shape_fn((d, 2 * d), |_| rng.gen_range(-1.0f64..1.0));
        let c = a.dot(&a.t());
        let (full_values, full_vectors) = c.clone().eigh().unwrap();
        let mut order: Vec<usize> = (0..d).collect();
        order.sort_by(|&x, &y| full_values[y].total_cmp(&full_values[x]));
        let (values, vectors) = top_eigenvectors(&c, 2).unwrap();
        for t in 0..2 {
            let expected = full_values[order[t]];
            assert!((values[t] - expected).abs() < 1e-8 * expected, "{values:?}");
            let cosine = dot(&vectors[t], &full_vectors.column(order[t]).to_vec()).abs();
            assert!(cosine > 1.0 - 1e-9, "axis {t}: cosine {cosine}");
        }
    }

    #[test]
    fn recovers_the_main_axis_and_the_true_variance_share() {
        // Spread 10 along (1, 1, 0)/√2, 1 along (1, -1, 0)/√2, 0 along z.
        let mut x = Vec::new();
        for i in -5..=5 {
            for j in [-1.0f32, 1.0] {
                let (a, b) = (i as f32 * 2.0, j * 0.5);
                let s = std::f32::consts::FRAC_1_SQRT_2;
                x.extend([(a + b) * s + 3.0, (a - b) * s - 1.0, 7.0]);
            }
        }
        let p = project_2d(&x, 3).unwrap();
        let var_a = 2.0 * (1..=5).map(|i| (i as f64 * 2.0).powi(2)).sum::<f64>() * 2.0 / 22.0;
        let var_b = 0.25;
        assert!(
            (p.explained[0] - var_a / (var_a + var_b)).abs() < 1e-4,
            "{:?}",
            p.explained
        );
        assert!((p.explained[0] + p.explained[1] - 1.0).abs() < 1e-4);
        // The first coordinate is the position along the main axis, centred.
        assert!((p.points[0][0] - -10.0).abs() < 1e-3, "{:?}", p.points[0]);
        assert!(p.points.iter().map(|q| q[0]).sum::<f32>().abs() < 1e-3);
    }
}
