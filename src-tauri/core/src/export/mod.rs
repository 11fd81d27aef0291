//! Export posts to a folder (or a zip) that works everywhere: a layout decides each post's path,
//! every path component is made portable (`names`), collisions get a stable suffix, and nothing
//! is written outside the target. Content is a byte-identical copy, a copy with front matter
//! rewritten through the byte-stable edit engine, or a self-contained HTML edition. Every export
//! writes `manifest.csv` and `manifest.jsonl`. Exporting again into the same folder updates it:
//! unchanged files are skipped by checksum, files the last export wrote are replaced, anything
//! else is a conflict unless `overwrite`; posts no longer exported are reported (deleted only when
//! asked, and only if untouched since). The same rule holds for the manifests and `index.html`:
//! the last export's are recognised because its `manifest.jsonl` is byte for byte what Shelfmark
//! writes for its rows, and the others are exactly what those rows make. Every file is written
//! through a temporary file created exclusively under an unpredictable name (`output`), never
//! through a symlink. CSV cells that a spreadsheet would take for a formula get a leading `'`
//! (OWASP's advice); the JSONL keeps every value exactly.

pub mod names;
mod output;

use crate::edit::{edit_bytes, EditOp, Skipped};
use crate::post::{self, ParseOptions};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS, Default)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum ExportFormat {
    /// Byte-identical copies.
    #[default]
    Copy,
    /// Copies with front matter keys set or removed (`set`, `remove`).
    Rewrite,
    /// One sanitized HTML page per post and an `index.html`.
    Html,
}

/// Which posts to export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[ts(export)]
pub enum ExportSource {
    Collection { name: String },
    Query { query: String },
    Paths { paths: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ExportRequest {
    pub source: ExportSource,
    /// The target folder (or zip file with `zip`).
    pub to: String,
    /// `keep`, `jekyll`, `by-tag`, `by-category`, `by-author`, `by-site`, `by-month`, or
    /// `template:{year}/{month}/{slug}.md`.
    #[serde(default = "default_layout")]
    pub layout: String,
    #[serde(default)]
    pub format: ExportFormat,
    /// `KEY=VALUE` (VALUE is YAML) set in each exported copy (format `rewrite`).
    #[serde(default)]
    pub set: Vec<String>,
    /// Keys removed from each exported copy (format `rewrite`).
    #[serde(default)]
    pub remove: Vec<String>,
    #[serde(default)]
    pub zip: bool,
    /// Replace files in the target that Shelfmark did not write (or that were changed since).
    #[serde(default)]
    pub overwrite: bool,
    /// Delete files an earlier export wrote for posts no longer exported (if untouched since).
    #[serde(default)]
    pub delete_removed: bool,
    /// Plan only: nothing is written.
    #[serde(default)]
    pub dry_run: bool,
}

fn default_layout() -> String {
    "keep".into()
}

/// One exported post, as in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ManifestRow {
    pub source: String,
    pub exported: String,
    pub title: String,
    pub date: Option<String>,
    pub sha256: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ExportSummary {
    /// Where it went (the folder, or the zip file).
    pub to: String,
    pub posts: u64,
    pub written: u64,
    /// Files an earlier export wrote, replaced with new content.
    pub updated: u64,
    /// Files already there with the same content.
    pub unchanged: u64,
    /// Posts whose path had to change to be portable (or to avoid a collision).
    pub renamed: u64,
    /// Files in the target that were not replaced (not written by Shelfmark, or changed since).
    pub conflicts: Vec<Skipped>,
    /// Files of an earlier export whose post is no longer exported.
    pub removed: Vec<String>,
    /// Of those, deleted (`delete_removed`).
    pub deleted: u64,
    /// Posts that could not be exported, and why.
    pub problems: Vec<Skipped>,
    /// The first planned files (for previews), in order.
    pub preview: Vec<ManifestRow>,
    pub cancelled: bool,
    pub dry_run: bool,
    pub seconds: f64,
}

#[derive(Debug, Clone, Copy, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ExportProgress {
    pub done: u64,
    pub total: u64,
}

pub type Result<T> = std::result::Result<T, String>;

/// How many planned files a summary lists.
pub const PREVIEW_ROWS: usize = 20;
const MANIFEST_CSV: &str = "manifest.csv";
const MANIFEST_JSONL: &str = "manifest.jsonl";
const INDEX_HTML: &str = "index.html";
/// Why a file in the target was left as it is.
const NOT_OURS: &str = "is already in the export folder and was not written by the last export (or was changed since); not replaced (overwrite to replace it)";

#[derive(Debug, Clone, PartialEq)]
enum Layout {
    Keep,
    Jekyll,
    By(&'static str),
    Month,
    Template(Vec<String>),
}

fn parse_layout(text: &str) -> Result<Layout> {
    Ok(match text.trim() {
        "" | "keep" => Layout::Keep,
        "jekyll" => Layout::Jekyll,
        "by-tag" => Layout::By("tag"),
        "by-category" => Layout::By("category"),
        "by-author" => Layout::By("author"),
        "by-site" => Layout::By("site"),
        "by-month" => Layout::Month,
        other => match other.strip_prefix("template:") {
            Some(t) => {
                let parts: Vec<String> = t
                    .trim_matches('"')
                    .split(['/', '\\'])
                    .filter(|p| !p.is_empty())
                    .map(str::to_string)
                    .collect();
                if parts.is_empty() {
                    return Err("the template is empty".into());
                }
                Layout::Template(parts)
            }
            None => {
                return Err(format!(
                "unknown layout `{other}`: use keep, jekyll, by-tag, by-category, by-author, by-site, by-month or template:\"{{year}}/{{month}}/{{slug}}.md\""
            ))
            }
        },
    })
}

/// What a post offers to a layout.
struct Meta {
    source: Vec<u8>,
    title: String,
    date_ms: Option<i64>,
    tags: Vec<String>,
    categories: Vec<String>,
    author: Option<String>,
    site: Option<String>,
    fields: serde_json::Map<String, serde_json::Value>,
}

impl Meta {
    fn file_name(&self) -> String {
        let name = self
            .source
            .rsplit(|&b| b == b'/')
            .next()
            .unwrap_or(&self.source);
        String::from_utf8_lossy(name).into_owned()
    }

