//! The article's own text: which lines (blocks) of a post's page text belong to the article, and
//! which to the page around it (navigation, "related articles" lists, share and subscribe blocks,
//! comments, ads, copyright footers, bylines and dates above the article).
//!
//! Readability-style, but linear and cheap: while the text extractor makes its one pass over the
//! body, it records for each output line how many of its bytes were link text and how many lay
//! inside boilerplate markup (elements such as `<nav>`, `<aside>`, `<footer>`, or whose class or
//! id names a related list, comments, sharing, ads...; see [`tag_context`]). Then one pass over the
//! lines ([`article_ranges`]) judges each line by those densities and by its own text (cue
//! headings such as `您可能感兴趣的文章` or `延伸閱讀` end the article; a line of feed furniture
//! such as `获取更多RSS` is not article), drops dates, bylines and the title repeated above the
//! article, and keeps the rest. Bodies without HTML, short bodies, and bodies where nothing would
//! be left are their own article.

use super::html::{each_attribute, name_str};
use std::ops::ControlFlow;

/// What an element says about the text inside it.
#[derive(Clone, Copy, Default, PartialEq, Eq, Debug)]
pub(super) struct Context {
    /// Inside markup that is not the article's (navigation, related lists, comments, ads...).
    pub(super) boiler: bool,
    /// Inside a link.
    pub(super) link: bool,
    /// Inside a heading (`<h1>`–`<h6>`) or bold text (`<p><strong>` is a heading for many sites).
    pub(super) heading: bool,
}

/// Per output line: where it starts, and how many of its bytes were link text or boilerplate;
/// and the bytes of the body source it came from (`src_start..src_end`: from the tag that opened
/// its block, or its first text, to the end of its last text).
#[derive(Clone, Copy, Default, Debug)]
pub(super) struct Line {
    pub(super) start: u32,
    pub(super) link: u32,
    pub(super) boiler: u32,
    pub(super) heading: u32,
    pub(super) src_start: u32,
    pub(super) src_end: u32,
}

/// The lines of one extracted text, recorded while the text is written.
#[derive(Default, Debug)]
pub(super) struct Lines {
    pub(super) lines: Vec<Line>,
    /// The body had HTML tags (otherwise it is Markdown or plain text: all article).
    pub(super) saw_markup: bool,
    end: u32,
}

fn to_u32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl Lines {
    /// The first line's text begins; in the source at `source`.
    pub(super) fn first(&mut self, source: usize) {
        if self.lines.is_empty() {
            self.lines.push(Line {
                src_start: to_u32(source),
                ..Line::default()
            });
        }
    }

    /// A new line starts at byte `at` of the text, at `source` in the body source; the line
    /// before it ended at `previous_end` in the source.
    pub(super) fn start(&mut self, at: usize, source: usize, previous_end: usize) {
        let previous_end = to_u32(previous_end);
        if let Some(last) = self.lines.last_mut() {
            last.src_end = previous_end.max(last.src_start);
        }
        self.lines.push(Line {
            start: to_u32(at),
            src_start: to_u32(source).max(previous_end),
            ..Line::default()
        });
    }

    /// `len` bytes of text were written into the current line in `context`.
    #[inline]
    pub(super) fn count(&mut self, len: usize, context: Context) {
        if !(context.link || context.boiler || context.heading) {
            return;
        }
        if self.lines.is_empty() {
            self.first(0);
        }
        if let Some(line) = self.lines.last_mut() {
            let len = to_u32(len);
            if context.link {
                line.link = line.link.saturating_add(len);
            }
            if context.boiler {
                line.boiler = line.boiler.saturating_add(len);
            }
            if context.heading {
                line.heading = line.heading.saturating_add(len);
            }
        }
    }

    /// The text is complete at `len` bytes; its last text ended at `source_end` in the source.
    pub(super) fn finish(&mut self, len: usize, source_end: usize) {
        if self.lines.first().is_none_or(|l| l.start != 0) && len > 0 {
            self.lines.insert(0, Line::default());
        }
        if let Some(last) = self.lines.last_mut() {
            last.src_end = to_u32(source_end).max(last.src_start);
        }
        self.end = to_u32(len);
    }
}

