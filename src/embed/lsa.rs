//! The LSA fallback embedder: TF-IDF over words, reduced by a truncated SVD.
//!
//! Used only when no neural model can be had (offline, nothing in a folder or the Hugging
//! Face cache), and always labelled: its model id starts with `lsa:` and `strata embed`
//! and `strata info` say so. It handles Chinese through word segmentation ([`crate::text`]),
//! which the default English model cannot (its vocabulary maps most characters to [UNK]).
//!
//! The SVD is the randomized range finder of Halko, Martinsson & Tropp (2011) with two power
//! iterations, on the sparse TF-IDF matrix: dense TF-IDF of a 100k-item catalogue would not
//! fit in memory. A text is embedded by folding it in (its TF-IDF row times the right
//! singular vectors), so catalogue items get exactly their rows of U·Σ and new texts land in
//! the same space. Seeded: the same catalogue gives the same vectors.

use std::collections::HashMap;

use linfa_linalg::eigh::Eigh;
use linfa_linalg::qr::QR;
use ndarray::{Array1, Array2, Axis};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use sha2::Digest;

use super::{EmbedError, Embedder};
use crate::text::words;

/// Dimensions kept (fewer when the catalogue has fewer items or words).
pub const LSA_DIMS: usize = 128;
const OVERSAMPLE: usize = 10;
const POWER_ITERATIONS: usize = 2;
const SEED: u64 = 0x5354_5241;
/// Bumped whenever the recipe changes, so cached vectors are not reused across it.
const RECIPE: &str = "lsa-v1";

/// TF-IDF + truncated SVD, fitted on one catalogue.
pub struct LsaEmbedder {
    vocabulary: HashMap<String, usize>,
    idf: Vec<f64>,
    /// The right singular vectors V (words × dims): `tfidf(text) · V` is the text's row of U·Σ.
    projection: Array2<f64>,
    model_id: String,
}

/// A sparse row: (word index, weight).
type SparseRow = Vec<(usize, f64)>;

impl LsaEmbedder {
    /// Fits the vocabulary, IDF weights and SVD on `corpus` (the catalogue's item texts).
    pub fn fit(corpus: &[&str]) -> Result<Self, EmbedError> {
        let mut vocabulary: HashMap<String, usize> = HashMap::new();
        let mut document_frequency: Vec<usize> = Vec::new();
        let tokenised: Vec<Vec<String>> = corpus.iter().map(|text| words(text)).collect();
        for document in &tokenised {
            let mut seen = std::collections::HashSet::new();
            for word in document {
                let next = vocabulary.len();
                let index = *vocabulary.entry(word.clone()).or_insert(next);
                if index == document_frequency.len() {
                    document_frequency.push(0);
                }
                if seen.insert(index) {
                    document_frequency[index] += 1;
                }
            }
        }
        if vocabulary.is_empty() {
            return Err(EmbedError::Lsa(
                "the catalogue's texts have no words to build the LSA fallback from".to_owned(),
            ));
        }
        // Smooth IDF, as scikit-learn's TfidfVectorizer.
        let n = corpus.len() as f64;
        let idf: Vec<f64> = document_frequency
            .iter()
            .map(|&df| ((1.0 + n) / (1.0 + df as f64)).ln() + 1.0)
            .collect();
        let mut fitted = Self {
            vocabulary,
            idf,
            projection: Array2::zeros((0, 0)),
            model_id: String::new(),
        };
        let rows: Vec<SparseRow> = tokenised.iter().map(|d| fitted.tfidf(d)).collect();
        let words_count = fitted.idf.len();
        let dims = LSA_DIMS.min(corpus.len()).min(words_count);
        fitted.projection = right_singular_basis(&rows, words_count, dims)?;
        let mut hasher = sha2::Sha256::new();
        hasher.update(RECIPE);
        let mut sorted: Vec<&&str> = corpus.iter().collect();
        sorted.sort();
        sorted.dedup();
        for text in sorted {
            hasher.update((text.len() as u64).to_le_bytes());
            hasher.update(text.as_bytes());
        }
        let hex: String = hasher
            .finalize()
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect();
        fitted.model_id = format!("lsa:{dims}d:{hex}");
        Ok(fitted)
    }

    /// Sublinear TF × IDF, L2-normalised, over known words.
    fn tfidf(&self, document: &[String]) -> SparseRow {
        let mut counts: HashMap<usize, f64> = HashMap::new();
        for word in document {
            if let Some(&index) = self.vocabulary.get(word) {
                *counts.entry(index).or_default() += 1.0;
            }
        }
        let mut row: SparseRow = counts
            .into_iter()
            .map(|(index, tf)| (index, (1.0 + tf.ln()) * self.idf[index]))
            .collect();
        row.sort_unstable_by_key(|&(index, _)| index);
        let norm = row.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if norm > 0.0 {
            row.iter_mut().for_each(|(_, w)| *w /= norm);
        }
        row
    }
}

/// A · M for sparse rows A (n × words) and dense M (words × l).
fn sparse_times(rows: &[SparseRow], m: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((rows.len(), m.ncols()));
    for (row, mut target) in rows.iter().zip(out.rows_mut()) {
        for &(index, weight) in row {
            target.scaled_add(weight, &m.row(index));
        }
    }
    out
}

