//! Byte-stable front matter edits: each changed key is rewritten inside its own byte span, in the
//! style it already has (quotes, flow or block lists, indentation, comments, line endings); every
//! other byte of the file stays as it was. The result is parsed again and compared with the
//! intended values before anyone writes it (see `super::apply_ops`).

use crate::post::{quoted_end, KeySpan};
use serde_json::Value;

/// How a file writes things, for keys it does not have yet.
#[derive(Debug, Clone)]
pub(super) struct FileStyle {
    pub eol: &'static str,
    /// How the file's existing lists are written; flow (`[a, b]`) when it has none.
    pub list: ListStyle,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum ListStyle {
    Flow,
    /// `indent` before the dash, `gap` between the dash and the item.
    Block {
        indent: String,
        gap: String,
    },
}

/// One key's new text, replacing `span` (None: a new key, appended). With `terms`, `new` is a list
/// of tags or categories and only the terms matter, so a `tags: a b` string may stay a string.
pub(super) fn render_key(
    file: &str,
    span: Option<&KeySpan>,
    key: &str,
    new: &Value,
    terms: bool,
    style: &FileStyle,
) -> String {
    let Some(span) = span else {
        return fresh_key(&render_key_name(key), new, style);
    };
    let old = file.get(span.start..span.end).unwrap_or_default();
    let shape = Shape::of(old);
    let key_text = old.get(..shape.key_end).unwrap_or(key).to_string();
    match (new, &shape.value) {
        (
            Value::Array(items),
            OldValue::Flow {
                open,
                close,
                tokens,
            },
        ) if items_are_scalars(items) => {
            let inner = old.get(open + 1..*close).unwrap_or_default();
            let pad = if inner.starts_with(' ') && !tokens.is_empty() {
                " "
            } else {
                ""
            };
            let sep = if inner.contains(", ") || tokens.len() < 2 {
                ", "
            } else {
                ","
            };
            let quote = preferred_item_quote(tokens);
            let texts = aligned(tokens, items, |v| render_scalar(v, quote, true));
            let body = if texts.is_empty() {
                String::new()
            } else {
                format!("{pad}{}{pad}", texts.join(sep))
            };
            format!(
                "{}[{body}]{}",
                old.get(..*open).unwrap_or_default(),
                old.get(close + 1..).unwrap_or_default()
            )
        }
        (
            Value::Array(items),
            OldValue::Block {
                lines,
                first_line_end,
            },
        ) if items_are_scalars(items) && !items.is_empty() => {
            render_block_list(old, *first_line_end, lines, items, style.eol)
        }
        (Value::Array(items), OldValue::Inline { start, end, quote })
            if terms && end > start && !items.is_empty() && !old_is_multiline(old, *end) =>
        {
            // `tags: a b` stays a string while no item needs a separator inside it.
            let old_text = old.get(*start..*end).unwrap_or_default();
            let sep = if old_text.contains(", ") {
                ", "
            } else if old_text.contains(',') && !old_text.contains(' ') {
                ","
            } else {
                " "
            };
            let words: Option<Vec<String>> = items
                .iter()
                .map(|v| match v {
                    Value::String(s)
                        if !s.is_empty()
                            && !s
                                .chars()
                                .any(|c| c.is_whitespace() || matches!(c, ',' | '，' | '、')) =>
                    {
                        Some(s.clone())
                    }
                    _ => None,
                })
                .collect();
            match words {
                Some(words) if !old_text.starts_with('[') => {
                    let joined = Value::String(words.join(sep));
                    splice_inline(old, *start, *end, &render_scalar(&joined, *quote, false))
                }
                _ => fresh_key(&key_text, new, style),
            }
        }
        (Value::Array(_) | Value::Object(_), _) => fresh_key(&key_text, new, style),
        (scalar, OldValue::Inline { start, end, quote }) if !old_is_multiline(old, *end) => {
            splice_inline(old, *start, *end, &render_scalar(scalar, *quote, false))
        }
        (scalar, _) => fresh_key(&key_text, scalar, style),
    }
}

/// A key written from scratch: `key: value` (lists in the file's style). `key_text` is the key
/// as written, with or without its colon.
fn fresh_key(key_text: &str, value: &Value, style: &FileStyle) -> String {
    let eol = style.eol;
    let name = key_text.strip_suffix(':').unwrap_or(key_text);
    match value {
        Value::Array(items) if items_are_scalars(items) && !items.is_empty() => match &style.list {
            ListStyle::Flow => {
                let texts: Vec<String> =
                    items.iter().map(|v| render_scalar(v, None, true)).collect();
                format!("{name}: [{}]{eol}", texts.join(", "))
            }
            ListStyle::Block { indent, gap } => {
                let mut out = format!("{name}:{eol}");
                for v in items {
                    out.push_str(&format!(
                        "{indent}-{gap}{}{eol}",
                        render_scalar(v, None, false)
                    ));
                }
                out
            }
        },
        Value::Array(items) if items.is_empty() => format!("{name}: []{eol}"),
        other => format!("{name}: {}{eol}", render_scalar(other, None, false)),
    }
}

/// A new key's name: plain when YAML reads it back as itself, else double-quoted.
fn render_key_name(key: &str) -> String {
    let plain_ok = !key.is_empty()
        && key
            .chars()
            .next()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        && key
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ' ' | '/'))
        && !key.ends_with(' ')
        // `null`, `true`, `0x1F`, `1e3` are keys YAML reads as something else.
        && plain_ok(key, false);
    if plain_ok {
        key.to_string()
    } else {
        double_quoted(key)
    }
}

