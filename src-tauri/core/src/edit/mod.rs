//! Editing front matter without damaging files: byte-stable splicing (`splice`), one safe write
//! path (`write`), and an undo journal (`journal`). An operation is planned (every file read, its
//! new bytes computed and checked), recorded in the journal, written, and then the index is
//! updated from the written files themselves.
//!
//! Only clean UTF-8 YAML front matter is edited; other encodings and TOML are refused with a
//! reason, never converted. A file without front matter gets one when a key is added.

pub mod journal;
#[cfg(test)]
mod proptests;
mod splice;
pub mod write;

use crate::error::{Error, Result};
use crate::post::{self, FrontMatterKind};
use journal::{Journal, OpRecord, OpState};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use write::Refusal;

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
    pub label: String,
    pub created: String,
    pub state: OpState,
    pub files: u64,
    /// Bytes the journal keeps for it.
    pub journal_bytes: u64,
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
    fn nothing(result: Result<T>) -> Wrote<T> {
        Wrote {
            result,
            files: Vec::new(),
        }
    }
}

/// Files written per flush.
const BATCH: usize = 512;
/// Diffs a preview shows by default.
pub const PREVIEW_DIFFS: usize = 20;

/// Compute the new bytes of one file. Ok(None): the file already is as asked.
pub fn edit_bytes(bytes: &[u8], ops: &[EditOp]) -> Result<Option<Vec<u8>>, (String, &'static str)> {
    let layout = post::layout(bytes).ok_or(("is not a text file".to_string(), "front-matter"))?;
    if !layout.exact_utf8 {
        return Err((
            format!(
                "is encoded as {}; Shelfmark only edits UTF-8 files and will not convert it",
                layout.encoding.as_str()
            ),
            "encoding",
        ));
    }
    if layout.unclosed {
        return Err((
            "has front matter that is never closed; fix it by hand first".into(),
            "front-matter",
        ));
    }
    let eol: &'static str = if layout.crlf { "\r\n" } else { "\n" };
    // The raw editor replaces the front matter as a whole: it is the way to mend front matter that
    // cannot be read, or that uses YAML the field editor does not model.
    if let [EditOp::Raw { yaml }] = ops {
        if layout.kind == FrontMatterKind::Toml {
            return Err((
                "has TOML front matter (`+++`), which Shelfmark does not edit yet".into(),
                "front-matter",
            ));
        }
        return raw_edit(bytes, &layout, yaml, eol);
    }
    if let Some(err) = &layout.error {
        return Err((
            format!("has front matter Shelfmark cannot read: {err} (mend it in the raw YAML view)"),
            "front-matter",
        ));
    }
    if layout.kind == FrontMatterKind::Toml {
        return Err((
            "has TOML front matter (`+++`), which Shelfmark does not edit yet".into(),
            "front-matter",
        ));
    }
    let Some(spans) = layout.key_spans.clone() else {
        return Err((
            "uses YAML that Shelfmark cannot edit field by field (anchors, flow mappings, repeated \
             keys or unusual layout); edit it in the raw YAML view or by hand"
                .into(),
            "front-matter",
        ));
    };
    let text = std::str::from_utf8(bytes).map_err(|_| ("is not UTF-8".to_string(), "encoding"))?;

    if ops.iter().any(|op| matches!(op, EditOp::Raw { .. })) {
        return Err((
            "a raw front matter edit cannot be combined with others".into(),
            "edit",
        ));
    }

    // The intended values, key by key, in the order first touched.
    let mut fields = layout.fields.clone();
    let mut touched: Vec<(String, bool)> = Vec::new();
    let touch = |key: &str, terms: bool, touched: &mut Vec<(String, bool)>| match touched
        .iter_mut()
        .find(|(k, _)| k == key)
    {
        Some(t) => t.1 = t.1 && terms,
        None => touched.push((key.to_string(), terms)),
    };
    for op in ops {
        match op {
            EditOp::Set { key, value } => {
                check_key(key)?;
                fields.insert(key.clone(), value.clone());
                touch(key, false, &mut touched);
            }
            EditOp::Unset { key } => {
                fields.shift_remove(key);
                touch(key, false, &mut touched);
            }
            EditOp::AddItems { key, items } => {
                check_key(key)?;
                let mut list = terms(&fields, key);
                for item in items.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
                    if !list.iter().any(|t| t == item) {
                        list.push(item.to_string());
                    }
                }
                set_terms(&mut fields, key, list);
                touch(key, true, &mut touched);
            }
            EditOp::RemoveItems { key, items } => {
                if fields.contains_key(key) {
                    let list = terms(&fields, key)
                        .into_iter()
                        .filter(|t| !items.contains(t))
                        .collect();
                    set_terms(&mut fields, key, list);
                    touch(key, true, &mut touched);
                }
            }
            EditOp::RenameItems { key, from, to } => {
                let to = to.trim();
                if fields.contains_key(key) && !to.is_empty() {
                    let mut list: Vec<String> = Vec::new();
                    for t in terms(&fields, key) {
                        let t = if from.contains(&t) { to.to_string() } else { t };
                        if !list.contains(&t) {
                            list.push(t);
                        }
                    }
                    set_terms(&mut fields, key, list);
                    touch(key, true, &mut touched);
                }
            }
            EditOp::Replace {
                key,
                find,
                replace,
                regex,
            } => {
                let re = if *regex {
                    Some(
                        regex::Regex::new(find)
                            .map_err(|e| (format!("bad pattern: {e}"), "edit"))?,
                    )
                } else {
                    None
                };
                let apply = |s: &str| match &re {
                    Some(re) => re.replace_all(s, replace.as_str()).into_owned(),
                    None if find.is_empty() => s.to_string(),
                    None => s.replace(find.as_str(), replace),
                };
                let new = match fields.get(key) {
                    Some(Value::String(s)) => Some(Value::String(apply(s))),
                    Some(Value::Array(items)) => Some(Value::Array(
                        items
                            .iter()
                            .map(|v| match v {
                                Value::String(s) => Value::String(apply(s)),
                                other => other.clone(),
                            })
                            .collect(),
                    )),
                    _ => None,
                };
                if let Some(new) = new {
                    fields.insert(key.clone(), new);
                    touch(key, false, &mut touched);
                }
            }
            EditOp::Raw { .. } => {}
        }
    }
    // Keys whose value ends up as it was are not rewritten.
    touched.retain(|(key, as_terms)| {
        let old = layout.fields.get(key);
        let new = fields.get(key);
        if *as_terms {
            let t = |v: Option<&Value>| v.map(|v| post::terms_of(key, v));
            !(old.is_some() && t(old) == t(new))
        } else {
            old != new
        }
    });
    if touched.is_empty() {
        return Ok(None);
    }
    // What the file must read back to: keys left alone keep their old values exactly (an item op
    // that changed no term must not turn `[2021]` into `["2021"]`), in the old order; new keys
    // follow in the order they are appended below.
    let is_touched = |key: &str| touched.iter().any(|(k, _)| k == key);
    let mut intended = serde_json::Map::new();
    for (key, old) in &layout.fields {
        match fields.get(key) {
            Some(new) if is_touched(key) => intended.insert(key.clone(), new.clone()),
            None if is_touched(key) => None,
            _ => intended.insert(key.clone(), old.clone()),
        };
    }
    for (key, _) in &touched {
        if let (false, Some(new)) = (layout.fields.contains_key(key), fields.get(key)) {
            intended.insert(key.clone(), new.clone());
        }
    }
    let fields = intended;

    let style = splice::list_style(text, &spans, eol);
    // Replacements and removals inside the front matter, by position; additions at its end.
    let mut pieces: Vec<(usize, usize, String)> = Vec::new();
    let mut appended = String::new();
    for (key, as_terms) in &touched {
        let span = spans.iter().find(|s| &s.key == key);
        match (span, fields.get(key)) {
            (Some(span), None) => pieces.push((
                span.start,
                removal_end(text, span.end, layout.front_matter_end),
                String::new(),
            )),
            (None, None) => {}
            (span, Some(value)) => {
                let rendered = splice::render_key(text, span, key, value, *as_terms, &style);
                match span {
                    Some(span) => pieces.push((span.start, span.end, rendered)),
                    None => appended.push_str(&rendered),
                }
            }
        }
    }
    pieces.sort_by_key(|p| p.0);
    let mut out = Vec::with_capacity(bytes.len() + appended.len() + 64);
    let mut pos = 0;
    for (start, end, new) in &pieces {
        out.extend_from_slice(bytes.get(pos..*start).unwrap_or_default());
        out.extend_from_slice(new.as_bytes());
        pos = *end;
    }
    let fm_end = layout.front_matter_end;
    if !appended.is_empty() {
        if layout.kind == FrontMatterKind::None {
            out.extend_from_slice(bytes.get(pos..fm_end).unwrap_or_default());
            out.extend_from_slice(format!("---{eol}{appended}---{eol}").as_bytes());
        } else {
            out.extend_from_slice(bytes.get(pos..fm_end).unwrap_or_default());
            // The last line of the front matter may lack its line ending only if it is empty.
            out.extend_from_slice(appended.as_bytes());
        }
        pos = fm_end;
    }
    out.extend_from_slice(bytes.get(pos..).unwrap_or_default());

    verify(bytes, &layout, &out, &fields, &touched)?;
    Ok(Some(out))
}

