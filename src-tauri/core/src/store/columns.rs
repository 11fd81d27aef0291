//! The posts' metadata as persisted columns, one row of `doc_columns` per chunk of 2,048
//! document ids, so that a reader opens an index by reading a few hundred blobs instead of a
//! row (and a JSON parse, a title fold, a string intern) per post.
//!
//! A chunk is a pure function of the `posts` rows whose `docid` falls in its range
//! (`build`): the writer rebuilds the chunks its transaction touched just before it commits
//! (`write`), and a reader that finds a chunk missing or undecodable builds it from those rows
//! itself (`read_all`, `read_titles`). Both blobs are decoded with bounds checked (`cols` by
//! `postcard`, then `Chunk::check`; `titles` by `decode_titles`), so a hostile index can make
//! results wrong, as lying postings could, but never make a reader panic or allocate without
//! bound.
//!
//! Two blobs per chunk: `cols` (what filters, facets, sorting and ranking need, read when a
//! reader opens the index) and `titles` (the folded titles, read only when a query needs them).
//!
//! `cols` (schema 16) is `0x00 0x01`, then each integer column bit-packed (`pack_u32s`: its
//! count, its least value, then blocks of 128 values less that one, each at the width its
//! largest needs), then the dates (`pack_dates`), then the chunk's dictionaries (authors,
//! sites, terms) by `postcard`. Schema 15 stored the whole chunk by `postcard`, one varint at a
//! time: decoding it was a quarter of the time opening an index of a million posts took.

use crate::index::analysis::fold_for_match;
use crate::index::grams::{get_varint, put_varint};
use bitpacking::{BitPacker, BitPacker4x};
use rusqlite::{params, Connection, OptionalExtension};

/// Document ids per chunk: `chunk = docid >> CHUNK_BITS`.
pub const CHUNK_BITS: u32 = 11;

pub const CREATE: &str = "CREATE TABLE doc_columns(
  chunk INTEGER PRIMARY KEY,
  cols BLOB NOT NULL,
  titles BLOB NOT NULL
);";

/// The columns of the live documents of one chunk, in docid order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Chunk {
    pub docids: Vec<u32>,
    pub date_ms: Vec<Option<i64>>,
    /// `year * 12 + month - 1 + 1` of the date (0: no date), for facets.
    pub month: Vec<u32>,
    /// Characters of the folded title (`fold_for_match`), for ranking.
    pub title_chars: Vec<u32>,
    pub text_chars: Vec<u32>,
    pub has_source: Vec<bool>,
    /// This chunk's distinct authors; `author[i]` is an index into it plus one (0: none).
    pub authors: Vec<String>,
    pub author: Vec<u32>,
    pub sites: Vec<String>,
    pub site: Vec<u32>,
    /// This chunk's distinct tags and categories; `tags`/`cats` index into it.
    pub terms: Vec<String>,
    pub tag_count: Vec<u32>,
    pub tags: Vec<u32>,
    pub cat_count: Vec<u32>,
    pub cats: Vec<u32>,
}

/// The folded titles of one chunk's documents, in the chunk's order: their UTF-8 one after
/// another, and where each ends. Stored as the count (u32 LE), the ends (u32 LE each), then the
/// text: a reader copies the text in one piece, with no per-title allocation or UTF-8 check
/// (titles are only searched and compared as bytes; a bad byte only fails to match).
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Titles {
    text: Vec<u8>,
    ends: Vec<u32>,
}

impl Titles {
    fn push(&mut self, title: &str) {
        // A chunk's titles past 4 GB (only a hostile archive) are left empty.
        if let Ok(end) = u32::try_from(self.text.len() + title.len()) {
            self.text.extend_from_slice(title.as_bytes());
            self.ends.push(end);
        } else {
            self.ends.push(self.text.len() as u32);
        }
    }

    /// Title `i`'s bytes (empty past the last).
    pub fn get(&self, i: usize) -> &[u8] {
        title_at(&self.text, &self.ends, i)
    }

