//! The one writer of the index. It batches changes into transactions; each transaction also
//! writes the postings of the documents it added, so every commit leaves a consistent index.

use crate::error::{Result, SqlContext};
use crate::index::grams::{DocGrams, GramId};
use crate::index::segment::{SegmentBuilder, SortedGrams};
use crate::post::Post;
use crate::problem::Problem;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::{Path, PathBuf};

/// Flush a segment (and commit) once it holds this many postings (about 2 bytes each on disk).
const SEGMENT_POSTINGS: usize = 20_000_000;

#[cfg(test)]
thread_local! {
    /// Tests flush after fewer postings, to have merges among a few posts.
    static FLUSH_AT: std::cell::Cell<usize> = const { std::cell::Cell::new(SEGMENT_POSTINGS) };
}

fn flush_at() -> usize {
    #[cfg(test)]
    return FLUSH_AT.with(|f| f.get());
    #[cfg(not(test))]
    SEGMENT_POSTINGS
}
/// Segments merge by tiers (`segment::merge_small_segments`); past this many, the smallest are
/// merged at the next commit whatever their tiers.
const MAX_SEGMENTS: usize = 16;

/// Posting lists are built on threads of their own, one per shard of the gram space, so the
/// writer's thread only talks to SQLite.
const INDEXER_SHARDS: usize = 2;

enum IndexerMsg {
    /// A document's grams, the same for every shard: each adds its own share.
    Add(u32, std::sync::Arc<DocGrams>),
    /// The postings added so far, sorted (on the shard's thread).
    Take(crossbeam_channel::Sender<SortedGrams>),
}

struct Indexer {
    shards: Vec<crossbeam_channel::Sender<IndexerMsg>>,
    postings: usize,
}

fn shard_of(g: GramId) -> usize {
    (g.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) as usize % INDEXER_SHARDS
}

impl Indexer {
    fn start() -> Indexer {
        let shards = (0..INDEXER_SHARDS)
            .map(|shard| {
                let (tx, rx) = crossbeam_channel::bounded::<IndexerMsg>(512);
                std::thread::spawn(move || {
                    let mut builder = SegmentBuilder::default();
                    for msg in rx {
                        match msg {
                            IndexerMsg::Add(doc, grams) => {
                                builder.add_where(doc, &grams, |g| shard_of(g) == shard)
                            }
                            IndexerMsg::Take(reply) => {
                                let _ = reply.send(std::mem::take(&mut builder).into_sorted());
                            }
                        }
                    }
                });
                tx
            })
            .collect();
        Indexer {
            shards,
            postings: 0,
        }
    }

    fn add(&mut self, doc: u32, grams: DocGrams) {
        self.postings += grams.len();
        // Handed whole to every shard: splitting it here copied every position on the writer's
        // thread.
        let grams = std::sync::Arc::new(grams);
        for tx in &self.shards {
            let _ = tx.send(IndexerMsg::Add(doc, grams.clone()));
        }
    }

    /// The postings added since the last take, sorted, one list per shard (channels are FIFO).
    /// The shards sort theirs at the same time.
    fn take(&mut self) -> Vec<SortedGrams> {
        self.postings = 0;
        // Every shard is asked before any answer is awaited, so they sort side by side.
        let replies: Vec<_> = self
            .shards
            .iter()
            .filter_map(|tx| {
                let (reply, rx) = crossbeam_channel::bounded(1);
                tx.send(IndexerMsg::Take(reply)).ok().map(|()| rx)
            })
            .collect();
        replies
            .into_iter()
            .filter_map(|rx| rx.recv().ok())
            .collect()
    }
}

/// A file's identity on disk, as the scanner saw it.
#[derive(Debug, Clone)]
pub struct FileStat {
    /// Path relative to the archive root, byte-exact.
    pub path: Vec<u8>,
    pub size: u64,
    pub mtime_ns: i64,
}

/// A parsed post ready to be stored, with its grams for the text index.
#[derive(Debug, Clone)]
pub struct PostRecord {
    pub stat: FileStat,
    pub hash: [u8; 32],
    pub post: Post,
    pub grams: DocGrams,
    /// Title and body text folded for matching (see `index::analysis::doc_grams`), packed as the
    /// index stores it (`store::text`).
    pub text: Vec<u8>,
    pub text_chars: u32,
}

/// The columns of `posts` that hold JSON.
struct JsonColumns {
    tags: String,
    cats: String,
    fields: String,
}

impl JsonColumns {
    fn of(p: &Post) -> JsonColumns {
        JsonColumns {
            tags: serde_json::to_string(&p.tags).unwrap_or_else(|_| "[]".into()),
            cats: serde_json::to_string(&p.categories).unwrap_or_else(|_| "[]".into()),
            fields: super::fields::pack(&p.fields, &super::fields::Own::of(p)),
        }
    }
}

pub struct Writer {
    conn: Connection,
    path: PathBuf,
    indexer: Indexer,
    next_docid: u32,
    in_tx: bool,
    /// A rebuild: everything is one transaction, so segments are written without committing.
    one_tx: bool,
    /// The metadata chunks (`columns`) whose posts changed in this transaction.
    dirty: std::collections::BTreeSet<u32>,
    /// Stored texts of new documents, written a row at a time (`texts`).
    texts: super::texts::Pending,
    /// Documents whose stored texts leave their rows at the commit.
    dead_texts: Vec<u32>,
    /// In a transaction: the `problems` table held no row when it began, and it has added none
    /// since, so clearing a post's problems needs no query (a cold index clears every post's).
    /// The transaction is `IMMEDIATE`: no other writer adds any meanwhile.
    no_problems: bool,
}

