//! Append-only schema migrations, tracked by SQLite's `user_version`.
//!
//! Never edit a migration that has shipped: add a new one at the end. Each
//! runs inside the exclusive transaction that [`super::Store::open`] holds.

/// `PRAGMA application_id` of every Strata project: ASCII "STRA".
pub const APPLICATION_ID: i64 = 0x5354_5241;

/// The migrations, in order; migration `i` brings the schema to version `i + 1`.
pub const MIGRATIONS: &[&str] = &[
    // v1: catalogue, histories and the import log.
    r#"
    CREATE TABLE items (
        item_id     TEXT PRIMARY KEY NOT NULL,
        title       TEXT NOT NULL,
        description TEXT NOT NULL DEFAULT '',
        category    TEXT NOT NULL DEFAULT '',
        extra       TEXT NOT NULL DEFAULT '{}'
    ) STRICT;

    CREATE TABLE interactions (
        user_id   TEXT NOT NULL,
        item_id   TEXT NOT NULL REFERENCES items(item_id) ON DELETE CASCADE,
        ts        INTEGER,
        quantity  REAL,
        rating    REAL,
        basket_id TEXT
    ) STRICT;
    -- One row per (user, item, time): re-importing a file replaces, never doubles.
    CREATE UNIQUE INDEX interactions_key ON interactions (user_id, item_id, ifnull(ts, -1));
    CREATE INDEX interactions_user_ts ON interactions (user_id, ts);
    CREATE INDEX interactions_item ON interactions (item_id);

    CREATE TABLE imports (
        import_id   INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL,
        source      TEXT NOT NULL,
        report      TEXT NOT NULL,
        imported_at INTEGER NOT NULL
    ) STRICT;
    "#,
];

/// The schema version this build writes and reads.
pub fn latest_version() -> i64 {
    MIGRATIONS.len() as i64
}
