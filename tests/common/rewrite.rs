//! Rewritten copies: a copy differs from its source only in the front matter lines of the keys
//! set or removed.

use super::{read, text};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// The source file of a manifest row: its path as written (a lossy name matches any file with
/// that lossy name and the same bytes, `want`).
pub fn source_bytes(archive: &Path, source: &str, want: Option<&[u8]>) -> Option<Vec<u8>> {
    if let Ok(b) = std::fs::read(archive.join(source)) {
        return Some(b);
    }
    // A name that is not UTF-8: the manifest holds it lossily.
    let (dir, _) = source.rsplit_once('/').unwrap_or(("", source));
    let d = archive.join(dir);
    for e in std::fs::read_dir(&d).ok()?.flatten() {
        let rel = if dir.is_empty() {
            text(e.file_name().as_bytes())
        } else {
            format!("{dir}/{}", text(e.file_name().as_bytes()))
        };
        if rel == source {
            let b = read(&e.path());
            if want.is_none_or(|w| w == b) {
                return Some(b);
            }
        }
    }
    None
}

/// Lines with their endings.
pub fn lines(b: &[u8]) -> Vec<&[u8]> {
    b.split_inclusive(|&c| c == b'\n').collect()
}

pub fn trim_eol(l: &[u8]) -> &[u8] {
    let l = l.strip_suffix(b"\n").unwrap_or(l);
    l.strip_suffix(b"\r").unwrap_or(l)
}

/// The index of the line that closes the front matter (`---` after the opening `---`).
pub fn front_matter_end(ls: &[&[u8]]) -> Option<usize> {
    let first = ls.first()?;
    let first = trim_eol(first);
    let first = first.strip_prefix(b"\xef\xbb\xbf").unwrap_or(first);
    if first != b"---" {
        return None;
    }
    ls.iter()
        .enumerate()
        .skip(1)
        .find(|(_, l)| matches!(trim_eol(l), b"---" | b"..."))
        .map(|(i, _)| i)
}

/// A rewritten copy is its source with the lines of `removed_key` gone from the front matter and
/// `added_line` added to it, every other byte the same.
pub fn rewrite_problem(
    src: &[u8],
    got: &[u8],
    added_line: &str,
    removed_key: &str,
) -> Option<String> {
    let sl = lines(src);
    let Some(end) = front_matter_end(&sl) else {
        return Some("the source has no front matter".into());
    };
    let key = format!("{removed_key}:");
    let mut want: Vec<&[u8]> = Vec::new();
    let mut in_removed = false;
    for (i, l) in sl.iter().enumerate() {
        if i > 0 && i < end {
            if l.starts_with(key.as_bytes()) {
                in_removed = true;
                continue;
            }
            if in_removed && (l.starts_with(b" ") || l.starts_with(b"\t") || l.starts_with(b"- ")) {
                continue;
            }
            in_removed = false;
        }
        want.push(l);
    }
    let gl = lines(got);
    let Some(gend) = front_matter_end(&gl) else {
        return Some("the copy has no front matter".into());
    };
    let added: Vec<usize> = (1..gend)
        .filter(|&i| trim_eol(gl[i]) == added_line.as_bytes())
        .collect();
    if added.len() != 1 {
        return Some(format!("{} lines {added_line:?}", added.len()));
    }
    let rest: Vec<&[u8]> = gl
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != added[0])
        .map(|(_, l)| *l)
        .collect();
    (rest.concat() != want.concat()).then(|| {
        let first = rest
            .iter()
            .zip(&want)
            .position(|(a, b)| a != b)
            .unwrap_or(rest.len().min(want.len()));
        format!(
            "differs beyond the set and removed keys at line {first}: {:?} / {:?}",
            rest.get(first).map(|l| text(l)),
            want.get(first).map(|l| text(l))
        )
    })
}
