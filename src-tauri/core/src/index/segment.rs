//! Posting lists on disk. A segment is the postings of the documents added by one write batch,
//! stored like an SSTable: grams sorted by id and packed into blocks of about `BLOCK_BYTES`, one
//! row per block keyed by its first gram. A lookup reads one block per segment.
//!
//! A block is a run of entries `[gram: i64 LE][len: varint][postings: len bytes]`, stored (since
//! schema 15) in three columns, each its own `crate::packed` frame after the tag `COLUMNS`: the
//! heads (the count of entries, then per entry its gram's difference from the one before and the
//! lengths of its two parts), every entry's documents and counts, every entry's positions. The
//! writer and the merge build the columns as the lists come (`Blocks`). A list's bytes are its
//! entry's, only moved: positions (character offsets, mostly two bytes each) compress badly
//! mixed with the documents and well together, and sorted gram ids shrink to their
//! differences; at 70k posts the stored blocks went from 239 to 216 MiB. A lookup reads a
//! list's two parts where they are stored (`find_list`), and a merge moves each list's two parts
//! as they are (`SegmentCursor`).
//! A block of an older index (entries, no `COLUMNS` tag) reads as it did.
//!
//! Most blocks hold many short lists (rare grams); a block past `BLOCK_BYTES * 2` is one common
//! gram's list, which compresses to about half (its documents are close together and most
//! counts are small). What a reader unpacks is bounded by the stored size (`unpack_limit`), and
//! the writer keeps as it is any block the reader would refuse.

use super::grams::{
    decode_postings_apart, decode_with_positions_of, encode_positions, encode_posting, get_varint,
    has_positions, list_span, put_varint, split_list, DocGrams, GramId, ListSpan,
};
use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;
use std::ops::Range;

/// The text index's tables (`store::schema` creates them with the others). A block is a row of
/// `gram_blocks`, found by its segment and first gram through the unique index. Until stop 35
/// the table was `WITHOUT ROWID` with `(seg, first_gram)` as its primary key, and an index made
/// then keeps it so: every statement here reads and writes both alike. Without rowids a row is
/// stored in a b-tree of the index kind, whose cells keep at most about 1 KiB in their page, so
/// the rest of a block (2–60 KiB stored) went to overflow pages whose last was on average half
/// empty (16.6 of 232 MiB at 70k posts). A table with rowids keeps the remainder in its leaf
/// page, beside other rows: 70k, the same blocks, 232.1 → 222.9 MiB.
pub const CREATE: &str = "
CREATE TABLE segments(id INTEGER PRIMARY KEY, docs INTEGER NOT NULL, bytes INTEGER NOT NULL);
CREATE TABLE gram_blocks(
  seg INTEGER NOT NULL,
  first_gram INTEGER NOT NULL,
  data BLOB NOT NULL,
  UNIQUE(seg, first_gram)
);
";

/// 32 KiB: with 16 KiB blocks the searches of `search_bench` took as long, and more of the index
/// was pages left part empty by rows (when `gram_blocks` had no rowids, see `CREATE`: 36 of
/// 282 MiB at 70k posts, against 17 MiB with 32 KiB).
const BLOCK_BYTES: usize = 32 * 1024;
/// A block unpacks to at most this whatever its stored size (a block ends with the list that
/// takes it past `BLOCK_BYTES`, so most are 32–64 KiB; a longer one is one common gram's list).
const SMALL_MAX: usize = 128 * 1024;
/// A longer block unpacks to at most this many times its stored size (real lists compress to
/// about 0.44, so 2.3×), and never past `UNPACKED_MAX`: an index is untrusted, and a small
/// frame must not cost a reader more than a proportionate allocation and decompression.
const MAX_RATIO: usize = 64;
/// The most any block unpacks to (a common gram's list is a few MiB at a million posts).
const UNPACKED_MAX: usize = 64 << 20;
/// zstd's fastest level: 0.77 of the size at 70k posts, against 0.74 at its default level 3,
/// which takes a third longer on the writer's thread.
const LEVEL: i32 = 1;

/// A gram's postings while a segment is built. Most grams of a batch (rare CJK pairs, words) occur
/// in one or two documents: their few bytes stay inline, with no allocation of their own.
#[derive(Default)]
struct PostingBuf {
    last_doc: Option<u32>,
    bytes: smallvec::SmallVec<[u8; 16]>,
}

/// Grams are split into this many partitions; each is small enough to stay in cache while a
/// batch of postings is added to it (adding straight into one big map misses cache every time).
const PARTS: usize = 256;
/// Postings collected (in their partitions) before they are added to the partitions' maps. The
/// more a batch holds, the more of a map's entries are used again while in cache: on 10,000
/// posts of the 70k corpus (13.3 M postings, one thread) 4 Mi postings took the inversion from 75
/// to 66 ns a posting against 2 Mi. 64 MiB of postings a shard (80 MiB with each partition's
/// room to spare), as the two buffers of 2 Mi postings of the counting sort that spread a batch
/// until stop 36 (each posting now goes to its partition's batch as it comes: 66 → 58 ns).
const BATCH: usize = 1 << 22;

fn part_of(g: GramId) -> usize {
    (g.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize % PARTS
}

/// One posting waiting to be added to its partition's map: 16 bytes. `x` is the count of a gram
/// without positions; for a gram with positions, its one position when it occurs once (most
/// pairs of a document do), else `INDIRECT` and where its count and then its positions are in
/// its partition's `positions`.
#[derive(Clone, Copy)]
struct Pending {
    gram: GramId,
    doc: u32,
    x: u32,
}

/// The flag of a `Pending::x` that points into the positions.
const INDIRECT: u32 = 1 << 31;

impl Pending {
    /// The positions of a posting of a gram that has them, the one it carries or those it
    /// points to in its partition's `positions`.
    fn positions<'a>(&'a self, positions: &'a [u32]) -> &'a [u32] {
        if self.x & INDIRECT == 0 {
            return std::slice::from_ref(&self.x);
        }
        let at = (self.x & !INDIRECT) as usize;
        let n = positions.get(at).map_or(0, |&n| n as usize);
        positions.get(at + 1..at + 1 + n).unwrap_or_default()
    }
}

/// A partition's postings waiting to be added to its map, in document order, and the counts and
/// positions of those that point to them (`Pending::x`).
#[derive(Default)]
struct PartBatch {
    pending: Vec<Pending>,
    positions: Vec<u32>,
}

/// Collects the postings of documents in increasing document id order.
pub struct SegmentBuilder {
    parts: Vec<FxHashMap<GramId, PostingBuf>>,
    /// Each partition's postings not yet in its map: a posting goes straight to its partition's
    /// batch, so each map then reads its own postings and positions in order (read where they
    /// were added in document order, they missed cache on nearly every posting).
    batches: Vec<PartBatch>,
    /// Postings in `batches`, and positions (with their counts) in theirs.
    pending: usize,
    pending_positions: usize,
    docs: u32,
    bytes: usize,
}

impl Default for SegmentBuilder {
    fn default() -> Self {
        SegmentBuilder {
            parts: (0..PARTS).map(|_| FxHashMap::default()).collect(),
            batches: (0..PARTS).map(|_| PartBatch::default()).collect(),
            pending: 0,
            pending_positions: 0,
            docs: 0,
            bytes: 0,
        }
    }
}

impl SegmentBuilder {
    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }

    pub fn docs(&self) -> u32 {
        self.docs
    }

    /// Bytes of encoded postings so far (not counting the batch not yet spread).
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Add one document. Document ids must increase from call to call.
    pub fn add(&mut self, doc: u32, grams: &DocGrams) {
        self.add_where(doc, grams, |_| true);
    }

    /// Add the grams of one document that `keep` takes (a shard's share: every shard is handed
    /// the whole document, so nothing is copied to split it). Document ids must increase from
    /// call to call.
    pub fn add_where(&mut self, doc: u32, grams: &DocGrams, keep: impl Fn(GramId) -> bool) {
        // Offsets into a partition's positions must stay below `INDIRECT`: a batch whose
        // positions could pass it is spread first (a document's positions are far fewer: its
        // text is a file's).
        if self.pending_positions + grams.positions.len() + grams.len() >= INDIRECT as usize {
            self.spread();
        }
        for g in grams.grams.iter().filter(|g| keep(g.gram)) {
            let batch = &mut self.batches[part_of(g.gram)];
            if batch.pending.capacity() == 0 {
                // About a partition's share of a batch, so few grow (and none doubles).
                let share = BATCH / PARTS;
                batch.pending.reserve(share + share / 4);
            }
            let x = if !has_positions(g.gram) {
                g.count
            } else {
                match *grams.positions_of(g) {
                    [p] if p & INDIRECT == 0 => p,
                    ref all => {
                        // Below `INDIRECT` after the check above, unless one document alone
                        // holds 2^31 positions.
                        let at = batch.positions.len();
                        if at >= INDIRECT as usize {
                            continue;
                        }
                        batch.positions.push(all.len() as u32);
                        batch.positions.extend_from_slice(all);
                        self.pending_positions += 1 + all.len();
                        at as u32 | INDIRECT
                    }
                }
            };
            batch.pending.push(Pending {
                gram: g.gram,
                doc,
                x,
            });
            self.pending += 1;
        }
        self.docs += 1;
        if self.pending >= BATCH {
            self.spread();
        }
    }

    /// Add each partition's batch to its map, encoding the postings (doc order is kept: each
    /// batch is in document order, and so is each gram's list).
    fn spread(&mut self) {
        for (map, batch) in self.parts.iter_mut().zip(&mut self.batches) {
            for p in &batch.pending {
                let list = map.entry(p.gram).or_default();
                let before = list.bytes.len();
                if has_positions(p.gram) {
                    let positions = p.positions(&batch.positions);
                    let tf = positions.len() as u32;
                    encode_posting(&mut list.bytes, &mut list.last_doc, p.doc, tf);
                    encode_positions(&mut list.bytes, positions);
                } else {
                    encode_posting(&mut list.bytes, &mut list.last_doc, p.doc, p.x);
                }
                self.bytes += list.bytes.len() - before;
            }
            batch.pending.clear();
            batch.positions.clear();
        }
        self.pending = 0;
        self.pending_positions = 0;
    }

    /// Write the segment as blocks into `gram_blocks` and register it; returns the segment id.
    pub fn write(self, conn: &Connection) -> rusqlite::Result<i64> {
        write_shards(vec![self.into_sorted()], conn)
    }

    /// The postings gathered, sorted by gram: the part of writing a segment that needs no
    /// connection, so each shard does it on its own thread while the writer waits for them all
    /// (`write_shards`).
    pub fn into_sorted(mut self) -> SortedGrams {
        self.spread();
        // The batch buffers (about 100 MB) go before the sorted list is made.
        let SegmentBuilder {
            parts,
            batches,
            docs,
            bytes,
            ..
        } = self;
        drop(batches);
        let mut grams: Vec<(i64, PostingBuf)> =
            Vec::with_capacity(parts.iter().map(|m| m.len()).sum());
        for part in parts {
            grams.extend(part.into_iter().map(|(g, p)| (g as i64, p)));
        }
        grams.sort_unstable_by_key(|(g, _)| *g);
        SortedGrams { docs, bytes, grams }
    }
}

/// One shard's postings, sorted by gram as stored (`i64`), ready to be written.
pub struct SortedGrams {
    docs: u32,
    bytes: usize,
    grams: Vec<(i64, PostingBuf)>,
}

impl SortedGrams {
    pub fn is_empty(&self) -> bool {
        self.docs == 0
    }
}

