//! A BERT-family sentence-transformer on candle (CPU).

use std::path::{Path, PathBuf};

use super::bert_config::BertConfig;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::bert_model::BertEncoder;
use super::{EmbedError, Embedder};

/// sentence-transformers' `max_seq_length` for MiniLM-family models.
pub const MAX_TOKENS: usize = 256;

/// A sentence-transformer loaded from a Hugging Face layout folder
/// (config.json, tokenizer.json, model.safetensors).
pub struct BertSentenceEmbedder {
    model: BertEncoder,
    tokenizer: Tokenizer,
    model_id: String,
    name: String,
    dim: usize,
    device: Device,
}

/// Bumped whenever tokenisation or pooling changes, so cached vectors are not reused across it.
const RECIPE: &str = "strata-bert-mean-l2-256-v1";

impl BertSentenceEmbedder {
    /// Loads the model in `dir`; `name` is shown to the user. Its [`Embedder::model_id`] is a
    /// fingerprint of the weights, config and tokenizer, so the same model found in a folder
    /// or in the Hugging Face cache shares its cached vectors.
    pub fn load(dir: &Path, name: &str) -> Result<Self, EmbedError> {
        let file = |name: &str| -> PathBuf { dir.join(name) };
        let model_err = |path: PathBuf, reason: String| EmbedError::Model { path, reason };
        let read = |name: &str| {
            let path = file(name);
            std::fs::read(&path).map_err(|e| model_err(path, e.to_string()))
        };
        let config_bytes = read("config.json")?;
        let tokenizer_bytes = read("tokenizer.json")?;
        let config: BertConfig = serde_json::from_slice(&config_bytes)
            .map_err(|e| model_err(file("config.json"), format!("not a BERT config: {e}")))?;
        let dim = config.hidden_size;
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
            .map_err(|e| model_err(file("tokenizer.json"), e.to_string()))?;
        // The shipped tokenizer.json truncates and pads to a fixed 128; sentence-transformers
        // truncates at 256 and pads each batch to its longest member.
        let pad_id = tokenizer.token_to_id("[PAD]").unwrap_or(0);
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id,
            pad_token: "[PAD]".to_owned(),
            ..PaddingParams::default()
        }));
        tokenizer
            .with_truncation(Some(TruncationParams {
                max_length: MAX_TOKENS,
                ..TruncationParams::default()
            }))
            .map_err(|e| model_err(file("tokenizer.json"), e.to_string()))?;
        let device = Device::Cpu;
        let weights = read("model.safetensors")?;
        let model_id = fingerprint(&[RECIPE.as_bytes(), &config_bytes, &tokenizer_bytes, &weights]);
        let vb = VarBuilder::from_buffered_safetensors(weights, DType::F32, &device)
            .map_err(|e| model_err(file("model.safetensors"), e.to_string()))?;
        let model = BertEncoder::load(vb, &config)
            .map_err(|e| model_err(file("model.safetensors"), format!("not a BERT model: {e}")))?;
        Ok(Self {
            model,
            tokenizer,
            model_id,
            name: name.to_owned(),
            dim,
            device,
        })
    }

    /// The share of `[UNK]` among the non-special tokens of `texts`: high when the model's
    /// vocabulary does not cover the catalogue's language (Chinese with an English model).
    pub fn unknown_token_share(&self, texts: &[&str]) -> Result<f64, EmbedError> {
        let unk = self.tokenizer.token_to_id("[UNK]");
        let (mut unknown, mut total) = (0usize, 0usize);
        for text in texts {
            let encoding = self
                .tokenizer
                .encode(*text, false)
                .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
            total += encoding.get_ids().len();
            unknown += encoding
                .get_ids()
                .iter()
                .filter(|&&id| Some(id) == unk)
                .count();
        }
        Ok(if total == 0 {
            0.0
        } else {
            unknown as f64 / total as f64
        })
    }
}

/// `sha256:` and the first 16 hex digits of the SHA-256 of `parts`.
fn fingerprint(parts: &[&[u8]]) -> String {
    use sha2::Digest;
    let mut hasher = sha2::Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part);
    }
    let digest = hasher.finalize();
    let hex: String = digest.iter().take(8).map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

impl Embedder for BertSentenceEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    /// The name the model was found under (a repo id or a folder name).
    fn name(&self) -> &str {
        &self.name
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let encodings = self
            .tokenizer
            .encode_batch(texts.to_vec(), true)
            .map_err(|e| EmbedError::Tokenize(e.to_string()))?;
        let len = encodings
            .iter()
            .map(|e| e.get_ids().len())
            .max()
            .unwrap_or(0);
        let rows = encodings.len();
        let flat = |get: &dyn Fn(&tokenizers::Encoding) -> &[u32]| -> Vec<u32> {
            encodings
                .iter()
                .flat_map(|e| get(e).iter().copied())
                .collect()
        };
        let ids = Tensor::from_vec(flat(&|e| e.get_ids()), (rows, len), &self.device)?;
        let types = Tensor::from_vec(flat(&|e| e.get_type_ids()), (rows, len), &self.device)?;
        let mask = Tensor::from_vec(flat(&|e| e.get_attention_mask()), (rows, len), &self.device)?;
        let lengths: Vec<usize> = encodings
            .iter()
            .map(|e| e.get_attention_mask().iter().filter(|&&m| m != 0).count())
            .collect();
        let hidden = self.model.forward(&ids, &types, &lengths)?;
        // Mean over real tokens only (sentence-transformers' pooling), then unit length.
        let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
        let summed = hidden.broadcast_mul(&mask)?.sum(1)?;
        let counts = mask.sum(1)?.clamp(1e-9, f64::MAX)?;
        let mean = summed.broadcast_div(&counts)?;
        let norms = mean.sqr()?.sum_keepdim(1)?.sqrt()?.clamp(1e-12, f64::MAX)?;
        let unit = mean.broadcast_div(&norms)?;
        Ok(unit.to_vec2::<f32>()?)
    }
}
