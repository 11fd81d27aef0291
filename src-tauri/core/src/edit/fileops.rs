//! Moves and deletes: the file operations of the one write path besides rewriting a file in
//! place (`write`). Every step goes from the archive's root folder by folder through open folder
//! handles (`openat` with `O_NOFOLLOW`), so no link is ever followed, whatever is swapped in
//! between the check and the change; a file is read through its own handle and re-checked by
//! size, modification time and inode just before it changes.
//!
//! - `create`: a new file, written to a temporary name in its folder, flushed, then renamed into
//!   place with `RENAME_NOREPLACE` (or linked, where the file system lacks it): never over an
//!   existing file. Missing folders are created (and named, so an undo can remove them).
//! - `rename`: a move is one `renameat2(RENAME_NOREPLACE)` of the file itself (atomic: after a
//!   crash the file is at one place or the other, never both or neither); across file systems a
//!   `create` of the copy followed by the removal of the original once the copy is durable.
//! - `remove`: unlink, only while the file still is the version expected.
//!
//! The folders changed are collected (`Folders`) and flushed together (`flush`): a caller flushes
//! before a step that relies on the earlier ones being durable (removals after moves).

use super::write::Refusal;
use rustix::fs::{AtFlags, Mode, OFlags, RenameFlags};
use rustix::io::Errno;
use std::ffi::OsStr;
use std::io::{Read, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

/// Why a move or delete was refused. The message completes a sentence that starts with the path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileOpRefusal {
    #[error(
        "goes through a link ({0}); Shelfmark moves and deletes only real files in real folders"
    )]
    Link(String),
    #[error("goes through {0}, which is not a folder")]
    NotAFolder(String),
    #[error("already exists; Shelfmark never moves a file over another")]
    Exists,
    #[error("{0}")]
    Refusal(Refusal),
}

impl From<Refusal> for FileOpRefusal {
    fn from(r: Refusal) -> Self {
        FileOpRefusal::Refusal(r)
    }
}

impl FileOpRefusal {
    /// The kind a skipped file is reported under.
    pub fn kind(&self) -> &'static str {
        match self {
            FileOpRefusal::Link(_) => "link",
            FileOpRefusal::NotAFolder(_) => "not-a-folder",
            FileOpRefusal::Exists => "exists",
            FileOpRefusal::Refusal(r) => super::plan::refusal_kind(r),
        }
    }
}

type Result<T> = std::result::Result<T, FileOpRefusal>;

fn io(e: impl std::fmt::Display) -> FileOpRefusal {
    FileOpRefusal::Refusal(Refusal::Io(e.to_string()))
}

/// Folders changed by creates, moves and removals, flushed together by `flush` (a folder's fsync
/// per change would cost one disk round trip per file).
#[derive(Debug, Default)]
pub struct Folders(std::collections::BTreeSet<Vec<u8>>);

impl Folders {
    fn add(&mut self, parts: &[&OsStr]) {
        self.0.insert(shown(parts).into_bytes());
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Flush the folders changed: an fsync each for a handful, else one `syncfs` of the archive's
/// file system.
pub fn flush(root: &Path, folders: &mut Folders) -> Result<()> {
    let dirs = std::mem::take(&mut folders.0);
    if dirs.is_empty() {
        return Ok(());
    }
    if dirs.len() > 4 {
        return rustix::fs::syncfs(open_root(root)?).map_err(io);
    }
    for d in dirs {
        let parts: Vec<&OsStr> = Path::new(OsStr::from_bytes(&d))
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n),
                _ => None,
            })
            .collect();
        if let Some(dir) = open_folders(root, &parts, None)? {
            rustix::fs::fsync(&dir).map_err(io)?;
        }
    }
    Ok(())
}

/// What is at a path now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Current {
    Absent,
    Present(Present),
}

/// A regular file as read: its bytes, hash, and what identifies this version of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Present {
    pub bytes: Vec<u8>,
    pub hash: [u8; 32],
    pub mode: u32,
    identity: (u64, i64, u64),
}

impl Current {
    pub fn hash(&self) -> Option<[u8; 32]> {
        match self {
            Current::Absent => None,
            Current::Present(p) => Some(p.hash),
        }
    }
}

/// The folders of `rel` (checked as a post path) and its file name.
fn split(rel: &[u8]) -> Result<(Vec<&OsStr>, &OsStr)> {
    crate::postfile::check_rel(rel)?;
    let mut parts: Vec<&OsStr> = Vec::new();
    for c in Path::new(OsStr::from_bytes(rel)).components() {
        match c {
            Component::Normal(n) => parts.push(n),
            _ => return Err(Refusal::BadPath.into()),
        }
    }
    let name = parts.pop().ok_or(Refusal::BadPath)?;
    Ok((parts, name))
}