fn items_are_scalars(items: &[Value]) -> bool {
    items
        .iter()
        .all(|v| !matches!(v, Value::Array(_) | Value::Object(_)))
}

/// Replace `[start, end)` of a one-line `old` with `value`, keeping the rest (comment, line end).
fn splice_inline(old: &str, start: usize, end: usize, value: &str) -> String {
    let before = old.get(..start).unwrap_or_default();
    let after = old.get(end..).unwrap_or_default();
    // `key:` with nothing after it: add the space YAML needs.
    let sep = if start == end && !before.ends_with([' ', '\t']) {
        " "
    } else {
        ""
    };
    // `key: # note` with nothing before the comment: keep a blank between value and comment, or
    // the `#` would join the value.
    let sep_after = if after.starts_with('#') { " " } else { "" };
    format!("{before}{sep}{value}{sep_after}{after}")
}

fn old_is_multiline(old: &str, value_end: usize) -> bool {
    let rest = old.get(value_end..).unwrap_or_default();
    rest.trim_end_matches(['\r', '\n']).contains('\n')
}

/// The quote style items of an existing list use: the first quoted item's, if all are quoted.
fn preferred_item_quote(tokens: &[Token]) -> Option<char> {
    let first = tokens.first()?.quote?;
    tokens.iter().all(|t| t.quote.is_some()).then_some(first)
}

/// The texts of `new` items, reusing an old token's text for each item that stays.
fn aligned(tokens: &[Token], new: &[Value], render: impl Fn(&Value) -> String) -> Vec<String> {
    let old_values: Vec<Value> = tokens.iter().map(|t| t.value.clone()).collect();
    let old_keys: Vec<String> = old_values.iter().map(|v| v.to_string()).collect();
    let new_keys: Vec<String> = new.iter().map(|v| v.to_string()).collect();
    let mut out = Vec::with_capacity(new.len());
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_keys, &new_keys) {
        match op {
            similar::DiffOp::Equal { old_index, len, .. } => {
                for t in tokens.iter().skip(old_index).take(len) {
                    out.push(t.text.clone());
                }
            }
            similar::DiffOp::Delete { .. } => {}
            similar::DiffOp::Insert {
                new_index, new_len, ..
            }
            | similar::DiffOp::Replace {
                new_index, new_len, ..
            } => {
                for v in new.iter().skip(new_index).take(new_len) {
                    out.push(render(v));
                }
            }
        }
    }
    out
}

