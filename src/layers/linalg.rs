//! The dense linear algebra the layering step needs, on gemm (the crate candle multiplies with).
//!
//! k-means, silhouette and PCA all reduce to "rows times rows transposed"; doing those as one
//! matrix multiply each is what makes them fast (a plain GEMM-based Lloyd loop was about 30×
//! faster than linfa's `KMeans` here, `../shared/notes/ml.md`). The multiplies run on Strata's
//! own thread pool with one thread per core: the process-wide rayon setting is one thread, for
//! the embedding workers (`crate::embed::configure_process`).

use std::sync::OnceLock;

use gemm::Parallelism;

/// Threads for the layering step: one per core.
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
    let mut column_major = vec![0f32; m * n];
    if m == 0 || n == 0 || k == 0 {
        return column_major;
    }
    let parallelism = match (pool(), parallel) {
        (Some(_), true) => Parallelism::Rayon(threads()),
        _ => Parallelism::None,
    };
    in_pool(|| {
        // SAFETY: the pointers and strides describe the destination (m × n, column-major:
        // element (i, j) at j·m + i), `a` (m × k, row-major) and bᵀ (k × n: element (i, j) at
        // b[j·k + i]), all in bounds as asserted.
        unsafe {
            gemm::gemm(
                m,
                n,
                k,
                column_major.as_mut_ptr(),
                m as isize,
                1,
                false,
                a.as_ptr(),
                1,
                k as isize,
                b.as_ptr(),
                k as isize,
                1,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    });
    let mut out = vec![0f32; m * n];
    for (j, column) in column_major.chunks_exact(m).enumerate() {
        for (i, &v) in column.iter().enumerate() {
            out[i * n + j] = v;
        }
    }
    out
}

/// `xᵀx` (d × d) for `x` (n × d, row-major).
pub fn gram(x: &[f32], n: usize, d: usize) -> Vec<f32> {
    assert_eq!(x.len(), n * d, "x is not n x d");
    let mut out = vec![0f32; d * d];
    if n == 0 || d == 0 {
        return out;
    }
    let parallelism = match (pool(), n * d * d >= 1 << 20) {
        (Some(_), true) => Parallelism::Rayon(threads()),
        _ => Parallelism::None,
    };
    in_pool(|| {
        // SAFETY: `out` is d × d row-major; xᵀ (d × n) has element (i, j) at x[j·d + i];
        // x (n × d) is row-major; all in bounds as asserted.
        unsafe {
            gemm::gemm(
                d,
                d,
                n,
                out.as_mut_ptr(),
                1,
                d as isize,
                false,
                x.as_ptr(),
                d as isize,
                1,
                x.as_ptr(),
                1,
                d as isize,
                0.0,
                1.0,
                false,
                false,
                false,
                parallelism,
            );
        }
    });
    out
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
