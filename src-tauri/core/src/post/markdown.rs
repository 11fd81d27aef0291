//! The Markdown that matters for search and titles: `[text](url)` links found per line, emphasis
//! runs with CommonMark's flanking rules, and the first heading of a body.

use super::text::body_text;

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
        previous =
            (!content.is_empty() && !content.starts_with('<') && indent <= 3).then_some(content);
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
    Some(
        if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
            without_closing.trim_end()
        } else {
            rest
        },
    )
}

fn is_setext_underline(line: &str) -> bool {
    !line.is_empty() && (line.bytes().all(|b| b == b'=') || line.bytes().all(|b| b == b'-'))
}

/// The `[text](url)` links of one line: (offset of `[`, offset of `]`, offset after `)`), by `[`.
#[derive(Default)]
pub(super) struct LineLinks {
    pub(super) line_end: usize,
    links: Vec<(usize, usize, usize)>,
}

pub(super) fn run_end(s: &[u8], i: usize, marker: u8) -> usize {
    i + s
        .get(i..)
        .unwrap_or_default()
        .iter()
        .take_while(|&&b| b == marker)
        .count()
}

/// Whether the marker run `s[start..end]` can (open, close) emphasis, by CommonMark's rules.
pub(super) fn emphasis_role(s: &[u8], start: usize, end: usize, marker: u8) -> (bool, bool) {
    let before = start.checked_sub(1).and_then(|p| s.get(p)).copied();
    let after = s.get(end).copied();
    let space = |b: Option<u8>| b.is_none_or(|b| b.is_ascii_whitespace());
    let punct = |b: Option<u8>| b.is_some_and(|b| b.is_ascii_punctuation());
    let left = !space(after) && (!punct(after) || space(before) || punct(before));
    let right = !space(before) && (!punct(before) || space(after) || punct(after));
    if marker == b'_' {
        (
            left && (!right || punct(before)),
            right && (!left || punct(after)),
        )
    } else {
        (left, right)
    }
}

/// After an opener ending at `from`, on a line ending at `line_end`: (offset up to which the
/// answer holds, a closing run of the same marker follows on the line).
pub(super) fn probe_emphasis_closer(
    s: &[u8],
    from: usize,
    line_end: usize,
    marker: u8,
) -> (usize, bool) {
    let mut i = from;
    while let Some(p) = memchr::memchr(marker, s.get(i..line_end).unwrap_or_default()) {
        let start = i + p;
        let end = run_end(s, start, marker);
        if emphasis_role(s, start, end, marker).1 {
            return (start, true);
        }
        i = end;
    }
    (line_end, false)
}

impl LineLinks {
    /// Finds every link on the line that contains `from`: brackets and parentheses are matched
    /// with a stack, so `[1]` in `see [1] and [this](u)` is not a link and `x_(y)` URLs work.
    pub(super) fn find(&mut self, s: &[u8], from: usize) {
        let line = s.get(from..).unwrap_or_default();
        self.line_end = from + memchr::memchr(b'\n', line).unwrap_or(line.len());
        self.links.clear();
        let line = s.get(from..self.line_end).unwrap_or_default();
        let (mut brackets, mut parens) = (Vec::new(), Vec::new());
        let mut paren_pairs = Vec::new();
        for (k, &b) in line.iter().enumerate() {
            let at = from + k;
            match b {
                b'[' => brackets.push(at),
                b']' => {
                    if let Some(open) = brackets.pop() {
                        if s.get(at + 1) == Some(&b'(') {
                            self.links.push((open, at, 0));
                        }
                    }
                }
                b'(' => parens.push(at),
                b')' => {
                    if let Some(open) = parens.pop() {
                        paren_pairs.push((open, at));
                    }
                }
                _ => {}
            }
        }
        paren_pairs.sort_unstable();
        self.links.retain_mut(|(_, close, resume)| {
            match paren_pairs.binary_search_by_key(&(*close + 1), |&(open, _)| open) {
                Ok(found) => {
                    *resume = paren_pairs
                        .get(found)
                        .map_or(0, |&(_, paren_close)| paren_close + 1);
                    *resume > 0
                }
                Err(_) => false,
            }
        });
        self.links.sort_unstable();
    }

    /// The link whose `[` is at `open`: (offset of `]`, offset after `)`).
    pub(super) fn starting_at(&self, open: usize) -> Option<(usize, usize)> {
        let found = self
            .links
            .binary_search_by_key(&open, |&(o, _, _)| o)
            .ok()?;
        self.links
            .get(found)
            .map(|&(_, close, resume)| (close, resume))
    }
}

pub(super) fn is_blank_or_end(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\r' | b'\n'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_heading_finds_atx_link_or_setext_titles() {
        assert_eq!(
            first_heading("<!--1-->\n\n# 标题 &amp; more #\ntext"),
            Some("标题 & more".into())
        );
        assert_eq!(
            first_heading("<!--1-->\n[新闻标题](http://x)\n------\n<div>x</div>"),
            Some("新闻标题".into())
        );
        assert_eq!(
            first_heading("Plain Title\n===\nbody"),
            Some("Plain Title".into())
        );
        assert_eq!(first_heading("<div>only html</div>\n---\n"), None);
        assert_eq!(first_heading("no heading here"), None);
    }
}
