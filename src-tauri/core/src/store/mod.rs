//! The index: a SQLite cache of the archive, always rebuildable from the files.
//! One writer (`Writer`), any number of readers, WAL mode.

pub mod columns;
pub mod fields;
mod schema;
pub mod text;
pub mod texts;
pub mod writer;

pub use schema::{KEPT_FROM as SCHEMA_KEPT_FROM, OWN_FIELD_KEYS, VERSION as SCHEMA_VERSION};
pub use writer::Writer;

use crate::error::{Error, Result, SqlContext};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

pub use crate::dotdir::DOT_DIR;
pub const INDEX_FILE: &str = "index.sqlite";

/// Where the index of `archive` lives: `<archive>/.shelfmark/index.sqlite`, or, when the archive
/// cannot be written to, a file in the user's data folder named after the archive's path. A
/// `.shelfmark` that is a link (or not a folder) keeps the local path, so that opening it fails
/// with the reason instead of quietly indexing elsewhere.
pub fn index_path(archive: &Path) -> PathBuf {
    let local = archive.join(DOT_DIR).join(INDEX_FILE);
    if std::fs::symlink_metadata(&local).is_ok() {
        return local;
    }
    match crate::dotdir::dir(archive, &[]) {
        Ok(dot) if crate::dotdir::temp_in(&dot).is_ok() => local,
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => local,
        _ => fallback_index_path(archive),
    }
}

/// For tests: the SQLite virtual-machine steps run on `conn` from now on, counted (every row
/// SQLite reads costs several, so a step count tells whether a call read a row per post).
#[cfg(test)]
pub(crate) fn count_steps(conn: &mut Connection) -> std::sync::Arc<std::sync::atomic::AtomicU64> {
    use std::sync::atomic::{AtomicU64, Ordering};
    let steps = std::sync::Arc::new(AtomicU64::new(0));
    let counter = steps.clone();
    conn.progress_handler(
        1,
        Some(move || {
            counter.fetch_add(1, Ordering::Relaxed);
            false
        }),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    steps
}

/// Move a damaged index (`Error::is_damaged`) aside, to `<index>.damaged` (replacing one set
/// aside before), and remove its WAL and shared-memory files, so that the next scan builds a new
/// index. Nothing else under `.shelfmark/` is touched. Returns where the damaged file went.
pub fn set_aside(index: &Path) -> Result<PathBuf> {
    check_index_files(index)?;
    let aside = PathBuf::from(format!("{}.damaged", index.display()));
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    std::fs::rename(index, &aside).map_err(io(index))?;
    for suffix in ["-wal", "-shm", "-journal"] {
        let side = PathBuf::from(format!("{}{suffix}", index.display()));
        match std::fs::remove_file(&side) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&side)(e)),
            _ => {}
        }
    }
    Ok(aside)
}

/// The index file and its SQLite side files must not be links: SQLite would write through them.
fn check_index_files(path: &Path) -> Result<()> {
    let refuse = |p: PathBuf, why: &str| Error::Write {
        source: std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} {why}", p.display()),
        ),
        path: p,
    };
    if let Some(parent) = path.parent() {
        if parent.file_name().is_some_and(|n| n == DOT_DIR) {
            crate::dotdir::check_dir(parent).map_err(|source| Error::Write {
                path: parent.to_path_buf(),
                source,
            })?;
        }
    }
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let p = PathBuf::from(format!("{}{suffix}", path.display()));
        if let Ok(meta) = std::fs::symlink_metadata(&p) {
            if meta.file_type().is_symlink() {
                return Err(refuse(p, "is a symbolic link; Shelfmark does not write its index through links (remove it; the index is rebuilt)"));
            }
            if !meta.is_file() {
                return Err(refuse(
                    p,
                    "is not a regular file; remove it and the index is rebuilt",
                ));
            }
        }
    }
    Ok(())
}

fn fallback_index_path(archive: &Path) -> PathBuf {
    let canonical = archive
        .canonicalize()
        .unwrap_or_else(|_| archive.to_path_buf());
    let key = blake3::hash(canonical.as_os_str().as_encoded_bytes()).to_hex();
    let base = dirs::data_local_dir().unwrap_or_else(std::env::temp_dir);
    base.join("shelfmark")
        .join("indexes")
        .join(format!("{}.sqlite", &key[..32]))
}

/// The index path if an index exists for `archive` (never creates anything). A link where the
/// index should be counts as an index, so that opening it reports the link.
pub fn existing_index_path(archive: &Path) -> Option<PathBuf> {
    let local = archive.join(DOT_DIR).join(INDEX_FILE);
    if std::fs::symlink_metadata(&local).is_ok() {
        return Some(local);
    }
    let fallback = fallback_index_path(archive);
    fallback.exists().then_some(fallback)
}

fn set_pragmas(conn: &Connection, path: &Path) -> Result<()> {
    // Pragmas go outside any transaction; WAL lets readers run while the one writer writes.
    // `auto_vacuum` takes effect in a new file (before its first table) or at the next VACUUM:
    // compaction gives space back with `incremental_vacuum` (see `Writer::reclaim_space`). It is
    // set only when it differs: setting it on a file that has it writes the file's header (a
    // write transaction, a WAL, syncs at close), which made every no-change rescan write.
    let auto_vacuum: i64 = conn
        .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
        .at(path)?;
    if auto_vacuum != 2 {
        conn.execute_batch("PRAGMA auto_vacuum=INCREMENTAL;")
            .at(path)?;
    }
    conn.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;
         PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;",
    )
    .at(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .at(path)?;
    Ok(())
}