/// A removed key takes the indented comment lines right after it along (`  # note` under a
/// list): left behind, they would join the value of the key before if that is a block scalar
/// (`body: |`).
fn removal_end(text: &str, end: usize, limit: usize) -> usize {
    let mut end = end;
    while let Some(rest) = text.get(end..limit).filter(|r| !r.is_empty()) {
        let line = rest.split_inclusive('\n').next().unwrap_or(rest);
        let content = line.trim_start_matches([' ', '\t']);
        if content.len() == line.len() || !content.starts_with('#') {
            break;
        }
        end += line.len();
    }
    end
}

fn check_key(key: &str) -> Result<(), (String, &'static str)> {
    if key.trim().is_empty() || key.contains(['\n', '\r']) {
        return Err((format!("`{key}` is not a usable field name"), "edit"));
    }
    if key.trim() == "<<" {
        return Err((
            "`<<` is YAML's merge key, not a field name Shelfmark can write".into(),
            "edit",
        ));
    }
    Ok(())
}

fn terms(fields: &serde_json::Map<String, Value>, key: &str) -> Vec<String> {
    fields
        .get(key)
        .map(|v| post::terms_of(key, v))
        .unwrap_or_default()
}

fn set_terms(fields: &mut serde_json::Map<String, Value>, key: &str, list: Vec<String>) {
    fields.insert(
        key.to_string(),
        Value::Array(list.into_iter().map(Value::String).collect()),
    );
}

