//! Portability: this checker's own reading of Windows' (and macOS's) naming rules.

use std::collections::HashMap;

/// Why `rel` (a `/`-separated relative path) would not work on Windows, if it would not.
pub fn not_portable(rel: &str) -> Option<String> {
    if rel.is_empty() {
        return Some("an empty path".into());
    }
    if rel.starts_with('/') {
        return Some(format!("{rel:?} is absolute"));
    }
    for c in rel.split('/') {
        if c.is_empty() || c == "." || c == ".." {
            return Some(format!("{rel:?} has the component {c:?}"));
        }
        if let Some(ch) = c
            .chars()
            .find(|ch| "<>:\"\\|?*".contains(*ch) || ch.is_control())
        {
            return Some(format!("{c:?} holds {ch:?}"));
        }
        if c.ends_with('.') || c.ends_with(' ') {
            return Some(format!("{c:?} ends with a dot or a space"));
        }
        let stem = c
            .split('.')
            .next()
            .unwrap_or("")
            .trim_end_matches(' ')
            .to_ascii_uppercase();
        let numbered = ["COM", "LPT"].iter().any(|p| {
            stem.strip_prefix(p).is_some_and(|n| {
                [
                    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³",
                ]
                .contains(&n)
            })
        });
        if numbered || ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"].contains(&stem.as_str()) {
            return Some(format!("{c:?} is a reserved device name"));
        }
        if c.len() > 255 || c.encode_utf16().count() > 255 {
            return Some(format!("{c:?} is {} bytes long", c.len()));
        }
        if !unicode_normalization::is_nfc(c) {
            return Some(format!("{c:?} is not NFC"));
        }
    }
    None
}

/// Two names equal ignoring case, as Windows (NTFS upcases) or macOS (APFS folds) may compare
/// them: equal lower-cased or upper-cased.
pub fn case_keys(s: &str) -> [String; 2] {
    [s.to_lowercase(), s.to_uppercase()]
}

/// Pairs of paths that would be the same file (or a file and a folder) ignoring case.
pub fn case_collisions(files: &[&str]) -> Vec<String> {
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut out = Vec::new();
    for f in files {
        for k in case_keys(f) {
            if let Some(other) = seen.insert(k, f.to_string()) {
                if other != *f {
                    out.push(format!("{other:?} and {f:?}"));
                }
            }
        }
    }
    let mut folders: HashMap<String, String> = HashMap::new();
    for f in files {
        let parts: Vec<&str> = f.split('/').collect();
        for n in 1..parts.len() {
            let folder = parts[..n].join("/");
            for k in case_keys(&folder) {
                folders.insert(k, folder.clone());
            }
        }
    }
    for f in files {
        for k in case_keys(f) {
            if let Some(folder) = folders.get(&k) {
                out.push(format!("the file {f:?} and the folder {folder:?}"));
            }
        }
    }
    out.sort();
    out.dedup();
    out
}
