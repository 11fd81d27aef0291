//! Body → plain text for search, in one pass over the bytes. Bodies are mostly scraped HTML with a
//! little Markdown on top, so this is a small HTML text extractor (tags skipped, script/style and
//! comments dropped, entities decoded, a line break at every block boundary) that also knows the
//! Markdown that matters: `[text](url)` links, `#` headings, setext/rule lines, emphasis, bullets.
//! html5ever + pulldown-cmark give the same text several times slower (see `bench_tests`).

/// Plain text of a post body: whitespace collapsed, a single `\n` between blocks, no zero-width,
/// bidi or control characters.
pub(super) fn body_text(body: &str) -> String {
    let mut extractor = Extractor { out: String::with_capacity(body.len() / 2), ..Extractor::default() };
    extractor.run(body);
    extractor.out
}

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

/// The first Markdown heading (`# x`, or a setext `x` over `===`/`---`) or `[text](url)` line of
/// the body, as plain text: the title of a post whose front matter has none.
pub(super) fn first_heading(body: &str) -> Option<String> {
    let mut previous: Option<&str> = None;
    for line in body.lines() {
        let trimmed = line.trim_end();
        let content = trimmed.trim_start();
        let indent = trimmed.len() - content.len();
        if indent <= 3 {
            let candidate = if let Some(heading) = atx_heading(content) {
                Some(heading)
            } else if content.starts_with('[') && content.ends_with(')') && content.contains("](") {
                Some(content)
            } else if is_setext_underline(content) {
                previous
            } else {
                None
            };
            if let Some(text) = candidate.map(body_text).filter(|t| !t.is_empty()) {
                return Some(text);
            }
        }
        previous = (!content.is_empty() && !content.starts_with('<') && indent <= 3).then_some(content);
    }
    None
}

fn atx_heading(line: &str) -> Option<&str> {
    let hashes = line.bytes().take_while(|&b| b == b'#').count();
    if !(1..=6).contains(&hashes) {
        return None;
    }
    let rest = line.get(hashes..)?;
    if !(rest.is_empty() || rest.starts_with([' ', '\t'])) {
        return None;
    }
    let rest = rest.trim();
    // A closing run of `#`s is decoration.
    let without_closing = rest.trim_end_matches('#');
    Some(if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) { without_closing.trim_end() } else { rest })
}

