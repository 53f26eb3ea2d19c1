//! Sparse item–item models: each item's top neighbours, computed from the histories'
//! co-occurrences item by item, so no n × n matrix is ever formed. Memory is n × k entries and
//! time is Σ over users of their history length squared, both about linear in the catalogue
//! for a shop's short histories (issue 15).
//!
//! Two weightings share the walk: the cosine of the binary user × item matrix (item-kNN, and
//! Strata's global evidence where dense EASE does not fit) and RP3beta (Paudel et al. 2017:
//! the two-step random walk item → user → item with its transition probabilities raised to α,
//! divided by the target's popularity to the power β).

use rayon::prelude::*;

use super::data::{Event, distinct_items};
use crate::linalg::in_pool;

/// Neighbours kept per item by default: the usual size of a kNN model.
pub const NEIGHBOURS: usize = 100;

/// How a co-occurrence count becomes a neighbour's weight.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Similarity {
    /// co(i, j) / √(deg i · deg j).
    Cosine,
    /// Σ over users of both: deg(i)^−α · deg(u)^−α, divided by deg(j)^β.
    Rp3Beta { alpha: f64, beta: f64 },
}

/// Each item's neighbours, rows in compressed form (CSR): row i is
/// `columns[offsets[i]..offsets[i + 1]]`, sorted by column, with its `weights`.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Neighbours {
    pub n_items: usize,
    offsets: Vec<usize>,
    columns: Vec<u32>,
    weights: Vec<f32>,
}

impl Neighbours {
    /// Whether the rows are whole for `n_items` items.
    pub fn is_consistent(&self, n_items: usize) -> bool {
        self.n_items == n_items
            && self.offsets.len() == n_items + 1
            && self.offsets.first() == Some(&0)
            && self.offsets.windows(2).all(|w| w[0] <= w[1])
            && self.offsets.last() == Some(&self.columns.len())
            && self.columns.len() == self.weights.len()
            && self.columns.iter().all(|&c| (c as usize) < n_items)
    }

    /// Bytes the rows hold.
    pub fn bytes(&self) -> u64 {
        (8 * self.offsets.len() + 4 * self.columns.len() + 4 * self.weights.len()) as u64
    }

    /// The same rows for a catalogue grown to `n_items` (not fewer): the new items have no
    /// neighbours until the next fit.
    pub fn extended(mut self, n_items: usize) -> Self {
        let end = self.offsets.last().copied().unwrap_or(0);
        self.offsets.resize(n_items.max(self.n_items) + 1, end);
        self.n_items = n_items.max(self.n_items);
        self
    }

    /// Row `item`: its neighbours and their weights, by column.
    pub fn row(&self, item: usize) -> (&[u32], &[f32]) {
        let range = self.offsets[item]..self.offsets[item + 1];
        (&self.columns[range.clone()], &self.weights[range])
    }

    /// weights[from][to], 0 when `to` is not a neighbour of `from`.
    pub fn weight(&self, from: usize, to: usize) -> f32 {
        let (columns, weights) = self.row(from);
        columns
            .binary_search(&(to as u32))
            .map_or(0.0, |at| weights[at])
    }

    /// Adds `w` × row for each `(row, w)` to `out` (n_items long).
    pub fn add_rows(&self, out: &mut [f32], rows: &[(u32, f32)]) {
        for &(row, w) in rows {
            let (columns, weights) = self.row(row as usize);
            for (&j, &v) in columns.iter().zip(weights) {
                out[j as usize] += w * v;
            }
        }
    }
}

/// Who bought what, both ways, each (user, item) pair once.
pub struct Incidence {
    n_items: usize,
    /// Per user, their distinct items, sorted.
    user_items: Vec<Vec<u32>>,
    /// Per item, its users.
    item_users: Vec<Vec<u32>>,
}

impl Incidence {
    pub fn new(histories: &[Vec<Event>], n_items: usize) -> Self {
        let user_items: Vec<Vec<u32>> = histories.iter().map(|h| distinct_items(h)).collect();
        let mut item_users = vec![Vec::new(); n_items];
        for (u, items) in user_items.iter().enumerate() {
            for &i in items {
                item_users[i as usize].push(u as u32);
            }
        }
        Self {
            n_items,
            user_items,
            item_users,
        }
    }

    /// Each item's `k` strongest neighbours under `similarity` (ties to the lower item;
    /// nothing for an item no user has, and never the item itself).
    pub fn neighbours(&self, similarity: Similarity, k: usize) -> Neighbours {
        let n = self.n_items;
        let degree = |i: usize| self.item_users[i].len() as f64;
        let user_weight: Vec<f64> = match similarity {
            Similarity::Cosine => vec![1.0; self.user_items.len()],
            Similarity::Rp3Beta { alpha, .. } => self
                .user_items
                .iter()
                .map(|items| (items.len().max(1) as f64).powf(-alpha))
                .collect(),
        };
        let target_factor: Vec<f64> = (0..n)
            .map(|j| match similarity {
                Similarity::Cosine => 1.0 / degree(j).max(1.0).sqrt(),
                Similarity::Rp3Beta { beta, .. } => degree(j).max(1.0).powf(-beta),
            })
            .collect();
        let source_factor = |i: usize| match similarity {
            Similarity::Cosine => 1.0 / degree(i).max(1.0).sqrt(),
            Similarity::Rp3Beta { alpha, .. } => degree(i).max(1.0).powf(-alpha),
        };
        let rows: Vec<Vec<(u32, f32)>> = in_pool(|| {
            (0..n)
                .into_par_iter()
                .map_init(
                    || (vec![0f64; n], Vec::<u32>::new()),
                    |(sums, touched), i| {
                        for &u in &self.item_users[i] {
                            let w = user_weight[u as usize];
                            for &j in &self.user_items[u as usize] {
                                if j as usize == i {
                                    continue;
                                }
                                if sums[j as usize] == 0.0 {
                                    touched.push(j);
                                }
                                sums[j as usize] += w;
                            }
                        }
                        let from = source_factor(i);
                        let mut row: Vec<(u32, f32)> = touched
                            .iter()
                            .map(|&j| {
                                let value = sums[j as usize] * from * target_factor[j as usize];
                                sums[j as usize] = 0.0;
                                (j, value as f32)
                            })
                            .collect();
                        touched.clear();
                        keep_strongest(&mut row, k);
                        row
                    },
                )
                .collect()
        });
        let mut model = Neighbours {
            n_items: n,
            offsets: Vec::with_capacity(n + 1),
            columns: Vec::with_capacity(rows.iter().map(Vec::len).sum()),
            weights: Vec::new(),
        };
        model.weights.reserve(model.columns.capacity());
        model.offsets.push(0);
        for row in rows {
            for (j, w) in row {
                model.columns.push(j);
                model.weights.push(w);
            }
            model.offsets.push(model.columns.len());
        }
        model
    }
}

