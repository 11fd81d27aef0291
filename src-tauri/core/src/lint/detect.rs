//! The detectors: each row of the index's `posts` table read once, and the findings it has.

use super::variants::{Merges, Terms};
use super::{sql, LintFixInfo, LintKind};
use crate::edit::clean::{self, Markup, Mojibake};
use crate::edit::{CleanHow, DateSource, EditOp};
use crate::error::Result;
use rusqlite::Connection;
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// The kinds of finding, in the order they are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    DateMissing,
    DateUnreadable,
    DateVsFileName,
    DateVsEpoch,
    EpochUnreadable,
    Entities,
    Markup,
    Mojibake,
    Whitespace,
    TagVariants,
    CategoryVariants,
    TitleMissing,
    BodyEmpty,
    SourceNotUrl,
}

impl Kind {
    pub const ALL: &'static [Kind] = &[
        Kind::DateMissing,
        Kind::DateUnreadable,
        Kind::DateVsFileName,
        Kind::DateVsEpoch,
        Kind::EpochUnreadable,
        Kind::Entities,
        Kind::Markup,
        Kind::Mojibake,
        Kind::Whitespace,
        Kind::TagVariants,
        Kind::CategoryVariants,
        Kind::TitleMissing,
        Kind::BodyEmpty,
        Kind::SourceNotUrl,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::DateMissing => "date-missing",
            Kind::DateUnreadable => "date-unreadable",
            Kind::DateVsFileName => "date-vs-file-name",
            Kind::DateVsEpoch => "date-vs-epoch",
            Kind::EpochUnreadable => "epoch-unreadable",
            Kind::Entities => "entities",
            Kind::Markup => "markup",
            Kind::Mojibake => "mojibake",
            Kind::Whitespace => "whitespace",
            Kind::TagVariants => "tag-variants",
            Kind::CategoryVariants => "category-variants",
            Kind::TitleMissing => "title-missing",
            Kind::BodyEmpty => "body-empty",
            Kind::SourceNotUrl => "source-not-url",
        }
    }
}

/// A fix a finding can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fix {
    Clean(CleanHow),
    DateFrom(DateSource),
    /// Variants renamed into their group's most used form.
    Merge,
}

impl Fix {
    pub fn id(self) -> &'static str {
        match self {
            Fix::Clean(CleanHow::DecodeEntities) => "decode-entities",
            Fix::Clean(CleanHow::StripMarkup) => "strip-markup",
            Fix::Clean(CleanHow::Trim) => "trim",
            Fix::Clean(CleanHow::FixMojibake) => "fix-mojibake",
            Fix::DateFrom(DateSource::FileName) => "date-from-file-name",
            Fix::DateFrom(DateSource::Epoch) => "date-from-epoch",
            Fix::Merge => "merge",
        }
    }

    /// The one op of a fix whose op is the same for every post (a date source).
    pub fn single_op(self) -> Option<EditOp> {
        match self {
            Fix::DateFrom(source) => Some(EditOp::DateFrom { source }),
            _ => None,
        }
    }
}

/// The fixes a kind offers, certain ones first.
pub fn fixes_of(kind: Kind) -> &'static [Fix] {
    const FILE_NAME: Fix = Fix::DateFrom(DateSource::FileName);
    const EPOCH: Fix = Fix::DateFrom(DateSource::Epoch);
    match kind {
        Kind::DateMissing | Kind::DateUnreadable => &[FILE_NAME, EPOCH],
        Kind::DateVsFileName => &[FILE_NAME],
        Kind::DateVsEpoch => &[EPOCH],
        Kind::Entities => &[Fix::Clean(CleanHow::DecodeEntities)],
        Kind::Markup => &[Fix::Clean(CleanHow::StripMarkup)],
        Kind::Mojibake => &[Fix::Clean(CleanHow::FixMojibake)],
        Kind::Whitespace => &[Fix::Clean(CleanHow::Trim)],
        Kind::TagVariants | Kind::CategoryVariants => &[Fix::Merge],
        Kind::EpochUnreadable | Kind::TitleMissing | Kind::BodyEmpty | Kind::SourceNotUrl => &[],
    }
}

/// Whether a fix is certain for a kind. A missing date taken from the file name is the date
/// Shelfmark shows already; every other date fix picks one of two sources that disagree.
pub fn is_certain(kind: Kind, fix: Fix) -> bool {
    match fix {
        Fix::Clean(_) | Fix::Merge => true,
        Fix::DateFrom(DateSource::FileName) => kind == Kind::DateMissing,
        Fix::DateFrom(DateSource::Epoch) => false,
    }
}

