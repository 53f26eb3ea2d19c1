//! Local item models: one EASE per layer over that layer's items (GLSLIM's local models,
//! Christakopoulou & Karypis 2016), so the collaborative evidence within a layer is learnt
//! from that layer's co-purchases alone, and its memory is the sum of the layers' squares
//! rather than the catalogue's (issue 15). A layer of more than [`MAX_BLOCK_ITEMS`] items, or
//! too big for the memory budget, is split by its sub-layers; a sub-layer still too big gets
//! no local model.

use std::sync::atomic::{AtomicU64, Ordering};

use rayon::prelude::*;

use super::data::Event;
use super::item_model::{ItemModel, ease_matrix};
use crate::linalg::{in_pool, threads};
use crate::memory::MemoryBudget;
use crate::pipeline::{Cancelled, JobContext};

/// Items one local model may cover: 16 MB of weights kept, 64 MB while it is solved. Bigger
/// layers are split by their sub-layers, so a 100k-item catalogue keeps its local models
/// within a few hundred MB (measured on `benches/scale.rs`: a 10k-item layer's EASE alone
/// took 1.6 GB while solved).
pub const MAX_BLOCK_ITEMS: usize = 2_000;

/// What the progress of [`LocalModels::fit`] is called.
pub const LOCAL_MODELS_STAGE: &str = "layers' item models";

/// One block: a group of items and its EASE weights (row-major over the group).
#[derive(serde::Serialize, serde::Deserialize)]
struct Block {
    items: Vec<u32>,
    /// items.len() × items.len().
    weights: Vec<f32>,
}

/// EASE per group of items: a block-diagonal item–item model.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct LocalModels {
    n_items: usize,
    /// Per item, its block and its place in it (`u32::MAX` for items without a block).
    at: Vec<(u32, u32)>,
    blocks: Vec<Block>,
    /// Groups that got no model: too big for the budget even split by sub-layers.
    pub skipped_items: usize,
}

/// Bytes one group of `m` items takes while its EASE is solved: the co-occurrences, the
/// system, its inverse and the weights.
fn block_bytes(m: usize) -> u64 {
    16 * (m as u64) * (m as u64)
}

impl LocalModels {
    /// What fitting models on `groups` holds at its peak, about: every group's weights, and
    /// the biggest group being solved on each thread.
    pub fn fit_bytes(groups: &[Vec<u32>]) -> u64 {
        let kept: u64 = groups.iter().map(|g| 4 * (g.len() as u64).pow(2)).sum();
        let biggest = groups.iter().map(Vec::len).max().unwrap_or(0);
        kept + threads() as u64 * block_bytes(biggest)
    }

    /// The groups a model is fitted on: each layer, or its sub-layers where the layer has
    /// more than [`MAX_BLOCK_ITEMS`] items or its EASE would take more than a quarter of
    /// `budget` (the others and the evaluation need the rest); groups of one item carry
    /// nothing and are left out.
    pub fn groups(
        item_layer: &[usize],
        item_sublayer: &[usize],
        budget: &MemoryBudget,
    ) -> (Vec<Vec<u32>>, usize) {
        let n_layers = item_layer.iter().max().map_or(0, |m| m + 1);
        let mut layers: Vec<Vec<u32>> = vec![Vec::new(); n_layers];
        for (i, &l) in item_layer.iter().enumerate() {
            layers[l].push(i as u32);
        }
        let limit = (budget.bytes / 4).min(block_bytes(MAX_BLOCK_ITEMS));
        let (mut groups, mut skipped) = (Vec::new(), 0);
        for layer in layers {
            if block_bytes(layer.len()) <= limit {
                groups.push(layer);
                continue;
            }
            let n_sub = layer
                .iter()
                .map(|&i| item_sublayer[i as usize] + 1)
                .max()
                .unwrap_or(0);
            let mut subs: Vec<Vec<u32>> = vec![Vec::new(); n_sub];
            for &i in &layer {
                subs[item_sublayer[i as usize]].push(i);
            }
            for sub in subs {
                if block_bytes(sub.len()) <= limit {
                    groups.push(sub);
                } else {
                    skipped += sub.len();
                }
            }
        }
        groups.retain(|g| g.len() > 1);
        (groups, skipped)
    }

