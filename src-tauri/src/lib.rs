//! The Shelfmark desktop shell.
//!
//! This crate only wires the webview to the Rust side: app state and one thin
//! `#[tauri::command]` per api call. Everything an archive does lives in `shelfmark-core`.

use shelfmark_core::api::CollectionPosts;
use shelfmark_core::api::{
    ApiError, Archive, ArchiveInfo, FacetsResponse, PostDetail, ProblemRow, Stats,
};
use shelfmark_core::collections::CollectionSummary;
use shelfmark_core::edit::{
    EditOutcome, EditPreview, EditProgress, EditRequest, EditTarget, HistoryEntry, Recovery,
    PREVIEW_DIFFS,
};
use shelfmark_core::export::{ExportProgress, ExportRequest, ExportSummary};
use shelfmark_core::render::RenderedBody;
use shelfmark_core::scan::{ScanOptions, ScanProgress, ScanSummary};
use shelfmark_core::search::searcher::{SearchRequest, SearchResponse};
use shelfmark_core::watch::Watcher;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::Channel;
use tauri::{Emitter, Manager};

/// The event the UI hears when the watcher picked up changes on disk (payload: `ScanSummary`).
pub const ARCHIVE_CHANGED: &str = "archive-changed";

/// The archive folder named on the command line (`shelfmark-desktop [ARCHIVE]`), if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StartupArchive(pub Option<PathBuf>);

/// Picks the archive folder from the process arguments: the first argument after the
/// program name that is not an option (options such as GTK's `--display` are left alone).
/// A relative path is made absolute against the current directory.
pub fn archive_from_args<I>(args: I) -> Option<PathBuf>
where
    I: IntoIterator<Item = OsString>,
{
    let arg = args
        .into_iter()
        .skip(1)
        .find(|a| !a.is_empty() && !a.as_encoded_bytes().starts_with(b"-"))?;
    let path = PathBuf::from(arg);
    Some(std::path::absolute(&path).unwrap_or(path))
}

/// The open archive, if any, and the cancel flag of the running index job.
#[derive(Default)]
pub struct AppState {
    archive: Mutex<Option<Arc<Archive>>>,
    cancel: Mutex<Arc<AtomicBool>>,
    /// Why the archive named on the command line could not be opened.
    startup_error: Mutex<Option<ApiError>>,
    /// Live updates of the open archive; replaced (and so stopped) when another is opened.
    watcher: Mutex<Option<Watcher>>,
    /// The cancel flag of the edit being applied.
    edit_cancel: Mutex<Arc<AtomicBool>>,
    /// The cancel flag of the export that runs.
    export_cancel: Mutex<Arc<AtomicBool>>,
}

impl AppState {
    fn archive(&self) -> Result<Arc<Archive>, ApiError> {
        lock(&self.archive).clone().ok_or_else(|| ApiError {
            code: "no-archive".into(),
            message: "No archive is open.".into(),
            path: None,
        })
    }
}

/// Watches the open archive for changes on disk; each scan that changed the index is told to the
/// UI as an `archive-changed` event. Without a watcher the app still works (no live updates).
fn start_watching(app: &tauri::AppHandle, state: &AppState, archive: &Archive) {
    // Stop the old watcher first, so that its last scan cannot report on the new archive.
    drop(lock(&state.watcher).take());
    let handle = app.clone();
    let watcher = archive.watch(move |summary| {
        let _ = handle.emit(ARCHIVE_CHANGED, summary);
    });
    match watcher {
        Ok(w) => *lock(&state.watcher) = Some(w),
        Err(e) => eprintln!("shelfmark-desktop: no live updates: {e}"),
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn info(archive: &Archive) -> ArchiveInfo {
    archive.info(shelfmark_core::api::Transport::Tauri)
}

/// Runs a synchronous core call off the async runtime.
async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Archive) -> Result<T, ApiError> + Send + 'static,
{
    let archive = state.archive()?;
    tauri::async_runtime::spawn_blocking(move || f(&archive))
        .await
        .unwrap_or_else(|_| {
            Err(ApiError {
                code: "internal".into(),
                message: "The request failed inside the app.".into(),
                path: None,
            })
        })
}

/// The app's version, to prove the IPC round trip.
#[tauri::command]
fn app_version(app: tauri::AppHandle) -> String {
    app.package_info().version.to_string()
}

/// The archive folder given on the command line, if any.
#[tauri::command]
fn startup_archive(state: tauri::State<'_, StartupArchive>) -> Option<String> {
    state.0.as_ref().map(|p| p.to_string_lossy().into_owned())
}

/// The sample archive next to the sources, when the app runs from a checkout.
#[tauri::command]
fn sample_archive() -> Option<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("sample-archive");
    dir.is_dir().then(|| dir.to_string_lossy().into_owned())
}

