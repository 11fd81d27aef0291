//! Duplicates: posts that are the same article.
//!
//! Three kinds, each a partition of (some of) the posts into groups of two or more:
//! - `exact`: the same text after normalisation (`minhash::normalised`: folded, whitespace and
//!   punctuation dropped), whatever the front matter;
//! - `url`: the same source URL (`from`) in canonical form (`url::canonical`);
//! - `near`: MinHash signatures (`minhash`) over folded character shingles, candidate pairs by
//!   LSH banding, each verified against `min_similarity` (Jaccard, or containment for a
//!   truncated copy), joined by union-find (`near`). A group's similarity is the lowest of the
//!   pairs that joined it. A near group whose posts are all exact duplicates is left to `exact`.
//!
//! Signatures are computed on the first `duplicates` call (in parallel), not while scanning, and
//! cached in the index by the file's content hash (`cache`), so later calls compute only the
//! posts that changed. The user's "not duplicates" decisions (`decisions`) drop the edges between
//! the posts they name.
//!
//! Which text: `dupe_texts`, the one place that chooses it.

pub mod cache;
pub mod decisions;
pub mod minhash;
pub mod near;
pub mod url;

use crate::error::{Error, Result, SqlContext};
use minhash::TextSig;
use rayon::prelude::*;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

/// The texts duplicates are judged on, from a post's `post_text.folded` (title, newline, the
/// article's own text, and after a second newline the rest of the page: see
/// `index::analysis::doc_grams`): `exact` compares the whole body (article and page, without the
/// title line: headlines differ by suffixes such as ` - BBC News 中文`), `near` only the article,
/// so that the same article in two sites' pages is found and different articles sharing a site's
/// navigation are not. The one place that chooses them; bump `cache::SIG_VERSION` with it.
pub fn dupe_texts(folded: &str) -> (&str, &str) {
    let body = match folded.split_once('\n') {
        Some((_, text)) => text,
        None => folded,
    };
    (body, crate::index::analysis::article_part(folded))
}

/// The signature of a post's stored folded text (see `dupe_texts`).
pub fn post_signature(folded: &str) -> minhash::TextSig {
    let (body, article) = dupe_texts(folded);
    let mut sig = minhash::signature(article);
    sig.text_hash = minhash::text_hash(body);
    sig
}

/// Default `min_similarity` of `near`.
pub const DEFAULT_MIN_SIMILARITY: f64 = 0.8;

/// A kind of duplicate.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ts_rs::TS,
)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum DuplicateKind {
    /// The same text after normalisation.
    Exact,
    /// The same source URL after canonicalisation.
    Url,
    /// The same article with different boilerplate, layout, script form, or a cut or edit.
    Near,
}

/// Which kinds a `duplicates` call looks for.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum DuplicateKindFilter {
    Exact,
    Url,
    Near,
    #[default]
    All,
}

impl DuplicateKindFilter {
    fn wants(self, kind: DuplicateKind) -> bool {
        match self {
            DuplicateKindFilter::All => true,
            DuplicateKindFilter::Exact => kind == DuplicateKind::Exact,
            DuplicateKindFilter::Url => kind == DuplicateKind::Url,
            DuplicateKindFilter::Near => kind == DuplicateKind::Near,
        }
    }
}

/// `duplicates`: groups of duplicate posts.
#[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct DuplicatesRequest {
    /// `all` when absent.
    #[serde(default)]
    #[ts(optional)]
    pub kind: Option<DuplicateKindFilter>,
    /// The similarity (0–1) from which two posts are `near` duplicates (0.8 when absent).
    #[serde(default)]
    #[ts(optional)]
    pub min_similarity: Option<f64>,
    /// Only posts this query matches (every post when absent or empty).
    #[serde(default)]
    #[ts(optional)]
    pub query: Option<String>,
    /// Groups to skip, in the order of the answer (0 when absent).
    #[serde(default)]
    #[ts(optional)]
    pub offset: Option<u64>,
    /// Groups to answer with at most (all when absent): the counts are always of every group.
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<u64>,
}

