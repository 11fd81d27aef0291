//! A reader of the index: its own connection and the snapshot of the current generation (shared
//! with the other readers of the same index, see `SharedSnapshot`).

use super::exec::{by_path, evaluate, sort, CollectionTerms, Matched};
use super::facets::{self, Facets};
use super::matcher::{highlight, snippet};
use super::query::{self, Sort};
use super::snapshot::Snapshot;
use crate::error::{Error, Result, SqlContext};
use rusqlite::{Connection, OptionalExtension};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

/// How many characters a snippet holds.
const SNIPPET_CHARS: usize = 160;
/// How many values each facet lists at most.
const FACET_LIMIT: usize = 200;

#[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(default)]
#[ts(export)]
pub struct SearchRequest {
    pub query: String,
    /// Relevance (the default) when absent.
    pub sort: Option<Sort>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
    /// Also count facets over the whole result set.
    pub facets: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct SearchHit {
    pub id: i64,
    /// Relative to the archive root (lossy when the name is not UTF-8; see `path_bytes_hex`).
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes_hex: Option<String>,
    pub title: String,
    /// RFC 3339, UTC.
    pub date: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub site: Option<String>,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub snippet: String,
    /// `[start, end)` in characters of `snippet`.
    pub snippet_highlights: Vec<[u32; 2]>,
    /// `[start, end)` in characters of `title`.
    pub title_highlights: Vec<[u32; 2]>,
    pub has_problem: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct SearchResponse {
    pub total: u64,
    pub hits: Vec<SearchHit>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub facets: Option<Facets>,
}

pub struct Searcher {
    conn: Connection,
    path: PathBuf,
    /// The index file this reader opened, to tell when it has been replaced.
    file: FileId,
    root: PathBuf,
    snap: Arc<Snapshot>,
    shared: Arc<SharedSnapshot>,
}

/// The device and inode of the file at `path`.
fn file_id(path: &Path) -> FileId {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// The snapshot of the newest generation any reader of an index has seen, so that several
/// readers load it once between them (and hold one copy), not once each; and the queries they
/// evaluated last at that generation (`Searcher::evaluated`).
#[derive(Default)]
pub struct SharedSnapshot {
    slot: Mutex<Option<(FileId, Arc<Snapshot>)>>,
    evaluated: Mutex<Vec<Evaluated>>,
}

/// A query evaluated at a generation of an index file, kept for the calls that follow with the
/// same query.
struct Evaluated {
    file: FileId,
    generation: i64,
    query: String,
    matched: Arc<Matched>,
}

/// Evaluations kept: a result list's rows and its facets, and the query before it.
const EVALUATIONS_KEPT: usize = 2;

#[cfg(test)]
thread_local! {
    /// Queries evaluated by this thread (for the test of evaluations kept).
    static EVALUATIONS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// An index file's device and inode: a new file (a damaged index set aside and built anew)
/// starts its generations again, so a snapshot is the same only for the same file.
type FileId = Option<(u64, u64)>;

impl SharedSnapshot {
    /// The snapshot of `generation` of the index `file`: the one already loaded, or loaded now
    /// through `conn`. Readers that need it while it loads wait for it rather than load it again.
    fn get(
        &self,
        conn: &Connection,
        path: &Path,
        file: FileId,
        generation: i64,
    ) -> Result<Arc<Snapshot>> {
        let mut slot = self.slot.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, snap)) = slot
            .as_ref()
            .filter(|(f, s)| *f == file && s.generation == generation)
        {
            return Ok(snap.clone());
        }
        let snap = Arc::new(Snapshot::load(conn, path, generation)?);
        *slot = Some((file, snap.clone()));
        Ok(snap)
    }
}

/// A flag that is never set, for evaluations that cannot be superseded.
static NEVER: AtomicBool = AtomicBool::new(false);

/// `SHELFMARK_SEARCH_HOLD`: a folder. Each search, once it holds a reader and is inside its read
/// transaction, creates `held-N` there (N = 1, 2, … in arrival order) and waits until a file
/// named `release` appears. Only for tests/hostile_search.rs, which checks that other requests
/// are answered while a search runs, and that a superseded search stops; unset, it costs one
/// lookup of a static.
fn hold_for_tests() {
    static DIR: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    static HELD: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let Some(dir) =
        DIR.get_or_init(|| std::env::var_os("SHELFMARK_SEARCH_HOLD").map(PathBuf::from))
    else {
        return;
    };
    let n = HELD.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
    let _ = std::fs::write(dir.join(format!("held-{n}")), b"");
    while !dir.join("release").exists() {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// A hit's row of `posts`, and its position in the snapshot.
struct HitRow {
    pos: usize,
    id: i64,
    path: Vec<u8>,
    path_text: String,
    title: String,
    source: Option<String>,
}

/// The snippets of a page of hits, each read from its post's file now, in the hits' order: on
/// this thread and one more (`halves`), as reading and parsing the files is most of what a page
/// of hits costs (50 files: 10–20 ms of a 40 ms search at 70k posts). A cancelled search stops
/// reading (its snippets empty).
fn hit_snippets(
    root: &Path,
    rows: &[HitRow],
    needles: &[Vec<char>],
    cancel: &AtomicBool,
) -> Vec<super::matcher::Highlighted> {
    let each = |rows: &[HitRow]| -> Vec<super::matcher::Highlighted> {
        rows.iter()
            .map(|r| {
                if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                    return super::matcher::Highlighted::default();
                }
                hit_snippet(root, &r.path, needles)
            })
            .collect()
    };
    crate::halves::map_halves(rows, each)
}

/// The snippet of one hit: from its article; from the whole page when only the page matched
/// (`page:`). The index keeps only folded text; snippets show the post's own words.
fn hit_snippet(root: &Path, path: &[u8], needles: &[Vec<char>]) -> super::matcher::Highlighted {
    let post = read_post(root, path);
    let article = post.as_ref().map(|p| p.article_text()).unwrap_or_default();
    let snip = snippet(&article, needles, SNIPPET_CHARS);
    if snip.highlights.is_empty() && !needles.is_empty() {
        if let Some(post) = &post {
            let page = snippet(&post.text, needles, SNIPPET_CHARS);
            if !page.highlights.is_empty() {
                return page;
            }
        }
    }
    snip
}

/// Hex of a path's bytes, when they are not valid UTF-8 (so the path can be given back exactly).
pub fn path_bytes_hex(path: &[u8]) -> Option<String> {
    if std::str::from_utf8(path).is_ok() {
        return None;
    }
    Some(path.iter().map(|b| format!("{b:02x}")).collect())
}

/// The page text of a post and its article's ranges in it (`Post::article`), read now.
pub fn read_post_text_and_article(root: &Path, rel: &[u8]) -> Option<(String, Vec<(u32, u32)>)> {
    read_post(root, rel).map(|p| (p.text, p.article))
}

/// A post, read and parsed from its file now.
fn read_post(root: &Path, rel: &[u8]) -> Option<crate::post::Post> {
    let (path, bytes) = crate::postfile::read(root, rel, crate::postfile::max_bytes()).ok()?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::post::parse(&name, &bytes, &crate::post::ParseOptions::default()).post
}

pub fn rfc3339(ms: i64) -> Option<String> {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true))
}

impl Searcher {
    /// Open the index at `index` of the archive at `root`.
    pub fn open(index: &Path, root: &Path) -> Result<Searcher> {
        Searcher::open_shared(index, root, Arc::default())
    }

