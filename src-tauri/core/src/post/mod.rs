//! One file becomes a `Post`: decode, split front matter, read typed fields, and turn the body into
//! plain text for search. Nothing here panics on any input; trouble becomes `Problem`s.

mod article;
mod date;
mod decode;
mod entities;
mod epoch;
mod fields;
mod front_matter;
mod html;
mod markdown;
mod spans;
mod split;
mod text;

#[cfg(test)]
mod real_corpus;
#[cfg(test)]
mod tests;

pub use date::{file_name_date, parse_date};
pub use entities::decode_entity;
pub use epoch::{epoch_comment, unreadable_epoch};
pub(crate) use html::{markup_spans, markup_tokens, scan_attributes, Markup};
pub(crate) use spans::quoted_end;

use crate::problem::{Problem, ProblemKind};
use front_matter::FrontMatterError;
use serde::{Deserialize, Serialize};

/// How the file's bytes were decoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum TextEncoding {
    Utf8,
    Utf8Bom,
    Utf16Le,
    Utf16Be,
    Gb18030,
    Big5,
}

impl TextEncoding {
    pub fn as_str(self) -> &'static str {
        match self {
            TextEncoding::Utf8 => "utf-8",
            TextEncoding::Utf8Bom => "utf-8-bom",
            TextEncoding::Utf16Le => "utf-16le",
            TextEncoding::Utf16Be => "utf-16be",
            TextEncoding::Gb18030 => "gb18030",
            TextEncoding::Big5 => "big5",
        }
    }
}

/// Which front matter block the file had.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FrontMatterKind {
    Yaml,
    Toml,
    None,
}

/// A parsed date: the instant in UTC (milliseconds since the epoch) and the text it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostDate {
    pub utc_ms: i64,
    /// The original text (`date:` value, or the file name prefix).
    pub raw: String,
    /// Whether the date came from the `YYYY-MM-DD-` file name prefix rather than front matter.
    pub from_file_name: bool,
}

/// The byte span of one top-level front matter key in the *original file bytes*: from the first
/// byte of the key to the end of its value, including the line ending of its last line.
/// Only recorded for UTF-8 files (the edit path refuses other encodings).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySpan {
    pub key: String,
    pub start: usize,
    pub end: usize,
}

/// Options for parsing one file.
#[derive(Debug, Clone)]
pub struct ParseOptions {
    /// Files bigger than this are not parsed (a `too-large` problem).
    pub max_bytes: u64,
    /// Leave `Post::text` empty: for an edit that changed only front matter, whose body text the
    /// index already holds.
    pub skip_body_text: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            max_bytes: 16 * 1024 * 1024,
            skip_body_text: false,
        }
    }
}

/// Everything Shelfmark knows about one post file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// The title to show: front matter `title` (entities decoded, whitespace trimmed and collapsed,
    /// invisible characters dropped), else the first Markdown heading or
    /// `[text](url)` line of the body, else the file name without date prefix and extension.
    pub title: String,
    pub date: Option<PostDate>,
    pub author: Option<String>,
    /// Source URL: `from`, else `source`, `url` or `link`.
    pub source: Option<String>,
    pub tags: Vec<String>,
    pub categories: Vec<String>,
    pub layout: Option<String>,
    /// Every front matter key with its value as JSON, in file order.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The `<!--1610366114000-->` comment at the top of the body, if any (`NaN` gives None).
    pub epoch_ms: Option<i64>,
    /// The text of that comment when it stands where the epoch goes but is no number (`NaN`).
    #[serde(default)]
    pub epoch_raw: Option<String>,
    /// Plain text of the body for search: no tags, no script/style, entities decoded,
    /// whitespace at block boundaries, zero-width and control characters removed. This is the
    /// whole page; the article's own part is `article`.
    pub text: String,
    /// The article's own text, as byte ranges of `text`: whole lines, in order, apart (so each
    /// range starts after a `\n` of `text` and ends before one). The page around the article
    /// (navigation, related lists, comments, share blocks, footers) lies outside them. One range
    /// covering `text` when the body is not HTML, short, or has nothing else; empty when `text` is.
    pub article: Vec<(u32, u32)>,
    pub encoding: TextEncoding,
    pub front_matter: FrontMatterKind,
    /// Whether the file uses CRLF line endings (in its front matter, or overall without one).
    pub crlf: bool,
    /// Byte spans of each top-level key, in file order. Empty unless the file is clean UTF-8 YAML
    /// whose keys the span scanner and the parser agree on (no duplicates, no merge keys), so an
    /// empty list means "do not splice".
    pub key_spans: Vec<KeySpan>,
    /// Byte offset in the original file where the body starts (after the closing delimiter line;
    /// without front matter, or when it is unclosed, just after any BOM).
    pub body_offset: usize,
}