    /// How many titles the chunk holds.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// How many times each title holds what `find` finds (the offset of its first match of
    /// `len` bytes in a haystack, `len` above 0), matches taken from the left without overlapping
    /// as `find` would take them in each title alone: one search over the titles one after
    /// another, which goes on after each match, or from the next title's start after a match
    /// across a title's end (no match of that title can start later). For many titles of a
    /// chunk this is much cheaper than a search of each title on its own, a call each.
    pub fn counts(&self, len: usize, find: impl Fn(&[u8]) -> Option<usize>) -> Vec<u32> {
        let mut counts = vec![0u32; self.ends.len()];
        if len == 0 {
            return counts;
        }
        let (mut pos, mut t) = (0usize, 0usize);
        while let Some(off) = self.text.get(pos..).and_then(&find) {
            let start = pos + off;
            // The title `start` is in: the first that ends after it.
            while self.ends.get(t).is_some_and(|&e| e as usize <= start) {
                t += 1;
            }
            let Some(&end) = self.ends.get(t) else { break };
            if start + len <= end as usize {
                if let Some(n) = counts.get_mut(t) {
                    *n += 1;
                }
                pos = start + len;
            } else {
                pos = end as usize;
                t += 1;
            }
        }
        counts
    }

    fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(4 + 4 * self.ends.len() + self.text.len());
        out.extend_from_slice(&(self.ends.len() as u32).to_le_bytes());
        for e in &self.ends {
            out.extend_from_slice(&e.to_le_bytes());
        }
        out.extend_from_slice(&self.text);
        out
    }
}

fn title_at<'a>(text: &'a [u8], ends: &[u32], i: usize) -> &'a [u8] {
    let start = match i {
        0 => 0,
        _ => ends.get(i - 1).copied().unwrap_or(0) as usize,
    };
    let end = ends.get(i).copied().unwrap_or(0) as usize;
    text.get(start..end).unwrap_or(&[])
}

impl Chunk {
    pub fn len(&self) -> usize {
        self.docids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docids.is_empty()
    }

    /// Whether a decoded chunk is whole and consistent: every column as long as `docids`, ids
    /// ascending inside chunk `no`'s range, every reference inside its dictionary.
    pub fn check(&self, no: u32) -> bool {
        let n = self.docids.len();
        let lens_ok = [
            self.date_ms.len(),
            self.month.len(),
            self.title_chars.len(),
            self.text_chars.len(),
            self.has_source.len(),
            self.author.len(),
            self.site.len(),
            self.tag_count.len(),
            self.cat_count.len(),
        ]
        .iter()
        .all(|&l| l == n);
        let range = chunk_range(no);
        let ids_ok = self.docids.windows(2).all(|w| w[0] < w[1])
            && self
                .docids
                .iter()
                .all(|&d| (d as i64) >= range.0 && (d as i64) < range.1);
        let refs_ok = |col: &[u32], dict: usize| col.iter().all(|&v| v as usize <= dict);
        let list_ok = |counts: &[u32], list: &[u32]| {
            counts.iter().map(|&c| c as u64).sum::<u64>() == list.len() as u64
                && list.iter().all(|&t| (t as usize) < self.terms.len())
        };
        lens_ok
            && ids_ok
            && refs_ok(&self.author, self.authors.len())
            && refs_ok(&self.site, self.sites.len())
            && list_ok(&self.tag_count, &self.tags)
            && list_ok(&self.cat_count, &self.cats)
    }
}

/// The docids `[from, to)` of chunk `no`.
pub fn chunk_range(no: u32) -> (i64, i64) {
    let from = (no as i64) << CHUNK_BITS;
    (from, from + (1i64 << CHUNK_BITS))
}

pub fn chunk_of(docid: i64) -> u32 {
    (docid.max(0) >> CHUNK_BITS) as u32
}

fn month_of(ms: i64) -> Option<u32> {
    use chrono::Datelike;
    let d = chrono::DateTime::from_timestamp_millis(ms)?;
    u32::try_from(d.year()).ok().map(|y| y * 12 + d.month0())
}

/// Interning into a chunk's own dictionary.
#[derive(Default)]
struct Dict {
    values: Vec<String>,
    ids: rustc_hash::FxHashMap<String, u32>,
}

impl Dict {
    fn id(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(s.to_string());
        self.ids.insert(s.to_string(), id);
        id
    }
}

/// A post's title as the chunks store it (`Titles`): folded for matching.
pub fn folded_title(title: &str) -> String {
    fold_for_match(title).into_iter().collect()
}

