//! HTML pages read independently of the exporter: what in them could run code or load anything,
//! and whether their links resolve inside the export.

use super::manifest::Row;
use super::text;
use std::collections::BTreeMap;

/// A start tag: its lower-case name and attributes (names lower-cased, values entity-decoded).
pub struct Tag {
    pub name: String,
    pub attrs: Vec<(String, String)>,
}

pub fn decode_entities(s: &str) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        let end = after.find(';').filter(|e| *e <= 10);
        let decoded = end.and_then(|e| {
            let ent = &after[..e];
            let ch = match ent {
                "amp" => Some('&'),
                "lt" => Some('<'),
                "gt" => Some('>'),
                "quot" => Some('"'),
                "apos" => Some('\''),
                "nbsp" => Some('\u{a0}'),
                "colon" => Some(':'),
                "Tab" => Some('\t'),
                "NewLine" => Some('\n'),
                _ => ent
                    .strip_prefix("#x")
                    .or_else(|| ent.strip_prefix("#X"))
                    .and_then(|h| u32::from_str_radix(h, 16).ok())
                    .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                    .and_then(char::from_u32),
            };
            ch.map(|c| (c, e))
        });
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &after[e + 1..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The start tags of a page, and the text of each `<style>` element.
pub fn tags(page: &str) -> (Vec<Tag>, Vec<String>) {
    let b = page.as_bytes();
    let mut out = Vec::new();
    let mut styles = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'<' {
            i += 1;
            continue;
        }
        if page[i..].starts_with("<!--") {
            i = page[i..].find("-->").map_or(b.len(), |e| i + e + 3);
            continue;
        }
        if !b.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
            i += 1;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' && b[j] != b'/' {
            j += 1;
        }
        let name = page[i + 1..j].to_ascii_lowercase();
        let mut attrs = Vec::new();
        loop {
            while j < b.len() && (b[j].is_ascii_whitespace() || b[j] == b'/') {
                j += 1;
            }
            if j >= b.len() || b[j] == b'>' {
                break;
            }
            let start = j;
            while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'=' && b[j] != b'>' {
                j += 1;
            }
            let an = page[start..j].to_ascii_lowercase();
            let mut value = String::new();
            if b.get(j) == Some(&b'=') {
                j += 1;
                match b.get(j) {
                    Some(&q @ (b'"' | b'\'')) => {
                        let end = page[j + 1..].find(q as char).map_or(b.len(), |e| j + 1 + e);
                        value = page[j + 1..end].to_string();
                        j = end + 1;
                    }
                    _ => {
                        let s = j;
                        while j < b.len() && !b[j].is_ascii_whitespace() && b[j] != b'>' {
                            j += 1;
                        }
                        value = page[s..j].to_string();
                    }
                }
            }
            attrs.push((an, decode_entities(&value)));
        }
        if name == "style" {
            let body_start = (j + 1).min(b.len());
            let end = page[body_start..]
                .to_ascii_lowercase()
                .find("</style")
                .map_or(b.len(), |e| body_start + e);
            styles.push(page[body_start..end].to_string());
        }
        out.push(Tag { name, attrs });
        i = j + 1;
    }
    (out, styles)
}

/// A URL as a browser reads it: entity-decoded already; ASCII whitespace and controls removed.
pub fn url_key(v: &str) -> String {
    v.chars()
        .filter(|c| !c.is_ascii_whitespace() && !c.is_control())
        .collect::<String>()
        .to_ascii_lowercase()
}

pub fn is_remote(v: &str) -> bool {
    let k = url_key(v);
    k.starts_with("//") || (k.contains("://") && !k.starts_with("data:")) || k.starts_with("\\\\")
}

/// The text around byte `at`.
pub fn around(page: &str, at: usize) -> &str {
    let mut from = at.saturating_sub(60);
    while !page.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (at + 60).min(page.len());
    while !page.is_char_boundary(to) {
        to += 1;
    }
    &page[from..to]
}