/// Elements that never have content (no closing tag to wait for).
pub(super) fn is_void(name: &[u8; 16]) -> bool {
    matches!(
        name_str(name),
        b"area"
            | b"base"
            | b"br"
            | b"col"
            | b"embed"
            | b"hr"
            | b"img"
            | b"input"
            | b"link"
            | b"meta"
            | b"param"
            | b"source"
            | b"track"
            | b"wbr"
    )
}

/// Elements whose content is page furniture wherever they are.
fn is_boiler_element(name: &[u8]) -> bool {
    matches!(
        name,
        b"nav" | b"aside" | b"footer" | b"form" | b"button" | b"time" | b"select" | b"textarea"
    )
}

/// Words of a class or id (split at anything not a letter or digit, lower case) that mark
/// boilerplate: a word equal to one of `BOILER_WORDS` or starting with one of `BOILER_PREFIXES`.
const BOILER_WORDS: &[&[u8]] = &[
    b"ad",
    b"ads",
    b"nav",
    b"tags",
    b"sd",
    b"links",
    b"date",
    b"time",
    b"meta",
    b"promo",
    b"promotion",
    b"share",
    b"more",
    b"hot",
    b"popular",
    b"rss",
    b"caption-cred",
];
const BOILER_PREFIXES: &[&[u8]] = &[
    b"related",
    b"recommend",
    b"comment",
    b"sharing",
    b"sharedaddy",
    b"social",
    b"sidebar",
    b"footer",
    b"menu",
    b"breadcrumb",
    b"widget",
    b"advert",
    b"adslot",
    b"dfp",
    b"selfpromo",
    b"subscri",
    b"newsletter",
    b"copyright",
    b"sponsor",
    b"outbrain",
    b"taboola",
    b"disqus",
    b"morearticle",
    b"author",
    b"byline",
    b"published",
    b"updated",
    b"permalink",
    b"avatar",
    b"username",
    b"commenter",
    b"submitted",
    b"pagination",
    b"navigation",
    b"postlist",
    b"toolbar",
    b"follow",
    b"donate",
];

fn is_boiler_word(word: &[u8]) -> bool {
    BOILER_WORDS.contains(&word) || BOILER_PREFIXES.iter().any(|p| word.starts_with(p))
}

/// Class fragments of hidden or screen-reader-only elements (not `field-label-hidden`, which
/// Drupal puts on every field).
const HIDDEN_CLASSES: &[&[u8]] = &[
    b"element-hidden",
    b"element-invisible",
    b"--hidden",
    b"screen-reader",
];

/// Whether a class or id value names boilerplate.
fn names_boiler(value: &[u8]) -> bool {
    if HIDDEN_CLASSES
        .iter()
        .any(|h| memchr::memmem::find(value, h).is_some())
    {
        return true;
    }
    let mut word = [0u8; 24];
    let mut len = 0usize;
    let mut long = false;
    for &b in value.iter().chain(std::iter::once(&b' ')) {
        if b.is_ascii_alphanumeric() {
            match word.get_mut(len) {
                Some(slot) => *slot = b.to_ascii_lowercase(),
                None => long = true,
            }
            len += 1;
        } else {
            if len > 0 && !long && is_boiler_word(word.get(..len).unwrap_or_default()) {
                return true;
            }
            len = 0;
            long = false;
        }
    }
    false
}

/// The context an element opened with `attributes` (the bytes of its tag after the name) gives
/// its content, inside `parent`. Linear in the tag's bytes.
pub(super) fn tag_context(name: &[u8; 16], attributes: &[u8], parent: Context) -> Context {
    let name = name_str(name);
    let mut context = parent;
    if name == b"a" {
        context.link = true;
    }
    if matches!(
        name,
        b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" | b"strong" | b"b"
    ) {
        context.heading = true;
    }
    // WordPress names an article's tags and categories in the classes of `<article>` itself.
    let container = matches!(name, b"article" | b"main" | b"body" | b"html");
    if !context.boiler
        && (is_boiler_element(name) || (!container && attributes_name_boiler(attributes)))
    {
        context.boiler = true;
    }
    context
}

