//! The posts' stored texts (`store::text` forms), many to a row of `post_texts`.
//!
//! One text per row (schemas 9–13) wasted a fifth of what the texts took: a text of 2–4 KB is
//! too large to share a 4 KiB page with many others, so the pages of the table were 22% empty
//! (at 1M posts 364 MiB of its 2,434 MiB; docs/ARCHITECTURE.md). A row now holds the texts of
//! consecutive document ids up to about `CHUNK_BYTES`, in the overflow pages SQLite chains
//! behind a large row, so that only the last page of a chunk is partly empty. Each text is still
//! its own frame: reading one decompresses one text.
//!
//! A row is `first` (the first document id it holds) and `data`: `n` (u32, little-endian), then
//! for each text its document id less `first` and its length in bytes (two u32s), then the texts
//! one after the other. Ids ascend within a row, and every id of a row is below the `first` of
//! the next (the writer gives out ids in order), so the text of a document is in the row with the
//! greatest `first` not above it. The index is untrusted: a row that is not what it declares
//! holds no text (a post whose text cannot be read matches no word, as a damaged frame does).
//!
//! Texts of documents no longer live (an edited post is stored again under a new id; a removed
//! one is gone) are taken out of their rows at the writer's next commit (`remove`), each row
//! rewritten once. Compaction merges the small rows that single edits leave (`compact`).

use rusqlite::{params, Connection, OptionalExtension};
use std::ops::Range;

/// The table.
pub const CREATE: &str = "CREATE TABLE post_texts(first INTEGER PRIMARY KEY, data BLOB NOT NULL);";

/// A row is written once its texts reach this size: its last page, partly empty, is then a
/// few percent of it, and a reader of one text reads at most this much more.
const CHUNK_BYTES: usize = 32 << 10;
/// … or this many texts (short ones).
const CHUNK_TEXTS: usize = 256;
/// A row declaring more texts than this is damaged (the writer makes at most `CHUNK_TEXTS`).
const MAX_TEXTS: usize = 4096;

/// The row of `(id, stored text)` pairs, ids ascending from the first.
fn encode(entries: &[(u32, Vec<u8>)]) -> Option<(u32, Vec<u8>)> {
    let first = entries.first()?.0;
    let bytes: usize = entries.iter().map(|(_, t)| t.len()).sum();
    let mut data = Vec::with_capacity(4 + entries.len() * 8 + bytes);
    data.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for (id, text) in entries {
        data.extend_from_slice(&(id - first).to_le_bytes());
        data.extend_from_slice(&(text.len() as u32).to_le_bytes());
    }
    for (_, text) in entries {
        data.extend_from_slice(text);
    }
    Some((first, data))
}

/// Where the texts of a row are in its data, by id; none when the row is damaged (not what it
/// declares).
fn locate(first: i64, data: &[u8]) -> Option<Vec<(u32, Range<usize>)>> {
    let first = u32::try_from(first).ok()?;
    let u32_at = |at: usize| -> Option<u32> {
        let b = data.get(at..at + 4)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let n = u32_at(0)? as usize;
    if n > MAX_TEXTS {
        return None;
    }
    let mut at = 4 + n.checked_mul(8)?;
    let mut out = Vec::with_capacity(n);
    let mut last: Option<u32> = None;
    for k in 0..n {
        let id = first.checked_add(u32_at(4 + k * 8)?)?;
        let len = u32_at(8 + k * 8)? as usize;
        if last.is_some_and(|l| l >= id) {
            return None;
        }
        last = Some(id);
        let end = at.checked_add(len)?;
        out.push((id, at..end));
        at = end;
    }
    (at == data.len()).then_some(out)
}

/// The texts of a row, by id; none when the row is damaged.
fn decode(first: i64, data: &[u8]) -> Option<Vec<(u32, &[u8])>> {
    let texts = locate(first, data)?;
    Some(texts.into_iter().map(|(id, r)| (id, &data[r])).collect())
}

/// The row that would hold `docid`: the one with the greatest `first` not above it.
fn row_of(conn: &Connection, docid: u32) -> rusqlite::Result<Option<(i64, Vec<u8>)>> {
    conn.prepare_cached(
        "SELECT first, data FROM post_texts WHERE first <= ?1 ORDER BY first DESC LIMIT 1",
    )?
    .query_row([docid], |r| Ok((r.get(0)?, r.get(1)?)))
    .optional()
}

fn write_row(conn: &Connection, entries: &[(u32, Vec<u8>)]) -> rusqlite::Result<()> {
    if let Some((first, data)) = encode(entries) {
        conn.prepare_cached("INSERT OR REPLACE INTO post_texts(first, data) VALUES (?1, ?2)")?
            .execute(params![first, data])?;
    }
    Ok(())
}

/// Texts waiting to be written (their ids ascending), a row at a time.
#[derive(Default)]
pub struct Pending {
    entries: Vec<(u32, Vec<u8>)>,
    bytes: usize,
}

impl Pending {
    /// Add the text of a new document (ids come in ascending order); writes a row when full.
    pub fn push(&mut self, conn: &Connection, docid: u32, stored: Vec<u8>) -> rusqlite::Result<()> {
        if self.entries.last().is_some_and(|(last, _)| *last >= docid) {
            // Not in order (never from the writer): what is pending goes first.
            self.flush(conn)?;
        }
        self.bytes += stored.len();
        self.entries.push((docid, stored));
        if self.bytes >= CHUNK_BYTES || self.entries.len() >= CHUNK_TEXTS {
            self.flush(conn)?;
        }
        Ok(())
    }

    /// Write what is pending as one row.
    pub fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        write_row(conn, &self.entries)?;
        self.clear();
        Ok(())
    }

    /// Forget what is pending (a rollback).
    pub fn clear(&mut self) {
        self.entries.clear();
        self.bytes = 0;
    }

    /// Drop the pending text of `docid`; false when none is pending.
    pub fn forget(&mut self, docid: u32) -> bool {
        match self.entries.binary_search_by_key(&docid, |(id, _)| *id) {
            Ok(k) => {
                self.bytes -= self.entries.remove(k).1.len();
                true
            }
            Err(_) => false,
        }
    }
}

