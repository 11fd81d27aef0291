//! Split a post into front matter and body, the way Jekyll does: the file starts with a `---`
//! (or TOML `+++`) line and the block ends at the next `---`/`...` (or `+++`) line. Trailing
//! spaces after a delimiter and CRLF line endings are tolerated.

use super::FrontMatterKind;

/// Where the front matter and body lie in the decoded text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Split<'a> {
    pub kind: FrontMatterKind,
    /// The text between the delimiter lines (empty when there is none).
    pub front_matter: &'a str,
    /// Offset of `front_matter` in the text.
    pub front_matter_start: usize,
    /// Offset of the body in the text: just after the closing delimiter line.
    pub body_start: usize,
    /// The front matter (or, without one, the file's first line) ends in CRLF.
    pub crlf: bool,
    /// An opening delimiter was found but no closing one: the whole text is the body.
    pub unclosed: bool,
}

impl<'a> Split<'a> {
    pub fn body(&self, text: &'a str) -> &'a str {
        text.get(self.body_start..).unwrap_or_default()
    }
}

/// 1-based line number of the line that contains `offset`.
pub(super) fn line_of(text: &str, offset: usize) -> u32 {
    let upto = text.as_bytes().get(..offset).unwrap_or(text.as_bytes());
    u32::try_from(memchr::memchr_iter(b'\n', upto).count() + 1).unwrap_or(u32::MAX)
}

pub(super) fn split_front_matter(text: &str) -> Split<'_> {
    let no_front_matter = |unclosed| Split {
        kind: FrontMatterKind::None,
        front_matter: "",
        front_matter_start: 0,
        body_start: 0,
        crlf: first_line_is_crlf(text),
        unclosed,
    };
    let Some((opening, after_opening, crlf)) = opening_line(text) else {
        return no_front_matter(false);
    };
    let kind = if opening == b'-' {
        FrontMatterKind::Yaml
    } else {
        FrontMatterKind::Toml
    };
    let mut line_start = after_opening;
    while line_start < text.len() {
        let line_end = memchr::memchr(b'\n', text.as_bytes().get(line_start..).unwrap_or_default())
            .map_or(text.len(), |i| line_start + i + 1);
        let line = text.get(line_start..line_end).unwrap_or_default();
        if is_closing_line(line, kind) {
            return Split {
                kind,
                front_matter: text.get(after_opening..line_start).unwrap_or_default(),
                front_matter_start: after_opening,
                body_start: line_end,
                crlf,
                unclosed: false,
            };
        }
        line_start = line_end;
    }
    no_front_matter(true)
}

/// `---` or `+++` at the very start, then only spaces up to the line end:
/// (delimiter byte, offset after the line, line ends in CRLF).
fn opening_line(text: &str) -> Option<(u8, usize, bool)> {
    let delimiter = match text.as_bytes().get(..3)? {
        b"---" => b'-',
        b"+++" => b'+',
        _ => return None,
    };
    let newline = memchr::memchr(b'\n', text.as_bytes())?;
    let rest = text.get(3..newline)?;
    let crlf = rest.ends_with('\r');
    rest.trim_end_matches(['\r', ' ', '\t'])
        .is_empty()
        .then_some((delimiter, newline + 1, crlf))
}

fn is_closing_line(line: &str, kind: FrontMatterKind) -> bool {
    let content = line.trim_end_matches(['\n', '\r', ' ', '\t']);
    match kind {
        FrontMatterKind::Yaml => content == "---" || content == "...",
        FrontMatterKind::Toml => content == "+++",
        FrontMatterKind::None => false,
    }
}

fn first_line_is_crlf(text: &str) -> bool {
    memchr::memchr(b'\n', text.as_bytes())
        .and_then(|i| i.checked_sub(1))
        .is_some_and(|i| text.as_bytes().get(i) == Some(&b'\r'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_front_matter_is_split_at_the_closing_line() {
        let text = "---\ntitle: 新闻\n---\n正文\n";
        let s = split_front_matter(text);
        assert_eq!(s.kind, FrontMatterKind::Yaml);
        assert_eq!(s.front_matter, "title: 新闻\n");
        assert_eq!(s.front_matter_start, 4);
        assert_eq!(s.body(text), "正文\n");
        assert!(!s.crlf && !s.unclosed);
    }

    #[test]
    fn crlf_front_matter_is_split_at_the_closing_line() {
        let text = "---\r\ntitle: x\r\n---\r\nbody\r\n";
        let s = split_front_matter(text);
        assert_eq!(s.front_matter, "title: x\r\n");
        assert_eq!(s.body(text), "body\r\n");
        assert!(s.crlf);
    }

    #[test]
    fn trailing_spaces_after_delimiters_and_a_dots_closing_line_are_tolerated() {
        let text = "---  \ntitle: x\n... \t\nbody";
        let s = split_front_matter(text);
        assert_eq!(
            (s.kind, s.front_matter, s.body(text)),
            (FrontMatterKind::Yaml, "title: x\n", "body")
        );
    }

    #[test]
    fn empty_front_matter_and_front_matter_at_end_of_file_are_split() {
        let s = split_front_matter("---\n---\n");
        assert_eq!(
            (s.kind, s.front_matter, s.body_start),
            (FrontMatterKind::Yaml, "", 8)
        );
        let text = "---\na: 1\n---";
        let s = split_front_matter(text);
        assert_eq!((s.front_matter, s.body(text)), ("a: 1\n", ""));
    }

    #[test]
    fn toml_front_matter_uses_plus_delimiters() {
        let text = "+++\ntitle = \"x\"\n+++\nbody";
        let s = split_front_matter(text);
        assert_eq!(
            (s.kind, s.front_matter, s.body(text)),
            (FrontMatterKind::Toml, "title = \"x\"\n", "body")
        );
    }

    #[test]
    fn files_without_an_opening_delimiter_are_all_body() {
        for text in [
            "# 标题\n正文",
            "----\ntitle: x\n----\n",
            " ---\na: 1\n---\n",
            "--- a: 1\n---\n",
            "",
        ] {
            let s = split_front_matter(text);
            assert_eq!(
                (s.kind, s.body_start, s.unclosed),
                (FrontMatterKind::None, 0, false),
                "{text:?}"
            );
        }
        assert!(split_front_matter("# x\r\ny\r\n").crlf);
    }

    #[test]
    fn unclosed_front_matter_leaves_everything_as_body() {
        let s = split_front_matter("---\ntitle: x\nbody without end\n");
        assert_eq!(
            (s.kind, s.body_start, s.unclosed),
            (FrontMatterKind::None, 0, true)
        );
        let s = split_front_matter("---\n");
        assert_eq!((s.kind, s.unclosed), (FrontMatterKind::None, true));
    }

    #[test]
    fn closing_line_must_start_at_column_one() {
        let text = "---\na: |\n  ---\n---\nbody";
        assert_eq!(split_front_matter(text).front_matter, "a: |\n  ---\n");
    }

    #[test]
    fn line_numbers_are_one_based() {
        let text = "a\nb\nc";
        assert_eq!(
            (
                line_of(text, 0),
                line_of(text, 2),
                line_of(text, 4),
                line_of(text, 99)
            ),
            (1, 2, 3, 3)
        );
    }
}