/// The open archive; fails with `no-archive` (or why the startup archive could not be opened).
#[tauri::command]
async fn archive_info(state: tauri::State<'_, AppState>) -> Result<ArchiveInfo, ApiError> {
    if let Some(e) = lock(&state.startup_error).take() {
        return Err(e);
    }
    let archive = state.archive()?;
    Ok(info(&archive))
}

/// Opens an archive folder (without indexing it; see `index_archive`).
#[tauri::command]
async fn open_archive(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    path: String,
) -> Result<ArchiveInfo, ApiError> {
    let archive = tauri::async_runtime::spawn_blocking(move || Archive::open(Path::new(&path)))
        .await
        .map_err(|_| ApiError {
            code: "internal".into(),
            message: "Opening the folder failed inside the app.".into(),
            path: None,
        })??;
    lock(&state.cancel).store(true, Ordering::Relaxed);
    let archive = Arc::new(archive);
    let out = info(&archive);
    start_watching(&app, &state, &archive);
    *lock(&state.archive) = Some(archive);
    Ok(out)
}

/// Creates or updates the index of the open archive, reporting progress on `on_progress`
/// (at most ten times a second, and once at the end). `cancel_index` stops it.
#[tauri::command]
async fn index_archive(
    state: tauri::State<'_, AppState>,
    on_progress: Channel<ScanProgress>,
) -> Result<ScanSummary, ApiError> {
    let cancel = Arc::new(AtomicBool::new(false));
    *lock(&state.cancel) = cancel.clone();
    blocking(&state, move |archive| {
        let last = Mutex::new(None::<Instant>);
        let report = |p: ScanProgress| {
            let mut last = lock(&last);
            let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
            if due || (p.total > 0 && p.done >= p.total) {
                *last = Some(Instant::now());
                let _ = on_progress.send(p);
            }
        };
        archive.index(&ScanOptions::default(), &report, &cancel)
    })
    .await
}

/// Stops the running index job, if any.
#[tauri::command]
fn cancel_index(state: tauri::State<'_, AppState>) {
    lock(&state.cancel).store(true, Ordering::Relaxed);
}

#[tauri::command]
async fn search(
    state: tauri::State<'_, AppState>,
    query: Option<String>,
    sort: Option<shelfmark_core::search::query::Sort>,
    limit: Option<u32>,
    offset: Option<u32>,
    facets: Option<bool>,
) -> Result<SearchResponse, ApiError> {
    let req = SearchRequest {
        query: query.unwrap_or_default(),
        sort,
        limit,
        offset,
        facets: facets.unwrap_or(false),
    };
    blocking(&state, move |a| a.search(&req)).await
}

#[tauri::command]
async fn facets(
    state: tauri::State<'_, AppState>,
    query: Option<String>,
) -> Result<FacetsResponse, ApiError> {
    blocking(&state, move |a| a.facets(query.as_deref().unwrap_or(""))).await
}

#[tauri::command]
async fn show(state: tauri::State<'_, AppState>, path: String) -> Result<PostDetail, ApiError> {
    blocking(&state, move |a| a.show(&path)).await
}

/// The body of a post as sanitized HTML (remote images parked, see `shelfmark_core::render`).
#[tauri::command]
async fn render_body(
    state: tauri::State<'_, AppState>,
    path: String,
) -> Result<RenderedBody, ApiError> {
    blocking(&state, move |a| a.render_body(&path)).await
}

/// One remote image of a post, fetched by the core when the user asks for it, as a `data:` URL
/// (the webview's CSP allows no remote images; see `shelfmark_core::fetch`).
#[tauri::command]
async fn fetch_image(
    state: tauri::State<'_, AppState>,
    path: String,
    url: String,
) -> Result<shelfmark_core::fetch::FetchedImage, ApiError> {
    blocking(&state, move |a| a.fetch_image(&path, &url)).await
}

/// What an edit would change (no file is written), with diffs of the first `diffs` files.
#[tauri::command]
async fn preview_edit(
    state: tauri::State<'_, AppState>,
    request: EditRequest,
    diffs: Option<usize>,
) -> Result<EditPreview, ApiError> {
    let diffs = diffs.unwrap_or(PREVIEW_DIFFS);
    blocking(&state, move |a| a.preview_edit(&request, diffs)).await
}

