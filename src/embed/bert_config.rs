//! A BERT model's `config.json`: the fields the encoder reads, as Hugging Face's
//! `BertConfig` writes them. (candle-transformers has the same struct among its hundred
//! models; depending on all of them for one struct cost CI minutes, issue 13.)

use serde::Deserialize;

/// The parts of a BERT `config.json` the encoder needs; other fields are ignored.
#[derive(Clone, Debug, PartialEq, Deserialize)]
pub struct BertConfig {
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub intermediate_size: usize,
    /// The feed-forward activation: `gelu` (the exact, erf-based one) is the one supported.
    pub hidden_act: String,
    pub max_position_embeddings: usize,
    pub type_vocab_size: usize,
    pub layer_norm_eps: f64,
    /// `absolute` (the default) is the one supported.
    #[serde(default = "absolute")]
    pub position_embedding_type: String,
}

fn absolute() -> String {
    "absolute".to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_sentence_transformers_config() {
        let config: BertConfig = serde_json::from_str(
            r#"{"architectures": ["BertModel"], "attention_probs_dropout_prob": 0.1,
                "gradient_checkpointing": false, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
                "hidden_size": 384, "initializer_range": 0.02, "intermediate_size": 1536,
                "layer_norm_eps": 1e-12, "max_position_embeddings": 512, "model_type": "bert",
                "num_attention_heads": 12, "num_hidden_layers": 6, "pad_token_id": 0,
                "position_embedding_type": "absolute", "transformers_version": "4.8.2",
                "type_vocab_size": 2, "use_cache": true, "vocab_size": 30522}"#,
        )
        .unwrap();
        assert_eq!(config.hidden_size, 384);
        assert_eq!(config.num_hidden_layers, 6);
        assert_eq!(config.hidden_act, "gelu");
        assert_eq!(config.position_embedding_type, "absolute");
    }

    #[test]
    fn position_embeddings_default_to_absolute() {
        let config: BertConfig = serde_json::from_str(
            r#"{"hidden_act": "gelu", "hidden_size": 8, "intermediate_size": 16,
                "layer_norm_eps": 1e-12, "max_position_embeddings": 16,
                "num_attention_heads": 2, "num_hidden_layers": 1, "type_vocab_size": 2,
                "vocab_size": 10}"#,
        )
        .unwrap();
        assert_eq!(config.position_embedding_type, "absolute");
    }
}
