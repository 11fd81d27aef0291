//! Body → plain text for search, in one pass over the bytes. Bodies are mostly scraped HTML with a
//! little Markdown on top, so this is a small HTML text extractor (tags skipped, script/style and
//! comments dropped, entities decoded, a line break at every block boundary) that also knows the
//! Markdown that matters: `[text](url)` links, `#` headings, setext/rule lines, emphasis, bullets.
//! html5ever + pulldown-cmark give the same text about four times slower (see `real_corpus`).

use super::article::{is_void, tag_context, Context, Lines};
use super::entities::decode_entity;
use super::html::{
    bogus_comment_end, closing_tag_end, comment_end, is_block, is_raw_text, name_str, tag_end,
    tag_name,
};
use super::markdown::{emphasis_role, is_blank_or_end, probe_emphasis_closer, run_end, LineLinks};

/// Plain text of a post body: whitespace collapsed, a single `\n` between blocks, no zero-width,
/// bidi or control characters.
pub(super) fn body_text(body: &str) -> String {
    body_text_and_lines(body).0
}

/// The text of a body (as [`body_text`]) and what the extractor saw of each of its lines (blocks):
/// how much of it was link text or inside boilerplate markup. The article is chosen from them.
pub(super) fn body_text_and_lines(body: &str) -> (String, Lines) {
    let mut extractor = Extractor {
        out: String::with_capacity(body.len() / 2),
        mark_out: usize::MAX,
        ..Extractor::default()
    };
    extractor.run(body);
    extractor
        .lines
        .finish(extractor.out.len(), extractor.text_end);
    (extractor.out, extractor.lines)
}

/// Open elements deeper than this are not tracked (their context is their parent's).
const MAX_OPEN: usize = 256;
/// A closing tag closes the nearest open element of its name among this many (misnested HTML).
const CLOSE_REACH: usize = 8;

/// The `<!--1610366114000-->` comment the scraper puts at the top of a body (after blank lines).
/// `<!--NaN-->` and anything else that is not a whole number give None.
pub(super) fn epoch_comment(body: &str) -> Option<i64> {
    let rest = body.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{FEFF}');
    let inner = rest.strip_prefix("<!--")?;
    let inner = inner.get(..inner.find("-->")?)?.trim();
    let digits = inner.strip_prefix('-').unwrap_or(inner);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    inner.parse().ok()
}

/// Byte classes for the hot loop.
const PLAIN: u8 = 0;
const SPACE: u8 = 1;
const WHITESPACE: u8 = 2;
const CONTROL: u8 = 3;
const TAG: u8 = 4;
const ENTITY: u8 = 5;
const LINK_OPEN: u8 = 6;
const LINK_CLOSE: u8 = 7;
const EMPHASIS: u8 = 8;
/// Lead byte of a multi-byte character that may be a space or an invisible character.
const MAYBE_SPECIAL: u8 = 9;

static CLASS: [u8; 256] = {
    let mut table = [PLAIN; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = CONTROL;
        b += 1;
    }
    table[0x7F] = CONTROL;
    table[b' ' as usize] = SPACE;
    table[b'\t' as usize] = WHITESPACE;
    table[b'\n' as usize] = WHITESPACE;
    table[b'\r' as usize] = WHITESPACE;
    table[0x0C] = WHITESPACE;
    table[b'<' as usize] = TAG;
    table[b'&' as usize] = ENTITY;
    table[b'[' as usize] = LINK_OPEN;
    table[b']' as usize] = LINK_CLOSE;
    table[b'*' as usize] = EMPHASIS;
    table[b'_' as usize] = EMPHASIS;
    table[0xC2] = MAYBE_SPECIAL;
    table[0xE2] = MAYBE_SPECIAL;
    table[0xE3] = MAYBE_SPECIAL;
    table[0xEF] = MAYBE_SPECIAL;
    table
};

