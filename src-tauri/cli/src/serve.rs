//! `shelfmark serve`: the web UI and the same api as the desktop app, over HTTP.
//!
//! - Binds 127.0.0.1 (a random port unless `--port`), and refuses any other address unless
//!   `--allow-remote` is given together with a `--token` the user chose.
//! - Every `/api/…` request needs `Authorization: Bearer <token>`; the token is random per run
//!   (32 hex characters) and printed once, in the URL on stdout.
//! - `POST /api/<command>` takes a JSON body and answers JSON; failures are `ApiError` JSON with a
//!   4xx/5xx status. Core calls are synchronous and run on tokio's blocking pool. Commands:
//!   `search` (SearchRequest), `facets` {query}, `show` {path}, `render_body` {path}, `problems`,
//!   `stats`, `archive_info`: the same names and arguments as the desktop's Tauri commands.
//!   `fetch_image` {path, url} fetches one remote image of a post when the user asks for it and
//!   answers it as a `data:` URL (see `shelfmark_core::fetch`); the browser never loads it itself.
//!   Edits: `preview_edit` {request, diffs?} (EditRequest; writes nothing), `apply_edit`
//!   {request}, `edit_progress` (`{done,total}` of the running apply, polled by the UI),
//!   `cancel_edit`, `undo`, `redo`, `history`, `interrupted`, `recover` {how}.
//!   Collections: `collections`, `collection_posts` {name}, `collection_create` {name, query?,
//!   posts?: EditTarget}, `collection_add` {name, posts}, `collection_remove` {name, paths},
//!   `collection_move` {name, path, position}, `collection_rename` {name, new_name},
//!   `collection_reorder` {name, position}, `collection_delete` {name}, `collections_of` {path}.
//!   Export: `export` {request: ExportRequest} (progress polled with `export_progress`, stopped
//!   with `cancel_export`).
//!   `changes` answers `{"changes": N}`, a counter that the archive's watcher bumps each time it
//!   picked up changes on disk (the browser's stand-in for the desktop's `archive-changed` event).
//! - Everything else is the UI from `ui/dist`, embedded at compile time, under the same CSP as the
//!   desktop webview (from `tauri.conf.json`), with `connect-src 'self'`.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use shelfmark_core::api::{ApiError, ApiResult, Archive, ArchiveInfo};
use shelfmark_core::edit::{EditProgress, EditRequest, EditTarget, Recovery, PREVIEW_DIFFS};
use shelfmark_core::export::{ExportProgress, ExportRequest};
use shelfmark_core::scan::ScanOptions;
use shelfmark_core::search::searcher::SearchRequest;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The built UI. In debug builds rust-embed reads the folder at run time; in release builds the
/// files are inside the binary. A missing folder (UI not built) is an empty set, not an error.
#[derive(rust_embed::Embed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Ui;

/// The desktop app's configuration, for its CSP.
const TAURI_CONF: &str = include_str!("../../../tauri.conf.json");

/// What `shelfmark serve` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub allow_remote: bool,
    pub token: Option<String>,
}

fn error(code: &str, message: impl Into<String>) -> ApiError {
    ApiError {
        code: code.into(),
        message: message.into(),
        path: None,
    }
}

/// Checks the options: the address to bind and the token to require.
pub fn plan(opts: &Options) -> ApiResult<(IpAddr, String)> {
    let host = opts.host.trim();
    let ip: IpAddr = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .map_err(|_| {
                error(
                    "bad-request",
                    format!("--host {host:?} is not an IP address (try 127.0.0.1)"),
                )
            })?
    };
    if !ip.is_loopback() {
        if !opts.allow_remote {
            return Err(error(
                "refused",
                format!(
                    "refusing to serve on {ip}, which other machines can reach; \
                     pass --allow-remote together with --token if you really mean it"
                ),
            ));
        }
        if opts.token.is_none() {
            return Err(error(
                "refused",
                "--allow-remote needs --token: choose a long secret token yourself",
            ));
        }
    }
    if opts.allow_remote && opts.token.is_none() {
        return Err(error(
            "refused",
            "--allow-remote needs --token: choose a long secret token yourself",
        ));
    }
    let token = match &opts.token {
        Some(t) => {
            let t = t.trim();
            if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(error(
                    "bad-request",
                    "--token must be at least 16 printable characters without spaces",
                ));
            }
            t.to_string()
        }
        None => random_token()?,
    };
    Ok((ip, token))
}

