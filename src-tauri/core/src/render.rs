//! Post bodies are hostile HTML. This turns a body (Markdown mixed with scraped HTML) into HTML
//! that is safe to put into the webview: ammonia with a small allowlist removes scripts, event
//! handlers, `javascript:` URLs, iframes, objects, forms, `<meta>`, `<base>`, `<link>` and styles.
//! Remote images are never given a `src`: their address moves to `data-remote-src`, so nothing
//! is fetched until the user asks for it (and the webview's CSP blocks remote loads anyway).

use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Attribute that carries a blocked image's address.
pub const REMOTE_SRC: &str = "data-remote-src";

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct RenderedBody {
    /// Sanitized HTML.
    pub html: String,
    /// Addresses of the remote images that were blocked, in order of appearance.
    pub remote_images: Vec<String>,
    /// Hosts of those images (for "always allow this site").
    pub remote_hosts: Vec<String>,
}

const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
];

fn is_remote(url: &str) -> bool {
    let u = url.trim_start().to_ascii_lowercase();
    u.starts_with("http://") || u.starts_with("https://") || u.starts_with("//")
}

/// Move `src` (and lazy-loading `data-src`/`data-original`) of `<img>` tags to `data-remote-src`.
/// Runs before sanitizing; whatever slips through is still stripped by the attribute filter.
fn park_image_sources(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("<img") {
        let start = i + pos;
        let end = lower[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(html.len());
        out.push_str(&html[i..start]);
        let tag = &html[start..end];
        let tag_lower = &lower[start..end];
        let mut rewritten = String::with_capacity(tag.len() + 16);
        let mut j = 0;
        for (name_pos, name) in attribute_positions(tag_lower) {
            if matches!(name, "src" | "data-src" | "data-original") {
                rewritten.push_str(&tag[j..name_pos]);
                rewritten.push_str(if name == "src" {
                    "data-shelfmark-src"
                } else {
                    "data-shelfmark-lazy"
                });
                j = name_pos + name.len();
            }
        }
        rewritten.push_str(&tag[j..]);
        out.push_str(&rewritten);
        i = end;
    }
    out.push_str(&html[i..]);
    out
}

/// Positions of attribute names in a lower-cased tag (`<img a=1 b="2">`).
fn attribute_positions(tag: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let bytes = tag.as_bytes();
    let mut i = 4; // after "<img"
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && bytes[i] != b'='
            && bytes[i] != b'>'
        {
            i += 1;
        }
        if i > start {
            out.push((start, &tag[start..i]));
        }
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != q {
                        i += 1;
                    }
                    i += 1;
                }
                _ => {
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                }
            }
        } else if i == start {
            i += 1;
        }
    }
    out
}

