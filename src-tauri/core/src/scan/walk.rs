//! Find the post files of an archive: a parallel walk that skips `.git`, `node_modules`,
//! `.shelfmark` and other hidden entries, and judges every symlink instead of following it blindly.

use crate::postfile::is_post_name;
use crate::problem::{Problem, ProblemKind};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A candidate post file.
#[derive(Debug, Clone)]
pub struct Found {
    /// Path relative to the archive root, byte-exact (a million of these are held during a
    /// scan: the absolute path is made when the file is read, `Found::abs`).
    pub rel: Vec<u8>,
    pub size: u64,
    pub mtime_ns: i64,
}

impl Found {
    /// The file's path under `root` (the root the walk started from).
    pub fn abs(&self, root: &Path) -> PathBuf {
        use std::os::unix::ffi::OsStrExt;
        root.join(std::ffi::OsStr::from_bytes(&self.rel))
    }
}

/// What the walk saw: post files, and problems with paths that could not be walked.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<Found>,
    pub problems: Vec<(Vec<u8>, Problem)>,
}

impl Walked {
    /// The post file the walk found at `rel` (the files are sorted by path: `walk`).
    pub fn file(&self, rel: &[u8]) -> Option<&Found> {
        let i = self
            .files
            .binary_search_by(|f| f.rel.as_slice().cmp(rel))
            .ok()?;
        self.files.get(i)
    }
}

fn rel_bytes(root: &Path, path: &Path) -> Vec<u8> {
    path.strip_prefix(root)
        .unwrap_or(path)
        .as_os_str()
        .as_encoded_bytes()
        .to_vec()
}

pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos() as i64)
        .unwrap_or(0)
}

/// Walk `root` (already canonical). Links out of the archive are followed only if `follow_outside`.
pub fn walk(root: &Path, follow_outside: bool) -> Walked {
    let out = Mutex::new(Walked::default());
    let walker = ignore::WalkBuilder::new(root)
        .standard_filters(false)
        .hidden(true)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != "node_modules")
        .threads(2)
        .build_parallel();
    walker.run(|| {
        let out = &out;
        // Each thread collects on its own and merges once at the end: no lock in the hot loop.
        let mut local = LocalWalk {
            root,
            follow_outside,
            found: Walked::default(),
            out,
        };
        Box::new(move |entry| {
            local.visit(entry);
            ignore::WalkState::Continue
        })
    });
    let mut walked = out.into_inner().unwrap_or_else(|e| e.into_inner());
    // Paths are unique: an unstable sort gives the same order, faster.
    walked.files.sort_unstable_by(|a, b| a.rel.cmp(&b.rel));
    walked
}

struct LocalWalk<'a> {
    root: &'a Path,
    follow_outside: bool,
    found: Walked,
    out: &'a Mutex<Walked>,
}

impl Drop for LocalWalk<'_> {
    fn drop(&mut self) {
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        out.files.append(&mut self.found.files);
        out.problems.append(&mut self.found.problems);
    }
}

impl LocalWalk<'_> {
    fn visit(&mut self, entry: Result<ignore::DirEntry, ignore::Error>) {
        let entry = match entry {
            Ok(e) => e,
            Err(err) => {
                let path = error_path(&err)
                    .map(|p| rel_bytes(self.root, &p))
                    .unwrap_or_default();
                self.found.problems.push((
                    path,
                    Problem::new(ProblemKind::Unreadable, format!("cannot be read: {err}")),
                ));
                return;
            }
        };
        let path = entry.path();
        if entry.depth() == 0 {
            return;
        }
        if entry.path_is_symlink() {
            self.visit_symlink(path);
            return;
        }
        let Some(ft) = entry.file_type() else { return };
        if !ft.is_file() || !is_post_name(entry.file_name()) {
            return;
        }
        match entry.metadata() {
            Ok(meta) => self.found.files.push(Found {
                rel: rel_bytes(self.root, path),
                size: meta.len(),
                mtime_ns: mtime_ns(&meta),
            }),
            Err(err) => self.found.problems.push((
                rel_bytes(self.root, path),
                Problem::new(ProblemKind::Unreadable, format!("cannot be read: {err}")),
            )),
        }
    }

    fn visit_symlink(&mut self, path: &Path) {
        let rel = rel_bytes(self.root, path);
        let meta = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(err) => {
                // ELOOP: the link leads back into itself.
                let problem = if err.raw_os_error() == Some(40) {
                    Problem::new(
                        ProblemKind::SymlinkLoop,
                        "is a symlink loop and was skipped",
                    )
                } else if err.kind() == std::io::ErrorKind::NotFound {
                    let target = std::fs::read_link(path)
                        .map(|t| t.display().to_string())
                        .unwrap_or_default();
                    Problem::new(
                        ProblemKind::BrokenSymlink,
                        format!("is a symlink to {target}, which does not exist"),
                    )
                } else {
                    Problem::new(
                        ProblemKind::Unreadable,
                        format!("symlink cannot be followed: {err}"),
                    )
                };
                self.found.problems.push((rel, problem));
                return;
            }
        };
        let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
        if !target.starts_with(self.root) && !self.follow_outside {
            self.found.problems.push((
                rel,
                Problem::new(
                    ProblemKind::OutsideArchive,
                    format!(
                        "is a symlink to {}, outside the archive; not followed",
                        target.display()
                    ),
                ),
            ));
            return;
        }
        // Linked folders are not walked (they would index the same posts twice, or loop).
        let is_post = path.file_name().is_some_and(is_post_name);
        if let Ok(inside) = target.strip_prefix(self.root) {
            // A link inside the archive must lead to a post too (not `.env`, not `.git/…`).
            let target_rel = inside.as_os_str().as_encoded_bytes();
            if meta.is_file() && is_post && crate::postfile::check_rel(target_rel).is_err() {
                self.found.problems.push((
                    rel,
                    Problem::new(
                        ProblemKind::Unreadable,
                        format!(
                            "is a symlink to {}, which is not a post file (hidden, or not .md); not followed",
                            inside.display()
                        ),
                    ),
                ));
                return;
            }
        }
        if meta.is_file() && is_post {
            self.found.files.push(Found {
                rel,
                size: meta.len(),
                mtime_ns: mtime_ns(&meta),
            });
        }
    }
}

fn error_path(err: &ignore::Error) -> Option<PathBuf> {
    match err {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } => error_path(err),
        ignore::Error::WithLineNumber { err, .. } => error_path(err),
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}
