//! Trees on disk: their files and folders, snapshots and hashes, to prove what changed and what
//! did not.

use super::{read, text};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Files and folders under `dir`, by relative path (must be UTF-8); panics on a symlink or any
/// other kind of entry (an export creates only folders and files).
pub fn walk(dir: &Path) -> (BTreeMap<String, PathBuf>, BTreeSet<String>) {
    let mut files = BTreeMap::new();
    let mut folders = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let path = e.path();
            let rel = path
                .strip_prefix(dir)
                .expect("inside")
                .to_str()
                .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
                .to_string();
            let t = e.file_type().expect("file type");
            if t.is_dir() {
                folders.insert(rel);
                stack.push(path);
            } else if t.is_file() {
                files.insert(rel, path);
            } else {
                panic!("{} is neither a file nor a folder", path.display());
            }
        }
    }
    (files, folders)
}

/// Every entry under `dir` (not following symlinks) with its kind, size, mtime and sha256; names
/// as bytes. Compared before and after to prove nothing changed.
pub type Snapshot = BTreeMap<Vec<u8>, (char, u64, SystemTime, String)>;

pub fn snapshot(dir: &Path, skip: &[&str]) -> Snapshot {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let path = e.path();
            let rel = path.strip_prefix(dir).expect("inside").as_os_str();
            if skip
                .iter()
                .any(|s| rel.as_bytes().starts_with(s.as_bytes()))
            {
                continue;
            }
            let m = std::fs::symlink_metadata(&path).expect("metadata");
            let kind = if m.is_dir() {
                stack.push(path.clone());
                'd'
            } else if m.is_symlink() {
                'l'
            } else {
                'f'
            };
            let hash = if kind == 'f' {
                sha256_hex(&read(&path))
            } else {
                String::new()
            };
            out.insert(
                rel.as_bytes().to_vec(),
                (kind, m.len(), m.modified().expect("mtime"), hash),
            );
        }
    }
    out
}

/// Paths whose entry differs between two snapshots (added, removed or changed), lossy.
pub fn differences(a: &Snapshot, b: &Snapshot) -> Vec<String> {
    let keys: BTreeSet<&Vec<u8>> = a.keys().chain(b.keys()).collect();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| text(k))
        .collect()
}

/// sha256 of each file, by path relative to the archive.
pub type Hashes = BTreeMap<String, [u8; 32]>;

/// sha256 of every file under `dir` but `.shelfmark/`, by relative path.
pub fn file_hashes(dir: &Path) -> Hashes {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read_dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".shelfmark") {
                continue;
            }
            if e.file_type().expect("file type").is_dir() {
                stack.push(p);
            } else {
                let rel = p
                    .strip_prefix(dir)
                    .expect("inside")
                    .to_string_lossy()
                    .into_owned();
                out.insert(rel, Sha256::digest(read(&p)).into());
            }
        }
    }
    out
}

/// One sha256 for the whole tree (paths and contents).
pub fn tree_hash(files: &Hashes) -> String {
    let mut h = Sha256::new();
    for (path, digest) in files {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(digest);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

pub fn changed_files(a: &Hashes, b: &Hashes) -> Vec<String> {
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

pub fn assert_tree_is(dir: &Path, start: &Hashes, when: &str) {
    let now = file_hashes(dir);
    let differ = changed_files(start, &now);
    let (new, changed): (Vec<&String>, Vec<&String>) =
        differ.iter().partition(|p| !start.contains_key(*p));
    assert!(
        differ.is_empty() && tree_hash(&now) == tree_hash(start),
        "{when}: the tree's sha256 differs from the start: {} files changed (e.g. {:?}), {} files \
         that were not there (e.g. {:?})",
        changed.len(),
        changed.iter().take(3).collect::<Vec<_>>(),
        new.len(),
        new.iter().take(3).collect::<Vec<_>>()
    );
}

/// Every file's bytes under `dir` but `.shelfmark/`, by path (as bytes); with `links`, each
/// symlink's target too (as its bytes). Compared before and after to prove nothing changed.
pub fn tree_bytes(dir: &Path, links: bool) -> BTreeMap<Vec<u8>, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.file_name().is_some_and(|n| n == ".shelfmark") {
                continue;
            }
            let ft = e.file_type().expect("file type");
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_file() {
                out.insert(p.as_os_str().as_bytes().to_vec(), read(&p));
            } else if links && ft.is_symlink() {
                let target = std::fs::read_link(&p).expect("read link");
                out.insert(
                    p.as_os_str().as_bytes().to_vec(),
                    target.as_os_str().as_bytes().to_vec(),
                );
            }
        }
    }
    out
}
