//! Typed fields read from the front matter map: title, date, author, source URL, tags,
//! categories, layout. Values of the wrong shape become `BadField` problems, never errors.

use super::date;
use super::PostDate;
use crate::problem::{Problem, ProblemKind};
use serde_json::{Map, Value};

/// The typed fields of one post (before the title and date fallbacks are applied).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Fields {
    pub title: Option<String>,
    pub date: Option<PostDate>,
    /// A `date` key was present (so the file name must not stand in for it).
    pub has_date: bool,
    pub author: Option<String>,
    pub source: Option<String>,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub layout: Option<String>,
}

pub(super) fn read_fields(map: &Map<String, Value>, problems: &mut Vec<Problem>) -> Fields {
    let date_value = map.get("date").filter(|v| !is_empty(v));
    let date = date_value.and_then(|value| read_date(value, problems));
    Fields {
        title: map
            .get("title")
            .and_then(|v| field_text("title", v, problems))
            .map(|t| clean_title(&t))
            .filter(|t| !t.is_empty()),
        has_date: date_value.is_some(),
        date,
        author: map
            .get("author")
            .and_then(|v| field_text("author", v, problems))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
        source: ["from", "source", "url", "link"]
            .iter()
            .filter_map(|key| map.get(*key).and_then(scalar_text))
            .map(|t| t.trim().to_owned())
            .find(|t| !t.is_empty()),
        tags: map
            .get("tags")
            .map(|v| term_list("tags", v, problems))
            .unwrap_or_default(),
        categories: map
            .get("categories")
            .map(|v| term_list("categories", v, problems))
            .unwrap_or_default(),
        layout: map
            .get("layout")
            .and_then(|v| field_text("layout", v, problems))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => s.trim().is_empty(),
        _ => false,
    }
}

fn read_date(value: &Value, problems: &mut Vec<Problem>) -> Option<PostDate> {
    let raw = scalar_text(value);
    let parsed = raw.as_deref().and_then(date::parse_date);
    match (raw, parsed) {
        (Some(raw), Some(utc_ms)) => Some(PostDate {
            utc_ms,
            raw,
            from_file_name: false,
        }),
        (raw, _) => {
            let shown = raw.unwrap_or_else(|| value.to_string());
            problems.push(Problem::new(
                ProblemKind::BadField,
                format!(
                    "field `date` has a value that is not a date: `{}`; write it like 2021-01-11, \
                     2021-01-11 11:55:14 +0800 or 2021-01-11T11:55:14Z",
                    shorten(&shown)
                ),
            ));
            None
        }
    }
}

/// Text of a scalar: strings as they are, numbers and booleans written out.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A field that should be text: a list or mapping is reported and ignored.
fn field_text(key: &str, value: &Value, problems: &mut Vec<Problem>) -> Option<String> {
    match value {
        Value::Null => None,
        Value::Array(_) | Value::Object(_) => {
            let shape = if value.is_array() {
                "a list"
            } else {
                "a mapping"
            };
            problems.push(Problem::new(
                ProblemKind::BadField,
                format!(
                    "field `{key}` is {shape} ({}); it should be text",
                    shorten(&value.to_string())
                ),
            ));
            None
        }
        other => scalar_text(other),
    }
}

/// The title as shown: surrounding whitespace (including no-break and ideographic spaces)
/// trimmed, inner runs of whitespace made one space, invisible and control characters dropped.
pub(super) fn clean_title(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut pending_space = false;
    for c in raw.chars() {
        if c.is_whitespace() {
            pending_space = true;
        } else if c.is_control() || is_invisible(c) {
            continue;
        } else {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        }
    }
    out
}

fn is_invisible(c: char) -> bool {
    matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')
}

/// Tags or categories: a list, or a string split on whitespace and commas. Numbers become text,
/// empty items and repeats are dropped (the first one stays).
pub(super) fn term_list(key: &str, value: &Value, problems: &mut Vec<Problem>) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut add = |term: &str| {
        let term =
            term.trim_matches(|c: char| c.is_whitespace() || c.is_control() || is_invisible(c));
        if !term.is_empty() && !terms.iter().any(|t| t == term) {
            terms.push(term.to_owned());
        }
    };
    match value {
        Value::Null => {}
        Value::String(s) => s
            .split(|c: char| c.is_whitespace() || matches!(c, ',' | '，' | '、'))
            .for_each(&mut add),
        Value::Number(_) | Value::Bool(_) => add(&scalar_text(value).unwrap_or_default()),
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Null => {}
                    Value::Array(_) | Value::Object(_) => problems.push(Problem::new(
                        ProblemKind::BadField,
                        format!(
                            "field `{key}` holds a nested {} ({}); it is skipped",
                            if item.is_array() { "list" } else { "mapping" },
                            shorten(&item.to_string())
                        ),
                    )),
                    other => add(&scalar_text(other).unwrap_or_default()),
                }
            }
        }
        Value::Object(_) => problems.push(Problem::new(
            ProblemKind::BadField,
            format!(
                "field `{key}` is a mapping ({}); it should be a list or text",
                shorten(&value.to_string())
            ),
        )),
    }
    terms
}

