//! The project file: one SQLite database per project.
//!
//! WAL journal, foreign keys on, schema upgraded by append-only migrations
//! recorded in `user_version` and marked as Strata's by `application_id`, so a
//! project from a newer Strata or a stranger's database is refused, not damaged.
//! Every bulk write is one transaction: it lands whole or not at all.

mod error;
mod schema;

pub use error::StoreError;
pub use schema::{APPLICATION_ID, latest_version};

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use crate::pipeline::{Cancelled, JobContext};

/// One catalogue item as stored.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemRow {
    pub item_id: String,
    pub title: String,
    pub description: String,
    pub category: String,
    /// Other columns of the source file, as a JSON object.
    pub extra: String,
}

/// One user–item event as stored; `(user_id, item_id, ts)` is unique.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InteractionRow {
    pub user_id: String,
    pub item_id: String,
    /// Unix seconds (UTC, or the shop's wall clock when the file has no zone).
    pub ts: Option<i64>,
    pub quantity: Option<f64>,
    pub rating: Option<f64>,
    /// The order or invoice the event belongs to, when the file says.
    pub basket_id: Option<String>,
}

/// What one import writes, in one transaction.
#[derive(Debug, Default)]
pub struct ImportBatch {
    pub items: Vec<ItemRow>,
    pub interactions: Vec<InteractionRow>,
}

/// Counts shown by `strata info` and the app's status panel.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProjectInfo {
    pub items: u64,
    pub users: u64,
    pub interactions: u64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
}

/// A past import, newest first in [`Store::imports`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ImportLogEntry {
    pub import_id: i64,
    pub kind: String,
    pub source: String,
    /// The import report as JSON.
    pub report: String,
    pub imported_at: i64,
}

/// Why a write stopped: the database failed, or the user cancelled.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// An open project.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

const ROWS_PER_PROGRESS: usize = 20_000;

impl Store {
    /// Opens the project at `path`, creating it when the file is missing or empty.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref().to_path_buf();
        let open_err = |source| StoreError::Open {
            path: path.clone(),
            source,
        };
        let conn = Connection::open_with_flags(
            &path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        let mut store = Self { conn, path };
        store.check_identity()?;
        store.configure()?;
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn sqlite_err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Refuses files that are not SQLite, belong to another application, or come from a newer Strata.
    fn check_identity(&self) -> Result<(), StoreError> {
        let not_a_project = |reason: &str| StoreError::NotAProject {
            path: self.path.clone(),
            reason: reason.to_owned(),
        };
        let app_id: i64 = match self
            .conn
            .query_row("PRAGMA application_id", [], |row| row.get(0))
        {
            Ok(id) => id,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(not_a_project("the file is not an SQLite database"));
            }
            Err(e) => return Err(self.sqlite_err(e)),
        };
        let user_version = self.user_version()?;
        if app_id == 0 {
            let tables: i64 = self
                .conn
                .query_row("SELECT count(*) FROM sqlite_master", [], |row| row.get(0))
                .map_err(|e| self.sqlite_err(e))?;
            if tables > 0 || user_version != 0 {
                return Err(not_a_project(
                    "an SQLite database of another application; Strata leaves it alone",
                ));
            }
        } else if app_id != APPLICATION_ID {
            return Err(not_a_project(&format!(
                "an SQLite database of another application (application_id {app_id:#x})"
            )));
        }
        if user_version > latest_version() {
            return Err(StoreError::TooNew {
                path: self.path.clone(),
                found: user_version,
                supported: latest_version(),
            });
        }
        Ok(())
    }

