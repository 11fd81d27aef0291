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

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct DuplicatesResponse {
    /// By kind (exact, url, near), then larger groups first, then more similar first.
    pub groups: Vec<DuplicateGroup>,
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

/// One post of the index, as `find` reads it.
struct Row {
    path: Vec<u8>,
    path_text: String,
    title: String,
    date_ms: Option<i64>,
    source: Option<String>,
    hash: [u8; 32],
    docid: i64,
}

fn rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

fn read_rows(conn: &Connection, index: &Path) -> Result<Vec<Row>> {
    let mut stmt = conn
        .prepare(
            "SELECT path, path_text, title, date_ms, source, hash, docid FROM posts ORDER BY path",
        )
        .at(index)?;
    let mut rows = stmt.query([]).at(index)?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().at(index)? {
        let hash: Vec<u8> = r.get(5).at(index)?;
        // The index is untrusted: a row whose hash is not a hash is left out.
        let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) else {
            continue;
        };
        out.push(Row {
            path: r.get(0).at(index)?,
            path_text: r.get(1).at(index)?,
            title: r.get(2).at(index)?,
            date_ms: r.get(3).at(index)?,
            source: r.get(4).at(index)?,
            hash,
            docid: r.get(6).at(index)?,
        });
    }
    Ok(out)
}

/// Posts per batch of signatures computed in parallel.
const BATCH: usize = 1024;

