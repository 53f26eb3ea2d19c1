//! Per-layer recommendations with reasons, and their offline evaluation against baselines.
//!
//! The core knows nothing of the store: [`Interactions`] and a layer run's item arrays go in,
//! lists and metrics come out. `project.rs` is the glue to a project file.

mod data;
mod evaluate;
mod ials;
mod item_model;
mod kept_fit;
mod local_models;
mod model;
mod neighbours;
mod project;

pub use data::{Event, Interactions, RawInteraction, Weighting};
pub use evaluate::{
    CUTOFF, Catalogue, Comparison, Evaluation, Method, Metrics, Split, Tuned, diversity, evaluate,
};
pub use kept_fit::{EXTEND_MAX_SHARE, KEEP_MAX_BYTES, KEPT_FIT_FORMAT};
pub use local_models::LOCAL_MODELS_STAGE;
pub use model::{
    Blend, FACTORS_STAGE, ITEM_MODEL_STAGE, LayerStrength, Model, ModelMix, ProfileParams,
    RecommendParams, Recommendation, UserRecommendations,
};
pub use project::{
    BLEND_KEY, EVALUATION_KEY, FitOrigin, LayerList, ProjectRecommender, READ_STAGE,
    RecommendError, RecommendationRow, StoredEvaluation, UserLists, evaluate_project,
    latest_evaluation, project_blend, project_free_share, project_params,
};
