//! What changed between two layer runs, in numbers and in plain words: items added per layer,
//! items that moved, layers born, gone, split or merged, and how well the items both runs hold
//! agree (adjusted Rand index). A shop that mails one list per layer needs to know what an
//! update did to those lists before it trusts them (issue 16).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::adjusted_rand_index;

/// A share of an old layer's items that, going to another layer, counts towards a split (and
/// a share of a new layer's items that, coming from one old layer, towards a merge).
pub const SPLIT_SHARE: f64 = 0.2;

/// One run's items and their layers, for comparing: item keys ascending, each item's layer id
/// (the stable id, not the position), and each id's name.
#[derive(Clone, Debug, Default)]
pub struct RunItems {
    pub run_id: i64,
    pub item_keys: Vec<i64>,
    pub layer_ids: Vec<usize>,
    pub names: BTreeMap<usize, String>,
}

/// One layer's change between two runs (ids are shown from 1, as users count).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerChange {
    pub id: usize,
    pub name: String,
    pub before: usize,
    pub after: usize,
    /// Items new to the catalogue placed in this layer.
    pub added: usize,
    /// Items of both runs that came here from another layer, and that left for one.
    pub moved_in: usize,
    pub moved_out: usize,
    /// Items no longer in the catalogue.
    pub removed: usize,
}

/// What changed from run `from_run` to run `to_run`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerChanges {
    pub from_run: i64,
    pub to_run: i64,
    pub items_before: usize,
    pub items_after: usize,
    /// Items in both runs, and how many of them kept their layer.
    pub common: usize,
    pub kept: usize,
    pub added: usize,
    pub removed: usize,
    /// Adjusted Rand index of the common items' layers (`None` under 2 common items).
    pub ari: Option<f64>,
    /// Every layer of either run, by id.
    pub layers: Vec<LayerChange>,
    pub born: Vec<usize>,
    pub gone: Vec<usize>,
    pub splits: Vec<Split>,
    pub merges: Vec<Merge>,
}

impl LayerChanges {
    /// Compares run `from` with run `to`.
    pub fn between(from: &RunItems, to: &RunItems) -> Self {
        let old: HashMap<i64, usize> = from
            .item_keys
            .iter()
            .copied()
            .zip(from.layer_ids.iter().copied())
            .collect();
        let new_keys: BTreeSet<i64> = to.item_keys.iter().copied().collect();
        let mut layers: BTreeMap<usize, LayerChange> = BTreeMap::new();
        let ids: BTreeSet<usize> = from.names.keys().chain(to.names.keys()).copied().collect();
        for &id in &ids {
            let name = to
                .names
                .get(&id)
                .or_else(|| from.names.get(&id))
                .cloned()
                .unwrap_or_default();
            layers.insert(id, LayerChange { name, ..blank(id) });
        }
        for (&key, &id) in from.item_keys.iter().zip(&from.layer_ids) {
            let change = layers.entry(id).or_insert_with(|| blank(id));
            change.before += 1;
            if !new_keys.contains(&key) {
                change.removed += 1;
            }
        }
        // Old layer -> new layer -> items, over the common items.
        let mut flows: BTreeMap<(usize, usize), usize> = BTreeMap::new();
        let (mut old_labels, mut new_labels) = (Vec::new(), Vec::new());
        let mut added = 0;
        for (&key, &id) in to.item_keys.iter().zip(&to.layer_ids) {
            layers.entry(id).or_insert_with(|| blank(id)).after += 1;
            match old.get(&key) {
                None => {
                    added += 1;
                    layers.entry(id).or_insert_with(|| blank(id)).added += 1;
                }
                Some(&was) => {
                    *flows.entry((was, id)).or_default() += 1;
                    old_labels.push(was);
                    new_labels.push(id);
                    if was != id {
                        layers.entry(id).or_insert_with(|| blank(id)).moved_in += 1;
                        layers.entry(was).or_insert_with(|| blank(was)).moved_out += 1;
                    }
                }
            }
        }
        let common = old_labels.len();
        let kept = old_labels
            .iter()
            .zip(&new_labels)
            .filter(|(a, b)| a == b)
            .count();
        let before_ids: BTreeSet<usize> = from.layer_ids.iter().copied().collect();
        let after_ids: BTreeSet<usize> = to.layer_ids.iter().copied().collect();
        let (splits, merges) = splits_and_merges(&flows);
        Self {
            from_run: from.run_id,
            to_run: to.run_id,
            items_before: from.item_keys.len(),
            items_after: to.item_keys.len(),
            common,
            kept,
            added,
            removed: from.item_keys.len() - common,
            ari: (common >= 2).then(|| adjusted_rand_index(&old_labels, &new_labels)),
            layers: layers.into_values().collect(),
            born: after_ids.difference(&before_ids).copied().collect(),
            gone: before_ids.difference(&after_ids).copied().collect(),
            splits,
            merges,
        }
    }

