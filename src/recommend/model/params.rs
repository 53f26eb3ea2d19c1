//! What a recommendation is asked for and what it gives: profile and list settings, the
//! blend of evidence, and one user's lists.

use serde::{Deserialize, Serialize};

use crate::memory::MemoryBudget;
use crate::recommend::data::Weighting;

/// How a history becomes a profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProfileParams {
    pub weighting: Weighting,
    /// An interaction this many days older than the user's latest counts half.
    pub half_life_days: f64,
}

impl Default for ProfileParams {
    fn default() -> Self {
        Self {
            weighting: Weighting::One,
            half_life_days: 180.0,
        }
    }
}

/// Weights of the three kinds of evidence in a recommendation's score. Each kind is scaled
/// to 0..=1 over the user's candidates first, so the weights compare.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Blend {
    pub content: f32,
    pub collaborative: f32,
    pub popularity: f32,
}

impl Default for Blend {
    /// Between what validation chose on Online Retail (content 0.25, popularity 0.25) and
    /// MovieLens (content 1, popularity 0); `strata evaluate` chooses a project's own.
    fn default() -> Self {
        Self {
            content: 0.5,
            collaborative: 1.0,
            popularity: 0.25,
        }
    }
}

/// How the collaborative evidence mixes the global item model (EASE, or each item's top
/// neighbours) with the layers' local EASE models ([`crate::recommend`]'s `local_models`) and
/// iALS's scores (its item vectors, each history folded in). Each user's collaborative
/// evidence is scaled to 0..=1 after mixing, so only the ratios count.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ModelMix {
    pub global: f32,
    pub local: f32,
    pub factors: f32,
}

impl Default for ModelMix {
    /// The global model alone, as before issue 15; `strata evaluate` chooses a project's own.
    fn default() -> Self {
        Self {
            global: 1.0,
            local: 0.0,
            factors: 0.0,
        }
    }
}

/// What to recommend.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RecommendParams {
    pub profile: ProfileParams,
    pub blend: Blend,
    /// Items per layer in the per-layer lists.
    pub per_layer: usize,
    /// Length of the merged list.
    pub list_len: usize,
    /// The merged list holds at least one item from each of this many strongest layers.
    pub top_layers: usize,
    /// Share of the merged list's places (after the top layers' one each) left to the best
    /// candidates of any layer, the user's other layers included; the rest are shared by
    /// strength. 0 gives plain quotas; `strata evaluate` chooses it on validation.
    pub free_share: f64,
    /// What the item–item models may hold: dense EASE only where it fits.
    #[serde(skip)]
    pub budget: MemoryBudget,
}

impl Default for RecommendParams {
    fn default() -> Self {
        Self {
            profile: ProfileParams::default(),
            blend: Blend::default(),
            per_layer: 5,
            list_len: 10,
            top_layers: 3,
            // Validation chose 0.6 on both shared datasets.
            free_share: 0.6,
            budget: MemoryBudget::default(),
        }
    }
}

/// One recommended item.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Recommendation {
    pub item: u32,
    pub layer: usize,
    pub score: f32,
    /// The history item that contributes most to the score.
    pub reason: Option<u32>,
}

/// A layer of a user's profile.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LayerStrength {
    pub layer: usize,
    /// Weighted share of the history in this layer (the strengths sum to 1).
    pub strength: f64,
    /// Share of the layer's weight in each of its sub-layers.
    pub sublayers: Vec<f64>,
}

/// Everything shown for one user.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct UserRecommendations {
    /// Layers with any weight, strongest first.
    pub layers: Vec<LayerStrength>,
    /// Per layer (same order as `layers`), best first.
    pub per_layer: Vec<Vec<Recommendation>>,
    /// The merged list: quotas by strength, each top layer represented, best first.
    pub merged: Vec<Recommendation>,
}
