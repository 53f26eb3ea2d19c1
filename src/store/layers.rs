//! Layer runs: written in one transaction, read back for the CLI, export and the app.

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Store, StoreError};
use crate::layers::{Layer, LayerParams, LayerRun, Quality};

/// One item's place in a run, joined with the item and the names.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ItemLayerRow {
    pub item_id: String,
    pub title: String,
    /// The layer's number as users see it: its id + 1, carried from run to run.
    pub layer: i64,
    /// The layer's position in the run's layers (from 0), for arrays indexed by layer.
    #[serde(skip)]
    pub layer_index: usize,
    pub layer_name: String,
    pub sublayer: i64,
    pub sublayer_name: String,
    pub x: f64,
    pub y: f64,
}

/// A stored run: its id, when it was made, from which vectors, and everything but the
/// per-item arrays (those are in `item_layers`; see [`Store::item_layer_rows`]).
#[derive(Clone, Debug, PartialEq)]
pub struct StoredLayerRun {
    pub run_id: i64,
    pub model_id: String,
    pub created_at: i64,
    pub run: LayerRun,
}

/// Where a stored run put each item (see [`Store::run_placements`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Placements {
    pub item_keys: Vec<i64>,
    pub item_layer: Vec<usize>,
    pub item_sublayer: Vec<usize>,
}

/// A name as stored and shown: its words joined.
pub fn display_name(words: &[String]) -> String {
    if words.is_empty() {
        "(no words)".to_owned()
    } else {
        words.join(" · ")
    }
}

/// What the `layer_runs.summary` column holds: a run without its per-item arrays (kept in
/// `item_layers`), written as [`LayerRun`] reads it back (the arrays empty), borrowed from the
/// run rather than cloned.
#[derive(Serialize)]
struct StoredRunSummary<'a> {
    params: &'a LayerParams,
    k: usize,
    curve: &'a [(usize, f64)],
    layers: &'a [Layer],
    item_layer: [usize; 0],
    item_sublayer: [usize; 0],
    points: [[f32; 2]; 0],
    quality: &'a Quality,
    notes: &'a [String],
    seconds: f64,
    updated_from: Option<i64>,
}

impl<'a> StoredRunSummary<'a> {
    fn of(run: &'a LayerRun) -> Self {
        Self {
            params: &run.params,
            k: run.k,
            curve: &run.curve,
            layers: &run.layers,
            item_layer: [],
            item_sublayer: [],
            points: [],
            quality: &run.quality,
            notes: &run.notes,
            seconds: run.seconds,
            updated_from: run.updated_from,
        }
    }
}

