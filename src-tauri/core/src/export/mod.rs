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
//!
//! The files: `target` (where it goes), `layout` (each post's path), `content` (each file's
//! bytes), `edition` (the HTML pages), `manifest`, `folder` and `zip` (the two writers), `output`
//! (one file, safely), `names` (portable names), `error`.

mod content;
mod edition;
mod error;
mod folder;
mod layout;
mod manifest;
pub mod names;
mod output;
mod target;
mod zip;

pub use error::{ExportError, Result};
pub use manifest::ManifestRow;

use crate::edit::Skipped;
use crate::post::ParseOptions;
use layout::{assign_paths, Layout, Meta};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::atomic::AtomicBool;

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
    /// Posts whose exported path is not their path in the archive (with the export's extension):
    /// moved or renamed by the layout, or changed to be portable.
    pub renamed: u64,
    /// Of those, posts whose path had to change to be portable (or to avoid a collision).
    pub portable: u64,
    /// Files in the target that were not replaced (not written by Shelfmark, or changed since).
    pub conflicts: Vec<Skipped>,
    /// Files of an earlier export whose post is no longer exported.
    pub removed: Vec<String>,
    /// Of those, deleted (`delete_removed`).
    pub deleted: u64,
    /// Posts that could not be exported, and why.
    pub problems: Vec<Skipped>,
    /// The files besides the posts that the export folder (or zip) holds as this export made
    /// them, written or already there: `index.html` (HTML edition), `manifest.csv`,
    /// `manifest.jsonl`.
    pub extras: Vec<String>,
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

/// How many planned files a summary lists.
pub const PREVIEW_ROWS: usize = 20;

/// What a writer (`folder`, `zip`) is given: the files, their rows, and how to write them.
struct Batch<'a> {
    /// The archive (nothing is written inside it).
    root: &'a Path,
    req: &'a ExportRequest,
    /// The title of the HTML edition's `index.html` (a collection's name; empty: "Posts").
    title: &'a str,
    /// One row a file, in the order of `files`.
    rows: &'a [ManifestRow],
    files: Vec<Vec<u8>>,
    progress: &'a (dyn Fn(ExportProgress) + Sync),
    cancel: &'a AtomicBool,
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
    let layout = Layout::parse(&req.layout)?;
    let ops = content::rewrite_ops(req)?;
    if req.format != ExportFormat::Rewrite && !ops.is_empty() {
        return Err(ExportError::RewriteOnly);
    }
    let target = target::resolve(root, req)?;

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
        .map(|rel| Meta::read(root, rel, &opts))
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
    summary.renamed = planned.iter().filter(|p| p.moved).count() as u64;
    summary.portable = planned.iter().filter(|p| p.renamed).count() as u64;

    let outputs = content::render(req.format, &ops, &planned, &metas, &contents);
    let mut rows = Vec::with_capacity(planned.len());
    let mut files = Vec::with_capacity(planned.len());
    for (p, out) in planned.iter().zip(outputs) {
        match out {
            Ok(bytes) => {
                rows.push(ManifestRow {
                    source: String::from_utf8_lossy(&p.source).into_owned(),
                    exported: p.rel.clone(),
                    title: p.title.clone(),
                    date: p.date.clone(),
                    sha256: manifest::sha256_hex(&bytes),
                });
                files.push(bytes);
            }
            Err(reason) => summary.problems.push(Skipped {
                path: String::from_utf8_lossy(&p.source).into_owned(),
                reason,
                kind: "edit".into(),
            }),
        }
    }
    summary.preview = rows.iter().take(PREVIEW_ROWS).cloned().collect();
    if req.dry_run {
        summary.seconds = started.elapsed().as_secs_f64();
        return Ok(summary);
    }

    let title = match &req.source {
        ExportSource::Collection { name } => name.as_str(),
        _ => "",
    };
    let batch = Batch {
        root,
        req,
        title,
        rows: &rows,
        files,
        progress,
        cancel,
    };
    if req.zip {
        zip::write(batch, &target, &mut summary)?;
    } else {
        folder::write(batch, &target, &mut summary)?;
    }
    summary.seconds = started.elapsed().as_secs_f64();
    Ok(summary)
}

#[cfg(test)]
mod tests;
