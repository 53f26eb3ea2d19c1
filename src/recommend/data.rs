//! Histories in index form: every user's events as (item index, time, value), items numbered
//! in catalogue order (the order of the vectors and of the layer run).

use std::collections::HashMap;

/// One interaction, ready for arithmetic.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    /// Index into the catalogue.
    pub item: u32,
    /// Unix seconds; `i64::MIN` when the file gave no time (it then counts as the oldest).
    pub ts: i64,
    /// Quantity or rating, as the profile's weighting asks; 1 when absent.
    pub value: f32,
}

#[cfg(test)]
impl Event {
    /// One interaction with `item` at time 0, value 1: the tests' histories.
    pub fn bought(item: u32) -> Self {
        Self {
            item,
            ts: 0,
            value: 1.0,
        }
    }
}

/// The distinct items of `events`, sorted.
pub fn distinct_items(events: &[Event]) -> Vec<u32> {
    let mut items: Vec<u32> = events.iter().map(|e| e.item).collect();
    items.sort_unstable();
    items.dedup();
    items
}

/// What an interaction weighs in a profile, before recency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weighting {
    /// Every interaction counts 1.
    #[default]
    One,
    /// The ordered quantity (negative or missing counts 1).
    Quantity,
    /// The rating (missing counts 1).
    Rating,
}

/// All users' histories.
#[derive(Clone, Debug, Default)]
pub struct Interactions {
    pub user_ids: Vec<String>,
    /// Per user, oldest first.
    pub events: Vec<Vec<Event>>,
    pub n_items: usize,
}

/// One raw row as the store gives it.
pub struct RawInteraction<'a> {
    pub user_id: &'a str,
    pub item_key: i64,
    pub ts: Option<i64>,
    pub quantity: Option<f64>,
    pub rating: Option<f64>,
}

impl Interactions {
    /// Builds the index form from raw rows; `item_keys` is the catalogue order. Rows whose
    /// item is not in `item_keys` are skipped (they cannot be scored).
    pub fn from_rows<'a>(
        rows: impl IntoIterator<Item = RawInteraction<'a>>,
        item_keys: &[i64],
        weighting: Weighting,
    ) -> Self {
        let index: HashMap<i64, u32> = item_keys
            .iter()
            .enumerate()
            .map(|(i, &key)| (key, i as u32))
            .collect();
        let mut users: HashMap<String, usize> = HashMap::new();
        let mut out = Self {
            n_items: item_keys.len(),
            ..Self::default()
        };
        for row in rows {
            let Some(&item) = index.get(&row.item_key) else {
                continue;
            };
            let user = *users.entry(row.user_id.to_owned()).or_insert_with(|| {
                out.user_ids.push(row.user_id.to_owned());
                out.events.push(Vec::new());
                out.user_ids.len() - 1
            });
            let raw = match weighting {
                Weighting::One => None,
                Weighting::Quantity => row.quantity,
                Weighting::Rating => row.rating,
            };
            let value = raw
                .filter(|v| v.is_finite() && *v > 0.0)
                .map_or(1.0, |v| v as f32);
            out.events[user].push(Event {
                item,
                ts: row.ts.unwrap_or(i64::MIN),
                value,
            });
        }
        for events in &mut out.events {
            events.sort_by_key(|e| (e.ts, e.item));
        }
        out
    }

    pub fn user_index(&self, user_id: &str) -> Option<usize> {
        self.user_ids.iter().position(|u| u == user_id)
    }
}
