//! Layer identity from run to run. k-means numbers its clusters in whatever order its seeds
//! found them, so without this every rebuild would renumber and recolour every layer, and a
//! user's exports, mailings and reading of the map would no longer line up (issue 16). A new
//! run's layers are matched one to one with the previous run's by centroid similarity (the
//! Hungarian assignment, which maximises the total similarity of the pairs); a matched layer
//! keeps its number, its colour and, unless its words clearly changed, its name.

use pathfinding::prelude::{Matrix, kuhn_munkres};

use super::Layer;

/// Two layers are the same layer when their centroids' cosine similarity is at least this.
/// Measured on Online Retail (all-MiniLM-L6-v2), layered on its first 11 months and rebuilt
/// from scratch after its last month was added: 14 of the 15 new layers matched an old one at
/// 0.959–1.000, while every new layer's second most similar old layer was at 0.779 or less; the
/// fifteenth ("sign · metal · clock · door") was closest to an old layer at 0.897 and is
/// reported as born, that old layer (72 items) as gone (the README's "Layers that stay").
pub const MATCH_SIMILARITY: f64 = 0.9;

/// A matched layer keeps its old name unless fewer than this share of the old name's words
/// are among the new name's words.
pub const NAME_KEPT_SHARE: f64 = 0.5;

/// Cosine similarity of two vectors (0 when either is zero).
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let (mut dot, mut aa, mut bb) = (0.0f64, 0.0f64, 0.0f64);
    for (&x, &y) in a.iter().zip(b) {
        dot += f64::from(x) * f64::from(y);
        aa += f64::from(x) * f64::from(x);
        bb += f64::from(y) * f64::from(y);
    }
    if aa == 0.0 || bb == 0.0 {
        0.0
    } else {
        dot / (aa.sqrt() * bb.sqrt())
    }
}

/// For each of `new` centroids, the index of the `old` centroid it is matched with, if any:
/// the assignment with the largest total similarity, pairs below [`MATCH_SIMILARITY`] dropped.
pub fn match_centroids(new: &[&[f32]], old: &[&[f32]]) -> Vec<Option<usize>> {
    let mut matched = vec![None; new.len()];
    if new.is_empty() || old.is_empty() {
        return matched;
    }
    // Integer weights (the similarity in millionths): kuhn_munkres wants an exact total order.
    let weight = |a: &[f32], b: &[f32]| (cosine(a, b) * 1e6).round() as i64;
    // kuhn_munkres assigns every row to a distinct column, so rows are the shorter side.
    let pairs: Vec<(usize, usize)> = if new.len() <= old.len() {
        let w = Matrix::from_fn(new.len(), old.len(), |(i, j)| weight(new[i], old[j]));
        let (_, columns) = kuhn_munkres(&w);
        columns.into_iter().enumerate().collect()
    } else {
        let w = Matrix::from_fn(old.len(), new.len(), |(j, i)| weight(new[i], old[j]));
        let (_, columns) = kuhn_munkres(&w);
        columns
            .into_iter()
            .enumerate()
            .map(|(j, i)| (i, j))
            .collect()
    };
    for (i, j) in pairs {
        if cosine(new[i], old[j]) >= MATCH_SIMILARITY {
            matched[i] = Some(j);
        }
    }
    matched
}

/// Whether a layer once named `old` and now named `new` (c-TF-IDF words) keeps its old name.
pub fn keeps_name(old: &[String], new: &[String]) -> bool {
    if old.is_empty() {
        return false;
    }
    let shared = old.iter().filter(|w| new.contains(w)).count();
    shared as f64 >= NAME_KEPT_SHARE * old.len() as f64
}

/// Gives `layers` (a new run, items labelled by position in `item_layer`) the identities of
/// `previous` (the last run's layers, whose centroids in the new run's vectors are
/// `previous_centroids`; `None` for a layer none of whose items are left): matched layers take
/// their id and, where [`keeps_name`], their name; the others get the smallest ids neither run
/// uses. The layers are then ordered by id and `item_layer` relabelled to match. Returns how
/// many layers were matched.
pub fn carry_identities(
    layers: &mut Vec<Layer>,
    item_layer: &mut [usize],
    previous: &[Layer],
    previous_centroids: &[Option<Vec<f32>>],
) -> usize {
    let new: Vec<&[f32]> = layers.iter().map(|l| l.centroid.as_slice()).collect();
    let candidates: Vec<usize> = (0..previous.len())
        .filter(|&j| previous_centroids.get(j).is_some_and(Option::is_some))
        .collect();
    let old: Vec<&[f32]> = candidates
        .iter()
        .filter_map(|&j| previous_centroids[j].as_deref())
        .collect();
    let matched: Vec<Option<usize>> = match_centroids(&new, &old)
        .into_iter()
        .map(|m| m.map(|c| candidates[c]))
        .collect();
    let mut taken: Vec<usize> = previous.iter().map(|l| l.id).collect();
    for (layer, m) in layers.iter_mut().zip(&matched) {
        if let Some(j) = *m {
            layer.id = previous[j].id;
            if keeps_name(&previous[j].name, &layer.name) {
                layer.name.clone_from(&previous[j].name);
            }
        }
    }
    let mut fresh = 0;
    for (layer, m) in layers.iter_mut().zip(&matched) {
        if m.is_none() {
            while taken.contains(&fresh) {
                fresh += 1;
            }
            layer.id = fresh;
            taken.push(fresh);
        }
    }
    order_by_id(layers, item_layer);
    matched.iter().flatten().count()
}

