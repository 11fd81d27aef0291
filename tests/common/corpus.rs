//! The real corpus (`../shared/corpus/real-dev`), when present, and copies of it: tests that need
//! it skip, saying so, when it is absent.

use super::index;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Instant;

pub fn corpus() -> Option<PathBuf> {
    // A worktree may sit elsewhere: `SHELFMARK_CORPUS` names the folder then.
    if let Some(p) = std::env::var_os("SHELFMARK_CORPUS").map(PathBuf::from) {
        return p.is_dir().then_some(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/real-dev");
    p.is_dir().then_some(p)
}

/// Copy a tree, making every copy writable by its owner (the corpus is read-only, and Shelfmark
/// leaves read-only files alone by design).
pub fn copy_writable(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("mkdir");
    for e in std::fs::read_dir(from).expect("read_dir").flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_writable(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).expect("copy");
        }
        let mode = std::fs::metadata(&dest).expect("meta").permissions().mode();
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(mode | 0o200))
            .expect("chmod u+w");
    }
}

/// Copy a tree as it is (permissions included).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            std::fs::copy(e.path(), &dest).unwrap();
        }
    }
}

/// A writable copy of the corpus in a temporary folder, indexed (all 3000 posts): (the temporary
/// folder, the archive in it, the corpus). None (after saying so) when the corpus is absent.
pub fn indexed_corpus_copy() -> Option<(tempfile::TempDir, PathBuf, PathBuf)> {
    let Some(src) = corpus() else {
        eprintln!("SKIPPED: corpus not found at ../shared/corpus/real-dev");
        return None;
    };
    let t = Instant::now();
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join("real-dev");
    copy_writable(&src, &dir);
    let s = index(&dir);
    assert_eq!(s["indexed"], 3000, "{s}");
    eprintln!("copied and indexed the corpus in {:.1?}", t.elapsed());
    Some((tmp, dir, src))
}
