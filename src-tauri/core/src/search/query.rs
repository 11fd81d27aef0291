//! The search query language: what the user types into the search box, parsed into a [`Query`].
//!
//! Pure parsing. No folding (Traditional/Simplified, full-width/half-width, case) and no SQL
//! happen here: atoms carry the text as typed and the search layer decides how to match it.
//! The language is described for users in `docs/QUERY.md`; the rules in short:
//!
//! * Terms are separated by whitespace (any Unicode white space, including the ideographic space
//!   U+3000, plus the zero-width space U+200B, U+2060 and U+FEFF). All terms are required.
//! * `"a phrase"` (also `“…”` and `＂…＂`; `\"` and `\\` escape inside). A quote always starts a
//!   phrase, even in the middle of a word. An unclosed quote runs to the end of the input.
//!   Empty or blank phrases are ignored.
//! * `-term` excludes. Only the first `-` negates (`--x` excludes the text `-x`). A `-` on its own
//!   is ignored.
//! * `a OR b OR c` (uppercase `OR` only) is one clause with three alternatives. An `OR` that does
//!   not stand between two terms (at the start, at the end, or repeated) is ignored. An excluded
//!   term cannot be an alternative (`a OR -b` is an error that says what to write instead).
//! * `field:value` where field is `tag` `category` `author` `site` `title` `path` `date` `has` `page`
//!   (case-insensitive; `tags` and `categories` are accepted too) or any other front matter key
//!   `[A-Za-z_][A-Za-z0-9_-]*`. Values may be quoted: `tag:"two words"`. After a *known* field name
//!   the full-width colon `：` works too (`tag：广告`). A field with an empty value is ignored.
//! * A word is free text, not a field, when the part before the colon is not a valid key
//!   (`10:30`, `两岸：关系`), or the key is not a known field and the value starts with `//`
//!   (`https://a.b/c`), or the key is a single letter and the value starts with `/` or `\`
//!   (`C:\Users`).
//! * `date:` takes a year, month or day (`2021`, `2021-06`, `2021-06-05`; `/`, `.` and `年月日`
//!   work as separators, full-width digits are accepted), a range `A..B` (both ends inclusive of
//!   their whole unit), open ranges `A..` and `..B`, and `>` `>=` `<` `<=`. All in UTC, turned
//!   into a half-open `[from, to)` range of epoch milliseconds.
//! * Limits: a query holds at most [`MAX_QUERY_CHARS`] characters and [`MAX_TERMS`] terms (words,
//!   phrases, filters and OR alternatives), and a term or filter value at most
//!   [`MAX_TERM_CHARS`] characters; past them `parse` says which limit was passed. Saved
//!   searches (smart collections) go through the same `parse`, so a query shipped in an archive
//!   is held to the same limits.

use chrono::{Datelike, NaiveDate, NaiveTime, TimeZone, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A parsed query: every clause must match (implicit AND). No clauses matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Query {
    pub clauses: Vec<Clause>,
}

impl Query {
    /// True when the query has no clauses and so matches every post.
    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// The names of the collections it names (`collection:NAME`), in order, as written.
    pub fn collection_names(&self) -> Vec<&str> {
        self.clauses
            .iter()
            .flat_map(|Clause::Term { alternatives, .. }| alternatives)
            .filter_map(|atom| match atom {
                Atom::Field {
                    field: Field::Collection,
                    value: FieldValue::Text(name),
                } => Some(name.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// One required (or, when `negated`, excluded) part of a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Clause {
    /// Matches when any of `alternatives` matches (`a OR b OR c`); `negated` flips that.
    /// From [`parse`]: `alternatives` is never empty, and a negated clause has exactly one.
    Term {
        negated: bool,
        alternatives: Vec<Atom>,
    },
}

impl Clause {
    pub fn negated(&self) -> bool {
        match self {
            Clause::Term { negated, .. } => *negated,
        }
    }

    pub fn alternatives(&self) -> &[Atom] {
        match self {
            Clause::Term { alternatives, .. } => alternatives,
        }
    }
}

/// The smallest thing a query can ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    /// A free text word as typed (any script; never empty, never contains whitespace or quotes).
    Text(String),
    /// The inner text of a quoted phrase, escapes resolved, otherwise as typed (never blank).
    Phrase(String),
    /// A field filter. From [`parse`]: `Field::Date` always has `FieldValue::DateRange`,
    /// `Field::Has` always has `FieldValue::Has`, every other field has `FieldValue::Text`
    /// (never blank).
    Field { field: Field, value: FieldValue },
}

/// Which part of a post a field filter looks at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Field {
    Tag,
    Category,
    Author,
    /// The host of the source URL (the value is already reduced to a lowercase host).
    Site,
    Title,
    Path,
    Date,
    Has,
    /// Posts in a collection (by name or id), resolved before evaluation (see
    /// `exec::CollectionTerms`).
    Collection,
    /// Free text (a word, or a phrase when quoted) searched in the whole page: the article and
    /// the page around it (free text is searched in the title and article only).
    Page,
    /// Any other front matter key, spelled as typed (the search layer should compare key names
    /// case-insensitively).
    Key(String),
}

impl Field {
    /// The field a name in a query stands for, if it is one of the known fields
    /// (case-insensitive; `tags` and `categories` are accepted as aliases).
    pub fn known(name: &str) -> Option<Field> {
        let f = match name.to_ascii_lowercase().as_str() {
            "tag" | "tags" => Field::Tag,
            "category" | "categories" => Field::Category,
            "author" => Field::Author,
            "site" => Field::Site,
            "title" => Field::Title,
            "path" => Field::Path,
            "date" => Field::Date,
            "has" => Field::Has,
            "collection" | "in" => Field::Collection,
            "page" => Field::Page,
            _ => return None,
        };
        Some(f)
    }

    /// The name to write in a query.
    pub fn name(&self) -> &str {
        match self {
            Field::Tag => "tag",
            Field::Category => "category",
            Field::Author => "author",
            Field::Site => "site",
            Field::Title => "title",
            Field::Path => "path",
            Field::Date => "date",
            Field::Has => "has",
            Field::Collection => "collection",
            Field::Page => "page",
            Field::Key(k) => k,
        }
    }
}

/// The value of a field filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldValue {
    /// Quoted or bare text, as typed (trimmed, except for `title:` and `path:`).
    Text(String),
    DateRange(DateRange),
    Has(HasWhat),
}

/// A half-open range `[from_ms, to_ms)` of UTC instants in milliseconds since the epoch.
/// `None` means unbounded on that side. From [`parse`], bounds fall on UTC midnights, at least one
/// bound is set, and `from_ms < to_ms` when both are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateRange {
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
}

impl DateRange {
    /// Whether an instant falls inside the range.
    pub fn contains(&self, ms: i64) -> bool {
        self.from_ms.is_none_or(|f| ms >= f) && self.to_ms.is_none_or(|t| ms < t)
    }
}

/// What `has:` can check for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HasWhat {
    /// The file has at least one problem (`has:problem`, `has:problems`).
    Problem,
    /// The post has a date (`has:date`).
    Date,
    /// The post has at least one tag (`has:tags`, `has:tag`).
    Tags,
    /// The post has a source URL (`has:source`, `has:url`).
    Source,
}

impl HasWhat {
    fn from_name(name: &str) -> Option<HasWhat> {
        let h = match name.to_lowercase().as_str() {
            "problem" | "problems" => HasWhat::Problem,
            "date" | "dates" => HasWhat::Date,
            "tag" | "tags" => HasWhat::Tags,
            "source" | "sources" | "url" => HasWhat::Source,
            _ => return None,
        };
        Some(h)
    }

