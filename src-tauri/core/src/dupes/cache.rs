//! Signatures cached in the index, by the content hash of the post's file, so that a second
//! `duplicates` run (and one after a rescan or an edit) computes only the posts that changed.
//! The table is created when missing (an index is a cache, rebuilt at will); rows whose post is
//! gone are dropped; a row that does not read back as a signature of this version is ignored
//! (and recomputed).

use super::minhash::{TextSig, BINS, HEAD_BINS};
use crate::error::{Result, SqlContext};
use rusqlite::Connection;
use std::collections::HashMap;
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

/// Every cached signature that reads back whole, by file hash.
pub fn load(conn: &Connection, path: &Path) -> Result<HashMap<[u8; 32], TextSig>> {
    let mut out = HashMap::new();
    if !table_exists(conn, path)? {
        return Ok(out);
    }
    let mut stmt = conn
        .prepare("SELECT hash, version, text_hash, shingles, mins FROM dupe_sigs")
        .at(path)?;
    let mut rows = stmt.query([]).at(path)?;
    while let Some(r) = rows.next().at(path)? {
        let hash: Vec<u8> = r.get(0).at(path)?;
        let version: i64 = r.get(1).at(path)?;
        let text_hash: Vec<u8> = r.get(2).at(path)?;
        let shingles: i64 = r.get(3).at(path)?;
        let mins: Vec<u8> = r.get(4).at(path)?;
        if let Some((hash, sig)) = decode(&hash, version, &text_hash, shingles, &mins) {
            out.insert(hash, sig);
        }
    }
    Ok(out)
}

fn decode(
    hash: &[u8],
    version: i64,
    text_hash: &[u8],
    shingles: i64,
    mins: &[u8],
) -> Option<([u8; 32], TextSig)> {
    if version != SIG_VERSION {
        return None;
    }
    let hash = <[u8; 32]>::try_from(hash).ok()?;
    let text_hash = <[u8; 16]>::try_from(text_hash).ok()?;
    let shingles = u32::try_from(shingles).ok()?;
    let short = shingles < super::minhash::MIN_SHINGLES;
    // A signature has all its bins and its head's, or none for a short text: anything else is
    // not ours.
    let expected = if short { 0 } else { (BINS + HEAD_BINS) * 4 };
    if mins.len() != expected {
        return None;
    }
    let mut mins: Vec<u32> = mins
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    let head = mins.split_off(mins.len().min(BINS));
    Some((
        hash,
        TextSig {
            text_hash,
            shingles,
            mins,
            head,
        },
    ))
}

/// Store new signatures and drop the rows of posts no longer in the index, in one transaction.
pub fn store(conn: &mut Connection, path: &Path, new: &[([u8; 32], TextSig)]) -> Result<()> {
    let tx = conn.transaction().at(path)?;
    tx.execute_batch(CREATE).at(path)?;
    {
        let mut stmt = tx
            .prepare(
                "INSERT OR REPLACE INTO dupe_sigs(hash, version, text_hash, shingles, mins)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .at(path)?;
        for (hash, sig) in new {
            let mins: Vec<u8> = sig
                .mins
                .iter()
                .chain(&sig.head)
                .flat_map(|m| m.to_le_bytes())
                .collect();
            stmt.execute(rusqlite::params![
                &hash[..],
                SIG_VERSION,
                &sig.text_hash[..],
                i64::from(sig.shingles),
                mins
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
        let mins = vec![7u8; (BINS + HEAD_BINS) * 4];
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], 500, &mins).is_some());
        assert!(decode(&[1; 32], SIG_VERSION + 1, &[2; 16], 500, &mins).is_none());
        assert!(decode(&[1; 31], SIG_VERSION, &[2; 16], 500, &mins).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 15], 500, &mins).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], -1, &mins).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], 500, &mins[..12]).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], 5, &mins).is_none());
        assert!(decode(&[1; 32], SIG_VERSION, &[2; 16], 5, &[]).is_some());
    }
}
