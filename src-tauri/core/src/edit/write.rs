//! The one path by which Shelfmark writes into an archive. A file is written to a temporary file
//! in its own folder, with the original's permissions; the data is flushed to disk; the file is
//! checked once more against what Shelfmark read (a change made outside is a conflict and nothing
//! is written); then the temporary file is renamed over the original and the folder is flushed.
//! Many files are staged first and flushed together (their fsyncs run side by side, so the file
//! system commits them in a few journal transactions); each file is still either wholly old or
//! wholly new after a crash. Between staging and renaming, the original is re-checked by its
//! size, modification time and inode, which any outside write changes.

use rayon::prelude::*;
use std::collections::BTreeSet;
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use crate::postfile::{resolve, Refusal};

pub use crate::files::hash;

/// A file written to its temporary name, waiting for `commit`. Dropped uncommitted, the
/// temporary file is removed.
#[derive(Debug)]
pub struct Staged {
    pub real: PathBuf,
    tmp: tempfile::TempPath,
    /// What the original looked like when its hash was checked: (size, mtime ns, inode).
    seen: (u64, i64, u64),
}

fn identity(meta: &std::fs::Metadata) -> (u64, i64, u64) {
    (
        meta.len(),
        meta.mtime()
            .saturating_mul(1_000_000_000)
            .saturating_add(meta.mtime_nsec()),
        meta.ino(),
    )
}

/// Write `new` beside `real` under a temporary name, if `real` still hashes to `expected`.
pub fn stage(real: &Path, expected: &[u8; 32], new: &[u8]) -> Result<Staged, Refusal> {
    let meta = match std::fs::metadata(real) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
        Err(e) => return Err(Refusal::Io(e.to_string())),
    };
    if meta.permissions().readonly() {
        return Err(Refusal::ReadOnly);
    }
    check(real, expected)?;
    let seen = std::fs::metadata(real)
        .map(|m| identity(&m))
        .map_err(|e| Refusal::Io(e.to_string()))?;
    if seen != identity(&meta) {
        return Err(Refusal::Conflict);
    }
    let io = |e: std::io::Error| Refusal::Io(e.to_string());
    let dir = real.parent().ok_or(Refusal::BadPath)?;
    // A short random name, created exclusively: its length does not depend on the post's name
    // (names of 255 bytes are common in scraped archives), and nothing planted is opened.
    let (mut f, tmp) = crate::dotdir::temp_in(dir).map_err(io)?.into_parts();
    let mode = meta.permissions().mode() & 0o7777;
    let staged = Staged {
        real: real.to_path_buf(),
        tmp,
        seen,
    };
    f.write_all(new).map_err(io)?;
    drop(f);
    // The umask may have narrowed the mode; owner and group follow the original where allowed.
    std::fs::set_permissions(&staged.tmp, std::fs::Permissions::from_mode(mode)).map_err(io)?;
    let _ = std::os::unix::fs::chown(&staged.tmp, Some(meta.uid()), Some(meta.gid()));
    Ok(staged)
}

/// The file still has the content Shelfmark read.
fn check(real: &Path, expected: &[u8; 32]) -> Result<(), Refusal> {
    // A file grown past the read limit since it was read has changed: a conflict.
    match crate::postfile::read_real(real, crate::postfile::max_bytes()) {
        Ok(bytes) if hash(&bytes) == *expected => Ok(()),
        Ok(_) | Err(Refusal::TooLarge(..)) => Err(Refusal::Conflict),
        Err(e) => Err(e),
    }
}

