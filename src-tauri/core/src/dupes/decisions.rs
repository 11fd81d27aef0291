//! The user's decisions about duplicates, kept in `.shelfmark/decisions.json` (plain JSON, so it
//! can be read, diffed and shared, and it survives an index rebuild). Today one kind: "these
//! posts are not duplicates of each other". A post is named by its content hash and its path: a
//! decision applies to a post that still has either (an edit changes the hash, a move the path).
//!
//! The file is untrusted: read through `dotdir` (no links, a size limit); a file that is not a
//! decisions file is an error naming it, and is never overwritten.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub const FILE: &str = "decisions.json";
/// The largest decisions file read.
const MAX_BYTES: u64 = 64 * 1024 * 1024;

/// One post as a decision names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct DecisionPost {
    /// Relative to the archive (for people; a moved post is still found by its hash).
    pub path: String,
    /// BLAKE3 of the file when the decision was made (hex).
    pub hash: String,
}

/// "These posts are not duplicates of each other."
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct Decision {
    pub posts: Vec<DecisionPost>,
    /// When it was made (RFC 3339), for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub at: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DecisionsFile {
    #[serde(default)]
    pub not_duplicates: Vec<Decision>,
}

pub fn path_of(root: &Path) -> PathBuf {
    root.join(crate::dotdir::DOT_DIR).join(FILE)
}

/// Why the decisions file cannot be used.
#[derive(Debug)]
pub struct BadFile {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// The archive's decisions (none when there is no file).
pub fn load(root: &Path) -> Result<DecisionsFile, BadFile> {
    let path = path_of(root);
    if std::fs::symlink_metadata(&path).is_err() {
        return Ok(DecisionsFile::default());
    }
    let bad = |source: std::io::Error| BadFile {
        path: path.clone(),
        source,
    };
    let bytes = crate::dotdir::read_limited(&path, MAX_BYTES).map_err(bad)?;
    let not_ours = |why: String| {
        bad(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "it is not a Shelfmark decisions file ({why}); fix it or move it away (Shelfmark leaves it as it is)"
            ),
        ))
    };
    // An object, and nothing else serde would take for one (an array).
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(v) if v.is_object() => serde_json::from_value(v).map_err(|e| not_ours(e.to_string())),
        Ok(_) => Err(not_ours("it is not a JSON object".into())),
        Err(e) => Err(not_ours(e.to_string())),
    }
}

pub fn save(root: &Path, file: &DecisionsFile) -> Result<(), BadFile> {
    let bad = |source: std::io::Error| BadFile {
        path: path_of(root),
        source,
    };
    let dir = crate::dotdir::dir(root, &[]).map_err(bad)?;
    let mut json = serde_json::to_vec_pretty(file).map_err(|e| bad(std::io::Error::other(e)))?;
    json.push(b'\n');
    crate::dotdir::replace(&dir.join(FILE), &json, true).map_err(bad)
}

/// The decisions as a lookup: which posts (by hash or path) were declared apart.
#[derive(Default)]
pub struct Apart {
    /// Decisions (their indexes) by the hashes (lowercase hex) and the paths they name: one
    /// lookup per post, however many decisions are on file.
    by_hash: HashMap<String, Vec<u32>>,
    by_path: HashMap<String, Vec<u32>>,
}

impl Apart {
    pub fn new(file: &DecisionsFile) -> Apart {
        let mut apart = Apart {
            by_hash: HashMap::new(),
            by_path: HashMap::new(),
        };
        for (i, d) in file.not_duplicates.iter().enumerate() {
            let i = i as u32;
            for p in &d.posts {
                apart
                    .by_hash
                    .entry(p.hash.to_ascii_lowercase())
                    .or_default()
                    .push(i);
                apart.by_path.entry(p.path.clone()).or_default().push(i);
            }
        }
        apart
    }

    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty() && self.by_path.is_empty()
    }

    /// The decisions that name a post with this hash (hex) or path, in order, each once.
    pub fn decisions_of(&self, hash: &str, path: &str) -> Vec<u32> {
        let mut out: Vec<u32> = [self.by_hash.get(hash), self.by_path.get(path)]
            .into_iter()
            .flatten()
            .flatten()
            .copied()
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decisions_round_trip_and_a_bad_file_is_named_and_kept() {
        let d = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(load(d.path()).ok(), Some(DecisionsFile::default()));
        let file = DecisionsFile {
            not_duplicates: vec![Decision {
                posts: vec![
                    DecisionPost {
                        path: "a.md".into(),
                        hash: "ab".into(),
                    },
                    DecisionPost {
                        path: "b.md".into(),
                        hash: "cd".into(),
                    },
                ],
                at: None,
            }],
        };
        save(d.path(), &file).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(load(d.path()).ok(), Some(file.clone()));
        let apart = Apart::new(&file);
        assert_eq!(apart.decisions_of("ab", "x.md"), vec![0]);
        assert_eq!(apart.decisions_of("zz", "b.md"), vec![0]);
        assert!(apart.decisions_of("zz", "c.md").is_empty());
        let p = path_of(d.path());
        std::fs::write(&p, "{\"not_duplicates\": 3}").unwrap_or_else(|e| panic!("{e}"));
        let e = load(d.path()).err().unwrap_or_else(|| panic!("loaded"));
        assert_eq!(e.path, p);
        assert!(e
            .source
            .to_string()
            .contains("not a Shelfmark decisions file"));
    }
}
