//! Fused CPU kernels for the BERT forward pass, as candle custom ops.
//!
//! Each replaces several candle operations, each of which reads and writes the whole
//! activation matrix and allocates a new one; on short texts those passes, not the matrix
//! multiplies, were where the time went (profiled with `perf`, measured in
//! `benches/embed.rs`). All take contiguous f32 input and run on the calling thread. The
//! loops are compiled for AVX-512 and AVX2 as well as the baseline and picked at run time
//! (`multiversion`), and sums run in 16 lanes so that they vectorise.

use candle_core::{CpuStorage, CustomOp1, CustomOp2, Layout, Shape};
use multiversion::multiversion;

use crate::linalg::dot;

const LANES: usize = 16;

/// Σ f(x) in `LANES` independent partial sums.
#[inline(always)]
fn sum_of(a: &[f32], f: impl Fn(f32) -> f32) -> f32 {
    let mut partial = [0f32; LANES];
    let chunks = a.chunks_exact(LANES);
    let tail: f32 = chunks.remainder().iter().map(|&x| f(x)).sum();
    for chunk in chunks {
        for lane in 0..LANES {
            partial[lane] += f(chunk[lane]);
        }
    }
    partial.iter().sum::<f32>() + tail
}

fn f32s<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> candle_core::Result<&'a [f32]> {
    let CpuStorage::F32(data) = storage else {
        candle_core::bail!("{op}: f32 only");
    };
    let Some((start, end)) = layout.contiguous_offsets() else {
        candle_core::bail!("{op}: contiguous input only");
    };
    Ok(&data[start..end])
}

fn check_width(layout: &Layout, width: usize, op: &str) -> candle_core::Result<()> {
    if width == 0 || layout.dims().last() != Some(&width) {
        candle_core::bail!("{op}: last dimension is not {width}");
    }
    Ok(())
}

/// `gelu(x + bias)` with the exact (erf) GELU, for `x` (rows, n) and `bias` (n).
pub struct BiasGelu<'a> {
    pub bias: &'a [f32],
}

impl CustomOp1 for BiasGelu<'_> {
    fn name(&self) -> &'static str {
        "bias-gelu"
    }

    fn cpu_fwd(&self, x: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32s(x, layout, self.name())?;
        let width = self.bias.len();
        check_width(layout, width, self.name())?;
        let mut out = vec![0f32; x.len()];
        bias_gelu(&mut out, x, self.bias);
        Ok((CpuStorage::F32(out), layout.shape().clone()))
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn bias_gelu(out: &mut [f32], x: &[f32], bias: &[f32]) {
    for (out_row, x_row) in out
        .chunks_exact_mut(bias.len())
        .zip(x.chunks_exact(bias.len()))
    {
        for ((o, &v), &b) in out_row.iter_mut().zip(x_row).zip(bias) {
            let v = v + b;
            *o = 0.5 * v * (1.0 + erf(v * std::f32::consts::FRAC_1_SQRT_2));
        }
    }
}

/// erf for f32 as a rational function on [-4, 4] (Eigen's and XLA's `erf` for float):
/// within 5e-7 of the exact value, and branch-free so the loop above vectorises.
#[inline(always)]
pub fn erf(x: f32) -> f32 {
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

/// `layer_norm(x + bias + residual)` row by row, for `x` and `residual` (rows, n).
pub struct BiasResidualNorm<'a> {
    pub bias: &'a [f32],
    pub gamma: &'a [f32],
    pub beta: &'a [f32],
    pub eps: f32,
}

impl CustomOp2 for BiasResidualNorm<'_> {
    fn name(&self) -> &'static str {
        "bias-residual-layer-norm"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let x = f32s(x, x_layout, self.name())?;
        let residual = f32s(residual, residual_layout, self.name())?;
        let width = self.bias.len();
        check_width(x_layout, width, self.name())?;
        if residual.len() != x.len() || self.gamma.len() != width || self.beta.len() != width {
            candle_core::bail!("{}: shapes differ", self.name());
        }
        let mut out = vec![0f32; x.len()];
        bias_residual_norm(&mut out, x, residual, self);
        Ok((CpuStorage::F32(out), x_layout.shape().clone()))
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn bias_residual_norm(out: &mut [f32], x: &[f32], residual: &[f32], op: &BiasResidualNorm) {
    let width = op.bias.len();
    let rows = out
        .chunks_exact_mut(width)
        .zip(x.chunks_exact(width))
        .zip(residual.chunks_exact(width));
    for ((out_row, x_row), r_row) in rows {
        for (((o, &v), &r), &b) in out_row.iter_mut().zip(x_row).zip(r_row).zip(op.bias) {
            *o = v + b + r;
        }
        let mean = sum_of(out_row, |v| v) / width as f32;
        let variance = sum_of(out_row, |v| (v - mean) * (v - mean)) / width as f32;
        let scale = 1.0 / (variance + op.eps).sqrt();
        for ((o, &g), &b) in out_row.iter_mut().zip(op.gamma).zip(op.beta) {
            *o = (*o - mean) * scale * g + b;
        }
    }
}

/// Multi-head self-attention straight from the fused projection: input (rows, 3·hidden)
/// holding query | key | value per token (query already scaled by 1/√d), output
/// (rows, hidden). Sequence `s` owns rows `s·tokens ..`, of which the first `lengths[s]` are
/// real; padding is never attended to and its output rows are zero (they are never read:
/// pooling and later attention ignore them, and the feed-forward is per token).
pub struct Attention<'a> {
    pub qkv_bias: &'a [f32],
    pub heads: usize,
    pub tokens: usize,
    pub lengths: &'a [usize],
}