impl Post {
    /// The article's own text: `text` within the `article` ranges, the ranges joined with `\n`.
    /// Borrowed when the article is the whole text.
    pub fn article_text(&self) -> std::borrow::Cow<'_, str> {
        article_text(&self.text, &self.article)
    }

    /// The page around the article: the lines of `text` outside `article`, joined with `\n`.
    pub fn rest_text(&self) -> String {
        rest_text(&self.text, &self.article)
    }
}

/// The lines of `text` outside the `article` ranges (see `Post::article`), joined with `\n`.
fn rest_text(text: &str, article: &[(u32, u32)]) -> String {
    let mut rest = Vec::with_capacity(article.len() + 1);
    let mut at = 0u32;
    for &(start, end) in article {
        if start > at {
            rest.push((at, start.saturating_sub(1)));
        }
        at = end.saturating_add(1);
    }
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    if at < len {
        rest.push((at, len));
    }
    rest.retain(|(s, e)| s < e);
    article_text(text, &rest).into_owned()
}

/// The text of `ranges` of `text` (see `Post::article`), joined with `\n`. Ranges out of bounds or
/// off character boundaries are skipped.
pub fn article_text<'a>(text: &'a str, ranges: &[(u32, u32)]) -> std::borrow::Cow<'a, str> {
    let get = |&(start, end): &(u32, u32)| text.get(start as usize..end as usize);
    match ranges {
        [] => std::borrow::Cow::Borrowed(""),
        [one] => std::borrow::Cow::Borrowed(get(one).unwrap_or_default()),
        _ => {
            let mut out = String::with_capacity(text.len());
            for part in ranges.iter().filter_map(get) {
                if !out.is_empty() {
                    out.push('\n');
                }
                out.push_str(part);
            }
            std::borrow::Cow::Owned(out)
        }
    }
}

/// What the reader shows of a body by default: the article alone (see [`article_source`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArticleSource {
    /// Byte ranges of the body source that hold the article: in order, apart, on character
    /// boundaries. Each starts at the tag that opened its first block (where the extractor saw
    /// one) and ends after its last text; what lies between two runs is the page around.
    pub runs: Vec<(usize, usize)>,
    /// The page text the article leaves out (its lines joined with `\n`).
    pub hidden: String,
}

/// The article of a post body (`body` as [`body_source`] gives it; `title` is the post's title,
/// which the article leaves out when it is repeated on top), as ranges of the body source. None
/// when the article is the whole text (not HTML, short, or nothing else): then the reader shows
/// the whole body.
pub fn article_source(body: &str, title: &str) -> Option<ArticleSource> {
    let (text, lines) = text::body_text_and_lines(body);
    let ranges = article::article_ranges(&text, &lines, title);
    let len = u32::try_from(text.len()).unwrap_or(u32::MAX);
    if ranges.is_empty() || ranges == [(0, len)] {
        return None;
    }
    let runs: Vec<(usize, usize)> = article::source_runs(&lines, &ranges)
        .into_iter()
        .map(|(s, e)| (s as usize, e as usize))
        .filter(|&(s, e)| body.is_char_boundary(s) && body.is_char_boundary(e) && e <= body.len())
        .collect();
    if runs.is_empty() {
        return None;
    }
    Some(ArticleSource {
        runs,
        hidden: rest_text(&text, &ranges),
    })
}

/// The outcome of reading one file: a post (unless the file could not be read as a post at all)
/// and the problems found on the way. A post with problems is still indexed.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub post: Option<Post>,
    pub problems: Vec<Problem>,
}

/// The problem for a file over the size limit; the caller may check the size before reading and
/// report it the same way.
pub fn too_large_problem(size: u64, max_bytes: u64) -> Problem {
    Problem::new(
        ProblemKind::TooLarge,
        format!(
            "the file is {}, over the {} limit, so it is not indexed; raise the size limit to include it",
            human_size(size),
            human_size(max_bytes)
        ),
    )
}

fn human_size(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if b >= KIB * KIB {
        format!("{:.1} MiB", b / (KIB * KIB))
    } else if b >= KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{bytes} bytes")
    }
}

