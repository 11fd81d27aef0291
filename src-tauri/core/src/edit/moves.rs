//! Settling an operation that moves, creates or deletes files (an image may be absent): apply,
//! undo, redo and recovery all take its files from one state to the other, judging each file by
//! its hash, absence included (the state wanted: nothing to do; the other state: change it;
//! anything else: someone else changed it, so it is left alone and reported). The two ends of a
//! move are judged together and moved by one atomic rename; rewrites go first, then new files and
//! moves, and removals last, so a file is removed only once its copy elsewhere is durable.

use super::crash::crash_point;
use super::fileops::{self, Current, FileOpRefusal};
use super::journal::{FileImages, Journal, OpRecord};
use super::plan::{refusal_kind, skipped};
use super::types::Skipped;
use super::write;
use crate::error::{Error, Result};
use crate::files::to_hex;
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// A file an operation changes: its two images (None: no file there).
pub struct FileChange {
    pub rel: Vec<u8>,
    pub before: Option<Vec<u8>>,
    pub after: Option<Vec<u8>>,
    /// The arriving end of a move: where the file comes from (another change of the plan, whose
    /// `after` is None).
    pub moved_from: Option<Vec<u8>>,
    /// Permissions of a file that is removed or created.
    pub mode: Option<u32>,
}

/// An operation that moves, creates or deletes files, ready to journal.
#[derive(Default)]
pub struct FilePlan {
    pub files: Vec<FileChange>,
    /// Folders the operation will create (relative paths), for an undo to remove.
    pub folders: Vec<Vec<u8>>,
}

/// What settling did.
pub(super) struct Settled {
    /// Files changed (a move counts its two ends).
    pub written: u64,
    pub skipped: Vec<Skipped>,
    /// Every path whose file changed or already was as wanted: what the index reads again.
    pub touched: Vec<Vec<u8>>,
}

enum Judged {
    /// Already in the wanted state.
    Done,
    /// In the other state: change it. The current hash (None: absent), and the real file for a
    /// rewrite in place.
    Change(Option<[u8; 32]>, Option<PathBuf>),
    Skip(Skipped),
}

fn hex_of(hash: Option<[u8; 32]>) -> String {
    hash.map_or_else(|| super::journal::ABSENT.to_string(), |h| to_hex(&h))
}

fn refused(rel: &[u8], e: &FileOpRefusal) -> Skipped {
    skipped(rel, e.to_string(), e.kind())
}

/// Judge one file against the state wanted (`to_hash`) and the one it leaves (`from_hash`).
fn judge(root: &Path, f: &FileImages, from_hash: &str, to_hash: &str) -> Judged {
    let rel = f.rel();
    if !f.moves() {
        // A rewrite in place: read as the edit path reads (links inside the archive followed).
        return match crate::postfile::read(root, &rel, crate::postfile::max_bytes()) {
            Ok((real, bytes)) => {
                let hash = crate::files::hash(&bytes);
                match to_hex(&hash) {
                    h if h == to_hash => Judged::Done,
                    h if h == from_hash => Judged::Change(Some(hash), Some(real)),
                    _ => Judged::Skip(changed_outside(&rel)),
                }
            }
            Err(e) => Judged::Skip(skipped(&rel, e.to_string(), refusal_kind(&e))),
        };
    }
    match fileops::current(root, &rel) {
        Ok(cur) => {
            let hash = cur.hash();
            match hex_of(hash) {
                h if h == to_hash => Judged::Done,
                h if h == from_hash => Judged::Change(hash, None),
                _ if cur == Current::Absent => Judged::Skip(skipped(
                    &rel,
                    "was removed outside Shelfmark after this operation; left as it is".into(),
                    "conflict",
                )),
                _ => Judged::Skip(changed_outside(&rel)),
            }
        }
        Err(e) => Judged::Skip(refused(&rel, &e)),
    }
}

fn changed_outside(rel: &[u8]) -> Skipped {
    skipped(
        rel,
        "was changed outside Shelfmark after this operation; left as it is".into(),
        "conflict",
    )
}

