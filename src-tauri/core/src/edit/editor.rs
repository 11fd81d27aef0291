//! The `Editor` of one archive: applies plans through the journal (recorded durably before the
//! first file changes), writes files in batches through `write`, and undoes, redoes and recovers
//! operations file by file, judging each file by its hash. It hands the files it wrote back to
//! the caller, which updates the index and the collections.

use super::bytes::same_body;
use super::crash::pause_for_crash_tests;
use super::journal::{self, Journal, OpRecord, OpState};
use super::moves::FilePlan;
use super::plan::{refusal_kind, skipped, Plan};
use super::types::{
    EditOp, EditOutcome, EditProgress, Edited, HistoryEntry, OperationDetail, PruneOutcome,
    Recovery, Skipped, Wrote,
};
use super::write::{self, Refusal};
use crate::error::{Error, Result};
use crate::post;
use rayon::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Cuts `text` to at most `max` bytes at a line's end, saying how much was left out.
fn cut(text: &mut String, max: usize) {
    if text.len() <= max {
        return;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    if let Some(nl) = text[..end].rfind('\n') {
        end = nl + 1;
    }
    let left = text[end..].lines().count();
    text.truncate(end);
    text.push_str(&format!("… ({left} more lines)\n"));
}

/// Files written per flush.
const BATCH: usize = 512;

/// The editor of one archive: applies plans through the journal, and undoes and redoes them.
pub struct Editor<'a> {
    root: &'a Path,
    journal: Journal,
}