/// Keeps the `k` largest weights of `row` (ties to the lower column), sorted by column.
fn keep_strongest(row: &mut Vec<(u32, f32)>, k: usize) {
    let stronger = |a: &(u32, f32), b: &(u32, f32)| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0));
    if row.len() > k {
        if k == 0 {
            row.clear();
            return;
        }
        row.select_nth_unstable_by(k - 1, stronger);
        row.truncate(k);
    }
    row.sort_unstable_by_key(|&(j, _)| j);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 40 users over 12 items, overlapping windows with repeats, seeded by arithmetic.
    fn histories() -> Vec<Vec<Event>> {
        (0..40u32)
            .map(|u| {
                (0..12u32)
                    .filter(|i| (u * 7 + i * 3) % 5 < 2 || (u + i) % 11 == 0)
                    .flat_map(|i| [Event::bought(i), Event::bought(i)])
                    .collect()
            })
            .collect()
    }

    /// The dense reference: every pair's weight from the binary matrix, as the formula says.
    fn dense(histories: &[Vec<Event>], n: usize, similarity: Similarity) -> Vec<Vec<f64>> {
        let bought = |u: usize, i: usize| histories[u].iter().any(|e| e.item as usize == i);
        let degree = |i: usize| (0..histories.len()).filter(|&u| bought(u, i)).count() as f64;
        let length = |u: usize| (0..n).filter(|&i| bought(u, i)).count() as f64;
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| {
                        if i == j {
                            return 0.0;
                        }
                        let both = (0..histories.len()).filter(|&u| bought(u, i) && bought(u, j));
                        match similarity {
                            Similarity::Cosine => {
                                both.count() as f64 / (degree(i) * degree(j)).sqrt()
                            }
                            Similarity::Rp3Beta { alpha, beta } => {
                                both.map(|u| degree(i).powf(-alpha) * length(u).powf(-alpha))
                                    .sum::<f64>()
                                    / degree(j).powf(beta)
                            }
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn sparse_neighbours_equal_the_dense_reference_issue_15() {
        let histories = histories();
        let incidence = Incidence::new(&histories, 12);
        for similarity in [
            Similarity::Cosine,
            Similarity::Rp3Beta {
                alpha: 0.8,
                beta: 0.3,
            },
        ] {
            let reference = dense(&histories, 12, similarity);
            // All neighbours: every weight equals the reference's.
            let all = incidence.neighbours(similarity, 12);
            for (i, row) in reference.iter().enumerate() {
                for (j, &expected) in row.iter().enumerate() {
                    let got = all.weight(i, j);
                    assert!(
                        (f64::from(got) - expected).abs() < 1e-5,
                        "{similarity:?} {i}→{j}: {got} vs {expected}"
                    );
                }
            }
            // Top 3: three of the reference's nonzero weights, none weaker than one left out
            // (equal weights may round either way).
            let top = incidence.neighbours(similarity, 3);
            for (i, row) in reference.iter().enumerate() {
                let nonzero = row.iter().filter(|&&v| v > 0.0).count();
                let (columns, weights) = top.row(i);
                assert_eq!(columns.len(), nonzero.min(3), "{similarity:?} row {i}");
                assert!(columns.windows(2).all(|w| w[0] < w[1]), "sorted by column");
                let weakest_kept = weights.iter().copied().fold(f32::INFINITY, f32::min);
                for (j, &v) in row.iter().enumerate() {
                    if !columns.contains(&(j as u32)) {
                        assert!(
                            v <= f64::from(weakest_kept) + 1e-6,
                            "{similarity:?} row {i}: {j} ({v}) left out for {weakest_kept}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn rows_add_into_scores_and_missing_entries_are_zero() {
        let histories = vec![
            vec![Event::bought(0), Event::bought(1)],
            vec![Event::bought(1), Event::bought(2)],
            vec![Event::bought(3)],
        ];
        let model = Incidence::new(&histories, 4).neighbours(Similarity::Cosine, 10);
        assert_eq!(model.row(3).0, &[] as &[u32], "item 3 shares no user");
        assert_eq!(model.weight(0, 2), 0.0);
        let mut out = vec![0f32; 4];
        model.add_rows(&mut out, &[(0, 2.0), (2, 1.0)]);
        // 0→1 and 2→1 are both 1 / √(1 · 2).
        assert!((out[1] - 3.0 / 2f32.sqrt()).abs() < 1e-6, "{out:?}");
        assert_eq!((out[0], out[2], out[3]), (0.0, 0.0, 0.0));
    }
}
