//! Just enough of the HTML tokenizer for text extraction: tag names, the end of a tag (quoted
//! attribute values may hold `>`), comments, and the end of raw-text elements such as `<script>`.

/// A tag name, lowercased (only the first 16 bytes matter), and the offset after it.
pub(super) fn tag_name(s: &[u8], start: usize) -> ([u8; 16], usize) {
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

pub(super) fn name_str(name: &[u8; 16]) -> &[u8] {
    let len = name.iter().position(|&b| b == 0).unwrap_or(name.len());
    name.get(..len).unwrap_or_default()
}

pub(super) fn is_block(name: &[u8; 16]) -> bool {
    matches!(
        name_str(name),
        b"address"
            | b"article"
            | b"aside"
            | b"blockquote"
            | b"body"
            | b"br"
            | b"caption"
            | b"center"
            | b"dd"
            | b"details"
            | b"dialog"
            | b"dir"
            | b"div"
            | b"dl"
            | b"dt"
            | b"fieldset"
            | b"figcaption"
            | b"figure"
            | b"footer"
            | b"form"
            | b"h1"
            | b"h2"
            | b"h3"
            | b"h4"
            | b"h5"
            | b"h6"
            | b"head"
            | b"header"
            | b"hgroup"
            | b"hr"
            | b"html"
            | b"iframe"
            | b"legend"
            | b"li"
            | b"main"
            | b"menu"
            | b"nav"
            | b"ol"
            | b"option"
            | b"p"
            | b"pre"
            | b"section"
            | b"summary"
            | b"table"
            | b"tbody"
            | b"td"
            | b"tfoot"
            | b"th"
            | b"thead"
            | b"title"
            | b"tr"
            | b"ul"
            | b"video"
            | b"audio"
            | b"object"
            | b"embed"
            | b"canvas"
            | b"noscript"
            | b"script"
            | b"style"
            | b"template"
    )
}

/// Elements whose content is not text on the page.
pub(super) fn is_raw_text(name: &[u8; 16]) -> bool {
    matches!(
        name_str(name),
        b"script"
            | b"style"
            | b"noscript"
            | b"template"
            | b"iframe"
            | b"xmp"
            | b"noembed"
            | b"noframes"
    )
}

/// Offset after the `>` ending a tag whose attributes start at `i`; quoted attribute values may
/// hold `>`. None when the file ends inside the tag.
pub(super) fn tag_end(s: &[u8], mut i: usize) -> Option<usize> {
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
pub(super) fn comment_end(s: &[u8], i: usize) -> usize {
    match s.get(i..) {
        Some([b'>', ..]) => i + 1,
        Some([b'-', b'>', ..]) => i + 2,
        Some(rest) => memchr::memmem::find(rest, b"-->").map_or(s.len(), |p| i + p + 3),
        None => s.len(),
    }
}

pub(super) fn bogus_comment_end(s: &[u8], i: usize) -> usize {
    memchr::memchr(b'>', s.get(i..).unwrap_or_default()).map_or(s.len(), |p| i + p + 1)
}

/// The offset after `</name ...>` closing a raw-text element whose content starts at `i`.
pub(super) fn closing_tag_end(s: &[u8], mut i: usize, name: &[u8; 16]) -> Option<usize> {
    let name = name_str(name);
    loop {
        let at = i + memchr::memmem::find(s.get(i..)?, b"</")?;
        let candidate = s.get(at + 2..at + 2 + name.len());
        if candidate.is_some_and(|c| c.eq_ignore_ascii_case(name))
            && matches!(
                s.get(at + 2 + name.len()),
                None | Some(b' ' | b'\t' | b'\n' | b'\r' | 0x0C | b'/' | b'>')
            )
        {
            return Some(tag_end(s, at + 2 + name.len()).unwrap_or(s.len()));
        }
        i = at + 2;
    }
}

fn is_html_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0C)
}

