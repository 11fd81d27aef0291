//! Lenient dates: the ISO 8601 shapes feeds write, Jekyll's `2021-01-11 11:55:14 +0800`, a bare
//! `2021-01-11`, and the `YYYY-MM-DD-` prefix of a post's file name. No zone means UTC.

use chrono::NaiveDate;

/// Milliseconds since the epoch (UTC) for a date written in any of the accepted shapes, or None.
pub fn parse_date(text: &str) -> Option<i64> {
    let mut c = Cursor {
        s: text.trim().as_bytes(),
        pos: 0,
    };
    let date = c.date()?;
    if c.at_end() {
        return Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis());
    }
    if !(c.eat(b'T') || c.eat(b't') || c.eat_spaces()) {
        return None;
    }
    let hour = c.number(1, 2)?;
    c.expect(b':')?;
    let minute = c.number(2, 2)?;
    let (mut second, mut milli) = (0, 0);
    if c.eat(b':') {
        second = c.number(2, 2)?;
        if c.eat(b'.') || c.eat(b',') {
            milli = c.fraction_millis()?;
        }
    }
    let time = date.and_hms_milli_opt(hour, minute, second, milli)?;
    c.eat_spaces();
    let offset_minutes = c.zone()?;
    if !c.at_end() {
        return None;
    }
    let utc_ms = time.and_utc().timestamp_millis();
    utc_ms.checked_sub(i64::from(offset_minutes) * 60_000)
}

/// The `YYYY-MM-DD` at the start of a Jekyll file name (`2021-01-11-title.md`), with its text.
pub fn file_name_date(file_name: &str) -> Option<(i64, &str)> {
    let prefix = file_name.get(..10)?;
    if file_name.as_bytes().get(10) != Some(&b'-') {
        return None;
    }
    let mut c = Cursor {
        s: prefix.as_bytes(),
        pos: 0,
    };
    let year = c.number(4, 4)?;
    c.expect(b'-')?;
    let month = c.number(2, 2)?;
    c.expect(b'-')?;
    let day = c.number(2, 2)?;
    let date = NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?;
    Some((
        date.and_hms_opt(0, 0, 0)?.and_utc().timestamp_millis(),
        prefix,
    ))
}