/// Applies an edit through the journal, reporting progress on `on_progress`; `cancel_edit` stops
/// it between batches (what was written stays written and undoable).
#[tauri::command]
async fn apply_edit(
    state: tauri::State<'_, AppState>,
    request: EditRequest,
    on_progress: Channel<EditProgress>,
) -> Result<EditOutcome, ApiError> {
    let cancel = Arc::new(AtomicBool::new(false));
    *lock(&state.edit_cancel) = cancel.clone();
    blocking(&state, move |a| {
        let report = |p: EditProgress| {
            let _ = on_progress.send(p);
        };
        a.apply_edit(&request, &report, &cancel)
    })
    .await
}

#[tauri::command]
fn cancel_edit(state: tauri::State<'_, AppState>) {
    lock(&state.edit_cancel).store(true, Ordering::Relaxed);
}

#[tauri::command]
async fn undo(state: tauri::State<'_, AppState>) -> Result<EditOutcome, ApiError> {
    blocking(&state, |a| a.undo()).await
}

#[tauri::command]
async fn redo(state: tauri::State<'_, AppState>) -> Result<EditOutcome, ApiError> {
    blocking(&state, |a| a.redo()).await
}

#[tauri::command]
async fn history(state: tauri::State<'_, AppState>) -> Result<Vec<HistoryEntry>, ApiError> {
    blocking(&state, |a| a.history()).await
}

/// The operation a crash or kill interrupted, if any (the UI offers to finish or roll it back).
#[tauri::command]
async fn interrupted(state: tauri::State<'_, AppState>) -> Result<Option<HistoryEntry>, ApiError> {
    blocking(&state, |a| a.interrupted()).await
}

#[tauri::command]
async fn recover(
    state: tauri::State<'_, AppState>,
    how: Recovery,
) -> Result<EditOutcome, ApiError> {
    blocking(&state, move |a| a.recover(how)).await
}

#[tauri::command]
async fn collections(
    state: tauri::State<'_, AppState>,
) -> Result<Vec<CollectionSummary>, ApiError> {
    blocking(&state, |a| a.collections()).await
}

#[tauri::command]
async fn collection_posts(
    state: tauri::State<'_, AppState>,
    name: String,
) -> Result<CollectionPosts, ApiError> {
    blocking(&state, move |a| a.collection_posts(&name)).await
}

#[tauri::command]
async fn collection_create(
    state: tauri::State<'_, AppState>,
    name: String,
    query: Option<String>,
    posts: Option<EditTarget>,
) -> Result<CollectionSummary, ApiError> {
    blocking(&state, move |a| {
        a.collection_create(&name, query, posts.as_ref())
    })
    .await
}

#[tauri::command]
async fn collection_add(
    state: tauri::State<'_, AppState>,
    name: String,
    posts: EditTarget,
) -> Result<CollectionSummary, ApiError> {
    blocking(&state, move |a| a.collection_add(&name, &posts)).await
}

#[tauri::command]
async fn collection_remove(
    state: tauri::State<'_, AppState>,
    name: String,
    paths: Vec<String>,
) -> Result<CollectionSummary, ApiError> {
    blocking(&state, move |a| a.collection_remove(&name, &paths)).await
}

#[tauri::command]
async fn collection_move(
    state: tauri::State<'_, AppState>,
    name: String,
    path: String,
    position: usize,
) -> Result<(), ApiError> {
    blocking(&state, move |a| a.collection_move(&name, &path, position)).await
}

/// Arguments in snake_case, as over HTTP (`new_name`).
#[tauri::command(rename_all = "snake_case")]
async fn collection_rename(
    state: tauri::State<'_, AppState>,
    name: String,
    new_name: String,
) -> Result<(), ApiError> {
    blocking(&state, move |a| a.collection_rename(&name, &new_name)).await
}

#[tauri::command]
async fn collection_reorder(
    state: tauri::State<'_, AppState>,
    name: String,
    position: usize,
) -> Result<(), ApiError> {
    blocking(&state, move |a| a.collection_reorder(&name, position)).await
}

#[tauri::command]
async fn collection_delete(
    state: tauri::State<'_, AppState>,
    name: String,
) -> Result<(), ApiError> {
    blocking(&state, move |a| a.collection_delete(&name)).await
}

#[tauri::command]
async fn collections_of(
    state: tauri::State<'_, AppState>,
    path: String,
) -> Result<Vec<String>, ApiError> {
    blocking(&state, move |a| a.collections_of(&path)).await
}

