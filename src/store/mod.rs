//! The project file: one SQLite database per project.
//!
//! WAL journal, foreign keys on, schema upgraded by append-only migrations
//! recorded in `user_version` and marked as Strata's by `application_id`, so a
//! project from a newer Strata or a stranger's database is refused, not damaged.
//! Every bulk write is one transaction: it lands whole or not at all.

mod error;
mod fits;
mod histories;
mod layers;
mod schema;
mod vectors;
mod write;

pub use error::StoreError;
pub use fits::KeptFitRow;
pub use histories::{Event, EventRow, Histories, Interner, KeyPlan, NewEvent};
pub use layers::{ItemLayerRow, Placements, StoredLayerRun, display_name};
pub use schema::{APPLICATION_ID, latest_version};
pub use vectors::{EmbeddingInfo, TextHash};

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::Serialize;

use crate::pipeline::Cancelled;

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

/// Other names of catalogue items: variant SKU → item id, title → item id (the first item
/// with that title).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ItemAliases {
    pub skus: HashMap<String, String>,
    pub titles: HashMap<String, String>,
}

/// One user–item event as read back; `(user_id, item_id, ts)` is unique.
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
    /// Upserted by `item_id`.
    pub items: Vec<ItemRow>,
    /// Upserted by (user, item, time); every item must be in the catalogue once `items` is written.
    pub histories: Histories,
}

/// Counts shown by `strata info` and the app's status panel.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ProjectInfo {
    pub items: u64,
    pub users: u64,
    pub interactions: u64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// The embedder that made the current vectors; `None` before the first `strata embed`.
    pub embedding: Option<EmbeddingInfo>,
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

/// Why a write stopped: the database failed, the batch named an item the project
/// lacks (an importer bug: importers check first), or the user cancelled.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{path}: an interaction names item '{item_id}', which is not in the catalogue")]
    UnknownItem { path: PathBuf, item_id: String },
    #[error("could not start the parser thread: {0}")]
    Thread(std::io::Error),
    #[error(transparent)]
    Cancelled(#[from] Cancelled),
}

/// An [`ItemRow`] from `SELECT item_id, title, description, category, extra`.
fn item_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ItemRow> {
    Ok(ItemRow {
        item_id: row.get(0)?,
        title: row.get(1)?,
        description: row.get(2)?,
        category: row.get(3)?,
        extra: row.get(4)?,
    })
}

