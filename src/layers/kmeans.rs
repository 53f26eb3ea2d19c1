//! k-means: greedy k-means++ seeding, then Lloyd iterations with the distances as one matrix
//! multiply per iteration ([`rows_dot_rows`]).
//!
//! Written here rather than taken from linfa-clustering: linfa's `KMeans` ran 20–30× slower on
//! these shapes (it parallelises assignment only and runs 10 inits by default), and the
//! layering step runs k-means dozens of times (every k of the sweep, every layer's sub-layers,
//! three seeds for stability). Same algorithm as scikit-learn's (`n_init=1`): k-means++ with
//! 2 + ln k local trials, relative tolerance 1e-4 of the mean feature variance, at most 300
//! iterations, empty clusters refilled with the points farthest from their centre.
//! [`best_of`] adds scikit-learn's classic `n_init`: several seeded runs, the least inertia
//! kept (one run lands in a poor local optimum often enough to hide a planted family).

use multiversion::multiversion;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use rayon::prelude::*;

use crate::linalg::{add_rows_by_label, in_pool, row_norms, rows_dot_rows, rows_dot_rows_serial};

const MAX_ITERATIONS: usize = 300;
const TOLERANCE: f64 = 1e-4;

/// One k-means solution.
#[derive(Clone, Debug)]
pub struct KMeansFit {
    /// The cluster of each row, `0..k`.
    pub labels: Vec<usize>,
    /// k × d, row-major.
    pub centroids: Vec<f32>,
    /// Sum of squared distances of rows to their centre.
    pub inertia: f64,
    pub iterations: usize,
    /// How far the last update moved the centres (squared, summed): [`refine`] goes on from
    /// here when that is above the usual tolerance.
    last_shift: f64,
}

/// Squared distances of every row of `x` to every centre: n × k.
fn squared_distances(x: &[f32], x_norms: &[f32], centres: &[f32], k: usize, d: usize) -> Vec<f32> {
    let n = x_norms.len();
    let mut out = rows_dot_rows(x, n, centres, k, d);
    let centre_norms = row_norms(centres, d);
    for (row, &xn) in out.chunks_exact_mut(k.max(1)).zip(x_norms) {
        for (v, &cn) in row.iter_mut().zip(&centre_norms) {
            *v = (xn + cn - 2.0 * *v).max(0.0);
        }
    }
    out
}

/// Greedy k-means++ (Arthur & Vassilvitskii 2007; scikit-learn's variant).
fn seed_centres(x: &[f32], x_norms: &[f32], d: usize, k: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let n = x_norms.len();
    let row = |i: usize| &x[i * d..(i + 1) * d];
    let mut centres = Vec::with_capacity(k * d);
    let first = rng.gen_range(0..n);
    centres.extend_from_slice(row(first));
    let mut closest = squared_distances(x, x_norms, row(first), 1, d);
    let trials = 2 + (k as f64).ln() as usize;
    for _ in 1..k {
        let potential: f64 = closest.iter().map(|&v| f64::from(v)).sum();
        let mut cumulative = Vec::with_capacity(n);
        let mut running = 0f64;
        for &v in &closest {
            running += f64::from(v);
            cumulative.push(running);
        }
        let candidates: Vec<usize> = (0..trials)
            .map(|_| {
                if potential <= 0.0 {
                    return rng.gen_range(0..n);
                }
                let target = rng.r#gen::<f64>() * potential;
                cumulative.partition_point(|&c| c <= target).min(n - 1)
            })
            .collect();
        let candidate_rows: Vec<f32> = candidates.iter().flat_map(|&i| row(i).to_vec()).collect();
        let distances = squared_distances(x, x_norms, &candidate_rows, trials, d);
        let mut best: Option<(f64, usize)> = None;
        for t in 0..trials {
            let pot: f64 = closest
                .iter()
                .zip(distances.iter().skip(t).step_by(trials))
                .map(|(&c, &dist)| f64::from(c.min(dist)))
                .sum();
            if best.is_none_or(|(b, _)| pot < b) {
                best = Some((pot, t));
            }
        }
        let t = best.map_or(0, |(_, t)| t);
        centres.extend_from_slice(row(candidates[t]));
        for (c, &dist) in closest
            .iter_mut()
            .zip(distances.iter().skip(t).step_by(trials))
        {
            *c = c.min(dist);
        }
    }
    centres
}