enum Action {
    Write {
        idx: usize,
        real: PathBuf,
        expected: [u8; 32],
    },
    Create {
        idx: usize,
    },
    Rename {
        from: usize,
        to: usize,
        expected: [u8; 32],
    },
    Remove {
        idx: usize,
        expected: [u8; 32],
    },
}

/// Take the files of `op` to their after-images (`to_after`) or before-images. `step` names the
/// step for the crash tests (`apply`, `undo`, `redo`, `recover`).
pub(super) fn settle_files(
    root: &Path,
    journal: &Journal,
    op: &OpRecord,
    to_after: bool,
    step: &str,
) -> Result<Settled> {
    let dir = journal.dir().to_path_buf();
    let images = journal
        .image_states(op, to_after)
        .map_err(|source| Error::Io {
            path: dir.clone(),
            source,
        })?;
    let hashes = |f: &FileImages| {
        if to_after {
            (f.before_hash.clone(), f.after_hash.clone())
        } else {
            (f.after_hash.clone(), f.before_hash.clone())
        }
    };
    let judged: Vec<Judged> = op
        .files
        .par_iter()
        .map(|f| {
            let (from, to) = hashes(f);
            judge(root, f, &from, &to)
        })
        .collect();
    let rels: Vec<Vec<u8>> = op.files.iter().map(FileImages::rel).collect();
    let index: HashMap<&[u8], usize> = rels
        .iter()
        .enumerate()
        .map(|(i, r)| (r.as_slice(), i))
        .collect();
    // The two ends of each move: (leaving, arriving) in this direction.
    let mut partner: Vec<Option<usize>> = vec![None; op.files.len()];
    let mut pairs = Vec::new();
    for (j, f) in op.files.iter().enumerate() {
        if let Some(i) = f
            .moved_from()
            .and_then(|src| index.get(src.as_slice()).copied())
        {
            if i != j && partner[i].is_none() && partner[j].is_none() {
                partner[i] = Some(j);
                partner[j] = Some(i);
                pairs.push(if to_after { (i, j) } else { (j, i) });
            }
        }
    }
    let mut skipped_files = Vec::new();
    let mut touched = Vec::new();
    let mut actions = Vec::new();
    for (leaving, arriving) in pairs {
        match (&judged[leaving], &judged[arriving]) {
            (Judged::Skip(a), Judged::Skip(b)) => {
                skipped_files.push(a.clone());
                skipped_files.push(b.clone());
            }
            (Judged::Skip(s), _) | (_, Judged::Skip(s)) => {
                let (ok, bad) = if matches!(judged[leaving], Judged::Skip(_)) {
                    (arriving, leaving)
                } else {
                    (leaving, arriving)
                };
                skipped_files.push(s.clone());
                skipped_files.push(skipped(
                    &rels[ok],
                    format!(
                        "is left as it is: the other end of its move, {}, {}",
                        String::from_utf8_lossy(&rels[bad]),
                        s.reason
                    ),
                    "conflict",
                ));
            }
            (Judged::Done, Judged::Done) => {
                touched.push(rels[leaving].clone());
                touched.push(rels[arriving].clone());
            }
            (Judged::Change(Some(h), _), Judged::Change(..)) => actions.push(Action::Rename {
                from: leaving,
                to: arriving,
                expected: *h,
            }),
            (Judged::Change(Some(h), _), Judged::Done) => {
                touched.push(rels[arriving].clone());
                actions.push(Action::Remove {
                    idx: leaving,
                    expected: *h,
                })
            }
            (Judged::Done, Judged::Change(..)) => {
                touched.push(rels[leaving].clone());
                actions.push(Action::Create { idx: arriving })
            }
            // A leaving end judged absent while it should be present cannot be: its hashes say
            // otherwise. Left alone.
            (Judged::Change(None, _), _) => {
                skipped_files.push(changed_outside(&rels[leaving]));
            }
        }
    }
    for (i, j) in judged.iter().enumerate() {
        if partner[i].is_some() {
            continue;
        }
        let (from, to) = hashes(&op.files[i]);
        match j {
            Judged::Skip(s) => skipped_files.push(s.clone()),
            Judged::Done => touched.push(rels[i].clone()),
            Judged::Change(Some(h), Some(real)) => actions.push(Action::Write {
                idx: i,
                real: real.clone(),
                expected: *h,
            }),
            Judged::Change(Some(h), None) if to == super::journal::ABSENT => {
                actions.push(Action::Remove {
                    idx: i,
                    expected: *h,
                })
            }
            Judged::Change(None, _) if from == super::journal::ABSENT => {
                actions.push(Action::Create { idx: i })
            }
            Judged::Change(..) => skipped_files.push(changed_outside(&rels[i])),
        }
    }
    let mut written = 0u64;
    let bytes_of = |i: usize| images[i].as_deref().unwrap_or_default();
    // 1. Rewrites in place, flushed together.
    let mut staged = Vec::new();
    let mut staged_idx = Vec::new();
    for a in &actions {
        if let Action::Write {
            idx,
            real,
            expected,
        } = a
        {
            match write::stage(real, expected, bytes_of(*idx)) {
                Ok(s) => {
                    staged.push(s);
                    staged_idx.push((*idx, real.clone()));
                }
                Err(e) => skipped_files.push(skipped(&rels[*idx], e.to_string(), refusal_kind(&e))),
            }
        }
    }
    for ((idx, real), r) in staged_idx.into_iter().zip(write::commit(staged)) {
        match r {
            Ok(_) => {
                written += 1;
                touched.push(rels[idx].clone());
                if let Ok(real_rel) = real.strip_prefix(root) {
                    let real_rel = real_rel.as_os_str().as_encoded_bytes().to_vec();
                    if real_rel != rels[idx] {
                        touched.push(real_rel);
                    }
                }
            }
            Err(e) => skipped_files.push(skipped(&rels[idx], e.to_string(), refusal_kind(&e))),
        }
    }
    crash_point(step, "edited");
    // 2. New files and moves, each durable before the next step.
    let mut created = Vec::new();
    let mut folders = fileops::Folders::default();
    let mut moved = 0;
    for a in &actions {
        let result = match a {
            Action::Create { idx } => {
                let mode = op.files[*idx].mode.unwrap_or(0o644);
                fileops::create(
                    root,
                    &rels[*idx],
                    bytes_of(*idx),
                    mode,
                    &mut created,
                    &mut folders,
                )
                .map(|()| vec![*idx])
            }
            Action::Rename { from, to, expected } => fileops::rename(
                root,
                &rels[*from],
                &rels[*to],
                expected,
                &mut created,
                &mut folders,
            )
            .map(|()| vec![*from, *to]),
            _ => continue,
        };
        match result {
            Ok(done) => {
                for i in done {
                    written += 1;
                    touched.push(rels[i].clone());
                }
                moved += 1;
                if moved == 1 {
                    crash_point(step, "moved-one");
                }
            }
            Err(e) => {
                let (first, other) = match a {
                    Action::Rename { from, to, .. } => (*from, Some(*to)),
                    Action::Create { idx } => (*idx, None),
                    _ => continue,
                };
                skipped_files.push(refused(&rels[first], &e));
                if let Some(o) = other {
                    skipped_files.push(skipped(
                        &rels[o],
                        format!(
                            "is left as it is: its move from {} failed",
                            String::from_utf8_lossy(&rels[first])
                        ),
                        e.kind(),
                    ));
                }
            }
        }
    }
    // Durable before anything is removed.
    let flushed = fileops::flush(root, &mut folders);
    crash_point(step, "moved");
    // 3. Removals last: each file's copy (when it has one) is durable by now. When it could not
    // be made durable, nothing is removed: the files are reported (an undo or redo stays open,
    // so `recover` can try again; an apply leaves them and drops them from its record).
    let mut removed = 0;
    for a in &actions {
        if let Action::Remove { idx, .. } = a {
            if let Err(e) = &flushed {
                skipped_files.push(skipped(
                    &rels[*idx],
                    format!("was not removed: the folders of the files moved before could not be flushed to disk ({e})"),
                    "io",
                ));
                continue;
            }
        }
        if let Action::Remove { idx, expected } = a {
            match fileops::remove(root, &rels[*idx], expected, &mut folders) {
                Ok(()) => {
                    written += 1;
                    touched.push(rels[*idx].clone());
                    removed += 1;
                    if removed == 1 {
                        crash_point(step, "removed-one");
                    }
                }
                Err(e) => skipped_files.push(refused(&rels[*idx], &e)),
            }
        }
    }
    // The removals are done; a failed flush only means a power cut could bring a file back, which
    // undo and recovery judge by its hash like any other state.
    let _ = fileops::flush(root, &mut folders);
    crash_point(step, "removed");
    if !to_after {
        let folders: Vec<Vec<u8>> = op
            .created_folders
            .iter()
            .filter_map(|h| crate::files::from_hex(h))
            .collect();
        fileops::remove_empty_folders(root, &folders);
    }
    Ok(Settled {
        written,
        skipped: skipped_files,
        touched,
    })
}