/// One post of a group.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct DuplicatePost {
    /// Relative to the archive (lossy when the name is not UTF-8; see `path_bytes_hex`).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub path_bytes_hex: Option<String>,
    pub title: String,
    /// RFC 3339, UTC.
    pub date: Option<String>,
    pub source: Option<String>,
    /// BLAKE3 of the file as indexed (hex): edits and decisions send it back.
    pub hash: String,
    /// Distinct 5-character shingles of the text compared: a measure of its length (0 for an
    /// empty body).
    pub shingles: u64,
}

/// A group of two or more posts that are duplicates of one kind.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct DuplicateGroup {
    pub kind: DuplicateKind,
    /// 1 for `exact` and `url`; for `near`, the lowest similarity of the pairs that joined it.
    pub similarity: f64,
    /// In path order.
    pub posts: Vec<DuplicatePost>,
    /// `url`: the canonical URL the posts share.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub key: Option<String>,
}

/// Groups per kind (0 for kinds not asked for).
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq, ts_rs::TS)]
#[ts(export)]
pub struct DuplicateCounts {
    pub exact: u64,
    pub url: u64,
    pub near: u64,
}

/// What a `duplicates` call found, but the groups themselves.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DuplicatesSummary {
    pub counts: DuplicateCounts,
    pub posts: u64,
    pub computed: u64,
    pub min_similarity: f64,
    pub decisions: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct DuplicatesResponse {
    /// By kind (exact, url, near), then larger groups first, then more similar first, then by
    /// the path of their first post; only those of the request's `offset` and `limit`.
    pub groups: Vec<DuplicateGroup>,
    /// Groups of each kind, all of them (not only those answered with).
    pub counts: DuplicateCounts,
    /// Posts compared (those the query matched).
    pub posts: u64,
    /// Signatures computed by this call (the rest came from the cache).
    pub computed: u64,
    /// The threshold `near` used.
    pub min_similarity: f64,
    /// "Not duplicates" decisions on file.
    pub decisions: u64,
}

/// How far a `duplicates` call is: signatures computed of those missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub done: u64,
    pub total: u64,
}

/// One post of the index as `find` holds it while grouping (about 60 bytes: at a million posts
/// the strings a report shows are not all in memory; `Details` reads them again for the posts
/// of the groups reported).
struct Row {
    hash: [u8; 32],
    docid: i64,
    /// A hash of the canonical source URL (`url::canonical`); the URLs themselves are compared
    /// again when a group is reported.
    url: Option<std::num::NonZeroU64>,
    /// Whether the post is among those compared (the query's, or all).
    member: bool,
}

/// For the rows that decisions name, which decisions.
type Decided = HashMap<usize, Vec<u32>>;

/// The posts of the index in path order, and for the posts that decisions name, which
/// decisions (by row).
fn read_rows(
    conn: &Connection,
    index: &Path,
    only: Option<&HashSet<Vec<u8>>>,
    apart: &decisions::Apart,
) -> Result<(Vec<Row>, Decided)> {
    let mut stmt = conn
        .prepare("SELECT path, path_text, source, hash, docid FROM posts ORDER BY path")
        .at(index)?;
    let mut rows = stmt.query([]).at(index)?;
    let mut out = Vec::new();
    let mut decided = HashMap::new();
    while let Some(r) = rows.next().at(index)? {
        let hash = r.get_ref(3).at(index)?.as_blob().unwrap_or_default();
        // The index is untrusted: a row whose hash is not a hash is left out.
        let Ok(hash) = <[u8; 32]>::try_from(hash) else {
            continue;
        };
        let path = r.get_ref(0).at(index)?.as_blob().unwrap_or_default();
        let member = only.is_none_or(|o| o.contains(path));
        if !apart.is_empty() {
            let path_text = r.get_ref(1).at(index)?.as_str().unwrap_or_default();
            let d = apart.decisions_of(&crate::files::to_hex(&hash), path_text);
            if !d.is_empty() {
                decided.insert(out.len(), d);
            }
        }
        let source = r.get_ref(2).at(index)?.as_str().ok();
        out.push(Row {
            hash,
            docid: r.get(4).at(index)?,
            url: source.and_then(url::canonical).map(|c| url_key(&c)),
            member,
        });
    }
    Ok((out, decided))
}

