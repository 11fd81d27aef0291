//! The one gate for a post file named by anyone: the UI, the CLI, the index (a pre-built index
//! is untrusted too), a journal or a collection file. A path passes only if it names a post the
//! scanner would read: relative, made of plain components, none hidden (`.git`, `.env`,
//! `.shelfmark`), with a post extension; the real file behind it (symlinks are followed only
//! while they stay inside the archive) passes the same rules; and it is read only if it is a
//! regular file within the scanner's size limit (a FIFO or `/dev/zero` is never read).

use std::io::Read;
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

/// Why a post file was not read or written. Each names what the user can do about it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "changed on disk since Shelfmark read it; reload it, or redo the change on the new version"
    )]
    Conflict,
    #[error("is read-only; Shelfmark leaves read-only files alone (make it writable to edit it)")]
    ReadOnly,
    #[error("leads outside the archive ({0}); Shelfmark does not read or write there")]
    Outside(String),
    #[error("no longer exists")]
    Missing,
    #[error("is not a path inside the archive")]
    BadPath,
    #[error("is not a post file (Shelfmark only handles .md, .markdown and .mdown files outside hidden folders)")]
    NotAPost,
    #[error("is not a regular file; Shelfmark does not read it")]
    NotAFile,
    #[error("is {0} bytes, more than the {1} bytes Shelfmark reads for one post")]
    TooLarge(u64, u64),
    #[error("cannot be read: {0}")]
    Unreadable(String),
    #[error("could not be written: {0}")]
    Io(String),
}

/// File name extensions that are posts (any case).
const POST_EXTENSIONS: [&str; 3] = ["md", "markdown", "mdown"];

/// Whether a file name names a post (by its extension).
pub fn is_post_name(name: &std::ffi::OsStr) -> bool {
    let bytes = name.as_encoded_bytes();
    let Some(dot) = bytes.iter().rposition(|&b| b == b'.') else {
        return false;
    };
    let ext = &bytes[dot + 1..];
    POST_EXTENSIONS
        .iter()
        .any(|e| ext.eq_ignore_ascii_case(e.as_bytes()))
}

/// The size limit for reading one post (the scanner's default).
pub fn max_bytes() -> u64 {
    crate::post::ParseOptions::default().max_bytes
}

/// An archive-relative path that names a post, by its form alone.
pub fn check_rel(rel: &[u8]) -> Result<(), Refusal> {
    let path = Path::new(std::ffi::OsStr::from_bytes(rel));
    if rel.is_empty() || rel.contains(&0) {
        return Err(Refusal::BadPath);
    }
    let mut last = None;
    for c in path.components() {
        match c {
            Component::Normal(name) if name.as_bytes().first() == Some(&b'.') => {
                return Err(Refusal::NotAPost)
            }
            Component::Normal(name) => last = Some(name),
            _ => return Err(Refusal::BadPath),
        }
    }
    match last {
        Some(name) if is_post_name(name) => Ok(()),
        _ => Err(Refusal::NotAPost),
    }
}

/// The real file behind an archive-relative path (`root` is canonical), checked as above.
pub fn resolve(root: &Path, rel: &[u8]) -> Result<PathBuf, Refusal> {
    check_rel(rel)?;
    let full = root.join(Path::new(std::ffi::OsStr::from_bytes(rel)));
    let real = match std::fs::canonicalize(&full) {
        Ok(p) => p,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
        Err(e) => return Err(Refusal::Unreadable(e.to_string())),
    };
    let Ok(real_rel) = real.strip_prefix(root) else {
        return Err(Refusal::Outside(real.display().to_string()));
    };
    if real != full {
        check_rel(real_rel.as_os_str().as_bytes())?;
    }
    Ok(real)
}

/// Read the post at `rel`: resolved and checked as above, a regular file, at most `max` bytes.
/// Returns the real path and the bytes.
pub fn read(root: &Path, rel: &[u8], max: u64) -> Result<(PathBuf, Vec<u8>), Refusal> {
    let real = resolve(root, rel)?;
    let bytes = read_real(&real, max)?;
    Ok((real, bytes))
}