/// A block list rewritten line by line: kept items keep their lines (and the comments between
/// them), removed ones lose theirs, new ones are written like their neighbours.
fn render_block_list(
    old: &str,
    first_line_end: usize,
    lines: &[BlockLine],
    new: &[Value],
    eol: &str,
) -> String {
    let items: Vec<&BlockLine> = lines.iter().filter(|l| l.item.is_some()).collect();
    let tokens: Vec<Token> = items.iter().filter_map(|l| l.item.clone()).collect();
    let quote = preferred_item_quote(&tokens);
    let (indent, gap) = items
        .first()
        .map(|l| (l.indent.clone(), l.gap.clone()))
        .unwrap_or_else(|| ("  ".into(), " ".into()));
    let new_line = |v: &Value| format!("{indent}-{gap}{}{eol}", render_scalar(v, quote, false));
    let old_keys: Vec<String> = tokens.iter().map(|t| t.value.to_string()).collect();
    let new_keys: Vec<String> = new.iter().map(|v| v.to_string()).collect();
    // For each old item: keep it, or drop it; and lines to insert after it (index -1: before all).
    let mut keep = vec![false; items.len()];
    let mut inserts: Vec<Vec<String>> = vec![Vec::new(); items.len() + 1];
    for op in similar::capture_diff_slices(similar::Algorithm::Myers, &old_keys, &new_keys) {
        match op {
            similar::DiffOp::Equal { old_index, len, .. } => {
                keep.iter_mut()
                    .skip(old_index)
                    .take(len)
                    .for_each(|k| *k = true);
            }
            similar::DiffOp::Delete { .. } => {}
            similar::DiffOp::Insert {
                old_index,
                new_index,
                new_len,
            } => {
                let slot = &mut inserts[old_index.min(items.len())];
                slot.extend(new.iter().skip(new_index).take(new_len).map(new_line));
            }
            similar::DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let slot = &mut inserts[(old_index + old_len).min(items.len())];
                slot.extend(new.iter().skip(new_index).take(new_len).map(new_line));
            }
        }
    }
    let mut out = old.get(..first_line_end).unwrap_or_default().to_string();
    // Lines before the first item (comments) stay; inserts for slot 0 go before the first item.
    let mut item_no = 0;
    let mut pending_front = Some(std::mem::take(&mut inserts[0]));
    for line in lines {
        if line.item.is_some() {
            if let Some(front) = pending_front.take() {
                front.iter().for_each(|l| out.push_str(l));
            }
            if keep[item_no] {
                out.push_str(&line.text);
            }
            item_no += 1;
            inserts[item_no].iter().for_each(|l| out.push_str(l));
        } else {
            out.push_str(&line.text);
        }
    }
    if let Some(front) = pending_front {
        front.iter().for_each(|l| out.push_str(l));
    }
    out
}

/// Render a scalar for YAML: in `quote` style when given, else plain when YAML reads it back as
/// the same value, else double-quoted. `in_flow` forbids the characters flow lists reserve.
pub(super) fn render_scalar(value: &Value, quote: Option<char>, in_flow: bool) -> String {
    match value {
        Value::String(s) => match quote {
            Some('\'') if !s.chars().any(needs_escape) => {
                format!("'{}'", s.replace('\'', "''"))
            }
            Some(_) => double_quoted(s),
            None if plain_ok(s, in_flow) => s.clone(),
            None => double_quoted(s),
        },
        Value::Null => "null".into(),
        // JSON is YAML's flow syntax.
        other => other.to_string(),
    }
}

/// Characters YAML does not allow raw in a scalar, or reads as a line break (and folds).
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
}

fn double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            // All of these are in the Basic Multilingual Plane.
            c if needs_escape(c) => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `s` can be written without quotes and read back as the same string.
fn plain_ok(s: &str, in_flow: bool) -> bool {
    let Some(first) = s.chars().next() else {
        return false;
    };
    if s.trim() != s
        || s.chars().any(needs_escape)
        || "-?:,[]{}#&*!|>'\"%@`".contains(first)
        || s.contains(": ")
        || s.contains(" #")
        || s.ends_with(':')
        || (in_flow && s.contains([',', '[', ']', '{', '}']))
        // The span scanner (post/spans.rs) takes a quote after a blank or `:` in a flow list for
        // the start of a quoted item; such items are quoted so the file stays editable.
        || (in_flow
            && s.as_bytes()
                .windows(2)
                .any(|w| matches!(w[0], b' ' | b'\t' | b':') && matches!(w[1], b'"' | b'\'')))
    {
        return false;
    }
    // YAML's own reading decides the rest (`true`, `123`, `null`, `~`, `0x1f` are not strings),
    // in a flow list when it goes in one (`a:b` is text in a block, an error in a flow list).
    let want = Value::String(s.to_string());
    let doc = if in_flow {
        format!("k: [{s}]\n")
    } else {
        format!("k: {s}\n")
    };
    match serde_yaml::from_str::<serde_json::Map<String, Value>>(&doc) {
        Ok(m) if in_flow => m.get("k") == Some(&Value::Array(vec![want])),
        Ok(m) => m.get("k") == Some(&want),
        Err(_) => false,
    }
}

