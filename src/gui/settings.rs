use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::embed::{EmbedderRequest, MULTILINGUAL_MODEL, ModelQueryRequest};
use crate::memory::MemoryBudget;
use crate::recommend::{ProfileParams, Weighting};

/// What the app remembers between runs. New fields need `#[serde(default)]` semantics,
/// which the struct-level attribute gives, so older saved settings still load.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The project open when the app last closed; reopened at start.
    pub last_project: Option<PathBuf>,
    /// Recently opened projects, newest first.
    pub recent_projects: Vec<PathBuf>,
    /// The view shown in the middle of the window.
    pub tab: Tab,
    /// Which model embeds the items.
    pub model: ModelChoice,
    /// What one interaction weighs in a user's profile (evaluation and the Users view).
    pub weighting: Weighting,
    /// Start exported CSV files with a UTF-8 byte-order mark, so Excel reads Chinese right.
    pub export_bom: bool,
    /// What the big work (layers, the recommender, the evaluation) may hold, in MB; `None`
    /// for the automatic budget (`STRATA_MEMORY_BUDGET`, else a quarter of physical memory).
    pub memory_budget_mb: Option<u64>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            last_project: None,
            recent_projects: Vec::new(),
            tab: Tab::default(),
            model: ModelChoice::default(),
            weighting: Weighting::default(),
            export_bom: true,
            memory_budget_mb: None,
        }
    }
}

/// Which model embeds the items.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ModelChoice {
    /// all-MiniLM-L6-v2 from `$STRATA_MODEL_DIR` or the Hugging Face cache (downloaded when
    /// missing); the LSA fallback, with a warning, when it cannot be found.
    #[default]
    Default,
    /// A folder with config.json, tokenizer.json and model.safetensors.
    Folder(PathBuf),
    /// paraphrase-multilingual-MiniLM-L12-v2 from the Hugging Face cache (downloaded when
    /// missing): reads Chinese and about 50 other languages.
    Multilingual,
    /// TF-IDF + SVD over the catalogue's words: no model needed, weaker.
    Lsa,
}

impl ModelChoice {
    /// What the core's embedder choice is asked for.
    pub fn request(&self) -> EmbedderRequest {
        match self {
            ModelChoice::Default => EmbedderRequest::Model(ModelQueryRequest::default()),
            ModelChoice::Folder(dir) => EmbedderRequest::Model(ModelQueryRequest {
                repo: None,
                dir: Some(dir.clone()),
            }),
            ModelChoice::Multilingual => EmbedderRequest::Model(ModelQueryRequest {
                repo: Some(MULTILINGUAL_MODEL.to_owned()),
                dir: None,
            }),
            ModelChoice::Lsa => EmbedderRequest::Lsa,
        }
    }
}

/// The views of the main area.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Tab {
    #[default]
    Import,
    Map,
    Users,
    Quality,
}

impl Tab {
    pub const ALL: [Tab; 4] = [Tab::Import, Tab::Map, Tab::Users, Tab::Quality];

    pub fn shortcut(self) -> &'static str {
        match self {
            Tab::Import => "Ctrl+I",
            Tab::Map => "Ctrl+M; Ctrl+F searches it",
            Tab::Users => "Ctrl+U; Ctrl+E exports every user's recommendations",
            Tab::Quality => "Ctrl+L",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Tab::Import => "Import",
            Tab::Map => "Map",
            Tab::Users => "Users",
            Tab::Quality => "Quality",
        }
    }
}

impl Settings {
    pub const STORAGE_KEY: &'static str = "strata.settings";
    const MAX_RECENT: usize = 8;

    /// How histories are weighed for the evaluation, the Users view and the exports.
    pub fn profile(&self) -> ProfileParams {
        ProfileParams {
            weighting: self.weighting,
            ..ProfileParams::default()
        }
    }

    /// The memory budget work started now respects (`None`: the automatic one).
    pub fn memory_budget(&self) -> Option<MemoryBudget> {
        self.memory_budget_mb.map(|mb| MemoryBudget {
            bytes: mb.saturating_mul(1_000_000),
        })
    }

    pub fn remember_project(&mut self, path: PathBuf) {
        self.recent_projects.retain(|p| *p != path);
        self.recent_projects.insert(0, path.clone());
        self.recent_projects.truncate(Self::MAX_RECENT);
        self.last_project = Some(path);
    }
}
