//! Ranking a user's candidates in one pass, and the merged list's quotas by layer strength.

use super::{LayerStrength, Model, RecommendParams};

/// A user's best candidates under one score row (candidate position, score), best first.
pub struct Ranked {
    /// Per layer (all layers of the model), the best `depth`.
    pub by_layer: Vec<Vec<(usize, f32)>>,
    /// The best 2 × `depth` of every layer.
    pub overall: Vec<(usize, f32)>,
}

/// Keeps `entry` in `best` (at most `depth`, best first) if it belongs there: ties go to the
/// lower item index, as in [`best_first`], whatever order the candidates come in.
#[inline]
fn offer(best: &mut Vec<(usize, f32)>, entry: (usize, f32), depth: usize, candidates: &[u32]) {
    if depth == 0 {
        return;
    }
    // Most candidates fall below the last kept: one comparison turns them away.
    if let Some(last) = best.get(depth - 1) {
        match entry.1.total_cmp(&last.1) {
            std::cmp::Ordering::Less => return,
            std::cmp::Ordering::Equal if candidates[entry.0] > candidates[last.0] => return,
            _ => {}
        }
    }
    let at = best.partition_point(|other| best_first(other, &entry, candidates).is_le());
    best.insert(at, entry);
    best.truncate(depth);
}

/// Best score first; ties by item index, so lists are reproducible.
pub(super) fn best_first(
    a: &(usize, f32),
    b: &(usize, f32),
    candidates: &[u32],
) -> std::cmp::Ordering {
    b.1.total_cmp(&a.1)
        .then(candidates[a.0].cmp(&candidates[b.0]))
}

impl Model {
    /// A user's best candidates under `scores` (one per candidate, in any order): the best
    /// `depth` of each layer and the best 2 × `depth` of all, best first, in one pass.
    pub fn ranked(&self, candidates: &[u32], scores: &[f32], depth: usize) -> Ranked {
        let mut by_layer: Vec<Vec<(usize, f32)>> =
            vec![Vec::with_capacity(depth + 1); self.n_layers];
        let mut overall = Vec::with_capacity(2 * depth + 1);
        for (c, (&j, &score)) in candidates.iter().zip(scores).enumerate() {
            let entry = (c, score);
            offer(
                &mut by_layer[self.item_layer[j as usize]],
                entry,
                depth,
                candidates,
            );
            offer(&mut overall, entry, 2 * depth, candidates);
        }
        Ranked { by_layer, overall }
    }

    /// Candidate positions of the merged list: each of the top layers gets one place, the
    /// rest are shared in proportion to strength (largest remainders), places a layer cannot
    /// fill go to the best candidates left anywhere; best first. `ranked` must hold at least
    /// `params.list_len` per layer.
    pub fn merged(
        &self,
        candidates: &[u32],
        ranked: &Ranked,
        layers: &[LayerStrength],
        params: &RecommendParams,
    ) -> Vec<(usize, f32)> {
        let n = params.list_len;
        let mut quota = vec![0usize; self.n_layers];
        let top = params.top_layers.min(layers.len()).min(n);
        for l in &layers[..top] {
            quota[l.layer] = 1;
        }
        let rest = n - top;
        let rest = rest - (rest as f64 * params.free_share.clamp(0.0, 1.0)).round() as usize;
        let shares: Vec<f64> = layers.iter().map(|l| l.strength * rest as f64).collect();
        let mut given = 0;
        for (l, share) in layers.iter().zip(&shares) {
            let whole = share.floor() as usize;
            quota[l.layer] += whole;
            given += whole;
        }
        let mut remainders: Vec<(f64, usize)> = layers
            .iter()
            .zip(&shares)
            .map(|(l, s)| (s - s.floor(), l.layer))
            .collect();
        remainders.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        for &(_, layer) in remainders.iter().take(rest.saturating_sub(given)) {
            quota[layer] += 1;
        }
        let mut chosen: Vec<(usize, f32)> = Vec::with_capacity(n);
        for l in layers {
            chosen.extend(ranked.by_layer[l.layer].iter().take(quota[l.layer]));
        }
        // At most n are taken, so the best 2n of all hold enough that are not.
        for &entry in &ranked.overall {
            if chosen.len() >= n {
                break;
            }
            if !chosen.iter().any(|&(c, _)| c == entry.0) {
                chosen.push(entry);
            }
        }
        // Ties go to the lower item, as everywhere.
        chosen.sort_by(|a, b| best_first(a, b, candidates));
        chosen.truncate(n);
        chosen
    }
}
