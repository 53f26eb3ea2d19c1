//! The recommender's kept fit (issue 16): one row holding the encoded item model of the last
//! full fit, replaced whole in one statement, so a crash leaves the old fit or the new one.

use rusqlite::{OptionalExtension, params};

use super::{Store, StoreError};

/// The kept fit as stored: its encoding's version, when it was made, and its bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptFitRow {
    pub format: i64,
    pub fitted_at: i64,
    pub model: Vec<u8>,
}

impl Store {
    /// The kept fit's format and size in bytes, without reading it (for the memory budget).
    pub fn kept_fit_size(&self) -> Result<Option<(i64, u64)>, StoreError> {
        self.conn
            .query_row(
                "SELECT format, length(model) FROM recommender_fit WHERE fit_id = 1",
                [],
                |row| Ok((row.get(0)?, row.get::<_, i64>(1)?.max(0) as u64)),
            )
            .optional()
            .map_err(|e| self.sqlite_err(e))
    }

    /// The kept fit, if one was kept.
    pub fn kept_fit(&self) -> Result<Option<KeptFitRow>, StoreError> {
        self.conn
            .query_row(
                "SELECT format, fitted_at, model FROM recommender_fit WHERE fit_id = 1",
                [],
                |row| {
                    Ok(KeptFitRow {
                        format: row.get(0)?,
                        fitted_at: row.get(1)?,
                        model: row.get(2)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.sqlite_err(e))
    }

    /// Keeps `model` (encoded in `format`) in place of any earlier fit.
    pub fn keep_fit(&mut self, format: i64, model: &[u8]) -> Result<(), StoreError> {
        let now = chrono::Utc::now().timestamp();
        self.conn
            .prepare_cached(
                "INSERT INTO recommender_fit (fit_id, format, fitted_at, model) VALUES (1, ?1, ?2, ?3) \
                 ON CONFLICT (fit_id) DO UPDATE SET format = excluded.format, \
                 fitted_at = excluded.fitted_at, model = excluded.model",
            )
            .and_then(|mut statement| statement.execute(params![format, now, model]))
            .map_err(|e| self.sqlite_err(e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_fit_is_replaced_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("p.strata")).unwrap();
        assert_eq!(store.kept_fit().unwrap(), None);
        assert_eq!(store.kept_fit_size().unwrap(), None);
        store.keep_fit(1, &[1, 2, 3]).unwrap();
        store.keep_fit(2, &[4, 5]).unwrap();
        let kept = store.kept_fit().unwrap().unwrap();
        assert_eq!((kept.format, kept.model), (2, vec![4, 5]));
        assert_eq!(store.kept_fit_size().unwrap(), Some((2, 2)));
    }
}
