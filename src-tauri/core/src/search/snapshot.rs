//! The posts' metadata as in-memory columns, one snapshot per index generation, so filters,
//! facets and sorting run in microseconds instead of round trips to SQLite.
//!
//! A snapshot is read from the index's persisted chunks (`store::columns`): a few hundred blobs
//! at a million posts, not a row per post. What only some queries need is read when first
//! needed: the folded titles, a chunk at a time (text queries rank their hits by them; `title:`
//! and the title sort read them).
//! What a hit shows (its title, path, source) is read for the hits alone (`Searcher`).
//!
//! A snapshot's lazy parts must be read at its own generation: every reader reads them inside
//! the read transaction in which it checked that generation (`Searcher::read`).

use crate::error::{Result, SqlContext};
use crate::fold::fold;
use crate::store::columns::{self, Chunk, Origin};
use rusqlite::Connection;
use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

/// Interned strings (tags, authors, sites) with their folded forms.
#[derive(Debug, Default)]
pub struct Interner {
    pub values: Vec<String>,
    pub folded: Vec<String>,
    ids: HashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.ids.get(s) {
            return id;
        }
        let id = self.values.len() as u32;
        self.values.push(s.to_string());
        self.folded.push(fold(s.trim()));
        self.ids.insert(s.to_string(), id);
        id
    }

    /// Ids of every value whose folded form satisfies `pred`.
    pub fn matching(&self, pred: impl Fn(&str) -> bool) -> Vec<u32> {
        (0..self.values.len() as u32)
            .filter(|&i| pred(&self.folded[i as usize]))
            .collect()
    }
}

const NONE: u32 = u32::MAX;
/// Decoded chunks waiting to be added to the columns while a snapshot loads.
const CHUNKS_IN_FLIGHT: usize = 8;
/// No date (a stored `i64::MIN`, which only a hostile index holds, reads as no date too).
const NO_DATE: i64 = i64::MIN;

/// The folded titles (`fold_for_match`) of the documents, by position, as UTF-8 bytes (not
/// checked: they are searched and compared as bytes; see `store::columns::Titles`). They are read
/// a chunk at a time, as queries need them: a rare word's hits need the titles of a few chunks,
/// not the whole archive's (75 MB at a million posts).
#[derive(Debug, Default)]
pub struct Titles {
    /// The position of each chunk's first document (ascending; chunks may be empty).
    first: Vec<usize>,
    /// For each run of `1 << BUCKET_BITS` positions, the chunk of its first position.
    bucket: Vec<u32>,
    /// Each chunk's titles, once read.
    chunks: Vec<OnceLock<columns::Titles>>,
}

/// Positions per entry of `Titles::bucket` (a chunk holds up to 2,048 documents).
const BUCKET_BITS: u32 = 8;
/// A chunk whose titles a query needs for at least this many documents is read whole (about
/// 150 KB at 2,048 documents); below, its titles are looked up one by one.
const CHUNK_READ_MIN: u32 = 32;

impl Titles {
    fn new(chunks: &[(u32, usize)]) -> Titles {
        let mut first = Vec::with_capacity(chunks.len());
        let mut n = 0usize;
        for &(_, len) in chunks {
            first.push(n);
            n += len;
        }
        let mut bucket = Vec::with_capacity((n >> BUCKET_BITS) + 1);
        let mut c = 0usize;
        for p in (0..n).step_by(1 << BUCKET_BITS) {
            while first.get(c + 1).is_some_and(|&f| f <= p) {
                c += 1;
            }
            bucket.push(c as u32);
        }
        Titles {
            first,
            bucket,
            chunks: chunks.iter().map(|_| OnceLock::new()).collect(),
        }
    }

    /// The chunk that holds position `i`.
    fn chunk_of(&self, i: usize) -> Option<usize> {
        let mut c = *self.bucket.get(i >> BUCKET_BITS)? as usize;
        while self.first.get(c + 1).is_some_and(|&f| f <= i) {
            c += 1;
        }
        Some(c)
    }

    /// Call `f(position, its chunk)` for each position (they mostly ascend, so most are placed
    /// without a lookup).
    fn each_chunk(&self, positions: impl Iterator<Item = usize>, mut f: impl FnMut(usize, usize)) {
        let mut last: Option<(usize, usize, usize)> = None;
        for i in positions {
            match last {
                Some((first, end, c)) if first <= i && i < end => f(i, c),
                _ => {
                    if let Some(c) = self.chunk_of(i) {
                        let first = self.first.get(c).copied().unwrap_or(0);
                        let end = self.first.get(c + 1).copied().unwrap_or(usize::MAX);
                        last = Some((first, end, c));
                        f(i, c);
                    }
                }
            }
        }
    }