/// Take the texts of `docids` out of their rows, each row rewritten once (a row left with no
/// text is deleted). Returns how many texts were taken out.
pub fn remove(conn: &Connection, docids: &mut Vec<u32>) -> rusqlite::Result<u64> {
    docids.sort_unstable();
    docids.dedup();
    let mut removed = 0u64;
    let mut k = 0;
    while k < docids.len() {
        let Some((first, data)) = row_of(conn, docids[k])? else {
            k += 1;
            continue;
        };
        let Some(texts) = decode(first, &data) else {
            k += 1;
            continue;
        };
        let last = texts.last().map_or(docids[k], |(id, _)| *id).max(docids[k]);
        let end = k + docids[k..].partition_point(|d| *d <= last);
        let gone = &docids[k..end];
        let kept: Vec<(u32, Vec<u8>)> = texts
            .iter()
            .filter(|(id, _)| gone.binary_search(id).is_err())
            .map(|(id, t)| (*id, t.to_vec()))
            .collect();
        if kept.len() < texts.len() {
            removed += (texts.len() - kept.len()) as u64;
            conn.prepare_cached("DELETE FROM post_texts WHERE first = ?1")?
                .execute([first])?;
            write_row(conn, &kept)?;
        }
        k = end;
    }
    Ok(removed)
}

/// Schema 14: move the texts of an index of version 12 or 13, one to a row of `post_text`, into
/// rows of many, and drop the old table (inside the caller's transaction).
pub fn move_from_post_text(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(CREATE)?;
    let mut pending = Pending::default();
    {
        let mut stmt = conn.prepare("SELECT docid, folded FROM post_text ORDER BY docid")?;
        let mut rows = stmt.query([])?;
        while let Some(r) = rows.next()? {
            let (docid, stored): (i64, Vec<u8>) = (r.get(0)?, r.get(1)?);
            if let Ok(docid) = u32::try_from(docid) {
                pending.push(conn, docid, stored)?;
            }
        }
    }
    pending.flush(conn)?;
    conn.execute_batch("DROP TABLE post_text;")
}