    fn user_version(&self) -> Result<i64, StoreError> {
        self.conn
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|e| self.sqlite_err(e))
    }

    fn configure(&self) -> Result<(), StoreError> {
        self.conn
            .execute_batch(
                "PRAGMA journal_mode = WAL;
                 PRAGMA synchronous = NORMAL;
                 PRAGMA foreign_keys = ON;
                 PRAGMA busy_timeout = 5000;",
            )
            .map_err(|e| self.sqlite_err(e))
    }

    /// Runs the missing migrations in one exclusive transaction.
    fn migrate(&mut self) -> Result<(), StoreError> {
        let path = self.path.clone();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Exclusive)
            .map_err(|source| StoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
        let current: i64 = tx
            .query_row("PRAGMA user_version", [], |row| row.get(0))
            .map_err(|source| StoreError::Sqlite {
                path: path.clone(),
                source,
            })?;
        if current == latest_version() {
            return Ok(());
        }
        for (index, sql) in schema::MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = index as i64 + 1;
            tx.execute_batch(sql)
                .and_then(|()| tx.pragma_update(None, "user_version", version))
                .map_err(|source| StoreError::Migration {
                    path: path.clone(),
                    version,
                    source,
                })?;
        }
        tx.pragma_update(None, "application_id", APPLICATION_ID)
            .and_then(|()| tx.commit())
            .map_err(|source| StoreError::Sqlite { path, source })
    }

    /// Schema version of the open project.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        self.user_version()
    }

    pub fn info(&self) -> Result<ProjectInfo, StoreError> {
        let q = |sql: &str| -> Result<i64, StoreError> {
            self.conn
                .query_row(sql, [], |row| row.get(0))
                .map_err(|e| self.sqlite_err(e))
        };
        let (first_ts, last_ts) = self
            .conn
            .query_row("SELECT min(ts), max(ts) FROM interactions", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .map_err(|e| self.sqlite_err(e))?;
        Ok(ProjectInfo {
            items: q("SELECT count(*) FROM items")? as u64,
            users: q("SELECT count(DISTINCT user_id) FROM interactions")? as u64,
            interactions: q("SELECT count(*) FROM interactions")? as u64,
            first_ts,
            last_ts,
        })
    }

    /// Every item id in the catalogue (to validate histories against).
    pub fn item_ids(&self) -> Result<HashSet<String>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT item_id FROM items")
            .map_err(|e| self.sqlite_err(e))?;
        let ids = stmt
            .query_map([], |row| row.get(0))
            .and_then(|rows| rows.collect::<Result<HashSet<String>, _>>())
            .map_err(|e| self.sqlite_err(e))?;
        Ok(ids)
    }

    /// One item by id.
    pub fn item(&self, item_id: &str) -> Result<Option<ItemRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT item_id, title, description, category, extra FROM items WHERE item_id = ?1",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_row([item_id], |row| {
            Ok(ItemRow {
                item_id: row.get(0)?,
                title: row.get(1)?,
                description: row.get(2)?,
                category: row.get(3)?,
                extra: row.get(4)?,
            })
        })
        .optional()
        .map_err(|e| self.sqlite_err(e))
    }

    /// A user's interactions, oldest first (rows without a time last).
    pub fn user_interactions(&self, user_id: &str) -> Result<Vec<InteractionRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT user_id, item_id, ts, quantity, rating, basket_id FROM interactions
                 WHERE user_id = ?1 ORDER BY ts IS NULL, ts, rowid",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([user_id], |row| {
            Ok(InteractionRow {
                user_id: row.get(0)?,
                item_id: row.get(1)?,
                ts: row.get(2)?,
                quantity: row.get(3)?,
                rating: row.get(4)?,
                basket_id: row.get(5)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sqlite_err(e))
    }

    /// Past imports, newest first.
    pub fn imports(&self) -> Result<Vec<ImportLogEntry>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT import_id, kind, source, report, imported_at FROM imports ORDER BY import_id DESC",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([], |row| {
            Ok(ImportLogEntry {
                import_id: row.get(0)?,
                kind: row.get(1)?,
                source: row.get(2)?,
                report: row.get(3)?,
                imported_at: row.get(4)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sqlite_err(e))
    }

    /// Writes one import in one transaction: items upserted by id, interactions upserted by
    /// (user, item, time), and the report logged. Cancelled or failed, nothing is written.
    pub fn write_import(
        &mut self,
        batch: &ImportBatch,
        kind: &str,
        source: &str,
        report_json: &str,
        job: &JobContext,
    ) -> Result<(), WriteError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let total = (batch.items.len() + batch.interactions.len()) as u64;
        let mut done = 0u64;
        {
            let mut upsert_item = tx
                .prepare_cached(
                    "INSERT INTO items (item_id, title, description, category, extra)
                     VALUES (?1, ?2, ?3, ?4, ?5)
                     ON CONFLICT (item_id) DO UPDATE SET title = excluded.title,
                        description = excluded.description, category = excluded.category,
                        extra = excluded.extra",
                )
                .map_err(err)?;
            for chunk in batch.items.chunks(ROWS_PER_PROGRESS) {
                job.check()?;
                for item in chunk {
                    upsert_item
                        .execute(params![
                            item.item_id,
                            item.title,
                            item.description,
                            item.category,
                            item.extra
                        ])
                        .map_err(err)?;
                }
                done += chunk.len() as u64;
                job.progress("writing", done, total);
            }
            let mut upsert_interaction = tx
                .prepare_cached(
                    "INSERT INTO interactions (user_id, item_id, ts, quantity, rating, basket_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (user_id, item_id, ifnull(ts, -1)) DO UPDATE SET
                        quantity = excluded.quantity, rating = excluded.rating,
                        basket_id = excluded.basket_id",
                )
                .map_err(err)?;
            for chunk in batch.interactions.chunks(ROWS_PER_PROGRESS) {
                job.check()?;
                for row in chunk {
                    upsert_interaction
                        .execute(params![
                            row.user_id,
                            row.item_id,
                            row.ts,
                            row.quantity,
                            row.rating,
                            row.basket_id
                        ])
                        .map_err(err)?;
                }
                done += chunk.len() as u64;
                job.progress("writing", done, total);
            }
            tx.prepare_cached(
                "INSERT INTO imports (kind, source, report, imported_at) VALUES (?1, ?2, ?3, unixepoch())",
            )
            .and_then(|mut stmt| stmt.execute(params![kind, source, report_json]))
            .map_err(err)?;
        }
        job.check()?;
        tx.commit().map_err(err)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str, title: &str) -> ItemRow {
        ItemRow {
            item_id: id.into(),
            title: title.into(),
            description: String::new(),
            category: String::new(),
            extra: "{}".into(),
        }
    }

    fn event(user: &str, item: &str, ts: Option<i64>, quantity: f64) -> InteractionRow {
        InteractionRow {
            user_id: user.into(),
            item_id: item.into(),
            ts,
            quantity: Some(quantity),
            rating: None,
            basket_id: None,
        }
    }

    #[test]
    fn new_project_has_latest_schema_wal_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path().join("p.strata")).unwrap();
        assert_eq!(store.schema_version().unwrap(), latest_version());
        let mode: String = store
            .conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = store
            .conn
            .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[test]
    fn upserts_do_not_double_including_rows_without_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("p.strata")).unwrap();
        let batch = ImportBatch {
            items: vec![item("a", "A"), item("b", "B")],
            interactions: vec![event("u1", "a", Some(10), 1.0), event("u1", "b", None, 2.0)],
        };
        for _ in 0..2 {
            store
                .write_import(&batch, "test", "mem", "{}", &JobContext::silent())
                .unwrap();
        }
        let info = store.info().unwrap();
        assert_eq!((info.items, info.users, info.interactions), (2, 1, 2));
        assert_eq!((info.first_ts, info.last_ts), (Some(10), Some(10)));
        assert_eq!(store.imports().unwrap().len(), 2);
    }

    #[test]
    fn cancelled_write_leaves_project_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("p.strata")).unwrap();
        let cancel = std::sync::atomic::AtomicBool::new(true);
        let job = JobContext::new(&|_| {}, &cancel);
        let batch = ImportBatch {
            items: vec![item("a", "A")],
            interactions: vec![],
        };
        let err = store.write_import(&batch, "test", "mem", "{}", &job);
        assert!(matches!(err, Err(WriteError::Cancelled(_))));
        assert_eq!(store.info().unwrap(), ProjectInfo::default());
    }
}
