//! HTML character references (`&amp;`, `&#x4e2d;`, `&nbsp`), decoded with html5ever's table and
//! the HTML rules for numbers (zero, surrogates and out-of-range become U+FFFD, 0x80–0x9F are
//! read as Windows-1252).

/// Text with its HTML character references decoded (and nothing else changed).
pub(super) fn decode_entities(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.contains('&') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut copied = 0;
    let mut i = 0;
    while let Some(p) = memchr::memchr(b'&', text.as_bytes().get(i..).unwrap_or_default()) {
        let at = i + p;
        match decode_entity(text, at) {
            Some(((first, second), next)) => {
                out.push_str(text.get(copied..at).unwrap_or_default());
                out.push(first);
                out.extend(second);
                copied = next;
                i = next;
            }
            None => i = at + 1,
        }
    }
    out.push_str(text.get(copied..).unwrap_or_default());
    std::borrow::Cow::Owned(out)
}

/// The character reference at `i` (which holds `&`): its characters and the offset after it.
pub fn decode_entity(text: &str, i: usize) -> Option<((char, Option<char>), usize)> {
    let s = text.as_bytes();
    match s.get(i + 1)? {
        b'#' => numeric_entity(s, i),
        c if c.is_ascii_alphanumeric() => named_entity(text, i),
        _ => None,
    }
}

fn numeric_entity(s: &[u8], i: usize) -> Option<((char, Option<char>), usize)> {
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
        value = value
            .saturating_mul(if hex { 16 } else { 10 })
            .saturating_add(digit)
            .min(0x11_0000);
        j += 1;
    }
    if j == digits_start {
        return None;
    }
    if s.get(j) == Some(&b';') {
        j += 1;
    }
    let c = match value {
        // Windows-1252 bytes written as references, as browsers read them.
        0x80..=0x9F => html5ever::data::C1_REPLACEMENTS
            .get((value - 0x80) as usize)
            .copied()
            .flatten()
            .or_else(|| char::from_u32(value)),
        0 => None,
        _ => char::from_u32(value),
    };
    Some(((c.unwrap_or('\u{FFFD}'), None), j))
}

fn named_entity(text: &str, i: usize) -> Option<((char, Option<char>), usize)> {
    let s = text.as_bytes();
    let name_len = s
        .get(i + 1..)
        .unwrap_or_default()
        .iter()
        .take(40)
        .take_while(|b| b.is_ascii_alphanumeric())
        .count();
    let name_end = i + 1 + name_len;
    if s.get(name_end) == Some(&b';') {
        if let Some(chars) = text.get(i + 1..=name_end).and_then(lookup_entity) {
            return Some((chars, name_end + 1));
        }
    }
    // Legacy entities may omit the semicolon (`&nbsp`, `&copy2021`): longest known prefix.
    (2..=name_len.min(6)).rev().find_map(|len| {
        Some((
            text.get(i + 1..i + 1 + len).and_then(lookup_entity)?,
            i + 1 + len,
        ))
    })
}

fn lookup_entity(name: &str) -> Option<(char, Option<char>)> {
    let &(first, second) = html5ever::data::NAMED_ENTITIES.get(name)?;
    let first = char::from_u32(first).filter(|&c| c != '\0')?;
    Some((first, char::from_u32(second).filter(|&c| c != '\0')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_alone_can_be_decoded_leaving_everything_else() {
        assert_eq!(
            decode_entities("马克龙&quot;再度封城&quot; <b>&amp</b> AT&T &#x4e2d;"),
            "马克龙\"再度封城\" <b>&</b> AT&T 中"
        );
        assert!(matches!(
            decode_entities("plain"),
            std::borrow::Cow::Borrowed("plain")
        ));
    }
}