/// One attribute of a tag, as byte ranges of the scanned bytes.
pub(super) struct Attribute {
    /// Its number in the tag, from 0.
    pub(super) index: usize,
    /// Where it starts (its name's first byte).
    pub(super) start: usize,
    pub(super) name: std::ops::Range<usize>,
    /// Its value, quotes excluded; None without `=`.
    pub(super) value: Option<std::ops::Range<usize>>,
}

/// Calls `f` with each attribute of a tag whose name ends at `i`, following the tokenizer's
/// attribute states (quotes open a value only after `=`; `/` and stray quotes are skipped or part
/// of a name), until `f` breaks. Returns the offset of the `>` ending the tag (or `s.len()` when
/// the bytes end inside it; where `f` broke, the end of that attribute). Linear in the bytes.
pub(super) fn each_attribute(
    s: &[u8],
    mut i: usize,
    mut f: impl FnMut(Attribute) -> std::ops::ControlFlow<()>,
) -> usize {
    let n = s.len();
    let mut index = 0;
    loop {
        // Before attribute name (a `/` not followed by `>` is skipped the same way).
        while i < n && (is_html_space(s[i]) || s[i] == b'/') {
            i += 1;
        }
        if i >= n || s[i] == b'>' {
            return i.min(n);
        }
        let start = i;
        // Attribute name: the first byte may be `=`.
        i += 1;
        while i < n && !is_html_space(s[i]) && !matches!(s[i], b'/' | b'>' | b'=') {
            i += 1;
        }
        let name = start..i;
        // After attribute name.
        while i < n && is_html_space(s[i]) {
            i += 1;
        }
        let value = if i >= n || s[i] != b'=' {
            None
        } else {
            i += 1;
            while i < n && is_html_space(s[i]) {
                i += 1;
            }
            Some(match s.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    let end = memchr::memchr(q, s.get(i + 1..).unwrap_or_default())
                        .map_or(n, |p| i + 1 + p);
                    let start = i + 1;
                    i = (end + 1).min(n);
                    start..end
                }
                Some(b'>') | None => i..i,
                Some(_) => {
                    let start = i;
                    while i < n && !is_html_space(s[i]) && s[i] != b'>' {
                        i += 1;
                    }
                    start..i
                }
            })
        };
        let attribute = Attribute {
            index,
            start,
            name,
            value,
        };
        index += 1;
        if f(attribute).is_break() {
            return i;
        }
    }
}

/// The attributes of a tag whose name ends at `i` (see `each_attribute`). Returns the offset of
/// the `>` ending the tag (or `s.len()` when the file ends inside it) and the offset where the
/// attribute numbered `keep` (from 0) starts, if the tag has more than `keep`. Values longer than
/// `max_value` bytes add the range past their first `max_value` bytes (at a character boundary)
/// to `long`.
pub(crate) fn scan_attributes(
    s: &[u8],
    i: usize,
    keep: usize,
    max_value: usize,
    long: &mut Vec<(usize, usize)>,
) -> (usize, Option<usize>) {
    let mut cut = None;
    let end = each_attribute(s, i, |a| {
        if a.index == keep {
            cut = Some(a.start);
        }
        if let Some(value) = a.value {
            if value.len() > max_value {
                let mut at = value.start + max_value;
                while at > value.start && matches!(s.get(at), Some(0x80..=0xBF)) {
                    at -= 1;
                }
                long.push((at, value.end));
            }
        }
        std::ops::ControlFlow::Continue(())
    });
    (end, cut)
}

/// After `<!--`: like `comment_end`, but also ending at `--!>` as the tokenizer does.
pub(crate) fn comment_end_strict(s: &[u8], i: usize) -> usize {
    match s.get(i..) {
        Some([b'>', ..]) => i + 1,
        Some([b'-', b'>', ..]) => i + 2,
        Some(rest) => {
            let mut from = 0;
            while let Some(p) = memchr::memmem::find(rest.get(from..).unwrap_or_default(), b"--") {
                let at = from + p + 2;
                match rest.get(at) {
                    Some(b'>') => return i + at + 1,
                    Some(b'!') if rest.get(at + 1) == Some(&b'>') => return i + at + 2,
                    _ => from = from + p + 1,
                }
            }
            s.len()
        }
        None => s.len(),
    }
}