    /// EASE with `lambda` over each of `groups` (item lists), learnt from `histories`;
    /// progress is counted in groups, and a cancel stops it before the next group.
    pub fn fit(
        histories: &[Vec<Event>],
        n_items: usize,
        groups: Vec<Vec<u32>>,
        skipped_items: usize,
        lambda: f64,
        job: &JobContext,
    ) -> Result<Self, Cancelled> {
        let mut at = vec![(u32::MAX, u32::MAX); n_items];
        for (b, group) in groups.iter().enumerate() {
            for (k, &i) in group.iter().enumerate() {
                at[i as usize] = (b as u32, k as u32);
            }
        }
        // Per user, their distinct items by block and place.
        let placed: Vec<Vec<(u32, u32)>> = histories
            .iter()
            .map(|events| {
                let mut items: Vec<(u32, u32)> = events
                    .iter()
                    .map(|e| at[e.item as usize])
                    .filter(|&(b, _)| b != u32::MAX)
                    .collect();
                items.sort_unstable();
                items.dedup();
                items
            })
            .collect();
        let total = groups.len() as u64;
        let done = AtomicU64::new(0);
        job.progress(LOCAL_MODELS_STAGE, 0, total);
        let blocks: Result<Vec<Block>, Cancelled> = in_pool(|| {
            groups
                .into_par_iter()
                .enumerate()
                .map(|(b, items)| {
                    job.check()?;
                    let m = items.len();
                    let mut gram = vec![0f32; m * m];
                    for user in &placed {
                        let start = user.partition_point(|&(ub, _)| (ub as usize) < b);
                        let end = user.partition_point(|&(ub, _)| (ub as usize) <= b);
                        let mine = &user[start..end];
                        for &(_, p) in mine {
                            let row = &mut gram[p as usize * m..(p as usize + 1) * m];
                            for &(_, q) in mine {
                                row[q as usize] += 1.0;
                            }
                        }
                    }
                    let weights = match ease_matrix(&gram, m, lambda) {
                        Some(ItemModel::Dense(ease)) => ease.weights,
                        // A failed factorisation leaves the block silent.
                        _ => vec![0.0; m * m],
                    };
                    job.progress(
                        LOCAL_MODELS_STAGE,
                        done.fetch_add(1, Ordering::Relaxed) + 1,
                        total,
                    );
                    Ok(Block { items, weights })
                })
                .collect()
        });
        Ok(Self {
            n_items,
            at,
            blocks: blocks?,
            skipped_items,
        })
    }

    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Whether the blocks are whole for `n_items` items.
    pub fn is_consistent(&self, n_items: usize) -> bool {
        let blocks_whole = self.blocks.iter().all(|b| {
            b.weights.len() == b.items.len() * b.items.len()
                && b.items.iter().all(|&i| (i as usize) < n_items)
        });
        let places_whole = self.at.iter().all(|&(b, p)| {
            b == u32::MAX
                || self
                    .blocks
                    .get(b as usize)
                    .is_some_and(|block| (p as usize) < block.items.len())
        });
        self.n_items == n_items && self.at.len() == n_items && blocks_whole && places_whole
    }

    /// Bytes the blocks hold.
    pub fn bytes(&self) -> u64 {
        let blocks: usize = self
            .blocks
            .iter()
            .map(|b| 4 * (b.items.len() + b.weights.len()))
            .sum();
        (8 * self.at.len() + blocks) as u64
    }

    /// The same blocks for a catalogue grown to `n_items` (not fewer): the new items are in
    /// no block until the next fit.
    pub fn extended(mut self, n_items: usize) -> Self {
        self.n_items = n_items.max(self.n_items);
        self.at.resize(self.n_items, (u32::MAX, u32::MAX));
        self
    }

    /// weights[from][to]: 0 across blocks.
    pub fn weight(&self, from: usize, to: usize) -> f32 {
        let ((b, p), (c, q)) = (self.at[from], self.at[to]);
        if b == u32::MAX || b != c {
            return 0.0;
        }
        let block = &self.blocks[b as usize];
        block.weights[p as usize * block.items.len() + q as usize]
    }

