//! The numeric kernels that layers, recommend, the map and the embedder share: dot products,
//! and the dense multiplies on gemm (the crate candle multiplies with).
//!
//! k-means, silhouette and PCA all reduce to "rows times rows transposed"; doing those as one
//! matrix multiply each is what makes them fast (a plain GEMM-based Lloyd loop was about 30×
//! faster than linfa's `KMeans` here, `../shared/notes/ml.md`). The multiplies run on Strata's
//! own thread pool with one thread per core: the process-wide rayon setting is one thread, for
//! the embedding workers (`crate::embed::configure_process`).

use std::sync::OnceLock;

use gemm::Parallelism;

const LANES: usize = 16;

/// Σ a·b in `LANES` independent partial sums (vectorisable, unlike a serial fold).
#[inline(always)]
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut partial = [0f32; LANES];
    let (a_chunks, b_chunks) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = a_chunks
        .remainder()
        .iter()
        .zip(b_chunks.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (ca, cb) in a_chunks.zip(b_chunks) {
        for lane in 0..LANES {
            partial[lane] += ca[lane] * cb[lane];
        }
    }
    partial.iter().sum::<f32>() + tail
}

/// Σ a·b in f64, in order (PCA's small bases, where exactness beats speed).
pub fn dot_f64(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Threads for the numeric work: one per core.
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn pool() -> Option<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Option<rayon::ThreadPool>> = OnceLock::new();
    POOL.get_or_init(|| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads())
            .thread_name(|i| format!("strata-layers-{i}"))
            .build()
            .ok()
    })
    .as_ref()
}

/// Runs `work` on the layering pool (so rayon's parallel iterators use every core).
pub fn in_pool<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    match pool() {
        Some(pool) => pool.install(work),
        None => work(),
    }
}

/// `a` (m × k) times `b` (n × k) transposed: the m × n matrix of row dot products, row-major.
///
/// gemm is computed into a column-major buffer and transposed after: for a row-major
/// destination gemm swaps the operands, and with n small (k-means: n = clusters) that runs its
/// narrowest micro-kernel; column-major keeps the wide one along m (2.5× faster at 100k × 16).
pub fn rows_dot_rows(a: &[f32], m: usize, b: &[f32], n: usize, k: usize) -> Vec<f32> {
    rows_dot_rows_on(a, m, b, n, k, m * n * k >= 1 << 20)
}

/// [`rows_dot_rows`] on the calling thread only (for callers that parallelise themselves).
pub fn rows_dot_rows_serial(a: &[f32], m: usize, b: &[f32], n: usize, k: usize) -> Vec<f32> {
    rows_dot_rows_on(a, m, b, n, k, false)
}

fn rows_dot_rows_on(
    a: &[f32],
    m: usize,
    b: &[f32],
    n: usize,
    k: usize,
    parallel: bool,
) -> Vec<f32> {
    assert_eq!(a.len(), m * k, "a is not m x k");
    assert_eq!(b.len(), n * k, "b is not n x k");
    // Column-major m × n: element (i, j) at j·m + i.
    let mut column_major = vec![0f32; m * n];
    let dst = View {
        rows: m,
        cols: n,
        row_stride: 1,
        col_stride: m,
    };
    let lhs = View {
        rows: m,
        cols: k,
        row_stride: k,
        col_stride: 1,
    };
    // bᵀ (k × n): element (i, j) at b[j·k + i].
    let rhs = View {
        rows: k,
        cols: n,
        row_stride: 1,
        col_stride: k,
    };
    multiply(&mut column_major, dst, (a, lhs), (b, rhs), parallel, false);
    let mut out = vec![0f32; m * n];
    for (j, column) in column_major.chunks_exact(m.max(1)).enumerate() {
        for (i, &v) in column.iter().enumerate() {
            out[i * n + j] = v;
        }
    }
    out
}

/// `xᵀx` (d × d) for `x` (n × d, row-major), on all cores when it is big.
pub fn gram(x: &[f32], n: usize, d: usize) -> Vec<f32> {
    gram_on(x, n, d, n * d * d >= 1 << 20)
}

/// [`gram`] on this thread alone: for many small ones already spread over the cores (each
/// iALS row's system), where a parallel multiply inside each would only add overhead.
pub fn gram_serial(x: &[f32], n: usize, d: usize) -> Vec<f32> {
    gram_on(x, n, d, false)
}

fn gram_on(x: &[f32], n: usize, d: usize, parallel: bool) -> Vec<f32> {
    assert_eq!(x.len(), n * d, "x is not n x d");
    let mut out = vec![0f32; d * d];
    let dst = View {
        rows: d,
        cols: d,
        row_stride: d,
        col_stride: 1,
    };
    // xᵀ (d × n): element (i, j) at x[j·d + i].
    let lhs = View {
        rows: d,
        cols: n,
        row_stride: 1,
        col_stride: d,
    };
    let rhs = View {
        rows: n,
        cols: d,
        row_stride: d,
        col_stride: 1,
    };
    multiply(&mut out, dst, (x, lhs), (x, rhs), parallel, false);
    out
}