/// How long opening a project waits for another Strata that holds it.
pub const BUSY_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// An open project.
pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens the project at `path`, creating it when the file is missing or empty. While
    /// another Strata holds the file (creating or migrating it, or writing), this waits up to
    /// [`BUSY_WAIT`] and then says the project is busy.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        let started = std::time::Instant::now();
        loop {
            match Self::open_once(path) {
                Err(e) if e.is_busy() => {
                    if started.elapsed() >= BUSY_WAIT {
                        return Err(StoreError::Busy {
                            path: path.to_path_buf(),
                            seconds: BUSY_WAIT.as_secs(),
                        });
                    }
                    // SQLite's busy handler does not cover every step of opening (switching
                    // a new file to WAL, for one): try the whole open again.
                    std::thread::sleep(std::time::Duration::from_millis(25));
                }
                other => return other,
            }
        }
    }

    fn open_once(path: &Path) -> Result<Self, StoreError> {
        let path = path.to_path_buf();
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
        // Another Strata may be creating the same project this moment: wait for its lock.
        conn.busy_timeout(BUSY_WAIT).map_err(open_err)?;
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

    fn corrupt(&self, what: &'static str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            what,
            reason: reason.to_string(),
        }
    }

    /// Refuses files that are not SQLite, belong to another application, or come from a newer Strata.
    fn check_identity(&self) -> Result<(), StoreError> {
        let not_a_project = |reason: &str| StoreError::NotAProject {
            path: self.path.clone(),
            reason: reason.to_owned(),
        };
        // One read transaction: the id, the version and the tables are read from one
        // snapshot, so a project another process is creating this moment is seen either
        // empty or whole (issue 14), never as its tables without its id.
        let snapshot = match self.conn.unchecked_transaction() {
            Ok(tx) => tx,
            Err(rusqlite::Error::SqliteFailure(e, _))
                if e.code == rusqlite::ErrorCode::NotADatabase =>
            {
                return Err(not_a_project("the file is not an SQLite database"));
            }
            Err(e) => return Err(self.sqlite_err(e)),
        };
        let app_id: i64 = match snapshot.query_row("PRAGMA application_id", [], |row| row.get(0)) {
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
            let tables: i64 = snapshot
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
                 -- A cap, not an allocation: bulk imports build B-trees of tens of MB,
                 -- and with SQLite's default 2 MB cache their pages spill and are read back.
                 PRAGMA cache_size = -131072;
                 -- Lets CREATE INDEX sort on helper threads.
                 PRAGMA threads = 2;",
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
            users: q("SELECT count(*) FROM users")? as u64,
            interactions: q("SELECT count(*) FROM interactions")? as u64,
            first_ts,
            last_ts,
            embedding: self.embedding()?,
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

    /// The other names the catalogue knows its items by, for orders and logs that do not use
    /// the item id: each variant's SKU (`extra.variants[].sku`, written by the product-export
    /// importers) and each title.
    pub fn item_aliases(&self) -> Result<ItemAliases, StoreError> {
        let query = |sql: &str| -> Result<HashMap<String, String>, StoreError> {
            let mut stmt = self
                .conn
                .prepare_cached(sql)
                .map_err(|e| self.sqlite_err(e))?;
            stmt.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .and_then(|rows| rows.collect())
                .map_err(|e| self.sqlite_err(e))
        };
        Ok(ItemAliases {
            skus: query(
                "SELECT json_extract(v.value, '$.sku'), items.item_id
                 FROM items, json_each(items.extra, '$.variants') AS v
                 WHERE json_valid(items.extra) AND json_extract(v.value, '$.sku') <> ''
                 ORDER BY items.item_key DESC",
            )?,
            titles: query("SELECT title, item_id FROM items ORDER BY item_key DESC")?,
        })
    }

    /// Every item, in catalogue order.
    pub fn items(&self) -> Result<Vec<ItemRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT item_id, title, description, category, extra FROM items ORDER BY item_key",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([], item_from_row)
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sqlite_err(e))
    }

    /// One item by id.
    pub fn item(&self, item_id: &str) -> Result<Option<ItemRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT item_id, title, description, category, extra FROM items WHERE item_id = ?1",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_row([item_id], item_from_row)
            .optional()
            .map_err(|e| self.sqlite_err(e))
    }

    /// A user's interactions, oldest first (rows without a time last).
    pub fn user_interactions(&self, user_id: &str) -> Result<Vec<InteractionRow>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT u.user_id, i.item_id, x.ts, x.quantity, x.rating, x.basket_id
                 FROM interactions x JOIN users u USING (user_key) JOIN items i USING (item_key)
                 WHERE u.user_id = ?1 ORDER BY x.ts IS NULL, x.ts, x.rowid",
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

    /// Every interaction as (user_id, item_key, ts, quantity, rating), user by user, oldest
    /// first: what the recommender learns from.
    #[allow(clippy::type_complexity)]
    pub fn interaction_keys(
        &self,
    ) -> Result<Vec<(String, i64, Option<i64>, Option<f64>, Option<f64>)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT u.user_id, x.item_key, x.ts, x.quantity, x.rating
                 FROM interactions x JOIN users u USING (user_key)
                 ORDER BY x.user_key, x.ts IS NULL, x.ts, x.rowid",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([], |row| {
            Ok((
                row.get(0)?,
                row.get(1)?,
                row.get(2)?,
                row.get(3)?,
                row.get(4)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sqlite_err(e))
    }

    /// A project setting stored as JSON text under `key` (see [`Store::set_meta`]).
    pub fn meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |row| {
                row.get(0)
            })
            .optional()
            .map_err(|e| self.sqlite_err(e))
    }

    /// Stores a project setting (e.g. the blend `strata evaluate` chose).
    pub fn set_meta(&mut self, key: &str, value: &str) -> Result<(), StoreError> {
        self.conn
            .prepare_cached(
                "INSERT INTO meta (key, value) VALUES (?1, ?2) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            )
            .and_then(|mut statement| statement.execute([key, value]))
            .map_err(|e| self.sqlite_err(e))?;
        Ok(())
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
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::JobContext;

    fn item(id: &str, title: &str) -> ItemRow {
        ItemRow {
            item_id: id.into(),
            title: title.into(),
            description: String::new(),
            category: String::new(),
            extra: "{}".into(),
        }
    }

    /// Issue 14: two Stratas creating the same new project at once both open it (one waits
    /// for the other's lock); neither takes it for another application's database.
    #[test]
    fn two_openers_of_a_new_project_both_succeed_issue_14() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..20 {
            let path = dir.path().join(format!("race{round}.strata"));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let openers: Vec<_> = (0..2)
                .map(|_| {
                    let (path, barrier) = (path.clone(), barrier.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Store::open(&path).map(|s| s.schema_version().unwrap())
                    })
                })
                .collect();
            for opener in openers {
                let version = opener
                    .join()
                    .unwrap()
                    .unwrap_or_else(|e| panic!("round {round}: {e}"));
                assert_eq!(version, latest_version());
            }
        }
    }

    /// Writes `items` and `events` the way an importer does.
    fn write(
        store: &mut Store,
        items: &[ItemRow],
        events: &[(&str, &str, Option<i64>, f64)],
        job: &JobContext,
    ) -> Result<ImportBatch, WriteError> {
        store.import_with("test", "mem", job, |mut histories| {
            for &(user_id, item_id, ts, quantity) in events {
                histories.add(NewEvent {
                    user_id,
                    item_id,
                    ts,
                    quantity: Some(quantity),
                    ..NewEvent::default()
                });
            }
            let items = items.to_vec();
            Ok::<_, WriteError>((ImportBatch { items, histories }, "{}".to_owned()))
        })
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
        let items = [item("a", "A"), item("b", "B")];
        let events = [("u1", "a", Some(10), 1.0), ("u1", "b", None, 2.0)];
        for _ in 0..2 {
            write(&mut store, &items, &events, &JobContext::silent()).unwrap();
        }
        let info = store.info().unwrap();
        assert_eq!((info.items, info.users, info.interactions), (2, 1, 2));
        assert_eq!((info.first_ts, info.last_ts), (Some(10), Some(10)));
        assert_eq!(store.imports().unwrap().len(), 2);
        // Item keys stay put when an item is imported again.
        let key: i64 = store
            .conn
            .query_row("SELECT item_key FROM items WHERE item_id = 'b'", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(key, 2);
    }

    /// A row merging into an event already streamed to the writer rewrites it, into an
    /// empty table (by rowid) and into one with rows (by upsert).
    #[test]
    fn late_merges_into_streamed_events_are_written_in_final_form() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("p.strata")).unwrap();
        let users: Vec<String> = (0..10_000).map(|i| format!("u{i}")).collect();
        let mut events: Vec<(&str, &str, Option<i64>, f64)> = users
            .iter()
            .map(|u| (u.as_str(), "a", Some(1), 1.0))
            .collect();
        events.push(("u0", "a", Some(1), 4.0));
        events.push(("u1", "a", Some(1), 2.0));
        for round in 0..2 {
            write(
                &mut store,
                &[item("a", "A")],
                &events,
                &JobContext::silent(),
            )
            .unwrap();
            let q = |user: &str| -> f64 {
                store
                    .conn
                    .query_row(
                        "SELECT quantity FROM interactions JOIN users USING (user_key) WHERE user_id = ?1",
                        [user],
                        |r| r.get(0),
                    )
                    .unwrap()
            };
            assert_eq!(
                (q("u0"), q("u1"), q("u9999")),
                (5.0, 3.0, 1.0),
                "round {round}"
            );
            assert_eq!(store.info().unwrap().interactions, 10_000);
            // Imports write with foreign keys off; the connection gets them back.
            let fk: i64 = store
                .conn
                .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
                .unwrap();
            assert_eq!(fk, 1);
        }
    }

    #[test]
    fn events_for_items_missing_from_the_catalogue_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("p.strata")).unwrap();
        let err = write(
            &mut store,
            &[item("a", "A")],
            &[("u1", "zzz", None, 1.0)],
            &JobContext::silent(),
        );
        assert!(
            matches!(err, Err(WriteError::UnknownItem { ref item_id, .. }) if item_id == "zzz"),
            "{err:?}"
        );
        assert_eq!(store.info().unwrap(), ProjectInfo::default());
    }

    #[test]
    fn cancelled_write_leaves_project_unchanged() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(dir.path().join("p.strata")).unwrap();
        let cancel = std::sync::atomic::AtomicBool::new(true);
        let job = JobContext::new(&|_| {}, &cancel);
        let err = write(
            &mut store,
            &[item("a", "A")],
            &[("u1", "a", None, 1.0)],
            &job,
        );
        assert!(matches!(err, Err(WriteError::Cancelled(_))), "{err:?}");
        assert_eq!(store.info().unwrap(), ProjectInfo::default());
    }
}
