//! The folded text each post keeps in the index (`post_text.folded`: title, article, rest of the
//! page; see `index::analysis::doc_grams`), compressed: it was the largest part of the index, and
//! it is read only by the searches the postings cannot answer alone (such as a phrase of three
//! words, or two-character CJK words apart: `bbc 中文`) and by duplicates (signatures, cached).
//!
//! A stored text is one tag byte and its payload: `RAW` then the UTF-8 bytes (short texts, which
//! compression would not shrink), or `ZSTD` then a zstd frame that declares its size. The index
//! is untrusted (it may come with the archive): a frame that declares more than `MAX_TEXT`
//! bytes, or is not what it declares, reads as no text (a post whose text cannot be read matches
//! no word, as before), never as an allocation the size a file chooses.

use std::cell::RefCell;

const RAW: u8 = 0;
const ZSTD: u8 = 1;
/// Texts shorter than this are stored as they are.
const MIN_COMPRESSED: usize = 128;
/// zstd's level: 3 (its default) compresses folded Chinese news text about 3× at several hundred
/// MB/s, in the scan's worker threads.
const LEVEL: i32 = 3;
/// The most a stored text may unpack to: far above what a post file's text can be (files above
/// the scan's size limit are not indexed).
pub const MAX_TEXT: usize = 256 << 20;

/// The stored form of a folded text.
pub fn pack(folded: &str) -> Vec<u8> {
    let bytes = folded.as_bytes();
    if bytes.len() >= MIN_COMPRESSED {
        // One compression context per thread: making one per text was 2.6% of a cold index.
        let packed = COMPRESSOR.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_none() {
                *c = zstd::bulk::Compressor::new(LEVEL).ok();
            }
            let z = c.as_mut()?.compress(bytes).ok()?;
            (z.len() < bytes.len()).then(|| {
                let mut out = Vec::with_capacity(z.len() + 1);
                out.push(ZSTD);
                out.extend_from_slice(&z);
                out
            })
        });
        if let Some(out) = packed {
            return out;
        }
    }
    let mut out = Vec::with_capacity(bytes.len() + 1);
    out.push(RAW);
    out.extend_from_slice(bytes);
    out
}

thread_local! {
    static COMPRESSOR: RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// Call `f` with the folded text of a stored one (its UTF-8 bytes; empty when it cannot be read).
pub fn with_unpacked<R>(stored: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    within(stored, MAX_TEXT, f)
}

fn within<R>(stored: &[u8], max: usize, f: impl FnOnce(&[u8]) -> R) -> R {
    match stored.split_first() {
        Some((&RAW, text)) => f(text),
        Some((&ZSTD, frame)) => {
            let size = match zstd::zstd_safe::get_frame_content_size(frame) {
                Ok(Some(n)) if n <= max as u64 => n as usize,
                _ => return f(&[]),
            };
            let mut buf = Vec::with_capacity(size);
            let ok = DECOMPRESSOR.with(|d| {
                let mut d = d.borrow_mut();
                if d.is_none() {
                    *d = zstd::bulk::Decompressor::new().ok();
                }
                d.as_mut().is_some_and(|d| {
                    d.decompress_to_buffer(frame, &mut buf)
                        .is_ok_and(|n| n == size)
                })
            });
            f(if ok { &buf } else { &[] })
        }
        _ => f(&[]),
    }
}

/// The folded text of a stored one, as a string (lossy; empty when it cannot be read).
pub fn unpack(stored: &[u8]) -> String {
    with_unpacked(stored, |b| String::from_utf8_lossy(b).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_back_as_they_went_in() {
        let long = "两岸关系 和平发展 ".repeat(200);
        for t in ["", "短", "a\nb\nc", long.as_str()] {
            let p = pack(t);
            assert_eq!(unpack(&p), t);
        }
        // Long text is compressed; short text is not.
        assert_eq!(pack(&long)[0], ZSTD);
        assert!(pack(&long).len() < long.len() / 4);
        assert_eq!(pack("短")[0], RAW);
    }

    #[test]
    fn hostile_stored_texts_read_as_no_text() {
        // Empty, an unknown tag, a truncated frame, garbage after the tag.
        let long = "文字".repeat(500);
        let p = pack(&long);
        for bad in [
            &[][..],
            &[9, 1, 2][..],
            &p[..p.len() / 2],
            &[ZSTD, 0xff, 0xff][..],
        ] {
            assert_eq!(unpack(bad), "");
        }
        // A frame that declares more than the limit: not unpacked (no allocation of that size).
        let big = pack(&"0".repeat(100_000));
        assert_eq!(within(&big, 100_000, |b| b.len()), 100_000);
        assert_eq!(within(&big, 99_999, |b| b.len()), 0);
    }
}