    /// Title `i`, if its chunk was read.
    fn read(&self, i: usize) -> Option<&[u8]> {
        let (first, titles) = self.read_chunk(i)?;
        Some(titles.get(i - first))
    }

    /// The chunk of position `i`, if it was read, and the position of its first title.
    fn read_chunk(&self, i: usize) -> Option<(usize, &columns::Titles)> {
        let c = self.chunk_of(i)?;
        Some((*self.first.get(c)?, self.chunks.get(c)?.get()?))
    }
}

/// A query's folded titles (`Snapshot::titles`): from the chunks read whole, or looked up.
pub struct TitlesOf<'a> {
    titles: &'a Titles,
    single: rustc_hash::FxHashMap<usize, Vec<u8>>,
}

impl TitlesOf<'_> {
    /// Title `i` (empty for a position the query did not ask for).
    pub fn get(&self, i: usize) -> &[u8] {
        match self.titles.read(i) {
            Some(t) => t,
            None => self.single.get(&i).map_or(&[], Vec::as_slice),
        }
    }

    /// The chunk read whole that holds position `i`, and the positions it holds (title `j` of
    /// the chunk is position `start + j`); none when `i`'s title was looked up on its own.
    pub fn chunk(&self, i: usize) -> Option<(std::ops::Range<usize>, &columns::Titles)> {
        let (start, titles) = self.titles.read_chunk(i)?;
        Some((start..start + titles.len(), titles))
    }
}

#[derive(Debug, Default)]
pub struct Snapshot {
    pub generation: i64,
    /// Position → document id; positions are in document id order.
    docids: Vec<u32>,
    /// docid → position + 1 (0: not a live document); empty when the ids are too sparse for a
    /// table (a hostile index could claim ids up to 2^32), and then `docids` is searched.
    by_docid: Vec<u32>,
    /// Milliseconds since the epoch (`NO_DATE`: no date), 8 bytes a post instead of 16.
    date_ms: Vec<i64>,
    /// `year * 12 + month - 1` of the date, for facets (`NONE`: no date).
    month: Vec<u32>,
    author: Vec<u32>,
    site: Vec<u32>,
    /// `tag_ids[tag_start[i]..tag_start[i + 1]]` are document i's tags (ids in `terms`).
    tag_start: Vec<u32>,
    tag_ids: Vec<u32>,
    cat_start: Vec<u32>,
    cat_ids: Vec<u32>,
    title_chars: Vec<u32>,
    text_chars: Vec<u32>,
    has_source: Vec<bool>,
    has_problem: Vec<bool>,
    /// (chunk number, documents) of each chunk in position order, for reading its titles.
    chunks: Vec<(u32, usize)>,
    pub terms: Interner,
    pub authors: Interner,
    /// The dictionaries of the stored texts, loaded as verification first needs them.
    pub texts: crate::store::text::Dicts,
    pub sites: Interner,
    pub avg_title_chars: f32,
    pub avg_text_chars: f32,
    /// Chunks that had to be built from `posts` rows (their stored blob was missing or bad).
    pub rebuilt_chunks: usize,
    titles: Titles,
    /// Held while titles are read, so readers that need them at once read them once.
    reading_titles: std::sync::Mutex<()>,
}

impl Snapshot {
    /// Read the snapshot of the index as `conn` sees it (at `generation`).
    pub fn load(conn: &Connection, path: &Path, generation: i64) -> Result<Snapshot> {
        let mut snap = Snapshot {
            generation,
            ..Default::default()
        };
        snap.tag_start.push(0);
        snap.cat_start.push(0);
        // Chunks are decoded on this thread (SQLite's) and added to the columns on another, so
        // that opening a million posts takes the longer of the two, not their sum.
        let threaded = std::thread::scope(|s| {
            let (tx, rx) = std::sync::mpsc::sync_channel::<(u32, Chunk, Origin)>(CHUNKS_IN_FLIGHT);
            let into = &mut snap;
            let adding = std::thread::Builder::new().spawn_scoped(s, move || {
                for (no, c, origin) in rx {
                    into.add_chunk(no, c, origin);
                }
            });
            let adding = adding.ok()?;
            let read = columns::read_all(conn, |no, c, origin| {
                // A send fails only when the other thread is gone (a panic, raised below).
                let _ = tx.send((no, c, origin));
            });
            drop(tx);
            // A panic there (none is expected) is raised here, as if on this thread.
            adding
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            Some(read)
        });
        match threaded {
            Some(read) => read,
            // No second thread to be had: all on this one.
            None => columns::read_all(conn, |no, c, origin| snap.add_chunk(no, c, origin)),
        }
        .at(path)?;
        snap.titles = Titles::new(&snap.chunks);
        let n = snap.docids.len();
        let avg = |chars: &[u32]| {
            let sum: u64 = chars.iter().map(|&c| u64::from(c)).sum();
            (sum as f32 / n.max(1) as f32).max(1.0)
        };
        snap.avg_title_chars = avg(&snap.title_chars);
        snap.avg_text_chars = avg(&snap.text_chars);
        let max_docid = snap.docids.last().copied().unwrap_or(0) as usize;
        if max_docid <= n.saturating_mul(8).saturating_add(1 << 16) {
            snap.by_docid = vec![0; max_docid + 1];
            for (i, &d) in snap.docids.iter().enumerate() {
                snap.by_docid[d as usize] = i as u32 + 1;
            }
        }
        // Problems are few: read them by path, not a flag per post.
        snap.has_problem = vec![false; n];
        let mut stmt = conn
            .prepare(
                "SELECT p.docid FROM posts p WHERE p.path IN (SELECT DISTINCT path FROM problems)",
            )
            .at(path)?;
        let rows = stmt.query_map([], |r| r.get::<_, i64>(0)).at(path)?;
        for r in rows {
            if let Some(i) = u32::try_from(r.at(path)?)
                .ok()
                .and_then(|d| snap.index_of_docid(d))
            {
                snap.has_problem[i] = true;
            }
        }
        Ok(snap)
    }

