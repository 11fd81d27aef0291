//! The computed edits: text values cleaned (`EditOp::Clean`) and dates taken from another source
//! in the file (`EditOp::DateFrom`). Each function answers the new value only when the change is
//! certain, and None otherwise; `lint` finds its findings with the same functions, so what a
//! finding says a fix does is what the fix does.

use super::types::{CleanHow, DateSource};
use chrono::{DateTime, FixedOffset, NaiveDate};

impl CleanHow {
    pub fn describe(self) -> &'static str {
        match self {
            CleanHow::DecodeEntities => "decode HTML entities",
            CleanHow::StripMarkup => "strip markup",
            CleanHow::Trim => "trim whitespace",
            CleanHow::FixMojibake => "fix mojibake",
        }
    }
}

impl DateSource {
    pub fn describe(self) -> &'static str {
        match self {
            DateSource::FileName => "the file name",
            DateSource::Epoch => "the epoch comment",
        }
    }
}

/// A web address (`https://…?a=1&amp;b=2`): entities and tags in it are left as they are, since
/// which form the address needs is not certain.
fn looks_like_url(s: &str) -> bool {
    let t = s.trim_start();
    ["http://", "https://", "ftp://", "//"]
        .iter()
        .any(|p| t.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p)))
}

/// Values whose markup is never stripped nor reported: addresses, and text on several lines
/// (a block of HTML kept on purpose).
pub fn skips_markup(s: &str) -> bool {
    looks_like_url(s) || s.contains('\n')
}

/// The cleaned value, when it differs from `s` and the cleaning is certain.
pub fn clean(how: CleanHow, s: &str) -> Option<String> {
    let out = match how {
        CleanHow::DecodeEntities if looks_like_url(s) => None,
        CleanHow::DecodeEntities => decode_entities(s),
        CleanHow::StripMarkup if skips_markup(s) => None,
        CleanHow::StripMarkup => match markup(s) {
            Markup::Safe(out) => Some(out),
            Markup::None | Markup::Unsafe => None,
        },
        CleanHow::Trim => trim(s),
        CleanHow::FixMojibake => match mojibake(s) {
            Mojibake::Clean(out) => Some(out),
            Mojibake::None | Mojibake::Unclean => None,
        },
    }?;
    (out != s).then_some(out)
}

/// Longest character reference decoded (`&CounterClockwiseContourIntegral;` is 33).
const MAX_ENTITY: usize = 40;

