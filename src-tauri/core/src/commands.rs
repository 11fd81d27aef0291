//! The api's command table: every command a UI can call, declared once.
//!
//! Each entry of `commands!` names the command, its own request struct, its response type,
//! whether it is a long **job** (progress and cancel), and what it does. From that one table
//! come:
//!
//! - `call`, the dispatch both shells use: `serve` for `POST /api/<name>`, the desktop app for
//!   Tauri's `invoke('<name>', args)` (one generic handler, see `src-tauri/src/lib.rs`);
//! - `COMMANDS`, the names and kinds, for shells that need to know if a name is a command;
//! - `typescript()`, the UI's `Commands` type (`ui/src/lib/bindings/commands.ts`, written by
//!   `cargo test`), so `ui/src/lib/backend.ts` is typed from the table and lists no command.
//!
//! Commands that only make sense in one shell stay there: the desktop's folder dialog, opening a
//! file or a link with the system, opening another archive; `serve`'s `changes` counter.
//!
//! Jobs: a shell starts each job through `Jobs`, one `Job` per command name (a new one replaces
//! the last). The job reports `JobProgress` to an optional sink (the desktop's IPC channel) and
//! keeps the latest figures for `job_progress` (what a browser polls); `cancel_job` stops it.

use crate::api::IndexMaintenance;
use crate::api::{
    Archive, ArchiveInfo, CollectionPosts, FacetsResponse, PostDetail, ProblemRow, Stats, Transport,
};
use crate::collections::CollectionSummary;
use crate::dupes::decisions::Decision;
use crate::dupes::{DuplicatesRequest, DuplicatesResponse};
use crate::edit::{
    EditOutcome, EditPreview, EditProgress, EditRequest, EditTarget, HistoryEntry, OperationDetail,
    Recovery, PREVIEW_DIFFS,
};
use crate::edit::{ResolvePreview, ResolveRequest};
use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::export::{ExportProgress, ExportRequest, ExportSummary};
use crate::fetch::FetchedImage;
use crate::lint::{LintFix, LintOptions, LintReport};
use crate::render::RenderedBody;
use crate::scan::{ScanOptions, ScanProgress, ScanSummary};
use crate::search::searcher::{SearchRequest, SearchResponse};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Where a command runs: the open archive, the shell's transport and its jobs.
pub struct Context<'a> {
    pub archive: &'a Archive,
    pub transport: Transport,
    pub jobs: &'a Jobs,
    /// This call's job (a detached one for commands that are not jobs).
    pub job: &'a Job,
}

/// One api command: implemented (by `commands!` only) for its request struct.
pub trait Command: DeserializeOwned + ts_rs::TS + 'static {
    const NAME: &'static str;
    /// A long job: reports progress and can be cancelled.
    const JOB: bool;
    type Response: Serialize + ts_rs::TS + 'static;
    fn run(self, cx: &Context) -> ApiResult<Self::Response>;
}

/// A command's name and kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CommandSpec {
    pub name: &'static str,
    pub job: bool,
}

/// How far a job is: `done` of `total` (files, posts; `total` may be 0 while unknown).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct JobProgress {
    pub done: u64,
    pub total: u64,
}

/// Where a job's progress goes as it happens (the desktop's IPC channel).
pub type Sink = Box<dyn Fn(JobProgress) + Send + Sync>;

/// A long job's shared state: its latest progress and its cancel flag.
#[derive(Default)]
pub struct Job {
    cancel: AtomicBool,
    done: AtomicU64,
    total: AtomicU64,
    sink: Option<Sink>,
}

impl Job {
    pub fn new(sink: Option<Sink>) -> Job {
        Job {
            sink,
            ..Job::default()
        }
    }

    pub fn report(&self, done: u64, total: u64) {
        self.done.store(done, Ordering::Relaxed);
        self.total.store(total, Ordering::Relaxed);
        if let Some(sink) = &self.sink {
            sink(JobProgress { done, total });
        }
    }

    pub fn progress(&self) -> JobProgress {
        JobProgress {
            done: self.done.load(Ordering::Relaxed),
            total: self.total.load(Ordering::Relaxed),
        }
    }

    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The flag the core's long calls poll.
    pub fn cancelled(&self) -> &AtomicBool {
        &self.cancel
    }
}