/// Orders `layers` by id, relabelling `item_layer` (positions) to the new order.
pub fn order_by_id(layers: &mut Vec<Layer>, item_layer: &mut [usize]) {
    let mut order: Vec<usize> = (0..layers.len()).collect();
    order.sort_by_key(|&p| layers[p].id);
    let mut position = vec![0; layers.len()];
    for (new_position, &old_position) in order.iter().enumerate() {
        position[old_position] = new_position;
    }
    for l in item_layer.iter_mut() {
        *l = position[*l];
    }
    let mut slots: Vec<Option<Layer>> = std::mem::take(layers).into_iter().map(Some).collect();
    *layers = order.iter().filter_map(|&p| slots[p].take()).collect();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn centroids(layers: &[Layer]) -> Vec<Option<Vec<f32>>> {
        layers.iter().map(|l| Some(l.centroid.clone())).collect()
    }

    fn layer(id: usize, name: &[&str], centroid: &[f32]) -> Layer {
        Layer {
            id,
            name: name.iter().map(|w| (*w).to_owned()).collect(),
            size: 1,
            silhouette: None,
            centroid: centroid.to_vec(),
            sublayers: Vec::new(),
            sub_curve: Vec::new(),
            split_at: 1,
        }
    }

    #[test]
    fn a_reordered_rebuild_keeps_every_id_and_name() {
        let previous = vec![
            layer(0, &["mug", "tea"], &[1.0, 0.0, 0.0]),
            layer(1, &["card", "xmas"], &[0.0, 1.0, 0.0]),
            layer(2, &["bag", "jumbo"], &[0.0, 0.0, 1.0]),
        ];
        // The same layers found in another order, slightly moved, one renamed a little.
        let mut layers = vec![
            layer(0, &["bag", "jumbo", "red"], &[0.05, 0.0, 1.0]),
            layer(1, &["mug", "cup"], &[1.0, 0.1, 0.0]),
            layer(2, &["card", "xmas"], &[0.0, 1.0, 0.02]),
        ];
        let mut items = vec![0, 1, 2, 0];
        assert_eq!(
            carry_identities(&mut layers, &mut items, &previous, &centroids(&previous)),
            3
        );
        let ids: Vec<usize> = layers.iter().map(|l| l.id).collect();
        assert_eq!(ids, vec![0, 1, 2]);
        assert_eq!(layers[0].name, vec!["mug", "tea"], "half the words kept");
        assert_eq!(layers[2].name, vec!["bag", "jumbo"]);
        // Items follow their layer: the bag items are now at position 2.
        assert_eq!(items, vec![2, 0, 1, 2]);
    }

    #[test]
    fn a_new_layer_gets_an_unused_id_and_a_changed_name_is_renamed() {
        let previous = vec![
            layer(0, &["mug", "tea"], &[1.0, 0.0, 0.0]),
            layer(3, &["card", "xmas"], &[0.0, 1.0, 0.0]),
        ];
        let mut layers = vec![
            layer(0, &["candle", "holder"], &[0.0, 0.0, 1.0]),
            layer(1, &["lunch", "box"], &[0.0, 0.99, 0.1]),
            layer(2, &["mug", "tea"], &[1.0, 0.0, 0.0]),
        ];
        let mut items = vec![0, 1, 2];
        assert_eq!(
            carry_identities(&mut layers, &mut items, &previous, &centroids(&previous)),
            2
        );
        let ids: Vec<usize> = layers.iter().map(|l| l.id).collect();
        // Ids 0 and 3 carried; the new layer takes 1, the smallest neither run uses.
        assert_eq!(ids, vec![0, 1, 3]);
        assert_eq!(layers[1].name, vec!["candle", "holder"]);
        assert_eq!(layers[2].name, vec!["lunch", "box"], "its words changed");
        assert_eq!(items, vec![1, 2, 0]);
    }

    #[test]
    fn dissimilar_centroids_are_not_matched() {
        let m = match_centroids(&[&[1.0, 0.0]], &[&[0.0, 1.0], &[0.5, 0.5]]);
        assert_eq!(m, vec![None], "cosine 0.71 is another layer");
        let m = match_centroids(&[&[1.0, 0.0], &[0.0, 1.0], &[0.7, 0.7]], &[&[0.0, 1.0]]);
        assert_eq!(m, vec![None, Some(0), None]);
    }
}
