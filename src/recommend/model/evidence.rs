//! The evidence for a user's candidates: content (similarity to the user's interest in the
//! candidate's layer), collaborative (the item–item model's rows of the history) and
//! popularity, each scaled to 0..=1; batched over users for whole-catalogue runs.
//!
//! A user's lists need only the candidates that can reach them ([`Model::list_evidence`]):
//! every item of the layers the history touches, every item the collaborative evidence
//! reaches, and the most popular of the rest. The rest score popularity alone, so they rank
//! below those; at 100,000 items this is a fraction of the catalogue (issue 15).

use rayon::prelude::*;

use super::kernels::{block_dots, layer_dots, scale_to_unit};
use super::{Blend, Model};
use crate::recommend::ials::FoldedIn;

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
    fn with_capacity(n: usize) -> Self {
        Self {
            candidates: Vec::with_capacity(n),
            content: Vec::with_capacity(n),
            collaborative: Vec::with_capacity(n),
            popularity: Vec::with_capacity(n),
        }
    }

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

/// Content evidence of a batch of users, per layer: the dot products of the users with a
/// mean in the layer against the layer's items ([`Model::batch_content`]).
pub(super) struct BatchContent {
    /// Per layer: each user's row in `dots` (`u32::MAX` for none), and the rows.
    layers: Vec<(Vec<u32>, Vec<f32>)>,
}

impl BatchContent {
    /// User `u`'s content rows, one per layer ([`Model::list_evidence`]'s `content`).
    pub(super) fn user<'a>(&'a self, u: usize, model: &Model) -> Vec<Option<&'a [f32]>> {
        self.layers
            .iter()
            .zip(&model.layer_items)
            .map(|((rows, dots), items)| {
                let row = rows[u] as usize;
                (rows[u] != u32::MAX).then(|| &dots[row * items.len()..(row + 1) * items.len()])
            })
            .collect()
    }
}

