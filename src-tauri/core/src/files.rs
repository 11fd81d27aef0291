//! Small helpers on file contents that every layer uses: the content hash that names a version of
//! a file (in the index, the journal, collections) and the hex form in which it is stored as
//! text. A leaf: imports nothing of the crate. (Shelfmark's own files and JSON folders are
//! `dotdir`'s; the path of a post is `postfile`'s.)

/// Content hash used everywhere a file is compared with what was read (as in the index).
pub fn hash(bytes: &[u8]) -> [u8; 32] {
    *blake3::hash(bytes).as_bytes()
}

/// Lower-case hex of some bytes (hashes, and paths that are not UTF-8).
pub fn to_hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes of a hex string; None when it is not hex (or has an odd length).
pub fn from_hex(hex: &str) -> Option<Vec<u8>> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            hex.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trips_and_refuses_what_is_not_hex() {
        assert_eq!(to_hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(from_hex("00ab10"), Some(vec![0, 0xab, 0x10]));
        assert_eq!(from_hex("zz"), None);
        assert_eq!(from_hex("abc"), None);
        assert_eq!(hash(b"x").len(), 32);
    }
}
