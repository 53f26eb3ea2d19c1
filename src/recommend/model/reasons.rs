//! Why an item is recommended: the history item that contributes most to its score, through
//! content similarity within its layer or the item–item model.

use super::kernels::history_dots;
use super::{Blend, Model, Recommendation};
use crate::recommend::ials::FoldedIn;

impl Model {
    pub(super) fn recommendation(
        &self,
        item: u32,
        score: f32,
        weights: &[(u32, f32)],
        blend: &Blend,
        folded: Option<&FoldedIn>,
    ) -> Recommendation {
        let layer = self.item_layer[item as usize];
        let similarities = history_dots(
            &self.vectors,
            self.dim,
            weights,
            &self.item_layer,
            layer,
            self.vector(item as usize),
        );
        let collaborative = self.item_item.column_at(item as usize, weights, folded);
        let reason = weights
            .iter()
            .zip(similarities)
            .zip(collaborative)
            .map(|((&(i, w), similarity), collaborative)| {
                let same_layer = self.item_layer[i as usize] == layer;
                let content = if same_layer { similarity.max(0.0) } else { 0.0 };
                (
                    i,
                    w * (blend.content * content + blend.collaborative * collaborative),
                )
            })
            .filter(|&(_, v)| v > 0.0)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))
            .map(|(i, _)| i);
        Recommendation {
            item,
            layer,
            score,
            reason,
        }
    }
}