/// Build chunk `no` from the `posts` rows in its range.
pub fn build(conn: &Connection, no: u32) -> rusqlite::Result<(Chunk, Titles)> {
    let (from, to) = chunk_range(no);
    let mut stmt = conn.prepare_cached(
        "SELECT docid, title, date_ms, author, site, source IS NOT NULL, tags, categories, text_chars
         FROM posts WHERE docid >= ?1 AND docid < ?2 ORDER BY docid",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    let mut c = Chunk::default();
    let mut titles = Titles::default();
    let (mut authors, mut sites, mut terms) = (Dict::default(), Dict::default(), Dict::default());
    while let Some(r) = rows.next()? {
        let docid: i64 = r.get(0)?;
        let title: String = r.get(1)?;
        let date_ms: Option<i64> = r.get(2)?;
        let author: Option<String> = r.get(3)?;
        let site: Option<String> = r.get(4)?;
        let tags: String = r.get(6)?;
        let cats: String = r.get(7)?;
        let text_chars: i64 = r.get(8)?;
        let folded = folded_title(&title);
        c.docids.push(docid as u32);
        c.date_ms.push(date_ms);
        c.month.push(
            date_ms
                .and_then(month_of)
                .map_or(0, |m| m.saturating_add(1)),
        );
        c.title_chars.push(folded.chars().count() as u32);
        c.text_chars
            .push(text_chars.clamp(0, u32::MAX as i64) as u32);
        c.has_source.push(r.get(5)?);
        c.author.push(
            author
                .filter(|a| !a.trim().is_empty())
                .map_or(0, |a| authors.id(&a) + 1),
        );
        c.site.push(site.map_or(0, |s| sites.id(&s) + 1));
        let tags: Vec<String> = serde_json::from_str(&tags).unwrap_or_default();
        let cats: Vec<String> = serde_json::from_str(&cats).unwrap_or_default();
        c.tag_count.push(tags.len() as u32);
        c.tags.extend(tags.iter().map(|t| terms.id(t)));
        c.cat_count.push(cats.len() as u32);
        c.cats.extend(cats.iter().map(|t| terms.id(t)));
        titles.push(&folded);
    }
    c.authors = authors.values;
    c.sites = sites.values;
    c.terms = terms.values;
    Ok((c, titles))
}

/// Rebuild the given chunks from `posts` and store them (an empty chunk's row is deleted).
/// Called by the writer inside its transaction, just before it commits.
pub fn write(conn: &Connection, chunks: impl IntoIterator<Item = u32>) -> rusqlite::Result<()> {
    for no in chunks {
        let (c, titles) = build(conn, no)?;
        if c.is_empty() {
            conn.prepare_cached("DELETE FROM doc_columns WHERE chunk = ?1")?
                .execute([no])?;
            continue;
        }
        let cols = encode(&c).map_err(to_sql_error)?;
        let titles = titles.encode();
        conn.prepare_cached(
            "INSERT OR REPLACE INTO doc_columns(chunk, cols, titles) VALUES (?1, ?2, ?3)",
        )?
        .execute(params![no, cols, titles])?;
    }
    Ok(())
}

/// Rewrite every stored chunk in the current form (the migration from schema 15).
pub fn rewrite_all(conn: &Connection) -> rusqlite::Result<()> {
    let chunks: Vec<u32> = conn
        .prepare("SELECT chunk FROM doc_columns")?
        .query_map([], |r| r.get::<_, i64>(0))?
        .filter_map(|r| r.map(|no| u32::try_from(no).ok()).transpose())
        .collect::<rusqlite::Result<_>>()?;
    write(conn, chunks)
}

fn to_sql_error(e: postcard::Error) -> rusqlite::Error {
    rusqlite::Error::ToSqlConversionFailure(Box::new(e))
}

/// Where a chunk read by a reader came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// Decoded from its stored blob.
    Stored,
    /// Built from the `posts` rows, because the blob was missing, undecodable or inconsistent.
    Rebuilt,
}

