//! Bytes → text: UTF-8 (with or without BOM), UTF-16 (BOM or NUL pattern), and GB18030/Big5
//! guessed only when the bytes are not UTF-8. Binary files are turned away here.

use super::TextEncoding;
use crate::problem::{Problem, ProblemKind};
use std::borrow::Cow;

/// A file's text and how it was obtained from the bytes.
#[derive(Debug)]
pub(super) struct Decoded<'a> {
    /// The text without any BOM.
    pub text: Cow<'a, str>,
    pub encoding: TextEncoding,
    /// Length of the BOM in the original bytes (0, 2 or 3).
    pub bom_len: usize,
    /// Some bytes could not be decoded and were replaced by U+FFFD.
    pub lossy: bool,
    /// Set for anything but clean UTF-8: the user should know edits are refused.
    pub problem: Option<Problem>,
}

impl Decoded<'_> {
    /// Whether offsets in `text` map one-to-one onto the file bytes (after the BOM), which is
    /// what the edit path needs.
    pub fn is_exact_utf8(&self) -> bool {
        matches!(self.encoding, TextEncoding::Utf8 | TextEncoding::Utf8Bom) && !self.lossy
    }

    /// The byte offset in the original file of `text_offset` in the decoded text.
    pub fn source_offset(&self, bytes: &[u8], text_offset: usize) -> usize {
        let prefix = self.text.get(..text_offset).unwrap_or(&self.text);
        let within = match self.encoding {
            _ if self.is_exact_utf8() => prefix.len(),
            TextEncoding::Utf8 | TextEncoding::Utf8Bom => {
                lossy_utf8_source_len(bytes.get(self.bom_len..).unwrap_or(&[]), prefix.len())
            }
            TextEncoding::Utf16Le | TextEncoding::Utf16Be => prefix.encode_utf16().count() * 2,
            TextEncoding::Gb18030 => encoding_rs::GB18030.encode(prefix).0.len(),
            TextEncoding::Big5 => encoding_rs::BIG5.encode(prefix).0.len(),
        };
        (self.bom_len + within).min(bytes.len())
    }
}

/// Why a file is not read as a post at all.
pub(super) fn binary_problem(why: &str) -> Problem {
    Problem::new(
        ProblemKind::Binary,
        format!("this is not a text file ({why}); it is not indexed"),
    )
}

/// How many leading bytes are inspected by the cheap "is this text?" heuristics.
const SNIFF_LEN: usize = 8 * 1024;

pub(super) fn decode(bytes: &[u8]) -> Result<Decoded<'_>, Problem> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return decode_utf8(rest, TextEncoding::Utf8Bom, 3);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFF\xFE") {
        return decode_utf16(rest, TextEncoding::Utf16Le, 2);
    }
    if let Some(rest) = bytes.strip_prefix(b"\xFE\xFF") {
        return decode_utf16(rest, TextEncoding::Utf16Be, 2);
    }
    if let Some(encoding) = sniff_utf16(bytes) {
        return decode_utf16(bytes, encoding, 0);
    }
    decode_utf8(bytes, TextEncoding::Utf8, 0)
}

fn decode_utf8(
    bytes: &[u8],
    encoding: TextEncoding,
    bom_len: usize,
) -> Result<Decoded<'_>, Problem> {
    if memchr::memchr(0, bytes).is_some() {
        return Err(binary_problem("it contains NUL bytes"));
    }
    check_control_bytes(bytes)?;
    // SIMD: the standard library's check was 1.5% of a cold index's CPU.
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        return Ok(Decoded {
            text: Cow::Borrowed(text),
            encoding,
            bom_len,
            lossy: false,
            problem: None,
        });
    }
    let (invalid, valid_non_ascii) = count_utf8_chunks(bytes);
    if encoding == TextEncoding::Utf8Bom || invalid * 10 <= valid_non_ascii {
        // Mostly UTF-8 with a few broken sequences (a truncated file, a bad copy): keep it UTF-8.
        if invalid > valid_non_ascii + 16 {
            return Err(binary_problem("most of it is not valid UTF-8"));
        }
        let text = String::from_utf8_lossy(bytes).into_owned();
        let problem = Problem::new(
            ProblemKind::Encoding,
            format!(
                "not valid UTF-8: {invalid} broken byte sequence(s) were replaced by \u{FFFD}; \
                 edits will be refused until the file is saved as UTF-8"
            ),
        );
        return Ok(Decoded {
            text: Cow::Owned(text),
            encoding,
            bom_len,
            lossy: true,
            problem: Some(problem),
        });
    }
    decode_legacy(bytes)
}