/// The body of a post as text (decoded, after the front matter), for rendering. None when the
/// file is not text.
pub fn body_source(bytes: &[u8]) -> Option<String> {
    let decoded = decode::decode(bytes).ok()?;
    let text: &str = &decoded.text;
    let split = split::split_front_matter(text);
    Some(split.body(text).to_string())
}

/// Where a file's front matter lies and what it holds, for the edit path (no body parsing).
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub encoding: TextEncoding,
    /// The bytes are clean UTF-8 (with or without BOM): byte offsets below are file offsets.
    pub exact_utf8: bool,
    pub bom_len: usize,
    pub kind: FrontMatterKind,
    /// First byte of the front matter text (after the opening line); `bom_len` without one.
    pub front_matter_start: usize,
    /// First byte of the closing delimiter line; equal to `front_matter_start` without one.
    pub front_matter_end: usize,
    pub body_offset: usize,
    pub crlf: bool,
    /// An opening delimiter without a closing one.
    pub unclosed: bool,
    /// Why the front matter could not be read, if it could not.
    pub error: Option<String>,
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// The spans of every key, when the span scanner and the parser agree (see `Post::key_spans`).
    pub key_spans: Option<Vec<KeySpan>>,
}

/// The front matter layout of a file's bytes; None when the bytes are not text at all.
pub fn layout(bytes: &[u8]) -> Option<Layout> {
    let decoded = decode::decode(bytes).ok()?;
    let text: &str = &decoded.text;
    let split = split::split_front_matter(text);
    let exact_utf8 = decoded.is_exact_utf8();
    let mut out = Layout {
        encoding: decoded.encoding,
        exact_utf8,
        bom_len: decoded.bom_len,
        kind: split.kind,
        front_matter_start: decoded.source_offset(bytes, split.front_matter_start),
        front_matter_end: decoded
            .source_offset(bytes, split.front_matter_start + split.front_matter.len()),
        body_offset: decoded.source_offset(bytes, split.body_start),
        crlf: split.crlf,
        unclosed: split.unclosed,
        error: None,
        fields: serde_json::Map::new(),
        key_spans: None,
    };
    if split.kind == FrontMatterKind::None {
        out.front_matter_start = decoded.bom_len;
        out.front_matter_end = decoded.bom_len;
        out.key_spans = Some(Vec::new());
        return Some(out);
    }
    let parsed = match split.kind {
        FrontMatterKind::Toml => front_matter::parse_toml(split.front_matter),
        _ => front_matter::parse_yaml(split.front_matter),
    };
    match parsed {
        Ok(fm) => {
            if split.kind == FrontMatterKind::Yaml && exact_utf8 && fm.duplicate_keys.is_empty() {
                let base = decoded.bom_len + split.front_matter_start;
                out.key_spans = spans::key_spans(split.front_matter, base)
                    .filter(|spans| spans.iter().map(|s| &s.key).eq(fm.fields.keys()));
            }
            out.fields = fm.fields;
        }
        Err(e) => {
            let first_line = split::line_of(text, split.front_matter_start);
            out.error = Some(front_matter_problem(e, split.kind, first_line).message);
        }
    }
    Some(out)
}

/// Tags or categories as Shelfmark reads them from a front matter value (a list, or a string split
/// on whitespace and commas; numbers as text; empties and repeats dropped).
pub fn terms_of(key: &str, value: &serde_json::Value) -> Vec<String> {
    fields::term_list(key, value, &mut Vec::new())
}