/// Render a post body (Markdown and HTML) to sanitized HTML.
pub fn body_html(body: &str) -> RenderedBody {
    let mut opts = pulldown_cmark::Options::empty();
    opts.insert(pulldown_cmark::Options::ENABLE_TABLES);
    opts.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    let mut html = String::with_capacity(body.len() + body.len() / 8);
    pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(body, opts));
    let html = park_image_sources(&html);

    let remote: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = remote.clone();
    let mut builder = ammonia::Builder::default();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(
            [
                "script", "style", "noscript", "template", "iframe", "object", "title",
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("img", ["data-shelfmark-src", "data-shelfmark-lazy"])
        .attribute_filter(
            move |element, attribute, value| match (element, attribute) {
                ("img", "src") if is_remote(value) => None,
                ("img", "data-shelfmark-src" | "data-shelfmark-lazy") => {
                    if is_remote(value) {
                        if let Ok(mut list) = seen.lock() {
                            let url = if value.trim_start().starts_with("//") {
                                format!("https:{}", value.trim())
                            } else {
                                value.trim().to_string()
                            };
                            if !list.contains(&url) {
                                list.push(url);
                            }
                        }
                        Some(Cow::Owned(value.trim().to_string()))
                    } else {
                        None
                    }
                }
                _ => Some(Cow::Borrowed(value)),
            },
        );
    let clean = builder.clean(&html).to_string();
    let clean = clean
        .replace("data-shelfmark-src=", &format!("{REMOTE_SRC}="))
        .replace("data-shelfmark-lazy=", &format!("{REMOTE_SRC}="));
    let remote_images = remote.lock().map(|l| l.clone()).unwrap_or_default();
    let mut hosts: Vec<String> = Vec::new();
    let mut host_set = HashSet::new();
    for u in &remote_images {
        if let Some(h) = url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
        {
            if host_set.insert(h.clone()) {
                hosts.push(h);
            }
        }
    }
    RenderedBody {
        html: clean,
        remote_images,
        remote_hosts: hosts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = r#"<!--1610366114000-->
[标题](https://news.example.com/a)
------

<div class="ad-slot" id="div-gpt-ad-1"><script>window.pwned = 1</script></div>
<p onclick="window.pwned=2">正文 <a href="javascript:alert(1)">坏链接</a> <a href="https://example.org/x">好链接</a></p>
<iframe src="https://evil.example/frame"></iframe>
<object data="x.swf"></object><embed src="y.swf">
<form action="https://evil.example/post"><input name=a></form>
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/">
<link rel="stylesheet" href="https://evil.example/a.css">
<style>body{background:url(https://evil.example/bg.png)}</style>
<img src="https://img.example.com/a.jpg" alt="图"><img src=//cdn.example.net/b.png>
<img data-src="https://lazy.example.com/c.jpg" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<img src="https://track.example.com/p.gif" width="1" height="1">
<svg onload="window.pwned=3"><script>window.pwned=4</script></svg>
<a href="https://example.org/y" onmouseover="x()" style="position:fixed">样式</a>
"#;

    #[test]
    fn hostile_html_loses_everything_active() {
        let r = body_html(HOSTILE);
        let h = r.html.to_ascii_lowercase();
        for bad in [
            "<script",
            "onclick",
            "onload",
            "onmouseover",
            "javascript:",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<meta",
            "<base",
            "<link",
            "<style",
            "style=",
            "<svg",
            "evil.example",
            "pwned",
        ] {
            assert!(!h.contains(bad), "{bad} survived in {}", r.html);
        }
        assert!(r.html.contains("正文"));
        assert!(r.html.contains(r#"href="https://example.org/x""#));
        assert!(r.html.contains("rel=\"noopener noreferrer nofollow\""));
    }

    #[test]
    fn remote_images_are_parked_and_listed_never_loaded() {
        let r = body_html(HOSTILE);
        assert!(!r.html.contains(" src=\"http"), "{}", r.html);
        assert!(!r.html.contains(" src=\"//"), "{}", r.html);
        assert!(
            r.html
                .contains(r#"data-remote-src="https://img.example.com/a.jpg""#),
            "{}",
            r.html
        );
        assert_eq!(
            r.remote_images,
            [
                "https://img.example.com/a.jpg",
                "https://cdn.example.net/b.png",
                "https://lazy.example.com/c.jpg",
                "https://track.example.com/p.gif"
            ]
        );
        assert_eq!(
            r.remote_hosts,
            [
                "img.example.com",
                "cdn.example.net",
                "lazy.example.com",
                "track.example.com"
            ]
        );
    }

    #[test]
    fn markdown_links_and_headings_render() {
        let r = body_html("# 标题\n\n[链接](https://example.org/) and **bold**\n");
        assert!(r.html.contains("<h1>标题</h1>"));
        assert!(r.html.contains("<strong>bold</strong>"));
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "<img",
            "<img src",
            "<img src=\"",
            "<IMG SRC=http://x>",
            "<img/src=//x>",
            "<<img>>",
            "\u{0}<img>",
        ] {
            let _ = body_html(s);
        }
    }
}
