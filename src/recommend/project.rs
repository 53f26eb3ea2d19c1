//! Recommendations and evaluation for a project file: the latest layer run, the current
//! vectors and every history, loaded once.

use super::data::{Event, Interactions, RawInteraction, Weighting};
use super::evaluate::{Catalogue, Evaluation, evaluate, factors_fit};
use super::ials::IalsParams;
use super::item_model::{ItemModel, dense_bytes};
use super::kept_fit::{
    FitInputs, FitSettings, FitState, KEEP_MAX_BYTES, KEPT_FIT_FORMAT, KeptFit, KeptFitRef,
    KeptUse, changed_users, kept_use,
};
use super::model::{
    Blend, Model, ModelMix, ProfileParams, RecommendParams, Recommendation, UserRecommendations,
    fit_bytes,
};
use crate::layers::{ProjectLayerError, project_vectors};
use crate::memory::{MemoryBudget, OverBudget};
use crate::pipeline::{Cancelled, JobContext, JobError, NextStep};
use crate::store::{ItemRow, Store, StoreError, display_name};

/// Where the blend chosen by `strata evaluate` is kept in the project.
pub const BLEND_KEY: &str = "recommend.blend";
/// Where the free share of the merged list chosen by `strata evaluate` is kept.
pub const FREE_KEY: &str = "recommend.free_share";
/// Where popularity's half-life chosen by `strata evaluate` is kept.
pub const TREND_KEY: &str = "recommend.trend_half_life_days";
/// Popularity's half-life in days before any evaluation (validation chose it on Online Retail).
pub const DEFAULT_TREND_HALF_LIFE: f64 = 14.0;
/// Where the item–item model's λ chosen by `strata evaluate` is kept.
pub const LAMBDA_KEY: &str = "recommend.lambda";
/// λ before any evaluation (the one validation chose on both shared datasets).
pub const DEFAULT_LAMBDA: f64 = 500.0;

/// What the progress of reading a project's histories and vectors is called.
pub const READ_STAGE: &str = "reading the project";

/// Meta key of the global and local item models' mix `strata evaluate` chose (JSON).
pub const MIX_KEY: &str = "recommend.model_mix";

/// Meta key of the iALS setting `strata evaluate` chose (JSON), for a mix with iALS's scores.
pub const IALS_KEY: &str = "recommend.ials";

/// Where the latest evaluation's report is kept, for the app's Quality view.
pub const EVALUATION_KEY: &str = "evaluation.latest";

/// The report of the latest `strata evaluate`, with the layer run it scored.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct StoredEvaluation {
    pub layer_run_id: i64,
    pub evaluation: Evaluation,
}

