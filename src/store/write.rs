//! Bulk imports: one transaction, with parsing and writing on two threads.
//!
//! The store plans every item and user key first ([`KeyPlan`]), so the parser
//! can hand finished events to this thread while it reads on. Events arrive
//! before their items and users, so foreign keys are off for the transaction
//! (checked per parent row they would scan the whole table); integrity holds by
//! construction instead: planned keys are either stored ones or new items that
//! the batch must contain, and every user the events name is written.
//! Loading into an empty table, indexes are dropped and rebuilt once at the end
//! (SQLite sorts instead of inserting into B-trees row by row), and events carry
//! explicit rowids so a later merge can rewrite them. Any error or cancel, on
//! either thread, rolls everything back.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, sync_channel};

use rusqlite::{Statement, Transaction, TransactionBehavior, params};

use super::histories::{EventRow, Histories, KeyPlan};
use super::{ImportBatch, Store, StoreError, WriteError};
use crate::pipeline::JobContext;

/// Chunks in flight between the parser and the writer.
const CHUNKS_IN_FLIGHT: usize = 8;

/// Inserts (or, into a non-empty table, upserts) event rows.
struct EventWriter<'tx> {
    /// Into an empty table: plain inserts with rowid = position in the batch + 1.
    empty: bool,
    insert: Statement<'tx>,
    /// Rewrites a merged event by rowid (empty table only; otherwise upserting again does it).
    rewrite: Option<Statement<'tx>>,
}

impl<'tx> EventWriter<'tx> {
    fn new(tx: &'tx Transaction<'_>, empty: bool) -> rusqlite::Result<Self> {
        if empty {
            Ok(Self {
                empty,
                insert: tx.prepare(
                    "INSERT INTO interactions (rowid, user_key, item_key, ts, quantity, rating, basket_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?,
                rewrite: Some(tx.prepare(
                    "UPDATE interactions SET quantity = ?2, rating = ?3, basket_id = ?4 WHERE rowid = ?1",
                )?),
            })
        } else {
            Ok(Self {
                empty,
                insert: tx.prepare(
                    "INSERT INTO interactions (user_key, item_key, ts, quantity, rating, basket_id)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (user_key, item_key, ifnull(ts, -1)) DO UPDATE SET
                        quantity = excluded.quantity, rating = excluded.rating,
                        basket_id = excluded.basket_id",
                )?,
                rewrite: None,
            })
        }
    }

    fn insert(&mut self, rows: &[EventRow]) -> rusqlite::Result<()> {
        for row in rows {
            let basket = row.basket_id.as_deref();
            if self.empty {
                let rowid = i64::from(row.index) + 1;
                self.insert.execute(params![
                    rowid,
                    row.user_key,
                    row.item_key,
                    row.ts,
                    row.quantity,
                    row.rating,
                    basket
                ])?;
            } else {
                self.insert.execute(params![
                    row.user_key,
                    row.item_key,
                    row.ts,
                    row.quantity,
                    row.rating,
                    basket
                ])?;
            }
        }
        Ok(())
    }

    /// Writes merged events in their final form.
    fn rewrite(&mut self, rows: &[EventRow]) -> rusqlite::Result<()> {
        let Some(rewrite) = &mut self.rewrite else {
            return self.insert(rows);
        };
        for row in rows {
            let rowid = i64::from(row.index) + 1;
            rewrite.execute(params![
                rowid,
                row.quantity,
                row.rating,
                row.basket_id.as_deref()
            ])?;
        }
        Ok(())
    }
}

impl Store {
    /// Runs `produce` (the parser) on a thread of its own, named `strata-parse`, with
    /// histories that stream to this thread, and writes its batch in one transaction.
    /// `produce` returns the batch and the import report (JSON) for the import log.
    pub fn import_with<E>(
        &mut self,
        kind: &str,
        source: &str,
        job: &JobContext,
        produce: impl FnOnce(Histories) -> Result<(ImportBatch, String), E> + Send,
    ) -> Result<ImportBatch, E>
    where
        E: From<WriteError> + Send,
    {
        // Only outside a transaction can foreign keys be switched; back on whatever happens.
        self.set_foreign_keys(false)?;
        let result = self.import_in_transaction(kind, source, job, produce);
        let restored = self.set_foreign_keys(true);
        let batch = result?;
        restored?;
        Ok(batch)
    }

    fn set_foreign_keys(&self, on: bool) -> Result<(), WriteError> {
        self.conn
            .pragma_update(None, "foreign_keys", on)
            .map_err(|source| {
                WriteError::Store(StoreError::Sqlite {
                    path: self.path.clone(),
                    source,
                })
            })
    }

