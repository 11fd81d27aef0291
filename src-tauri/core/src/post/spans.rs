//! Byte spans of the top-level keys of YAML front matter, for the edit path: each runs from the
//! key's first byte through the line ending of the last line of its value. Found by a line scanner
//! that knows just enough YAML (quoted scalars and flow collections may span lines, block values are
//! indented, a block list may sit at column 0). The caller checks the keys against the parser's.

use super::KeySpan;

/// Spans of the top-level keys of `front_matter`, whose first byte is at `base` in the file.
/// None when the scanner meets something it does not model (the edit path then refuses).
pub(super) fn key_spans(front_matter: &str, base: usize) -> Option<Vec<KeySpan>> {
    let s = front_matter.as_bytes();
    let mut spans = Vec::new();
    let mut pos = 0;
    while pos < s.len() {
        let line_end = line_end(s, pos);
        if let Some(b' ' | b'\t' | b'\r' | b'\n' | b'#') = s.get(pos) {
            // Blank, comment, or an indented line outside any key: belongs to no key.
            pos = line_end;
            continue;
        }
        let (key, value_start) = key_at(front_matter, pos, line_end)?;
        let end = value_end(s, value_start, line_end);
        spans.push(KeySpan {
            key,
            start: base + pos,
            end: base + end,
        });
        pos = end;
    }
    Some(spans)
}

/// Offset just after the `\n` ending the line containing `pos` (or the end of the text).
fn line_end(s: &[u8], pos: usize) -> usize {
    memchr::memchr(b'\n', s.get(pos..).unwrap_or_default()).map_or(s.len(), |i| pos + i + 1)
}