/// Adds each row of `rows` (r × d) to row `labels[i]` of `sums` (k × d), as one multiply by
/// the one-hot label matrix (k × r): a row-by-row scatter-add ran at a fifth of the speed.
pub fn add_rows_by_label(sums: &mut [f32], k: usize, rows: &[f32], labels: &[usize], d: usize) {
    let r = labels.len();
    let mut one_hot = vec![0f32; k * r];
    for (i, &label) in labels.iter().enumerate() {
        one_hot[label * r + i] = 1.0;
    }
    let dst = View {
        rows: k,
        cols: d,
        row_stride: d,
        col_stride: 1,
    };
    let lhs = View {
        rows: k,
        cols: r,
        row_stride: r,
        col_stride: 1,
    };
    let rhs = View {
        rows: r,
        cols: d,
        row_stride: d,
        col_stride: 1,
    };
    multiply(sums, dst, (&one_hot, lhs), (rows, rhs), false, true);
}

/// Where a matrix's elements lie in a slice: (i, j) at i·row_stride + j·col_stride.
#[derive(Clone, Copy)]
struct View {
    rows: usize,
    cols: usize,
    row_stride: usize,
    col_stride: usize,
}

impl View {
    /// True when every element lies inside a slice of `len`.
    fn fits(&self, len: usize) -> bool {
        self.rows == 0
            || self.cols == 0
            || (self.rows - 1) * self.row_stride + (self.cols - 1) * self.col_stride < len
    }
}

/// `dst = lhs · rhs` (or `dst += lhs · rhs` when `accumulate`) with gemm, on the layering pool
/// when `parallel`.
fn multiply(
    dst: &mut [f32],
    out: View,
    lhs: (&[f32], View),
    rhs: (&[f32], View),
    parallel: bool,
    accumulate: bool,
) {
    let ((a, av), (b, bv)) = (lhs, rhs);
    assert!(
        av.rows == out.rows && bv.cols == out.cols && av.cols == bv.rows,
        "shapes differ"
    );
    assert!(
        out.fits(dst.len()) && av.fits(a.len()) && bv.fits(b.len()),
        "view out of bounds"
    );
    let (m, n, k) = (out.rows, out.cols, av.cols);
    if m == 0 || n == 0 || k == 0 {
        return;
    }
    let parallelism = match (pool(), parallel) {
        (Some(_), true) => Parallelism::Rayon(threads()),
        _ => Parallelism::None,
    };
    let stride = |s: usize| s as isize;
    in_pool(|| {
        // SAFETY: the three views were checked above to lie inside their slices, and `dst`
        // is borrowed mutably for the whole call.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                dst.as_mut_ptr(),
                stride(out.col_stride),
                stride(out.row_stride),
                accumulate,
                a.as_ptr(),
                stride(av.col_stride),
                stride(av.row_stride),
                b.as_ptr(),
                stride(bv.col_stride),
                stride(bv.row_stride),
                if accumulate { 1.0 } else { 0.0 },
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    });
}

/// Squared Euclidean norm of each row of `x` (n × d).
pub fn row_norms(x: &[f32], d: usize) -> Vec<f32> {
    x.chunks_exact(d.max(1))
        .map(|row| row.iter().map(|v| v * v).sum())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn add_rows_by_label_adds_each_row_to_its_label() {
        let rows = [1.0f32, 2.0, 3.0, 4.0, 5.0, 6.0];
        let mut sums = vec![10.0f32; 4];
        add_rows_by_label(&mut sums, 2, &rows, &[1, 0, 1], 2);
        assert_eq!(sums, [13.0, 14.0, 16.0, 18.0]);
    }

    #[test]
    fn rows_dot_rows_matches_a_naive_loop() {
        let (m, n, k) = (37, 11, 130);
        let a: Vec<f32> = (0..m * k)
            .map(|i| ((i * 7919) % 23) as f32 - 11.0)
            .collect();
        let b: Vec<f32> = (0..n * k)
            .map(|i| ((i * 104_729) % 17) as f32 - 8.0)
            .collect();
        let fast = rows_dot_rows(&a, m, &b, n, k);
        for i in 0..m {
            for j in 0..n {
                let naive: f32 = (0..k).map(|t| a[i * k + t] * b[j * k + t]).sum();
                assert!((fast[i * n + j] - naive).abs() < 1e-3, "({i},{j})");
            }
        }
        let g = gram(&a, m, k);
        for i in [0, 5, 129] {
            for j in [0, 77, 129] {
                let naive: f32 = (0..m).map(|r| a[r * k + i] * a[r * k + j]).sum();
                assert!((g[i * k + j] - naive).abs() < 1e-2, "gram ({i},{j})");
            }
        }
        // Big enough to go parallel.
        let big = vec![1f32; 512 * 384];
        let out = rows_dot_rows(&big, 512, &big[..64 * 384], 64, 384);
        assert!(out.iter().all(|&v| v == 384.0));
    }
}
