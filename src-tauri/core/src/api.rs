//! The one surface that the desktop app, the CLI and `serve` all call. Requests and responses are
//! serde structs; every failure is an `ApiError { code, message, path? }`.

use crate::collections::{
    self, CollectionError, CollectionFile, CollectionKind, CollectionSummary, Collections, Member,
};
use crate::edit::{
    EditOutcome, EditPreview, EditProgress, EditRequest, EditTarget, Edited, Editor, HistoryEntry,
    Recovery, Wrote,
};
use crate::edit::{ResolvePreview, ResolveRequest};
use crate::error::{Error, SqlContext};
use crate::export::{ExportProgress, ExportRequest, ExportSource, ExportSummary};
use crate::files::{from_hex, to_hex};
use crate::scan::{ScanOptions, ScanProgress, ScanSummary};
use crate::search::exec::CollectionTerms;
use crate::search::facets::Facets;
use crate::search::readers::Readers;
use crate::search::searcher::{
    path_bytes_hex, read_post_text_and_article, rfc3339, SearchRequest, SearchResponse, Searcher,
};
use rusqlite::OptionalExtension;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

pub use crate::error::{ApiError, ApiResult, ErrorCode};

/// One problem with one file, as listed to the user.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct ProblemRow {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes_hex: Option<String>,
    pub kind: String,
    pub message: String,
    pub line: Option<u32>,
    pub column: Option<u32>,
}

/// Everything about one post.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct PostDetail {
    pub id: i64,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path_bytes_hex: Option<String>,
    pub title: String,
    pub date: Option<String>,
    pub date_raw: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub site: Option<String>,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub layout: Option<String>,
    /// Every front matter key, in file order.
    #[ts(type = "Record<string, unknown>")]
    pub fields: serde_json::Value,
    pub epoch_ms: Option<i64>,
    /// The page text of the body (see `Post::text`).
    pub text: String,
    /// The article's own text: byte ranges of `text`, whole lines (see `Post::article`).
    pub article: Vec<(u32, u32)>,
    pub encoding: String,
    pub front_matter: String,
    /// BLAKE3 of the file as indexed (hex): edits send it back so a file changed on disk since
    /// is a conflict, not overwritten.
    pub hash: String,
    /// The front matter exactly as written (between the delimiter lines), for the raw editor;
    /// None without front matter or for a file that is not clean UTF-8.
    pub front_matter_raw: Option<String>,
    pub problems: Vec<ProblemRow>,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct Stats {
    pub archive: String,
    pub index_path: String,
    pub index_bytes: u64,
    pub schema_version: i64,
    pub posts: u64,
    pub problems: u64,
    pub files_with_problems: u64,
    pub tags: u64,
    pub categories: u64,
    pub authors: u64,
    pub sites: u64,
    pub earliest: Option<String>,
    pub latest: Option<String>,
    pub segments: u64,
}

/// The size of the index at one moment.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct IndexFigures {
    /// Bytes of the index file and its WAL.
    pub bytes: u64,
    pub segments: u64,
}

/// What a compaction or a rebuild of the index did.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct IndexMaintenance {
    pub before: IndexFigures,
    pub after: IndexFigures,
    /// Postings read and kept (compaction only: a rebuild writes them afresh).
    pub postings_before: Option<u64>,
    pub postings_after: Option<u64>,
    /// Rows of stored text, fields and signatures that belonged to no post (compaction).
    pub dead_rows: u64,
    /// The scan that filled the index again (rebuild only).
    pub scan: Option<ScanSummary>,
    /// Seconds spent giving space back to the file system (`VACUUM`).
    pub vacuum_seconds: f64,
    pub seconds: f64,
}

#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct FacetsResponse {
    pub total: u64,
    pub facets: Facets,
}

/// What a shell tells the UI about the open archive.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct ArchiveInfo {
    /// The folder's own name.
    pub name: String,
    /// The absolute path of the archive folder.
    pub root: String,
    pub indexed: bool,
    /// How the UI talks to the core.
    pub transport: Transport,
}

/// How a UI talks to the core.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Transport {
    /// The desktop app's IPC.
    Tauri,
    /// `shelfmark serve`.
    Http,
}

/// An open archive: its root, readers of its index (one per concurrent caller, so a slow
/// search does not hold up a `show`; see `search::readers`), and its scan lock.
pub struct Archive {
    root: PathBuf,
    readers: Readers,
    /// Held by the watcher's scans and by edits while they write and index files, so the scan
    /// an edit's own writes trigger finds nothing to do. The archive's own: two archives in one
    /// process never wait for each other.
    scan_lock: Arc<Mutex<()>>,
    /// The folder the last export (not a dry run) wrote into: the export folder, or the folder
    /// of its zip. A shell may open it with the system (never a folder the UI names).
    last_export: Mutex<Option<PathBuf>>,
}

