//! The SQLite schema and its migrations, driven by `PRAGMA user_version`.
//! Documented for users in docs/SCHEMA.md: keep the two in step.

use rusqlite::Connection;

/// The schema version this build writes. A database with a higher version is refused.
/// 2: `post_text.folded` holds `title \n article \n rest of the page` and page-only grams are
/// indexed under their own ids (`index::grams::page_only`).
pub const VERSION: i64 = 2;

/// Every table, for rebuilding an older index from scratch (the index is a cache of the files).
const DROP_ALL: &str = "DROP TABLE IF EXISTS gram_blocks; DROP TABLE IF EXISTS segments; \
    DROP TABLE IF EXISTS problems; DROP TABLE IF EXISTS post_fields; DROP TABLE IF EXISTS post_text; \
    DROP TABLE IF EXISTS posts; DROP TABLE IF EXISTS meta;";

const V1: &str = r#"
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE posts(
  id INTEGER PRIMARY KEY,
  path BLOB NOT NULL UNIQUE,
  path_text TEXT NOT NULL,
  size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  hash BLOB NOT NULL,
  docid INTEGER NOT NULL UNIQUE,
  title TEXT NOT NULL,
  date_ms INTEGER,
  date_raw TEXT,
  date_from_name INTEGER NOT NULL DEFAULT 0,
  author TEXT,
  source TEXT,
  site TEXT,
  layout TEXT,
  tags TEXT NOT NULL DEFAULT '[]',
  categories TEXT NOT NULL DEFAULT '[]',
  fields TEXT NOT NULL DEFAULT '{}',
  epoch_ms INTEGER,
  encoding TEXT NOT NULL,
  front_matter TEXT NOT NULL,
  crlf INTEGER NOT NULL,
  body_offset INTEGER NOT NULL,
  key_spans TEXT NOT NULL DEFAULT '[]',
  text_chars INTEGER NOT NULL
);
CREATE INDEX posts_hash ON posts(hash);
CREATE INDEX posts_date ON posts(date_ms);

CREATE TABLE post_text(docid INTEGER PRIMARY KEY, folded TEXT NOT NULL);

CREATE TABLE post_fields(
  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  folded TEXT NOT NULL
);
CREATE INDEX post_fields_key ON post_fields(key, folded);
CREATE INDEX post_fields_post ON post_fields(post_id);

CREATE TABLE problems(
  id INTEGER PRIMARY KEY,
  path BLOB NOT NULL,
  path_text TEXT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  line INTEGER,
  col INTEGER
);
CREATE INDEX problems_path ON problems(path);

CREATE TABLE segments(id INTEGER PRIMARY KEY, docs INTEGER NOT NULL, bytes INTEGER NOT NULL);
CREATE TABLE gram_blocks(
  seg INTEGER NOT NULL,
  first_gram INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(seg, first_gram)
) WITHOUT ROWID;

INSERT INTO meta(key, value) VALUES ('generation', '0'), ('next_docid', '1');
"#;

/// Bring the schema up to `VERSION`. Returns the version found before, or an error for a newer one.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<i64, i64>> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Ok(Err(found));
    }
    if found < VERSION {
        let tx = conn.transaction()?;
        if found >= 1 {
            // Version 1 stored the whole page as the text and no page-only grams: start afresh,
            // the next scan indexes every post again.
            tx.execute_batch(DROP_ALL)?;
        }
        tx.execute_batch(V1)?;
        tx.pragma_update(None, "user_version", VERSION)?;
        tx.commit()?;
    }
    Ok(Ok(found))
}
