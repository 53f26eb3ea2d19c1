//! How good a split is: silhouette (on a seeded sample, as scikit-learn's `silhouette_score`
//! with `sample_size`), Davies–Bouldin, Calinski–Harabasz, and the adjusted Rand index that
//! measures stability across seeds. Distances are Euclidean on the unit vectors.

use rand::SeedableRng;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;

use crate::linalg::{row_norms, rows_dot_rows};

/// A seeded sample of at most `size` row indices of `0..n`, in increasing order.
pub fn sample_indices(n: usize, size: usize, seed: u64) -> Vec<usize> {
    let mut all: Vec<usize> = (0..n).collect();
    if size < n {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        all.shuffle(&mut rng);
        all.truncate(size);
        all.sort_unstable();
    }
    all
}

/// The rows of `x` (n × d) at `indices`, and their pairwise Euclidean distances.
pub struct SampleDistances {
    pub indices: Vec<usize>,
    /// m × m, row-major.
    distances: Vec<f32>,
}

impl SampleDistances {
    pub fn new(x: &[f32], d: usize, indices: Vec<usize>) -> Self {
        let rows: Vec<f32> = indices
            .iter()
            .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
            .collect();
        let m = indices.len();
        let norms = row_norms(&rows, d);
        let mut distances = rows_dot_rows(&rows, m, &rows, m, d);
        for (i, row) in distances.chunks_exact_mut(m.max(1)).enumerate() {
            for (j, v) in row.iter_mut().enumerate() {
                *v = if i == j {
                    0.0
                } else {
                    (norms[i] + norms[j] - 2.0 * *v).max(0.0).sqrt()
                };
            }
        }
        Self { indices, distances }
    }

    /// Silhouette of each sampled row under `labels` (labels of all n rows, `0..k`), or
    /// `None` when the sample holds fewer than two clusters. A row alone in its cluster
    /// scores 0 (scikit-learn's convention).
    pub fn silhouettes(&self, labels: &[usize], k: usize) -> Option<Vec<f64>> {
        let m = self.indices.len();
        let sample_labels: Vec<usize> = self.indices.iter().map(|&i| labels[i]).collect();
        let mut sizes = vec![0usize; k];
        for &l in &sample_labels {
            sizes[l] += 1;
        }
        if sizes.iter().filter(|&&s| s > 0).count() < 2 {
            return None;
        }
        // Each row's distance sum to every cluster, all at once: distances × one-hot labels.
        let mut one_hot = vec![0f32; k * m];
        for (j, &l) in sample_labels.iter().enumerate() {
            one_hot[l * m + j] = 1.0;
        }
        let cluster_sums = rows_dot_rows(&self.distances, m, &one_hot, k, m);
        let mut scores = Vec::with_capacity(m);
        for (i, row_sums) in cluster_sums.chunks_exact(k).enumerate() {
            let sums: Vec<f64> = row_sums.iter().map(|&v| f64::from(v)).collect();
            let own = sample_labels[i];
            if sizes[own] <= 1 {
                scores.push(0.0);
                continue;
            }
            let a = sums[own] / (sizes[own] - 1) as f64;
            let b = (0..k)
                .filter(|&j| j != own && sizes[j] > 0)
                .map(|j| sums[j] / sizes[j] as f64)
                .fold(f64::INFINITY, f64::min);
            let s = if a.max(b) > 0.0 {
                (b - a) / a.max(b)
            } else {
                0.0
            };
            scores.push(s);
        }
        Some(scores)
    }

    /// Mean silhouette over the sample (`None` with fewer than two clusters in it).
    pub fn mean_silhouette(&self, labels: &[usize], k: usize) -> Option<f64> {
        let scores = self.silhouettes(labels, k)?;
        Some(scores.iter().sum::<f64>() / scores.len().max(1) as f64)
    }

    /// Mean silhouette of the sampled rows of each cluster (`None` for a cluster without any).
    pub fn silhouette_by_cluster(&self, labels: &[usize], k: usize) -> Vec<Option<f64>> {
        let Some(scores) = self.silhouettes(labels, k) else {
            return vec![None; k];
        };
        let mut sums = vec![(0f64, 0usize); k];
        for (&i, s) in self.indices.iter().zip(scores) {
            sums[labels[i]].0 += s;
            sums[labels[i]].1 += 1;
        }
        sums.into_iter()
            .map(|(s, c)| (c > 0).then(|| s / c as f64))
            .collect()
    }
}

/// Davies–Bouldin index (lower is better); `None` for fewer than two clusters.
pub fn davies_bouldin(
    x: &[f32],
    d: usize,
    labels: &[usize],
    centroids: &[f32],
    k: usize,
) -> Option<f64> {
    if k < 2 {
        return None;
    }
    let mut scatter = vec![0f64; k];
    let mut counts = vec![0usize; k];
    for (row, &l) in x.chunks_exact(d).zip(labels) {
        scatter[l] += distance(row, &centroids[l * d..(l + 1) * d]);
        counts[l] += 1;
    }
    for (s, &c) in scatter.iter_mut().zip(&counts) {
        *s /= c.max(1) as f64;
    }
    let mut total = 0f64;
    for i in 0..k {
        let worst = (0..k)
            .filter(|&j| j != i)
            .map(|j| {
                let between = distance(
                    &centroids[i * d..(i + 1) * d],
                    &centroids[j * d..(j + 1) * d],
                );
                if between > 0.0 {
                    (scatter[i] + scatter[j]) / between
                } else {
                    0.0
                }
            })
            .fold(0f64, f64::max);
        total += worst;
    }
    Some(total / k as f64)
}