    fn import_in_transaction<E>(
        &mut self,
        kind: &str,
        source: &str,
        job: &JobContext,
        produce: impl FnOnce(Histories) -> Result<(ImportBatch, String), E> + Send,
    ) -> Result<ImportBatch, E>
    where
        E: From<WriteError> + Send,
    {
        let path = self.path.clone();
        let err = |source| {
            WriteError::Store(StoreError::Sqlite {
                path: path.clone(),
                source,
            })
        };
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let plan = load_key_plan(&tx).map_err(err)?;
        let empty: bool = tx
            .query_row("SELECT NOT EXISTS (SELECT 1 FROM interactions)", [], |r| {
                r.get(0)
            })
            .map_err(err)?;
        let deferred_indexes = if empty {
            drop_indexes(&tx).map_err(err)?
        } else {
            Vec::new()
        };
        let mut writer = EventWriter::new(&tx, empty).map_err(err)?;

        let (sink, chunks) = sync_channel(CHUNKS_IN_FLIGHT);
        let histories = Histories::streaming(plan, sink);
        let (parsed, streamed) = std::thread::scope(|scope| {
            let parser = std::thread::Builder::new()
                .name("strata-parse".into())
                .spawn_scoped(scope, move || {
                    // Close the stream here, on the parser's side: the batch keeps the histories.
                    produce(histories).map(|(mut batch, report)| {
                        batch.histories.close_sink();
                        (batch, report)
                    })
                })
                .map_err(WriteError::Thread)?;
            let streamed = write_chunks(&mut writer, chunks, job, &err);
            // `chunks` is dropped by now: a parser still sending learns the writer stopped.
            let parsed = parser
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            Ok::<_, WriteError>((parsed, streamed))
        })?;
        // A parse error explains a stopped writer better than the writer's own error.
        let (mut batch, report_json) = parsed?;
        streamed?;
        job.progress("writing", 1, 4);
        writer.insert(&batch.histories.unsent_rows()).map_err(err)?;
        writer.rewrite(&batch.histories.dirty_rows()).map_err(err)?;
        drop(writer);
        job.check().map_err(WriteError::from)?;
        job.progress("writing", 2, 4);
        write_items_and_users(&tx, &mut batch, &path).map_err(E::from)?;
        job.progress("writing", 3, 4);
        for (_, sql) in &deferred_indexes {
            tx.execute_batch(sql).map_err(err)?;
        }
        tx.prepare_cached("INSERT INTO imports (kind, source, report, imported_at) VALUES (?1, ?2, ?3, unixepoch())")
            .and_then(|mut stmt| stmt.execute(params![kind, source, report_json]))
            .map_err(err)?;
        job.check().map_err(WriteError::from)?;
        tx.commit().map_err(err)?;
        job.progress("writing", 4, 4);
        Ok(batch)
    }
}

/// Writes chunks as the parser sends them, until it is done or something fails.
fn write_chunks(
    writer: &mut EventWriter<'_>,
    chunks: Receiver<Vec<EventRow>>,
    job: &JobContext,
    err: &impl Fn(rusqlite::Error) -> WriteError,
) -> Result<(), WriteError> {
    for chunk in chunks {
        job.check()?;
        writer.insert(&chunk).map_err(err)?;
    }
    Ok(())
}

/// Existing keys, and where new ones start.
fn load_key_plan(tx: &Transaction<'_>) -> rusqlite::Result<KeyPlan> {
    let mut plan = KeyPlan::default();
    let mut stmt = tx.prepare("SELECT item_id, item_key FROM items")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let key: i64 = row.get(1)?;
        plan.next_item = plan.next_item.max(key);
        plan.items.insert(Arc::from(row.get_ref(0)?.as_str()?), key);
    }
    let mut stmt = tx.prepare("SELECT user_id, user_key FROM users")?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let key: i64 = row.get(1)?;
        plan.next_user = plan.next_user.max(key);
        plan.users.insert(Arc::from(row.get_ref(0)?.as_str()?), key);
    }
    Ok(plan)
}

/// Drops the interaction indexes, returning their SQL to recreate them: taken from the
/// schema itself, so later migrations cannot drift from it.
fn drop_indexes(tx: &Transaction<'_>) -> rusqlite::Result<Vec<(String, String)>> {
    let indexes = tx
        .prepare(
            "SELECT name, sql FROM sqlite_master
             WHERE type = 'index' AND tbl_name = 'interactions' AND sql IS NOT NULL",
        )?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<Result<Vec<(String, String)>, _>>()?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    Ok(indexes)
}

/// Items upserted by id (new ones with their planned keys), then every user the events name.
fn write_items_and_users(
    tx: &Transaction<'_>,
    batch: &mut ImportBatch,
    path: &std::path::Path,
) -> Result<(), WriteError> {
    let err = |source| {
        WriteError::Store(StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        })
    };
    let plan = &mut batch.histories.plan;
    let mut upsert_item = tx
        .prepare_cached(
            "INSERT INTO items (item_key, item_id, title, description, category, extra)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT (item_id) DO UPDATE SET title = excluded.title,
                description = excluded.description, category = excluded.category, extra = excluded.extra",
        )
        .map_err(err)?;
    let mut written = rustc_hash::FxHashSet::default();
    for item in &batch.items {
        let id: Arc<str> = Arc::from(item.item_id.as_str());
        let key = plan.item_key(&id);
        upsert_item
            .execute(params![
                key,
                item.item_id,
                item.title,
                item.description,
                item.category,
                item.extra
            ])
            .map_err(err)?;
        written.insert(id);
    }
    // Every newly planned item must be in the batch, or the events would name nothing.
    if let Some(missing) = plan.new_items.iter().find(|id| !written.contains(*id)) {
        return Err(WriteError::UnknownItem {
            path: path.to_path_buf(),
            item_id: missing.to_string(),
        });
    }
    let mut add_user = tx
        .prepare_cached(
            "INSERT INTO users (user_key, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
        )
        .map_err(err)?;
    for user_id in batch.histories.users.iter() {
        let key = plan.users.get(user_id).copied().unwrap_or_default();
        add_user.execute(params![key, &**user_id]).map_err(err)?;
    }
    Ok(())
}