/// The signature of every distinct hash among `rows`, from the cache or computed now:
/// (signatures, the signature of each row, how many were computed).
fn signatures(
    conn: &mut Connection,
    writable: bool,
    index: &Path,
    rows: &[Row],
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<(Vec<TextSig>, Vec<u32>, u64)> {
    let mut cached = cache::load(conn, index)?;
    let mut sigs: Vec<TextSig> = Vec::new();
    let mut slot: HashMap<[u8; 32], u32> = HashMap::new();
    let mut missing: Vec<([u8; 32], i64)> = Vec::new();
    let of_row: Vec<u32> = rows
        .iter()
        .map(|r| {
            *slot.entry(r.hash).or_insert_with(|| {
                let i = sigs.len() as u32;
                match cached.remove(&r.hash) {
                    Some(sig) => sigs.push(sig),
                    None => {
                        missing.push((r.hash, r.docid));
                        sigs.push(TextSig {
                            text_hash: [0; 16],
                            shingles: 0,
                            mins: Vec::new(),
                            head: Vec::new(),
                        });
                    }
                }
                i
            })
        })
        .collect();
    let total = missing.len() as u64;
    let mut fresh: Vec<([u8; 32], TextSig)> = Vec::with_capacity(missing.len());
    if total > 0 {
        progress(Progress { done: 0, total });
        let mut stmt = conn
            .prepare("SELECT folded FROM post_text WHERE docid = ?1")
            .at(index)?;
        for chunk in missing.chunks(BATCH) {
            if cancel.load(Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let mut texts = Vec::with_capacity(chunk.len());
            for (hash, docid) in chunk {
                let folded: Option<String> =
                    rusqlite::OptionalExtension::optional(stmt.query_row([docid], |r| r.get(0)))
                        .at(index)?;
                texts.push((*hash, folded.unwrap_or_default()));
            }
            let done: Vec<([u8; 32], TextSig)> = texts
                .par_iter()
                .map(|(hash, folded)| (*hash, post_signature(folded)))
                .collect();
            fresh.extend(done);
            progress(Progress {
                done: fresh.len() as u64,
                total,
            });
        }
    }
    for (hash, sig) in &fresh {
        if let Some(&i) = slot.get(hash) {
            sigs[i as usize] = sig.clone();
        }
    }
    // The cache is only a saving: an index that cannot be written (a read-only archive) or a
    // busy writer just means computing again next time.
    if writable && (total > 0 || !cached.is_empty()) {
        let _ = cache::store(conn, index, &fresh);
    }
    Ok((sigs, of_row, total))
}

/// Open the index to read and, if it can be, to cache signatures in.
fn open(index: &Path) -> Result<(Connection, bool)> {
    match crate::store::open_for_write(index) {
        Ok(c) => Ok((c, true)),
        Err(_) => crate::store::open_for_read(index).map(|c| (c, false)),
    }
}

/// Find the duplicates among the posts of the index at `index` (only those whose path is in
/// `only`, when given).
pub fn find(
    root: &Path,
    index: &Path,
    req: &DuplicatesRequest,
    only: Option<&HashSet<Vec<u8>>>,
    progress: &(dyn Fn(Progress) + Sync),
    cancel: &AtomicBool,
) -> Result<DuplicatesResponse> {
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
    let rows = read_rows(&conn, index)?;
    let (sigs, of_row, computed) = signatures(&mut conn, writable, index, &rows, progress, cancel)?;
    drop(conn);
    let members: Vec<usize> = (0..rows.len())
        .filter(|&i| only.is_none_or(|o| o.contains(&rows[i].path)))
        .collect();
    let hex: Vec<String> = rows.iter().map(|r| crate::files::to_hex(&r.hash)).collect();
    // Decisions naming each post (empty when there are none).
    let decided: Vec<Vec<u32>> = if apart.is_empty() {
        Vec::new()
    } else {
        rows.iter()
            .enumerate()
            .map(|(i, r)| apart.decisions_of(&hex[i], &r.path_text))
            .collect()
    };
    let is_apart = |a: usize, b: usize| match (decided.get(a), decided.get(b)) {
        (Some(x), Some(y)) => x.iter().any(|d| y.contains(d)),
        _ => false,
    };
    let sig = |i: usize| &sigs[of_row[i] as usize];

    let mut found: Vec<(DuplicateKind, f64, Vec<usize>, Option<String>)> = Vec::new();
    if filter.wants(DuplicateKind::Exact) {
        let mut by_text: HashMap<[u8; 16], Vec<usize>> = HashMap::new();
        for &i in &members {
            let h = sig(i).text_hash;
            if h != [0; 16] {
                by_text.entry(h).or_default().push(i);
            }
        }
        for group in by_text.into_values() {
            for g in split_apart(&group, &decided, &is_apart) {
                found.push((DuplicateKind::Exact, 1.0, g, None));
            }
        }
    }
    if filter.wants(DuplicateKind::Url) {
        let mut by_url: HashMap<String, Vec<usize>> = HashMap::new();
        for &i in &members {
            if let Some(c) = rows[i].source.as_deref().and_then(url::canonical) {
                by_url.entry(c).or_default().push(i);
            }
        }
        for (key, group) in by_url {
            for g in split_apart(&group, &decided, &is_apart) {
                found.push((DuplicateKind::Url, 1.0, g, Some(key.clone())));
            }
        }
    }
    if filter.wants(DuplicateKind::Near) {
        if cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let items: Vec<near::Item> = (0..rows.len())
            .map(|i| near::Item {
                mins: &sig(i).mins,
                head: &sig(i).head,
                shingles: sig(i).shingles,
            })
            .collect();
        let common = near::Commonness::count(&items);
        let mut pairs = near::candidates(&items, &members);
        pairs.extend(near::rare_candidates(&items, &common, &members));
        pairs.sort_unstable();
        pairs.dedup();
        // Pairs in chunks: those whose posts are already in one group need no verifying (in
        // clusters of many copies that is most of them); the rest are verified in parallel.
        let mut groups = near::Groups::new(rows.len());
        for chunk in pairs.chunks(1 << 14) {
            let open: Vec<(u32, u32)> = chunk
                .iter()
                .copied()
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
            let first = sig(g[0]).text_hash;
            if first != [0; 16] && g.iter().all(|&i| sig(i).text_hash == first) {
                continue;
            }
            let low = groups.low(r);
            found.push((DuplicateKind::Near, low, g, None));
        }
    }

    let mut counts = DuplicateCounts::default();
    for (kind, ..) in &found {
        match kind {
            DuplicateKind::Exact => counts.exact += 1,
            DuplicateKind::Url => counts.url += 1,
            DuplicateKind::Near => counts.near += 1,
        }
    }
    let mut groups: Vec<DuplicateGroup> = found
        .into_iter()
        .map(|(kind, similarity, mut g, key)| {
            g.sort_unstable();
            DuplicateGroup {
                kind,
                similarity: (similarity * 1000.0).round() / 1000.0,
                posts: g
                    .into_iter()
                    .map(|i| {
                        let r = &rows[i];
                        DuplicatePost {
                            path: r.path_text.clone(),
                            path_bytes_hex: std::str::from_utf8(&r.path)
                                .is_err()
                                .then(|| crate::files::to_hex(&r.path)),
                            title: r.title.clone(),
                            date: r.date_ms.and_then(rfc3339),
                            source: r.source.clone(),
                            hash: hex[i].clone(),
                            shingles: u64::from(sig(i).shingles),
                        }
                    })
                    .collect(),
                key,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        a.kind
            .cmp(&b.kind)
            .then(b.posts.len().cmp(&a.posts.len()))
            .then(b.similarity.total_cmp(&a.similarity))
            .then_with(|| a.posts[0].path.cmp(&b.posts[0].path))
    });
    Ok(DuplicatesResponse {
        groups,
        counts,
        posts: members.len() as u64,
        computed,
        min_similarity,
        decisions: file.not_duplicates.len() as u64,
    })
}

/// A group of posts that share a key, split where decisions keep posts apart: the connected
/// parts of "every pair, but those declared apart", of two or more posts each. A post no
/// decision names joins everything, so the quadratic case is bounded by the decided posts.
fn split_apart(
    group: &[usize],
    decided: &[Vec<u32>],
    is_apart: &impl Fn(usize, usize) -> bool,
) -> Vec<Vec<usize>> {
    if group.len() < 2 {
        return Vec::new();
    }
    // A post that no decision names is joined to every other: one group.
    if group
        .iter()
        .any(|&i| decided.get(i).is_none_or(|d| d.is_empty()))
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