fn url_key(canonical: &str) -> std::num::NonZeroU64 {
    let h = blake3::hash(canonical.as_bytes());
    let b = h.as_bytes();
    let k = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
    std::num::NonZeroU64::new(k).unwrap_or(std::num::NonZeroU64::MIN)
}

/// What a report shows of a post, read by docid for the posts of the groups reported.
struct Details {
    path: Vec<u8>,
    path_text: String,
    title: String,
    date_ms: Option<i64>,
    source: Option<String>,
}

fn read_details(
    stmt: &mut rusqlite::Statement,
    index: &Path,
    docid: i64,
) -> Result<Option<Details>> {
    rusqlite::OptionalExtension::optional(stmt.query_row([docid], |r| {
        Ok(Details {
            path: r.get(0)?,
            path_text: r.get(1)?,
            title: r.get(2)?,
            date_ms: r.get(3)?,
            source: r.get(4)?,
        })
    }))
    .at(index)
}

fn rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

/// Every signature `find` compares, stored flat by slot (one per distinct file hash):
/// `cache::WIDTH` values per slot, the bins and then the head's, so that a million posts cost
/// two allocations, not two each.
struct Sigs {
    text_hash: Vec<[u8; 16]>,
    shingles: Vec<u32>,
    /// Whether the slot has bins (a long enough text).
    full: Vec<bool>,
    values: Vec<u32>,
}

impl Sigs {
    fn new(n: usize) -> Sigs {
        Sigs {
            text_hash: vec![[0; 16]; n],
            shingles: vec![0; n],
            full: vec![false; n],
            values: vec![0; n * cache::WIDTH],
        }
    }

    fn set(&mut self, slot: usize, text_hash: [u8; 16], shingles: u32, values: &[u32]) {
        self.text_hash[slot] = text_hash;
        self.shingles[slot] = shingles;
        let full = values.len() == cache::WIDTH;
        self.full[slot] = full;
        if full {
            self.values[slot * cache::WIDTH..(slot + 1) * cache::WIDTH].copy_from_slice(values);
        }
    }

    fn set_sig(&mut self, slot: usize, sig: &TextSig) {
        let mut values = [0u32; cache::WIDTH];
        let n = if sig.mins.len() == minhash::BINS && sig.head.len() == minhash::HEAD_BINS {
            values[..minhash::BINS].copy_from_slice(&sig.mins);
            values[minhash::BINS..].copy_from_slice(&sig.head);
            cache::WIDTH
        } else {
            0
        };
        self.set(slot, sig.text_hash, sig.shingles, &values[..n]);
    }

    fn stored(&self, slot: usize) -> cache::Stored<'_> {
        cache::Stored {
            text_hash: self.text_hash[slot],
            shingles: self.shingles[slot],
            values: if self.full[slot] {
                &self.values[slot * cache::WIDTH..(slot + 1) * cache::WIDTH]
            } else {
                &[]
            },
        }
    }

    fn item(&self, slot: usize) -> near::Item<'_> {
        let v = self.stored(slot).values;
        let (mins, head) = v.split_at(v.len().min(minhash::BINS));
        near::Item {
            mins,
            head,
            shingles: self.shingles[slot],
        }
    }
}

/// Posts per batch of signatures computed in parallel.
const BATCH: usize = 1024;