/// Exports posts, reporting progress on `on_progress`; `cancel_export` stops it.
#[tauri::command]
async fn export(
    state: tauri::State<'_, AppState>,
    request: ExportRequest,
    on_progress: Channel<ExportProgress>,
) -> Result<ExportSummary, ApiError> {
    let cancel = Arc::new(AtomicBool::new(false));
    *lock(&state.export_cancel) = cancel.clone();
    blocking(&state, move |a| {
        let last = Mutex::new(None::<Instant>);
        let report = |p: ExportProgress| {
            let mut last = lock(&last);
            if last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100)) || p.done >= p.total {
                *last = Some(Instant::now());
                let _ = on_progress.send(p);
            }
        };
        a.export(&request, &report, &cancel)
    })
    .await
}

#[tauri::command]
fn cancel_export(state: tauri::State<'_, AppState>) {
    lock(&state.export_cancel).store(true, Ordering::Relaxed);
}

/// Opens an http(s) link in the system browser; nothing else.
#[tauri::command]
fn open_url(url: String) -> Result<(), ApiError> {
    let ok = url::Url::parse(&url)
        .map(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or(false);
    if !ok {
        return Err(ApiError {
            code: "bad-request".into(),
            message: format!("Only web links can be opened: {url}"),
            path: None,
        });
    }
    open::that_detached(&url).map_err(|e| ApiError {
        code: "io".into(),
        message: format!("Could not open the browser for {url}: {e}"),
        path: None,
    })
}

/// Opens a post's file with the system's default app, or (with `reveal`) its folder in the file
/// manager. Only posts the index knows: `show` must find it first.
#[tauri::command]
async fn open_post_file(
    state: tauri::State<'_, AppState>,
    path: String,
    reveal: bool,
) -> Result<(), ApiError> {
    let (root, detail) = blocking(&state, move |a| {
        a.show(&path).map(|d| (a.root().to_path_buf(), d))
    })
    .await?;
    let file = root.join(&detail.path);
    let target = if reveal {
        file.parent().map(Path::to_path_buf).unwrap_or(root)
    } else {
        file
    };
    open::that_detached(&target).map_err(|e| ApiError {
        code: "io".into(),
        message: format!("Could not open {}: {e}", target.display()),
        path: Some(detail.path),
    })
}

#[tauri::command]
async fn problems(state: tauri::State<'_, AppState>) -> Result<Vec<ProblemRow>, ApiError> {
    blocking(&state, |a| a.problems()).await
}

#[tauri::command]
async fn stats(state: tauri::State<'_, AppState>) -> Result<Stats, ApiError> {
    blocking(&state, |a| a.stats()).await
}

/// Builds and runs the desktop app with the window from `tauri.conf.json`.
pub fn run() {
    let startup = StartupArchive(archive_from_args(std::env::args_os()));
    let state = AppState::default();
    if let Some(dir) = &startup.0 {
        match Archive::open(dir) {
            Ok(a) => *lock(&state.archive) = Some(Arc::new(a)),
            Err(e) => *lock(&state.startup_error) = Some(e),
        }
    }
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(startup)
        .manage(state)
        .setup(|app| {
            let state = app.state::<AppState>();
            let archive = lock(&state.archive).clone();
            if let Some(archive) = archive {
                start_watching(app.handle(), &state, &archive);
            }
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_version,
            startup_archive,
            sample_archive,
            archive_info,
            open_archive,
            index_archive,
            cancel_index,
            search,
            facets,
            show,
            render_body,
            fetch_image,
            preview_edit,
            apply_edit,
            cancel_edit,
            undo,
            redo,
            history,
            interrupted,
            recover,
            collections,
            collection_posts,
            collection_create,
            collection_add,
            collection_remove,
            collection_move,
            collection_rename,
            collection_reorder,
            collection_delete,
            collections_of,
            export,
            cancel_export,
            open_url,
            open_post_file,
            problems,
            stats
        ])
        .run(tauri::generate_context!());
    if let Err(err) = result {
        eprintln!("shelfmark-desktop: {err}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn no_argument_means_no_archive() {
        assert_eq!(archive_from_args(args(&["shelfmark-desktop"])), None);
        assert_eq!(archive_from_args(Vec::<OsString>::new()), None);
    }

    #[test]
    fn first_positional_argument_is_the_archive() {
        let got = archive_from_args(args(&[
            "shelfmark-desktop",
            "--verbose",
            "/data/posts",
            "x",
        ]));
        assert_eq!(got, Some(PathBuf::from("/data/posts")));
    }

    #[test]
    fn relative_archive_is_made_absolute() {
        let got = archive_from_args(args(&["shelfmark-desktop", "sample-archive"])).unwrap();
        assert!(got.is_absolute());
        assert!(got.ends_with("sample-archive"));
    }
}
