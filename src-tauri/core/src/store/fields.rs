//! `posts.fields`: a post's front matter as JSON, less the values its row's own columns hold.
//!
//! Since schema 17 the fields are a JSON array in front-matter order. A key whose value one of
//! the row's own columns holds exactly (`title`, `date_raw`, `author`, `source` for `from`,
//! `tags`, `categories`, `layout`) is the number of that key in `OWN`; any other key, or one whose
//! value its column does not give back exactly (a title with spaces around it, tags written as
//! one string, a date that is a number), is `[key, value]`. The front matter of most posts is
//! only such keys, so their fields take about 15 bytes instead of repeating the title, date and
//! source (250 bytes a post on the real corpus, 12 MB of 17.6 at 70,000 posts). Indexes of
//! earlier versions hold the JSON object itself, which reads as it is.

use crate::post::Post;
use serde_json::{Map, Value};

/// The keys a row's own columns may stand for, by their number in the stored array.
const OWN: [&str; 7] = [
    "title",
    "date",
    "author",
    "from",
    "tags",
    "categories",
    "layout",
];

/// The values of a row's own columns.
pub struct Own<'a> {
    pub title: &'a str,
    pub date_raw: Option<&'a str>,
    pub author: Option<&'a str>,
    pub source: Option<&'a str>,
    pub tags: &'a [String],
    pub categories: &'a [String],
    pub layout: Option<&'a str>,
}

