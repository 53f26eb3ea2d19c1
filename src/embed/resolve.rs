//! Finding a model, in order: an explicit folder (CLI flag or app setting), the
//! `STRATA_MODEL_DIR` folder, the Hugging Face cache (shared with Python tools,
//! no network), then a download with hf-hub. Offline, the download fails fast
//! with a message saying how to get a model; it never hangs.

use std::path::{Path, PathBuf};
#[cfg(feature = "fetch")]
use std::sync::mpsc::{RecvTimeoutError, channel};
use std::time::Duration;

use super::EmbedError;

/// The default model: English, 384 dimensions, 22M parameters.
pub const DEFAULT_MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// Files a BERT-family sentence model needs, in Hugging Face layout.
pub const MODEL_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// How long the first answer from the hub may take before we call it unreachable.
pub const HUB_TIMEOUT: Duration = Duration::from_secs(5);

/// Where a model was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ModelSource {
    /// A folder named on the command line, in the app, or by `STRATA_MODEL_DIR`.
    Folder,
    /// The Hugging Face hub cache.
    HfCache,
    /// Downloaded now.
    Downloaded,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedModel {
    /// The name shown to the user: the repo id, or the folder's name.
    pub name: String,
    pub dir: PathBuf,
    pub source: ModelSource,
}

/// Where to look, beyond the defaults. The edges (CLI, app) fill `dir` from their flag or
/// setting, else from `STRATA_MODEL_DIR` ([`ModelQuery::or_env_dir`]).
#[derive(Clone, Debug, Default)]
pub struct ModelQuery {
    /// A Hugging Face repo id; [`DEFAULT_MODEL`] when `None`.
    pub repo: Option<String>,
    /// A folder holding the model files; wins over everything else.
    pub dir: Option<PathBuf>,
    /// The hub cache folder; `HF_HUB_CACHE`, else `HF_HOME/hub`, else `~/.cache/huggingface/hub`.
    pub hf_cache: Option<PathBuf>,
    /// The hub address (tests point it at a closed port); `HF_ENDPOINT` or huggingface.co.
    pub endpoint: Option<String>,
}

impl ModelQuery {
    /// Uses `STRATA_MODEL_DIR` as the folder when none was given.
    pub fn or_env_dir(mut self) -> Self {
        if self.dir.is_none() {
            self.dir = std::env::var_os("STRATA_MODEL_DIR")
                .filter(|dir| !dir.is_empty())
                .map(PathBuf::from);
        }
        self
    }
}

/// A folder holds a model when every file in [`MODEL_FILES`] is there.
pub fn is_model_dir(dir: &Path) -> bool {
    MODEL_FILES.iter().all(|f| dir.join(f).is_file())
}

fn default_hf_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("HF_HUB_CACHE") {
        return dir.into();
    }
    hf_hub::Cache::from_env().path().clone()
}

/// Finds the model `query` asks for (see the module docs for the order).
pub fn resolve(query: &ModelQuery) -> Result<ResolvedModel, EmbedError> {
    if let Some(dir) = query.dir.clone() {
        // A folder the user named is used or refused, never silently replaced by another model.
        if let Some(missing) = MODEL_FILES.iter().find(|f| !dir.join(f).is_file()) {
            return Err(EmbedError::Model {
                path: dir.join(missing),
                reason: "missing: a model folder needs config.json, tokenizer.json and model.safetensors (Hugging Face layout)".into(),
            });
        }
        let name = dir.file_name().map_or_else(
            || dir.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        return Ok(ResolvedModel {
            name,
            dir,
            source: ModelSource::Folder,
        });
    }
    let repo = query
        .repo
        .clone()
        .unwrap_or_else(|| DEFAULT_MODEL.to_owned());
    let cache_dir = query.hf_cache.clone().unwrap_or_else(default_hf_cache);
    let cached = hf_hub::Cache::new(cache_dir.clone()).model(repo.clone());
    let found: Option<Vec<PathBuf>> = MODEL_FILES.iter().map(|f| cached.get(f)).collect();
    if let Some(dir) = found
        .as_ref()
        .and_then(|files| files.first())
        .and_then(|p| p.parent())
    {
        return Ok(ResolvedModel {
            name: repo,
            dir: dir.to_path_buf(),
            source: ModelSource::HfCache,
        });
    }
    let dir = download(&repo, &cache_dir, query.endpoint.clone()).map_err(|reason| {
        EmbedError::NotFound {
            model: repo.clone(),
            cache: cache_dir.clone(),
            reason,
        }
    })?;
    Ok(ResolvedModel {
        name: repo,
        dir,
        source: ModelSource::Downloaded,
    })
}

/// Without the `fetch` feature there is no download: the model must be in a folder or the cache.
#[cfg(not(feature = "fetch"))]
fn download(_repo: &str, _cache_dir: &Path, _endpoint: Option<String>) -> Result<PathBuf, String> {
    Err("this build of Strata does not download models".to_owned())
}

/// Downloads the model files into the hub cache on a worker thread, giving up when the
/// hub does not answer within [`HUB_TIMEOUT`] (hf-hub itself has no timeout).
#[cfg(feature = "fetch")]
fn download(repo: &str, cache_dir: &Path, endpoint: Option<String>) -> Result<PathBuf, String> {
    let (tx, rx) = channel();
    let (repo, cache_dir) = (repo.to_owned(), cache_dir.to_path_buf());
    std::thread::Builder::new()
        .name("strata-model-download".into())
        .spawn(move || {
            let result = (|| -> Result<PathBuf, String> {
                let mut builder = hf_hub::api::sync::ApiBuilder::from_env()
                    .with_cache_dir(cache_dir)
                    .with_progress(true);
                if let Some(endpoint) = endpoint {
                    builder = builder.with_endpoint(endpoint);
                }
                let api = builder.build().map_err(|e| e.to_string())?;
                let model = api.model(repo);
                let mut dir = None;
                for (i, file) in MODEL_FILES.iter().enumerate() {
                    let path = model.get(file).map_err(|e| e.to_string())?;
                    if i == 0 {
                        // The hub answered: from here on, a large download may take its time.
                        let _ = tx.send(Err(None));
                    }
                    dir = path.parent().map(Path::to_path_buf);
                }
                dir.ok_or_else(|| "the hub returned no files".to_owned())
            })();
            let _ = tx.send(result.map_err(Some));
        })
        .map_err(|e| format!("could not start the download thread: {e}"))?;
    match rx.recv_timeout(HUB_TIMEOUT) {
        Ok(Ok(dir)) => Ok(dir),
        Ok(Err(Some(reason))) => Err(reason),
        // The hub answered; wait for the rest of the files.
        Ok(Err(None)) => match rx.recv() {
            Ok(Ok(dir)) => Ok(dir),
            Ok(Err(reason)) => Err(reason.unwrap_or_else(|| "the download stopped".into())),
            Err(_) => Err("the download stopped".into()),
        },
        Err(RecvTimeoutError::Timeout) => Err(format!(
            "no answer from the hub within {} s",
            HUB_TIMEOUT.as_secs()
        )),
        Err(RecvTimeoutError::Disconnected) => Err("the download stopped".into()),
    }
}