/// k-means of the n rows of `x` (n × d) into `k` clusters, seeded; `1 <= k <= n`.
pub fn kmeans(x: &[f32], d: usize, k: usize, seed: u64) -> KMeansFit {
    kmeans_to(x, d, k, seed, 1.0)
}

/// As [`kmeans`], but stops at `loose` times the usual tolerance. The k sweep uses this to
/// compare k values cheaply (the last iterations move a few points and barely change the
/// silhouette); [`refine`] then carries the chosen fit on to full convergence, along the very
/// same trajectory a plain [`kmeans`] call takes.
pub fn kmeans_to(x: &[f32], d: usize, k: usize, seed: u64, loose: f64) -> KMeansFit {
    let n = x.len() / d.max(1);
    assert!(k >= 1 && k <= n, "k must be in 1..=n");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let x_norms = row_norms(x, d);
    let centres = seed_centres(x, &x_norms, d, k, &mut rng);
    lloyd(
        x,
        &x_norms,
        d,
        k,
        centres,
        0,
        loose * TOLERANCE * mean_variance(x, d),
    )
}

/// Lloyd iterations on all of `x` from `centres` (k × d): a fit warm-started from another
/// (a sample's, or the last run's).
pub fn kmeans_from(x: &[f32], d: usize, centres: Vec<f32>) -> KMeansFit {
    let x_norms = row_norms(x, d);
    let k = centres.len() / d.max(1);
    lloyd(
        x,
        &x_norms,
        d,
        k,
        centres,
        0,
        TOLERANCE * mean_variance(x, d),
    )
}

/// The seed of restart `r` of a run seeded `seed`; restart 0 is the run itself.
pub fn restart_seed(seed: u64, r: usize) -> u64 {
    seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// The least-inertia fit of `restarts` (at least 1) runs of [`kmeans_to`], seeded
/// [`restart_seed`]`(seed, 0..restarts)`; ties go to the earlier run.
pub fn best_of(x: &[f32], d: usize, k: usize, seed: u64, restarts: usize, loose: f64) -> KMeansFit {
    let mut best = kmeans_to(x, d, k, seed, loose);
    for r in 1..restarts {
        let fit = kmeans_to(x, d, k, restart_seed(seed, r), loose);
        if fit.inertia < best.inertia {
            best = fit;
        }
    }
    best
}

/// Carries a fit made by [`kmeans_to`] on to the usual tolerance.
pub fn refine(x: &[f32], d: usize, fit: KMeansFit) -> KMeansFit {
    let x_norms = row_norms(x, d);
    let k = fit.centroids.len() / d.max(1);
    let tolerance = TOLERANCE * mean_variance(x, d);
    if fit.last_shift <= tolerance || fit.iterations >= MAX_ITERATIONS {
        return fit;
    }
    lloyd(x, &x_norms, d, k, fit.centroids, fit.iterations, tolerance)
}

/// Lloyd iterations from `centres` until the centres move less than `tolerance` (squared,
/// summed) or [`MAX_ITERATIONS`]; `done` iterations were run before.
fn lloyd(
    x: &[f32],
    x_norms: &[f32],
    d: usize,
    k: usize,
    mut centres: Vec<f32>,
    done: usize,
    tolerance: f64,
) -> KMeansFit {
    let n = x_norms.len();
    let mut labels = vec![0usize; n];
    let mut distances = vec![0f32; n];
    let mut iterations = done;
    loop {
        iterations += 1;
        let (sums, counts) = assign(x, x_norms, &centres, k, d, &mut labels, &mut distances);
        let new_centres = update_centres(x, d, k, sums, counts, &mut labels, &distances);
        let shift: f64 = centres
            .iter()
            .zip(&new_centres)
            .map(|(a, b)| f64::from(a - b).powi(2))
            .sum();
        centres = new_centres;
        if shift <= tolerance || iterations >= MAX_ITERATIONS {
            // Final assignment to the final centres.
            assign(x, x_norms, &centres, k, d, &mut labels, &mut distances);
            let inertia = distances.iter().map(|&v| f64::from(v)).sum();
            return KMeansFit {
                labels,
                centroids: centres,
                inertia,
                iterations,
                last_shift: shift,
            };
        }
    }
}

/// Rows per block of the assignment step: a block (and its distances) stays in L2 cache.
const BLOCK: usize = 256;
/// Rows per unit of parallel work; each keeps its own centre sums, added up in order, so the
/// result does not depend on the number of threads.
const GROUP: usize = 16 * BLOCK;

/// Assigns every row to its nearest centre and sums the rows of each cluster in the same pass
/// (`x` is read from memory once per iteration): block by block, each block's distances one
/// small multiply, groups of blocks on all cores. Returns the sums (k × d) and counts.
fn assign(
    x: &[f32],
    x_norms: &[f32],
    centres: &[f32],
    k: usize,
    d: usize,
    labels: &mut [usize],
    distances: &mut [f32],
) -> (Vec<f32>, Vec<usize>) {
    let centre_norms = row_norms(centres, d);
    let partials: Vec<(Vec<f32>, Vec<usize>)> = in_pool(|| {
        x.par_chunks(GROUP * d)
            .zip(x_norms.par_chunks(GROUP))
            .zip(
                labels
                    .par_chunks_mut(GROUP)
                    .zip(distances.par_chunks_mut(GROUP)),
            )
            .map(|((group, group_norms), (group_labels, group_distances))| {
                let mut sums = vec![0f32; k * d];
                let mut counts = vec![0usize; k];
                for (((block, norms), labels), distances) in group
                    .chunks(BLOCK * d)
                    .zip(group_norms.chunks(BLOCK))
                    .zip(group_labels.chunks_mut(BLOCK))
                    .zip(group_distances.chunks_mut(BLOCK))
                {
                    let dots = rows_dot_rows_serial(block, norms.len(), centres, k, d);
                    let nearest = Nearest {
                        dots: &dots,
                        norms,
                        centre_norms: &centre_norms,
                        block,
                        d,
                    };
                    nearest_and_sums(&nearest, labels, distances, &mut sums, &mut counts);
                }
                (sums, counts)
            })
            .collect()
    });
    let mut sums = vec![0f32; k * d];
    let mut counts = vec![0usize; k];
    for (part_sums, part_counts) in partials {
        for (s, p) in sums.iter_mut().zip(&part_sums) {
            *s += p;
        }
        for (c, p) in counts.iter_mut().zip(&part_counts) {
            *c += p;
        }
    }
    (sums, counts)
}

/// One block of the assignment step: its rows, their norms and their dot products with the
/// centres (rows × k).
struct Nearest<'a> {
    dots: &'a [f32],
    norms: &'a [f32],
    centre_norms: &'a [f32],
    block: &'a [f32],
    d: usize,
}