/// What a compaction did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Compacted {
    pub segments_before: u64,
    pub postings_before: u64,
    pub postings_after: u64,
    /// Rows of other tables that belonged to no post (stored text, fields, signatures).
    pub dead_rows: u64,
}

/// The live document ids (every post's), for a merge.
fn live_docs(conn: &Connection) -> rusqlite::Result<crate::index::segment::LiveDocs> {
    let mut ids = Vec::new();
    let mut stmt = conn.prepare("SELECT docid FROM posts")?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        if let Ok(doc) = u32::try_from(r.get::<_, i64>(0)?) {
            ids.push(doc);
        }
    }
    Ok(crate::index::segment::LiveDocs::new(ids))
}

/// Lossy display form of a byte path.
pub fn path_text(path: &[u8]) -> String {
    String::from_utf8_lossy(path).into_owned()
}

/// What `posts.path_lossy` holds for a path: its display form when the bytes are not UTF-8,
/// else nothing (`posts.path_text` is then the path itself).
fn path_lossy(path: &[u8]) -> Option<String> {
    std::str::from_utf8(path).is_err().then(|| path_text(path))
}

/// The host of a source URL, lower-cased, without a leading `www.`.
pub fn site_of(source: &str) -> Option<String> {
    let url = url::Url::parse(source.trim()).ok()?;
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    Some(host.strip_prefix("www.").unwrap_or(&host).to_string())
}

impl Writer {
    pub fn open(path: &Path) -> Result<Writer> {
        let conn = super::open_for_write(path)?;
        let next: String = conn
            .query_row("SELECT value FROM meta WHERE key='next_docid'", [], |r| {
                r.get(0)
            })
            .at(path)?;
        Ok(Writer {
            conn,
            path: path.to_path_buf(),
            indexer: Indexer::start(),
            next_docid: next.parse().unwrap_or(1),
            in_tx: false,
            one_tx: false,
            dirty: Default::default(),
            texts: Default::default(),
            dead_texts: Vec::new(),
            no_problems: false,
        })
    }

