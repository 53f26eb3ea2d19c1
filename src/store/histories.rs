//! The write-side form of user histories: ids interned to dense indices, events
//! as small `Copy` rows keyed by (user, item, time), each with its final store keys.
//!
//! Importers add hundreds of thousands of events. Interning keeps that to one hash
//! of a borrowed `&str` per id per row and no allocation for ids already seen.
//! Because the store plans every key up front ([`KeyPlan`]), finished events can
//! stream to the writer while parsing goes on ([`super::Store::import_with`]).

use std::sync::Arc;
use std::sync::mpsc::SyncSender;

use rustc_hash::FxHashMap;

/// Strings to dense indices, in order of first appearance.
#[derive(Debug, Default)]
pub struct Interner {
    index: FxHashMap<Arc<str>, u32>,
    strings: Vec<Arc<str>>,
}

impl Interner {
    /// The index of `s`, and whether it was new.
    pub fn intern(&mut self, s: &str) -> (u32, bool) {
        if let Some(&i) = self.index.get(s) {
            return (i, false);
        }
        let i = self.strings.len() as u32;
        let shared: Arc<str> = Arc::from(s);
        self.strings.push(Arc::clone(&shared));
        self.index.insert(shared, i);
        (i, true)
    }

    pub fn get(&self, i: u32) -> &Arc<str> {
        &self.strings[i as usize]
    }

    pub fn len(&self) -> usize {
        self.strings.len()
    }

    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = &Arc<str>> {
        self.strings.iter()
    }
}

/// Store keys for item and user ids: existing ones as stored, new ones numbered on from the
/// largest, so rows can be written before the items and users they name (in one transaction).
#[derive(Debug, Default)]
pub struct KeyPlan {
    pub(super) items: FxHashMap<Arc<str>, i64>,
    pub(super) next_item: i64,
    pub(super) users: FxHashMap<Arc<str>, i64>,
    pub(super) next_user: i64,
    /// Item ids given new keys: the batch must hold these items.
    pub(super) new_items: Vec<Arc<str>>,
}

impl KeyPlan {
    pub fn item_key(&mut self, item_id: &Arc<str>) -> i64 {
        if let Some(&key) = self.items.get(item_id) {
            return key;
        }
        self.next_item += 1;
        self.items.insert(Arc::clone(item_id), self.next_item);
        self.new_items.push(Arc::clone(item_id));
        self.next_item
    }

    fn user_key(&mut self, user_id: &Arc<str>) -> i64 {
        if let Some(&key) = self.users.get(user_id) {
            return key;
        }
        self.next_user += 1;
        self.users.insert(Arc::clone(user_id), self.next_user);
        self.next_user
    }
}

/// One event; `user`, `item` and `basket` index [`Histories`]' interners.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Event {
    pub user: u32,
    pub item: u32,
    /// Unix seconds (UTC, or the shop's wall clock when the file has no zone).
    pub ts: Option<i64>,
    pub quantity: Option<f64>,
    pub rating: Option<f64>,
    pub basket: Option<u32>,
}

/// One event ready for the table: its position in the batch and its store keys.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRow {
    pub index: u32,
    pub user_key: i64,
    pub item_key: i64,
    pub ts: Option<i64>,
    pub quantity: Option<f64>,
    pub rating: Option<f64>,
    pub basket_id: Option<Arc<str>>,
}

/// One event as read from a file, ids still strings.
#[derive(Clone, Copy, Debug, Default)]
pub struct NewEvent<'a> {
    pub user_id: &'a str,
    pub item_id: &'a str,
    pub ts: Option<i64>,
    pub quantity: Option<f64>,
    pub rating: Option<f64>,
    pub basket_id: Option<&'a str>,
}

/// Events handed to the writer at a time.
const EVENTS_PER_CHUNK: usize = 4_096;

/// Events unique by (user, item, time): a repeat merges into the first, quantities
/// adding up and the later rating and basket winning.
#[derive(Debug, Default)]
pub struct Histories {
    pub users: Interner,
    pub items: Interner,
    pub baskets: Interner,
    user_keys: Vec<i64>,
    item_keys: Vec<i64>,
    events: Vec<Event>,
    by_key: FxHashMap<(u32, u32, Option<i64>), u32>,
    pub(super) plan: KeyPlan,
    /// Where finished events go while parsing continues; `None` when not streaming.
    sink: Option<SyncSender<Vec<EventRow>>>,
    /// Events `[0, sent)` went to the sink.
    sent: usize,
    /// Sent events that a later row merged into: written again at the end.
    dirty: Vec<u32>,
}

impl Histories {
    /// Histories whose events stream to `sink` in chunks, keyed by `plan`.
    pub(super) fn streaming(plan: KeyPlan, sink: SyncSender<Vec<EventRow>>) -> Self {
        Self {
            plan,
            sink: Some(sink),
            ..Self::default()
        }
    }