    fn date(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        self.date_ms
            .and_then(chrono::DateTime::from_timestamp_millis)
    }

    /// The title made into a slug, or the file name without date prefix and extension.
    fn slug(&self) -> String {
        if !self.title.trim().is_empty() {
            return names::slug(&self.title);
        }
        names::slug(&self.stem())
    }

    fn stem(&self) -> String {
        let name = self.file_name();
        let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
        let b = stem.as_bytes();
        let dated = b.len() > 11
            && b.get(4) == Some(&b'-')
            && b.get(7) == Some(&b'-')
            && b.get(10) == Some(&b'-')
            && b[..4].iter().all(u8::is_ascii_digit);
        if dated {
            stem[11..].to_string()
        } else {
            stem.to_string()
        }
    }

    /// A placeholder's value (`{year}`, `{slug}`, any front matter key).
    fn value(&self, key: &str) -> String {
        let d = self.date();
        let first = |v: &[String]| v.first().cloned();
        let text = match key {
            "year" => d.map(|d| d.format("%Y").to_string()),
            "month" => d.map(|d| d.format("%m").to_string()),
            "day" => d.map(|d| d.format("%d").to_string()),
            "date" => d.map(|d| d.format("%Y-%m-%d").to_string()),
            "slug" => Some(self.slug()),
            "title" => Some(self.title.clone()),
            "name" | "stem" => Some(self.stem()),
            "filename" => Some(self.file_name()),
            "tag" => first(&self.tags),
            "category" => first(&self.categories),
            "author" => self.author.clone(),
            "site" => self.site.clone(),
            other => self.fields.get(other).and_then(|v| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Array(items) => items.first().map(|i| match i {
                    serde_json::Value::String(s) => s.clone(),
                    x => x.to_string(),
                }),
                serde_json::Value::Null => None,
                x => Some(x.to_string()),
            }),
        };
        text.filter(|t| !t.trim().is_empty())
            .unwrap_or_else(|| format!("no-{key}"))
    }
}

/// A post's path in the export (components not yet portable), with `ext` as its extension.
fn layout_path(layout: &Layout, m: &Meta, ext: &str) -> Vec<String> {
    let with_ext = |stem: String| format!("{stem}.{ext}");
    let file_name = m.file_name();
    let name = with_ext(
        file_name
            .rsplit_once('.')
            .map_or(file_name.clone(), |(s, _)| s.to_string()),
    );
    match layout {
        Layout::Keep => {
            let src = String::from_utf8_lossy(&m.source).into_owned();
            let mut parts: Vec<String> = src.split('/').map(str::to_string).collect();
            if let Some(last) = parts.last_mut() {
                *last = with_ext(
                    last.rsplit_once('.')
                        .map_or(last.clone(), |(s, _)| s.to_string()),
                );
            }
            parts
        }
        Layout::Jekyll => {
            let date = m.date().map_or("0000-00-00".to_string(), |d| {
                d.format("%Y-%m-%d").to_string()
            });
            vec!["_posts".into(), with_ext(format!("{date}-{}", m.slug()))]
        }
        Layout::By(key) => vec![m.value(key), name],
        Layout::Month => vec![m.value("year"), m.value("month"), name],
        Layout::Template(parts) => {
            let mut out: Vec<String> = parts.iter().map(|p| fill(p, m)).collect();
            if let Some(last) = out.last_mut() {
                let stem = last
                    .strip_suffix(".md")
                    .or_else(|| last.strip_suffix(".markdown"))
                    .or_else(|| last.strip_suffix(".html"))
                    .unwrap_or(last)
                    .to_string();
                *last = with_ext(stem);
            }
            out
        }
    }
}

/// Replace `{key}` placeholders in one template component.
fn fill(part: &str, m: &Meta) -> String {
    let mut out = String::new();
    let mut rest = part;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        match rest[open..].find('}') {
            Some(close) => {
                let key = &rest[open + 1..open + close];
                out.push_str(&m.value(key.trim()));
                rest = &rest[open + close + 1..];
            }
            None => {
                out.push_str(&rest[open..]);
                rest = "";
            }
        }
    }
    out.push_str(rest);
    out
}