/// Why recommendations could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RecommendError {
    #[error("{path}: no layers yet")]
    NoLayers { path: String },
    #[error("{path}: the catalogue has {items} items but the latest layer run has {layered}")]
    StaleLayers {
        path: String,
        items: usize,
        layered: usize,
    },
    #[error("{path}: no histories")]
    NoHistories { path: String },
    #[error("{path}: no user {user_id:?}")]
    NoUser { path: String, user_id: String },
    #[error("{path}: {source}")]
    OverBudget {
        path: String,
        #[source]
        source: OverBudget,
    },
    #[error("{path}: the fitted recommender could not be encoded to keep: {source}")]
    KeepFit {
        path: String,
        #[source]
        source: postcard::Error,
    },
    #[error(transparent)]
    Vectors(#[from] ProjectLayerError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

impl JobError for RecommendError {
    fn is_cancelled(&self) -> bool {
        match self {
            RecommendError::Cancelled(_) => true,
            RecommendError::Vectors(e) => e.is_cancelled(),
            _ => false,
        }
    }

    fn next_step(&self) -> Option<NextStep> {
        match self {
            RecommendError::NoLayers { path } | RecommendError::StaleLayers { path, .. } => {
                Some(NextStep::Layer {
                    project: path.into(),
                })
            }
            RecommendError::NoHistories { path } => Some(NextStep::ImportHistories {
                project: path.into(),
            }),
            RecommendError::OverBudget { source, .. } => Some(NextStep::RaiseMemoryBudget {
                needed: source.needed,
            }),
            RecommendError::Vectors(e) => e.next_step(),
            RecommendError::NoUser { .. }
            | RecommendError::KeepFit { .. }
            | RecommendError::Store(_)
            | RecommendError::Cancelled(_) => None,
        }
    }
}

/// A project's recommender, fitted with the project's stored settings and ready to answer
/// for any user: the one the CLI, the app and the exports all use.
pub struct ProjectRecommender {
    pub model: Model,
    pub interactions: Interactions,
    pub items: Vec<ItemRow>,
    /// Display names of the latest run's layers.
    pub layer_names: Vec<String>,
    /// The number users see for each of the run's layers (its id + 1, carried across runs).
    pub layer_numbers: Vec<usize>,
    /// The settings its lists use ([`project_params`]).
    pub params: RecommendParams,
    /// Where its item models came from.
    pub origin: FitOrigin,
    /// Users (by index) whose histories changed since the project's kept fit was made: every
    /// user when none was kept.
    pub changed_users: Vec<usize>,
    /// What its item models were made with and from, and the layer run, to keep them.
    settings: FitSettings,
    inputs: FitInputs,
    layer_run_id: i64,
    /// The project file, for errors.
    path: String,
}

/// Where a [`ProjectRecommender`]'s item models came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FitOrigin {
    /// Fitted by this run: [`ProjectRecommender::keep`] keeps it in the project.
    Fitted,
    /// The project's kept fit, made from exactly the current histories and catalogue.
    Kept,
    /// The project's kept fit, made before the latest import and extended to the catalogue's
    /// `new_items` new items (collaborative weight for them comes with the next full fit).
    Extended { new_items: usize },
}

/// One recommendation as every edge shows it: a row of the CSV export, an entry of
/// `strata recommend --json`, a line of the app's tables.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct RecommendationRow {
    #[serde(skip)]
    pub user_id: String,
    /// Numbered from 1.
    pub layer: usize,
    pub layer_name: String,
    /// Numbered from 1 within its list.
    pub rank: usize,
    pub item_id: String,
    pub title: String,
    pub score: f32,
    /// The history item that contributes most, when one does (else it is popular there).
    pub reason_item_id: Option<String>,
    pub reason_title: Option<String>,
}

/// One of a user's layers, with its list.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct LayerList {
    /// Numbered from 1.
    pub layer: usize,
    pub layer_name: String,
    /// Weighted share of the history in this layer.
    pub strength: f64,
    pub recommendations: Vec<RecommendationRow>,
}

/// A user's lists as rows: their layers, strongest first, and the merged list.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct UserLists {
    pub user_id: String,
    pub layers: Vec<LayerList>,
    pub merged: Vec<RecommendationRow>,
}

impl UserLists {
    /// Every per-layer row, layer by layer (strongest first): the export's order.
    pub fn per_layer_rows(&self) -> impl Iterator<Item = &RecommendationRow> {
        self.layers.iter().flat_map(|l| &l.recommendations)
    }
}

/// Everything a project gives the recommender before any model is fitted.
struct ProjectData {
    layer_run_id: i64,
    item_keys: Vec<i64>,
    interactions: Interactions,
    items: Vec<ItemRow>,
    layer_names: Vec<String>,
    layer_numbers: Vec<usize>,
    vectors: Vec<f32>,
    dim: usize,
    item_layer: Vec<usize>,
    item_sublayer: Vec<usize>,
}

