//! Signatures cached in the index, by the content hash of the post's file, so that a second
//! `duplicates` run (and one after a rescan or an edit) computes only the posts that changed.
//! The table is created when missing (an index is a cache, rebuilt at will); rows whose post is
//! gone are dropped; a row that does not read back as a signature of this version is ignored
//! (and recomputed).

use super::minhash::{BINS, HEAD_BINS};
use crate::error::{Result, SqlContext};
use rusqlite::Connection;
use std::path::Path;

/// Bumped whenever what a signature holds changes (the text it is made from, the shingle size,
/// the hash): rows of another version are recomputed.
pub const SIG_VERSION: i64 = 2;

const CREATE: &str = "CREATE TABLE IF NOT EXISTS dupe_sigs(
  hash BLOB PRIMARY KEY,
  version INTEGER NOT NULL,
  text_hash BLOB NOT NULL,
  shingles INTEGER NOT NULL,
  mins BLOB NOT NULL
) WITHOUT ROWID";

fn table_exists(conn: &Connection, path: &Path) -> Result<bool> {
    conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type='table' AND name='dupe_sigs'",
        [],
        |r| r.get::<_, i64>(0),
    )
    .at(path)
    .map(|n| n > 0)
}

/// Values a stored signature holds: its bins, then its head's.
pub const WIDTH: usize = BINS + HEAD_BINS;

/// One signature as stored: the text's hash, its distinct shingles, and `WIDTH` values, or none
/// for a short text.
pub struct Stored<'a> {
    pub text_hash: [u8; 16],
    pub shingles: u32,
    pub values: &'a [u32],
}

/// Every cached signature that reads back whole, handed to `each` with its file hash (one row at
/// a time: a million signatures are never all in a map).
pub fn load(conn: &Connection, path: &Path, mut each: impl FnMut([u8; 32], Stored)) -> Result<()> {
    if !table_exists(conn, path)? {
        return Ok(());
    }
    let mut stmt = conn
        .prepare("SELECT hash, version, text_hash, shingles, mins FROM dupe_sigs")
        .at(path)?;
    let mut rows = stmt.query([]).at(path)?;
    let mut values = [0u32; WIDTH];
    while let Some(r) = rows.next().at(path)? {
        let hash = r.get_ref(0).at(path)?.as_blob().unwrap_or_default();
        let version: i64 = r.get(1).at(path)?;
        let text_hash = r.get_ref(2).at(path)?.as_blob().unwrap_or_default();
        let shingles: i64 = r.get(3).at(path)?;
        let mins = r.get_ref(4).at(path)?.as_blob().unwrap_or_default();
        if let Some((hash, text_hash, shingles, n)) =
            decode(hash, version, text_hash, shingles, mins, &mut values)
        {
            each(
                hash,
                Stored {
                    text_hash,
                    shingles,
                    values: &values[..n],
                },
            );
        }
    }
    Ok(())
}

/// A row as (file hash, text hash, shingles, values written to `values`), or `None` when it is
/// not a whole signature of this version.
fn decode(
    hash: &[u8],
    version: i64,
    text_hash: &[u8],
    shingles: i64,
    mins: &[u8],
    values: &mut [u32; WIDTH],
) -> Option<([u8; 32], [u8; 16], u32, usize)> {
    if version != SIG_VERSION {
        return None;
    }
    let hash = <[u8; 32]>::try_from(hash).ok()?;
    let text_hash = <[u8; 16]>::try_from(text_hash).ok()?;
    let shingles = u32::try_from(shingles).ok()?;
    let short = shingles < super::minhash::MIN_SHINGLES;
    // A signature has all its bins and its head's, or none for a short text: anything else is
    // not ours.
    let expected = if short { 0 } else { WIDTH * 4 };
    if mins.len() != expected {
        return None;
    }
    for (v, c) in values.iter_mut().zip(mins.chunks_exact(4)) {
        *v = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
    }
    Some((hash, text_hash, shingles, expected / 4))
}

/// Store new signatures and drop the rows of posts no longer in the index, in one transaction.
pub fn store<'a>(
    conn: &mut Connection,
    path: &Path,
    new: impl Iterator<Item = ([u8; 32], Stored<'a>)>,
) -> Result<()> {
    let tx = conn.transaction().at(path)?;
    tx.execute_batch(CREATE).at(path)?;
    {
        let mut stmt = tx
            .prepare(
                "INSERT OR REPLACE INTO dupe_sigs(hash, version, text_hash, shingles, mins)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .at(path)?;
        let mut bytes = Vec::with_capacity(WIDTH * 4);
        for (hash, sig) in new {
            bytes.clear();
            bytes.extend(sig.values.iter().flat_map(|m| m.to_le_bytes()));
            stmt.execute(rusqlite::params![
                &hash[..],
                SIG_VERSION,
                &sig.text_hash[..],
                i64::from(sig.shingles),
                &bytes[..]
            ])
            .at(path)?;
        }
    }
    tx.execute(
        "DELETE FROM dupe_sigs WHERE version != ?1 OR hash NOT IN (SELECT hash FROM posts)",
        [SIG_VERSION],
    )
    .at(path)?;
    tx.commit().at(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_that_are_not_whole_signatures_are_ignored() {
        let mins = vec![7u8; WIDTH * 4];
        let v = &mut [0u32; WIDTH];
        let whole = decode(&[1; 32], SIG_VERSION, &[2; 16], 500, &mins, v);
        assert_eq!(whole.map(|(.., n)| n), Some(WIDTH));
        assert_eq!(v[WIDTH - 1], u32::from_le_bytes([7; 4]));
        assert!(decode(&[1; 32], SIG_VERSION + 1, &[2; 16], 500, &mins, v).is_none());
        assert!(decode(&[1; 31], SIG_VERSION, &[2; 16], 500, &mins, v).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 15], 500, &mins, v).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], -1, &mins, v).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], 500, &mins[..12], v).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], 5, &mins, v).is_none());
        let short = decode(&[1; 32], SIG_VERSION, &[2; 16], 5, &[], v);
        assert_eq!(short.map(|(.., n)| n), Some(0));
    }
}