/// One planned file.
struct Planned {
    source: Vec<u8>,
    rel: String,
    renamed: bool,
    title: String,
    date: Option<String>,
}

/// The keys under which two names are one file on Windows (which upcases names) or macOS (which
/// folds case): names equal lower-cased or upper-cased collide (`a`/`A`, but also `σ`/`ς`,
/// `ſ`/`s`, `K`/`k`).
fn case_keys(s: &str) -> [String; 2] {
    [s.to_lowercase(), s.to_uppercase()]
}

fn taken(set: &HashSet<String>, s: &str) -> bool {
    case_keys(s).iter().any(|k| set.contains(k))
}

/// Portable, collision-free relative paths for every post, in source path order.
fn assign_paths(layout: &Layout, metas: &[Meta], ext: &str) -> Vec<Planned> {
    let mut files: HashSet<String> = [MANIFEST_CSV, MANIFEST_JSONL, INDEX_HTML]
        .iter()
        .flat_map(|s| case_keys(s))
        .collect();
    let mut folders: HashSet<String> = HashSet::new();
    let mut out = Vec::with_capacity(metas.len());
    for m in metas {
        let raw = layout_path(layout, m, ext);
        let mut renamed = false;
        let mut parts: Vec<String> = raw
            .iter()
            .map(|p| {
                let (c, changed) = names::component(p);
                renamed |= changed;
                c
            })
            .collect();
        // Names that differ only by case collide on Windows and macOS: a stable suffix from the
        // source path tells them apart.
        let tag =
            || crate::edit::journal::to_hex(&crate::edit::write::hash(&m.source))[..8].to_string();
        // A folder may not take the name of a file placed before (`A.md`, then `a.md/x.md`).
        for i in 0..parts.len().saturating_sub(1) {
            if taken(&files, &parts[..=i].join("/")) {
                let name = names::truncate(&parts[i], names::MAX_COMPONENT_BYTES - 9);
                parts[i] = format!("{name}~{}", tag());
                renamed = true;
            }
        }
        let mut rel = parts.join("/");
        // Nor a file the name of a file or folder placed before.
        if taken(&files, &rel) || taken(&folders, &rel) {
            let last = parts.last().cloned().unwrap_or_default();
            let (stem, e) = last.rsplit_once('.').unwrap_or((last.as_str(), ext));
            let stem = names::truncate(stem, names::MAX_COMPONENT_BYTES - 10 - e.len());
            let mut fixed = parts.clone();
            if let Some(l) = fixed.last_mut() {
                *l = format!("{stem}~{}.{e}", tag());
            }
            rel = fixed.join("/");
            renamed = true;
        }
        files.extend(case_keys(&rel));
        for i in 0..parts.len().saturating_sub(1) {
            folders.extend(case_keys(&parts[..=i].join("/")));
        }
        out.push(Planned {
            source: m.source.clone(),
            rel,
            renamed,
            title: m.title.clone(),
            date: m.date_ms.and_then(crate::search::searcher::rfc3339),
        });
    }
    out
}