/// Whether the character starting at `i` (lead byte `MAYBE_SPECIAL`) is a space or invisible.
#[inline]
fn is_special_multibyte(s: &[u8], i: usize) -> bool {
    let b1 = s.get(i + 1).copied().unwrap_or(0);
    let b2 = s.get(i + 2).copied().unwrap_or(0);
    match s.get(i).copied().unwrap_or(0) {
        // C1 controls, no-break space, soft hyphen.
        0xC2 => matches!(b1, 0x80..=0xA0 | 0xAD),
        // U+2000–U+200F spaces and zero-width, U+2028–U+202F separators and bidi, U+205F–U+206F.
        0xE2 => {
            (b1 == 0x80 && matches!(b2, 0x80..=0x8F | 0xA8..=0xAF))
                || (b1 == 0x81 && matches!(b2, 0x9F..=0xAF))
        }
        // U+3000 ideographic space.
        0xE3 => b1 == 0x80 && b2 == 0x80,
        // U+FEFF byte order mark / zero-width no-break space.
        0xEF => b1 == 0xBB && b2 == 0xBF,
        _ => false,
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum CharKind {
    Keep,
    Space,
    Drop,
}

fn char_kind(c: char) -> CharKind {
    match c {
        '\t'
        | '\n'
        | '\r'
        | ' '
        | '\u{0C}'
        | '\u{A0}'
        | '\u{2000}'..='\u{200A}'
        | '\u{2028}'
        | '\u{2029}'
        | '\u{202F}'
        | '\u{205F}'
        | '\u{3000}' => CharKind::Space,
        '\0'..='\u{1F}'
        | '\u{7F}'..='\u{9F}'
        | '\u{AD}'
        | '\u{200B}'..='\u{200F}'
        | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}'
        | '\u{FEFF}' => CharKind::Drop,
        _ => CharKind::Keep,
    }
}

/// Whitespace owed to the output before the next visible character.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
enum Pending {
    #[default]
    None,
    Space,
    Newline,
}

#[derive(Default)]
struct Extractor {
    out: String,
    pending: Pending,
    /// Newlines in the current run of source whitespace (two make a paragraph break).
    newlines: u8,
    /// The current source line is a Markdown block (heading, bullet, quote): its end is a break.
    block_line: bool,
    /// Inside `[text](url)`: (offset of the `]`, offset after the `)`).
    link: Option<(usize, usize)>,
    /// The links of the current source line, found once per line that has a `[`.
    links: LineLinks,
    /// Emphasis openers (`*`, `_`) on this line still waiting for their closer.
    emphasis_open: [u32; 2],
    /// Per marker: for an opener before `.0`, whether a closer follows on its line is `.1`.
    emphasis_probe: [(usize, bool); 2],
    /// End of the source line of the last emphasis run (found once per line: finding it for every
    /// run made a long line of `*_*_` quadratic).
    emphasis_line_end: Option<usize>,
    /// Raw-text elements (`<script>`...) with no closing tag after some offset: none later either,
    /// so an unclosed `<script>` repeated is not searched for to the end each time.
    unclosed_raw_text: Vec<[u8; 16]>,
    /// Bytes searched for line ends and closing tags (tests check it stays linear).
    searched: usize,
    /// Open elements with the context they give their content (boilerplate, link), bounded.
    open: Vec<([u8; 16], Context)>,
    /// Open elements past `MAX_OPEN`, not tracked.
    untracked: usize,
    /// What each output line held, for choosing the article.
    lines: Lines,
    /// Source offset of the token being read (where a line that starts with it starts).
    at: usize,
    /// Source offset after the last text written (where the current line ends in the source).
    text_end: usize,
    /// Source offset of the first opening tag (or Markdown block marker) since the last text was
    /// written: a line that starts next starts there in the source, so the `<p>`, `<figure>` or
    /// `<img>` before its text belongs to it. Valid while `mark_out` is the length of `out`; an
    /// opening block inside boilerplate markup (an ad's image) clears it.
    mark: usize,
    mark_out: usize,
}

impl Extractor {
    fn run(&mut self, text: &str) {
        let s = text.as_bytes();
        let n = s.len();
        let mut i = self.line_start(s, 0);
        while i < n {
            let start = i;
            while i < n {
                match CLASS[usize::from(s[i])] {
                    PLAIN => i += 1,
                    // A single space between words stays inside the run.
                    SPACE if i > start && i + 1 < n && CLASS[usize::from(s[i + 1])] == PLAIN => {
                        i += 2
                    }
                    MAYBE_SPECIAL if !is_special_multibyte(s, i) => i += 1,
                    _ => break,
                }
            }
            if i > start {
                if let Some(run) = text.get(start..i) {
                    self.at = start;
                    self.push_str(run);
                    self.text_end = i;
                }
            }
            let Some(&b) = s.get(i) else { break };
            let written = self.out.len();
            self.at = i;
            let next = match CLASS[usize::from(b)] {
                SPACE | WHITESPACE => self.whitespace(s, i),
                CONTROL => i + 1,
                TAG => self.tag(text, i),
                ENTITY => self.entity(text, i),
                LINK_OPEN => self.link_open(s, i),
                LINK_CLOSE => self.link_close(i),
                EMPHASIS => self.emphasis(text, i),
                _ => self.special_char(text, i),
            };
            if self.out.len() != written {
                self.text_end = next;
            }
            i = next;
        }
    }

    /// An opening tag or block marker at source offset `at`: the next line starts there unless
    /// an earlier one since the last text does (`clear`: boilerplate markup, which no line keeps).
    #[inline]
    fn mark(&mut self, at: usize, clear: bool) {
        if clear {
            self.mark_out = usize::MAX;
        } else if self.mark_out != self.out.len() {
            self.mark = at;
            self.mark_out = self.out.len();
        }
    }

    /// Where a line starting now starts in the source.
    #[inline]
    fn line_source(&self) -> usize {
        if self.mark_out == self.out.len() {
            self.mark
        } else {
            self.at
        }
    }

    fn push_str(&mut self, run: &str) {
        self.flush_pending();
        self.out.push_str(run);
        self.count(run.len());
    }

    /// Counts `len` bytes of text just written in the current line's context.
    #[inline]
    fn count(&mut self, len: usize) {
        let mut context = self.open.last().map_or(Context::default(), |(_, c)| *c);
        context.link |= self.link.is_some();
        self.lines.count(len, context);
    }

    fn push_char(&mut self, c: char) {
        match char_kind(c) {
            CharKind::Keep => {
                self.flush_pending();
                self.out.push(c);
                self.count(c.len_utf8());
            }
            CharKind::Space => self.pending = self.pending.max(Pending::Space),
            CharKind::Drop => {}
        }
    }

    fn flush_pending(&mut self) {
        if !self.out.is_empty() {
            match self.pending {
                Pending::None => {}
                Pending::Space => self.out.push(' '),
                Pending::Newline => {
                    let source = self.line_source();
                    self.out.push('\n');
                    self.lines.start(self.out.len(), source, self.text_end);
                }
            }
        } else {
            self.lines.first(self.line_source());
        }
        self.pending = Pending::None;
        self.newlines = 0;
    }

    fn block_break(&mut self) {
        self.pending = Pending::Newline;
    }

    fn whitespace(&mut self, s: &[u8], mut i: usize) -> usize {
        let mut saw_newline = false;
        while let Some(&b) = s.get(i) {
            match b {
                b'\n' => {
                    saw_newline = true;
                    self.newlines = self.newlines.saturating_add(1);
                }
                b' ' | b'\t' | b'\r' | 0x0C => {}
                _ => break,
            }
            i += 1;
        }
        self.pending = self.pending.max(Pending::Space);
        if saw_newline {
            self.emphasis_open = [0, 0];
            if self.block_line || self.newlines >= 2 {
                self.block_line = false;
                self.block_break();
            }
            return self.line_start(s, i);
        }
        i
    }

    /// At the first non-blank byte of a source line: Markdown block markers.
    fn line_start(&mut self, s: &[u8], i: usize) -> usize {
        let Some(&first) = s.get(i) else { return i };
        match first {
            b'#' => {
                let hashes = s
                    .get(i..)
                    .unwrap_or_default()
                    .iter()
                    .take_while(|&&b| b == b'#')
                    .count();
                if hashes <= 6 && is_blank_or_end(s.get(i + hashes)) {
                    self.mark(i, false);
                    self.block_break();
                    self.block_line = true;
                    return i + hashes;
                }
                i
            }
            b'>' => {
                let mut j = i;
                while matches!(s.get(j), Some(b'>' | b' ' | b'\t')) {
                    j += 1;
                }
                self.mark(i, false);
                self.block_break();
                self.block_line = true;
                j
            }
            b'-' | b'=' | b'*' | b'_' | b'+' => {
                let line_end = memchr::memchr(b'\n', s.get(i..).unwrap_or_default())
                    .map_or(s.len(), |p| i + p);
                let line = s.get(i..line_end).unwrap_or_default();
                if first != b'+'
                    && line
                        .iter()
                        .all(|&b| b == first || matches!(b, b' ' | b'\t' | b'\r'))
                {
                    // Setext underline or thematic break.
                    self.block_break();
                    return line_end;
                }
                if matches!(first, b'-' | b'*' | b'+') && matches!(s.get(i + 1), Some(b' ' | b'\t'))
                {
                    self.mark(i, false);
                    self.block_break();
                    self.block_line = true;
                    return i + 2;
                }
                i
            }
            _ => i,
        }
    }

    fn special_char(&mut self, text: &str, i: usize) -> usize {
        match text.get(i..).and_then(|rest| rest.chars().next()) {
            Some(c) => {
                self.push_char(c);
                i + c.len_utf8()
            }
            None => i + 1,
        }
    }

    // ---- HTML ----

    fn tag(&mut self, text: &str, i: usize) -> usize {
        let s = text.as_bytes();
        self.newlines = 0;
        match s.get(i + 1) {
            Some(b'!') => {
                if s.get(i + 2..i + 4) == Some(&b"--"[..]) {
                    return comment_end(s, i + 4);
                }
                bogus_comment_end(s, i + 2)
            }
            Some(b'?') => bogus_comment_end(s, i + 2),
            Some(b'/') => match s.get(i + 2) {
                Some(c) if c.is_ascii_alphabetic() => {
                    let (name, name_end) = tag_name(s, i + 2);
                    if is_block(&name) {
                        self.block_break();
                    }
                    self.close(&name);
                    tag_end(s, name_end).unwrap_or(s.len())
                }
                Some(b'>') => i + 3,
                Some(_) => bogus_comment_end(s, i + 2),
                None => {
                    self.push_str("</");
                    i + 2
                }
            },
            Some(c) if c.is_ascii_alphabetic() => {
                let (name, name_end) = tag_name(s, i + 1);
                let Some(end) = tag_end(s, name_end) else {
                    return s.len();
                };
                let block = is_block(&name);
                if block {
                    self.block_break();
                }
                self.lines.saw_markup = true;
                // `<div/>` opens a div in HTML: only void elements have no content.
                if !is_void(&name) {
                    self.searched += end.saturating_sub(name_end + 1);
                    self.open(name, s.get(name_end..end).unwrap_or_default());
                }
                // A line never starts at boilerplate markup; an ad's block or image between two
                // lines is left to neither.
                if !self.open.last().is_some_and(|(_, c)| c.boiler) {
                    self.mark(i, false);
                } else if block || name_str(&name) == b"img" {
                    self.mark(i, true);
                }
                if is_raw_text(&name) && !self.unclosed_raw_text.contains(&name) {
                    let found = closing_tag_end(s, end, &name);
                    self.searched += found.unwrap_or(s.len()).saturating_sub(end);
                    match found {
                        Some(after_close) => return after_close,
                        None => self.unclosed_raw_text.push(name),
                    }
                }
                end
            }
            _ => {
                self.push_char('<');
                i + 1
            }
        }
    }

    /// An element opens: its content gets its parent's context and its own.
    fn open(&mut self, name: [u8; 16], attributes: &[u8]) {
        if self.open.len() >= MAX_OPEN {
            self.untracked += 1;
            return;
        }
        let parent = self.open.last().map_or(Context::default(), |(_, c)| *c);
        let context = tag_context(&name, attributes, parent);
        self.open.push((name, context));
    }

    /// An element closes: the nearest open one of that name (within reach) and those inside it.
    fn close(&mut self, name: &[u8; 16]) {
        if self.untracked > 0 {
            self.untracked -= 1;
            return;
        }
        let reach = self.open.len().saturating_sub(CLOSE_REACH);
        if let Some(at) = self
            .open
            .get(reach..)
            .and_then(|top| top.iter().rposition(|(open, _)| open == name))
        {
            self.open.truncate(reach + at);
        }
    }

    fn entity(&mut self, text: &str, i: usize) -> usize {
        match decode_entity(text, i) {
            Some(((first, second), next)) => {
                self.push_char(first);
                if let Some(second) = second {
                    self.push_char(second);
                }
                next
            }
            None => {
                self.push_char('&');
                i + 1
            }
        }
    }

    // ---- Markdown inline ----

    fn link_open(&mut self, s: &[u8], i: usize) -> usize {
        if let Some((close, _)) = self.link {
            if i < close {
                self.push_char('[');
                return i + 1;
            }
            self.link = None;
        }
        if i >= self.links.line_end {
            self.links.find(s, i);
        }
        match self.links.starting_at(i) {
            Some(link) => {
                self.mark(i, false);
                // `![alt](src)`: the alt text stays, the `!` goes.
                if i > 0 && s.get(i - 1) == Some(&b'!') && self.out.ends_with('!') {
                    self.out.pop();
                }
                self.link = Some(link);
            }
            None => self.push_char('['),
        }
        i + 1
    }

    fn link_close(&mut self, i: usize) -> usize {
        match self.link {
            Some((close, resume)) if close == i => {
                self.link = None;
                // The line ends after the link's `(url)`, not inside it.
                self.text_end = self.text_end.max(resume);
                resume
            }
            Some((close, _)) if close < i => {
                self.link = None;
                self.push_char(']');
                i + 1
            }
            _ => {
                self.push_char(']');
                i + 1
            }
        }
    }

    /// `*`/`_` runs that open emphasis and are closed later on the line are dropped, with their
    /// closers (CommonMark's flanking rules: `_` never inside a word); runs standing alone
    /// (`a * b`), inside a word (`snake_case`) or unmatched (`file_.jpg`) are text.
    fn emphasis(&mut self, text: &str, i: usize) -> usize {
        let s = text.as_bytes();
        let marker = s.get(i).copied().unwrap_or(b'*');
        let slot = usize::from(marker == b'_');
        let end = run_end(s, i, marker);
        let (can_open, can_close) = emphasis_role(s, i, end, marker);
        self.mark(i, false);
        let drop = if can_close && self.emphasis_open[slot] > 0 {
            self.emphasis_open[slot] -= 1;
            true
        } else if can_open {
            if i >= self.emphasis_probe[slot].0 {
                let line_end = match self.emphasis_line_end {
                    Some(line_end) if line_end >= end => line_end,
                    _ => {
                        let rest = s.get(end..).unwrap_or_default();
                        let len = memchr::memchr(b'\n', rest).unwrap_or(rest.len());
                        self.searched += len;
                        end + len
                    }
                };
                self.emphasis_line_end = Some(line_end);
                self.emphasis_probe[slot] = probe_emphasis_closer(s, end, line_end, marker);
            }
            let closed_later = self.emphasis_probe[slot].1;
            if closed_later {
                self.emphasis_open[slot] = self.emphasis_open[slot].saturating_add(1);
            }
            closed_later
        } else {
            false
        };
        if !drop {
            if let Some(literal) = text.get(i..end) {
                self.push_str(literal);
            }
        }
        end
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tags_are_skipped_and_blocks_become_line_breaks() {
        assert_eq!(
            body_text("<div>新闻</div><p>第一段</p><p>第二<b>段</b></p>"),
            "新闻\n第一段\n第二段"
        );
        assert_eq!(
            body_text("one<br>two<br/>three<li>four</li><td>five</td><td>six</td>"),
            "one\ntwo\nthree\nfour\nfive\nsix"
        );
        assert_eq!(body_text("<h2>Title</h2>text<hr>more"), "Title\ntext\nmore");
    }

    #[test]
    fn inline_tags_never_split_or_fuse_words() {
        assert_eq!(
            body_text("<span>中</span>国 and <a href=\"x\">link</a>ed"),
            "中国 and linked"
        );
        assert_eq!(body_text("end.</p><p>Start"), "end.\nStart");
    }

    #[test]
    fn script_style_noscript_and_template_contents_are_dropped() {
        let html = "a<script type=\"x\">var s = \"</div>\"; if (a < b) {}</script>b<style>p { color: red }</style>c\
                    <noscript><img src=x>enable js</noscript>d<template><p>t</p></template>e<SCRIPT>x</ScRiPt >f";
        assert_eq!(body_text(html), "a\nb\nc\nd\ne\nf");
    }

    #[test]
    fn an_unclosed_script_does_not_swallow_the_rest() {
        assert_eq!(body_text("<script src=a.js/>text after"), "text after");
    }

    #[test]
    fn comments_and_doctypes_are_dropped() {
        assert_eq!(
            body_text("<!--1610366114000-->\n<!DOCTYPE html>a<!-- x -->b<!---->c<!-->d<?xml v?>e"),
            "abcde"
        );
        assert_eq!(body_text("visible<!-- never closed"), "visible");
    }

    #[test]
    fn quoted_attributes_may_contain_angle_brackets() {
        assert_eq!(body_text("<a title=\"a>b\" data-x='<p>'>text</a>"), "text");
        assert_eq!(body_text("<img alt=\"broken>rest"), "rest");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(
            body_text(
                "Tom &amp; Jerry &lt;3 &#x4e2d;&#25991; &quot;q&quot; &copy 2021 &notanentity; &"
            ),
            "Tom & Jerry <3 中文 \"q\" © 2021 ¬anentity; &"
        );
        assert_eq!(
            body_text("a&nbsp;&nbsp;b&#0;c&#x110000;d&#150;e&#;"),
            "a b\u{FFFD}c\u{FFFD}d–e&#;"
        );
    }

    #[test]
    fn decoded_markup_stays_text() {
        assert_eq!(
            body_text("&lt;script&gt;alert(1)&lt;/script&gt;"),
            "<script>alert(1)</script>"
        );
    }

    #[test]
    fn whitespace_runs_collapse_and_blank_lines_are_paragraph_breaks() {
        assert_eq!(body_text("  a   b\t\tc \n d\n\n\n e  "), "a b c d\ne");
        assert_eq!(
            body_text("<div>\n   <div>\n     x\n   </div>\n</div>\n\n"),
            "x"
        );
    }

    #[test]
    fn invisible_and_control_characters_are_removed() {
        let text = "a\u{200B}b\u{200F}c\u{202E}d\u{2060}e\u{FEFF}f\u{AD}g\u{7}h\u{1B}i\u{85}j";
        assert_eq!(body_text(text), "abcdefghij");
        assert_eq!(body_text("a&#x200b;b&zwj;c"), "abc");
    }

    #[test]
    fn unicode_spaces_count_as_whitespace() {
        assert_eq!(
            body_text("\u{3000}\u{3000}中文\u{3000}段落\u{A0}x\u{2003}y"),
            "中文 段落 x y"
        );
    }

    #[test]
    fn markdown_links_keep_their_text() {
        assert_eq!(
            body_text("[新冠疫苗：交付](http://www.rfi.fr/cn/x_(y)z)\n------\n\n<div>正文</div>"),
            "新冠疫苗：交付\n正文"
        );
        assert_eq!(
            body_text("see [the docs](https://x.y/a_b) and ![a cat](c.png)."),
            "see the docs and a cat."
        );
        assert_eq!(body_text("[[视频] 标题](u)"), "[视频] 标题");
        assert_eq!(
            body_text("[not a link] (x) [open"),
            "[not a link] (x) [open"
        );
        assert_eq!(
            body_text("网[1]（TripAdvisor）和 [这个](u) 与[2]"),
            "网[1]（TripAdvisor）和 这个 与[2]"
        );
    }

    #[test]
    fn markdown_headings_rules_bullets_and_quotes_lose_their_markers() {
        assert_eq!(
            body_text("# 标题\n正文\n## Sub ##\n***\n- item one\n* item two\n> quoted\ntext"),
            "标题\n正文\nSub ##\nitem one\nitem two\nquoted\ntext"
        );
        assert_eq!(body_text("#hashtag here"), "#hashtag here");
        assert_eq!(body_text("Setext\n======\nbody"), "Setext\nbody");
    }

    #[test]
    fn emphasis_markers_go_but_intraword_and_lone_stars_stay() {
        assert_eq!(
            body_text("**bold** and _it_ and snake_case and 5*3 and a * b"),
            "bold and it and snake_case and 5*3 and a * b"
        );
        assert_eq!(body_text("把*所有*电子产品"), "把所有电子产品");
        assert_eq!(
            body_text("wen_tou_tu_.jpg *注：未完 and _open\nclose_ x"),
            "wen_tou_tu_.jpg *注：未完 and _open close_ x"
        );
    }

    #[test]
    fn epoch_comment_is_read_after_blank_lines() {
        assert_eq!(
            epoch_comment("\n\n<!--1610366114000-->\n[t](u)"),
            Some(1_610_366_114_000)
        );
        assert_eq!(
            epoch_comment("<!-- 1610366114000 -->"),
            Some(1_610_366_114_000)
        );
        assert_eq!(epoch_comment("<!--NaN-->"), None);
        assert_eq!(epoch_comment("text <!--1610366114000-->"), None);
        assert_eq!(epoch_comment("<!--99999999999999999999999-->"), None);
        assert_eq!(epoch_comment("<!--1610366114000"), None);
    }

    #[test]
    fn huge_single_line_is_handled_linearly() {
        let line = "&#".repeat(100_000)
            + &"[a".repeat(200_000)
            + &"*_".repeat(100_000)
            + &"<b x=\"".repeat(100_000);
        let started = std::time::Instant::now();
        let _ = body_text(&line);
        assert!(started.elapsed().as_secs() < 10);
    }

    /// Bytes the extractor searched for line ends and closing tags in `body`.
    fn searched(body: &str) -> usize {
        let mut extractor = Extractor::default();
        extractor.run(body);
        extractor.searched
    }

    #[test]
    fn long_lines_of_emphasis_and_unclosed_scripts_are_searched_once() {
        for unit in [
            "*_",
            "*a _b ",
            "<script>",
            "<style>x",
            "<script>*_",
            "<div class=\"related a b c d e f\" id='x'>",
            "<p class=a>x</div>",
            "</span></div>",
        ] {
            let body = unit.repeat(20_000);
            let searched = searched(&body);
            assert!(
                searched <= 2 * body.len(),
                "{unit:?}: searched {searched} bytes for a {}-byte body",
                body.len()
            );
        }
    }

    #[test]
    fn open_elements_stay_bounded_however_deep_or_misnested() {
        let mut extractor = Extractor::default();
        let body =
            "<div class=\"comments\"><section>".repeat(50_000) + "text" + &"</b>".repeat(50_000);
        extractor.run(&body);
        assert!(extractor.open.len() <= MAX_OPEN);
        assert_eq!(extractor.out, "text");
    }

    #[test]
    fn the_text_is_the_same_with_or_without_the_line_record() {
        let body =
            "<nav><a href=/>首页</a></nav><article><p>正文 <a href=x>链接</a> 尾</p></article>\
                    <div class=\"related-posts\"><ul><li><a href=y>别的</a></li></ul></div>";
        let (text, lines) = body_text_and_lines(body);
        assert_eq!(text, "首页\n正文 链接 尾\n别的");
        let per_line: Vec<(u32, u32, u32)> = lines
            .lines
            .iter()
            .map(|l| (l.start, l.link, l.boiler))
            .collect();
        // 首页: a link inside <nav>; 正文 链接 尾: 6 of its bytes are link text; 别的: both.
        assert_eq!(per_line, vec![(0, 6, 6), (7, 6, 0), (25, 6, 6)]);
    }

    /// Each line's bytes of the source.
    fn sources(body: &str) -> Vec<&str> {
        let (_, lines) = body_text_and_lines(body);
        lines
            .lines
            .iter()
            .map(|l| &body[l.src_start as usize..l.src_end as usize])
            .collect()
    }

    #[test]
    fn each_line_knows_its_bytes_in_the_source() {
        let body = "<nav><a href=/>首页</a></nav>\n<p class=x>第一段 <b>粗</b></p>\
                    <figure><img src=a.jpg><figcaption>图说</figcaption></figure><p>[链接](u) 尾</p>";
        assert_eq!(body_text(body), "首页\n第一段 粗\n图说\n链接 尾");
        assert_eq!(
            sources(body),
            vec![
                "首页",
                "<p class=x>第一段 <b>粗",
                "<figure><img src=a.jpg><figcaption>图说",
                "<p>[链接](u) 尾"
            ]
        );
        // An image between two paragraphs goes with the second; an ad's does not.
        assert_eq!(
            sources("<p>一</p><img src=a.jpg><p>二 &amp; 三</p>"),
            vec!["<p>一", "<img src=a.jpg><p>二 &amp; 三"]
        );
        assert_eq!(
            sources("<p>一</p><div class=\"ad\"><a href=x><img src=ad.gif></a></div><p>二</p>"),
            vec!["<p>一", "<p>二"]
        );
        // Markdown blocks start at their marker; a paragraph without a tag at its text.
        assert_eq!(
            sources("# 标题\n\n正文 *强调* 完\n\n- 一项"),
            vec!["# 标题", "正文 *强调* 完", "- 一项"]
        );
        assert_eq!(sources(""), Vec::<&str>::new());
    }

    proptest! {
        #[test]
        fn text_extraction_never_panics(s in "(\\PC|[<>&\\[\\]()*_#!;\"'=/\n -])*") {
            let text = body_text(&s);
            prop_assert!(!text.starts_with([' ', '\n']) && !text.ends_with([' ', '\n']));
            prop_assert!(!text.contains("  ") && !text.contains("\n\n"));
            let _ = crate::post::markdown::first_heading(&s);
            let _ = epoch_comment(&s);
            let (same, lines) = body_text_and_lines(&s);
            prop_assert_eq!(&same, &text);
            let mut source_end = 0;
            for line in &lines.lines {
                let (start, end) = (line.src_start as usize, line.src_end as usize);
                prop_assert!(source_end <= start && start <= end && end <= s.len());
                prop_assert!(s.is_char_boundary(start) && s.is_char_boundary(end));
                source_end = end;
            }
            let mut previous_end = None;
            for (start, end) in super::super::article::article_ranges(&text, &lines, "t") {
                let (start, end) = (start as usize, end as usize);
                prop_assert!(start <= end && end <= text.len());
                prop_assert!(text.is_char_boundary(start) && text.is_char_boundary(end));
                prop_assert!(start == 0 || text.as_bytes()[start - 1] == b'\n');
                prop_assert!(end == text.len() || text.as_bytes()[end] == b'\n');
                prop_assert!(previous_end.is_none_or(|p| p < start));
                previous_end = Some(end);
            }
        }

        #[test]
        fn text_without_markup_is_kept_word_for_word(words in prop::collection::vec("[a-zA-Z0-9\u{4e00}-\u{9fa5}]{1,8}", 0..20)) {
            let joined = words.join(" ");
            prop_assert_eq!(body_text(&joined), joined);
        }
    }
}
