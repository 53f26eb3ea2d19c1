//! A user's profile: each history item's recency-decayed weight, and the layers by strength.

use std::collections::HashMap;

use super::{LayerStrength, Model, ProfileParams, SECONDS_PER_DAY};
use crate::recommend::data::Event;

impl Model {
    /// Each distinct history item with its weight: value × ½^(age / half-life), age measured
    /// back from the user's latest interaction.
    pub fn weights(&self, events: &[Event], params: &ProfileParams) -> Vec<(u32, f32)> {
        let latest = events.iter().map(|e| e.ts).max().unwrap_or(i64::MIN);
        let mut weights: Vec<(u32, f32)> = Vec::new();
        let mut position: HashMap<u32, usize> = HashMap::new();
        for e in events {
            let age_days = if e.ts == i64::MIN || latest == i64::MIN {
                0.0
            } else {
                (latest - e.ts) as f64 / SECONDS_PER_DAY
            };
            let decay = if params.half_life_days > 0.0 {
                0.5f64.powf(age_days / params.half_life_days)
            } else {
                1.0
            };
            let w = e.value * decay as f32;
            match position.entry(e.item) {
                std::collections::hash_map::Entry::Occupied(at) => weights[*at.get()].1 += w,
                std::collections::hash_map::Entry::Vacant(slot) => {
                    slot.insert(weights.len());
                    weights.push((e.item, w));
                }
            }
        }
        weights
    }

    /// Layer strengths of a weighted history, strongest first.
    pub fn strengths(&self, weights: &[(u32, f32)]) -> Vec<LayerStrength> {
        let mut by_layer = vec![0f64; self.n_layers];
        let mut by_sub: Vec<Vec<f64>> =
            self.sublayer_counts.iter().map(|&c| vec![0.0; c]).collect();
        for &(item, w) in weights {
            let (l, s) = (
                self.item_layer[item as usize],
                self.item_sublayer[item as usize],
            );
            by_layer[l] += f64::from(w);
            by_sub[l][s] += f64::from(w);
        }
        let total: f64 = by_layer.iter().sum();
        let mut layers: Vec<LayerStrength> = (0..self.n_layers)
            .filter(|&l| by_layer[l] > 0.0)
            .map(|l| LayerStrength {
                layer: l,
                strength: by_layer[l] / total,
                sublayers: by_sub[l].iter().map(|s| s / by_layer[l]).collect(),
            })
            .collect();
        layers.sort_by(|a, b| {
            b.strength
                .total_cmp(&a.strength)
                .then(a.layer.cmp(&b.layer))
        });
        layers
    }

    /// The user's interest in each layer: the weighted mean of their history vectors there,
    /// unit length (n_layers × dim), and which layers have one.
    pub(super) fn layer_means(&self, weights: &[(u32, f32)]) -> (Vec<f32>, Vec<bool>) {
        let mut means = vec![0f32; self.n_layers * self.dim];
        for &(item, w) in weights {
            let l = self.item_layer[item as usize];
            for (m, &v) in means[l * self.dim..(l + 1) * self.dim]
                .iter_mut()
                .zip(self.vector(item as usize))
            {
                *m += w * v;
            }
        }
        let mut has_mean = vec![false; self.n_layers];
        for (mean, has) in means.chunks_exact_mut(self.dim.max(1)).zip(&mut has_mean) {
            let norm = mean.iter().map(|v| v * v).sum::<f32>().sqrt();
            if norm > 0.0 {
                mean.iter_mut().for_each(|v| *v /= norm);
                *has = true;
            }
        }
        (means, has_mean)
    }
}
