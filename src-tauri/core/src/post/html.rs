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