/// Nearest centre of each row of a block, its squared distance, and the rows added to their
/// cluster's sum; compiled for AVX-512 and AVX2 too.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn nearest_and_sums(
    block: &Nearest<'_>,
    labels: &mut [usize],
    distances: &mut [f32],
    sums: &mut [f32],
    counts: &mut [usize],
) {
    let (k, d) = (block.centre_norms.len(), block.d);
    for (((dot_row, &xn), label), distance) in block
        .dots
        .chunks_exact(k)
        .zip(block.norms)
        .zip(labels.iter_mut())
        .zip(distances)
    {
        let mut best = (0, f32::INFINITY);
        for (j, (&dot, &cn)) in dot_row.iter().zip(block.centre_norms).enumerate() {
            let v = (xn + cn - 2.0 * dot).max(0.0);
            if v < best.1 {
                best = (j, v);
            }
        }
        *label = best.0;
        *distance = best.1;
        counts[best.0] += 1;
    }
    add_rows_by_label(sums, k, block.block, labels, d);
}

/// Mean of the rows of each cluster from their sums; an empty cluster takes the row farthest
/// from its centre (which then moves to it).
fn update_centres(
    x: &[f32],
    d: usize,
    k: usize,
    mut sums: Vec<f32>,
    mut counts: Vec<usize>,
    labels: &mut [usize],
    distances: &[f32],
) -> Vec<f32> {
    let empty: Vec<usize> = (0..k).filter(|&j| counts[j] == 0).collect();
    if !empty.is_empty() {
        let mut far: Vec<usize> = (0..labels.len()).collect();
        far.sort_by(|&a, &b| distances[b].total_cmp(&distances[a]).then(a.cmp(&b)));
        let mut far = far.into_iter();
        for j in empty {
            let Some(i) = far.by_ref().find(|&i| counts[labels[i]] > 1) else {
                break;
            };
            let old = labels[i];
            let row = &x[i * d..(i + 1) * d];
            for (t, &v) in row.iter().enumerate() {
                sums[old * d + t] -= v;
                sums[j * d + t] = v;
            }
            counts[old] -= 1;
            counts[j] = 1;
            labels[i] = j;
        }
    }
    sums.chunks_exact(d)
        .zip(&counts)
        .flat_map(|(s, &c)| s.iter().map(move |&v| v / c.max(1) as f32))
        .collect()
}

