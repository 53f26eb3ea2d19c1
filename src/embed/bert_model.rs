//! The BERT encoder forward pass, on candle tensors, shaped for sentence embedding on a CPU.
//!
//! Same arithmetic as `candle_transformers::models::bert::BertModel` (and Hugging Face's
//! `BertModel`), rearranged for speed on short texts (measured in `benches/embed.rs`):
//! - query, key and value are one matrix multiply, with the 1/√d attention scale folded into
//!   the query weights at load time;
//! - weights are stored transposed once, so no multiply repacks a transposed operand;
//! - the feed-forward bias and erf-GELU are one pass with a branch-free rational erf (the
//!   scalar `libm` erf took a quarter of the whole run);
//! - every matrix multiply runs on the `rows = batch × tokens` view.

use candle_core::{CpuStorage, CustomOp2, DType, Layout, Shape, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{Config, HiddenAct, PositionEmbeddingType};

/// A dense layer with its weight stored as (in, out).
struct Dense {
    weight_t: Tensor,
    bias: Tensor,
}

impl Dense {
    fn load(vb: &VarBuilder, inputs: usize, outputs: usize) -> candle_core::Result<Self> {
        let weight = vb.get((outputs, inputs), "weight")?;
        Ok(Self {
            weight_t: weight.t()?.contiguous()?,
            bias: vb.get(outputs, "bias")?,
        })
    }

    /// `x · W + b` for `x` of shape (rows, in).
    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        x.matmul(&self.weight_t)?.broadcast_add(&self.bias)
    }
}

struct LayerNorm {
    weight: Tensor,
    bias: Tensor,
    eps: f32,
}

impl LayerNorm {
    fn load(vb: &VarBuilder, size: usize, eps: f64) -> candle_core::Result<Self> {
        Ok(Self {
            weight: vb.get(size, "weight")?,
            bias: vb.get(size, "bias")?,
            eps: eps as f32,
        })
    }

    fn forward(&self, x: &Tensor) -> candle_core::Result<Tensor> {
        candle_nn::ops::layer_norm(x, &self.weight, &self.bias, self.eps)
    }
}

struct Layer {
    qkv: Dense,
    attention_out: Dense,
    attention_norm: LayerNorm,
    intermediate: Dense,
    output: Dense,
    output_norm: LayerNorm,
}

/// A BERT encoder: token ids in, one hidden state per token out.
pub struct BertEncoder {
    word_embeddings: Tensor,
    position_embeddings: Tensor,
    token_type_embeddings: Tensor,
    embedding_norm: LayerNorm,
    layers: Vec<Layer>,
    heads: usize,
    hidden: usize,
}

impl BertEncoder {
    /// Loads Hugging Face `BertModel` weights (with or without the `bert.` prefix).
    pub fn load(vb: VarBuilder, config: &Config) -> candle_core::Result<Self> {
        if config.hidden_act != HiddenAct::Gelu {
            candle_core::bail!(
                "hidden_act {:?} is not supported (gelu only)",
                config.hidden_act
            );
        }
        if config.position_embedding_type != PositionEmbeddingType::Absolute {
            candle_core::bail!("only absolute position embeddings are supported");
        }
        if config.hidden_size % config.num_attention_heads != 0 {
            candle_core::bail!("hidden_size is not a multiple of num_attention_heads");
        }
        let vb = if vb.contains_tensor("bert.embeddings.word_embeddings.weight") {
            vb.pp("bert")
        } else {
            vb
        };
        let hidden = config.hidden_size;
        let head_size = hidden / config.num_attention_heads;
        let eps = config.layer_norm_eps;
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
                bias: Tensor::cat(&[(query.bias * scale)?, key.bias, value.bias], 0)?,
            };
            layers.push(Layer {
                qkv,
                attention_out: Dense::load(&attention.pp("output.dense"), hidden, hidden)?,
                attention_norm: LayerNorm::load(&attention.pp("output.LayerNorm"), hidden, eps)?,
                intermediate: Dense::load(
                    &layer.pp("intermediate.dense"),
                    hidden,
                    config.intermediate_size,
                )?,
                output: Dense::load(&layer.pp("output.dense"), config.intermediate_size, hidden)?,
                output_norm: LayerNorm::load(&layer.pp("output.LayerNorm"), hidden, eps)?,
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
            embedding_norm: LayerNorm::load(&embeddings.pp("LayerNorm"), hidden, eps)?,
            layers,
            heads: config.num_attention_heads,
            hidden,
        })
    }

    /// Hidden states (batch, tokens, hidden) for `ids` and `types` (batch, tokens) with
    /// `mask` (batch, tokens) holding 1 for real tokens and 0 for padding.
    pub fn forward(
        &self,
        ids: &Tensor,
        types: &Tensor,
        mask: &Tensor,
    ) -> candle_core::Result<Tensor> {
        let (batch, tokens) = ids.dims2()?;
        let rows = batch * tokens;
        let (hidden, heads) = (self.hidden, self.heads);
        let head_size = hidden / heads;
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
        let mut x = self.embedding_norm.forward(&embedded)?;
        // Padding gets the most negative score so softmax gives it no weight.
        let mask_bias = ((mask.to_dtype(DType::F32)? - 1.0)? * f64::from(f32::MAX))?
            .reshape((batch, 1, 1, tokens))?;
        for layer in &self.layers {
            let qkv = layer
                .qkv
                .forward(&x)?
                .reshape((batch, tokens, 3, heads, head_size))?
                .permute((2, 0, 3, 1, 4))?
                .contiguous()?;
            let (q, k, v) = (qkv.get(0)?, qkv.get(1)?, qkv.get(2)?);
            let scores = q.matmul(&k.t()?)?.broadcast_add(&mask_bias)?;
            let probs = candle_nn::ops::softmax_last_dim(&scores)?;
            let context = probs
                .matmul(&v)?
                .transpose(1, 2)?
                .contiguous()?
                .reshape((rows, hidden))?;
            let attended = layer
                .attention_norm
                .forward(&(layer.attention_out.forward(&context)? + &x)?)?;
            let inner = attended
                .matmul(&layer.intermediate.weight_t)?
                .apply_op2_no_bwd(&layer.intermediate.bias, &BiasGelu)?;
            x = layer
                .output_norm
                .forward(&(layer.output.forward(&inner)? + &attended)?)?;
        }
        x.reshape((batch, tokens, hidden))
    }
}

