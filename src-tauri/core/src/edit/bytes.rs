//! The new bytes of one file: `edit_bytes` computes them from the ops, splicing only the spans
//! of the keys that change (see `splice`), and checks that the result reads back to exactly the
//! intended values with the body untouched, or refuses the file with a reason.

use super::splice;
use super::types::{DateSource, EditOp};
use crate::post::{self, FrontMatterKind};
use serde_json::Value;

/// Why `edit_bytes` refused a file. The message completes a sentence that starts with the file's
/// path; `kind` is the short word a skipped file is reported under.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EditRefusal {
    #[error("is not a text file")]
    NotText,
    #[error("is encoded as {0}; Shelfmark only edits UTF-8 files and will not convert it")]
    Encoding(String),
    #[error("is not UTF-8")]
    NotUtf8,
    #[error("has front matter that is never closed; fix it by hand first")]
    Unclosed,
    #[error("has TOML front matter (`+++`), which Shelfmark does not edit yet")]
    Toml,
    #[error("has front matter Shelfmark cannot read: {0} (mend it in the raw YAML view)")]
    Unreadable(String),
    #[error(
        "uses YAML that Shelfmark cannot edit field by field (anchors, flow mappings, repeated \
         keys or unusual layout); edit it in the raw YAML view or by hand"
    )]
    NotModelled,
    #[error("a raw front matter edit cannot be combined with others")]
    RawNotAlone,
    #[error("`{0}` is not a usable field name")]
    BadKey(String),
    #[error("`<<` is YAML's merge key, not a field name Shelfmark can write")]
    MergeKey,
    #[error("bad pattern: {0}")]
    BadPattern(String),
    #[error("is not text")]
    RawNotText,
    #[error("the new front matter is not valid: {0}")]
    RawInvalid(String),
    #[error("the result is not text")]
    RawResultNotText,
    #[error("the new front matter would not read back as written")]
    RawNotReadBack,
    #[error(
        "could not be edited in place without touching other fields ({0}); nothing was written"
    )]
    NotInPlace(String),
    #[error("has no date in {0} to take")]
    NoDateSource(&'static str),
}

impl EditRefusal {
    /// The kind a skipped file is reported under: `encoding`, `front-matter` or `edit`.
    pub fn kind(&self) -> &'static str {
        use EditRefusal::*;
        match self {
            Encoding(_) | NotUtf8 => "encoding",
            NotText | Unclosed | Toml | Unreadable(_) | NotModelled => "front-matter",
            RawNotAlone | BadKey(_) | MergeKey | BadPattern(_) | RawNotText | RawInvalid(_)
            | RawResultNotText | RawNotReadBack | NotInPlace(_) | NoDateSource(_) => "edit",
        }
    }
}

type Fields = serde_json::Map<String, Value>;

/// Keys an edit touched, each with whether it is compared as a list of terms (tags and the like)
/// rather than as a value; in the order first touched.
type Touched = Vec<(String, bool)>;

/// Compute the new bytes of one file. Ok(None): the file already is as asked.
pub fn edit_bytes(bytes: &[u8], ops: &[EditOp]) -> Result<Option<Vec<u8>>, EditRefusal> {
    edit_bytes_at(bytes, b"", ops)
}

