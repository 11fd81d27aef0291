//! The manifests every export writes (`manifest.csv`, `manifest.jsonl`: one row a post), and how
//! the previous export into a folder is recognised from its own manifest.

use super::edition::{index_page, index_title};
use super::output::inside;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::HashMap;
use std::path::Path;

pub(super) const MANIFEST_CSV: &str = "manifest.csv";
pub(super) const MANIFEST_JSONL: &str = "manifest.jsonl";
pub(super) const INDEX_HTML: &str = "index.html";

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

/// The checksum a manifest lists for a file.
pub(super) fn sha256_hex(bytes: &[u8]) -> String {
    crate::edit::journal::to_hex(&sha2::Sha256::digest(bytes))
}

/// The files besides the posts: the manifests of `rows` and (HTML) the list of their pages,
/// titled `title` (a collection's name; empty: "Posts").
pub(super) fn extras(html: bool, title: &str, rows: &[ManifestRow]) -> Vec<(String, Vec<u8>)> {
    let mut extra: Vec<(String, Vec<u8>)> = Vec::new();
    if html {
        extra.push((INDEX_HTML.into(), index_page(title, rows).into_bytes()));
    }
    extra.push((MANIFEST_CSV.into(), manifest_csv(rows, true)));
    extra.push((MANIFEST_JSONL.into(), manifest_jsonl(rows)));
    extra
}

/// What the previous export into a folder left: the rows of its `manifest.jsonl`, if that file is
/// one Shelfmark wrote (byte for byte what it writes for those rows). A manifest the user wrote or
/// edited says nothing about which files are the export's.
#[derive(Default)]
pub(super) struct Previous {
    pub(super) rows: Vec<ManifestRow>,
}

impl Previous {
    pub(super) fn read(dir: &Path) -> Previous {
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
    pub(super) fn by_path(&self) -> HashMap<String, ManifestRow> {
        self.rows
            .iter()
            .map(|r| (r.exported.clone(), r.clone()))
            .collect()
    }

    /// Whether `bytes` is the file `name` (a manifest or the list) the previous export wrote. A
    /// `manifest.csv` written before its cells were neutralised counts as well.
    pub(super) fn wrote(&self, name: &str, bytes: &[u8]) -> bool {
        match name {
            MANIFEST_JSONL => manifest_jsonl(&self.rows) == bytes,
            MANIFEST_CSV => {
                manifest_csv(&self.rows, true) == bytes || manifest_csv(&self.rows, false) == bytes
            }
            // Under the title it was written with (a collection may have been renamed since).
            INDEX_HTML => {
                let title = index_title(bytes).unwrap_or_default();
                index_page(&title, &self.rows).as_bytes() == bytes
            }
            _ => false,
        }
    }
}

/// What the previous export into a folder wrote (its manifest, if Shelfmark wrote it), by
/// exported path.
#[cfg(test)]
pub(super) fn old_manifest(dir: &Path) -> HashMap<String, ManifestRow> {
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

pub(super) fn manifest_csv(rows: &[ManifestRow], neutralise: bool) -> Vec<u8> {
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
pub(super) fn manifest_jsonl(rows: &[ManifestRow]) -> Vec<u8> {
    let mut jsonl = String::new();
    for r in rows {
        jsonl.push_str(&serde_json::to_string(r).unwrap_or_default());
        jsonl.push('\n');
    }
    jsonl.into_bytes()
}
