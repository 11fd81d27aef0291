//! The SQLite schema and its migrations, driven by `PRAGMA user_version`.
//! Documented for users in docs/SCHEMA.md: keep the two in step.

use rusqlite::Connection;

/// The schema version this build writes. A database with a higher version is refused.
/// 2: `posts.epoch_raw` (an epoch comment that is no number).
/// 3: `post_text.folded` holds `title \n article \n rest of the page` and page-only grams are
/// indexed under their own ids (`index::grams::page_only`).
/// 4: `post_text.folded` compressed with zstd; withdrawn (search verifies candidates by reading
/// that text, and decompressing it made those queries 2–3× slower: docs/ARCHITECTURE.md).
/// 5: `post_text.folded` plain again (a version-4 index is emptied and rebuilt).
/// 6: `doc_columns`, the posts' metadata in chunks of 2,048 document ids (`store::columns`).
/// 7: CJK triples are indexed (`index::grams::triple`), so a 3-character query is one posting
/// list; an index of any earlier version lacks their postings and is rebuilt.
/// 8: a triple's postings carry its positions (`index::grams::has_positions`), so a run of four
/// or more CJK characters is answered without reading text.
/// 9: `post_text.folded` compressed again (`store::text`), now that few queries read it.
/// 10: CJK pairs carry their positions and triples are no longer indexed: a run of three or more
/// characters is answered from the positions of the pairs that cover it (docs/ARCHITECTURE.md).
/// 11: leaner rows. `posts.path_text` is computed from `path` (only a path that is not UTF-8
/// stores its display form, in `path_lossy`); `posts.key_spans` is gone (the edit path reads the
/// spans from the file); `post_fields` holds no `value`, keys lower-cased, and no rows for the
/// keys that have their own columns and query fields (`OWN_FIELD_KEYS`).
/// 12: blocks of postings (`gram_blocks.data`) are `crate::packed`: short blocks compressed.
/// 13: `text_dicts`, the zstd dictionary the stored texts are compressed with (`store::text`).
/// Added to an index of version 12 as it is: its texts stay readable without one.
/// 14: the stored texts many to a row (`post_texts`, `store::texts`) instead of one
/// (`post_text`), whose 4 KiB pages were a fifth empty. An index of version 12 or 13 has its
/// texts moved as they are.
/// 15: new blocks of postings are stored in columns (`index::segment`); the blocks of an index of
/// version 12 to 14 read as they are until a merge rewrites them. A version that reads only
/// blocks of entries must not open it.
/// 16: `doc_columns.cols` bit-packed instead of `postcard` (`store::columns`); an index of
/// version 12 to 15 has its chunks rewritten (until then a reader builds them from `posts`).
/// 17: `posts.fields` leaves out the values the row's own columns hold (`store::fields`); the
/// JSON objects of version 12 to 16 read as they are. A version that reads only objects must
/// not open it.
pub const VERSION: i64 = 17;

/// The oldest version whose index is upgraded in place; an older one is emptied and rebuilt.
pub const KEPT_FROM: i64 = 12;

/// Front matter keys (lower-cased) that `post_fields` leaves out: the query language reads
/// them as its own fields (`title:`, `tag:`, …) from the columns of `posts`, never as `KEY:VALUE`
/// (a test in `search::query` holds the two lists together).
pub const OWN_FIELD_KEYS: &[&str] = &[
    "title",
    "date",
    "author",
    "tag",
    "tags",
    "category",
    "categories",
];

const V1: &str = r#"
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE posts(
  id INTEGER PRIMARY KEY,
  path BLOB NOT NULL UNIQUE,
  path_lossy TEXT,
  path_text TEXT GENERATED ALWAYS AS (coalesce(path_lossy, CAST(path AS TEXT))) VIRTUAL,
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
  text_chars INTEGER NOT NULL
);
CREATE INDEX posts_hash ON posts(hash);
CREATE INDEX posts_date ON posts(date_ms);

CREATE TABLE post_fields(
  post_id INTEGER NOT NULL REFERENCES posts(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  folded TEXT NOT NULL
);
CREATE INDEX post_fields_key ON post_fields(key, folded, post_id);
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

INSERT INTO meta(key, value) VALUES ('generation', '0'), ('next_docid', '1');
"#;

/// Version 2: the top-of-body comment that holds no epoch (`<!--NaN-->`), for the data-quality
/// findings.
const V2: &str = "ALTER TABLE posts ADD COLUMN epoch_raw TEXT;";

/// Version 13: the dictionaries of the stored texts (`store::text`), by their zstd id.
const V13: &str =
    "CREATE TABLE IF NOT EXISTS text_dicts(id INTEGER PRIMARY KEY, dict BLOB NOT NULL);";

/// Bring the schema up to `VERSION`. Returns the version found before, or an error for a newer one.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<Result<i64, i64>> {
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > VERSION {
        return Ok(Err(found));
    }
    if found < VERSION {
        let tx = conn.transaction()?;
        if found >= KEPT_FROM {
            // What changed since can be added to the index as it is.
            tx.execute_batch(V13)?;
            if found < 14 {
                super::texts::move_from_post_text(&tx)?;
            }
            if found < 16 {
                super::columns::rewrite_all(&tx)?;
            }
        } else {
            if found >= 1 {
                // An older index lacks what only reading the files again fills in (its unchanged
                // files would never be read again): it is a cache, so it is emptied and rebuilt.
                drop_everything(&tx)?;
            }
            create(&tx)?;
        }
        tx.pragma_update(None, "user_version", VERSION)?;
        tx.commit()?;
    }
    Ok(Ok(found))
}