/// `&name;`, `&#38;` and `&#x26;` decoded; references without their `;` (`AT&T`, `&copy 2020`)
/// are left, as a browser reading an attribute would mostly leave them.
fn decode_entities(s: &str) -> Option<String> {
    if !s.contains('&') {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    let mut changed = false;
    while let Some(p) = memchr::memchr(b'&', s.as_bytes().get(i..).unwrap_or_default()) {
        let at = i + p;
        i = at + 1;
        let semi = s
            .as_bytes()
            .iter()
            .skip(at)
            .take(MAX_ENTITY)
            .position(|&b| b == b';')
            .map(|p| at + p);
        let Some(semi) = semi else { continue };
        match crate::post::decode_entity(s, at) {
            Some(((first, second), next)) if next == semi + 1 => {
                out.push_str(s.get(copied..at).unwrap_or_default());
                out.push(first);
                out.extend(second);
                copied = next;
                i = next;
                changed = true;
            }
            _ => {}
        }
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    changed.then_some(out)
}

/// Whether a value holds character references that `decode_entities` decodes.
pub fn has_entities(s: &str) -> bool {
    decode_entities(s).is_some()
}

/// What markup a value holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Markup {
    None,
    /// Formatting tags only: the value without them.
    Safe(String),
    /// Tags that carry something (a link, an image, a script, attributes) or that do not pair up:
    /// no automatic fix.
    Unsafe,
}

/// HTML elements that format text: stripping them keeps every word.
const FORMATTING: &[&str] = &[
    "b", "i", "u", "s", "em", "strong", "span", "font", "small", "big", "sup", "sub", "mark",
    "del", "ins", "strike", "code", "cite", "q", "abbr", "tt", "br", "wbr", "p", "div", "h1", "h2",
    "h3", "h4", "h5", "h6", "center", "nobr",
];
/// Elements that carry more than formatting (an address, an image, a script).
const CARRYING: &[&str] = &[
    "a",
    "img",
    "script",
    "style",
    "iframe",
    "video",
    "audio",
    "source",
    "object",
    "embed",
    "link",
    "meta",
    "svg",
    "math",
    "input",
    "form",
    "button",
    "textarea",
    "select",
    "table",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "hr",
];
/// Elements without an end tag.
const VOID: &[&str] = &["br", "wbr"];
/// Elements after which a word ends (a line break or a block).
const BREAKING: &[&str] = &[
    "br", "p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "center",
];
/// Longest tag looked at.
const MAX_TAG: usize = 512;

/// One HTML tag at `at` (which holds `<`): its lower-case name and the offset after `>`.
fn tag_at(s: &str, at: usize) -> Option<(String, usize, bool)> {
    let b = s.as_bytes();
    let mut i = at + 1;
    if b.get(i) == Some(&b'/') {
        i += 1;
    }
    let name_start = i;
    while b.get(i).is_some_and(|c| c.is_ascii_alphanumeric()) {
        i += 1;
    }
    let name = s.get(name_start..i)?.to_ascii_lowercase();
    if name.is_empty() || !name.as_bytes()[0].is_ascii_alphabetic() {
        return None;
    }
    match b.get(i) {
        Some(b'>' | b'/' | b' ' | b'\t' | b'\n' | b'\r') => {}
        _ => return None,
    }
    let rest = b.get(i..)?;
    let close = rest.iter().take(MAX_TAG).position(|&c| c == b'>')?;
    if rest.get(..close)?.contains(&b'<') {
        return None;
    }
    let attrs = s.get(i..i + close)?.trim().trim_end_matches('/').trim();
    Some((name, i + close + 1, !attrs.is_empty()))
}

/// The markup in a value: none, formatting tags only (and the value without them), or tags that
/// carry more.
pub fn markup(s: &str) -> Markup {
    if !s.contains('<') {
        return Markup::None;
    }
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    let mut i = 0;
    let mut found = false;
    let mut unsafe_tag = false;
    // Formatting tags must pair up (`<b>…</b>`): a lone `<p>` may be words about a tag.
    let mut open: std::collections::HashMap<String, i64> = std::collections::HashMap::new();
    let mut unbalanced = false;
    while let Some(p) = memchr::memchr(b'<', s.as_bytes().get(i..).unwrap_or_default()) {
        let at = i + p;
        i = at + 1;
        let Some((name, end, attrs)) = tag_at(s, at) else {
            continue;
        };
        let known = FORMATTING.contains(&name.as_str());
        if !known && !CARRYING.contains(&name.as_str()) {
            continue;
        }
        found = true;
        if !VOID.contains(&name.as_str()) {
            let closing = s.as_bytes().get(at + 1) == Some(&b'/');
            let n = open.entry(name.clone()).or_insert(0i64);
            *n += if closing { -1 } else { 1 };
            if *n < 0 {
                unbalanced = true;
            }
        }
        // Attributes may hold an address or a title: only bare formatting tags (and `<span
        // style>`/`<font color>` decoration) go without a word lost.
        let decoration = matches!(name.as_str(), "span" | "font" | "p" | "div");
        if !known || (attrs && !decoration) {
            unsafe_tag = true;
        }
        out.push_str(s.get(copied..at).unwrap_or_default());
        if BREAKING.contains(&name.as_str()) {
            let before = out.chars().next_back().is_some_and(|c| !c.is_whitespace());
            let after = s.get(end..).and_then(|r| r.chars().next());
            if before && after.is_some_and(|c| !c.is_whitespace() && c != '<') {
                out.push(' ');
            }
        }
        copied = end;
        i = end;
    }
    out.push_str(s.get(copied..).unwrap_or_default());
    if open.values().any(|&n| n != 0) {
        unbalanced = true;
    }
    match (found, unsafe_tag || unbalanced) {
        (false, _) => Markup::None,
        (true, true) => Markup::Unsafe,
        (true, false) => Markup::Safe(out),
    }
}

/// Whitespace that `trim` takes as a space inside a value.
fn is_space(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}'
    )
}

