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
/// items, each item vector read once for the block. Four users go at once through
/// [`dot4`], four independent chains of `dot`'s own arithmetic, so each value is the one `dot`
/// gives, whatever the block (one user's lists equal their lists in a batch, to the bit); a
/// single chain waits on its additions' latency.
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
    let n_users = users.len() / d;
    let fours = n_users / 4 * 4;
    for (i, &item) in items.iter().enumerate() {
        let item = &vectors[item as usize * d..(item as usize + 1) * d];
        for u in (0..fours).step_by(4) {
            let row = |k: usize| &users[(u + k) * d..(u + k + 1) * d];
            let dots = dot4([row(0), row(1), row(2), row(3)], item);
            for (k, value) in dots.into_iter().enumerate() {
                out[(u + k) * n_items + i] = value;
            }
        }
        for u in fours..n_users {
            out[u * n_items + i] = dot(&users[u * d..(u + 1) * d], item);
        }
    }
}

/// Four [`dot`]s against one `b`, each with exactly `dot`'s operations in `dot`'s order (16
/// partial sums, the tail, then the partial sums added in order), interleaved.
#[inline(always)]
fn dot4(a: [&[f32]; 4], b: &[f32]) -> [f32; 4] {
    const LANES: usize = 16;
    let mut p0 = [0f32; LANES];
    let mut p1 = [0f32; LANES];
    let mut p2 = [0f32; LANES];
    let mut p3 = [0f32; LANES];
    let whole = b.len() / LANES * LANES;
    for start in (0..whole).step_by(LANES) {
        let cb = &b[start..start + LANES];
        let (c0, c1) = (&a[0][start..start + LANES], &a[1][start..start + LANES]);
        let (c2, c3) = (&a[2][start..start + LANES], &a[3][start..start + LANES]);
        for lane in 0..LANES {
            p0[lane] += c0[lane] * cb[lane];
            p1[lane] += c1[lane] * cb[lane];
            p2[lane] += c2[lane] * cb[lane];
            p3[lane] += c3[lane] * cb[lane];
        }
    }
    let tail = |a: &[f32]| -> f32 { a[whole..].iter().zip(&b[whole..]).map(|(x, y)| x * y).sum() };
    let (t0, t1, t2, t3) = (tail(a[0]), tail(a[1]), tail(a[2]), tail(a[3]));
    [
        p0.iter().sum::<f32>() + t0,
        p1.iter().sum::<f32>() + t1,
        p2.iter().sum::<f32>() + t2,
        p3.iter().sum::<f32>() + t3,
    ]
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 15: four dots at once are each `dot`, to the bit, at lengths with and without a
    /// tail, so a block's content values equal one user's.
    #[test]
    fn four_dots_at_once_are_each_dot_to_the_bit() {
        for len in [0, 5, 16, 128, 131, 384] {
            let row = |k: usize| -> Vec<f32> {
                (0..len)
                    .map(|i| (((i * 7 + k * 13) % 23) as f32 - 11.0) / 7.3)
                    .collect()
            };
            let (a, b): (Vec<Vec<f32>>, Vec<f32>) = ((0..4).map(row).collect(), row(9));
            let four = dot4([&a[0], &a[1], &a[2], &a[3]], &b);
            for k in 0..4 {
                assert_eq!(
                    four[k].to_bits(),
                    dot(&a[k], &b).to_bits(),
                    "len {len} row {k}"
                );
            }
        }
    }
}