    /// Add chunk `no`'s documents to the columns (after those of the chunks before it).
    fn add_chunk(&mut self, no: u32, c: Chunk, origin: Origin) {
        if origin == Origin::Rebuilt {
            self.rebuilt_chunks += 1;
        }
        // Chunks come in chunk order and ids ascend inside each (checked), so positions
        // stay in document id order.
        let map = |ids: &mut Interner, values: &[String]| -> Vec<u32> {
            values.iter().map(|v| ids.intern(v)).collect()
        };
        let authors = map(&mut self.authors, &c.authors);
        let sites = map(&mut self.sites, &c.sites);
        let terms = map(&mut self.terms, &c.terms);
        let local = |ids: &[u32], v: u32| match v {
            0 => NONE,
            v => ids.get(v as usize - 1).copied().unwrap_or(NONE),
        };
        self.chunks.push((no, c.len()));
        // Column by column: one pass over each of the chunk's vectors.
        self.docids.extend_from_slice(&c.docids);
        self.date_ms
            .extend(c.date_ms.iter().map(|d| d.unwrap_or(NO_DATE)));
        self.month
            .extend(c.month.iter().map(|m| m.checked_sub(1).unwrap_or(NONE)));
        self.author
            .extend(c.author.iter().map(|&a| local(&authors, a)));
        self.site.extend(c.site.iter().map(|&s| local(&sites, s)));
        let term = |&t: &u32| terms.get(t as usize).copied().unwrap_or(NONE);
        let lists = |counts: &[u32], items: &[u32], ids: &mut Vec<u32>, start: &mut Vec<u32>| {
            let mut at = 0usize;
            for &n in counts {
                let n = n as usize;
                ids.extend(items.get(at..at + n).unwrap_or(&[]).iter().map(term));
                at += n;
                // Past u32::MAX entries (only a hostile index) the lists read as empty.
                start.push(u32::try_from(ids.len()).unwrap_or(u32::MAX));
            }
        };
        lists(
            &c.tag_count,
            &c.tags,
            &mut self.tag_ids,
            &mut self.tag_start,
        );
        lists(
            &c.cat_count,
            &c.cats,
            &mut self.cat_ids,
            &mut self.cat_start,
        );
        self.title_chars.extend_from_slice(&c.title_chars);
        self.text_chars.extend_from_slice(&c.text_chars);
        self.has_source.extend_from_slice(&c.has_source);
    }

    pub fn len(&self) -> usize {
        self.docids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.docids.is_empty()
    }

    /// The position of a live document, or None for a stale document id.
    pub fn index_of_docid(&self, docid: u32) -> Option<usize> {
        if self.by_docid.is_empty() {
            return self.docids.binary_search(&docid).ok();
        }
        match self.by_docid.get(docid as usize) {
            Some(&i) if i > 0 => Some(i as usize - 1),
            _ => None,
        }
    }

    pub fn docid(&self, i: usize) -> u32 {
        self.docids.get(i).copied().unwrap_or(0)
    }

    pub fn date_ms(&self, i: usize) -> Option<i64> {
        self.date_ms.get(i).copied().filter(|&d| d != NO_DATE)
    }

    /// `year * 12 + month - 1` of the date.
    pub fn month(&self, i: usize) -> Option<u32> {
        self.month.get(i).copied().filter(|&m| m != NONE)
    }

    /// The author's id in `authors`.
    pub fn author(&self, i: usize) -> Option<u32> {
        self.author.get(i).copied().filter(|&a| a != NONE)
    }