/// A folder path (relative, plain components, none hidden) as the user names it for a move.
pub fn check_folder(folder: &[u8]) -> Result<()> {
    for c in Path::new(OsStr::from_bytes(folder)).components() {
        match c {
            Component::Normal(n) if n.as_bytes().first() == Some(&b'.') => {
                return Err(Refusal::NotAPost.into())
            }
            Component::Normal(_) | Component::CurDir => {}
            _ => return Err(Refusal::BadPath.into()),
        }
    }
    if folder.contains(&0) {
        return Err(Refusal::BadPath.into());
    }
    Ok(())
}

fn open_root(root: &Path) -> Result<OwnedFd> {
    rustix::fs::open(
        root,
        OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(io)
}

fn shown(parts: &[&OsStr]) -> String {
    let joined: Vec<u8> = parts
        .iter()
        .map(|p| p.as_bytes())
        .collect::<Vec<_>>()
        .join(&b'/');
    String::from_utf8_lossy(&joined).into_owned()
}

/// Open the folder `parts` below `dir`, never through a link. Missing folders are created when
/// `created` is given (their relative paths are appended, shallowest first); without it, a
/// missing folder gives None.
fn open_folders(
    root: &Path,
    parts: &[&OsStr],
    mut created: Option<&mut Vec<Vec<u8>>>,
) -> Result<Option<OwnedFd>> {
    let mut dir = open_root(root)?;
    for (i, part) in parts.iter().enumerate() {
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        let opened = match rustix::fs::openat(&dir, *part, flags, Mode::empty()) {
            Err(Errno::NOENT) => match created.as_deref_mut() {
                None => return Ok(None),
                Some(list) => {
                    match rustix::fs::mkdirat(&dir, *part, Mode::from_raw_mode(0o755)) {
                        Ok(()) => {
                            list.push(shown(&parts[..=i]).into_bytes());
                            let _ = rustix::fs::fsync(&dir);
                        }
                        Err(Errno::EXIST) => {}
                        Err(e) => return Err(io(e)),
                    }
                    rustix::fs::openat(&dir, *part, flags, Mode::empty())
                }
            },
            other => other,
        };
        dir = match opened {
            Ok(fd) => fd,
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let here = shown(&parts[..=i]);
                return Err(
                    match rustix::fs::statat(&dir, *part, AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) if is_link(st.st_mode) => FileOpRefusal::Link(here),
                        _ => FileOpRefusal::NotAFolder(here),
                    },
                );
            }
            Err(e) => return Err(io(e)),
        };
    }
    Ok(Some(dir))
}

fn is_link(mode: u32) -> bool {
    rustix::fs::FileType::from_raw_mode(mode) == rustix::fs::FileType::Symlink
}

// The `Stat` fields' types differ between targets and rustix backends.
#[allow(clippy::unnecessary_cast)]
fn identity(st: &rustix::fs::Stat) -> (u64, i64, u64) {
    (
        st.st_size as u64,
        (st.st_mtime as i64)
            .saturating_mul(1_000_000_000)
            .saturating_add(st.st_mtime_nsec as i64),
        st.st_ino as u64,
    )
}