    /// Adds `w` × row for each `(row, w)` to `out` (n_items long).
    pub fn add_rows(&self, out: &mut [f32], rows: &[(u32, f32)], scale: f32) {
        for &(row, w) in rows {
            let (b, p) = self.at[row as usize];
            if b == u32::MAX {
                continue;
            }
            let block = &self.blocks[b as usize];
            let m = block.items.len();
            let weights = &block.weights[p as usize * m..(p as usize + 1) * m];
            for (&j, &v) in block.items.iter().zip(weights) {
                out[j as usize] += scale * w * v;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recommend::item_model::{binary_matrix, item_gram};

    #[test]
    fn a_layers_ease_equals_dense_ease_on_the_layers_columns_issue_15() {
        // 30 users over 10 items; layer 0 = even items, layer 1 = odd items.
        let histories: Vec<Vec<Event>> = (0..30u32)
            .map(|u| {
                (0..10u32)
                    .filter(|i| (u * 3 + i * 7) % 4 < 2)
                    .map(Event::bought)
                    .collect()
            })
            .collect();
        let item_layer: Vec<usize> = (0..10).map(|i| i % 2).collect();
        let budget = MemoryBudget { bytes: 1 << 30 };
        let (groups, skipped) = LocalModels::groups(&item_layer, &[0; 10], &budget);
        assert_eq!((groups.len(), skipped), (2, 0));
        let local =
            LocalModels::fit(&histories, 10, groups, skipped, 5.0, &JobContext::silent()).unwrap();
        for layer in 0..2u32 {
            // The reference: the histories with the other layer's items removed, items
            // renumbered, and the dense EASE of that.
            let items: Vec<u32> = (0..10).filter(|i| i % 2 == layer).collect();
            let restricted: Vec<Vec<Event>> = histories
                .iter()
                .map(|h| {
                    h.iter()
                        .filter_map(|ev| items.iter().position(|&i| i == ev.item))
                        .map(|p| Event::bought(p as u32))
                        .collect()
                })
                .collect();
            let m = items.len();
            let gram = item_gram(&binary_matrix(&restricted, m), restricted.len(), m);
            let Some(ItemModel::Dense(reference)) = ease_matrix(&gram, m, 5.0) else {
                panic!("EASE is dense")
            };
            for (p, &from) in items.iter().enumerate() {
                for (q, &to) in items.iter().enumerate() {
                    let (got, want) = (
                        local.weight(from as usize, to as usize),
                        reference.weights[p * m + q],
                    );
                    assert!((got - want).abs() < 1e-5, "{from}→{to}: {got} vs {want}");
                }
                // Nothing across layers.
                assert_eq!(local.weight(from as usize, (from as usize + 1) % 10), 0.0);
            }
        }
        let mut out = vec![0f32; 10];
        local.add_rows(&mut out, &[(0, 1.0)], 2.0);
        assert!((out[2] - 2.0 * local.weight(0, 2)).abs() < 1e-6);
        assert_eq!(out[1], 0.0);
    }

    #[test]
    fn a_layer_too_big_for_the_budget_is_split_by_its_sub_layers() {
        // 100 items in one layer, sub-layers of 50: 16 · 100² bytes is over a quarter of
        // 500 kB, 16 · 50² is not.
        let item_layer = vec![0; 100];
        let item_sublayer: Vec<usize> = (0..100).map(|i| i / 50).collect();
        let (groups, skipped) = LocalModels::groups(
            &item_layer,
            &item_sublayer,
            &MemoryBudget { bytes: 500_000 },
        );
        assert_eq!(groups.iter().map(Vec::len).collect::<Vec<_>>(), [50, 50]);
        assert_eq!(skipped, 0);
        // Under 40 kB even a sub-layer of 50 does not fit: no local model for them.
        let (groups, skipped) = LocalModels::groups(
            &item_layer,
            &item_sublayer,
            &MemoryBudget { bytes: 100_000 },
        );
        assert!(groups.is_empty());
        assert_eq!(skipped, 100);
    }
}