/// The value with leading and trailing whitespace removed, runs of spaces and any non-breaking
/// space made one space (a thin or hair space alone is typography and stays); an address only loses the spaces at its ends. Values on
/// several lines are left as they are.
fn trim(s: &str) -> Option<String> {
    if s.contains(['\n', '\r']) {
        return None;
    }
    let t = s.trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}');
    if looks_like_url(t) {
        // Spaces inside an address are part of it as scraped: only its ends are trimmed.
        return Some(t.to_string());
    }
    let mut out = String::with_capacity(t.len());
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, out: &mut String| {
        match run.as_slice() {
            [] => {}
            // A thin or hair space alone is typography (`a\u{200A}—\u{200A}b`): kept.
            [c] if !matches!(c, ' ' | '\t' | '\u{00A0}') => out.push(*c),
            _ => out.push(' '),
        }
        run.clear();
    };
    for c in t.chars() {
        if is_space(c) {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    Some(out)
}

/// Whether a value has stray whitespace that `trim` removes.
pub fn has_stray_whitespace(s: &str) -> bool {
    clean(CleanHow::Trim, s).is_some()
}

/// What a value looks like as possible mojibake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mojibake {
    None,
    /// Every suspect run decodes cleanly: the repaired value.
    Clean(String),
    /// Some runs decode and others do not: no automatic fix.
    Unclean,
}

/// The byte Windows-1252 (or Latin-1, for what Windows-1252 leaves undefined) writes as `c`.
fn cp1252_byte(c: char) -> Option<u8> {
    let cp = u32::from(c);
    if cp < 0x80 || (0xA0..=0xFF).contains(&cp) {
        return u8::try_from(cp).ok();
    }
    Some(match c {
        '\u{20AC}' => 0x80,
        '\u{201A}' => 0x82,
        '\u{0192}' => 0x83,
        '\u{201E}' => 0x84,
        '\u{2026}' => 0x85,
        '\u{2020}' => 0x86,
        '\u{2021}' => 0x87,
        '\u{02C6}' => 0x88,
        '\u{2030}' => 0x89,
        '\u{0160}' => 0x8A,
        '\u{2039}' => 0x8B,
        '\u{0152}' => 0x8C,
        '\u{017D}' => 0x8E,
        '\u{2018}' => 0x91,
        '\u{2019}' => 0x92,
        '\u{201C}' => 0x93,
        '\u{201D}' => 0x94,
        '\u{2022}' => 0x95,
        '\u{2013}' => 0x96,
        '\u{2014}' => 0x97,
        '\u{02DC}' => 0x98,
        '\u{2122}' => 0x99,
        '\u{0161}' => 0x9A,
        '\u{203A}' => 0x9B,
        '\u{0153}' => 0x9C,
        '\u{017E}' => 0x9E,
        '\u{0178}' => 0x9F,
        // The five bytes Windows-1252 leaves undefined read as their C1 controls (Latin-1).
        '\u{0081}' | '\u{008D}' | '\u{008F}' | '\u{0090}' | '\u{009D}' => u8::try_from(cp).ok()?,
        _ => return None,
    })
}

