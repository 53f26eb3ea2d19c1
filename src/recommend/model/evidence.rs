//! The evidence for a user's candidates: content (similarity to the user's interest in the
//! candidate's layer), collaborative (the item–item model's rows of the history) and
//! popularity, each scaled to 0..=1; batched over users for whole-catalogue runs.

use rayon::prelude::*;

use super::kernels::{block_dots, layer_dots, scale_to_unit};
use super::{Blend, Model};

/// Content evidence values [`Model::recommend_all`] holds at once (16 MB).
pub(super) const CONTENT_FLOATS: usize = 4 << 20;

/// Users per block of [`Model::batch_content`]: their means (64 × 1.5 KB) stay in L2.
pub(super) const USER_BLOCK: usize = 64;

/// The evidence for one user's candidates (parallel vectors, each scaled to 0..=1).
pub struct Evidence {
    pub candidates: Vec<u32>,
    pub content: Vec<f32>,
    pub collaborative: Vec<f32>,
    pub popularity: Vec<f32>,
}

impl Evidence {
    /// Replaces the popularity evidence with `popularity` (one value per item).
    pub fn set_popularity(&mut self, popularity: &[f32]) {
        for (p, &j) in self.popularity.iter_mut().zip(&self.candidates) {
            *p = popularity[j as usize];
        }
    }

    pub fn scores(&self, blend: &Blend) -> Vec<f32> {
        self.content
            .iter()
            .zip(&self.collaborative)
            .zip(&self.popularity)
            .map(|((&a, &b), &c)| {
                blend.content * a + blend.collaborative * b + blend.popularity * c
            })
            .collect()
    }
}

impl Model {
    /// The three kinds of evidence for every candidate of a user (every item not in the
    /// history; a layer's list draws on its own), each scaled to 0..=1 over the candidates.
    pub fn evidence(&self, weights: &[(u32, f32)]) -> Evidence {
        self.evidence_from(weights, None)
    }

    /// [`Model::evidence`], with the content evidence of every item already computed
    /// (`content_row`, n_items long) when the caller batches users.
    pub(super) fn evidence_from(
        &self,
        weights: &[(u32, f32)],
        content_row: Option<&[f32]>,
    ) -> Evidence {
        let mut seen = vec![false; self.n_items];
        for &(item, _) in weights {
            seen[item as usize] = true;
        }
        let candidates: Vec<u32> = (0..self.n_items as u32)
            .filter(|&i| !seen[i as usize])
            .collect();
        let total_weight: f32 = weights.iter().map(|&(_, w)| w).sum();
        let mut collaborative_all = vec![0f32; self.n_items];
        self.item_item.add_rows(&mut collaborative_all, weights);
        let mut content = match content_row {
            Some(row) => candidates.iter().map(|&j| row[j as usize]).collect(),
            None => {
                let (means, has_mean) = self.layer_means(weights);
                layer_dots(
                    &candidates,
                    &self.item_layer,
                    &means,
                    &has_mean,
                    &self.vectors,
                    self.dim,
                )
            }
        };
        let mut collaborative = Vec::with_capacity(candidates.len());
        let mut popularity = Vec::with_capacity(candidates.len());
        for &j in &candidates {
            collaborative.push(
                (collaborative_all[j as usize] / total_weight.max(f32::MIN_POSITIVE)).max(0.0),
            );
            popularity.push(self.popularity[j as usize]);
        }
        scale_to_unit(&mut content);
        scale_to_unit(&mut collaborative);
        Evidence {
            candidates,
            content,
            collaborative,
            popularity,
        }
    }

    /// Content evidence of every item for every user (users × n_items): per layer, blocks of
    /// users' means against the layer's item vectors, so each item vector is read once per
    /// block rather than once per user. Each value is the same [`dot`] as the one-user path
    /// computes, so a user's list is the same either way, to the bit.
    pub(super) fn batch_content(&self, weights: &[Vec<(u32, f32)>]) -> Vec<f32> {
        let (n, d) = (self.n_items, self.dim);
        let means: Vec<(Vec<f32>, Vec<bool>)> =
            weights.par_iter().map(|w| self.layer_means(w)).collect();
        let mut content = vec![0f32; weights.len() * n];
        for layer in 0..self.n_layers {
            let users: Vec<usize> = (0..weights.len()).filter(|&u| means[u].1[layer]).collect();
            let items: Vec<usize> = (0..n).filter(|&i| self.item_layer[i] == layer).collect();
            if users.is_empty() || items.is_empty() {
                continue;
            }
            let user_rows: Vec<f32> = users
                .iter()
                .flat_map(|&u| means[u].0[layer * d..(layer + 1) * d].iter().copied())
                .collect();
            let item_rows: Vec<f32> = items
                .iter()
                .flat_map(|&i| self.vector(i).iter().copied())
                .collect();
            let mut dots = vec![0f32; users.len() * items.len()];
            dots.par_chunks_mut(USER_BLOCK * items.len())
                .zip(user_rows.par_chunks(USER_BLOCK * d))
                .for_each(|(out, block)| block_dots(block, &item_rows, d, out));
            for (row, &u) in dots.chunks_exact(items.len()).zip(&users) {
                let out = &mut content[u * n..(u + 1) * n];
                for (&v, &i) in row.iter().zip(&items) {
                    out[i] = v.max(0.0);
                }
            }
        }
        content
    }
}