/// The first bytes of a `cols` blob of this form. A blob of schema 15 (`postcard`) never starts
/// with 0 (its first byte is the count of its documents, and an empty chunk is not stored).
const FORM: [u8; 2] = [0x00, 0x01];
/// The most values a stored column may claim: far above what 2,048 documents hold (their tags
/// included), so that a hostile count cannot make a reader allocate without bound.
const MAX_VALUES: usize = 1 << 22;
const BLOCK: usize = BitPacker4x::BLOCK_LEN;

/// The stored form of a chunk (see the module's doc).
fn encode(c: &Chunk) -> postcard::Result<Vec<u8>> {
    let mut out = FORM.to_vec();
    let has_source: Vec<u32> = c.has_source.iter().map(|&b| u32::from(b)).collect();
    for col in [
        &c.docids,
        &c.month,
        &c.title_chars,
        &c.text_chars,
        &has_source,
        &c.author,
        &c.site,
        &c.tag_count,
        &c.tags,
        &c.cat_count,
        &c.cats,
    ] {
        pack_u32s(col, &mut out);
    }
    pack_dates(&c.date_ms, &mut out);
    postcard::to_io(&(&c.authors, &c.sites, &c.terms), &mut out)?;
    Ok(out)
}

/// Decode a stored `cols` blob of chunk `no`, or None when it is not a whole, consistent chunk.
pub fn decode(no: u32, blob: &[u8]) -> Option<Chunk> {
    let mut at = blob.strip_prefix(&FORM)?;
    let mut col = || unpack_u32s(&mut at);
    let mut c = Chunk {
        docids: col()?,
        month: col()?,
        title_chars: col()?,
        text_chars: col()?,
        has_source: col()?.into_iter().map(|v| v != 0).collect(),
        author: col()?,
        site: col()?,
        tag_count: col()?,
        tags: col()?,
        cat_count: col()?,
        cats: col()?,
        ..Chunk::default()
    };
    c.date_ms = unpack_dates(&mut at)?;
    let (authors, sites, terms) = postcard::from_bytes(at).ok()?;
    (c.authors, c.sites, c.terms) = (authors, sites, terms);
    c.check(no).then_some(c)
}

/// Append a column of integers: its count and least value (varints), then for each block of
/// `BLOCK` values (the last one padded with zeros) the width in bits of its largest value less
/// the least one, and the block packed at that width.
fn pack_u32s(values: &[u32], out: &mut Vec<u8>) {
    let base = values.iter().copied().min().unwrap_or(0);
    put_varint(out, values.len() as u64);
    put_varint(out, u64::from(base));
    let packer = BitPacker4x::new();
    let mut block = [0u32; BLOCK];
    let mut packed = [0u8; 4 * BLOCK];
    for part in values.chunks(BLOCK) {
        block.fill(0);
        for (b, &v) in block.iter_mut().zip(part) {
            *b = v - base;
        }
        let bits = packer.num_bits(&block);
        let n = packer.compress(&block, &mut packed, bits);
        out.push(bits);
        out.extend_from_slice(&packed[..n]);
    }
}

/// Read a column written by `pack_u32s` from the front of `at`, or None when `at` does not hold
/// one whole.
fn unpack_u32s(at: &mut &[u8]) -> Option<Vec<u32>> {
    let n = usize::try_from(get_varint(at)?).ok()?;
    let base = u32::try_from(get_varint(at)?).ok()?;
    // A block of 128 values takes at least its width's byte: a count the rest cannot hold is
    // refused before anything is allocated.
    if n > MAX_VALUES || n.div_ceil(BLOCK) > at.len() {
        return None;
    }
    let packer = BitPacker4x::new();
    let mut out = Vec::with_capacity(n.div_ceil(BLOCK) * BLOCK);
    let mut block = [0u32; BLOCK];
    for _ in 0..n.div_ceil(BLOCK) {
        let (&bits, rest) = at.split_first()?;
        let len = usize::from(bits) * BLOCK / 8;
        if bits > 32 || rest.len() < len {
            return None;
        }
        packer.decompress(&rest[..len], &mut block, bits);
        out.extend(block.iter().map(|&v| v.wrapping_add(base)));
        *at = &rest[len..];
    }
    out.truncate(n);
    Some(out)
}

