//! The recommender's fit kept in the project between runs (issue 16).
//!
//! Fitting the item models is most of a recommendation run (Online Retail in release on 2
//! cores: EASE 1.1 s and iALS 3.0 s of 4.9 s), yet a day's orders change them little. The last
//! full fit is kept with what it was fitted on: the catalogue's item keys, a digest of each
//! history and the settings. A later run then
//! - uses it as it is when nothing it was fitted on has changed: the same lists as a refit;
//! - after an import that appended a little (new items after the old ones, at most
//!   [`EXTEND_MAX_SHARE`] of the items new and of the users changed), and when asked to,
//!   *extends* it: the new items get no collaborative weight until the next full fit, while
//!   everything else (vectors, layers, popularity, every history, iALS's fold-in of each
//!   history) is current, and only the users whose histories changed need new lists;
//! - refits otherwise, and the edges keep the new fit.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};

use serde::{Deserialize, Serialize};

use super::data::Event;
use super::ials::IalsParams;
use super::item_model::ItemModel;
use super::model::ModelMix;

/// The encoding's version; a kept fit of another is not read (the next run refits).
pub const KEPT_FIT_FORMAT: i64 = 1;

/// The most a kept fit may be extended by: this share of the fit's items new, or of its users
/// with changed histories (one day of Online Retail: 1 item in 3,942 and 38 customers in 4,339).
/// More than that and the models have missed too much: the run refits.
pub const EXTEND_MAX_SHARE: f64 = 0.05;

/// Fits bigger than this are not kept (the project file would grow by as much on every fit).
pub const KEEP_MAX_BYTES: u64 = 1 << 30;

/// The settings a fit was made with; a fit is used only with the same.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct FitSettings {
    pub lambda: f64,
    pub mix: ModelMix,
    pub ials: Option<IalsParams>,
}

/// What a fit was made from: the catalogue (item keys in order) and each user's history digest.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct FitInputs {
    pub item_keys: Vec<i64>,
    pub users: Vec<(String, u64)>,
}

impl FitInputs {
    /// The inputs of a fit on `histories` (users `user_ids`) over the catalogue `item_keys`.
    pub fn of(item_keys: &[i64], user_ids: &[String], histories: &[Vec<Event>]) -> Self {
        Self {
            item_keys: item_keys.to_vec(),
            users: user_ids
                .iter()
                .zip(histories)
                .map(|(user, events)| (user.clone(), history_digest(item_keys, events)))
                .collect(),
        }
    }
}

/// A digest of what a history gives the item models: its items (by key) and times. Weights do
/// not count: the item models see only who had what.
fn history_digest(item_keys: &[i64], events: &[Event]) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    for e in events {
        item_keys.get(e.item as usize).hash(&mut hasher);
        e.ts.hash(&mut hasher);
    }
    hasher.finish()
}

/// A kept fit as it is encoded: what it was made with and from, and the item model.
#[derive(Serialize, Deserialize)]
pub struct KeptFit {
    pub settings: FitSettings,
    pub layer_run_id: i64,
    pub inputs: FitInputs,
    pub model: ItemModel,
}

/// [`KeptFit`] by reference, for encoding a fit without copying its model (the same fields in
/// the same order encode the same bytes).
#[derive(Serialize)]
pub struct KeptFitRef<'a> {
    pub settings: &'a FitSettings,
    pub layer_run_id: i64,
    pub inputs: &'a FitInputs,
    pub model: &'a ItemModel,
}

impl KeptFitRef<'_> {
    pub fn encode(&self) -> Result<Vec<u8>, postcard::Error> {
        postcard::to_allocvec(self)
    }
}

impl KeptFit {
    /// `None` for bytes that are not a consistent kept fit of this format (a damaged row,
    /// another build): every index its model holds must be in range.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let kept: Self = postcard::from_bytes(bytes).ok()?;
        kept.model
            .is_consistent(kept.inputs.item_keys.len())
            .then_some(kept)
    }
}