    /// Open a new index file for a first, bulk build: no journal and no syncing, because the file
    /// is only renamed into place once complete (a crash leaves a stale file that is discarded).
    pub fn open_bulk(path: &Path) -> Result<Writer> {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", path.display()));
        }
        let w = Writer::open(path)?;
        w.conn
            .execute_batch("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;")
            .at(path)?;
        Ok(w)
    }

    /// Finish a bulk build: switch the file to WAL and move it to `dest`.
    pub fn finish_bulk(mut self, dest: &Path) -> Result<()> {
        self.commit()?;
        // The last merges of a build leave their inputs' pages free (at 70k the build ends with
        // one merge of 8 segments: 561 of 1,379 MiB). Nothing reuses them before the next
        // writes, so they are given back now, while the file has no journal (2 s at 70k).
        let pages = |pragma: &str| -> Result<i64> {
            self.conn.query_row(pragma, [], |r| r.get(0)).at(&self.path)
        };
        let (free, total) = (pages("PRAGMA freelist_count")?, pages("PRAGMA page_count")?);
        // From 1/64 of the file: at 1M the tier-3 merges leave 221 MiB free, 2% of the file.
        if free > 0 && free >= total / 64 && pages("PRAGMA auto_vacuum")? == 2 {
            self.incremental_vacuum()?;
        }
        self.conn
            .execute_batch("PRAGMA journal_mode=WAL;")
            .at(&self.path)?;
        let from = self.path.clone();
        drop(self);
        // The build wrote with no syncing: its pages reach the disk before the name does, or a
        // crash soon after could leave a damaged index in place (the first rescan used to pay
        // for this flush instead: 1.4 s after a 70k build).
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| crate::Error::Io { path, source }
        };
        std::fs::File::open(&from)
            .and_then(|f| f.sync_all())
            .map_err(io(&from))?;
        super::check_index_files(dest)?;
        std::fs::rename(&from, dest).map_err(io(dest))?;
        if let Some(dir) = dest.parent() {
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(io(dir))?;
        }
        Ok(())
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The dictionary the index compresses stored texts with (`store::text`), if it has one.
    pub fn text_dict(&self) -> Result<Option<super::text::Encoder>> {
        let id: Option<i64> = self
            .conn
            .query_row("SELECT min(id) FROM text_dicts", [], |r| r.get(0))
            .at(&self.path)?;
        match id.and_then(|id| u32::try_from(id).ok()) {
            Some(id) => super::text::load_encoder(&self.conn, id).at(&self.path),
            None => Ok(None),
        }
    }

    /// Keep `bytes` (`store::text::train`) as the dictionary stored texts are compressed with,
    /// and return it; none, and nothing kept, when they are not a dictionary.
    pub fn add_text_dict(&mut self, bytes: &[u8]) -> Result<Option<super::text::Encoder>> {
        let Some(dict) = super::text::encoder_from(bytes) else {
            return Ok(None);
        };
        self.begin()?;
        self.conn
            .execute(
                "INSERT OR REPLACE INTO text_dicts(id, dict) VALUES (?1, ?2)",
                params![dict.id(), bytes],
            )
            .at(&self.path)?;
        Ok(Some(dict))
    }

    fn begin(&mut self) -> Result<()> {
        if !self.in_tx {
            self.conn.execute_batch("BEGIN IMMEDIATE").at(&self.path)?;
            self.in_tx = true;
            self.no_problems = self
                .conn
                .query_row("SELECT NOT EXISTS (SELECT 1 FROM problems)", [], |r| {
                    r.get(0)
                })
                .at(&self.path)?;
        }
        Ok(())
    }

    /// Write the pending segment (merging small ones if there are too many), without committing.
    fn flush_segment(&mut self) -> Result<()> {
        let shards = self.indexer.take();
        if shards.iter().any(|s| !s.is_empty()) {
            crate::index::segment::write_shards(shards, &self.conn).at(&self.path)?;
            self.merge_segments()?;
        }
        Ok(())
    }

    /// Write the pending segment and commit everything so far.
    pub fn commit(&mut self) -> Result<()> {
        if !self.in_tx {
            return Ok(());
        }
        self.flush_segment()?;
        super::texts::remove(&self.conn, &mut self.dead_texts).at(&self.path)?;
        self.dead_texts.clear();
        self.texts.flush(&self.conn).at(&self.path)?;
        super::columns::write(&self.conn, std::mem::take(&mut self.dirty)).at(&self.path)?;
        self.conn
            .execute(
                "UPDATE meta SET value = CAST(value AS INTEGER) + 1 WHERE key = 'generation'",
                [],
            )
            .at(&self.path)?;
        self.conn
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'next_docid'",
                [self.next_docid.to_string()],
            )
            .at(&self.path)?;
        self.conn.execute_batch("COMMIT").at(&self.path)?;
        self.in_tx = false;
        self.one_tx = false;
        Ok(())
    }

    /// Merge segments by tiers (see `segment::merge_small_segments`).
    fn merge_segments(&mut self) -> Result<()> {
        if !crate::index::segment::needs_merge(&self.conn, MAX_SEGMENTS).at(&self.path)? {
            return Ok(());
        }
        let live = live_docs(&self.conn).at(&self.path)?;
        crate::index::segment::merge_small_segments(&self.conn, MAX_SEGMENTS, &live)
            .at(&self.path)?;
        Ok(())
    }

    /// Start a rebuild: in one transaction with everything that follows until `commit`, drop
    /// every table of the index and create the schema afresh. Readers (and a crash) see the old
    /// index until the commit. The generation and the next document id carry on from the old
    /// index, so a reader's snapshot never takes a new document for an old one.
    pub fn start_rebuild(&mut self) -> Result<()> {
        self.commit()?;
        self.begin()?;
        let generation = super::generation(&self.conn, &self.path)?;
        super::schema::recreate(&self.conn).at(&self.path)?;
        self.conn
            .execute(
                "UPDATE meta SET value = ?1 WHERE key = 'generation'",
                [generation.to_string()],
            )
            .at(&self.path)?;
        self.one_tx = true;
        Ok(())
    }

    /// Compaction: merge every segment into one without the postings of documents no longer
    /// live (edited posts are stored again under a new document id; removed ones are gone), and
    /// delete rows of other tables that belong to no post. One transaction: a crash or a cancel
    /// leaves the index as it was; readers see the old index until the commit. Streams block by
    /// block (see `segment::merge_all_segments`). `progress(blocks read, blocks)`.
    pub fn compact(
        &mut self,
        progress: &dyn Fn(u64, u64),
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<Compacted> {
        use std::sync::atomic::Ordering;
        self.commit()?;
        self.begin()?;
        let result = self.compact_in_tx(progress, cancel);
        match result {
            Ok(Some(c)) if !cancel.load(Ordering::Relaxed) => {
                crate::store::crash_point("compact:before-commit");
                self.commit()?;
                Ok(c)
            }
            Ok(_) => {
                self.rollback()?;
                Err(crate::Error::Cancelled)
            }
            Err(e) => {
                self.rollback()?;
                Err(e)
            }
        }
    }

    fn compact_in_tx(
        &mut self,
        progress: &dyn Fn(u64, u64),
        cancel: &std::sync::atomic::AtomicBool,
    ) -> Result<Option<Compacted>> {
        use crate::index::segment;
        use std::sync::atomic::Ordering;
        let conn = &self.conn;
        let path = self.path.as_path();
        let segments_before: i64 = conn
            .query_row("SELECT count(*) FROM segments", [], |r| r.get(0))
            .at(path)?;
        let total = segment::block_count(conn).at(path)?;
        progress(0, total);
        let live = live_docs(conn).at(path)?;
        let merged = segment::merge_all_segments(conn, &live, &mut |blocks| {
            progress(blocks, total);
            crate::store::crash_point("compact:merging");
            !cancel.load(Ordering::Relaxed)
        })
        .at(path)?;
        let Some(merged) = merged else {
            return Ok(None);
        };
        let mut dead_rows = super::texts::compact(conn, &|d| live.contains(d)).at(path)?;
        dead_rows += conn
            .execute(
                "DELETE FROM post_fields WHERE post_id NOT IN (SELECT id FROM posts)",
                [],
            )
            .at(path)? as u64;
        // The duplicate signatures' cache (`dupes::cache`), when it exists: rows of files the
        // index no longer holds.
        let sigs: i64 = conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'dupe_sigs'",
                [],
                |r| r.get(0),
            )
            .at(path)?;
        if sigs > 0 {
            dead_rows += conn
                .execute(
                    "DELETE FROM dupe_sigs WHERE hash NOT IN (SELECT hash FROM posts)",
                    [],
                )
                .at(path)? as u64;
        }
        Ok(Some(Compacted {
            segments_before: segments_before.max(0) as u64,
            postings_before: merged.postings_in,
            postings_after: merged.postings_out,
            dead_rows,
        }))
    }

    /// Give the space that deleted rows left back to the file system: `incremental_vacuum`,
    /// which moves the pages at the end of the file into free ones and truncates it (measured
    /// 3× faster than `VACUUM`, and it writes only the pages it moves into the WAL, where
    /// `VACUUM` writes the whole index). An index made before `auto_vacuum` was set is converted
    /// by one `VACUUM`. Then a checkpoint empties the WAL if no reader still needs it (see
    /// docs/ARCHITECTURE.md, "Compaction and rebuild"). Outside any transaction.
    pub fn reclaim_space(&mut self) -> Result<()> {
        self.commit()?;
        crate::store::crash_point("compact:before-vacuum");
        let mode: i64 = self
            .conn
            .query_row("PRAGMA auto_vacuum", [], |r| r.get(0))
            .at(&self.path)?;
        if mode == 2 {
            self.incremental_vacuum()?;
        } else {
            self.conn
                .execute_batch("PRAGMA auto_vacuum=INCREMENTAL; VACUUM;")
                .at(&self.path)?;
        }
        // Readers still inside a transaction keep the WAL from being emptied: wait a little,
        // not the full busy timeout; the next checkpoint (or the last connection closing)
        // empties it then.
        let short = std::time::Duration::from_millis(200);
        self.conn.busy_timeout(short).at(&self.path)?;
        let checkpoint = self
            .conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
        self.conn
            .busy_timeout(std::time::Duration::from_secs(10))
            .at(&self.path)?;
        checkpoint.at(&self.path)?;
        Ok(())
    }

    /// Move the pages at the end of the file into free ones and truncate it (the index must
    /// have `auto_vacuum=INCREMENTAL`).
    fn incremental_vacuum(&mut self) -> Result<()> {
        super::incremental_vacuum(&self.conn).at(&self.path)
    }

    /// Abandon everything since the last commit.
    pub fn rollback(&mut self) -> Result<()> {
        if self.in_tx {
            self.conn.execute_batch("ROLLBACK").at(&self.path)?;
            self.in_tx = false;
        }
        self.one_tx = false;
        self.dirty.clear();
        self.texts.clear();
        self.dead_texts.clear();
        drop(self.indexer.take());
        let next: String = self
            .conn
            .query_row("SELECT value FROM meta WHERE key='next_docid'", [], |r| {
                r.get(0)
            })
            .at(&self.path)?;
        self.next_docid = next.parse().unwrap_or(1);
        Ok(())
    }

    /// Insert a new post or replace the post at the same path. Returns the post id.
    pub fn upsert(&mut self, rec: PostRecord) -> Result<i64> {
        self.begin()?;
        let p = &rec.post;
        let docid = self.next_docid;
        self.next_docid += 1;
        let existing: Option<(i64, i64)> = self
            .conn
            .prepare_cached("SELECT id, docid FROM posts WHERE path = ?1")
            .and_then(|mut s| {
                s.query_row([&rec.stat.path], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .at(&self.path)?;
        let JsonColumns { tags, cats, fields } = JsonColumns::of(p);
        let site = p.source.as_deref().and_then(site_of);
        let fm = match p.front_matter {
            crate::post::FrontMatterKind::Yaml => "yaml",
            crate::post::FrontMatterKind::Toml => "toml",
            crate::post::FrontMatterKind::None => "none",
        };
        let values = params![
            rec.stat.path,
            path_lossy(&rec.stat.path),
            rec.stat.size as i64,
            rec.stat.mtime_ns,
            &rec.hash[..],
            docid,
            p.title,
            p.date.as_ref().map(|d| d.utc_ms),
            p.date.as_ref().map(|d| d.raw.as_str()),
            p.date.as_ref().is_some_and(|d| d.from_file_name),
            p.author,
            p.source,
            site,
            p.layout,
            tags,
            cats,
            fields,
            p.epoch_ms,
            p.encoding.as_str(),
            fm,
            p.crlf,
            p.body_offset as i64,
            rec.text_chars,
            p.epoch_raw,
        ];
        self.dirty.insert(super::columns::chunk_of(docid as i64));
        let id = match existing {
            Some((id, old_docid)) => {
                self.dirty.insert(super::columns::chunk_of(old_docid));
                self.forget_text(old_docid);
                self.conn
                    .prepare_cached("DELETE FROM post_fields WHERE post_id = ?1")
                    .and_then(|mut s| s.execute([id]))
                    .at(&self.path)?;
                self.conn
                    .prepare_cached(
                        "UPDATE posts SET path=?1, path_lossy=?2, size=?3, mtime_ns=?4, hash=?5, docid=?6, title=?7,
                         date_ms=?8, date_raw=?9, date_from_name=?10, author=?11, source=?12, site=?13, layout=?14,
                         tags=?15, categories=?16, fields=?17, epoch_ms=?18, encoding=?19, front_matter=?20,
                         crlf=?21, body_offset=?22, text_chars=?23, epoch_raw=?24 WHERE id=?25",
                    )
                    .and_then(|mut s| {
                        let mut v: Vec<&dyn rusqlite::ToSql> = values.to_vec();
                        v.push(&id);
                        s.execute(v.as_slice())
                    })
                    .at(&self.path)?;
                id
            }
            None => {
                self.conn
                    .prepare_cached(
                        "INSERT INTO posts(path, path_lossy, size, mtime_ns, hash, docid, title, date_ms, date_raw,
                         date_from_name, author, source, site, layout, tags, categories, fields, epoch_ms, encoding,
                         front_matter, crlf, body_offset, text_chars, epoch_raw)
                         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19,?20,?21,?22,?23,?24)",
                    )
                    .and_then(|mut s| s.execute(values))
                    .at(&self.path)?;
                self.conn.last_insert_rowid()
            }
        };
        self.texts
            .push(&self.conn, docid, rec.text)
            .at(&self.path)?;
        self.insert_fields(id, p)?;
        self.indexer.add(docid, rec.grams);
        if self.indexer.postings >= flush_at() {
            if self.one_tx {
                self.flush_segment()?;
            } else {
                self.commit()?;
            }
        }
        Ok(id)
    }

    /// The rows of `post_fields` for `KEY:VALUE` queries: one per value (an item of a list is a
    /// value), its key lower-cased (keys in queries are ASCII and matched without case), folded.
    fn insert_fields(&mut self, id: i64, p: &Post) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO post_fields(post_id, key, folded) VALUES (?1, ?2, ?3)")
            .at(&self.path)?;
        for (key, value) in &p.fields {
            let key = key.to_ascii_lowercase();
            if super::OWN_FIELD_KEYS.contains(&key.as_str()) {
                continue;
            }
            let mut put = |v: &serde_json::Value| -> rusqlite::Result<()> {
                let folded = match v {
                    serde_json::Value::String(s) => crate::fold::fold(s.trim()),
                    serde_json::Value::Null => return Ok(()),
                    other => crate::fold::fold(other.to_string().trim()),
                };
                stmt.execute(params![id, key, folded]).map(|_| ())
            };
            match value {
                serde_json::Value::Array(items) => {
                    for item in items {
                        put(item).at(&self.path)?;
                    }
                }
                v => put(v).at(&self.path)?,
            }
        }
        Ok(())
    }

    /// A post whose front matter changed but whose title and body text did not (an edit): update
    /// its row and fields, keep its document and postings. Returns false, changing nothing, when
    /// the index does not hold the version with `old_hash` (then the caller stores it afresh).
    pub fn update_front_matter(&mut self, rec: &PostRecord, old_hash: &[u8; 32]) -> Result<bool> {
        self.begin()?;
        let p = &rec.post;
        let existing: Option<(i64, Vec<u8>, String, i64)> = self
            .conn
            .prepare_cached("SELECT id, hash, title, docid FROM posts WHERE path = ?1")
            .and_then(|mut s| {
                s.query_row([&rec.stat.path], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .optional()
            })
            .at(&self.path)?;
        let Some((id, hash, title, docid)) = existing else {
            return Ok(false);
        };
        if hash.as_slice() != old_hash || title != p.title {
            return Ok(false);
        }
        self.dirty.insert(super::columns::chunk_of(docid));
        let JsonColumns { tags, cats, fields } = JsonColumns::of(p);
        self.conn
            .prepare_cached(
                "UPDATE posts SET size=?1, mtime_ns=?2, hash=?3, date_ms=?4, date_raw=?5, date_from_name=?6,
                 author=?7, source=?8, site=?9, layout=?10, tags=?11, categories=?12, fields=?13, crlf=?14,
                 body_offset=?15 WHERE id=?16",
            )
            .and_then(|mut s| {
                s.execute(params![
                    rec.stat.size as i64,
                    rec.stat.mtime_ns,
                    &rec.hash[..],
                    p.date.as_ref().map(|d| d.utc_ms),
                    p.date.as_ref().map(|d| d.raw.as_str()),
                    p.date.as_ref().is_some_and(|d| d.from_file_name),
                    p.author,
                    p.source,
                    p.source.as_deref().and_then(site_of),
                    p.layout,
                    tags,
                    cats,
                    fields,
                    p.crlf,
                    p.body_offset as i64,
                    id
                ])
            })
            .at(&self.path)?;
        self.conn
            .prepare_cached("DELETE FROM post_fields WHERE post_id = ?1")
            .and_then(|mut s| s.execute([id]))
            .at(&self.path)?;
        self.insert_fields(id, p)?;
        Ok(true)
    }

    /// The stored text of a document no longer live leaves its row at the commit (or now, if it
    /// is still pending).
    fn forget_text(&mut self, docid: i64) {
        if let Ok(docid) = u32::try_from(docid) {
            if !self.texts.forget(docid) {
                self.dead_texts.push(docid);
            }
        }
    }

    /// The file is unchanged in content: record its new size/mtime.
    pub fn touch(&mut self, stat: &FileStat) -> Result<()> {
        self.begin()?;
        self.conn
            .prepare_cached("UPDATE posts SET size = ?2, mtime_ns = ?3 WHERE path = ?1")
            .and_then(|mut s| s.execute(params![stat.path, stat.size as i64, stat.mtime_ns]))
            .at(&self.path)?;
        Ok(())
    }

    /// A file moved: same content at a new path. The post keeps its id (collections rely on it).
    pub fn rename(&mut self, old_path: &[u8], new: &FileStat) -> Result<()> {
        self.begin()?;
        self.conn
            .prepare_cached("UPDATE posts SET path = ?2, path_lossy = ?3, size = ?4, mtime_ns = ?5 WHERE path = ?1")
            .and_then(|mut s| {
                s.execute(params![old_path, new.path, path_lossy(&new.path), new.size as i64, new.mtime_ns])
            })
            .at(&self.path)?;
        self.conn
            .prepare_cached("DELETE FROM problems WHERE path = ?1")
            .and_then(|mut s| s.execute([old_path]))
            .at(&self.path)?;
        Ok(())
    }

    /// The file is gone from the archive.
    pub fn remove(&mut self, path: &[u8]) -> Result<()> {
        self.begin()?;
        let docid: Option<i64> = self
            .conn
            .prepare_cached("SELECT docid FROM posts WHERE path = ?1")
            .and_then(|mut s| s.query_row([path], |r| r.get(0)).optional())
            .at(&self.path)?;
        if let Some(docid) = docid {
            self.dirty.insert(super::columns::chunk_of(docid));
            self.forget_text(docid);
        }
        self.conn
            .prepare_cached("DELETE FROM posts WHERE path = ?1")
            .and_then(|mut s| s.execute([path]))
            .at(&self.path)?;
        self.set_problems(path, &[])?;
        Ok(())
    }

    /// Replace the problems recorded for one path.
    /// Writes nothing when they are already recorded, so a scan that finds no change leaves the
    /// index (and its generation, which readers watch) untouched.
    pub fn set_problems(&mut self, path: &[u8], problems: &[Problem]) -> Result<()> {
        if problems.is_empty() && self.in_tx && self.no_problems {
            return Ok(());
        }
        type Row = (String, String, Option<u32>, Option<u32>);
        let existing: Vec<Row> = self
            .conn
            .prepare_cached(
                "SELECT kind, message, line, col FROM problems WHERE path = ?1 ORDER BY id",
            )
            .and_then(|mut s| {
                s.query_map([path], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                    .collect()
            })
            .at(&self.path)?;
        let wanted: Vec<Row> = problems
            .iter()
            .map(|p| {
                (
                    p.kind.as_str().to_string(),
                    p.message.clone(),
                    p.line,
                    p.column,
                )
            })
            .collect();
        if existing == wanted {
            return Ok(());
        }
        self.begin()?;
        // After `begin`, which reads the flag when it starts a transaction.
        self.no_problems = false;
        self.conn
            .prepare_cached("DELETE FROM problems WHERE path = ?1")
            .and_then(|mut s| s.execute([path]))
            .at(&self.path)?;
        let mut stmt = self
            .conn
            .prepare_cached("INSERT INTO problems(path, path_text, kind, message, line, col) VALUES (?1,?2,?3,?4,?5,?6)")
            .at(&self.path)?;
        for p in problems {
            stmt.execute(params![
                path,
                path_text(path),
                p.kind.as_str(),
                p.message,
                p.line,
                p.column
            ])
            .at(&self.path)?;
        }
        Ok(())
    }

    /// Forget problems of paths that are not posts and were not seen in this scan.
    pub fn drop_problems_except(&mut self, seen: &dyn Fn(&[u8]) -> bool) -> Result<()> {
        let paths: Vec<Vec<u8>> = self
            .conn
            .prepare("SELECT DISTINCT path FROM problems")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .at(&self.path)?;
        for p in paths {
            if !seen(&p) {
                self.set_problems(&p, &[])?;
            }
        }
        Ok(())
    }
}

impl Drop for Writer {
    fn drop(&mut self) {
        // An unfinished batch is abandoned, never half-written.
        if self.in_tx {
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

#[cfg(test)]
mod compact_tests {
    use super::*;
    use crate::index::segment::MergedGrams;
    use std::collections::{BTreeMap, HashMap};
    use std::sync::atomic::AtomicBool;

    const CHARS: &str = "两岸关系疫苗新冠美国中国台湾经济选举政府人民市场发展会议报道记者";

    /// A post whose text is drawn from `CHARS` by `seed` (so posts share grams), with a word.
    fn post(seed: u64, extra: &str) -> String {
        let chars: Vec<char> = CHARS.chars().collect();
        let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut body = String::new();
        for i in 0..200 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            body.push(chars[(x % chars.len() as u64) as usize]);
            if i % 37 == 0 {
                body.push_str(" word");
                body.push_str(&(x % 5).to_string());
                body.push(' ');
            }
        }
        format!(
            "---\ntitle: 帖子{seed}\ntags: [t{}]\n---\n{body}\n{extra}\n",
            seed % 3
        )
    }

    fn scan(dir: &Path) {
        crate::scan::scan(dir, &Default::default(), &|_| {}, &AtomicBool::new(false)).unwrap();
    }

    #[test]
    fn problems_recorded_in_a_transaction_are_cleared_in_it_and_in_the_next() {
        use crate::problem::{Problem, ProblemKind};
        let dir = tempfile::tempdir().unwrap();
        let mut w = Writer::open_bulk(&dir.path().join("index.sqlite")).unwrap();
        let rows = |w: &Writer| -> i64 {
            w.conn()
                .query_row("SELECT count(*) FROM problems", [], |r| r.get(0))
                .unwrap()
        };
        let bad = [Problem::new(ProblemKind::MalformedFrontMatter, "bad")];
        // Outside a transaction, with the table empty: recording one begins a transaction.
        w.set_problems(b"a.md", &bad).unwrap();
        assert_eq!(rows(&w), 1);
        w.set_problems(b"a.md", &[]).unwrap();
        assert_eq!(rows(&w), 0);
        w.set_problems(b"b.md", &bad).unwrap();
        w.commit().unwrap();
        // The next transaction begins with a row in the table.
        w.set_problems(b"c.md", &bad).unwrap();
        w.set_problems(b"b.md", &[]).unwrap();
        w.commit().unwrap();
        let paths: Vec<Vec<u8>> = w
            .conn()
            .prepare("SELECT path FROM problems")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        assert_eq!(paths, vec![b"c.md".to_vec()]);
    }

    #[test]
    fn a_bulk_build_that_merges_indexes_as_a_scan_into_an_existing_index() {
        // Flushes of a few posts: 300 posts make dozens of segments, and merges of eight, which
        // move lists as they are stored (`segment::concat_parts`).
        FLUSH_AT.with(|f| f.set(2_000));
        let (bulk, other) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for dir in [bulk.path(), other.path()] {
            for i in 0..300 {
                std::fs::write(dir.join(format!("p{i}.md")), post(i, "")).unwrap();
            }
        }
        // An index that exists (empty) is not built in bulk.
        let index = crate::store::index_path(other.path());
        std::fs::create_dir_all(index.parent().unwrap()).unwrap();
        drop(Writer::open(&index).unwrap());
        scan(bulk.path());
        scan(other.path());
        FLUSH_AT.with(|f| f.set(SEGMENT_POSTINGS));
        let (got, _) = postings_by_path(bulk.path());
        let (want, _) = postings_by_path(other.path());
        assert!(got.len() > 100);
        assert!(got == want, "the postings differ");
        for dir in [bulk.path(), other.path()] {
            let segments = count(dir, "SELECT count(*) FROM segments");
            assert!((2..=MAX_SEGMENTS as i64).contains(&segments), "{segments}");
            assert_eq!(count(dir, "SELECT sum(docs) FROM segments"), 300);
            // Merged: a segment holds more posts than a flush does.
            assert!(count(dir, "SELECT max(docs) FROM segments") >= 8 * 5);
        }
    }

    #[test]
    fn a_bulk_build_gives_back_the_pages_its_last_merges_freed() {
        let dir = tempfile::tempdir().unwrap();
        let (tmp, dest) = (dir.path().join("building"), dir.path().join("index.sqlite"));
        let w = Writer::open_bulk(&tmp).unwrap();
        // 8 MiB written, then freed (as a merge frees its input segments).
        w.conn()
            .execute_batch(
                "CREATE TABLE scratch(b BLOB);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 128)
                 INSERT INTO scratch SELECT zeroblob(65536) FROM n;
                 DROP TABLE scratch;",
            )
            .unwrap();
        let free = |c: &Connection| -> i64 {
            c.query_row("PRAGMA freelist_count", [], |r| r.get(0))
                .unwrap()
        };
        assert!(free(w.conn()) > 1000);
        w.finish_bulk(&dest).unwrap();
        let conn = crate::store::open_for_read(&dest).unwrap();
        assert_eq!(free(&conn), 0);
        assert!(std::fs::metadata(&dest).unwrap().len() < 4 << 20);
    }

    fn index_of(dir: &Path) -> PathBuf {
        crate::store::existing_index_path(dir).unwrap()
    }

    /// Every gram's postings, by path: gram → [(path, tf, positions)], and the docids the
    /// postings name.
    type ByPath = BTreeMap<i64, Vec<(Vec<u8>, u32, Vec<u32>)>>;

    fn postings_by_path(dir: &Path) -> (ByPath, Vec<u32>) {
        let conn = crate::store::open_for_read(&index_of(dir)).unwrap();
        let paths: HashMap<u32, Vec<u8>> = conn
            .prepare("SELECT docid, path FROM posts")
            .unwrap()
            .query_map([], |r| Ok((r.get::<_, i64>(0)? as u32, r.get(1)?)))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        let mut out = BTreeMap::new();
        let mut docids = Vec::new();
        let mut grams = MergedGrams::all(&conn).unwrap();
        while let Some((gram, list, positions)) = grams.next_gram(&conn).unwrap() {
            let mut by_path: Vec<(Vec<u8>, u32, Vec<u32>)> = Vec::new();
            for &(doc, tf, at) in list {
                docids.push(doc);
                if let Some(p) = paths.get(&doc) {
                    let at = at as usize;
                    let pos = if crate::index::grams::has_positions(gram as u64) {
                        positions[at..at + tf as usize].to_vec()
                    } else {
                        Vec::new()
                    };
                    by_path.push((p.clone(), tf, pos));
                }
            }
            by_path.sort();
            if !by_path.is_empty() {
                out.insert(gram, by_path);
            }
        }
        (out, docids)
    }

    /// The document ids of the index's posts.
    fn live_ids(dir: &Path) -> std::collections::HashSet<u32> {
        let conn = crate::store::open_for_read(&index_of(dir)).unwrap();
        let mut s = conn.prepare("SELECT docid FROM posts").unwrap();
        let v = s
            .query_map([], |r| r.get::<_, i64>(0))
            .unwrap()
            .map(|r| r.unwrap() as u32)
            .collect();
        v
    }

    fn count(dir: &Path, sql: &str) -> i64 {
        let conn = crate::store::open_for_read(&index_of(dir)).unwrap();
        conn.query_row(sql, [], |r| r.get(0)).unwrap()
    }

    /// An archive indexed in several scans, with posts edited (body and title) and removed
    /// between them: several segments, some postings of documents no longer live.
    fn edited_archive() -> tempfile::TempDir {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path();
        for i in 0..60 {
            std::fs::write(dir.join(format!("p{i}.md")), post(i, "")).unwrap();
        }
        scan(dir);
        for round in 0..4u64 {
            for i in (round..60).step_by(7) {
                let extra = format!("修改{round} 编辑 edited{round}");
                std::fs::write(dir.join(format!("p{i}.md")), post(i + 100 * round, &extra))
                    .unwrap();
            }
            std::fs::remove_file(dir.join(format!("p{}.md", 50 + round))).unwrap();
            std::fs::write(dir.join(format!("new{round}.md")), post(1000 + round, "新")).unwrap();
            scan(dir);
        }
        t
    }

    #[test]
    fn compaction_leaves_one_segment_with_only_live_postings_equal_to_a_fresh_index() {
        let t = edited_archive();
        let dir = t.path();
        assert!(count(dir, "SELECT count(*) FROM segments") > 1);
        let (_, before) = postings_by_path(dir);
        let live = live_ids(dir);
        assert!(
            before.iter().any(|d| !live.contains(d)),
            "the edits left dead postings to drop"
        );

        let mut w = Writer::open(&index_of(dir)).unwrap();
        let generation = super::super::generation(w.conn(), &index_of(dir)).unwrap();
        let done = w.compact(&|_, _| {}, &AtomicBool::new(false)).unwrap();
        w.reclaim_space().unwrap();
        drop(w);
        assert_eq!(done.postings_before, before.len() as u64);
        assert!(done.postings_after < done.postings_before);

        assert_eq!(count(dir, "SELECT count(*) FROM segments"), 1);
        let (compacted, docids) = postings_by_path(dir);
        assert_eq!(docids.len() as u64, done.postings_after);
        assert!(
            docids.iter().all(|d| live.contains(d)),
            "a dead posting survived"
        );
        let conn = crate::store::open_for_read(&index_of(dir)).unwrap();
        // The stored texts are those of the live posts, each once.
        let mut posts: Vec<u32> = conn
            .prepare("SELECT docid FROM posts ORDER BY docid")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(|r| r.unwrap())
            .collect();
        posts.sort_unstable();
        assert_eq!(super::super::texts::ids(&conn).unwrap(), posts);
        assert!(super::super::generation(&conn, &index_of(dir)).unwrap() > generation);

        // A fresh index of the same files holds the same postings, gram by gram.
        let fresh = tempfile::tempdir().unwrap();
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), fresh.path().join(e.file_name())).unwrap();
            }
        }
        scan(fresh.path());
        let (expected, _) = postings_by_path(fresh.path());
        assert_eq!(compacted.len(), expected.len());
        assert!(
            compacted == expected,
            "compacted postings differ from a fresh index"
        );
    }

    #[test]
    fn compaction_of_an_index_whose_document_ids_were_set_far_apart_by_hand_keeps_the_live_postings(
    ) {
        // An index is untrusted: one post's id set near 2^32 makes the live ids a list, not a
        // bitset of 512 MiB, and the merge still keeps every other post's postings.
        let t = edited_archive();
        let dir = t.path();
        let (_, before) = postings_by_path(dir);
        let far = i64::from(u32::MAX) - 5;
        let old: i64 = {
            let conn = rusqlite::Connection::open(index_of(dir)).unwrap();
            let (path, old): (Vec<u8>, i64) = conn
                .query_row(
                    "SELECT path, docid FROM posts ORDER BY docid LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .unwrap();
            conn.execute(
                "UPDATE posts SET docid = ?1 WHERE path = ?2",
                rusqlite::params![far, path],
            )
            .unwrap();
            old
        };
        let live = live_ids(dir);
        let mut w = Writer::open(&index_of(dir)).unwrap();
        let done = w.compact(&|_, _| {}, &AtomicBool::new(false)).unwrap();
        drop(w);
        assert_eq!(count(dir, "SELECT count(*) FROM segments"), 1);
        let (_, after) = postings_by_path(dir);
        let kept = before.iter().filter(|d| live.contains(d)).count();
        assert!(kept > 0 && before.contains(&(old as u32)));
        assert_eq!(
            after.len(),
            kept,
            "every live posting kept, the rest dropped"
        );
        assert_eq!(done.postings_after, kept as u64);
        assert!(after.iter().all(|d| live.contains(d) && *d as i64 != old));
    }

    #[test]
    fn a_cancelled_compaction_leaves_the_index_as_it_was() {
        let t = edited_archive();
        let dir = t.path();
        let segments = count(dir, "SELECT count(*) FROM segments");
        let (before, _) = postings_by_path(dir);
        let cancel = AtomicBool::new(false);
        let mut w = Writer::open(&index_of(dir)).unwrap();
        let stop = |_: u64, _: u64| cancel.store(true, std::sync::atomic::Ordering::Relaxed);
        assert!(matches!(
            w.compact(&stop, &cancel),
            Err(crate::Error::Cancelled)
        ));
        drop(w);
        assert_eq!(count(dir, "SELECT count(*) FROM segments"), segments);
        assert!(postings_by_path(dir).0 == before);
    }

    #[test]
    fn a_rebuild_keeps_counting_generations_and_document_ids() {
        let t = edited_archive();
        let dir = t.path();
        let (before, _) = postings_by_path(dir);
        let conn = crate::store::open_for_read(&index_of(dir)).unwrap();
        let generation = super::super::generation(&conn, &index_of(dir)).unwrap();
        let max_docid = count(dir, "SELECT max(docid) FROM posts");
        drop(conn);
        crate::scan::rebuild(dir, &Default::default(), &|_| {}, &AtomicBool::new(false)).unwrap();
        let conn = crate::store::open_for_read(&index_of(dir)).unwrap();
        assert_eq!(
            super::super::generation(&conn, &index_of(dir)).unwrap(),
            generation + 1
        );
        assert!(count(dir, "SELECT min(docid) FROM posts") > max_docid);
        assert_eq!(count(dir, "SELECT count(*) FROM segments"), 1);
        assert!(
            postings_by_path(dir).0 == before,
            "a rebuild changed what is found"
        );
    }
}
