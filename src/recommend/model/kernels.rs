//! The recommender's inner loops over vectors and item–item rows, compiled for AVX-512 and
//! AVX2 as well as the baseline and picked at run time.

use multiversion::multiversion;

use crate::linalg::dot;

pub(super) fn scale_to_unit(values: &mut [f32]) {
    let top = values.iter().copied().fold(0f32, f32::max);
    if top > 0.0 {
        values.iter_mut().for_each(|v| *v /= top);
    }
}

/// Dot product with `target` of each history item in `layer` (0 for the others): the content
/// part of a recommendation's reason, which only the layer's own history can give.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn history_dots(
    vectors: &[f32],
    dim: usize,
    history: &[(u32, f32)],
    item_layer: &[usize],
    layer: usize,
    target: &[f32],
) -> Vec<f32> {
    history
        .iter()
        .map(|&(i, _)| {
            if item_layer[i as usize] == layer {
                dot(&vectors[i as usize * dim..(i as usize + 1) * dim], target)
            } else {
                0.0
            }
        })
        .collect()
}

/// `out[u][i] = dot(users[u], vectors[items[i]])` for a block of users against a layer's
/// items, each item vector read once for the block. (A kernel of four users at a time, each
/// summed in `dot`'s order, ran 3.7× slower: its accumulators left the registers.)
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn block_dots(
    users: &[f32],
    items: &[u32],
    vectors: &[f32],
    dim: usize,
    out: &mut [f32],
) {
    let d = dim.max(1);
    let n_items = items.len();
    for (i, &item) in items.iter().enumerate() {
        let item = &vectors[item as usize * d..(item as usize + 1) * d];
        for (u, user) in users.chunks_exact(d).enumerate() {
            out[u * n_items + i] = dot(user, item);
        }
    }
}

/// Content evidence of each candidate: its vector's dot product with the user's mean vector
/// in its layer (0 where the user has none, and never below 0). Compiled for AVX-512 and
/// AVX2 too: this is the largest part of a user's lists.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
pub(super) fn layer_dots(
    candidates: &[u32],
    item_layer: &[usize],
    means: &[f32],
    has_mean: &[bool],
    vectors: &[f32],
    dim: usize,
) -> Vec<f32> {
    candidates
        .iter()
        .map(|&j| {
            let l = item_layer[j as usize];
            if has_mean[l] {
                let v = &vectors[j as usize * dim..(j as usize + 1) * dim];
                dot(&means[l * dim..(l + 1) * dim], v).max(0.0)
            } else {
                0.0
            }
        })
        .collect()
}