impl ProjectData {
    /// The latest layer run, the vectors and all histories of `store`.
    fn load(store: &Store, weighting: Weighting) -> Result<Self, RecommendError> {
        let path = store.path().display().to_string();
        let run = store
            .latest_layer_run()?
            .ok_or_else(|| RecommendError::NoLayers { path: path.clone() })?;
        let rows = store.item_layer_rows(&run)?;
        let items = store.items()?;
        if rows.len() != items.len() {
            return Err(RecommendError::StaleLayers {
                path,
                items: items.len(),
                layered: rows.len(),
            });
        }
        let item_layer: Vec<usize> = rows.iter().map(|r| r.layer_index).collect();
        let item_sublayer: Vec<usize> = rows
            .iter()
            .map(|r| (r.sublayer - 1).max(0) as usize)
            .collect();
        let (_, dim, vectors, _) = project_vectors(store)?;
        let keys = store.item_keys()?;
        let raw = store.interaction_keys()?;
        let interactions = Interactions::from_rows(
            raw.iter()
                .map(|(user_id, item_key, ts, quantity, rating)| RawInteraction {
                    user_id,
                    item_key: *item_key,
                    ts: *ts,
                    quantity: *quantity,
                    rating: *rating,
                }),
            &keys,
            weighting,
        );
        if interactions.user_ids.is_empty() {
            return Err(RecommendError::NoHistories { path });
        }
        let layer_names = run
            .run
            .layers
            .iter()
            .map(|l| display_name(&l.name))
            .collect();
        let layer_numbers = run.run.layers.iter().map(|l| l.id + 1).collect();
        Ok(Self {
            layer_run_id: run.run_id,
            item_keys: keys,
            interactions,
            items,
            layer_names,
            layer_numbers,
            vectors,
            dim,
            item_layer,
            item_sublayer,
        })
    }

    fn catalogue(&self) -> Catalogue<'_> {
        Catalogue {
            vectors: &self.vectors,
            dim: self.dim,
            item_layer: &self.item_layer,
            item_sublayer: &self.item_sublayer,
        }
    }
}

impl ProjectRecommender {
    /// Loads the latest layer run, the vectors and all histories of `store`, and fits the
    /// model with the settings `strata evaluate` chose (or the defaults), or takes the
    /// project's kept fit where it was made from exactly the same data and settings; lists
    /// weigh histories by `profile` and hold `per_layer` items per layer. Reports its stages
    /// to `job` ([`READ_STAGE`], then the fit's) and stops between them when cancelled.
    pub fn load(
        store: &Store,
        profile: ProfileParams,
        per_layer: usize,
        job: &JobContext,
    ) -> Result<Self, RecommendError> {
        Self::load_with(store, profile, per_layer, false, job)
    }

    /// As [`ProjectRecommender::load`], after an import: a kept fit the project has only
    /// appended a little to since (`kept_fit`'s `EXTEND_MAX_SHARE`) is extended to the new
    /// items instead of refitted, so the lists of [`ProjectRecommender::changed_users`] are
    /// ready at once (issue 16).
    pub fn load_updated(
        store: &Store,
        profile: ProfileParams,
        per_layer: usize,
        job: &JobContext,
    ) -> Result<Self, RecommendError> {
        Self::load_with(store, profile, per_layer, true, job)
    }