/// The signature of every distinct hash among `rows`, from the cache or computed now:
/// (signatures, the slot of each row, how many were computed).
fn signatures(
    conn: &mut Connection,
    writable: bool,
    index: &Path,
    rows: &[Row],
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<(Sigs, Vec<u32>, u64)> {
    // One slot per distinct hash, numbered in hash order: rows sorted by hash, runs of equal
    // hashes share a slot, and a cached row finds its slot by binary search (no map of a
    // million hashes).
    let mut by_hash: Vec<u32> = (0..rows.len() as u32).collect();
    by_hash.par_sort_unstable_by(|&a, &b| rows[a as usize].hash.cmp(&rows[b as usize].hash));
    let mut of_row = vec![0u32; rows.len()];
    // The first row of each slot.
    let mut first: Vec<u32> = Vec::new();
    for run in by_hash.chunk_by(|&a, &b| rows[a as usize].hash == rows[b as usize].hash) {
        for &i in run {
            of_row[i as usize] = first.len() as u32;
        }
        first.push(run[0]);
    }
    drop(by_hash);
    let slot_of = |hash: &[u8; 32]| {
        first
            .binary_search_by(|&r| rows[r as usize].hash.cmp(hash))
            .ok()
    };
    let mut sigs = Sigs::new(first.len());
    let mut have = vec![false; first.len()];
    // Cached rows of no post of the index (gone, or edited since): dropped when storing.
    let mut stale_rows = false;
    cache::load(conn, index, |hash, stored| match slot_of(&hash) {
        Some(s) => {
            sigs.set(s, stored.text_hash, stored.shingles, stored.values);
            have[s] = true;
        }
        None => stale_rows = true,
    })?;
    // The slots to compute, with the docid whose stored text they are made from, in docid
    // order: the texts are stored many to a row in that order (`store::texts`).
    let mut missing: Vec<(u32, i64)> = (0..first.len())
        .filter(|&s| !have[s])
        .map(|s| (s as u32, rows[first[s] as usize].docid))
        .collect();
    missing.sort_unstable_by_key(|&(_, docid)| docid);
    let total = missing.len() as u64;
    if total > 0 {
        progress(Progress { done: 0, total });
        let mut reader = crate::store::texts::Reader::default();
        let dicts = crate::store::text::Dicts::default();
        let mut done = 0u64;
        for chunk in missing.chunks(BATCH) {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let mut texts = Vec::with_capacity(chunk.len());
            for &(s, docid) in chunk {
                let stored: Vec<u8> = u32::try_from(docid)
                    .ok()
                    .map(|d| reader.with_stored(conn, d, <[u8]>::to_vec))
                    .transpose()
                    .at(index)?
                    .flatten()
                    .unwrap_or_default();
                let dict = dicts.for_stored(conn, &stored).at(index)?;
                texts.push((s, stored, dict));
            }
            let computed: Vec<(u32, TextSig)> = texts
                .par_iter()
                .map(|(s, stored, dict)| {
                    let text = crate::store::text::unpack(stored, dict.as_deref());
                    (*s, post_signature(&text))
                })
                .collect();
            for (s, sig) in &computed {
                sigs.set_sig(*s as usize, sig);
            }
            done += chunk.len() as u64;
            progress(Progress { done, total });
        }
    }
    // The cache is only a saving: an index that cannot be written (a read-only archive) or a
    // busy writer just means computing again next time.
    if writable && (total > 0 || stale_rows) {
        let fresh = missing.iter().map(|&(s, _)| {
            (
                rows[first[s as usize] as usize].hash,
                sigs.stored(s as usize),
            )
        });
        let _ = cache::store(conn, index, fresh);
    }
    Ok((sigs, of_row, total))
}

/// Open the index to read and, if it can be, to cache signatures in.
fn open(index: &Path) -> Result<(Connection, bool)> {
    let (conn, writable) = match crate::store::open_for_write(index) {
        Ok(c) => (c, true),
        Err(_) => (crate::store::open_for_read(index)?, false),
    };
    // Every row is read once, in order: SQLite's page cache would only hold pages read before
    // (8 MB instead of the 64 MB that search's connections keep).
    conn.pragma_update(None, "cache_size", -8192).at(index)?;
    Ok((conn, writable))
}

/// A group found: its kind, similarity and rows.
type Found = (DuplicateKind, f64, Vec<usize>);

/// Find the duplicates among the posts of the index at `index` (only those whose path is in
/// `only`, when given): the request's page of groups, and the counts of all.
pub fn find(
    root: &Path,
    index: &Path,
    req: &DuplicatesRequest,
    only: Option<&HashSet<Vec<u8>>>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<DuplicatesResponse> {
    let mut groups = Vec::new();
    let s = find_each(
        root,
        index,
        req,
        only,
        progress,
        cancel,
        &mut |_| Ok(()),
        &mut |g| {
            groups.push(g);
            Ok(())
        },
    )?;
    Ok(DuplicatesResponse {
        groups,
        counts: s.counts,
        posts: s.posts,
        computed: s.computed,
        min_similarity: s.min_similarity,
        decisions: s.decisions,
    })
}

/// `find`, handing the summary to `head` as soon as the groups are known (before any is read
/// out) and then each group of the request's page to `emit`, one at a time: what a group shows
/// of its posts is read only then, so a caller that writes groups out as they come (the CLI)
/// never holds them all. At a million posts that are all duplicates, that is a gigabyte.
#[allow(clippy::too_many_arguments)]
pub fn find_each(
    root: &Path,
    index: &Path,
    req: &DuplicatesRequest,
    only: Option<&HashSet<Vec<u8>>>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
    head: &mut dyn FnMut(&DuplicatesSummary) -> Result<()>,
    emit: &mut dyn FnMut(DuplicateGroup) -> Result<()>,
) -> Result<DuplicatesSummary> {
    let filter = req.kind.unwrap_or_default();
    let min_similarity = req
        .min_similarity
        .filter(|s| s.is_finite())
        .unwrap_or(DEFAULT_MIN_SIMILARITY)
        .clamp(0.0, 1.0);
    let file = decisions::load(root).map_err(|e| Error::Io {
        path: e.path,
        source: e.source,
    })?;
    let apart = decisions::Apart::new(&file);
    let (mut conn, writable) = open(index)?;
    let (rows, decided) = read_rows(&conn, index, only, &apart)?;
    drop(apart);
    let (mut sigs, of_row, computed) =
        signatures(&mut conn, writable, index, &rows, progress, cancel)?;
    let members: Vec<usize> = (0..rows.len()).filter(|&i| rows[i].member).collect();
    let is_apart = |a: usize, b: usize| match (decided.get(&a), decided.get(&b)) {
        (Some(x), Some(y)) => x.iter().any(|d| y.contains(d)),
        _ => false,
    };
    let slot = |i: usize| of_row[i] as usize;

    let mut found: Vec<Found> = Vec::new();
    if filter.wants(DuplicateKind::Exact) {
        let mut by_text: HashMap<[u8; 16], Vec<usize>> = HashMap::new();
        for &i in &members {
            let h = sigs.text_hash[slot(i)];
            if h != [0; 16] {
                by_text.entry(h).or_default().push(i);
            }
        }
        for group in by_text.into_values().filter(|g| g.len() >= 2) {
            for g in split_apart(&group, &decided, &is_apart) {
                found.push((DuplicateKind::Exact, 1.0, g));
            }
        }
    }
    if filter.wants(DuplicateKind::Url) {
        let mut by_url: HashMap<std::num::NonZeroU64, Vec<usize>> = HashMap::new();
        for &i in &members {
            if let Some(k) = rows[i].url {
                by_url.entry(k).or_default().push(i);
            }
        }
        for group in by_url.into_values().filter(|g| g.len() >= 2) {
            for g in split_apart(&group, &decided, &is_apart) {
                found.push((DuplicateKind::Url, 1.0, g));
            }
        }
    }
    if filter.wants(DuplicateKind::Near) {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let items: Vec<near::Item> = (0..rows.len()).map(|i| sigs.item(slot(i))).collect();
        let common = near::Commonness::count(&items);
        let mut groups = near::Groups::new(rows.len());
        // Candidates a few bands at a time, then the rare ones, each batch verified before the
        // next is gathered; pairs whose posts are already in one group need no verifying (in
        // clusters of many copies that is most of them); the rest are verified in parallel.
        let mut verify = |pairs: &[u64]| -> Result<()> {
            for chunk in pairs.chunks(1 << 14) {
                let open: Vec<(u32, u32)> = chunk
                    .iter()
                    .map(|&p| near::unpair(p))
                    .filter(|&(a, b)| groups.find(a as usize) != groups.find(b as usize))
                    .collect();
                let edges: Vec<(u32, u32, f64)> = open
                    .par_iter()
                    .filter_map(|&(a, b)| {
                        let (j, c) = near::similarity(&items, &common, a as usize, b as usize);
                        // The pair's similarity: Jaccard, or containment for a cut copy.
                        let s = j.max(c);
                        (s >= min_similarity).then_some((a, b, s))
                    })
                    .collect();
                for (a, b, s) in edges {
                    let (a, b) = (a as usize, b as usize);
                    if groups.find(a) != groups.find(b) && !is_apart(a, b) {
                        groups.join(a, b, s);
                    }
                }
                if cancel.load(Ordering::Relaxed) {
                    return Err(Error::Cancelled);
                }
            }
            Ok(())
        };
        for bands in near::band_batches() {
            verify(&near::candidates_in(&items, &members, bands))?;
        }
        let rare: Vec<u64> = near::rare_candidates(&items, &common, &members)
            .into_iter()
            .map(|(a, b)| near::pair(a, b))
            .collect();
        verify(&rare)?;
        drop(rare);
        drop(common);
        let mut by_root: HashMap<usize, Vec<usize>> = HashMap::new();
        for &i in &members {
            let r = groups.find(i);
            by_root.entry(r).or_default().push(i);
        }
        for (r, g) in by_root {
            if g.len() < 2 {
                continue;
            }
            // All copies of one text: that is an exact group, not news for `near`.
            let first = sigs.text_hash[slot(g[0])];
            if first != [0; 16] && g.iter().all(|&i| sigs.text_hash[slot(i)] == first) {
                continue;
            }
            let low = groups.low(r);
            found.push((DuplicateKind::Near, low, g));
        }
    }

    // What grouping needed is no longer (the signatures' bins above all): only their lengths
    // are shown.
    let shingles = std::mem::take(&mut sigs.shingles);
    drop(sigs);
    // The order of the answer, known without reading anything of the posts: rows are in path
    // order, so a group's first row is its first path.
    for (.., g) in found.iter_mut() {
        g.sort_unstable();
    }
    let rounded = |s: f64| (s * 1000.0).round() / 1000.0;
    found.sort_by(|a, b| {
        a.0.cmp(&b.0)
            .then(b.2.len().cmp(&a.2.len()))
            .then(rounded(b.1).total_cmp(&rounded(a.1)))
            .then(a.2[0].cmp(&b.2[0]))
    });
    let mut counts = DuplicateCounts::default();
    for (kind, ..) in &found {
        match kind {
            DuplicateKind::Exact => counts.exact += 1,
            DuplicateKind::Url => counts.url += 1,
            DuplicateKind::Near => counts.near += 1,
        }
    }
    let summary = DuplicatesSummary {
        counts,
        posts: members.len() as u64,
        computed,
        min_similarity,
        decisions: file.not_duplicates.len() as u64,
    };
    head(&summary)?;

    // The page: what each post of a group shows, read by docid.
    let mut stmt = conn
        .prepare("SELECT path, path_text, title, date_ms, source FROM posts WHERE docid = ?1")
        .at(index)?;
    let offset = usize::try_from(req.offset.unwrap_or(0)).unwrap_or(usize::MAX);
    let limit = req
        .limit
        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX));
    for (kind, similarity, g) in found.into_iter().skip(offset).take(limit) {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let mut posts = Vec::with_capacity(g.len());
        for i in g {
            // A post gone since the rows were read (a rescan in between) is left out.
            let Some(d) = read_details(&mut stmt, index, rows[i].docid)? else {
                continue;
            };
            let canonical = match kind {
                DuplicateKind::Url => d.source.as_deref().and_then(url::canonical),
                _ => None,
            };
            posts.push((
                canonical,
                DuplicatePost {
                    path: d.path_text,
                    path_bytes_hex: std::str::from_utf8(&d.path)
                        .is_err()
                        .then(|| crate::files::to_hex(&d.path)),
                    title: d.title,
                    date: d.date_ms.and_then(rfc3339),
                    source: d.source,
                    hash: crate::files::to_hex(&rows[i].hash),
                    shingles: u64::from(shingles[slot(i)]),
                },
            ));
        }
        // `url` groups share a hash of the canonical URL: the URLs themselves decide (two URLs
        // whose hashes collide, never seen, would be two groups).
        let mut parts: Vec<(Option<String>, Vec<DuplicatePost>)> = Vec::new();
        for (key, post) in posts {
            match parts.iter_mut().find(|(k, _)| *k == key) {
                Some((_, ps)) => ps.push(post),
                None => parts.push((key, vec![post])),
            }
        }
        for (key, posts) in parts {
            if posts.len() >= 2 {
                emit(DuplicateGroup {
                    kind,
                    similarity: rounded(similarity),
                    posts,
                    key,
                })?;
            }
        }
    }
    Ok(summary)
}