/// Create the tables of the current schema in an empty database.
fn create(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(V1)?;
    conn.execute_batch(V2)?;
    conn.execute_batch(V13)?;
    conn.execute_batch(crate::index::segment::CREATE)?;
    conn.execute_batch(super::texts::CREATE)?;
    conn.execute_batch(super::columns::CREATE)
}

/// Empty the index (`shelfmark index --rebuild`): drop every table, whoever made it (the
/// duplicate signatures' cache too), and create the current schema, inside the caller's
/// transaction. `meta` starts afresh; the writer carries its counters over.
pub(super) fn recreate(conn: &Connection) -> rusqlite::Result<()> {
    drop_everything(conn)?;
    create(conn)
}

/// Drop every table (and with them their indexes) of an older index.
fn drop_everything(conn: &Connection) -> rusqlite::Result<()> {
    let tables: Vec<String> = conn
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for t in tables {
        conn.execute_batch(&format!(
            "DROP TABLE IF EXISTS \"{}\";",
            t.replace('"', "\"\"")
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_version_1_is_emptied_and_rebuilt_as_the_current_one() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(V1).unwrap();
        conn.pragma_update(None, "user_version", 1).unwrap();
        conn.execute_batch(
            "INSERT INTO posts(path, size, mtime_ns, hash, docid, title, encoding,
             front_matter, crlf, body_offset, text_chars) VALUES (x'61', 1, 1, x'00', 1, 't',
             'utf-8', 'yaml', 0, 0, 0)",
        )
        .unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Ok(1));
        let n: i64 = conn
            .query_row("SELECT count(*) FROM posts", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        conn.query_row("SELECT epoch_raw FROM posts", [], |_| Ok(()))
            .map(|_| ())
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(()),
                e => Err(e),
            })
            .unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        assert_eq!(migrate(&mut conn).unwrap(), Ok(VERSION));
    }

    #[test]
    fn an_index_of_version_12_keeps_its_posts_and_texts_and_gains_the_dictionaries() {
        let mut conn = Connection::open_in_memory().unwrap();
        create(&conn).unwrap();
        conn.execute_batch(
            "DROP TABLE text_dicts;
             DROP TABLE post_texts;
             CREATE TABLE post_text(docid INTEGER PRIMARY KEY, folded TEXT NOT NULL);
             INSERT INTO post_text(docid, folded) VALUES (1, x'0061'), (3, x'0062');
             INSERT INTO posts(path, size, mtime_ns, hash, docid, title, encoding,
             front_matter, crlf, body_offset, text_chars) VALUES (x'61', 1, 1, x'00', 1, 't',
             'utf-8', 'yaml', 0, 0, 0)",
        )
        .unwrap();
        conn.pragma_update(None, "user_version", 12).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Ok(12));
        let count = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
        assert_eq!(count("SELECT count(*) FROM posts"), 1);
        assert_eq!(count("SELECT count(*) FROM text_dicts"), 0);
        assert_eq!(
            count("SELECT count(*) FROM sqlite_master WHERE name = 'post_text'"),
            0
        );
        let mut texts = crate::store::texts::Reader::default();
        let read = |texts: &mut crate::store::texts::Reader, id| {
            texts.with_stored(&conn, id, <[u8]>::to_vec).unwrap()
        };
        assert_eq!(read(&mut texts, 1), Some(b"\0a".to_vec()));
        assert_eq!(read(&mut texts, 2), None);
        assert_eq!(read(&mut texts, 3), Some(b"\0b".to_vec()));
        assert_eq!(migrate(&mut conn).unwrap(), Ok(VERSION));
    }

    #[test]
    fn an_index_of_version_15_has_its_metadata_chunks_rewritten() {
        use crate::store::columns::{self, Origin};
        let mut conn = Connection::open_in_memory().unwrap();
        create(&conn).unwrap();
        conn.execute_batch(
            "INSERT INTO posts(path, size, mtime_ns, hash, docid, title, encoding,
             front_matter, crlf, body_offset, text_chars) VALUES (x'61', 1, 1, x'00', 1, 't',
             'utf-8', 'yaml', 0, 0, 0), (x'62', 1, 1, x'00', 4000, 'u', 'utf-8', 'yaml', 0, 0, 0);
             INSERT INTO doc_columns(chunk, cols, titles) VALUES (0, x'02', x''), (1, x'01', x'')",
        )
        .unwrap();
        let origins = |conn: &Connection| {
            let mut got = Vec::new();
            columns::read_all(conn, |no, c, o| got.push((no, c.docids, o))).unwrap();
            got
        };
        // A chunk of the older form reads as nothing: a reader builds it from the rows.
        assert_eq!(
            origins(&conn),
            [
                (0, vec![1], Origin::Rebuilt),
                (1, vec![4000], Origin::Rebuilt)
            ]
        );
        conn.pragma_update(None, "user_version", 15).unwrap();
        assert_eq!(migrate(&mut conn).unwrap(), Ok(15));
        assert_eq!(
            origins(&conn),
            [
                (0, vec![1], Origin::Stored),
                (1, vec![4000], Origin::Stored)
            ]
        );
    }
}
