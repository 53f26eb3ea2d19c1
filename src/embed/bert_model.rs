//! The BERT encoder forward pass, on candle tensors, shaped for sentence embedding on a CPU.
//!
//! Same arithmetic as `candle_transformers::models::bert::BertModel` (and Hugging Face's
//! `BertModel`), rearranged for speed on short texts (measured in `benches/embed.rs`):
//! - query, key and value are one matrix multiply, with the 1/√d attention scale folded into
//!   the query weights at load time;
//! - weights are stored transposed once, so no multiply repacks a transposed operand;
//! - attention reads the fused projection directly, one sequence and head at a time, and
//!   skips padding ([`Attention`]);
//! - bias, residual and layer norm are one pass ([`BiasResidualNorm`]), and so are the
//!   feed-forward bias and erf-GELU ([`BiasGelu`]; the scalar `libm` erf alone took a
//!   quarter of the whole run);
//! - every matrix multiply runs on the `rows = batch × tokens` view.

use super::bert_config::BertConfig;
use candle_core::Tensor;
use candle_nn::VarBuilder;

use super::kernels::{Attention, BiasGelu, BiasResidualNorm};

/// A dense layer: weight stored as (in, out), bias as a plain vector for the fused kernels.
struct Dense {
    weight_t: Tensor,
    bias: Vec<f32>,
}

impl Dense {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?;
        Ok(Self {
            weight_t: weight.t()?.contiguous()?,
            bias: vb.get(outputs, "bias")?.to_vec1()?,
        })
    }
}

/// Layer-norm weights, as plain vectors for [`BiasResidualNorm`].
struct Norm {
    gamma: Vec<f32>,
    beta: Vec<f32>,
}

impl Norm {
    fn load(vb: &VarBuilder, size: usize) -> candle_core::Result<Self> {
        Ok(Self {
            gamma: vb.get(size, "weight")?.to_vec1()?,
            beta: vb.get(size, "bias")?.to_vec1()?,
        })
    }

    /// `layer_norm(x + dense.bias + residual)`.
    fn after(
        &self,
        x: &Tensor,
        dense: &Dense,
        residual: &Tensor,
        eps: f32,
    ) -> candle_core::Result<Tensor> {
        x.apply_op2_no_bwd(
            residual,
            &BiasResidualNorm {
                bias: &dense.bias,
                gamma: &self.gamma,
                beta: &self.beta,
                eps,
            },
        )
    }
}