    fn load_with(
        store: &Store,
        profile: ProfileParams,
        per_layer: usize,
        extend: bool,
        job: &JobContext,
    ) -> Result<Self, RecommendError> {
        job.progress(READ_STAGE, 0, 1);
        let lambda = store
            .meta(LAMBDA_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_LAMBDA);
        let trend_half_life_days = store
            .meta(TREND_KEY)?
            .and_then(|v| v.parse().ok())
            .unwrap_or(DEFAULT_TREND_HALF_LIFE);
        let params = project_params(store, profile, per_layer)?;
        let data = ProjectData::load(store, params.profile.weighting)?;
        job.progress(READ_STAGE, 1, 1);
        job.check()?;
        // Before any evaluation: the global model alone where dense EASE fits (as validation
        // chose on both shared datasets), the layers' local models added where it does not
        // (chosen on both under a budget too small for it).
        let dense_fits = params.budget.fits(dense_bytes(
            data.interactions.events.len(),
            data.item_layer.len(),
        ));
        let mix: ModelMix = store
            .meta(MIX_KEY)?
            .and_then(|v| serde_json::from_str(&v).ok())
            .unwrap_or(if dense_fits {
                ModelMix::default()
            } else {
                ModelMix {
                    global: 1.0,
                    local: 1.0,
                    factors: 0.0,
                }
            });
        let events = &data.interactions.events;
        // iALS's scores where the mix has them and they are still affordable (the catalogue
        // may have grown since the evaluation chose them).
        let pairs: usize = events.iter().map(Vec::len).sum();
        let ials: Option<IalsParams> = store
            .meta(IALS_KEY)?
            .and_then(|v| serde_json::from_str(&v).ok())
            .filter(|p| {
                mix.factors != 0.0 && factors_fit(p, pairs, events.len(), data.item_layer.len())
            });
        let held = (data.vectors.len() * 4) as u64
            + events
                .iter()
                .map(|h| (h.len() * size_of::<Event>()) as u64)
                .sum::<u64>();
        let settings = FitSettings { lambda, mix, ials };
        let inputs = FitInputs::of(
            &data.item_keys,
            &data.interactions.user_ids,
            &data.interactions.events,
        );
        let current = FitState {
            settings: &settings,
            layer_run_id: data.layer_run_id,
            inputs: &inputs,
        };
        let (kept_model, origin, changed) =
            from_kept(store, &params.budget, held, current, events.len(), extend)?;
        let model = match kept_model {
            Some(item_model) => Model::with_item_model(
                &data.interactions.events,
                item_model,
                data.vectors,
                data.dim,
                data.item_layer,
                data.item_sublayer,
            ),
            None => {
                let what = format!(
                    "fitting the recommender of {} items and {} users",
                    data.item_layer.len(),
                    events.len()
                );
                let needed = held
                    + fit_bytes(
                        events,
                        mix,
                        ials.as_ref(),
                        &data.item_layer,
                        &data.item_sublayer,
                        &params.budget,
                    );
                params
                    .budget
                    .check(what, needed)
                    .map_err(|source| RecommendError::OverBudget {
                        path: store.path().display().to_string(),
                        source,
                    })?;
                Model::fit(
                    &data.interactions.events,
                    lambda,
                    mix,
                    ials.as_ref(),
                    &params.budget,
                    data.vectors,
                    data.dim,
                    data.item_layer,
                    data.item_sublayer,
                    job,
                )?
            }
        }
        .with_trend(&data.interactions.events, trend_half_life_days);
        Ok(Self {
            model,
            interactions: data.interactions,
            items: data.items,
            layer_names: data.layer_names,
            layer_numbers: data.layer_numbers,
            params,
            origin,
            changed_users: changed,
            settings,
            inputs,
            layer_run_id: data.layer_run_id,
            path: store.path().display().to_string(),
        })
    }

    /// Keeps this run's fit in the project for later runs ([`FitOrigin::Fitted`] ones only,
    /// and not above `kept_fit`'s `KEEP_MAX_BYTES`); true when it was kept.
    pub fn keep(&self, store: &mut Store) -> Result<bool, RecommendError> {
        let model = self.model.item_model();
        if self.origin != FitOrigin::Fitted || model.bytes() > KEEP_MAX_BYTES {
            return Ok(false);
        }
        let encoded = KeptFitRef {
            settings: &self.settings,
            layer_run_id: self.layer_run_id,
            inputs: &self.inputs,
            model,
        }
        .encode()
        .map_err(|source| RecommendError::KeepFit {
            path: self.path.clone(),
            source,
        })?;
        store.keep_fit(KEPT_FIT_FORMAT, &encoded)?;
        Ok(true)
    }

    /// The index of the user `user_id`.
    pub fn user_index(&self, user_id: &str) -> Result<usize, RecommendError> {
        self.interactions
            .user_index(user_id)
            .ok_or_else(|| RecommendError::NoUser {
                path: self.path.clone(),
                user_id: user_id.to_owned(),
            })
    }

    /// The lists of the user at index `user`.
    pub fn lists(&self, user: usize) -> UserRecommendations {
        self.model
            .recommend(&self.interactions.events[user], &self.params)
    }

    /// The lists of the user `user_id`, as rows.
    pub fn for_user(&self, user_id: &str) -> Result<UserLists, RecommendError> {
        let user = self.user_index(user_id)?;
        Ok(self.rows(user, &self.lists(user)))
    }

