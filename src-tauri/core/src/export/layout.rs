//! Where each post goes: a layout (`keep`, `jekyll`, `by-tag`, …, or a template) turns what a post
//! offers (`Meta`) into a relative path, whose components are then made portable (`names`) and
//! free of collisions, also between names that differ only by case.

use super::error::{ExportError, Result};
use super::manifest::{INDEX_HTML, MANIFEST_CSV, MANIFEST_JSONL};
use super::names;
use crate::edit::Skipped;
use crate::post::{self, ParseOptions};
use std::collections::HashSet;
use std::path::Path;

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Layout {
    Keep,
    Jekyll,
    By(&'static str),
    Month,
    Template(Vec<String>),
}

impl Layout {
    pub(super) fn parse(text: &str) -> Result<Layout> {
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
                        return Err(ExportError::EmptyTemplate);
                    }
                    Layout::Template(parts)
                }
                None => return Err(ExportError::UnknownLayout(other.to_string())),
            },
        })
    }
}

/// What a post offers to a layout.
pub(super) struct Meta {
    pub(super) source: Vec<u8>,
    pub(super) title: String,
    pub(super) date_ms: Option<i64>,
    pub(super) tags: Vec<String>,
    pub(super) categories: Vec<String>,
    pub(super) author: Option<String>,
    pub(super) site: Option<String>,
    pub(super) fields: serde_json::Map<String, serde_json::Value>,
}

impl Meta {
    /// Read the post at `rel` (its bytes, and what a layout needs of it), or why not.
    pub(super) fn read(
        root: &Path,
        rel: &[u8],
        opts: &ParseOptions,
    ) -> std::result::Result<(Meta, Vec<u8>), Skipped> {
        let lossy = String::from_utf8_lossy(rel).into_owned();
        let skip = |reason: String, kind: &str| Skipped {
            path: lossy.clone(),
            reason,
            kind: kind.into(),
        };
        let (_, bytes) =
            crate::postfile::read(root, rel, crate::postfile::max_bytes()).map_err(|e| {
                let kind = match e {
                    crate::postfile::Refusal::Unreadable(_) => "io",
                    _ => "outside",
                };
                skip(e.to_string(), kind)
            })?;
        let name =
            String::from_utf8_lossy(rel.rsplit(|&b| b == b'/').next().unwrap_or(rel)).into_owned();
        let parsed = post::parse(&name, &bytes, opts);
        let p = parsed
            .post
            .ok_or_else(|| skip("is not a post Shelfmark can read".into(), "front-matter"))?;
        Ok((
            Meta {
                source: rel.to_vec(),
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
    }

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
pub(super) struct Planned {
    pub(super) source: Vec<u8>,
    pub(super) rel: String,
    /// Changed to be portable or to avoid a collision.
    pub(super) renamed: bool,
    /// Not at its path in the archive (with the export's extension): the layout or portability
    /// put it elsewhere.
    pub(super) moved: bool,
    pub(super) title: String,
    pub(super) date: Option<String>,
}

/// The keys under which two names are one file on Windows (which upcases names) or macOS (which
/// folds case): names equal lower-cased or upper-cased collide (`a`/`A`, but also `σ`/`ς`,
/// `ſ`/`s`, `K`/`k`).
pub(super) fn case_keys(s: &str) -> [String; 2] {
    [s.to_lowercase(), s.to_uppercase()]
}

fn taken(set: &HashSet<String>, s: &str) -> bool {
    case_keys(s).iter().any(|k| set.contains(k))
}

/// Portable, collision-free relative paths for every post, in source path order.
pub(super) fn assign_paths(layout: &Layout, metas: &[Meta], ext: &str) -> Vec<Planned> {
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
        let moved = rel != layout_path(&Layout::Keep, m, ext).join("/");
        out.push(Planned {
            source: m.source.clone(),
            rel,
            renamed,
            moved,
            title: m.title.clone(),
            date: m.date_ms.and_then(crate::search::searcher::rfc3339),
        });
    }
    out
}