/// What a key's text looks like, as far as splicing needs to know.
struct Shape {
    /// End of the key and its colon.
    key_end: usize,
    value: OldValue,
}

enum OldValue {
    /// A scalar on the key's line at `[start, end)` (quote: its quote character).
    Inline {
        start: usize,
        end: usize,
        quote: Option<char>,
    },
    /// A flow list on the key's line: brackets at `open` and `close`.
    Flow {
        open: usize,
        close: usize,
        tokens: Vec<Token>,
    },
    /// A block list on the following lines.
    Block {
        first_line_end: usize,
        lines: Vec<BlockLine>,
    },
    Other,
}

#[derive(Debug, Clone)]
struct Token {
    /// The item as written.
    text: String,
    /// The item as YAML reads it.
    value: Value,
    quote: Option<char>,
}

struct BlockLine {
    text: String,
    indent: String,
    gap: String,
    item: Option<Token>,
}

impl Shape {
    fn of(old: &str) -> Shape {
        let key_end = key_end(old);
        let b = old.as_bytes();
        let mut start = key_end;
        while matches!(b.get(start), Some(b' ' | b'\t')) {
            start += 1;
        }
        let first_line_end = old.find('\n').map_or(old.len(), |i| i + 1);
        let value = match b.get(start) {
            None | Some(b'\r' | b'\n' | b'#') => block_lines(old, first_line_end)
                .map(|lines| OldValue::Block {
                    first_line_end,
                    lines,
                })
                .unwrap_or(
                    if old
                        .get(first_line_end..)
                        .unwrap_or_default()
                        .trim()
                        .is_empty()
                    {
                        // `key:` alone: an empty value to fill in on this line.
                        let end = value_text_end(old, start, first_line_end);
                        OldValue::Inline {
                            start: end.min(start),
                            end: end.min(start),
                            quote: None,
                        }
                    } else {
                        OldValue::Other
                    },
                ),
            Some(b'[') => flow_tokens(old, start)
                .map(|(close, tokens)| OldValue::Flow {
                    open: start,
                    close,
                    tokens,
                })
                .unwrap_or(OldValue::Other),
            Some(b'{' | b'|' | b'>' | b'&' | b'*' | b'!') => OldValue::Other,
            Some(q @ (b'"' | b'\'')) => match quoted_end(old.as_bytes(), start, *q) {
                Some(close) if close <= first_line_end => OldValue::Inline {
                    start,
                    end: close,
                    quote: Some(*q as char),
                },
                _ => OldValue::Other,
            },
            Some(_) => OldValue::Inline {
                start,
                end: value_text_end(old, start, first_line_end),
                quote: None,
            },
        };
        Shape { key_end, value }
    }
}

/// Offset after the key's colon.
fn key_end(old: &str) -> usize {
    let b = old.as_bytes();
    let mut i = 0;
    if let Some(q @ (b'"' | b'\'')) = b.first() {
        i = quoted_end(old.as_bytes(), 0, *q).unwrap_or(0);
    }
    while let Some(&c) = b.get(i) {
        if c == b':' && matches!(b.get(i + 1), None | Some(b' ' | b'\t' | b'\r' | b'\n')) {
            return i + 1;
        }
        i += 1;
    }
    old.len()
}

/// End of a plain scalar on one line: before ` #` comments, trailing blanks and the line end.
fn value_text_end(old: &str, start: usize, line_end: usize) -> usize {
    let b = old.as_bytes();
    let mut end = line_end.min(b.len());
    let mut i = start;
    while i < end {
        if b.get(i) == Some(&b'#') && i > 0 && matches!(b.get(i - 1), Some(b' ' | b'\t')) {
            end = i;
            break;
        }
        i += 1;
    }
    while end > start && matches!(b.get(end - 1), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        end -= 1;
    }
    end.max(start)
}

