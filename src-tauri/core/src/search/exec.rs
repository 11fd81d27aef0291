//! Running a query: each clause becomes a set of documents (posting lists intersected and
//! verified for text, the snapshot for fields), clauses are combined, then scored (BM25F, title
//! above body), sorted, paged, and given snippets. Facets count over the whole result set.

use super::bitset::BitSet;
use super::matcher::Needle;
use super::query::{Atom, Clause, Field, FieldValue, HasWhat, Query, Sort};
use super::snapshot::{Snapshot, TitlesOf};
use crate::error::{Error, Result, SqlContext};
use crate::index::analysis::{article_end, fold_for_match};
use crate::index::grams::{page_only, plan_atom, plan_tokens, GramId};
use crate::index::segment::{read_encoded_lists, read_postings, EncodedList};
use rusqlite::{Connection, OptionalExtension};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

const K1: f32 = 1.2;
const B: f32 = 0.75;
const TITLE_WEIGHT: f32 = 4.0;
const BODY_WEIGHT: f32 = 1.0;

/// The documents a query matched, with scores, before sorting and paging.
pub struct Matched {
    pub set: BitSet,
    pub scores: Vec<f32>,
    /// Folded text needles of the positive text atoms (for highlights).
    pub needles: Vec<Vec<char>>,
}

/// What a `collection:NAME` term stands for. The searcher never reads collection files: the
/// caller (the api, through `collection_terms`) resolves every name a query reaches before the
/// query is evaluated.
#[derive(Debug, Clone, PartialEq)]
pub enum CollectionTerm {
    /// A manual collection's posts, by path.
    Posts(Vec<Vec<u8>>),
    /// A smart collection's saved query (the collections it names are in the same map).
    Query(Query),
}

/// The collections a query reaches, by name as written in the query (trimmed).
pub type CollectionTerms = HashMap<String, CollectionTerm>;

/// Evaluate a parsed query over the snapshot; `collection:` terms stand for what `terms` says.
/// When `cancel` is set (the search was superseded), evaluation stops between atoms and
/// between verified candidates with `Error::Cancelled`.
pub fn evaluate(
    conn: &Connection,
    path: &Path,
    terms: &CollectionTerms,
    snap: &Snapshot,
    query: &Query,
    cancel: &AtomicBool,
) -> Result<Matched> {
    let ctx = Ctx {
        conn,
        path,
        terms,
        snap,
        cancel,
        collections: RefCell::new(HashMap::new()),
    };
    evaluate_at(&ctx, query, 0)
}

/// Smart collections may name other collections, this deep at most.
const MAX_COLLECTION_DEPTH: usize = 4;
/// The most posting lists read for one text atom. A long term has hundreds of grams; a few of
/// them narrow the candidates as well as all of them, and verification decides anyway.
const MAX_LOOKUP_GRAMS: usize = 16;

/// What one evaluation shares: the index, and the collections already evaluated.
struct Ctx<'a> {
    conn: &'a Connection,
    path: &'a Path,
    terms: &'a CollectionTerms,
    snap: &'a Snapshot,
    cancel: &'a AtomicBool,
    collections: RefCell<HashMap<String, BitSet>>,
}

/// Loops over candidates look at the cancel flag once per this many of them.
const CHECK_EVERY: usize = 1024;

impl Ctx<'_> {
    fn check(&self) -> Result<()> {
        if self.cancel.load(Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        Ok(())
    }

    /// `check` at the `k`th step of a loop, once every `CHECK_EVERY` steps.
    fn check_every(&self, k: usize) -> Result<()> {
        if k.is_multiple_of(CHECK_EVERY) {
            self.check()?;
        }
        Ok(())
    }
}

/// The folded needles a query highlights (its positive words and phrases, with their
/// dictionary variants: `search::variants`), without running it.
pub fn needles(query: &Query) -> Vec<Vec<char>> {
    let query = super::variants::expand(query);
    let mut out = Vec::new();
    for Clause::Term {
        negated,
        alternatives,
    } in &query.clauses
    {
        if *negated {
            continue;
        }
        for atom in alternatives {
            if let Some(t) = searched_text(atom) {
                let f = fold_for_match(t);
                if !f.is_empty() {
                    out.push(f);
                }
            }
        }
    }
    out
}

/// The text an atom searches for (free text, or `page:` text), if it is one.
fn searched_text(atom: &Atom) -> Option<&str> {
    match atom {
        Atom::Text(t)
        | Atom::Phrase(t)
        | Atom::Field {
            field: Field::Page,
            value: FieldValue::Text(t),
        } => Some(t),
        _ => None,
    }
}