/// Calinski–Harabasz index (higher is better); `None` unless 2 <= k < n.
pub fn calinski_harabasz(
    x: &[f32],
    d: usize,
    labels: &[usize],
    centroids: &[f32],
    k: usize,
) -> Option<f64> {
    let n = labels.len();
    if k < 2 || k >= n {
        return None;
    }
    let mut mean = vec![0f64; d];
    for row in x.chunks_exact(d) {
        for (m, &v) in mean.iter_mut().zip(row) {
            *m += f64::from(v) / n as f64;
        }
    }
    let mut counts = vec![0usize; k];
    let mut within = 0f64;
    for (row, &l) in x.chunks_exact(d).zip(labels) {
        counts[l] += 1;
        within += distance(row, &centroids[l * d..(l + 1) * d]).powi(2);
    }
    let between: f64 = (0..k)
        .map(|j| {
            let c = &centroids[j * d..(j + 1) * d];
            let squared: f64 = c
                .iter()
                .zip(&mean)
                .map(|(&a, b)| (f64::from(a) - b).powi(2))
                .sum();
            counts[j] as f64 * squared
        })
        .sum();
    if within <= 0.0 {
        return None;
    }
    Some((between / (k - 1) as f64) / (within / (n - k) as f64))
}

fn distance(a: &[f32], b: &[f32]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (f64::from(x) - f64::from(y)).powi(2))
        .sum::<f64>()
        .sqrt()
}

/// Adjusted Rand index of two labelings of the same rows (1 = identical up to renaming).
pub fn adjusted_rand_index(a: &[usize], b: &[usize]) -> f64 {
    let n = a.len();
    if n < 2 || b.len() != n {
        return 1.0;
    }
    let ka = a.iter().max().map_or(0, |m| m + 1);
    let kb = b.iter().max().map_or(0, |m| m + 1);
    let mut table = vec![0u64; ka * kb];
    let (mut rows, mut cols) = (vec![0u64; ka], vec![0u64; kb]);
    for (&i, &j) in a.iter().zip(b) {
        table[i * kb + j] += 1;
        rows[i] += 1;
        cols[j] += 1;
    }
    let pairs = |v: u64| (v * v.saturating_sub(1)) as f64 / 2.0;
    let index: f64 = table.iter().map(|&v| pairs(v)).sum();
    let row_pairs: f64 = rows.iter().map(|&v| pairs(v)).sum();
    let col_pairs: f64 = cols.iter().map(|&v| pairs(v)).sum();
    let expected = row_pairs * col_pairs / pairs(n as u64);
    let max = (row_pairs + col_pairs) / 2.0;
    if (max - expected).abs() < f64::EPSILON {
        return 1.0;
    }
    (index - expected) / (max - expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ari_is_one_for_renamed_labels_and_near_zero_for_unrelated() {
        assert!(
            (adjusted_rand_index(&[0, 0, 1, 1, 2, 2], &[2, 2, 0, 0, 1, 1]) - 1.0).abs() < 1e-12
        );
        // scikit-learn: adjusted_rand_score([0,0,1,1],[0,1,0,1]) == -0.5
        assert!((adjusted_rand_index(&[0, 0, 1, 1], &[0, 1, 0, 1]) + 0.5).abs() < 1e-12);
    }

    #[test]
    fn silhouette_matches_a_hand_computed_case() {
        // Points on a line: 0, 1 | 10, 11. For point 0: a = 1, b = (10 + 11) / 2 = 10.5.
        let x = [0.0f32, 1.0, 10.0, 11.0];
        let labels = [0, 0, 1, 1];
        let sample = SampleDistances::new(&x, 1, vec![0, 1, 2, 3]);
        let s = sample.silhouettes(&labels, 2).unwrap();
        assert!((s[0] - (10.5 - 1.0) / 10.5).abs() < 1e-6);
        // Point 1: a = 1, b = (9 + 10) / 2 = 9.5.
        assert!((s[1] - (9.5 - 1.0) / 9.5).abs() < 1e-6);
        assert!(sample.mean_silhouette(&[0, 0, 0, 0], 1).is_none());
    }

    #[test]
    fn davies_bouldin_and_calinski_harabasz_on_a_simple_case() {
        let x = [0.0f32, 1.0, 10.0, 11.0];
        let labels = [0, 0, 1, 1];
        let centroids = [0.5f32, 10.5];
        // Scatter 0.5 each, centres 10 apart: DB = (0.5 + 0.5) / 10.
        let db = davies_bouldin(&x, 1, &labels, &centroids, 2).unwrap();
        assert!((db - 0.1).abs() < 1e-9);
        // B = 2·25 + 2·25 = 100 over 1; W = 4·0.25 = 1 over 2: CH = 200.
        let ch = calinski_harabasz(&x, 1, &labels, &centroids, 2).unwrap();
        assert!((ch - 200.0).abs() < 1e-6);
    }
}