/// Open (creating and migrating if needed) the index for writing.
pub fn open_for_write(path: &Path) -> Result<Connection> {
    if let Some(parent) = path.parent() {
        let made = match parent.parent() {
            // The archive's own folder: made (or checked) as a real folder, never through a link.
            Some(root) if parent.file_name().is_some_and(|n| n == DOT_DIR) => {
                crate::dotdir::dir(root, &[]).map(|_| ())
            }
            _ => std::fs::create_dir_all(parent),
        };
        made.map_err(|source| Error::Write {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    check_index_files(path)?;
    let mut conn =
        Connection::open_with_flags(path, OpenFlags::default() | OpenFlags::SQLITE_OPEN_NOFOLLOW)
            .at(path)?;
    set_pragmas(&conn, path)?;
    match schema::migrate(&mut conn).at(path)? {
        Ok(found) => {
            if (1..schema::KEPT_FROM).contains(&found) {
                // An older index was just emptied. Its pages are given back now, while nothing
                // is left to move (VACUUM of an empty file rewrites a few pages), so the new
                // index grows a compact file instead of filling the old one's free pages and
                // leaving the rest free. Best effort: a file that is busy keeps its pages until
                // a compaction.
                let _ = conn.execute_batch("VACUUM");
            } else if (schema::KEPT_FROM..14).contains(&found) {
                // Schema 14 moved the stored texts into rows of many: the pages of the old rows
                // (a third of an index) are given back now. Best effort, as above.
                let _ = give_back_free_pages(&conn);
            }
            Ok(conn)
        }
        Err(found) => Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        }),
    }
}

/// `incremental_vacuum` to the end, on an index that has `auto_vacuum=INCREMENTAL`.
fn give_back_free_pages(conn: &Connection) -> rusqlite::Result<()> {
    let mode: i64 = conn.query_row("PRAGMA auto_vacuum", [], |r| r.get(0))?;
    if mode == 2 {
        incremental_vacuum(conn)?;
    }
    Ok(())
}

/// Move the pages at the end of the file into free ones and truncate it (the index must have
/// `auto_vacuum=INCREMENTAL`). Each step of the pragma frees one page: it is run to the end.
fn incremental_vacuum(conn: &Connection) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare("PRAGMA incremental_vacuum")?;
    let mut rows = stmt.query([])?;
    while rows.next()?.is_some() {}
    Ok(())
}

/// Open an existing index for reading. In a folder the user cannot write to (a read-only
/// archive with an index built by someone else), SQLite cannot make the WAL's shared-memory
/// file; nobody can change the index there either, so it is opened as immutable.
pub fn open_for_read(path: &Path) -> Result<Connection> {
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_NOFOLLOW;
    let conn = match Connection::open_with_flags(path, flags).and_then(check_readable) {
        Ok(conn) => conn,
        Err(e) => match immutable_uri(path) {
            Some(uri) if !folder_writable(path) => {
                Connection::open_with_flags(uri, flags | OpenFlags::SQLITE_OPEN_URI)
                    .and_then(check_readable)
                    .at(path)?
            }
            _ => return Err(e).at(path),
        },
    };
    conn.busy_timeout(std::time::Duration::from_secs(10))
        .at(path)?;
    conn.execute_batch("PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;")
        .at(path)?;
    let found: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .at(path)?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < schema::KEPT_FROM {
        // An older index is rebuilt by the writer; until then it is treated as missing. One of
        // a version it upgrades in place reads as it is (what it lacks, it does not use).
        return Err(Error::NotIndexed {
            path: path.to_path_buf(),
        });
    }
    Ok(conn)
}

/// The generation counter, bumped by every committed write; readers use it to refresh caches.
pub fn generation(conn: &Connection, path: &Path) -> Result<i64> {
    let v: String = conn
        .query_row("SELECT value FROM meta WHERE key='generation'", [], |r| {
            r.get(0)
        })
        .at(path)?;
    Ok(v.parse().unwrap_or(0))
}

/// Reading the schema version touches the WAL's shared memory: a failure shows here.
fn check_readable(conn: Connection) -> rusqlite::Result<Connection> {
    conn.query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))?;
    Ok(conn)
}

fn folder_writable(path: &Path) -> bool {
    path.parent()
        .is_some_and(|dir| rustix::fs::access(dir, rustix::fs::Access::WRITE_OK).is_ok())
}

fn immutable_uri(path: &Path) -> Option<String> {
    let url = url::Url::from_file_path(path).ok()?;
    Some(format!("{url}?immutable=1"))
}

/// `SHELFMARK_INDEX_CRASH_AT=POINT` (`compact:merging`, `compact:before-commit`,
/// `rebuild:before-commit`…): at that point of a compaction or rebuild, say so on stderr and stop
/// there until killed. Only for the crash tests (tests/cli.rs), which kill the process once it
/// says so; unset, it costs one lookup of a static.
pub(crate) fn crash_point(point: &str) {
    static AT: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    let at = AT.get_or_init(|| std::env::var("SHELFMARK_INDEX_CRASH_AT").ok());
    if at.as_deref() != Some(point) {
        return;
    }
    use std::io::Write;
    let mut err = std::io::stderr();
    let _ = writeln!(err, "shelfmark: crash point {point}");
    let _ = err.flush();
    loop {
        std::thread::park();
    }
}