/// A group of posts that share a key, split where decisions keep posts apart: the connected
/// parts of "every pair, but those declared apart", of two or more posts each. A post no
/// decision names joins everything, so the quadratic case is bounded by the decided posts.
fn split_apart(
    group: &[usize],
    decided: &Decided,
    is_apart: &impl Fn(usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    if group.len() < 2 {
        return Vec::new();
    }
    // A post that no decision names is joined to every other: one group.
    if group
        .iter()
        .any(|&i| decided.get(&i).is_none_or(|d| d.is_empty()))
    {
        return vec![group.to_vec()];
    }
    let mut g = near::Groups::new(group.len());
    for x in 0..group.len() {
        for y in x + 1..group.len() {
            if !is_apart(group[x], group[y]) {
                g.join(x, y, 1.0);
            }
        }
    }
    let mut parts: HashMap<usize, Vec<usize>> = HashMap::new();
    for (x, &i) in group.iter().enumerate() {
        parts.entry(g.find(x)).or_default().push(i);
    }
    parts.into_values().filter(|p| p.len() >= 2).collect()
}

/// Record that `posts` (path, hash hex) are not duplicates of each other.
pub fn record_not_duplicates(
    root: &Path,
    posts: Vec<decisions::DecisionPost>,
) -> Result<decisions::Decision> {
    let io = |e: decisions::BadFile| Error::Io {
        path: e.path,
        source: e.source,
    };
    let mut file = decisions::load(root).map_err(io)?;
    let decision = decisions::Decision {
        posts,
        at: Some(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    };
    file.not_duplicates.push(decision.clone());
    decisions::save(root, &file).map_err(|e| Error::Write {
        path: e.path,
        source: e.source,
    })?;
    Ok(decision)
}

/// Forget every decision that names all of `posts` (by hash or path); how many were forgotten.
pub fn forget_decisions(root: &Path, posts: &[decisions::DecisionPost]) -> Result<u64> {
    let mut file = decisions::load(root).map_err(|e| Error::Io {
        path: e.path,
        source: e.source,
    })?;
    let before = file.not_duplicates.len();
    file.not_duplicates.retain(|d| {
        !posts.iter().all(|p| {
            d.posts
                .iter()
                .any(|q| q.path == p.path || q.hash.eq_ignore_ascii_case(&p.hash))
        })
    });
    let gone = (before - file.not_duplicates.len()) as u64;
    if gone > 0 {
        decisions::save(root, &file).map_err(|e| Error::Write {
            path: e.path,
            source: e.source,
        })?;
    }
    Ok(gone)
}

/// Every decision on file.
pub fn list_decisions(root: &Path) -> Result<Vec<decisions::Decision>> {
    decisions::load(root)
        .map(|f| f.not_duplicates)
        .map_err(|e| Error::Io {
            path: e.path,
            source: e.source,
        })
}