/// 16 random bytes as 32 hex characters.
pub fn random_token() -> ApiResult<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes)
        .map_err(|e| error("internal", format!("could not get random bytes: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The desktop CSP made fit for a browser: the Tauri-only sources (`asset:`, `ipc:`) dropped,
/// `connect-src 'self'`, and `frame-ancestors 'none'`.
pub fn browser_csp(tauri_conf: &str) -> String {
    const STRICT: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
         script-src 'self'; connect-src 'self'; frame-src 'none'; object-src 'none'; base-uri 'none'; \
         form-action 'none'";
    let conf: serde_json::Value = serde_json::from_str(tauri_conf).unwrap_or_default();
    let csp = conf["app"]["security"]["csp"].as_str().unwrap_or(STRICT);
    let tauri_only = [
        "asset:",
        "http://asset.localhost",
        "ipc:",
        "http://ipc.localhost",
    ];
    let mut out = Vec::new();
    let (mut connect, mut ancestors) = (false, false);
    for directive in csp.split(';') {
        let mut words = directive.split_whitespace();
        let Some(name) = words.next() else { continue };
        let mut values: Vec<&str> = words.filter(|v| !tauri_only.contains(v)).collect();
        if name == "connect-src" {
            connect = true;
            values = vec!["'self'"];
        }
        ancestors |= name == "frame-ancestors";
        if values.is_empty() {
            values.push("'none'");
        }
        out.push(format!("{name} {}", values.join(" ")));
    }
    if !connect {
        out.push("connect-src 'self'".into());
    }
    if !ancestors {
        out.push("frame-ancestors 'none'".into());
    }
    out.join("; ")
}

pub struct AppState {
    archive: Arc<Archive>,
    token: String,
    /// The `Host` header values accepted (against DNS rebinding); `None` with --allow-remote.
    hosts: Option<Vec<String>>,
    csp: HeaderValue,
    /// How many times the watcher picked up changes on disk (see the `changes` command).
    changes: Arc<AtomicU64>,
    /// Progress and cancel flag of the edit being applied (see `edit_progress`, `cancel_edit`).
    edit: Arc<EditJob>,
    /// The same for the export that runs.
    export: Arc<EditJob>,
}

#[derive(Default)]
struct EditJob {
    done: AtomicU64,
    total: AtomicU64,
    cancel: AtomicBool,
}

impl AppState {
    pub fn new(archive: Arc<Archive>, token: String, addr: SocketAddr, remote: bool) -> AppState {
        let port = addr.port();
        let hosts = (!remote).then(|| {
            let mut h = vec![
                format!("127.0.0.1:{port}"),
                format!("localhost:{port}"),
                format!("[::1]:{port}"),
            ];
            if port == 80 {
                h.extend(["127.0.0.1".into(), "localhost".into(), "[::1]".into()]);
            }
            h.push(host_port(addr));
            h
        });
        let csp = HeaderValue::from_str(&browser_csp(TAURI_CONF))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
        AppState {
            archive,
            token,
            hosts,
            csp,
            changes: Arc::new(AtomicU64::new(0)),
            edit: Arc::new(EditJob::default()),
            export: Arc::new(EditJob::default()),
        }
    }
}

fn host_port(addr: SocketAddr) -> String {
    match addr.ip() {
        IpAddr::V6(ip) => format!("[{ip}]:{}", addr.port()),
        IpAddr::V4(ip) => format!("{ip}:{}", addr.port()),
    }
}

/// The router: `/api/<command>` and the UI.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new().fallback(handle).with_state(state)
}

/// Starts the server and blocks until Ctrl-C or SIGTERM.
pub fn run(archive: Archive, opts: Options) -> ApiResult<()> {
    let (ip, token) = plan(&opts)?;
    let archive = Arc::new(archive);
    let cancel = Arc::new(AtomicBool::new(false));
    if archive.is_indexed() {
        // The index opens at once; bring it up to date in the background, after the reader's
        // snapshot is loaded (so the first page does not wait behind the rescan).
        let (a, c) = (archive.clone(), cancel.clone());
        std::thread::spawn(move || {
            let _ = a.warm_up();
            match a.index(&ScanOptions::default(), &|_| {}, &c) {
                Ok(s) if s.indexed + s.removed + s.renamed > 0 => eprintln!(
                    "shelfmark: rescanned: {} indexed, {} removed, {} renamed",
                    s.indexed, s.removed, s.renamed
                ),
                Ok(_) => {}
                Err(e) => eprintln!("shelfmark: rescan failed: {}", e.message),
            }
        });
    } else {
        index_now(&archive, &cancel)?;
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| error("io", format!("could not start the server: {e}")))?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, opts.port))
            .await
            .map_err(|e| {
                error(
                    "io",
                    format!(
                        "could not listen on {}: {e}",
                        host_port((ip, opts.port).into())
                    ),
                )
            })?;
        let addr = listener
            .local_addr()
            .map_err(|e| error("io", format!("could not read the bound address: {e}")))?;
        let state = Arc::new(AppState::new(
            archive,
            token.clone(),
            addr,
            opts.allow_remote,
        ));
        // Live updates: rescan on changes on disk; the UI polls `changes` to refresh.
        let changes = state.changes.clone();
        let _watcher = Archive::watch(&state.archive, move |s| {
            changes.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "shelfmark: changes on disk: {} indexed, {} removed, {} renamed",
                s.indexed, s.removed, s.renamed
            );
        })
        .map_err(|e| eprintln!("shelfmark: no live updates: {e}"))
        .ok();
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "http://{}/#token={token}", host_port(addr));
            let _ = out.flush();
        }
        eprintln!("shelfmark: serving the archive; press Ctrl-C to stop");
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| error("io", format!("the server stopped: {e}")))
    });
    cancel.store(true, Ordering::Relaxed);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}