/// The items of a one-line flow list of scalars opening at `open`: (offset of `]`, items).
/// None for anything else (nesting, comments, lines after it).
fn flow_tokens(old: &str, open: usize) -> Option<(usize, Vec<Token>)> {
    let b = old.as_bytes();
    let mut tokens = Vec::new();
    let mut i = open + 1;
    let mut item_start = i;
    let close = loop {
        match b.get(i)? {
            b'"' | b'\'' => i = quoted_end(b, i, b[i])?,
            b'[' | b'{' | b'\n' | b'#' => return None,
            b',' => {
                tokens.push(token(old.get(item_start..i)?)?);
                i += 1;
                item_start = i;
            }
            b']' => {
                let last = old.get(item_start..i)?;
                if !last.trim().is_empty() {
                    tokens.push(token(last)?);
                }
                break i;
            }
            _ => i += 1,
        }
    };
    // Only a comment or the line end may follow.
    let rest = old.get(close + 1..)?.trim_start_matches([' ', '\t']);
    if !(rest.is_empty() || rest.starts_with(['\r', '\n', '#'])) || old_is_multiline(old, close + 1)
    {
        return None;
    }
    Some((close, tokens))
}

/// One list item as written (surrounding blanks trimmed) and as YAML reads it.
fn token(raw: &str) -> Option<Token> {
    let text = raw.trim_matches([' ', '\t']).to_string();
    if text.is_empty() {
        return None;
    }
    let doc = format!("- {text}\n");
    let value = serde_yaml::from_str::<Vec<Value>>(&doc)
        .ok()?
        .into_iter()
        .next()?;
    if matches!(value, Value::Array(_) | Value::Object(_)) {
        return None;
    }
    let quote = match text.as_bytes().first() {
        Some(b'"') => Some('"'),
        Some(b'\'') => Some('\''),
        _ => None,
    };
    Some(Token { text, value, quote })
}

/// The lines of a block list after the key's line; None unless every line is an item on one
/// line, a comment, or blank.
fn block_lines(old: &str, first_line_end: usize) -> Option<Vec<BlockLine>> {
    let rest = old.get(first_line_end..)?;
    if rest.is_empty() {
        return None;
    }
    let mut lines = Vec::new();
    for text in rest.split_inclusive('\n') {
        let content = text.trim_start_matches([' ', '\t']);
        let indent = text.get(..text.len() - content.len())?.to_string();
        let trimmed = content.trim_end_matches(['\r', '\n']);
        if trimmed.is_empty() || trimmed.starts_with('#') {
            lines.push(BlockLine {
                text: text.to_string(),
                indent,
                gap: String::new(),
                item: None,
            });
            continue;
        }
        let after_dash = trimmed.strip_prefix('-')?;
        let item_text = after_dash.trim_start_matches([' ', '\t']);
        if item_text.len() == after_dash.len() && !after_dash.is_empty() {
            return None;
        }
        let gap = after_dash
            .get(..after_dash.len() - item_text.len())?
            .to_string();
        // A comment after the item, or a nested value: not modelled.
        if item_text.contains(" #")
            || item_text.starts_with(['-', '[', '{', '|', '>', '&', '*', '!', '?'])
            || item_text.is_empty()
        {
            return None;
        }
        let item = token(item_text)?;
        lines.push(BlockLine {
            text: text.to_string(),
            indent,
            gap,
            item: Some(item),
        });
    }
    lines.iter().any(|l| l.item.is_some()).then_some(lines)
}