/// Write shards that hold disjoint sets of grams, each sorted, as one segment: their lists are
/// merged in gram order into blocks. The grams are cut into ranges of about as many bytes
/// (`ranges_for`: up to `WRITE_RANGES`), and two ranges at a time have their blocks built and
/// compressed, each on a thread (the writer's thread, which every parser waits on meanwhile, and
/// one more), then written; so at most a quarter of the segment's blocks wait in memory.
pub fn write_shards(shards: Vec<SortedGrams>, conn: &Connection) -> rusqlite::Result<i64> {
    let docs = shards.iter().map(|s| s.docs).max().unwrap_or(0);
    let bytes: usize = shards.iter().map(|s| s.bytes).sum();
    let lists: Vec<Vec<(i64, PostingBuf)>> = shards.into_iter().map(|s| s.grams).collect();
    // Each range from a cut (or the first gram) up to the next cut (or past the last gram).
    let bounds: Vec<Option<i64>> = std::iter::once(None)
        .chain(cut_grams(&lists, ranges_for(bytes)).into_iter().map(Some))
        .chain(std::iter::once(None))
        .collect();
    fn between(
        l: &[(i64, PostingBuf)],
        from: Option<i64>,
        to: Option<i64>,
    ) -> &[(i64, PostingBuf)] {
        let at = |g: Option<i64>, none: usize| g.map_or(none, |g| l.partition_point(|e| e.0 < g));
        &l[at(from, 0)..at(to, l.len())]
    }
    let ranges: Vec<Vec<&[(i64, PostingBuf)]>> = bounds
        .windows(2)
        .map(|w| lists.iter().map(|l| between(l, w[0], w[1])).collect())
        .collect();
    let w = BlockWriter::start(conn)?;
    for two in ranges.chunks(2) {
        let packed = crate::halves::map_halves(two, |r| {
            r.iter().map(|shards| pack_sorted(shards)).collect()
        });
        let mut blocks = Vec::new();
        for range in packed {
            blocks.extend(range.map_err(|gram| {
                let msg = format!("the posting list of gram {gram} does not split in two");
                rusqlite::Error::ToSqlConversionFailure(msg.into())
            })?);
        }
        w.insert(conn, &blocks)?;
    }
    drop(ranges);
    // Millions of lists to free: on a thread of their own, so the parsers go on meanwhile.
    let _ = std::thread::Builder::new().spawn(move || drop(lists));
    w.finish(conn, docs, bytes)
}

/// The ranges of grams a segment's blocks are built in, two at a time (`write_shards`): at most
/// this many, …
const WRITE_RANGES: usize = 8;
/// … and one for each this many bytes of postings, so that a small segment (an edit's) is one
/// range and its blocks are as few as they can be.
const WRITE_RANGE_BYTES: usize = 2 << 20;

/// How many ranges a segment of `bytes` of postings is written in.
fn ranges_for(bytes: usize) -> usize {
    (bytes / WRITE_RANGE_BYTES).clamp(1, WRITE_RANGES)
}

/// The grams (ascending) that cut the largest of `lists` (each sorted by gram) into at most `n`
/// ranges of about as many bytes.
fn cut_grams(lists: &[Vec<(i64, PostingBuf)>], n: usize) -> Vec<i64> {
    let mut cuts: Vec<i64> = Vec::new();
    let Some(largest) = lists.iter().max_by_key(|l| l.len()) else {
        return cuts;
    };
    let total: usize = largest.iter().map(|e| e.1.bytes.len()).sum();
    let mut sum = 0;
    for (gram, list) in largest {
        if cuts.len() + 1 >= n {
            break;
        }
        // A cut starts the range whose first bytes pass the next share of the total.
        if sum * n >= total * (cuts.len() + 1) {
            cuts.push(*gram);
        }
        sum += list.bytes.len();
    }
    cuts
}

/// Compressed blocks, each with its first gram, in gram order.
type PackedBlocks = Vec<(i64, Vec<u8>)>;

/// The packed blocks of sorted lists from shards of disjoint grams, merged in gram order:
/// `(first gram, stored block)`. Err with the gram of a list that does not split into its
/// documents and positions (`SegmentBuilder` encodes none such).
fn pack_sorted(shards: &[&[(i64, PostingBuf)]]) -> Result<PackedBlocks, i64> {
    let mut at = vec![0usize; shards.len()];
    let mut blocks = Blocks::default();
    let mut out = Vec::new();
    loop {
        // Few shards: the smallest head by a scan.
        let next = (0..shards.len())
            .filter_map(|i| shards[i].get(at[i]).map(|e| (e.0, i)))
            .min();
        let Some((_, i)) = next else {
            break;
        };
        let (gram, list) = &shards[i][at[i]];
        at[i] += 1;
        if blocks.push_list(*gram, &list.bytes).ok_or(*gram)? {
            out.extend(blocks.take().map(|(f, _, b)| (f, pack_columns(&b))));
        }
    }
    out.extend(blocks.take().map(|(f, _, b)| (f, pack_columns(&b))));
    Ok(out)
}

/// A merge's blocks are compressed a batch at a time, on threads of their own (half the batch
/// each), while the writer's thread reads and merges the lists of the next batch: it is the one
/// every parser waits on while it merges.
const PACK_BATCH: usize = 128;
/// … or fewer, once they hold this many bytes (a common gram's list is one block of up to a few
/// MiB at a million posts).
const PACK_BATCH_BYTES: usize = 8 << 20;

/// A block being built, in columns. Lists arrive whole (`push_list`, from a new segment: put
/// apart as they come) or already apart (`push_parts`, from a merge); a block ends where a
/// block of entries would, so both make the same blocks. (Until stop 36 a new segment's lists
/// were copied into a block of entries first, then put apart: a copy of every byte.)
#[derive(Default)]
struct Blocks {
    cols: Columns,
    /// The size of the block as entries.
    size: usize,
    first: Option<i64>,
}

/// A block of lists put apart as it is built: the heads (without their count), the documents,
/// the positions (see `to_columns`).
#[derive(Default)]
struct Columns {
    count: u64,
    prev: u64,
    heads: Vec<u8>,
    docs: Vec<u8>,
    positions: Vec<u8>,
}

/// A full block's columns before they are packed: heads, documents, positions.
type Unpacked = [Vec<u8>; 3];

impl Blocks {
    /// Add a gram's whole list (documents and positions together), put apart
    /// (`grams::split_list`); true once the block is full, None when the list does not split
    /// (then the block is as it was).
    fn push_list(&mut self, gram: i64, list: &[u8]) -> Option<bool> {
        self.start();
        let c = &mut self.cols;
        let (d, p) = (c.docs.len(), c.positions.len());
        if !split_list(gram as u64, list, &mut c.docs, &mut c.positions) {
            c.docs.truncate(d);
            c.positions.truncate(p);
            return None;
        }
        Some(self.add_head(gram, d, p))
    }

    /// Add a gram's list as its two parts (from a merge); true once the block is full.
    fn push_parts(&mut self, gram: i64, docs: &[u8], positions: &[u8]) -> bool {
        self.start();
        let c = &mut self.cols;
        let (d, p) = (c.docs.len(), c.positions.len());
        c.docs.extend_from_slice(docs);
        c.positions.extend_from_slice(positions);
        self.add_head(gram, d, p)
    }

    /// Room for a block's columns before its first list (most blocks end a little past
    /// `BLOCK_BYTES`), so they do not grow from nothing.
    fn start(&mut self) {
        if self.first.is_none() {
            self.cols.docs.reserve(BLOCK_BYTES);
            self.cols.positions.reserve(BLOCK_BYTES);
        }
    }

    /// The head of the list of `gram` whose parts were just appended from `docs` and
    /// `positions` on; true once the block is full.
    fn add_head(&mut self, gram: i64, docs: usize, positions: usize) -> bool {
        self.first.get_or_insert(gram);
        let c = &mut self.cols;
        let (docs, positions) = (c.docs.len() - docs, c.positions.len() - positions);
        put_varint(&mut c.heads, (gram as u64).wrapping_sub(c.prev));
        put_varint(&mut c.heads, docs as u64);
        put_varint(&mut c.heads, positions as u64);
        c.prev = gram as u64;
        c.count += 1;
        let len = docs + positions;
        self.size += 8 + varint_len(len as u64) + len;
        self.size >= BLOCK_BYTES
    }

    /// The block so far, if it holds any list: its first gram, its size as entries, the block.
    fn take(&mut self) -> Option<(i64, usize, Unpacked)> {
        let first = self.first.take()?;
        let c = std::mem::take(&mut self.cols);
        let mut heads = Vec::with_capacity(10 + c.heads.len());
        put_varint(&mut heads, c.count);
        heads.extend_from_slice(&c.heads);
        Some((
            first,
            std::mem::take(&mut self.size),
            [heads, c.docs, c.positions],
        ))
    }
}

/// Writes one segment's blocks as grams arrive in order, holding up to two batches of
/// `PACK_BATCH` blocks or `PACK_BATCH_BYTES` (plus the last block) in memory: the one being
/// filled and the one being compressed.
struct BlockWriter {
    seg: i64,
    blocks: Blocks,
    /// Full blocks waiting to be compressed and written: (first gram, block), and their bytes.
    full: Vec<(i64, Unpacked)>,
    full_bytes: usize,
    /// The batch before, being compressed on threads of their own; inserted before the next.
    packing: Option<std::thread::JoinHandle<PackedBlocks>>,
}

impl BlockWriter {
    fn start(conn: &Connection) -> rusqlite::Result<BlockWriter> {
        conn.execute("INSERT INTO segments(docs, bytes) VALUES (0, 0)", [])?;
        Ok(BlockWriter {
            seg: conn.last_insert_rowid(),
            blocks: Blocks::default(),
            full: Vec::with_capacity(PACK_BATCH),
            full_bytes: 0,
            packing: None,
        })
    }

    /// Add a gram's list as its two parts (`Blocks::push_parts`).
    fn push_parts(
        &mut self,
        conn: &Connection,
        gram: i64,
        docs: &[u8],
        positions: &[u8],
    ) -> rusqlite::Result<()> {
        if self.blocks.push_parts(gram, docs, positions) {
            self.flush(conn)?;
        }
        Ok(())
    }

    /// End the current block; write the batch once it is full.
    fn flush(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if let Some((f, size, block)) = self.blocks.take() {
            self.full_bytes += size;
            self.full.push((f, block));
        }
        if self.full.len() >= PACK_BATCH || self.full_bytes >= PACK_BATCH_BYTES {
            self.write_full(conn)?;
        }
        Ok(())
    }

    /// Hand the full blocks to be compressed (half on each of two threads) while this thread goes
    /// on, once the batch before is written: blocks are inserted in order.
    fn write_full(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        fn pack(blocks: &[(i64, Unpacked)]) -> PackedBlocks {
            blocks.iter().map(|(f, b)| (*f, pack_columns(b))).collect()
        }
        self.write_packed(conn)?;
        if self.full.is_empty() {
            return Ok(());
        }
        let batch = std::sync::Arc::new(std::mem::replace(
            &mut self.full,
            Vec::with_capacity(PACK_BATCH),
        ));
        self.full_bytes = 0;
        let theirs = batch.clone();
        match std::thread::Builder::new().spawn(move || crate::halves::map_halves(&theirs, pack)) {
            Ok(packing) => self.packing = Some(packing),
            // No thread to be had: compressed here, as the writer waits.
            Err(_) => self.insert(conn, &crate::halves::map_halves(&batch, pack))?,
        }
        Ok(())
    }

    /// Wait for the batch being compressed, and insert it.
    fn write_packed(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        if let Some(packing) = self.packing.take() {
            let packed = packing
                .join()
                .unwrap_or_else(|e| std::panic::resume_unwind(e));
            self.insert(conn, &packed)?;
        }
        Ok(())
    }

    /// Insert packed blocks, in gram order after any written before.
    fn insert(&self, conn: &Connection, packed: &[(i64, Vec<u8>)]) -> rusqlite::Result<()> {
        let mut stmt = conn
            .prepare_cached("INSERT INTO gram_blocks(seg, first_gram, data) VALUES (?1, ?2, ?3)")?;
        for (f, data) in packed {
            stmt.execute(params![self.seg, f, data])?;
        }
        Ok(())
    }

    fn finish(mut self, conn: &Connection, docs: u32, bytes: usize) -> rusqlite::Result<i64> {
        self.flush(conn)?;
        self.write_full(conn)?;
        self.write_packed(conn)?;
        conn.execute(
            "UPDATE segments SET docs = ?2, bytes = ?3 WHERE id = ?1",
            params![self.seg, docs, bytes as i64],
        )?;
        Ok(self.seg)
    }
}

/// The bytes `put_varint` writes for `v`.
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

/// Read the postings of one gram across all segments, in segment order.
pub fn read_postings(
    conn: &Connection,
    gram: GramId,
    out: &mut Vec<(u32, u32)>,
) -> rusqlite::Result<()> {
    for_each_list(conn, gram, |list, apart| {
        decode_postings_apart(gram, list, apart, out)
    })
}

/// One segment's encoded posting list of a gram: `bytes` as `grams::decode_with_positions_of`
/// reads them, with its positions `apart` when its block is stored in columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedList {
    pub bytes: Vec<u8>,
    pub apart: Option<Vec<u8>>,
}