fn is_setext_underline(line: &str) -> bool {
    !line.is_empty() && (line.bytes().all(|b| b == b'=') || line.bytes().all(|b| b == b'-'))
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
        0xE2 => (b1 == 0x80 && matches!(b2, 0x80..=0x8F | 0xA8..=0xAF)) || (b1 == 0x81 && matches!(b2, 0x9F..=0xAF)),
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
        '\t' | '\n' | '\r' | ' ' | '\u{0C}' | '\u{A0}' | '\u{2000}'..='\u{200A}' | '\u{2028}' | '\u{2029}'
        | '\u{202F}' | '\u{205F}' | '\u{3000}' => CharKind::Space,
        '\0'..='\u{1F}' | '\u{7F}'..='\u{9F}' | '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{FEFF}' => CharKind::Drop,
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
    /// The last link lookahead: for any `[` before `.0`, the answer is `.1`.
    link_probe: (usize, Option<(usize, usize)>),
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
                    SPACE if i > start && i + 1 < n && CLASS[usize::from(s[i + 1])] == PLAIN => i += 2,
                    MAYBE_SPECIAL if !is_special_multibyte(s, i) => i += 1,
                    _ => break,
                }
            }
            if i > start {
                if let Some(run) = text.get(start..i) {
                    self.push_str(run);
                }
            }
            let Some(&b) = s.get(i) else { break };
            i = match CLASS[usize::from(b)] {
                SPACE | WHITESPACE => self.whitespace(s, i),
                CONTROL => i + 1,
                TAG => self.tag(text, i),
                ENTITY => self.entity(text, i),
                LINK_OPEN => self.link_open(s, i),
                LINK_CLOSE => self.link_close(i),
                EMPHASIS => self.emphasis(text, i),
                _ => self.special_char(text, i),
            };
        }
    }

    fn push_str(&mut self, run: &str) {
        self.flush_pending();
        self.out.push_str(run);
    }

    fn push_char(&mut self, c: char) {
        match char_kind(c) {
            CharKind::Keep => {
                self.flush_pending();
                self.out.push(c);
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
                Pending::Newline => self.out.push('\n'),
            }
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
                let hashes = s.get(i..).unwrap_or_default().iter().take_while(|&&b| b == b'#').count();
                if hashes <= 6 && is_blank_or_end(s.get(i + hashes)) {
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
                self.block_break();
                self.block_line = true;
                j
            }
            b'-' | b'=' | b'*' | b'_' | b'+' => {
                let line_end = memchr::memchr(b'\n', s.get(i..).unwrap_or_default()).map_or(s.len(), |p| i + p);
                let line = s.get(i..line_end).unwrap_or_default();
                if first != b'+' && line.iter().all(|&b| b == first || matches!(b, b' ' | b'\t' | b'\r')) {
                    // Setext underline or thematic break.
                    self.block_break();
                    return line_end;
                }
                if matches!(first, b'-' | b'*' | b'+') && matches!(s.get(i + 1), Some(b' ' | b'\t')) {
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
                let Some(end) = tag_end(s, name_end) else { return s.len() };
                if is_block(&name) {
                    self.block_break();
                }
                if is_raw_text(&name) {
                    if let Some(after_close) = closing_tag_end(s, end, &name) {
                        return after_close;
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

    fn entity(&mut self, text: &str, i: usize) -> usize {
        let s = text.as_bytes();
        match s.get(i + 1) {
            Some(b'#') => self.numeric_entity(s, i),
            Some(c) if c.is_ascii_alphanumeric() => self.named_entity(text, i),
            _ => {
                self.push_char('&');
                i + 1
            }
        }
    }

    fn numeric_entity(&mut self, s: &[u8], i: usize) -> usize {
        let hex = matches!(s.get(i + 2), Some(b'x' | b'X'));
        let digits_start = if hex { i + 3 } else { i + 2 };
        let mut j = digits_start;
        let mut value: u32 = 0;
        while let Some(&b) = s.get(j) {
            let digit = match (hex, b) {
                (_, b'0'..=b'9') => u32::from(b - b'0'),
                (true, b'a'..=b'f') => u32::from(b - b'a' + 10),
                (true, b'A'..=b'F') => u32::from(b - b'A' + 10),
                _ => break,
            };
            value = value.saturating_mul(if hex { 16 } else { 10 }).saturating_add(digit).min(0x11_0000);
            j += 1;
        }
        if j == digits_start {
            self.push_char('&');
            return i + 1;
        }
        if s.get(j) == Some(&b';') {
            j += 1;
        }
        let c = match value {
            0x80..=0x9F => html5ever::data::C1_REPLACEMENTS
                .get((value - 0x80) as usize)
                .copied()
                .flatten()
                .or_else(|| char::from_u32(value)),
            0 => None,
            _ => char::from_u32(value),
        };
        self.push_char(c.unwrap_or('\u{FFFD}'));
        j
    }

    fn named_entity(&mut self, text: &str, i: usize) -> usize {
        let s = text.as_bytes();
        let name_len = s.get(i + 1..).unwrap_or_default().iter().take(40).take_while(|b| b.is_ascii_alphanumeric()).count();
        let name_end = i + 1 + name_len;
        if s.get(name_end) == Some(&b';') {
            if let Some(chars) = text.get(i + 1..=name_end).and_then(lookup_entity) {
                self.push_entity(chars);
                return name_end + 1;
            }
        }
        // Legacy entities may omit the semicolon (`&nbsp`, `&copy2021`): longest known prefix.
        for len in (2..=name_len.min(6)).rev() {
            if let Some(chars) = text.get(i + 1..i + 1 + len).and_then(lookup_entity) {
                self.push_entity(chars);
                return i + 1 + len;
            }
        }
        self.push_char('&');
        i + 1
    }

    fn push_entity(&mut self, (first, second): (char, Option<char>)) {
        self.push_char(first);
        if let Some(second) = second {
            self.push_char(second);
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
        if i >= self.link_probe.0 {
            self.link_probe = probe_link(s, i);
        }
        match self.link_probe.1 {
            Some(link) => {
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

    /// `*`/`_` runs that open or close emphasis at a word boundary are dropped; runs inside a
    /// word (`snake_case`, `5*3`) or standing alone (`a * b`) are text.
    fn emphasis(&mut self, text: &str, i: usize) -> usize {
        let s = text.as_bytes();
        let marker = s.get(i).copied().unwrap_or(b'*');
        let run = s.get(i..).unwrap_or_default().iter().take_while(|&&b| b == marker).count();
        let end = i + run;
        let before = i.checked_sub(1).and_then(|p| s.get(p)).copied();
        let after = s.get(end).copied();
        let space = |b: Option<u8>| b.is_none_or(|b| b.is_ascii_whitespace());
        let punct = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_punctuation());
        let left = !space(after) && (!punct(after) || space(before) || punct(before));
        let right = !space(before) && (!punct(before) || space(after) || punct(after));
        if left != right {
            return end;
        }
        if let Some(literal) = text.get(i..end) {
            self.push_str(literal);
        }
        end
    }
}

fn is_blank_or_end(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// For a `[` at `i`: the first `](` later on the same line, and the `)` that closes it.
/// Returns (offset up to which this answer holds, the link's (`]` offset, offset after `)`)).
fn probe_link(s: &[u8], i: usize) -> (usize, Option<(usize, usize)>) {
    let line = s.get(i..).unwrap_or_default();
    let line_end = i + memchr::memchr(b'\n', line).unwrap_or(line.len());
    let mut j = i + 1;
    let close = loop {
        match memchr::memchr(b']', s.get(j..line_end).unwrap_or_default()) {
            Some(p) if s.get(j + p + 1) == Some(&b'(') => break j + p,
            Some(p) => j += p + 1,
            None => return (line_end, None),
        }
    };
    let mut depth = 0usize;
    for (k, &b) in s.get(close + 1..line_end).unwrap_or_default().iter().enumerate() {
        match b {
            b'(' => depth += 1,
            b')' => {
                depth -= 1;
                if depth == 0 {
                    return (close, Some((close, close + 1 + k + 1)));
                }
            }
            _ => {}
        }
    }
    (close, None)
}

fn lookup_entity(name: &str) -> Option<(char, Option<char>)> {
    let &(first, second) = html5ever::data::NAMED_ENTITIES.get(name)?;
    let first = char::from_u32(first).filter(|&c| c != '\0')?;
    Some((first, char::from_u32(second).filter(|&c| c != '\0')))
}

/// A tag name, lowercased (only the first 16 bytes matter), and the offset after it.
fn tag_name(s: &[u8], start: usize) -> ([u8; 16], usize) {
    let mut name = [0u8; 16];
    let mut i = start;
    while let Some(&b) = s.get(i) {
        if matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0C | b'/' | b'>') {
            break;
        }
        if let Some(slot) = name.get_mut(i - start) {
            *slot = b.to_ascii_lowercase();
        }
        i += 1;
    }
    if i - start > name.len() {
        name = [0xFF; 16];
    }
    (name, i)
}

fn name_str(name: &[u8; 16]) -> &[u8] {
    let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    name.get(..len).unwrap_or_default()
}

fn is_block(name: &[u8; 16]) -> bool {
    matches!(
        name_str(name),
        b"address" | b"article" | b"aside" | b"blockquote" | b"body" | b"br" | b"caption" | b"center"
            | b"dd" | b"details" | b"dialog" | b"dir" | b"div" | b"dl" | b"dt" | b"fieldset" | b"figcaption"
            | b"figure" | b"footer" | b"form" | b"h1" | b"h2" | b"h3" | b"h4" | b"h5" | b"h6" | b"head"
            | b"header" | b"hgroup" | b"hr" | b"html" | b"iframe" | b"legend" | b"li" | b"main" | b"menu"
            | b"nav" | b"ol" | b"option" | b"p" | b"pre" | b"section" | b"summary" | b"table" | b"tbody"
            | b"td" | b"tfoot" | b"th" | b"thead" | b"title" | b"tr" | b"ul" | b"video" | b"audio"
            | b"object" | b"embed" | b"canvas" | b"noscript" | b"script" | b"style" | b"template"
    )
}

/// Elements whose content is not text on the page.
fn is_raw_text(name: &[u8; 16]) -> bool {
    matches!(
        name_str(name),
        b"script" | b"style" | b"noscript" | b"template" | b"iframe" | b"xmp" | b"noembed" | b"noframes"
    )
}

/// Offset after the `>` ending a tag whose attributes start at `i`; quoted attribute values may
/// hold `>`. None when the file ends inside the tag.
fn tag_end(s: &[u8], mut i: usize) -> Option<usize> {
    loop {
        let j = i + memchr::memchr3(b'>', b'"', b'\'', s.get(i..)?)?;
        let quote = *s.get(j)?;
        if quote == b'>' {
            return Some(j + 1);
        }
        let mut k = j;
        while k > i && matches!(s.get(k - 1), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            k -= 1;
        }
        let opens_value = k > 0 && s.get(k - 1) == Some(&b'=');
        i = match (opens_value, memchr::memchr(quote, s.get(j + 1..)?)) {
            (true, Some(p)) => j + 1 + p + 1,
            // An unclosed quote: end the tag at the next `>` rather than swallow the file.
            (true, None) => return memchr::memchr(b'>', s.get(j..)?).map(|p| j + p + 1),
            (false, _) => j + 1,
        };
    }
}

/// After `<!--`: the offset after the closing `-->` (or the end: an unclosed comment hides the rest,
/// as in a browser).
fn comment_end(s: &[u8], i: usize) -> usize {
    match s.get(i..) {
        Some([b'>', ..]) => i + 1,
        Some([b'-', b'>', ..]) => i + 2,
        Some(rest) => memchr::memmem::find(rest, b"-->").map_or(s.len(), |p| i + p + 3),
        None => s.len(),
    }
}

fn bogus_comment_end(s: &[u8], i: usize) -> usize {
    memchr::memchr(b'>', s.get(i..).unwrap_or_default()).map_or(s.len(), |p| i + p + 1)
}

/// The offset after `</name ...>` closing a raw-text element whose content starts at `i`.
fn closing_tag_end(s: &[u8], mut i: usize, name: &[u8; 16]) -> Option<usize> {
    let name = name_str(name);
    loop {
        let at = i + memchr::memmem::find(s.get(i..)?, b"</")?;
        let candidate = s.get(at + 2..at + 2 + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name))
            && matches!(s.get(at + 2 + name.len()), None | Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0C | b'/' | b'>'))
        {
            return Some(tag_end(s, at + 2 + name.len()).unwrap_or(s.len()));
        }
        i = at + 2;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn tags_are_skipped_and_blocks_become_line_breaks() {
        assert_eq!(body_text("<div>新闻</div><p>第一段</p><p>第二<b>段</b></p>"), "新闻\n第一段\n第二段");
        assert_eq!(body_text("one<br>two<br/>three<li>four</li><td>five</td><td>six</td>"), "one\ntwo\nthree\nfour\nfive\nsix");
        assert_eq!(body_text("<h2>Title</h2>text<hr>more"), "Title\ntext\nmore");
    }

    #[test]
    fn inline_tags_never_split_or_fuse_words() {
        assert_eq!(body_text("<span>中</span>国 and <a href=\"x\">link</a>ed"), "中国 and linked");
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
        assert_eq!(body_text("<!--1610366114000-->\n<!DOCTYPE html>a<!-- x -->b<!---->c<!-->d<?xml v?>e"), "abcde");
        assert_eq!(body_text("visible<!-- never closed"), "visible");
    }

    #[test]
    fn quoted_attributes_may_contain_angle_brackets() {
        assert_eq!(body_text("<a title=\"a>b\" data-x='<p>'>text</a>"), "text");
        assert_eq!(body_text("<img alt=\"broken>rest"), "rest");
    }

    #[test]
    fn entities_are_decoded() {
        assert_eq!(body_text("Tom &amp; Jerry &lt;3 &#x4e2d;&#25991; &quot;q&quot; &copy 2021 &notanentity; &"), "Tom & Jerry <3 中文 \"q\" © 2021 ¬anentity; &");
        assert_eq!(body_text("a&nbsp;&nbsp;b&#0;c&#x110000;d&#150;e&#;"), "a b\u{FFFD}c\u{FFFD}d–e&#;");
    }

    #[test]
    fn decoded_markup_stays_text() {
        assert_eq!(body_text("&lt;script&gt;alert(1)&lt;/script&gt;"), "<script>alert(1)</script>");
    }

    #[test]
    fn whitespace_runs_collapse_and_blank_lines_are_paragraph_breaks() {
        assert_eq!(body_text("  a   b\t\tc \n d\n\n\n e  "), "a b c d\ne");
        assert_eq!(body_text("<div>\n   <div>\n     x\n   </div>\n</div>\n\n"), "x");
    }

    #[test]
    fn invisible_and_control_characters_are_removed() {
        let text = "a\u{200B}b\u{200F}c\u{202E}d\u{2060}e\u{FEFF}f\u{AD}g\u{7}h\u{1B}i\u{85}j";
        assert_eq!(body_text(text), "abcdefghij");
        assert_eq!(body_text("a&#x200b;b&zwj;c"), "abc");
    }

    #[test]
    fn unicode_spaces_count_as_whitespace() {
        assert_eq!(body_text("\u{3000}\u{3000}中文\u{3000}段落\u{A0}x\u{2003}y"), "中文 段落 x y");
    }

    #[test]
    fn markdown_links_keep_their_text() {
        assert_eq!(body_text("[新冠疫苗：交付](http://www.rfi.fr/cn/x_(y)z)\n------\n\n<div>正文</div>"), "新冠疫苗：交付\n正文");
        assert_eq!(body_text("see [the docs](https://x.y/a_b) and ![a cat](c.png)."), "see the docs and a cat.");
        assert_eq!(body_text("[[视频] 标题](u)"), "[视频] 标题");
        assert_eq!(body_text("[not a link] (x) [open"), "[not a link] (x) [open");
    }

    #[test]
    fn markdown_headings_rules_bullets_and_quotes_lose_their_markers() {
        assert_eq!(body_text("# 标题\n正文\n## Sub ##\n***\n- item one\n* item two\n> quoted\ntext"), "标题\n正文\nSub ##\nitem one\nitem two\nquoted\ntext");
        assert_eq!(body_text("#hashtag here"), "#hashtag here");
        assert_eq!(body_text("Setext\n======\nbody"), "Setext\nbody");
    }

    #[test]
    fn emphasis_markers_go_but_intraword_and_lone_stars_stay() {
        assert_eq!(body_text("**bold** and _it_ and snake_case and 5*3 and a * b"), "bold and it and snake_case and 5*3 and a * b");
    }

    #[test]
    fn epoch_comment_is_read_after_blank_lines() {
        assert_eq!(epoch_comment("\n\n<!--1610366114000-->\n[t](u)"), Some(1_610_366_114_000));
        assert_eq!(epoch_comment("<!-- 1610366114000 -->"), Some(1_610_366_114_000));
        assert_eq!(epoch_comment("<!--NaN-->"), None);
        assert_eq!(epoch_comment("text <!--1610366114000-->"), None);
        assert_eq!(epoch_comment("<!--99999999999999999999999-->"), None);
        assert_eq!(epoch_comment("<!--1610366114000"), None);
    }

    #[test]
    fn first_heading_finds_atx_link_or_setext_titles() {
        assert_eq!(first_heading("<!--1-->\n\n# 标题 &amp; more #\ntext"), Some("标题 & more".into()));
        assert_eq!(first_heading("<!--1-->\n[新闻标题](http://x)\n------\n<div>x</div>"), Some("新闻标题".into()));
        assert_eq!(first_heading("Plain Title\n===\nbody"), Some("Plain Title".into()));
        assert_eq!(first_heading("<div>only html</div>\n---\n"), None);
        assert_eq!(first_heading("no heading here"), None);
    }

    #[test]
    fn huge_single_line_is_handled_linearly() {
        let line = "&#".repeat(100_000) + &"[a".repeat(200_000) + &"*_".repeat(100_000) + &"<b x=\"".repeat(100_000);
        let started = std::time::Instant::now();
        let _ = body_text(&line);
        assert!(started.elapsed().as_secs() < 10);
    }

    proptest! {
        #[test]
        fn text_extraction_never_panics(s in "(\\PC|[<>&\\[\\]()*_#!;\"'=/\n -])*") {
            let text = body_text(&s);
            prop_assert!(!text.starts_with([' ', '\n']) && !text.ends_with([' ', '\n']));
            prop_assert!(!text.contains("  ") && !text.contains("\n\n"));
            let _ = first_heading(&s);
            let _ = epoch_comment(&s);
        }

        #[test]
        fn text_without_markup_is_kept_word_for_word(words in prop::collection::vec("[a-zA-Z0-9\u{4e00}-\u{9fa5}]{1,8}", 0..20)) {
            let joined = words.join(" ");
            prop_assert_eq!(body_text(&joined), joined);
        }
    }
}
