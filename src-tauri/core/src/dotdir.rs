//! Shelfmark's own folder in an archive, `<archive>/.shelfmark/`, handled as hostile input: it
//! may come inside a git clone or a zip made by someone else. So the folder and each subfolder
//! must be real folders (a symlink is refused), new files are created exclusively under
//! unpredictable temporary names, existing files are opened without following links, only
//! regular files are read (a FIFO would hang a reader), and reads have a size limit.
//!
//! Every file Shelfmark keeps under `.shelfmark/` (index, journal, lock, collections, settings) is
//! placed with these functions; nothing else in the core writes there.

use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// The folder under the archive root where Shelfmark keeps its files.
pub const DOT_DIR: &str = ".shelfmark";

/// What `.shelfmark/.gitignore` says when Shelfmark creates the folder: the index and the journal
/// are this machine's cache and history; collections and settings may be shared by choice.
const GITIGNORE: &str = "# Written by Shelfmark. The index is a cache and the journal is this machine's undo history:\n\
# neither belongs in version control. Collections and settings may be committed by choice.\n\
index.sqlite*\n\
journal/\n\
*.tmp\n";

fn refused(path: &Path, why: &str) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("{} {why}", path.display()),
    )
}

/// `path` is a real folder (not a symlink to one).
pub fn check_dir(path: &Path) -> std::io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(refused(
            path,
            "is a symbolic link; Shelfmark does not write through links in its .shelfmark folder (remove the link and try again)",
        ));
    }
    if !meta.is_dir() {
        return Err(refused(
            path,
            "is not a folder; Shelfmark keeps its own files there (move it away and try again)",
        ));
    }
    Ok(())
}

/// Make (or check) `<root>/.shelfmark/<sub…>`, every level a real folder, and return its path.
/// A `.shelfmark` folder Shelfmark creates gets a `.gitignore` for the index and the journal.
pub fn dir(root: &Path, sub: &[&str]) -> std::io::Result<PathBuf> {
    let mut path = root.join(DOT_DIR);
    ensure_one(&path).map_err(read_only)?;
    ensure_gitignore(&path);
    for part in sub {
        path.push(part);
        ensure_one(&path).map_err(read_only)?;
    }
    Ok(path)
}

/// A folder that cannot be made for lack of rights: say that the archive is read-only.
fn read_only(e: std::io::Error) -> std::io::Error {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied | std::io::ErrorKind::ReadOnlyFilesystem => {
            std::io::Error::new(
                e.kind(),
                format!(
                    "the archive is read-only for you ({e}); Shelfmark keeps its journal, collections and settings in .shelfmark/, so changing them needs write access to the archive"
                ),
            )
        }
        _ => e,
    }
}

fn ensure_one(path: &Path) -> std::io::Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(_) => check_dir(path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // `mkdir` never follows a link at the last component: a link planted meanwhile fails.
            match std::fs::DirBuilder::new().mode(0o755).create(path) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => check_dir(path),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Write `.shelfmark/.gitignore` if there is none (a file already there, whatever it is, stays).
fn ensure_gitignore(dot: &Path) {
    let path = dot.join(".gitignore");
    if std::fs::symlink_metadata(&path).is_err() {
        let _ = create_new(&path, GITIGNORE.as_bytes(), false);
    }
}

/// Create `path` with `bytes`; refuse if anything (a file, a link) is already there.
pub fn create_new(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o644)
        .open(path)
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                refused(
                    path,
                    "already exists where Shelfmark was to create a new file; it was left alone (remove it if it is not yours)",
                )
            } else {
                e
            }
        })?;
    f.write_all(bytes)?;
    if durable {
        f.sync_all()?;
    }
    Ok(())
}

/// A new, empty file beside `path`'s folder under an unpredictable short name, created
/// exclusively (so a planted file or link is never opened). Removed when dropped unless persisted.
pub fn temp_in(dir: &Path) -> std::io::Result<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".shelfmark-")
        .suffix(".tmp")
        .rand_bytes(12)
        .tempfile_in(dir)
}

