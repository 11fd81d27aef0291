//! The edit surface's wire types (requests, previews, outcomes, history), shared with the UI
//! through ts-rs, and what an operation hands back to its caller: the files it wrote.

use super::journal::OpState;
use crate::error::Result;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One change to a post's front matter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "op", rename_all = "kebab-case")]
#[ts(export)]
pub enum EditOp {
    /// Set a key to a value (added at the end of the front matter when missing).
    Set {
        key: String,
        #[ts(type = "unknown")]
        value: Value,
    },
    /// Remove a key and its lines.
    Unset { key: String },
    /// Add items to a list key (tags, categories), skipping those already there.
    AddItems { key: String, items: Vec<String> },
    /// Remove items from a list key.
    RemoveItems { key: String, items: Vec<String> },
    /// Replace any of `from` by `to` in a list key, in place (rename and merge).
    RenameItems {
        key: String,
        from: Vec<String>,
        to: String,
    },
    /// Find and replace inside a text key (or each item of a list key).
    Replace {
        key: String,
        find: String,
        replace: String,
        #[serde(default)]
        regex: bool,
    },
    /// Replace the whole front matter text (the raw YAML editor). Must be the only op.
    Raw { yaml: String },
    /// Clean a text key (or each text item of a list key), computed for each file: a value
    /// changes only where the cleaning is certain (see `edit::clean`).
    Clean { key: String, how: CleanHow },
    /// Set `date` from another source in the file, computed for each file: the file name's
    /// `YYYY-MM-DD-` prefix (the day; a time and zone the date had are kept) or the epoch comment
    /// at the top of the body (written in the zone and style the date had). A file without that
    /// source is skipped with a reason.
    DateFrom { source: DateSource },
}

/// How `EditOp::Clean` cleans a value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum CleanHow {
    /// `&#38;` → `&`, `&quot;` → `"` (only references closed by `;`).
    DecodeEntities,
    /// `<b>x</b>` → `x` (only formatting tags; a value whose tags carry links or images is left).
    StripMarkup,
    /// Leading and trailing whitespace removed, runs of spaces and non-breaking spaces made one
    /// space (a thin or hair space alone stays; an address only loses the spaces at its ends;
    /// values on several lines are left).
    Trim,
    /// Text that was UTF-8 read as Latin-1 or Windows-1252 (`Ã©` → `é`), only where every
    /// suspect run decodes cleanly.
    FixMojibake,
}

/// Where `EditOp::DateFrom` takes the date from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum DateSource {
    FileName,
    Epoch,
}

impl EditOp {
    /// The op as the history keeps it: a raw edit without its YAML (it can be long, and the
    /// diff shows it).
    pub fn described(&self) -> EditOp {
        match self {
            EditOp::Raw { .. } => EditOp::Raw {
                yaml: String::new(),
            },
            op => op.clone(),
        }
    }
}

/// Which files an edit applies to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[serde(tag = "kind", rename_all = "kebab-case")]
#[ts(export)]
pub enum EditTarget {
    /// Posts by path (relative, or `hex:` bytes). `hashes`, when given, holds for each path the
    /// hash of the version the user saw: a file that differs now is a conflict.
    Paths {
        paths: Vec<String>,
        #[serde(default)]
        #[ts(optional)]
        hashes: Option<Vec<String>>,
    },
    /// Every post the query matches.
    Query { query: String },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub struct EditRequest {
    pub target: EditTarget,
    pub ops: Vec<EditOp>,
    /// Words for the history (`tag add x`); made from the ops when absent.
    #[serde(default)]
    #[ts(optional)]
    pub label: Option<String>,
}

/// A file that was not changed, and why.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct Skipped {
    pub path: String,
    pub reason: String,
    /// `conflict`, `read-only`, `outside`, `missing`, `encoding`, `front-matter`, `io`, `edit`.
    pub kind: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct FileDiff {
    pub path: String,
    /// Unified diff of the file (front matter lines only change).
    pub diff: String,
}

/// What an edit would do: nothing is written.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct EditPreview {
    pub label: String,
    /// Files that would change.
    pub changes: u64,
    /// Files the edit leaves as they are (the change is already there).
    pub unchanged: u64,
    pub skipped: Vec<Skipped>,
    /// Every file that would change.
    pub paths: Vec<String>,
    /// Diffs of the first files (up to `limit`).
    pub diffs: Vec<FileDiff>,
}

/// What an applied edit (or undo, redo, recovery) did.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct EditOutcome {
    /// The journal entry (none when nothing was written).
    pub op_id: Option<u64>,
    pub label: String,
    pub written: u64,
    pub unchanged: u64,
    pub skipped: Vec<Skipped>,
    pub cancelled: bool,
}

/// What pruning the journal did.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct PruneOutcome {
    pub removed: u64,
    pub freed_bytes: u64,
    pub kept: u64,
    pub kept_bytes: u64,
}

/// One operation in the history.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct HistoryEntry {
    pub id: u64,
    /// In English words (the CLI's); a UI says `ops` in its own language.
    pub label: String,
    /// What the operation did, as its edit's ops (a raw edit without its YAML); empty for
    /// operations journaled before they were kept.
    pub ops: Vec<EditOp>,
    /// The file, when it changed one.
    pub path: Option<String>,
    pub created: String,
    pub state: OpState,
    pub files: u64,
    /// Bytes the journal keeps for it.
    pub journal_bytes: u64,
}

/// What one past operation changed: its files, and the diffs of the first of them.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct OperationDetail {
    pub id: u64,
    pub label: String,
    /// Every file it wrote (relative paths).
    pub paths: Vec<String>,
    /// Diffs (before → after) of the first files, each cut to a bounded length.
    pub diffs: Vec<FileDiff>,
}

#[derive(Debug, Clone, Copy, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct EditProgress {
    pub done: u64,
    pub total: u64,
}

/// How `recover` settles an interrupted operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum Recovery {
    /// Write the rest of the files, as the operation meant to.
    Finish,
    /// Put every file back as it was before the operation began.
    RollBack,
}

/// A file an operation wrote: its path, and when only its front matter changed (same title and
/// body as before), the hash of the version the index held, so its text need not be indexed
/// again. The caller brings the index and collections up to date from these.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edited {
    pub path: Vec<u8>,
    pub same_text_as: Option<[u8; 32]>,
}

/// The result of an operation that writes files, and the files it wrote (under every path the
/// index knows them by). The files are there whether or not the operation succeeded as a whole:
/// an undo that could not move every file still wrote some.
#[must_use = "the written files must reach the index and the collections"]
#[derive(Debug)]
pub struct Wrote<T> {
    pub result: Result<T>,
    pub files: Vec<Edited>,
}

impl<T> Wrote<T> {
    pub(super) fn nothing(result: Result<T>) -> Wrote<T> {
        Wrote {
            result,
            files: Vec::new(),
        }
    }
}

/// Diffs a preview shows by default.
pub const PREVIEW_DIFFS: usize = 20;
