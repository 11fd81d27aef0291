//! Bytes stored compressed when that makes them smaller: one tag byte, then either the bytes as
//! they are (`RAW`) or a zstd frame that declares its size (`ZSTD`). Used for the stored text of
//! posts (`store::text`) and the blocks of the text index (`index::segment`).
//!
//! What is unpacked comes from an index, which is untrusted (it may come with the archive): a
//! frame that declares more than the caller's limit, or is not what it declares, unpacks to
//! nothing, never to an allocation the size a file chooses.

use std::cell::RefCell;

const RAW: u8 = 0;
const ZSTD: u8 = 1;

thread_local! {
    // One context per thread and level: making one per call was 2.6% of a cold index.
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { RefCell::new(None) };
}

/// The stored form of `bytes`: compressed at zstd `level` when they are at least `min_len` long
/// and compression makes them smaller, else as they are.
pub fn pack(bytes: &[u8], min_len: usize, level: i32) -> Vec<u8> {
    if bytes.len() >= min_len {
        let packed = COMPRESSOR.with(|c| {
            let mut c = c.borrow_mut();
            if c.as_ref().is_none_or(|(l, _)| *l != level) {
                *c = zstd::bulk::Compressor::new(level).ok().map(|z| (level, z));
            }
            let (_, z) = c.as_mut()?;
            let frame = z.compress(bytes).ok()?;
            (frame.len() < bytes.len()).then(|| [&[ZSTD][..], &frame].concat())
        });
        if let Some(out) = packed {
            return out;
        }
    }
    [&[RAW][..], bytes].concat()
}

/// Call `f` with the bytes of a stored form; with no bytes when it cannot be read or would
/// unpack to more than `max` bytes.
pub fn with_unpacked<R>(stored: &[u8], max: usize, f: impl FnOnce(&[u8]) -> R) -> R {
    match stored.split_first() {
        Some((&RAW, bytes)) => f(bytes),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bytes_come_back_as_they_went_in_compressed_only_when_smaller() {
        let long = "两岸关系 和平发展 ".repeat(200);
        for (t, min) in [("", 0), ("短", 0), ("a\nb", 1), (long.as_str(), 128)] {
            let p = pack(t.as_bytes(), min, 3);
            assert_eq!(with_unpacked(&p, usize::MAX, |b| b.to_vec()), t.as_bytes());
        }
        assert_eq!(pack(long.as_bytes(), 128, 1)[0], ZSTD);
        assert!(pack(long.as_bytes(), 128, 1).len() < long.len() / 4);
        // Under the length asked for, or not smaller compressed: as they are.
        assert_eq!(pack(long.as_bytes(), long.len() + 1, 1)[0], RAW);
        assert_eq!(pack(b"abcdefgh", 0, 1), b"\0abcdefgh");
        // Two levels in turn on one thread (the context is made again for the other level).
        for level in [3, 1, 3] {
            let p = pack(long.as_bytes(), 0, level);
            assert_eq!(p[0], ZSTD);
            assert_eq!(
                with_unpacked(&p, usize::MAX, |b| b.to_vec()),
                long.as_bytes()
            );
        }
    }

    #[test]
    fn hostile_stored_forms_unpack_to_nothing() {
        let long = "文字".repeat(500);
        let p = pack(long.as_bytes(), 0, 3);
        for bad in [
            &[][..],
            &[9, 1, 2][..],
            &p[..p.len() / 2],
            &[ZSTD, 0xff, 0xff][..],
        ] {
            assert_eq!(with_unpacked(bad, usize::MAX, |b| b.len()), 0);
        }
        // A frame that declares more than the limit: not unpacked (no allocation of that size).
        assert_eq!(with_unpacked(&p, long.len(), |b| b.len()), long.len());
        assert_eq!(with_unpacked(&p, long.len() - 1, |b| b.len()), 0);
    }
}