/// Append the dates: after the least one (8 bytes, little-endian), a column of which documents
/// have one (1) or none (0), and each date as a u64 that keeps their order (`i64` with its sign
/// bit flipped) less the least one, as two columns of its high and low 32 bits.
fn pack_dates(dates: &[Option<i64>], out: &mut Vec<u8>) {
    let key = |d: i64| (d as u64) ^ (1 << 63);
    let base = dates.iter().flatten().map(|&d| key(d)).min().unwrap_or(0);
    let rel: Vec<u64> = dates
        .iter()
        .map(|d| d.map_or(0, |d| key(d) - base))
        .collect();
    out.extend_from_slice(&base.to_le_bytes());
    pack_u32s(
        &dates
            .iter()
            .map(|d| u32::from(d.is_some()))
            .collect::<Vec<_>>(),
        out,
    );
    pack_u32s(
        &rel.iter().map(|&r| (r >> 32) as u32).collect::<Vec<_>>(),
        out,
    );
    pack_u32s(&rel.iter().map(|&r| r as u32).collect::<Vec<_>>(), out);
}

/// Read the dates written by `pack_dates`.
fn unpack_dates(at: &mut &[u8]) -> Option<Vec<Option<i64>>> {
    let (base, rest) = at.split_first_chunk::<8>()?;
    let base = u64::from_le_bytes(*base);
    *at = rest;
    let present = unpack_u32s(at)?;
    let high = unpack_u32s(at)?;
    let low = unpack_u32s(at)?;
    if present.len() != high.len() || high.len() != low.len() {
        return None;
    }
    let dates = present
        .iter()
        .zip(high.iter().zip(&low))
        .map(|(&p, (&h, &l))| {
            let key = base.wrapping_add((u64::from(h) << 32) | u64::from(l));
            (p != 0).then_some((key ^ (1 << 63)) as i64)
        });
    Some(dates.collect())
}

/// Decode a stored `titles` blob for a chunk of `len` documents: its text and where each title
/// ends, or None when the blob is not that.
pub fn decode_titles(blob: &[u8], len: usize) -> Option<(&[u8], Vec<u32>)> {
    let count = u32::from_le_bytes(blob.get(..4)?.try_into().ok()?) as usize;
    if count != len {
        return None;
    }
    let head = 4usize.checked_add(count.checked_mul(4)?)?;
    let ends: Vec<u32> = blob
        .get(4..head)?
        .chunks_exact(4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let text = blob.get(head..)?;
    let ordered = ends.windows(2).all(|w| w[0] <= w[1]);
    let inside = ends.last().is_none_or(|&e| e as usize == text.len());
    (ordered && inside).then_some((text, ends))
}

/// Every chunk of the index in chunk order, decoded, or built from `posts` where the stored one
/// is not usable. `f` receives each with its number and origin.
pub fn read_all(conn: &Connection, mut f: impl FnMut(u32, Chunk, Origin)) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("SELECT chunk, cols FROM doc_columns ORDER BY chunk")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let no: i64 = r.get(0)?;
        let Ok(no) = u32::try_from(no) else { continue };
        match r.get_ref(1)?.as_blob().ok().and_then(|b| decode(no, b)) {
            Some(c) => f(no, c, Origin::Stored),
            None => f(no, build(conn, no)?.0, Origin::Rebuilt),
        }
    }
    Ok(())
}

/// The folded titles of chunk `no`, which holds `len` documents, in order: as stored, or built
/// from `posts` when the stored blob is missing or not that chunk's. The rows may then hold
/// other documents than the chunk the reader has (a hostile index): titles are given by
/// position, and a position past them reads as empty.
pub fn read_titles(conn: &Connection, no: u32, len: usize) -> rusqlite::Result<Titles> {
    let found = conn
        .prepare_cached("SELECT titles FROM doc_columns WHERE chunk = ?1")?
        .query_row([no], |r| {
            Ok(r.get_ref(0)?
                .as_blob()
                .ok()
                .and_then(|b| decode_titles(b, len))
                .map(|(text, ends)| Titles {
                    text: text.to_vec(),
                    ends,
                }))
        })
        .optional()?
        .flatten();
    match found {
        Some(t) => Ok(t),
        None => Ok(build(conn, no)?.1),
    }
}