impl Archive {
    /// Open an archive folder. Does not scan; see `index`.
    pub fn open(root: &Path) -> ApiResult<Archive> {
        let meta = std::fs::metadata(root).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::NoSuchFolder {
                path: root.to_path_buf(),
            },
            _ => Error::Io {
                path: root.to_path_buf(),
                source,
            },
        })?;
        if !meta.is_dir() {
            return Err(Error::NotAFolder {
                path: root.to_path_buf(),
            }
            .into());
        }
        let root = root.canonicalize().map_err(|source| Error::Io {
            path: root.to_path_buf(),
            source,
        })?;
        Ok(Archive {
            readers: Readers::new(&root),
            root,
            scan_lock: Arc::default(),
            last_export: Mutex::default(),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Name, path and state of the archive, for a shell speaking over `transport`.
    pub fn info(&self, transport: Transport) -> ArchiveInfo {
        let root = &self.root;
        ArchiveInfo {
            name: root
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| root.display().to_string()),
            root: root.display().to_string(),
            indexed: self.is_indexed(),
            transport,
        }
    }

    /// Whether an index exists already.
    pub fn is_indexed(&self) -> bool {
        crate::store::existing_index_path(&self.root).is_some()
    }

    /// Create or update the index.
    pub fn index(
        &self,
        opts: &ScanOptions,
        progress: &(dyn Fn(ScanProgress) + Sync),
        cancel: &AtomicBool,
    ) -> ApiResult<ScanSummary> {
        Ok(crate::scan::scan(&self.root, opts, progress, cancel)?)
    }

    /// Compact the index: every segment merged into one without the postings of edited or
    /// removed posts, rows that belong to no post deleted, then the space given back (see
    /// `Writer::compact`). Readers keep answering from the old index until it commits; a crash
    /// or a cancel leaves it as it was. `progress` counts blocks of postings.
    pub fn compact_index(
        &self,
        progress: &(dyn Fn(ScanProgress) + Sync),
        cancel: &AtomicBool,
    ) -> ApiResult<IndexMaintenance> {
        let started = std::time::Instant::now();
        let _quiet = self.scan_lock.lock().unwrap_or_else(|e| e.into_inner());
        let index =
            crate::store::existing_index_path(&self.root).ok_or_else(|| Error::NotIndexed {
                path: self.root.clone(),
            })?;
        let mut writer = crate::store::Writer::open(&index)?;
        let before = index_figures(&writer)?;
        let done = writer.compact(
            &|done, total| progress(ScanProgress { done, total }),
            cancel,
        )?;
        let vacuum = std::time::Instant::now();
        writer.reclaim_space()?;
        let vacuum_seconds = vacuum.elapsed().as_secs_f64();
        let after = index_figures(&writer)?;
        Ok(IndexMaintenance {
            before,
            after,
            postings_before: Some(done.postings_before),
            postings_after: Some(done.postings_after),
            dead_rows: done.dead_rows,
            scan: None,
            vacuum_seconds,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Drop the index and index every file again (`scan::rebuild`: one transaction, so readers,
    /// a crash or a cancel keep the old index until it is complete). Nothing else under
    /// `.shelfmark/` is touched: collections, the journal, decisions and settings stay.
    pub fn rebuild_index(
        &self,
        opts: &ScanOptions,
        progress: &(dyn Fn(ScanProgress) + Sync),
        cancel: &AtomicBool,
    ) -> ApiResult<IndexMaintenance> {
        let started = std::time::Instant::now();
        let _quiet = self.scan_lock.lock().unwrap_or_else(|e| e.into_inner());
        // A damaged index has no figures to give: the rebuild sets it aside (`scan::rebuild`).
        let before = match crate::store::existing_index_path(&self.root) {
            Some(index) => {
                match crate::store::Writer::open(&index).and_then(|w| index_figures(&w)) {
                    Err(e) if e.is_damaged() => IndexFigures::default(),
                    figures => figures?,
                }
            }
            None => IndexFigures::default(),
        };
        let scan = crate::scan::rebuild(&self.root, opts, progress, cancel)?;
        let index =
            crate::store::existing_index_path(&self.root).ok_or_else(|| Error::NotIndexed {
                path: self.root.clone(),
            })?;
        let mut writer = crate::store::Writer::open(&index)?;
        let vacuum = std::time::Instant::now();
        writer.reclaim_space()?;
        let vacuum_seconds = vacuum.elapsed().as_secs_f64();
        let after = index_figures(&writer)?;
        Ok(IndexMaintenance {
            before,
            after,
            postings_before: None,
            postings_after: None,
            dead_rows: 0,
            scan: Some(scan),
            vacuum_seconds,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// Watch the archive for changes on disk: `on_change` hears (on a worker thread) the summary
    /// of each incremental scan that changed the index (see `watch`). Dropping the watcher stops it.
    pub fn watch(
        &self,
        on_change: impl Fn(ScanSummary) + Send + 'static,
    ) -> ApiResult<crate::watch::Watcher> {
        Ok(crate::watch::watch(
            &self.root,
            self.scan_lock.clone(),
            on_change,
        )?)
    }

    /// Hold the archive's scan lock, as an edit does (for tests of the watcher).
    #[cfg(test)]
    pub(crate) fn hold_scan_lock(&self) -> std::sync::MutexGuard<'_, ()> {
        self.scan_lock.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Run `f` with a reader of the index of its own (opened when first needed).
    fn with_searcher<T>(&self, f: impl FnOnce(&mut Searcher) -> Result<T, Error>) -> ApiResult<T> {
        Ok(self.readers.with(f)?)
    }

    /// Open the index and load its snapshot and titles now, so the first searches do not pay
    /// for them.
    pub fn warm_up(&self) -> ApiResult<()> {
        self.with_searcher(|s| s.warm_up())
    }

    /// Search. A search still running when another query (or order) is asked for is
    /// superseded: it stops and answers `cancelled` (see `search::readers`).
    pub fn search(&self, req: &SearchRequest) -> ApiResult<SearchResponse> {
        let terms = self.collection_terms(&req.query)?;
        Ok(self.readers.search(req, &terms)?)
    }

    pub fn facets(&self, query: &str) -> ApiResult<FacetsResponse> {
        let terms = self.collection_terms(query)?;
        let (total, facets) = self.readers.facets(query, &terms)?;
        Ok(FacetsResponse { total, facets })
    }

    /// The paths of every post a query matches, in path order.
    fn matching_paths(&self, query: &str) -> ApiResult<Vec<Vec<u8>>> {
        let terms = self.collection_terms(query)?;
        self.with_searcher(|s| s.matching_paths(query, &terms))
    }

    /// What the `collection:` terms of a query stand for (see `collection_terms`); most queries
    /// name none, and then nothing is read.
    fn collection_terms(&self, query: &str) -> ApiResult<CollectionTerms> {
        if !crate::collection_terms::names_any(query) {
            return Ok(CollectionTerms::new());
        }
        self.with_searcher(|s| {
            crate::collection_terms::resolve(&self.root, query, s.conn(), Path::new("index"))
        })
    }

    /// The problems of the archive, sorted by path.
    pub fn problems(&self) -> ApiResult<Vec<ProblemRow>> {
        self.with_searcher(|s| {
            let conn = s.conn();
            let p = Path::new("index");
            let mut stmt = conn
                .prepare("SELECT path, path_text, kind, message, line, col FROM problems ORDER BY path, id")
                .at(p)?;
            let rows = stmt
                .query_map([], |r| {
                    let bytes: Vec<u8> = r.get(0)?;
                    Ok(ProblemRow {
                        path_bytes_hex: path_bytes_hex(&bytes),
                        path: r.get(1)?,
                        kind: r.get(2)?,
                        message: r.get(3)?,
                        line: r.get(4)?,
                        column: r.get(5)?,
                    })
                })
                .at(p)?;
            rows.collect::<Result<Vec<_>, _>>().at(p)
        })
    }

    /// One post by its path relative to the archive (or the hex of its bytes).
    pub fn show(&self, path: &str) -> ApiResult<PostDetail> {
        let problems = self.problems()?;
        self.with_searcher(|s| {
            s.refresh()?;
            let conn = s.conn();
            let p = Path::new("index");
            let bytes = path_bytes_from_arg(path);
            let row = conn
                .query_row(
                    &format!(
                        "SELECT id, path, path_text, date_ms, site, epoch_ms, encoding, front_matter, docid, hash,
                         {} FROM posts WHERE path = ?1",
                        crate::store::fields::COLUMNS
                    ),
                    [&bytes],
                    |r| {
                        let c = crate::store::fields::Columns::read(r, 10)?;
                        let path_b: Vec<u8> = r.get(1)?;
                        Ok((
                            PostDetail {
                                id: r.get(0)?,
                                path_bytes_hex: path_bytes_hex(&path_b),
                                path: r.get(2)?,
                                title: c.title,
                                date: r.get::<_, Option<i64>>(3)?.and_then(rfc3339),
                                date_raw: c.date_raw,
                                author: c.author,
                                source: c.source,
                                site: r.get(4)?,
                                tags: c.tags,
                                categories: c.categories,
                                layout: c.layout,
                                fields: c
                                    .fields
                                    .map_or(serde_json::Value::Null, serde_json::Value::Object),
                                epoch_ms: r.get(5)?,
                                text: String::new(),
                                article: Vec::new(),
                                encoding: r.get(6)?,
                                front_matter: r.get(7)?,
                                hash: to_hex(&r.get::<_, Vec<u8>>(9)?),
                                front_matter_raw: None,
                                problems: Vec::new(),
                            },
                            r.get::<_, i64>(8)?,
                            path_b,
                        ))
                    },
                )
                .optional()
                .at(p)?;
            let Some((mut detail, docid, path_b)) = row else {
                return Err(Error::PostNotFound { path: path.to_string() });
            };
            let _ = docid;
            // The index is untrusted too: a path in it that names no readable post is refused.
            if let Err(reason) = crate::postfile::resolve(s.root(), &path_b) {
                if reason != crate::postfile::Refusal::Missing {
                    return Err(Error::Refused { path: path.to_string(), reason });
                }
            }
            (detail.text, detail.article) =
                read_post_text_and_article(s.root(), &path_b).unwrap_or_default();
            detail.front_matter_raw = raw_front_matter(s.root(), &path_b);
            let hex = path_bytes_hex(&path_b);
            detail.problems = problems
                .into_iter()
                .filter(|pr| pr.path == detail.path && pr.path_bytes_hex == hex)
                .collect();
            Ok(detail)
        })
    }

    /// The body of one post as sanitized HTML, with remote images parked (see `render`).
    /// With a `query`, its words and phrases are marked (`<mark class="hit">`) in the sanitized
    /// HTML, matched as the search matches them (folded: Traditional = Simplified, full-width =
    /// half-width, case).
    ///
    /// By default only the article is shown (`post::article_source`: the page around it, such as
    /// navigation, related lists and share bars, is left out); `whole_page` shows all of it, as
    /// does a body whose article is the whole text. `matches` counts the marks shown;
    /// `hidden_matches` the query's matches in the page text left out.
    pub fn render_body(
        &self,
        path: &str,
        query: Option<&str>,
        whole_page: bool,
    ) -> ApiResult<crate::render::RenderedBody> {
        let rel = path_bytes_from_arg(path);
        // Only files the index knows as posts: never an arbitrary path, nor a link out of the archive.
        let known = self.with_searcher(|s| {
            s.refresh()?;
            s.conn()
                .query_row("SELECT 1 FROM posts WHERE path = ?1", [&rel], |_| Ok(()))
                .optional()
                .at(Path::new("index"))
        })?;
        if known.is_none() {
            return Err(Error::PostNotFound {
                path: path.to_string(),
            }
            .into());
        }
        // The index is untrusted too (it may have come with the archive): the path is checked.
        let (_, bytes) = crate::postfile::read(&self.root, &rel, crate::postfile::max_bytes())
            .map_err(|reason| Error::Refused {
                path: path.to_string(),
                reason,
            })?;
        let body = crate::post::body_source(&bytes).unwrap_or_default();
        // The title (the article leaves it out where the page repeats it on top).
        let name = path.rsplit('/').next().unwrap_or(path);
        let opts = crate::post::ParseOptions {
            skip_body_text: true,
            ..crate::post::ParseOptions::default()
        };
        let title = crate::post::parse(name, &bytes, &opts)
            .post
            .map(|p| p.title)
            .unwrap_or_default();
        let article = crate::post::article_source(&body, &title);
        let mut rendered = match &article {
            Some(a) if !whole_page => {
                let only = crate::render::article_html(&body, &a.runs);
                // Nothing left of the article once its runs were kept off markup: the page.
                if only.html.trim().is_empty() {
                    crate::render::body_html(&body)
                } else {
                    only
                }
            }
            _ => crate::render::body_html(&body),
        };
        let to_u32 = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        rendered.page_chars = article
            .as_ref()
            .map_or(0, |a| to_u32(a.hidden.chars().count()));
        // An invalid query marks nothing: the reader still shows the post.
        let needles = query
            .and_then(|q| crate::search::query::parse(q).ok())
            .map(|q| crate::search::exec::needles(&q))
            .unwrap_or_default();
        if !needles.is_empty() {
            let find = |text: &str| crate::search::matcher::match_byte_ranges(text, &needles);
            let (html, count) = crate::render::mark_matches(&rendered.html, &find);
            rendered.html = html;
            rendered.matches = to_u32(count);
            if let Some(a) = article.as_ref().filter(|_| rendered.article) {
                rendered.hidden_matches = to_u32(find(&a.hidden).len());
            }
        }
        Ok(rendered)
    }

    pub fn stats(&self) -> ApiResult<Stats> {
        let index =
            crate::store::existing_index_path(&self.root).ok_or_else(|| Error::NotIndexed {
                path: self.root.clone(),
            })?;
        let index_bytes = ["", "-wal"]
            .iter()
            .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", index.display())).ok())
            .map(|m| m.len())
            .sum();
        let root = self.root.display().to_string();
        self.with_searcher(|s| {
            s.refresh()?;
            let conn = s.conn();
            let p = index.as_path();
            let one = |sql: &str| {
                conn.query_row(sql, [], |r| r.get::<_, Option<i64>>(0))
                    .at(p)
            };
            let snap = s.snapshot();
            let mut tags = std::collections::HashSet::new();
            let mut cats = std::collections::HashSet::new();
            for i in 0..snap.len() {
                tags.extend(snap.tags(i).iter().copied());
                cats.extend(snap.categories(i).iter().copied());
            }
            Ok(Stats {
                archive: root,
                index_path: index.display().to_string(),
                index_bytes,
                schema_version: crate::store::SCHEMA_VERSION,
                posts: snap.len() as u64,
                problems: one("SELECT count(*) FROM problems")?.unwrap_or(0) as u64,
                files_with_problems: one("SELECT count(DISTINCT path) FROM problems")?.unwrap_or(0)
                    as u64,
                tags: tags.len() as u64,
                categories: cats.len() as u64,
                authors: snap.authors.values.len() as u64,
                sites: snap.sites.values.len() as u64,
                earliest: one("SELECT min(date_ms) FROM posts")?.and_then(rfc3339),
                latest: one("SELECT max(date_ms) FROM posts")?.and_then(rfc3339),
                segments: one("SELECT count(*) FROM segments")?.unwrap_or(0) as u64,
            })
        })
    }

    /// Fetches one remote image of a post for the reader, as a `data:` URL (see `fetch`). Only
    /// addresses that the post itself names are fetched, so the UI cannot be used to reach
    /// anything else; the user asks for this explicitly ("load images"). The post's list of
    /// addresses is kept while its file is unchanged (`fetch::PostImages`), so loading a post's
    /// images renders it once, not once per image.
    pub fn fetch_image(&self, path: &str, url: &str) -> ApiResult<crate::fetch::FetchedImage> {
        use std::os::unix::ffi::OsStrExt;
        let wanted = crate::fetch::normalize(url);
        let rel = path_bytes_from_arg(path);
        let file = self.root.join(std::ffi::OsStr::from_bytes(&rel));
        let named = crate::fetch::POST_IMAGES.names(&self.root, path, &file, &wanted, || {
            // The whole page: an image the user may fetch can be anywhere in the file.
            ApiResult::Ok(self.render_body(path, None, true)?.remote_images)
        })?;
        if !named {
            return Err(ApiError {
                code: ErrorCode::BadRequest,
                message: format!("The post {path} has no image at {url}."),
                path: Some(path.to_string()),
            });
        }
        Ok(crate::fetch::fetch_image(&wanted)?)
    }
}

/// The data-quality workbench (see `crate::lint`).
impl Archive {
    /// Every kind of finding with its count and fixes, and one page of findings.
    pub fn lint(&self, opts: &crate::lint::LintOptions) -> ApiResult<crate::lint::LintReport> {
        let mut report = self.with_searcher(|s| Ok(crate::lint::report(s.conn(), opts)))??;
        if opts.duplicates || opts.kind.as_deref() == Some(crate::lint::DUPLICATES) {
            let found = self.duplicates(
                &crate::dupes::DuplicatesRequest::default(),
                &|_| {},
                &AtomicBool::new(false),
            )?;
            crate::lint::add_duplicates(&mut report, &found.groups, opts);
        }
        Ok(report)
    }

    /// A kind's fix (its certain one, or the choice `fix` names) as one edit request.
    pub fn lint_fix(&self, kind: &str, fix: Option<&str>) -> ApiResult<crate::lint::LintFix> {
        self.with_searcher(|s| Ok(crate::lint::fix_request(s.conn(), kind, fix)))?
    }
}

/// The edit surface of an archive (see `crate::edit`).
impl Archive {
    /// The files an edit request names, each with the hash the user saw (if given).
    fn edit_targets(&self, target: &EditTarget) -> ApiResult<Vec<crate::edit::TargetFile>> {
        match target {
            EditTarget::Paths { paths, hashes } => {
                let hashes = hashes.as_deref().unwrap_or_default();
                if !hashes.is_empty() && hashes.len() != paths.len() {
                    return Err(Error::Edit("give one hash per path, or none".into()).into());
                }
                paths
                    .iter()
                    .enumerate()
                    .map(|(i, p)| {
                        let seen = hashes.get(i).map(|h| seen_hash(h)).transpose()?;
                        Ok((path_bytes_from_arg(p), seen))
                    })
                    .collect::<ApiResult<Vec<_>>>()
                    .and_then(|targets| self.only_known(targets))
            }
            EditTarget::Query { query } => {
                let paths = self.matching_paths(query)?;
                Ok(paths.into_iter().map(|p| (p, None)).collect())
            }
        }
    }

    /// Keep only paths the index knows as posts: a command that names a post never reaches a
    /// file the scanner did not index (`.env`, `.git/config`, `/etc/passwd`). The files are
    /// checked again on disk when they are read (`postfile`).
    fn only_known<T>(&self, targets: Vec<(Vec<u8>, T)>) -> ApiResult<Vec<(Vec<u8>, T)>> {
        let unknown = self.with_searcher(|s| {
            let mut stmt = s
                .conn()
                .prepare_cached("SELECT 1 FROM posts WHERE path = ?1")
                .at(Path::new("index"))?;
            for (rel, _) in &targets {
                if !stmt.exists([rel]).at(Path::new("index"))? {
                    return Ok(Some(rel.clone()));
                }
            }
            Ok(None)
        })?;
        let Some(rel) = unknown else {
            return Ok(targets);
        };
        let path = String::from_utf8_lossy(&rel).into_owned();
        // Say why the scanner passed it by, when the path itself tells (a link out, not a post).
        Err(match crate::postfile::resolve(&self.root, &rel) {
            Err(reason) if reason != crate::postfile::Refusal::Missing => {
                Error::Refused { path, reason }
            }
            _ => Error::PostNotFound { path },
        }
        .into())
    }

    fn plan_edit(&self, req: &EditRequest) -> ApiResult<(String, crate::edit::Plan)> {
        if req.ops.is_empty() {
            return Err(Error::Edit("the edit has no changes in it".into()).into());
        }
        let targets = self.edit_targets(&req.target)?;
        let label = req
            .label
            .clone()
            .unwrap_or_else(|| crate::edit::describe(&req.ops));
        Ok((label, crate::edit::plan(&self.root, &targets, &req.ops)))
    }

    /// What an edit would change, with diffs of the first `diffs` files. Writes nothing.
    pub fn preview_edit(&self, req: &EditRequest, diffs: usize) -> ApiResult<EditPreview> {
        let (label, plan) = self.plan_edit(req)?;
        Ok(crate::edit::preview(label, &plan, diffs))
    }

    /// Apply an edit: journal, write, update the index.
    pub fn apply_edit(
        &self,
        req: &EditRequest,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
    ) -> ApiResult<EditOutcome> {
        let editor = Editor::new(&self.root);
        // Say so before reading thousands of files (apply checks again under the lock).
        if let Some(op) = editor.interrupted() {
            return Err(Error::Interrupted {
                id: op.id,
                label: op.label,
            }
            .into());
        }
        let (label, plan) = self.plan_edit(req)?;
        self.writing(|| editor.apply(&label, &req.ops, plan, progress, cancel))
    }

    /// Run an operation of the editor under the scan lock (the watcher waits until the files are
    /// written and indexed), then bring the index and the collections up to date from the files
    /// it wrote, whether or not it succeeded as a whole.
    fn writing(&self, op: impl FnOnce() -> Wrote<EditOutcome>) -> ApiResult<EditOutcome> {
        let _quiet = self.scan_lock.lock().unwrap_or_else(|e| e.into_inner());
        let Wrote { result, files } = op();
        self.after_writes(&files)?;
        Ok(result?)
    }

    /// The index reads the written files again (keeping the text of those whose title and body
    /// did not change), and collections note their new content hashes.
    fn after_writes(&self, files: &[Edited]) -> ApiResult<()> {
        if files.is_empty() {
            return Ok(());
        }
        let edited: Vec<crate::scan::Edited> = files
            .iter()
            .map(|e| crate::scan::Edited {
                path: e.path.clone(),
                same_text_as: e.same_text_as,
            })
            .collect();
        crate::scan::update_paths(&self.root, &edited, &ScanOptions::default())?;
        let paths: Vec<Vec<u8>> = files.iter().map(|e| e.path.clone()).collect();
        collections::follow_writes(&self.root, &paths);
        Ok(())
    }

    /// Undo the last operation (an interrupted one is rolled back completely).
    pub fn undo(&self) -> ApiResult<EditOutcome> {
        self.writing(|| Editor::new(&self.root).undo())
    }

    pub fn redo(&self) -> ApiResult<EditOutcome> {
        self.writing(|| Editor::new(&self.root).redo())
    }

    /// Every operation in the journal, oldest first.
    pub fn history(&self) -> ApiResult<Vec<HistoryEntry>> {
        Ok(Editor::new(&self.root).history())
    }

    /// What the journal's operation `id` changed: its files, with diffs of the first `max_files`
    /// (each cut to about `max_diff` bytes).
    pub fn operation_detail(
        &self,
        id: u64,
        max_files: usize,
        max_diff: usize,
    ) -> ApiResult<crate::edit::OperationDetail> {
        Editor::new(&self.root)
            .detail(id, max_files, max_diff)?
            .ok_or_else(|| {
                ApiError::new(
                    crate::error::ErrorCode::NotFound,
                    format!("the history has no operation {id}"),
                )
            })
    }

    /// The operation that was interrupted (by a crash or kill), if any: offer to finish or roll
    /// it back.
    /// Keep the undo journal within `keep` operations and `max_bytes` (saved as the archive's
    /// rule when given), removing the oldest operations beyond it.
    pub fn prune_history(
        &self,
        keep: Option<u64>,
        max_bytes: Option<u64>,
    ) -> ApiResult<crate::edit::PruneOutcome> {
        let (mut settings, _) = crate::settings::load(&self.root);
        if keep.is_some() || max_bytes.is_some() {
            if let Some(k) = keep {
                settings.journal.keep_operations = k;
            }
            if let Some(b) = max_bytes {
                settings.journal.max_bytes = b;
            }
            crate::settings::save(&self.root, &settings).map_err(|source| Error::Write {
                path: self.root.join(crate::dotdir::DOT_DIR).join("settings.json"),
                source,
            })?;
        }
        Ok(crate::edit::Editor::new(&self.root).prune(Some(settings.journal))?)
    }

    pub fn interrupted(&self) -> ApiResult<Option<HistoryEntry>> {
        let editor = Editor::new(&self.root);
        let id = editor.interrupted().map(|op| op.id);
        Ok(editor.history().into_iter().find(|h| Some(h.id) == id))
    }

    pub fn recover(&self, how: Recovery) -> ApiResult<EditOutcome> {
        self.writing(|| Editor::new(&self.root).recover(how))
    }
}

/// Resolving a group of duplicates (see `crate::edit::resolve`).
impl Archive {
    fn plan_resolve(&self, req: &ResolveRequest) -> ApiResult<crate::edit::ResolvePlan> {
        let hashes = req.hashes.clone().unwrap_or_default();
        let mut targets = std::iter::once(&req.keep)
            .chain(req.others.iter())
            .map(|p| {
                let seen = hashes.get(p).map(|h| seen_hash(h)).transpose()?;
                Ok((path_bytes_from_arg(p), seen))
            })
            .collect::<ApiResult<Vec<_>>>()
            .and_then(|targets| self.only_known(targets))?;
        let others = targets.split_off(1);
        let keep = targets
            .pop()
            .ok_or_else(|| edit_error("name the post to keep".into()))?;
        Ok(crate::edit::plan_resolve(
            &self.root,
            &keep,
            &others,
            &req.action,
            req.record_sources,
        )?)
    }

    /// What resolving a group of duplicates would do. Writes nothing.
    pub fn preview_resolve(&self, req: &ResolveRequest) -> ApiResult<ResolvePreview> {
        Ok(self.plan_resolve(req)?.preview)
    }

    /// Resolve a group of duplicates: one operation of the journal (one undo), then the index and
    /// the collections follow the written, moved and deleted files.
    pub fn resolve_duplicates(
        &self,
        req: &ResolveRequest,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
    ) -> ApiResult<EditOutcome> {
        let editor = Editor::new(&self.root);
        if let Some(op) = editor.interrupted() {
            return Err(Error::Interrupted {
                id: op.id,
                label: op.label,
            }
            .into());
        }
        let plan = self.plan_resolve(req)?;
        if cancel.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(Error::Cancelled.into());
        }
        let total = plan.files.files.len() as u64;
        progress(EditProgress { done: 0, total });
        let outcome = self.writing(|| editor.apply_files(&plan.label, &plan.ops, plan.files))?;
        progress(EditProgress { done: total, total });
        Ok(outcome)
    }
}

/// A collection's posts, in its order.
#[derive(Debug, Clone, Serialize, PartialEq, ts_rs::TS)]
#[ts(export)]
pub struct CollectionPosts {
    pub collection: CollectionSummary,
    /// Relative paths (lossy for names that are not UTF-8).
    pub paths: Vec<String>,
    /// Members whose file is gone (not found by path nor by content).
    pub missing: Vec<String>,
}

/// Collections (see `crate::collections`).
impl Archive {
    fn collections_store(&self) -> Collections {
        Collections::new(&self.root)
    }

    /// The collection with this name (or id); an unknown one is the same error as in a query.
    fn find_collection(&self, name: &str) -> ApiResult<(String, CollectionFile)> {
        self.collections_store()
            .find(name)
            .map_err(collection_error)
    }

    /// A collection's current posts, updating its file when members moved or changed.
    fn resolve_collection(
        &self,
        id: &str,
        c: &mut CollectionFile,
    ) -> ApiResult<(Vec<Vec<u8>>, Vec<Member>)> {
        if let Some(query) = &c.query {
            let paths = self.matching_paths(query)?;
            return Ok((paths, Vec::new()));
        }
        let resolved = self.with_searcher(|s| {
            s.refresh()?;
            collections::resolve_in_index(s.conn(), Path::new("index"), c)
        })?;
        if resolved.changed {
            self.collections_store()
                .save(id, c)
                .map_err(collection_error)?;
        }
        Ok((resolved.paths, resolved.missing))
    }

    fn summary_of(
        &self,
        id: String,
        mut c: CollectionFile,
    ) -> ApiResult<(CollectionSummary, Vec<Vec<u8>>, Vec<Member>)> {
        let (paths, missing) = self.resolve_collection(&id, &mut c)?;
        Ok((
            CollectionSummary {
                id,
                name: c.name,
                kind: c.kind,
                query: c.query,
                count: paths.len() as u64,
                missing: missing.len() as u64,
            },
            paths,
            missing,
        ))
    }

    /// Every collection, in sidebar order, with counts.
    pub fn collections(&self) -> ApiResult<Vec<CollectionSummary>> {
        let (all, _) = self.collections_store().load_all();
        all.into_iter()
            .map(|(id, c)| {
                let (name, kind, query) = (c.name.clone(), c.kind, c.query.clone());
                match self.summary_of(id.clone(), c) {
                    // A saved search that cannot run (say a query over the limits, shipped in a
                    // cloned archive) is listed holding nothing; opening it says why.
                    Err(e) if cannot_run(&e) => Ok(CollectionSummary {
                        id,
                        name,
                        kind,
                        query,
                        count: 0,
                        missing: 0,
                    }),
                    other => other.map(|s| s.0),
                }
            })
            .collect()
    }

    /// A collection's posts in order (`name` may also be its id).
    pub fn collection_posts(&self, name: &str) -> ApiResult<CollectionPosts> {
        let (id, c) = self.find_collection(name)?;
        let (collection, paths, missing) = self.summary_of(id, c)?;
        Ok(CollectionPosts {
            collection,
            paths: paths
                .iter()
                .map(|p| String::from_utf8_lossy(p).into_owned())
                .collect(),
            missing: missing.into_iter().map(|m| m.path).collect(),
        })
    }

    /// Create a manual collection (optionally filled from `posts`), or a smart one from `query`.
    pub fn collection_create(
        &self,
        name: &str,
        query: Option<String>,
        posts: Option<&EditTarget>,
    ) -> ApiResult<CollectionSummary> {
        if let Some(q) = &query {
            crate::search::query::parse(q).map_err(|e| Error::Query(e.to_string()))?;
        }
        let (id, c) = self
            .collections_store()
            .create(name, query)
            .map_err(collection_error)?;
        match posts {
            // By id: a lookup by name could find another collection named like this one's id.
            Some(target) => self.add_members(id, c, target),
            None => Ok(self.summary_of(id, c)?.0),
        }
    }

    /// Add posts to the end of a manual collection (those already in it stay where they are).
    pub fn collection_add(&self, name: &str, posts: &EditTarget) -> ApiResult<CollectionSummary> {
        let (id, c) = self.find_collection(name)?;
        self.add_members(id, c, posts)
    }

    fn add_members(
        &self,
        id: String,
        mut c: CollectionFile,
        posts: &EditTarget,
    ) -> ApiResult<CollectionSummary> {
        let store = self.collections_store();
        if c.kind == CollectionKind::Smart {
            return Err(collection_error(CollectionError::SavedSearch(c.name)));
        }
        let have: std::collections::HashSet<Vec<u8>> = c.posts.iter().map(|m| m.rel()).collect();
        for (rel, _) in self.edit_targets(posts)? {
            if have.contains(&rel) {
                continue;
            }
            match collections::member_for(&self.root, &rel) {
                Ok(m) => c.posts.push(m),
                Err(reason) => {
                    return Err(Error::Refused {
                        path: String::from_utf8_lossy(&rel).into_owned(),
                        reason,
                    }
                    .into())
                }
            }
        }
        store.save(&id, &c).map_err(collection_error)?;
        Ok(self.summary_of(id, c)?.0)
    }

    pub fn collection_remove(&self, name: &str, paths: &[String]) -> ApiResult<CollectionSummary> {
        let store = self.collections_store();
        let (id, mut c) = self.find_collection(name)?;
        let drop: std::collections::HashSet<Vec<u8>> =
            paths.iter().map(|p| path_bytes_from_arg(p)).collect();
        c.posts.retain(|m| !drop.contains(&m.rel()));
        store.save(&id, &c).map_err(collection_error)?;
        Ok(self.summary_of(id, c)?.0)
    }

    /// Move one post of a manual collection to `position` (0 = first).
    pub fn collection_move(&self, name: &str, path: &str, position: usize) -> ApiResult<()> {
        let store = self.collections_store();
        let (id, mut c) = self.find_collection(name)?;
        let rel = path_bytes_from_arg(path);
        let from = c.posts.iter().position(|m| m.rel() == rel).ok_or_else(|| {
            collection_error(CollectionError::NotAMember {
                path: path.to_string(),
                collection: c.name.clone(),
            })
        })?;
        let m = c.posts.remove(from);
        c.posts.insert(position.min(c.posts.len()), m);
        store.save(&id, &c).map_err(collection_error)
    }

    pub fn collection_rename(&self, name: &str, new_name: &str) -> ApiResult<()> {
        self.collections_store()
            .rename(name, new_name)
            .map_err(collection_error)
    }

    pub fn collection_reorder(&self, name: &str, position: usize) -> ApiResult<()> {
        self.collections_store()
            .reorder(name, position)
            .map_err(collection_error)
    }

    pub fn collection_delete(&self, name: &str) -> ApiResult<()> {
        self.collections_store()
            .delete(name)
            .map_err(collection_error)
    }

    /// The names of the collections that hold a post.
    pub fn collections_of(&self, path: &str) -> ApiResult<Vec<String>> {
        let rel = path_bytes_from_arg(path);
        let (all, _) = self.collections_store().load_all();
        let mut names = Vec::new();
        for (id, c) in all {
            let name = c.name.clone();
            let paths = match self.summary_of(id, c) {
                Ok((_, paths, _)) => paths,
                // A saved search that cannot run holds no post (see `collections`).
                Err(e) if cannot_run(&e) => continue,
                Err(e) => return Err(e),
            };
            if paths.contains(&rel) {
                names.push(name);
            }
        }
        Ok(names)
    }
}

/// Export (see `crate::export`).
impl Archive {
    /// Export posts to a folder or zip. With `dry_run` it only plans (the summary's `preview`
    /// lists the first paths, for a live preview of a layout).
    pub fn export(
        &self,
        req: &ExportRequest,
        progress: &(dyn Fn(ExportProgress) + Sync),
        cancel: &AtomicBool,
    ) -> ApiResult<ExportSummary> {
        let sources: Vec<Vec<u8>> = match &req.source {
            ExportSource::Collection { name } => {
                let (id, mut c) = self.find_collection(name)?;
                self.resolve_collection(&id, &mut c)?.0
            }
            ExportSource::Query { query } => self.matching_paths(query)?,
            ExportSource::Paths { paths } => self
                .only_known(paths.iter().map(|p| (path_bytes_from_arg(p), ())).collect())?
                .into_iter()
                .map(|(p, ())| p)
                .collect(),
        };
        let summary = crate::export::export(&self.root, &sources, req, progress, cancel)?;
        if !summary.dry_run {
            let to = Path::new(&summary.to);
            let folder = if req.zip { to.parent() } else { Some(to) };
            *self.last_export.lock().unwrap_or_else(|e| e.into_inner()) =
                folder.map(Path::to_path_buf);
        }
        Ok(summary)
    }

    /// The folder the last export of this archive wrote into (the zip's folder for a zip), if
    /// any export ran since the archive was opened.
    pub fn last_export_folder(&self) -> Option<PathBuf> {
        self.last_export
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Duplicates (see `crate::dupes`).
impl Archive {
    /// Groups of duplicate posts: `exact`, `url` and `near` (as `req.kind` asks), among the posts
    /// `req.query` matches. Signatures missing from the cache are computed first (`progress`
    /// counts them).
    pub fn duplicates(
        &self,
        req: &crate::dupes::DuplicatesRequest,
        progress: &(dyn Fn(crate::dupes::Progress) + Sync),
        cancel: &AtomicBool,
    ) -> ApiResult<crate::dupes::DuplicatesResponse> {
        let (index, only) = self.duplicates_scope(req)?;
        Ok(crate::dupes::find(
            &self.root,
            &index,
            req,
            only.as_ref(),
            progress,
            cancel,
        )?)
    }

    /// `duplicates`, the summary handed to `head` and the groups to `emit` one at a time (see
    /// `dupes::find_each`): for callers that write them out as they come.
    pub fn duplicates_each(
        &self,
        req: &crate::dupes::DuplicatesRequest,
        progress: &(dyn Fn(crate::dupes::Progress) + Sync),
        cancel: &AtomicBool,
        head: &mut dyn FnMut(&crate::dupes::DuplicatesSummary) -> crate::error::Result<()>,
        emit: &mut dyn FnMut(crate::dupes::DuplicateGroup) -> crate::error::Result<()>,
    ) -> ApiResult<crate::dupes::DuplicatesSummary> {
        let (index, only) = self.duplicates_scope(req)?;
        Ok(crate::dupes::find_each(
            &self.root,
            &index,
            req,
            only.as_ref(),
            progress,
            cancel,
            head,
            emit,
        )?)
    }

    /// The index and the posts a `duplicates` request compares (all when `None`).
    fn duplicates_scope(
        &self,
        req: &crate::dupes::DuplicatesRequest,
    ) -> ApiResult<(PathBuf, Option<std::collections::HashSet<Vec<u8>>>)> {
        if let Some(s) = req.min_similarity {
            if !(s.is_finite() && s > 0.0 && s <= 1.0) {
                return Err(ApiError::new(
                    ErrorCode::BadRequest,
                    format!("min_similarity must be a number above 0 and at most 1, not {s}"),
                ));
            }
        }
        let index =
            crate::store::existing_index_path(&self.root).ok_or_else(|| Error::NotIndexed {
                path: self.root.clone(),
            })?;
        let only = match req.query.as_deref().map(str::trim) {
            Some(q) if !q.is_empty() => Some(self.matching_paths(q)?.into_iter().collect()),
            _ => None,
        };
        Ok((index, only))
    }

    /// The posts named by `paths` as decisions name them (path and current hash); each must be
    /// a post the index knows.
    fn decision_posts(
        &self,
        paths: &[String],
    ) -> ApiResult<Vec<crate::dupes::decisions::DecisionPost>> {
        let targets =
            self.only_known(paths.iter().map(|p| (path_bytes_from_arg(p), ())).collect())?;
        self.with_searcher(|s| {
            let mut stmt = s
                .conn()
                .prepare_cached("SELECT path_text, hash FROM posts WHERE path = ?1")
                .at(Path::new("index"))?;
            let mut out = Vec::with_capacity(targets.len());
            for (rel, ()) in &targets {
                let (path, hash): (String, Vec<u8>) = stmt
                    .query_row([rel], |r| Ok((r.get(0)?, r.get(1)?)))
                    .at(Path::new("index"))?;
                out.push(crate::dupes::decisions::DecisionPost {
                    path,
                    hash: to_hex(&hash),
                });
            }
            Ok(out)
        })
    }

    /// Record that these posts (two or more) are not duplicates of each other: no group of any
    /// kind puts them together again (kept in `.shelfmark/decisions.json`).
    pub fn not_duplicates(&self, paths: &[String]) -> ApiResult<crate::dupes::decisions::Decision> {
        let mut unique: Vec<String> = Vec::new();
        for p in paths {
            if !unique.contains(p) {
                unique.push(p.clone());
            }
        }
        if unique.len() < 2 {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "name two or more posts that are not duplicates of each other",
            ));
        }
        let posts = self.decision_posts(&unique)?;
        Ok(crate::dupes::record_not_duplicates(&self.root, posts)?)
    }

    /// Forget the decisions that name all of these posts; answers how many were forgotten.
    pub fn forget_decision(&self, paths: &[String]) -> ApiResult<u64> {
        if paths.is_empty() {
            return Err(ApiError::new(
                ErrorCode::BadRequest,
                "name the posts of the decision",
            ));
        }
        // A post gone from the archive can still be named by the path the decision recorded.
        let posts: Vec<crate::dupes::decisions::DecisionPost> = match self.decision_posts(paths) {
            Ok(posts) => posts,
            Err(_) => paths
                .iter()
                .map(|p| crate::dupes::decisions::DecisionPost {
                    path: p.clone(),
                    hash: String::new(),
                })
                .collect(),
        };
        Ok(crate::dupes::forget_decisions(&self.root, &posts)?)
    }

    /// Every "not duplicates" decision on file.
    pub fn duplicate_decisions(&self) -> ApiResult<Vec<crate::dupes::decisions::Decision>> {
        Ok(crate::dupes::list_decisions(&self.root)?)
    }
}

/// The front matter text of a clean UTF-8 file, as written.
/// The index's size on disk (file and WAL) and its number of segments.
fn index_figures(writer: &crate::store::Writer) -> crate::error::Result<IndexFigures> {
    let path = writer.path();
    let bytes = ["", "-wal"]
        .iter()
        .filter_map(|suffix| std::fs::metadata(format!("{}{suffix}", path.display())).ok())
        .map(|m| m.len())
        .sum();
    let segments: i64 = writer
        .conn()
        .query_row("SELECT count(*) FROM segments", [], |r| r.get(0))
        .at(path)?;
    Ok(IndexFigures {
        bytes,
        segments: segments.max(0) as u64,
    })
}

fn raw_front_matter(root: &Path, rel: &[u8]) -> Option<String> {
    let (_, bytes) = crate::postfile::read(root, rel, crate::postfile::max_bytes()).ok()?;
    let layout = crate::post::layout(&bytes)?;
    if !layout.exact_utf8 || layout.kind == crate::post::FrontMatterKind::None {
        return None;
    }
    let text = bytes.get(layout.front_matter_start..layout.front_matter_end)?;
    String::from_utf8(text.to_vec()).ok()
}

/// A saved search that cannot run: its query is not valid, or names a collection that is gone.
fn cannot_run(e: &ApiError) -> bool {
    matches!(e.code, ErrorCode::BadQuery | ErrorCode::NotFound)
}

/// The hash of the version of a file the user saw, as a request gives it (64 hex digits).
fn seen_hash(h: &str) -> ApiResult<[u8; 32]> {
    from_hex(h)
        .and_then(|b| <[u8; 32]>::try_from(b.as_slice()).ok())
        .ok_or_else(|| edit_error(format!("`{h}` is not the hash of a file (64 hex digits)")))
}

fn edit_error(message: String) -> ApiError {
    Error::Edit(message).into()
}

fn collection_error(e: CollectionError) -> ApiError {
    e.into()
}

/// A path argument: relative to the archive, or `hex:<bytes>` for a name that is not UTF-8.
pub fn path_bytes_from_arg(arg: &str) -> Vec<u8> {
    if let Some(hex) = arg.strip_prefix("hex:") {
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|i| {
                hex.get(i..i + 2)
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            })
            .collect();
        if let Some(b) = bytes {
            return b;
        }
    }
    arg.trim_start_matches("./").as_bytes().to_vec()
}

#[cfg(test)]
mod open_tests {
    use super::*;

    #[test]
    fn a_missing_folder_is_named_without_an_os_error() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let gone = dir.path().join("moved away");
        let e = Archive::open(&gone)
            .err()
            .unwrap_or_else(|| panic!("opened"));
        assert_eq!(e.code, ErrorCode::NotAFolder);
        assert!(e.message.contains("there is no folder at"), "{}", e.message);
        assert!(e.message.contains("moved away"), "{}", e.message);
        assert!(!e.message.contains("os error"), "{}", e.message);
        let file = dir.path().join("a.md");
        std::fs::write(&file, "x").unwrap_or_else(|e| panic!("{e}"));
        let e = Archive::open(&file)
            .err()
            .unwrap_or_else(|| panic!("opened"));
        assert_eq!(e.message, format!("{} is not a folder", file.display()));
    }
}

#[cfg(test)]
mod reader_tests {
    use super::*;

    #[test]
    fn the_body_marks_the_query_as_the_search_folds_it() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("a.md"),
            "---\ntitle: T\n---\n開源軟體 與 **ＡＢＣ** 和 Abc；不是 abcd。<b onclick=\"x()\">軟體</b>\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let plain = archive
            .render_body("a.md", None, false)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(plain.matches, 0);
        assert!(!plain.html.contains("<mark"), "{}", plain.html);
        // Simplified finds Traditional, half-width finds full-width, case is folded; "abcd" is
        // another word, as in the search.
        let r = archive
            .render_body("a.md", Some("软体 abc -不是"), false)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(r.matches, 4, "{}", r.html);
        for marked in ["軟體", "ＡＢＣ", "Abc"] {
            assert!(
                r.html
                    .contains(&format!("<mark class=\"hit\">{marked}</mark>")),
                "{marked}: {}",
                r.html
            );
        }
        assert!(!r.html.contains("onclick"), "{}", r.html);
        // An invalid query marks nothing and still renders.
        let bad = archive
            .render_body("a.md", Some("date:2020-13"), false)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(bad.matches, 0);
    }

    #[test]
    fn the_body_marks_the_dictionary_variants_of_a_word() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(
            dir.path().join("a.md"),
            "---\ntitle: T\n---\n請回覆我；回复你；已回復。积雪覆盖。\n",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        for q in ["回复", "回覆"] {
            let r = archive
                .render_body("a.md", Some(q), false)
                .unwrap_or_else(|e| panic!("{e:?}"));
            assert_eq!(r.matches, 3, "{q}: {}", r.html);
            for marked in ["回覆", "回复", "回復"] {
                let mark = format!("<mark class=\"hit\">{marked}</mark>");
                assert!(r.html.contains(&mark), "{q}: {marked}: {}", r.html);
            }
            assert!(!r.html.contains(">覆盖"), "{}", r.html);
        }
    }

    #[test]
    fn the_reader_shows_the_article_and_the_whole_page_on_request() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let paragraph = "记者在港口看到了很多人，他们都说这件事情非常重要，而且还会继续下去。";
        let body = format!(
            "<nav><a href=/>首页</a> <a href=/n>新闻</a></nav><h1>T</h1>\
             <p>{paragraph}</p><p><img src=\"https://img.example/a.jpg\"></p><p>{paragraph}</p>\
             <h3>相关文章</h3><ul><li><a href=/x>熊猫馆开放</a></li></ul>\
             <aside><img src=\"https://ads.example/b.gif\"></aside>"
        );
        std::fs::write(
            dir.path().join("a.md"),
            format!("---\ntitle: T\n---\n{body}\n"),
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let render = |query: Option<&str>, whole: bool| {
            archive
                .render_body("a.md", query, whole)
                .unwrap_or_else(|e| panic!("{e:?}"))
        };
        let article = render(Some("熊猫"), false);
        assert!(article.article && article.page_chars > 0, "{article:?}");
        assert!(
            article.html.contains("港口")
                && !article.html.contains("熊猫")
                && !article.html.contains("首页"),
            "{}",
            article.html
        );
        assert_eq!(article.remote_images, ["https://img.example/a.jpg"]);
        assert_eq!((article.matches, article.hidden_matches), (0, 1));
        let page = render(Some("熊猫"), true);
        assert!(!page.article && page.page_chars == article.page_chars);
        assert!(page.html.contains("首页"), "{}", page.html);
        assert_eq!(page.remote_images.len(), 2);
        assert_eq!((page.matches, page.hidden_matches), (1, 0));
        let hit = render(Some("港口"), false);
        assert_eq!((hit.matches, hit.hidden_matches), (2, 0));
    }
}

#[cfg(test)]
mod history_tests {
    use super::*;
    use crate::edit::{EditOp, EditRequest, EditTarget};

    #[test]
    fn an_operation_shows_its_files_and_bounded_diffs() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for name in ["a", "b", "c"] {
            std::fs::write(
                dir.path().join(format!("{name}.md")),
                format!("---\ntitle: {name}\ntags: [old]\n---\nbody {name}\n"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let req = EditRequest {
            target: EditTarget::Paths {
                paths: vec!["a.md".into(), "b.md".into(), "c.md".into()],
                hashes: None,
            },
            ops: vec![EditOp::AddItems {
                key: "tags".into(),
                items: vec!["秘密".into()],
            }],
            label: None,
        };
        let out = archive
            .apply_edit(&req, &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let id = out.op_id.unwrap_or_else(|| panic!("no operation"));
        let d = archive
            .operation_detail(id, 2, 10_000)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(d.paths.len(), 3, "{d:?}");
        assert_eq!(d.diffs.len(), 2, "{d:?}");
        assert!(
            d.diffs[0].diff.contains("-tags: [old]"),
            "{}",
            d.diffs[0].diff
        );
        assert!(d.diffs[0].diff.contains("秘密"), "{}", d.diffs[0].diff);
        // Each diff is bounded.
        let short = archive
            .operation_detail(id, 1, 20)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(short.diffs[0].diff.len() < 60, "{}", short.diffs[0].diff);
        assert!(
            short.diffs[0].diff.contains("more lines"),
            "{}",
            short.diffs[0].diff
        );
        let e = archive
            .operation_detail(id + 100, 1, 20)
            .err()
            .unwrap_or_else(|| panic!("found"));
        assert_eq!(e.code, ErrorCode::NotFound);
        // The history says what it did as ops (for the UI's language), and the English label.
        let history = archive.history().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(history[0].ops, req.ops);
        assert_eq!(history[0].label, "add tags 秘密");
        assert_eq!(history[0].path, None);
    }
}

#[cfg(test)]
mod last_export_tests {
    use super::*;
    use crate::export::ExportFormat;

    fn request(to: &Path, zip: bool, dry_run: bool) -> ExportRequest {
        ExportRequest {
            source: ExportSource::Paths {
                paths: vec!["a.md".into()],
            },
            to: to.display().to_string(),
            layout: "keep".into(),
            format: ExportFormat::Copy,
            set: vec![],
            remove: vec![],
            zip,
            overwrite: false,
            delete_removed: false,
            dry_run,
        }
    }

    #[test]
    fn the_last_export_folder_is_the_one_an_export_wrote() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let out = out.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(dir.path().join("a.md"), "---\ntitle: a\n---\na\n")
            .unwrap_or_else(|e| panic!("{e}"));
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        archive
            .index(&Default::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e}"));
        let cancel = AtomicBool::new(false);
        assert_eq!(archive.last_export_folder(), None);
        // A dry run writes nothing: no folder to open.
        let folder = out.join("folder");
        archive
            .export(&request(&folder, false, true), &|_| {}, &cancel)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(archive.last_export_folder(), None);
        archive
            .export(&request(&folder, false, false), &|_| {}, &cancel)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(archive.last_export_folder(), Some(folder));
        // A zip: the folder that holds it.
        archive
            .export(
                &request(&out.join("z/x.zip"), true, false),
                &|_| {},
                &cancel,
            )
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(archive.last_export_folder(), Some(out.join("z")));
    }
}

#[cfg(test)]
mod resolve_tests {
    use super::*;
    use crate::edit::ResolveAction;

    fn archive() -> (tempfile::TempDir, Archive) {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for (name, from) in [
            ("a", "http://x/1"),
            ("b", "http://x/2"),
            ("c", "http://x/3"),
        ] {
            std::fs::write(
                dir.path().join(format!("{name}.md")),
                format!("---\ntitle: {name}\nfrom: {from}\n---\nbody word{name}\n"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        (dir, archive)
    }

    fn hits(archive: &Archive, q: &str) -> Vec<String> {
        let req: SearchRequest = serde_json::from_value(serde_json::json!({ "query": q }))
            .unwrap_or_else(|e| panic!("{e}"));
        let r = archive.search(&req).unwrap_or_else(|e| panic!("{e:?}"));
        r.hits.into_iter().map(|h| h.path).collect()
    }

    #[test]
    fn a_move_is_previewed_applied_indexed_detailed_and_undone() {
        let (dir, archive) = archive();
        let seen = archive.show("b.md").unwrap_or_else(|e| panic!("{e:?}"));
        let mut hashes = std::collections::BTreeMap::new();
        hashes.insert("b.md".to_string(), seen.hash.clone());
        let req = ResolveRequest {
            keep: "a.md".into(),
            others: vec!["b.md".into(), "c.md".into()],
            hashes: Some(hashes.clone()),
            action: ResolveAction::Move {
                folder: "dup".into(),
            },
            record_sources: true,
        };
        let preview = archive
            .preview_resolve(&req)
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            preview.lines[1..],
            ["move b.md → dup/b.md", "move c.md → dup/c.md"]
        );
        assert!(dir.path().join("b.md").exists(), "a preview writes nothing");
        let out = archive
            .resolve_duplicates(&req, &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let id = out.op_id.unwrap_or_else(|| panic!("no operation"));
        assert_eq!(hits(&archive, "wordb"), ["dup/b.md"]);
        assert_eq!(
            archive.show("dup/b.md").map(|p| p.id).ok(),
            Some(seen.id),
            "the moved post keeps its id"
        );
        let d = archive
            .operation_detail(id, 20, 10_000)
            .unwrap_or_else(|e| panic!("{e:?}"));
        let lines: Vec<&str> = d.diffs.iter().map(|f| f.diff.trim_end()).collect();
        assert!(lines.contains(&"move b.md → dup/b.md"), "{lines:?}");
        assert!(lines.iter().any(|l| l.contains("+also_from")), "{lines:?}");
        // The version seen is gone now: the same request is a conflict, and nothing changes.
        let again = ResolveRequest {
            others: vec!["dup/b.md".into()],
            hashes: Some(
                [("dup/b.md".to_string(), to_hex(&[7u8; 32]))]
                    .into_iter()
                    .collect(),
            ),
            action: ResolveAction::Delete,
            ..req.clone()
        };
        let e = archive
            .resolve_duplicates(&again, &|_| {}, &AtomicBool::new(false))
            .err()
            .unwrap_or_else(|| panic!("a stale hash was accepted"));
        assert_eq!(e.code, ErrorCode::Edit, "{e:?}");
        assert!(dir.path().join("dup/b.md").exists());
        archive.undo().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(hits(&archive, "wordb"), ["b.md"]);
        assert!(
            !dir.path().join("dup").exists(),
            "the folder the move made goes"
        );
        let h = archive.history().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            h[0].label,
            "resolve duplicates: keep a.md, move 2 to dup, record 2 sources"
        );
    }

    #[test]
    fn a_group_the_duplicates_call_finds_is_resolved_with_the_hashes_it_gave() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let body = "<p>同一篇文章的正文，足够长，才能被当作重复的文章来比较。</p>\n".repeat(8);
        for (name, from) in [
            ("a", "http://x/1"),
            ("b", "http://y/1"),
            ("c", "http://z/1"),
        ] {
            std::fs::write(
                dir.path().join(format!("{name}.md")),
                format!("---\ntitle: 同一篇\nfrom: {from}\n---\n{body}"),
            )
            .unwrap_or_else(|e| panic!("{e}"));
        }
        let archive = Archive::open(dir.path()).unwrap_or_else(|e| panic!("{e:?}"));
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        let find = || {
            let req: crate::dupes::DuplicatesRequest =
                serde_json::from_value(serde_json::json!({ "kind": "exact" }))
                    .unwrap_or_else(|e| panic!("{e}"));
            archive
                .duplicates(&req, &|_| {}, &AtomicBool::new(false))
                .unwrap_or_else(|e| panic!("{e:?}"))
                .groups
        };
        let groups = find();
        assert_eq!(groups.len(), 1, "{groups:?}");
        let posts = &groups[0].posts;
        let req = ResolveRequest {
            keep: posts[0].path.clone(),
            others: posts[1..].iter().map(|p| p.path.clone()).collect(),
            hashes: Some(
                posts
                    .iter()
                    .map(|p| (p.path.clone(), p.hash.clone()))
                    .collect(),
            ),
            action: ResolveAction::Delete,
            record_sources: true,
        };
        archive
            .resolve_duplicates(&req, &|_| {}, &AtomicBool::new(false))
            .unwrap_or_else(|e| panic!("{e:?}"));
        assert!(find().is_empty(), "the group is resolved");
        let kept = archive.show("a.md").unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(
            kept.fields.get("also_from"),
            Some(&serde_json::json!(["http://y/1", "http://z/1"]))
        );
        archive.undo().unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(find().len(), 1, "undo brings the group back");
    }
}