/// `edit_bytes` for the file at `rel` (its relative path): ops computed from the file name
/// (`DateFrom { source: file-name }`) need it.
pub fn edit_bytes_at(
    bytes: &[u8],
    rel: &[u8],
    ops: &[EditOp],
) -> Result<Option<Vec<u8>>, EditRefusal> {
    let layout = editable_layout(bytes)?;
    let eol: &'static str = if layout.crlf { "\r\n" } else { "\n" };
    // The raw editor replaces the front matter as a whole: it is the way to mend front matter that
    // cannot be read, or that uses YAML the field editor does not model.
    if let [EditOp::Raw { yaml }] = ops {
        if layout.kind == FrontMatterKind::Toml {
            return Err(EditRefusal::Toml);
        }
        return raw_edit(bytes, &layout, yaml, eol);
    }
    let spans = field_spans(&layout)?;
    let text = std::str::from_utf8(bytes).map_err(|_| EditRefusal::NotUtf8)?;
    if ops.iter().any(|op| matches!(op, EditOp::Raw { .. })) {
        return Err(EditRefusal::RawNotAlone);
    }
    let name = rel.rsplit(|&b| b == b'/').next().unwrap_or_default();
    let file = FileContext {
        file_name: &String::from_utf8_lossy(name),
        epoch_ms: std::str::from_utf8(bytes.get(layout.body_offset..).unwrap_or_default())
            .ok()
            .and_then(post::epoch_comment),
    };
    let (fields, touched) = apply_ops(&layout.fields, ops, &file)?;
    let touched = changed_keys(&layout.fields, &fields, touched);
    if touched.is_empty() {
        return Ok(None);
    }
    let fields = intended(&layout.fields, &fields, &touched);
    let out = splice_keys(bytes, text, &layout, &spans, &fields, &touched, eol);
    verify(bytes, &layout, &out, &fields, &touched)?;
    Ok(Some(out))
}

/// The layout of a file that may be edited at all: text, clean UTF-8, front matter closed.
fn editable_layout(bytes: &[u8]) -> Result<post::Layout, EditRefusal> {
    let layout = post::layout(bytes).ok_or(EditRefusal::NotText)?;
    if !layout.exact_utf8 {
        return Err(EditRefusal::Encoding(layout.encoding.as_str().to_string()));
    }
    if layout.unclosed {
        return Err(EditRefusal::Unclosed);
    }
    Ok(layout)
}

/// The byte spans of the front matter's keys, for an edit field by field: the front matter must
/// read, be YAML, and use only what the span scanner models.
fn field_spans(layout: &post::Layout) -> Result<Vec<post::KeySpan>, EditRefusal> {
    if let Some(err) = &layout.error {
        return Err(EditRefusal::Unreadable(err.to_string()));
    }
    if layout.kind == FrontMatterKind::Toml {
        return Err(EditRefusal::Toml);
    }
    layout.key_spans.clone().ok_or(EditRefusal::NotModelled)
}

/// What computed ops read besides the front matter.
struct FileContext<'a> {
    file_name: &'a str,
    epoch_ms: Option<i64>,
}

/// The front matter's values after the ops, and the keys they touched.
fn apply_ops(
    old: &Fields,
    ops: &[EditOp],
    file: &FileContext,
) -> Result<(Fields, Touched), EditRefusal> {
    let mut fields = old.clone();
    let mut touched: Touched = Vec::new();
    let touch = |key: &str, terms: bool, touched: &mut Touched| match touched
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
                if let Some(new) = replaced(fields.get(key), find, replace, *regex)? {
                    fields.insert(key.clone(), new);
                    touch(key, false, &mut touched);
                }
            }
            EditOp::Raw { .. } => {}
            EditOp::Clean { key, how } => {
                if let Some(new) = cleaned(fields.get(key), *how) {
                    fields.insert(key.clone(), new);
                    touch(key, false, &mut touched);
                }
            }
            EditOp::DateFrom { source } => {
                let current = match fields.get("date") {
                    Some(Value::String(s)) => Some(s.as_str()),
                    _ => None,
                };
                let date = super::clean::date_from(*source, current, file.file_name, file.epoch_ms)
                    .ok_or(EditRefusal::NoDateSource(match source {
                        DateSource::FileName => "its file name",
                        DateSource::Epoch => "an epoch comment at the top of its body",
                    }))?;
                fields.insert("date".into(), Value::String(date));
                touch("date", false, &mut touched);
            }
        }
    }
    Ok((fields, touched))
}

/// A text value (or each text item of a list) with `find` replaced; None for other values.
fn replaced(
    value: Option<&Value>,
    find: &str,
    replace: &str,
    regex: bool,
) -> Result<Option<Value>, EditRefusal> {
    let re = if regex {
        Some(regex::Regex::new(find).map_err(|e| EditRefusal::BadPattern(e.to_string()))?)
    } else {
        None
    };
    let apply = |s: &str| match &re {
        Some(re) => re.replace_all(s, replace).into_owned(),
        None if find.is_empty() => s.to_string(),
        None => s.replace(find, replace),
    };
    Ok(match value {
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
    })
}