fn sha256_hex(bytes: &[u8]) -> String {
    crate::edit::journal::to_hex(&sha2::Sha256::digest(bytes))
}

/// The rewrite ops from `set` and `remove`.
fn rewrite_ops(req: &ExportRequest) -> Result<Vec<EditOp>> {
    let mut ops = Vec::new();
    for a in &req.set {
        let (k, v) = a
            .split_once('=')
            .ok_or_else(|| format!("`{a}` is not KEY=VALUE"))?;
        let value = if v.trim().is_empty() {
            serde_json::Value::String(String::new())
        } else {
            crate::edit::parse_value(v).map_err(|e| format!("the value of `{k}`: {e}"))?
        };
        ops.push(EditOp::Set {
            key: k.trim().to_string(),
            value,
        });
    }
    for k in &req.remove {
        ops.push(EditOp::Unset { key: k.clone() });
    }
    Ok(ops)
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

/// What the previous export into a folder left: the rows of its `manifest.jsonl`, if that file is
/// one Shelfmark wrote (byte for byte what it writes for those rows). A manifest the user wrote or
/// edited says nothing about which files are the export's.
#[derive(Default)]
struct Previous {
    rows: Vec<ManifestRow>,
}

impl Previous {
    fn read(dir: &Path) -> Previous {
        let Ok(path) = inside(dir, MANIFEST_JSONL) else {
            return Previous::default();
        };
        let Ok(bytes) = std::fs::read(path) else {
            return Previous::default();
        };
        let Ok(text) = std::str::from_utf8(&bytes) else {
            return Previous::default();
        };
        let rows: Option<Vec<ManifestRow>> = text
            .lines()
            .map(|l| serde_json::from_str::<ManifestRow>(l).ok())
            .collect();
        match rows {
            Some(rows) if manifest_jsonl(&rows) == bytes => Previous { rows },
            _ => Previous::default(),
        }
    }

    /// The rows by exported path.
    fn by_path(&self) -> HashMap<String, ManifestRow> {
        self.rows
            .iter()
            .map(|r| (r.exported.clone(), r.clone()))
            .collect()
    }

    /// Whether `bytes` is the file `name` (a manifest or the list) the previous export wrote. A
    /// `manifest.csv` written before its cells were neutralised counts as well.
    fn wrote(&self, name: &str, bytes: &[u8]) -> bool {
        match name {
            MANIFEST_JSONL => manifest_jsonl(&self.rows) == bytes,
            MANIFEST_CSV => {
                manifest_csv(&self.rows, true) == bytes || manifest_csv(&self.rows, false) == bytes
            }
            INDEX_HTML => index_page(&self.rows).as_bytes() == bytes,
            _ => false,
        }
    }
}

/// What the previous export into a folder wrote (its manifest, if Shelfmark wrote it), by
/// exported path.
#[cfg(test)]
fn old_manifest(dir: &Path) -> HashMap<String, ManifestRow> {
    Previous::read(dir).by_path()
}

/// One CSV cell. With `neutralise`, a value a spreadsheet would take for a formula (it begins
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, as OWASP advises.
fn csv_field(s: &str, neutralise: bool) -> String {
    let s = if neutralise && s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn manifest_csv(rows: &[ManifestRow], neutralise: bool) -> Vec<u8> {
    let mut csv = String::from("source,exported,title,date,sha256\n");
    for r in rows {
        let cells = [
            r.source.as_str(),
            r.exported.as_str(),
            r.title.as_str(),
            r.date.as_deref().unwrap_or(""),
            r.sha256.as_str(),
        ];
        let cells: Vec<String> = cells.iter().map(|c| csv_field(c, neutralise)).collect();
        csv.push_str(&cells.join(","));
        csv.push('\n');
    }
    csv.into_bytes()
}

/// The JSONL manifest: every value exactly as it is.
fn manifest_jsonl(rows: &[ManifestRow]) -> Vec<u8> {
    let mut jsonl = String::new();
    for r in rows {
        jsonl.push_str(&serde_json::to_string(r).unwrap_or_default());
        jsonl.push('\n');
    }
    jsonl.into_bytes()
}

/// `rel` under `dir`, refusing anything that could leave it: only plain components, and no
/// existing symlink along the way.
fn inside(dir: &Path, rel: &str) -> Result<PathBuf> {
    let rel_path = Path::new(rel);
    if !rel_path
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(format!("{rel} is not a path inside the export folder"));
    }
    let mut at = dir.to_path_buf();
    for c in rel_path.components() {
        at.push(c);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(format!(
                "{} is a symlink; Shelfmark does not write through it",
                at.display()
            ));
        }
    }
    Ok(at)
}