/// Flush the staged files to disk and rename each over its original, unless the original changed
/// in the meantime. Results are in the order given.
pub fn commit(staged: Vec<Staged>) -> Vec<Result<PathBuf, Refusal>> {
    if staged.is_empty() {
        return Vec::new();
    }
    let flushed = flush(&staged);
    if let Err(e) = &flushed {
        return staged.iter().map(|_| Err(Refusal::Io(e.clone()))).collect();
    }
    // Renames wait on the file system's journal more than on the CPU: several run side by side.
    let results: Vec<Result<PathBuf, Refusal>> = staged
        .into_par_iter()
        .with_max_len(16)
        .map(|s| {
            match std::fs::metadata(&s.real) {
                Ok(m) if identity(&m) == s.seen => {}
                Ok(_) => return Err(Refusal::Conflict),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
                Err(e) => return Err(Refusal::Io(e.to_string())),
            }
            let real = s.real;
            s.tmp
                .persist(&real)
                .map_err(|e| Refusal::Io(e.error.to_string()))?;
            Ok(real)
        })
        .collect();
    let dirs: BTreeSet<&Path> = results
        .iter()
        .filter_map(|r| r.as_ref().ok().and_then(|p| p.parent()))
        .collect();
    // The renames themselves: fsync each folder, or one syncfs when there are many.
    if dirs.len() <= FEW {
        for dir in dirs {
            let _ = sync_dir(dir);
        }
    } else if let Some(dir) = dirs.first() {
        if let Ok(f) = std::fs::File::open(dir) {
            let _ = rustix::fs::syncfs(f);
        }
    }
    results
}

/// Flush the staged files' data to disk: an fsync each for a handful, else one `syncfs` for the
/// file system that holds them (far cheaper than thousands of fsyncs on a busy disk).
fn flush(staged: &[Staged]) -> Result<(), String> {
    let open = |p: &Path| std::fs::File::open(p).map_err(|e| format!("{}: {e}", p.display()));
    let devices: BTreeSet<u64> = staged
        .iter()
        .filter_map(|s| std::fs::metadata(&s.tmp).ok().map(|m| m.dev()))
        .collect();
    if staged.len() <= FEW || devices.len() > 1 {
        for s in staged {
            open(&s.tmp)?.sync_data().map_err(|e| e.to_string())?;
        }
        return Ok(());
    }
    let first = staged
        .first()
        .map(|s| -> &Path { &s.tmp })
        .unwrap_or(Path::new("."));
    rustix::fs::syncfs(open(first)?).map_err(|e| e.to_string())
}

/// Up to this many files (or folders) are flushed one by one.
const FEW: usize = 4;

pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_replaced_only_while_it_is_unchanged() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        let f = root.join("a.md");
        std::fs::write(&f, "old").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o640))
            .unwrap_or_else(|e| panic!("{e}"));
        let real = resolve(&root, b"a.md").unwrap_or_else(|e| panic!("{e}"));
        let s = stage(&real, &hash(b"old"), b"new").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(commit(vec![s]), vec![Ok(real.clone())]);
        assert_eq!(std::fs::read(&f).ok(), Some(b"new".to_vec()));
        let mode = std::fs::metadata(&f)
            .map(|m| m.permissions().mode() & 0o777)
            .ok();
        assert_eq!(mode, Some(0o640));
        // Stale expectation: refused at staging.
        assert_eq!(
            stage(&real, &hash(b"old"), b"x").err(),
            Some(Refusal::Conflict)
        );
        // Changed between staging and commit: refused, original kept, no temporary left.
        let s = stage(&real, &hash(b"new"), b"mine").unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(&f, "theirs").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(commit(vec![s]), vec![Err(Refusal::Conflict)]);
        assert_eq!(std::fs::read(&f).ok(), Some(b"theirs".to_vec()));
        let names: Vec<_> = std::fs::read_dir(&root)
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn paths_out_of_the_archive_and_into_shelfmark_are_refused() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let outside = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let root = dir.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(outside.path().join("x.md"), "x").unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(outside.path().join("x.md"), root.join("link.md"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            resolve(&root, b"link.md"),
            Err(Refusal::Outside(_))
        ));
        assert_eq!(resolve(&root, b"../x.md"), Err(Refusal::BadPath));
        assert_eq!(resolve(&root, b"/etc/passwd"), Err(Refusal::BadPath));
        std::fs::create_dir(root.join(".shelfmark")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(root.join(".shelfmark/a.md"), "x").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(resolve(&root, b".shelfmark/a.md"), Err(Refusal::NotAPost));
    }

    #[test]
    fn read_only_files_are_left_alone() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let f = dir.path().join("r.md");
        std::fs::write(&f, "x").unwrap_or_else(|e| panic!("{e}"));
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o444))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(stage(&f, &hash(b"x"), b"y").err(), Some(Refusal::ReadOnly));
    }
}