/// A text value (or each text item of a list) cleaned; None when nothing changes.
fn cleaned(value: Option<&Value>, how: super::types::CleanHow) -> Option<Value> {
    match value? {
        Value::String(s) => super::clean::clean(how, s).map(Value::String),
        Value::Array(items) => {
            let mut changed = false;
            let items = items
                .iter()
                .map(|v| match v {
                    Value::String(s) => match super::clean::clean(how, s) {
                        Some(new) => {
                            changed = true;
                            Value::String(new)
                        }
                        None => v.clone(),
                    },
                    other => other.clone(),
                })
                .collect();
            changed.then_some(Value::Array(items))
        }
        _ => None,
    }
}

/// The touched keys whose value ends up other than it was (the rest are not rewritten).
fn changed_keys(old: &Fields, new: &Fields, mut touched: Touched) -> Touched {
    touched.retain(|(key, as_terms)| {
        let (old, new) = (old.get(key), new.get(key));
        if *as_terms {
            let t = |v: Option<&Value>| v.map(|v| post::terms_of(key, v));
            !(old.is_some() && t(old) == t(new))
        } else {
            old != new
        }
    });
    touched
}

/// What the file must read back to: keys left alone keep their old values exactly (an item op
/// that changed no term must not turn `[2021]` into `["2021"]`), in the old order; new keys
/// follow in the order they are appended.
fn intended(old: &Fields, new: &Fields, touched: &Touched) -> Fields {
    let is_touched = |key: &str| touched.iter().any(|(k, _)| k == key);
    let mut intended = Fields::new();
    for (key, was) in old {
        match new.get(key) {
            Some(now) if is_touched(key) => intended.insert(key.clone(), now.clone()),
            None if is_touched(key) => None,
            _ => intended.insert(key.clone(), was.clone()),
        };
    }
    for (key, _) in touched {
        if let (false, Some(now)) = (old.contains_key(key), new.get(key)) {
            intended.insert(key.clone(), now.clone());
        }
    }
    intended
}