impl Store {
    /// Item keys in the order of [`Store::items`].
    pub fn item_keys(&self) -> Result<Vec<i64>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT item_key FROM items ORDER BY item_key")
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([], |row| row.get(0))
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sqlite_err(e))
    }

    /// Stores `run` (items in the order of `item_keys`) in one transaction; returns its id.
    pub fn save_layer_run(
        &mut self,
        model_id: &str,
        item_keys: &[i64],
        run: &LayerRun,
    ) -> Result<i64, StoreError> {
        let summary = serde_json::to_string(&StoredRunSummary::of(run))
            .map_err(|e| self.corrupt("layer run", e))?;
        let now = chrono::Utc::now().timestamp();
        let path = self.path.clone();
        let sqlite_err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(sqlite_err)?;
        tx.execute(
            "INSERT INTO layer_runs (model_id, summary, created_at) VALUES (?1, ?2, ?3)",
            params![model_id, summary, now],
        )
        .map_err(sqlite_err)?;
        let run_id = tx.last_insert_rowid();
        {
            let mut layer = tx
                .prepare_cached(
                    "INSERT INTO layers (run_id, layer_id, parent_id, name, size, silhouette, centroid) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )
                .map_err(sqlite_err)?;
            let mut next_sub = run.layers.len() as i64;
            let mut sub_ids = Vec::with_capacity(run.layers.len());
            for (layer_id, l) in run.layers.iter().enumerate() {
                let centroid: Vec<u8> = l.centroid.iter().flat_map(|v| v.to_le_bytes()).collect();
                layer
                    .execute(params![
                        run_id,
                        layer_id as i64,
                        None::<i64>,
                        display_name(&l.name),
                        l.size as i64,
                        l.silhouette,
                        centroid
                    ])
                    .map_err(sqlite_err)?;
                let first = next_sub;
                for s in &l.sublayers {
                    layer
                        .execute(params![
                            run_id,
                            next_sub,
                            layer_id as i64,
                            display_name(&s.name),
                            s.size as i64,
                            s.silhouette,
                            None::<Vec<u8>>
                        ])
                        .map_err(sqlite_err)?;
                    next_sub += 1;
                }
                sub_ids.push(first);
            }
            let mut item = tx
                .prepare_cached(
                    "INSERT INTO item_layers (run_id, item_key, layer_id, sublayer_id, x, y) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )
                .map_err(sqlite_err)?;
            let rows = item_keys
                .iter()
                .zip(&run.item_layer)
                .zip(&run.item_sublayer)
                .zip(&run.points);
            for (((&item_key, &layer), &sub), point) in rows {
                item.execute(params![
                    run_id,
                    item_key,
                    layer as i64,
                    sub_ids[layer] + sub as i64,
                    f64::from(point[0]),
                    f64::from(point[1])
                ])
                .map_err(sqlite_err)?;
            }
        }
        tx.commit().map_err(sqlite_err)?;
        Ok(run_id)
    }

    /// Every stored run, newest first: (run id, created at, k, items).
    pub fn layer_runs(&self) -> Result<Vec<(i64, i64, i64, i64)>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT r.run_id, r.created_at, \
                   (SELECT count(*) FROM layers l WHERE l.run_id = r.run_id AND l.parent_id IS NULL), \
                   (SELECT count(*) FROM item_layers i WHERE i.run_id = r.run_id) \
                 FROM layer_runs r ORDER BY r.run_id DESC",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([], |row| {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sqlite_err(e))
    }

    /// The newest layer run, if any.
    pub fn latest_layer_run(&self) -> Result<Option<StoredLayerRun>, StoreError> {
        self.stored_layer_run(
            "SELECT run_id, model_id, summary, created_at FROM layer_runs \
             ORDER BY run_id DESC LIMIT 1",
            None,
        )
    }

    /// The newest layer run's id, if any, without reading the run.
    pub fn latest_layer_run_id(&self) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row("SELECT max(run_id) FROM layer_runs", [], |row| row.get(0))
            .map_err(|e| self.sqlite_err(e))
    }

    /// How many items the newest layer run does not hold (imported since), or `None` when the
    /// project has no layer run: what an update of the layers would place.
    pub fn items_outside_latest_run(&self) -> Result<Option<u64>, StoreError> {
        let Some(run_id) = self.latest_layer_run_id()? else {
            return Ok(None);
        };
        self.conn
            .query_row(
                "SELECT count(*) FROM items i WHERE NOT EXISTS \
                   (SELECT 1 FROM item_layers l WHERE l.run_id = ?1 AND l.item_key = i.item_key)",
                [run_id],
                |row| row.get::<_, i64>(0),
            )
            .map(|count| Some(count.unsigned_abs()))
            .map_err(|e| self.sqlite_err(e))
    }

    /// The run stored just before run `run_id`, if any: what a report of `run_id`'s changes
    /// compares with.
    pub fn layer_run_before(&self, run_id: i64) -> Result<Option<i64>, StoreError> {
        self.conn
            .query_row(
                "SELECT max(run_id) FROM layer_runs WHERE run_id < ?1",
                [run_id],
                |row| row.get(0),
            )
            .map_err(|e| self.sqlite_err(e))
    }

    /// The newest `count` layer runs, oldest first: what the Quality view's sizes across runs
    /// show.
    pub fn recent_layer_runs(&self, count: usize) -> Result<Vec<StoredLayerRun>, StoreError> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare_cached("SELECT run_id FROM layer_runs ORDER BY run_id DESC LIMIT ?1")
                .map_err(|e| self.sqlite_err(e))?;
            stmt.query_map([count as i64], |row| row.get::<_, i64>(0))
                .and_then(|rows| rows.collect::<rusqlite::Result<Vec<i64>>>())
                .map_err(|e| self.sqlite_err(e))?
        };
        let mut runs = Vec::with_capacity(ids.len());
        for id in ids.into_iter().rev() {
            runs.extend(self.layer_run(id)?);
        }
        Ok(runs)
    }

    /// Layer run `run_id`, if the project has it.
    pub fn layer_run(&self, run_id: i64) -> Result<Option<StoredLayerRun>, StoreError> {
        self.stored_layer_run(
            "SELECT run_id, model_id, summary, created_at FROM layer_runs WHERE run_id = ?1",
            Some(run_id),
        )
    }

    fn stored_layer_run(
        &self,
        sql: &str,
        run_id: Option<i64>,
    ) -> Result<Option<StoredLayerRun>, StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(sql)
            .map_err(|e| self.sqlite_err(e))?;
        let read = |row: &rusqlite::Row<'_>| -> rusqlite::Result<(i64, String, String, i64)> {
            Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?))
        };
        let row = match run_id {
            Some(id) => stmt.query_row([id], read),
            None => stmt.query_row([], read),
        }
        .optional()
        .map_err(|e| self.sqlite_err(e))?;
        row.map(|(run_id, model_id, summary, created_at)| {
            let mut run: LayerRun =
                serde_json::from_str(&summary).map_err(|e| self.corrupt("layer run", e))?;
            run.ensure_ids();
            Ok(StoredLayerRun {
                run_id,
                model_id,
                created_at,
                run,
            })
        })
        .transpose()
    }

    /// Every item of run `run` (stored as `run.run_id`): item keys ascending, each one's layer
    /// and sub-layer as positions in `run.run.layers` and in the layer's sub-layers.
    pub fn run_placements(&self, run: &StoredLayerRun) -> Result<Placements, StoreError> {
        // Sub-layer ids are numbered after the layers, layer by layer (see save_layer_run).
        let mut first_sub = Vec::with_capacity(run.run.layers.len());
        let mut next = run.run.layers.len() as i64;
        for layer in &run.run.layers {
            first_sub.push(next);
            next += layer.sublayers.len() as i64;
        }
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT item_key, layer_id, sublayer_id FROM item_layers WHERE run_id = ?1 \
                 ORDER BY item_key",
            )
            .map_err(|e| self.sqlite_err(e))?;
        let rows: Vec<(i64, i64, i64)> = stmt
            .query_map([run.run_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .and_then(|rows| rows.collect())
            .map_err(|e| self.sqlite_err(e))?;
        let mut placements = Placements::default();
        for (item_key, layer, sub) in rows {
            let position = usize::try_from(layer)
                .ok()
                .filter(|&l| l < first_sub.len())
                .ok_or_else(|| {
                    self.corrupt(
                        "layer run",
                        format!(
                            "item {item_key} is in layer {layer}, which run {} does not have",
                            run.run_id
                        ),
                    )
                })?;
            placements.item_keys.push(item_key);
            placements.item_layer.push(position);
            placements
                .item_sublayer
                .push(usize::try_from(sub - first_sub[position]).unwrap_or(0));
        }
        Ok(placements)
    }

    /// Every item's layer, sub-layer and map position in run `run`, in item order.
    /// Layers and sub-layers are numbered from 1 here, as users count.
    pub fn item_layer_rows(&self, run: &StoredLayerRun) -> Result<Vec<ItemLayerRow>, StoreError> {
        let run_id = run.run_id;
        let number =
            |position: usize| run.run.layers.get(position).map_or(position, |l| l.id) as i64 + 1;
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT i.item_id, i.title, il.layer_id, l.name, s.layer_id - l_first.first, s.name, il.x, il.y \
                 FROM item_layers il \
                 JOIN items i ON i.item_key = il.item_key \
                 JOIN layers l ON l.run_id = il.run_id AND l.layer_id = il.layer_id \
                 JOIN layers s ON s.run_id = il.run_id AND s.layer_id = il.sublayer_id \
                 JOIN (SELECT parent_id, min(layer_id) AS first FROM layers \
                       WHERE run_id = ?1 AND parent_id IS NOT NULL GROUP BY parent_id) l_first \
                   ON l_first.parent_id = il.layer_id \
                 WHERE il.run_id = ?1 ORDER BY il.item_key",
            )
            .map_err(|e| self.sqlite_err(e))?;
        stmt.query_map([run_id], |row| {
            let position = usize::try_from(row.get::<_, i64>(2)?).unwrap_or(0);
            Ok(ItemLayerRow {
                item_id: row.get(0)?,
                title: row.get(1)?,
                layer: number(position),
                layer_index: position,
                layer_name: row.get(3)?,
                sublayer: row.get::<_, i64>(4)? + 1,
                sublayer_name: row.get(5)?,
                x: row.get(6)?,
                y: row.get(7)?,
            })
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| self.sqlite_err(e))
    }

    /// Deletes a layer run and everything in it.
    pub fn delete_layer_run(&mut self, run_id: i64) -> Result<bool, StoreError> {
        let deleted = self
            .conn
            .execute("DELETE FROM layer_runs WHERE run_id = ?1", [run_id])
            .map_err(|e| self.sqlite_err(e))?;
        Ok(deleted > 0)
    }
}
