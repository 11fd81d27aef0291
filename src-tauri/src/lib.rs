//! The Shelfmark desktop shell.
//!
//! This crate only wires the webview to the Rust side. Every command of the core's table
//! (`shelfmark_core::commands`) goes through one generic IPC handler, `table`: `invoke(name,
//! args)` runs `commands::call` with the same JSON as `serve`'s `POST /api/<name>`, and a job's
//! `onProgress` channel receives its progress. Only what a desktop alone can do is declared here
//! as Tauri commands: the app's version, the archive named on the command line, the sample
//! archive, opening another archive folder, and opening a link, a post's file or the last export's
//! folder with the system.

use shelfmark_core::api::{ApiError, Archive, ArchiveInfo, Transport};
use shelfmark_core::commands::{self, JobProgress, Jobs, Sink};
use shelfmark_core::watch::Watcher;
use shelfmark_core::ErrorCode;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tauri::ipc::{Channel, Invoke, InvokeBody, InvokeError, JavaScriptChannelId};
use tauri::{Emitter, Manager, Runtime};

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
/// The desktop's state: the open archive, its watcher, and the jobs that run.
#[derive(Default)]
pub struct AppState {
    archive: Mutex<Option<Arc<Archive>>>,
    /// Why the archive named on the command line could not be opened (until another is).
    startup_error: Mutex<Option<ApiError>>,
    watcher: Mutex<Option<Watcher>>,
    jobs: Jobs,
}

impl AppState {
    fn archive(&self) -> Result<Arc<Archive>, ApiError> {
        if let Some(a) = lock(&self.archive).clone() {
            return Ok(a);
        }
        Err(lock(&self.startup_error)
            .clone()
            .unwrap_or_else(|| ApiError::new(ErrorCode::NoArchive, "No archive is open.")))
    }
}