/// Read `name` in `dir`: absent, or a regular file (never a link) within the size limit.
fn read_in(dir: &OwnedFd, name: &OsStr) -> Result<Current> {
    let flags = OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW | OFlags::NONBLOCK;
    let fd = match rustix::fs::openat(dir, name, flags, Mode::empty()) {
        Ok(fd) => fd,
        Err(Errno::NOENT) => return Ok(Current::Absent),
        Err(Errno::LOOP) => {
            return Err(FileOpRefusal::Link(
                String::from_utf8_lossy(name.as_bytes()).into_owned(),
            ))
        }
        Err(e) => return Err(FileOpRefusal::Refusal(Refusal::Unreadable(e.to_string()))),
    };
    let st = rustix::fs::fstat(&fd).map_err(io)?;
    if rustix::fs::FileType::from_raw_mode(st.st_mode) != rustix::fs::FileType::RegularFile {
        return Err(Refusal::NotAFile.into());
    }
    let max = crate::postfile::max_bytes();
    if st.st_size as u64 > max {
        return Err(Refusal::TooLarge(st.st_size as u64, max).into());
    }
    let mut bytes = Vec::with_capacity(st.st_size as usize);
    std::fs::File::from(fd)
        .take(max.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(|e| Refusal::Unreadable(e.to_string()))?;
    if bytes.len() as u64 > max {
        return Err(Refusal::TooLarge(bytes.len() as u64, max).into());
    }
    Ok(Current::Present(Present {
        hash: crate::files::hash(&bytes),
        bytes,
        mode: st.st_mode & 0o7777,
        identity: identity(&st),
    }))
}

/// What is at `rel` now, reached without following any link.
pub fn current(root: &Path, rel: &[u8]) -> Result<Current> {
    let (parts, name) = split(rel)?;
    match open_folders(root, &parts, None)? {
        None => Ok(Current::Absent),
        Some(dir) => read_in(&dir, name),
    }
}

/// The folders `create` would make for `rel` (missing ones, shallowest first); refuses a path
/// through a link or a file.
pub fn missing_folders(root: &Path, rel: &[u8]) -> Result<Vec<Vec<u8>>> {
    let (parts, _) = split(rel)?;
    let mut dir = open_root(root)?;
    for (i, part) in parts.iter().enumerate() {
        let flags = OFlags::DIRECTORY | OFlags::RDONLY | OFlags::CLOEXEC | OFlags::NOFOLLOW;
        dir = match rustix::fs::openat(&dir, *part, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => {
                return Ok((i..parts.len())
                    .map(|j| shown(&parts[..=j]).into_bytes())
                    .collect())
            }
            Err(Errno::LOOP | Errno::NOTDIR) => {
                let here = shown(&parts[..=i]);
                return Err(
                    match rustix::fs::statat(&dir, *part, AtFlags::SYMLINK_NOFOLLOW) {
                        Ok(st) if is_link(st.st_mode) => FileOpRefusal::Link(here),
                        _ => FileOpRefusal::NotAFolder(here),
                    },
                );
            }
            Err(e) => return Err(io(e)),
        };
    }
    Ok(Vec::new())
}

/// A short random name for a temporary file (`.shelfmark-XXXXXXXXXXXX.tmp`, which
/// `dotdir::is_temp_name` recognises).
fn temp_name(attempt: u32) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    let seed = format!(
        "{now}-{}-{}-{attempt}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    const ALNUM: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let h = crate::files::hash(seed.as_bytes());
    let mid: String = h
        .iter()
        .take(12)
        .map(|b| ALNUM[*b as usize % ALNUM.len()] as char)
        .collect();
    format!(".shelfmark-{mid}.tmp")
}

/// Put the file `tmp` of `from_dir` at `name` of `to_dir`, never over an existing file.
fn rename_noreplace(from_dir: &OwnedFd, tmp: &OsStr, to_dir: &OwnedFd, name: &OsStr) -> Result<()> {
    match rustix::fs::renameat_with(from_dir, tmp, to_dir, name, RenameFlags::NOREPLACE) {
        Ok(()) => Ok(()),
        Err(Errno::EXIST) => Err(FileOpRefusal::Exists),
        // File systems without RENAME_NOREPLACE: a hard link fails on an existing name too.
        Err(Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            match rustix::fs::linkat(from_dir, tmp, to_dir, name, AtFlags::empty()) {
                Ok(()) => rustix::fs::unlinkat(from_dir, tmp, AtFlags::empty()).map_err(io),
                Err(Errno::EXIST) => Err(FileOpRefusal::Exists),
                Err(e) => Err(io(e)),
            }
        }
        Err(e) => Err(io(e)),
    }
}

/// Create `rel` with `bytes` and `mode`, never over an existing file: written to a temporary
/// file in its folder, flushed, then renamed into place; its folder goes to `folders` (to flush).
/// Missing folders are created and appended to `created`.
pub fn create(
    root: &Path,
    rel: &[u8],
    bytes: &[u8],
    mode: u32,
    created: &mut Vec<Vec<u8>>,
    folders: &mut Folders,
) -> Result<()> {
    let (parts, name) = split(rel)?;
    let dir = open_folders(root, &parts, Some(created))?.ok_or(Refusal::Missing)?;
    create_in(&dir, name, bytes, mode)?;
    folders.add(&parts);
    Ok(())
}

fn create_in(dir: &OwnedFd, name: &OsStr, bytes: &[u8], mode: u32) -> Result<()> {
    if read_in(dir, name)? != Current::Absent {
        return Err(FileOpRefusal::Exists);
    }
    let mode = Mode::from_raw_mode(mode & 0o7777);
    let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
    let mut attempt = 0;
    let (tmp, fd) = loop {
        let tmp = temp_name(attempt);
        match rustix::fs::openat(dir, tmp.as_str(), flags, mode) {
            Ok(fd) => break (tmp, fd),
            Err(Errno::EXIST) if attempt < 8 => attempt += 1,
            Err(e) => return Err(io(e)),
        }
    };
    let written = (|| -> std::io::Result<()> {
        // The umask may have narrowed the mode.
        rustix::fs::fchmod(&fd, mode)?;
        let mut f = std::fs::File::from(fd);
        f.write_all(bytes)?;
        f.sync_all()
    })();
    let placed = written
        .map_err(io)
        .and_then(|()| rename_noreplace(dir, OsStr::new(&tmp), dir, name));
    if placed.is_err() {
        let _ = rustix::fs::unlinkat(dir, tmp.as_str(), AtFlags::empty());
    }
    placed
}

/// Check that `name` in `dir` is the version `expected`, and has not changed since it was read.
fn expect_in(dir: &OwnedFd, name: &OsStr, expected: &[u8; 32]) -> Result<Present> {
    let present = match read_in(dir, name)? {
        Current::Absent => return Err(Refusal::Missing.into()),
        Current::Present(p) if p.hash == *expected => p,
        Current::Present(_) => return Err(Refusal::Conflict.into()),
    };
    Ok(present)
}

fn still_same(dir: &OwnedFd, name: &OsStr, p: &Present) -> Result<()> {
    match rustix::fs::statat(dir, name, AtFlags::SYMLINK_NOFOLLOW) {
        Ok(st) if identity(&st) == p.identity && !is_link(st.st_mode) => Ok(()),
        Ok(_) => Err(Refusal::Conflict.into()),
        Err(Errno::NOENT) => Err(Refusal::Missing.into()),
        Err(e) => Err(io(e)),
    }
}

/// Move `from` to `to` (never over an existing file) while `from` still is `expected`. Missing
/// folders of `to` are created and appended to `created`; both folders go to `folders`.
pub fn rename(
    root: &Path,
    from: &[u8],
    to: &[u8],
    expected: &[u8; 32],
    created: &mut Vec<Vec<u8>>,
    folders: &mut Folders,
) -> Result<()> {
    let (from_parts, from_name) = split(from)?;
    let (to_parts, to_name) = split(to)?;
    let from_dir = open_folders(root, &from_parts, None)?.ok_or(Refusal::Missing)?;
    let present = expect_in(&from_dir, from_name, expected)?;
    let to_dir = open_folders(root, &to_parts, Some(created))?.ok_or(Refusal::Missing)?;
    if read_in(&to_dir, to_name)? != Current::Absent {
        return Err(FileOpRefusal::Exists);
    }
    still_same(&from_dir, from_name, &present)?;
    match rustix::fs::renameat_with(
        &from_dir,
        from_name,
        &to_dir,
        to_name,
        RenameFlags::NOREPLACE,
    ) {
        Ok(()) => {}
        Err(Errno::EXIST) => return Err(FileOpRefusal::Exists),
        // Another file system (a mount inside the archive), or no RENAME_NOREPLACE: a durable copy
        // first, then the original goes.
        Err(Errno::XDEV | Errno::INVAL | Errno::NOSYS | Errno::OPNOTSUPP) => {
            create_in(&to_dir, to_name, &present.bytes, present.mode)?;
            rustix::fs::fsync(&to_dir).map_err(io)?;
            still_same(&from_dir, from_name, &present)?;
            rustix::fs::unlinkat(&from_dir, from_name, AtFlags::empty()).map_err(io)?;
        }
        Err(e) => return Err(io(e)),
    }
    folders.add(&to_parts);
    folders.add(&from_parts);
    Ok(())
}

/// Remove `rel` while it still is `expected`; its folder goes to `folders`.
pub fn remove(root: &Path, rel: &[u8], expected: &[u8; 32], folders: &mut Folders) -> Result<()> {
    let (parts, name) = split(rel)?;
    let dir = open_folders(root, &parts, None)?.ok_or(Refusal::Missing)?;
    let present = expect_in(&dir, name, expected)?;
    still_same(&dir, name, &present)?;
    rustix::fs::unlinkat(&dir, name, AtFlags::empty()).map_err(io)?;
    folders.add(&parts);
    Ok(())
}

/// Remove the folders `dirs` (relative paths) that are empty, deepest first; others stay.
pub fn remove_empty_folders(root: &Path, dirs: &[Vec<u8>]) {
    let mut sorted: Vec<&Vec<u8>> = dirs.iter().collect();
    sorted.sort_by_key(|d| std::cmp::Reverse(d.iter().filter(|b| **b == b'/').count()));
    for d in sorted {
        if check_folder(d).is_err() || d.is_empty() {
            continue;
        }
        let parts: Vec<&OsStr> = Path::new(OsStr::from_bytes(d))
            .components()
            .filter_map(|c| match c {
                Component::Normal(n) => Some(n),
                _ => None,
            })
            .collect();
        let Some((name, parents)) = parts.split_last() else {
            continue;
        };
        if let Ok(Some(dir)) = open_folders(root, parents, None) {
            if rustix::fs::unlinkat(&dir, *name, AtFlags::REMOVEDIR).is_ok() {
                let _ = rustix::fs::fsync(dir.as_fd());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> (tempfile::TempDir, std::path::PathBuf) {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = d.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(r.join("a.md"), "A").unwrap_or_else(|e| panic!("{e}"));
        (d, r)
    }

    #[test]
    fn a_move_never_replaces_a_file_and_creates_its_folders() {
        let (_d, r) = archive();
        let h = crate::files::hash(b"A");
        let mut created = Vec::new();
        let mut fl = Folders::default();
        rename(&r, b"a.md", b"x/y/a.md", &h, &mut created, &mut fl)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(created, vec![b"x".to_vec(), b"x/y".to_vec()]);
        assert_eq!(current(&r, b"a.md"), Ok(Current::Absent));
        assert_eq!(
            current(&r, b"x/y/a.md").ok().and_then(|c| c.hash()),
            Some(h)
        );
        std::fs::write(r.join("a.md"), "B").unwrap_or_else(|e| panic!("{e}"));
        let mut more = Vec::new();
        assert_eq!(
            rename(&r, b"x/y/a.md", b"a.md", &h, &mut more, &mut fl),
            Err(FileOpRefusal::Exists)
        );
        assert_eq!(std::fs::read(r.join("a.md")).ok(), Some(b"B".to_vec()));
        // A stale expectation is a conflict.
        assert_eq!(
            remove(&r, b"a.md", &h, &mut fl),
            Err(FileOpRefusal::Refusal(Refusal::Conflict))
        );
        remove(&r, b"x/y/a.md", &h, &mut fl).unwrap_or_else(|e| panic!("{e}"));
        assert!(!fl.is_empty());
        flush(&r, &mut fl).unwrap_or_else(|e| panic!("{e}"));
        assert!(fl.is_empty());
        remove_empty_folders(&r, &created);
        assert!(!r.join("x").exists());
    }

    #[test]
    fn links_are_never_followed() {
        let (_d, r) = archive();
        let outside = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(outside.path(), r.join("out")).unwrap_or_else(|e| panic!("{e}"));
        std::os::unix::fs::symlink(r.join("a.md"), r.join("l.md"))
            .unwrap_or_else(|e| panic!("{e}"));
        let h = crate::files::hash(b"A");
        let mut created = Vec::new();
        let mut fl = Folders::default();
        assert!(matches!(
            rename(&r, b"a.md", b"out/a.md", &h, &mut created, &mut fl),
            Err(FileOpRefusal::Link(_))
        ));
        assert!(matches!(
            missing_folders(&r, b"out/z/a.md"),
            Err(FileOpRefusal::Link(_))
        ));
        assert!(matches!(
            remove(&r, b"l.md", &h, &mut fl),
            Err(FileOpRefusal::Link(_))
        ));
        assert!(matches!(
            create(&r, b"out/n.md", b"N", 0o644, &mut created, &mut fl),
            Err(FileOpRefusal::Link(_))
        ));
        assert_eq!(
            rename(&r, b"a.md", b".shelfmark/a.md", &h, &mut created, &mut fl),
            Err(FileOpRefusal::Refusal(Refusal::NotAPost))
        );
        assert!(created.is_empty());
        assert_eq!(
            std::fs::read_dir(outside.path()).map(|d| d.count()).ok(),
            Some(0)
        );
        assert!(r.join("a.md").exists());
    }

    #[test]
    fn create_is_exclusive_and_keeps_the_mode() {
        let (_d, r) = archive();
        let mut created = Vec::new();
        let mut fl = Folders::default();
        assert_eq!(
            create(&r, b"a.md", b"N", 0o644, &mut created, &mut fl),
            Err(FileOpRefusal::Exists)
        );
        create(&r, b"n/new.md", b"N", 0o600, &mut created, &mut fl)
            .unwrap_or_else(|e| panic!("{e}"));
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(r.join("n/new.md")).map(|m| m.permissions().mode() & 0o777);
        assert_eq!(mode.ok(), Some(0o600));
        let names: Vec<_> = std::fs::read_dir(r.join("n"))
            .map(|d| d.filter_map(|e| e.ok()).map(|e| e.file_name()).collect())
            .unwrap_or_default();
        assert_eq!(names.len(), 1, "{names:?}");
    }
}