impl EncodedList {
    pub fn len(&self) -> usize {
        self.bytes.len() + self.apart.as_ref().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `grams::decode_with_positions_of` over this list, its positions read where they are.
    pub fn decode_with_positions_of(
        &self,
        gram: GramId,
        wanted: impl Fn(u32) -> bool,
        out: &mut Vec<(u32, u32, u32)>,
        positions: &mut Vec<u32>,
    ) {
        let apart = self.apart.as_deref();
        super::grams::decode_with_positions_of(gram, &self.bytes, apart, wanted, out, positions);
    }
}

/// The encoded posting lists of one gram, one per segment that has one, in segment order (for a
/// caller that decodes them itself: `grams::decode_with_positions_of`).
pub fn read_encoded_lists(conn: &Connection, gram: GramId) -> rusqlite::Result<Vec<EncodedList>> {
    let mut lists = Vec::new();
    for_each_list(conn, gram, |list, apart| {
        lists.push(EncodedList {
            bytes: list.to_vec(),
            apart: apart.map(<[u8]>::to_vec),
        })
    })?;
    Ok(lists)
}

/// Hand `f` the encoded posting list of `gram` in each segment that has one, in segment order:
/// as one list, or as its documents and its positions apart (a block in columns).
fn for_each_list(
    conn: &Connection,
    gram: GramId,
    mut f: impl FnMut(&[u8], Option<&[u8]>),
) -> rusqlite::Result<()> {
    let g = gram as i64;
    let mut segs = conn.prepare_cached("SELECT id FROM segments ORDER BY id")?;
    let seg_ids: Vec<i64> = segs
        .query_map([], |r| r.get(0))?
        .collect::<Result<_, _>>()?;
    let mut stmt = conn.prepare_cached(
        "SELECT data FROM gram_blocks WHERE seg = ?1 AND first_gram <= ?2 ORDER BY first_gram DESC LIMIT 1",
    )?;
    for seg in seg_ids {
        let block: Option<Vec<u8>> = stmt.query_row(params![seg, g], |r| r.get(0)).optional()?;
        if let Some(stored) = block {
            find_list(&stored, g, &mut f);
        }
    }
    Ok(())
}

/// The most a stored block of `stored` bytes may unpack to (`SMALL_MAX`, `MAX_RATIO`,
/// `UNPACKED_MAX`).
fn unpack_limit(stored: usize) -> usize {
    SMALL_MAX.max(stored.saturating_mul(MAX_RATIO).min(UNPACKED_MAX))
}

/// The first byte of a block stored in columns (`to_columns`). A block of an index before
/// schema 15 starts with a `crate::packed` tag (0, 1 or 2), never this.
const COLUMNS: u8 = b'C';

/// The stored form of a block of entries, put in columns (`to_columns`), as the writer made
/// blocks until stop 36 (it now builds them in columns, `Blocks`); tests store blocks with it.
#[cfg(test)]
fn pack_block(block: &[u8]) -> Vec<u8> {
    match to_columns(block) {
        Some(columns) => pack_columns(&columns),
        // Not entries (only a test hands such bytes): kept as they are, without the tag.
        None => pack_bytes(block),
    }
}

/// The stored form of a block's columns: each column compressed on its own when that makes it
/// smaller and a reader will unpack it (`unpack_limit`), else as it is: `COLUMNS`, then per
/// column the length of its stored form (varint) and that form.
fn pack_columns(columns: &[Vec<u8>; 3]) -> Vec<u8> {
    let mut out = vec![COLUMNS];
    for column in columns {
        let packed = pack_bytes(column);
        put_varint(&mut out, packed.len() as u64);
        out.extend_from_slice(&packed);
    }
    out
}

fn pack_bytes(bytes: &[u8]) -> Vec<u8> {
    // Past `UNPACKED_MAX` no compressed form would be read: compression is not even tried.
    (bytes.len() <= UNPACKED_MAX)
        .then(|| crate::packed::pack(bytes, 0, LEVEL))
        .filter(|packed| bytes.len() <= unpack_limit(packed.len()))
        .unwrap_or_else(|| crate::packed::pack(bytes, usize::MAX, LEVEL))
}

/// The columns of a block stored in columns, unpacked one after another (as `to_columns` made
/// them); empty when one cannot be read.
fn unpack_columns(mut stored: &[u8]) -> Vec<u8> {
    let mut cols = Vec::new();
    for _ in 0..3 {
        let Some(len) = get_varint(&mut stored).and_then(|l| usize::try_from(l).ok()) else {
            return Vec::new();
        };
        let Some(part) = stored.get(..len) else {
            return Vec::new();
        };
        stored = &stored[len..];
        let read = crate::packed::with_unpacked(part, unpack_limit(len), |column| {
            cols.extend_from_slice(column);
            // An empty column unpacks to no bytes too: whether it was read is in its tag.
            !column.is_empty() || part.len() <= 1
        });
        if !read {
            return Vec::new();
        }
    }
    if stored.is_empty() {
        cols
    } else {
        Vec::new()
    }
}

/// The entries of a stored block (none when it cannot be read, claims to unpack to more than
/// `unpack_limit` allows, or its columns do not fit together). The tests read blocks back with it.
#[cfg(test)]
fn unpack_block(stored: &[u8]) -> Vec<u8> {
    match stored.split_first() {
        Some((&COLUMNS, packed)) => from_columns(&unpack_columns(packed)).unwrap_or_default(),
        _ => crate::packed::with_unpacked(stored, unpack_limit(stored.len()), <[u8]>::to_vec),
    }
}

/// Call `f` with the posting list of `gram` in a stored block, if it holds one: from a block in
/// columns, its documents and (for a gram with positions) its positions apart, as they are
/// stored.
fn find_list(stored: &[u8], gram: i64, f: impl FnOnce(&[u8], Option<&[u8]>)) {
    match stored.split_first() {
        Some((&COLUMNS, packed)) => {
            let cols = unpack_columns(packed);
            if let Some((docs, positions)) = find_in_columns(&cols, gram) {
                f(docs, has_positions(gram as u64).then_some(positions));
            }
        }
        _ => crate::packed::with_unpacked(stored, unpack_limit(stored.len()), |b| {
            if let Some(list) = find_in_block(b, gram) {
                f(list, None);
            }
        }),
    }
}

/// A block of entries in columns (see the module's doc): the count and the heads, the documents,
/// the positions (a block of an index before schema 15 is read so). None when `block` is not
/// entries.
fn to_columns(block: &[u8]) -> Option<[Vec<u8>; 3]> {
    let (mut heads, mut docs, mut positions) = (Vec::new(), Vec::new(), Vec::new());
    let (mut count, mut prev, mut pos) = (0u64, 0u64, 0);
    while let Some((gram, list, next)) = entry_at(block, pos) {
        let (d, p) = (docs.len(), positions.len());
        if !split_list(gram as u64, list, &mut docs, &mut positions) {
            return None;
        }
        put_varint(&mut heads, (gram as u64).wrapping_sub(prev));
        put_varint(&mut heads, (docs.len() - d) as u64);
        put_varint(&mut heads, (positions.len() - p) as u64);
        prev = gram as u64;
        count += 1;
        pos = next;
    }
    if pos != block.len() {
        return None;
    }
    let mut first = Vec::with_capacity(10 + heads.len());
    put_varint(&mut first, count);
    first.extend_from_slice(&heads);
    Some([first, docs, positions])
}

/// The heads of a block in columns: `(gram, where its documents start, their length, where its
/// positions start, their length)`, offsets into the documents and the positions columns, and
/// those two columns. None when they do not add up to the block.
#[allow(clippy::type_complexity)]
fn column_heads(cols: &[u8]) -> Option<(Vec<(i64, usize, usize, usize, usize)>, &[u8], &[u8])> {
    let mut rest = cols;
    let count = get_varint(&mut rest)?;
    // Each head takes at least three bytes: a count past that is a lie, not an allocation.
    if count > (rest.len() / 3) as u64 {
        return None;
    }
    let mut heads = Vec::with_capacity(count as usize);
    let (mut gram, mut docs, mut positions) = (0u64, 0usize, 0usize);
    for _ in 0..count {
        gram = gram.wrapping_add(get_varint(&mut rest)?);
        let d = usize::try_from(get_varint(&mut rest)?).ok()?;
        let p = usize::try_from(get_varint(&mut rest)?).ok()?;
        heads.push((gram as i64, docs, d, positions, p));
        docs = docs.checked_add(d)?;
        positions = positions.checked_add(p)?;
    }
    if docs.checked_add(positions)? != rest.len() {
        return None;
    }
    let (d, p) = rest.split_at(docs);
    Some((heads, d, p))
}

/// A block's entries put back from its columns (the tests check the columns with it).
#[cfg(test)]
fn from_columns(cols: &[u8]) -> Option<Vec<u8>> {
    let (heads, docs, positions) = column_heads(cols)?;
    let mut out = Vec::with_capacity(cols.len() + heads.len() * 8);
    for (gram, d, dl, p, pl) in heads {
        out.extend_from_slice(&gram.to_le_bytes());
        put_varint(&mut out, (dl + pl) as u64);
        if !super::grams::join_list(
            gram as u64,
            &docs[d..d + dl],
            &positions[p..p + pl],
            &mut out,
        ) {
            return None;
        }
    }
    Some(out)
}

/// The posting list of `gram` in a block in columns: its documents and its positions.
fn find_in_columns(cols: &[u8], gram: i64) -> Option<(&[u8], &[u8])> {
    let (heads, docs, positions) = column_heads(cols)?;
    let (_, d, dl, p, pl) = *heads.iter().find(|h| h.0 >= gram).filter(|h| h.0 == gram)?;
    Some((&docs[d..d + dl], &positions[p..p + pl]))
}

/// The block entry at `pos`: `(gram, postings, position of the next entry)`; None at the end of
/// the block or where it is damaged.
fn entry_at(block: &[u8], pos: usize) -> Option<(i64, &[u8], usize)> {
    let rest = block.get(pos..)?;
    let gram = i64::from_le_bytes(rest.get(..8)?.try_into().ok()?);
    let mut after = &rest[8..];
    let len = usize::try_from(get_varint(&mut after)?).ok()?;
    let i = rest.len() - after.len();
    let list = rest.get(i..i.checked_add(len)?)?;
    Some((gram, list, pos + i + len))
}

fn find_in_block(block: &[u8], gram: i64) -> Option<&[u8]> {
    let mut pos = 0;
    while let Some((g, list, next)) = entry_at(block, pos) {
        if g == gram {
            return Some(list);
        }
        if g > gram {
            return None;
        }
        pos = next;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The documents below 4,096 for which `live` holds, as a merge takes them.
    pub(super) fn live_where(live: impl Fn(u32) -> bool) -> LiveDocs {
        LiveDocs::new((0..4096).filter(|&d| live(d)))
    }

    /// Grams without positions, as a document's grams.
    pub(super) fn doc_grams(grams: &[(GramId, u32)]) -> DocGrams {
        DocGrams {
            grams: grams
                .iter()
                .map(|&(gram, count)| crate::index::grams::DocGram {
                    gram,
                    count,
                    pos: 0,
                })
                .collect(),
            positions: Vec::new(),
        }
    }

    /// The grams of every list in the blocks of `gram_blocks`, in order of the blocks' first
    /// grams.
    pub(super) fn grams_of_blocks(c: &Connection) -> Vec<i64> {
        let mut grams: Vec<i64> = Vec::new();
        for data in c
            .prepare("SELECT data FROM gram_blocks ORDER BY first_gram")
            .unwrap()
            .query_map([], |r| r.get::<_, Vec<u8>>(0))
            .unwrap()
        {
            let cols = block_columns(&data.unwrap());
            grams.extend(list_ranges(&cols).unwrap().iter().map(|h| h.0));
        }
        grams
    }

    pub(super) fn db() -> Connection {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(CREATE).unwrap();
        c
    }

    /// The text index's tables as an index made before stop 35 holds them (see `CREATE`).
    pub(super) const CREATE_WITHOUT_ROWID: &str =
        "CREATE TABLE segments(id INTEGER PRIMARY KEY, docs INTEGER NOT NULL, bytes INTEGER NOT NULL);
         CREATE TABLE gram_blocks(seg INTEGER NOT NULL, first_gram INTEGER NOT NULL,
           data BLOB NOT NULL, PRIMARY KEY(seg, first_gram)) WITHOUT ROWID;";

    #[test]
    fn positions_come_back_as_added_whether_a_posting_carries_one_or_points_to_many() {
        use crate::index::grams::{decode_with_positions_of, pair, DocGram};
        let c = db();
        let (a, b, w) = (pair('中', '国'), pair('两', '岸'), 77u64);
        // Per document: a's positions, b's positions (one past the flag bit among them).
        type Doc = (u32, Vec<u32>, Vec<u32>);
        let docs: Vec<Doc> = vec![
            (1, vec![5], vec![0, 9, 400]),
            (2, vec![3, 70_000], vec![INDIRECT + 5]),
            (4, vec![u32::MAX], vec![7]),
            (9, vec![], vec![1]),
        ];
        let mut builder = SegmentBuilder::default();
        for (doc, pa, pb) in &docs {
            let mut grams = DocGrams::default();
            for (gram, ps) in [(a, pa), (b, pb)] {
                if !ps.is_empty() {
                    grams.grams.push(DocGram {
                        gram,
                        count: ps.len() as u32,
                        pos: grams.positions.len() as u32,
                    });
                    grams.positions.extend_from_slice(ps);
                }
            }
            grams.grams.push(DocGram {
                gram: w,
                count: *doc,
                pos: 0,
            });
            builder.add(*doc, &grams);
        }
        builder.write(&c).unwrap();
        let read = |gram: GramId| {
            let (mut out, mut positions) = (Vec::new(), Vec::new());
            for_each_list(&c, gram, |list, apart| {
                decode_with_positions_of(gram, list, apart, |_| true, &mut out, &mut positions)
            })
            .unwrap();
            let pos_of = |&(doc, tf, at): &(u32, u32, u32)| {
                (doc, positions[at as usize..(at + tf) as usize].to_vec())
            };
            out.iter().map(pos_of).collect::<Vec<_>>()
        };
        let expected = |pick: fn(&Doc) -> &Vec<u32>| {
            let of = |d: &Doc| (d.0, pick(d).clone());
            docs.iter()
                .filter(|d| !pick(d).is_empty())
                .map(of)
                .collect::<Vec<_>>()
        };
        assert_eq!(read(a), expected(|d| &d.1));
        assert_eq!(read(b), expected(|d| &d.2));
        let mut counts = Vec::new();
        read_postings(&c, w, &mut counts).unwrap();
        assert_eq!(counts, vec![(1, 1), (2, 2), (4, 4), (9, 9)]);
    }

    #[test]
    fn a_large_segment_written_in_ranges_reads_back_every_list_in_gram_order() {
        let c = db();
        let mut b = SegmentBuilder::default();
        // Spread over the id space, negative (word) ids included, with counts of one and two
        // bytes: ~7 MB of postings, written in several ranges.
        let id = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & !(1 << 42);
        let count = |doc: u32, i: u64| 1 + (doc as u64 * 7 + i) % 200;
        for doc in 0..1000u32 {
            let grams: Vec<(GramId, u32)> = (0..4000u64)
                .map(|i| (id(i), count(doc, i) as u32))
                .collect();
            b.add(doc, &doc_grams(&grams));
        }
        b.write(&c).unwrap();
        let bytes: i64 = c
            .query_row("SELECT bytes FROM segments", [], |r| r.get(0))
            .unwrap();
        assert!(ranges_for(bytes as usize) >= 3, "{bytes}");
        for i in (0..4000u64).step_by(7) {
            let mut got = Vec::new();
            read_postings(&c, id(i), &mut got).unwrap();
            let want: Vec<(u32, u32)> = (0..1000).map(|d| (d, count(d, i) as u32)).collect();
            assert_eq!(got, want, "gram {i}");
        }
        // The blocks, in order of their first grams, hold every gram once and in order: no two
        // ranges' blocks overlap.
        let grams = grams_of_blocks(&c);
        let mut want: Vec<i64> = (0..4000u64).map(|i| id(i) as i64).collect();
        want.sort_unstable();
        assert_eq!(grams, want);
    }

    #[test]
    fn grams_are_cut_into_ranges_of_about_as_many_bytes() {
        let list = |sizes: &[usize]| -> Vec<(i64, PostingBuf)> {
            let buf = |n: usize| PostingBuf {
                last_doc: None,
                bytes: std::iter::repeat_n(1u8, n).collect(),
            };
            sizes
                .iter()
                .enumerate()
                .map(|(g, &n)| (g as i64 * 10, buf(n)))
                .collect()
        };
        assert_eq!(cut_grams(&[], 8), Vec::<i64>::new());
        assert_eq!(cut_grams(&[list(&[5, 5, 5, 5])], 1), Vec::<i64>::new());
        // Cut by the largest list's bytes: each range starts where the one before passed its
        // share.
        assert_eq!(cut_grams(&[list(&[5, 5, 5, 5]), list(&[1])], 2), vec![20]);
        assert_eq!(cut_grams(&[list(&[5, 5, 5, 5])], 4), vec![10, 20, 30]);
        // A common gram's list fills its range, and the next range starts after it.
        assert_eq!(cut_grams(&[list(&[1, 100, 1, 1])], 4), vec![20, 30]);
        assert_eq!(ranges_for(0), 1);
        assert_eq!(ranges_for(100 << 20), WRITE_RANGES);
    }

    #[test]
    fn postings_are_found_across_blocks_and_segments() {
        let c = db();
        let mut b = SegmentBuilder::default();
        // Spread over the id space, including negative (word) ids, but none with positions.
        let id = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & !(1 << 42);
        // Enough grams to fill many blocks.
        for doc in 0..50u32 {
            let grams: Vec<(GramId, u32)> = (0..2000u64).map(|i| (id(i), doc % 3 + 1)).collect();
            b.add(doc, &doc_grams(&grams));
        }
        b.write(&c).unwrap();
        let mut b2 = SegmentBuilder::default();
        // (a second segment, to check lookups across segments)
        b2.add(50, &doc_grams(&[(id(7), 9)]));
        b2.write(&c).unwrap();
        let blocks: i64 = c
            .query_row("SELECT count(*) FROM gram_blocks", [], |r| r.get(0))
            .unwrap();
        assert!(blocks > 3);
        let mut out = Vec::new();
        read_postings(&c, id(7), &mut out).unwrap();
        assert_eq!(out.len(), 51);
        assert_eq!(out[0], (0, 1));
        assert_eq!(out[50], (50, 9));
        out.clear();
        read_postings(&c, 12345, &mut out).unwrap();
        assert!(out.is_empty());
    }

    #[test]
    fn blocks_and_a_common_grams_long_list_are_stored_compressed_and_damage_reads_as_nothing() {
        // Enough for more than one batch of blocks to compress (`PACK_BATCH`).
        const DOCS: u32 = 200_000;
        let c = db();
        let mut b = SegmentBuilder::default();
        let id = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & !(1 << 42);
        let common = id(1_000_000);
        // Many rare grams (short blocks), and one gram in every document (a long list).
        for doc in 0..DOCS {
            let rare: Vec<(GramId, u32)> = (0..4u64)
                .map(|i| (id(doc as u64 * 4 + i), 1))
                .chain([(common, doc % 7 + 2)])
                .collect();
            b.add(doc, &doc_grams(&rare));
        }
        b.write(&c).unwrap();
        // Each block in columns; the tags of its heads' and its documents' stored forms.
        let tags: Vec<(u8, u8, u8)> = c
            .prepare("SELECT data FROM gram_blocks")
            .unwrap()
            .query_map([], |r| {
                let d: Vec<u8> = r.get(0)?;
                let mut rest = &d[1..];
                let heads = get_varint(&mut rest).unwrap() as usize;
                let tag = rest[0];
                rest = &rest[heads..];
                get_varint(&mut rest).unwrap();
                Ok((d[0], tag, rest[0]))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // Tag 1: a zstd frame, for the short lists' blocks and the common gram's list alike
        // (the last block may be too short to gain from it).
        assert!(tags.iter().all(|t| t.0 == COLUMNS), "{tags:?}");
        let compressed = tags.iter().filter(|t| **t == (COLUMNS, 1, 1)).count();
        assert!(compressed + 1 >= tags.len(), "{tags:?}");
        assert!(tags.len() > PACK_BATCH, "{} blocks", tags.len());
        let mut out = Vec::new();
        read_postings(&c, common, &mut out).unwrap();
        assert_eq!(out.len(), DOCS as usize);
        let last = DOCS - 1;
        assert_eq!(out[last as usize], (last, last % 7 + 2));
        out.clear();
        read_postings(&c, id(4 * 123 + 2), &mut out).unwrap();
        assert_eq!(out, [(123, 1)]);
        // The merge's cursor reads them too.
        let mut all = MergedGrams::all(&c).unwrap();
        let mut grams = 0;
        while all.next_gram(&c).unwrap().is_some() {
            grams += 1;
        }
        assert_eq!(grams, DOCS as usize * 4 + 1);
        // A damaged frame (an index is untrusted): its grams have no postings, nothing panics.
        c.execute(
            "UPDATE gram_blocks SET data = substr(data, 1, 40) WHERE substr(data, 1, 1) = x'43'",
            [],
        )
        .unwrap();
        out.clear();
        read_postings(&c, id(4 * 123 + 2), &mut out).unwrap();
        assert!(out.is_empty());
        read_postings(&c, common, &mut out).unwrap();
        assert!(out.is_empty());
    }

    /// A gram's postings across the segments, as a query reads them, and their positions.
    fn read_with_positions(c: &Connection, gram: GramId) -> (Vec<(u32, u32, u32)>, Vec<u32>) {
        let (mut got, mut positions) = (Vec::new(), Vec::new());
        for list in read_encoded_lists(c, gram).unwrap() {
            list.decode_with_positions_of(gram, |_| true, &mut got, &mut positions);
        }
        (got, positions)
    }

    #[test]
    fn blocks_are_stored_in_columns_and_read_back_as_their_entries() {
        let c = db();
        let mut b = SegmentBuilder::default();
        let texts = [
            "两岸关系 中国人民 两岸 iPhone手机 covid-19",
            "新冠疫苗接种 美国总统拜登 两岸关系 两岸关系",
            "plain words only, nothing else",
        ];
        let mut docs = Vec::new();
        for doc in 0..3000u32 {
            let t = texts[doc as usize % 3];
            let (grams, _, _) =
                crate::index::analysis::doc_grams(&format!("标题{doc}"), t, "页面 两岸");
            b.add(doc, &grams);
            docs.push(grams);
        }
        b.write(&c).unwrap();
        let stored: Vec<Vec<u8>> = c
            .prepare("SELECT data FROM gram_blocks ORDER BY first_gram")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert!(!stored.is_empty());
        assert!(stored.iter().all(|d| d[0] == COLUMNS));
        // Each block's entries survive the trip through columns byte for byte.
        for d in &stored {
            let entries = unpack_block(d);
            assert!(!entries.is_empty());
            let cols = to_columns(&entries).unwrap().concat();
            assert_eq!(from_columns(&cols).unwrap(), entries);
        }
        // Every gram of every document is found with its positions.
        let mut seen = std::collections::HashMap::new();
        for (doc, grams) in docs.iter().enumerate() {
            for g in &grams.grams {
                seen.entry(g.gram).or_insert_with(Vec::new).push((
                    doc as u32,
                    g.count,
                    grams.positions_of(g).to_vec(),
                ));
            }
        }
        for (gram, want) in seen {
            let (got, positions) = read_with_positions(&c, gram);
            let got: Vec<(u32, u32, Vec<u32>)> = got
                .iter()
                .map(|&(d, tf, at)| {
                    let ps = if has_positions(gram) {
                        positions[at as usize..(at + tf) as usize].to_vec()
                    } else {
                        Vec::new()
                    };
                    (d, tf, ps)
                })
                .collect();
            assert_eq!(got, want, "gram {gram:#x}");
        }
    }

    #[test]
    fn blocks_of_entries_from_an_older_index_read_beside_blocks_in_columns_and_merge_into_columns()
    {
        let c = db();
        let text = "两岸关系 中国人民 两岸 iPhone手机 covid-19";
        let gram = crate::index::grams::pair('关', '系');
        let mut old = SegmentBuilder::default();
        for doc in 0..2000u32 {
            old.add(doc, &crate::index::analysis::doc_grams("", text, "").0);
        }
        let old_seg = old.write(&c).unwrap();
        // As an index of schema 14 stored them: entries, packed as they are.
        let blocks: Vec<(i64, Vec<u8>)> = c
            .prepare("SELECT first_gram, data FROM gram_blocks WHERE seg = ?1")
            .unwrap()
            .query_map([old_seg], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for (first, data) in blocks {
            let entries = crate::packed::pack(&unpack_block(&data), 0, LEVEL);
            assert_ne!(entries[0], COLUMNS);
            c.execute(
                "UPDATE gram_blocks SET data = ?3 WHERE seg = ?1 AND first_gram = ?2",
                params![old_seg, first, entries],
            )
            .unwrap();
        }
        let mut new = SegmentBuilder::default();
        new.add(2000, &crate::index::analysis::doc_grams("", "关系", "").0);
        new.add(2001, &crate::index::analysis::doc_grams("", text, "").0);
        new.write(&c).unwrap();
        let read = |c: &Connection| {
            let (got, positions) = read_with_positions(c, gram);
            let at = |p: &(u32, u32, u32)| (p.0, p.1, positions[p.2 as usize]);
            got.iter().map(at).collect::<Vec<_>>()
        };
        // Each document's first position of the gram, as its grams hold it.
        let first = |t: &str| {
            let g = crate::index::analysis::doc_grams("", t, "").0;
            let dg = g.grams.iter().find(|d| d.gram == gram).unwrap();
            g.positions_of(dg)[0]
        };
        let mut want: Vec<(u32, u32, u32)> = (0..2000).map(|d| (d, 1, first(text))).collect();
        want.extend([(2000, 1, first("关系")), (2001, 1, first(text))]);
        assert!(read(&c) == want, "read before the merge");
        // A merge reads both kinds and writes columns.
        merge_all_segments(&c, &live_where(|_| true), &mut |_| true).unwrap();
        let kinds: Vec<Vec<u8>> = c
            .prepare("SELECT DISTINCT substr(data, 1, 1) FROM gram_blocks")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(kinds, [vec![COLUMNS]]);
        assert!(read(&c) == want, "read after the merge");
    }

    #[test]
    fn a_damaged_block_in_columns_reads_as_nothing() {
        let c = db();
        let mut b = SegmentBuilder::default();
        for doc in 0..50u32 {
            let (grams, _, _) = crate::index::analysis::doc_grams("", "两岸关系 两岸 words", "");
            b.add(doc, &grams);
        }
        b.write(&c).unwrap();
        let stored: Vec<u8> = c
            .query_row("SELECT data FROM gram_blocks", [], |r| r.get(0))
            .unwrap();
        let entries = unpack_block(&stored);
        let cols = to_columns(&entries).unwrap().concat();
        let gram = crate::index::grams::pair('两', '岸') as i64;
        assert!(find_in_columns(&cols, gram).is_some());
        // Cut anywhere, or a count, a length or a gram changed: nothing, or lists that still
        // add up (never a panic, never a read past the block).
        for cut in 0..cols.len() {
            assert!(from_columns(&cols[..cut]).is_none(), "cut at {cut}");
            assert!(
                find_in_columns(&cols[..cut], gram).is_none(),
                "cut at {cut}"
            );
        }
        for i in 0..cols.len() {
            for v in [0u8, 1, 0x7f, 0x80, 0xff] {
                let mut bad = cols.clone();
                bad[i] = v;
                let _ = from_columns(&bad);
                let _ = find_in_columns(&bad, gram);
            }
        }
        // A count of heads past what the bytes can hold allocates nothing.
        let mut lie = Vec::new();
        put_varint(&mut lie, u64::MAX >> 1);
        lie.extend_from_slice(&[1, 1, 1]);
        assert!(from_columns(&lie).is_none());
        // Stored: a damaged frame after the tag reads as no entries.
        let mut stored_bad = stored.clone();
        stored_bad.truncate(stored.len() / 2);
        assert!(unpack_block(&stored_bad).is_empty());
    }

    #[test]
    fn a_block_is_stored_as_it_is_when_a_reader_would_not_unpack_it_whole() {
        // Short blocks: compressed, however well they compress.
        let zeros = vec![0u8; SMALL_MAX];
        let short = pack_block(&zeros);
        assert_eq!(short[0], 1, "compressed");
        assert!(short.len() * MAX_RATIO < zeros.len());
        assert_eq!(unpack_block(&short), zeros);
        // A long list that compresses like real ones (about 0.4): compressed, and read back.
        let mut x = 0x2545_f491_4f6c_dd1d_u64;
        let list: Vec<u8> = (0..SMALL_MAX * 4)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 16) as u8
            })
            .collect();
        let packed = pack_block(&list);
        assert_eq!(packed[0], 1, "compressed");
        assert!(packed.len() < list.len());
        assert_eq!(unpack_block(&packed), list);
        // A long list that compresses past `MAX_RATIO`: as it is, and read back.
        let long = vec![2u8; SMALL_MAX * 4];
        let kept = pack_block(&long);
        assert_eq!(kept[0], 0, "as it is");
        assert_eq!(unpack_block(&kept), long);
        // Such a frame, found in an index (a hostile one): unpacks to nothing.
        let bomb = crate::packed::pack(&long, 0, LEVEL);
        assert_eq!(bomb[0], 1);
        assert!(unpack_block(&bomb).is_empty());
        // The limit grows with the stored size, up to `UNPACKED_MAX`.
        assert_eq!(unpack_limit(0), SMALL_MAX);
        assert_eq!(unpack_limit(1 << 20), 64 << 20);
        assert_eq!(unpack_limit(usize::MAX), UNPACKED_MAX);
    }
}

/// The lists of one segment, block by block, in gram order (one block in memory at a time), each
/// as its two parts as a block in columns stores them: a merge moves them without putting them
/// back together.
struct SegmentCursor {
    seg: i64,
    last_first: Option<i64>,
    /// The block's columns unpacked one after another (`unpack_columns`).
    cols: Vec<u8>,
    /// Each list of the block: its gram, where its documents and its positions are in `cols`.
    heads: Vec<(i64, Range<usize>, Range<usize>)>,
    at: usize,
    blocks: u64,
    done: bool,
    /// Blocks read ahead and not yet unpacked: (first gram, stored block), in gram order.
    ahead: std::collections::VecDeque<(i64, Vec<u8>)>,
    /// Blocks are read ahead until they hold this many bytes (at least one is read).
    ahead_bytes: usize,
}

/// A merge's cursors read up to this many blocks of their segments at a time: each read is a
/// seek in the index of `gram_blocks` (reading one block at a time was about a seventh of a
/// merge's time) …
const READ_AHEAD: i64 = 16;
/// … and up to this many bytes ahead in all (so a common gram's block of MiBs, or an index of
/// many segments, is read one block at a time).
const READ_AHEAD_BYTES: usize = 4 << 20;

impl SegmentCursor {
    /// A cursor on the first list of `seg`.
    fn open(conn: &Connection, seg: i64, ahead_bytes: usize) -> rusqlite::Result<SegmentCursor> {
        let mut c = SegmentCursor {
            seg,
            last_first: None,
            cols: Vec::new(),
            heads: Vec::new(),
            at: 0,
            blocks: 0,
            done: false,
            ahead: Default::default(),
            ahead_bytes,
        };
        c.fill(conn)?;
        Ok(c)
    }

    /// The list at the cursor: `(gram, documents, positions)`.
    fn head(&self) -> Option<(i64, &[u8], &[u8])> {
        let (gram, d, p) = self.heads.get(self.at)?;
        Some((*gram, self.cols.get(d.clone())?, self.cols.get(p.clone())?))
    }

    fn gram(&self) -> Option<i64> {
        self.heads.get(self.at).map(|h| h.0)
    }

    /// Move to the next list.
    fn advance(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        self.at += 1;
        self.fill(conn)
    }

    /// Load blocks until the cursor is on a list or past the last block. A damaged block holds
    /// no list.
    fn fill(&mut self, conn: &Connection) -> rusqlite::Result<()> {
        while self.at >= self.heads.len() && !self.done {
            self.heads.clear();
            self.at = 0;
            if !self.load_next_block(conn)? {
                self.done = true;
            }
        }
        Ok(())
    }

    fn load_next_block(&mut self, conn: &Connection) -> rusqlite::Result<bool> {
        if self.ahead.is_empty() {
            let after = self.last_first.unwrap_or(i64::MIN);
            let mut stmt = conn.prepare_cached(
                "SELECT first_gram, data FROM gram_blocks WHERE seg = ?1 AND first_gram > ?2
                 ORDER BY first_gram LIMIT ?3",
            )?;
            let rows = stmt.query_map(params![self.seg, after, READ_AHEAD], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
            let mut bytes = 0;
            for row in rows {
                let row: (i64, Vec<u8>) = row?;
                bytes += row.1.len();
                self.ahead.push_back(row);
                if bytes >= self.ahead_bytes {
                    break;
                }
            }
        }
        let row = self.ahead.pop_front();
        match row {
            Some((first, data))
                if self.last_first.is_none() || first > self.last_first.unwrap_or(i64::MIN) =>
            {
                self.last_first = Some(first);
                self.cols = block_columns(&data);
                self.heads = list_ranges(&self.cols).unwrap_or_default();
                self.blocks += 1;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// A stored block's columns unpacked one after another, whatever its form: a block of entries
/// (an index before schema 15) is put in columns. Empty when it cannot be read.
fn block_columns(stored: &[u8]) -> Vec<u8> {
    match stored.split_first() {
        Some((&COLUMNS, packed)) => unpack_columns(packed),
        _ => crate::packed::with_unpacked(stored, unpack_limit(stored.len()), |b| {
            to_columns(b).map(|c| c.concat()).unwrap_or_default()
        }),
    }
}

/// Each list of a block's columns: its gram and where its two parts are in `cols`. None when the
/// columns do not add up.
#[allow(clippy::type_complexity)]
fn list_ranges(cols: &[u8]) -> Option<Vec<(i64, Range<usize>, Range<usize>)>> {
    let (heads, docs, positions) = column_heads(cols)?;
    let d0 = cols.len() - docs.len() - positions.len();
    let p0 = cols.len() - positions.len();
    Some(
        heads
            .into_iter()
            .map(|(gram, d, dl, p, pl)| (gram, d0 + d..d0 + d + dl, p0 + p..p0 + p + pl))
            .collect(),
    )
}

/// The documents still live, for a merge: a bitset by document id, and the number of ids not
/// live before each word of it, so that whether a whole range of ids is live is two lookups
/// (a merge asks it of every list it moves: `concat_parts`). The ids come from an index, which
/// is untrusted: when the largest is far past the number of ids (`DENSE_IDS_PER_DOC`), they are
/// kept as a sorted list instead, so that a few rows with ids near 2³² cost their own size and
/// not a bitset of 512 MiB.
#[derive(Debug)]
pub struct LiveDocs(Ids);

#[derive(Debug)]
enum Ids {
    Dense {
        bits: Vec<u64>,
        /// `dead_before[w]`: ids below `64 * w` that are not live (one more entry than `bits`).
        dead_before: Vec<u32>,
    },
    /// Ascending, without repeats.
    Sparse(Vec<u32>),
}

/// Live ids are a bitset while the largest is below this many times their number (plus
/// `DENSE_SLACK`): at most 8 bytes of bitset a live document. Shelfmark gives out ids in
/// order, a new one for every post edited, so only an index of many more edits than posts, or
/// one made by hand, is sparse.
const DENSE_IDS_PER_DOC: u64 = 64;
const DENSE_SLACK: u64 = 1 << 20;

impl Default for LiveDocs {
    fn default() -> Self {
        LiveDocs(Ids::Sparse(Vec::new()))
    }
}

impl LiveDocs {
    pub fn new(docs: impl IntoIterator<Item = u32>) -> LiveDocs {
        let mut ids: Vec<u32> = docs.into_iter().collect();
        ids.sort_unstable();
        ids.dedup();
        let Some(&max) = ids.last() else {
            return LiveDocs::default();
        };
        if u64::from(max) >= (ids.len() as u64) * DENSE_IDS_PER_DOC + DENSE_SLACK {
            return LiveDocs(Ids::Sparse(ids));
        }
        let mut bits = vec![0u64; max as usize / 64 + 1];
        for doc in ids {
            bits[doc as usize / 64] |= 1 << (doc % 64);
        }
        let mut dead_before = Vec::with_capacity(bits.len() + 1);
        let mut dead = 0u32;
        dead_before.push(0);
        for w in &bits {
            dead = dead.saturating_add(w.count_zeros());
            dead_before.push(dead);
        }
        LiveDocs(Ids::Dense { bits, dead_before })
    }

    pub fn contains(&self, doc: u32) -> bool {
        match &self.0 {
            Ids::Dense { bits, .. } => bits
                .get(doc as usize / 64)
                .is_some_and(|w| w & (1 << (doc % 64)) != 0),
            Ids::Sparse(ids) => ids.binary_search(&doc).is_ok(),
        }
    }

    /// Whether every id from `first` to `last` is live.
    pub fn all(&self, first: u32, last: u32) -> bool {
        if first > last {
            return false;
        }
        match &self.0 {
            Ids::Dense { bits, dead_before } => {
                // Ids not live below `n`, for `n` up to the bitset's end.
                let dead_below = |n: u64| -> Option<u64> {
                    let (word, bit) = ((n / 64) as usize, n % 64);
                    let before = u64::from(*dead_before.get(word)?);
                    if bit == 0 {
                        return Some(before);
                    }
                    let w = bits.get(word)?;
                    Some(before + bit - u64::from((w & ((1u64 << bit) - 1)).count_ones()))
                };
                match (
                    dead_below(u64::from(first)),
                    dead_below(u64::from(last) + 1),
                ) {
                    (Some(a), Some(b)) => a == b,
                    _ => false,
                }
            }
            Ids::Sparse(ids) => {
                let from = ids.partition_point(|&d| d < first);
                let to = ids.partition_point(|&d| d <= last);
                (to - from) as u64 == u64::from(last - first) + 1
            }
        }
    }

    /// The words of the bitset (none when the ids are a list).
    fn dense_words(&self) -> usize {
        match &self.0 {
            Ids::Dense { bits, .. } => bits.len(),
            Ids::Sparse(_) => 0,
        }
    }
}

/// Distinct document ids, counted (the dead documents a merge drops): a bitset as large as the
/// live documents' (bounded, `LiveDocs`), and a set for ids past it (from an untrusted index).
struct DistinctDocs {
    bits: Vec<u64>,
    beyond: rustc_hash::FxHashSet<u32>,
}

impl DistinctDocs {
    fn new(live: &LiveDocs) -> DistinctDocs {
        DistinctDocs {
            bits: vec![0; live.dense_words()],
            beyond: Default::default(),
        }
    }

    fn insert(&mut self, doc: u32) {
        match self.bits.get_mut(doc as usize / 64) {
            Some(w) => *w |= 1 << (doc % 64),
            None => {
                self.beyond.insert(doc);
            }
        }
    }

    fn len(&self) -> u64 {
        let bits: u64 = self.bits.iter().map(|w| u64::from(w.count_ones())).sum();
        bits + self.beyond.len() as u64
    }
}

/// What a merge read and wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MergeCounts {
    /// Postings read from the merged segments.
    pub postings_in: u64,
    /// Postings written (those of live documents).
    pub postings_out: u64,
    /// Blocks read.
    pub blocks: u64,
}

/// Segments merge by tiers: a segment's tier is how many times `TIER_FACTOR` its size is above
/// `TIER_BASE` (`tier`), and once a tier holds `TIER_FACTOR` segments they are merged into one
/// of the next tier, up to `TOP_TIER`. So a posting is rewritten about once per tier it climbs:
/// at a million posts (67 flushes of ~60 MB) merges rewrite 0.96× the postings (1.9× with a
/// fourth tier; 2.8× merging the smallest whenever there were more than 8).
pub const TIER_FACTOR: usize = 8;
/// Segments below this size are tier 0.
const TIER_BASE: u64 = 1 << 20;
/// Tiers from this one up (segments of 64 MiB and more: eight flushes merged) do not merge by
/// tiers, only when the index holds more than `max` segments, or by a compaction. As Lucene
/// caps the size of a merged segment: the next tier would be one merge of ~4 GB at a million
/// posts, 42.5 s of a 324 s cold index on the writer's thread while the parsers waited, to save
/// a handful of block lookups per gram.
const TOP_TIER: u32 = 3;

/// `0` below `TIER_BASE`, then one more for each `TIER_FACTOR` times as many bytes.
fn tier(bytes: i64) -> u32 {
    let mut rest = u64::try_from(bytes).unwrap_or(0) / TIER_BASE;
    let mut t = 0;
    while rest > 0 {
        rest /= TIER_FACTOR as u64;
        t += 1;
    }
    t
}

/// The segments (ids, from `(id, bytes)`) to merge next, if any: every segment of the lowest
/// tier below `TOP_TIER` that holds `TIER_FACTOR` or more; else, past `max` segments, all but
/// the `max / 2` largest. Never fewer than two: one segment
/// merged into itself would change nothing (and with `max` below 2, loop forever).
fn merge_victims(segs: &[(i64, i64)], max: usize) -> Option<Vec<i64>> {
    tier_victims(segs, max).filter(|v| v.len() >= 2)
}

fn tier_victims(segs: &[(i64, i64)], max: usize) -> Option<Vec<i64>> {
    let mut by_tier: std::collections::BTreeMap<u32, Vec<i64>> = Default::default();
    for &(id, bytes) in segs {
        by_tier.entry(tier(bytes)).or_default().push(id);
    }
    if let Some((_, ids)) = by_tier
        .into_iter()
        .find(|(t, ids)| *t < TOP_TIER && ids.len() >= TIER_FACTOR)
    {
        return Some(ids);
    }
    if segs.len() <= max {
        return None;
    }
    let mut segs = segs.to_vec();
    segs.sort_by_key(|&(id, bytes)| (bytes, id));
    Some(
        segs.iter()
            .take(segs.len() - max / 2)
            .map(|s| s.0)
            .collect(),
    )
}

/// Whether `merge_small_segments` has anything to merge.
pub fn needs_merge(conn: &Connection, max: usize) -> rusqlite::Result<bool> {
    Ok(merge_victims(&segment_sizes(conn)?, max).is_some())
}

/// Keep the number of segments down (each costs one block read per gram per query) at a cost
/// in rewrites that grows with the log of the index (`merge_victims`), dropping postings of
/// documents that are no longer live. Streams block by block, so memory stays small whatever
/// the index size. Returns whether anything was merged.
pub fn merge_small_segments(
    conn: &Connection,
    max: usize,
    live: &LiveDocs,
) -> rusqlite::Result<bool> {
    let mut merged = false;
    while let Some(victims) = merge_victims(&segment_sizes(conn)?, max) {
        merge_segments(conn, &victims, live, &mut |_| true)?;
        merged = true;
    }
    Ok(merged)
}

/// Merge every segment into one (compaction), dropping postings of documents that are no longer
/// live. `step` hears the number of blocks read so far (every 64 blocks) and stops the merge by
/// answering false: then the answer is None and the caller must roll its transaction back (the
/// transaction makes it all or nothing).
pub fn merge_all_segments(
    conn: &Connection,
    live: &LiveDocs,
    step: &mut dyn FnMut(u64) -> bool,
) -> rusqlite::Result<Option<MergeCounts>> {
    let segs: Vec<i64> = segment_sizes(conn)?.into_iter().map(|s| s.0).collect();
    merge_segments(conn, &segs, live, step)
}

/// The number of blocks in the index (a compaction's amount of work).
pub fn block_count(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT count(*) FROM gram_blocks", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n.max(0) as u64)
}

fn segment_sizes(conn: &Connection) -> rusqlite::Result<Vec<(i64, i64)>> {
    conn.prepare("SELECT id, bytes FROM segments")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect()
}

/// One posting as merged: (document id, term frequency, where its positions start in the
/// gram's positions; see `grams::decode_with_positions`).
pub type Posting = (u32, u32, u32);

/// A gram, its postings across segments, and the positions they point into.
pub type MergedList<'a> = (i64, &'a [Posting], &'a [u32]);

/// The grams of several segments merged in gram order: a k-way merge over one cursor per
/// segment, so one block per segment is in memory, plus the posting list of the current gram.
pub struct MergedGrams {
    cursors: Vec<SegmentCursor>,
    decoded: Vec<Posting>,
    positions: Vec<u32>,
}

impl MergedGrams {
    pub fn open(conn: &Connection, segs: &[i64]) -> rusqlite::Result<MergedGrams> {
        let cursors = segs
            .iter()
            .map(|&s| SegmentCursor::open(conn, s, READ_AHEAD_BYTES / segs.len()))
            .collect::<Result<_, _>>()?;
        Ok(MergedGrams {
            cursors,
            decoded: Vec::new(),
            positions: Vec::new(),
        })
    }

    /// Every segment of the index, oldest first.
    pub fn all(conn: &Connection) -> rusqlite::Result<MergedGrams> {
        let mut segs: Vec<i64> = segment_sizes(conn)?.into_iter().map(|s| s.0).collect();
        segs.sort_unstable();
        MergedGrams::open(conn, &segs)
    }

    /// Blocks read so far.
    pub fn blocks(&self) -> u64 {
        self.cursors.iter().map(|c| c.blocks).sum()
    }

    /// The smallest gram any segment holds next.
    fn next_gram_id(&self) -> Option<i64> {
        self.cursors.iter().filter_map(SegmentCursor::gram).min()
    }

    /// The lists of `gram` in the segments that hold it next, as their two parts.
    fn parts_of(&self, gram: i64) -> impl Iterator<Item = (&[u8], &[u8])> {
        self.cursors
            .iter()
            .filter_map(SegmentCursor::head)
            .filter(move |h| h.0 == gram)
            .map(|(_, docs, positions)| (docs, positions))
    }

    /// Move past `gram` in every segment.
    fn pass(&mut self, conn: &Connection, gram: i64) -> rusqlite::Result<()> {
        for c in &mut self.cursors {
            if c.gram() == Some(gram) {
                c.advance(conn)?;
            }
        }
        Ok(())
    }

    /// The next gram and all its postings across the segments, sorted by document id (a gram's
    /// postings in one segment are sorted, but segments merged before may hold any document
    /// ids, so the lists are sorted here rather than concatenated), and the positions the
    /// postings point into.
    pub fn next_gram(&mut self, conn: &Connection) -> rusqlite::Result<Option<MergedList<'_>>> {
        let Some(gram) = self.next_gram_id() else {
            return Ok(None);
        };
        let (mut decoded, mut positions) = (
            std::mem::take(&mut self.decoded),
            std::mem::take(&mut self.positions),
        );
        decode_parts(gram, self.parts_of(gram), &mut decoded, &mut positions);
        (self.decoded, self.positions) = (decoded, positions);
        self.pass(conn, gram)?;
        Ok(Some((gram, &self.decoded, &self.positions)))
    }
}

/// The postings of a gram's lists (their two parts each), sorted by document id, appended to
/// `decoded` (cleared first) and pointing into `positions` (cleared too).
fn decode_parts<'a>(
    gram: i64,
    parts: impl Iterator<Item = (&'a [u8], &'a [u8])>,
    decoded: &mut Vec<Posting>,
    positions: &mut Vec<u32>,
) {
    decoded.clear();
    positions.clear();
    for (docs, pos) in parts {
        decode_with_positions_of(gram as u64, docs, Some(pos), |_| true, decoded, positions);
    }
    decoded.sort_unstable_by_key(|p| p.0);
}

/// A gram's lists from several segments as one, by moving their bytes: appends the documents
/// part to `docs` and the positions part to `positions`, and returns the number of postings.
/// Only when every document is live and the lists, taken in order of their first documents, do
/// not overlap (as the flushes of a scan: each holds the documents after the last one's) and
/// read as well formed; None otherwise, and the caller decodes them instead (`decode_parts`),
/// leaving aside what it appended.
///
/// Each list's first posting holds its document id itself and the others a difference; only that
/// first posting of the second list on is written again, as a difference from the list before.
/// Positions start afresh at each posting, so they move as they are. A list's documents are read
/// once for its last document; they are looked up one by one in `live` only when the ids from its
/// first to its last are not all live (after edits: at a scan's merges they are).
fn concat_parts(
    gram: i64,
    parts: &[(&[u8], &[u8])],
    live: &LiveDocs,
    docs: &mut Vec<u8>,
    positions: &mut Vec<u8>,
) -> Option<u64> {
    let positional = has_positions(gram as u64);
    // Each list's span and which of the parts it is.
    let mut spans: smallvec::SmallVec<[(ListSpan, usize); 16]> = Default::default();
    let mut postings = 0u64;
    for (index, &(d, p)) in parts.iter().enumerate() {
        let mut tfs = 0u64;
        if !d.is_empty() {
            let span = list_span(d)?;
            if !live.all(span.first, span.last) && !list_docs_live(d, live) {
                return None;
            }
            postings += span.postings;
            tfs = span.tfs;
            spans.push((span, index));
        }
        let well_formed = if positional {
            // `tfs` positions, each a varint (which ends in a byte below 0x80).
            p.iter().filter(|&&b| b < 0x80).count() as u64 == tfs
                && p.last().is_none_or(|&b| b < 0x80)
        } else {
            p.is_empty()
        };
        if !well_formed {
            return None;
        }
    }
    spans.sort_unstable_by_key(|(s, _)| s.first);
    if spans.windows(2).any(|w| w[0].0.last >= w[1].0.first) {
        return None;
    }
    let mut prev_last: Option<u32> = None;
    for (s, index) in &spans {
        let (d, p) = parts[*index];
        match prev_last {
            None => docs.extend_from_slice(d),
            Some(prev) => {
                put_varint(docs, (u64::from(s.first - prev) << 1) | s.flag);
                docs.extend_from_slice(&d[s.head_len..]);
            }
        }
        positions.extend_from_slice(p);
        prev_last = Some(s.last);
    }
    Some(postings)
}

/// Whether every document of a list's documents part (read well formed before) is live.
fn list_docs_live(mut d: &[u8], live: &LiveDocs) -> bool {
    // The first posting holds its id itself: a difference from 0.
    let mut doc = 0u32;
    while let Some(v) = get_varint(&mut d) {
        doc = doc.wrapping_add((v >> 1) as u32);
        if !live.contains(doc) || (v & 1 == 1 && get_varint(&mut d).is_none()) {
            return false;
        }
    }
    true
}

/// Merge `victims` into one new segment, keeping only postings of live documents, then delete
/// them. Runs inside the caller's transaction; None when `step` stopped it half-way (then the
/// transaction must be rolled back).
///
/// A gram's lists are moved as they are stored when they can be (`concat_parts`: every
/// document live, the segments' documents apart), and decoded, sorted and encoded again
/// otherwise. At a million posts a merge of eight flushes took 9 s on the writer's thread,
/// most of it decoding and encoding every posting and position (docs/ARCHITECTURE.md).
fn merge_segments(
    conn: &Connection,
    victims: &[i64],
    live: &LiveDocs,
    step: &mut dyn FnMut(u64) -> bool,
) -> rusqlite::Result<Option<MergeCounts>> {
    let mut merged = MergedGrams::open(conn, victims)?;
    let mut counts = MergeCounts::default();
    let mut total_bytes = 0usize;
    // A document's postings are all in one segment (each is added once, under an id never given
    // again), so the merged segment holds the victims' documents less the dead ones dropped,
    // counted by document id (`DistinctDocs`, not a bitset per posting).
    let mut victim_docs = 0u64;
    for seg in victims {
        let docs: Option<i64> = conn
            .query_row("SELECT docs FROM segments WHERE id = ?1", [seg], |r| {
                r.get(0)
            })
            .optional()?;
        victim_docs += docs.unwrap_or(0).max(0) as u64;
    }
    let mut dropped = DistinctDocs::new(live);
    let mut out = BlockWriter::start(conn)?;
    let mut reported = 0;
    let (mut docs, mut positions) = (Vec::new(), Vec::new());
    let (mut decoded, mut decoded_positions) = (Vec::new(), Vec::new());
    while let Some(gram) = merged.next_gram_id() {
        docs.clear();
        positions.clear();
        let mut parts: smallvec::SmallVec<[(&[u8], &[u8]); 16]> = merged.parts_of(gram).collect();
        if let Some(n) = concat_parts(gram, &parts, live, &mut docs, &mut positions) {
            counts.postings_in += n;
            counts.postings_out += n;
        } else {
            docs.clear();
            positions.clear();
            decode_parts(gram, parts.drain(..), &mut decoded, &mut decoded_positions);
            counts.postings_in += decoded.len() as u64;
            let positional = has_positions(gram as u64);
            let mut last_doc = None;
            for &(doc, tf, at) in &decoded {
                if !live.contains(doc) {
                    dropped.insert(doc);
                } else if last_doc != Some(doc) {
                    encode_posting(&mut docs, &mut last_doc, doc, tf);
                    if positional {
                        let at = at as usize;
                        let p = decoded_positions
                            .get(at..at + tf as usize)
                            .unwrap_or_default();
                        encode_positions(&mut positions, p);
                    }
                    counts.postings_out += 1;
                }
            }
        }
        drop(parts);
        merged.pass(conn, gram)?;
        if !docs.is_empty() {
            total_bytes += docs.len() + positions.len();
            out.push_parts(conn, gram, &docs, &positions)?;
        }
        let blocks = merged.blocks();
        if blocks >= reported + 64 {
            reported = blocks;
            if !step(blocks) {
                return Ok(None);
            }
        }
    }
    counts.blocks = merged.blocks();
    for seg in victims {
        conn.execute("DELETE FROM gram_blocks WHERE seg = ?1", [seg])?;
        conn.execute("DELETE FROM segments WHERE id = ?1", [seg])?;
    }
    let docs = u32::try_from(victim_docs.saturating_sub(dropped.len())).unwrap_or(u32::MAX);
    out.finish(conn, docs, total_bytes)?;
    step(counts.blocks);
    Ok(Some(counts))
}

#[cfg(test)]
mod merge_tests {
    use super::*;

    /// Flushes of equal size, merged as `merge_small_segments` would: what is rewritten in all,
    /// and the most segments there ever were.
    fn simulate(flushes: usize, flush: i64, max: usize) -> (i64, usize) {
        let (mut segs, mut rewritten, mut most, mut next) = (Vec::new(), 0i64, 0usize, 0i64);
        for _ in 0..flushes {
            next += 1;
            segs.push((next, flush));
            while let Some(v) = merge_victims(&segs, max) {
                let bytes: i64 = segs.iter().filter(|s| v.contains(&s.0)).map(|s| s.1).sum();
                segs.retain(|s| !v.contains(&s.0));
                next += 1;
                segs.push((next, bytes));
                rewritten += bytes;
            }
            most = most.max(segs.len());
        }
        (rewritten, most)
    }

    #[test]
    fn tiers_rewrite_each_posting_about_once_per_tier_and_bound_the_segments() {
        assert_eq!(tier(0), 0);
        assert_eq!(tier(-5), 0);
        assert_eq!(tier((1 << 20) - 1), 0);
        assert_eq!(tier(1 << 20), 1);
        assert_eq!(tier((8 << 20) - 1), 1);
        assert_eq!(tier(8 << 20), 2);
        // 67 flushes of 60 MB (a million posts): 8 merges of 8 flushes, and the 8 segments they
        // make (tier 3) stay apart.
        let flush = 60 << 20;
        let (rewritten, most) = simulate(67, flush, 16);
        assert_eq!(rewritten, 64 * flush);
        assert!(most <= 15, "{most}");
        // Tier 3 merges only past `max` segments: 128 flushes rewrite less than twice over.
        let (rewritten, most) = simulate(128, flush, 16);
        assert!(rewritten < 2 * 128 * flush, "{}", rewritten / flush);
        assert!(most <= 16, "{most}");
        // Rewrites grow as n log n, not n²: 8× the flushes, well under 8× 8 the rewrites.
        let (more, most) = simulate(896, flush, 16);
        assert!(more < rewritten * 8 * 3, "{more} vs {rewritten}");
        assert!(most <= 16, "{most}");
        // Eight segments of tier 3 do not merge; under them, eight of tier 2 do.
        let mut segs: Vec<(i64, i64)> = (1..=8).map(|i| (i, 400 << 20)).collect();
        assert_eq!(merge_victims(&segs, 16), None);
        segs.extend((9..=16).map(|i| (i, 60 << 20)));
        assert_eq!(merge_victims(&segs, 16), Some((9..=16).collect()));
        // Tiny segments (edits) merge among themselves, not into the big ones.
        let mut segs: Vec<(i64, i64)> = (1..=7).map(|i| (i, 400 << 20)).collect();
        segs.extend((8..=15).map(|i| (i, 10_000)));
        assert_eq!(merge_victims(&segs, 16), Some((8..=15).collect()));
        // Past `max`, the smallest merge whatever their tiers.
        // (7 segments of tier 1, 7 of tier 2, 3 of tier 3: no tier is full.)
        let segs: Vec<(i64, i64)> = (1..=17)
            .map(|i| (i, [2 << 20, 16 << 20, 128 << 20][(i as usize - 1) / 7] + i))
            .collect();
        assert_eq!(merge_victims(&segs, 16), Some((1..=9).collect()));
        // One segment is never merged into itself, whatever `max`.
        assert_eq!(merge_victims(&[(1, 5)], 0), None);
        assert_eq!(merge_victims(&[(1, 5), (2, 6)], 0), Some(vec![1, 2]));
    }

    /// A list of `gram` as a block in columns stores it: its documents part and positions part.
    fn parts(gram: i64, postings: &[(u32, Vec<u32>)]) -> (Vec<u8>, Vec<u8>) {
        let (mut list, mut last) = (Vec::new(), None);
        for (doc, ps) in postings {
            if has_positions(gram as u64) {
                encode_posting(&mut list, &mut last, *doc, ps.len() as u32);
                encode_positions(&mut list, ps);
            } else {
                encode_posting(&mut list, &mut last, *doc, ps[0]);
            }
        }
        let (mut docs, mut positions) = (Vec::new(), Vec::new());
        assert!(split_list(gram as u64, &list, &mut docs, &mut positions));
        (docs, positions)
    }

    #[test]
    fn live_documents_answer_for_single_ids_and_whole_ranges() {
        let live = LiveDocs::new((0..200).filter(|d| d % 50 != 7).chain([300]));
        assert!(live.contains(0) && live.contains(300) && !live.contains(57));
        assert!(!live.contains(299) && !live.contains(u32::MAX));
        assert!(live.all(0, 6) && live.all(8, 56) && live.all(58, 63) && live.all(58, 64));
        assert!(live.all(158, 199) && live.all(300, 300) && live.all(64, 106));
        assert!(!live.all(0, 7) && !live.all(7, 7) && !live.all(56, 58) && !live.all(0, 199));
        assert!(!live.all(199, 200) && !live.all(299, 300) && !live.all(300, 301));
        assert!(!live.all(5, 4) && !live.all(u32::MAX, u32::MAX));
        // Word edges: ids 63, 64, 127, 128.
        let live = LiveDocs::new((0..256).filter(|&d| d != 128));
        assert!(live.all(0, 127) && live.all(129, 255) && live.all(63, 64));
        assert!(!live.all(127, 128) && !live.all(0, 255) && !live.all(0, 256));
        assert!(!LiveDocs::new([]).all(0, 0));
    }

    #[test]
    fn live_documents_with_ids_far_apart_are_a_list_that_answers_as_the_bitset_does() {
        // An index made by hand: a few rows with ids near 2^32 cost their own size.
        let far = [1, 5, 6, 7, u32::MAX - 3, u32::MAX - 2, u32::MAX];
        let live = LiveDocs::new(far);
        assert!(matches!(live.0, Ids::Sparse(_)));
        assert_eq!(live.dense_words(), 0);
        assert!(live.contains(u32::MAX) && live.contains(5) && !live.contains(u32::MAX - 1));
        assert!(
            live.all(5, 7) && live.all(u32::MAX, u32::MAX) && live.all(u32::MAX - 3, u32::MAX - 2)
        );
        assert!(!live.all(4, 5) && !live.all(u32::MAX - 3, u32::MAX) && !live.all(7, u32::MAX - 3));
        assert!(!live.all(2, 1) && !LiveDocs::default().all(0, 0));
        // The dead documents a merge drops are counted without a bitset to their largest id.
        let mut dropped = DistinctDocs::new(&live);
        for doc in [2, 3, 2, u32::MAX - 1, u32::MAX - 1, 1 << 31] {
            dropped.insert(doc);
        }
        assert_eq!(dropped.len(), 4);
        assert!(dropped.bits.is_empty());
        // Dense ids with one far past them: a list too.
        let one_far = LiveDocs::new((0..1000).chain([u32::MAX]));
        assert!(matches!(one_far.0, Ids::Sparse(_)));
        assert!(one_far.all(0, 999) && !one_far.all(0, 1000) && one_far.contains(u32::MAX));
    }

    proptest::proptest! {
        #[test]
        fn live_documents_answer_as_a_set_of_them_does_dense_or_sparse(
            ids in proptest::collection::vec(
                proptest::prop_oneof![0u32..300, (u32::MAX - 300)..=u32::MAX], 0..80),
            dense in proptest::bool::ANY,
            probes in proptest::collection::vec((0u32..320, 0u32..8), 32),
        ) {
            let set: std::collections::BTreeSet<u32> = if dense {
                ids.iter().map(|&d| d % 300).collect()
            } else {
                ids.iter().copied().collect()
            };
            let live = LiveDocs::new(set.iter().copied());
            for (p, span) in probes {
                for first in [p, u32::MAX - p] {
                    let last = first.saturating_add(span);
                    proptest::prop_assert_eq!(live.contains(first), set.contains(&first));
                    let want = set.range(first..=last).count() as u64 == u64::from(last - first) + 1;
                    proptest::prop_assert_eq!(live.all(first, last), want, "{}..={}", first, last);
                }
            }
        }
    }

    #[test]
    fn lists_apart_are_moved_into_the_list_their_postings_encode_to_and_others_are_refused() {
        let g = crate::index::grams::pair('中', '国') as i64;
        let a = parts(g, &[(3, vec![1, 8]), (5, vec![2])]);
        let b = parts(
            g,
            &[(9, vec![4, 6, 200]), (12, vec![0]), (300, vec![1 << 20])],
        );
        let whole = parts(
            g,
            &[
                (3, vec![1, 8]),
                (5, vec![2]),
                (9, vec![4, 6, 200]),
                (12, vec![0]),
                (300, vec![1 << 20]),
            ],
        );
        let concat_of = |g: i64, parts: &[&(Vec<u8>, Vec<u8>)], live: &dyn Fn(u32) -> bool| {
            let parts: Vec<(&[u8], &[u8])> = parts.iter().map(|p| (&p.0[..], &p.1[..])).collect();
            let (mut docs, mut positions) = (Vec::new(), Vec::new());
            let live = super::tests::live_where(live);
            let n = concat_parts(g, &parts, &live, &mut docs, &mut positions);
            n.map(|n| (n, (docs, positions)))
        };
        let concat =
            |parts: &[&(Vec<u8>, Vec<u8>)], live: &dyn Fn(u32) -> bool| concat_of(g, parts, live);
        let all = |_: u32| true;
        // In either order (segments merged before may come in any), and past an empty list.
        let empty = (Vec::new(), Vec::new());
        for order in [[&a, &b, &empty], [&b, &empty, &a]] {
            let (n, got) = concat(&order, &all).unwrap();
            assert_eq!(n, 5);
            assert_eq!(got, whole);
        }
        // Lists that overlap, a dead document, positions that do not add up, a document twice
        // in one list: left to decoding.
        let c = parts(g, &[(4, vec![1])]);
        assert!(concat(&[&a, &c], &all).is_none());
        // Dead ids between a list's documents (an edited post's old id) are no reason to refuse it.
        let (n, got) = concat(&[&b, &a], &|d| d != 4 && d != 100).unwrap();
        assert_eq!((n, got), (5, whole.clone()));
        assert!(concat(&[&a, &b], &|d| d != 12).is_none());
        let short = (b.0.clone(), b.1[..b.1.len() - 1].to_vec());
        assert!(concat(&[&a, &short], &all).is_none());
        let long = (b.0.clone(), [&b.1[..], &[5]].concat());
        assert!(concat(&[&a, &long], &all).is_none());
        let twice = parts(g, &[(20, vec![1]), (20, vec![2])]);
        assert!(concat(&[&a, &twice], &all).is_none());
        let cut = (b.0[..b.0.len() - 1].to_vec(), b.1.clone());
        assert!(concat(&[&a, &cut], &all).is_none());
        // A gram without positions: counts move with their documents.
        let w = 77i64;
        let (x, y) = (
            parts(w, &[(1, vec![4])]),
            parts(w, &[(2, vec![1]), (7, vec![9])]),
        );
        let both = parts(w, &[(1, vec![4]), (2, vec![1]), (7, vec![9])]);
        let (n, got) = concat_of(w, &[&y, &x], &all).unwrap();
        assert_eq!((n, got), (3, both));
        // (one of `w`'s lists with a position part is not what a block holds)
        let stray = (y.0.clone(), vec![1]);
        assert!(concat_of(w, &[&x, &stray], &all).is_none());
    }

    #[test]
    fn merges_read_back_every_live_posting_whether_lists_were_moved_or_decoded() {
        use crate::index::grams::{decode_with_positions_of, pair, DocGram};
        let (a, w) = (pair('两', '岸'), 91u64);
        // Each layout is segments of documents: apart (a scan's flushes: lists moved), and
        // interleaved (as segments merged before may be: decoded).
        let layouts: [&[&[u32]]; 3] = [
            &[&[1, 2, 3], &[10, 11], &[], &[300, 1000]],
            &[&[1, 5, 9], &[3, 7], &[20]],
            &[&[40, 41], &[0, 2]],
        ];
        let positions_of =
            |doc: u32| -> Vec<u32> { (0..1 + doc % 3).map(|i| doc * 7 + i * 3).collect() };
        for layout in layouts {
            for live in [&(|_: u32| true) as &dyn Fn(u32) -> bool, &|d: u32| {
                !d.is_multiple_of(5)
            }] {
                let c = super::tests::db();
                for docs in layout {
                    let mut b = SegmentBuilder::default();
                    for &doc in *docs {
                        let ps = positions_of(doc);
                        let mut grams = DocGrams::default();
                        grams.grams.push(DocGram {
                            gram: a,
                            count: ps.len() as u32,
                            pos: 0,
                        });
                        grams.positions.extend_from_slice(&ps);
                        grams.grams.push(DocGram {
                            gram: w,
                            count: doc + 1,
                            pos: 0,
                        });
                        b.add(doc, &grams);
                    }
                    if !b.is_empty() {
                        b.write(&c).unwrap();
                    }
                }
                let counts = merge_all_segments(&c, &super::tests::live_where(live), &mut |_| true)
                    .unwrap()
                    .unwrap();
                let mut expected: Vec<u32> =
                    layout.iter().flat_map(|d| d.iter().copied()).collect();
                expected.sort_unstable();
                expected.retain(|&d| live(d));
                assert_eq!(counts.postings_out, 2 * expected.len() as u64, "{layout:?}");
                let (mut got, mut positions) = (Vec::new(), Vec::new());
                for_each_list(&c, a, |list, apart| {
                    decode_with_positions_of(a, list, apart, |_| true, &mut got, &mut positions)
                })
                .unwrap();
                let got: Vec<(u32, Vec<u32>)> = got
                    .iter()
                    .map(|&(d, tf, at)| (d, positions[at as usize..(at + tf) as usize].to_vec()))
                    .collect();
                let want: Vec<(u32, Vec<u32>)> =
                    expected.iter().map(|&d| (d, positions_of(d))).collect();
                assert_eq!(got, want, "{layout:?}");
                let mut counts = Vec::new();
                read_postings(&c, w, &mut counts).unwrap();
                let want: Vec<(u32, u32)> = expected.iter().map(|&d| (d, d + 1)).collect();
                assert_eq!(counts, want, "{layout:?}");
                let docs: i64 = c
                    .query_row("SELECT docs FROM segments", [], |r| r.get(0))
                    .unwrap();
                assert_eq!(docs, expected.len() as i64);
            }
        }
    }

    #[test]
    fn rows_of_blocks_leave_less_of_their_pages_empty_than_without_rowids() {
        // The same 400 rows of 2–40 KiB (bytes that do not compress, as stored blocks do not) in
        // the table as made today and as made before stop 35: the pages they leave unused.
        let unused = |create: &str| -> i64 {
            let c = Connection::open_in_memory().unwrap();
            c.execute_batch(create).unwrap();
            let mut x = 0x2545_F491_4F6C_DD1Du64;
            let mut next = || {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x
            };
            for i in 0..400i64 {
                let len = 2048 + (next() % (38 * 1024)) as usize;
                let data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                c.execute(
                    "INSERT INTO gram_blocks(seg, first_gram, data) VALUES (1, ?1, ?2)",
                    params![i, data],
                )
                .unwrap();
            }
            c.query_row(
                "SELECT sum(unused) FROM dbstat WHERE name = 'gram_blocks'",
                [],
                |r| r.get(0),
            )
            .unwrap()
        };
        let (now, before) = (unused(CREATE), unused(super::tests::CREATE_WITHOUT_ROWID));
        // 0.49 of it with this SQLite; 0.37 on the blocks of the 70k bench corpus.
        assert!(now * 3 < before * 2, "unused bytes {now} against {before}");
    }

    #[test]
    fn merging_keeps_live_postings_in_order_and_drops_dead_ones() {
        // In the tables as made today and as an index made before stop 35 holds them.
        for create in [CREATE, super::tests::CREATE_WITHOUT_ROWID] {
            merge_keeps_live_postings_in_order(create);
        }
    }

    fn merge_keeps_live_postings_in_order(create: &str) {
        let c = Connection::open_in_memory().unwrap();
        c.execute_batch(create).unwrap();
        for seg in 0..12u32 {
            let mut b = SegmentBuilder::default();
            for d in 0..10u32 {
                let doc = seg * 10 + d;
                let grams: Vec<(GramId, u32)> =
                    (0..300u64).map(|g| (g * 7919, 1 + doc % 2)).collect();
                b.add(doc, &super::tests::doc_grams(&grams));
            }
            b.write(&c).unwrap();
        }
        let live = |d: u32| !d.is_multiple_of(3);
        assert!(needs_merge(&c, 16).unwrap());
        assert!(merge_small_segments(&c, 16, &super::tests::live_where(live)).unwrap());
        assert!(!needs_merge(&c, 16).unwrap());
        let segs: i64 = c
            .query_row("SELECT count(*) FROM segments", [], |r| r.get(0))
            .unwrap();
        // Twelve segments of one tier: merged into one, which lost the dead postings.
        assert_eq!(segs, 1);
        let mut out = Vec::new();
        read_postings(&c, 5 * 7919, &mut out).unwrap();
        let mut docs: Vec<u32> = out.iter().map(|p| p.0).collect();
        let expected: Vec<u32> = (0..120).filter(|d| live(*d)).collect();
        docs.sort_unstable();
        assert_eq!(docs, expected);
        assert!(out.iter().all(|&(d, tf)| tf == 1 + d % 2));
    }

    #[test]
    fn a_merge_of_many_blocks_reads_back_every_list_in_gram_order() {
        use crate::index::grams::{decode_with_positions_of, pair, DocGram};
        // Three segments of 200 documents, each with 8,000 grams and one pair whose list, with
        // 8,000 positions a document, is one block of MiBs: the merge writes more blocks than
        // two batches (so batches are compressed while the next is filled), and each cursor
        // meets a block larger than it reads ahead.
        let c = super::tests::db();
        let id = |i: u64| i.wrapping_mul(0x9E37_79B9_7F4A_7C15) & !(1 << 42);
        let count = |doc: u32, i: u64| 1 + (doc as u64 * 7 + i) % 200;
        let common = pair('中', '国');
        let positions_of = |doc: u32| -> Vec<u32> {
            let mut at = 0u32;
            (0..8000u32)
                .map(|k| {
                    at += 1 + (doc.wrapping_mul(31) ^ k.wrapping_mul(2_654_435_761)) % 300;
                    at
                })
                .collect()
        };
        for seg in 0..3u32 {
            let mut b = SegmentBuilder::default();
            for doc in seg * 200..(seg + 1) * 200 {
                let mut grams = super::tests::doc_grams(
                    &(0..8000u64)
                        .map(|i| (id(i), count(doc, i) as u32))
                        .collect::<Vec<_>>(),
                );
                let ps = positions_of(doc);
                grams.grams.push(DocGram {
                    gram: common,
                    count: ps.len() as u32,
                    pos: 0,
                });
                grams.positions = ps;
                grams.grams.sort_unstable_by_key(|g| g.gram);
                b.add(doc, &grams);
            }
            b.write(&c).unwrap();
        }
        let largest: i64 = c
            .query_row("SELECT max(length(data)) FROM gram_blocks", [], |r| {
                r.get(0)
            })
            .unwrap();
        assert!(largest as usize > READ_AHEAD_BYTES / 3, "{largest}");
        merge_all_segments(&c, &super::tests::live_where(|_| true), &mut |_| true)
            .unwrap()
            .unwrap();
        let (segs, blocks): (i64, i64) = c
            .query_row(
                "SELECT (SELECT count(*) FROM segments), count(*) FROM gram_blocks",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(segs, 1);
        assert!(blocks as usize > 2 * PACK_BATCH, "{blocks}");
        for i in (0..8000u64).step_by(7) {
            let mut got = Vec::new();
            read_postings(&c, id(i), &mut got).unwrap();
            let want: Vec<(u32, u32)> = (0..600).map(|d| (d, count(d, i) as u32)).collect();
            assert_eq!(got, want, "gram {i}");
        }
        let (mut got, mut positions) = (Vec::new(), Vec::new());
        for_each_list(&c, common, |list, apart| {
            decode_with_positions_of(common, list, apart, |_| true, &mut got, &mut positions)
        })
        .unwrap();
        assert_eq!(got.len(), 600);
        for (k, &(doc, tf, at)) in got.iter().enumerate() {
            assert_eq!(doc, k as u32);
            let at = at as usize;
            assert_eq!(positions[at..at + tf as usize], positions_of(doc), "{doc}");
        }
        // The blocks, in order of their first grams, hold every gram once and in order.
        let grams = super::tests::grams_of_blocks(&c);
        let mut want: Vec<i64> = (0..8000u64).map(|i| id(i) as i64).collect();
        want.push(common as i64);
        want.sort_unstable();
        assert_eq!(grams, want);
    }
}