/// The list style of a file, from its first list-valued key that has one.
pub(super) fn list_style(file: &str, spans: &[KeySpan], eol: &'static str) -> FileStyle {
    let list = spans
        .iter()
        .find_map(|span| {
            let old = file.get(span.start..span.end)?;
            match Shape::of(old).value {
                OldValue::Flow { .. } => Some(ListStyle::Flow),
                OldValue::Block { lines, .. } => {
                    lines
                        .iter()
                        .find(|l| l.item.is_some())
                        .map(|l| ListStyle::Block {
                            indent: l.indent.clone(),
                            gap: l.gap.clone(),
                        })
                }
                _ => None,
            }
        })
        .unwrap_or(ListStyle::Flow);
    FileStyle { eol, list }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn key(file: &str, k: &str, v: Value) -> String {
        let start = file.find(&format!("{k}:")).unwrap_or(0);
        let spans = crate::post::layout(file.as_bytes())
            .and_then(|l| l.key_spans)
            .unwrap_or_default();
        let span = spans.iter().find(|s| s.key == k).cloned();
        let _ = start;
        let style = list_style(file, &spans, "\n");
        render_key(file, span.as_ref(), k, &v, true, &style)
    }

    #[test]
    fn scalars_keep_their_quotes_and_comments() {
        let f = "---\ntitle: \"Old\" # keep\nb: 'x'\nc: plain\n---\n";
        assert_eq!(
            key(f, "title", json!("New \"q\"")),
            "title: \"New \\\"q\\\"\" # keep\n"
        );
        assert_eq!(key(f, "b", json!("it's")), "b: 'it''s'\n");
        assert_eq!(key(f, "c", json!("two words")), "c: two words\n");
        assert_eq!(key(f, "c", json!("true")), "c: \"true\"\n");
        assert_eq!(key(f, "c", json!("a: b")), "c: \"a: b\"\n");
        assert_eq!(key(f, "c", json!(12)), "c: 12\n");
    }

    #[test]
    fn flow_lists_keep_padding_and_untouched_items() {
        let f = "---\ntags: [ a, 'b c', d ]\n---\n";
        assert_eq!(
            key(f, "tags", json!(["a", "b c", "d", "e"])),
            "tags: [ a, 'b c', d, e ]\n"
        );
        assert_eq!(key(f, "tags", json!(["a", "d"])), "tags: [ a, d ]\n");
        assert_eq!(
            key(f, "tags", json!(["a", "x,y", "d"])),
            "tags: [ a, \"x,y\", d ]\n"
        );
        assert_eq!(key(f, "tags", json!([])), "tags: []\n");
        let f = "---\ntags: [\"a\",\"b\"]\n---\n";
        assert_eq!(
            key(f, "tags", json!(["a", "b", "c"])),
            "tags: [\"a\",\"b\",\"c\"]\n"
        );
    }

    #[test]
    fn block_lists_change_only_the_lines_of_changed_items() {
        let f = "---\ntags:\n    - a\n    # note\n    - \"b\"\n---\n";
        assert_eq!(
            key(f, "tags", json!(["a", "b", "c"])),
            "tags:\n    - a\n    # note\n    - \"b\"\n    - c\n"
        );
        assert_eq!(
            key(f, "tags", json!(["b"])),
            "tags:\n    # note\n    - \"b\"\n"
        );
        assert_eq!(
            key(f, "tags", json!(["x", "b"])),
            "tags:\n    - x\n    # note\n    - \"b\"\n"
        );
        let f = "---\ntags:\r\n- a\r\n---\r\n";
        let spans = crate::post::layout(f.as_bytes())
            .and_then(|l| l.key_spans)
            .unwrap_or_default();
        let style = list_style(f, &spans, "\r\n");
        assert_eq!(
            render_key(f, spans.first(), "tags", &json!(["a", "b"]), true, &style),
            "tags:\r\n- a\r\n- b\r\n"
        );
    }

    #[test]
    fn string_lists_stay_strings_and_new_keys_follow_the_file() {
        let f = "---\ntags: a b\ncats:\n  - x\n---\n";
        assert_eq!(key(f, "tags", json!(["a", "b", "c"])), "tags: a b c\n");
        assert_eq!(
            key(f, "tags", json!(["a", "b c"])),
            "tags:\n  - a\n  - b c\n"
        );
        assert_eq!(key(f, "new", json!(["p"])), "new:\n  - p\n");
        let f = "---\ntitle: x\n---\n";
        assert_eq!(key(f, "tags", json!(["p", "q"])), "tags: [p, q]\n");
        assert_eq!(key(f, "my key:", json!("v")), "\"my key:\": v\n");
        assert_eq!(key(f, "empty", json!("")), "empty: \"\"\n");
    }

    #[test]
    fn an_empty_value_is_filled_in_on_its_line() {
        let f = "---\nauthor:\ntitle: t\n---\n";
        assert_eq!(key(f, "author", json!("Me")), "author: Me\n");
        assert_eq!(key(f, "author", json!(["a"])), "author: [a]\n");
    }
}