    /// The lists of `user` as rows, or of every user (in user order) when `None`.
    pub fn rows_for(&self, user: Option<&str>) -> Result<Vec<UserLists>, RecommendError> {
        Ok(match user {
            Some(user_id) => vec![self.for_user(user_id)?],
            None => self
                .for_all()
                .iter()
                .enumerate()
                .map(|(u, lists)| self.rows(u, lists))
                .collect(),
        })
    }

    /// The lists of `users` (indices) as rows, on all cores.
    pub fn for_users(&self, users: &[usize]) -> Vec<UserLists> {
        let histories: Vec<Vec<Event>> = users
            .iter()
            .filter_map(|&u| self.interactions.events.get(u).cloned())
            .collect();
        self.model
            .recommend_all(&histories, &self.params)
            .iter()
            .zip(users)
            .map(|(lists, &u)| self.rows(u, lists))
            .collect()
    }

    /// Every user's lists (in user order), on all cores.
    pub fn for_all(&self) -> Vec<UserRecommendations> {
        self.model
            .recommend_all(&self.interactions.events, &self.params)
    }

    /// The lists of the user at index `user` as rows, with ids, titles and names.
    pub fn rows(&self, user: usize, lists: &UserRecommendations) -> UserLists {
        let user_id = self
            .interactions
            .user_ids
            .get(user)
            .cloned()
            .unwrap_or_default();
        let row = |rank: usize, r: &Recommendation| {
            let item = &self.items[r.item as usize];
            let reason = r.reason.map(|i| &self.items[i as usize]);
            RecommendationRow {
                user_id: user_id.clone(),
                layer: self.layer_number(r.layer),
                layer_name: self.layer_name(r.layer).to_owned(),
                rank: rank + 1,
                item_id: item.item_id.clone(),
                title: item.title.clone(),
                score: r.score,
                reason_item_id: reason.map(|i| i.item_id.clone()),
                reason_title: reason.map(|i| i.title.clone()),
            }
        };
        let layers = lists
            .layers
            .iter()
            .zip(&lists.per_layer)
            .map(|(strength, recs)| LayerList {
                layer: self.layer_number(strength.layer),
                layer_name: self.layer_name(strength.layer).to_owned(),
                strength: strength.strength,
                recommendations: recs.iter().enumerate().map(|(k, r)| row(k, r)).collect(),
            })
            .collect();
        let merged = lists
            .merged
            .iter()
            .enumerate()
            .map(|(k, r)| row(k, r))
            .collect();
        UserLists {
            user_id,
            layers,
            merged,
        }
    }

    /// The title of the item at index `item`.
    pub fn title(&self, item: u32) -> &str {
        self.items
            .get(item as usize)
            .map_or("?", |row| row.title.as_str())
    }

    /// The display name of layer `layer` (a position in the run, from 0).
    pub fn layer_name(&self, layer: usize) -> &str {
        self.layer_names.get(layer).map_or("?", String::as_str)
    }

    /// The number users see for layer `layer` (a position in the run, from 0).
    pub fn layer_number(&self, layer: usize) -> usize {
        self.layer_numbers.get(layer).copied().unwrap_or(layer + 1)
    }
}

/// The project's kept fit where it may serve a run in state `current` (of `n_users` users),
/// extended to the new items where it must be and `extend` allows, with where the run's model
/// comes from and the users whose histories changed since the kept fit (all without one).
fn from_kept(
    store: &Store,
    budget: &MemoryBudget,
    held: u64,
    current: FitState<'_>,
    n_users: usize,
    extend: bool,
) -> Result<(Option<ItemModel>, FitOrigin, Vec<usize>), RecommendError> {
    let Some(kept) = read_kept(store, budget, held)? else {
        return Ok((None, FitOrigin::Fitted, (0..n_users).collect()));
    };
    let changed = changed_users(&kept.inputs, current.inputs);
    let state = FitState {
        settings: &kept.settings,
        layer_run_id: kept.layer_run_id,
        inputs: &kept.inputs,
    };
    Ok(match kept_use(state, current, &changed, extend) {
        KeptUse::AsIs => (Some(kept.model), FitOrigin::Kept, changed),
        KeptUse::Extended { n_items } => {
            let new_items = n_items - kept.inputs.item_keys.len();
            let model = kept.model.extended(n_items);
            (Some(model), FitOrigin::Extended { new_items }, changed)
        }
        KeptUse::Refit => (None, FitOrigin::Fitted, changed),
    })
}