fn is_blank_or_break(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

/// The key starting at `pos` and the offset where its value starts (after `:` and spaces).
fn key_at(text: &str, pos: usize, line_end: usize) -> Option<(String, usize)> {
    let s = text.as_bytes();
    let (key, after_key) = match s.get(pos)? {
        quote @ (b'"' | b'\'') => {
            let close = quoted_end(s, pos, *quote)?;
            if close > line_end {
                return None;
            }
            let raw = text.get(pos + 1..close - 1)?;
            let key = if *quote == b'"' && raw.contains('\\') {
                // Escapes (`\t`, `\u00e9`, `\"`) as YAML reads them.
                serde_yaml::from_str::<String>(text.get(pos..close)?).ok()?
            } else if *quote == b'"' {
                raw.to_owned()
            } else {
                raw.replace("''", "'")
            };
            let mut after = close;
            while matches!(s.get(after), Some(b' ' | b'\t')) {
                after += 1;
            }
            if s.get(after) != Some(&b':') {
                return None;
            }
            (key, after + 1)
        }
        // Flow mappings, complex keys, directives, anchors, tags, block indicators: not modelled.
        b'{' | b'[' | b'?' | b'%' | b'&' | b'!' | b'*' | b'|' | b'>' | b'@' | b'`' | b','
        | b']' | b'}' | b'-' => {
            if s.get(pos) == Some(&b'-') && !is_blank_or_break(s.get(pos + 1)) {
                plain_key(text, pos, line_end)?
            } else {
                return None;
            }
        }
        _ => plain_key(text, pos, line_end)?,
    };
    let mut value_start = after_key;
    while matches!(s.get(value_start), Some(b' ' | b'\t')) {
        value_start += 1;
    }
    Some((key, value_start))
}

/// A plain key ends at the first `:` followed by a space or the line end.
fn plain_key(text: &str, pos: usize, line_end: usize) -> Option<(String, usize)> {
    let s = text.as_bytes();
    let mut i = pos;
    while i < line_end {
        if s.get(i) == Some(&b':') && is_blank_or_break(s.get(i + 1)) {
            let key = text.get(pos..i)?.trim_end();
            return Some((key.to_owned(), i + 1));
        }
        if s.get(i) == Some(&b'#') && i > pos && matches!(s.get(i - 1), Some(b' ' | b'\t')) {
            return None;
        }
        i += 1;
    }
    None
}

/// End of the value that starts at `start` (on the key's line, which ends at `key_line_end`).
fn value_end(s: &[u8], start: usize, key_line_end: usize) -> usize {
    let mut start = start;
    // Anchors and tags come before the value proper.
    while matches!(s.get(start), Some(b'&' | b'!')) {
        while !is_blank_or_break(s.get(start)) {
            start += 1;
        }
        while matches!(s.get(start), Some(b' ' | b'\t')) {
            start += 1;
        }
    }
    let first = s.get(start).copied();
    let inline_end = match first {
        Some(q @ (b'"' | b'\'')) => {
            quoted_end(s, start, q).map_or(s.len(), |close| line_end(s, close.saturating_sub(1)))
        }
        Some(b'[' | b'{') => {
            flow_end(s, start).map_or(s.len(), |close| line_end(s, close.saturating_sub(1)))
        }
        _ => key_line_end,
    };
    let block_scalar = matches!(first, Some(b'|' | b'>'));
    let nothing_inline = matches!(first, None | Some(b'\r' | b'\n' | b'#'));
    continuation_end(s, inline_end, block_scalar, nothing_inline)
}

/// Following lines that still belong to the value: indented lines, and for a value that starts on
/// the next line, a block list at column 0. Blank and comment lines count only when more follows.
fn continuation_end(s: &[u8], mut end: usize, block_scalar: bool, nothing_inline: bool) -> usize {
    let mut pos = end;
    while pos < s.len() {
        let next = line_end(s, pos);
        let line = s.get(pos..next).unwrap_or_default();
        let content = line
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\r' | b'\n'));
        match content {
            None => {}
            Some(0) => match line.first() {
                Some(b'#') if !block_scalar => {}
                Some(b'-') if nothing_inline && is_blank_or_break(line.get(1)) => end = next,
                _ => break,
            },
            // Indented comments count only inside a block scalar, where they are text.
            Some(indent) if block_scalar || line.get(indent) != Some(&b'#') => end = next,
            Some(_) => {}
        }
        pos = next;
    }
    end
}

/// Offset just after the quote closing the scalar that opens at `open` (also used by the edit
/// path's splicer).
pub(crate) fn quoted_end(s: &[u8], open: usize, quote: u8) -> Option<usize> {
    let mut i = open + 1;
    while let Some(&b) = s.get(i) {
        if quote == b'"' && b == b'\\' {
            i += 2;
            continue;
        }
        if b == quote {
            if quote == b'\'' && s.get(i + 1) == Some(&b'\'') {
                i += 2;
                continue;
            }
            return Some(i + 1);
        }
        i += 1;
    }
    None
}

/// Offset just after the bracket closing the flow collection that opens at `open`.
fn flow_end(s: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = open;
    let mut prev = b'[';
    while let Some(&b) = s.get(i) {
        match b {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'"' | b'\''
                if matches!(
                    prev,
                    b'[' | b'{' | b',' | b':' | b' ' | b'\t' | b'\n' | b'\r'
                ) =>
            {
                i = quoted_end(s, i, b)?;
                prev = b;
                continue;
            }
            b'#' if matches!(prev, b' ' | b'\t' | b'\n' | b'\r') => {
                i = line_end(s, i);
                prev = b'\n';
                continue;
            }
            _ => {}
        }
        prev = b;
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (key, text of its span) for each top-level key.
    fn spans(yaml: &str) -> Vec<(String, String)> {
        key_spans(yaml, 0)
            .unwrap()
            .into_iter()
            .map(|span| (span.key, yaml[span.start..span.end].to_owned()))
            .collect()
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn simple_keys_span_their_line_including_the_line_ending() {
        let yaml = "layout: post\r\ntitle: \"新闻\"\r\ntags: [ 法广 ]\r\n";
        assert_eq!(
            spans(yaml),
            pairs(&[
                ("layout", "layout: post\r\n"),
                ("title", "title: \"新闻\"\r\n"),
                ("tags", "tags: [ 法广 ]\r\n")
            ])
        );
    }

    #[test]
    fn block_lists_at_column_zero_or_indented_belong_to_their_key() {
        let yaml = "tags:\n- a\n- b\ncats:\n  - c\n  - d\nx: 1\n";
        assert_eq!(
            spans(yaml),
            pairs(&[
                ("tags", "tags:\n- a\n- b\n"),
                ("cats", "cats:\n  - c\n  - d\n"),
                ("x", "x: 1\n")
            ])
        );
    }

    #[test]
    fn comment_and_blank_lines_between_keys_belong_to_no_key() {
        let yaml = "a: 1\n\n# about b\nb:\n  - x\n  # trailing\n\nc: 2\n";
        assert_eq!(
            spans(yaml),
            pairs(&[("a", "a: 1\n"), ("b", "b:\n  - x\n"), ("c", "c: 2\n")])
        );
    }

    #[test]
    fn quoted_strings_with_raw_newlines_span_every_line() {
        let yaml = "title: \"第一行\nsecond: line \\\" still\"\nnext: 'it''s\n  x: y'\nlast: 1\n";
        assert_eq!(
            spans(yaml),
            pairs(&[
                ("title", "title: \"第一行\nsecond: line \\\" still\"\n"),
                ("next", "next: 'it''s\n  x: y'\n"),
                ("last", "last: 1\n")
            ])
        );
    }

    #[test]
    fn folded_and_literal_scalars_include_indented_comment_like_lines() {
        let yaml = "body: |\n  line one\n\n  # not a comment\nnext: >-\n  folded\nz: 0\n";
        assert_eq!(
            spans(yaml),
            pairs(&[
                ("body", "body: |\n  line one\n\n  # not a comment\n"),
                ("next", "next: >-\n  folded\n"),
                ("z", "z: 0\n")
            ])
        );
    }

    #[test]
    fn multi_line_flow_lists_and_maps_span_to_their_closing_bracket() {
        let yaml = "tags: [a,\n  \"b]\", # c]\n  d]\nm: {x: [1,\n2]}\nn: [it's]\n";
        assert_eq!(
            spans(yaml),
            pairs(&[
                ("tags", "tags: [a,\n  \"b]\", # c]\n  d]\n"),
                ("m", "m: {x: [1,\n2]}\n"),
                ("n", "n: [it's]\n")
            ])
        );
    }

    #[test]
    fn quoted_keys_and_keys_with_colons_are_named_by_their_text() {
        let yaml = "\"quoted key\": 1\n'single': 2\nurl:with:colons: 3\nspaced key : 4\n";
        let keys: Vec<_> = spans(yaml).into_iter().map(|(k, _)| k).collect();
        assert_eq!(
            keys,
            ["quoted key", "single", "url:with:colons", "spaced key"]
        );
    }

    #[test]
    fn spans_are_shifted_by_the_base_offset() {
        let got = key_spans("a: 1\n", 7).unwrap();
        assert_eq!(
            got,
            vec![KeySpan {
                key: "a".into(),
                start: 7,
                end: 12
            }]
        );
    }

    #[test]
    fn unmodelled_shapes_give_no_spans() {
        assert_eq!(key_spans("{a: 1}\n", 0), None);
        assert_eq!(key_spans("? complex\n: value\n", 0), None);
        assert_eq!(key_spans("no colon here\n", 0), None);
    }
}