/// Mojibake is found by writing each run of non-ASCII characters that Windows-1252 can write back
/// as bytes, and reading the bytes as UTF-8. A run that reads back as valid UTF-8 with characters
/// beyond ASCII was UTF-8 read as Windows-1252; a run that does not is ordinary Latin text
/// (`café`). The repair is offered only when every run with non-ASCII characters reads back.
pub fn mojibake(s: &str) -> Mojibake {
    if s.is_ascii() {
        return Mojibake::None;
    }
    let mut out = String::with_capacity(s.len());
    let mut run: Vec<u8> = Vec::new();
    let mut run_text = String::new();
    let (mut repaired, mut unclean) = (false, false);
    let mut flush = |run: &mut Vec<u8>, run_text: &mut String, out: &mut String| {
        if !run.is_empty() {
            match std::str::from_utf8(run) {
                Ok(t) => {
                    out.push_str(t);
                    repaired = true;
                }
                Err(_) => {
                    out.push_str(run_text);
                    unclean = true;
                }
            }
        } else {
            out.push_str(run_text);
        }
        run.clear();
        run_text.clear();
    };
    for c in s.chars() {
        match cp1252_byte(c) {
            // The bytes of one UTF-8 character are never ASCII: runs end there.
            Some(b) if !c.is_ascii() => {
                run.push(b);
                run_text.push(c);
            }
            _ => {
                flush(&mut run, &mut run_text, &mut out);
                out.push(c);
            }
        }
    }
    flush(&mut run, &mut run_text, &mut out);
    match (repaired, unclean) {
        (false, _) => Mojibake::None,
        (true, true) => Mojibake::Unclean,
        (true, false) => Mojibake::Clean(out),
    }
}

/// The `YYYY-MM-DD` a date text starts with (its day in its own zone), if it does.
pub fn written_day(raw: &str) -> Option<NaiveDate> {
    let head = raw.trim().get(..10)?;
    NaiveDate::parse_from_str(head, "%Y-%m-%d").ok()
}

/// The zone a date text is written in and how: minutes east of UTC and its text form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Style {
    /// `T` or a space between day and time.
    sep: char,
    /// Whether the seconds have a fraction (written with three digits).
    fraction: bool,
    offset_minutes: i32,
    /// `Z`, `+08:00`, `+0800`, or empty (no zone: UTC).
    zone: String,
    /// A space before the zone (`2021-01-11 11:55:14 +0800`).
    zone_space: bool,
}

/// The style of a date text that has a time (`2021-01-11T11:55:14.000Z`,
/// `2021-01-11 11:55:14 +0800`); None for a day alone or text that is not a date.
fn style_of(raw: &str) -> Option<Style> {
    let raw = raw.trim();
    crate::post::parse_date(raw)?;
    let sep = raw
        .chars()
        .nth(10)
        .filter(|c| matches!(c, 'T' | 't' | ' '))?;
    let rest = raw.get(11..)?;
    let time_len = rest
        .find(|c: char| !(c.is_ascii_digit() || c == ':' || c == '.' || c == ','))
        .unwrap_or(rest.len());
    let time = rest.get(..time_len)?;
    let zone_part = rest.get(time_len..)?;
    let zone = zone_part.trim_start().to_string();
    let offset_minutes = match zone.as_bytes() {
        [] => 0,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), ..] => {
            let digits: String = zone.chars().filter(|c| c.is_ascii_digit()).collect();
            let h: i32 = digits.get(..2)?.parse().ok()?;
            let m: i32 = digits.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            let sign = if *sign == b'-' { -1 } else { 1 };
            sign * (h * 60 + m)
        }
        // `UTC`, `GMT`: rewritten as `Z`.
        _ => 0,
    };
    let zone = match zone.as_bytes() {
        [b'+' | b'-', ..] | [] | [b'Z'] => zone,
        _ => "Z".to_string(),
    };
    Some(Style {
        sep: if sep == ' ' { ' ' } else { 'T' },
        fraction: time.contains(['.', ',']),
        offset_minutes,
        zone_space: zone_part.starts_with(' ') && !zone.is_empty(),
        zone,
    })
}

/// An instant written in a style.
fn write_instant(utc_ms: i64, style: &Style) -> Option<String> {
    let offset = FixedOffset::east_opt(style.offset_minutes.checked_mul(60)?)?;
    let t = DateTime::from_timestamp_millis(utc_ms)?.with_timezone(&offset);
    let time = if style.fraction {
        t.format("%H:%M:%S%.3f").to_string()
    } else {
        t.format("%H:%M:%S").to_string()
    };
    let space = if style.zone_space { " " } else { "" };
    Some(format!(
        "{}{}{time}{space}{}",
        t.format("%Y-%m-%d"),
        style.sep,
        style.zone
    ))
}