/// `gelu(x + bias)` with the exact (erf) GELU, for `x` (rows, n) and `bias` (n), both
/// contiguous f32.
struct BiasGelu;

impl CustomOp2 for BiasGelu {
    fn name(&self) -> &'static str {
        "bias-gelu"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        bias: &CpuStorage,
        bias_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (CpuStorage::F32(x), CpuStorage::F32(bias)) = (x, bias) else {
            candle_core::bail!("bias-gelu: f32 only");
        };
        let (Some((x_start, x_end)), Some((b_start, b_end))) = (
            x_layout.contiguous_offsets(),
            bias_layout.contiguous_offsets(),
        ) else {
            candle_core::bail!("bias-gelu: contiguous inputs only");
        };
        let (x, bias) = (&x[x_start..x_end], &bias[b_start..b_end]);
        let width = bias.len();
        if width == 0 || x_layout.dims().last() != Some(&width) {
            candle_core::bail!("bias-gelu: bias does not match the last dimension");
        }
        let mut out = vec![0f32; x.len()];
        for (out_row, x_row) in out.chunks_exact_mut(width).zip(x.chunks_exact(width)) {
            for ((o, &v), &b) in out_row.iter_mut().zip(x_row).zip(bias) {
                let v = v + b;
                *o = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
            }
        }
        Ok((CpuStorage::F32(out), x_layout.shape().clone()))
    }
}

/// erf for f32 as a rational function on [-4, 4] (Eigen's and XLA's `erf` for float):
/// within 5e-7 of the exact value, and branch-free so the loop above vectorises.
#[inline(always)]
fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = -2.726_142_3e-10_f32;
    p = p * x2 + 2.770_681_4e-8;
    p = p * x2 - 2.101_024e-6;
    p = p * x2 - 5.692_506_4e-5;
    p = p * x2 - 7.349_906_3e-4;
    p = p * x2 - 2.954_6e-3;
    p = p * x2 - 1.609_603_3e-2;
    let mut q = -1.456_607_2e-5_f32;
    q = q * x2 - 2.133_740_6e-4;
    q = q * x2 - 1.682_827e-3;
    q = q * x2 - 7.373_329e-3;
    q = q * x2 - 1.426_474e-2;
    x * p / q
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf(x) by its Taylor series (exact enough on [-3, 3] in f64).
    fn erf_series(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn rational_erf_is_within_5e7() {
        for i in -3000..=3000 {
            let x = i as f64 / 1000.0;
            let error = (f64::from(erf(x as f32)) - erf_series(x)).abs();
            assert!(error < 5e-7, "erf({x}) off by {error}");
        }
        assert_eq!(erf(0.0), 0.0);
        assert!((erf(10.0) - 1.0).abs() < 1e-6 && (erf(-10.0) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn bias_gelu_matches_the_definition() {
        let device = candle_core::Device::Cpu;
        let x = Tensor::new(&[[-3.0f32, -0.5, 0.0], [0.25, 1.0, 6.0]], &device).unwrap();
        let bias = Tensor::new(&[0.5f32, -0.25, 0.0], &device).unwrap();
        let fused = x.apply_op2_no_bwd(&bias, &BiasGelu).unwrap();
        let reference = x.broadcast_add(&bias).unwrap().gelu_erf().unwrap();
        let diff = (fused - reference)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap();
        assert!(diff < 1e-6, "{diff}");
    }
}