/// Indexes an archive that has no index yet, with progress on stderr.
fn index_now(archive: &Archive, cancel: &AtomicBool) -> ApiResult<()> {
    use std::io::IsTerminal;
    eprintln!("shelfmark: indexing {} …", archive.root().display());
    let bar = crate::output::progress_bar(crate::output::INDEXING);
    let tty = std::io::stderr().is_terminal();
    let last = std::sync::Mutex::new(std::time::Instant::now());
    let summary = archive.index(
        &ScanOptions::default(),
        &|p| {
            bar.set_length(p.total);
            bar.set_position(p.done);
            if !tty {
                let mut last = last.lock().unwrap_or_else(|e| e.into_inner());
                if last.elapsed().as_secs_f32() >= 1.0 {
                    *last = std::time::Instant::now();
                    eprintln!("shelfmark: indexing {}/{} files", p.done, p.total);
                }
            }
        },
        cancel,
    )?;
    bar.finish_and_clear();
    eprintln!(
        "shelfmark: indexed {} files ({} problems) in {:.2}s",
        summary.indexed, summary.problems, summary.seconds
    );
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// Headers every response carries.
fn harden(mut resp: Response, csp: &HeaderValue) -> Response {
    let h = resp.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, csp.clone());
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    resp
}

async fn handle(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let resp = if !host_allowed(&st, &headers) {
        failure(
            StatusCode::MISDIRECTED_REQUEST,
            error(
                "bad-host",
                "this server answers only to 127.0.0.1 and localhost",
            ),
        )
    } else if path == "/api" || path.starts_with("/api/") {
        let mut r = api(&st, &method, path, &headers, body).await;
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    } else {
        static_file(&method, path)
    };
    harden(resp, &st.csp)
}

fn host_allowed(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(hosts) = &st.hosts else { return true };
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
}

fn authorized(st: &AppState, headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let Some((scheme, given)) = value.trim().split_once(' ') else {
        return false;
    };
    scheme.eq_ignore_ascii_case("bearer")
        && bool::from(given.trim().as_bytes().ct_eq(st.token.as_bytes()))
}

fn status_of(code: &str) -> StatusCode {
    match code {
        "unauthorized" => StatusCode::UNAUTHORIZED,
        "not-found" | "unknown-command" => StatusCode::NOT_FOUND,
        "bad-query" | "bad-request" => StatusCode::BAD_REQUEST,
        "method-not-allowed" => StatusCode::METHOD_NOT_ALLOWED,
        "not-indexed" | "cancelled" | "interrupted" => StatusCode::CONFLICT,
        "edit" => StatusCode::UNPROCESSABLE_ENTITY,
        "fetch-failed" | "not-an-image" | "too-large" => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn failure(status: StatusCode, e: ApiError) -> Response {
    (status, Json(e)).into_response()
}

fn fail(e: ApiError) -> Response {
    failure(status_of(&e.code), e)
}

/// Parses a JSON body; an empty body is `{}`.
fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    let body: &[u8] = if body.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        body
    };
    serde_json::from_slice(body)
        .map_err(|e| error("bad-request", format!("the request body is not valid: {e}")))
}

