//! Choosing the embedder for a catalogue, once for both edges: a model folder, the Hugging
//! Face cache, a download, or the LSA fallback; and what the user should know about the
//! choice (a fallback, a language the model does not read), as data each edge words itself.

use std::path::PathBuf;

use super::resolve::{ModelQuery, resolve};
use super::{BertSentenceEmbedder, EmbedError, Embedder, LsaEmbedder};

/// Above this share of `[UNK]` tokens the model does not read the catalogue's language.
pub const UNKNOWN_TOKEN_WARNING: f64 = 0.05;

/// A sentence model that reads Chinese and about 50 other languages.
pub const MULTILINGUAL_MODEL: &str = "sentence-transformers/paraphrase-multilingual-MiniLM-L12-v2";

/// What the user asked to embed with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EmbedderRequest {
    /// A neural model found through `query` (folder, `STRATA_MODEL_DIR`, cache, download);
    /// the LSA fallback, with [`EmbedWarning::Fallback`], when none can be found.
    Model(ModelQueryRequest),
    /// The LSA fallback on purpose.
    Lsa,
}

/// The parts of a [`ModelQuery`] the user chooses: a repo id or a folder.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ModelQueryRequest {
    pub repo: Option<String>,
    pub dir: Option<PathBuf>,
}

impl ModelQueryRequest {
    /// The query, with `STRATA_MODEL_DIR` as the folder when neither a repo nor a folder
    /// was named (a named repo is looked up, not replaced by the default's folder).
    pub fn query(&self) -> ModelQuery {
        let query = ModelQuery {
            repo: self.repo.clone(),
            dir: self.dir.clone(),
            ..ModelQuery::default()
        };
        if self.repo.is_some() {
            query
        } else {
            query.or_env_dir()
        }
    }
}

/// Something about the chosen embedder the user should hear before the vectors are trusted.
#[derive(Debug)]
pub enum EmbedWarning {
    /// No neural model could be had ([`EmbedError::NotFound`]); LSA stands in.
    Fallback(EmbedError),
    /// `share` of the catalogue's tokens are `[UNK]` to `model`: it does not read the language.
    UnknownTokens { share: f64, model: String },
}

/// The embedder for one catalogue.
pub enum ChosenEmbedder {
    Bert(Box<BertSentenceEmbedder>),
    Lsa(LsaEmbedder),
}

impl ChosenEmbedder {
    pub fn as_embedder(&self) -> &dyn Embedder {
        match self {
            ChosenEmbedder::Bert(bert) => bert.as_ref(),
            ChosenEmbedder::Lsa(lsa) => lsa,
        }
    }
}

/// The embedder `request` names for `texts`, and what to tell the user about it.
pub struct EmbedderChoice {
    pub embedder: ChosenEmbedder,
    pub warnings: Vec<EmbedWarning>,
}

impl EmbedderChoice {
    /// The share of `[UNK]` tokens, when the model does not read the catalogue's language.
    pub fn unknown_tokens(&self) -> Option<f64> {
        self.warnings.iter().find_map(|w| match w {
            EmbedWarning::UnknownTokens { share, .. } => Some(*share),
            EmbedWarning::Fallback(_) => None,
        })
    }
}

/// Finds and loads the embedder `request` names for the catalogue `texts`. A model that
/// cannot be found falls back to LSA fitted on `texts` (a broken one is an error); a model
/// that finds more than [`UNKNOWN_TOKEN_WARNING`] of the tokens unknown is kept, with a
/// warning. Nothing is embedded yet.
pub fn choose_embedder(
    request: &EmbedderRequest,
    texts: &[&str],
) -> Result<EmbedderChoice, EmbedError> {
    let mut warnings = Vec::new();
    let neural = match request {
        EmbedderRequest::Lsa => None,
        EmbedderRequest::Model(model) => {
            match resolve(&model.query())
                .and_then(|found| BertSentenceEmbedder::load(&found.dir, &found.name))
            {
                Ok(bert) => Some(bert),
                Err(not_found @ EmbedError::NotFound { .. }) => {
                    warnings.push(EmbedWarning::Fallback(not_found));
                    None
                }
                Err(e) => return Err(e),
            }
        }
    };
    let embedder = match neural {
        Some(bert) => {
            let share = bert.unknown_token_share(texts)?;
            if share > UNKNOWN_TOKEN_WARNING {
                warnings.push(EmbedWarning::UnknownTokens {
                    share,
                    model: bert.name().to_owned(),
                });
            }
            ChosenEmbedder::Bert(Box::new(bert))
        }
        None => ChosenEmbedder::Lsa(LsaEmbedder::fit(texts)?),
    };
    Ok(EmbedderChoice { embedder, warnings })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsa_on_request_has_no_warning() {
        let texts = ["red mug", "blue mug", "green teapot", "garden chair"];
        let choice = choose_embedder(&EmbedderRequest::Lsa, &texts).unwrap();
        assert!(choice.embedder.as_embedder().is_fallback());
        assert!(choice.warnings.is_empty());
        assert_eq!(choice.unknown_tokens(), None);
    }

    #[test]
    fn a_broken_folder_is_an_error_not_a_fallback() {
        let dir = tempfile::tempdir().unwrap();
        let request = EmbedderRequest::Model(ModelQueryRequest {
            repo: None,
            dir: Some(dir.path().to_path_buf()),
        });
        let err = choose_embedder(&request, &["mug"]).err().unwrap();
        assert!(matches!(err, EmbedError::Model { .. }), "{err}");
    }
}