/// How a run may use a kept fit.
#[derive(Debug, PartialEq)]
pub enum KeptUse {
    /// Made from exactly the current data with the current settings.
    AsIs,
    /// Made from an earlier state the current one only appended to: extend it to `n_items`.
    Extended { n_items: usize },
    /// Not usable: the run refits.
    Refit,
}

/// Users of `current` whose histories are not in `kept` as they are now (new users included),
/// by their index in `current`.
pub fn changed_users(kept: &FitInputs, current: &FitInputs) -> Vec<usize> {
    let before: HashMap<&str, u64> = kept.users.iter().map(|(u, d)| (u.as_str(), *d)).collect();
    current
        .users
        .iter()
        .enumerate()
        .filter(|(_, (user, digest))| before.get(user.as_str()) != Some(digest))
        .map(|(u, _)| u)
        .collect()
}

/// What a fit is made with and from: its settings, the layer run and the inputs.
#[derive(Clone, Copy)]
pub struct FitState<'a> {
    pub settings: &'a FitSettings,
    pub layer_run_id: i64,
    pub inputs: &'a FitInputs,
}

/// How the fit made in state `kept` may serve a run in state `current`, whose users `changed`
/// (from [`changed_users`]) differ from the fit's; `extend` allows [`KeptUse::Extended`].
pub fn kept_use(
    kept: FitState<'_>,
    current: FitState<'_>,
    changed: &[usize],
    extend: bool,
) -> KeptUse {
    let (before, now) = (kept.inputs, current.inputs);
    // Items must only have been appended, and every user of the fit must still be there
    // (the item models would otherwise still hold what was taken away).
    let users_now: std::collections::HashSet<&str> =
        now.users.iter().map(|(u, _)| u.as_str()).collect();
    let users_kept = before
        .users
        .iter()
        .all(|(u, _)| users_now.contains(u.as_str()));
    if kept.settings != current.settings
        || !now.item_keys.starts_with(&before.item_keys)
        || !users_kept
    {
        return KeptUse::Refit;
    }
    let new_items = now.item_keys.len() - before.item_keys.len();
    if new_items == 0 && changed.is_empty() && kept.layer_run_id == current.layer_run_id {
        return KeptUse::AsIs;
    }
    let share = |part: usize, whole: usize| part as f64 / whole.max(1) as f64;
    if extend
        && share(new_items, before.item_keys.len()) <= EXTEND_MAX_SHARE
        && share(changed.len(), before.users.len()) <= EXTEND_MAX_SHARE
    {
        KeptUse::Extended {
            n_items: now.item_keys.len(),
        }
    } else {
        KeptUse::Refit
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(items: &[i64], users: &[(&str, &[u32])]) -> FitInputs {
        let ids: Vec<String> = users.iter().map(|(u, _)| (*u).to_owned()).collect();
        let histories: Vec<Vec<Event>> = users
            .iter()
            .map(|(_, h)| h.iter().map(|&i| Event::bought(i)).collect())
            .collect();
        FitInputs::of(items, &ids, &histories)
    }

    const SETTINGS: FitSettings = FitSettings {
        lambda: 500.0,
        mix: ModelMix {
            global: 1.0,
            local: 0.0,
            factors: 0.0,
        },
        ials: None,
    };

    fn state(inputs: &FitInputs, layer_run_id: i64) -> FitState<'_> {
        FitState {
            settings: &SETTINGS,
            layer_run_id,
            inputs,
        }
    }

    fn decide(kept: &FitInputs, current: &FitInputs, run: i64, extend: bool) -> KeptUse {
        let changed = changed_users(kept, current);
        kept_use(state(kept, 1), state(current, run), &changed, extend)
    }

    #[test]
    fn the_same_data_uses_the_fit_as_it_is_and_any_change_is_seen() {
        let items: Vec<i64> = (1..=40).collect();
        let kept = inputs(&items, &[("a", &[0, 1]), ("b", &[2])]);
        assert_eq!(decide(&kept, &kept, 1, false), KeptUse::AsIs);
        // Another layer run: the local models' groups may differ.
        assert_eq!(decide(&kept, &kept, 2, false), KeptUse::Refit);
        let grown = inputs(&items, &[("a", &[0, 1, 3]), ("b", &[2])]);
        assert_eq!(changed_users(&kept, &grown), vec![0]);
        let other = FitSettings {
            lambda: 100.0,
            ..SETTINGS
        };
        let current = FitState {
            settings: &other,
            ..state(&kept, 1)
        };
        assert_eq!(
            kept_use(state(&kept, 1), current, &[], true),
            KeptUse::Refit
        );
    }

    #[test]
    fn an_appended_day_extends_the_fit_only_when_asked_and_only_a_little() {
        let items: Vec<i64> = (1..=40).collect();
        let users: Vec<(String, Vec<u32>)> =
            (0..40).map(|u| (format!("u{u}"), vec![u % 40])).collect();
        let build = |items: &[i64], users: &[(String, Vec<u32>)]| {
            let refs: Vec<(&str, &[u32])> = users
                .iter()
                .map(|(u, h)| (u.as_str(), h.as_slice()))
                .collect();
            inputs(items, &refs)
        };
        let kept = build(&items, &users);
        // One new item, one customer with a new order, one new customer.
        let mut day_items = items.clone();
        day_items.push(99);
        let mut day_users = users.clone();
        day_users[3].1.push(40);
        day_users.push(("new".into(), vec![40]));
        let day = build(&day_items, &day_users);
        assert_eq!(changed_users(&kept, &day), vec![3, 40]);
        assert_eq!(decide(&kept, &day, 2, false), KeptUse::Refit);
        assert_eq!(
            decide(&kept, &day, 2, true),
            KeptUse::Extended { n_items: 41 }
        );
        // A quarter of the customers changed: too much to extend.
        let mut busy = users.clone();
        for user in busy.iter_mut().take(10) {
            user.1.push(1);
        }
        assert_eq!(
            decide(&kept, &build(&items, &busy), 2, true),
            KeptUse::Refit
        );
        // An item taken away, or a customer gone: refit.
        assert_eq!(
            decide(&kept, &build(&items[1..], &users), 2, true),
            KeptUse::Refit
        );
        assert_eq!(
            decide(&kept, &build(&items, &users[1..]), 2, true),
            KeptUse::Refit
        );
    }

    #[test]
    fn a_kept_fit_decodes_to_what_was_encoded_and_damage_is_refused() {
        use crate::recommend::neighbours::{Incidence, Similarity};
        let histories = vec![
            vec![Event::bought(0), Event::bought(1)],
            vec![Event::bought(1)],
        ];
        let model =
            ItemModel::Sparse(Incidence::new(&histories, 3).neighbours(Similarity::Cosine, 2));
        let fit_inputs = FitInputs::of(&[10, 11, 12], &["a".into(), "b".into()], &histories);
        let encode = |inputs: &FitInputs| {
            KeptFitRef {
                settings: &SETTINGS,
                layer_run_id: 7,
                inputs,
                model: &model,
            }
            .encode()
            .unwrap()
        };
        let bytes = encode(&fit_inputs);
        let kept = KeptFit::decode(&bytes).unwrap();
        assert_eq!((kept.settings, kept.layer_run_id), (SETTINGS, 7));
        assert_eq!(kept.inputs, fit_inputs);
        assert!(kept.model.is_consistent(3));
        // Cut short, not a fit at all, or a model that does not match its catalogue.
        assert!(KeptFit::decode(&bytes[..bytes.len() / 2]).is_none());
        assert!(KeptFit::decode(b"not a fit").is_none());
        let mut wrong = fit_inputs.clone();
        wrong.item_keys.push(13);
        assert!(KeptFit::decode(&encode(&wrong)).is_none());
    }
}
