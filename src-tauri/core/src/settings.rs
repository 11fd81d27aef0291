//! The archive's settings, kept in `.shelfmark/settings.json`: plain JSON a user may edit (or
//! share), read like every file under `.shelfmark/` (no links, a size limit). Unknown keys are
//! ignored and missing ones take their defaults; a file that cannot be read is reported and the
//! defaults apply.

use serde::{Deserialize, Serialize};
use std::path::Path;

const FILE: &str = "settings.json";

/// How much of the undo journal is kept: at most `keep_operations` operations and `max_bytes` on
/// disk. The newest operation is always kept and an interrupted one is never removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Retention {
    pub keep_operations: u64,
    pub max_bytes: u64,
}

impl Default for Retention {
    fn default() -> Retention {
        Retention {
            keep_operations: 50,
            max_bytes: 512 * 1024 * 1024,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    pub journal: Retention,
}

/// The settings of the archive at `root`, and why they could not be read (defaults then apply).
pub fn load(root: &Path) -> (Settings, Option<String>) {
    let path = root.join(crate::dotdir::DOT_DIR).join(FILE);
    if std::fs::symlink_metadata(&path).is_err() {
        return (Settings::default(), None);
    }
    match crate::dotdir::read_limited(&path, 1024 * 1024)
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| format!("{}: {e}", path.display())))
    {
        Ok(s) => (s, None),
        Err(e) => (Settings::default(), Some(e)),
    }
}

pub fn save(root: &Path, settings: &Settings) -> std::io::Result<()> {
    let dir = crate::dotdir::dir(root, &[])?;
    let mut json = serde_json::to_vec_pretty(settings).map_err(std::io::Error::other)?;
    json.push(b'\n');
    crate::dotdir::replace(&dir.join(FILE), &json, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_bad_files_fall_back_to_defaults() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(load(d.path()), (Settings::default(), None));
        let s = Settings {
            journal: Retention {
                keep_operations: 3,
                max_bytes: 1000,
            },
        };
        save(d.path(), &s).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(load(d.path()).0, s);
        std::fs::write(
            d.path().join(".shelfmark/settings.json"),
            "{\"journal\": 7}",
        )
        .unwrap_or_else(|e| panic!("{e}"));
        let (s, err) = load(d.path());
        assert_eq!(s, Settings::default());
        assert!(err.is_some_and(|e| e.contains("settings.json")));
    }
}