#[cfg(test)]
fn titles_of(conn: &Connection, no: u32, len: usize) -> Vec<String> {
    let t = read_titles(conn, no, len).unwrap();
    (0..len)
        .map(|i| String::from_utf8_lossy(t.get(i)).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::strategy::Strategy as _;

    proptest::proptest! {
        /// One pass over a chunk's titles counts what a search of each title alone counts
        /// (matches from the left without overlapping, `str::matches`), also where a match
        /// runs across the end of a title into the next, and for empty titles.
        #[test]
        fn a_chunks_titles_are_counted_in_one_pass_as_each_alone(
            titles in proptest::collection::vec(
                proptest::collection::vec(proptest::sample::select(vec!["中", "国", "中国", "a", "aa", " "]), 0..6)
                    .prop_map(|v| v.concat()),
                0..40,
            ),
            needle in proptest::sample::select(vec!["中", "中国", "国中", "aa", "a a", "中国中"]),
        ) {
            let mut t = Titles::default();
            for title in &titles {
                t.push(title);
            }
            let finder = memchr::memmem::Finder::new(needle);
            let got = t.counts(needle.len(), |h| finder.find(h));
            let want: Vec<u32> = titles.iter().map(|x| x.matches(needle).count() as u32).collect();
            proptest::prop_assert_eq!(got, want);
            proptest::prop_assert!(t.counts(0, |h| finder.find(h)).iter().all(|&n| n == 0));
        }
    }

    fn index() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE posts(docid INTEGER UNIQUE, title TEXT, date_ms INTEGER, author TEXT,
             site TEXT, source TEXT, tags TEXT, categories TEXT, text_chars INTEGER);",
        )
        .unwrap();
        conn.execute_batch(CREATE).unwrap();
        conn
    }

    fn add(conn: &Connection, docid: i64, title: &str, tags: &str) {
        conn.execute(
            "INSERT INTO posts VALUES (?1, ?2, 86400000, 'A', 'x.com', 'https://x.com', ?3, '[\"c\"]', 10)",
            params![docid, title, tags],
        )
        .unwrap();
    }

    #[test]
    fn chunks_round_trip_and_follow_their_rows() {
        let conn = index();
        add(&conn, 1, "Hello  World", r#"["a","b"]"#);
        add(&conn, 2, "臺灣", r#"["b"]"#);
        add(&conn, 2049, "next chunk", "not json");
        write(&conn, [0, 1]).unwrap();
        let mut got = Vec::new();
        read_all(&conn, |no, c, o| got.push((no, c, o))).unwrap();
        assert_eq!(got.len(), 2);
        let (no, c, o) = &got[0];
        assert_eq!((*no, *o), (0, Origin::Stored));
        assert_eq!(c.docids, vec![1, 2]);
        assert_eq!(c.terms, vec!["a", "b", "c"]);
        assert_eq!(c.tags, vec![0, 1, 1]);
        assert_eq!(c.month, vec![1970 * 12 + 1; 2]);
        assert_eq!(c.title_chars, vec![11, 2]);
        assert_eq!(titles_of(&conn, 0, 2), vec!["hello world", "台湾"]);
        // A malformed tags column is no tags, not an error.
        assert_eq!(got[1].1.tag_count, vec![0]);
        // Removing the rows and rewriting the chunk deletes it.
        conn.execute("DELETE FROM posts WHERE docid = 2049", [])
            .unwrap();
        write(&conn, [1]).unwrap();
        let n: i64 = conn
            .query_row("SELECT count(*) FROM doc_columns", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }

    #[test]
    fn a_hostile_blob_is_rebuilt_from_the_rows_not_trusted() {
        let conn = index();
        add(&conn, 5, "t", "[]");
        write(&conn, [0]).unwrap();
        let good: Vec<u8> = conn
            .query_row("SELECT cols FROM doc_columns", [], |r| r.get(0))
            .unwrap();
        // Truncated, garbage, a huge claimed length, and a well-formed chunk that lies
        // (a reference past its dictionary, a docid outside its range).
        let mut lying = decode(0, &good).unwrap();
        lying.author = vec![7];
        let mut outside = decode(0, &good).unwrap();
        outside.docids = vec![99_999];
        let blobs = [
            good[..good.len() / 2].to_vec(),
            vec![0xff; 64],
            vec![0xff, 0xff, 0xff, 0xff, 0x0f],
            encode(&lying).unwrap(),
            encode(&outside).unwrap(),
        ];
        for blob in blobs {
            conn.execute("UPDATE doc_columns SET cols = ?1, titles = ?1", [&blob])
                .unwrap();
            let mut got = Vec::new();
            read_all(&conn, |_, c, o| got.push((c, o))).unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].1, Origin::Rebuilt);
            assert_eq!(got[0].0.docids, vec![5]);
            assert_eq!(titles_of(&conn, 0, 1), vec!["t"]);
        }
    }

    /// A chunk with every column's extremes: ids up to the top of their chunk, counts and
    /// references at u32::MAX, dates at both ends of i64 and none, more than one block.
    fn extreme_chunk(no: u32) -> Chunk {
        let (from, to) = chunk_range(no);
        let n = 300usize;
        let docids: Vec<u32> = (0..n)
            .map(|i| (to - 1 - (n - 1 - i) as i64) as u32)
            .collect();
        assert!(docids[0] as i64 >= from);
        let dates = [
            None,
            Some(i64::MIN),
            Some(i64::MAX),
            Some(0),
            Some(-1),
            Some(1_600_000_000_000),
        ];
        Chunk {
            date_ms: (0..n).map(|i| dates[i % dates.len()]).collect(),
            month: (0..n as u32)
                .map(|i| if i % 7 == 0 { 0 } else { 24_000 + i })
                .collect(),
            title_chars: (0..n as u32).map(|i| i * 3).collect(),
            text_chars: (0..n as u32)
                .map(|i| if i == 5 { u32::MAX } else { i * 1000 })
                .collect(),
            has_source: (0..n).map(|i| i % 3 == 0).collect(),
            authors: vec!["a".into(), "李四".into()],
            author: (0..n as u32).map(|i| i % 3).collect(),
            sites: vec!["x.com".into()],
            site: (0..n as u32).map(|i| i % 2).collect(),
            terms: vec!["t".into(), "標籤".into()],
            tag_count: (0..n as u32).map(|i| i % 3).collect(),
            tags: (0..n as u32)
                .flat_map(|i| (0..i % 3).map(move |k| (i + k) % 2))
                .collect(),
            cat_count: vec![1; n],
            cats: vec![1; n],
            docids,
        }
    }

    #[test]
    fn a_chunk_comes_back_from_its_stored_form_as_it_went_in() {
        for c in [extreme_chunk(3), extreme_chunk(0)] {
            let no = chunk_of(c.docids[0] as i64);
            assert!(c.check(no));
            let blob = encode(&c).unwrap();
            assert_eq!(&blob[..2], &FORM);
            assert_eq!(decode(no, &blob), Some(c.clone()));
            // Not the chunk it claims to be: refused.
            assert_eq!(decode(no + 1, &blob), None);
        }
    }

    #[test]
    fn a_damaged_stored_chunk_reads_as_none_never_panics() {
        let c = extreme_chunk(1);
        let blob = encode(&c).unwrap();
        for cut in 0..blob.len() {
            assert_eq!(decode(1, &blob[..cut]), None, "cut at {cut}");
        }
        for at in 0..blob.len() {
            for b in [0u8, 1, 0x21, 0x7f, 0x80, 0xff] {
                let mut bad = blob.clone();
                bad[at] = b;
                // Decoding may find another consistent chunk, but never panics.
                let _ = decode(1, &bad);
            }
        }
        // A width past 32 bits, and a count past what the bytes can hold.
        let mut wide = FORM.to_vec();
        put_varint(&mut wide, 3);
        put_varint(&mut wide, 0);
        wide.extend_from_slice(&[33; 600]);
        assert_eq!(unpack_u32s(&mut &wide[2..]), None);
        let mut many = Vec::new();
        put_varint(&mut many, 1 << 40);
        put_varint(&mut many, 0);
        assert_eq!(unpack_u32s(&mut &many[..]), None);
        let mut more = Vec::new();
        put_varint(&mut more, 129);
        put_varint(&mut more, 0);
        more.push(0);
        assert_eq!(unpack_u32s(&mut &more[..]), None);
    }
}