    /// Adds an event; true when it merged into an earlier one with the same key.
    pub fn add(&mut self, new: NewEvent<'_>) -> bool {
        let (user, new_user) = self.users.intern(new.user_id);
        if new_user {
            let key = self.plan.user_key(self.users.get(user));
            self.user_keys.push(key);
        }
        let (item, new_item) = self.items.intern(new.item_id);
        if new_item {
            let key = self.plan.item_key(self.items.get(item));
            self.item_keys.push(key);
        }
        let basket = new.basket_id.map(|b| self.baskets.intern(b).0);
        let key = (user, item, new.ts);
        if let Some(&i) = self.by_key.get(&key) {
            let kept = &mut self.events[i as usize];
            kept.quantity = match (kept.quantity, new.quantity) {
                (Some(a), Some(b)) => Some(a + b),
                (a, b) => a.or(b),
            };
            kept.rating = new.rating.or(kept.rating);
            kept.basket = basket.or(kept.basket);
            if (i as usize) < self.sent {
                self.dirty.push(i);
            }
            return true;
        }
        self.by_key.insert(key, self.events.len() as u32);
        self.events.push(Event {
            user,
            item,
            ts: new.ts,
            quantity: new.quantity,
            rating: new.rating,
            basket,
        });
        if self.sink.is_some() && self.events.len() - self.sent >= EVENTS_PER_CHUNK {
            self.flush();
        }
        false
    }

    /// Sends the unsent events; if the writer has stopped, keeps them (the import is failing).
    fn flush(&mut self) {
        let rows = self.rows(self.sent..self.events.len());
        if let Some(sink) = &self.sink
            && sink.send(rows).is_ok()
        {
            self.sent = self.events.len();
        } else {
            self.sink = None;
        }
    }

    fn row(&self, index: usize) -> EventRow {
        let e = &self.events[index];
        EventRow {
            index: index as u32,
            user_key: self.user_keys[e.user as usize],
            item_key: self.item_keys[e.item as usize],
            ts: e.ts,
            quantity: e.quantity,
            rating: e.rating,
            basket_id: e.basket.map(|b| Arc::clone(self.baskets.get(b))),
        }
    }

    fn rows(&self, range: std::ops::Range<usize>) -> Vec<EventRow> {
        range.map(|i| self.row(i)).collect()
    }

    /// Events not yet sent to the writer.
    pub(super) fn unsent_rows(&self) -> Vec<EventRow> {
        self.rows(self.sent..self.events.len())
    }

    /// Sent events changed by later rows, in their final form.
    pub(super) fn dirty_rows(&mut self) -> Vec<EventRow> {
        self.dirty.sort_unstable();
        self.dirty.dedup();
        self.dirty.iter().map(|&i| self.row(i as usize)).collect()
    }

    /// Stops streaming: the writer is told no more chunks come.
    pub(super) fn close_sink(&mut self) {
        self.sink = None;
    }

    /// The events in file order (of each key's first row).
    pub fn events(&self) -> &[Event] {
        &self.events
    }

    pub fn len(&self) -> usize {
        self.events.len()
    }

    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(user_id: &str, ts: Option<i64>, quantity: f64) -> NewEvent<'_> {
        NewEvent {
            user_id,
            item_id: "a",
            ts,
            quantity: Some(quantity),
            ..NewEvent::default()
        }
    }

    #[test]
    fn merges_by_user_item_time() {
        let mut h = Histories::default();
        assert!(!h.add(e("u1", Some(1), 2.0)));
        assert!(!h.add(e("u2", Some(1), 1.0)));
        assert!(h.add(e("u1", Some(1), 3.0)));
        assert!(!h.add(e("u1", None, 1.0)));
        assert!(h.add(e("u1", None, 1.0)));
        let q: Vec<_> = h
            .events()
            .iter()
            .map(|e| (&**h.users.get(e.user), e.quantity))
            .collect();
        assert_eq!(q, [("u1", Some(5.0)), ("u2", Some(1.0)), ("u1", Some(2.0))]);
    }

    #[test]
    fn streams_chunks_and_marks_late_merges_dirty() {
        let (tx, rx) = std::sync::mpsc::sync_channel(16);
        let mut h = Histories::streaming(KeyPlan::default(), tx);
        let users: Vec<String> = (0..EVENTS_PER_CHUNK + 10)
            .map(|i| format!("u{i}"))
            .collect();
        for u in &users {
            h.add(e(u, Some(1), 1.0));
        }
        let chunk = rx.try_recv().unwrap();
        assert_eq!(chunk.len(), EVENTS_PER_CHUNK);
        assert_eq!((chunk[0].user_key, chunk[0].item_key), (1, 1));
        assert!(h.add(e("u0", Some(1), 2.0)));
        assert!(h.add(e(&users[EVENTS_PER_CHUNK], Some(1), 2.0)));
        let dirty = h.dirty_rows();
        assert_eq!(dirty.len(), 1);
        assert_eq!((dirty[0].index, dirty[0].quantity), (0, Some(3.0)));
        assert_eq!(h.unsent_rows().len(), 10);
        assert_eq!(h.plan.new_items.len(), 1);
    }
}