/// Read a resolved post file: opened without blocking (a FIFO swapped in cannot hang the reader)
/// and without following a link swapped in since it was resolved; regular files only.
pub fn read_real(real: &Path, max: u64) -> Result<Vec<u8>, Refusal> {
    read_regular(real, max, false)
}

/// Read a regular file of at most `max` bytes, opened without blocking (a FIFO cannot hang the
/// reader); `follow_links` false refuses a link at the last component.
pub fn read_regular(real: &Path, max: u64, follow_links: bool) -> Result<Vec<u8>, Refusal> {
    let io = |e: std::io::Error| Refusal::Unreadable(e.to_string());
    let f = match crate::dotdir::open_regular(
        real,
        std::fs::OpenOptions::new().read(true),
        follow_links,
    ) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(Refusal::Missing),
        // A link put in its place since it was resolved, or not a regular file.
        Err(e) if e.kind() == std::io::ErrorKind::InvalidInput => {
            return Err(match std::fs::symlink_metadata(real) {
                Ok(m) if m.file_type().is_symlink() => {
                    Refusal::Outside("a link put in its place".into())
                }
                _ => Refusal::NotAFile,
            })
        }
        Err(e) => return Err(io(e)),
    };
    let meta = f.metadata().map_err(io)?;
    if meta.len() > max {
        return Err(Refusal::TooLarge(meta.len(), max));
    }
    let mut out = Vec::with_capacity(meta.len() as usize);
    f.take(max.saturating_add(1))
        .read_to_end(&mut out)
        .map_err(io)?;
    if out.len() as u64 > max {
        return Err(Refusal::TooLarge(out.len() as u64, max));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn archive() -> (tempfile::TempDir, PathBuf) {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let r = d.path().canonicalize().unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(r.join("a.md"), "---\ntitle: A\n---\nbody")
            .unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(r.join(".env"), "SECRET=1").unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir(r.join("notes")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(r.join("notes/build.sh"), "echo hi").unwrap_or_else(|e| panic!("{e}"));
        std::fs::create_dir(r.join(".git")).unwrap_or_else(|e| panic!("{e}"));
        std::fs::write(r.join(".git/x.md"), "hook").unwrap_or_else(|e| panic!("{e}"));
        (d, r)
    }

    #[test]
    fn only_posts_the_scanner_would_read_pass() {
        let (_d, r) = archive();
        assert!(read(&r, b"a.md", 1000).is_ok());
        assert_eq!(read(&r, b".env", 1000).err(), Some(Refusal::NotAPost));
        assert_eq!(
            read(&r, b"notes/build.sh", 1000).err(),
            Some(Refusal::NotAPost)
        );
        assert_eq!(read(&r, b".git/x.md", 1000).err(), Some(Refusal::NotAPost));
        assert_eq!(
            read(&r, b"../../etc/passwd", 1000).err(),
            Some(Refusal::BadPath)
        );
        assert_eq!(read(&r, b"/etc/passwd", 1000).err(), Some(Refusal::BadPath));
        let len = std::fs::metadata(r.join("a.md"))
            .map(|m| m.len())
            .unwrap_or(0);
        assert_eq!(read(&r, b"a.md", 3).err(), Some(Refusal::TooLarge(len, 3)));
    }

    #[test]
    fn links_to_non_posts_fifos_and_devices_are_refused() {
        let (_d, r) = archive();
        std::os::unix::fs::symlink(r.join(".env"), r.join("env.md"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&r, b"env.md", 1000).err(), Some(Refusal::NotAPost));
        std::os::unix::fs::symlink("/dev/zero", r.join("zero.md"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            read(&r, b"zero.md", 1000),
            Err(Refusal::Outside(_))
        ));
        rustix::fs::mknodat(
            rustix::fs::CWD,
            r.join("fifo.md"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read(&r, b"fifo.md", 1000).err(), Some(Refusal::NotAFile));
        assert_eq!(
            read_real(Path::new("/dev/zero"), 1000).err(),
            Some(Refusal::NotAFile)
        );
    }
}