impl CustomOp1 for Attention<'_> {
    fn name(&self) -> &'static str {
        "self-attention"
    }

    fn cpu_fwd(
        &self,
        qkv: &CpuStorage,
        layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let qkv = f32s(qkv, layout, self.name())?;
        let width = self.qkv_bias.len();
        check_width(layout, width, self.name())?;
        let hidden = width / 3;
        let head_size = hidden / self.heads.max(1);
        let rows = qkv.len() / width;
        if hidden * 3 != width
            || head_size * self.heads != hidden
            || rows != self.lengths.len() * self.tokens
            || self.lengths.iter().any(|&n| n > self.tokens)
        {
            candle_core::bail!("{}: shapes differ", self.name());
        }
        let mut out = vec![0f32; rows * hidden];
        attention(&mut out, qkv, self, head_size);
        Ok((CpuStorage::F32(out), Shape::from((rows, hidden))))
    }
}

#[multiversion(targets("x86_64+avx512f+avx512vl+avx512dq+avx2+fma", "x86_64+avx2+fma"))]
fn attention(out: &mut [f32], qkv: &[f32], op: &Attention, d: usize) {
    let width = op.qkv_bias.len();
    let hidden = width / 3;
    let (mut q, mut k, mut v) = (Vec::new(), Vec::new(), Vec::new());
    let mut scores = Vec::new();
    for (sequence, &n) in op.lengths.iter().enumerate() {
        let first_row = sequence * op.tokens;
        for head in 0..op.heads {
            // This head's query, key and value rows, biased, packed (n × d each).
            for (buffer, part) in [(&mut q, 0), (&mut k, 1), (&mut v, 2)] {
                buffer.clear();
                let column = part * hidden + head * d;
                let bias = &op.qkv_bias[column..column + d];
                for token in 0..n {
                    let start = (first_row + token) * width + column;
                    buffer.extend(qkv[start..start + d].iter().zip(bias).map(|(x, b)| x + b));
                }
            }
            for i in 0..n {
                let qi = &q[i * d..(i + 1) * d];
                scores.clear();
                scores.extend(k.chunks_exact(d).map(|kj| dot(qi, kj)));
                let max = scores.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut total = 0f32;
                for s in scores.iter_mut() {
                    *s = (*s - max).exp();
                    total += *s;
                }
                let start = (first_row + i) * hidden + head * d;
                let target = &mut out[start..start + d];
                for (&p, vj) in scores.iter().zip(v.chunks_exact(d)) {
                    let p = p / total;
                    for (t, &x) in target.iter_mut().zip(vj) {
                        *t += p * x;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Tensor};

    /// erf(x) by its Taylor series (exact enough on [-3, 3] in f64).
    fn erf_series(x: f64) -> f64 {
        let (mut term, mut sum) = (x, x);
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    fn max_diff(a: &Tensor, b: &Tensor) -> f32 {
        (a - b)
            .unwrap()
            .abs()
            .unwrap()
            .max_all()
            .unwrap()
            .to_scalar::<f32>()
            .unwrap()
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
    fn bias_gelu_matches_candle() {
        let x = Tensor::new(&[[-3.0f32, -0.5, 0.0], [0.25, 1.0, 6.0]], &Device::Cpu).unwrap();
        let bias = [0.5f32, -0.25, 0.0];
        let fused = x.apply_op1_no_bwd(&BiasGelu { bias: &bias }).unwrap();
        let b = Tensor::new(&bias, &Device::Cpu).unwrap();
        let reference = x.broadcast_add(&b).unwrap().gelu_erf().unwrap();
        assert!(max_diff(&fused, &reference) < 1e-6);
    }

    #[test]
    fn bias_residual_norm_matches_candle() {
        let x = Tensor::randn(0f32, 1.0, (5, 8), &Device::Cpu).unwrap();
        let r = Tensor::randn(0f32, 1.0, (5, 8), &Device::Cpu).unwrap();
        let (bias, gamma, beta) = ([0.1f32; 8], [1.5f32; 8], [-0.2f32; 8]);
        let op = BiasResidualNorm {
            bias: &bias,
            gamma: &gamma,
            beta: &beta,
            eps: 1e-12,
        };
        let fused = x.apply_op2_no_bwd(&r, &op).unwrap();
        let t = |v: &[f32]| Tensor::new(v, &Device::Cpu).unwrap();
        let summed = (x.broadcast_add(&t(&bias)).unwrap() + &r).unwrap();
        let reference = candle_nn::ops::layer_norm(&summed, &t(&gamma), &t(&beta), 1e-12).unwrap();
        assert!(max_diff(&fused, &reference) < 1e-5);
    }

    #[test]
    fn attention_matches_masked_softmax_attention() {
        let (batch, tokens, heads, d) = (2, 4, 2, 3);
        let hidden = heads * d;
        let device = Device::Cpu;
        let qkv = Tensor::randn(0f32, 1.0, (batch * tokens, 3 * hidden), &device).unwrap();
        let bias: Vec<f32> = (0..3 * hidden).map(|i| i as f32 * 0.01).collect();
        let lengths = [4, 2];
        let op = Attention {
            qkv_bias: &bias,
            heads,
            tokens,
            lengths: &lengths,
        };
        let fused = qkv.apply_op1_no_bwd(&op).unwrap();
        // Reference: candle ops with an additive mask, as BERT does.
        let biased = qkv
            .broadcast_add(&Tensor::new(bias.as_slice(), &device).unwrap())
            .unwrap()
            .reshape((batch, tokens, 3, heads, d))
            .unwrap()
            .permute((2, 0, 3, 1, 4))
            .unwrap()
            .contiguous()
            .unwrap();
        let (q, k, v) = (
            biased.get(0).unwrap(),
            biased.get(1).unwrap(),
            biased.get(2).unwrap(),
        );
        let mask: Vec<f32> = lengths
            .iter()
            .flat_map(|&n| (0..tokens).map(move |t| if t < n { 0.0 } else { f32::MIN }))
            .collect();
        let mask = Tensor::new(mask.as_slice(), &device)
            .unwrap()
            .reshape((batch, 1, 1, tokens))
            .unwrap();
        let scores = q
            .matmul(&k.t().unwrap())
            .unwrap()
            .broadcast_add(&mask)
            .unwrap();
        let probs = candle_nn::ops::softmax_last_dim(&scores).unwrap();
        let reference = probs
            .matmul(&v)
            .unwrap()
            .transpose(1, 2)
            .unwrap()
            .contiguous()
            .unwrap()
            .reshape((batch * tokens, hidden))
            .unwrap();
        // Real rows agree; padded rows (sequence 1, tokens 2 and 3) are zero.
        let real = [0, 1, 2, 3, 4, 5];
        for row in real {
            let a = fused.get(row).unwrap();
            let b = reference.get(row).unwrap();
            assert!(max_diff(&a, &b) < 1e-5, "row {row}");
        }
        let padded = fused
            .narrow(0, 6, 2)
            .unwrap()
            .abs()
            .unwrap()
            .sum_all()
            .unwrap();
        assert_eq!(padded.to_scalar::<f32>().unwrap(), 0.0);
    }
}