/// Whether `name` is one of the temporary names `temp_in` gives.
pub fn is_temp_name(name: &[u8]) -> bool {
    name.strip_prefix(b".shelfmark-")
        .and_then(|rest| rest.strip_suffix(b".tmp"))
        .is_some_and(|mid| mid.len() == 12 && mid.iter().all(u8::is_ascii_alphanumeric))
}

/// Replace (or create) `path` with `bytes` atomically: a fresh temporary file in the same folder,
/// renamed over it. An existing link or non-file at `path` is refused rather than replaced.
pub fn replace(path: &Path, bytes: &[u8], durable: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    check_dir(dir)?;
    match std::fs::symlink_metadata(path) {
        Ok(m) if !m.file_type().is_file() => {
            return Err(refused(
                path,
                "is not a regular file (a link?); Shelfmark does not write through it (remove it and try again)",
            ))
        }
        _ => {}
    }
    let mut tmp = temp_in(dir)?;
    tmp.write_all(bytes)?;
    if durable {
        tmp.as_file().sync_all()?;
    }
    tmp.persist(path).map_err(|e| e.error)?;
    if durable {
        std::fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Open `path` with `options` as a regular file only: opened without blocking (a FIFO cannot
/// hang the caller) and, unless `follow_links`, never through a link at the last component.
pub fn open_regular(
    path: &Path,
    options: &mut std::fs::OpenOptions,
    follow_links: bool,
) -> std::io::Result<std::fs::File> {
    let mut flags = rustix::fs::OFlags::NONBLOCK;
    if !follow_links {
        flags |= rustix::fs::OFlags::NOFOLLOW;
    }
    let f = options
        .custom_flags(flags.bits() as i32)
        .open(path)
        .map_err(|e| link_error(path, e))?;
    if !f.metadata()?.is_file() {
        return Err(refused(
            path,
            "is not a regular file; Shelfmark does not use it",
        ));
    }
    Ok(f)
}

/// Open an existing file of Shelfmark's own for reading: not through a link, regular only.
pub fn open_read(path: &Path) -> std::io::Result<std::fs::File> {
    open_regular(path, std::fs::OpenOptions::new().read(true), false)
}

/// ELOOP from `O_NOFOLLOW` means the last component is a link: say so.
fn link_error(path: &Path, e: std::io::Error) -> std::io::Error {
    if e.raw_os_error() == Some(rustix::io::Errno::LOOP.raw_os_error()) {
        refused(
            path,
            "is a symbolic link; Shelfmark does not follow links in its .shelfmark folder (remove the link and try again)",
        )
    } else {
        e
    }
}

/// Read a file of Shelfmark's own, refusing links, non-files and files over `max` bytes.
pub fn read_limited(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    let f = open_read(path)?;
    let len = f.metadata()?.len();
    if len > max {
        return Err(refused(
            path,
            &format!("is {len} bytes, more than the {max} Shelfmark reads for such a file"),
        ));
    }
    let mut out = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    f.take(max).read_to_end(&mut out)?;
    Ok(out)
}

/// Open (creating if needed) a file to lock or append to, never through a link, regular only.
pub fn open_write(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false).mode(0o644);
    open_regular(path, &mut options, false)
}

/// The largest JSON file of Shelfmark's own that is read (a collection of a million posts fits).
pub const MAX_OWN_JSON: u64 = 256 * 1024 * 1024;

/// Every `*.json` file of Shelfmark's own in `dir`, read as `T`, with its file stem. Files that
/// cannot be read (links, non-files, too large, bad JSON) are named in the second list with why,
/// rather than stopping the rest.
pub fn read_json_dir<T: serde::de::DeserializeOwned>(
    dir: &Path,
) -> (Vec<(String, T)>, Vec<String>) {
    let mut out = Vec::new();
    let mut bad = Vec::new();
    if check_dir(dir).is_err() {
        if std::fs::symlink_metadata(dir).is_ok() {
            bad.push(format!(
                "{} is not a real folder (a link?); its files were not read",
                dir.display()
            ));
        }
        return (out, bad);
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return (out, bad);
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "json") {
            continue;
        }
        let Some(stem) = path
            .file_stem()
            .and_then(|s| s.to_str())
            .map(str::to_string)
        else {
            continue;
        };
        match read_limited(&path, MAX_OWN_JSON)
            .map_err(|e| e.to_string())
            .and_then(|b| {
                serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", path.display()))
            }) {
            Ok(value) => out.push((stem, value)),
            Err(e) => bad.push(e),
        }
    }
    (out, bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = d.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        (d, r)
    }

    #[test]
    fn a_new_dot_folder_gets_a_gitignore_for_the_index_and_the_journal() {
        let (_d, r) = root();
        let j = dir(&r, &["journal"]).unwrap_or_else(|e| panic!("{e}"));
        assert!(j.is_dir());
        let ignore = std::fs::read_to_string(r.join(".shelfmark/.gitignore"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(ignore.lines().any(|l| l == "index.sqlite*"));
        assert!(ignore.lines().any(|l| l == "journal/"));
        assert!(!ignore.lines().any(|l| l.starts_with("collections")));
    }

    #[test]
    fn a_linked_dot_folder_or_subfolder_is_refused() {
        let (_d, r) = root();
        let (_o, elsewhere) = root();
        std::os::unix::fs::symlink(&elsewhere, r.join(".shelfmark"))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = dir(&r, &["journal"]).err().map(|e| e.to_string());
        assert!(
            err.as_deref().is_some_and(|e| e.contains("symbolic link")),
            "{err:?}"
        );
        assert_eq!(
            std::fs::read_dir(&elsewhere).map(|d| d.count()).ok(),
            Some(0)
        );

        let (_d2, r2) = root();
        std::fs::create_dir(r2.join(".shelfmark")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(&elsewhere, r2.join(".shelfmark/collections"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(dir(&r2, &["collections"]).is_err());
    }

    #[test]
    fn links_and_fifos_are_neither_read_nor_written_through() {
        let (_d, r) = root();
        let (_o, elsewhere) = root();
        let victim = elsewhere.join("victim");
        std::fs::write(&victim, "precious").unwrap_or_else(|e| panic!("{e}"));
        let dot = dir(&r, &[]).unwrap_or_else(|e| panic!("{e}"));
        let link = dot.join("x.json");
        std::os::unix::fs::symlink(&victim, &link).unwrap_or_else(|e| panic!("{e}"));
        assert!(create_new(&link, b"new", false).is_err());
        assert!(replace(&link, b"new", false).is_err());
        assert!(open_write(&link).is_err());
        assert!(read_limited(&link, 100).is_err());
        assert_eq!(std::fs::read(&victim).ok(), Some(b"precious".to_vec()));
        let fifo = dot.join("f.json");
        rustix::fs::mknodat(
            rustix::fs::CWD,
            &fifo,
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(read_limited(&fifo, 100).is_err());
        let (ok, bad) = read_json_dir::<serde_json::Value>(&dot);
        assert!(ok.is_empty());
        assert_eq!(bad.len(), 2, "{bad:?}");
    }

    #[test]
    fn temporary_names_are_short_and_recognised() {
        let (_d, r) = root();
        let t = temp_in(&r).unwrap_or_else(|e| panic!("{e}"));
        let name = t
            .path()
            .file_name()
            .map(|n| n.as_encoded_bytes().to_vec())
            .unwrap_or_default();
        assert!(name.len() < 40, "{}", String::from_utf8_lossy(&name));
        assert!(is_temp_name(&name));
        assert!(!is_temp_name(b".shelfmark-abc.tmp"));
        assert!(!is_temp_name(b"post.md"));
    }
}
