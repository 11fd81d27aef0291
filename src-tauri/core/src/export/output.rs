//! How an export puts one file into its target. The bytes go to a temporary file created
//! exclusively (`O_EXCL`: never through a symlink, never an existing file) under a short,
//! unpredictable name in the destination's folder, then that file is renamed over the
//! destination. The temporary name is 27 bytes whatever the destination's name, so a name of 255
//! bytes still has a temporary. A temporary that is not renamed is removed. No path leaves the
//! target (`inside`).

use super::error::{ExportError, Result};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Component, Path, PathBuf};

/// `rel` under `dir`, refusing anything that could leave it: only plain components, and no
/// existing symlink along the way.
pub(super) fn inside(dir: &Path, rel: &str) -> Result<PathBuf> {
    let rel_path = Path::new(rel);
    if !rel_path
        .components()
        .all(|c| matches!(c, Component::Normal(_)))
    {
        return Err(ExportError::NotInside(rel.to_string()));
    }
    let mut at = dir.to_path_buf();
    for c in rel_path.components() {
        at.push(c);
        if std::fs::symlink_metadata(&at).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(ExportError::Symlink(at));
        }
    }
    Ok(at)
}

/// A new temporary file in `dir`: `.shelfmark-XXXXXXXXXXXX.tmp` (hidden, never a post name),
/// created exclusively, readable as any file the user creates (the umask applies).
pub(super) fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".shelfmark-")
        .suffix(".tmp")
        .rand_bytes(12)
        .permissions(std::fs::Permissions::from_mode(0o666))
        .tempfile_in(dir)
}

/// Whether an existing destination may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    /// The destination must not exist: a file that appeared meanwhile is kept
    /// (`ErrorKind::AlreadyExists`).
    New,
    /// The destination is replaced (the caller judged it the export's own, or was told to).
    Replace,
}

/// Write `bytes` as `dest` (its folder is created if needed). `durable` flushes the file before
/// it is renamed (otherwise the caller flushes a whole batch at once).
pub(super) fn put(dest: &Path, bytes: &[u8], mode: Mode, durable: bool) -> std::io::Result<()> {
    let dir = dest.parent().ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "a path without a folder")
    })?;
    std::fs::create_dir_all(dir)?;
    let mut tmp = temp_in(dir)?;
    tmp.write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    persist(tmp, dest, mode)
}

/// Rename a finished temporary file to `dest` (a rename replaces a symlink itself, never what it
/// points to). The temporary is removed if that fails.
pub(super) fn persist(
    tmp: tempfile::NamedTempFile,
    dest: &Path,
    mode: Mode,
) -> std::io::Result<()> {
    let done = match mode {
        Mode::New => tmp.persist_noclobber(dest),
        Mode::Replace => tmp.persist(dest),
    };
    // Dropping the error's file removes the temporary.
    done.map(drop).map_err(|e| e.error)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .map(|d| {
                d.flatten()
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    }

    #[test]
    fn a_255_byte_name_is_written_and_no_temporary_is_left() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let name = format!("{}.md", "中".repeat(84));
        assert_eq!(name.len(), 255);
        let dest = dir.path().join(&name);
        put(&dest, b"one", Mode::New, true).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&dest).ok(), Some(b"one".to_vec()));
        // New never replaces a file that is there; Replace does.
        let err = put(&dest, b"two", Mode::New, false).err().map(|e| e.kind());
        assert_eq!(err, Some(std::io::ErrorKind::AlreadyExists));
        assert_eq!(std::fs::read(&dest).ok(), Some(b"one".to_vec()));
        put(&dest, b"two", Mode::Replace, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&dest).ok(), Some(b"two".to_vec()));
        assert_eq!(names(dir.path()), [name]);
    }

    #[test]
    fn a_symlink_at_the_destination_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "victim").unwrap_or_else(|e| panic!("{e}"));
        let dest = dir.path().join("out.md");
        std::os::unix::fs::symlink(&victim, &dest).unwrap_or_else(|e| panic!("{e}"));
        let err = put(&dest, b"new", Mode::New, false).err().map(|e| e.kind());
        assert_eq!(err, Some(std::io::ErrorKind::AlreadyExists));
        put(&dest, b"new", Mode::Replace, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(std::fs::read(&victim).ok(), Some(b"victim".to_vec()));
        assert!(std::fs::symlink_metadata(&dest).is_ok_and(|m| m.file_type().is_file()));
    }
}
