//! Property tests of `edit_bytes`: front matter generated in many styles (plain, single- and
//! double-quoted scalars; flow lists with and without padding; block lists at indents 0, 2 and 4
//! with different gaps after the dash; `tags: a b` strings; comments and blank lines between keys
//! and inside lists; LF and CRLF; with and without a BOM; bodies with `---` lines of their own),
//! edited at random (set, unset, add/remove/rename items, new keys). For every case:
//!
//! (a) the edited file reads back to exactly the intended values, in the same key order (new keys
//!     at the end), and can be edited again;
//! (b) every byte outside the edited keys' spans is unchanged: BOM, line endings, the other keys,
//!     comments, blank lines and the body;
//! (c) an edit that changes nothing returns Ok(None), and so does repeating an edit;
//! (d) `edit_bytes` never panics, whatever the bytes, and whatever it accepts is right.

use super::{edit_bytes, EditOp};
use crate::post::{self, FrontMatterKind, Layout};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use serde_json::{Map, Value};

// ---------------------------------------------------------------------------------------------
// Generated documents
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Q {
    Plain,
    Single,
    Double,
}

#[derive(Debug, Clone)]
enum Val {
    /// `key: text`, optionally followed by ` # note`.
    Scalar { text: String, q: Q, comment: bool },
    /// `key:` with nothing after it (null), optionally a comment.
    Empty { comment: bool },
    /// `key: |` (or `>-`) and indented lines; or a double-quoted string over several lines.
    Multi { lines: Vec<&'static str>, how: u8 },
    /// `key: [a, b]`: `pad` gives `[ a, b ]`, `tight` gives `[a,b]`.
    Flow {
        items: Vec<(String, Q)>,
        pad: bool,
        tight: bool,
        comment: bool,
    },
    /// `key:` then `{indent}-{gap}item` lines, with a comment line and a blank line among them.
    Block {
        items: Vec<(String, Q)>,
        indent: usize,
        gap: usize,
        comment_after: Option<Index>,
        blank_after: Option<Index>,
    },
    /// `tags: a b` (a string Shelfmark splits into terms).
    Words {
        items: Vec<String>,
        sep: &'static str,
        q: Q,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    key: &'static str,
    val: Val,
    comment_before: bool,
    blank_before: bool,
}

#[derive(Debug, Clone)]
struct Doc {
    bom: bool,
    crlf: bool,
    /// None: a file without front matter.
    front: Option<Vec<Entry>>,
    /// A comment line after the last key.
    trailing_comment: bool,
    closer: &'static str,
    body: &'static str,
    /// The body keeps `\n` even in a CRLF file (mixed line endings).
    body_lf: bool,
}

const SCALAR_KEYS: &[&str] = &[
    "title",
    "date",
    "author",
    "from",
    "layout",
    "描述",
    "spaced key",
    "url:with:colons",
    "x-y",
    "_private",
    "quoted key",
    "7",
];
const LIST_KEYS: &[&str] = &["tags", "categories", "keywords"];
/// Keys no generated document has.
const NEW_KEYS: &[&str] = &[
    "summary",
    "source",
    "中文键",
    "new key",
    "draft",
    "x.y",
    "a/b",
    "key: colon",
    "#hash",
    "- dash",
    "trailing ",
    " lead",
    "a\"quote",
    "it's",
];
/// Keys that take unusual names YAML might read as something else.
const ODD_NEW_KEYS: &[&str] = &["null", "true", "0x1F", "1e3", "007", "~", "tab\tkey", "1.0"];

/// Values that can be written plain.
const PLAIN_VALUES: &[&str] = &[
    "post",
    "Hello world",
    "新冠疫苗：从今天开始交付法国第一批莫德纳疫苗",
    "http://www.rfi.fr//cn/%E6%B3%95%E5%9B%BD/20210111",
    "https://www.zaobao.com/realtime/china/story20210121-1118080",
    "2021-01-11T11:55:14.000Z",
    "2022-01-01 09:30:00 +0800",
    "2021-06-01",
    "42",
    "3.14",
    "true",
    "null",
    "~",
    "C++ and C#",
    "a-b_c",
    "中文 English mixed",
    "100%",
    "法广",
];
/// Values that need quotes (or read differently without them).
const QUOTED_VALUES: &[&str] = &[
    "He said \"hi\"",
    "it's",
    "a: b",
    " lead",
    "trail ",
    "#x",
    "x # y",
    "back\\slash",
    "[not a list]",
    "{x}",
    "- dash",
    "",
    "多行\n文本",
    "tab\there",
    "'quoted'",
    "「引号」与‘单引号’",
    "true",
    "123",
];
/// List items that can be written plain, even in a flow list.
const PLAIN_ITEMS: &[&str] = &[
    "法广",
    "联合早报",
    "路透",
    "BBC",
    "a",
    "b",
    "tech",
    "x-y",
    "b c",
    "2021",
    "C++",
    "c#",
    "true",
    "中央社",
];
/// List items that need quotes.
const QUOTED_ITEMS: &[&str] = &[
    "a, b", "[x]", "it's", "#hash", "- d", "x: y", " sp ", "\"q\"",
];
/// Items for `tags: a b` strings (no separators inside).
const WORD_ITEMS: &[&str] = &["法广", "a", "b", "tech", "路透", "2021", "c#"];
/// Items the edits add, remove and rename to.
const EDIT_ITEMS: &[&str] = &[
    "法广",
    "联合早报",
    "a",
    "b",
    "tech",
    "b c",
    "2021",
    "true",
    "null",
    "NEW",
    "新标签",
    "a, b",
    "x y",
    " padded ",
    "",
    "#x",
    "- y",
    "[z]",
    "中文，标点",
    "it's",
    "\"q\"",
    "c#",
];
const BODIES: &[&str] = &[
    "",
    "<p>body</p>\n",
    "body without a final newline",
    "<!--1610366114000-->\n[标题](http://x.example/a)\n------\n\n<div>正文</div>\n",
    "text\n---\nmore: text\n---\n",
    "---\n",
    "+++\n",
    "\n\n",
    "...\n---\nx: 1\n",
];

fn quote_style() -> impl Strategy<Value = Q> {
    prop_oneof![Just(Q::Single), Just(Q::Double)]
}

fn scalar_val() -> impl Strategy<Value = Val> {
    prop_oneof![
        4 => (select(PLAIN_VALUES), any::<bool>()).prop_map(|(t, comment)| Val::Scalar {
            text: t.into(),
            q: Q::Plain,
            comment,
        }),
        4 => (select(PLAIN_VALUES), quote_style(), any::<bool>()).prop_map(|(t, q, comment)| {
            Val::Scalar { text: t.into(), q, comment }
        }),
        3 => (select(QUOTED_VALUES), quote_style(), any::<bool>()).prop_map(|(t, q, comment)| {
            Val::Scalar { text: t.into(), q, comment }
        }),
        1 => any::<bool>().prop_map(|comment| Val::Empty { comment }),
        1 => (prop::collection::vec(select(PLAIN_VALUES), 1..4), 0..3u8)
            .prop_map(|(lines, how)| Val::Multi { lines, how }),
    ]
}

fn item() -> impl Strategy<Value = (String, Q)> {
    prop_oneof![
        3 => select(PLAIN_ITEMS).prop_map(|s| (s.to_string(), Q::Plain)),
        1 => (select(PLAIN_ITEMS), quote_style()).prop_map(|(s, q)| (s.to_string(), q)),
        1 => (select(QUOTED_ITEMS), quote_style()).prop_map(|(s, q)| (s.to_string(), q)),
    ]
}

fn list_val() -> impl Strategy<Value = Val> {
    prop_oneof![
        4 => (
            prop::collection::vec(item(), 0..5),
            any::<bool>(),
            any::<bool>(),
            any::<bool>()
        )
            .prop_map(|(items, pad, tight, comment)| Val::Flow { items, pad, tight, comment }),
        4 => (
            prop::collection::vec(item(), 1..5),
            select(&[0usize, 2, 4][..]),
            select(&[1usize, 1, 2, 3][..]),
            prop::option::weighted(0.4, any::<Index>()),
            prop::option::weighted(0.3, any::<Index>())
        )
            .prop_map(|(items, indent, gap, comment_after, blank_after)| Val::Block {
                items,
                indent,
                gap,
                comment_after,
                blank_after,
            }),
        2 => (
            prop::collection::vec(select(WORD_ITEMS).prop_map(String::from), 1..4),
            select(&[" ", ", ", ","][..]),
            prop_oneof![Just(Q::Plain), Just(Q::Plain), Just(Q::Double), Just(Q::Single)]
        )
            .prop_map(|(items, sep, q)| Val::Words { items, sep, q }),
        1 => any::<bool>().prop_map(|comment| Val::Empty { comment }),
    ]
}

fn entry(key: &'static str) -> BoxedStrategy<Entry> {
    let val = if LIST_KEYS.contains(&key) {
        list_val().boxed()
    } else {
        scalar_val().boxed()
    };
    (val, prop::bool::weighted(0.2), prop::bool::weighted(0.15))
        .prop_map(move |(val, comment_before, blank_before)| Entry {
            key,
            val,
            comment_before,
            blank_before,
        })
        .boxed()
}

fn entries() -> impl Strategy<Value = Vec<Entry>> {
    (
        proptest::sample::subsequence(SCALAR_KEYS, 0..=6),
        proptest::sample::subsequence(LIST_KEYS, 0..=3),
    )
        .prop_flat_map(|(mut keys, lists)| {
            keys.extend(lists);
            Just(keys).prop_shuffle()
        })
        .prop_flat_map(|keys| keys.into_iter().map(entry).collect::<Vec<_>>())
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        any::<bool>(),
        any::<bool>(),
        prop::option::weighted(0.9, entries()),
        prop::bool::weighted(0.15),
        prop_oneof![9 => Just("---"), 1 => Just("...")],
        select(BODIES),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(bom, crlf, front, trailing_comment, closer, body, body_lf)| {
                // Without front matter, a body starting with a delimiter would open one.
                let body =
                    if front.is_none() && (body.starts_with("---") || body.starts_with("+++")) {
                        "<p>body</p>\n"
                    } else {
                        body
                    };
                Doc {
                    bom,
                    crlf,
                    front,
                    trailing_comment,
                    closer,
                    body,
                    body_lf,
                }
            },
        )
}

fn scalar_text(text: &str, q: Q) -> String {
    match q {
        Q::Plain => text.to_string(),
        // Single quotes cannot hold escapes: control characters go double-quoted.
        Q::Single if !text.chars().any(char::is_control) => {
            format!("'{}'", text.replace('\'', "''"))
        }
        _ => serde_json::to_string(text).unwrap_or_default(),
    }
}

fn key_text(key: &str) -> String {
    if key == "quoted key" {
        format!("\"{key}\"")
    } else if key == "spaced key" {
        // A blank before the colon.
        format!("{key} ")
    } else {
        key.to_string()
    }
}

fn render_entry(e: &Entry, eol: &str) -> String {
    let key = key_text(e.key);
    let comment = |c: bool| if c { " # note" } else { "" };
    match &e.val {
        Val::Scalar {
            text,
            q,
            comment: c,
        } => {
            format!("{key}: {}{}{eol}", scalar_text(text, *q), comment(*c))
        }
        Val::Empty { comment: c } => format!("{key}:{}{eol}", comment(*c)),
        Val::Multi { lines, how } => {
            let head = match how {
                0 => "|",
                1 => ">-",
                _ => "",
            };
            if head.is_empty() {
                // A double-quoted scalar continued on indented lines (folded into spaces).
                let inner: Vec<String> = lines.iter().map(|l| l.replace('"', "")).collect();
                format!("{key}: \"{}\"{eol}", inner.join(&format!("{eol}  ")))
            } else {
                let mut out = format!("{key}: {head}{eol}");
                for l in lines {
                    out.push_str(&format!("  {l}{eol}"));
                }
                out
            }
        }
        Val::Flow {
            items,
            pad,
            tight,
            comment: c,
        } => {
            let texts: Vec<String> = items.iter().map(|(t, q)| scalar_text(t, *q)).collect();
            let inner = texts.join(if *tight { "," } else { ", " });
            let inner = if *pad && !inner.is_empty() {
                format!(" {inner} ")
            } else {
                inner
            };
            format!("{key}: [{inner}]{}{eol}", comment(*c))
        }
        Val::Block {
            items,
            indent,
            gap,
            comment_after,
            blank_after,
        } => {
            let pad = " ".repeat(*indent);
            let gap = " ".repeat(*gap);
            let mut out = format!("{key}:{eol}");
            let comment_at = comment_after.map(|i| i.index(items.len()));
            let blank_at = blank_after.map(|i| i.index(items.len()));
            for (n, (t, q)) in items.iter().enumerate() {
                out.push_str(&format!("{pad}-{gap}{}{eol}", scalar_text(t, *q)));
                if comment_at == Some(n) {
                    out.push_str(&format!("{pad}# inside the list{eol}"));
                }
                if blank_at == Some(n) && n + 1 < items.len() {
                    out.push_str(eol);
                }
            }
            out
        }
        Val::Words { items, sep, q } => {
            format!("{key}: {}{eol}", scalar_text(&items.join(sep), *q))
        }
    }
}

fn render(d: &Doc) -> Vec<u8> {
    let eol = if d.crlf { "\r\n" } else { "\n" };
    let mut s = String::new();
    if d.bom {
        s.push('\u{feff}');
    }
    if let Some(entries) = &d.front {
        s.push_str("---");
        s.push_str(eol);
        for e in entries {
            if e.blank_before {
                s.push_str(eol);
            }
            if e.comment_before {
                s.push_str(&format!("# about {}{eol}", e.key));
            }
            s.push_str(&render_entry(e, eol));
        }
        if d.trailing_comment {
            s.push_str(&format!("# the end{eol}"));
        }
        s.push_str(d.closer);
        s.push_str(eol);
    }
    if d.crlf && !d.body_lf {
        s.push_str(&d.body.replace('\n', "\r\n"));
    } else {
        s.push_str(d.body);
    }
    s.into_bytes()
}

// ---------------------------------------------------------------------------------------------
// Generated edits
// ---------------------------------------------------------------------------------------------

/// A key an op names: one of the document's (by index), or one it does not have.
#[derive(Debug, Clone)]
enum KeyRef {
    Existing(Index),
    Named(&'static str),
    /// Any name `check_key` accepts (one line, not blank), but `<<`: the front matter reader
    /// takes any `<<` key, quoted or not, for a YAML merge key, so it never reads back.
    Any(String),
}

#[derive(Debug, Clone)]
enum OpG {
    Set(KeyRef, Value),
    Unset(KeyRef),
    Add(&'static str, Vec<String>),
    Remove(&'static str, Vec<String>),
    Rename(&'static str, Vec<String>, String),
}

fn set_value() -> impl Strategy<Value = Value> {
    let strings: Vec<&'static str> = PLAIN_VALUES
        .iter()
        .chain(QUOTED_VALUES)
        .chain(EDIT_ITEMS)
        .copied()
        .collect();
    prop_oneof![
        6 => select(strings).prop_map(|s| Value::String(s.into())),
        3 => "\\PC{0,16}".prop_map(Value::String),
        // Any characters at all: controls, NEL, line and paragraph separators, BOMs.
        2 => "(?s).{0,12}".prop_map(Value::String),
        1 => any::<i64>().prop_map(Value::from),
        1 => (-1.0e6f64..1.0e6).prop_map(Value::from),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => Just(Value::Null),
        2 => prop::collection::vec(select(EDIT_ITEMS), 0..4)
            .prop_map(|v| Value::Array(v.into_iter().map(|s| Value::String(s.into())).collect())),
    ]
}

fn key_ref() -> impl Strategy<Value = KeyRef> {
    prop_oneof![
        6 => any::<Index>().prop_map(KeyRef::Existing),
        2 => select(NEW_KEYS).prop_map(KeyRef::Named),
        1 => select(SCALAR_KEYS).prop_map(KeyRef::Named),
        1 => select(LIST_KEYS).prop_map(KeyRef::Named),
        1 => "[^\\r\\n]{1,8}"
            .prop_filter("a usable name", |k| !k.trim().is_empty() && k != "<<")
            .prop_map(KeyRef::Any),
    ]
}

fn edit_item() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => select(EDIT_ITEMS).prop_map(String::from),
        1 => "\\PC{1,8}",
        1 => "(?s).{1,6}",
    ]
}

fn items() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(edit_item(), 1..3)
}

fn op() -> impl Strategy<Value = OpG> {
    prop_oneof![
        4 => (key_ref(), set_value()).prop_map(|(k, v)| OpG::Set(k, v)),
        2 => key_ref().prop_map(OpG::Unset),
        3 => (select(LIST_KEYS), items()).prop_map(|(k, i)| OpG::Add(k, i)),
        2 => (select(LIST_KEYS), items()).prop_map(|(k, i)| OpG::Remove(k, i)),
        2 => (select(LIST_KEYS), items(), edit_item()).prop_map(|(k, f, t)| OpG::Rename(k, f, t)),
    ]
}

/// The real ops, with `Existing` keys looked up in the document (`title` when it has none).
fn materialize(ops: &[OpG], keys: &[String]) -> Vec<EditOp> {
    let key = |k: &KeyRef| match k {
        KeyRef::Existing(i) if !keys.is_empty() => keys[i.index(keys.len())].clone(),
        KeyRef::Existing(_) => "title".to_string(),
        KeyRef::Named(n) => n.to_string(),
        KeyRef::Any(n) => n.clone(),
    };
    ops.iter()
        .map(|op| match op {
            OpG::Set(k, value) => EditOp::Set {
                key: key(k),
                value: value.clone(),
            },
            OpG::Unset(k) => EditOp::Unset { key: key(k) },
            OpG::Add(k, items) => EditOp::AddItems {
                key: k.to_string(),
                items: items.clone(),
            },
            OpG::Remove(k, items) => EditOp::RemoveItems {
                key: k.to_string(),
                items: items.clone(),
            },
            OpG::Rename(k, from, to) => EditOp::RenameItems {
                key: k.to_string(),
                from: from.clone(),
                to: to.clone(),
            },
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// The intended result, worked out independently of the module
// ---------------------------------------------------------------------------------------------

/// What the front matter should hold after `ops`: the fields, and for each touched key whether
/// only its terms matter (touched by item ops alone).
struct Intended {
    fields: Map<String, Value>,
    /// Key order: the original keys still there, in their order, then the new ones.
    order: Vec<String>,
    touched: Vec<(String, bool)>,
}

fn terms(fields: &Map<String, Value>, key: &str) -> Vec<String> {
    fields
        .get(key)
        .map(|v| post::terms_of(key, v))
        .unwrap_or_default()
}

fn list_value(list: Vec<String>) -> Value {
    Value::Array(list.into_iter().map(Value::String).collect())
}

fn intended(old: &Map<String, Value>, ops: &[EditOp]) -> Intended {
    let mut fields = old.clone();
    let mut touched: Vec<(String, bool)> = Vec::new();
    let mut touch = |key: &str, terms_only: bool| match touched.iter_mut().find(|(k, _)| k == key) {
        Some(t) => t.1 &= terms_only,
        None => touched.push((key.to_string(), terms_only)),
    };
    for op in ops {
        match op {
            EditOp::Set { key, value } => {
                fields.insert(key.clone(), value.clone());
                touch(key, false);
            }
            EditOp::Unset { key } => {
                fields.shift_remove(key);
                touch(key, false);
            }
            EditOp::AddItems { key, items } => {
                let mut list = terms(&fields, key);
                for i in items {
                    let i = i.trim();
                    if !i.is_empty() && !list.iter().any(|t| t == i) {
                        list.push(i.to_string());
                    }
                }
                fields.insert(key.clone(), list_value(list));
                touch(key, true);
            }
            EditOp::RemoveItems { key, items } => {
                if fields.contains_key(key) {
                    let list = terms(&fields, key)
                        .into_iter()
                        .filter(|t| !items.contains(t))
                        .collect();
                    fields.insert(key.clone(), list_value(list));
                    touch(key, true);
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
                    fields.insert(key.clone(), list_value(list));
                    touch(key, true);
                }
            }
            EditOp::Replace { .. }
            | EditOp::Raw { .. }
            | EditOp::Clean { .. }
            | EditOp::DateFrom { .. } => unreachable!("not generated"),
        }
    }
    let mut order: Vec<String> = old
        .keys()
        .filter(|k| fields.contains_key(*k))
        .cloned()
        .collect();
    // New keys in the order they were first named.
    order.extend(
        touched
            .iter()
            .map(|(k, _)| k)
            .filter(|k| !old.contains_key(*k) && fields.contains_key(*k))
            .cloned(),
    );
    Intended {
        fields,
        order,
        touched,
    }
}

impl Intended {
    fn terms_only(&self, key: &str) -> bool {
        self.touched.iter().any(|(k, t)| k == key && *t)
    }

    /// Whether `key` ends up different from `old` (so its bytes may change).
    fn changed(&self, old: &Map<String, Value>, key: &str) -> bool {
        match (old.get(key), self.fields.get(key)) {
            (None, None) => false,
            (Some(a), Some(b)) if self.terms_only(key) => {
                post::terms_of(key, a) != post::terms_of(key, b)
            }
            (a, b) => a != b,
        }
    }

    fn same(&self, key: &str, got: Option<&Value>) -> bool {
        let want = self.fields.get(key);
        if self.terms_only(key) {
            got.map(|g| post::terms_of(key, g)) == want.map(|w| post::terms_of(key, w))
        } else {
            got == want
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Checks
// ---------------------------------------------------------------------------------------------

fn show(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

/// (a) and (b) for one edit whose result is `out`. Err: what is wrong.
/// `reeditable`: also require that the result can be edited again (key spans found) when the
/// original could.
fn check_edit(
    before: &[u8],
    old: &Layout,
    ops: &[EditOp],
    out: &[u8],
    reeditable: bool,
) -> Result<(), String> {
    let want = intended(&old.fields, ops);
    let new = post::layout(out).ok_or("the result is not text")?;
    if let Some(err) = &new.error {
        return Err(format!("the result does not parse: {err}"));
    }
    if !new.exact_utf8 || new.unclosed {
        return Err("the result is not clean, closed UTF-8 front matter".into());
    }
    // (a) The values, and the key order.
    let got_order: Vec<&String> = new.fields.keys().collect();
    if !got_order.iter().copied().eq(want.order.iter()) {
        return Err(format!(
            "key order: got {got_order:?}, want {:?}",
            want.order
        ));
    }
    for key in &want.order {
        if !want.same(key, new.fields.get(key)) {
            return Err(format!(
                "`{key}` reads back as {:?}, want {:?}",
                new.fields.get(key),
                want.fields.get(key)
            ));
        }
    }
    // The result can be edited again, like the original.
    if reeditable && old.key_spans.is_some() && new.key_spans.is_none() {
        return Err("the result can no longer be edited in place (no key spans)".into());
    }
    // (b) BOM, line endings, body.
    if before.starts_with("\u{feff}".as_bytes()) != out.starts_with("\u{feff}".as_bytes()) {
        return Err("the BOM changed".into());
    }
    if old.kind != FrontMatterKind::None && old.crlf != new.crlf {
        return Err("the line endings changed".into());
    }
    let head = out.get(..new.body_offset).unwrap_or_default();
    let old_head = before.get(..old.body_offset).unwrap_or_default();
    if old.crlf && lone_lfs(head) > lone_lfs(old_head) {
        return Err("an LF line ending in a CRLF file".into());
    }
    let crs = |b: &[u8]| b.iter().filter(|&&c| c == b'\r').count();
    if !old.crlf && crs(head) > crs(old_head) {
        return Err("a CR in an LF file".into());
    }
    if before.get(old.body_offset..) != out.get(new.body_offset..) {
        return Err("the body changed".into());
    }
    // (b) Every byte outside the changed keys' spans: the original, cut at each changed span
    // (and at the end of the front matter when keys are added), must be found in order; the
    // first piece is a prefix and the last a suffix of the result.
    let spans = old.key_spans.as_deref().unwrap_or_default();
    let mut cuts: Vec<(usize, usize)> = spans
        .iter()
        .filter(|s| want.changed(&old.fields, &s.key))
        .map(|s| {
            if want.fields.contains_key(&s.key) {
                (s.start, s.end)
            } else {
                // A removed key takes the indented comment lines right after it along.
                (
                    s.start,
                    s.end + indented_comments(before, s.end, old.front_matter_end),
                )
            }
        })
        .collect();
    let adds = want.order.iter().any(|k| !old.fields.contains_key(k));
    if adds {
        cuts.push((old.front_matter_end, old.front_matter_end));
    }
    cuts.sort();
    let mut pieces: Vec<&[u8]> = Vec::new();
    let mut pos = 0;
    for (start, end) in &cuts {
        pieces.push(before.get(pos..*start).ok_or("bad span")?);
        pos = *end;
    }
    pieces.push(before.get(pos..).ok_or("bad span")?);
    let (first, rest) = pieces.split_first().ok_or("no pieces")?;
    if !out.starts_with(first) {
        return Err(format!(
            "the bytes before the edited key changed: {}",
            show(first)
        ));
    }
    let (last, middle) = rest
        .split_last()
        .map_or((&b""[..], &[][..]), |(l, m)| (*l, m));
    let mut at = first.len();
    for piece in middle.iter().filter(|p| !p.is_empty()) {
        match out
            .get(at..)
            .unwrap_or_default()
            .windows(piece.len())
            .position(|w| w == *piece)
        {
            Some(i) => at += i + piece.len(),
            None => return Err(format!("lost the unchanged bytes {}", show(piece))),
        }
    }
    if !rest.is_empty() && (!out.ends_with(last) || out.len() - last.len() < at) {
        return Err(format!(
            "the bytes after the edited key changed: {}",
            show(last)
        ));
    }
    if cuts.is_empty() && out != before {
        return Err("nothing was meant to change, yet bytes did".into());
    }
    Ok(())
}

/// Length of the indented comment lines starting at `at` (before `limit`).
fn indented_comments(bytes: &[u8], at: usize, limit: usize) -> usize {
    let mut len = 0;
    for line in bytes
        .get(at..limit)
        .unwrap_or_default()
        .split_inclusive(|&b| b == b'\n')
    {
        let blanks = line
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        if blanks == 0 || line.get(blanks) != Some(&b'#') {
            break;
        }
        len += line.len();
    }
    len
}

/// `\n` not preceded by `\r`.
fn lone_lfs(b: &[u8]) -> usize {
    (0..b.len())
        .filter(|&i| b[i] == b'\n' && (i == 0 || b[i - 1] != b'\r'))
        .count()
}

fn doc_keys(layout: &Layout) -> Vec<String> {
    layout.fields.keys().cloned().collect()
}

// ---------------------------------------------------------------------------------------------
// The properties
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// (a) + (b): generated documents, random edits.
    #[test]
    fn edits_read_back_as_intended_and_touch_no_other_byte(
        d in doc(),
        ops in prop::collection::vec(op(), 1..4),
    ) {
        let before = render(&d);
        let old = post::layout(&before).expect("generated files are text");
        prop_assert!(old.error.is_none(), "generated front matter does not parse: {:?}\n{}", old.error, show(&before));
        prop_assert!(old.key_spans.is_some(), "generated front matter has no key spans:\n{}", show(&before));
        let ops = materialize(&ops, &doc_keys(&old));
        match edit_bytes(&before, &ops) {
            Ok(Some(out)) => {
                if let Err(why) = check_edit(&before, &old, &ops, &out, true) {
                    prop_assert!(false, "{why}\nops: {ops:?}\nbefore: {}\nafter:  {}", show(&before), show(&out));
                }
                // (c) Doing one op again changes nothing. (Sequences need not be idempotent:
                // `remove a; add a` moves `a` to the end each time.)
                let again = if ops.len() > 1 { Ok(None) } else { edit_bytes(&out, &ops) };
                prop_assert!(again == Ok(None), "repeating the edit: {:?}\nops: {ops:?}\nafter: {}", again.map(|o| o.map(|b| show(&b))), show(&out));
            }
            Ok(None) => {
                let want = intended(&old.fields, &ops);
                let changed: Vec<&String> = want.order.iter().filter(|k| want.changed(&old.fields, k)).collect();
                let removed: Vec<&String> = old.fields.keys().filter(|k| !want.fields.contains_key(*k)).collect();
                prop_assert!(changed.is_empty() && removed.is_empty(),
                    "Ok(None) but {changed:?} should change and {removed:?} go\nops: {ops:?}\nbefore: {}", show(&before));
            }
            Err(why) => {
                let kind = why.kind();
                prop_assert!(false, "refused ({kind}): {why}\nops: {ops:?}\nbefore: {}", show(&before));
            }
        }
    }

    /// (a) + (b) for one op on one key at a time: the strict form, prefix and suffix around the
    /// one span.
    #[test]
    fn one_edit_changes_one_span(d in doc(), op in op()) {
        let before = render(&d);
        let old = post::layout(&before).expect("generated files are text");
        let ops = materialize(&[op], &doc_keys(&old));
        if let Ok(Some(out)) = edit_bytes(&before, &ops) {
            let key = match &ops[0] {
                EditOp::Set { key, .. } | EditOp::Unset { key } | EditOp::AddItems { key, .. }
                | EditOp::RemoveItems { key, .. } | EditOp::RenameItems { key, .. } => key.clone(),
                _ => unreachable!(),
            };
            let span = old.key_spans.as_deref().unwrap_or_default().iter().find(|s| s.key == key).cloned();
            let gone = post::layout(&out).is_some_and(|l| !l.fields.contains_key(&key));
            let (start, end) = span.map_or((old.front_matter_end, old.front_matter_end), |s| {
                // A removed key takes the indented comment lines right after it along.
                let extra = if gone { indented_comments(&before, s.end, old.front_matter_end) } else { 0 };
                (s.start, s.end + extra)
            });
            prop_assert!(out.starts_with(&before[..start]), "prefix changed\nops: {ops:?}\nbefore: {}\nafter:  {}", show(&before), show(&out));
            prop_assert!(out.ends_with(&before[end..]), "suffix changed\nops: {ops:?}\nbefore: {}\nafter:  {}", show(&before), show(&out));
            prop_assert!(out.len() >= start + (before.len() - end));
            if let Err(why) = check_edit(&before, &old, &ops, &out, true) {
                prop_assert!(false, "{why}\nops: {ops:?}\nbefore: {}\nafter:  {}", show(&before), show(&out));
            }
        }
    }

    /// (c) Edits that change nothing return Ok(None): setting a key to the value it has, adding
    /// an item that is there (padded or not), removing or renaming one that is not, unsetting a
    /// missing key.
    #[test]
    fn no_op_edits_write_nothing(d in doc(), pick in any::<Index>(), which in 0..6u8, pad in any::<bool>()) {
        let before = render(&d);
        let old = post::layout(&before).expect("generated files are text");
        let keys = doc_keys(&old);
        let absent = "no-such-item-anywhere".to_string();
        let ops: Vec<EditOp> = match which {
            0 if !keys.is_empty() => {
                let key = keys[pick.index(keys.len())].clone();
                vec![EditOp::Set { value: old.fields[&key].clone(), key }]
            }
            1 => {
                let present: Vec<(String, String)> = LIST_KEYS.iter()
                    .flat_map(|k| terms(&old.fields, k).into_iter().map(move |t| (k.to_string(), t)))
                    .collect();
                if present.is_empty() {
                    vec![EditOp::Unset { key: "not-a-key".into() }]
                } else {
                    let (key, t) = present[pick.index(present.len())].clone();
                    let t = if pad { format!("  {t} ") } else { t };
                    vec![EditOp::AddItems { key, items: vec![t] }]
                }
            }
            2 => LIST_KEYS.iter().map(|k| EditOp::RemoveItems { key: k.to_string(), items: vec![absent.clone()] }).collect(),
            3 => LIST_KEYS.iter().map(|k| EditOp::RenameItems { key: k.to_string(), from: vec![absent.clone()], to: "x".into() }).collect(),
            4 => vec![EditOp::Unset { key: "not-a-key".into() }, EditOp::Unset { key: "no such key".into() }],
            _ => keys.iter().map(|k| EditOp::Set { key: k.clone(), value: old.fields[k].clone() }).collect(),
        };
        let r = edit_bytes(&before, &ops);
        prop_assert!(r == Ok(None), "{:?}\nops: {ops:?}\nbefore: {}", r.map(|o| o.map(|b| show(&b))), show(&before));
    }

    /// (d) Arbitrary bytes never panic.
    #[test]
    fn arbitrary_bytes_never_panic(
        head in prop_oneof![Just(&b""[..]), Just(&b"---\n"[..]), Just(&b"\xEF\xBB\xBF---\r\n"[..]), Just(&b"+++\n"[..])],
        bytes in prop::collection::vec(any::<u8>(), 0..512),
        ops in prop::collection::vec(op(), 1..3),
    ) {
        let mut input = head.to_vec();
        input.extend_from_slice(&bytes);
        let keys = post::layout(&input).map(|l| doc_keys(&l)).unwrap_or_default();
        let _ = edit_bytes(&input, &materialize(&ops, &keys));
    }

    /// (d) Damaged documents (bytes replaced, inserted, removed — YAML-ish ones among them) never
    /// panic, and whatever the module accepts to edit is edited correctly.
    #[test]
    fn damaged_documents_never_panic_and_accepted_edits_are_right(
        d in doc(),
        damage in prop::collection::vec(
            (any::<Index>(), 0..3u8, select(&[b':', b'#', b'\'', b'"', b'[', b']', b'-', b' ', b'\n', b'\r', b'\t', b'{', b'&', b'*', b'|', b'>', 0xE4, 0x80, b'a'][..])),
            1..4,
        ),
        ops in prop::collection::vec(op(), 1..3),
    ) {
        let mut bytes = render(&d);
        for (at, how, b) in damage {
            let i = at.index(bytes.len() + 1);
            match how {
                0 if i < bytes.len() => bytes[i] = b,
                1 if i < bytes.len() => { bytes.remove(i); }
                _ => bytes.insert(i, b),
            }
        }
        let Some(old) = post::layout(&bytes) else { return Ok(()); };
        let ops = materialize(&ops, &doc_keys(&old));
        if let Ok(Some(out)) = edit_bytes(&bytes, &ops) {
            if let Err(why) = check_edit(&bytes, &old, &ops, &out, false) {
                prop_assert!(false, "{why}\nops: {ops:?}\nbefore: {}\nafter:  {}", show(&bytes), show(&out));
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// New keys with names YAML reads as something else
// ---------------------------------------------------------------------------------------------

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A new key whose name YAML would read as null, a boolean or a number must be written so that
    /// it reads back as the name given (quoted as needed). A refusal counts as a failure here:
    /// nothing stops such a key from being written correctly.
    #[test]
    fn odd_new_key_names_read_back_as_given(d in doc(), key in select(ODD_NEW_KEYS), value in set_value()) {
        let before = render(&d);
        let old = post::layout(&before).expect("generated files are text");
        prop_assume!(!old.fields.contains_key(key));
        let ops = vec![EditOp::Set { key: key.to_string(), value }];
        match edit_bytes(&before, &ops) {
            Ok(Some(out)) => {
                if let Err(why) = check_edit(&before, &old, &ops, &out, true) {
                    prop_assert!(false, "{why}\nops: {ops:?}\nbefore: {}\nafter:  {}", show(&before), show(&out));
                }
            }
            other => prop_assert!(false, "{:?}\nops: {ops:?}\nbefore: {}", other.map(|o| o.map(|b| show(&b))), show(&before)),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Cases the properties found, kept as plain tests
// ---------------------------------------------------------------------------------------------

fn edited(file: &str, ops: &[EditOp]) -> String {
    match edit_bytes(file.as_bytes(), ops) {
        Ok(Some(b)) => String::from_utf8(b).unwrap_or_default(),
        Ok(None) => file.to_string(),
        Err(e) => format!("ERR {e}"),
    }
}

fn set(key: &str, value: Value) -> EditOp {
    EditOp::Set {
        key: key.into(),
        value,
    }
}

#[test]
fn an_item_op_that_changes_no_term_leaves_numbers_alone_beside_other_edits() {
    let f = "---\nkeywords:\n- 2021\ntitle: x\n---\n";
    let ops = [
        EditOp::RemoveItems {
            key: "keywords".into(),
            items: vec!["zz".into()],
        },
        set("title", Value::from("y")),
    ];
    assert_eq!(edited(f, &ops), "---\nkeywords:\n- 2021\ntitle: y\n---\n");
}

#[test]
fn unset_then_set_keeps_the_key_in_its_place() {
    let f = "---\ntitle: x\nauthor: a\n---\n";
    let ops = [
        EditOp::Unset {
            key: "title".into(),
        },
        set("title", Value::from("y")),
    ];
    assert_eq!(edited(f, &ops), "---\ntitle: y\nauthor: a\n---\n");
}

#[test]
fn new_keys_yaml_would_read_as_numbers_or_null_are_quoted() {
    assert_eq!(
        edited("---\n---\n", &[set("0x1F", Value::from("v"))]),
        "---\n\"0x1F\": v\n---\n"
    );
    assert_eq!(
        edited("---\n---\n", &[set("null", Value::from("v"))]),
        "---\n\"null\": v\n---\n"
    );
}

#[test]
fn an_empty_value_before_a_comment_is_filled_in_before_the_comment() {
    assert_eq!(
        edited(
            "---\ncategories: # note\n---\n",
            &[set("categories", Value::from(7))]
        ),
        "---\ncategories: 7 # note\n---\n"
    );
}

#[test]
fn flow_items_with_colons_or_quotes_after_blanks_are_quoted() {
    let add = |item: &str| EditOp::AddItems {
        key: "tags".into(),
        items: vec![item.into()],
    };
    // `re:publica` reads back in a flow list; `a:?` does not (the parser stops at the `:`).
    assert_eq!(
        edited("---\ntags: [a]\n---\n", &[add("re:publica")]),
        "---\ntags: [a, re:publica]\n---\n"
    );
    assert_eq!(
        edited("---\ntags: [a]\n---\n", &[add("a:?")]),
        "---\ntags: [a, \"a:?\"]\n---\n"
    );
    assert_eq!(
        edited("---\ntags: [a]\nx: 1\n---\n", &[add("b \"c")]),
        "---\ntags: [a, \"b \\\"c\"]\nx: 1\n---\n"
    );
}

#[test]
fn characters_yaml_does_not_allow_raw_are_escaped() {
    for (value, written) in [
        ("a\u{7f}b", "\"a\\u007fb\""),
        ("a\u{85}b", "\"a\\u0085b\""),
        ("a\u{2028}b", "\"a\\u2028b\""),
        ("a\u{feff}b", "\"a\\ufeffb\""),
    ] {
        assert_eq!(
            edited(
                "---\ntitle: 'x'\n---\n",
                &[set("title", Value::from(value))]
            ),
            format!("---\ntitle: {written}\n---\n"),
            "{value:?}"
        );
    }
}

#[test]
fn a_key_with_an_escape_in_its_name_stays_editable() {
    let out = edited("---\na: 1\n---\n", &[set("tab\tkey", Value::from("v"))]);
    assert_eq!(out, "---\na: 1\n\"tab\\tkey\": v\n---\n");
    let again = edited(&out, &[set("a", Value::from(2))]);
    assert_eq!(again, "---\na: 2\n\"tab\\tkey\": v\n---\n");
}

#[test]
fn removing_a_list_takes_its_indented_comment_along() {
    // Left behind, `  # note` would become a line of `from`'s literal block.
    let f = "---\nfrom: |\n  post\ntags:\n  - a\n  # note\nlayout: post\n---\n";
    assert_eq!(
        edited(f, &[EditOp::Unset { key: "tags".into() }]),
        "---\nfrom: |\n  post\nlayout: post\n---\n"
    );
}

/// The checker itself: it must see bytes changed outside the edited key even where the values
/// still read back right (comments, spacing, line endings, the body).
#[test]
fn the_checker_catches_bytes_changed_outside_the_edited_key() {
    let before = "---\n# c\ntitle: a\ntags: [ x ]\n---\nbody\n".as_bytes();
    let old = post::layout(before).expect("text");
    let ops = [set("title", Value::from("b"))];
    let good = edit_bytes(before, &ops)
        .ok()
        .flatten()
        .map(|b| String::from_utf8(b).unwrap_or_default())
        .unwrap_or_default();
    assert_eq!(good, "---\n# c\ntitle: b\ntags: [ x ]\n---\nbody\n");
    assert_eq!(
        check_edit(before, &old, &ops, good.as_bytes(), true),
        Ok(())
    );
    for bad in [
        good.replace("# c", "#c"),
        good.replace("[ x ]", "[x]"),
        good.replace("body", "Body"),
        good.replace("---\n# c", "---\n\n# c"),
        good.replace('\n', "\r\n"),
        good.replace("title: b", "title: 'b'")
            .replace("tags:", "tags :"),
    ] {
        assert!(
            check_edit(before, &old, &ops, bad.as_bytes(), true).is_err(),
            "{bad:?}"
        );
    }
}