/// Words for a fix and a note on what it does.
pub fn info(kind: Kind, fix: Fix, posts: u64) -> LintFixInfo {
    let (label, note) = match (kind, fix) {
        (_, Fix::Clean(how)) => (
            how.describe().to_string(),
            match how {
                CleanHow::DecodeEntities => "Character references closed by `;` become the characters they stand for.",
                CleanHow::StripMarkup => "Formatting tags are removed and their text kept; values whose tags carry links or images are left for you.",
                CleanHow::Trim => "Leading and trailing spaces go, runs of spaces and non-breaking spaces become one space (a thin or hair space alone stays, and an address only loses the spaces at its ends); values on several lines are left.",
                CleanHow::FixMojibake => "Text that was UTF-8 read as Latin-1 or Windows-1252 is read again as UTF-8, only where every suspect run reads back cleanly.",
            }
            .to_string(),
        ),
        (Kind::DateMissing, Fix::DateFrom(DateSource::FileName)) => (
            "write the file name's date".into(),
            "Writes the date Shelfmark already shows (the file name's) into the front matter.".into(),
        ),
        (_, Fix::DateFrom(DateSource::FileName)) => (
            "take the day from the file name".into(),
            "Not certain: the file name and the date disagree, and either may be right. The day becomes the file name's; the time and zone the date had are kept.".into(),
        ),
        (_, Fix::DateFrom(DateSource::Epoch)) => (
            "take the date from the epoch comment".into(),
            "Not certain: the epoch comment and the date disagree, and either may be right (one may be when the page was saved). The date becomes the epoch's instant, written in the zone and style the date had.".into(),
        ),
        (_, Fix::Merge) => (
            "merge into the most used form".into(),
            "Each group of names that differ only in case, width, spacing or Traditional/Simplified form becomes its most used name, in place.".into(),
        ),
    };
    LintFixInfo {
        id: fix.id().to_string(),
        label,
        certain: is_certain(kind, fix),
        note,
        posts,
    }
}

/// One row of the index, as the detectors read it.
pub struct Row {
    pub path: Vec<u8>,
    pub path_text: String,
    pub hash: Vec<u8>,
    title: String,
    date_ms: Option<i64>,
    date_raw: Option<String>,
    date_from_name: bool,
    fields: Map<String, Value>,
    epoch_ms: Option<i64>,
    epoch_raw: Option<String>,
    text_chars: i64,
    tags: Vec<String>,
    categories: Vec<String>,
}

/// One finding of one row.
pub struct Hit {
    pub kind: Kind,
    pub field: String,
    pub message: String,
    pub fix: Option<String>,
    /// The fixes that apply to this post.
    pub fixes: Vec<Fix>,
    /// For text fixes: the key and how it is cleaned (the request cleans every such key).
    pub op: Option<OpKey>,
}

/// A `Clean` op, collected over the posts of a fix.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct OpKey {
    key: String,
    how: u8,
}

impl OpKey {
    fn new(key: &str, how: CleanHow) -> OpKey {
        OpKey {
            key: key.to_string(),
            how: how as u8,
        }
    }

    pub fn into_op(self) -> EditOp {
        let how = [
            CleanHow::DecodeEntities,
            CleanHow::StripMarkup,
            CleanHow::Trim,
            CleanHow::FixMojibake,
        ]
        .into_iter()
        .find(|h| *h as u8 == self.how)
        .unwrap_or(CleanHow::Trim);
        EditOp::Clean { key: self.key, how }
    }
}

/// Counts per kind (and per fix) as findings arrive; a post's findings of one kind arrive
/// together.
#[derive(Default)]
pub struct Tally {
    count: HashMap<Kind, u64>,
    posts: HashMap<Kind, u64>,
    fix_posts: HashMap<(Kind, Fix), u64>,
    last: HashMap<Kind, Vec<u8>>,
    last_fix: HashMap<(Kind, Fix), Vec<u8>>,
}