/// Elements whose content the tokenizer reads as text up to their end tag (in HTML content; not
/// `<template>`, whose content is markup).
fn is_tokenizer_raw_text(name: &[u8; 16]) -> bool {
    matches!(
        name_str(name),
        b"script"
            | b"style"
            | b"noscript"
            | b"iframe"
            | b"xmp"
            | b"noembed"
            | b"noframes"
            | b"textarea"
            | b"title"
    )
}

/// A token of HTML markup found by [`markup_tokens`].
pub(crate) enum Markup {
    /// Text (not yet decoded).
    Text(usize, usize),
    /// A start or end tag: the offset after its name, and whether it is a block element.
    Tag { name_end: usize, block: bool },
    /// A comment, doctype, processing instruction or raw-text content: not text on the page.
    Skip,
}

/// Walks HTML markup in one pass, calling `f` with each token. Raw-text elements (`<script>`,
/// `<style>`, `<textarea>`...) hide their content up to their end tag; one that is never closed
/// hides the rest, as in a browser.
pub(crate) fn markup_tokens(html: &str, mut f: impl FnMut(Markup)) {
    markup_spans(html, |_, _, token| f(token));
}

/// [`markup_tokens`] with each token's bytes (`start..end`): a raw-text element is its start
/// tag (a `Tag`) followed by its content and end tag (one `Skip`).
pub(crate) fn markup_spans(html: &str, mut f: impl FnMut(usize, usize, Markup)) {
    let s = html.as_bytes();
    let n = s.len();
    let mut i = 0;
    while i < n {
        let Some(p) = memchr::memchr(b'<', s.get(i..).unwrap_or_default()) else {
            f(i, n, Markup::Text(i, n));
            return;
        };
        let at = i + p;
        if at > i {
            f(i, at, Markup::Text(i, at));
        }
        i = match (s.get(at + 1), s.get(at + 2)) {
            (Some(b'!'), _) => {
                let end = if s.get(at + 2..at + 4) == Some(&b"--"[..]) {
                    comment_end_strict(s, at + 4)
                } else {
                    bogus_comment_end(s, at + 2)
                };
                f(at, end, Markup::Skip);
                end
            }
            (Some(b'?'), _) | (Some(b'/'), Some(b'>')) => {
                let end = bogus_comment_end(s, at + 1);
                f(at, end, Markup::Skip);
                end
            }
            (Some(b'/'), Some(c)) if !c.is_ascii_alphabetic() => {
                let end = bogus_comment_end(s, at + 2);
                f(at, end, Markup::Skip);
                end
            }
            (Some(b'/'), Some(_)) | (Some(b'a'..=b'z' | b'A'..=b'Z'), _) => {
                let closing = s.get(at + 1) == Some(&b'/');
                let (name, name_end) = tag_name(s, at + 1 + usize::from(closing));
                let (gt, _) = scan_attributes(s, name_end, usize::MAX, usize::MAX, &mut Vec::new());
                let end = (gt + 1).min(n);
                f(
                    at,
                    end,
                    Markup::Tag {
                        name_end,
                        block: is_block(&name),
                    },
                );
                if !closing && name_str(&name) == b"plaintext" {
                    f(end, n, Markup::Skip);
                    n
                } else if !closing && is_tokenizer_raw_text(&name) {
                    let close = closing_tag_end(s, end, &name).unwrap_or(n);
                    f(end, close, Markup::Skip);
                    close
                } else {
                    end
                }
            }
            _ => {
                f(at, at + 1, Markup::Text(at, at + 1));
                at + 1
            }
        };
    }
}