/// A shell's running jobs: the latest one of each job command.
#[derive(Default)]
pub struct Jobs {
    latest: Mutex<HashMap<&'static str, Arc<Job>>>,
}

impl Jobs {
    fn latest(&self) -> std::sync::MutexGuard<'_, HashMap<&'static str, Arc<Job>>> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts a job of `command`; it replaces the last one as the one `progress`/`cancel` see.
    pub fn start(&self, command: &'static str, sink: Option<Sink>) -> Arc<Job> {
        let job = Arc::new(Job::new(sink));
        self.latest().insert(command, job.clone());
        job
    }

    /// The latest progress of `command`'s job (zeros when none ran).
    pub fn progress(&self, command: &str) -> JobProgress {
        self.latest()
            .get(command)
            .map(|j| j.progress())
            .unwrap_or_default()
    }

    /// Cancels `command`'s running job, if any.
    pub fn cancel(&self, command: &str) {
        if let Some(job) = self.latest().get(command) {
            job.cancel();
        }
    }

    /// Cancels every job (another archive was opened).
    pub fn cancel_all(&self) {
        for job in self.latest().values() {
            job.cancel();
        }
    }
}

/// Looks a command up by name.
pub fn spec(name: &str) -> Option<CommandSpec> {
    COMMANDS.iter().find(|c| c.name == name).copied()
}

/// A request body: `null` or nothing is `{}`.
fn request<R: DeserializeOwned>(args: serde_json::Value) -> ApiResult<R> {
    let args = if args.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        args
    };
    serde_json::from_value(args).map_err(|e| {
        ApiError::new(
            ErrorCode::BadRequest,
            format!("the request body is not valid: {e}"),
        )
    })
}

fn run<C: Command>(
    archive: &Archive,
    transport: Transport,
    jobs: &Jobs,
    args: serde_json::Value,
    sink: Option<Sink>,
) -> ApiResult<serde_json::Value> {
    let req: C = request(args)?;
    let job = if C::JOB {
        jobs.start(C::NAME, sink)
    } else {
        Arc::new(Job::new(None))
    };
    let cx = Context {
        archive,
        transport,
        jobs,
        job: &job,
    };
    let response = req.run(&cx)?;
    serde_json::to_value(response).map_err(|e| {
        ApiError::new(
            ErrorCode::Internal,
            format!("the answer of {} could not be written: {e}", C::NAME),
        )
    })
}

/// Where `commands!` puts what it knows about one command, for `typescript()`.
struct TsEntry {
    name: &'static str,
    docs: &'static [&'static str],
    job: bool,
    request: fn(&ts_rs::Config) -> String,
    response: fn(&ts_rs::Config) -> String,
    imports: fn(&ts_rs::Config, &mut Vec<ts_rs::Dependency>),
}

/// Every exportable type that `T` names (itself, and the arguments of `Vec`, `Option`, …).
fn imports_of<T: ts_rs::TS + 'static + ?Sized>(
    cfg: &ts_rs::Config,
    out: &mut Vec<ts_rs::Dependency>,
) {
    struct Visit<'a>(&'a ts_rs::Config, &'a mut Vec<ts_rs::Dependency>);
    impl ts_rs::TypeVisitor for Visit<'_> {
        fn visit<T: ts_rs::TS + 'static + ?Sized>(&mut self) {
            if let Some(dep) = ts_rs::Dependency::from_ty::<T>(self.0) {
                self.1.push(dep);
            }
            T::visit_generics(self);
        }
    }
    ts_rs::TypeVisitor::visit::<T>(&mut Visit(cfg, out));
}