/// Compaction: keep only the texts of live documents, and merge rows smaller than half a full
/// one (single edits write a row each) into full ones. Returns the texts dropped.
pub fn compact(conn: &Connection, live: &dyn Fn(u32) -> bool) -> rusqlite::Result<u64> {
    let firsts: Vec<i64> = conn
        .prepare("SELECT first FROM post_texts ORDER BY first")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut pending = Pending::default();
    let mut dropped = 0u64;
    for first in firsts {
        let data: Vec<u8> = conn
            .prepare_cached("SELECT data FROM post_texts WHERE first = ?1")?
            .query_row([first], |r| r.get(0))?;
        let Some(texts) = decode(first, &data) else {
            // Damaged: holds no text anyone can read.
            conn.prepare_cached("DELETE FROM post_texts WHERE first = ?1")?
                .execute([first])?;
            continue;
        };
        let all_live = texts.iter().all(|(id, _)| live(*id));
        if all_live && data.len() >= CHUNK_BYTES / 2 {
            // Kept as it is; what is pending holds lower ids and goes first.
            pending.flush(conn)?;
            continue;
        }
        let texts: Vec<(u32, Vec<u8>)> = texts.into_iter().map(|(i, t)| (i, t.to_vec())).collect();
        conn.prepare_cached("DELETE FROM post_texts WHERE first = ?1")?
            .execute([first])?;
        for (id, text) in texts {
            if live(id) {
                pending.push(conn, id, text)?;
            } else {
                dropped += 1;
            }
        }
    }
    pending.flush(conn)?;
    Ok(dropped)
}

/// The ids of every stored text, in order (tests).
#[cfg(test)]
pub fn ids(conn: &Connection) -> rusqlite::Result<Vec<u32>> {
    let mut out = Vec::new();
    let mut stmt = conn.prepare("SELECT first, data FROM post_texts ORDER BY first")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let data: Vec<u8> = r.get(1)?;
        out.extend(
            decode(r.get(0)?, &data)
                .unwrap_or_default()
                .iter()
                .map(|(id, _)| *id),
        );
    }
    Ok(out)
}

/// A row's data and where its texts are in it (none when it is damaged).
type Row = (Vec<u8>, Vec<(u32, Range<usize>)>);

/// Reads stored texts by document id, keeping the last row it read (a search verifies its
/// candidates in id order, often several from one row).
#[derive(Default)]
pub struct Reader {
    /// The last row read: its data and where its texts are.
    last: Option<Row>,
    /// Whether the index keeps its texts one to a row of `post_text` (an index of version 12 or
    /// 13 that no writer has upgraded yet, which readers take as it is); found on first use.
    one_per_row: Option<bool>,
}

impl Reader {
    /// Call `f` with the stored text of `docid`; none when the index holds no text for it.
    pub fn with_stored<R>(
        &mut self,
        conn: &Connection,
        docid: u32,
        f: impl FnOnce(&[u8]) -> R,
    ) -> rusqlite::Result<Option<R>> {
        let one_per_row = match self.one_per_row {
            Some(v) => v,
            None => {
                let v = conn
                    .prepare_cached(
                        "SELECT count(*) = 0 FROM sqlite_master WHERE type = 'table' AND name = 'post_texts'",
                    )?
                    .query_row([], |r| r.get(0))?;
                *self.one_per_row.insert(v)
            }
        };
        if one_per_row {
            let stored: Option<Vec<u8>> = conn
                .prepare_cached("SELECT folded FROM post_text WHERE docid = ?1")?
                .query_row([docid], |r| r.get(0))
                .optional()?;
            return Ok(stored.map(|s| f(&s)));
        }
        let covers = |(_, texts): &Row| match (texts.first(), texts.last()) {
            (Some((lo, _)), Some((hi, _))) => (*lo..=*hi).contains(&docid),
            _ => false,
        };
        if !self.last.as_ref().is_some_and(covers) {
            self.last = row_of(conn, docid)?.map(|(first, data)| {
                let texts = locate(first, &data).unwrap_or_default();
                (data, texts)
            });
        }
        let Some((data, texts)) = &self.last else {
            return Ok(None);
        };
        Ok(texts
            .binary_search_by_key(&docid, |(id, _)| *id)
            .ok()
            .and_then(|k| data.get(texts[k].1.clone()))
            .map(f))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(CREATE).unwrap();
        conn
    }

    fn text(id: u32) -> Vec<u8> {
        format!("text {id} ")
            .repeat((id as usize * 37) % 900 + 1)
            .into_bytes()
    }

    fn read(conn: &Connection, reader: &mut Reader, id: u32) -> Option<Vec<u8>> {
        reader.with_stored(conn, id, |t| t.to_vec()).unwrap()
    }

    fn rows(conn: &Connection) -> i64 {
        conn.query_row("SELECT count(*) FROM post_texts", [], |r| r.get(0))
            .unwrap()
    }