/// Not UTF-8: let chardetng guess among the legacy encodings; only Chinese ones are supported.
fn decode_legacy(bytes: &[u8]) -> Result<Decoded<'_>, Problem> {
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(None, chardetng::Utf8Detection::Deny);
    let (encoding, decoder) = if guess == encoding_rs::GBK || guess == encoding_rs::GB18030 {
        (TextEncoding::Gb18030, encoding_rs::GB18030)
    } else if guess == encoding_rs::BIG5 {
        (TextEncoding::Big5, encoding_rs::BIG5)
    } else {
        let text = String::from_utf8_lossy(bytes).into_owned();
        check_decoded(&text)?;
        let problem = Problem::new(
            ProblemKind::Encoding,
            format!(
                "not valid UTF-8 (it looks like {}, which Shelfmark does not read); undecodable \
                 bytes were replaced by \u{FFFD} and edits will be refused; save the file as UTF-8",
                guess.name()
            ),
        );
        return Ok(Decoded {
            text: Cow::Owned(text),
            encoding: TextEncoding::Utf8,
            bom_len: 0,
            lossy: true,
            problem: Some(problem),
        });
    };
    let (text, had_errors) = decoder.decode_without_bom_handling(bytes);
    check_decoded(&text)?;
    let problem = Problem::new(
        ProblemKind::Encoding,
        format!(
            "decoded as {}{}; edits will be refused until the file is saved as UTF-8",
            display_name(encoding),
            if had_errors {
                " with some undecodable bytes replaced"
            } else {
                ""
            }
        ),
    );
    Ok(Decoded {
        text: Cow::Owned(text.into_owned()),
        encoding,
        bom_len: 0,
        lossy: had_errors,
        problem: Some(problem),
    })
}

fn decode_utf16(
    bytes: &[u8],
    encoding: TextEncoding,
    bom_len: usize,
) -> Result<Decoded<'_>, Problem> {
    let decoder = if encoding == TextEncoding::Utf16Be {
        encoding_rs::UTF_16BE
    } else {
        encoding_rs::UTF_16LE
    };
    let (text, had_errors) = decoder.decode_without_bom_handling(bytes);
    if text.contains('\0') {
        return Err(binary_problem("it contains NUL characters"));
    }
    check_decoded(&text)?;
    let problem = Problem::new(
        ProblemKind::Encoding,
        format!(
            "decoded as {}{}; edits will be refused until the file is saved as UTF-8",
            display_name(encoding),
            if had_errors {
                " with some broken characters replaced"
            } else {
                ""
            }
        ),
    );
    Ok(Decoded {
        text: Cow::Owned(text.into_owned()),
        encoding,
        bom_len,
        lossy: had_errors,
        problem: Some(problem),
    })
}

/// How an encoding is named in messages.
fn display_name(encoding: TextEncoding) -> &'static str {
    match encoding {
        TextEncoding::Utf8 => "UTF-8",
        TextEncoding::Utf8Bom => "UTF-8 with BOM",
        TextEncoding::Utf16Le => "UTF-16LE",
        TextEncoding::Utf16Be => "UTF-16BE",
        TextEncoding::Gb18030 => "GB18030",
        TextEncoding::Big5 => "Big5",
    }
}