/// Parse one file's bytes. `file_name` is the last path component (used for the date prefix and
/// as the fallback title); it may not be valid UTF-8, so it is passed lossily.
pub fn parse(file_name: &str, bytes: &[u8], opts: &ParseOptions) -> Parsed {
    let size = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if size > opts.max_bytes {
        return Parsed {
            post: None,
            problems: vec![too_large_problem(size, opts.max_bytes)],
        };
    }
    let decoded = match decode::decode(bytes) {
        Ok(decoded) => decoded,
        Err(problem) => {
            return Parsed {
                post: None,
                problems: vec![problem],
            }
        }
    };
    let mut problems: Vec<Problem> = decoded.problem.iter().cloned().collect();
    let text: &str = &decoded.text;
    let split = split::split_front_matter(text);
    if split.unclosed {
        problems.push(
            Problem::new(
                ProblemKind::UnclosedFrontMatter,
                "the front matter opened on line 1 is never closed (no later `---` or `+++` line), so \
                 the whole file is read as the body; add the closing line to use its fields",
            )
            .at(Some(1), None),
        );
    }

    let first_line = split::line_of(text, split.front_matter_start);
    let parsed_front_matter = match split.kind {
        FrontMatterKind::None => None,
        FrontMatterKind::Yaml => Some(front_matter::parse_yaml(split.front_matter)),
        FrontMatterKind::Toml => Some(front_matter::parse_toml(split.front_matter)),
    };
    let mut fields_map = serde_json::Map::new();
    let mut key_spans = Vec::new();
    match parsed_front_matter {
        None => {}
        Some(Ok(front_matter)) => {
            for key in &front_matter.duplicate_keys {
                problems.push(Problem::new(
                    ProblemKind::BadField,
                    format!("field `{key}` is written more than once in the front matter; the last one is used"),
                ));
            }
            if split.kind == FrontMatterKind::Yaml
                && decoded.is_exact_utf8()
                && front_matter.duplicate_keys.is_empty()
            {
                let base = decoded.bom_len + split.front_matter_start;
                if let Some(spans) = spans::key_spans(split.front_matter, base) {
                    // Only spans the parser agrees with are safe to splice.
                    if spans.iter().map(|s| &s.key).eq(front_matter.fields.keys()) {
                        key_spans = spans;
                    }
                }
            }
            fields_map = front_matter.fields;
        }
        Some(Err(error)) => problems.push(front_matter_problem(error, split.kind, first_line)),
    }

    let fields = fields::read_fields(&fields_map, &mut problems);
    let body = split.body(text);
    let title = fields
        .title
        // Jekyll writes titles into HTML unescaped, so `&quot;` shows as `"`.
        .map(|title| fields::clean_title(&entities::decode_entities(&title)))
        .filter(|title| !title.is_empty())
        .or_else(|| markdown::first_heading(body))
        .unwrap_or_else(|| fields::file_name_title(file_name));
    let date = if fields.has_date {
        fields.date
    } else {
        date::file_name_date(file_name).map(|(utc_ms, raw)| PostDate {
            utc_ms,
            raw: raw.to_owned(),
            from_file_name: true,
        })
    };
    let (body_text, article) = if opts.skip_body_text {
        (String::new(), Vec::new())
    } else {
        let (body_text, lines) = text::body_text_and_lines(body);
        let article = article::article_ranges(&body_text, &lines, &title);
        (body_text, article)
    };
    let post = Post {
        title,
        date,
        author: fields.author,
        source: fields.source,
        tags: fields.tags,
        categories: fields.categories,
        layout: fields.layout,
        fields: fields_map,
        epoch_ms: text::epoch_comment(body),
        epoch_raw: epoch::unreadable_epoch(body),
        text: body_text,
        article,
        encoding: decoded.encoding,
        front_matter: split.kind,
        crlf: split.crlf,
        key_spans,
        body_offset: decoded.source_offset(bytes, split.body_start),
    };
    Parsed {
        post: Some(post),
        problems,
    }
}

/// A front matter that could not be read, as a problem positioned in the file.
fn front_matter_problem(
    error: FrontMatterError,
    kind: FrontMatterKind,
    first_line: u32,
) -> Problem {
    let format = if kind == FrontMatterKind::Toml {
        "TOML"
    } else {
        "YAML"
    };
    match error {
        FrontMatterError::Malformed { message, line, column } => Problem::new(
            ProblemKind::MalformedFrontMatter,
            format!("the front matter is not valid {format} ({message}); its fields are ignored until it is fixed"),
        )
        .at(Some(line.map_or(first_line, |l| first_line.saturating_add(l.saturating_sub(1)))), column),
        FrontMatterError::NotAMapping { found } => Problem::new(
            ProblemKind::NotAMapping,
            format!("the front matter is {found}, not `key: value` pairs; its fields are ignored"),
        )
        .at(Some(first_line), None),
        FrontMatterError::TooComplex { message } => {
            Problem::new(ProblemKind::FrontMatterTooComplex, format!("{message}; its fields are ignored"))
                .at(Some(first_line), None)
        }
    }
}

/// For tuning the article extraction (`examples/article_dump.rs --lines`): each line of a body's
/// text with its link and boilerplate byte counts.
#[doc(hidden)]
pub fn article_lines(body: &str) -> Vec<(String, u32, u32)> {
    let (text, lines) = text::body_text_and_lines(body);
    text.split('\n')
        .zip(
            lines
                .lines
                .iter()
                .map(|l| (l.link, l.boiler))
                .chain(std::iter::repeat((0, 0))),
        )
        .map(|(line, (link, boiler))| (line.to_owned(), link, boiler))
        .collect()
}
