//! Planning an edit: every target file read (through `postfile`, the one gate for post paths)
//! and its new bytes computed in parallel, before anything is written; previews and diffs.

use super::bytes::edit_bytes_at;
use super::types::{EditOp, EditPreview, FileDiff, Skipped};
use super::write::Refusal;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// A short description of what the ops do, for the history.
pub fn describe(ops: &[EditOp]) -> String {
    let list = |items: &[String]| items.join(", ");
    ops.iter()
        .map(|op| match op {
            EditOp::Set { key, value } => format!("set {key} = {value}"),
            EditOp::Unset { key } => format!("unset {key}"),
            EditOp::AddItems { key, items } => format!("add {key} {}", list(items)),
            EditOp::RemoveItems { key, items } => format!("remove {key} {}", list(items)),
            EditOp::RenameItems { key, from, to } => format!("rename {key} {} → {to}", list(from)),
            EditOp::Replace {
                key, find, replace, ..
            } => format!("replace in {key}: {find} → {replace}"),
            EditOp::Raw { .. } => "edit front matter".into(),
            EditOp::Clean { key, how } => format!("clean {key}: {}", how.describe()),
            EditOp::DateFrom { source } => format!("date from {}", source.describe()),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A file an edit will write.
pub struct Planned {
    pub rel: Vec<u8>,
    pub real: PathBuf,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

pub struct Plan {
    pub files: Vec<Planned>,
    /// Paths that lead to a file already in `files` (a symlink inside the archive and its
    /// target): written once, indexed under every path.
    pub aliases: Vec<(Vec<u8>, PathBuf)>,
    pub unchanged: u64,
    pub skipped: Vec<Skipped>,
}

pub(super) fn skipped(rel: &[u8], reason: String, kind: &str) -> Skipped {
    Skipped {
        path: String::from_utf8_lossy(rel).into_owned(),
        reason,
        kind: kind.into(),
    }
}

pub(super) fn refusal_kind(r: &Refusal) -> &'static str {
    match r {
        Refusal::Conflict => "conflict",
        Refusal::ReadOnly => "read-only",
        Refusal::Outside(_) => "outside",
        Refusal::Missing => "missing",
        Refusal::BadPath => "outside",
        Refusal::NotAPost | Refusal::NotAFile => "not-a-post",
        Refusal::TooLarge(..) => "too-large",
        Refusal::Io(_) | Refusal::Unreadable(_) => "io",
    }
}

/// A file to edit: its relative path, and the hash of the version the user saw, if known.
pub type TargetFile = (Vec<u8>, Option<[u8; 32]>);

/// Read every target file and compute its new bytes (in parallel).
pub fn plan(root: &Path, targets: &[TargetFile], ops: &[EditOp]) -> Plan {
    enum One {
        Write(Planned),
        Same,
        Skip(Skipped),
    }
    let results: Vec<One> = targets
        .par_iter()
        .map(|(rel, seen)| {
            let (real, bytes) = match crate::postfile::read(root, rel, crate::postfile::max_bytes())
            {
                Ok(r) => r,
                Err(e) => return One::Skip(skipped(rel, e.to_string(), refusal_kind(&e))),
            };
            if std::fs::metadata(&real).is_ok_and(|m| m.permissions().readonly()) {
                let e = Refusal::ReadOnly;
                return One::Skip(skipped(rel, e.to_string(), refusal_kind(&e)));
            }
            if seen.is_some_and(|h| h != crate::files::hash(&bytes)) {
                return One::Skip(skipped(rel, Refusal::Conflict.to_string(), "conflict"));
            }
            match edit_bytes_at(&bytes, rel, ops) {
                Ok(Some(after)) => One::Write(Planned {
                    rel: rel.clone(),
                    real,
                    before: bytes,
                    after,
                }),
                Ok(None) => One::Same,
                Err(e) => One::Skip(skipped(rel, e.to_string(), e.kind())),
            }
        })
        .collect();
    let mut plan = Plan {
        files: Vec::new(),
        aliases: Vec::new(),
        unchanged: 0,
        skipped: Vec::new(),
    };
    let mut reals = std::collections::HashSet::new();
    for r in results {
        match r {
            One::Write(p) if !reals.insert(p.real.clone()) => plan.aliases.push((p.rel, p.real)),
            One::Write(p) => plan.files.push(p),
            One::Same => plan.unchanged += 1,
            One::Skip(s) => plan.skipped.push(s),
        }
    }
    plan
}

/// Unified diff of one planned file.
pub fn diff(p: &Planned) -> FileDiff {
    file_diff(&String::from_utf8_lossy(&p.rel), &p.before, &p.after)
}

/// Unified diff of one file's two versions.
pub fn file_diff(path: &str, before: &[u8], after: &[u8]) -> FileDiff {
    let before = String::from_utf8_lossy(before);
    let after = String::from_utf8_lossy(after);
    let diff = similar::TextDiff::from_lines(before.as_ref(), after.as_ref())
        .unified_diff()
        .context_radius(1)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    FileDiff {
        path: path.to_string(),
        diff,
    }
}

pub fn preview(label: String, plan: &Plan, limit: usize) -> EditPreview {
    EditPreview {
        label,
        changes: plan.files.len() as u64,
        unchanged: plan.unchanged,
        skipped: plan.skipped.clone(),
        paths: plan
            .files
            .iter()
            .map(|p| String::from_utf8_lossy(&p.rel).into_owned())
            .collect(),
        diffs: plan.files.iter().take(limit).map(diff).collect(),
    }
}