    /// The name to write after `has:`.
    pub fn as_str(self) -> &'static str {
        match self {
            HasWhat::Problem => "problem",
            HasWhat::Date => "date",
            HasWhat::Tags => "tags",
            HasWhat::Source => "source",
        }
    }
}

/// How results are ordered. Not part of the query text; chosen separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, ts_rs::TS)]
#[ts(export)]
pub enum Sort {
    /// Best match first (bm25, title weighted above body). The default.
    #[default]
    #[serde(rename = "relevance")]
    Relevance,
    /// Oldest first.
    #[serde(rename = "date")]
    Date,
    /// Newest first.
    #[serde(rename = "-date")]
    DateDesc,
    #[serde(rename = "title")]
    Title,
    #[serde(rename = "path")]
    Path,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Date => "date",
            Sort::DateDesc => "-date",
            Sort::Title => "title",
            Sort::Path => "path",
        }
    }
}

impl FromStr for Sort {
    type Err = QueryError;

    /// `relevance`, `date`, `-date`, `title` or `path` (case-insensitive, surrounding space ignored).
    fn from_str(s: &str) -> Result<Sort, QueryError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "relevance" => Ok(Sort::Relevance),
            "date" => Ok(Sort::Date),
            "-date" => Ok(Sort::DateDesc),
            "title" => Ok(Sort::Title),
            "path" => Ok(Sort::Path),
            _ => Err(QueryError::UnknownSort(s.to_string())),
        }
    }
}

impl fmt::Display for Sort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a query could not be understood. The message says what to write instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    /// `value` is everything after `date:`; `part` the piece that is not a date.
    #[error(
        "{} is not a date; write a year (2021), a month (2021-06) or a day (2021-06-05), \
         or a range such as date:2021-01..2021-06 or date:>=2021-06-01",
        date_lead(.value, .part)
    )]
    NotADate { value: String, part: String },
    #[error("{} is not a valid month; months go from 01 to 12", date_lead(.value, .part))]
    InvalidMonth { value: String, part: String },
    #[error(
        "{} is not a valid day; {year:04}-{month:02} has {days_in_month} days",
        date_lead(.value, .part)
    )]
    InvalidDay {
        value: String,
        part: String,
        year: i32,
        month: u32,
        days_in_month: u32,
    },
    /// `date:..`, `date:>` and the like.
    #[error("date:{0} needs a date, e.g. date:2021-06.., date:..2021-06 or date:>=2021-06-01")]
    MissingDate(String),
    #[error("date:{0} ends before it starts; put the earlier date first")]
    BackwardsDateRange(String),
    #[error("has:{0} is not something Shelfmark can look for; use has:problem, has:date, has:tags or has:source")]
    UnknownHas(String),
    /// An excluded term joined by `OR`; holds the excluded term as typed.
    #[error(
        "{0} cannot be an OR alternative: a term is either excluded or one of several choices. \
         To exclude several things write them without OR (-a -b); to require one thing and \
         exclude another, drop the OR (a -b)"
    )]
    NegatedAlternative(String),
    #[error("unknown sort order \"{0}\"; use relevance, date, -date, title or path")]
    UnknownSort(String),
    /// The whole query is longer than [`MAX_QUERY_CHARS`].
    #[error(
        "the query is {chars} characters long; a query can be at most {MAX_QUERY_CHARS} characters"
    )]
    TooLong { chars: usize },
    /// More terms than [`MAX_TERMS`] (every word, phrase, filter and OR alternative counts).
    #[error("the query has {terms} terms; a query can have at most {MAX_TERMS} terms")]
    TooManyTerms { terms: usize },
    /// One term longer than [`MAX_TERM_CHARS`]; holds its first characters.
    #[error(
        "the term \"{start}…\" is {chars} characters long; a term can be at most {MAX_TERM_CHARS} characters"
    )]
    TermTooLong { start: String, chars: usize },
}

/// The longest query, in characters (what a search box holds comfortably; every term of a
/// query is looked up and verified, so the work a query can ask for stays bounded).
pub const MAX_QUERY_CHARS: usize = 1_000;
/// The most terms (words, phrases, field filters, OR alternatives) in one query.
pub const MAX_TERMS: usize = 64;
/// The longest single term or field value, in characters.
pub const MAX_TERM_CHARS: usize = 256;

fn date_lead(value: &str, part: &str) -> String {
    if value.trim() == part.trim() {
        format!("date:{value}")
    } else {
        format!("date:{value}: {part}")
    }
}

/// Parse what the user typed. Never panics; empty or blank input gives an empty query.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    // Counted up to one past the limit: a 20 MB query is refused without walking all of it.
    let chars = input.chars().take(MAX_QUERY_CHARS + 1).count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError::TooLong {
            chars: input.chars().count(),
        });
    }
    let tokens = lex(input)?;
    let terms = tokens
        .iter()
        .filter(|t| matches!(t, Token::Term { .. }))
        .count();
    if terms > MAX_TERMS {
        return Err(QueryError::TooManyTerms { terms });
    }
    for t in &tokens {
        if let Token::Term { atom, .. } = t {
            check_term_length(atom)?;
        }
    }
    let mut clauses: Vec<Clause> = Vec::new();
    // The excluded term of the last clause, as typed, for the error message.
    let mut last_raw = String::new();
    let mut pending_or = false;
    for token in tokens {
        match token {
            // An OR with nothing before it is ignored; repeated ORs count once.
            Token::Or => pending_or = !clauses.is_empty(),
            Token::Term { negated, atom, raw } => {
                match clauses.last_mut() {
                    Some(Clause::Term {
                        negated: last_negated,
                        alternatives,
                    }) if pending_or => {
                        if negated {
                            return Err(QueryError::NegatedAlternative(raw));
                        }
                        if *last_negated {
                            return Err(QueryError::NegatedAlternative(last_raw));
                        }
                        alternatives.push(atom);
                    }
                    _ => clauses.push(Clause::Term {
                        negated,
                        alternatives: vec![atom],
                    }),
                }
                last_raw = raw;
                pending_or = false;
            }
        }
    }
    // A trailing OR is ignored.
    Ok(Query { clauses })
}