    /// The site's id in `sites`.
    pub fn site(&self, i: usize) -> Option<u32> {
        self.site.get(i).copied().filter(|&s| s != NONE)
    }

    /// The tags' ids in `terms` (an id is `u32::MAX` only in a hostile index: never a value).
    pub fn tags(&self, i: usize) -> &[u32] {
        span(&self.tag_start, &self.tag_ids, i)
    }

    pub fn categories(&self, i: usize) -> &[u32] {
        span(&self.cat_start, &self.cat_ids, i)
    }

    /// The value of term `t`, if it is one.
    pub fn term(&self, t: u32) -> Option<&String> {
        self.terms.values.get(t as usize)
    }

    pub fn has_source(&self, i: usize) -> bool {
        self.has_source.get(i).copied().unwrap_or(false)
    }

    pub fn has_problem(&self, i: usize) -> bool {
        self.has_problem.get(i).copied().unwrap_or(false)
    }

    pub fn title_chars(&self, i: usize) -> u32 {
        self.title_chars.get(i).copied().unwrap_or(0)
    }

    pub fn text_chars(&self, i: usize) -> u32 {
        self.text_chars.get(i).copied().unwrap_or(0)
    }

    /// The folded titles of the documents at `positions`: a chunk that holds many of them is
    /// read whole and kept (if no query read it before), the titles of the others are looked up
    /// one by one, so a query with few hits in each chunk does not read every chunk's titles.
    /// `conn` must see this snapshot's generation (see the module's note).
    pub fn titles<I>(&self, conn: &Connection, path: &Path, positions: I) -> Result<TitlesOf<'_>>
    where
        I: IntoIterator<Item = usize>,
        I::IntoIter: Clone,
    {
        let t = &self.titles;
        let positions = positions.into_iter();
        let mut count = vec![0u32; t.chunks.len()];
        t.each_chunk(positions.clone(), |_, c| {
            count[c] = count[c].saturating_add(1)
        });
        let wanted: Vec<bool> = count.iter().map(|&n| n >= CHUNK_READ_MIN).collect();
        self.read_titles(conn, path, &wanted)?;
        let mut single = rustc_hash::FxHashMap::default();
        let unread = |c: usize| t.chunks.get(c).is_some_and(|t| t.get().is_none());
        if (0..count.len()).any(|c| count[c] > 0 && unread(c)) {
            let mut stmt = conn
                .prepare_cached("SELECT title FROM posts WHERE docid = ?1")
                .at(path)?;
            let mut looked_up = Ok(());
            t.each_chunk(positions, |i, c| {
                if looked_up.is_err() || !unread(c) {
                    return;
                }
                match stmt.query_row([self.docid(i)], |r| r.get::<_, String>(0)) {
                    Ok(title) => {
                        single.insert(i, columns::folded_title(&title).into_bytes());
                    }
                    Err(rusqlite::Error::QueryReturnedNoRows) => {}
                    Err(e) => looked_up = Err(e),
                }
            });
            looked_up.at(path)?;
        }
        Ok(TitlesOf { titles: t, single })
    }

    /// Every document's folded title, every chunk read and kept (see `titles`).
    pub fn all_titles(&self, conn: &Connection, path: &Path) -> Result<TitlesOf<'_>> {
        let t = &self.titles;
        self.read_titles(conn, path, &vec![true; t.chunks.len()])?;
        Ok(TitlesOf {
            titles: t,
            single: Default::default(),
        })
    }

    /// How many chunks' titles were read whole.
    #[cfg(test)]
    pub fn chunks_of_titles_read(&self) -> usize {
        self.titles
            .chunks
            .iter()
            .filter(|c| c.get().is_some())
            .count()
    }

    /// Read the titles of each chunk `wanted` that no query read before.
    fn read_titles(&self, conn: &Connection, path: &Path, wanted: &[bool]) -> Result<()> {
        let t = &self.titles;
        let missing = |c: usize| wanted[c] && t.chunks[c].get().is_none();
        if !(0..wanted.len()).any(missing) {
            return Ok(());
        }
        let _reading = self
            .reading_titles
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for (c, &(no, len)) in self.chunks.iter().enumerate() {
            if missing(c) {
                let read = columns::read_titles(conn, no, len).at(path)?;
                let _ = t.chunks[c].set(read);
            }
        }
        Ok(())
    }
}

/// Item `i` of a flattened list of lists: `items[start[i]..start[i + 1]]`, empty when out of range.
fn span<'a, T, S: Copy + TryInto<usize>>(start: &[S], items: &'a [T], i: usize) -> &'a [T] {
    let at = |k: usize| start.get(k).and_then(|&s| s.try_into().ok());
    match (at(i), at(i + 1)) {
        (Some(a), Some(b)) => items.get(a..b).unwrap_or(&[]),
        _ => &[],
    }
}