struct Layer {
    qkv: Dense,
    attention_out: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

/// A BERT encoder: token ids in, one hidden state per token out.
pub struct BertEncoder {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    token_type_embeddings: Tensor,
    embedding_gamma: Tensor,
    embedding_beta: Tensor,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
    eps: f32,
}

impl BertEncoder {
    /// Loads Hugging Face `BertModel` weights (with or without the `bert.` prefix).
    pub fn load(vb: VarBuilder, config: &BertConfig) -> candle_core::Result<Self> {
        if config.hidden_act != "gelu" {
            candle_core::bail!(
                "hidden_act {:?} is not supported (gelu only)",
                config.hidden_act
            );
        }
        if config.position_embedding_type != "absolute" {
            candle_core::bail!(
                "position_embedding_type {:?} is not supported (absolute only)",
                config.position_embedding_type
            );
        }
        if config.num_attention_heads == 0
            || !config
                .hidden_size
                .is_multiple_of(config.num_attention_heads)
        {
            candle_core::bail!("hidden_size is not a multiple of num_attention_heads");
        }
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let hidden = config.hidden_size;
        let head_size = hidden / config.num_attention_heads;
        let embeddings = vb.pp("embeddings");
        let mut layers = Vec::with_capacity(config.num_hidden_layers);
        for index in 0..config.num_hidden_layers {
            let layer = vb.pp(format!("encoder.layer.{index}"));
            let attention = layer.pp("attention");
            let scale = 1.0 / (head_size as f64).sqrt();
            let part = |name: &str| Dense::load(&attention.pp("self").pp(name), hidden, hidden);
            let (query, key, value) = (part("query")?, part("key")?, part("value")?);
            let qkv = Dense {
                weight_t: Tensor::cat(
                    &[(query.weight_t * scale)?, key.weight_t, value.weight_t],
                    1,
                )?
                .contiguous()?,
                bias: (query.bias.iter().map(|b| b * scale as f32))
                    .chain(key.bias)
                    .chain(value.bias)
                    .collect(),
            };
            layers.push(Layer {
                qkv,
                attention_out: Dense::load(&attention.pp("output.dense"), hidden, hidden)?,
                attention_norm: Norm::load(&attention.pp("output.LayerNorm"), hidden)?,
                intermediate: Dense::load(
                    &layer.pp("intermediate.dense"),
                    hidden,
                    config.intermediate_size,
                )?,
                output: Dense::load(&layer.pp("output.dense"), config.intermediate_size, hidden)?,
                output_norm: Norm::load(&layer.pp("output.LayerNorm"), hidden)?,
            });
        }
        Ok(Self {
            word_embeddings: embeddings
                .get((config.vocab_size, hidden), "word_embeddings.weight")?,
            position_embeddings: embeddings.get(
                (config.max_position_embeddings, hidden),
                "position_embeddings.weight",
            )?,
            token_type_embeddings: embeddings.get(
                (config.type_vocab_size, hidden),
                "token_type_embeddings.weight",
            )?,
            embedding_gamma: embeddings.get(hidden, "LayerNorm.weight")?,
            embedding_beta: embeddings.get(hidden, "LayerNorm.bias")?,
            layers,
            heads: config.num_attention_heads,
            hidden,
            eps: config.layer_norm_eps as f32,
        })
    }

    /// Hidden states (batch, tokens, hidden) for `ids` and `types` (batch, tokens), where
    /// sequence `s` has `lengths[s]` real tokens followed by padding. Rows of padding come
    /// out as garbage: pool with the mask.
    pub fn forward(
        &self,
        ids: &Tensor,
        types: &Tensor,
        lengths: &[usize],
    ) -> candle_core::Result<Tensor> {
        let (batch, tokens) = ids.dims2()?;
        if lengths.len() != batch {
            candle_core::bail!("{} lengths for a batch of {batch}", lengths.len());
        }
        let rows = batch * tokens;
        let hidden = self.hidden;
        let positions = self.position_embeddings.narrow(0, 0, tokens)?;
        let embedded = self
            .word_embeddings
            .embedding(&ids.flatten_all()?)?
            .add(
                &self
                    .token_type_embeddings
                    .embedding(&types.flatten_all()?)?,
            )?
            .reshape((batch, tokens, hidden))?
            .broadcast_add(&positions)?
            .reshape((rows, hidden))?;
        let mut x = candle_nn::ops::layer_norm(
            &embedded,
            &self.embedding_gamma,
            &self.embedding_beta,
            self.eps,
        )?;
        for layer in &self.layers {
            let context = x
                .matmul(&layer.qkv.weight_t)?
                .apply_op1_no_bwd(&Attention {
                    qkv_bias: &layer.qkv.bias,
                    heads: self.heads,
                    tokens,
                    lengths,
                })?;
            let projected = context.matmul(&layer.attention_out.weight_t)?;
            let attended =
                layer
                    .attention_norm
                    .after(&projected, &layer.attention_out, &x, self.eps)?;
            let inner = attended
                .matmul(&layer.intermediate.weight_t)?
                .apply_op1_no_bwd(&BiasGelu {
                    bias: &layer.intermediate.bias,
                })?;
            let output = inner.matmul(&layer.output.weight_t)?;
            x = layer
                .output_norm
                .after(&output, &layer.output, &attended, self.eps)?;
        }
        x.reshape((batch, tokens, hidden))
    }
}
