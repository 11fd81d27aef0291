//! `shelfmark serve`: the web UI and the same api as the desktop app, over HTTP.
//!
//! - Binds 127.0.0.1 (a random port unless `--port`), and refuses any other address unless
//!   `--allow-remote` is given together with a `--token` the user chose.
//! - Every `/api/…` request needs `Authorization: Bearer <token>`; the token is random per run
//!   (32 hex characters) and printed once, in the URL on stdout (`policy`).
//! - `POST /api/<command>` runs a command of the core's table (`shelfmark_core::commands`) with
//!   the JSON body as its request and answers its JSON response; failures are `ApiError` JSON
//!   with the HTTP status of their code (`api`). Jobs report progress through `job_progress`
//!   (polled by the browser) and stop with `cancel_job`. One command is `serve`'s own: `changes`
//!   answers `{"changes": N}`, a counter that the archive's watcher bumps each time it picked up
//!   changes on disk (the browser's stand-in for the desktop's `archive-changed` event).
//! - Everything else is the UI from `ui/dist`, embedded at compile time (`assets`), under the
//!   same CSP as the desktop webview (from `tauri.conf.json`), with `connect-src 'self'`.

mod api;
mod assets;
mod policy;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, Uri};
use axum::response::Response;
use axum::Router;
use shelfmark_core::api::{ApiError, ApiResult, Archive};
use shelfmark_core::commands::Jobs;
use shelfmark_core::scan::ScanOptions;
use shelfmark_core::ErrorCode;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

pub use policy::{browser_csp, random_token};

/// What `shelfmark serve` was asked to do.
#[derive(Debug, Clone)]
pub struct Options {
    pub host: String,
    pub port: u16,
    pub allow_remote: bool,
    pub token: Option<String>,
}

fn error(code: ErrorCode, message: impl Into<String>) -> ApiError {
    ApiError::new(code, message)
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
                    ErrorCode::BadRequest,
                    format!("--host {host:?} is not an IP address (try 127.0.0.1)"),
                )
            })?
    };
    if !ip.is_loopback() {
        if !opts.allow_remote {
            return Err(error(
                ErrorCode::Refused,
                format!(
                    "refusing to serve on {ip}, which other machines can reach; \
                     pass --allow-remote together with --token if you really mean it"
                ),
            ));
        }
        if opts.token.is_none() {
            return Err(error(
                ErrorCode::Refused,
                "--allow-remote needs --token: choose a long secret token yourself",
            ));
        }
    }
    if opts.allow_remote && opts.token.is_none() {
        return Err(error(
            ErrorCode::Refused,
            "--allow-remote needs --token: choose a long secret token yourself",
        ));
    }
    let token = match &opts.token {
        Some(t) => {
            let t = t.trim();
            if t.len() < 16 || !t.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(error(
                    ErrorCode::BadRequest,
                    "--token must be at least 16 printable characters without spaces",
                ));
            }
            t.to_string()
        }
        None => random_token()?,
    };
    Ok((ip, token))
}

pub struct AppState {
    archive: Arc<Archive>,
    token: String,
    /// The `Host` header values accepted (against DNS rebinding); `None` with --allow-remote.
    hosts: Option<Vec<String>>,
    csp: HeaderValue,
    /// How many times the watcher picked up changes on disk (see the `changes` command).
    changes: Arc<AtomicU64>,
    /// The jobs that run (`apply_edit`, `export`, …), for `job_progress` and `cancel_job`.
    jobs: Jobs,
}