/// The whole front matter replaced by the user's YAML (which must be a mapping).
fn raw_edit(
    bytes: &[u8],
    layout: &post::Layout,
    yaml: &str,
    eol: &str,
) -> Result<Option<Vec<u8>>, (String, &'static str)> {
    let mut yaml = yaml.to_string();
    if !yaml.is_empty() && !yaml.ends_with('\n') {
        yaml.push_str(eol);
    }
    let check = format!("---\n{yaml}---\n");
    let parsed = post::layout(check.as_bytes()).ok_or(("is not text".to_string(), "edit"))?;
    if let Some(err) = parsed.error {
        return Err((format!("the new front matter is not valid: {err}"), "edit"));
    }
    let mut out = Vec::with_capacity(bytes.len() + yaml.len());
    if layout.kind == FrontMatterKind::None {
        out.extend_from_slice(bytes.get(..layout.bom_len).unwrap_or_default());
        out.extend_from_slice(format!("---{eol}{yaml}---{eol}").as_bytes());
        out.extend_from_slice(bytes.get(layout.bom_len..).unwrap_or_default());
    } else {
        out.extend_from_slice(bytes.get(..layout.front_matter_start).unwrap_or_default());
        out.extend_from_slice(yaml.as_bytes());
        out.extend_from_slice(bytes.get(layout.front_matter_end..).unwrap_or_default());
    }
    if out == bytes {
        return Ok(None);
    }
    let new = post::layout(&out).ok_or(("the result is not text".to_string(), "edit"))?;
    if new.error.is_some() || new.fields != parsed.fields || !same_body(bytes, layout, &out, &new) {
        return Err((
            "the new front matter would not read back as written".into(),
            "edit",
        ));
    }
    Ok(Some(out))
}

fn same_body(old: &[u8], old_layout: &post::Layout, new: &[u8], new_layout: &post::Layout) -> bool {
    old.get(old_layout.body_offset..) == new.get(new_layout.body_offset..)
}

/// The edited file must read back to exactly the intended values, with the body untouched.
fn verify(
    old: &[u8],
    old_layout: &post::Layout,
    new: &[u8],
    intended: &serde_json::Map<String, Value>,
    touched: &[(String, bool)],
) -> Result<(), (String, &'static str)> {
    let fail = |why: String| {
        Err((
            format!("could not be edited in place without touching other fields ({why}); nothing was written"),
            "edit",
        ))
    };
    let Some(layout) = post::layout(new) else {
        return fail("the result is not text".into());
    };
    if let Some(err) = layout.error {
        return fail(err);
    }
    if !same_body(old, old_layout, new, &layout) {
        return fail("the body would change".into());
    }
    if !layout.fields.keys().eq(intended.keys()) {
        return fail("the keys would change".into());
    }
    for (key, want) in intended {
        let got = layout.fields.get(key);
        let as_terms = touched.iter().any(|(k, t)| k == key && *t);
        let ok = if as_terms {
            got.map(|g| post::terms_of(key, g)) == Some(post::terms_of(key, want))
        } else {
            got == Some(want)
        };
        if !ok {
            return fail(format!("`{key}` would not read back as intended"));
        }
    }
    Ok(())
}

/// A value given as YAML text (`[a, b]`, `true`, `2021-01-01`, `"quoted"`), read with the same
/// bounded parser as front matter.
pub fn parse_value(text: &str) -> Result<Value, String> {
    if text.contains(['\n', '\r']) {
        return Err("a value must be on one line".into());
    }
    let doc = format!("---\nv: {text}\n---\n");
    let layout = post::layout(doc.as_bytes()).ok_or("is not text")?;
    if let Some(err) = layout.error {
        return Err(err);
    }
    layout
        .fields
        .get("v")
        .cloned()
        .ok_or_else(|| "is not a value".to_string())
}