/// Export `sources` (relative paths, in the order to list them) of the archive at `root`.
pub fn export(
    root: &Path,
    sources: &[Vec<u8>],
    req: &ExportRequest,
    progress: &(dyn Fn(ExportProgress) + Sync),
    cancel: &AtomicBool,
) -> Result<ExportSummary> {
    let started = std::time::Instant::now();
    let layout = parse_layout(&req.layout)?;
    let ops = rewrite_ops(req)?;
    if req.format != ExportFormat::Rewrite && !ops.is_empty() {
        return Err("`set` and `remove` need the `rewrite` format".into());
    }
    let to = PathBuf::from(req.to.trim());
    if req.to.trim().is_empty() {
        return Err("say where to export to".into());
    }
    let to = std::path::absolute(&to).map_err(|e| format!("{}: {e}", to.display()))?;
    let target = if req.zip && to.extension().is_none_or(|e| e != "zip") {
        let mut s = to.as_os_str().to_os_string();
        s.push(".zip");
        PathBuf::from(s)
    } else {
        to.clone()
    };
    // Exporting into the archive would add the copies to the archive itself.
    let folder = if req.zip {
        target.parent().unwrap_or(&target).to_path_buf()
    } else {
        target.clone()
    };
    let resolved = nearest_existing(&folder);
    if resolved.starts_with(root) {
        return Err(format!(
            "{} is inside the archive; export to a folder outside it",
            target.display()
        ));
    }
    if req.zip {
        // The zip replaces what is at its name only when asked, and never a symlink (nor what
        // it points to).
        match std::fs::symlink_metadata(&target) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(format!(
                    "{} is a symlink; Shelfmark does not write through it (choose another name)",
                    target.display()
                ))
            }
            Ok(m) if !m.is_file() => {
                return Err(format!("{} exists and is not a file", target.display()))
            }
            Ok(_) if !req.overwrite => {
                return Err(format!(
                    "{} exists already; choose another name, or overwrite it",
                    target.display()
                ))
            }
            _ => {}
        }
    }
    if !req.zip && target.exists() && !target.is_dir() {
        return Err(format!("{} exists and is not a folder", target.display()));
    }

    let ext = if req.format == ExportFormat::Html {
        "html"
    } else {
        "md"
    };
    let mut sorted: Vec<Vec<u8>> = sources.to_vec();
    // Suffixes for collisions go to the later path, so the plan does not depend on the order.
    sorted.sort();
    sorted.dedup();
    let opts = ParseOptions {
        skip_body_text: true,
        ..Default::default()
    };
    let read: Vec<std::result::Result<(Meta, Vec<u8>), Skipped>> = sorted
        .par_iter()
        .map(|rel| {
            let lossy = String::from_utf8_lossy(rel).into_owned();
            let skip = |reason: String, kind: &str| Skipped {
                path: lossy.clone(),
                reason,
                kind: kind.into(),
            };
            let (_, bytes) = crate::postfile::read(root, rel, crate::postfile::max_bytes())
                .map_err(|e| {
                    let kind = match e {
                        crate::postfile::Refusal::Unreadable(_) => "io",
                        _ => "outside",
                    };
                    skip(e.to_string(), kind)
                })?;
            let name = String::from_utf8_lossy(rel.rsplit(|&b| b == b'/').next().unwrap_or(rel))
                .into_owned();
            let parsed = post::parse(&name, &bytes, &opts);
            let p = parsed
                .post
                .ok_or_else(|| skip("is not a post Shelfmark can read".into(), "front-matter"))?;
            Ok((
                Meta {
                    source: rel.clone(),
                    title: p.title,
                    date_ms: p.date.map(|d| d.utc_ms),
                    tags: p.tags,
                    categories: p.categories,
                    author: p.author,
                    site: p.source.as_deref().and_then(crate::store::writer::site_of),
                    fields: p.fields,
                },
                bytes,
            ))
        })
        .collect();
    let mut summary = ExportSummary {
        to: target.display().to_string(),
        dry_run: req.dry_run,
        ..Default::default()
    };
    let mut metas = Vec::new();
    let mut contents = Vec::new();
    for r in read {
        match r {
            Ok((m, b)) => {
                metas.push(m);
                contents.push(b);
            }
            Err(s) => summary.problems.push(s),
        }
    }
    let planned = assign_paths(&layout, &metas, ext);
    summary.posts = planned.len() as u64;
    summary.renamed = planned.iter().filter(|p| p.renamed).count() as u64;

    // The bytes of every file, in parallel.
    let outputs: Vec<std::result::Result<Vec<u8>, String>> = planned
        .par_iter()
        .zip(contents.par_iter())
        .zip(metas.par_iter())
        .map(|((p, bytes), m)| match req.format {
            ExportFormat::Copy => Ok(bytes.clone()),
            ExportFormat::Rewrite => match edit_bytes(bytes, &ops) {
                Ok(Some(b)) => Ok(b),
                Ok(None) => Ok(bytes.clone()),
                Err(refusal) => Err(refusal.to_string()),
            },
            ExportFormat::Html => {
                let body = post::body_source(bytes).unwrap_or_default();
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
                Ok(html_page(&p.title, &"../".repeat(depth), &meta, &body).into_bytes())
            }
        })
        .collect();

    let mut rows = Vec::with_capacity(planned.len());
    let mut files: Vec<(usize, Vec<u8>)> = Vec::with_capacity(planned.len());
    for (i, (p, out)) in planned.iter().zip(outputs).enumerate() {
        match out {
            Ok(bytes) => {
                rows.push(ManifestRow {
                    source: String::from_utf8_lossy(&p.source).into_owned(),
                    exported: p.rel.clone(),
                    title: p.title.clone(),
                    date: p.date.clone(),
                    sha256: sha256_hex(&bytes),
                });
                files.push((i, bytes));
            }
            Err(reason) => summary.problems.push(Skipped {
                path: String::from_utf8_lossy(&p.source).into_owned(),
                reason,
                kind: "edit".into(),
            }),
        }
    }
    summary.preview = rows.iter().take(PREVIEW_ROWS).cloned().collect();
    let html = req.format == ExportFormat::Html;
    if req.dry_run {
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    if req.zip {
        write_zip(
            &target,
            req.overwrite,
            &rows,
            &files,
            &extras(html, &rows),
            progress,
            cancel,
            &mut summary,
        )?;
    } else {
        write_folder(
            root,
            &target,
            req,
            &rows,
            files,
            html,
            progress,
            cancel,
            &mut summary,
        )?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

/// The files besides the posts: the manifests of `rows` and (HTML) the list of their pages.
fn extras(html: bool, rows: &[ManifestRow]) -> Vec<(String, Vec<u8>)> {
    let mut extra: Vec<(String, Vec<u8>)> = Vec::new();
    if html {
        extra.push((INDEX_HTML.into(), index_page(rows).into_bytes()));
    }
    extra.push((MANIFEST_CSV.into(), manifest_csv(rows, true)));
    extra.push((MANIFEST_JSONL.into(), manifest_jsonl(rows)));
    extra
}

/// The nearest existing ancestor of `p`, resolved (to judge where a new folder would be).
fn nearest_existing(p: &Path) -> PathBuf {
    let mut at = p.to_path_buf();
    let mut rest = Vec::new();
    loop {
        if let Ok(real) = at.canonicalize() {
            let mut out = real;
            for r in rest.iter().rev() {
                out.push(r);
            }
            return out;
        }
        match (at.file_name().map(|n| n.to_os_string()), at.parent()) {
            (Some(name), Some(parent)) => {
                rest.push(name);
                at = parent.to_path_buf();
            }
            _ => return p.to_path_buf(),
        }
    }
}

fn index_page(rows: &[ManifestRow]) -> String {
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
<title>Posts</title><style>body{{max-width:46em;margin:2em auto;padding:0 1em;font-family:sans-serif}}</style>\n\
</head><body>\n<h1>Posts ({})</h1>\n<ol>\n{items}</ol>\n</body></html>\n",
        rows.len()
    )
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

/// Write the files into the folder `dir`, then the manifests (and the list) of the files that are
/// there as exported: not the ones left alone as conflicts, nor those that failed.
#[allow(clippy::too_many_arguments)]
fn write_folder(
    root: &Path,
    dir: &Path,
    req: &ExportRequest,
    rows: &[ManifestRow],
    files: Vec<(usize, Vec<u8>)>,
    html: bool,
    progress: &(dyn Fn(ExportProgress) + Sync),
    cancel: &AtomicBool,
    summary: &mut ExportSummary,
) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    // A folder that holds the archive (the archive itself is refused before): no file may be
    // written, replaced or deleted inside the archive, whatever the layout or an old manifest
    // says. (`inside` refuses symlinks, so the resolved folder and the path decide.)
    let real_dir = dir
        .canonicalize()
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let guard = root.starts_with(&real_dir).then_some(real_dir);
    let in_archive = |rel: &str| {
        guard
            .as_ref()
            .is_some_and(|d| d.join(rel).starts_with(root))
    };
    let previous = Previous::read(dir);
    let old = previous.by_path();
    let total = files.len() as u64;
    let done = AtomicU64::new(0);
    enum Did {
        Written,
        Updated,
        Unchanged,
        Conflict(Skipped),
        Failed(Skipped),
    }
    let results: Vec<Did> = rows
        .par_iter()
        .zip(files.into_par_iter())
        .map(|(row, (_, bytes))| {
            if cancel.load(Ordering::Relaxed) {
                return Did::Failed(Skipped {
                    path: row.exported.clone(),
                    reason: "cancelled".into(),
                    kind: "cancelled".into(),
                });
            }
            let n = done.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_multiple_of(64) || n == total {
                progress(ExportProgress { done: n, total });
            }
            let fail = |reason: String, kind: &str| Skipped {
                path: row.exported.clone(),
                reason,
                kind: kind.into(),
            };
            let path = match inside(dir, &row.exported) {
                Ok(_) if in_archive(&row.exported) => {
                    return Did::Failed(fail(
                        "would be inside the archive; not written".into(),
                        "outside",
                    ))
                }
                Ok(p) => p,
                Err(e) => return Did::Failed(fail(e, "outside")),
            };
            let mode = match std::fs::read(&path) {
                Ok(existing) => {
                    let have = sha256_hex(&existing);
                    if have == row.sha256 {
                        return Did::Unchanged;
                    }
                    let ours = old.get(&row.exported).is_some_and(|o| o.sha256 == have);
                    if !ours && !req.overwrite {
                        return Did::Conflict(fail(NOT_OURS.into(), "conflict"));
                    }
                    output::Mode::Replace
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => output::Mode::New,
                Err(e) => return Did::Failed(fail(format!("cannot be read: {e}"), "io")),
            };
            match output::put(&path, &bytes, mode, false) {
                Ok(()) if mode == output::Mode::Replace => Did::Updated,
                Ok(()) => Did::Written,
                // A file that appeared since it was looked for is someone else's.
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    Did::Conflict(fail(NOT_OURS.into(), "conflict"))
                }
                Err(e) => Did::Failed(fail(format!("could not be written: {e}"), "io")),
            }
        })
        .collect();
    let mut kept: Vec<ManifestRow> = Vec::with_capacity(rows.len());
    for (d, row) in results.into_iter().zip(rows) {
        if matches!(d, Did::Written | Did::Updated | Did::Unchanged) {
            kept.push(row.clone());
        }
        match d {
            Did::Written => summary.written += 1,
            Did::Updated => summary.updated += 1,
            Did::Unchanged => summary.unchanged += 1,
            Did::Conflict(s) => summary.conflicts.push(s),
            Did::Failed(s) if s.kind == "cancelled" => summary.cancelled = true,
            Did::Failed(s) => summary.problems.push(s),
        }
    }
    // Files of the last export whose post is no longer exported.
    let now: HashSet<&str> = rows.iter().map(|r| r.exported.as_str()).collect();
    let mut removed: Vec<&ManifestRow> = old
        .values()
        .filter(|o| !now.contains(o.exported.as_str()))
        .collect();
    removed.sort_by(|a, b| a.exported.cmp(&b.exported));
    for o in removed {
        summary.removed.push(o.exported.clone());
        if req.delete_removed && !in_archive(&o.exported) {
            if let Ok(path) = inside(dir, &o.exported) {
                if std::fs::read(&path).is_ok_and(|b| sha256_hex(&b) == o.sha256)
                    && std::fs::remove_file(&path).is_ok()
                {
                    summary.deleted += 1;
                }
            }
        }
    }
    if summary.cancelled {
        return Ok(());
    }
    // The manifests and the list follow the rule of the posts: replaced only if the last export
    // wrote them (or `overwrite`).
    for (name, bytes) in extras(html, &kept) {
        let fail = |reason: String, kind: &str| Skipped {
            path: name.clone(),
            reason,
            kind: kind.into(),
        };
        let path = match inside(dir, &name) {
            Ok(p) => p,
            Err(e) => {
                summary.problems.push(fail(e, "outside"));
                continue;
            }
        };
        let mode = match std::fs::read(&path) {
            Ok(existing) if existing == bytes => continue,
            Ok(existing) if req.overwrite || previous.wrote(&name, &existing) => {
                output::Mode::Replace
            }
            Ok(_) => {
                summary.conflicts.push(fail(NOT_OURS.into(), "conflict"));
                continue;
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => output::Mode::New,
            Err(e) => {
                summary
                    .problems
                    .push(fail(format!("cannot be read: {e}"), "io"));
                continue;
            }
        };
        match output::put(&path, &bytes, mode, false) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                summary.conflicts.push(fail(NOT_OURS.into(), "conflict"));
            }
            Err(e) => return Err(format!("cannot write {}: {e}", path.display())),
        }
    }
    // One flush for the whole export.
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = rustix::fs::syncfs(f);
    }
    Ok(())
}