impl AppState {
    /// The state with `changes` as its live-update counter (see the `changes` command).
    pub fn counting(mut self, changes: Arc<AtomicU64>) -> AppState {
        self.changes = changes;
        self
    }

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
        let csp = HeaderValue::from_str(&browser_csp(policy::TAURI_CONF))
            .unwrap_or_else(|_| HeaderValue::from_static("default-src 'none'"));
        AppState {
            archive,
            token,
            hosts,
            csp,
            changes: Arc::new(AtomicU64::new(0)),
            jobs: Jobs::default(),
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
    if !archive.is_indexed() {
        index_now(&archive, &cancel)?;
    }
    // The address is printed as soon as the server listens; live updates start behind it (at a
    // million posts the watcher takes seconds to watch every folder).
    let changes = Arc::new(AtomicU64::new(0));
    let watcher = Arc::new(std::sync::Mutex::new(None));
    {
        let (a, c, n, w) = (
            archive.clone(),
            cancel.clone(),
            changes.clone(),
            watcher.clone(),
        );
        std::thread::spawn(move || live_updates(&a, &n, &w, &c));
    }

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| error(ErrorCode::Io, format!("could not start the server: {e}")))?;
    let result = runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(SocketAddr::new(ip, opts.port))
            .await
            .map_err(|e| {
                error(
                    ErrorCode::Io,
                    format!(
                        "could not listen on {}: {e}",
                        host_port((ip, opts.port).into())
                    ),
                )
            })?;
        let addr = listener.local_addr().map_err(|e| {
            error(
                ErrorCode::Io,
                format!("could not read the bound address: {e}"),
            )
        })?;
        let state = Arc::new(
            AppState::new(archive, token.clone(), addr, opts.allow_remote).counting(changes),
        );
        {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "http://{}/#token={token}", host_port(addr));
            let _ = out.flush();
        }
        eprintln!("shelfmark: serving the archive; press Ctrl-C to stop");
        axum::serve(listener, router(state))
            .with_graceful_shutdown(shutdown_signal())
            .await
            .map_err(|e| error(ErrorCode::Io, format!("the server stopped: {e}")))
    });
    cancel.store(true, Ordering::Relaxed);
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    // Stop watching now (the thread may still hold the slot).
    drop(watcher.lock().map(|mut w| w.take()));
    result
}

/// Live updates, on a thread of their own: load the reader's snapshot (so the first page does
/// not wait behind what follows), watch the archive, then rescan it once. The rescan comes after
/// the watcher is in place, so a change made before the watcher saw it is found by the rescan;
/// both bump `changes`, which the UI polls to refresh. The watcher is kept in `slot` for as long
/// as the server runs.
fn live_updates(
    archive: &Archive,
    changes: &Arc<AtomicU64>,
    slot: &std::sync::Mutex<Option<shelfmark_core::watch::Watcher>>,
    cancel: &AtomicBool,
) {
    // The snapshot is what the first searches wait for: loaded at the normal priority. What
    // follows (installing the watcher walks every folder, the rescan every file) yields to
    // searches (see `background`).
    let _ = archive.warm_up();
    shelfmark_core::background::lower_this_thread();
    let counter = changes.clone();
    match Archive::watch(archive, move |s| {
        counter.fetch_add(1, Ordering::Relaxed);
        eprintln!(
            "shelfmark: changes on disk: {} indexed, {} removed, {} renamed",
            s.indexed, s.removed, s.renamed
        );
    }) {
        Ok(w) => *slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(w),
        Err(e) => eprintln!("shelfmark: no live updates: {}", e.message),
    }
    let rescan =
        shelfmark_core::background::run(|| archive.index(&ScanOptions::default(), &|_| {}, cancel));
    match rescan {
        Ok(s) if s.indexed + s.removed + s.renamed > 0 => {
            changes.fetch_add(1, Ordering::Relaxed);
            eprintln!(
                "shelfmark: rescanned: {} indexed, {} removed, {} renamed",
                s.indexed, s.removed, s.renamed
            );
        }
        Ok(_) => {}
        Err(e) if cancel.load(Ordering::Relaxed) => drop(e),
        Err(e) => eprintln!("shelfmark: rescan failed: {}", e.message),
    }
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

async fn handle(
    State(st): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path();
    let resp = if !policy::host_allowed(&st, &headers) {
        api::fail(error(
            ErrorCode::BadHost,
            "this server answers only to 127.0.0.1 and localhost",
        ))
    } else if path == "/api" || path.starts_with("/api/") {
        let mut r = api::api(&st, &method, path, &headers, body).await;
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        r
    } else {
        assets::static_file(&method, path)
    };
    policy::harden(resp, &st.csp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};
    use std::sync::atomic::AtomicBool;

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
}
