//! Front matter text → a JSON map of every key, in file order. YAML goes through yaml_serde and
//! TOML through toml, both into one bounded visitor: alias bombs and deep nesting stop at a budget
//! instead of eating memory or the stack.

use serde::de::{
    self, DeserializeSeed, Deserializer, EnumAccess, MapAccess, SeqAccess, VariantAccess, Visitor,
};
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::fmt;

/// Front matter bigger than this is not parsed.
pub(super) const MAX_FRONT_MATTER_BYTES: usize = 1024 * 1024;
/// Deeper nesting than this is refused (real front matter is one or two levels deep).
pub(super) const MAX_DEPTH: usize = 64;
/// Values (scalars, lists, maps) the expanded front matter may hold, aliases counted each time.
const MAX_NODES: usize = 200_000;
/// Bytes of string the expanded front matter may hold.
const MAX_STRING_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub(super) struct FrontMatter {
    pub fields: Map<String, Value>,
    /// Top-level keys written more than once (the last value wins, as in Jekyll).
    pub duplicate_keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum FrontMatterError {
    /// Not valid YAML/TOML. Line and column are 1-based within the front matter text.
    Malformed {
        message: String,
        line: Option<u32>,
        column: Option<u32>,
    },
    /// Valid, but a list or a scalar rather than a mapping.
    NotAMapping { found: &'static str },
    /// Too big, too deep, or aliases that expand too far.
    TooComplex { message: String },
}

pub(super) fn parse_yaml(text: &str) -> Result<FrontMatter, FrontMatterError> {
    screen(text)?;
    let budget = Budget::default();
    let result = JsonSeed {
        budget: &budget,
        depth: 0,
    }
    .deserialize(serde_yaml::Deserializer::from_str(text));
    match result {
        Ok(value) => into_front_matter(value, budget),
        Err(_) if budget.exceeded.get().is_some() => Err(budget.too_complex()),
        Err(err) => {
            let message = strip_positions(&err.to_string());
            if message.contains("recursion limit exceeded")
                || message.contains("repetition limit exceeded")
            {
                return Err(FrontMatterError::TooComplex {
                    message: format!("the front matter nests or repeats too much ({message})"),
                });
            }
            let location = err.location();
            Err(FrontMatterError::Malformed {
                message,
                line: location.as_ref().and_then(|l| u32::try_from(l.line()).ok()),
                column: location
                    .as_ref()
                    .and_then(|l| u32::try_from(l.column()).ok()),
            })
        }
    }
}

pub(super) fn parse_toml(text: &str) -> Result<FrontMatter, FrontMatterError> {
    screen(text)?;
    let budget = Budget::default();
    let result = toml::Deserializer::parse(text).and_then(|de| {
        JsonSeed {
            budget: &budget,
            depth: 0,
        }
        .deserialize(de)
    });
    match result {
        Ok(value) => into_front_matter(value, budget),
        Err(_) if budget.exceeded.get().is_some() => Err(budget.too_complex()),
        Err(err) => {
            let (line, column) = err
                .span()
                .map_or((None, None), |span| line_column(text, span.start));
            let message = err.message().trim().to_string();
            if message.contains("recursion limit") {
                return Err(FrontMatterError::TooComplex {
                    message: format!("the front matter nests too deeply ({message})"),
                });
            }
            Err(FrontMatterError::Malformed {
                message,
                line,
                column,
            })
        }
    }
}

fn into_front_matter(value: Value, budget: Budget) -> Result<FrontMatter, FrontMatterError> {
    let duplicate_keys = budget.duplicate_keys.into_inner();
    match value {
        Value::Object(fields) => Ok(FrontMatter {
            fields,
            duplicate_keys,
        }),
        // Only comments, or nothing at all, between the delimiters.
        Value::Null => Ok(FrontMatter {
            fields: Map::new(),
            duplicate_keys,
        }),
        Value::Array(_) => Err(FrontMatterError::NotAMapping { found: "a list" }),
        Value::String(_) => Err(FrontMatterError::NotAMapping { found: "a string" }),
        Value::Number(_) => Err(FrontMatterError::NotAMapping { found: "a number" }),
        Value::Bool(_) => Err(FrontMatterError::NotAMapping { found: "a boolean" }),
    }
}

/// Cheap checks before a parser sees the text: size, and bracket nesting (which costs the YAML
/// loader memory per level even though the visitor would stop it later).
fn screen(text: &str) -> Result<(), FrontMatterError> {
    if text.len() > MAX_FRONT_MATTER_BYTES {
        return Err(FrontMatterError::TooComplex {
            message: format!(
                "the front matter is {} KiB; more than {} KiB is not read",
                text.len() / 1024,
                MAX_FRONT_MATTER_BYTES / 1024
            ),
        });
    }
    let mut depth = 0usize;
    for b in text.bytes() {
        match b {
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(FrontMatterError::TooComplex {
                        message: format!(
                            "the front matter nests brackets more than {MAX_DEPTH} deep"
                        ),
                    });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parser messages carry positions relative to the front matter; the problem carries file ones.
fn strip_positions(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find(" at line ") {
        out.push_str(&rest[..at]);
        let tail = &rest[at + " at line ".len()..];
        let digits = |s: &str| s.len() - s.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let line_len = digits(tail);
        let after_line = &tail[line_len..];
        rest = match after_line.strip_prefix(" column ") {
            Some(col) if line_len > 0 => &col[digits(col)..],
            _ => after_line,
        };
    }
    out.push_str(rest);
    out
}

/// 1-based (line, column in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (Option<u32>, Option<u32>) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line = before.matches('\n').count() + 1;
    let column = before[line_start..].chars().count() + 1;
    (u32::try_from(line).ok(), u32::try_from(column).ok())
}

#[derive(Default)]
struct Budget {
    nodes: Cell<usize>,
    string_bytes: Cell<usize>,
    exceeded: Cell<Option<&'static str>>,
    duplicate_keys: RefCell<Vec<String>>,
}

impl Budget {
    fn charge<E: de::Error>(&self, string_len: usize) -> Result<(), E> {
        self.nodes.set(self.nodes.get() + 1);
        self.string_bytes
            .set(self.string_bytes.get().saturating_add(string_len));
        if self.nodes.get() > MAX_NODES {
            return Err(self.exceed("its aliases expand to too many values"));
        }
        if self.string_bytes.get() > MAX_STRING_BYTES {
            return Err(self.exceed("its aliases expand to too much text"));
        }
        Ok(())
    }

    fn exceed<E: de::Error>(&self, why: &'static str) -> E {
        self.exceeded.set(Some(why));
        E::custom(why)
    }

    fn too_complex(&self) -> FrontMatterError {
        let why = self.exceeded.get().unwrap_or("it is too complex");
        FrontMatterError::TooComplex {
            message: format!("the front matter is not read: {why}"),
        }
    }
}

/// Builds a `serde_json::Value` from any self-describing deserializer, within a budget.
#[derive(Clone, Copy)]
struct JsonSeed<'b> {
    budget: &'b Budget,
    depth: usize,
}

impl JsonSeed<'_> {
    fn nested<E: de::Error>(self) -> Result<Self, E> {
        if self.depth >= MAX_DEPTH {
            return Err(self.budget.exceed("it nests more than 64 levels deep"));
        }
        Ok(JsonSeed {
            budget: self.budget,
            depth: self.depth + 1,
        })
    }
}

impl<'de> DeserializeSeed<'de> for JsonSeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonSeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(Value::from(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(Value::from(v))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(i64::try_from(v).map_or_else(|_| Value::String(v.to_string()), Value::from))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(u64::try_from(v).map_or_else(|_| Value::String(v.to_string()), Value::from))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        self.budget.charge(0)?;
        // JSON has no NaN or infinity: keep them as text.
        Ok(serde_json::Number::from_f64(v)
            .map_or_else(|| Value::String(v.to_string()), Value::Number))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        self.budget.charge(v.len())?;
        Ok(Value::String(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        self.budget.charge(v.len())?;
        Ok(Value::String(v))
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
        self.budget.charge(v.len())?;
        Ok(Value::String(String::from_utf8_lossy(v).into_owned()))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        self.budget.charge(0)?;
        Ok(Value::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        self.visit_unit()
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<Value, D::Error> {
        self.deserialize(deserializer)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.budget.charge(0)?;
        let inner = self.nested()?;
        let mut items = Vec::new();
        while let Some(item) = seq.next_element_seed(inner)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.budget.charge(0)?;
        let inner = self.nested()?;
        let mut fields = Map::new();
        let mut merged = Vec::new();
        while let Some(key) = map.next_key_seed(inner)? {
            let value = map.next_value_seed(inner)?;
            let key = key_text(key);
            if key == "<<" {
                // YAML merge key: its mappings fill in whatever the mapping does not set itself.
                merged.push(value);
                continue;
            }
            if fields.insert(key.clone(), value).is_some() && self.depth == 0 {
                self.budget.duplicate_keys.borrow_mut().push(key);
            }
        }
        if fields.len() == 1 {
            // toml's datetimes arrive as a one-key map.
            if let Some(Value::String(datetime)) = fields.get("$__toml_private_datetime") {
                return Ok(Value::String(datetime.clone()));
            }
        }
        for source in merged {
            let sources = match source {
                Value::Array(items) => items,
                other => vec![other],
            };
            for source in sources {
                if let Value::Object(source) = source {
                    for (k, v) in source {
                        fields.entry(k).or_insert(v);
                    }
                }
            }
        }
        Ok(Value::Object(fields))
    }

    /// A custom YAML tag (`!foo value`): the tag is dropped, the value kept.
    fn visit_enum<A: EnumAccess<'de>>(self, data: A) -> Result<Value, A::Error> {
        let (_tag, variant): (de::IgnoredAny, _) = data.variant()?;
        variant.newtype_variant_seed(self)
    }
}

/// Keys that are not strings (numbers, booleans, lists) are written the way JSON would write them.
fn key_text(key: Value) -> String {
    match key {
        Value::String(s) => s,
        Value::Null => "null".to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(yaml: &str) -> Map<String, Value> {
        parse_yaml(yaml).unwrap().fields
    }

    #[test]
    fn every_key_is_kept_in_file_order() {
        let f = fields("layout: post\ntitle: \"新闻\"\ndate: 2021-01-11T11:55:14.000Z\ntags: [ 法广 ]\nzeta: 1\nalpha: true\n");
        let keys: Vec<_> = f.keys().map(String::as_str).collect();
        assert_eq!(keys, ["layout", "title", "date", "tags", "zeta", "alpha"]);
        assert_eq!(f["tags"], json!(["法广"]));
        assert_eq!(f["alpha"], json!(true));
    }

    #[test]
    fn timestamps_stay_as_their_original_text() {
        let f = fields("date: 2021-01-11T11:55:14.000Z\nd2: 2021-01-11\nd3: 2021-01-11 11:55:14 +0800\nd4: !!timestamp 2021-01-11\n");
        assert_eq!(f["date"], json!("2021-01-11T11:55:14.000Z"));
        assert_eq!(f["d2"], json!("2021-01-11"));
        assert_eq!(f["d3"], json!("2021-01-11 11:55:14 +0800"));
        assert_eq!(f["d4"], json!("2021-01-11"));
    }

    #[test]
    fn non_string_keys_are_stringified() {
        let f = fields("1: one\ntrue: yes\n~: nothing\n[a, b]: list\n1.5: x\n");
        let keys: Vec<_> = f.keys().map(String::as_str).collect();
        assert_eq!(keys, ["1", "true", "null", "[\"a\",\"b\"]", "1.5"]);
    }

    #[test]
    fn custom_tags_are_dropped_and_merge_keys_applied() {
        let f = fields("a: !secret hidden\nbase: &b {x: 1, y: 2}\nc:\n  <<: *b\n  y: 3\n");
        assert_eq!(f["a"], json!("hidden"));
        assert_eq!(f["c"], json!({"y": 3, "x": 1}));
    }

    #[test]
    fn special_floats_become_text() {
        let f = fields("a: .nan\nb: -.inf\n");
        assert_eq!(f["a"], json!("NaN"));
        assert_eq!(f["b"], json!("-inf"));
    }

    #[test]
    fn empty_or_comment_only_front_matter_is_an_empty_mapping() {
        assert!(fields("").is_empty());
        assert!(fields("# just a comment\n").is_empty());
    }

    #[test]
    fn duplicate_top_level_keys_keep_the_last_value_and_are_reported() {
        let fm = parse_yaml("title: a\ntitle: b\n").unwrap();
        assert_eq!(fm.fields["title"], json!("b"));
        assert_eq!(fm.duplicate_keys, ["title"]);
    }

    #[test]
    fn malformed_yaml_reports_a_position_inside_the_front_matter() {
        let err = parse_yaml("title: ok\ntags: [a, b\nauthor: x\n").unwrap_err();
        let FrontMatterError::Malformed {
            message,
            line,
            column,
        } = err
        else {
            panic!("{err:?}")
        };
        assert!(line.is_some() && column.is_some());
        assert!(!message.contains(" at line "), "{message}");
        let err = parse_yaml("title: \"unterminated\nnext: 1\n").unwrap_err();
        assert!(matches!(err, FrontMatterError::Malformed { .. }), "{err:?}");
    }

    #[test]
    fn lists_and_scalars_are_not_mappings() {
        assert_eq!(
            parse_yaml("- a\n- b\n").unwrap_err(),
            FrontMatterError::NotAMapping { found: "a list" }
        );
        assert_eq!(
            parse_yaml("just text\n").unwrap_err(),
            FrontMatterError::NotAMapping { found: "a string" }
        );
    }

    #[test]
    fn billion_laughs_stops_quickly_as_too_complex() {
        let mut yaml = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for level in 1..10 {
            let prev = (b'a' + level - 1) as char;
            let name = (b'a' + level) as char;
            let refs = vec![format!("*{prev}"); 9].join(",");
            yaml.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        let started = std::time::Instant::now();
        let err = parse_yaml(&yaml).unwrap_err();
        assert!(
            matches!(err, FrontMatterError::TooComplex { .. }),
            "{err:?}"
        );
        assert!(started.elapsed().as_secs() < 5);
    }

    #[test]
    fn wide_aliases_to_a_big_anchor_are_bounded_too() {
        let big = vec!["x"; 20_000].join(",");
        let refs = vec!["*a"; 2_000].join(",");
        let yaml = format!("a: &a [{big}]\nb: [{refs}]\n");
        assert!(matches!(
            parse_yaml(&yaml).unwrap_err(),
            FrontMatterError::TooComplex { .. }
        ));
    }

    #[test]
    fn a_few_aliases_are_fine() {
        let f = fields("base: &b [x, y]\ntags: *b\n");
        assert_eq!(f["tags"], json!(["x", "y"]));
    }

    #[test]
    fn deep_bracket_nesting_is_refused_without_overflowing_the_stack() {
        for depth in [65, 10_000] {
            let yaml = format!("a: {}{}\n", "[".repeat(depth), "]".repeat(depth));
            assert!(
                matches!(
                    parse_yaml(&yaml).unwrap_err(),
                    FrontMatterError::TooComplex { .. }
                ),
                "{depth}"
            );
        }
        let unclosed = format!("a: {}\n", "[".repeat(10_000));
        assert!(parse_yaml(&unclosed).is_err());
    }

    #[test]
    fn deep_block_nesting_is_refused_without_overflowing_the_stack() {
        let mut yaml = String::new();
        for level in 0..500 {
            yaml.push_str(&" ".repeat(level));
            yaml.push_str("k:\n");
        }
        assert!(matches!(
            parse_yaml(&yaml).unwrap_err(),
            FrontMatterError::TooComplex { .. }
        ));
        let dashes = format!("a: {}x\n", "- ".repeat(5_000));
        assert!(parse_yaml(&dashes).is_err());
    }

    #[test]
    fn nesting_within_the_limit_is_read() {
        let yaml = format!("a: {}1{}\n", "[".repeat(60), "]".repeat(60));
        assert!(parse_yaml(&yaml).is_ok());
    }

    #[test]
    fn oversized_front_matter_is_not_parsed() {
        let yaml = format!("a: \"{}\"\n", "x".repeat(MAX_FRONT_MATTER_BYTES));
        assert!(matches!(
            parse_yaml(&yaml).unwrap_err(),
            FrontMatterError::TooComplex { .. }
        ));
    }

    #[test]
    fn toml_front_matter_is_read_with_datetimes_as_text() {
        let fm = parse_toml("title = \"新闻\"\ndate = 2021-01-11T11:55:14Z\ntags = [\"a\", \"b\"]\n[extra]\nx = 1\n").unwrap();
        assert_eq!(fm.fields["title"], json!("新闻"));
        assert_eq!(fm.fields["date"], json!("2021-01-11T11:55:14Z"));
        assert_eq!(fm.fields["tags"], json!(["a", "b"]));
        assert_eq!(fm.fields["extra"], json!({"x": 1}));
        let keys: Vec<_> = parse_toml("zeta = 1\nalpha = 2\nmid = 3\n")
            .unwrap()
            .fields
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(keys, ["zeta", "alpha", "mid"]);
    }

    #[test]
    fn malformed_toml_reports_a_position() {
        let err = parse_toml("title = \"x\"\ndate = = 3\n").unwrap_err();
        let FrontMatterError::Malformed { line, .. } = err else {
            panic!("{err:?}")
        };
        assert_eq!(line, Some(2));
    }

    #[test]
    fn deep_toml_dotted_keys_do_not_overflow_the_stack() {
        let toml = format!("{} = 1\n", vec!["a"; 10_000].join("."));
        assert!(parse_toml(&toml).is_err());
    }

    proptest::proptest! {
        #[test]
        fn parsers_never_panic_on_yaml_or_toml_like_text(
            text in "([-?:,\\[\\]{}#&*!|>'\"%@`=+. \t\na-c0-9中]|\\.\\.\\.|---){0,80}"
        ) {
            let _ = parse_yaml(&text);
            let _ = parse_toml(&text);
        }
    }

    #[test]
    fn positions_are_stripped_from_parser_messages() {
        assert_eq!(
            strip_positions("did not find expected ',' at line 2 column 11, while parsing a flow sequence at line 2 column 7"),
            "did not find expected ',', while parsing a flow sequence"
        );
        assert_eq!(strip_positions("at line x"), "at line x");
    }
}