/// Lines that say what an operation's moves and deletes do (`move a → b`, `delete c`, `create
/// d`), for the files of `op` with an absent image, in the direction of applying it.
pub fn describe_moves(files: &[FileImages]) -> Vec<(String, String)> {
    let arrivals: HashMap<Vec<u8>, &FileImages> = files
        .iter()
        .filter_map(|f| f.moved_from().map(|src| (src, f)))
        .collect();
    let mut out = Vec::new();
    for f in files {
        if f.moved_from().is_some() {
            continue;
        }
        let rel = f.rel();
        if f.after_absent() {
            match arrivals.get(&rel) {
                Some(to) => out.push((f.path.clone(), format!("move {} → {}", f.path, to.path))),
                None => out.push((f.path.clone(), format!("delete {}", f.path))),
            }
        } else if f.before_absent() {
            out.push((f.path.clone(), format!("create {}", f.path)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absent_images_round_trip_and_newer_formats_are_refused() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = d.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        let j = Journal::new(&root);
        let images = [
            super::super::journal::Image {
                rel: b"a.md",
                before: Some(b"A"),
                after: None,
                moved_from: None,
                mode: Some(0o600),
            },
            super::super::journal::Image {
                rel: b"x/a.md",
                before: None,
                after: Some(b"A"),
                moved_from: Some(b"a.md"),
                mode: Some(0o600),
            },
        ];
        let mut op = j
            .begin_images("move", &[], &images, &[b"x".to_vec()])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(op.format, super::super::journal::FORMAT);
        assert!(op.moves_files());
        let after = j.image_states(&op, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(after, vec![None, Some(b"A".to_vec())]);
        let before = j.image_states(&op, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(before, vec![Some(b"A".to_vec()), None]);
        assert_eq!(
            describe_moves(&op.files),
            vec![("a.md".to_string(), "move a.md → x/a.md".to_string())]
        );
        // Read back from disk as written.
        let (listed, bad) = j.list();
        assert!(bad.is_empty(), "{bad:?}");
        assert_eq!(
            listed.first().map(|o| o.created_folders.clone()),
            Some(vec![to_hex(b"x")])
        );
        op.format = super::super::journal::FORMAT + 1;
        let err = j.image_states(&op, true).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("newer Shelfmark")),
            "{err:?}"
        );
    }

    #[test]
    fn a_journal_without_absent_images_reads_as_before() {
        // A record as Shelfmark wrote it before moves and deletes (no format, mode or moves).
        let old = r#"{"id":1,"label":"tag add x","created":"2026-01-01T00:00:00Z","state":"applied",
            "files":[{"path_hex":"612e6d64","path":"a.md","before_hash":"00","after_hash":"11",
            "before":[0,1],"after":[1,1],"frame":[0,10]}]}"#;
        let op: OpRecord = serde_json::from_str(old).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(op.format, 0);
        assert!(!op.moves_files());
        assert!(op.created_folders.is_empty());
        assert_eq!(op.files[0].moved_from(), None);
    }
}