/// A short description of what the ops do, for the history.
pub fn describe(ops: &[EditOp]) -> String {
    let list = |items: &[String]| items.join(", ");
    ops.iter()
        .map(|op| match op {
            EditOp::Set { key, value } => format!("set {key} = {value}"),
            EditOp::Unset { key } => format!("unset {key}"),
            EditOp::AddItems { key, items } => format!("add {key} {}", list(items)),
            EditOp::RemoveItems { key, items } => format!("remove {key} {}", list(items)),
            EditOp::RenameItems { key, from, to } => format!("rename {key} {} → {to}", list(from)),
            EditOp::Replace {
                key, find, replace, ..
            } => format!("replace in {key}: {find} → {replace}"),
            EditOp::Raw { .. } => "edit front matter".into(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// A file an edit will write.
pub struct Planned {
    pub rel: Vec<u8>,
    pub real: PathBuf,
    pub before: Vec<u8>,
    pub after: Vec<u8>,
}

pub struct Plan {
    pub files: Vec<Planned>,
    /// Paths that lead to a file already in `files` (a symlink inside the archive and its
    /// target): written once, indexed under every path.
    pub aliases: Vec<(Vec<u8>, PathBuf)>,
    pub unchanged: u64,
    pub skipped: Vec<Skipped>,
}

fn skipped(rel: &[u8], reason: String, kind: &str) -> Skipped {
    Skipped {
        path: String::from_utf8_lossy(rel).into_owned(),
        reason,
        kind: kind.into(),
    }
}

fn refusal_kind(r: &Refusal) -> &'static str {
    match r {
        Refusal::Conflict => "conflict",
        Refusal::ReadOnly => "read-only",
        Refusal::Outside(_) => "outside",
        Refusal::Missing => "missing",
        Refusal::BadPath => "outside",
        Refusal::NotAPost | Refusal::NotAFile => "not-a-post",
        Refusal::TooLarge(..) => "too-large",
        Refusal::Io(_) | Refusal::Unreadable(_) => "io",
    }
}

/// A file to edit: its relative path, and the hash of the version the user saw, if known.
pub type TargetFile = (Vec<u8>, Option<[u8; 32]>);

/// Read every target file and compute its new bytes (in parallel).
pub fn plan(root: &Path, targets: &[TargetFile], ops: &[EditOp]) -> Plan {
    enum One {
        Write(Planned),
        Same,
        Skip(Skipped),
    }
    let results: Vec<One> = targets
        .par_iter()
        .map(|(rel, seen)| {
            let (real, bytes) = match crate::postfile::read(root, rel, crate::postfile::max_bytes())
            {
                Ok(r) => r,
                Err(e) => return One::Skip(skipped(rel, e.to_string(), refusal_kind(&e))),
            };
            if std::fs::metadata(&real).is_ok_and(|m| m.permissions().readonly()) {
                let e = Refusal::ReadOnly;
                return One::Skip(skipped(rel, e.to_string(), refusal_kind(&e)));
            }
            if seen.is_some_and(|h| h != write::hash(&bytes)) {
                return One::Skip(skipped(rel, Refusal::Conflict.to_string(), "conflict"));
            }
            match edit_bytes(&bytes, ops) {
                Ok(Some(after)) => One::Write(Planned {
                    rel: rel.clone(),
                    real,
                    before: bytes,
                    after,
                }),
                Ok(None) => One::Same,
                Err((reason, kind)) => One::Skip(skipped(rel, reason, kind)),
            }
        })
        .collect();
    let mut plan = Plan {
        files: Vec::new(),
        aliases: Vec::new(),
        unchanged: 0,
        skipped: Vec::new(),
    };
    let mut reals = std::collections::HashSet::new();
    for r in results {
        match r {
            One::Write(p) if !reals.insert(p.real.clone()) => plan.aliases.push((p.rel, p.real)),
            One::Write(p) => plan.files.push(p),
            One::Same => plan.unchanged += 1,
            One::Skip(s) => plan.skipped.push(s),
        }
    }
    plan
}

/// Unified diff of one planned file.
pub fn diff(p: &Planned) -> FileDiff {
    let path = String::from_utf8_lossy(&p.rel).into_owned();
    let before = String::from_utf8_lossy(&p.before);
    let after = String::from_utf8_lossy(&p.after);
    let diff = similar::TextDiff::from_lines(before.as_ref(), after.as_ref())
        .unified_diff()
        .context_radius(1)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string();
    FileDiff { path, diff }
}

pub fn preview(label: String, plan: &Plan, limit: usize) -> EditPreview {
    EditPreview {
        label,
        changes: plan.files.len() as u64,
        unchanged: plan.unchanged,
        skipped: plan.skipped.clone(),
        paths: plan
            .files
            .iter()
            .map(|p| String::from_utf8_lossy(&p.rel).into_owned())
            .collect(),
        diffs: plan.files.iter().take(limit).map(diff).collect(),
    }
}

/// The editor of one archive: applies plans through the journal, and undoes and redoes them.
pub struct Editor<'a> {
    root: &'a Path,
    journal: Journal,
}

/// A failure to write the journal (its lock, records, state).
fn write_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Write {
        path: path.to_path_buf(),
        source,
    }
}

fn io_err(path: &Path) -> impl Fn(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

impl<'a> Editor<'a> {
    pub fn new(root: &'a Path) -> Editor<'a> {
        Editor {
            root,
            journal: Journal::new(root),
        }
    }

    /// The operation that stopped half-way, if any.
    pub fn interrupted(&self) -> Option<OpRecord> {
        self.journal
            .list()
            .0
            .into_iter()
            .find(|op| op.state.interrupted())
    }

    pub fn history(&self) -> Vec<HistoryEntry> {
        self.journal
            .list()
            .0
            .into_iter()
            .map(|op| HistoryEntry {
                journal_bytes: self.journal.size_of(op.id),
                id: op.id,
                label: op.label,
                created: op.created,
                state: op.state,
                files: op.files.len() as u64,
            })
            .collect()
    }

    /// Journal and write a plan. Files that changed since they were planned, or cannot be
    /// written, are reported and the rest carry on. Cancelling stops between batches; what was
    /// written stays written and undoable. The caller updates the index from the written files
    /// (and should hold the archive's scan lock meanwhile, so its watcher does not scan them).
    pub fn apply(
        &self,
        label: &str,
        plan: Plan,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
    ) -> Wrote<EditOutcome> {
        let mut files = Vec::new();
        let result = self.apply_inner(label, plan, progress, cancel, &mut files);
        Wrote { result, files }
    }

    fn apply_inner(
        &self,
        label: &str,
        plan: Plan,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
        files: &mut Vec<Edited>,
    ) -> Result<EditOutcome> {
        let _lock = self.journal.lock().map_err(write_err(self.journal.dir()))?;
        if let Some(op) = self.interrupted() {
            return Err(Error::Interrupted {
                id: op.id,
                label: op.label,
            });
        }
        let mut outcome = EditOutcome {
            op_id: None,
            label: label.to_string(),
            written: 0,
            unchanged: plan.unchanged,
            skipped: plan.skipped,
            cancelled: false,
        };
        if plan.files.is_empty() {
            return Ok(outcome);
        }
        let images: Vec<(&[u8], &[u8], &[u8])> = plan
            .files
            .iter()
            .map(|p| (p.rel.as_slice(), p.before.as_slice(), p.after.as_slice()))
            .collect();
        let mut op = self
            .journal
            .begin(label, &images)
            .map_err(write_err(self.journal.dir()))?;
        drop(images);
        outcome.op_id = Some(op.id);
        let plan_aliases = plan.aliases;
        let moves: Vec<Move> = plan
            .files
            .into_par_iter()
            .map(|p| Move {
                expected: write::hash(&p.before),
                same_text: same_text(&p.before, &p.after),
                rel: p.rel,
                real: p.real,
                bytes: p.after,
            })
            .collect();
        let (written, refused, cancelled) = self.write_all(moves, progress, cancel);
        outcome.cancelled = cancelled;
        outcome.skipped.extend(refused);
        outcome.written = written.len() as u64;
        let keep: std::collections::HashSet<Vec<u8>> =
            written.iter().map(|w| w.edited.path.clone()).collect();
        *files = self.with_aliases(written, &plan_aliases);
        let dir = self.journal.dir().to_path_buf();
        self.journal
            .keep_files(&mut op, |f| keep.contains(f.rel().as_slice()))
            .map_err(write_err(&dir))?;
        if op.files.is_empty() {
            self.journal.remove(op.id);
            outcome.op_id = None;
        } else {
            self.journal
                .set_state(&mut op, OpState::Applied)
                .map_err(write_err(&dir))?;
        }
        // The journal stays bounded: the oldest operations beyond the archive's rule go.
        self.journal
            .prune(crate::settings::load(self.root).0.journal);
        Ok(outcome)
    }

    /// Stage and commit files in batches. Returns (written files, refusals, cancelled).
    fn write_all(
        &self,
        moves: Vec<Move>,
        progress: &dyn Fn(EditProgress),
        cancel: &AtomicBool,
    ) -> (Vec<Written>, Vec<Skipped>, bool) {
        let total = moves.len() as u64;
        let mut written = Vec::with_capacity(moves.len());
        let mut refused = Vec::new();
        let mut done = 0u64;
        progress(EditProgress { done, total });
        for batch in moves.chunks(BATCH) {
            if cancel.load(Ordering::Relaxed) {
                return (written, refused, true);
            }
            let staged: Vec<(usize, std::result::Result<write::Staged, Refusal>)> = batch
                .par_iter()
                .enumerate()
                .map(|(i, m)| (i, write::stage(&m.real, &m.expected, &m.bytes)))
                .collect();
            let mut ok = Vec::new();
            let mut ok_idx = Vec::new();
            for (i, s) in staged {
                match s {
                    Ok(s) => {
                        ok.push(s);
                        ok_idx.push(i);
                    }
                    Err(e) => refused.push(skipped(&batch[i].rel, e.to_string(), refusal_kind(&e))),
                }
            }
            for (i, r) in ok_idx.into_iter().zip(write::commit(ok)) {
                match r {
                    Ok(real) => written.push(Written {
                        edited: Edited {
                            path: batch[i].rel.clone(),
                            same_text_as: batch[i].same_text.then_some(batch[i].expected),
                        },
                        real,
                    }),
                    Err(e) => refused.push(skipped(&batch[i].rel, e.to_string(), refusal_kind(&e))),
                }
            }
            done += batch.len() as u64;
            progress(EditProgress { done, total });
            pause_for_crash_tests();
        }
        (written, refused, false)
    }

    /// Move the files of `op` to its before-images (`to_after` false) or after-images, file by
    /// file: only files that are in the other image's state are written; files changed by someone
    /// else are reported and left alone.
    fn move_files(
        &self,
        op: &OpRecord,
        to_after: bool,
        files: &mut Vec<Edited>,
    ) -> Result<(u64, Vec<Skipped>)> {
        let dir = self.journal.dir().to_path_buf();
        let targets = self.journal.images(op, to_after).map_err(io_err(&dir))?;
        enum Judged {
            Move(Move),
            Already(Written),
            Skip(Skipped),
        }
        let judged: Vec<Judged> = op
            .files
            .par_iter()
            .zip(targets)
            .map(|(f, bytes)| {
                let rel = f.rel();
                let (from_hash, to_hash) = if to_after {
                    (&f.before_hash, &f.after_hash)
                } else {
                    (&f.after_hash, &f.before_hash)
                };
                let (real, current) =
                    match crate::postfile::read(self.root, &rel, crate::postfile::max_bytes()) {
                        Ok(r) => r,
                        Err(e) => {
                            return Judged::Skip(skipped(&rel, e.to_string(), refusal_kind(&e)))
                        }
                    };
                let hash = write::hash(&current);
                match journal::to_hex(&hash) {
                    h if &h == to_hash => Judged::Already(Written {
                        edited: Edited {
                            path: rel,
                            same_text_as: None,
                        },
                        real,
                    }),
                    h if &h == from_hash => Judged::Move(Move {
                        same_text: same_text(&current, &bytes),
                        expected: hash,
                        rel,
                        real,
                        bytes,
                    }),
                    _ => Judged::Skip(skipped(
                        &rel,
                        "was changed outside Shelfmark after this operation; left as it is".into(),
                        "conflict",
                    )),
                }
            })
            .collect();
        let mut moves = Vec::new();
        let mut skipped_files = Vec::new();
        // Files already as wanted are indexed too: after a crash, those written before it never
        // reached the index.
        let mut already = Vec::new();
        for j in judged {
            match j {
                Judged::Move(m) => moves.push(m),
                Judged::Already(w) => already.push(w),
                Judged::Skip(s) => skipped_files.push(s),
            }
        }
        let never = AtomicBool::new(false);
        let (mut written, refused, _) = self.write_all(moves, &|_| {}, &never);
        skipped_files.extend(refused);
        let count = (written.len() + already.len()) as u64;
        written.extend(already);
        *files = self.with_aliases(written, &[]);
        Ok((count, skipped_files))
    }

    /// The written files under every path the index knows them by: as given, as the real file
    /// (when the given path is a symlink inside the archive), and the `aliases` of the plan.
    fn with_aliases(&self, written: Vec<Written>, aliases: &[(Vec<u8>, PathBuf)]) -> Vec<Edited> {
        let mut seen: std::collections::HashSet<Vec<u8>> =
            written.iter().map(|w| w.edited.path.clone()).collect();
        let mut out = Vec::with_capacity(written.len());
        let mut by_real: std::collections::HashMap<PathBuf, Option<[u8; 32]>> = Default::default();
        for Written { edited, real } in written {
            if let Ok(rel) = real.strip_prefix(self.root) {
                let rel = rel.as_os_str().as_encoded_bytes().to_vec();
                if seen.insert(rel.clone()) {
                    out.push(Edited {
                        path: rel,
                        same_text_as: edited.same_text_as,
                    });
                }
            }
            by_real.insert(real, edited.same_text_as);
            out.push(edited);
        }
        for (alias, real) in aliases {
            if let Some(same) = by_real.get(real) {
                if seen.insert(alias.clone()) {
                    out.push(Edited {
                        path: alias.clone(),
                        same_text_as: *same,
                    });
                }
            }
        }
        out
    }

    /// Temporary files a killed process left beside the files of `op` (`.shelfmark-XXXX.tmp`).
    fn remove_stale_temps(&self, op: &OpRecord) {
        let mut by_dir: std::collections::HashMap<PathBuf, Vec<std::ffi::OsString>> =
            Default::default();
        for f in &op.files {
            let Ok(real) = write::resolve(self.root, &f.rel()) else {
                continue;
            };
            if let (Some(dir), Some(name)) = (real.parent(), real.file_name()) {
                let mut prefix = std::ffi::OsString::from(".");
                prefix.push(name);
                prefix.push(".shelfmark-");
                by_dir.entry(dir.to_path_buf()).or_default().push(prefix);
            }
        }
        for (dir, prefixes) in by_dir {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let name = entry.file_name();
                let bytes = name.as_encoded_bytes();
                // Today's short random names, and the `.NAME.shelfmark-PID-N.tmp` of older versions.
                let legacy = bytes.ends_with(b".tmp")
                    && prefixes
                        .iter()
                        .any(|p| bytes.starts_with(p.as_encoded_bytes()));
                if legacy || crate::dotdir::is_temp_name(bytes) {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
    }

    fn settle(
        &self,
        op: OpRecord,
        to_after: bool,
        passing: OpState,
        end: OpState,
    ) -> Wrote<EditOutcome> {
        let mut files = Vec::new();
        let result = self.settle_inner(op, to_after, passing, end, &mut files);
        Wrote { result, files }
    }

    fn settle_inner(
        &self,
        mut op: OpRecord,
        to_after: bool,
        passing: OpState,
        end: OpState,
        files: &mut Vec<Edited>,
    ) -> Result<EditOutcome> {
        if op.state.interrupted() {
            self.remove_stale_temps(&op);
        }
        let dir = self.journal.dir().to_path_buf();
        self.journal
            .set_state(&mut op, passing)
            .map_err(write_err(&dir))?;
        let (written, skipped) = self.move_files(&op, to_after, files)?;
        // A file that should have moved but could not still carries the other state: the step is
        // not done. It stays open (interrupted), so `undo`/`recover` can try again, and the
        // caller is told which files and why; never "done".
        let failed: Vec<&Skipped> = skipped.iter().filter(|s| s.kind != "conflict").collect();
        if !failed.is_empty() {
            return Err(Error::Incomplete {
                action: if to_after { "redo" } else { "undo" },
                done: written,
                files: failed
                    .iter()
                    .map(|s| format!("{} ({})", s.path, s.reason))
                    .collect(),
            });
        }
        self.journal
            .set_state(&mut op, end)
            .map_err(write_err(&dir))?;
        Ok(EditOutcome {
            op_id: Some(op.id),
            label: op.label,
            written,
            unchanged: 0,
            skipped,
            cancelled: false,
        })
    }

    /// Remove the oldest operations beyond `rule` (default: the archive's settings).
    pub fn prune(&self, rule: Option<journal::Retention>) -> Result<PruneOutcome> {
        let _lock = self.journal.lock().map_err(write_err(self.journal.dir()))?;
        let rule = rule.unwrap_or_else(|| crate::settings::load(self.root).0.journal);
        let (removed, freed_bytes) = self.journal.prune(rule);
        let (ops, _) = self.journal.list();
        Ok(PruneOutcome {
            removed,
            freed_bytes,
            kept: ops.len() as u64,
            kept_bytes: ops.iter().map(|op| self.journal.size_of(op.id)).sum(),
        })
    }

    /// Undo the last applied operation; an interrupted one is rolled back completely instead.
    pub fn undo(&self) -> Wrote<EditOutcome> {
        self.settle_one(|| {
            if let Some(op) = self.interrupted() {
                return Ok((op, false, OpState::Undoing, OpState::Undone));
            }
            let (ops, _) = self.journal.list();
            let op = ops
                .into_iter()
                .rev()
                .find(|op| op.state == OpState::Applied)
                .ok_or_else(|| Error::Edit("there is nothing to undo".into()))?;
            Ok((op, false, OpState::Undoing, OpState::Undone))
        })
    }

    /// Redo the operation undone last.
    pub fn redo(&self) -> Wrote<EditOutcome> {
        self.settle_one(|| {
            if let Some(op) = self.interrupted() {
                return Err(Error::Interrupted {
                    id: op.id,
                    label: op.label,
                });
            }
            let (ops, _) = self.journal.list();
            let op = ops
                .into_iter()
                .find(|op| op.state == OpState::Undone)
                .ok_or_else(|| Error::Edit("there is nothing to redo".into()))?;
            Ok((op, true, OpState::Redoing, OpState::Applied))
        })
    }

    /// Settle an interrupted operation: finish what it was doing, or roll it back.
    pub fn recover(&self, how: Recovery) -> Wrote<EditOutcome> {
        self.settle_one(|| {
            let op = self
                .interrupted()
                .ok_or_else(|| Error::Edit("no operation was interrupted".into()))?;
            // Which way the interrupted step was going.
            let forward = matches!(op.state, OpState::Pending | OpState::Redoing);
            let to_after = forward == (how == Recovery::Finish);
            let passing = op.state;
            let end = if to_after {
                OpState::Applied
            } else {
                OpState::Undone
            };
            Ok((op, to_after, passing, end))
        })
    }

    /// Under the journal's lock, choose an operation and a direction, and settle it.
    fn settle_one(
        &self,
        choose: impl FnOnce() -> Result<(OpRecord, bool, OpState, OpState)>,
    ) -> Wrote<EditOutcome> {
        let _lock = match self.journal.lock() {
            Ok(lock) => lock,
            Err(e) => return Wrote::nothing(Err(write_err(self.journal.dir())(e))),
        };
        match choose() {
            Ok((op, to_after, passing, end)) => self.settle(op, to_after, passing, end),
            Err(e) => Wrote::nothing(Err(e)),
        }
    }
}

/// `SHELFMARK_EDIT_BATCH_PAUSE_MS`: wait this long after each written batch. Only for tests that
/// kill the process in the middle of an operation (tests/edit.rs); unset, it costs nothing.
fn pause_for_crash_tests() {
    static PAUSE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let pause = PAUSE.get_or_init(|| {
        std::env::var("SHELFMARK_EDIT_BATCH_PAUSE_MS")
            .ok()
            .and_then(|v| v.parse().ok())
    });
    if let Some(ms) = pause {
        std::thread::sleep(std::time::Duration::from_millis(*ms));
    }
}

/// Whether two versions of a file differ only in front matter that leaves the title as it was
/// (so the index keeps the post's text and postings).
fn same_text(before: &[u8], after: &[u8]) -> bool {
    match (post::layout(before), post::layout(after)) {
        (Some(a), Some(b)) => {
            a.fields.get("title") == b.fields.get("title") && same_body(before, &a, after, &b)
        }
        _ => false,
    }
}

/// A file written (or found already as wanted), under the path it was asked for and as the real
/// file behind that path.
struct Written {
    edited: Edited,
    real: PathBuf,
}

struct Move {
    same_text: bool,
    rel: Vec<u8>,
    real: PathBuf,
    expected: [u8; 32],
    bytes: Vec<u8>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit(file: &str, ops: &[EditOp]) -> String {
        match edit_bytes(file.as_bytes(), ops) {
            Ok(Some(b)) => String::from_utf8(b).unwrap_or_default(),
            Ok(None) => file.to_string(),
            Err((e, _)) => format!("ERR {e}"),
        }
    }
    fn set(k: &str, v: Value) -> EditOp {
        EditOp::Set {
            key: k.into(),
            value: v,
        }
    }
    fn add(k: &str, items: &[&str]) -> EditOp {
        EditOp::AddItems {
            key: k.into(),
            items: items.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn one_field_changes_and_every_other_byte_stays() {
        let f = "\u{feff}---\r\ntitle: \"Old\"\r\n# a comment\r\n\r\ndate: 2020-01-02 10:00:00 +0800\r\ntags: [ a ]\r\n---\r\n<p>body</p>\r\n";
        let out = edit(f, &[set("title", json!("New"))]);
        assert_eq!(out, f.replace("\"Old\"", "\"New\""));
        let out = edit(f, &[add("tags", &["b"])]);
        assert_eq!(out, f.replace("[ a ]", "[ a, b ]"));
        let out = edit(f, &[set("author", json!("Me"))]);
        assert_eq!(
            out,
            f.replace("tags: [ a ]\r\n", "tags: [ a ]\r\nauthor: Me\r\n")
        );
        let out = edit(f, &[EditOp::Unset { key: "date".into() }]);
        assert_eq!(out, f.replace("date: 2020-01-02 10:00:00 +0800\r\n", ""));
    }

    #[test]
    fn saving_without_a_change_writes_nothing() {
        let f = "---\ntitle: x\ntags: [a]\n---\nbody";
        assert_eq!(
            edit_bytes(f.as_bytes(), &[set("title", json!("x"))]),
            Ok(None)
        );
        assert_eq!(edit_bytes(f.as_bytes(), &[add("tags", &["a"])]), Ok(None));
        assert_eq!(
            edit_bytes(
                f.as_bytes(),
                &[EditOp::RemoveItems {
                    key: "tags".into(),
                    items: vec!["z".into()]
                }]
            ),
            Ok(None)
        );
    }

    #[test]
    fn rename_and_merge_keep_the_position() {
        let f = "---\ntags:\n  - a\n  - b\n  - c\n---\n";
        let op = |from: &[&str], to: &str| EditOp::RenameItems {
            key: "tags".into(),
            from: from.iter().map(|s| s.to_string()).collect(),
            to: to.into(),
        };
        assert_eq!(
            edit(f, &[op(&["b"], "x")]),
            "---\ntags:\n  - a\n  - x\n  - c\n---\n"
        );
        assert_eq!(edit(f, &[op(&["a", "c"], "b")]), "---\ntags:\n  - b\n---\n");
    }

    #[test]
    fn a_file_without_front_matter_gets_one() {
        assert_eq!(
            edit("<p>x</p>\n", &[add("tags", &["t"])]),
            "---\ntags: [t]\n---\n<p>x</p>\n"
        );
        assert_eq!(
            edit("---\n---\nb", &[set("title", json!("T"))]),
            "---\ntitle: T\n---\nb"
        );
    }

    #[test]
    fn unsafe_files_are_refused_with_a_reason() {
        let gb = encoding_rs::GB18030
            .encode("---\ntitle: 中文标题测试\n---\n正文内容很长的一段中文")
            .0;
        let r = edit_bytes(&gb, &[set("title", json!("x"))]);
        assert!(
            matches!(&r, Err((m, "encoding")) if m.contains("gb18030")),
            "{r:?}"
        );
        assert!(edit("---\ntitle: x\n", &[set("a", json!(1))]).contains("never closed"));
        assert!(edit("+++\ntitle = 'x'\n+++\n", &[set("a", json!(1))]).contains("TOML"));
        assert!(edit("---\na: &x 1\nb: *x\n---\n", &[set("a", json!(2))]).starts_with("ERR"));
    }

    #[test]
    fn find_and_replace_plain_and_regex() {
        let f = "---\ntitle: 'Hello  World'\n---\n";
        let r = |find: &str, rep: &str, regex: bool| EditOp::Replace {
            key: "title".into(),
            find: find.into(),
            replace: rep.into(),
            regex,
        };
        assert_eq!(
            edit(f, &[r("World", "There", false)]),
            "---\ntitle: 'Hello  There'\n---\n"
        );
        assert_eq!(
            edit(f, &[r(r"\s+", " ", true)]),
            "---\ntitle: 'Hello World'\n---\n"
        );
        assert!(edit(f, &[r("(", "", true)]).starts_with("ERR bad pattern"));
    }

    #[test]
    fn raw_edits_mend_front_matter_that_cannot_be_read() {
        let broken = "---\ntitle: [oops\n---\nbody\n";
        assert!(edit(broken, &[set("a", json!(1))]).starts_with("ERR"));
        let raw = EditOp::Raw {
            yaml: "title: fixed\n".into(),
        };
        assert_eq!(edit(broken, &[raw]), "---\ntitle: fixed\n---\nbody\n");
    }

    #[test]
    fn raw_edits_replace_the_front_matter_only() {
        let f = "---\na: 1\n---\nbody\n";
        let raw = EditOp::Raw {
            yaml: "b: 2".into(),
        };
        assert_eq!(
            edit(f, std::slice::from_ref(&raw)),
            "---\nb: 2\n---\nbody\n"
        );
        assert!(edit(
            f,
            &[EditOp::Raw {
                yaml: "b: [".into()
            }]
        )
        .starts_with("ERR"));
    }
}
