//! The index: a SQLite cache of the archive, always rebuildable from the files.
//! One writer (`Writer`), any number of readers, WAL mode.

mod schema;
pub mod writer;

pub use schema::VERSION as SCHEMA_VERSION;
pub use writer::Writer;

use crate::error::{Error, Result, SqlContext};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};

/// The folder under the archive root where Shelfmark keeps its files.
pub const DOT_DIR: &str = ".shelfmark";
pub const INDEX_FILE: &str = "index.sqlite";

/// Where the index of `archive` lives: `<archive>/.shelfmark/index.sqlite`, or, when the archive
/// cannot be written to, a file in the user's data folder named after the archive's path.
pub fn index_path(archive: &Path) -> PathBuf {
    let local = archive.join(DOT_DIR).join(INDEX_FILE);
    if local.exists()
        || std::fs::create_dir_all(archive.join(DOT_DIR)).is_ok()
            && is_writable(&archive.join(DOT_DIR))
    {
        return local;
    }
    fallback_index_path(archive)
}

fn is_writable(dir: &Path) -> bool {
    tempfile_probe(dir).is_ok()
}

fn tempfile_probe(dir: &Path) -> std::io::Result<()> {
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"")?;
    std::fs::remove_file(&probe)
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

/// The index path if an index exists for `archive` (never creates anything).
pub fn existing_index_path(archive: &Path) -> Option<PathBuf> {
    let local = archive.join(DOT_DIR).join(INDEX_FILE);
    if local.exists() {
        return Some(local);
    }
    let fallback = fallback_index_path(archive);
    fallback.exists().then_some(fallback)
}

fn set_pragmas(conn: &Connection, path: &Path) -> Result<()> {
    // Pragmas go outside any transaction; WAL lets readers run while the one writer writes.
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
        std::fs::create_dir_all(parent).map_err(|source| Error::Io {
            path: parent.to_path_buf(),
            source,
        })?;
    }
    let mut conn = Connection::open(path).at(path)?;
    set_pragmas(&conn, path)?;
    match schema::migrate(&mut conn).at(path)? {
        Ok(_) => Ok(conn),
        Err(found) => Err(Error::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        }),
    }
}

/// Open an existing index for reading.
pub fn open_for_read(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .at(path)?;
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
    if found < SCHEMA_VERSION {
        // An older index is upgraded by the writer; until then it is treated as missing.
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