    /// The report in plain words, one line each.
    pub fn describe(&self) -> Vec<String> {
        let name = |id: usize| {
            self.layers
                .iter()
                .find(|l| l.id == id)
                .map_or_else(String::new, |l| format!(" \"{}\"", l.name))
        };
        let list = |ids: &[usize]| {
            ids.iter()
                .map(|id| (id + 1).to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        let mut lines = vec![format!(
            "run {} → run {}: {} items before, {} now ({} added, {} removed)",
            self.from_run,
            self.to_run,
            self.items_before,
            self.items_after,
            self.added,
            self.removed
        )];
        if self.common > 0 {
            let share = 100.0 * self.kept as f64 / self.common as f64;
            lines.push(format!(
                "{} of the {} items of both runs kept their layer ({share:.1}%), {} moved{}",
                self.kept,
                self.common,
                self.common - self.kept,
                self.ari.map_or_else(String::new, |a| format!(
                    "; agreement (adjusted Rand index) {a:.3}"
                ))
            ));
        }
        for l in &self.layers {
            let born = self.born.contains(&l.id);
            let gone = self.gone.contains(&l.id);
            if born {
                lines.push(format!(
                    "new layer {}{}: {} items ({} new, {} from other layers)",
                    l.id + 1,
                    name(l.id),
                    l.after,
                    l.added,
                    l.moved_in
                ));
            } else if gone {
                lines.push(format!(
                    "layer {}{} is gone: its {} items went to other layers{}",
                    l.id + 1,
                    name(l.id),
                    l.before,
                    if l.removed > 0 {
                        format!(" or left the catalogue ({})", l.removed)
                    } else {
                        String::new()
                    }
                ));
            } else if l.added + l.moved_in + l.moved_out + l.removed > 0 {
                let mut parts = Vec::new();
                if l.added > 0 {
                    parts.push(format!("{} new", l.added));
                }
                if l.moved_in > 0 {
                    parts.push(format!("{} moved in", l.moved_in));
                }
                if l.moved_out > 0 {
                    parts.push(format!("{} moved out", l.moved_out));
                }
                if l.removed > 0 {
                    parts.push(format!("{} removed", l.removed));
                }
                lines.push(format!(
                    "layer {}{}: {} → {} items ({})",
                    l.id + 1,
                    name(l.id),
                    l.before,
                    l.after,
                    parts.join(", ")
                ));
            }
        }
        for (old, new) in &self.splits {
            lines.push(format!("layer {} split into layers {}", old + 1, list(new)));
        }
        for (old, new) in &self.merges {
            lines.push(format!(
                "layers {} merged into layer {}",
                list(old),
                new + 1
            ));
        }
        if self.born.is_empty()
            && self.gone.is_empty()
            && self.splits.is_empty()
            && self.merges.is_empty()
        {
            lines.push("no layer was born, lost, split or merged".to_owned());
        }
        lines
    }
}

fn blank(id: usize) -> LayerChange {
    LayerChange {
        id,
        name: String::new(),
        before: 0,
        after: 0,
        added: 0,
        moved_in: 0,
        moved_out: 0,
        removed: 0,
    }
}

/// (old layer, the new layers its items went to): one split.
pub type Split = (usize, Vec<usize>);
/// (the old layers, the new layer their items went to): one merge.
pub type Merge = (Vec<usize>, usize);

/// Splits (an old layer whose common items went, at least [`SPLIT_SHARE`] each, to two or more
/// new layers) and merges (a new layer that took at least that share of each of two or more
/// old layers and for which each is at least that share), from old → new item flows.
fn splits_and_merges(flows: &BTreeMap<(usize, usize), usize>) -> (Vec<Split>, Vec<Merge>) {
    let mut out_of: BTreeMap<usize, usize> = BTreeMap::new();
    let mut into: BTreeMap<usize, usize> = BTreeMap::new();
    for (&(a, b), &count) in flows {
        *out_of.entry(a).or_default() += count;
        *into.entry(b).or_default() += count;
    }
    let share = |count: usize, of: usize| count as f64 >= SPLIT_SHARE * of as f64;
    let mut splits = Vec::new();
    for (&a, &total) in &out_of {
        let targets: Vec<usize> = flows
            .iter()
            .filter(|&(&(from, _), &count)| from == a && share(count, total))
            .map(|(&(_, to), _)| to)
            .collect();
        if targets.len() >= 2 {
            splits.push((a, targets));
        }
    }
    let mut merges = Vec::new();
    for (&b, &total) in &into {
        let sources: Vec<usize> = flows
            .iter()
            .filter(|&(&(from, to), &count)| {
                to == b && share(count, total) && share(count, out_of[&from])
            })
            .map(|(&(from, _), _)| from)
            .collect();
        if sources.len() >= 2 {
            merges.push((sources, b));
        }
    }
    (splits, merges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(run_id: i64, items: &[(i64, usize)]) -> RunItems {
        RunItems {
            run_id,
            item_keys: items.iter().map(|p| p.0).collect(),
            layer_ids: items.iter().map(|p| p.1).collect(),
            names: items
                .iter()
                .map(|p| (p.1, format!("layer{}", p.1)))
                .collect(),
        }
    }

    #[test]
    fn an_update_that_only_adds_items_keeps_everything() {
        let a = run(1, &[(1, 0), (2, 0), (3, 1), (4, 1)]);
        let b = run(2, &[(1, 0), (2, 0), (3, 1), (4, 1), (5, 1), (6, 0)]);
        let c = LayerChanges::between(&a, &b);
        assert_eq!((c.common, c.kept, c.added, c.removed), (4, 4, 2, 0));
        assert_eq!(c.ari, Some(1.0));
        assert!(c.born.is_empty() && c.gone.is_empty());
        assert!(c.splits.is_empty() && c.merges.is_empty());
        assert_eq!(c.layers[1].added, 1);
        let text = c.describe().join("\n");
        assert!(
            text.contains("4 of the 4 items of both runs kept their layer (100.0%)"),
            "{text}"
        );
        assert!(
            text.contains("layer 2 \"layer1\": 2 → 3 items (1 new)"),
            "{text}"
        );
        assert!(text.contains("no layer was born"), "{text}");
    }

    #[test]
    fn splits_merges_births_and_losses_are_named() {
        // Layer 0 splits into 0 and 2; layers 1 and 3 merge into 1; layer 3 is gone.
        let a = run(
            1,
            &[
                (1, 0),
                (2, 0),
                (3, 0),
                (4, 0),
                (5, 1),
                (6, 1),
                (7, 3),
                (8, 3),
            ],
        );
        let b = run(
            2,
            &[
                (1, 0),
                (2, 0),
                (3, 2),
                (4, 2),
                (5, 1),
                (6, 1),
                (7, 1),
                (8, 1),
            ],
        );
        let c = LayerChanges::between(&a, &b);
        assert_eq!(c.born, vec![2]);
        assert_eq!(c.gone, vec![3]);
        assert_eq!(c.splits, vec![(0, vec![0, 2])]);
        assert_eq!(c.merges, vec![(vec![1, 3], 1)]);
        assert_eq!(c.kept, 4);
        let text = c.describe().join("\n");
        assert!(text.contains("layer 1 split into layers 1, 3"), "{text}");
        assert!(text.contains("layers 2, 4 merged into layer 2"), "{text}");
        assert!(text.contains("new layer 3"), "{text}");
        assert!(text.contains("layer 4 \"layer3\" is gone"), "{text}");
    }
}
