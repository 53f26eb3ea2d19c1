//! The embedding cache: little-endian f32 vectors keyed by (model id, text hash).

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// A vector's key in the cache: SHA-256 of the exact text embedded.
pub type TextHash = [u8; 32];

impl Store {
    /// The cached vector of `text_hash` under `model_id`, if any.
    pub fn cached_vector(
        &self,
        model_id: &str,
        text_hash: &TextHash,
    ) -> Result<Option<Vec<f32>>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT vector FROM embeddings WHERE model_id = ?1 AND text_hash = ?2")
            .map_err(|e| self.sqlite_err(e))?;
        let blob: Option<Vec<u8>> = stmt
            .query_row(params![model_id, &text_hash[..]], |r| r.get(0))
            .optional()
            .map_err(|e| self.sqlite_err(e))?;
        Ok(blob.map(|b| decode(&b)))
    }

    /// Stores one batch of vectors in one transaction: a run that dies keeps its finished batches.
    pub fn store_vectors(
        &mut self,
        model_id: &str,
        vectors: &[(TextHash, Vec<f32>)],
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        {
            let mut insert = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO embeddings (model_id, text_hash, dim, vector) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for (hash, vector) in vectors {
                insert
                    .execute(params![
                        model_id,
                        &hash[..],
                        vector.len() as i64,
                        encode(vector)
                    ])
                    .map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    /// Records which embedder made the project's current vectors (see [`EmbeddingInfo`]).
    pub fn set_embedding(&mut self, info: &EmbeddingInfo) -> Result<(), StoreError> {
        let value = serde_json::to_string(info).map_err(|e| self.corrupt("embedding", e))?;
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES ('embedding', ?1) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut statement| statement.execute([value]))
            .map_err(|e| self.sqlite_err(e))?;
        Ok(())
    }

    /// The embedder that made the project's current vectors, if it was ever embedded.
    pub fn embedding(&self) -> Result<Option<EmbeddingInfo>, StoreError> {
        let value: Option<String> = self
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'embedding'",
                [],
                |row| row.get(0),
            )
            .optional()
            .map_err(|e| self.sqlite_err(e))?;
        value
            .map(|v| serde_json::from_str(&v).map_err(|e| self.corrupt("embedding record", e)))
            .transpose()
    }

    /// How many vectors the cache holds for `model_id`.
    pub fn cached_vector_count(&self, model_id: &str) -> Result<u64, StoreError> {
        self.conn
            .query_row(
                "SELECT count(*) FROM embeddings WHERE model_id = ?1",
                [model_id],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n as u64)
            .map_err(|e| self.sqlite_err(e))
    }
}

fn encode(vector: &[f32]) -> Vec<u8> {
    vector.iter().flat_map(|x| x.to_le_bytes()).collect()
}

fn decode(blob: &[u8]) -> Vec<f32> {
    blob.chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn vectors_round_trip_bit_exact() {
        let v = vec![0.0f32, -1.5, f32::MIN_POSITIVE, 1e-30, 3.25];
        assert_eq!(super::decode(&super::encode(&v)), v);
    }
}

/// Which embedder made a project's vectors.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EmbeddingInfo {
    pub model_id: String,
    /// What the user knows it by: a repo id, a folder name, or "LSA fallback".
    pub name: String,
    pub dim: usize,
    /// True for the LSA fallback (TF-IDF + SVD), not a neural model.
    pub fallback: bool,
}
