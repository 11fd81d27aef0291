//! Writing an export into a folder: each file is written new, replaced when the last export wrote
//! it (or with `overwrite`), skipped when its content is there already, and otherwise left alone
//! as a conflict; files of the last export whose post is gone are reported (and deleted when
//! asked, if untouched since); then the manifests, under the same rule.

use super::error::{ExportError, Result};
use super::manifest::{extras, sha256_hex, ManifestRow, Previous};
use super::output::{self, inside};
use super::{Batch, ExportFormat, ExportProgress, ExportSummary};
use crate::edit::Skipped;
use rayon::prelude::*;
use std::collections::HashSet;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a file in the target was left as it is.
const NOT_OURS: &str = "is already in the export folder and was not written by the last export (or was changed since); not replaced (overwrite to replace it)";

/// Write the files into the folder `dir`, then the manifests (and the list) of the files that are
/// there as exported: not the ones left alone as conflicts, nor those that failed.
pub(super) fn write(batch: Batch, dir: &Path, summary: &mut ExportSummary) -> Result<()> {
    let Batch {
        root,
        req,
        title,
        rows,
        files,
        progress,
        cancel,
    } = batch;
    std::fs::create_dir_all(dir).map_err(|source| ExportError::Create {
        path: dir.to_path_buf(),
        source,
    })?;
    // A folder that holds the archive (the archive itself is refused before): no file may be
    // written, replaced or deleted inside the archive, whatever the layout or an old manifest
    // says. (`inside` refuses symlinks, so the resolved folder and the path decide.)
    let real_dir = dir.canonicalize().map_err(|source| ExportError::Path {
        path: dir.to_path_buf(),
        source,
    })?;
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
        .map(|(row, bytes)| {
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
                Err(e) => return Did::Failed(fail(e.to_string(), "outside")),
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
    for (name, bytes) in extras(req.format == ExportFormat::Html, title, &kept) {
        let fail = |reason: String, kind: &str| Skipped {
            path: name.clone(),
            reason,
            kind: kind.into(),
        };
        let path = match inside(dir, &name) {
            Ok(p) => p,
            Err(e) => {
                summary.problems.push(fail(e.to_string(), "outside"));
                continue;
            }
        };
        let mode = match std::fs::read(&path) {
            Ok(existing) if existing == bytes => {
                summary.extras.push(name);
                continue;
            }
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
            Ok(()) => summary.extras.push(name),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                summary.conflicts.push(fail(NOT_OURS.into(), "conflict"));
            }
            Err(source) => return Err(ExportError::Write { path, source }),
        }
    }
    // One flush for the whole export.
    if let Ok(f) = std::fs::File::open(dir) {
        let _ = rustix::fs::syncfs(f);
    }
    Ok(())
}
