//! The folded text each post keeps in the index (`post_text.folded`: title, article, rest of the
//! page; see `index::analysis::doc_grams`), compressed: it was the largest part of the index, and
//! it is read only by the searches the postings cannot answer alone (such as a phrase of three
//! words, or two-character CJK words apart: `bbc 中文`) and by duplicates (signatures, cached).
//!
//! A stored text is `crate::packed` bytes: one tag byte, then the UTF-8 bytes (short texts, which
//! compression would not shrink) or a zstd frame that declares its size. The index
//! is untrusted (it may come with the archive): a frame that declares more than `MAX_TEXT`
//! bytes, or is not what it declares, reads as no text (a post whose text cannot be read matches
//! no word, as before), never as an allocation the size a file chooses.

use crate::packed;

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
    packed::pack(folded.as_bytes(), MIN_COMPRESSED, LEVEL)
}

/// Call `f` with the folded text of a stored one (its UTF-8 bytes; empty when it cannot be read).
pub fn with_unpacked<R>(stored: &[u8], f: impl FnOnce(&[u8]) -> R) -> R {
    packed::with_unpacked(stored, MAX_TEXT, f)
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
        // Long text is compressed (tag 1); short text is not (tag 0).
        assert_eq!(pack(&long)[0], 1);
        assert!(pack(&long).len() < long.len() / 4);
        assert_eq!(pack("短")[0], 0);
        // Damaged: no text.
        assert_eq!(unpack(&pack(&long)[..10]), "");
    }
}