/// Aᵀ · Q for sparse rows A (n × words) and dense Q (n × l).
fn sparse_transpose_times(rows: &[SparseRow], words: usize, q: &Array2<f64>) -> Array2<f64> {
    let mut out = Array2::zeros((words, q.ncols()));
    for (row, source) in rows.iter().zip(q.rows()) {
        for &(index, weight) in row {
            out.row_mut(index).scaled_add(weight, &source);
        }
    }
    out
}

fn orthonormal_basis(y: &Array2<f64>) -> Result<Array2<f64>, EmbedError> {
    let qr = y
        .qr()
        .map_err(|e| EmbedError::Lsa(format!("QR failed: {e}")))?;
    Ok(qr.generate_q())
}

/// The top `dims` right singular vectors of A, each scaled so that A · result = U·Σ:
/// that is V itself (A·V = U·Σ).
fn right_singular_basis(
    rows: &[SparseRow],
    words: usize,
    dims: usize,
) -> Result<Array2<f64>, EmbedError> {
    let n = rows.len();
    let l = (dims + OVERSAMPLE).min(n).min(words);
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    // Gaussian test matrix by Box-Muller.
    let omega = Array2::from_shape_fn((words, l), |_| {
        let (u1, u2): (f64, f64) = (rng.r#gen::<f64>().max(f64::MIN_POSITIVE), rng.r#gen());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    });
    let mut q = orthonormal_basis(&sparse_times(rows, &omega))?;
    for _ in 0..POWER_ITERATIONS {
        let z = orthonormal_basis(&sparse_transpose_times(rows, words, &q))?;
        q = orthonormal_basis(&sparse_times(rows, &z))?;
    }
    // B = Qᵀ A (l × words); B Bᵀ = W Λ Wᵀ gives B's left singular vectors W and σ² = Λ.
    let b = sparse_transpose_times(rows, words, &q).reversed_axes();
    let gram = b.dot(&b.t());
    let (eigenvalues, eigenvectors) = gram
        .eigh()
        .map_err(|e| EmbedError::Lsa(format!("eigendecomposition failed: {e}")))?;
    let mut order: Vec<usize> = (0..eigenvalues.len()).collect();
    order.sort_by(|&a, &b| eigenvalues[b].total_cmp(&eigenvalues[a]));
    // V = Bᵀ W Σ⁻¹, one column per kept dimension (zero where σ is zero).
    let mut v = Array2::zeros((words, dims));
    for (column, &k) in order.iter().take(dims).enumerate() {
        let sigma = eigenvalues[k].max(0.0).sqrt();
        if sigma > 1e-12 {
            let w: Array1<f64> = eigenvectors.column(k).to_owned();
            let vk = b.t().dot(&w) / sigma;
            v.column_mut(column).assign(&vk);
        }
    }
    Ok(v)
}

impl Embedder for LsaEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn name(&self) -> &str {
        "LSA fallback (TF-IDF + SVD)"
    }

    fn is_fallback(&self) -> bool {
        true
    }

    fn dim(&self) -> usize {
        self.projection.ncols()
    }

    /// Unit-length LSA vectors; a text with no known word gets the zero vector.
    fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        let rows: Vec<SparseRow> = texts.iter().map(|text| self.tfidf(&words(text))).collect();
        let dense = sparse_times(&rows, &self.projection);
        Ok(dense
            .axis_iter(Axis(0))
            .map(|row| {
                let norm = row.dot(&row).sqrt();
                row.iter()
                    .map(|&x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 })
                    .collect()
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[test]
    fn similar_texts_are_close_and_topics_apart() {
        let corpus = [
            "red christmas tree decoration",
            "christmas tree lights",
            "christmas bauble decoration",
            "ceramic tea cup",
            "porcelain tea cup and saucer",
            "tea pot ceramic",
            "运动鞋 男款 透气 跑步",
            "女款 运动鞋 跑步",
        ];
        let lsa = LsaEmbedder::fit(&corpus).unwrap();
        assert!(lsa.model_id().starts_with("lsa:"));
        let v = lsa.embed(&corpus).unwrap();
        assert_eq!(v.len(), corpus.len());
        assert!(cosine(&v[0], &v[1]) > cosine(&v[0], &v[3]) + 0.3);
        assert!(cosine(&v[3], &v[4]) > cosine(&v[3], &v[1]) + 0.3);
        assert!(
            cosine(&v[6], &v[7]) > cosine(&v[6], &v[0]) + 0.3,
            "Chinese words are shared"
        );
        for vector in &v {
            let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5);
        }
        // Seeded: fitting again gives the same vectors.
        assert_eq!(
            LsaEmbedder::fit(&corpus).unwrap().embed(&corpus).unwrap(),
            v
        );
        // Unknown words only: the zero vector, not NaN.
        let unknown = lsa.embed(&["zzz qqq"]).unwrap();
        assert!(unknown[0].iter().all(|&x| x == 0.0));
    }

    #[test]
    fn no_words_is_a_clear_error() {
        let err = LsaEmbedder::fit(&["", "12", "the of"]).err().unwrap();
        assert!(err.to_string().contains("no words"), "{err}");
    }

    #[test]
    fn a_single_item_still_embeds() {
        let lsa = LsaEmbedder::fit(&["one lonely item"]).unwrap();
        assert_eq!(lsa.dim(), 1);
        assert_eq!(lsa.embed(&["lonely"]).unwrap()[0].len(), 1);
    }
}