/// Write the zip through a temporary file beside it (created exclusively, under an unpredictable
/// name), renamed to `target` once complete and flushed: over an existing file only with
/// `overwrite`.
#[allow(clippy::too_many_arguments)]
fn write_zip(
    target: &Path,
    overwrite: bool,
    rows: &[ManifestRow],
    files: &[(usize, Vec<u8>)],
    extra: &[(String, Vec<u8>)],
    progress: &(dyn Fn(ExportProgress) + Sync),
    cancel: &AtomicBool,
    summary: &mut ExportSummary,
) -> Result<()> {
    let parent = target
        .parent()
        .ok_or_else(|| format!("{} is not a file name", target.display()))?;
    std::fs::create_dir_all(parent)
        .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
    let cannot = |e: std::io::Error| format!("cannot write {}: {e}", target.display());
    let tmp = output::temp_in(parent).map_err(cannot)?;
    // The temporary file is removed when `tmp` is dropped without being renamed.
    let complete = (|| -> std::io::Result<bool> {
        let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(tmp.as_file()));
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        let total = files.len() as u64;
        for (n, (row, (_, bytes))) in rows.iter().zip(files).enumerate() {
            if cancel.load(Ordering::Relaxed) {
                return Ok(false);
            }
            zip.start_file(row.exported.as_str(), opts)
                .map_err(std::io::Error::other)?;
            zip.write_all(bytes)?;
            if (n + 1) % 64 == 0 || n + 1 == files.len() {
                progress(ExportProgress {
                    done: n as u64 + 1,
                    total,
                });
            }
        }
        for (name, bytes) in extra {
            zip.start_file(name.as_str(), opts)
                .map_err(std::io::Error::other)?;
            zip.write_all(bytes)?;
        }
        let mut inner = zip.finish().map_err(std::io::Error::other)?;
        inner.flush()?;
        inner.get_ref().sync_all()?;
        Ok(true)
    })()
    .map_err(cannot)?;
    if !complete {
        summary.cancelled = true;
        return Ok(());
    }
    let mode = if overwrite {
        output::Mode::Replace
    } else {
        output::Mode::New
    };
    output::persist(tmp, target, mode).map_err(|e| {
        if e.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{} exists already; choose another name, or overwrite it",
                target.display()
            )
        } else {
            cannot(e)
        }
    })?;
    if let Ok(d) = std::fs::File::open(parent) {
        let _ = d.sync_all();
    }
    summary.written = files.len() as u64;
    Ok(())
}

#[cfg(test)]
mod tests;