/// The file with each touched key's span replaced (or removed), in the style the front matter
/// already has, and new keys appended at the end of the front matter (which is created when the
/// file has none).
fn splice_keys(
    bytes: &[u8],
    text: &str,
    layout: &post::Layout,
    spans: &[post::KeySpan],
    fields: &Fields,
    touched: &Touched,
    eol: &'static str,
) -> Vec<u8> {
    let style = splice::list_style(text, spans, eol);
    // Replacements and removals inside the front matter, by position; additions at its end.
    let mut pieces: Vec<(usize, usize, String)> = Vec::new();
    let mut appended = String::new();
    for (key, as_terms) in touched {
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
        out.extend_from_slice(bytes.get(pos..fm_end).unwrap_or_default());
        if layout.kind == FrontMatterKind::None {
            out.extend_from_slice(format!("---{eol}{appended}---{eol}").as_bytes());
        } else {
            // The last line of the front matter may lack its line ending only if it is empty.
            out.extend_from_slice(appended.as_bytes());
        }
        pos = fm_end;
    }
    out.extend_from_slice(bytes.get(pos..).unwrap_or_default());
    out
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

fn check_key(key: &str) -> Result<(), EditRefusal> {
    if key.trim().is_empty() || key.contains(['\n', '\r']) {
        return Err(EditRefusal::BadKey(key.to_string()));
    }
    if key.trim() == "<<" {
        return Err(EditRefusal::MergeKey);
    }
    Ok(())
}

fn terms(fields: &Fields, key: &str) -> Vec<String> {
    fields
        .get(key)
        .map(|v| post::terms_of(key, v))
        .unwrap_or_default()
}

fn set_terms(fields: &mut Fields, key: &str, list: Vec<String>) {
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
) -> Result<Option<Vec<u8>>, EditRefusal> {
    let mut yaml = yaml.to_string();
    if !yaml.is_empty() && !yaml.ends_with('\n') {
        yaml.push_str(eol);
    }
    let check = format!("---\n{yaml}---\n");
    let parsed = post::layout(check.as_bytes()).ok_or(EditRefusal::RawNotText)?;
    if let Some(err) = parsed.error {
        return Err(EditRefusal::RawInvalid(err.to_string()));
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
    let new = post::layout(&out).ok_or(EditRefusal::RawResultNotText)?;
    if new.error.is_some() || new.fields != parsed.fields || !same_body(bytes, layout, &out, &new) {
        return Err(EditRefusal::RawNotReadBack);
    }
    Ok(Some(out))
}

pub(super) fn same_body(
    old: &[u8],
    old_layout: &post::Layout,
    new: &[u8],
    new_layout: &post::Layout,
) -> bool {
    old.get(old_layout.body_offset..) == new.get(new_layout.body_offset..)
}

/// The edited file must read back to exactly the intended values, with the body untouched.
fn verify(
    old: &[u8],
    old_layout: &post::Layout,
    new: &[u8],
    intended: &Fields,
    touched: &[(String, bool)],
) -> Result<(), EditRefusal> {
    let fail = |why: String| Err(EditRefusal::NotInPlace(why));
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit(file: &str, ops: &[EditOp]) -> String {
        match edit_bytes(file.as_bytes(), ops) {
            Ok(Some(b)) => String::from_utf8(b).unwrap_or_default(),
            Ok(None) => file.to_string(),
            Err(e) => format!("ERR {e}"),
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
            matches!(&r, Err(e) if e.kind() == "encoding" && e.to_string().contains("gb18030")),
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

    #[test]
    fn computed_ops_clean_values_and_take_dates_from_the_file() {
        use crate::edit::{CleanHow, DateSource};
        let at = |file: &str, rel: &str, ops: &[EditOp]| match edit_bytes_at(
            file.as_bytes(),
            rel.as_bytes(),
            ops,
        ) {
            Ok(Some(b)) => String::from_utf8(b).unwrap_or_default(),
            Ok(None) => file.to_string(),
            Err(e) => format!("ERR {e}"),
        };
        let clean = |key: &str, how| EditOp::Clean {
            key: key.into(),
            how,
        };
        let f = "---\ntitle: x\nauthor: A &#38; B\ntags: [\" a\", b]\n---\nbody\n";
        assert_eq!(
            at(f, "p.md", &[clean("author", CleanHow::DecodeEntities)]),
            f.replace("A &#38; B", "A & B")
        );
        assert_eq!(
            at(f, "p.md", &[clean("title", CleanHow::DecodeEntities)]),
            f
        );
        assert_eq!(
            at(f, "p.md", &[clean("tags", CleanHow::Trim)]),
            f.replace("[\" a\", b]", "[a, b]")
        );
        let from = |source| EditOp::DateFrom { source };
        let d = "---\ndate: 2021-03-05 10:00:00 +0800\n---\n<!--1610366114000-->\nbody\n";
        assert_eq!(
            at(d, "_posts/2021-03-04-x.md", &[from(DateSource::FileName)]),
            d.replace("2021-03-05", "2021-03-04")
        );
        assert_eq!(
            at(d, "_posts/x.md", &[from(DateSource::Epoch)]),
            d.replace("2021-03-05 10:00:00", "2021-01-11 19:55:14")
        );
        assert!(at(d, "_posts/x.md", &[from(DateSource::FileName)])
            .contains("no date in its file name"));
        let n = "---\ntitle: t\n---\nbody\n";
        assert!(at(n, "x.md", &[from(DateSource::Epoch)]).contains("no date in an epoch comment"));
        assert_eq!(
            at(n, "a/2021-01-02-x.md", &[from(DateSource::FileName)]),
            "---\ntitle: t\ndate: 2021-01-02\n---\nbody\n"
        );
    }
}
