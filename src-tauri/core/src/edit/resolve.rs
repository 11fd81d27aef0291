//! Resolving a group of duplicates: keep one post and, for the others, tag them, move them into a
//! folder, or delete them; optionally record their source URLs in the kept post (`also_from`).
//! Everything is planned first (every file read, conflicts checked, every target judged), and any
//! refusal refuses the whole group with its reason, so nothing changes; the plan is then one
//! operation of the journal (`moves::FilePlan`): one undo.

use super::bytes::edit_bytes;
use super::fileops::{self, Current};
use super::moves::{FileChange, FilePlan};
use super::plan::TargetFile;
use super::types::{EditOp, FileDiff};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::path::Path;

/// What becomes of the posts that are not kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[ts(export)]
pub enum ResolveAction {
    /// Add a tag (`duplicate` when none is given).
    Tag {
        #[serde(default)]
        #[ts(optional)]
        tag: Option<String>,
    },
    /// Move them into this folder (relative to the archive; created when missing).
    Move { folder: String },
    /// Delete them (an undo brings them back).
    Delete,
}

/// A group of duplicates to resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct ResolveRequest {
    /// The post to keep (relative, or `hex:` bytes).
    pub keep: String,
    /// The other posts of the group.
    pub others: Vec<String>,
    /// For any of these paths, the hash of the version the user saw: a file that differs now is a
    /// conflict, and nothing is changed.
    #[serde(default)]
    #[ts(optional)]
    pub hashes: Option<std::collections::BTreeMap<String, String>>,
    pub action: ResolveAction,
    /// Add the others' source URLs to the kept post's `also_from` list.
    #[serde(default)]
    pub record_sources: bool,
}

/// One move of a resolve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PlannedMove {
    pub from: String,
    pub to: String,
}

/// What resolving a group would do; nothing is written.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct ResolvePreview {
    pub label: String,
    pub keep: String,
    /// Every change in words, in order (`edit a`, `move a → b`, `delete c`).
    pub lines: Vec<String>,
    /// Diffs of the files whose front matter changes.
    pub diffs: Vec<FileDiff>,
    pub moves: Vec<PlannedMove>,
    pub deletes: Vec<String>,
    /// Folders the moves create.
    pub folders: Vec<String>,
    /// Posts already as asked (already tagged, or already in the folder).
    pub unchanged: Vec<String>,
    /// Source URLs added to the kept post.
    pub sources_added: Vec<String>,
}

/// A resolve ready to apply: its words, its front matter ops (for the history), its files.
pub struct ResolvePlan {
    pub label: String,
    pub ops: Vec<EditOp>,
    pub files: FilePlan,
    pub preview: ResolvePreview,
}

/// The tag `ResolveAction::Tag` adds when none is given.
pub const DUPLICATE_TAG: &str = "duplicate";

/// The list key the kept post's `record_sources` adds to.
pub const ALSO_FROM: &str = "also_from";

fn lossy(rel: &[u8]) -> String {
    String::from_utf8_lossy(rel).into_owned()
}

fn refuse(rel: &[u8], why: impl std::fmt::Display) -> Error {
    Error::Edit(format!("{} {why}; nothing was changed", lossy(rel)))
}