struct Cursor<'a> {
    s: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn at_end(&self) -> bool {
        self.pos >= self.s.len()
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.pos).copied()
    }

    fn eat(&mut self, b: u8) -> bool {
        if self.peek() == Some(b) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, b: u8) -> Option<()> {
        self.eat(b).then_some(())
    }

    fn eat_spaces(&mut self) -> bool {
        let start = self.pos;
        while matches!(self.peek(), Some(b' ' | b'\t')) {
            self.pos += 1;
        }
        self.pos > start
    }

    /// Between `min` and `max` ASCII digits.
    fn number(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut value = 0u32;
        let mut len = 0;
        while len < max {
            match self.peek() {
                Some(d @ b'0'..=b'9') => {
                    value = value * 10 + u32::from(d - b'0');
                    self.pos += 1;
                    len += 1;
                }
                _ => break,
            }
        }
        (len >= min).then_some(value)
    }

    /// `YYYY-MM-DD` (or with `/`), month and day may have one digit.
    fn date(&mut self) -> Option<NaiveDate> {
        let year = self.number(4, 4)?;
        let sep = self.peek().filter(|b| matches!(b, b'-' | b'/'))?;
        self.pos += 1;
        let month = self.number(1, 2)?;
        self.expect(sep)?;
        let day = self.number(1, 2)?;
        NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)
    }

    /// Digits after the decimal point, as milliseconds (extra precision is dropped).
    fn fraction_millis(&mut self) -> Option<u32> {
        let start = self.pos;
        let mut millis = 0u32;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            let place = self.pos - start;
            if place < 3 {
                millis = millis * 10 + u32::from(d - b'0');
            }
            self.pos += 1;
        }
        let digits = self.pos - start;
        if digits == 0 {
            return None;
        }
        for _ in digits..3 {
            millis *= 10;
        }
        Some(millis)
    }

    /// `Z`, `UTC`, `GMT`, `+08:00`, `+0800`, `+08`, or nothing (UTC): minutes east of UTC.
    fn zone(&mut self) -> Option<i32> {
        let rest = self.s.get(self.pos..).unwrap_or_default();
        if rest.is_empty() {
            return Some(0);
        }
        if rest.eq_ignore_ascii_case(b"z")
            || rest.eq_ignore_ascii_case(b"utc")
            || rest.eq_ignore_ascii_case(b"gmt")
        {
            self.pos = self.s.len();
            return Some(0);
        }
        let sign = match self.peek()? {
            b'+' => 1,
            b'-' => -1,
            _ => return None,
        };
        self.pos += 1;
        let hours = self.number(2, 2)?;
        self.eat(b':');
        let minutes = if self.at_end() { 0 } else { self.number(2, 2)? };
        if hours > 23 || minutes > 59 {
            return None;
        }
        Some(sign * i32::try_from(hours * 60 + minutes).ok()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, TimeZone, Utc};
    use proptest::prelude::*;

    fn ms(rfc3339: &str) -> i64 {
        DateTime::parse_from_rfc3339(rfc3339)
            .unwrap()
            .timestamp_millis()
    }

    #[test]
    fn feed_timestamps_with_zero_and_real_milliseconds_parse() {
        assert_eq!(
            parse_date("2021-01-11T11:55:14.000Z"),
            Some(1_610_366_114_000)
        );
        assert_eq!(
            parse_date("2021-01-11T11:55:14.123Z"),
            Some(1_610_366_114_123)
        );
        assert_eq!(
            parse_date("2021-01-11T11:55:14.5Z"),
            Some(1_610_366_114_500)
        );
        assert_eq!(
            parse_date("2021-01-11T11:55:14.123456789Z"),
            Some(1_610_366_114_123)
        );
    }

    #[test]
    fn offsets_shift_the_instant_to_utc() {
        assert_eq!(
            parse_date("2021-01-11T11:55:14+08:00"),
            Some(ms("2021-01-11T03:55:14Z"))
        );
        assert_eq!(
            parse_date("2018-03-03T20:45:09+01:00"),
            Some(ms("2018-03-03T19:45:09Z"))
        );
        assert_eq!(
            parse_date("2021-01-11T11:55:14-05:30"),
            Some(ms("2021-01-11T17:25:14Z"))
        );
        assert_eq!(
            parse_date("2021-01-11T11:55:14+00:00"),
            Some(ms("2021-01-11T11:55:14Z"))
        );
    }

    #[test]
    fn utc_without_fraction_and_date_only_parse() {
        assert_eq!(
            parse_date("2021-01-11T11:55:14Z"),
            Some(ms("2021-01-11T11:55:14Z"))
        );
        assert_eq!(parse_date("2021-01-11"), Some(ms("2021-01-11T00:00:00Z")));
        assert_eq!(parse_date("  2021-1-5 "), Some(ms("2021-01-05T00:00:00Z")));
    }

    #[test]
    fn jekyll_space_separated_dates_parse_with_or_without_zone() {
        assert_eq!(
            parse_date("2021-01-11 11:55:14 +0800"),
            Some(ms("2021-01-11T03:55:14Z"))
        );
        assert_eq!(
            parse_date("2021-01-11 11:55:14"),
            Some(ms("2021-01-11T11:55:14Z"))
        );
        assert_eq!(
            parse_date("2021-01-11 11:55"),
            Some(ms("2021-01-11T11:55:00Z"))
        );
        assert_eq!(
            parse_date("2021-01-11 11:55:14 UTC"),
            Some(ms("2021-01-11T11:55:14Z"))
        );
        assert_eq!(
            parse_date("2021-01-11 9:05:00 -07"),
            Some(ms("2021-01-11T16:05:00Z"))
        );
    }

    #[test]
    fn impossible_or_garbled_dates_are_refused() {
        for bad in [
            "2021-13-45",
            "2021-02-30",
            "2021-01-11T25:00:00Z",
            "2021-01-11T11:61",
            "yesterday",
            "",
            "2021-01-11T11:55:14+8",
            "2021-01-11 11:55:14 +0800 extra",
            "21-01-11",
            "2021-01-11T",
            "2021-01-11T11:55:14.Z",
            "2021-01-11T11:55:14+24:00",
        ] {
            assert_eq!(parse_date(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn file_name_prefix_gives_a_date_only_when_it_is_a_real_date() {
        assert_eq!(
            file_name_date("2021-01-11-新闻.md"),
            Some((ms("2021-01-11T00:00:00Z"), "2021-01-11"))
        );
        assert_eq!(file_name_date("2021-13-11-x.md"), None);
        assert_eq!(file_name_date("2021-01-11.md"), None);
        assert_eq!(file_name_date("新闻.md"), None);
        assert_eq!(file_name_date("2021-01-1"), None);
    }

    proptest! {
        #[test]
        fn date_parsing_never_panics(s in "\\PC{0,40}") {
            let _ = parse_date(&s);
            let _ = file_name_date(&s);
        }

        #[test]
        fn date_parsing_never_panics_on_date_like_text(s in "[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}([T ][0-9:.,+Zz -]{0,20})?") {
            let _ = parse_date(&s);
        }

        #[test]
        fn known_formats_round_trip(
            y in 1970i32..2100, mo in 1u32..=12, d in 1u32..=28,
            h in 0u32..24, mi in 0u32..60, s in 0u32..60, milli in 0u32..1000,
            off_h in 0i32..14, off_m in prop::sample::select(vec![0i32, 30, 45]), west in any::<bool>(),
        ) {
            let naive = NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_milli_opt(h, mi, s, milli).unwrap();
            let utc = Utc.from_utc_datetime(&naive).timestamp_millis();
            let sign = if west { '-' } else { '+' };
            let offset = (off_h * 60 + off_m) * if west { -1 } else { 1 };
            let shifted = utc - i64::from(offset) * 60_000;
            let whole = utc - i64::from(milli);
            let date = format!("{y:04}-{mo:02}-{d:02}");
            let clock = format!("{h:02}:{mi:02}:{s:02}");
            prop_assert_eq!(parse_date(&format!("{date}T{clock}.{milli:03}Z")), Some(utc));
            prop_assert_eq!(parse_date(&format!("{date}T{clock}Z")), Some(whole));
            prop_assert_eq!(parse_date(&format!("{date}T{clock}.{milli:03}{sign}{off_h:02}:{off_m:02}")), Some(shifted));
            prop_assert_eq!(parse_date(&format!("{date}T{clock}{sign}{off_h:02}:{off_m:02}")), Some(shifted - i64::from(milli)));
            prop_assert_eq!(parse_date(&format!("{date} {clock} {sign}{off_h:02}{off_m:02}")), Some(shifted - i64::from(milli)));
            prop_assert_eq!(parse_date(&format!("{date} {clock}")), Some(whole));
            prop_assert_eq!(parse_date(&format!("{date} {h:02}:{mi:02}")), Some(whole - i64::from(s) * 1000));
            prop_assert_eq!(parse_date(&date), Some(whole - i64::from((h * 60 + mi) * 60 + s) * 1000));
        }
    }
}