impl Model {
    /// The three kinds of evidence for every candidate of a user (every item not in the
    /// history; a layer's list draws on its own), each scaled to 0..=1 over the candidates.
    /// The evaluation scores all of them under many blends.
    pub fn evidence(&self, weights: &[(u32, f32)]) -> Evidence {
        let mut seen = vec![false; self.n_items];
        for &(item, _) in weights {
            seen[item as usize] = true;
        }
        let candidates: Vec<u32> = (0..self.n_items as u32)
            .filter(|&i| !seen[i as usize])
            .collect();
        let collaborative_all =
            self.collaborative_all(weights, self.item_item.fold(weights).as_ref());
        let (means, has_mean) = self.layer_means(weights);
        let mut content = layer_dots(
            &candidates,
            &self.item_layer,
            &means,
            &has_mean,
            &self.vectors,
            self.dim,
        );
        let mut collaborative = Vec::with_capacity(candidates.len());
        let mut popularity = Vec::with_capacity(candidates.len());
        for &j in &candidates {
            collaborative.push(collaborative_all[j as usize]);
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

    /// Each item's collaborative evidence before scaling: the weighted sum of the history's
    /// rows of the item–item model per unit of history weight, never below 0.
    fn collaborative_all(&self, weights: &[(u32, f32)], folded: Option<&FoldedIn>) -> Vec<f32> {
        let total_weight: f32 = weights.iter().map(|&(_, w)| w).sum();
        let mut all = vec![0f32; self.n_items];
        self.item_item.add_rows(&mut all, weights, folded);
        let per_weight = total_weight.max(f32::MIN_POSITIVE);
        all.iter_mut().for_each(|v| *v = (*v / per_weight).max(0.0));
        all
    }

    /// The content rows of one user, as [`BatchContent::user`] gives them for a batch: per
    /// layer with the user's mean, the dot products with the layer's items (each the same
    /// `dot` as the batch's, so one user's list is the same either way, to the bit).
    pub(super) fn user_content(&self, weights: &[(u32, f32)]) -> Vec<Option<Vec<f32>>> {
        let (means, has_mean) = self.layer_means(weights);
        (0..self.n_layers)
            .map(|l| {
                has_mean[l].then(|| {
                    layer_dots(
                        &self.layer_items[l],
                        &self.item_layer,
                        &means,
                        &has_mean,
                        &self.vectors,
                        self.dim,
                    )
                })
            })
            .collect()
    }

    /// The evidence of the candidates that can reach a user's lists when `blend` scores them
    /// and the lists rank `depth` deep ([`super::ranking`]): every unseen item of the layers
    /// the history touches (with `content`, per layer, the dot products with its items), every
    /// item with collaborative evidence, and the best 2 × `depth` of the rest, which have
    /// popularity alone (ties included). Each kind is scaled by its largest value, which the
    /// items left out (0 content, 0 collaborative) cannot hold: every score is the one
    /// [`Model::evidence`] gives.
    pub(super) fn list_evidence(
        &self,
        weights: &[(u32, f32)],
        content: &[Option<&[f32]>],
        blend: &Blend,
        depth: usize,
        folded: Option<&FoldedIn>,
    ) -> Evidence {
        let mut seen: Vec<u32> = weights.iter().map(|&(i, _)| i).collect();
        seen.sort_unstable();
        let mut touched = vec![false; self.n_layers];
        for &i in &seen {
            touched[self.item_layer[i as usize]] = true;
        }
        let collaborative_all = self.collaborative_all(weights, folded);
        let mut evidence = Evidence::with_capacity(self.content_len(weights) + 2 * depth);
        for l in (0..self.n_layers).filter(|&l| touched[l]) {
            let row = content[l];
            let mut next_seen = seen.iter().peekable();
            for (p, &j) in self.layer_items[l].iter().enumerate() {
                while next_seen.next_if(|&&s| s < j).is_some() {}
                if next_seen.next_if_eq(&&j).is_some() {
                    continue;
                }
                evidence.candidates.push(j);
                evidence.content.push(row.map_or(0.0, |r| r[p].max(0.0)));
                evidence.collaborative.push(collaborative_all[j as usize]);
                evidence.popularity.push(self.popularity[j as usize]);
            }
        }
        let untouched = |j: u32| !touched[self.item_layer[j as usize]];
        for (j, &c) in collaborative_all.iter().enumerate() {
            if c > 0.0 && untouched(j as u32) {
                evidence.candidates.push(j as u32);
                evidence.content.push(0.0);
                evidence.collaborative.push(c);
                evidence.popularity.push(self.popularity[j]);
            }
        }
        // The rest score `blend.popularity × popularity`: best first in popularity order
        // (reversed for a negative weight), in item order when popularity has no weight.
        let rest = |j: &u32| untouched(*j) && collaborative_all[*j as usize] == 0.0;
        let by_item = 0..self.n_items as u32;
        let order: Box<dyn Iterator<Item = u32> + '_> = if blend.popularity > 0.0 {
            Box::new(self.by_popularity.iter().copied())
        } else if blend.popularity < 0.0 {
            Box::new(self.by_popularity.iter().rev().copied())
        } else {
            Box::new(by_item)
        };
        let score = |j: u32| blend.popularity * self.popularity[j as usize];
        let mut last = None;
        for (taken, j) in order.filter(rest).enumerate() {
            if taken >= 2 * depth && last != Some(score(j)) {
                break;
            }
            last = Some(score(j));
            evidence.candidates.push(j);
            evidence.content.push(0.0);
            evidence.collaborative.push(0.0);
            evidence.popularity.push(self.popularity[j as usize]);
        }
        scale_to_unit(&mut evidence.content);
        scale_to_unit(&mut evidence.collaborative);
        evidence
    }

    /// How many content values a user's lists need: the items of the layers their history
    /// touches.
    pub(super) fn content_len(&self, weights: &[(u32, f32)]) -> usize {
        let mut touched = vec![false; self.n_layers];
        for &(i, _) in weights {
            touched[self.item_layer[i as usize]] = true;
        }
        (0..self.n_layers)
            .filter(|&l| touched[l])
            .map(|l| self.layer_items[l].len())
            .sum()
    }

    /// Content evidence of a batch of users: per layer, blocks of users' means against the
    /// layer's item vectors, so each item vector is read once per block rather than once per
    /// user. Each value is the same [`crate::linalg::dot`] as [`Model::user_content`]'s.
    pub(super) fn batch_content(&self, weights: &[Vec<(u32, f32)>]) -> BatchContent {
        let d = self.dim;
        let means: Vec<(Vec<f32>, Vec<bool>)> =
            weights.par_iter().map(|w| self.layer_means(w)).collect();
        let layers = (0..self.n_layers)
            .into_par_iter()
            .map(|layer| {
                let items = &self.layer_items[layer];
                let mut rows = vec![u32::MAX; weights.len()];
                let mut user_rows = Vec::new();
                for (u, (mean, has_mean)) in means.iter().enumerate() {
                    if has_mean[layer] {
                        rows[u] = (user_rows.len() / d.max(1)) as u32;
                        user_rows.extend_from_slice(&mean[layer * d..(layer + 1) * d]);
                    }
                }
                let mut dots = vec![0f32; user_rows.len() / d.max(1) * items.len()];
                if !items.is_empty() {
                    dots.par_chunks_mut(USER_BLOCK * items.len())
                        .zip(user_rows.par_chunks(USER_BLOCK * d.max(1)))
                        .for_each(|(out, block)| block_dots(block, items, &self.vectors, d, out));
                }
                (rows, dots)
            })
            .collect();
        BatchContent { layers }
    }
}