/// Where free text is searched.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Scope {
    /// The title and the article's own text (the default).
    Article,
    /// The title and the whole page (`page:`).
    Page,
}

fn evaluate_at(ctx: &Ctx, query: &Query, depth: usize) -> Result<Matched> {
    // Words that folding cannot decide are searched in their dictionary variants too.
    let query = &super::variants::expand(query);
    let snap = ctx.snap;
    let n = snap.len();
    let mut set = BitSet::full(n);
    let mut scores = vec![0f32; n];
    let mut needles = Vec::new();
    for clause in &query.clauses {
        let Clause::Term {
            negated,
            alternatives,
        } = clause;
        let mut clause_set = BitSet::empty(n);
        for atom in alternatives {
            ctx.check()?;
            let (s, atom_scores) = match atom {
                Atom::Field {
                    field: Field::Collection,
                    value: FieldValue::Text(name),
                } => (in_collection(ctx, name, depth)?, None),
                _ => eval_atom(ctx, atom, Some(&set))?,
            };
            if !negated {
                if let Some(sc) = atom_scores {
                    for (i, v) in sc {
                        scores[i] += v;
                    }
                }
                if let Some(t) = searched_text(atom) {
                    let f = fold_for_match(t);
                    if !f.is_empty() {
                        needles.push(f);
                    }
                }
            }
            clause_set.or(&s);
        }
        if *negated {
            set.and_not(&clause_set);
        } else {
            set.and(&clause_set);
        }
    }
    Ok(Matched {
        set,
        scores,
        needles,
    })
}

/// The posts of a collection: a manual one's members, a smart one's query. Each is evaluated
/// once per query (a collection named twice is not evaluated twice).
fn in_collection(ctx: &Ctx, name: &str, depth: usize) -> Result<BitSet> {
    let key = name.trim().to_string();
    if let Some(set) = ctx.collections.borrow().get(&key) {
        return Ok(set.clone());
    }
    let set = collection_set(ctx, name, depth)?;
    ctx.collections.borrow_mut().insert(key, set.clone());
    Ok(set)
}

/// The documents of a `KEY:VALUE` query: `?1` the key lower-cased, `?2` the value folded.
const KEY_VALUE_DOCS: &str = "SELECT DISTINCT p.docid FROM post_fields f
     JOIN posts p ON p.id = f.post_id WHERE f.key = ?1 AND f.folded = ?2";