impl Tally {
    pub fn add(&mut self, post: &Row, hit: &Hit) {
        *self.count.entry(hit.kind).or_default() += 1;
        let last = self.last.entry(hit.kind).or_default();
        if *last != post.path {
            *self.posts.entry(hit.kind).or_default() += 1;
            last.clone_from(&post.path);
        }
        for fix in &hit.fixes {
            let last = self.last_fix.entry((hit.kind, *fix)).or_default();
            if *last != post.path {
                *self.fix_posts.entry((hit.kind, *fix)).or_default() += 1;
                last.clone_from(&post.path);
            }
        }
    }

    pub fn kinds(&self) -> Vec<LintKind> {
        Kind::ALL
            .iter()
            .map(|&kind| {
                let choices: Vec<LintFixInfo> = fixes_of(kind)
                    .iter()
                    .filter_map(|&fix| {
                        let posts = self.fix_posts.get(&(kind, fix)).copied().unwrap_or(0);
                        (posts > 0).then(|| info(kind, fix, posts))
                    })
                    .collect();
                LintKind {
                    kind: kind.as_str().to_string(),
                    count: self.count.get(&kind).copied().unwrap_or(0),
                    posts: self.posts.get(&kind).copied().unwrap_or(0),
                    fix: choices.iter().find(|c| c.certain).cloned(),
                    choices,
                }
            })
            .collect()
    }
}

/// What a scan of the index found besides the findings: the posts read and the variant groups.
pub struct Scanned {
    pub posts: u64,
    pub merges: Merges,
}

/// Problems after which the front matter's fields are not read: a missing date or title there
/// is that problem, not a finding of its own.
const FRONT_MATTER_PROBLEMS: &str = "'unclosed-front-matter', 'malformed-front-matter', \
     'not-a-mapping', 'front-matter-too-complex', 'binary', 'encoding'";

/// Call `f` with every finding of every post: one pass over the posts, and a second over their
/// tags and categories when some differ only in form. Reads inside one read transaction, so both
/// passes see the same index.
pub fn scan(conn: &Connection, f: &mut dyn FnMut(&Row, Hit)) -> Result<Scanned> {
    let tx = sql(conn.unchecked_transaction())?;
    let unread: HashSet<Vec<u8>> = {
        let mut stmt = sql(tx.prepare(&format!(
            "SELECT DISTINCT path FROM problems WHERE kind IN ({FRONT_MATTER_PROBLEMS})"
        )))?;
        let rows = sql(stmt.query_map([], |r| r.get::<_, Vec<u8>>(0)))?;
        sql(rows.collect::<rusqlite::Result<_>>())?
    };
    let mut terms = Terms::default();
    let mut posts = 0u64;
    {
        let mut stmt = sql(tx.prepare(&format!(
            "SELECT path, path_text, hash, date_ms, date_from_name, epoch_ms, epoch_raw,
                 text_chars, {} FROM posts ORDER BY path",
            crate::store::fields::COLUMNS
        )))?;
        let mut rows = sql(stmt.query([]))?;
        while let Some(r) = sql(rows.next())? {
            let c = sql(crate::store::fields::Columns::read(r, 8))?;
            let row = Row {
                path: sql(r.get(0))?,
                path_text: sql(r.get(1))?,
                hash: sql(r.get(2))?,
                title: c.title,
                date_ms: sql(r.get(3))?,
                date_raw: c.date_raw,
                date_from_name: sql(r.get(4))?,
                fields: c.fields.unwrap_or_default(),
                epoch_ms: sql(r.get(5))?,
                epoch_raw: sql(r.get(6))?,
                text_chars: sql(r.get(7))?,
                tags: c.tags,
                categories: c.categories,
            };
            posts += 1;
            terms.count(&row.tags, &row.categories);
            row_hits(&row, !unread.contains(&row.path), f);
        }
    }
    let merges = terms.merges();
    if !merges.is_empty() {
        let mut stmt = sql(
            tx.prepare("SELECT path, path_text, hash, tags, categories FROM posts ORDER BY path")
        )?;
        let mut rows = sql(stmt.query([]))?;
        while let Some(r) = sql(rows.next())? {
            let json_list = |i: usize| -> rusqlite::Result<Vec<String>> {
                let text: String = r.get(i)?;
                Ok(serde_json::from_str(&text).unwrap_or_default())
            };
            let row = Row {
                path: sql(r.get(0))?,
                path_text: sql(r.get(1))?,
                hash: sql(r.get(2))?,
                title: String::new(),
                date_ms: None,
                date_raw: None,
                date_from_name: false,
                fields: Map::new(),
                epoch_ms: None,
                epoch_raw: None,
                text_chars: 0,
                tags: sql(json_list(3))?,
                categories: sql(json_list(4))?,
            };
            merges.hits(Kind::TagVariants, "tags", &row.tags, &mut |hit| {
                f(&row, hit)
            });
            merges.hits(
                Kind::CategoryVariants,
                "categories",
                &row.categories,
                &mut |hit| f(&row, hit),
            );
        }
    }
    drop(tx);
    Ok(Scanned { posts, merges })
}