/// The project's kept fit where it is of this build's format, fits `budget` beside the `held`
/// bytes already loaded, and decodes to a consistent model; else `None` (the run refits).
fn read_kept(
    store: &Store,
    budget: &MemoryBudget,
    held: u64,
) -> Result<Option<KeptFit>, RecommendError> {
    let Some((format, bytes)) = store.kept_fit_size()? else {
        return Ok(None);
    };
    // The encoded bytes and the model decoded from them are held at once.
    if format != KEPT_FIT_FORMAT || !budget.fits(held + 2 * bytes) {
        return Ok(None);
    }
    Ok(store
        .kept_fit()?
        .and_then(|row| KeptFit::decode(&row.model)))
}

/// Settings for a project's lists: the blend and free share `strata evaluate` chose (or the
/// defaults), with `profile` and `per_layer` items per layer.
pub fn project_params(
    store: &Store,
    profile: ProfileParams,
    per_layer: usize,
) -> Result<RecommendParams, StoreError> {
    Ok(RecommendParams {
        profile,
        blend: project_blend(store)?,
        free_share: project_free_share(store)?,
        per_layer,
        ..RecommendParams::default()
    })
}

/// The free share `strata evaluate` chose for this project, or the default.
pub fn project_free_share(store: &Store) -> Result<f64, StoreError> {
    Ok(store
        .meta(FREE_KEY)?
        .and_then(|v| v.parse().ok())
        .unwrap_or(RecommendParams::default().free_share))
}

/// The blend `strata evaluate` chose for this project, or the default.
pub fn project_blend(store: &Store) -> Result<Blend, StoreError> {
    Ok(store
        .meta(BLEND_KEY)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default())
}

/// Runs the evaluation protocol on a project, histories weighed by `profile`, and keeps the
/// chosen settings for later lists and the report for the app's Quality view.
pub fn evaluate_project(
    store: &mut Store,
    profile: &ProfileParams,
    job: &JobContext,
) -> Result<Evaluation, RecommendError> {
    job.progress("loading", 0, 1);
    let params = RecommendParams {
        profile: profile.clone(),
        ..RecommendParams::default()
    };
    // The evaluation fits its own models on each split: no model of all histories here.
    let data = ProjectData::load(store, params.profile.weighting)?;
    let evaluation = evaluate(&data.interactions.events, &data.catalogue(), &params, job)?;
    let blend = serde_json::to_string(&evaluation.tuned.blend).unwrap_or_default();
    store.set_meta(BLEND_KEY, &blend)?;
    store.set_meta(LAMBDA_KEY, &evaluation.tuned.ease_lambda.to_string())?;
    store.set_meta(
        MIX_KEY,
        &serde_json::to_string(&evaluation.tuned.mix).unwrap_or_default(),
    )?;
    store.set_meta(
        IALS_KEY,
        &serde_json::to_string(&evaluation.tuned.ials_params()).unwrap_or_default(),
    )?;
    store.set_meta(FREE_KEY, &evaluation.tuned.free_share.to_string())?;
    store.set_meta(
        TREND_KEY,
        &evaluation.tuned.trend_half_life_days.to_string(),
    )?;
    let stored = StoredEvaluation {
        layer_run_id: data.layer_run_id,
        evaluation,
    };
    store.set_meta(
        EVALUATION_KEY,
        &serde_json::to_string(&stored).unwrap_or_default(),
    )?;
    Ok(stored.evaluation)
}

/// The report of the latest evaluation, if any (one that no longer parses counts as none).
pub fn latest_evaluation(store: &Store) -> Result<Option<StoredEvaluation>, StoreError> {
    Ok(store
        .meta(EVALUATION_KEY)?
        .and_then(|v| serde_json::from_str(&v).ok()))
}