#[cfg(test)]
thread_local! {
    /// Collections evaluated by this thread (for the test of repeated names).
    pub(crate) static COLLECTION_EVALS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fn collection_set(ctx: &Ctx, name: &str, depth: usize) -> Result<BitSet> {
    #[cfg(test)]
    COLLECTION_EVALS.with(|c| c.set(c.get() + 1));
    let (conn, path, snap) = (ctx.conn, ctx.path, ctx.snap);
    let mut set = BitSet::empty(snap.len());
    let paths = match ctx.terms.get(name.trim()) {
        None => {
            return Err(Error::NoCollection {
                name: name.trim().to_string(),
            })
        }
        Some(CollectionTerm::Query(q)) => {
            if depth >= MAX_COLLECTION_DEPTH {
                return Err(Error::Query(format!(
                    "collection \"{name}\" names collections too deeply (a loop?)"
                )));
            }
            return Ok(evaluate_at(ctx, q, depth + 1)?.set);
        }
        Some(CollectionTerm::Posts(paths)) => paths,
    };
    let mut docid_of = conn
        .prepare_cached("SELECT docid FROM posts WHERE path = ?1")
        .at(path)?;
    for rel in paths {
        let docid = docid_of
            .query_row([rel], |r| r.get::<_, i64>(0))
            .optional()
            .at(path)?;
        if let Some(i) = docid.and_then(|d| snap.index_of_docid(d as u32)) {
            set.insert(i);
        }
    }
    Ok(set)
}

type Scores = Vec<(usize, f32)>;

/// Evaluate one atom. `within` is the set still alive: text verification can skip the rest.
fn eval_atom(ctx: &Ctx, atom: &Atom, within: Option<&BitSet>) -> Result<(BitSet, Option<Scores>)> {
    let (conn, path, snap) = (ctx.conn, ctx.path, ctx.snap);
    let n = snap.len();
    match atom {
        Atom::Text(t) | Atom::Phrase(t) => eval_text(ctx, t, within, Scope::Article),
        Atom::Field {
            field: Field::Page,
            value: FieldValue::Text(t),
        } => eval_text(ctx, t, within, Scope::Page),
        Atom::Field { field, value } => {
            let mut set = BitSet::empty(n);
            match (field, value) {
                (Field::Tag | Field::Category, FieldValue::Text(v)) => {
                    let want = crate::fold::fold(v.trim());
                    let ids = snap.terms.matching(|f| f == want);
                    let tags = matches!(field, Field::Tag);
                    mark(&mut set, snap, |i| {
                        let list = if tags {
                            snap.tags(i)
                        } else {
                            snap.categories(i)
                        };
                        list.iter().any(|t| ids.contains(t))
                    });
                }
                (Field::Author, FieldValue::Text(v)) => {
                    let want = crate::fold::fold(v.trim());
                    let ids = snap.authors.matching(|f| f == want);
                    mark(&mut set, snap, |i| {
                        snap.author(i).is_some_and(|a| ids.contains(&a))
                    });
                }
                (Field::Site, FieldValue::Text(v)) => {
                    let want = crate::fold::fold(v.trim())
                        .trim_start_matches("www.")
                        .to_string();
                    let suffix = format!(".{want}");
                    let ids = snap.sites.matching(|f| f == want || f.ends_with(&suffix));
                    mark(&mut set, snap, |i| {
                        snap.site(i).is_some_and(|s| ids.contains(&s))
                    });
                }
                (Field::Title, FieldValue::Text(v)) => match Needle::new(&fold_for_match(v)) {
                    Some(needle) => {
                        let titles = snap.all_titles(conn, path)?;
                        mark(&mut set, snap, |i| needle.count_bytes(titles.get(i)) > 0)
                    }
                    // Nothing but invisible characters: every title contains that.
                    None => mark(&mut set, snap, |_| true),
                },
                (Field::Path, FieldValue::Text(v)) => {
                    // Paths are not in the snapshot (a hit reads its own): a pass over the
                    // posts' paths, as before, but streamed from the index.
                    let needle = crate::fold::fold(v);
                    let mut stmt = conn
                        .prepare_cached("SELECT docid, path_text FROM posts")
                        .at(path)?;
                    let mut rows = stmt.query([]).at(path)?;
                    while let Some(r) = rows.next().at(path)? {
                        let text = r.get_ref(1).at(path)?.as_str().unwrap_or("");
                        if crate::fold::fold(text).contains(&needle) {
                            let docid = r.get::<_, i64>(0).at(path)?;
                            if let Some(i) = snap.index_of_docid(docid as u32) {
                                set.insert(i);
                            }
                        }
                    }
                }
                (_, FieldValue::DateRange(r)) => mark(&mut set, snap, |i| {
                    snap.date_ms(i).is_some_and(|ms| {
                        r.from_ms.is_none_or(|f| ms >= f) && r.to_ms.is_none_or(|t| ms < t)
                    })
                }),
                (_, FieldValue::Has(what)) => mark(&mut set, snap, |i| match what {
                    HasWhat::Problem => snap.has_problem(i),
                    HasWhat::Date => snap.date_ms(i).is_some(),
                    HasWhat::Tags => !snap.tags(i).is_empty(),
                    HasWhat::Source => snap.has_source(i),
                }),
                (Field::Key(key), FieldValue::Text(v)) => {
                    let want = crate::fold::fold(v.trim());
                    // Keys are stored lower-cased (`store::writer`), so this is one index lookup.
                    let mut stmt = conn.prepare_cached(KEY_VALUE_DOCS).at(path)?;
                    let key = key.to_ascii_lowercase();
                    let rows = stmt
                        .query_map(rusqlite::params![key, want], |r| r.get::<_, i64>(0))
                        .at(path)?;
                    for r in rows {
                        if let Some(i) = snap.index_of_docid(r.at(path)? as u32) {
                            set.insert(i);
                        }
                    }
                }
                // Text-valued field that is not one of the above (e.g. `date:` given text): nothing matches.
                _ => {}
            }
            Ok((set, None))
        }
    }
}

fn mark(set: &mut BitSet, snap: &Snapshot, pred: impl Fn(usize) -> bool) {
    for i in 0..snap.len() {
        if pred(i) {
            set.insert(i);
        }
    }
}

fn eval_text(
    ctx: &Ctx,
    text: &str,
    within: Option<&BitSet>,
    scope: Scope,
) -> Result<(BitSet, Option<Scores>)> {
    let (conn, path, snap) = (ctx.conn, ctx.path, ctx.snap);
    let n = snap.len();
    let folded = fold_for_match(text);
    let mut set = BitSet::empty(n);
    let Some(needle) = Needle::new(&folded) else {
        // Nothing searchable (only invisible characters): matches everything, like an empty query.
        return Ok((BitSet::full(n), None));
    };
    let mut plan = if verify_only() {
        plan_tokens(&folded)
    } else {
        plan_atom(&folded)
    };
    if plan.grams.len() > MAX_LOOKUP_GRAMS {
        // Evenly spread over the term's grams (they are sorted by id, not by position).
        let step = plan.grams.len().div_ceil(MAX_LOOKUP_GRAMS);
        plan.grams = plan.grams.iter().step_by(step).copied().collect();
    }
    let cover = plan.cover.take().filter(|c| c.len() <= MAX_LOOKUP_GRAMS);
    let matches: Vec<(usize, u32, u32)> = if let Some(cover) = cover {
        positional_matches(ctx, &needle, &cover, folded.len(), within, scope)?
    } else {
        // Candidates with the total tf of the (single) gram when exact.
        let candidates: Vec<(usize, u32)> = if plan.grams.is_empty() {
            (0..n).map(|i| (i, 0)).collect()
        } else {
            let mut lists: Vec<Vec<(u32, u32)>> = Vec::with_capacity(plan.grams.len());
            for g in &plan.grams {
                ctx.check()?;
                let mut list = Vec::new();
                read_postings(conn, *g, &mut list).at(path)?;
                if scope == Scope::Page {
                    // The page: the gram in the title or article, or only in the rest of the page.
                    let mut rest = Vec::new();
                    read_postings(conn, page_only(*g), &mut rest).at(path)?;
                    if !rest.is_empty() {
                        let mut tf: rustc_hash::FxHashMap<u32, u32> =
                            list.iter().copied().collect();
                        for (doc, n) in rest {
                            let e = tf.entry(doc).or_insert(0);
                            *e = e.saturating_add(n);
                        }
                        list = tf.into_iter().collect();
                        list.sort_unstable();
                    }
                }
                lists.push(list);
            }
            lists.sort_by_key(|l| l.len());
            // An atom of several CJK runs: only the posts where the runs' pairs align can hold
            // it (`grams::aligned_pairs`), found from their positions; the rest of the page's
            // pairs have positions of their own.
            let aligned = if plan.exact || verify_only() {
                Vec::new()
            } else {
                crate::index::grams::aligned_pairs(&folded, MAX_LOOKUP_GRAMS)
            };
            let aligned_docs: Option<rustc_hash::FxHashSet<u32>> = if aligned.is_empty() {
                None
            } else {
                let counts = scope_counts(ctx, &aligned, folded.len(), scope)?;
                Some(counts.into_keys().collect())
            };
            let mut cands: Vec<(usize, u32)> = Vec::new();
            if let Some(first) = lists.first() {
                let rest: Vec<std::collections::HashSet<u32>> = lists[1..]
                    .iter()
                    .map(|l| l.iter().map(|p| p.0).collect())
                    .collect();
                for &(doc, tf) in first {
                    if aligned_docs.as_ref().is_none_or(|a| a.contains(&doc))
                        && rest.iter().all(|r| r.contains(&doc))
                    {
                        if let Some(i) = snap.index_of_docid(doc) {
                            cands.push((i, tf));
                        }
                    }
                }
            }
            cands
        };
        let titles = snap.titles(conn, path, candidates.iter().map(|c| c.0))?;
        if plan.exact {
            with_title_counts(ctx, &needle, &titles, &candidates)?
        } else {
            let mut matches: Vec<(usize, u32, u32)> = Vec::with_capacity(candidates.len());
            let mut texts = crate::store::texts::Reader::default();
            for (i, _) in candidates {
                if within.is_some_and(|w| !w.contains(i)) {
                    continue;
                }
                ctx.check()?;
                let title_tf = needle.count_bytes(titles.get(i));
                // The stored text is the title, a newline, the article, then (after another
                // newline) the rest of the page, all folded (`index::analysis::doc_grams`).
                let all_tf = texts
                    .with_stored(conn, snap.docid(i), |stored| {
                        let dict = snap.texts.for_stored(conn, stored)?;
                        Ok(crate::store::text::with_unpacked(
                            stored,
                            dict.as_deref(),
                            |folded| {
                                let searched = match scope {
                                    Scope::Article => {
                                        folded.get(..article_end(folded)).unwrap_or(folded)
                                    }
                                    Scope::Page => folded,
                                };
                                needle.count_bytes(searched)
                            },
                        ))
                    })
                    .at(path)?
                    .transpose()
                    .at(path)?
                    .unwrap_or(0);
                let body_tf = all_tf.saturating_sub(title_tf);
                if title_tf + body_tf > 0 {
                    matches.push((i, title_tf, body_tf));
                }
            }
            matches
        }
    };
    let n_docs = n as f32;
    let df = matches.len() as f32;
    let idf = (1.0 + (n_docs - df + 0.5) / (df + 0.5)).ln();
    let mut scores = Vec::with_capacity(matches.len());
    for (k, (i, title_tf, body_tf)) in matches.into_iter().enumerate() {
        ctx.check_every(k)?;
        set.insert(i);
        let lt = snap.title_chars(i) as f32 / snap.avg_title_chars;
        let lb = snap.text_chars(i) as f32 / snap.avg_text_chars;
        let tf = TITLE_WEIGHT * title_tf as f32 / (1.0 - B + B * lt)
            + BODY_WEIGHT * body_tf as f32 / (1.0 - B + B * lb);
        scores.push((i, idf * tf * (K1 + 1.0) / (tf + K1)));
    }
    Ok((set, Some(scores)))
}

/// The documents that hold a run of CJK characters, `(position, title tf, body tf)`, from the
/// positions of the pairs that `cover` it (`grams::AtomPlan::cover`): no text is read. A
/// document's count is that of `Needle::count_bytes` over its stored text: occurrences that do
/// not overlap, taken from the left.
fn positional_matches(
    ctx: &Ctx,
    needle: &Needle,
    cover: &[(u32, GramId)],
    len: usize,
    within: Option<&BitSet>,
    scope: Scope,
) -> Result<Vec<(usize, u32, u32)>> {
    let (snap, path) = (ctx.snap, ctx.path);
    let counts = scope_counts(ctx, cover, len, scope)?;
    let mut docs: Vec<(usize, u32)> = counts
        .into_iter()
        .filter_map(|(doc, n)| Some((snap.index_of_docid(doc)?, n)))
        .filter(|&(i, _)| within.is_none_or(|w| w.contains(i)))
        .collect();
    docs.sort_unstable();
    let titles = snap.titles(ctx.conn, path, docs.iter().map(|d| d.0))?;
    with_title_counts(ctx, needle, &titles, &docs)
}

/// From this many documents on, their titles are searched on both cores (from 64 in unit
/// tests, so that their archives of a few hundred posts take that path too).
const TITLES_ON_TWO_THREADS: usize = if cfg!(test) { 64 } else { 8192 };

/// `(position, title tf, body tf)` of each document `(position, tf)`: the needle counted in its
/// title (`Needle::count_bytes`, as in the stored text), the rest in its body. On both cores
/// when there are many: a one-character query at 1M counts in 875,000 titles, a fifth of its
/// time on one core. Where the documents are a quarter or more of a chunk's and the needle is
/// counted wherever it occurs (`Needle::counts_every_occurrence`: CJK text), the chunk's titles
/// are counted in one pass (`columns::Titles::counts`): a search of each title on its own, a call
/// each, was 40% of the CPU of `中` at 1M.
fn with_title_counts(
    ctx: &Ctx,
    needle: &Needle,
    titles: &TitlesOf,
    docs: &[(usize, u32)],
) -> Result<Vec<(usize, u32, u32)>> {
    let cancel = ctx.cancel;
    let whole_chunks = needle.counts_every_occurrence() && needle.byte_len() > 0;
    let count = |part: &[(usize, u32)]| -> Vec<(usize, u32, u32)> {
        let mut out = Vec::with_capacity(part.len());
        // The chunk of the last document, and its titles' counts when it was counted whole.
        let mut chunk: Option<(std::ops::Range<usize>, Option<Vec<u32>>)> = None;
        for (k, &(i, all)) in part.iter().enumerate() {
            if k.is_multiple_of(CHECK_EVERY) && cancel.load(Ordering::Relaxed) {
                // The flag stays set: the check below answers `Cancelled`.
                return Vec::new();
            }
            if whole_chunks && !chunk.as_ref().is_some_and(|(r, _)| r.contains(&i)) {
                chunk = titles.chunk(i).map(|(range, t)| {
                    let asked = part[k..].iter().take_while(|d| range.contains(&d.0));
                    let counts = (asked.count() * 4 >= range.len())
                        .then(|| t.counts(needle.byte_len(), |h| needle.find_bytes(h)));
                    (range, counts)
                });
            }
            let counted = match &chunk {
                Some((range, Some(counts))) => i
                    .checked_sub(range.start)
                    .and_then(|j| counts.get(j))
                    .copied(),
                _ => None,
            };
            let title_tf = counted.unwrap_or_else(|| needle.count_bytes(titles.get(i)));
            out.push((i, title_tf, all.saturating_sub(title_tf)));
        }
        out
    };
    let counted = if docs.len() >= TITLES_ON_TWO_THREADS {
        crate::halves::map_halves(docs, count)
    } else {
        count(docs)
    };
    ctx.check()?;
    Ok(counted)
}

/// The occurrences (by docid) of the run that `cover` covers within `scope`: `run_counts` over
/// the title and article, and for the page over the rest too.
fn scope_counts(
    ctx: &Ctx,
    cover: &[(u32, GramId)],
    len: usize,
    scope: Scope,
) -> Result<rustc_hash::FxHashMap<u32, u32>> {
    let mut counts = rustc_hash::FxHashMap::default();
    run_counts(ctx, cover, len, &|g| g, &mut counts)?;
    if scope == Scope::Page {
        // The rest of the page has its own positions, under the page-only ids.
        run_counts(ctx, cover, len, &page_only, &mut counts)?;
    }
    Ok(counts)
}

/// Add to `counts` (by docid) the occurrences of the run that `cover` covers, in the positions
/// of the grams `id` makes of the cover's pairs.
fn run_counts(
    ctx: &Ctx,
    cover: &[(u32, GramId)],
    len: usize,
    id: &dyn Fn(GramId) -> GramId,
    counts: &mut rustc_hash::FxHashMap<u32, u32>,
) -> Result<()> {
    /// One pair of the cover: its offset in the run, its postings `(doc, tf, start)` and the
    /// positions they point into.
    struct Covering {
        offset: u32,
        postings: Vec<(u32, u32, u32)>,
        positions: Vec<u32>,
    }
    /// The same, looked up by document.
    struct ByDoc {
        offset: u32,
        postings: rustc_hash::FxHashMap<u32, (u32, u32)>,
        positions: Vec<u32>,
    }
    /// A pair's posting lists as stored, one per segment.
    struct Encoded {
        offset: u32,
        gram: GramId,
        lists: Vec<EncodedList>,
        bytes: usize,
    }
    let mut encoded: Vec<Encoded> = Vec::with_capacity(cover.len());
    for &(offset, g) in cover {
        ctx.check()?;
        let gram = id(g);
        let lists = read_encoded_lists(ctx.conn, gram).at(ctx.path)?;
        let bytes = lists.iter().map(EncodedList::len).sum();
        if bytes == 0 {
            return Ok(());
        }
        encoded.push(Encoded {
            offset,
            gram,
            lists,
            bytes,
        });
    }
    // The shortest list is decoded whole: only its documents can hold the run, so the longer
    // lists (a common pair such as 中国 holds most posts) keep the postings and positions of
    // those documents alone, and each narrows the candidates for the next.
    encoded.sort_by_key(|e| e.bytes);
    let decode = |e: &Encoded, wanted: &dyn Fn(u32) -> bool| -> Covering {
        let (mut postings, mut positions) = (Vec::new(), Vec::new());
        for list in &e.lists {
            list.decode_with_positions_of(e.gram, wanted, &mut postings, &mut positions);
        }
        Covering {
            offset: e.offset,
            postings,
            positions,
        }
    };
    let Some((first, others)) = encoded.split_first() else {
        return Ok(());
    };
    let first = decode(first, &|_| true);
    let first_docs: rustc_hash::FxHashSet<u32> = first.postings.iter().map(|p| p.0).collect();
    let mut rest: Vec<ByDoc> = Vec::with_capacity(others.len());
    for e in others {
        ctx.check()?;
        // The candidates are the documents of the list decoded last.
        let t = match rest.last() {
            Some(prev) => decode(e, &|d| prev.postings.contains_key(&d)),
            None => decode(e, &|d| first_docs.contains(&d)),
        };
        if t.postings.is_empty() {
            return Ok(());
        }
        rest.push(ByDoc {
            offset: t.offset,
            postings: t
                .postings
                .iter()
                .map(|&(d, tf, at)| (d, (tf, at)))
                .collect(),
            positions: t.positions,
        });
    }
    fn slice(pos: &[u32], tf: u32, at: u32) -> &[u32] {
        let at = at as usize;
        pos.get(at..at.saturating_add(tf as usize))
            .unwrap_or_default()
    }
    let mut starts: Vec<u32> = Vec::new();
    let mut other: Vec<u32> = Vec::new();
    for (k, &(doc, tf, at)) in first.postings.iter().enumerate() {
        ctx.check_every(k)?;
        // Where the run would start, from this pair's positions.
        starts.clear();
        starts.extend(
            slice(&first.positions, tf, at)
                .iter()
                .filter_map(|p| p.checked_sub(first.offset)),
        );
        for t in &rest {
            let Some(&(tf, at)) = t.postings.get(&doc) else {
                starts.clear();
                break;
            };
            other.clear();
            other.extend(
                slice(&t.positions, tf, at)
                    .iter()
                    .filter_map(|p| p.checked_sub(t.offset)),
            );
            intersect_sorted(&mut starts, &other);
            if starts.is_empty() {
                break;
            }
        }
        // Occurrences that do not overlap, from the left (as the text matcher counts).
        let mut n = 0u32;
        let mut free_from = 0u64;
        for &p in starts.iter() {
            if p as u64 >= free_from {
                n += 1;
                free_from = p as u64 + len as u64;
            }
        }
        if n > 0 {
            let e = counts.entry(doc).or_insert(0);
            *e = e.saturating_add(n);
        }
    }
    Ok(())
}

#[cfg(test)]
thread_local! {
    /// Tests set this to answer text by verifying it, with the grams of its tokens alone (no
    /// positions, no joined grams), to compare with the answers of positions and joined grams.
    pub(crate) static VERIFY_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn verify_only() -> bool {
    #[cfg(test)]
    return VERIFY_ONLY.with(|v| v.get());
    #[cfg(not(test))]
    false
}

/// Keep in `a` the values also in `b` (both ascending).
fn intersect_sorted(a: &mut Vec<u32>, b: &[u32]) {
    let mut j = 0;
    a.retain(|&x| {
        while j < b.len() && b[j] < x {
            j += 1;
        }
        j < b.len() && b[j] == x
    });
}

/// The first `need` matched positions in the requested order (the rest are left unsorted and
/// dropped: paging only ever shows a window, so a full sort of a large result set is wasted).
/// `conn` must see the snapshot's generation (titles and paths are read from it).
pub fn sort(
    conn: &Connection,
    path: &Path,
    snap: &Snapshot,
    matched: &Matched,
    sort: Sort,
    need: usize,
) -> Result<Vec<usize>> {
    let ids = || matched.set.iter();
    let count = matched.set.count();
    // Ties are broken by newest date, then by position (document id order).
    let date_key = |i: usize| std::cmp::Reverse(snap.date_ms(i).unwrap_or(i64::MIN));
    Ok(match sort {
        Sort::Relevance => top(
            ids(),
            count,
            |i| {
                (
                    std::cmp::Reverse(matched.scores[i].max(0.0).to_bits()),
                    date_key(i),
                )
            },
            need,
        ),
        Sort::DateDesc => top(ids(), count, date_key, need),
        // Undated posts go last.
        Sort::Date => top(
            ids(),
            count,
            |i| {
                let d = snap.date_ms(i);
                (d.is_none(), d.unwrap_or(0))
            },
            need,
        ),
        Sort::Title => {
            let titles = snap.titles(conn, path, ids())?;
            top(ids(), count, |i| (titles.get(i), date_key(i)), need)
        }
        Sort::Path => by_path(conn, path, snap, &matched.set, need)?
            .into_iter()
            .map(|(_, i)| i)
            .collect(),
    })
}

/// Below this many matches, their paths are read one by one; above, the index's path order is
/// walked.
const PATH_LOOKUPS: usize = 4096;

/// The first `need` documents of `set` in path order, with their paths (a document whose row is
/// missing, as only a damaged index can have, is left out). Paths are not in the snapshot: a small
/// set reads its paths by document id and sorts them; a large one walks `posts` in path order
/// (its unique index) and stops once it has `need`, which is soon when the set is large.
/// `conn` must see the snapshot's generation.
pub fn by_path(
    conn: &Connection,
    path: &Path,
    snap: &Snapshot,
    set: &BitSet,
    need: usize,
) -> Result<Vec<(Vec<u8>, usize)>> {
    if need == 0 {
        return Ok(Vec::new());
    }
    let count = set.count();
    if count <= PATH_LOOKUPS {
        let mut stmt = conn
            .prepare_cached("SELECT path FROM posts WHERE docid = ?1")
            .at(path)?;
        let mut keyed = Vec::with_capacity(count);
        for i in set.iter() {
            let p: Option<Vec<u8>> = stmt
                .query_row([snap.docid(i)], |r| r.get(0))
                .optional()
                .at(path)?;
            keyed.extend(p.map(|p| (p, i)));
        }
        if need < keyed.len() {
            keyed.select_nth_unstable(need - 1);
            keyed.truncate(need);
        }
        keyed.sort_unstable();
        return Ok(keyed);
    }
    let mut stmt = conn
        .prepare_cached("SELECT docid, path FROM posts ORDER BY path")
        .at(path)?;
    let mut rows = stmt.query([]).at(path)?;
    let mut out = Vec::with_capacity(need.min(count));
    while let Some(r) = rows.next().at(path)? {
        let docid: i64 = r.get(0).at(path)?;
        if let Some(i) = snap
            .index_of_docid(docid as u32)
            .filter(|&i| set.contains(i))
        {
            out.push((r.get(1).at(path)?, i));
            if out.len() == need {
                break;
            }
        }
    }
    Ok(out)
}

/// The first `need` of the `count` documents `ids`, ordered by `(key(i), i)`.
///
/// A page is usually small against the matches (50 of a million for an empty query at 1M): then
/// a heap of `need` entries is kept while the keys stream past, and no key per match is held
/// (collecting a million keys to select from was 16-24 MB of fresh memory, about a seventh of
/// the first search at 1M). A page that is a large part of the matches is selected from them all.
fn top<K: Ord>(
    ids: impl Iterator<Item = usize>,
    count: usize,
    key: impl Fn(usize) -> K,
    need: usize,
) -> Vec<usize> {
    if need == 0 {
        return Vec::new();
    }
    if need.saturating_mul(4) <= count {
        let mut heap: std::collections::BinaryHeap<(K, usize)> =
            std::collections::BinaryHeap::with_capacity(need);
        for i in ids {
            if heap.len() < need {
                heap.push((key(i), i));
            } else if let Some(mut largest) = heap.peek_mut() {
                let k = key(i);
                if (&k, i) < (&largest.0, largest.1) {
                    *largest = (k, i);
                }
            }
        }
        return heap.into_sorted_vec().into_iter().map(|(_, i)| i).collect();
    }
    let mut keyed: Vec<(K, usize)> = ids.map(|i| (key(i), i)).collect();
    if need < keyed.len() {
        keyed.select_nth_unstable(need - 1);
    }
    let n = need.min(keyed.len());
    let head = &mut keyed[..n];
    head.sort_unstable();
    head.iter().map(|(_, i)| *i).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_page_is_the_first_of_the_matches_in_key_then_position_order_whatever_its_size() {
        // Keys with many ties (broken by position), in an order unlike the positions'.
        let ids: Vec<usize> = (0..1000).map(|i| i * 3 + 1).collect();
        let key = |i: usize| (i * 7919) % 37;
        let mut all: Vec<(usize, usize)> = ids.iter().map(|&i| (key(i), i)).collect();
        all.sort();
        let expect: Vec<usize> = all.iter().map(|&(_, i)| i).collect();
        // 1-250 go through the heap, the rest through selection.
        for need in [0, 1, 2, 49, 50, 250, 251, 999, 1000, 5000] {
            let got = super::top(ids.iter().copied(), ids.len(), key, need);
            assert_eq!(got, expect[..need.min(expect.len())], "need {need}");
        }
    }

    #[test]
    fn a_key_value_query_is_one_lookup_in_the_fields_index() {
        let dir = tempfile::tempdir().unwrap();
        let w = crate::store::Writer::open(&dir.path().join("index.sqlite")).unwrap();
        let plan: Vec<String> = w
            .conn()
            .prepare(&format!("EXPLAIN QUERY PLAN {}", super::KEY_VALUE_DOCS))
            .unwrap()
            .query_map(["from", "x"], |r| r.get(3))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        // A scan of `post_fields` reads every post's fields: 15 s at 1M posts with a cold cache.
        assert!(
            plan.iter()
                .any(|l| l.contains("USING COVERING INDEX post_fields_key")),
            "{plan:?}"
        );
        assert!(!plan.iter().any(|l| l.starts_with("SCAN")), "{plan:?}");
    }
}