/// The `date` a file should have from `source`, given its current `date` text (if any), its
/// file name and its epoch comment. None when the source has no date.
pub fn date_from(
    source: DateSource,
    current: Option<&str>,
    file_name: &str,
    epoch_ms: Option<i64>,
) -> Option<String> {
    let out = match source {
        DateSource::FileName => {
            let (_, day) = crate::post::file_name_date(file_name)?;
            // Keep the time and zone the date had: only the day is the file name's.
            match current.map(str::trim) {
                Some(raw) if written_day(raw).is_some() && style_of(raw).is_some() => {
                    format!("{day}{}", raw.get(10..)?)
                }
                _ => day.to_string(),
            }
        }
        DateSource::Epoch => {
            let ms = epoch_ms?;
            let style = current.and_then(style_of).unwrap_or(Style {
                sep: 'T',
                fraction: ms % 1000 != 0,
                offset_minutes: 0,
                zone: "Z".into(),
                zone_space: false,
            });
            let out = write_instant(ms, &style)?;
            // Milliseconds the style has no place for would be lost: write them.
            if !style.fraction && ms % 1000 != 0 {
                write_instant(
                    ms,
                    &Style {
                        fraction: true,
                        ..style
                    },
                )?
            } else {
                out
            }
        }
    };
    // What is written must read back as a date (and, from an epoch, as that instant).
    let back = crate::post::parse_date(&out)?;
    if source == DateSource::Epoch && Some(back) != epoch_ms {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(how: CleanHow, s: &str) -> Option<String> {
        clean(how, s)
    }

    #[test]
    fn entities_closed_by_a_semicolon_are_decoded() {
        let d = |s| c(CleanHow::DecodeEntities, s);
        assert_eq!(
            d("Aynne Kokas, Julian G. Ku &#38; more").as_deref(),
            Some("Aynne Kokas, Julian G. Ku & more")
        );
        assert_eq!(
            d("全法&quot;再度封城&quot;").as_deref(),
            Some("全法\"再度封城\"")
        );
        assert_eq!(d("&#x4e2d;&amp;&lt;").as_deref(), Some("中&<"));
        assert_eq!(d("AT&T and &copy 2020"), None);
        assert_eq!(d("a & b; c"), None);
        assert_eq!(d("&notaname;"), None);
        assert_eq!(d("plain"), None);
    }

    #[test]
    fn formatting_tags_are_stripped_and_links_are_not() {
        assert_eq!(
            markup("<b>Bold</b> title"),
            Markup::Safe("Bold title".into())
        );
        assert_eq!(markup("one<br>two"), Markup::Safe("one two".into()));
        assert_eq!(
            markup("<span style=\"color:red\">x</span>"),
            Markup::Safe("x".into())
        );
        assert_eq!(markup("see <a href=\"http://x\">x</a>"), Markup::Unsafe);
        assert_eq!(markup("<img src=x>"), Markup::Unsafe);
        assert_eq!(markup("<b class=\"x\">y</b>"), Markup::Unsafe);
        assert_eq!(markup("a < b and c > d"), Markup::None);
        assert_eq!(markup("<Book Title>"), Markup::None);
        assert_eq!(markup("x <3"), Markup::None);
        assert_eq!(markup("The <p> tag explained"), Markup::Unsafe);
        assert_eq!(
            markup("<i>a</i> and <i>b</i>"),
            Markup::Safe("a and b".into())
        );
        assert_eq!(c(CleanHow::StripMarkup, "<a href=x>y</a>"), None);
    }

    #[test]
    fn stray_whitespace_is_trimmed_and_collapsed() {
        let t = |s| c(CleanHow::Trim, s);
        assert_eq!(t("  Title "), Some("Title".into()));
        assert_eq!(t("Neysun  A. Mahboubi"), Some("Neysun A. Mahboubi".into()));
        assert_eq!(t("a\u{00A0}b"), Some("a b".into()));
        assert_eq!(t("标题\u{3000}"), Some("标题".into()));
        assert_eq!(t("中\u{3000}文"), None);
        assert_eq!(t("a\u{200A}—\u{200A}b"), None);
        assert_eq!(t("a\u{200A} b"), Some("a b".into()));
        assert_eq!(t("clean"), None);
        assert_eq!(t("line one\nline two  "), None);
        assert_eq!(
            t(" https://x.example/a  b "),
            Some("https://x.example/a  b".into())
        );
        assert_eq!(t("https://x.example/a  b"), None);
    }

    #[test]
    fn mojibake_is_repaired_only_when_the_round_trip_is_clean() {
        // Made here, not copied: UTF-8 bytes read as Windows-1252.
        let garble = |s: &str| -> String {
            encoding_rs::WINDOWS_1252
                .decode_without_bom_handling(s.as_bytes())
                .0
                .into_owned()
        };
        for good in ["café", "It’s", "大家好", "Dvořák — “quoted”"] {
            let bad = garble(good);
            assert_ne!(bad, good);
            assert_eq!(mojibake(&bad), Mojibake::Clean(good.to_string()), "{bad}");
            assert_eq!(c(CleanHow::FixMojibake, &bad).as_deref(), Some(good));
        }
        assert_eq!(garble("é"), "Ã©");
        assert_eq!(garble("’"), "â€™");
        assert_eq!(garble("大"), "å¤§");
        // Real Latin text and text that is already right are left.
        for fine in [
            "café",
            "Dvořák",
            "naïve résumé",
            "大家好",
            "plain",
            "Ümlaut über",
        ] {
            assert_eq!(mojibake(fine), Mojibake::None, "{fine}");
        }
        // A repaired run beside one that does not read back: no automatic fix.
        let mixed = format!("{} café", garble("大家"));
        assert_eq!(mojibake(&mixed), Mojibake::Unclean);
        assert_eq!(c(CleanHow::FixMojibake, &mixed), None);
    }

    #[test]
    fn a_date_from_the_file_name_keeps_the_time_and_zone() {
        let f = |cur: Option<&str>| date_from(DateSource::FileName, cur, "2021-01-12-x.md", None);
        assert_eq!(
            f(Some("2021-01-11 11:55:14 +0800")).as_deref(),
            Some("2021-01-12 11:55:14 +0800")
        );
        assert_eq!(
            f(Some("2021-01-11T11:55:14.000Z")).as_deref(),
            Some("2021-01-12T11:55:14.000Z")
        );
        assert_eq!(f(Some("2021-01-11")).as_deref(), Some("2021-01-12"));
        assert_eq!(f(None).as_deref(), Some("2021-01-12"));
        assert_eq!(f(Some("yesterday")).as_deref(), Some("2021-01-12"));
        assert_eq!(date_from(DateSource::FileName, None, "x.md", None), None);
    }

    #[test]
    fn a_date_from_the_epoch_is_written_in_the_dates_own_zone_and_style() {
        let ms = 1_610_337_314_000; // 2021-01-11T03:55:14Z
        let e = |cur: Option<&str>| date_from(DateSource::Epoch, cur, "x.md", Some(ms));
        assert_eq!(
            e(Some("2021-01-10 09:00:00 +0800")).as_deref(),
            Some("2021-01-11 11:55:14 +0800")
        );
        assert_eq!(
            e(Some("2021-01-10T09:00:00.123Z")).as_deref(),
            Some("2021-01-11T03:55:14.000Z")
        );
        assert_eq!(
            e(Some("2021-01-10T09:00:00-05:00")).as_deref(),
            Some("2021-01-10T22:55:14-05:00")
        );
        assert_eq!(e(None).as_deref(), Some("2021-01-11T03:55:14Z"));
        let odd = date_from(
            DateSource::Epoch,
            Some("2021-01-10 09:00:00 +0800"),
            "",
            Some(ms + 5),
        );
        assert_eq!(odd.as_deref(), Some("2021-01-11 11:55:14.005 +0800"));
        assert_eq!(date_from(DateSource::Epoch, None, "x.md", None), None);
    }
}