/// Runs a synchronous core call on the blocking pool and answers its result as JSON.
async fn blocking<T, F>(archive: &Arc<Archive>, f: F) -> Response
where
    T: Serialize + Send + 'static,
    F: FnOnce(&Archive) -> ApiResult<T> + Send + 'static,
{
    let archive = archive.clone();
    match tokio::task::spawn_blocking(move || f(&archive)).await {
        Ok(Ok(value)) => Json(value).into_response(),
        Ok(Err(e)) => fail(e),
        Err(_) => fail(error("internal", "the request failed inside the server")),
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct QueryArgs {
    query: String,
}

#[derive(Deserialize)]
struct PathArgs {
    path: String,
}

#[derive(Deserialize)]
struct EditArgs {
    request: EditRequest,
    /// How many diffs a preview carries.
    #[serde(default)]
    diffs: Option<usize>,
}

#[derive(Deserialize)]
struct NameArgs {
    name: String,
    #[serde(default)]
    query: Option<String>,
    #[serde(default)]
    posts: Option<EditTarget>,
    #[serde(default)]
    paths: Vec<String>,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    position: Option<usize>,
    #[serde(default)]
    new_name: Option<String>,
}

#[derive(Deserialize)]
struct ExportArgs {
    request: ExportRequest,
}

#[derive(Deserialize)]
struct RecoverArgs {
    how: Recovery,
}

#[derive(Deserialize)]
struct ImageArgs {
    path: String,
    url: String,
}

/// The archive's name, folder and whether it has an index.
/// The answer of the `changes` command.
#[derive(Debug, Serialize)]
struct Changes {
    changes: u64,
}

pub fn archive_info(archive: &Archive) -> ArchiveInfo {
    archive.info(shelfmark_core::api::Transport::Http)
}

async fn api(
    st: &Arc<AppState>,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    if !authorized(st, headers) {
        return fail(error(
            "unauthorized",
            "this request needs the session token: open the address that `shelfmark serve` printed",
        ));
    }
    if method != Method::POST {
        return fail(error("method-not-allowed", "api requests use POST"));
    }
    let command = path.trim_start_matches("/api").trim_start_matches('/');
    let archive = &st.archive;
    match command {
        "search" => match parse::<SearchRequest>(&body) {
            Ok(req) => blocking(archive, move |a| a.search(&req)).await,
            Err(e) => fail(e),
        },
        "facets" => match parse::<QueryArgs>(&body) {
            Ok(q) => blocking(archive, move |a| a.facets(&q.query)).await,
            Err(e) => fail(e),
        },
        "show" => match parse::<PathArgs>(&body) {
            Ok(p) => blocking(archive, move |a| a.show(&p.path)).await,
            Err(e) => fail(e),
        },
        "render_body" => match parse::<PathArgs>(&body) {
            Ok(p) => blocking(archive, move |a| a.render_body(&p.path)).await,
            Err(e) => fail(e),
        },
        "fetch_image" => match parse::<ImageArgs>(&body) {
            Ok(p) => blocking(archive, move |a| a.fetch_image(&p.path, &p.url)).await,
            Err(e) => fail(e),
        },
        "preview_edit" => match parse::<EditArgs>(&body) {
            Ok(e) => {
                let diffs = e.diffs.unwrap_or(PREVIEW_DIFFS);
                blocking(archive, move |a| a.preview_edit(&e.request, diffs)).await
            }
            Err(e) => fail(e),
        },
        "apply_edit" => match parse::<EditArgs>(&body) {
            Ok(e) => {
                let job = st.edit.clone();
                job.cancel.store(false, Ordering::Relaxed);
                job.done.store(0, Ordering::Relaxed);
                job.total.store(0, Ordering::Relaxed);
                blocking(archive, move |a| {
                    let report = |p: EditProgress| {
                        job.done.store(p.done, Ordering::Relaxed);
                        job.total.store(p.total, Ordering::Relaxed);
                    };
                    a.apply_edit(&e.request, &report, &job.cancel)
                })
                .await
            }
            Err(e) => fail(e),
        },
        "edit_progress" => Json(EditProgress {
            done: st.edit.done.load(Ordering::Relaxed),
            total: st.edit.total.load(Ordering::Relaxed),
        })
        .into_response(),
        "cancel_edit" => {
            st.edit.cancel.store(true, Ordering::Relaxed);
            Json(serde_json::json!({})).into_response()
        }
        "undo" => blocking(archive, |a| a.undo()).await,
        "redo" => blocking(archive, |a| a.redo()).await,
        "history" => blocking(archive, |a| a.history()).await,
        "interrupted" => blocking(archive, |a| a.interrupted()).await,
        "recover" => match parse::<RecoverArgs>(&body) {
            Ok(r) => blocking(archive, move |a| a.recover(r.how)).await,
            Err(e) => fail(e),
        },
        "collections" => blocking(archive, |a| a.collections()).await,
        "collection_posts" | "collection_create" | "collection_add" | "collection_remove"
        | "collection_move" | "collection_rename" | "collection_reorder" | "collection_delete" => {
            match parse::<NameArgs>(&body) {
                Ok(n) => collection_command(archive, command.to_string(), n).await,
                Err(e) => fail(e),
            }
        }
        "collections_of" => match parse::<PathArgs>(&body) {
            Ok(p) => blocking(archive, move |a| a.collections_of(&p.path)).await,
            Err(e) => fail(e),
        },
        "export" => match parse::<ExportArgs>(&body) {
            Ok(e) => {
                let job = st.export.clone();
                job.cancel.store(false, Ordering::Relaxed);
                job.done.store(0, Ordering::Relaxed);
                job.total.store(0, Ordering::Relaxed);
                blocking(archive, move |a| {
                    let report = |p: ExportProgress| {
                        job.done.store(p.done, Ordering::Relaxed);
                        job.total.store(p.total, Ordering::Relaxed);
                    };
                    a.export(&e.request, &report, &job.cancel)
                })
                .await
            }
            Err(e) => fail(e),
        },
        "export_progress" => Json(ExportProgress {
            done: st.export.done.load(Ordering::Relaxed),
            total: st.export.total.load(Ordering::Relaxed),
        })
        .into_response(),
        "cancel_export" => {
            st.export.cancel.store(true, Ordering::Relaxed);
            Json(serde_json::json!({})).into_response()
        }
        "problems" => blocking(archive, |a| a.problems()).await,
        "stats" => blocking(archive, |a| a.stats()).await,
        "archive_info" => Json(archive_info(archive)).into_response(),
        "changes" => Json(Changes {
            changes: st.changes.load(Ordering::Relaxed),
        })
        .into_response(),
        _ => fail(error(
            "unknown-command",
            format!("there is no api command {command:?}"),
        )),
    }
}

/// The collection commands, which share one argument shape.
async fn collection_command(archive: &Arc<Archive>, command: String, n: NameArgs) -> Response {
    let missing = |what: &str| fail(error("bad-request", format!("`{command}` needs `{what}`")));
    match command.as_str() {
        "collection_posts" => blocking(archive, move |a| a.collection_posts(&n.name)).await,
        "collection_create" => {
            blocking(archive, move |a| {
                a.collection_create(&n.name, n.query, n.posts.as_ref())
            })
            .await
        }
        "collection_add" => match n.posts {
            Some(posts) => blocking(archive, move |a| a.collection_add(&n.name, &posts)).await,
            None => missing("posts"),
        },
        "collection_remove" => {
            blocking(archive, move |a| a.collection_remove(&n.name, &n.paths)).await
        }
        "collection_move" => match (n.path, n.position) {
            (Some(path), Some(pos)) => {
                blocking(archive, move |a| a.collection_move(&n.name, &path, pos)).await
            }
            _ => missing("path and position"),
        },
        "collection_rename" => match n.new_name {
            Some(new) => blocking(archive, move |a| a.collection_rename(&n.name, &new)).await,
            None => missing("new_name"),
        },
        "collection_reorder" => match n.position {
            Some(pos) => blocking(archive, move |a| a.collection_reorder(&n.name, pos)).await,
            None => missing("position"),
        },
        _ => blocking(archive, move |a| a.collection_delete(&n.name)).await,
    }
}

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Shelfmark</title></head><body><h1>Shelfmark</h1>\
<p>The web UI was not built into this program. Run <code>cd ui &amp;&amp; npm run build</code>, \
then build <code>shelfmark</code> again. The api under <code>/api/</code> works.</p></body></html>";

fn static_file(method: &Method, path: &str) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return (StatusCode::METHOD_NOT_ALLOWED, "method not allowed").into_response();
    }
    let rel = path.trim_start_matches('/');
    if rel.split('/').any(|s| s == ".." || s == ".") || rel.contains('\\') {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let (file, name) = match Ui::get(rel) {
        Some(f) => (f, rel),
        // A path without an extension is a view of the single-page app.
        None if !rel.rsplit('/').next().unwrap_or("").contains('.') => {
            match Ui::get("index.html") {
                Some(f) => (f, "index.html"),
                None => return not_built(),
            }
        }
        None if rel == "index.html" => return not_built(),
        None => return (StatusCode::NOT_FOUND, "not found").into_response(),
    };
    let mime = file.metadata.mimetype().to_string();
    let cache = if name.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let body = if method == Method::HEAD {
        Body::empty()
    } else {
        Body::from(file.data.into_owned())
    };
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, cache)
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

fn not_built() -> Response {
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        NOT_BUILT,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    fn opts(host: &str, allow_remote: bool, token: Option<&str>) -> Options {
        Options {
            host: host.into(),
            port: 0,
            allow_remote,
            token: token.map(Into::into),
        }
    }

    #[test]
    fn loopback_by_default_with_a_random_token() {
        let (ip, token) = plan(&opts("127.0.0.1", false, None)).unwrap();
        assert!(ip.is_loopback());
        assert_eq!(token.len(), 32);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        let (_, other) = plan(&opts("localhost", false, None)).unwrap();
        assert_ne!(token, other, "a new token each run");
        assert!(plan(&opts("::1", false, None)).unwrap().0.is_loopback());
    }

    #[test]
    fn remote_needs_allow_remote_and_a_token() {
        let long = Some("a-long-secret-token-123");
        assert_eq!(
            plan(&opts("0.0.0.0", false, None)).unwrap_err().code,
            "refused"
        );
        assert_eq!(
            plan(&opts("0.0.0.0", false, long)).unwrap_err().code,
            "refused"
        );
        assert_eq!(
            plan(&opts("0.0.0.0", true, None)).unwrap_err().code,
            "refused"
        );
        assert_eq!(
            plan(&opts("127.0.0.1", true, None)).unwrap_err().code,
            "refused"
        );
        let (ip, token) = plan(&opts("0.0.0.0", true, long)).unwrap();
        assert!(!ip.is_loopback());
        assert_eq!(token, "a-long-secret-token-123");
        assert_eq!(
            plan(&opts("0.0.0.0", true, Some("short")))
                .unwrap_err()
                .code,
            "bad-request"
        );
        assert_eq!(
            plan(&opts("example.com", false, None)).unwrap_err().code,
            "bad-request"
        );
    }

    #[test]
    fn csp_follows_tauri_conf_without_tauri_sources() {
        let csp = browser_csp(TAURI_CONF);
        assert!(csp.contains("script-src 'self'"), "{csp}");
        assert!(csp.contains("connect-src 'self'"), "{csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
        assert!(csp.contains("object-src 'none'"), "{csp}");
        assert!(!csp.contains("ipc"), "{csp}");
        assert!(!csp.contains("asset"), "{csp}");
        // Without a CSP in the config, a strict default.
        assert!(browser_csp("{}").contains("default-src 'self'"));
    }

    /// A tiny HTTP/1.1 client: status and body.
    fn request(
        addr: SocketAddr,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String, String) {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            host_port(addr),
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
        let status = head.split(' ').nth(1).unwrap_or("0").parse().unwrap_or(0);
        (status, head.to_string(), body.to_string())
    }

    #[test]
    fn api_needs_the_token_and_answers_json() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("_posts")).unwrap();
        std::fs::write(
            dir.path().join("_posts/2023-01-09-两岸.md"),
            "---\ntitle: 两岸企业家论坛\ntags: [经济]\n---\n<p>两岸 合作</p>\n",
        )
        .unwrap();
        let archive = Archive::open(dir.path()).unwrap();
        archive
            .index(&ScanOptions::default(), &|_| {}, &AtomicBool::new(false))
            .unwrap();
        let archive = Arc::new(archive);

        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = rt
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        let token = random_token().unwrap();
        let state = Arc::new(AppState::new(archive, token.clone(), addr, false));
        rt.spawn(async move { axum::serve(listener, router(state)).await });

        let bearer = format!("Bearer {token}");
        let auth = [
            ("Authorization", bearer.as_str()),
            ("Content-Type", "application/json"),
        ];

        let (status, head, body) = request(addr, "POST", "/api/stats", &[], "");
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("\"unauthorized\""));
        assert!(head
            .to_ascii_lowercase()
            .contains("content-security-policy"));
        let (status, _, _) = request(
            addr,
            "POST",
            "/api/stats",
            &[("Authorization", "Bearer nope")],
            "",
        );
        assert_eq!(status, 401);
        let (status, _, _) = request(addr, "GET", "/api/nothing", &[], "");
        assert_eq!(status, 401);

        let (status, _, body) = request(addr, "POST", "/api/search", &auth, r#"{"query":"两岸"}"#);
        assert_eq!(status, 200, "{body}");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["total"], 1);
        assert_eq!(v["hits"][0]["title"], "两岸企业家论坛");

        let (status, _, body) = request(addr, "POST", "/api/facets", &auth, r#"{"query":""}"#);
        assert_eq!(status, 200, "{body}");
        let (status, _, body) = request(addr, "POST", "/api/archive_info", &auth, "");
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"indexed\":true"));
        let (status, _, body) = request(addr, "POST", "/api/changes", &auth, "");
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, r#"{"changes":0}"#);
        let (status, _, body) = request(
            addr,
            "POST",
            "/api/show",
            &auth,
            r#"{"path":"_posts/2023-01-09-两岸.md"}"#,
        );
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("两岸 合作"));
        let (status, _, body) = request(
            addr,
            "POST",
            "/api/render_body",
            &auth,
            r#"{"path":"_posts/2023-01-09-两岸.md"}"#,
        );
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("<p>两岸 合作</p>"), "{body}");
        let (status, _, _) = request(
            addr,
            "POST",
            "/api/render_body",
            &auth,
            r#"{"path":"../../etc/passwd"}"#,
        );
        assert_eq!(status, 404);
        let (status, _, body) = request(addr, "POST", "/api/show", &auth, r#"{"path":"nope.md"}"#);
        assert_eq!(status, 404, "{body}");
        assert!(body.contains("\"not-found\""));
        let (status, _, _) = request(addr, "POST", "/api/search", &auth, "{not json");
        assert_eq!(status, 400);
        let (status, _, body) =
            request(addr, "POST", "/api/search", &auth, r#"{"query":"a OR -b"}"#);
        assert_eq!(status, 400, "{body}");
        let (status, _, _) = request(addr, "POST", "/api/drop_tables", &auth, "");
        assert_eq!(status, 404);
        let (status, _, _) = request(addr, "GET", "/api/stats", &auth, "");
        assert_eq!(status, 405);

        // The UI (or the page saying it was not built) under the CSP.
        let (status, head, _) = request(addr, "GET", "/", &[], "");
        assert_eq!(status, 200);
        assert!(head.to_ascii_lowercase().contains("script-src 'self'"));
        let (status, _, _) = request(addr, "GET", "/../Cargo.toml", &[], "");
        assert_eq!(status, 404);
    }

    #[test]
    fn other_host_headers_are_refused_on_loopback() {
        let archive = Arc::new(Archive::open(&std::env::temp_dir()).unwrap());
        let addr: SocketAddr = "127.0.0.1:4321".parse().unwrap();
        let st = AppState::new(archive, "t".repeat(32), addr, false);
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("127.0.0.1:4321"));
        assert!(host_allowed(&st, &h));
        h.insert(header::HOST, HeaderValue::from_static("localhost:4321"));
        assert!(host_allowed(&st, &h));
        h.insert(header::HOST, HeaderValue::from_static("evil.example:4321"));
        assert!(!host_allowed(&st, &h));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_str(&format!("bearer {}", "t".repeat(32))).unwrap(),
        );
        assert!(authorized(&st, &h));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert!(!authorized(&st, &h));
    }
}