/// Mean over features of each feature's variance.
fn mean_variance(x: &[f32], d: usize) -> f64 {
    let n = (x.len() / d.max(1)).max(1) as f64;
    let mut mean = vec![0f64; d];
    let mut square = vec![0f64; d];
    for row in x.chunks_exact(d.max(1)) {
        for ((m, s), &v) in mean.iter_mut().zip(&mut square).zip(row) {
            *m += f64::from(v);
            *s += f64::from(v) * f64::from(v);
        }
    }
    mean.iter()
        .zip(&square)
        .map(|(m, s)| s / n - (m / n).powi(2))
        .sum::<f64>()
        / d.max(1) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three well-separated blobs in 5 dimensions.
    pub fn blobs(per: usize) -> (Vec<f32>, Vec<usize>) {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let centres = [
            [5.0f32, 0.0, 0.0, 0.0, 1.0],
            [0.0, 5.0, 0.0, 1.0, 0.0],
            [0.0, 0.0, 5.0, 0.0, 0.0],
        ];
        let mut x = Vec::new();
        let mut truth = Vec::new();
        for (c, centre) in centres.iter().enumerate() {
            for _ in 0..per {
                x.extend(centre.iter().map(|v| v + rng.gen_range(-0.5f32..0.5)));
                truth.push(c);
            }
        }
        (x, truth)
    }

    #[test]
    fn finds_separated_blobs_and_is_deterministic() {
        let (x, truth) = blobs(50);
        let fit = kmeans(&x, 5, 3, 0);
        // Same partition as the truth, up to renaming.
        for i in 0..truth.len() {
            for j in 0..truth.len() {
                assert_eq!(truth[i] == truth[j], fit.labels[i] == fit.labels[j]);
            }
        }
        let again = kmeans(&x, 5, 3, 0);
        assert_eq!(fit.labels, again.labels);
        assert_eq!(fit.centroids, again.centroids);
    }

    #[test]
    fn a_loose_fit_refined_equals_the_plain_fit() {
        let (x, _) = blobs(200);
        let mut cut_short = 0;
        for k in [2, 3, 5, 9] {
            let plain = kmeans(&x, 5, k, 3);
            let loose = kmeans_to(&x, 5, k, 3, 1e4);
            assert!(loose.iterations <= plain.iterations);
            cut_short += usize::from(loose.iterations < plain.iterations);
            let refined = refine(&x, 5, loose);
            assert_eq!(refined.labels, plain.labels, "k = {k}");
            assert_eq!(refined.centroids, plain.centroids, "k = {k}");
            assert_eq!(refined.iterations, plain.iterations, "k = {k}");
        }
        assert!(cut_short > 0, "the loose tolerance never stopped early");
    }

    #[test]
    fn the_best_of_restarts_has_the_least_inertia_and_one_restart_is_the_plain_fit() {
        let (x, _) = blobs(60);
        let plain = kmeans(&x, 5, 7, 11);
        let one = best_of(&x, 5, 7, 11, 1, 1.0);
        assert_eq!(one.labels, plain.labels);
        assert_eq!(one.centroids, plain.centroids);
        let best = best_of(&x, 5, 7, 11, 6, 1.0);
        for r in 0..6 {
            let fit = kmeans(&x, 5, 7, restart_seed(11, r));
            assert!(best.inertia <= fit.inertia, "restart {r}");
        }
        assert_eq!(best.labels, best_of(&x, 5, 7, 11, 6, 1.0).labels);
    }

    #[test]
    fn k_equal_n_and_identical_points_do_not_panic() {
        let x = vec![1.0f32, 0.0, 0.0, 1.0, 1.0, 1.0];
        let fit = kmeans(&x, 2, 3, 1);
        let mut labels = fit.labels.clone();
        labels.sort_unstable();
        assert_eq!(labels, [0, 1, 2]);
        assert!(fit.inertia < 1e-9);
        let same = vec![0.5f32; 4 * 3];
        let fit = kmeans(&same, 3, 2, 1);
        assert_eq!(fit.labels.len(), 4);
        assert!(fit.centroids.iter().all(|v| v.is_finite()));
    }
}
