//! The `<!--1610366114000-->` comment a scraper puts at the top of a body: its value (read by
//! `text::epoch_comment`), and, for the data-quality findings, the comment that stands in its
//! place but holds no number (`<!--NaN-->`, `<!--undefined-->`).

/// The epoch comment at the top of a body, in milliseconds (None for `NaN` and anything else
/// that is not a whole number).
pub fn epoch_comment(body: &str) -> Option<i64> {
    super::text::epoch_comment(body)
}

/// Longest comment text taken for an unreadable epoch (longer ones are other comments).
const MAX_RAW: usize = 24;

/// The text of the comment at the top of a body when it is where the epoch goes but is not a
/// whole number: a word a script writes for a missing number (`NaN`, `Infinity`, `undefined`,
/// `null`, empty) or a short token with a digit in it (`1.6e12`). Other comments there
/// (`<!--more-->`, `<!-- wp:paragraph -->`, `<!-- /.content -->`) are not epochs: None.
pub fn unreadable_epoch(body: &str) -> Option<String> {
    let rest = body.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '\u{FEFF}');
    let inner = rest.strip_prefix("<!--")?;
    let head = inner.as_bytes();
    let head = head.get(..head.len().min(MAX_RAW + 8)).unwrap_or(head);
    let end = head.windows(3).position(|w| w == b"-->");
    let inner = inner.get(..end?)?.trim();
    if inner.len() > MAX_RAW || epoch_comment(rest).is_some() {
        return None;
    }
    let word = [
        "nan",
        "infinity",
        "-infinity",
        "undefined",
        "null",
        "invalid date",
        "",
    ]
    .iter()
    .any(|w| inner.eq_ignore_ascii_case(w));
    let token = inner.bytes().any(|b| b.is_ascii_digit())
        && inner
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'+'));
    (word || token).then(|| inner.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_and_other_non_numbers_are_unreadable_epochs() {
        assert_eq!(unreadable_epoch("\n<!--NaN-->\ntext"), Some("NaN".into()));
        assert_eq!(
            unreadable_epoch("<!-- undefined -->"),
            Some("undefined".into())
        );
        assert_eq!(unreadable_epoch("<!--1.6e12-->"), Some("1.6e12".into()));
        assert_eq!(unreadable_epoch("<!---->x"), Some(String::new()));
    }

    #[test]
    fn a_parsed_post_keeps_the_unreadable_epoch_and_no_number() {
        let parsed = crate::post::parse(
            "x.md",
            b"---\ntitle: t\n---\n<!--NaN-->\ntext\n",
            &crate::post::ParseOptions::default(),
        );
        let post = parsed.post.unwrap();
        assert_eq!(post.epoch_ms, None);
        assert_eq!(post.epoch_raw.as_deref(), Some("NaN"));
        let parsed = crate::post::parse(
            "x.md",
            b"---\ntitle: t\n---\n<!--1610366114000-->\ntext\n",
            &crate::post::ParseOptions::default(),
        );
        let post = parsed.post.unwrap();
        assert_eq!(post.epoch_ms, Some(1_610_366_114_000));
        assert_eq!(post.epoch_raw, None);
    }

    #[test]
    fn numbers_and_other_comments_are_not() {
        assert_eq!(unreadable_epoch("<!--1610366114000-->"), None);
        assert_eq!(unreadable_epoch("<!--more-->"), None);
        assert_eq!(unreadable_epoch("<!-- /.content -->"), None);
        assert_eq!(unreadable_epoch("<!-- wp:paragraph -->"), None);
        assert_eq!(unreadable_epoch("text <!--NaN-->"), None);
        assert_eq!(unreadable_epoch("<!--NaN"), None);
        let long = format!("<!--{}1-->", "a".repeat(40));
        assert_eq!(unreadable_epoch(&long), None);
    }
}