/// Whether the `class`, `id` or `data-*` ad attributes of a tag name boilerplate.
fn attributes_name_boiler(s: &[u8]) -> bool {
    let mut boiler = false;
    each_attribute(s, 0, |a| {
        let Some(value) = a.value else {
            return ControlFlow::Continue(());
        };
        let attr = s.get(a.name).unwrap_or_default();
        let value = s.get(value).unwrap_or_default();
        boiler = if attr.eq_ignore_ascii_case(b"class") || attr.eq_ignore_ascii_case(b"id") {
            names_boiler(value)
        } else {
            attr.len() > 8
                && attr
                    .get(..8)
                    .is_some_and(|p| p.eq_ignore_ascii_case(b"data-o-a"))
                || attr.eq_ignore_ascii_case(b"data-dfp")
        };
        if boiler {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    boiler
}

/// Lines whose text (trimmed, without a trailing colon) says that the article has ended and the
/// page around it begins: everything from such a line on is not article.
const END_CUES: &[&str] = &[
    "您可能感兴趣的文章",
    "您可能感興趣的文章",
    "相关文章",
    "相關文章",
    "相关阅读",
    "相關閱讀",
    "延伸阅读",
    "延伸閱讀",
    "延展阅读",
    "延展閱讀",
    "推荐阅读",
    "推薦閱讀",
    "相关新闻",
    "相關新聞",
    "相关报道",
    "相關報導",
    "热门文章",
    "熱門文章",
    "相关图集",
    "相關圖集",
    "更多阅读",
    "获取更多RSS",
    "獲取更多RSS",
    "共享此文章",
    "分享此文章",
    "分享到",
    "Related",
    "Related Articles",
    "Related articles",
    "Related posts",
    "Read more",
    "Read More",
    "相关",
    "相關",
    "Tagged",
    "冒个泡吧！",
];

/// Lines of page furniture anywhere (matched at the line's start).
const LINE_CUES: &[&str] = &[
    "获取更多RSS",
    "The post ",
    "微信搜索",
    "我们的标准：",
    "感谢阅读今天的简报",
    "点击以在",
    "This article appeared in the",
    "德国之声致力于",
    "谢谢支持，欢迎您收看订阅",
];

/// The one copyright cue that does not start with `版` (see `has_footer_cue`).
const ALL_RIGHTS: &str = "All rights reserved";

/// Lines that say so are a copyright footer (matched anywhere in a short line).
const COPYRIGHT_CUES: &[&str] = &["版权声明", "版權聲明", ALL_RIGHTS, "版权所有", "版權所有"];

fn strip_colon(line: &str) -> &str {
    line.trim().trim_end_matches([':', '：']).trim_end()
}

fn is_end_cue(line: &str) -> bool {
    line.len() <= 40 && END_CUES.contains(&strip_colon(line))
}

/// `相关图集：习近平：从红二代到权力巅峰`: a gallery of another story inside the article, as long
/// as its lines start in bold.
fn is_gallery_heading(line: &str) -> bool {
    ["相关图集", "相關圖集"]
        .iter()
        .any(|cue| line.starts_with(cue))
        && at_most_chars(line, 60)
}

/// `延伸阅读：另一篇文章的标题`: a link to another story inside the article.
fn is_related_line(line: &str) -> bool {
    at_most_chars(line, 80)
        && END_CUES.iter().any(|cue| {
            cue.chars().count() >= 4
                && line
                    .strip_prefix(cue)
                    .is_some_and(|rest| rest.starts_with(['：', ':']))
        })
}

/// Said anywhere in a line shorter than 1,000 bytes, a syndication footer.
const ORIGINALLY_PUBLISHED: &str = " was originally published in ";

fn is_furniture(line: &str) -> bool {
    LINE_CUES.iter().any(|cue| line.starts_with(cue))
        || (line.len() < 1000 && has_footer_cue(line))
        || is_file_name(line)
}

/// A copyright cue in a line shorter than 400 bytes, or `ORIGINALLY_PUBLISHED`. Asked of every
/// line, so each cue is looked for with a searcher made once (vectorised): the Chinese cues all
/// start with `版`, found once and then compared. (A `contains` for each cue was 1% of a cold
/// index's profile samples; one aho-corasick automaton for all of them, 1.7–2.4%: lines are
/// short, and the automaton's set-up is paid on each.)
fn has_footer_cue(line: &str) -> bool {
    use memchr::memmem::Finder;
    use std::sync::LazyLock;
    static PUBLISHED: LazyLock<Finder<'static>> =
        LazyLock::new(|| Finder::new(ORIGINALLY_PUBLISHED));
    static BAN: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new("版"));
    static RESERVED: LazyLock<Finder<'static>> = LazyLock::new(|| Finder::new(ALL_RIGHTS));
    let b = line.as_bytes();
    if PUBLISHED.find(b).is_some() {
        return true;
    }
    if b.len() >= 400 {
        return false;
    }
    RESERVED.find(b).is_some()
        || BAN.find_iter(b).any(|at| {
            let rest = line.get(at..).unwrap_or_default();
            COPYRIGHT_CUES.iter().any(|cue| rest.starts_with(cue))
        })
}

/// An image's file name shown as text (`pu_zhi_qiang_.jpg`).
fn is_file_name(line: &str) -> bool {
    let b = line.as_bytes();
    [".jpg", ".jpeg", ".png", ".gif", ".webp"]
        .iter()
        .any(|ext| {
            b.len() > ext.len()
                && b.get(b.len() - ext.len()..)
                    .is_some_and(|end| end.eq_ignore_ascii_case(ext.as_bytes()))
        })
        && !line.contains(' ')
}

/// Whether `line` has at most `max` characters (without counting long lines).
fn at_most_chars(line: &str, max: usize) -> bool {
    line.len() <= max || (line.len() <= max * 4 && line.chars().count() <= max)
}

/// A date, time or "n minutes ago" line (above the article).
fn is_date_line(line: &str) -> bool {
    if line.len() > 160 {
        return false;
    }
    let chars = line.chars().count();
    if chars == 0 || chars > 40 {
        return false;
    }
    let digits = line.chars().filter(char::is_ascii_digit).count();
    let relative = [
        "分钟前",
        "分鐘前",
        "小时前",
        "小時前",
        "天前",
        "最近更新",
        "ago",
    ]
    .iter()
    .any(|w| line.contains(w));
    relative || (digits * 3 >= chars && digits >= 4) || (digits >= 2 && line.contains("GMT"))
}

/// Whether `line` is the title (whitespace and case aside).
fn is_title(line: &str, title: &str) -> bool {
    // Compared as they come, without spaces and in lower case (not collected into strings:
    // this is asked of every line above the article).
    fn norm(s: &str) -> impl Iterator<Item = char> + '_ {
        s.chars()
            .filter(|c| !c.is_whitespace())
            .flat_map(char::to_lowercase)
    }
    if title.is_empty() || line.len() > title.len() * 2 + 8 {
        return false;
    }
    let mut line = norm(line);
    if !norm(title).all(|t| line.next() == Some(t)) {
        return false;
    }
    // The line is the title, or starts with it: a long title may be cut short in the front
    // matter.
    line.next().is_none() || norm(title).count() >= 20
}

/// A line that reads as the article itself: long enough, or a sentence.
fn is_substantial(line: &str) -> bool {
    !at_most_chars(line, 39) || line.contains(['。', '，', '！', '？', '；']) || line.contains(". ")
}

/// A short line without sentence punctuation (an author's name above a date).
fn is_name_like(text: &str, lines: &[Line], i: usize, end: u32) -> bool {
    let start = lines.get(i).map_or(0, |l| l.start as usize);
    let line = text.get(start..end as usize).unwrap_or_default();
    at_most_chars(line, 40) && !line.contains(['。', '，', '！', '？', '：', ':'])
}

/// Lines this long (bytes) without many links are prose even inside boilerplate markup.
const LONG_PROSE: usize = 500;

/// Bodies shorter than this (bytes of text) are their own article.
const SHORT_TEXT: usize = 200;

/// The article's byte ranges in `text` (whole lines, in order, not touching), from what the
/// extractor recorded. The whole text when the body is not HTML, short, or nothing would be left.
pub(super) fn article_ranges(text: &str, lines: &Lines, title: &str) -> Vec<(u32, u32)> {
    let whole = vec![(0, to_u32(text.len()))];
    if text.is_empty() {
        return Vec::new();
    }
    if !lines.saw_markup || text.len() < SHORT_TEXT || lines.lines.is_empty() {
        return whole;
    }
    let n = lines.lines.len();
    let end_of = |i: usize| -> u32 {
        lines
            .lines
            .get(i + 1)
            .map_or(lines.end, |next| next.start.saturating_sub(1))
    };
    let mut keep = vec![false; n];
    let mut seen_content = false;
    // Kept lines above the article's first substantial line (a byline, a caption...).
    let mut heading: Vec<usize> = Vec::new();
    let mut in_related = false;
    let mut in_list = false;
    for (i, line) in lines.lines.iter().enumerate() {
        let (start, end) = (line.start as usize, end_of(i) as usize);
        let Some(body) = text.get(start..end) else {
            continue;
        };
        let len = body.len().max(1);
        let link = line.link as usize;
        let boiler = line.boiler as usize;
        if seen_content && is_end_cue(body) {
            // A related list, share bar or comments: up to the next paragraph of prose.
            in_list = true;
            continue;
        }
        if in_list {
            let prose = !at_most_chars(body, 39)
                && is_substantial(body)
                && link * 5 <= len
                && boiler * 2 <= len;
            if !prose {
                continue;
            }
            in_list = false;
        }
        let is_heading = line.heading as usize * 2 > body.len() && at_most_chars(body, 40);
        if is_gallery_heading(body) {
            in_related = true;
            continue;
        }
        if is_related_line(body) {
            continue;
        }
        if in_related {
            // Gallery items are `<b>label</b>：caption`; the article resumes with a line
            // without bold, or with a heading.
            if line.heading > 0 && !is_heading {
                continue;
            }
            in_related = false;
        }
        if !seen_content {
            if is_title(body, title) {
                // Whatever came above the title is the page's header.
                for &h in &heading {
                    keep[h] = false;
                }
                heading.clear();
                continue;
            }
            if is_date_line(body) {
                // `Author<br>date` above the article.
                if let Some(&previous) = heading.last().filter(|&&h| h + 1 == i) {
                    if is_name_like(text, &lines.lines, previous, end_of(previous)) {
                        keep[previous] = false;
                        heading.pop();
                    }
                }
                continue;
            }
        }
        let linky = link * 10 > len * 6;
        // Long prose inside "comment" markup is the article on sites that publish through
        // their comment system (ChinaFile's conversations); spam comments are short.
        let prose = len >= LONG_PROSE && link * 10 < len;
        let good = (boiler * 2 <= len || prose) && !linky && !is_furniture(body);
        if good {
            keep[i] = true;
            if !seen_content {
                if is_substantial(body) {
                    seen_content = true;
                } else {
                    heading.push(i);
                }
            }
        }
    }
    // Separators left at the end (`———`).
    for i in (0..n).rev() {
        if !keep[i] {
            continue;
        }
        let line = lines.lines.get(i).map_or(0, |l| l.start as usize);
        let body = text.get(line..end_of(i) as usize).unwrap_or_default();
        if body.chars().any(char::is_alphanumeric) {
            break;
        }
        keep[i] = false;
    }
    let kept: usize = (0..n)
        .filter(|&i| keep[i])
        .map(|i| {
            (end_of(i) as usize).saturating_sub(lines.lines.get(i).map_or(0, |l| l.start as usize))
        })
        .sum();
    if kept * 10 < text.len() {
        // Nothing reads as an article (a list of links, say): all of it but a title on top.
        let skip = lines
            .lines
            .iter()
            .take(3)
            .enumerate()
            .find_map(|(i, line)| {
                let body = text.get(line.start as usize..end_of(i) as usize)?;
                is_title(body, title).then_some(i + 1)
            });
        return match skip.and_then(|i| lines.lines.get(i)) {
            Some(next) => vec![(next.start, to_u32(text.len()))],
            None => whole,
        };
    }
    let mut ranges: Vec<(u32, u32)> = Vec::new();
    for (i, line) in lines.lines.iter().enumerate() {
        if !keep.get(i).copied().unwrap_or(false) {
            continue;
        }
        let end = end_of(i);
        match ranges.last_mut() {
            Some(last) if last.1.saturating_add(1) == line.start => last.1 = end,
            _ => ranges.push((line.start, end)),
        }
    }
    ranges
}

/// The article's runs in the body source: for each range of `ranges` (the article's ranges of the
/// text, each a run of consecutive article lines), the source from its first line's start to its
/// last line's end, so what lies between two lines of one run (images, inline markup) is kept and
/// what lies between runs (a share bar, a related list) is not. In order and apart; runs whose
/// lines the extractor could not place are left out.
pub(super) fn source_runs(lines: &Lines, ranges: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let mut runs: Vec<(u32, u32)> = Vec::with_capacity(ranges.len());
    for &(start, end) in ranges {
        let first = lines.lines.partition_point(|l| l.start < start);
        let last = lines.lines.partition_point(|l| l.start <= end);
        let (Some(first), Some(last)) = (
            lines.lines.get(first),
            last.checked_sub(1).and_then(|i| lines.lines.get(i)),
        ) else {
            continue;
        };
        let from = first.src_start.max(runs.last().map_or(0, |r| r.1));
        if from < last.src_end {
            runs.push((from, last.src_end));
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::{is_furniture, is_title, ALL_RIGHTS, COPYRIGHT_CUES};
    use crate::post::{parse, ParseOptions};

    #[test]
    fn a_title_line_is_the_title_or_starts_with_a_long_one_without_spaces_or_case() {
        // As it was decided until stop 38, by collecting both into strings.
        let collected = |line: &str, title: &str| {
            let norm = |s: &str| -> String {
                s.chars()
                    .filter(|c| !c.is_whitespace())
                    .flat_map(char::to_lowercase)
                    .collect()
            };
            if title.is_empty() || line.len() > title.len() * 2 + 8 {
                return false;
            }
            let (line, title) = (norm(line), norm(title));
            line == title || (title.chars().count() >= 20 && line.starts_with(&title))
        };
        let long = "一二三四五六七八九十一二三四五六七八九十";
        let cases = [
            ("Hello World", "hello world", true),
            ("HelloWorld", "hello world", true),
            ("Hello World!", "hello world", false),
            ("Hello", "hello world", false),
            ("", "x", false),
            ("x", "", false),
            (" ", " ", true),
            ("İstanbul", "i̇stanbul", true),
            (&format!("{long}（更新）"), long, true),
            (
                &format!("{}（更新）", &long[..long.len() - 3]),
                &long[..long.len() - 3],
                false,
            ),
        ];
        for (line, title, want) in cases {
            assert_eq!(is_title(line, title), want, "{line:?} / {title:?}");
            assert_eq!(collected(line, title), want, "{line:?} / {title:?}");
        }
    }

    #[test]
    fn copyright_cues_end_short_lines_and_a_syndication_cue_longer_ones() {
        let pad = "x".repeat(450);
        assert!(is_furniture("版权所有 © 2021"));
        assert!(is_furniture("Copyright 2021. All rights reserved."));
        assert!(!is_furniture(&format!("{pad} 版权所有")));
        assert!(is_furniture(&format!(
            "{pad} was originally published in Medium"
        )));
        assert!(is_furniture(&format!(
            "版权所有 {pad} was originally published in x"
        )));
        assert!(!is_furniture(&format!(
            "{pad}{pad}{pad} was originally published in x"
        )));
        assert!(!is_furniture("The article was published in a paper"));
        // Every cue is found where it stands in a short line, after a `版` that starts none.
        for cue in COPYRIGHT_CUES {
            assert!(*cue == ALL_RIGHTS || cue.starts_with('版'), "{cue}");
            assert!(is_furniture(&format!("出版社 {cue} 2021")), "{cue}");
            assert!(!is_furniture(&format!("{pad} {cue}")), "{cue}");
        }
        assert!(!is_furniture("出版社 版权 声明"));
    }

    /// The article text of a post whose front matter title is `title` and whose body is `body`.
    fn article(title: &str, body: &str) -> String {
        let file = format!("---\ntitle: \"{title}\"\n---\n{body}");
        let post = parse("p.md", file.as_bytes(), &ParseOptions::default())
            .post
            .expect("a post");
        post.article_text().into_owned()
    }

    const PARAGRAPH: &str =
        "这是文章的正文，记者在现场看到了很多人，他们都说这件事情非常重要，而且还会继续下去。";

    fn paragraphs(n: usize) -> String {
        (0..n).map(|i| format!("<p>{i}{PARAGRAPH}</p>")).collect()
    }

    #[test]
    fn nav_related_list_and_comments_are_not_article() {
        let body = format!(
            "<nav><ul><li><a href=/>首页</a></li><li><a href=/n>新闻</a></li></ul></nav>\
             <h1>标题</h1><div class=\"entry-content\">{}</div>\
             <h3>您可能感兴趣的文章</h3><ul><li><a href=/a>另一篇文章的标题</a></li></ul>\
             <div id=\"comments\"><p>一位读者的评论，说得很长很长，而且有标点，但它不是文章。</p></div>\
             <div class=\"share-buttons\">分享到微博</div>",
            paragraphs(5)
        );
        let text = article("标题", &body);
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(text.lines().all(|l| l.contains(PARAGRAPH)));
    }

    #[test]
    fn a_related_list_inside_the_article_is_left_out_and_the_article_goes_on() {
        let body = format!(
            "{}<p>相关阅读：</p><p><a href=/x>另一篇：完全不同的故事</a></p><p><a href=/y>第三篇</a></p>{}",
            paragraphs(3),
            paragraphs(2)
        );
        let text = article("t", &body);
        assert_eq!(text.lines().count(), 5, "{text}");
        assert!(!text.contains("另一篇") && !text.contains("相关阅读"));
    }

    #[test]
    fn feed_footer_byline_and_date_above_and_the_repeated_title_go() {
        let body = format!(
            "[标题](http://x)\n------\n\n<div><div><i>Koney Bai<br>2020-08-24 10:03:33</i></div>{}\
             <p>责任编辑：某人</p><br><hr><div>获取更多RSS：<br><a href=\"https://feedx.net\">https://feedx.net</a></div></div>",
            paragraphs(3)
        );
        let text = article("标题", &body);
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(text.ends_with("责任编辑：某人"));
        assert!(!text.contains("Koney") && !text.contains("2020-08-24") && !text.contains("RSS"));
    }

    #[test]
    fn markdown_plain_text_and_short_bodies_are_their_own_article() {
        let markdown = format!("# 标题\n\n{PARAGRAPH}\n\n- [链接](u)\n\n延伸阅读\n\n{PARAGRAPH}");
        let post = parse(
            "p.md",
            format!("---\ntitle: x\n---\n{markdown}").as_bytes(),
            &ParseOptions::default(),
        )
        .post
        .expect("a post");
        assert_eq!(post.article, vec![(0, post.text.len() as u32)]);
        assert_eq!(article("x", "<p>短文<a href=x>链接</a></p>"), "短文链接");
        assert_eq!(article("x", ""), "");
    }

    #[test]
    fn a_page_with_no_article_keeps_all_but_its_title() {
        let links: String = (0..20)
            .map(|i| format!("<li><a href=/{i}>第{i}条新闻的标题在这里</a></li>"))
            .collect();
        let text = article(
            "新闻联播 文字版",
            &format!("<h1>新闻联播 文字版</h1><ul>{links}</ul>"),
        );
        assert_eq!(text.lines().count(), 20, "{text}");
    }

    #[test]
    fn deeply_nested_and_misnested_markup_still_finds_the_article() {
        // Past 256 open elements the context is the 256th's; the nesting closes again here.
        let open = "<div><span><section>".repeat(2_000);
        let close = "</section></span></div>".repeat(2_000);
        let body = format!(
            "<aside class=sidebar><p>侧栏的内容，很长很长，也有标点，但是在侧栏里面。</p></aside>\
             {open}{}</b></i></p></p>{close}{}<div class=\"related\"><p><a href=x>别的文章的标题</a></p></div>",
            paragraphs(2),
            paragraphs(2)
        );
        let text = article("t", &body);
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(!text.contains("侧栏") && !text.contains("别的"));
    }

    #[test]
    fn the_article_runs_in_the_source_keep_what_lies_between_their_lines() {
        let body = format!(
            "<nav><ul><li><a href=/>首页</a></li><li><a href=/n>新闻</a></li></ul></nav>\
             <h1>标题</h1><div class=\"entry\"><p>甲{PARAGRAPH}</p>\
             <figure><img src=\"a.jpg\"><figcaption>图：港口</figcaption></figure>\
             <p>乙{PARAGRAPH}</p>{}</div>\
             <div class=\"share-buttons\"><a href=/s>分享到微博</a></div>\
             <p>丙{PARAGRAPH}</p>\
             <h3>您可能感兴趣的文章</h3><ul><li><a href=/a>另一篇文章的标题</a></li></ul>",
            paragraphs(2)
        );
        let found = crate::post::article_source(&body, "标题").expect("an article");
        let runs: Vec<&str> = found.runs.iter().map(|&(s, e)| &body[s..e]).collect();
        assert_eq!(runs.len(), 2, "{runs:#?}");
        // From the first tag after the title (the article's container) on.
        assert!(
            runs[0].starts_with("<div class=\"entry\"><p>甲"),
            "{}",
            runs[0]
        );
        assert!(runs[0].contains("<img src=\"a.jpg\">") && runs[0].ends_with("而且还会继续下去。"));
        assert!(
            runs[1].starts_with("<p>丙") && runs[1].ends_with("继续下去。"),
            "{}",
            runs[1]
        );
        for left_out in ["首页", "<h1>", "分享到", "您可能感兴趣", "另一篇"] {
            assert!(runs.iter().all(|r| !r.contains(left_out)), "{left_out}");
            assert!(found.hidden.contains(left_out.trim_matches(['<', '>'])) || left_out == "<h1>");
        }
        // Where the article is the whole text, the reader shows the whole body.
        assert_eq!(crate::post::article_source(&paragraphs(5), "t"), None);
        assert_eq!(
            crate::post::article_source("短文<a href=x>链接</a>", "t"),
            None
        );
        let markdown = format!("# 标题\n\n{PARAGRAPH}\n\n- [链接](u)\n\n延伸阅读\n\n{PARAGRAPH}");
        assert_eq!(crate::post::article_source(&markdown, "标题"), None);
    }

    #[test]
    fn a_huge_line_is_one_block() {
        let line = PARAGRAPH.repeat(20_000);
        let body = format!("<div class=\"related\"><a href=x>别的</a></div><p>{line}</p>");
        assert_eq!(article("t", &body), line);
    }
}