/// The post's source URL, as the index reads it (`from`, else `source`, `url`, `link`).
fn source_of(rel: &[u8], bytes: &[u8]) -> Option<String> {
    let name = Path::new(std::ffi::OsStr::new(&lossy(rel)))
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    crate::post::parse(&name, bytes, &crate::post::ParseOptions::default())
        .post
        .and_then(|p| p.source)
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Read a post to rewrite in place (links inside the archive followed, as edits do), checked
/// against the version the user saw.
fn read_for_edit(root: &Path, (rel, seen): &TargetFile) -> Result<(std::path::PathBuf, Vec<u8>)> {
    let (real, bytes) = crate::postfile::read(root, rel, crate::postfile::max_bytes())
        .map_err(|e| refuse(rel, e))?;
    if std::fs::metadata(&real).is_ok_and(|m| m.permissions().readonly()) {
        return Err(refuse(rel, crate::postfile::Refusal::ReadOnly));
    }
    if seen.is_some_and(|h| h != crate::files::hash(&bytes)) {
        return Err(refuse(rel, crate::postfile::Refusal::Conflict));
    }
    Ok((real, bytes))
}

/// Read a post to move or delete: a real file in real folders (no link anywhere), checked against
/// the version the user saw.
fn read_for_move(root: &Path, (rel, seen): &TargetFile) -> Result<fileops::Present> {
    let present = match fileops::current(root, rel).map_err(|e| refuse(rel, e))? {
        Current::Absent => return Err(refuse(rel, crate::postfile::Refusal::Missing)),
        Current::Present(p) => p,
    };
    if seen.is_some_and(|h| h != present.hash) {
        return Err(refuse(rel, crate::postfile::Refusal::Conflict));
    }
    Ok(present)
}

/// Plan the resolve of a group: `keep` and `others` with the hashes the user saw. Refuses the
/// whole group, changing nothing, when any part cannot be done.
pub fn plan_resolve(
    root: &Path,
    keep: &TargetFile,
    others: &[TargetFile],
    action: &ResolveAction,
    record_sources: bool,
) -> Result<ResolvePlan> {
    if others.is_empty() {
        return Err(Error::Edit(
            "name the other posts of the group: there is nothing to resolve".into(),
        ));
    }
    let mut seen_paths = HashSet::new();
    seen_paths.insert(keep.0.clone());
    for (rel, _) in others {
        if !seen_paths.insert(rel.clone()) {
            return Err(Error::Edit(format!(
                "{} is named twice (or is the kept post); nothing was changed",
                lossy(rel)
            )));
        }
    }
    let (keep_real, keep_bytes) = read_for_edit(root, keep)?;
    let mut files = FilePlan::default();
    let mut preview = ResolvePreview {
        label: String::new(),
        keep: lossy(&keep.0),
        lines: Vec::new(),
        diffs: Vec::new(),
        moves: Vec::new(),
        deletes: Vec::new(),
        folders: Vec::new(),
        unchanged: Vec::new(),
        sources_added: Vec::new(),
    };
    let mut ops = Vec::new();
    let mut reals = HashSet::new();
    reals.insert(keep_real);
    // The others, read and checked (and their source URLs), before anything else is decided.
    let mut sources = Vec::new();
    let mut read_others: Vec<(Vec<u8>, Option<u32>)> = Vec::with_capacity(others.len());
    for other in others {
        let (bytes, mode) = match action {
            ResolveAction::Tag { .. } => {
                let (real, bytes) = read_for_edit(root, other)?;
                if !reals.insert(real) {
                    return Err(refuse(
                        &other.0,
                        "is the same file as another post of the group (a link)",
                    ));
                }
                (bytes, None)
            }
            ResolveAction::Move { .. } | ResolveAction::Delete => {
                let p = read_for_move(root, other)?;
                if let Ok(real) = crate::postfile::resolve(root, &other.0) {
                    if !reals.insert(real) {
                        return Err(refuse(
                            &other.0,
                            "is the same file as another post of the group",
                        ));
                    }
                }
                (p.bytes, Some(p.mode))
            }
        };
        if let Some(s) = source_of(&other.0, &bytes) {
            sources.push(s);
        }
        read_others.push((bytes, mode));
    }
    // The kept post records the others' sources.
    if record_sources {
        let own = source_of(&keep.0, &keep_bytes);
        let mut added = HashSet::new();
        let items: Vec<String> = sources
            .into_iter()
            .filter(|s| Some(s) != own.as_ref() && added.insert(s.clone()))
            .collect();
        if !items.is_empty() {
            let op = EditOp::AddItems {
                key: ALSO_FROM.into(),
                items: items.clone(),
            };
            match edit_bytes(&keep_bytes, std::slice::from_ref(&op)) {
                Ok(Some(after)) => {
                    // Only the URLs that were not there already.
                    let was = crate::post::layout(&keep_bytes)
                        .and_then(|l| l.fields.get(ALSO_FROM).cloned());
                    preview.sources_added = items
                        .iter()
                        .filter(|u| !list_has(was.as_ref(), u))
                        .cloned()
                        .collect();
                    preview.lines.push(format!(
                        "edit {}: {ALSO_FROM} + {}",
                        preview.keep,
                        preview.sources_added.join(", ")
                    ));
                    preview
                        .diffs
                        .push(super::plan::file_diff(&preview.keep, &keep_bytes, &after));
                    files.files.push(FileChange {
                        rel: keep.0.clone(),
                        before: Some(keep_bytes.clone()),
                        after: Some(after),
                        moved_from: None,
                        mode: None,
                    });
                    ops.push(op);
                }
                Ok(None) => {}
                Err(e) => return Err(refuse(&keep.0, e)),
            }
        }
    }
    let n = others.len();
    let what = match action {
        ResolveAction::Tag { tag } => {
            let tag = tag
                .as_deref()
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .unwrap_or(DUPLICATE_TAG)
                .to_string();
            let op = EditOp::AddItems {
                key: "tags".into(),
                items: vec![tag.clone()],
            };
            for ((rel, _), (bytes, _)) in others.iter().zip(read_others) {
                match edit_bytes(&bytes, std::slice::from_ref(&op)) {
                    Ok(Some(after)) => {
                        preview
                            .lines
                            .push(format!("edit {}: tags + {tag}", lossy(rel)));
                        preview
                            .diffs
                            .push(super::plan::file_diff(&lossy(rel), &bytes, &after));
                        files.files.push(FileChange {
                            rel: rel.clone(),
                            before: Some(bytes),
                            after: Some(after),
                            moved_from: None,
                            mode: None,
                        });
                    }
                    Ok(None) => preview.unchanged.push(lossy(rel)),
                    Err(e) => return Err(refuse(rel, e)),
                }
            }
            ops.push(op);
            format!("tag {n} as {tag}")
        }
        ResolveAction::Move { folder } => {
            let folder_bytes = folder_arg(folder);
            fileops::check_folder(&folder_bytes).map_err(|e| {
                let why = match e {
                    fileops::FileOpRefusal::Refusal(crate::postfile::Refusal::NotAPost) => {
                        "is hidden (Shelfmark moves posts only into plain folders, never into .shelfmark or other hidden folders)"
                    }
                    _ => "is not a folder inside the archive (name it relative to the archive, without ..)",
                };
                Error::Edit(format!("the folder {folder} {why}; nothing was changed"))
            })?;
            let mut targets = HashSet::new();
            for ((rel, _), (bytes, mode)) in others.iter().zip(read_others) {
                let name = rel.rsplit(|b| *b == b'/').next().unwrap_or_default();
                let mut to = folder_bytes.clone();
                if !to.is_empty() {
                    to.push(b'/');
                }
                to.extend_from_slice(name);
                if to == *rel {
                    preview.unchanged.push(lossy(rel));
                    continue;
                }
                if !targets.insert(to.clone()) || seen_paths.contains(&to) {
                    return Err(refuse(
                        &to,
                        "would receive two posts of the group (they have the same file name)",
                    ));
                }
                match fileops::current(root, &to).map_err(|e| refuse(&to, e))? {
                    Current::Absent => {}
                    Current::Present(_) => {
                        return Err(refuse(
                            &to,
                            "already exists; Shelfmark never moves a file over another",
                        ))
                    }
                }
                for f in fileops::missing_folders(root, &to).map_err(|e| refuse(&to, e))? {
                    if !files.folders.contains(&f) {
                        preview.folders.push(lossy(&f));
                        files.folders.push(f);
                    }
                }
                preview
                    .lines
                    .push(format!("move {} → {}", lossy(rel), lossy(&to)));
                preview.moves.push(PlannedMove {
                    from: lossy(rel),
                    to: lossy(&to),
                });
                files.files.push(FileChange {
                    rel: rel.clone(),
                    before: Some(bytes.clone()),
                    after: None,
                    moved_from: None,
                    mode,
                });
                files.files.push(FileChange {
                    rel: to,
                    before: None,
                    after: Some(bytes),
                    moved_from: Some(rel.clone()),
                    mode,
                });
            }
            format!("move {n} to {}", lossy(&folder_bytes))
        }
        ResolveAction::Delete => {
            for ((rel, _), (bytes, mode)) in others.iter().zip(read_others) {
                preview.lines.push(format!("delete {}", lossy(rel)));
                preview.deletes.push(lossy(rel));
                files.files.push(FileChange {
                    rel: rel.clone(),
                    before: Some(bytes),
                    after: None,
                    moved_from: None,
                    mode,
                });
            }
            format!("delete {n}")
        }
    };
    let sources = if preview.sources_added.is_empty() {
        String::new()
    } else {
        format!(", record {} sources", preview.sources_added.len())
    };
    let label = format!("resolve duplicates: keep {}, {what}{sources}", preview.keep);
    preview.label = label.clone();
    Ok(ResolvePlan {
        label,
        ops,
        files,
        preview,
    })
}

/// A folder as the user gives it: `./` and trailing slashes dropped, `hex:` bytes allowed.
fn folder_arg(folder: &str) -> Vec<u8> {
    let mut bytes = crate::files::from_hex(folder.strip_prefix("hex:").unwrap_or("-"))
        .unwrap_or_else(|| folder.trim().trim_start_matches("./").as_bytes().to_vec());
    while bytes.last() == Some(&b'/') {
        bytes.pop();
    }
    if bytes == b"." {
        bytes.clear();
    }
    bytes
}

fn list_has(list: Option<&serde_json::Value>, item: &str) -> bool {
    match list {
        Some(serde_json::Value::Array(items)) => items.iter().any(|v| v.as_str() == Some(item)),
        Some(serde_json::Value::String(s)) => s == item,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = d.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        for (rel, text) in files {
            let p = r.join(rel);
            if let Some(parent) = p.parent() {
                std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
            }
            std::fs::write(p, text).unwrap_or_else(|e| panic!("{e}"));
        }
        (d, r)
    }

    fn t(rel: &str) -> TargetFile {
        (rel.as_bytes().to_vec(), None)
    }

    const A: &str = "---\ntitle: A\nfrom: http://a.example/1\ntags: [x]\n---\nbody\n";
    const B: &str = "---\ntitle: B\nfrom: http://b.example/1\n---\nbody\n";
    const C: &str = "---\ntitle: C\nfrom: http://a.example/1\n---\nbody\n";

    #[test]
    fn sources_skip_the_kept_posts_own_and_repeats() {
        let (_d, r) = archive(&[("a.md", A), ("b.md", B), ("c.md", C), ("d.md", B)]);
        let plan = plan_resolve(
            &r,
            &t("a.md"),
            &[t("b.md"), t("c.md"), t("d.md")],
            &ResolveAction::Delete,
            true,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.preview.sources_added, ["http://b.example/1"]);
        assert_eq!(plan.preview.deletes, ["b.md", "c.md", "d.md"]);
        let kept = plan.files.files[0].after.clone().unwrap_or_default();
        let fields = crate::post::layout(&kept)
            .map(|l| l.fields)
            .unwrap_or_default();
        assert_eq!(
            fields.get(ALSO_FROM),
            Some(&serde_json::json!(["http://b.example/1"]))
        );
        assert_eq!(
            plan.label,
            "resolve duplicates: keep a.md, delete 3, record 1 sources"
        );
    }

    #[test]
    fn a_move_onto_an_existing_file_or_a_stale_hash_refuses_the_whole_group() {
        let (_d, r) = archive(&[("a.md", A), ("b.md", B), ("dup/b.md", C)]);
        let err = plan_resolve(
            &r,
            &t("a.md"),
            &[t("b.md")],
            &ResolveAction::Move {
                folder: "dup".into(),
            },
            false,
        )
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
        assert!(err.contains("dup/b.md already exists"), "{err}");
        let stale = (b"b.md".to_vec(), Some(crate::files::hash(b"other")));
        let err = plan_resolve(&r, &t("a.md"), &[stale], &ResolveAction::Delete, false)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains("changed on disk"), "{err}");
        for bad in [".shelfmark", "../out", "/tmp", "x/.git"] {
            let err = plan_resolve(
                &r,
                &t("a.md"),
                &[t("b.md")],
                &ResolveAction::Move { folder: bad.into() },
                false,
            );
            assert!(err.is_err(), "{bad}");
        }
    }

    #[test]
    fn tagging_skips_posts_already_tagged() {
        let (_d, r) = archive(&[("a.md", A), ("b.md", B), ("c.md", A)]);
        let plan = plan_resolve(
            &r,
            &t("b.md"),
            &[t("a.md"), t("c.md")],
            &ResolveAction::Tag {
                tag: Some("x".into()),
            },
            false,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plan.preview.unchanged, ["a.md", "c.md"]);
        assert!(plan.files.files.is_empty());
    }
}