/// A term's text (or a field's text value) longer than [`MAX_TERM_CHARS`] is refused.
fn check_term_length(atom: &Atom) -> Result<(), QueryError> {
    let text = match atom {
        Atom::Text(t) | Atom::Phrase(t) => t,
        Atom::Field {
            value: FieldValue::Text(t),
            ..
        } => t,
        Atom::Field { .. } => return Ok(()),
    };
    let chars = text.chars().count();
    if chars > MAX_TERM_CHARS {
        return Err(QueryError::TermTooLong {
            start: text.chars().take(20).collect(),
            chars,
        });
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Lexing

enum Token {
    Or,
    Term {
        negated: bool,
        atom: Atom,
        raw: String,
    },
}

/// Separates terms: Unicode white space (incl. U+3000) and invisible word breaks.
fn is_separator(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{200B}' | '\u{2060}' | '\u{FEFF}')
}

/// Starts a phrase.
fn is_opener(c: char) -> bool {
    matches!(c, '"' | '＂' | '“')
}

/// Ends a phrase (whichever opener started it).
fn is_closer(c: char) -> bool {
    matches!(c, '"' | '＂' | '”')
}

struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn peek(&self) -> Option<char> {
        self.s[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_separators(&mut self) {
        while self.peek().is_some_and(is_separator) {
            self.bump();
        }
    }

    /// After an opening quote: the text up to the closing quote (consumed), or to the end.
    fn read_quoted(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.bump() {
            if c == '\\' {
                match self.peek() {
                    Some(n) if is_closer(n) || n == '\\' => {
                        self.bump();
                        out.push(n);
                    }
                    _ => out.push('\\'),
                }
            } else if is_closer(c) {
                break;
            } else {
                out.push(c);
            }
        }
        out
    }

    /// A run of characters up to a separator or an opening quote.
    fn read_word(&mut self) -> &'a str {
        let start = self.pos;
        while self
            .peek()
            .is_some_and(|c| !is_separator(c) && !is_opener(c))
        {
            self.bump();
        }
        &self.s[start..self.pos]
    }
}

fn lex(input: &str) -> Result<Vec<Token>, QueryError> {
    let mut lx = Lexer { s: input, pos: 0 };
    let mut tokens = Vec::new();
    loop {
        lx.skip_separators();
        let start = lx.pos;
        let Some(mut c) = lx.peek() else { break };
        let mut negated = false;
        if c == '-' {
            lx.bump();
            match lx.peek() {
                // A lone `-` is ignored.
                None => break,
                Some(n) if is_separator(n) => continue,
                Some(n) => {
                    negated = true;
                    c = n;
                }
            }
        }
        let atom = if is_opener(c) {
            lx.bump();
            let text = lx.read_quoted();
            (!text.trim().is_empty()).then_some(Atom::Phrase(text))
        } else {
            let word = lx.read_word();
            if !negated && word == "OR" {
                tokens.push(Token::Or);
                continue;
            }
            match split_field(word) {
                None => Some(Atom::Text(word.to_string())),
                Some((field, bare)) => {
                    let value = if !bare.is_empty() {
                        Some(bare.to_string())
                    } else if lx.peek().is_some_and(is_opener) {
                        lx.bump();
                        Some(lx.read_quoted())
                    } else {
                        None // `tag:` with nothing after it: ignored
                    };
                    match value {
                        Some(v) => field_atom(field, &v)?,
                        None => None,
                    }
                }
            }
        };
        if let Some(atom) = atom {
            let raw = input[start..lx.pos].to_string();
            tokens.push(Token::Term { negated, atom, raw });
        }
    }
    Ok(tokens)
}

/// A front matter key name: `[A-Za-z_][A-Za-z0-9_-]*`.
fn is_key(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// If `word` is `field:value` (value possibly empty), the field and the bare value.
fn split_field(word: &str) -> Option<(Field, &str)> {
    if let Some((key, value)) = word.split_once(':') {
        if let Some(field) = Field::known(key) {
            return Some((field, value));
        }
        if is_key(key) && !looks_like_url_or_path(key, value) {
            return Some((Field::Key(key.to_string()), value));
        }
    }
    if let Some((key, value)) = word.split_once('：') {
        if let Some(field) = Field::known(key) {
            return Some((field, value));
        }
    }
    None
}

/// `https://a.b/c`, `C:\Users`, `D:/x`: text, not a front matter key filter.
fn looks_like_url_or_path(key: &str, value: &str) -> bool {
    value.starts_with("//")
        || (key.len() == 1 && (value.starts_with('/') || value.starts_with('\\')))
}

/// The atom for `field:value`, or None when the value is blank (the filter is ignored).
fn field_atom(field: Field, value: &str) -> Result<Option<Atom>, QueryError> {
    let value = match field {
        Field::Date => {
            if value.trim().is_empty() {
                return Ok(None);
            }
            FieldValue::DateRange(parse_date_value(value.trim())?)
        }
        Field::Has => {
            let v = value.trim();
            if v.is_empty() {
                return Ok(None);
            }
            match HasWhat::from_name(v) {
                Some(h) => FieldValue::Has(h),
                None => return Err(QueryError::UnknownHas(v.to_string())),
            }
        }
        Field::Site => {
            let host = normalize_host(value);
            if host.is_empty() {
                return Ok(None);
            }
            FieldValue::Text(host)
        }
        Field::Title | Field::Path | Field::Page => {
            if value.trim().is_empty() {
                return Ok(None);
            }
            FieldValue::Text(value.to_string())
        }
        _ => {
            let v = value.trim();
            if v.is_empty() {
                return Ok(None);
            }
            FieldValue::Text(v.to_string())
        }
    };
    Ok(Some(Atom::Field { field, value }))
}

/// `https://user@www.BBC.com:443/news?x#y` → `www.bbc.com`. Also strips leading `//`, `*.` and
/// dots and trailing dots. Applied until nothing changes, so it is idempotent.
fn normalize_host(value: &str) -> String {
    let mut host = value.to_string();
    loop {
        let next = normalize_host_once(&host);
        if next == host {
            return host;
        }
        host = next;
    }
}

fn normalize_host_once(value: &str) -> String {
    let mut v = value.trim();
    if let Some(i) = v.find("://") {
        v = &v[i + 3..];
    }
    v = v.trim_start_matches('/');
    if let Some(i) = v.find(['/', '?', '#']) {
        v = &v[..i];
    }
    if let Some(i) = v.rfind('@') {
        v = &v[i + 1..];
    }
    if v.starts_with('[') {
        if let Some(i) = v.find(']') {
            v = &v[..=i];
        }
    } else if let Some(i) = v.find(':') {
        v = &v[..i];
    }
    v = v.trim_start_matches("*.").trim_matches('.');
    v.trim().to_ascii_lowercase()
}

// ---------------------------------------------------------------------------------------------
// Dates

fn midnight_ms(d: NaiveDate) -> i64 {
    Utc.from_utc_datetime(&d.and_time(NaiveTime::MIN))
        .timestamp_millis()
}

/// Full-width ASCII forms (digits, `－`, `／`, `．`, `＞`, `＜`, `＝`) to ASCII.
fn half_width(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            _ => c,
        })
        .collect()
}

/// Everything after `date:` → a range.
fn parse_date_value(value: &str) -> Result<DateRange, QueryError> {
    let v = half_width(value);
    let v = v.trim();
    let missing = || QueryError::MissingDate(value.to_string());
    let unit = |part: &str| -> Result<(NaiveDate, NaiveDate), QueryError> {
        if part.trim().is_empty() {
            return Err(missing());
        }
        parse_date_unit(value, part.trim())
    };
    let (from, to) = if let Some(rest) = v.strip_prefix(">=") {
        (Some(unit(rest)?.0), None)
    } else if let Some(rest) = v.strip_prefix('>') {
        (Some(unit(rest)?.1), None)
    } else if let Some(rest) = v.strip_prefix("<=") {
        (None, Some(unit(rest)?.1))
    } else if let Some(rest) = v.strip_prefix('<') {
        (None, Some(unit(rest)?.0))
    } else if let Some((a, b)) = v.split_once("..") {
        let (a, b) = (a.trim(), b.trim());
        if a.is_empty() && b.is_empty() {
            return Err(missing());
        }
        let from = if a.is_empty() { None } else { Some(unit(a)?.0) };
        let to = if b.is_empty() { None } else { Some(unit(b)?.1) };
        (from, to)
    } else {
        let (start, end) = unit(v.strip_prefix('=').unwrap_or(v))?;
        (Some(start), Some(end))
    };
    if let (Some(f), Some(t)) = (from, to) {
        if f >= t {
            return Err(QueryError::BackwardsDateRange(value.to_string()));
        }
    }
    Ok(DateRange {
        from_ms: from.map(midnight_ms),
        to_ms: to.map(midnight_ms),
    })
}

/// A year, month or day → its first day and the first day after it.
fn parse_date_unit(value: &str, part: &str) -> Result<(NaiveDate, NaiveDate), QueryError> {
    let not_a_date = || QueryError::NotADate {
        value: value.to_string(),
        part: part.to_string(),
    };
    let normalized = part.replace(['年', '月', '/', '.'], "-");
    let normalized = normalized
        .trim_end_matches(['日', '号'])
        .trim_end_matches('-');
    let pieces: Vec<&str> = normalized.split('-').collect();
    let digits = |s: &str, min: usize, max: usize| {
        (min..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
    };
    let ok = match pieces.as_slice() {
        [y] => digits(y, 4, 4),
        [y, m] => digits(y, 4, 4) && digits(m, 1, 2),
        [y, m, d] => digits(y, 4, 4) && digits(m, 1, 2) && digits(d, 1, 2),
        _ => false,
    };
    if !ok {
        return Err(not_a_date());
    }
    let num = |i: usize| pieces.get(i).and_then(|s| s.parse::<u32>().ok());
    let year = num(0)
        .and_then(|y| i32::try_from(y).ok())
        .ok_or_else(not_a_date)?;
    let first_of = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1);
    let next_month = |y: i32, m: u32| {
        if m == 12 {
            first_of(y + 1, 1)
        } else {
            first_of(y, m + 1)
        }
    };
    let range = match (num(1), num(2)) {
        (None, _) => first_of(year, 1).zip(first_of(year + 1, 1)),
        (Some(month), day) => {
            if !(1..=12).contains(&month) {
                return Err(QueryError::InvalidMonth {
                    value: value.to_string(),
                    part: part.to_string(),
                });
            }
            match day {
                None => first_of(year, month).zip(next_month(year, month)),
                Some(day) => match NaiveDate::from_ymd_opt(year, month, day) {
                    Some(d) => Some(d).zip(d.succ_opt()),
                    None => {
                        let days_in_month = first_of(year, month)
                            .zip(next_month(year, month))
                            .map_or(0, |(a, b)| (b - a).num_days() as u32);
                        return Err(QueryError::InvalidDay {
                            value: value.to_string(),
                            part: part.to_string(),
                            year,
                            month,
                            days_in_month,
                        });
                    }
                },
            }
        }
    };
    range.ok_or_else(not_a_date)
}

// ---------------------------------------------------------------------------------------------
// Display: query syntax back from the AST.
//
// For any query returned by `parse`, `parse(&q.to_string()) == Ok(q)`. Useful for building
// queries in the UI (e.g. clicking a tag adds `tag:"two words"`). Date bounds are shown to the
// day, so a hand-built range whose bounds are not UTC midnights is rounded when shown. (Quotes
// and escapes can make the text longer than what was typed: near `MAX_QUERY_CHARS` the shown
// form may be over the limit.)

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{clause}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.negated() {
            f.write_str("-")?;
        }
        for (i, atom) in self.alternatives().iter().enumerate() {
            if i > 0 {
                f.write_str(" OR ")?;
            }
            write!(f, "{atom}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Atom::Text(t) => f.write_str(t),
            Atom::Phrase(p) => f.write_str(&quote(p)),
            Atom::Field { field, value } => {
                write!(f, "{}:", field.name())?;
                match value {
                    FieldValue::Text(v) => {
                        let tricky = match field {
                            Field::Key(k) => looks_like_url_or_path(k, v),
                            _ => false,
                        };
                        if tricky
                            || v.is_empty()
                            || v.chars().any(|c| is_separator(c) || is_opener(c))
                        {
                            f.write_str(&quote(v))
                        } else {
                            f.write_str(v)
                        }
                    }
                    FieldValue::DateRange(r) => write!(f, "{r}"),
                    FieldValue::Has(h) => f.write_str(h.as_str()),
                }
            }
        }
    }
}