/// What in a page could run code or load anything from anywhere. `remote_links` counts plain
/// `<a href>` links to other sites (allowed: following one is the reader's choice).
pub fn html_problems(page: &str, remote_links: &mut usize) -> Vec<String> {
    let mut problems = Vec::new();
    let lower = page.to_ascii_lowercase();
    for bad in [
        "<script",
        "javascript:",
        "vbscript:",
        "@import",
        "url(",
        "expression(",
    ] {
        if lower.contains(bad) {
            let at = lower.find(bad).unwrap_or(0);
            problems.push(format!("{bad} in …{}…", around(page, at)));
        }
    }
    if !lower.contains("content-security-policy") || !lower.contains("default-src 'none'") {
        problems.push("no Content-Security-Policy with default-src 'none'".into());
    }
    let (tags, styles) = tags(page);
    for s in &styles {
        let s = s.to_ascii_lowercase();
        if s.contains("url(") || s.contains("@import") || s.contains("//") {
            problems.push(format!("a style loads something: {s}"));
        }
    }
    const FORBIDDEN: &[&str] = &[
        "script",
        "iframe",
        "frame",
        "frameset",
        "object",
        "embed",
        "applet",
        "link",
        "base",
        "form",
        "input",
        "button",
        "svg",
        "math",
        "video",
        "audio",
        "source",
        "track",
        "picture",
        "portal",
        "noscript",
        "template",
        "image",
        "use",
        "xmp",
        "plaintext",
        "textarea",
    ];
    let mut styles_seen = 0;
    for t in &tags {
        if FORBIDDEN.contains(&t.name.as_str()) {
            problems.push(format!("a <{}> element", t.name));
        }
        if t.name == "style" {
            styles_seen += 1;
        }
        if t.name == "meta" {
            let allowed = t.attrs.iter().all(|(n, v)| match n.as_str() {
                "charset" | "name" => true,
                "http-equiv" => v.eq_ignore_ascii_case("content-security-policy"),
                "content" => !v.to_ascii_lowercase().contains("url"),
                _ => false,
            });
            if !allowed {
                problems.push(format!("a <meta> with {:?}", t.attrs));
            }
        }
        for (n, v) in &t.attrs {
            if n.starts_with("on") {
                problems.push(format!("an event handler {n}={v:?} on <{}>", t.name));
            }
            let key = url_key(v);
            if key.starts_with("javascript:") || key.starts_with("vbscript:") {
                problems.push(format!("{n}={v:?} on <{}>", t.name));
            }
            match (t.name.as_str(), n.as_str()) {
                ("a", "href") => {
                    if key.starts_with("data:") {
                        problems.push(format!("a data: link {v:?}"));
                    } else if is_remote(v) {
                        *remote_links += 1;
                    }
                }
                // `cite` is never loaded; `content` is the CSP itself.
                (_, "cite") | ("meta", "content") => {}
                (_, "href" | "xlink:href") => {
                    problems.push(format!("href={v:?} on <{}>", t.name));
                }
                (_, "style")
                    if key.contains("url(")
                        || key.contains("@import")
                        || key.contains("expression") =>
                {
                    problems.push(format!("style={v:?} on <{}>", t.name));
                }
                (_, "srcset" | "srcdoc") => problems.push(format!("{n}={v:?} on <{}>", t.name)),
                // What a browser loads from an address (text such as `title` or `alt` may
                // mention one harmlessly).
                (
                    _,
                    "src" | "data" | "poster" | "background" | "action" | "formaction" | "lowsrc"
                    | "dynsrc" | "longdesc" | "codebase" | "archive" | "manifest" | "ping" | "icon"
                    | "profile" | "usemap",
                ) if is_remote(v) => {
                    problems.push(format!("a remote address {n}={v:?} on <{}>", t.name));
                }
                _ => {}
            }
        }
    }
    if styles_seen > 1 {
        problems.push(format!("{styles_seen} <style> elements"));
    }
    problems
}

/// Percent-decoding of a relative URL to a path.
pub fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() + 1 {
            if let Ok(v) = u8::from_str_radix(s.get(i + 1..i + 3).unwrap_or("zz"), 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8(out).unwrap_or_else(|e| panic!("{s}: {e}"))
}

/// `href` resolved against the folder of `page` (both relative to the export), or None when it
/// climbs out of the export.
pub fn resolve_href(page: &str, href: &str) -> Option<String> {
    let mut parts: Vec<String> = page.split('/').map(str::to_string).collect();
    parts.pop();
    for c in percent_decode(href).split('/') {
        match c {
            ".." => {
                parts.pop()?;
            }
            "." | "" => {}
            c => parts.push(c.to_string()),
        }
    }
    Some(parts.join("/"))
}

/// The first link of an exported page (↑ to the list) leads to `index.html`; the list links
/// every exported page exactly once and nothing else.
pub fn check_html_links(
    files: &BTreeMap<String, Vec<u8>>,
    rows: &[Row],
    problems: &mut Vec<String>,
) {
    for r in rows {
        let page = text(&files[&r.exported]);
        let (tags, _) = tags(&page);
        let up = tags
            .iter()
            .find(|t| t.name == "a")
            .and_then(|t| t.attrs.iter().find(|(n, _)| n == "href"))
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
        if resolve_href(&r.exported, &up).as_deref() != Some("index.html") {
            problems.push(format!(
                "{}: the first link {up:?} does not lead to index.html",
                r.exported
            ));
        }
    }
    let index = text(files.get("index.html").map_or(&[][..], |b| &b[..]));
    let (tags, _) = tags(&index);
    let mut linked: Vec<String> = tags
        .iter()
        .filter(|t| t.name == "a")
        .filter_map(|t| t.attrs.iter().find(|(n, _)| n == "href"))
        .map(|(_, v)| resolve_href("index.html", v).unwrap_or_else(|| format!("outside: {v}")))
        .collect();
    linked.sort();
    let mut want: Vec<String> = rows.iter().map(|r| r.exported.clone()).collect();
    want.sort();
    if linked != want {
        problems.push(format!(
            "index.html links {} pages, the export has {} (e.g. {:?} / {:?})",
            linked.len(),
            want.len(),
            linked.iter().find(|l| !want.contains(l)),
            want.iter().find(|w| !linked.contains(w))
        ));
    }
}