/// Values quoted in messages are cut to a readable length.
fn shorten(text: &str) -> String {
    const MAX_CHARS: usize = 80;
    if text.chars().count() <= MAX_CHARS {
        return text.to_owned();
    }
    let mut short: String = text.chars().take(MAX_CHARS).collect();
    short.push('…');
    short
}

/// The fallback title: the file name without its `YYYY-MM-DD-` prefix and extension.
pub(super) fn file_name_title(file_name: &str) -> String {
    let without_date = match date::file_name_date(file_name) {
        Some(_) => file_name.get(11..).unwrap_or(file_name),
        None => file_name,
    };
    let stem = match without_date.rsplit_once('.') {
        Some((stem, ext))
            if (1..=10).contains(&ext.len()) && ext.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            stem
        }
        _ => without_date,
    };
    let title = clean_title(stem);
    if title.is_empty() {
        clean_title(file_name)
    } else {
        title
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(value: Value) -> (Fields, Vec<Problem>) {
        let mut problems = Vec::new();
        let map = value.as_object().cloned().unwrap();
        (read_fields(&map, &mut problems), problems)
    }

    #[test]
    fn typical_jekyll_fields_are_read() {
        let (f, problems) = read(json!({
            "layout": "post", "title": " 新冠疫苗：交付\u{3000}", "date": "2021-01-11T11:55:14.000Z",
            "author": "法广", "from": "http://www.rfi.fr/cn/x", "tags": ["法广"], "categories": ["法广"],
        }));
        assert!(problems.is_empty());
        assert_eq!(f.title.as_deref(), Some("新冠疫苗：交付"));
        assert_eq!(
            f.date,
            Some(PostDate {
                utc_ms: 1_610_366_114_000,
                raw: "2021-01-11T11:55:14.000Z".into(),
                from_file_name: false
            })
        );
        assert_eq!(
            (
                f.author.as_deref(),
                f.source.as_deref(),
                f.layout.as_deref()
            ),
            (Some("法广"), Some("http://www.rfi.fr/cn/x"), Some("post"))
        );
        assert_eq!(
            (f.tags, f.categories),
            (vec!["法广".to_string()], vec!["法广".to_string()])
        );
    }

    #[test]
    fn title_is_trimmed_of_nbsp_and_ideographic_spaces_and_numbers_become_text() {
        assert_eq!(
            read(json!({"title": "\u{A0}\u{3000} a \n b\u{200B} "}))
                .0
                .title
                .as_deref(),
            Some("a b")
        );
        assert_eq!(
            read(json!({"title": 2021})).0.title.as_deref(),
            Some("2021")
        );
        assert_eq!(read(json!({"title": "   "})).0.title, None);
    }

    #[test]
    fn a_list_valued_title_is_a_bad_field() {
        let (f, problems) = read(json!({"title": ["a", "b"]}));
        assert_eq!(f.title, None);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, ProblemKind::BadField);
        assert!(problems[0].message.contains("`title`"));
    }

    #[test]
    fn tags_as_a_string_are_split_on_whitespace_and_commas() {
        let (f, _) = read(json!({"tags": "a, b c,,d，e a", "categories": "新闻 国际"}));
        assert_eq!(f.tags, ["a", "b", "c", "d", "e"]);
        assert_eq!(f.categories, ["新闻", "国际"]);
    }

    #[test]
    fn tag_lists_turn_numbers_into_text_and_drop_empties_and_repeats() {
        let (f, problems) =
            read(json!({"tags": [2021, " x ", "", null, "x", true, 1.5, ["nested"]]}));
        assert_eq!(f.tags, ["2021", "x", "true", "1.5"]);
        assert_eq!(problems.len(), 1);
        assert_eq!(read(json!({"tags": 7})).0.tags, ["7"]);
    }

    #[test]
    fn source_is_from_then_source_url_link() {
        assert_eq!(
            read(json!({"url": "u", "from": "f"})).0.source.as_deref(),
            Some("f")
        );
        assert_eq!(
            read(json!({"link": "l", "source": "s"}))
                .0
                .source
                .as_deref(),
            Some("s")
        );
        assert_eq!(
            read(json!({"from": "", "link": "l"})).0.source.as_deref(),
            Some("l")
        );
    }

    #[test]
    fn an_impossible_date_is_a_bad_field_naming_the_value() {
        let (f, problems) = read(json!({"date": "2021-13-45"}));
        assert_eq!(f.date, None);
        assert!(f.has_date);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].kind, ProblemKind::BadField);
        assert!(
            problems[0].message.contains("`date`") && problems[0].message.contains("2021-13-45")
        );
    }

    #[test]
    fn an_empty_date_counts_as_absent() {
        let (f, problems) = read(json!({"date": null}));
        assert!(!f.has_date && problems.is_empty());
    }

    #[test]
    fn file_name_title_drops_the_date_prefix_and_extension() {
        assert_eq!(file_name_title("2021-01-11-新冠疫苗.md"), "新冠疫苗");
        assert_eq!(file_name_title("2021-01-11-a.b.markdown"), "a.b");
        assert_eq!(file_name_title("notes.md"), "notes");
        assert_eq!(file_name_title(" spaced .md"), "spaced");
        assert_eq!(file_name_title(".md"), ".md");
        assert_eq!(file_name_title("2021-01-11-标题. 续"), "标题. 续");
        assert_eq!(file_name_title("2021-01-11-.md"), "2021-01-11-.md");
    }
}