macro_rules! commands {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident($cx:ident, $req:ident: $Req:ty) -> $Res:ty, $kind:ident => $body:expr;
    )*) => {
        $(
            impl Command for $Req {
                const NAME: &'static str = stringify!($name);
                const JOB: bool = commands!(@job $kind);
                type Response = $Res;
                fn run(self, $cx: &Context) -> ApiResult<$Res> {
                    let $req = self;
                    $body
                }
            }
        )*

        /// Every command of the table, in its order.
        pub const COMMANDS: &[CommandSpec] = &[
            $(CommandSpec { name: stringify!($name), job: commands!(@job $kind) },)*
        ];

        /// Runs the command `name` with its JSON request; answers its JSON response. A job's
        /// progress goes to `sink` as well as to `jobs`.
        pub fn call(
            archive: &Archive,
            transport: Transport,
            jobs: &Jobs,
            name: &str,
            args: serde_json::Value,
            sink: Option<Sink>,
        ) -> ApiResult<serde_json::Value> {
            match name {
                $(stringify!($name) => run::<$Req>(archive, transport, jobs, args, sink),)*
                _ => Err(ApiError::new(
                    ErrorCode::UnknownCommand,
                    format!("there is no api command {name:?}"),
                )),
            }
        }

        fn ts_entries() -> Vec<TsEntry> {
            vec![$(TsEntry {
                name: stringify!($name),
                docs: &[$($doc),*],
                job: commands!(@job $kind),
                request: <$Req as ts_rs::TS>::name,
                response: <$Res as ts_rs::TS>::name,
                imports: |cfg, out| {
                    imports_of::<$Req>(cfg, out);
                    imports_of::<$Res>(cfg, out);
                },
            },)*]
        }
    };
    (@job job) => { true };
    (@job call) => { false };
}

