//! The UI's files, embedded at compile time, answered to `GET` and `HEAD`.

use axum::body::Body;
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};

/// The built UI. In debug builds rust-embed reads the folder at run time; in release builds the
/// files are inside the binary. A missing folder (UI not built) is an empty set, not an error.
#[derive(rust_embed::Embed)]
#[folder = "../../ui/dist"]
#[allow_missing = true]
struct Ui;

const NOT_BUILT: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Shelfmark</title></head><body><h1>Shelfmark</h1>\
<p>The web UI was not built into this program. Run <code>cd ui &amp;&amp; npm run build</code>, \
then build <code>shelfmark</code> again. The api under <code>/api/</code> works.</p></body></html>";

pub fn static_file(method: &Method, path: &str) -> Response {
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