    #[test]
    fn texts_come_back_by_id_from_rows_of_many() {
        let conn = db();
        let mut p = Pending::default();
        let ids: Vec<u32> = (1..=400).filter(|i| i % 7 != 0).collect();
        for &i in &ids {
            p.push(&conn, i, text(i)).unwrap();
        }
        p.flush(&conn).unwrap();
        let n = rows(&conn);
        assert!(n > 1 && n < 40, "{n} rows");
        // In order, out of order, and ids that have no text.
        let mut r = Reader::default();
        for i in (0..=410).chain((0..=410).rev()).chain([7, 5000, 123, 1]) {
            let want = ids.contains(&i).then(|| text(i));
            assert_eq!(read(&conn, &mut r, i), want, "{i}");
        }
    }

    #[test]
    fn removed_texts_leave_their_rows_and_compaction_merges_small_rows() {
        let conn = db();
        let mut p = Pending::default();
        for i in 1..=300 {
            p.push(&conn, i, text(i)).unwrap();
        }
        p.flush(&conn).unwrap();
        // Edits: one row per text.
        for i in 301..=340 {
            p.push(&conn, i, text(i)).unwrap();
            p.flush(&conn).unwrap();
        }
        let mut gone: Vec<u32> = (1..=340u32).filter(|i| i.is_multiple_of(3)).collect();
        gone.push(9999);
        assert_eq!(remove(&conn, &mut gone).unwrap(), 113);
        let live = |i: u32| (1..=340).contains(&i) && !i.is_multiple_of(3);
        let mut r = Reader::default();
        for i in 0..=345 {
            assert_eq!(read(&conn, &mut r, i), live(i).then(|| text(i)), "{i}");
        }
        // A text the rows still hold but that is no longer live is dropped by compaction, and
        // the 40 small rows are merged.
        let before = rows(&conn);
        let still = |i: u32| live(i) && i != 302 && i != 100;
        assert_eq!(compact(&conn, &still).unwrap(), 2);
        // The 40 rows of one text each (up to 8 KB) are merged: only the last row may be under
        // half full.
        let small: Vec<i64> = conn
            .prepare("SELECT first FROM post_texts WHERE length(data) < ?1 ORDER BY first")
            .unwrap()
            .query_map([CHUNK_BYTES as i64 / 2], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let last: i64 = conn
            .query_row("SELECT max(first) FROM post_texts", [], |r| r.get(0))
            .unwrap();
        assert!(small.is_empty() || small == [last], "{small:?}");
        assert!(rows(&conn) < before, "{before} -> {}", rows(&conn));
        let mut r = Reader::default();
        for i in 0..=345 {
            assert_eq!(read(&conn, &mut r, i), still(i).then(|| text(i)), "{i}");
        }
        // Compacting again changes nothing.
        let after = rows(&conn);
        assert_eq!(compact(&conn, &still).unwrap(), 0);
        assert_eq!(rows(&conn), after);
    }

    #[test]
    fn a_pending_text_can_be_forgotten() {
        let conn = db();
        let mut p = Pending::default();
        p.push(&conn, 5, text(5)).unwrap();
        p.push(&conn, 6, text(6)).unwrap();
        assert!(p.forget(5));
        assert!(!p.forget(5));
        p.flush(&conn).unwrap();
        let mut r = Reader::default();
        assert_eq!(read(&conn, &mut r, 5), None);
        assert_eq!(read(&conn, &mut r, 6), Some(text(6)));
    }

    #[test]
    fn damaged_rows_hold_no_text() {
        let (first, good) = encode(&[(10, b"abc".to_vec()), (12, b"de".to_vec())]).unwrap();
        assert_eq!(
            decode(first.into(), &good).unwrap(),
            vec![(10, &b"abc"[..]), (12, &b"de"[..])]
        );
        let mut many = good.clone();
        many[..4].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut long = good.clone();
        long[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
        let mut unordered = good.clone();
        unordered[12..16].copy_from_slice(&0u32.to_le_bytes());
        for bad in [
            &good[..good.len() - 1],
            &[good.as_slice(), b"x"].concat(),
            &good[..3],
            &many,
            &long,
            &unordered,
            &[],
        ] {
            assert_eq!(decode(first.into(), bad), None, "{bad:?}");
        }
        assert_eq!(decode(-1, &good), None);
        // Through a reader: nothing, never a panic.
        let conn = db();
        conn.execute(
            "INSERT INTO post_texts(first, data) VALUES (10, ?1)",
            [&long],
        )
        .unwrap();
        assert_eq!(read(&conn, &mut Reader::default(), 10), None);
        assert_eq!(remove(&conn, &mut vec![10]).unwrap(), 0);
        assert_eq!(compact(&conn, &|_| true).unwrap(), 0);
        assert_eq!(rows(&conn), 0);
    }
}