impl<'a> Own<'a> {
    /// What the writer stores in the row of `p`.
    pub fn of(p: &'a Post) -> Own<'a> {
        Own {
            title: &p.title,
            date_raw: p.date.as_ref().map(|d| d.raw.as_str()),
            author: p.author.as_deref(),
            source: p.source.as_deref(),
            tags: &p.tags,
            categories: &p.categories,
            layout: p.layout.as_deref(),
        }
    }

    /// The value that key number `k` of `OWN` stands for.
    fn value(&self, k: usize) -> Option<Value> {
        let text = |s: &str| Value::String(s.to_owned());
        let list = |l: &[String]| Value::Array(l.iter().map(|s| text(s)).collect());
        match k {
            0 => Some(text(self.title)),
            1 => self.date_raw.map(text),
            2 => self.author.map(text),
            3 => self.source.map(text),
            4 => Some(list(self.tags)),
            5 => Some(list(self.categories)),
            6 => self.layout.map(text),
            _ => None,
        }
    }
}

/// The columns of `posts` that `Columns::read` reads, in its order: select them together.
pub const COLUMNS: &str = "fields, title, date_raw, author, source, tags, categories, layout";

/// A row's front matter with the columns it is stored against (`COLUMNS`).
pub struct Columns {
    /// None when the stored fields are neither form (a damaged index).
    pub fields: Option<Map<String, Value>>,
    pub title: String,
    pub date_raw: Option<String>,
    pub author: Option<String>,
    pub source: Option<String>,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub layout: Option<String>,
}

impl Columns {
    /// Read `COLUMNS`, selected from column `first` of `r` on.
    pub fn read(r: &rusqlite::Row, first: usize) -> rusqlite::Result<Columns> {
        let list = |i: usize| -> rusqlite::Result<Vec<String>> {
            let text: String = r.get(first + i)?;
            Ok(serde_json::from_str(&text).unwrap_or_default())
        };
        let stored: String = r.get(first)?;
        let mut c = Columns {
            fields: None,
            title: r.get(first + 1)?,
            date_raw: r.get(first + 2)?,
            author: r.get(first + 3)?,
            source: r.get(first + 4)?,
            tags: list(5)?,
            categories: list(6)?,
            layout: r.get(first + 7)?,
        };
        let own = Own {
            title: &c.title,
            date_raw: c.date_raw.as_deref(),
            author: c.author.as_deref(),
            source: c.source.as_deref(),
            tags: &c.tags,
            categories: &c.categories,
            layout: c.layout.as_deref(),
        };
        c.fields = unpack(&stored, &own);
        Ok(c)
    }
}

/// The stored form of `fields` in a row whose own columns are `own`.
pub fn pack(fields: &Map<String, Value>, own: &Own) -> String {
    let items: Vec<Value> = fields
        .iter()
        .map(|(key, value)| match OWN.iter().position(|o| o == key) {
            Some(k) if own.value(k).as_ref() == Some(value) => Value::from(k),
            _ => Value::Array(vec![Value::String(key.clone()), value.clone()]),
        })
        .collect();
    serde_json::to_string(&items).unwrap_or_else(|_| "[]".into())
}

/// The fields of a row, from their stored form (either version) and its own columns. None when
/// the stored text is neither form (a damaged index). An item of the array that is neither a
/// key's number nor `[key, value]`, or a number whose column is empty, is left out.
pub fn unpack(stored: &str, own: &Own) -> Option<Map<String, Value>> {
    match serde_json::from_str::<Value>(stored).ok()? {
        Value::Object(fields) => Some(fields),
        Value::Array(items) => Some(
            items
                .into_iter()
                .filter_map(|item| match item {
                    Value::Number(n) => {
                        let k = usize::try_from(n.as_u64()?).ok()?;
                        Some((OWN.get(k)?.to_string(), own.value(k)?))
                    }
                    Value::Array(mut pair) if pair.len() == 2 => {
                        let value = pair.pop()?;
                        match pair.pop()? {
                            Value::String(key) => Some((key, value)),
                            _ => None,
                        }
                    }
                    _ => None,
                })
                .collect(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn strings(l: &[&str]) -> Vec<String> {
        l.iter().map(|s| s.to_string()).collect()
    }

    fn fields(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn values_the_columns_hold_are_stored_as_numbers_in_front_matter_order() {
        let (tags, cats) = (strings(&["大纪元"]), strings(&["新闻", "中国"]));
        let own = Own {
            title: "美媒：代理防长下令",
            date_raw: Some("2020-12-18T15:40:12.000Z"),
            author: Some("大纪元"),
            source: Some("https://www.epochtimes.com/gb/20/12/18/n12630478.htm"),
            tags: &tags,
            categories: &cats,
            layout: Some("post"),
        };
        let f = fields(json!({
            "layout": "post",
            "title": "美媒：代理防长下令",
            "date": "2020-12-18T15:40:12.000Z",
            "author": "大纪元",
            "from": "https://www.epochtimes.com/gb/20/12/18/n12630478.htm",
            "tags": ["大纪元"],
            "categories": ["新闻", "中国"],
            "comments": {"open": true, "n": 3},
        }));
        let stored = pack(&f, &own);
        assert_eq!(
            stored,
            r#"[6,0,1,2,3,4,5,["comments",{"open":true,"n":3}]]"#
        );
        let back = unpack(&stored, &own).unwrap();
        assert_eq!(back, f);
        assert!(back.keys().eq(f.keys()), "the order of the keys is kept");
    }

    #[test]
    fn values_the_columns_do_not_give_back_exactly_are_stored_whole() {
        let tags = strings(&["a", "b"]);
        let own = Own {
            title: "trimmed",
            date_raw: None,
            author: None,
            source: Some("https://x.org/1"),
            tags: &tags,
            categories: &[],
            layout: None,
        };
        let f = fields(json!({
            "title": " trimmed ",
            "date": 1608306012,
            "author": null,
            "from": ["https://x.org/1"],
            "tags": "a, b",
            "categories": [],
            "Title": "trimmed",
        }));
        let stored = pack(&f, &own);
        assert_eq!(
            stored,
            r#"[["title"," trimmed "],["date",1608306012],["author",null],["from",["https://x.org/1"]],["tags","a, b"],5,["Title","trimmed"]]"#
        );
        assert_eq!(unpack(&stored, &own).unwrap(), f);
    }

    #[test]
    fn an_object_of_an_earlier_version_reads_as_it_is_and_damage_reads_as_none_or_less() {
        let own = Own {
            title: "t",
            date_raw: None,
            author: None,
            source: None,
            tags: &[],
            categories: &[],
            layout: None,
        };
        let old = r#"{"title":"other","z":1,"a":2}"#;
        let f = unpack(old, &own).unwrap();
        assert_eq!(
            Value::Object(f.clone()),
            json!({"title": "other", "z": 1, "a": 2})
        );
        assert!(f.keys().eq(["title", "z", "a"]));
        for bad in ["", "nul", "3", "\"x\"", "[1,", "{\"a\":"] {
            assert_eq!(unpack(bad, &own), None, "{bad}");
        }
        // Numbers past the keys, or whose column is empty; pairs that are not a key and a value.
        let damaged =
            r#"[7,-1,1.5,99999999999999999999,1,0,[1,2],["k"],["k",1,2],{"a":1},"s",["ok",true]]"#;
        assert_eq!(
            Value::Object(unpack(damaged, &own).unwrap()),
            json!({"title": "t", "ok": true})
        );
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            "[a-c ]{0,3}".prop_map(Value::from),
        ];
        leaf.prop_recursive(2, 8, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
                prop::collection::vec(("[a-c]{1,2}", inner), 0..3)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
    }

    proptest! {
        /// Whatever the front matter and the columns, the fields come back as they went in, in
        /// their order.
        #[test]
        fn fields_come_back_as_they_went_in(
            entries in prop::collection::vec((
                prop_oneof![
                    prop::sample::select(OWN.to_vec()).prop_map(String::from),
                    "[a-z]{1,3}",
                ],
                prop_oneof![value(), "[a-c ]{0,3}".prop_map(Value::from)],
            ), 0..10),
            title in "[a-c ]{0,3}",
            date_raw in prop::option::of("[a-c ]{0,3}"),
            author in prop::option::of("[a-c ]{0,3}"),
            tags in prop::collection::vec("[a-c]{0,2}", 0..3),
        ) {
            let f: Map<String, Value> = entries.into_iter().collect();
            let own = Own {
                title: &title,
                date_raw: date_raw.as_deref(),
                author: author.as_deref(),
                source: None,
                tags: &tags,
                categories: &[],
                layout: Some("post"),
            };
            let back = unpack(&pack(&f, &own), &own).unwrap();
            prop_assert_eq!(&back, &f);
            prop_assert!(back.keys().eq(f.keys()));
        }
    }
}