/// A request with no arguments.
macro_rules! no_args {
    ($($(#[doc = $doc:literal])* $Name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
        #[ts(export)]
        pub struct $Name {}
    )*};
}

no_args! {
    /// `archive_info` takes no arguments.
    ArchiveInfoRequest;
    /// `index_archive` takes no arguments.
    IndexRequest;
    /// `problems` takes no arguments.
    ProblemsRequest;
    /// `stats` takes no arguments.
    StatsRequest;
    /// `undo` takes no arguments.
    UndoRequest;
    /// `redo` takes no arguments.
    RedoRequest;
    /// `history` takes no arguments.
    HistoryRequest;
    /// `interrupted` takes no arguments.
    InterruptedRequest;
    /// `collections` takes no arguments.
    CollectionsRequest;
    /// `compact_index` takes no arguments.
    CompactIndexRequest;
    /// `rebuild_index` takes no arguments.
    RebuildIndexRequest;
}

/// A request that names one post by its path.
macro_rules! path_args {
    ($($(#[doc = $doc:literal])* $Name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
        #[ts(export)]
        pub struct $Name {
            /// Relative to the archive root (or `hex:<bytes>` for a name that is not UTF-8).
            pub path: String,
        }
    )*};
}

path_args! {
    /// `show`: one post.
    ShowRequest;
    /// `collections_of`: one post.
    CollectionsOfRequest;
}

/// A request that names one collection.
macro_rules! name_args {
    ($($(#[doc = $doc:literal])* $Name:ident;)*) => {$(
        $(#[doc = $doc])*
        #[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
        #[ts(export)]
        pub struct $Name {
            pub name: String,
        }
    )*};
}

name_args! {
    /// `collection_posts`: one collection.
    CollectionPostsRequest;
    /// `collection_delete`: one collection.
    CollectionDeleteRequest;
}

/// `render_body`: one post's body, with the matches of a query marked.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct RenderBodyRequest {
    /// Relative to the archive root (or `hex:<bytes>` for a name that is not UTF-8).
    pub path: String,
    /// The search whose words and phrases to mark (`<mark class="hit">`).
    #[serde(default)]
    #[ts(optional)]
    pub query: Option<String>,
    /// Show the whole page, not only the article (the default leaves out the page around the
    /// article: navigation, related lists, share bars...).
    #[serde(default)]
    #[ts(optional)]
    pub whole_page: Option<bool>,
}

#[derive(Debug, Clone, Default, Deserialize, Serialize, ts_rs::TS)]
#[serde(default)]
#[ts(export)]
pub struct FacetsRequest {
    pub query: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct FetchImageRequest {
    /// The post that names the image.
    pub path: String,
    pub url: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PreviewEditRequest {
    pub request: EditRequest,
    /// How many files' diffs the preview carries (20 by default).
    #[serde(default)]
    #[ts(optional)]
    pub diffs: Option<usize>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ApplyEditRequest {
    pub request: EditRequest,
}

/// `lint`: findings, all kinds or one, a page at a time.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LintRequest {
    /// Only findings of this kind (`date-vs-epoch`, `entities`, ...); every kind's count is
    /// given whatever this says.
    #[serde(default)]
    #[ts(optional)]
    pub kind: Option<String>,
    /// Findings listed at most (200 by default).
    #[serde(default)]
    #[ts(optional)]
    pub limit: Option<u64>,
    #[serde(default)]
    #[ts(optional)]
    pub offset: Option<u64>,
    /// Also find duplicates (the `duplicates` kind; compares every post's text, which takes a
    /// while the first time). A `kind` of `duplicates` implies it.
    #[serde(default)]
    #[ts(optional)]
    pub duplicates: Option<bool>,
}

/// `lint_fix`: a kind's fix as an edit request.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct LintFixRequest {
    pub kind: String,
    /// One of the kind's `choices` by id; without it, its certain fix.
    #[serde(default)]
    #[ts(optional)]
    pub fix: Option<String>,
}

/// `operation_detail`: one operation of the history.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OperationDetailRequest {
    pub id: u64,
    /// How many files' diffs (20 by default, at most 200).
    #[serde(default)]
    #[ts(optional)]
    pub diffs: Option<usize>,
}

/// Bytes of one file's diff in `operation_detail`, beyond which it is cut.
pub const DETAIL_DIFF_BYTES: usize = 16 * 1024;

/// `preview_resolve`: the group and what to do with it.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PreviewResolveRequest {
    pub request: ResolveRequest,
}

/// `resolve_duplicates`: the group and what to do with it.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ResolveDuplicatesRequest {
    pub request: ResolveRequest,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct RecoverRequest {
    pub how: Recovery,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CollectionCreateRequest {
    pub name: String,
    /// A smart collection: the saved query.
    #[serde(default)]
    #[ts(optional)]
    pub query: Option<String>,
    /// A manual collection filled with these posts.
    #[serde(default)]
    #[ts(optional)]
    pub posts: Option<EditTarget>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CollectionAddRequest {
    pub name: String,
    pub posts: EditTarget,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CollectionRemoveRequest {
    pub name: String,
    #[serde(default)]
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CollectionMoveRequest {
    pub name: String,
    /// The post to move.
    pub path: String,
    /// Its new place (0 = first).
    pub position: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CollectionRenameRequest {
    pub name: String,
    pub new_name: String,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CollectionReorderRequest {
    pub name: String,
    /// The collection's new place in the list (0 = first).
    pub position: usize,
}

#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ExportPostsRequest {
    pub request: ExportRequest,
}

/// `job_progress`: which job.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct JobProgressRequest {
    /// A job command's name (`apply_edit`, `export`, `index_archive`).
    pub command: String,
}

/// `cancel_job`: which job.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct CancelJobRequest {
    /// A job command's name (`apply_edit`, `export`, `index_archive`).
    pub command: String,
}

/// `not_duplicates`: posts that are not duplicates of each other.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct NotDuplicatesRequest {
    /// Two or more posts, relative to the archive root (or `hex:<bytes>`).
    pub paths: Vec<String>,
}

/// `forget_decision`: the posts of a "not duplicates" decision to forget.
#[derive(Debug, Clone, Deserialize, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ForgetDecisionRequest {
    /// Every decision that names all of these posts (by path or content) is forgotten.
    pub paths: Vec<String>,
}

no_args! {
    /// `duplicate_decisions` takes no arguments.
    DuplicateDecisionsRequest;
}

fn job_command(name: &str) -> ApiResult<&'static str> {
    match spec(name) {
        Some(c) if c.job => Ok(c.name),
        _ => Err(ApiError::new(
            ErrorCode::BadRequest,
            format!("{name:?} is not a job command"),
        )),
    }
}

commands! {
    /// Name, folder and state of the open archive.
    archive_info(cx, _r: ArchiveInfoRequest) -> ArchiveInfo, call =>
        Ok(cx.archive.info(cx.transport));
    /// Indexes the archive (an incremental scan when an index exists). The app starts it when an
    /// archive is opened, so it yields the processor to searches (see `background`).
    index_archive(cx, _r: IndexRequest) -> ScanSummary, job => {
        let report = |p: ScanProgress| cx.job.report(p.done, p.total);
        crate::background::run(|| {
            cx.archive.index(&ScanOptions::default(), &report, cx.job.cancelled())
        })
    };
    /// Posts matching a query, sorted and paged, with facets if asked.
    search(cx, r: SearchRequest) -> SearchResponse, call => cx.archive.search(&r);
    /// Facet counts over the whole result set of a query.
    facets(cx, r: FacetsRequest) -> FacetsResponse, call => cx.archive.facets(&r.query);
    /// Everything about one post.
    show(cx, r: ShowRequest) -> PostDetail, call => cx.archive.show(&r.path);
    /// A post's body as sanitized HTML; remote images are parked in `data-remote-src`; the
    /// matches of `query`, if given, are marked.
    render_body(cx, r: RenderBodyRequest) -> RenderedBody, call =>
        cx.archive.render_body(&r.path, r.query.as_deref(), r.whole_page.unwrap_or(false));
    /// One remote image that a post names, fetched when the user asks, as a `data:` URL.
    fetch_image(cx, r: FetchImageRequest) -> FetchedImage, call =>
        cx.archive.fetch_image(&r.path, &r.url);
    /// Every problem of every file.
    problems(cx, _r: ProblemsRequest) -> Vec<ProblemRow>, call => cx.archive.problems();
    /// Figures about the archive and its index.
    stats(cx, _r: StatsRequest) -> Stats, call => cx.archive.stats();
    /// What an edit would change, with diffs; writes nothing.
    preview_edit(cx, r: PreviewEditRequest) -> EditPreview, call =>
        cx.archive.preview_edit(&r.request, r.diffs.unwrap_or(PREVIEW_DIFFS));
    /// Applies an edit through the journal.
    apply_edit(cx, r: ApplyEditRequest) -> EditOutcome, job => {
        let report = |p: EditProgress| cx.job.report(p.done, p.total);
        cx.archive.apply_edit(&r.request, &report, cx.job.cancelled())
    };
    /// Undoes the last operation.
    undo(cx, _r: UndoRequest) -> EditOutcome, call => cx.archive.undo();
    /// Redoes the last undone operation.
    redo(cx, _r: RedoRequest) -> EditOutcome, call => cx.archive.redo();
    /// The journal's operations, newest first.
    history(cx, _r: HistoryRequest) -> Vec<HistoryEntry>, call => cx.archive.history();
    /// What one operation of the history changed: its files, and diffs of the first of them.
    operation_detail(cx, r: OperationDetailRequest) -> OperationDetail, call =>
        cx.archive.operation_detail(
            r.id,
            r.diffs.unwrap_or(PREVIEW_DIFFS).min(200),
            DETAIL_DIFF_BYTES,
        );
    /// The operation a crash or kill interrupted, if any.
    interrupted(cx, _r: InterruptedRequest) -> Option<HistoryEntry>, call =>
        cx.archive.interrupted();
    /// Finishes or rolls back the interrupted operation.
    recover(cx, r: RecoverRequest) -> EditOutcome, call => cx.archive.recover(r.how);
    /// Every collection, in the user's order.
    collections(cx, _r: CollectionsRequest) -> Vec<CollectionSummary>, call =>
        cx.archive.collections();
    /// A collection's posts, in its order.
    collection_posts(cx, r: CollectionPostsRequest) -> CollectionPosts, call =>
        cx.archive.collection_posts(&r.name);
    /// A manual collection (filled from `posts` if given), or with `query` a saved search.
    collection_create(cx, r: CollectionCreateRequest) -> CollectionSummary, call =>
        cx.archive.collection_create(&r.name, r.query, r.posts.as_ref());
    /// Adds posts to a manual collection.
    collection_add(cx, r: CollectionAddRequest) -> CollectionSummary, call =>
        cx.archive.collection_add(&r.name, &r.posts);
    /// Removes posts from a manual collection.
    collection_remove(cx, r: CollectionRemoveRequest) -> CollectionSummary, call =>
        cx.archive.collection_remove(&r.name, &r.paths);
    /// Moves one post within a manual collection.
    collection_move(cx, r: CollectionMoveRequest) -> (), call =>
        cx.archive.collection_move(&r.name, &r.path, r.position);
    /// Renames a collection.
    collection_rename(cx, r: CollectionRenameRequest) -> (), call =>
        cx.archive.collection_rename(&r.name, &r.new_name);
    /// Moves a collection in the list.
    collection_reorder(cx, r: CollectionReorderRequest) -> (), call =>
        cx.archive.collection_reorder(&r.name, r.position);
    /// Deletes a collection (not its posts).
    collection_delete(cx, r: CollectionDeleteRequest) -> (), call =>
        cx.archive.collection_delete(&r.name);
    /// The names of the collections that hold a post.
    collections_of(cx, r: CollectionsOfRequest) -> Vec<String>, call =>
        cx.archive.collections_of(&r.path);
    /// Exports posts to a folder or a zip (with `dry_run`, only plans).
    export(cx, r: ExportPostsRequest) -> ExportSummary, job => {
        let report = |p: ExportProgress| cx.job.report(p.done, p.total);
        cx.archive.export(&r.request, &report, cx.job.cancelled())
    };
    /// Groups of duplicate posts (exact, same source URL, near), among a query's posts.
    duplicates(cx, r: DuplicatesRequest) -> DuplicatesResponse, job => {
        let report = |p: crate::dupes::Progress| cx.job.report(p.done, p.total);
        cx.archive.duplicates(&r, &report, cx.job.cancelled())
    };
    /// Records that posts are not duplicates of each other (`.shelfmark/decisions.json`).
    not_duplicates(cx, r: NotDuplicatesRequest) -> Decision, call =>
        cx.archive.not_duplicates(&r.paths);
    /// Forgets the "not duplicates" decisions that name all of the given posts; answers how many.
    forget_decision(cx, r: ForgetDecisionRequest) -> u64, call =>
        cx.archive.forget_decision(&r.paths);
    /// Every "not duplicates" decision on file.
    duplicate_decisions(cx, _r: DuplicateDecisionsRequest) -> Vec<Decision>, call =>
        cx.archive.duplicate_decisions();
    /// Compacts the index: one segment, no postings of edited or removed posts, space given back.
    compact_index(cx, _r: CompactIndexRequest) -> IndexMaintenance, job => {
        let report = |p: ScanProgress| cx.job.report(p.done, p.total);
        cx.archive.compact_index(&report, cx.job.cancelled())
    };
    /// Drops the index and indexes every file again (collections, journal, decisions stay).
    rebuild_index(cx, _r: RebuildIndexRequest) -> IndexMaintenance, job => {
        let report = |p: ScanProgress| cx.job.report(p.done, p.total);
        cx.archive.rebuild_index(&ScanOptions::default(), &report, cx.job.cancelled())
    };
    /// The latest progress of a job command.
    job_progress(cx, r: JobProgressRequest) -> JobProgress, call =>
        Ok(cx.jobs.progress(job_command(&r.command)?));
    /// Cancels a job command's running job.
    cancel_job(cx, r: CancelJobRequest) -> (), call => {
        cx.jobs.cancel(job_command(&r.command)?);
        Ok(())
    };
    /// What resolving a group of duplicates would do (moves, deletes, diffs); writes nothing.
    preview_resolve(cx, r: PreviewResolveRequest) -> ResolvePreview, call =>
        cx.archive.preview_resolve(&r.request);
    /// Resolves a group of duplicates (keep one; tag, move or delete the others) as one
    /// operation of the journal.
    resolve_duplicates(cx, r: ResolveDuplicatesRequest) -> EditOutcome, job => {
        let report = |p: EditProgress| cx.job.report(p.done, p.total);
        cx.archive.resolve_duplicates(&r.request, &report, cx.job.cancelled())
    };
    /// The archive's data-quality findings: every kind with its count and fixes, and one page
    /// of findings (see `crate::lint`).
    lint(cx, r: LintRequest) -> LintReport, call => cx.archive.lint(&LintOptions {
        kind: r.kind,
        limit: r.limit,
        offset: r.offset,
        duplicates: r.duplicates.unwrap_or(false),
    });
    /// A kind's fix as one edit request over the posts concerned, to pass to `preview_edit` and
    /// `apply_edit` (one journaled operation, one undo).
    lint_fix(cx, r: LintFixRequest) -> LintFix, call =>
        cx.archive.lint_fix(&r.kind, r.fix.as_deref());
}

/// The UI's `commands.ts`: the `Commands` type (name → request, response, job) and the list of
/// job commands, with the table's documentation.
pub fn typescript() -> String {
    let cfg = ts_rs::Config::from_env();
    let entries = ts_entries();
    let mut deps = Vec::new();
    for e in &entries {
        (e.imports)(&cfg, &mut deps);
    }
    let mut imports: Vec<String> = deps
        .iter()
        .map(|d| {
            let file = d.output_path.with_extension("");
            format!(
                "import type {{ {} }} from \"./{}\";\n",
                d.ts_name,
                file.display()
            )
        })
        .collect();
    imports.sort();
    imports.dedup();
    let mut out = String::from(
        "// Generated by `cargo test` from the command table in src-tauri/core/src/commands.rs.\n\
         // Do not edit this file by hand.\n",
    );
    out.extend(imports);
    out.push_str(
        "\n/** Every api command: its request, its response, and whether it is a long job. */\n\
         export type Commands = {\n",
    );
    for e in &entries {
        if !e.docs.is_empty() {
            out.push_str("  /**");
            for line in e.docs {
                out.push_str(line);
            }
            out.push_str(" */\n");
        }
        out.push_str(&format!(
            "  {}: {{ request: {}; response: {}; job: {} }};\n",
            e.name,
            (e.request)(&cfg),
            (e.response)(&cfg),
            e.job
        ));
    }
    out.push_str("};\n\nexport type CommandName = keyof Commands;\n\n");
    out.push_str("/** The commands that are long jobs (progress, `cancel_job`). */\n");
    out.push_str("export const JOB_COMMANDS = [");
    let jobs: Vec<String> = entries
        .iter()
        .filter(|e| e.job)
        .map(|e| format!("'{}'", e.name))
        .collect();
    out.push_str(&jobs.join(", "));
    out.push_str("] as const;\n\nexport type JobCommand = (typeof JOB_COMMANDS)[number];\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_is_unique_and_a_plain_identifier() {
        let mut seen = std::collections::HashSet::new();
        for c in COMMANDS {
            assert!(seen.insert(c.name), "{} twice", c.name);
            assert!(
                c.name
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
                "{}",
                c.name
            );
        }
    }

    #[test]
    fn jobs_report_and_cancel_the_latest_run() {
        let jobs = Jobs::default();
        assert_eq!(jobs.progress("export"), JobProgress::default());
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = seen.clone();
        let first = jobs.start(
            "export",
            Some(Box::new(move |p| {
                sink.lock().unwrap_or_else(|e| e.into_inner()).push(p)
            })),
        );
        first.report(1, 3);
        assert_eq!(jobs.progress("export"), JobProgress { done: 1, total: 3 });
        assert_eq!(
            *seen.lock().unwrap_or_else(|e| e.into_inner()),
            vec![JobProgress { done: 1, total: 3 }]
        );
        let second = jobs.start("export", None);
        jobs.cancel("export");
        assert!(second.cancelled().load(Ordering::Relaxed));
        assert!(
            !first.cancelled().load(Ordering::Relaxed),
            "only the latest"
        );
        assert_eq!(jobs.progress("export"), JobProgress::default());
    }

    #[test]
    fn only_job_commands_have_progress() {
        assert_eq!(job_command("apply_edit"), Ok("apply_edit"));
        assert_eq!(
            job_command("search").map_err(|e| e.code),
            Err(ErrorCode::BadRequest)
        );
        assert_eq!(
            job_command("nope").map_err(|e| e.code),
            Err(ErrorCode::BadRequest)
        );
    }

    /// Writes `commands.ts` beside ts-rs's bindings (like ts-rs's own export tests); CI then
    /// fails when the committed file differs.
    #[test]
    fn export_bindings_commands() {
        let ts = typescript();
        for c in COMMANDS {
            assert!(
                ts.contains(&format!("  {}: {{ request: ", c.name)),
                "{}",
                c.name
            );
        }
        assert!(ts.contains("import type { SearchRequest } from \"./SearchRequest\";"));
        assert!(ts.contains("response: Array<ProblemRow>;"), "{ts}");
        let dir = ts_rs::Config::from_env().out_dir().to_path_buf();
        let path = dir.join("commands.ts");
        if std::fs::read_to_string(&path).ok().as_deref() != Some(ts.as_str()) {
            std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
            std::fs::write(&path, ts).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
}