    /// Open one more reader of an index, sharing its snapshot with the others opened with `shared`.
    pub fn open_shared(index: &Path, root: &Path, shared: Arc<SharedSnapshot>) -> Result<Searcher> {
        let conn = crate::store::open_for_read(index)?;
        Searcher::from_connection(conn, index, root, shared)
    }

    /// Whether the file at this reader's index path is still the one it opened: not replaced
    /// since (as a scan does with a damaged index, `store::set_aside`) and not gone.
    pub fn file_is_current(&self) -> bool {
        self.file.is_some() && file_id(&self.path) == self.file
    }

    /// A reader on a connection already opened (`store::open_for_read`) on the index at `index`.
    fn from_connection(
        conn: Connection,
        index: &Path,
        root: &Path,
        shared: Arc<SharedSnapshot>,
    ) -> Result<Searcher> {
        let file = file_id(index);
        let generation = crate::store::generation(&conn, index)?;
        let snap = shared.get(&conn, index, file, generation)?;
        Ok(Searcher {
            conn,
            path: index.to_path_buf(),
            file,
            root: root.to_path_buf(),
            snap,
            shared,
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Reload the snapshot when the writer committed since it was taken.
    pub fn refresh(&mut self) -> Result<()> {
        let generation = crate::store::generation(&self.conn, &self.path)?;
        if generation != self.snap.generation {
            self.snap = self
                .shared
                .get(&self.conn, &self.path, self.file, generation)?;
        }
        Ok(())
    }

    /// Load what a first search would otherwise wait for: the snapshot and the folded titles
    /// (every text query ranks by them; reading them is most of a first text query at 1M).
    pub fn warm_up(&mut self) -> Result<()> {
        self.read(|s| s.snap.all_titles(&s.conn, &s.path).map(|_| ()))
    }

    pub fn snapshot(&self) -> &Snapshot {
        &self.snap
    }

    /// Search; `terms` holds what the `collection:` terms of the query stand for.
    pub fn search(
        &mut self,
        req: &SearchRequest,
        terms: &CollectionTerms,
    ) -> Result<SearchResponse> {
        self.search_cancellable(req, terms, &NEVER)
    }

    /// `search`, stopping with `Error::Cancelled` soon after `cancel` is set.
    pub fn search_cancellable(
        &mut self,
        req: &SearchRequest,
        terms: &CollectionTerms,
        cancel: &AtomicBool,
    ) -> Result<SearchResponse> {
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let q = query::parse(&req.query).map_err(|e| Error::Query(e.to_string()))?;
        let sort_by = req.sort.unwrap_or_default();
        self.read(|s| {
            hold_for_tests();
            s.search_in_tx(&q, terms, sort_by, req, cancel)
        })
    }

    /// What `q` (typed as `text`) matches at this reader's generation: evaluated now, or kept
    /// from a call of the same query a moment ago (the next page of a result list, the facets
    /// the UI asks for once its rows are shown: at a million posts, evaluating `中` again took
    /// as long as the first time). A query naming collections is not kept: collections are
    /// files, and change without the index changing. Call inside `read`.
    fn evaluated(
        &self,
        text: &str,
        q: &query::Query,
        terms: &CollectionTerms,
        cancel: &AtomicBool,
    ) -> Result<Arc<Matched>> {
        let lock = || {
            self.shared
                .evaluated
                .lock()
                .unwrap_or_else(|e| e.into_inner())
        };
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let generation = self.snap.generation;
        let same = |e: &Evaluated| e.file == self.file && e.generation == generation;
        if terms.is_empty() {
            if let Some(e) = lock().iter().find(|e| same(e) && e.query == text) {
                return Ok(e.matched.clone());
            }
        }
        #[cfg(test)]
        EVALUATIONS.with(|n| n.set(n.get() + 1));
        let matched = Arc::new(evaluate(
            &self.conn, &self.path, terms, &self.snap, q, cancel,
        )?);
        if terms.is_empty() {
            let mut kept = lock();
            kept.retain(|e| same(e) && e.query != text);
            if kept.len() >= EVALUATIONS_KEPT {
                kept.remove(0);
            }
            kept.push(Evaluated {
                file: self.file,
                generation,
                query: text.to_string(),
                matched: matched.clone(),
            });
        }
        Ok(matched)
    }

    /// Run `f` in one read transaction, with the snapshot of the generation that transaction
    /// sees: a consistent view while the writer works, and the snapshot's lazy parts (titles)
    /// are read at its own generation.
    pub fn read<T>(&mut self, f: impl FnOnce(&Self) -> Result<T>) -> Result<T> {
        self.conn.execute_batch("BEGIN").at(&self.path)?;
        let result = self.refresh().and_then(|()| f(self));
        let _ = self.conn.execute_batch("COMMIT");
        result
    }

    fn search_in_tx(
        &self,
        q: &query::Query,
        terms: &CollectionTerms,
        sort_by: Sort,
        req: &SearchRequest,
        cancel: &AtomicBool,
    ) -> Result<SearchResponse> {
        let snap = &self.snap;
        let matched = self.evaluated(&req.query, q, terms, cancel)?;
        let total = matched.set.count() as u64;
        let facets = req
            .facets
            .then(|| facets::count(snap, &matched.set, FACET_LIMIT));
        let offset = req.offset.unwrap_or(0) as usize;
        let limit = req.limit.unwrap_or(50).min(10_000) as usize;
        let order = sort(
            &self.conn,
            &self.path,
            snap,
            &matched,
            sort_by,
            offset.saturating_add(limit),
        )?;
        let mut row = self
            .conn
            .prepare_cached("SELECT id, path, path_text, title, source FROM posts WHERE docid = ?1")
            .at(&self.path)?;
        // What a hit shows beyond the snapshot's columns is read for the hits alone.
        let mut rows = Vec::with_capacity(limit);
        for &i in order.iter().skip(offset).take(limit) {
            if cancel.load(std::sync::atomic::Ordering::Relaxed) {
                return Err(Error::Cancelled);
            }
            let found = row
                .query_row([snap.docid(i)], |r| {
                    Ok(HitRow {
                        pos: i,
                        id: r.get(0)?,
                        path: r.get(1)?,
                        path_text: r.get(2)?,
                        title: r.get(3)?,
                        source: r.get(4)?,
                    })
                })
                .optional()
                .at(&self.path)?;
            rows.extend(found);
        }
        let snippets = hit_snippets(&self.root, &rows, &matched.needles, cancel);
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Cancelled);
        }
        let mut hits = Vec::with_capacity(rows.len());
        for (r, snip) in rows.into_iter().zip(snippets) {
            let i = r.pos;
            let title_hl = highlight(&r.title, &matched.needles);
            let terms = |ids: &[u32]| ids.iter().filter_map(|&t| snap.term(t).cloned()).collect();
            hits.push(SearchHit {
                id: r.id,
                path_bytes_hex: path_bytes_hex(&r.path),
                path: r.path_text,
                title: r.title,
                date: snap.date_ms(i).and_then(rfc3339),
                author: snap
                    .author(i)
                    .and_then(|a| snap.authors.values.get(a as usize).cloned()),
                source: r.source,
                site: snap
                    .site(i)
                    .and_then(|s| snap.sites.values.get(s as usize).cloned()),
                tags: terms(snap.tags(i)),
                categories: terms(snap.categories(i)),
                snippet: snip.text,
                snippet_highlights: snip.highlights,
                title_highlights: title_hl.highlights,
                has_problem: snap.has_problem(i),
            });
        }
        Ok(SearchResponse {
            total,
            hits,
            facets,
        })
    }

    /// The paths of every post a query matches, in path order (for bulk edits and exports).
    pub fn matching_paths(
        &mut self,
        query_text: &str,
        terms: &CollectionTerms,
    ) -> Result<Vec<Vec<u8>>> {
        let q = query::parse(query_text).map_err(|e| Error::Query(e.to_string()))?;
        self.read(|s| {
            let matched = evaluate(&s.conn, &s.path, terms, &s.snap, &q, &NEVER)?;
            let sorted = by_path(&s.conn, &s.path, &s.snap, &matched.set, usize::MAX)?;
            Ok(sorted.into_iter().map(|(p, _)| p).collect())
        })
    }

    /// Facets of a query's result set alone, ending with `Error::Cancelled` soon after `cancel`
    /// is set (`Readers::facets` sets it when a search for another query supersedes them).
    pub fn facets_cancellable(
        &mut self,
        query_text: &str,
        terms: &CollectionTerms,
        cancel: &AtomicBool,
    ) -> Result<(u64, Facets)> {
        let q = query::parse(query_text).map_err(|e| Error::Query(e.to_string()))?;
        self.read(|s| {
            let matched = s.evaluated(query_text, &q, terms, cancel)?;
            Ok((
                matched.set.count() as u64,
                facets::count(&s.snap, &matched.set, FACET_LIMIT),
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;

    /// An archive of `n` posts, indexed.
    fn archive(n: usize) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for i in 0..n {
            let body = format!(
                "---\ntitle: post {i}\ndate: 2020-01-{:02}\ntags: [t{}]\nauthor: a{}\n---\nalpha beta {i} 两岸\n",
                i % 28 + 1,
                i % 7,
                i % 5
            );
            std::fs::write(dir.path().join(format!("p{i}.md")), body).unwrap();
        }
        // Posts with problems are read by path at opening: a few of them.
        for i in 0..3 {
            let body = format!("---\ntitle: [unclosed {i}\n---\nalpha 两岸\n");
            std::fs::write(dir.path().join(format!("bad{i}.md")), body).unwrap();
        }
        index_files(dir.path());
        dir
    }

    /// Index (or index again) the archive at `dir`.
    fn index_files(dir: &Path) {
        crate::scan::scan(
            dir,
            &crate::scan::ScanOptions::default(),
            &|_| {},
            &AtomicBool::new(false),
        )
        .unwrap();
    }

    fn index(dir: &Path) -> PathBuf {
        crate::store::existing_index_path(dir).unwrap()
    }

    /// The SQLite virtual-machine steps that opening a reader and answering `req` take: every
    /// row SQLite reads costs several, so a reader that read each post would take more steps
    /// than there are posts.
    fn steps_to_answer(dir: &Path, req: &SearchRequest) -> (u64, SearchResponse) {
        let mut conn = crate::store::open_for_read(&index(dir)).unwrap();
        let steps = crate::store::count_steps(&mut conn);
        let mut s = Searcher::from_connection(conn, &index(dir), dir, Arc::default()).unwrap();
        let res = s.search(req, &CollectionTerms::new()).unwrap();
        (steps.load(Ordering::Relaxed), res)
    }

    /// The snippets of a page of hits are read on two threads: each hit still gets its own
    /// post's snippet, in the hits' order, with the match highlighted.
    #[test]
    fn each_hit_gets_its_own_posts_snippet_when_they_are_read_on_two_threads() {
        let dir = archive(9);
        let mut s = Searcher::open(&index(dir.path()), dir.path()).unwrap();
        let req = SearchRequest {
            query: "两岸".into(),
            sort: Some(Sort::Path),
            limit: Some(50),
            ..Default::default()
        };
        let res = s.search(&req, &CollectionTerms::new()).unwrap();
        assert_eq!(res.hits.len(), 12, "{:?}", res.hits);
        let mut paths: Vec<&str> = res.hits.iter().map(|h| h.path.as_str()).collect();
        let in_order = paths.clone();
        paths.sort_unstable();
        assert_eq!(paths, in_order, "sorted by path, as asked");
        for h in &res.hits {
            let own = match h.path.strip_prefix('p').and_then(|p| p.strip_suffix(".md")) {
                Some(i) => format!("alpha beta {i} 两岸"),
                None => "alpha 两岸".to_string(),
            };
            assert_eq!(h.snippet, own, "{}", h.path);
            let [[a, b]] = h.snippet_highlights[..] else {
                panic!("{}: {:?}", h.path, h.snippet_highlights);
            };
            let marked: String = h
                .snippet
                .chars()
                .skip(a as usize)
                .take((b - a) as usize)
                .collect();
            assert_eq!(marked, "两岸", "{}", h.path);
        }
        // A single hit is read on this thread alone, the same way.
        let one = s
            .search(
                &SearchRequest {
                    limit: Some(1),
                    ..req.clone()
                },
                &CollectionTerms::new(),
            )
            .unwrap();
        assert_eq!(one.hits.len(), 1);
        assert_eq!(one.hits[0].snippet, res.hits[0].snippet);
    }

    /// Runs of three or more CJK characters are answered from the pairs' positions, a word
    /// joined to CJK text and two words with one character between from one posting list each:
    /// the same posts with the same scores as verifying each candidate's text, in the article and
    /// in the whole page, for runs that overlap themselves, cross the title, break at other
    /// characters, or live in posts edited since (stale postings in older segments).
    #[test]
    fn runs_and_joined_words_found_by_the_index_score_as_verifying_the_text_does() {
        let dir = tempfile::tempdir().unwrap();
        let post = |name: &str, title: &str, body: &str| {
            std::fs::write(
                dir.path().join(name),
                format!("---\ntitle: {title}\n---\n{body}\n"),
            )
            .unwrap()
        };
        // Long enough that the page around the article is told apart from it.
        let page = |article: &str, rest: &str| {
            let p = format!("<p>{article}，这是一篇很长的文章的一段正文内容，写了很多字。</p>");
            format!(
                "<nav><a href=\"/a\">{rest}</a></nav><article>{}</article><footer>{rest}</footer>",
                p.repeat(8)
            )
        };
        post("overlap.md", "哈哈", "哈哈哈哈哈哈哈哈哈 哈哈哈哈 哈哈哈");
        post(
            "title.md",
            "两岸关系新闻",
            "正文两岸关系 又是两岸关系两岸关系",
        );
        post("broken.md", "t", "两岸关 系 两岸 关系 两岸关係");
        post(
            "apart.md",
            "中国 美国",
            "中国和美国 美国 中国 中国  美国 中国美国",
        );
        post(
            "page.md",
            "p",
            &page("正文没有那个词", "两岸关系 相关文章 新冠疫苗接种"),
        );
        post(
            "both.md",
            "b",
            &page("新冠疫苗接种率 两岸关系", "两岸关系两岸关系"),
        );
        post(
            "long.md",
            "l",
            "美国总统拜登说新冠疫苗接种率上升 美国总统拜登",
        );
        post(
            "mixed.md",
            "iPhone手机评测",
            "买iPhone手机 iphone手机壳 XiPhone手机 手机iPhone手机iPhones BBC中文 bbc中",
        );
        post(
            "latin.md",
            "COVID-19",
            "covid-19 covid 19 covid-19-covid COVID—19 19 covid covid19 19 covid",
        );
        post(
            "mixed2.md",
            "m",
            &page(
                "iphone 手机 bbc 中文 covid/19",
                "iPhone手机 BBC中文网 covid-19",
            ),
        );
        for i in 0..40 {
            post(
                &format!("n{i}.md"),
                "n",
                &format!("两岸 关系 {i} 新冠 疫苗 哈 两岸关"),
            );
        }
        let scan = |dir: &Path| {
            crate::scan::scan(dir, &Default::default(), &|_| {}, &AtomicBool::new(false)).unwrap()
        };
        scan(dir.path());
        // Edited: the old text's postings stay in the first segment.
        post("title.md", "两岸关系新闻", "正文两岸关系两岸关系 两岸关系");
        post("gone.md", "g", "两岸关系 哈哈哈哈");
        scan(dir.path());
        std::fs::remove_file(dir.path().join("gone.md")).unwrap();
        scan(dir.path());
        let mut s = Searcher::open(&index(dir.path()), dir.path()).unwrap();
        s.refresh().unwrap();
        let terms = CollectionTerms::new();
        let run = |q: &str, verify: bool| {
            crate::search::exec::VERIFY_ONLY.with(|v| v.set(verify));
            let q = query::parse(q).unwrap();
            let m = evaluate(
                s.conn(),
                &s.path,
                &terms,
                s.snapshot(),
                &q,
                &AtomicBool::new(false),
            )
            .unwrap();
            crate::search::exec::VERIFY_ONLY.with(|v| v.set(false));
            let ids: Vec<usize> = m.set.iter().collect();
            let scores: Vec<u32> = ids.iter().map(|&i| m.scores[i].to_bits()).collect();
            (ids, scores)
        };
        let mut found = 0;
        for q in [
            "哈哈哈哈",
            "两岸关系",
            "两岸关系新闻",
            "新冠疫苗接种",
            "新冠疫苗接种率",
            "美国总统拜登说新冠疫苗接种率上升",
            "关系两岸关系两",
            "兩岸關係",
            "covid",
            "iphone",
            "iPhone手机",
            "手机iPhone",
            "BBC中",
            "covid-19",
            "covid 19",
            "19 covid",
        ] {
            for q in [q.to_string(), format!("page:\"{q}\"")] {
                let (by_positions, by_text) = (run(&q, false), run(&q, true));
                assert_eq!(by_positions, by_text, "{q}");
                found += by_positions.0.len();
            }
        }
        // Phrases of CJK words apart: verified, but only in the posts where their pairs align
        // (`grams::aligned_pairs`). `中国和美国` aligns and is no match.
        for p in [
            "两岸 关系",
            "两岸关 系",
            "新冠 疫苗 哈",
            "关系 新冠 疫苗",
            "iphone 手机 bbc 中文",
            "哈哈 哈哈",
            "两岸关系 又是两岸关系",
            "中国 美国",
            "美国 中国",
            "相关文章 新冠疫苗接种",
        ] {
            for q in [format!("\"{p}\""), format!("page:\"{p}\"")] {
                let (by_positions, by_text) = (run(&q, false), run(&q, true));
                assert_eq!(by_positions, by_text, "{q}");
                found += by_positions.0.len();
            }
        }
        assert!(found > 15, "the queries find posts ({found})");
        // The rest of a page is searched by `page:` only (through its own positions).
        let (article, whole) = (
            run("新冠疫苗接种", false).0,
            run("page:新冠疫苗接种", false).0,
        );
        assert!(article.len() < whole.len(), "{article:?} {whole:?}");
    }

    #[test]
    fn opening_and_a_first_page_do_not_read_every_post() {
        let (small, large) = (archive(150), archive(3_000));
        let requests = [
            // The first screen: everything, newest first, with facets over all of it.
            SearchRequest {
                sort: Some(Sort::DateDesc),
                limit: Some(20),
                facets: true,
                ..Default::default()
            },
            // A word every post holds, ranked (titles are read for ranking), and a filter.
            SearchRequest {
                query: "alpha".into(),
                limit: Some(20),
                facets: true,
                ..Default::default()
            },
            SearchRequest {
                query: "两岸 tag:t3 author:a1".into(),
                limit: Some(20),
                ..Default::default()
            },
            SearchRequest {
                query: "has:problem".into(),
                limit: Some(20),
                ..Default::default()
            },
        ];
        for req in &requests {
            let (a, small_res) = steps_to_answer(small.path(), req);
            let (b, large_res) = steps_to_answer(large.path(), req);
            if req.query == "has:problem" {
                assert_eq!((small_res.total, large_res.total), (3, 3));
                assert!(large_res.hits.iter().all(|h| h.has_problem));
            } else {
                assert!(small_res.total > 0 && large_res.total > small_res.total);
            }
            assert_eq!(large_res.hits.len(), 20.min(large_res.total as usize));
            // 20 times the posts: far fewer steps than posts, and not 20 times the steps.
            assert!(b < 3_000, "{b} steps for 3,000 posts ({})", req.query);
            assert!(
                b < 3 * a,
                "{a} steps at 150 posts, {b} at 3,000 ({})",
                req.query
            );
        }
    }

    /// A CJK query over most of a chunk counts its titles in one pass over the chunk: the
    /// ranking follows each title's own count, and a match made of the end of one title and
    /// the start of the next counts for neither.
    #[test]
    fn titles_counted_a_chunk_at_a_time_rank_by_each_titles_own_count() {
        let dir = tempfile::tempdir().unwrap();
        // Titles of one length, holding 中国 `k = i % 4` times; those of k = 0 start with 国
        // and end with 中, so that two of them side by side hold 中国 across their ends. Every
        // body holds it once.
        let title = |i: usize| match i % 4 {
            3 => format!("中国中国 {i:04} 中国甲乙"),
            2 => format!("中国中国 {i:04} 甲乙丙丁"),
            1 => format!("中国甲乙 {i:04} 甲乙丙丁"),
            _ => format!("国甲乙丙 {i:04} 甲乙丙中"),
        };
        let n = 400;
        for i in 0..n {
            let body = format!("---\ntitle: {}\n---\n中国 正文\n", title(i));
            std::fs::write(dir.path().join(format!("p{i}.md")), body).unwrap();
        }
        index_files(dir.path());
        let mut s = Searcher::open(&index(dir.path()), dir.path()).unwrap();
        let req = SearchRequest {
            query: "中国".into(),
            limit: Some(n as u32),
            ..Default::default()
        };
        let r = s.search(&req, &CollectionTerms::new()).unwrap();
        assert_eq!(r.total, n as u64);
        let k = |h: &SearchHit| {
            let i: usize = h
                .path
                .trim_start_matches('p')
                .trim_end_matches(".md")
                .parse()
                .unwrap();
            i % 4
        };
        let ks: Vec<(usize, i64)> = r.hits.iter().map(|h| (k(h), h.id)).collect();
        assert_eq!(ks.len(), n);
        // Higher counts first; posts of one count score alike and come in the order they were
        // indexed (a title counted 1 across its end would score above the others of k = 0).
        assert!(
            ks.windows(2)
                .all(|w| w[0].0 > w[1].0 || (w[0].0 == w[1].0 && w[0].1 < w[1].1)),
            "{ks:?}"
        );
        s.read(|r| {
            assert_eq!(r.snap.chunks_of_titles_read(), 1);
            Ok(())
        })
        .unwrap();
    }

    /// A query whose documents are few in each chunk has their titles looked up one by one
    /// (no chunk's titles read whole); a chunk that holds many of them is read whole and kept.
    /// Both give the titles every chunk read whole gives, and searches rank the same by them.
    #[test]
    fn titles_of_a_few_documents_are_looked_up_and_a_chunk_of_many_is_read_whole() {
        let dir = archive(4_200);
        let mut s = Searcher::open(&index(dir.path()), dir.path()).unwrap();
        let req = |q: &str| SearchRequest {
            query: q.into(),
            limit: Some(10),
            ..Default::default()
        };
        let none = CollectionTerms::new();
        // `archive`'s titles are "post {i}": each number is one post's title and body.
        let rare = s.search(&req("1234 OR 3999 OR 17"), &none).unwrap();
        assert_eq!(rare.total, 3);
        s.read(|r| {
            let snap = &r.snap;
            assert_eq!(snap.len(), 4_203);
            assert_eq!(snap.chunks_of_titles_read(), 0);
            // Seven documents across the three chunks: looked up.
            let few: Vec<usize> = (0..snap.len()).step_by(700).collect();
            let looked_up = snap.titles(&r.conn, &r.path, few.iter().copied())?;
            let got: Vec<Vec<u8>> = few.iter().map(|&i| looked_up.get(i).to_vec()).collect();
            assert_eq!(snap.chunks_of_titles_read(), 0);
            // Forty of the first chunk's and one of the last: the first chunk is read whole.
            let many = (0..40).chain([snap.len() - 1]);
            let some = snap.titles(&r.conn, &r.path, many.clone())?;
            let got_many: Vec<Vec<u8>> = many.clone().map(|i| some.get(i).to_vec()).collect();
            assert_eq!(snap.chunks_of_titles_read(), 1);
            let all = snap.all_titles(&r.conn, &r.path)?;
            assert_eq!(snap.chunks_of_titles_read(), 3);
            let want: Vec<Vec<u8>> = few.iter().map(|&i| all.get(i).to_vec()).collect();
            let want_many: Vec<Vec<u8>> = many.map(|i| all.get(i).to_vec()).collect();
            assert_eq!(got, want);
            assert_eq!(got_many, want_many);
            assert!(want
                .iter()
                .chain(&want_many)
                .all(|t| t.starts_with(b"post ")));
            Ok(())
        })
        .unwrap();
        // Every chunk read now: the rare query answers as before.
        assert_eq!(s.search(&req("1234 OR 3999 OR 17"), &none).unwrap(), rare);
    }

    #[test]
    fn path_order_is_the_same_read_by_lookups_or_by_walking_the_path_index() {
        // 4,203 posts: the whole archive walks the path index; a tag reads its paths one by one.
        let dir = archive(4_200);
        let mut s = Searcher::open(&index(dir.path()), dir.path()).unwrap();
        let none = CollectionTerms::new();
        let all = s.matching_paths("", &none).unwrap();
        assert_eq!(all.len(), 4_203);
        assert!(all.windows(2).all(|w| w[0] < w[1]));
        let tagged = s.matching_paths("tag:t3", &none).unwrap();
        // `archive` tags post i with t{i % 7}.
        let expected: Vec<Vec<u8>> = all
            .iter()
            .filter(|p| {
                let name = String::from_utf8_lossy(p);
                let i = name.strip_prefix('p').and_then(|n| n.strip_suffix(".md"));
                i.and_then(|i| i.parse::<usize>().ok())
                    .is_some_and(|i| i % 7 == 3)
            })
            .cloned()
            .collect();
        assert!(expected.len() > 500 && expected.len() <= 4_096);
        assert_eq!(tagged, expected);
        for query in ["", "tag:t3"] {
            let page = s
                .search(
                    &SearchRequest {
                        query: query.into(),
                        sort: Some(Sort::Path),
                        offset: Some(10),
                        limit: Some(25),
                        ..Default::default()
                    },
                    &none,
                )
                .unwrap();
            let paths: Vec<&str> = page.hits.iter().map(|h| h.path.as_str()).collect();
            let list = if query.is_empty() { &all } else { &tagged };
            let want: Vec<String> = list[10..35]
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect();
            assert_eq!(paths, want, "{query}");
        }
    }

    #[test]
    fn damaged_metadata_columns_are_rebuilt_from_the_posts_with_the_same_results() {
        let dir = archive(2_100);
        let req = SearchRequest {
            query: "两岸 tag:t3".into(),
            sort: Some(Sort::Title),
            limit: Some(30),
            facets: true,
            ..Default::default()
        };
        let (_, before) = steps_to_answer(dir.path(), &req);
        let conn = rusqlite::Connection::open(index(dir.path())).unwrap();
        conn.execute_batch(
            "UPDATE doc_columns SET cols = x'ffffffff0f', titles = substr(titles, 1, 3)",
        )
        .unwrap();
        drop(conn);
        let mut s = Searcher::open(&index(dir.path()), dir.path()).unwrap();
        assert_eq!(s.snapshot().rebuilt_chunks, 2);
        let after = s.search(&req, &CollectionTerms::new()).unwrap();
        assert_eq!(before, after);
        assert!(before.total > 0);
    }

    #[test]
    fn a_query_is_evaluated_once_for_its_pages_and_facets_and_again_after_a_write() {
        let dir = archive(30);
        let shared = Arc::new(SharedSnapshot::default());
        let open =
            || Searcher::open_shared(&index(dir.path()), dir.path(), shared.clone()).unwrap();
        let evaluations = || EVALUATIONS.with(|n| n.get());
        let terms = CollectionTerms::new();
        let page = |s: &mut Searcher, q: &str, offset| {
            let req = SearchRequest {
                query: q.into(),
                limit: Some(5),
                offset: Some(offset),
                ..Default::default()
            };
            s.search(&req, &terms).unwrap()
        };
        let (mut a, mut b) = (open(), open());
        let start = evaluations();
        let first = page(&mut a, "两岸", 0);
        assert_eq!(evaluations(), start + 1);
        // The next page, on another reader, and the facets: the same evaluation.
        let second = page(&mut b, "两岸", 5);
        let (total, _) = a.facets_cancellable("两岸", &terms, &NEVER).unwrap();
        assert_eq!(evaluations(), start + 1);
        assert_eq!((first.total, second.total, total), (33, 33, 33));
        let ids: Vec<i64> = first
            .hits
            .iter()
            .chain(&second.hits)
            .map(|h| h.id)
            .collect();
        let once: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(once.len(), 10);
        // Another query, then two more: the oldest is no longer kept.
        page(&mut a, "alpha", 0);
        page(&mut a, "beta", 0);
        assert_eq!(evaluations(), start + 3);
        page(&mut a, "两岸", 0);
        assert_eq!(evaluations(), start + 4);
        // A write makes a new generation: evaluated again, and its answer is the new one.
        std::fs::write(dir.path().join("new.md"), "---\ntitle: new\n---\n两岸\n").unwrap();
        index_files(dir.path());
        assert_eq!(page(&mut b, "两岸", 0).total, 34);
        assert_eq!(evaluations(), start + 5);
        // A query naming a collection is never kept.
        let mut named = CollectionTerms::new();
        named.insert(
            "c".into(),
            super::super::exec::CollectionTerm::Posts(Vec::new()),
        );
        let req = SearchRequest {
            query: "collection:c".into(),
            ..Default::default()
        };
        a.search(&req, &named).unwrap();
        a.search(&req, &named).unwrap();
        assert_eq!(evaluations(), start + 7);
    }
}
