//! PCA of the item vectors to 2D for the map, with the true share of variance it keeps.
//!
//! linfa-reduction's `Pca` takes f64 only (a 300 MB copy at 100k × 384), runs on one thread,
//! and its `explained_variance_ratio()` is normalised over the kept components, so it always
//! sums to 1; here the covariance is one `xᵀx` multiply in f32 and the ratio is over the total
//! variance (for MiniLM vectors two axes keep only about 7–8% of it, which users must see).

use linfa_linalg::eigh::Eigh;
use ndarray::Array2;

use super::linalg::gram;

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
    let (values, vectors) = covariance.eigh().map_err(|e| format!("PCA failed: {e}"))?;
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));
    let mut axes = [vec![0f64; d], vec![0f64; d]];
    let mut explained = [0f64; 2];
    for (axis, &k) in order.iter().take(2).enumerate() {
        let column = vectors.column(k);
        let largest = column
            .iter()
            .copied()
            .fold(0f64, |acc, v| if v.abs() > acc.abs() { v } else { acc });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        axes[axis] = column.iter().map(|v| v * sign).collect();
        explained[axis] = if total > 0.0 {
            values[k].max(0.0) / total
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

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

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
