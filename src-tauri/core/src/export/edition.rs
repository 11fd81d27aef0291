//! The HTML edition: one sanitized page per post (its fields and its body, nothing loaded from
//! anywhere, nothing run) and an `index.html` that lists them.

use super::layout::{Meta, Planned};
use super::ManifestRow;

/// The page of one post (`bytes` is its file), placed at `p.rel`.
pub(super) fn post_page(p: &Planned, m: &Meta, bytes: &[u8]) -> Vec<u8> {
    let body = crate::post::body_source(bytes).unwrap_or_default();
    let mut meta = Vec::new();
    if let Some(d) = &p.date {
        meta.push(("date".to_string(), d.clone()));
    }
    for (k, v) in [("author", &m.author), ("site", &m.site)] {
        if let Some(v) = v {
            meta.push((k.to_string(), v.clone()));
        }
    }
    if !m.tags.is_empty() {
        meta.push(("tags".into(), m.tags.join(", ")));
    }
    if !m.categories.is_empty() {
        meta.push(("categories".into(), m.categories.join(", ")));
    }
    meta.push((
        "source file".into(),
        String::from_utf8_lossy(&m.source).into_owned(),
    ));
    let depth = p.rel.matches('/').count();
    html_page(&p.title, &"../".repeat(depth), &meta, &body).into_bytes()
}

/// Text for HTML content and attribute values.
fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// An HTML page for one post: its fields and its sanitized body, nothing loaded from anywhere.
fn html_page(title: &str, up: &str, meta: &[(String, String)], body: &str) -> String {
    let rendered = crate::render::body_html(body);
    // Parked remote images keep no address at all here: the page is for reading offline.
    let html = strip_remote_sources(&rendered.html);
    let mut dl = String::new();
    for (k, v) in meta {
        dl.push_str(&format!(
            "<dt>{}</dt><dd>{}</dd>\n",
            escape_html(k),
            escape_html(v)
        ));
    }
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">\n\
<meta name=\"referrer\" content=\"no-referrer\">\n<title>{t}</title>\n\
<style>body{{max-width:46em;margin:2em auto;padding:0 1em;font-family:sans-serif;line-height:1.6}}dt{{font-weight:bold}}img{{max-width:100%}}</style>\n\
</head><body>\n<p><a href=\"{up}index.html\">↑</a></p>\n<h1>{t}</h1>\n<dl>\n{dl}</dl>\n<article>\n{html}\n</article>\n</body></html>\n",
        t = escape_html(title),
        up = escape_html(up),
    )
}

fn strip_remote_sources(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(i) = rest.find(" data-remote-src=\"") {
        out.push_str(&rest[..i]);
        let after = &rest[i + " data-remote-src=\"".len()..];
        rest = after.find('"').map_or("", |j| &after[j + 1..]);
    }
    out.push_str(rest);
    out
}

/// The list of the exported pages (`rows`), linked relative to the export folder, titled `title`
/// (a collection's name; empty: "Posts").
pub(super) fn index_page(title: &str, rows: &[ManifestRow]) -> String {
    let mut items = String::new();
    for r in rows {
        let href: String = r
            .exported
            .split('/')
            .map(url_escape)
            .collect::<Vec<_>>()
            .join("/");
        items.push_str(&format!(
            "<li><a href=\"{}\">{}</a> <small>{}</small></li>\n",
            escape_html(&href),
            escape_html(&r.title),
            escape_html(r.date.as_deref().unwrap_or("").get(..10).unwrap_or(""))
        ));
    }
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\">\n\
<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n\
<title>{t}</title><style>body{{max-width:46em;margin:2em auto;padding:0 1em;font-family:sans-serif}}</style>\n\
</head><body>\n<h1>{t} ({})</h1>\n<ol>\n{items}</ol>\n</body></html>\n",
        rows.len(),
        t = escape_html(if title.trim().is_empty() { "Posts" } else { title }),
    )
}

/// The title an `index.html` was written with (`index_page`), unescaped; "Posts" is the empty
/// title.
pub(super) fn index_title(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let start = text.find("<title>")? + "<title>".len();
    let end = start + text[start..].find("</title>")?;
    let t = text[start..end]
        .replace("&quot;", "\"")
        .replace("&gt;", ">")
        .replace("&lt;", "<")
        .replace("&amp;", "&");
    Some(if t == "Posts" { String::new() } else { t })
}

/// Percent-encode what a relative URL cannot hold as it is.
fn url_escape(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~()!$'*+,;=@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