/// A failure to write the journal (its lock, records, state).
fn write_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl<'a> Editor<'a> {
    pub fn new(root: &'a Path) -> Editor<'a> {
        Editor {
            root,
            journal: Journal::new(root),
        }
    }

    /// The operation that stopped half-way, if any.
    pub fn interrupted(&self) -> Option<OpRecord> {
        self.journal
            .list()
            .0
            .into_iter()
            .find(|op| op.state.interrupted())
    }

    pub fn history(&self) -> Vec<HistoryEntry> {
        self.journal
            .list()
            .0
            .into_iter()
            .map(|op| HistoryEntry {
                journal_bytes: self.journal.size_of(op.id),
                id: op.id,
                path: match op.files.as_slice() {
                    [one] => Some(one.path.clone()),
                    _ => None,
                },
                label: op.label,
                ops: op.ops,
                created: op.created,
                state: op.state,
                files: op.files.len() as u64,
            })
            .collect()
    }

    /// What operation `id` changed: its files, and the diffs of the first `max_files` of them
    /// from the journal's saved images, each diff cut to about `max_diff` bytes. None when the
    /// journal has no such operation.
    pub fn detail(
        &self,
        id: u64,
        max_files: usize,
        max_diff: usize,
    ) -> Result<Option<OperationDetail>> {
        let Some(op) = self.journal.list().0.into_iter().find(|op| op.id == id) else {
            return Ok(None);
        };
        let paths = op.files.iter().map(|f| f.path.clone()).collect();
        let first = OpRecord {
            files: op.files.iter().take(max_files).cloned().collect(),
            ..op.clone()
        };
        let pack = self.journal.dir().join(format!("{id:06}.pack"));
        let read = |after| {
            self.journal
                .images(&first, after)
                .map_err(|source| Error::Io {
                    path: pack.clone(),
                    source,
                })
        };
        let (before, after) = (read(false)?, read(true)?);
        let mut diffs: Vec<super::types::FileDiff> = super::moves::describe_moves(&op.files)
            .into_iter()
            .take(max_files)
            .map(|(path, line)| super::types::FileDiff {
                path,
                diff: format!("{line}\n"),
            })
            .collect();
        let rewrites = first
            .files
            .iter()
            .zip(before.iter().zip(after.iter()))
            .filter(|(f, _)| !f.moves())
            .map(|(f, (b, a))| {
                let mut d = super::plan::file_diff(&f.path, b, a);
                cut(&mut d.diff, max_diff);
                d
            });
        diffs.extend(rewrites);
        diffs.truncate(max_files);
        Ok(Some(OperationDetail {
            id,
            label: op.label,
            paths,
            diffs,
        }))
    }

    /// Journal and write a plan. Files that changed since they were planned, or cannot be
    /// written, are reported and the rest carry on. Cancelling stops between batches; what was
    /// written stays written and undoable. The caller updates the index from the written files
    /// (and should hold the archive's scan lock meanwhile, so its watcher does not scan them).
    pub fn apply(
        &self,
        label: &str,
        ops: &[EditOp],
        plan: Plan,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
    ) -> Wrote<EditOutcome> {
        let mut files = Vec::new();
        let result = self.apply_inner(label, ops, plan, progress, cancel, &mut files);
        Wrote { result, files }
    }

    /// The journal's lock, for an operation that starts now: refused while an interrupted one
    /// waits to be finished or rolled back.
    fn lock_for_new_operation(&self) -> Result<std::fs::File> {
        let lock = self.journal.lock().map_err(write_err(self.journal.dir()))?;
        if let Some(op) = self.interrupted() {
            return Err(Error::Interrupted {
                id: op.id,
                label: op.label,
            });
        }
        Ok(lock)
    }

    fn apply_inner(
        &self,
        label: &str,
        ops: &[EditOp],
        plan: Plan,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
        files: &mut Vec<Edited>,
    ) -> Result<EditOutcome> {
        let _lock = self.lock_for_new_operation()?;
        let mut outcome = EditOutcome {
            op_id: None,
            label: label.to_string(),
            written: 0,
            unchanged: plan.unchanged,
            skipped: plan.skipped,
            cancelled: false,
        };
        if plan.files.is_empty() {
            return Ok(outcome);
        }
        let images: Vec<(&[u8], &[u8], &[u8])> = plan
            .files
            .iter()
            .map(|p| (p.rel.as_slice(), p.before.as_slice(), p.after.as_slice()))
            .collect();
        let mut op = self
            .journal
            .begin(label, ops, &images)
            .map_err(write_err(self.journal.dir()))?;
        drop(images);
        outcome.op_id = Some(op.id);
        let plan_aliases = plan.aliases;
        let moves: Vec<Move> = plan
            .files
            .into_par_iter()
            .map(|p| Move {
                expected: crate::files::hash(&p.before),
                same_text: same_text(&p.before, &p.after),
                rel: p.rel,
                real: p.real,
                bytes: p.after,
            })
            .collect();
        let (written, refused, cancelled) = self.write_all(moves, progress, cancel);
        outcome.cancelled = cancelled;
        outcome.skipped.extend(refused);
        outcome.written = written.len() as u64;
        let keep: std::collections::HashSet<Vec<u8>> =
            written.iter().map(|w| w.edited.path.clone()).collect();
        *files = self.with_aliases(written, &plan_aliases);
        let dir = self.journal.dir().to_path_buf();
        self.journal
            .keep_files(&mut op, |f| keep.contains(f.rel().as_slice()))
            .map_err(write_err(&dir))?;
        if op.files.is_empty() {
            self.journal.remove(op.id);
            outcome.op_id = None;
        } else {
            self.journal
                .set_state(&mut op, OpState::Applied)
                .map_err(write_err(&dir))?;
        }
        // The journal stays bounded: the oldest operations beyond the archive's rule go.
        self.journal
            .prune(crate::settings::load(self.root).0.journal);
        Ok(outcome)
    }

    /// Journal and carry out an operation that moves, creates or deletes files (and may rewrite
    /// others): recorded durably before the first change, then settled file by file like an undo
    /// or redo (`moves::settle_files`). Files that changed since they were planned are reported,
    /// left alone and dropped from the record; the rest are done.
    pub fn apply_files(&self, label: &str, ops: &[EditOp], plan: FilePlan) -> Wrote<EditOutcome> {
        let mut files = Vec::new();
        let result = self.apply_files_inner(label, ops, plan, &mut files);
        Wrote { result, files }
    }

    fn apply_files_inner(
        &self,
        label: &str,
        ops: &[EditOp],
        plan: FilePlan,
        files: &mut Vec<Edited>,
    ) -> Result<EditOutcome> {
        let _lock = self.lock_for_new_operation()?;
        let mut outcome = EditOutcome {
            op_id: None,
            label: label.to_string(),
            written: 0,
            unchanged: 0,
            skipped: Vec::new(),
            cancelled: false,
        };
        if plan.files.is_empty() {
            return Ok(outcome);
        }
        let images: Vec<journal::Image> = plan
            .files
            .iter()
            .map(|c| journal::Image {
                rel: &c.rel,
                before: c.before.as_deref(),
                after: c.after.as_deref(),
                moved_from: c.moved_from.as_deref(),
                mode: c.mode,
            })
            .collect();
        let dir = self.journal.dir().to_path_buf();
        let mut op = self
            .journal
            .begin_images(label, ops, &images, &plan.folders)
            .map_err(write_err(&dir))?;
        drop(images);
        outcome.op_id = Some(op.id);
        super::crash::crash_point("apply", "journaled");
        let settled = super::moves::settle_files(self.root, &self.journal, &op, true, "apply")?;
        *files = edited_paths(settled.touched);
        outcome.written = settled.written;
        let refused: std::collections::HashSet<String> =
            settled.skipped.iter().map(|s| s.path.clone()).collect();
        outcome.skipped = settled.skipped;
        self.journal
            .keep_files(&mut op, |f| !refused.contains(&f.path))
            .map_err(write_err(&dir))?;
        if op.files.is_empty() {
            self.journal.remove(op.id);
            outcome.op_id = None;
        } else {
            self.journal
                .set_state(&mut op, OpState::Applied)
                .map_err(write_err(&dir))?;
        }
        self.journal
            .prune(crate::settings::load(self.root).0.journal);
        Ok(outcome)
    }

    /// Stage and commit files in batches. Returns (written files, refusals, cancelled).
    fn write_all(
        &self,
        moves: Vec<Move>,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
    ) -> (Vec<Written>, Vec<Skipped>, bool) {
        let total = moves.len() as u64;
        let mut written = Vec::with_capacity(moves.len());
        let mut refused = Vec::new();
        let mut done = 0u64;
        progress(EditProgress { done, total });
        for batch in moves.chunks(BATCH) {
            if cancel.load(Ordering::Relaxed) {
                return (written, refused, true);
            }
            let staged: Vec<(usize, std::result::Result<write::Staged, Refusal>)> = batch
                .par_iter()
                .enumerate()
                .map(|(i, m)| (i, write::stage(&m.real, &m.expected, &m.bytes)))
                .collect();
            let mut ok = Vec::new();
            let mut ok_idx = Vec::new();
            for (i, s) in staged {
                match s {
                    Ok(s) => {
                        ok.push(s);
                        ok_idx.push(i);
                    }
                    Err(e) => refused.push(skipped(&batch[i].rel, e.to_string(), refusal_kind(&e))),
                }
            }
            for (i, r) in ok_idx.into_iter().zip(write::commit(ok)) {
                match r {
                    Ok(real) => written.push(Written {
                        edited: Edited {
                            path: batch[i].rel.clone(),
                            same_text_as: batch[i].same_text.then_some(batch[i].expected),
                        },
                        real,
                    }),
                    Err(e) => refused.push(skipped(&batch[i].rel, e.to_string(), refusal_kind(&e))),
                }
            }
            done += batch.len() as u64;
            progress(EditProgress { done, total });
            pause_for_crash_tests();
        }
        (written, refused, false)
    }

    /// Move the files of `op` to its before-images (`to_after` false) or after-images, file by
    /// file: only files that are in the other image's state are written; files changed by someone
    /// else are reported and left alone.
    fn move_files(
        &self,
        op: &OpRecord,
        to_after: bool,
        files: &mut Vec<Edited>,
    ) -> Result<(u64, Vec<Skipped>)> {
        let dir = self.journal.dir().to_path_buf();
        let targets = self.journal.images(op, to_after).map_err(io_err(&dir))?;
        enum Judged {
            Move(Move),
            Already(Written),
            Skip(Skipped),
        }
        let judged: Vec<Judged> = op
            .files
            .par_iter()
            .zip(targets)
            .map(|(f, bytes)| {
                let rel = f.rel();
                let (from_hash, to_hash) = if to_after {
                    (&f.before_hash, &f.after_hash)
                } else {
                    (&f.after_hash, &f.before_hash)
                };
                let (real, current) =
                    match crate::postfile::read(self.root, &rel, crate::postfile::max_bytes()) {
                        Ok(r) => r,
                        Err(e) => {
                            return Judged::Skip(skipped(&rel, e.to_string(), refusal_kind(&e)))
                        }
                    };
                let hash = crate::files::hash(&current);
                match crate::files::to_hex(&hash) {
                    h if &h == to_hash => Judged::Already(Written {
                        edited: Edited {
                            path: rel,
                            same_text_as: None,
                        },
                        real,
                    }),
                    h if &h == from_hash => Judged::Move(Move {
                        same_text: same_text(&current, &bytes),
                        expected: hash,
                        rel,
                        real,
                        bytes,
                    }),
                    _ => Judged::Skip(skipped(
                        &rel,
                        "was changed outside Shelfmark after this operation; left as it is".into(),
                        "conflict",
                    )),
                }
            })
            .collect();
        let mut moves = Vec::new();
        let mut skipped_files = Vec::new();
        // Files already as wanted are indexed too: after a crash, those written before it never
        // reached the index.
        let mut already = Vec::new();
        for j in judged {
            match j {
                Judged::Move(m) => moves.push(m),
                Judged::Already(w) => already.push(w),
                Judged::Skip(s) => skipped_files.push(s),
            }
        }
        let never = AtomicBool::new(false);
        let (mut written, refused, _) = self.write_all(moves, &|_| {}, &never);
        skipped_files.extend(refused);
        let count = (written.len() + already.len()) as u64;
        written.extend(already);
        *files = self.with_aliases(written, &[]);
        Ok((count, skipped_files))
    }

    /// The written files under every path the index knows them by: as given, as the real file
    /// (when the given path is a symlink inside the archive), and the `aliases` of the plan.
    fn with_aliases(&self, written: Vec<Written>, aliases: &[(Vec<u8>, PathBuf)]) -> Vec<Edited> {
        let mut seen: std::collections::HashSet<Vec<u8>> =
            written.iter().map(|w| w.edited.path.clone()).collect();
        let mut out = Vec::with_capacity(written.len());
        let mut by_real: std::collections::HashMap<PathBuf, Option<[u8; 32]>> = Default::default();
        for Written { edited, real } in written {
            if let Ok(rel) = real.strip_prefix(self.root) {
                let rel = rel.as_os_str().as_encoded_bytes().to_vec();
                if seen.insert(rel.clone()) {
                    out.push(Edited {
                        path: rel,
                        same_text_as: edited.same_text_as,
                    });
                }
            }
            by_real.insert(real, edited.same_text_as);
            out.push(edited);
        }
        for (alias, real) in aliases {
            if let Some(same) = by_real.get(real) {
                if seen.insert(alias.clone()) {
                    out.push(Edited {
                        path: alias.clone(),
                        same_text_as: *same,
                    });
                }
            }
        }
        out
    }

    /// Temporary files a killed process left beside the files of `op` (`.shelfmark-XXXX.tmp`).
    fn remove_stale_temps(&self, op: &OpRecord) {
        let mut by_dir: std::collections::HashMap<PathBuf, Vec<std::ffi::OsString>> =
            Default::default();
        for f in &op.files {
            let real = match write::resolve(self.root, &f.rel()) {
                Ok(real) => real,
                // A file a move or delete takes away or brings: its folder, if it is a real one
                // inside the archive (a new file's temporary file waits there).
                Err(_) if f.moves() && crate::postfile::check_rel(&f.rel()).is_ok() => {
                    use std::os::unix::ffi::OsStrExt;
                    let rel = f.rel();
                    let full = self.root.join(Path::new(std::ffi::OsStr::from_bytes(&rel)));
                    let real_dir = full.parent().and_then(|d| d.canonicalize().ok());
                    match real_dir {
                        Some(d) if d.starts_with(self.root) && d.parent().is_some() => full,
                        _ => continue,
                    }
                }
                Err(_) => continue,
            };
            if let (Some(dir), Some(name)) = (real.parent(), real.file_name()) {
                let mut prefix = std::ffi::OsString::from(".");
                prefix.push(name);
                prefix.push(".shelfmark-");
                by_dir.entry(dir.to_path_buf()).or_default().push(prefix);
            }
        }
        for (dir, prefixes) in by_dir {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let bytes = name.as_encoded_bytes();
                // Today's short random names, and the `.NAME.shelfmark-PID-N.tmp` of older versions.
                let legacy = bytes.ends_with(b".tmp")
                    && prefixes
                        .iter()
                        .any(|p| bytes.starts_with(p.as_encoded_bytes()));
                if legacy || crate::dotdir::is_temp_name(bytes) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    fn settle(
        &self,
        op: OpRecord,
        to_after: bool,
        passing: OpState,
        end: OpState,
    ) -> Wrote<EditOutcome> {
        let mut files = Vec::new();
        let result = self.settle_inner(op, to_after, passing, end, &mut files);
        Wrote { result, files }
    }

    fn settle_inner(
        &self,
        mut op: OpRecord,
        to_after: bool,
        passing: OpState,
        end: OpState,
        files: &mut Vec<Edited>,
    ) -> Result<EditOutcome> {
        if op.state.interrupted() {
            self.remove_stale_temps(&op);
        }
        let dir = self.journal.dir().to_path_buf();
        self.journal
            .set_state(&mut op, passing)
            .map_err(write_err(&dir))?;
        let (written, skipped) = if op.moves_files() {
            let step = match passing {
                OpState::Undoing => "undo",
                OpState::Redoing => "redo",
                _ => "recover",
            };
            let settled =
                super::moves::settle_files(self.root, &self.journal, &op, to_after, step)?;
            *files = edited_paths(settled.touched);
            (settled.written, settled.skipped)
        } else {
            self.move_files(&op, to_after, files)?
        };
        // A file that should have moved but could not still carries the other state: the step is
        // not done. It stays open (interrupted), so `undo`/`recover` can try again, and the
        // caller is told which files and why; never "done".
        let failed: Vec<&Skipped> = skipped.iter().filter(|s| s.kind != "conflict").collect();
        if !failed.is_empty() {
            return Err(Error::Incomplete {
                action: if to_after { "redo" } else { "undo" },
                done: written,
                files: failed
                    .iter()
                    .map(|s| format!("{} ({})", s.path, s.reason))
                    .collect(),
            });
        }
        self.journal
            .set_state(&mut op, end)
            .map_err(write_err(&dir))?;
        Ok(EditOutcome {
            op_id: Some(op.id),
            label: op.label,
            written,
            unchanged: 0,
            skipped,
            cancelled: false,
        })
    }

    /// Remove the oldest operations beyond `rule` (default: the archive's settings).
    pub fn prune(&self, rule: Option<journal::Retention>) -> Result<PruneOutcome> {
        let _lock = self.journal.lock().map_err(write_err(self.journal.dir()))?;
        let rule = rule.unwrap_or_else(|| crate::settings::load(self.root).0.journal);
        let (removed, freed_bytes) = self.journal.prune(rule);
        let (ops, _) = self.journal.list();
        Ok(PruneOutcome {
            removed,
            freed_bytes,
            kept: ops.len() as u64,
            kept_bytes: ops.iter().map(|op| self.journal.size_of(op.id)).sum(),
        })
    }

    /// Undo the last applied operation; an interrupted one is rolled back completely instead.
    pub fn undo(&self) -> Wrote<EditOutcome> {
        self.settle_one(|| {
            if let Some(op) = self.interrupted() {
                return Ok((op, false, OpState::Undoing, OpState::Undone));
            }
            let (ops, _) = self.journal.list();
            let op = ops
                .into_iter()
                .rev()
                .find(|op| op.state == OpState::Applied)
                .ok_or_else(|| Error::Edit("there is nothing to undo".into()))?;
            Ok((op, false, OpState::Undoing, OpState::Undone))
        })
    }

    /// Redo the operation undone last.
    pub fn redo(&self) -> Wrote<EditOutcome> {
        self.settle_one(|| {
            if let Some(op) = self.interrupted() {
                return Err(Error::Interrupted {
                    id: op.id,
                    label: op.label,
                });
            }
            let (ops, _) = self.journal.list();
            let op = ops
                .into_iter()
                .find(|op| op.state == OpState::Undone)
                .ok_or_else(|| Error::Edit("there is nothing to redo".into()))?;
            Ok((op, true, OpState::Redoing, OpState::Applied))
        })
    }

    /// Settle an interrupted operation: finish what it was doing, or roll it back.
    pub fn recover(&self, how: Recovery) -> Wrote<EditOutcome> {
        self.settle_one(|| {
            let op = self
                .interrupted()
                .ok_or_else(|| Error::Edit("no operation was interrupted".into()))?;
            // Which way the interrupted step was going.
            let forward = matches!(op.state, OpState::Pending | OpState::Redoing);
            let to_after = forward == (how == Recovery::Finish);
            let passing = op.state;
            let end = if to_after {
                OpState::Applied
            } else {
                OpState::Undone
            };
            Ok((op, to_after, passing, end))
        })
    }

    /// Under the journal's lock, choose an operation and a direction, and settle it.
    fn settle_one(
        &self,
        choose: impl FnOnce() -> Result<(OpRecord, bool, OpState, OpState)>,
    ) -> Wrote<EditOutcome> {
        let _lock = match self.journal.lock() {
            Ok(lock) => lock,
            Err(e) => return Wrote::nothing(Err(write_err(self.journal.dir())(e))),
        };
        match choose() {
            Ok((op, to_after, passing, end)) => self.settle(op, to_after, passing, end),
            Err(e) => Wrote::nothing(Err(e)),
        }
    }
}

/// Paths to index again after a move or delete, once each.
fn edited_paths(paths: Vec<Vec<u8>>) -> Vec<Edited> {
    let mut seen = std::collections::HashSet::new();
    paths
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .map(|path| Edited {
            path,
            same_text_as: None,
        })
        .collect()
}

/// Whether two versions of a file differ only in front matter that leaves the title as it was
/// (so the index keeps the post's text and postings).
fn same_text(before: &[u8], after: &[u8]) -> bool {
    match (post::layout(before), post::layout(after)) {
        (Some(a), Some(b)) => {
            a.fields.get("title") == b.fields.get("title") && same_body(before, &a, after, &b)
        }
        _ => false,
    }
}

/// A file written (or found already as wanted), under the path it was asked for and as the real
/// file behind that path.
struct Written {
    edited: Edited,
    real: PathBuf,
}

struct Move {
    same_text: bool,
    rel: Vec<u8>,
    real: PathBuf,
    expected: [u8; 32],
    bytes: Vec<u8>,
}
