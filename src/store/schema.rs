//! Append-only schema migrations, tracked by SQLite's `user_version`.
//!
//! Never edit a migration that has shipped: add a new one at the end. Each
//! runs inside the exclusive transaction that [`super::Store::open`] holds.

/// `PRAGMA application_id` of every Strata project: ASCII "STRA".
pub const APPLICATION_ID: i64 = 0x5354_5241;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: catalogue, histories and the import log. Interactions refer to items and
    // users by integer keys: index seeks and foreign-key checks then compare
    // integers, not strings (3x faster bulk imports), and later stages build
    // user x item matrices from them directly.
    r#"
    CREATE TABLE items (
        item_key    INTEGER PRIMARY KEY,
        item_id     TEXT NOT NULL UNIQUE,
        title       TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        category    TEXT NOT NULL DEFAULT '',
        extra       TEXT NOT NULL DEFAULT '{}'
    ) STRICT;

    CREATE TABLE users (
        user_key INTEGER PRIMARY KEY,
        user_id  TEXT NOT NULL UNIQUE
    ) STRICT;

    CREATE TABLE interactions (
        user_key  INTEGER NOT NULL REFERENCES users(user_key) ON DELETE CASCADE,
        item_key  INTEGER NOT NULL REFERENCES items(item_key) ON DELETE CASCADE,
        ts        INTEGER,
        quantity  REAL,
        rating    REAL,
        basket_id TEXT
    ) STRICT;
    -- One row per (user, item, time): re-importing a file replaces, never doubles.
    -- It also serves per-user reads (user_key leads).
    CREATE UNIQUE INDEX interactions_key ON interactions (user_key, item_key, ifnull(ts, -1));
    -- No index on item_key yet: nothing reads by item, and it costs a third of a bulk
    -- import. Add it (in a new migration) with the first feature that deletes items.

    CREATE TABLE imports (
        import_id   INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,
        source      TEXT NOT NULL,
        report      TEXT NOT NULL,
        imported_at INTEGER NOT NULL
    ) STRICT;
    "#,
    // v2: the embedding cache. A vector is keyed by the model (a fingerprint of its weights)
    // and a hash of the exact text embedded, so an unchanged item is never embedded twice,
    // an edited one is, and vectors of several models live side by side.
    r#"
    CREATE TABLE embeddings (
        model_id  TEXT NOT NULL,
        text_hash BLOB NOT NULL,
        dim       INTEGER NOT NULL,
        vector    BLOB NOT NULL,
        PRIMARY KEY (model_id, text_hash)
    ) STRICT, WITHOUT ROWID;
    "#,
    // v3: project metadata, key -> value. `embedding.*` records which model made the
    // vectors later steps use, and whether it was the LSA fallback.
    r#"
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) STRICT, WITHOUT ROWID;
    "#,
    // v4: layer runs. Each run keeps its parameters, k curve and quality (JSON), its layers
    // and sub-layers (a sub-layer's parent_id is its layer), and every item's place: layer,
    // sub-layer and map position. The latest run is what later steps use; older runs stay
    // until deleted (deleting a run deletes its rows).
    r#"
    CREATE TABLE layer_runs (
        run_id     INTEGER PRIMARY KEY,
        model_id   TEXT NOT NULL,
        summary    TEXT NOT NULL,
        created_at INTEGER NOT NULL
    ) STRICT;

    CREATE TABLE layers (
        run_id     INTEGER NOT NULL REFERENCES layer_runs(run_id) ON DELETE CASCADE,
        layer_id   INTEGER NOT NULL,
        parent_id  INTEGER,
        name       TEXT NOT NULL,
        size       INTEGER NOT NULL,
        silhouette REAL,
        centroid   BLOB,
        PRIMARY KEY (run_id, layer_id)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE item_layers (
        run_id      INTEGER NOT NULL REFERENCES layer_runs(run_id) ON DELETE CASCADE,
        item_key    INTEGER NOT NULL REFERENCES items(item_key) ON DELETE CASCADE,
        layer_id    INTEGER NOT NULL,
        sublayer_id INTEGER NOT NULL,
        x           REAL NOT NULL,
        y           REAL NOT NULL,
        PRIMARY KEY (run_id, item_key)
    ) STRICT, WITHOUT ROWID;
    "#,
    // v5: the recommender's fitted item model, kept so that a later run needs no refit and an
    // import only extends it (issue 16). One row, replaced whole; `model` is the encoded fit
    // (`recommend::kept_fit`) and `format` its version: a fit of another format is not read.
    r#"
    CREATE TABLE recommender_fit (
        fit_id    INTEGER PRIMARY KEY CHECK (fit_id = 1),
        format    INTEGER NOT NULL,
        fitted_at INTEGER NOT NULL,
        model     BLOB NOT NULL
    ) STRICT;
    "#,
];

/// The schema version this build writes and reads.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}