/// `text` as a quoted phrase (or field value) that reads back as exactly `text`.
pub fn quote(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        if c == '\\' || is_closer(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

impl fmt::Display for DateRange {
    /// The value after `date:`: `2021`, `2021-06`, `2021-06-05`, `2021-01..2021-06`, `2021-06..`,
    /// `..2021-06`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let day = |ms: i64| chrono::DateTime::from_timestamp_millis(ms).map(|d| d.date_naive());
        // A start bound as the coarsest unit that starts there.
        let start = |ms: i64| match day(ms) {
            Some(d) if d.month() == 1 && d.day() == 1 => format!("{:04}", d.year()),
            Some(d) if d.day() == 1 => format!("{:04}-{:02}", d.year(), d.month()),
            Some(d) => d.format("%Y-%m-%d").to_string(),
            None => ms.to_string(),
        };
        // An end bound as the coarsest unit that ends there.
        let end = |ms: i64| match day(ms).zip(day(ms.saturating_sub(1))) {
            Some((next, last)) if next.month() == 1 && next.day() == 1 => {
                format!("{:04}", last.year())
            }
            Some((next, last)) if next.day() == 1 => {
                format!("{:04}-{:02}", last.year(), last.month())
            }
            Some((_, last)) => last.format("%Y-%m-%d").to_string(),
            None => ms.to_string(),
        };
        let year = |ms: i64| day(ms).map(|d| d.year());
        match (self.from_ms, self.to_ms) {
            (Some(a), Some(b)) => {
                let (a, b) = (start(a), end(b));
                if a == b {
                    f.write_str(&a)
                } else {
                    write!(f, "{a}..{b}")
                }
            }
            // `>9999` starts in year 10000, which has no 4-digit name: say it the other way.
            (Some(a), None) if year(a).is_some_and(|y| y > 9999) => write!(f, ">{}", end(a)),
            (Some(a), None) => write!(f, "{}..", start(a)),
            // Likewise `<0000` ends before year 0.
            (None, Some(b)) if year(b.saturating_sub(1)).is_some_and(|y| y < 0) => {
                write!(f, "<{}", start(b))
            }
            (None, Some(b)) => write!(f, "..{}", end(b)),
            (None, None) => f.write_str(".."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(y: i32, m: u32, d: u32) -> i64 {
        midnight_ms(NaiveDate::from_ymd_opt(y, m, d).unwrap())
    }

    fn q(input: &str) -> Vec<Clause> {
        parse(input)
            .unwrap_or_else(|e| panic!("{input:?}: {e}"))
            .clauses
    }

    fn err(input: &str) -> QueryError {
        parse(input).expect_err(input)
    }

    fn and(atom: Atom) -> Clause {
        Clause::Term {
            negated: false,
            alternatives: vec![atom],
        }
    }

    fn not(atom: Atom) -> Clause {
        Clause::Term {
            negated: true,
            alternatives: vec![atom],
        }
    }

    fn either(atoms: Vec<Atom>) -> Clause {
        Clause::Term {
            negated: false,
            alternatives: atoms,
        }
    }

    fn text(s: &str) -> Atom {
        Atom::Text(s.into())
    }

    fn phrase(s: &str) -> Atom {
        Atom::Phrase(s.into())
    }

    fn field(field: Field, v: &str) -> Atom {
        Atom::Field {
            field,
            value: FieldValue::Text(v.into()),
        }
    }

    fn key(k: &str, v: &str) -> Atom {
        field(Field::Key(k.into()), v)
    }

    fn date(input: &str) -> DateRange {
        match q(&format!("date:{input}")).as_slice() {
            [Clause::Term {
                alternatives,
                negated: false,
            }] => match alternatives.as_slice() {
                [Atom::Field {
                    field: Field::Date,
                    value: FieldValue::DateRange(r),
                }] => *r,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    fn range(from: Option<i64>, to: Option<i64>) -> DateRange {
        DateRange {
            from_ms: from,
            to_ms: to,
        }
    }

    // --- words, whitespace, empty input

    #[test]
    fn empty_input_matches_everything() {
        assert_eq!(parse("").unwrap(), Query::default());
        assert!(parse("").unwrap().is_empty());
    }

    #[test]
    fn blank_input_matches_everything() {
        assert_eq!(q(" \t\n\u{3000}\u{200B}"), vec![]);
    }

    #[test]
    fn one_word_is_one_clause() {
        assert_eq!(q("两岸"), vec![and(text("两岸"))]);
    }

    #[test]
    fn two_words_are_both_required() {
        assert_eq!(
            q("hello world"),
            vec![and(text("hello")), and(text("world"))]
        );
    }

    #[test]
    fn ideographic_space_separates_words() {
        assert_eq!(
            q("两岸\u{3000}关系"),
            vec![and(text("两岸")), and(text("关系"))]
        );
    }

    #[test]
    fn tabs_newlines_and_zero_width_spaces_separate_words() {
        assert_eq!(
            q("a\tb\nc\u{200B}d\u{00A0}e"),
            vec![
                and(text("a")),
                and(text("b")),
                and(text("c")),
                and(text("d")),
                and(text("e"))
            ]
        );
    }

    #[test]
    fn mixed_script_words_are_kept_as_typed() {
        assert_eq!(
            q("iPhone手机 ＡＢＣ 臺灣"),
            vec![
                and(text("iPhone手机")),
                and(text("ＡＢＣ")),
                and(text("臺灣"))
            ]
        );
    }

    // --- phrases

    #[test]
    fn quoted_words_are_one_phrase() {
        assert_eq!(q("\"hello  world\""), vec![and(phrase("hello  world"))]);
    }

    #[test]
    fn curly_quotes_make_a_phrase() {
        assert_eq!(q("“两岸 关系”"), vec![and(phrase("两岸 关系"))]);
    }

    #[test]
    fn full_width_straight_quotes_make_a_phrase() {
        assert_eq!(q("＂两岸 关系＂"), vec![and(phrase("两岸 关系"))]);
    }

    #[test]
    fn escaped_quote_stays_inside_phrase() {
        assert_eq!(
            q(r#""say \"hi\" now""#),
            vec![and(phrase(r#"say "hi" now"#))]
        );
    }

    #[test]
    fn escaped_backslash_is_one_backslash_and_other_backslashes_stay() {
        assert_eq!(q(r#""a\\b\c""#), vec![and(phrase(r"a\b\c"))]);
    }

    #[test]
    fn unclosed_quote_runs_to_the_end() {
        assert_eq!(q("a \"b c"), vec![and(text("a")), and(phrase("b c"))]);
        assert_eq!(q("“两岸 关系"), vec![and(phrase("两岸 关系"))]);
    }

    #[test]
    fn empty_phrase_is_ignored() {
        assert_eq!(q("a \"\" “  ” b"), vec![and(text("a")), and(text("b"))]);
        assert_eq!(q("\""), vec![]);
    }

    #[test]
    fn quote_inside_a_word_starts_a_phrase() {
        assert_eq!(
            q("他说\"你好\"了"),
            vec![and(text("他说")), and(phrase("你好")), and(text("了"))]
        );
    }

    #[test]
    fn closing_curly_quote_alone_is_part_of_a_word() {
        assert_eq!(q("a”b"), vec![and(text("a”b"))]);
    }

    // --- negation

    #[test]
    fn minus_excludes_a_word() {
        assert_eq!(q("a -b"), vec![and(text("a")), not(text("b"))]);
    }

    #[test]
    fn minus_excludes_a_phrase() {
        assert_eq!(
            q("-\"b c\" -“广告”"),
            vec![not(phrase("b c")), not(phrase("广告"))]
        );
    }

    #[test]
    fn minus_excludes_a_field() {
        assert_eq!(q("-tag:广告"), vec![not(field(Field::Tag, "广告"))]);
    }

    #[test]
    fn lone_minus_is_ignored() {
        assert_eq!(q("a - b -"), vec![and(text("a")), and(text("b"))]);
        assert_eq!(q("-"), vec![]);
    }

    #[test]
    fn only_the_first_minus_negates() {
        assert_eq!(q("--x"), vec![not(text("-x"))]);
    }

    #[test]
    fn minus_inside_a_word_is_text() {
        assert_eq!(q("covid-19"), vec![and(text("covid-19"))]);
    }

    // --- OR

    #[test]
    fn or_joins_alternatives() {
        assert_eq!(
            q("a OR b OR c"),
            vec![either(vec![text("a"), text("b"), text("c")])]
        );
    }

    #[test]
    fn or_binds_only_its_neighbours() {
        assert_eq!(
            q("x a OR b y"),
            vec![
                and(text("x")),
                either(vec![text("a"), text("b")]),
                and(text("y"))
            ]
        );
    }

    #[test]
    fn or_joins_fields_and_phrases() {
        assert_eq!(
            q("tag:a OR \"b c\""),
            vec![either(vec![field(Field::Tag, "a"), phrase("b c")])]
        );
    }

    #[test]
    fn lowercase_or_is_a_word() {
        assert_eq!(
            q("a or b"),
            vec![and(text("a")), and(text("or")), and(text("b"))]
        );
    }

    #[test]
    fn dangling_or_is_ignored() {
        assert_eq!(q("OR a"), vec![and(text("a"))]);
        assert_eq!(q("a OR"), vec![and(text("a"))]);
        assert_eq!(q("OR"), vec![]);
    }

    #[test]
    fn repeated_or_counts_once() {
        assert_eq!(q("a OR OR b"), vec![either(vec![text("a"), text("b")])]);
    }

    #[test]
    fn or_over_an_ignored_term_still_joins() {
        assert_eq!(
            q("a OR tag: OR b"),
            vec![either(vec![text("a"), text("b")])]
        );
    }

    #[test]
    fn quoted_or_is_a_phrase() {
        assert_eq!(
            q("a \"OR\" b"),
            vec![and(text("a")), and(phrase("OR")), and(text("b"))]
        );
    }

    #[test]
    fn excluded_term_cannot_be_an_alternative() {
        assert_eq!(err("a OR -b"), QueryError::NegatedAlternative("-b".into()));
        assert_eq!(err("-a OR b"), QueryError::NegatedAlternative("-a".into()));
        assert_eq!(
            err("x -tag:广告 OR y"),
            QueryError::NegatedAlternative("-tag:广告".into())
        );
        assert!(err("a OR -b").to_string().contains("-a -b"));
    }

    // --- fields

    #[test]
    fn front_matter_keys_left_out_of_the_fields_table_are_never_key_queries() {
        // `post_fields` has no rows for these keys: a query naming one must not read it.
        for key in crate::store::OWN_FIELD_KEYS {
            for name in [key.to_string(), key.to_ascii_uppercase()] {
                let Some(f) = Field::known(&name) else {
                    panic!("{name}: would be a KEY:VALUE query over rows that are not stored");
                };
                assert!(!matches!(f, Field::Key(_)), "{name}");
            }
        }
    }

    #[test]
    fn known_fields_are_recognised() {
        assert_eq!(
            q("tag:a category:b author:c title:d path:e"),
            vec![
                and(field(Field::Tag, "a")),
                and(field(Field::Category, "b")),
                and(field(Field::Author, "c")),
                and(field(Field::Title, "d")),
                and(field(Field::Path, "e")),
            ]
        );
    }

    #[test]
    fn field_names_are_case_insensitive() {
        assert_eq!(
            q("TAG:x Title:y"),
            vec![and(field(Field::Tag, "x")), and(field(Field::Title, "y"))]
        );
    }

    #[test]
    fn plural_tags_and_categories_are_aliases() {
        assert_eq!(
            q("tags:x categories:y"),
            vec![
                and(field(Field::Tag, "x")),
                and(field(Field::Category, "y"))
            ]
        );
    }

    #[test]
    fn field_value_may_be_quoted() {
        assert_eq!(
            q("tag:\"two words\""),
            vec![and(field(Field::Tag, "two words"))]
        );
        assert_eq!(
            q("author:“张 三”"),
            vec![and(field(Field::Author, "张 三"))]
        );
    }

    #[test]
    fn field_value_keeps_case_and_script() {
        assert_eq!(q("tag:臺灣News"), vec![and(field(Field::Tag, "臺灣News"))]);
    }

    #[test]
    fn field_value_may_contain_colons() {
        assert_eq!(
            q("title:Re:Zero"),
            vec![and(field(Field::Title, "Re:Zero"))]
        );
    }

    #[test]
    fn whole_value_fields_are_trimmed_but_substring_fields_are_not() {
        assert_eq!(
            q("tag:\" a \" title:\" b \""),
            vec![and(field(Field::Tag, "a")), and(field(Field::Title, " b "))]
        );
    }

    #[test]
    fn empty_field_value_is_ignored() {
        assert_eq!(q("tag: a"), vec![and(text("a"))]);
        assert_eq!(q("-tag:"), vec![]);
        assert_eq!(q("tag:\"\" date: has: site:"), vec![]);
    }

    #[test]
    fn full_width_colon_works_after_a_known_field() {
        assert_eq!(q("tag：广告"), vec![and(field(Field::Tag, "广告"))]);
    }

    #[test]
    fn full_width_colon_after_other_words_is_text() {
        assert_eq!(q("两岸：关系"), vec![and(text("两岸：关系"))]);
        assert_eq!(q("layout：post"), vec![and(text("layout：post"))]);
    }

    #[test]
    fn other_front_matter_keys_are_fields() {
        assert_eq!(
            q("layout:post lang:zh-CN my_key-2:\"x y\""),
            vec![
                and(key("layout", "post")),
                and(key("lang", "zh-CN")),
                and(key("my_key-2", "x y")),
            ]
        );
    }

    #[test]
    fn key_is_kept_as_typed() {
        assert_eq!(q("Layout:Post"), vec![and(key("Layout", "Post"))]);
    }

    #[test]
    fn colon_after_a_non_key_is_text() {
        assert_eq!(
            q("10:30 :x 中文:y a.b:c"),
            vec![
                and(text("10:30")),
                and(text(":x")),
                and(text("中文:y")),
                and(text("a.b:c"))
            ]
        );
    }

    #[test]
    fn bare_url_is_text() {
        assert_eq!(q("https://a.b/c"), vec![and(text("https://a.b/c"))]);
        assert_eq!(q("-http://x.y"), vec![not(text("http://x.y"))]);
    }

    #[test]
    fn windows_path_is_text() {
        assert_eq!(
            q(r"C:\Users d:/x"),
            vec![and(text(r"C:\Users")), and(text("d:/x"))]
        );
    }

    #[test]
    fn key_value_starting_with_one_slash_is_a_field() {
        assert_eq!(
            q("permalink:/2021/x/"),
            vec![and(key("permalink", "/2021/x/"))]
        );
    }

    #[test]
    fn quoted_value_after_url_like_key_is_a_field() {
        assert_eq!(q("from:\"//x\""), vec![and(key("from", "//x"))]);
    }

    #[test]
    fn known_field_takes_a_url_value() {
        assert_eq!(
            q("title:https://a.b/c"),
            vec![and(field(Field::Title, "https://a.b/c"))]
        );
    }

    // --- site

    #[test]
    fn site_is_a_lowercase_host() {
        assert_eq!(
            q("site:ZaoBao.com.sg"),
            vec![and(field(Field::Site, "zaobao.com.sg"))]
        );
    }

    #[test]
    fn site_accepts_a_pasted_url() {
        assert_eq!(
            q("site:https://user@www.BBC.com:443/news?a=b#c"),
            vec![and(field(Field::Site, "www.bbc.com"))]
        );
        assert_eq!(
            q("site://bbc.com/x"),
            vec![and(field(Field::Site, "bbc.com"))]
        );
        assert_eq!(
            q("site:*.bbc.com."),
            vec![and(field(Field::Site, "bbc.com"))]
        );
    }

    #[test]
    fn site_without_a_host_is_ignored() {
        assert_eq!(q("site:https:// a"), vec![and(text("a"))]);
    }

    // --- has

    #[test]
    fn has_problem_is_recognised() {
        assert_eq!(
            q("has:problem -has:Tags has:source has:date"),
            vec![
                and(Atom::Field {
                    field: Field::Has,
                    value: FieldValue::Has(HasWhat::Problem)
                }),
                not(Atom::Field {
                    field: Field::Has,
                    value: FieldValue::Has(HasWhat::Tags)
                }),
                and(Atom::Field {
                    field: Field::Has,
                    value: FieldValue::Has(HasWhat::Source)
                }),
                and(Atom::Field {
                    field: Field::Has,
                    value: FieldValue::Has(HasWhat::Date)
                }),
            ]
        );
    }

    #[test]
    fn unknown_has_is_an_error_that_lists_the_choices() {
        let e = err("has:wings");
        assert_eq!(e, QueryError::UnknownHas("wings".into()));
        assert!(e.to_string().contains("has:problem"));
    }

    // --- dates

    #[test]
    fn date_year_covers_the_whole_year() {
        assert_eq!(
            date("2021"),
            range(Some(ms(2021, 1, 1)), Some(ms(2022, 1, 1)))
        );
    }

    #[test]
    fn date_month_covers_the_whole_month() {
        assert_eq!(
            date("2021-11"),
            range(Some(ms(2021, 11, 1)), Some(ms(2021, 12, 1)))
        );
        assert_eq!(
            date("2021-12"),
            range(Some(ms(2021, 12, 1)), Some(ms(2022, 1, 1)))
        );
    }

    #[test]
    fn date_day_covers_the_whole_day() {
        assert_eq!(
            date("2021-11-05"),
            range(Some(ms(2021, 11, 5)), Some(ms(2021, 11, 6)))
        );
        assert_eq!(
            date("2021-12-31"),
            range(Some(ms(2021, 12, 31)), Some(ms(2022, 1, 1)))
        );
    }

    #[test]
    fn date_is_utc() {
        assert_eq!(date("1970-01-02").from_ms, Some(86_400_000));
    }

    #[test]
    fn date_month_range_covers_whole_end_month() {
        assert_eq!(
            date("2021-01..2021-06"),
            range(Some(ms(2021, 1, 1)), Some(ms(2021, 7, 1)))
        );
    }

    #[test]
    fn date_range_may_mix_units() {
        assert_eq!(
            date("2020..2021-06-05"),
            range(Some(ms(2020, 1, 1)), Some(ms(2021, 6, 6)))
        );
    }

    #[test]
    fn date_range_of_one_unit_is_that_unit() {
        assert_eq!(date("2021..2021"), date("2021"));
    }

    #[test]
    fn date_open_ranges_have_one_bound() {
        assert_eq!(date("2021.."), range(Some(ms(2021, 1, 1)), None));
        assert_eq!(date("..2021-06"), range(None, Some(ms(2021, 7, 1))));
    }

    #[test]
    fn date_greater_than_starts_after_the_whole_unit() {
        assert_eq!(date(">2021-06-01"), range(Some(ms(2021, 6, 2)), None));
        assert_eq!(date(">2021"), range(Some(ms(2022, 1, 1)), None));
    }

    #[test]
    fn date_at_least_starts_at_the_unit() {
        assert_eq!(date(">=2021-06-01"), range(Some(ms(2021, 6, 1)), None));
    }

    #[test]
    fn date_less_than_ends_before_the_unit() {
        assert_eq!(date("<2021"), range(None, Some(ms(2021, 1, 1))));
    }

    #[test]
    fn date_at_most_ends_after_the_whole_unit() {
        assert_eq!(date("<=2021-06"), range(None, Some(ms(2021, 7, 1))));
    }

    #[test]
    fn date_accepts_other_separators_and_full_width_digits() {
        let june = date("2021-06");
        assert_eq!(date("2021/06"), june);
        assert_eq!(date("2021.6"), june);
        assert_eq!(date("2021年6月"), june);
        assert_eq!(date("２０２１－０６"), june);
        assert_eq!(date("=2021-06"), june);
        assert_eq!(date("\"2021-06\""), june);
        assert_eq!(date("2021年6月5日"), date("2021-06-05"));
        assert_eq!(date("＞＝2021-06"), date(">=2021-06"));
    }

    #[test]
    fn date_quoted_value_may_have_spaces() {
        assert_eq!(date("\"2021 .. 2022\""), date("2021..2022"));
        assert_eq!(date("\">= 2021\""), date(">=2021"));
    }

    #[test]
    fn date_leap_day_is_valid_in_leap_years_only() {
        assert_eq!(
            date("2024-02-29"),
            range(Some(ms(2024, 2, 29)), Some(ms(2024, 3, 1)))
        );
        assert!(matches!(
            err("date:2023-02-29"),
            QueryError::InvalidDay {
                days_in_month: 28,
                ..
            }
        ));
    }

    #[test]
    fn date_invalid_month_says_so() {
        let e = err("date:2021-13");
        assert_eq!(
            e.to_string().split(';').next().unwrap(),
            "date:2021-13 is not a valid month"
        );
    }

    #[test]
    fn date_invalid_day_says_how_many_days_the_month_has() {
        let e = err("date:2021-02-30");
        assert_eq!(
            e.to_string(),
            "date:2021-02-30 is not a valid day; 2021-02 has 28 days"
        );
    }

    #[test]
    fn date_error_in_a_range_points_at_the_bad_end() {
        let e = err("date:2021..2021-00");
        assert!(
            e.to_string()
                .starts_with("date:2021..2021-00: 2021-00 is not a valid month"),
            "{e}"
        );
    }

    #[test]
    fn date_that_is_not_a_date_explains_the_forms() {
        for bad in [
            "yesterday",
            "21-06",
            "2021-06-05-01",
            "2021--06",
            "20210605",
            "2021-123",
        ] {
            let e = err(&format!("date:{bad}"));
            assert!(matches!(e, QueryError::NotADate { .. }), "{bad}: {e:?}");
            assert!(e.to_string().contains("2021-06-05"), "{e}");
        }
    }

    #[test]
    fn date_without_any_date_is_an_error() {
        assert_eq!(err("date:.."), QueryError::MissingDate("..".into()));
        assert_eq!(err("date:>="), QueryError::MissingDate(">=".into()));
        assert_eq!(err("date:<"), QueryError::MissingDate("<".into()));
    }

    #[test]
    fn date_range_ending_before_it_starts_is_an_error() {
        assert_eq!(
            err("date:2021-06..2021-01"),
            QueryError::BackwardsDateRange("2021-06..2021-01".into())
        );
    }

    #[test]
    fn date_far_years_work() {
        assert_eq!(
            date("9999").to_ms,
            Some(midnight_ms(NaiveDate::from_ymd_opt(10000, 1, 1).unwrap()))
        );
        assert_eq!(
            date("0000").from_ms,
            Some(midnight_ms(NaiveDate::from_ymd_opt(0, 1, 1).unwrap()))
        );
    }

    #[test]
    fn date_range_contains_its_start_but_not_its_end() {
        let r = date("2021-06");
        assert!(r.contains(ms(2021, 6, 1)));
        assert!(r.contains(ms(2021, 7, 1) - 1));
        assert!(!r.contains(ms(2021, 7, 1)));
        assert!(!r.contains(ms(2021, 6, 1) - 1));
    }

    #[test]
    fn excluded_date_is_a_negated_clause() {
        assert!(q("-date:2021")[0].negated());
    }

    // --- the examples in docs/QUERY.md

    #[test]
    fn doc_example_site_month_and_excluded_tag() {
        assert_eq!(
            q("site:zaobao.com.sg date:2021-06 -tag:广告"),
            vec![
                and(field(Field::Site, "zaobao.com.sg")),
                and(Atom::Field {
                    field: Field::Date,
                    value: FieldValue::DateRange(range(Some(ms(2021, 6, 1)), Some(ms(2021, 7, 1))))
                }),
                not(field(Field::Tag, "广告")),
            ]
        );
    }

    #[test]
    fn doc_examples_all_parse() {
        for example in [
            "两岸",
            "两岸 关系",
            "\"两岸关系\"",
            "“一国两制”",
            "香港 -澳门",
            "台湾 OR 臺灣 OR Taiwan",
            "tag:政治 OR tag:时事 -has:problem",
            "tag:\"New York\"",
            "author:王小明 category:评论",
            "site:bbc.com date:2020..2021",
            "title:疫情 path:2021/",
            "date:>=2021-06-01 date:<2021-07",
            "layout:post lang:zh-TW",
            "has:problem",
            "site:zaobao.com.sg date:2021-06 -tag:广告",
        ] {
            let parsed = parse(example).unwrap_or_else(|e| panic!("{example}: {e}"));
            assert!(!parsed.is_empty(), "{example}");
        }
    }

    // --- sort

    #[test]
    fn sort_names_parse() {
        assert_eq!("relevance".parse(), Ok(Sort::Relevance));
        assert_eq!("date".parse(), Ok(Sort::Date));
        assert_eq!("-date".parse(), Ok(Sort::DateDesc));
        assert_eq!(" Title ".parse(), Ok(Sort::Title));
        assert_eq!("path".parse(), Ok(Sort::Path));
        assert_eq!(Sort::default(), Sort::Relevance);
    }

    #[test]
    fn unknown_sort_is_an_error() {
        assert_eq!(
            "newest".parse::<Sort>(),
            Err(QueryError::UnknownSort("newest".into()))
        );
    }

    #[test]
    fn sort_round_trips_through_its_name_and_serde() {
        for s in [
            Sort::Relevance,
            Sort::Date,
            Sort::DateDesc,
            Sort::Title,
            Sort::Path,
        ] {
            assert_eq!(s.as_str().parse(), Ok(s));
            let json = serde_json::to_string(&s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            assert_eq!(serde_json::from_str::<Sort>(&json).unwrap(), s);
        }
    }

    // --- display

    #[test]
    fn display_writes_canonical_syntax() {
        let shown = parse(
            "TAGS:\"a b\" x OR “y z” -Site:https://WWW.X.com/ date:2021-01..2021-06 has:problems",
        )
        .unwrap()
        .to_string();
        assert_eq!(
            shown,
            "tag:\"a b\" x OR \"y z\" -site:www.x.com date:2021..2021-06 has:problem"
        );
    }

    #[test]
    fn display_shows_single_units_and_open_ranges() {
        let show = |s: &str| date(s).to_string();
        assert_eq!(show("2021"), "2021");
        assert_eq!(show("2021-06"), "2021-06");
        assert_eq!(show("2021-06-05"), "2021-06-05");
        assert_eq!(show(">2021-06-05"), "2021-06-06..");
        assert_eq!(show("<2021"), "..2020");
        assert_eq!(show("<=2021-02-28"), "..2021-02");
    }

    #[test]
    fn display_of_extreme_years_reads_back() {
        for input in [
            "date:>9999",
            "date:<0000",
            "date:0000..9999",
            "date:<=9999",
            "date:>=0000",
        ] {
            let q = parse(input).unwrap();
            assert_eq!(parse(&q.to_string()), Ok(q), "{input}");
        }
    }

    #[test]
    fn display_quotes_phrases_with_escapes() {
        let q = Query {
            clauses: vec![and(phrase("say \"hi\" \\ ”ok＂"))],
        };
        assert_eq!(parse(&q.to_string()).unwrap(), q);
    }

    // --- bounds

    #[test]
    fn a_query_longer_than_the_limit_is_refused_with_the_limit_in_the_message() {
        let long = "两".repeat(MAX_QUERY_CHARS + 1);
        let e = err(&long);
        assert_eq!(
            e,
            QueryError::TooLong {
                chars: MAX_QUERY_CHARS + 1
            }
        );
        assert!(e.to_string().contains(&MAX_QUERY_CHARS.to_string()), "{e}");
        // 20,000 characters in one term: the query bound answers first.
        assert!(matches!(
            err(&"a".repeat(20_000)),
            QueryError::TooLong { chars: 20_000 }
        ));
        // At the limit (in terms and term length too) it parses.
        let at_limit = vec!["x".repeat(MAX_QUERY_CHARS / MAX_TERMS - 1); MAX_TERMS].join(" ");
        assert!(at_limit.chars().count() <= MAX_QUERY_CHARS);
        assert_eq!(q(&at_limit).len(), MAX_TERMS);
    }

    #[test]
    fn more_terms_than_the_limit_are_refused() {
        let many = vec!["a"; MAX_TERMS + 1].join(" ");
        let e = err(&many);
        assert_eq!(
            e,
            QueryError::TooManyTerms {
                terms: MAX_TERMS + 1
            }
        );
        assert!(e.to_string().contains(&MAX_TERMS.to_string()), "{e}");
        // OR alternatives and filters count as terms; ORs themselves do not.
        let alts = vec!["tag:a"; MAX_TERMS + 1].join(" OR ");
        assert!(matches!(err(&alts), QueryError::TooManyTerms { .. }));
        let ors = vec!["a"; MAX_TERMS].join(" OR ");
        assert_eq!(q(&ors).len(), 1);
    }

    #[test]
    fn a_term_longer_than_the_limit_is_refused_whatever_its_kind() {
        let long = "长".repeat(MAX_TERM_CHARS + 1);
        for input in [
            long.clone(),
            format!("\"{long}\""),
            format!("title:{long}"),
            format!("-{long}"),
            format!("a OR {long}"),
        ] {
            let e = err(&input);
            assert!(
                matches!(e, QueryError::TermTooLong { chars, .. } if chars == MAX_TERM_CHARS + 1),
                "{input}: {e:?}"
            );
            assert!(e.to_string().contains(&MAX_TERM_CHARS.to_string()), "{e}");
        }
        assert_eq!(q(&"长".repeat(MAX_TERM_CHARS)).len(), 1);
    }

    // --- robustness

    fn check_invariants(q: &Query) {
        for c in &q.clauses {
            let Clause::Term {
                negated,
                alternatives,
            } = c;
            assert!(!alternatives.is_empty());
            assert!(!*negated || alternatives.len() == 1);
            for a in alternatives {
                match a {
                    Atom::Text(t) => {
                        assert!(!t.is_empty());
                        assert!(!t.chars().any(|c| is_separator(c) || is_opener(c)));
                    }
                    Atom::Phrase(p) => assert!(!p.trim().is_empty()),
                    Atom::Field { field, value } => match (field, value) {
                        (Field::Date, FieldValue::DateRange(r)) => {
                            assert!(r.from_ms.is_some() || r.to_ms.is_some());
                            if let (Some(f), Some(t)) = (r.from_ms, r.to_ms) {
                                assert!(f < t);
                            }
                        }
                        (Field::Has, FieldValue::Has(_)) => {}
                        (Field::Date | Field::Has, _) => panic!("{a:?}"),
                        (_, FieldValue::Text(v)) => assert!(!v.trim().is_empty()),
                        _ => panic!("{a:?}"),
                    },
                }
            }
        }
    }

    /// Inputs built from the pieces of the language, to reach the interesting paths often.
    fn query_like() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            Just("\"".to_string()),
            Just("“".to_string()),
            Just("”".to_string()),
            Just("＂".to_string()),
            Just("\\".to_string()),
            Just("-".to_string()),
            Just(":".to_string()),
            Just("：".to_string()),
            Just(" ".to_string()),
            Just("\u{3000}".to_string()),
            Just("OR".to_string()),
            Just("tag".to_string()),
            Just("site".to_string()),
            Just("date:".to_string()),
            Just("has:".to_string()),
            Just("title:".to_string()),
            Just("Key_1".to_string()),
            Just("..".to_string()),
            Just(">=".to_string()),
            Just("<".to_string()),
            Just("2021".to_string()),
            Just("-06".to_string()),
            Just("-1".to_string()),
            Just("-31".to_string()),
            Just("//".to_string()),
            Just("/".to_string()),
            Just("两岸".to_string()),
            Just("年".to_string()),
            Just("problem".to_string()),
            Just("x".to_string()),
            "[a-z0-9@.]{1,3}",
        ];
        proptest::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn never_panics_on_any_string(s in any::<String>()) {
            if let Ok(q) = parse(&s) {
                check_invariants(&q);
            }
        }

        #[test]
        fn parsed_queries_hold_their_invariants_and_round_trip(s in query_like()) {
            if let Ok(q) = parse(&s) {
                check_invariants(&q);
                let shown = q.to_string();
                prop_assert_eq!(parse(&shown), Ok(q), "shown as {:?}", shown);
            }
        }

        #[test]
        fn any_string_round_trips_through_display(s in any::<String>()) {
            if let Ok(q) = parse(&s) {
                let shown = q.to_string();
                prop_assert_eq!(parse(&shown), Ok(q), "shown as {:?}", shown);
            }
        }

        #[test]
        fn date_values_parse_or_explain_and_round_trip(
            op in prop_oneof![Just(""), Just(">"), Just(">="), Just("<"), Just("<="), Just("=")],
            y in 0u32..10000, m in proptest::option::of(0u32..14), d in proptest::option::of(0u32..33),
            tail in prop_oneof![Just(String::new()), Just("..".to_string()), "\\.\\.[0-9]{4}(-[0-9]{1,2}){0,2}"],
        ) {
            let mut value = format!("{op}{y:04}");
            if let Some(m) = m {
                value += &format!("-{m:02}");
                if let Some(d) = d {
                    value += &format!("-{d:02}");
                }
            }
            if op.is_empty() {
                value += &tail;
            }
            match parse(&format!("date:{value}")) {
                Ok(q) => {
                    check_invariants(&q);
                    prop_assert_eq!(parse(&q.to_string()), Ok(q));
                }
                Err(e) => prop_assert!(matches!(
                    e,
                    QueryError::InvalidMonth { .. }
                        | QueryError::InvalidDay { .. }
                        | QueryError::BackwardsDateRange(_)
                        | QueryError::NotADate { .. }
                ), "{:?}", e),
            }
        }

        #[test]
        fn any_phrase_round_trips(p in "\\PC*") {
            prop_assume!(!p.trim().is_empty());
            let q = Query { clauses: vec![and(Atom::Phrase(p))] };
            prop_assert_eq!(parse(&q.to_string()), Ok(q));
        }

        #[test]
        fn error_messages_are_never_empty(s in query_like()) {
            if let Err(e) = parse(&s) {
                prop_assert!(e.to_string().len() > 10);
            }
        }
    }
}