/// Watches the open archive for changes on disk; each scan that changed the index is told to the
/// UI as an `archive-changed` event. Without a watcher the app still works (no live updates).
/// The watcher is set up on a thread of its own (at a million posts watching every folder takes
/// seconds, which must not hold up the window), and kept only if `archive` is still the open one.
fn start_watching(app: &tauri::AppHandle, archive: Arc<Archive>) {
    // Stop the old watcher first, so that its last scan cannot report on the new archive.
    drop(lock(&app.state::<AppState>().watcher).take());
    let app = app.clone();
    std::thread::spawn(move || {
        // What the first searches need, at the normal priority; then installing the watcher,
        // which walks every folder, yields to searches (see `background`).
        let _ = archive.warm_up();
        shelfmark_core::background::lower_this_thread();
        let handle = app.clone();
        let watcher = archive.watch(move |summary| {
            let _ = handle.emit(ARCHIVE_CHANGED, summary);
        });
        let state = app.state::<AppState>();
        match watcher {
            Ok(w) => {
                let open = lock(&state.archive).clone();
                if open.is_some_and(|open| Arc::ptr_eq(&open, &archive)) {
                    *lock(&state.watcher) = Some(w);
                }
            }
            Err(e) => eprintln!("shelfmark-desktop: no live updates: {e}"),
        }
    });
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A job's progress to the webview's channel, at most every 100 ms and always the last step.
fn channel_sink(channel: Channel<JobProgress>) -> Sink {
    let last = Mutex::new(None::<Instant>);
    Box::new(move |p: JobProgress| {
        let mut last = lock(&last);
        let due = last.is_none_or(|t| t.elapsed() >= Duration::from_millis(100));
        if due || (p.total > 0 && p.done >= p.total) {
            *last = Some(Instant::now());
            let _ = channel.send(p);
        }
    })
}

/// The one IPC handler of the command table: runs the command on a blocking thread.
fn table<R: Runtime>(invoke: Invoke<R>) {
    let name = invoke.message.command().to_string();
    let webview = invoke.message.webview();
    let args = match invoke.message.payload() {
        InvokeBody::Json(v) => v.clone(),
        InvokeBody::Raw(_) => serde_json::Value::Null,
    };
    let sink = args
        .get("onProgress")
        .and_then(|v| v.as_str())
        .and_then(|s| JavaScriptChannelId::from_str(s).ok())
        .map(|id| channel_sink(id.channel_on(webview.clone())));
    let app = webview.app_handle().clone();
    invoke.resolver.respond_async(async move {
        let answer = tauri::async_runtime::spawn_blocking(move || {
            let state = app.state::<AppState>();
            let archive = state.archive()?;
            commands::call(&archive, Transport::Tauri, &state.jobs, &name, args, sink)
        })
        .await
        .unwrap_or_else(|_| {
            Err(ApiError::new(
                ErrorCode::Internal,
                "The request failed inside the app.",
            ))
        });
        answer.map_err(InvokeError::from)
    });
}

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
/// Opens another archive folder (any running job of the last one is cancelled).
#[tauri::command]
async fn open_archive(
    app: tauri::AppHandle,
    state: tauri::State<'_, AppState>,
    path: String,
) -> Result<ArchiveInfo, ApiError> {
    let archive = tauri::async_runtime::spawn_blocking(move || Archive::open(Path::new(&path)))
        .await
        .map_err(|_| {
            ApiError::new(
                ErrorCode::Internal,
                "Opening the folder failed inside the app.",
            )
        })??;
    state.jobs.cancel_all();
    let archive = Arc::new(archive);
    let out = archive.info(Transport::Tauri);
    *lock(&state.archive) = Some(archive.clone());
    *lock(&state.startup_error) = None;
    start_watching(&app, archive);
    Ok(out)
}

/// Opens an http(s) link in the system browser; nothing else.
#[tauri::command]
fn open_url(url: String) -> Result<(), ApiError> {
    let ok = url::Url::parse(&url)
        .map(|u| matches!(u.scheme(), "http" | "https"))
        .unwrap_or(false);
    if !ok {
        return Err(ApiError {
            code: ErrorCode::BadRequest,
            message: format!("Only web links can be opened: {url}"),
            path: None,
        });
    }
    open::that_detached(&url).map_err(|e| ApiError {
        code: ErrorCode::Io,
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
    let archive = state.archive()?;
    let (root, detail) = tauri::async_runtime::spawn_blocking(move || {
        archive
            .show(&path)
            .map(|d| (archive.root().to_path_buf(), d))
    })
    .await
    .map_err(|_| ApiError::new(ErrorCode::Internal, "The request failed inside the app."))??;
    let file = root.join(&detail.path);
    let target = if reveal {
        file.parent().map(Path::to_path_buf).unwrap_or(root)
    } else {
        file
    };
    open::that_detached(&target).map_err(|e| ApiError {
        code: ErrorCode::Io,
        message: format!("Could not open {}: {e}", target.display()),
        path: Some(detail.path),
    })
}

/// Opens the folder the last export wrote into (the zip's folder for a zip) in the system's file
/// manager. It takes no path: only a folder an export of the open archive wrote can be opened.
#[tauri::command]
fn open_export_folder(state: tauri::State<'_, AppState>) -> Result<(), ApiError> {
    let archive = state.archive()?;
    let folder = archive
        .last_export_folder()
        .ok_or_else(|| ApiError::new(ErrorCode::NotFound, "Nothing was exported yet."))?;
    if !folder.is_dir() {
        return Err(ApiError {
            code: ErrorCode::NotAFolder,
            message: format!("{} is not a folder", folder.display()),
            path: None,
        });
    }
    open::that_detached(&folder).map_err(|e| ApiError {
        code: ErrorCode::Io,
        message: format!("Could not open {}: {e}", folder.display()),
        path: None,
    })
}

/// The commands only the desktop has (not in the core's table).
fn desktop_commands() -> impl Fn(Invoke<tauri::Wry>) -> bool + Send + Sync + 'static {
    tauri::generate_handler![
        app_version,
        startup_archive,
        sample_archive,
        open_archive,
        open_url,
        open_post_file,
        open_export_folder,
    ]
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
    let desktop = desktop_commands();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(startup)
        .manage(state)
        .setup(|app| {
            let state = app.state::<AppState>();
            let archive = lock(&state.archive).clone();
            if let Some(archive) = archive {
                start_watching(app.handle(), archive);
            }
            Ok(())
        })
        .invoke_handler(move |invoke| {
            if commands::spec(invoke.message.command()).is_some() {
                table(invoke);
                true
            } else {
                desktop(invoke)
            }
        })
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