/// A value cut for a message.
pub fn shown(s: &str) -> String {
    const MAX: usize = 120;
    let one_line: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    match one_line.char_indices().nth(MAX) {
        Some((i, _)) => format!("{}…", one_line.get(..i).unwrap_or_default()),
        None => one_line,
    }
}

/// The last component of a path.
fn file_name(path: &[u8]) -> String {
    let name = path.rsplit(|&b| b == b'/').next().unwrap_or_default();
    String::from_utf8_lossy(name).into_owned()
}

fn is_blank(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) => s.trim().is_empty(),
        _ => false,
    }
}

/// Text of a scalar value.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An instant shown in the zone of a date text (UTC when it has none).
fn instant_like(ms: i64, raw: Option<&str>) -> String {
    clean::date_from(DateSource::Epoch, raw, "", Some(ms)).unwrap_or_else(|| ms.to_string())
}

/// The findings of one row (all but tag and category variants).
fn row_hits(row: &Row, fields_read: bool, f: &mut dyn FnMut(&Row, Hit)) {
    let mut emit = |hit: Hit| f(row, hit);
    let name = file_name(&row.path);
    let file_day = crate::post::file_name_date(&name).map(|(_, day)| day.to_string());
    let date_value = row.fields.get("date").filter(|v| !is_blank(Some(v)));
    let raw = date_value.and_then(scalar);
    let from = |source: DateSource| {
        clean::date_from(source, raw.as_deref(), &name, row.epoch_ms)
            .map(|d| (Fix::DateFrom(source), d))
    };
    // Dates.
    if fields_read && date_value.is_none() {
        let options: Vec<(Fix, String)> = [DateSource::FileName, DateSource::Epoch]
            .into_iter()
            .filter_map(from)
            .collect();
        let message = match &file_day {
            Some(day) => format!("no `date`; the file name gives {day}, which is shown"),
            None if row.epoch_ms.is_some() => {
                "no `date`; only the epoch comment at the top of the body gives one".to_string()
            }
            None => "no `date`, and neither the file name nor an epoch comment gives one".into(),
        };
        emit(Hit {
            kind: Kind::DateMissing,
            field: "date".into(),
            message,
            fix: options.first().map(|(_, d)| format!("date: {d}")),
            fixes: options.iter().map(|(fix, _)| *fix).collect(),
            op: None,
        });
    } else if date_value.is_some() && row.date_ms.is_none() {
        let options: Vec<(Fix, String)> = [DateSource::FileName, DateSource::Epoch]
            .into_iter()
            .filter_map(from)
            .collect();
        emit(Hit {
            kind: Kind::DateUnreadable,
            field: "date".into(),
            message: format!(
                "`date` is not a date Shelfmark can read: `{}`",
                shown(
                    &raw.clone()
                        .or_else(|| date_value.map(Value::to_string))
                        .unwrap_or_default()
                )
            ),
            fix: options.first().map(|(_, d)| format!("date: {d}")),
            fixes: options.iter().map(|(fix, _)| *fix).collect(),
            op: None,
        });
    } else if let (Some(date_ms), false) = (row.date_ms, row.date_from_name) {
        let raw = row
            .date_raw
            .as_deref()
            .or(raw.as_deref())
            .unwrap_or_default();
        // The day as written, in the date's own zone.
        let written = clean::written_day(raw).map(|d| d.format("%Y-%m-%d").to_string());
        if let (Some(day), Some(written)) = (&file_day, &written) {
            if day != written {
                let new = from(DateSource::FileName);
                emit(Hit {
                    kind: Kind::DateVsFileName,
                    field: "date".into(),
                    message: format!(
                        "`date` is {written} (`{}`) but the file name says {day}",
                        shown(raw)
                    ),
                    fix: new.as_ref().map(|(_, d)| format!("date: {d}")),
                    fixes: new.iter().map(|(fix, _)| *fix).collect(),
                    op: None,
                });
            }
        }
        if let Some(epoch) = row.epoch_ms {
            let day_only = raw.trim().len() == 10;
            let differs = if day_only {
                let epoch_day = chrono::DateTime::from_timestamp_millis(epoch)
                    .map(|t| t.format("%Y-%m-%d").to_string());
                epoch_day != written
            } else {
                (epoch - date_ms).abs() >= 60_000
            };
            if differs {
                let new = from(DateSource::Epoch);
                emit(Hit {
                    kind: Kind::DateVsEpoch,
                    field: "date".into(),
                    message: format!(
                        "`date` is `{}` but the epoch comment says {}",
                        shown(raw),
                        instant_like(epoch, Some(raw))
                    ),
                    fix: new.as_ref().map(|(_, d)| format!("date: {d}")),
                    fixes: new.iter().map(|(fix, _)| *fix).collect(),
                    op: None,
                });
            }
        }
    }
    if let Some(e) = &row.epoch_raw {
        emit(Hit {
            kind: Kind::EpochUnreadable,
            field: "body".into(),
            message: format!(
                "the epoch comment at the top of the body is `<!--{}-->`, not a number",
                shown(e)
            ),
            fix: None,
            fixes: Vec::new(),
            op: None,
        });
    }
    // Text fields.
    for (key, value) in &row.fields {
        if key == "date" {
            continue;
        }
        let items: Vec<&str> = match value {
            Value::String(s) => vec![s.as_str()],
            Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        for s in items {
            text_hits(key, s, &mut emit);
        }
    }
    // Title, body, source.
    if fields_read && is_blank(row.fields.get("title")) {
        emit(Hit {
            kind: Kind::TitleMissing,
            field: "title".into(),
            message: format!("no `title`; shown as `{}`", shown(&row.title)),
            fix: None,
            fixes: Vec::new(),
            op: None,
        });
    }
    if row.text_chars == 0 {
        emit(Hit {
            kind: Kind::BodyEmpty,
            field: "body".into(),
            message: "the body has no text".into(),
            fix: None,
            fixes: Vec::new(),
            op: None,
        });
    }
    let source = ["from", "source", "url", "link"].iter().find_map(|key| {
        let text = row.fields.get(*key).and_then(scalar)?;
        let text = text.trim().to_string();
        (!text.is_empty()).then_some((*key, text))
    });
    if let Some((key, text)) = source {
        if !is_url(&text) {
            emit(Hit {
                kind: Kind::SourceNotUrl,
                field: key.into(),
                message: format!("`{key}` is not a URL: `{}`", shown(&text)),
                fix: None,
                fixes: Vec::new(),
                op: None,
            });
        }
    }
}

/// A web address: `http`, `https` or `ftp`, with a host.
pub fn is_url(text: &str) -> bool {
    url::Url::parse(text).is_ok_and(|u| {
        matches!(u.scheme(), "http" | "https" | "ftp")
            && u.host_str().is_some_and(|h| !h.is_empty())
    })
}

/// The text findings of one value of `key`.
fn text_hits(key: &str, s: &str, emit: &mut dyn FnMut(Hit)) {
    let text_hit = |kind: Kind, how: CleanHow, what: &str, fixed: Option<String>| Hit {
        kind,
        field: key.to_string(),
        message: format!("`{key}` {what}: `{}`", shown(s)),
        fix: fixed.as_ref().map(|n| format!("{key}: {}", shown(n))),
        fixes: if fixed.is_some() {
            vec![Fix::Clean(how)]
        } else {
            Vec::new()
        },
        op: fixed.is_some().then(|| OpKey::new(key, how)),
    };
    if let Some(fixed) = clean::clean(CleanHow::DecodeEntities, s) {
        emit(text_hit(
            Kind::Entities,
            CleanHow::DecodeEntities,
            "holds HTML entities",
            Some(fixed),
        ));
    }
    if !clean::skips_markup(s) {
        match clean::markup(s) {
            Markup::None => {}
            Markup::Safe(_) => emit(text_hit(
                Kind::Markup,
                CleanHow::StripMarkup,
                "holds markup",
                clean::clean(CleanHow::StripMarkup, s),
            )),
            Markup::Unsafe => emit(text_hit(
                Kind::Markup,
                CleanHow::StripMarkup,
                "holds markup that carries links, images or attributes, or tags that do not pair up (no automatic fix)",
                None,
            )),
        }
    }
    match clean::mojibake(s) {
        Mojibake::None => {}
        Mojibake::Clean(_) => emit(text_hit(
            Kind::Mojibake,
            CleanHow::FixMojibake,
            "looks like UTF-8 read as Latin-1/Windows-1252",
            clean::clean(CleanHow::FixMojibake, s),
        )),
        Mojibake::Unclean => emit(text_hit(
            Kind::Mojibake,
            CleanHow::FixMojibake,
            "looks partly like UTF-8 read as Latin-1/Windows-1252, but does not read back cleanly (no automatic fix)",
            None,
        )),
    }
    if let Some(fixed) = clean::clean(CleanHow::Trim, s) {
        emit(text_hit(
            Kind::Whitespace,
            CleanHow::Trim,
            "has stray whitespace",
            Some(fixed),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A row as the index would hold it for a file at `path` with these fields and epoch.
    fn row(path: &str, fields: Value, epoch_ms: Option<i64>) -> Row {
        let fields: Map<String, Value> = fields.as_object().cloned().unwrap_or_default();
        let raw = fields.get("date").and_then(scalar);
        let date_ms = raw.as_deref().and_then(crate::post::parse_date);
        Row {
            path: path.as_bytes().to_vec(),
            path_text: path.into(),
            hash: vec![0; 32],
            title: "t".into(),
            date_ms,
            date_raw: raw,
            date_from_name: false,
            fields,
            epoch_ms,
            epoch_raw: None,
            text_chars: 10,
            tags: Vec::new(),
            categories: Vec::new(),
        }
    }

    fn kinds(r: &Row) -> Vec<Kind> {
        let mut out = Vec::new();
        row_hits(r, true, &mut |_, h| out.push(h.kind));
        out
    }

    const P: &str = "_posts/2021-03-04-x.md";

    #[test]
    fn the_file_name_day_is_compared_in_the_dates_own_zone() {
        let k = |date: &str| kinds(&row(P, json!({"title": "t", "date": date}), None));
        // The 4th in its own zone, the 5th in UTC: agrees with the file name.
        assert!(k("2021-03-04T23:30:00-05:00").is_empty());
        // The 5th in its own zone, the 4th in UTC: disagrees.
        assert_eq!(k("2021-03-05T01:00:00+08:00"), vec![Kind::DateVsFileName]);
        assert_eq!(k("2021-03-05"), vec![Kind::DateVsFileName]);
        assert!(k("2021-03-04 10:00:00 +0800").is_empty());
        assert_eq!(k("next week"), vec![Kind::DateUnreadable]);
        assert_eq!(
            kinds(&row(P, json!({"title": "t"}), None)),
            vec![Kind::DateMissing]
        );
    }

    #[test]
    fn the_epoch_disagrees_from_a_minute_or_by_the_day_for_a_day_alone() {
        let at = 1_614_852_000_000; // 2021-03-04T10:00:00Z
        let k = |date: &str, epoch: i64| {
            kinds(&row(P, json!({"title": "t", "date": date}), Some(epoch)))
        };
        assert!(k("2021-03-04T10:00:00Z", at + 59_000).is_empty());
        assert_eq!(
            k("2021-03-04T10:00:00Z", at + 60_000),
            vec![Kind::DateVsEpoch]
        );
        assert!(k("2021-03-04 18:00:00 +0800", at).is_empty());
        assert!(k("2021-03-04", at).is_empty());
        assert_eq!(k("2021-03-04", at + 86_400_000), vec![Kind::DateVsEpoch]);
    }

    #[test]
    fn titles_bodies_sources_and_text_fields() {
        let mut r = row(
            "notes/x.md",
            json!({"date": "2021-01-01", "from": "新华社", "author": "A &amp; B", "tags": [" x"]}),
            None,
        );
        r.text_chars = 0;
        let mut got = kinds(&r);
        got.sort_by_key(|k| k.as_str());
        let mut want = vec![
            Kind::BodyEmpty,
            Kind::Entities,
            Kind::SourceNotUrl,
            Kind::TitleMissing,
            Kind::Whitespace,
        ];
        want.sort_by_key(|k| k.as_str());
        assert_eq!(got, want);
        // Where the front matter could not be read, no field is missing on its own account.
        let mut hits = Vec::new();
        row_hits(&row("notes/y.md", json!({}), None), false, &mut |_, h| {
            hits.push(h.kind)
        });
        assert!(hits.is_empty(), "{hits:?}");
    }
}