/// UTF-16 without a BOM still shows itself: ASCII characters leave a NUL in every other byte.
fn sniff_utf16(bytes: &[u8]) -> Option<TextEncoding> {
    let sample = &bytes[..bytes.len().min(SNIFF_LEN) & !1];
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let (mut zero_even, mut zero_odd) = (0usize, 0usize);
    for pair in sample.chunks_exact(2) {
        zero_even += usize::from(pair[0] == 0);
        zero_odd += usize::from(pair[1] == 0);
    }
    let enough = |zeros: usize| zeros >= 2 && zeros * 8 >= pairs;
    if enough(zero_odd) && zero_even * 8 <= zero_odd {
        Some(TextEncoding::Utf16Le)
    } else if enough(zero_even) && zero_odd * 8 <= zero_even {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

/// Control bytes (other than tab, newlines, form feed and escape) are rare in text, common in binaries.
fn check_control_bytes(bytes: &[u8]) -> Result<(), Problem> {
    let sample = &bytes[..bytes.len().min(SNIFF_LEN)];
    let controls = sample
        .iter()
        .filter(|&&b| is_binary_control(u32::from(b)))
        .count();
    if controls > 8 && controls * 100 > sample.len() {
        return Err(binary_problem("it is full of control bytes"));
    }
    Ok(())
}

fn is_binary_control(c: u32) -> bool {
    c < 0x20 && !matches!(c, 0x09 | 0x0A | 0x0C | 0x0D | 0x1B)
}

/// After a lossy decode: too many replacement or control characters means this was not text.
fn check_decoded(text: &str) -> Result<(), Problem> {
    let (mut total, mut bad) = (0usize, 0usize);
    for c in text.chars().take(SNIFF_LEN) {
        total += 1;
        if c == '\u{FFFD}' || is_binary_control(u32::from(c)) {
            bad += 1;
        }
    }
    if bad > 8 && bad * 10 > total {
        return Err(binary_problem("most of it cannot be decoded as text"));
    }
    Ok(())
}

/// (broken sequences, valid non-ASCII characters) in bytes that are not valid UTF-8.
fn count_utf8_chunks(bytes: &[u8]) -> (usize, usize) {
    let (mut invalid, mut valid_non_ascii) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        valid_non_ascii += chunk.valid().chars().filter(|c| !c.is_ascii()).count();
        invalid += usize::from(!chunk.invalid().is_empty());
    }
    (invalid, valid_non_ascii)
}

/// In a lossy UTF-8 decode each broken sequence became U+FFFD (3 bytes): walk the chunks to map a
/// text length back to a byte length.
fn lossy_utf8_source_len(bytes: &[u8], text_len: usize) -> usize {
    let (mut text_pos, mut byte_pos) = (0usize, 0usize);
    for chunk in bytes.utf8_chunks() {
        let valid = chunk.valid().len();
        if text_pos + valid >= text_len {
            return byte_pos + (text_len - text_pos);
        }
        text_pos += valid;
        byte_pos += valid;
        if !chunk.invalid().is_empty() {
            text_pos += '\u{FFFD}'.len_utf8();
            byte_pos += chunk.invalid().len();
            if text_pos >= text_len {
                return byte_pos;
            }
        }
    }
    byte_pos
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
        text.encode_utf16()
            .flat_map(|u| {
                if big_endian {
                    u.to_be_bytes()
                } else {
                    u.to_le_bytes()
                }
            })
            .collect()
    }

    #[test]
    fn plain_utf8_is_borrowed_not_copied() {
        let d = decode("---\ntitle: 中文\n---\n".as_bytes()).unwrap();
        assert!(matches!(d.text, Cow::Borrowed(_)));
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert!(d.problem.is_none());
    }

    #[test]
    fn utf8_bom_is_stripped_and_remembered() {
        let d = decode(b"\xEF\xBB\xBF---\ntitle: x\n---\n").unwrap();
        assert_eq!(d.encoding, TextEncoding::Utf8Bom);
        assert_eq!(d.bom_len, 3);
        assert!(d.text.starts_with("---"));
        assert!(d.problem.is_none());
    }

    #[test]
    fn utf16_with_bom_is_decoded_both_ways() {
        let text = "---\ntitle: 新闻\n---\n正文";
        let mut le = b"\xFF\xFE".to_vec();
        le.extend(utf16(text, false));
        let mut be = b"\xFE\xFF".to_vec();
        be.extend(utf16(text, true));
        let d = decode(&le).unwrap();
        assert_eq!((d.encoding, &*d.text), (TextEncoding::Utf16Le, text));
        let d = decode(&be).unwrap();
        assert_eq!((d.encoding, &*d.text), (TextEncoding::Utf16Be, text));
        assert_eq!(d.problem.unwrap().kind, ProblemKind::Encoding);
    }

    #[test]
    fn utf16_without_bom_is_recognised_by_its_nul_pattern() {
        let text = "---\ntitle: Hello 世界\n---\nSome body text.";
        let le = utf16(text, false);
        let d = decode(&le).unwrap();
        assert_eq!((d.encoding, &*d.text), (TextEncoding::Utf16Le, text));
        let be = utf16(text, true);
        let d = decode(&be).unwrap();
        assert_eq!((d.encoding, &*d.text), (TextEncoding::Utf16Be, text));
    }

    #[test]
    fn gb18030_is_guessed_when_the_bytes_are_not_utf8() {
        let text = "---\ntitle: 新冠疫苗从今天开始交付法国第一批疫苗\n---\n法国卫生部长在广播中强调，疫苗将在周三送达病毒传播最严重的地区。";
        let (bytes, _, _) = encoding_rs::GB18030.encode(text);
        let d = decode(&bytes).unwrap();
        assert_eq!((d.encoding, &*d.text), (TextEncoding::Gb18030, text));
        let problem = d.problem.unwrap();
        assert_eq!(problem.kind, ProblemKind::Encoding);
        assert!(problem.message.contains("GB18030"), "{}", problem.message);
    }

    #[test]
    fn big5_is_guessed_when_the_bytes_are_not_utf8() {
        let text = "---\ntitle: 臺灣總統府發表聲明\n---\n中央社記者報導，總統府今天發表聲明，表示將持續關注國際疫情發展與經濟變化。";
        let (bytes, _, _) = encoding_rs::BIG5.encode(text);
        let d = decode(&bytes).unwrap();
        assert_eq!((d.encoding, &*d.text), (TextEncoding::Big5, text));
    }

    #[test]
    fn nul_bytes_make_a_file_binary() {
        let err = decode(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR").unwrap_err();
        assert_eq!(err.kind, ProblemKind::Binary);
    }

    #[test]
    fn a_few_broken_bytes_in_utf8_keep_it_utf8_but_lossy() {
        let mut bytes = "---\ntitle: 中文标题\n---\n正文内容很长很长"
            .as_bytes()
            .to_vec();
        bytes.push(0xE4); // a character cut in half at the end
        let d = decode(&bytes).unwrap();
        assert_eq!(d.encoding, TextEncoding::Utf8);
        assert!(d.lossy && d.text.ends_with('\u{FFFD}'));
        assert_eq!(d.problem.as_ref().unwrap().kind, ProblemKind::Encoding);
        assert_eq!(d.source_offset(&bytes, d.text.len()), bytes.len());
    }

    #[test]
    fn source_offsets_count_original_bytes() {
        let text = "---\ntitle: 新闻\n---\n正文";
        let at = text.find("正文").unwrap();
        let (gb, _, _) = encoding_rs::GB18030.encode(text);
        let d = decode(&gb).unwrap();
        assert_eq!(d.source_offset(&gb, at), at - 2); // two CJK characters, 2 bytes each instead of 3
        let mut le = b"\xFF\xFE".to_vec();
        le.extend(utf16(text, false));
        let d = decode(&le).unwrap();
        assert_eq!(
            d.source_offset(&le, at),
            2 + 2 * text[..at].encode_utf16().count()
        );
    }
}
