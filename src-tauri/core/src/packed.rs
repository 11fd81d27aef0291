//! Bytes stored compressed when that makes them smaller: one tag byte, then either the bytes as
//! they are (`RAW`), a zstd frame that declares its size (`ZSTD`), or such a frame compressed
//! with a dictionary (`DICT`; the frame names the dictionary's id). Used for the stored text of
//! posts (`store::text`, with a dictionary) and the blocks of the text index (`index::segment`).
//!
//! What is unpacked comes from an index, which is untrusted (it may come with the archive): a
//! frame that declares more than the caller's limit, or is not what it declares, unpacks to
//! nothing, never to an allocation the size a file chooses.

use std::cell::RefCell;

const RAW: u8 = 0;
const ZSTD: u8 = 1;
const DICT: u8 = 2;

thread_local! {
    // One context per thread and level: making one per call was 2.6% of a cold index.
    static COMPRESSOR: RefCell<Option<(i32, zstd::bulk::Compressor<'static>)>> =
        const { RefCell::new(None) };
    // For frames made with a dictionary (given on each call).
    static DICT_CCTX: RefCell<Option<zstd::zstd_safe::CCtx<'static>>> = const { RefCell::new(None) };
    // Any dictionary (or none) is given on each call.
    static DCTX: RefCell<Option<zstd::zstd_safe::DCtx<'static>>> = const { RefCell::new(None) };
}

/// A zstd dictionary made ready to decompress with.
pub struct Dict {
    id: u32,
    ddict: zstd::zstd_safe::DDict<'static>,
}

impl Dict {
    /// The dictionary of `bytes` (a trained zstd dictionary, which names its id); none when the
    /// bytes are no dictionary zstd can load, or name no id.
    pub fn new(bytes: &[u8]) -> Option<Dict> {
        Some(Dict {
            id: zstd::zstd_safe::get_dict_id_from_dict(bytes)?.get(),
            ddict: zstd::zstd_safe::DDict::try_create(bytes)?,
        })
    }

    /// The id the dictionary names, which every frame made with it names too.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// A zstd dictionary made ready to compress with, at one level.
pub struct Encoder {
    id: u32,
    cdict: zstd::zstd_safe::CDict<'static>,
}

impl Encoder {
    /// As `Dict::new`, to compress at `level`.
    pub fn new(bytes: &[u8], level: i32) -> Option<Encoder> {
        Some(Encoder {
            id: zstd::zstd_safe::get_dict_id_from_dict(bytes)?.get(),
            cdict: zstd::zstd_safe::CDict::try_create(bytes, level)?,
        })
    }

    /// The id the dictionary names.
    pub fn id(&self) -> u32 {
        self.id
    }
}

/// A dictionary trained on `samples`, of at most `max_bytes`; none when zstd cannot make one
/// (too few or too small samples).
pub fn train(samples: &[&[u8]], max_bytes: usize) -> Option<Vec<u8>> {
    zstd::dict::from_samples(samples, max_bytes).ok()
}

/// The id of the dictionary a stored form needs, if it is one compressed with a dictionary.
pub fn dict_id(stored: &[u8]) -> Option<u32> {
    match stored.split_first() {
        Some((&DICT, frame)) => zstd::zstd_safe::get_dict_id_from_frame(frame).map(|id| id.get()),
        _ => None,
    }
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

/// The stored form of `bytes` compressed with `dict` (at its level) when they are at least
/// `min_len` long and that makes them smaller, else as they are.
pub fn pack_with(bytes: &[u8], min_len: usize, dict: &Encoder) -> Vec<u8> {
    if bytes.len() >= min_len {
        let packed = DICT_CCTX.with(|c| {
            let mut c = c.borrow_mut();
            if c.is_none() {
                *c = zstd::zstd_safe::CCtx::try_create();
            }
            let cctx = c.as_mut()?;
            let mut out = Vec::with_capacity(1 + zstd::zstd_safe::compress_bound(bytes.len()));
            out.push(DICT);
            let mut after_tag = std::io::Cursor::new(&mut out);
            after_tag.set_position(1);
            cctx.compress_using_cdict(&mut after_tag, bytes, &dict.cdict)
                .ok()?;
            (out.len() < bytes.len()).then_some(out)
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
    with_unpacked_dict(stored, max, None, f)
}

/// `with_unpacked` for stored forms that may have been compressed with `dict`: one made with
/// another dictionary, or with one when none is given, reads as no bytes.
pub fn with_unpacked_dict<R>(
    stored: &[u8],
    max: usize,
    dict: Option<&Dict>,
    f: impl FnOnce(&[u8]) -> R,
) -> R {
    let content_size = |frame: &[u8]| match zstd::zstd_safe::get_frame_content_size(frame) {
        Ok(Some(n)) if n <= max as u64 => Some(n as usize),
        _ => None,
    };
    match stored.split_first() {
        Some((&RAW, bytes)) => f(bytes),
        Some((&tag @ (ZSTD | DICT), frame)) => {
            let dict = match (tag, dict) {
                (ZSTD, _) => None,
                (_, Some(d)) if dict_id(stored) == Some(d.id) => Some(d),
                _ => return f(&[]),
            };
            let Some(size) = content_size(frame) else {
                return f(&[]);
            };
            let mut buf = Vec::with_capacity(size);
            let ok = DCTX.with(|d| {
                let mut d = d.borrow_mut();
                if d.is_none() {
                    *d = zstd::zstd_safe::DCtx::try_create();
                }
                d.as_mut().is_some_and(|d| {
                    match dict {
                        Some(dict) => d.decompress_using_ddict(&mut buf, frame, &dict.ddict),
                        None => d.decompress_using_dict(&mut buf, frame, &[]),
                    }
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

    /// A dictionary trained on texts alike (as posts of one archive are).
    fn trained() -> Vec<u8> {
        let texts: Vec<String> = (0..400)
            .map(|i| {
                format!(
                    "第{i}篇 两岸关系 和平发展 新华社记者 报道 {} 责任编辑 {}",
                    "经济 社会 文化 ".repeat(i % 7 + 1),
                    i * 7919
                )
            })
            .collect();
        let samples: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        train(&samples, 8 << 10).unwrap()
    }

    #[test]
    fn with_a_dictionary_bytes_come_back_and_only_with_that_dictionary() {
        let enc = Encoder::new(&trained(), 3).unwrap();
        let dict = Dict::new(&trained()).unwrap();
        assert_eq!(enc.id(), dict.id());
        let text = "第9999篇 两岸关系 和平发展 新华社记者 报道 经济 社会 文化 责任编辑 42";
        let p = pack_with(text.as_bytes(), 16, &enc);
        assert_eq!(p[0], DICT);
        assert_eq!(dict_id(&p), Some(dict.id()));
        // Smaller than without the dictionary.
        assert!(p.len() < pack(text.as_bytes(), 0, 3).len());
        let read = |d: Option<&Dict>, max| with_unpacked_dict(&p, max, d, |b| b.to_vec());
        assert_eq!(read(Some(&dict), usize::MAX), text.as_bytes());
        assert_eq!(read(Some(&dict), text.len() - 1), b"");
        // Without a dictionary, or with another one: nothing.
        assert_eq!(read(None, usize::MAX), b"");
        assert_eq!(with_unpacked(&p, usize::MAX, |b| b.len()), 0);
        let mut other_bytes = trained();
        // The id is bytes 4..8 of a trained dictionary.
        other_bytes[4] ^= 1;
        let other = Dict::new(&other_bytes).unwrap();
        assert_ne!(other.id(), dict.id());
        assert_eq!(read(Some(&other), usize::MAX), b"");
        // Forms without a dictionary still read with one given; short bytes stay as they are.
        let plain = pack(text.as_bytes(), 0, 3);
        assert_eq!(
            with_unpacked_dict(&plain, usize::MAX, Some(&dict), |b| b.to_vec()),
            text.as_bytes()
        );
        assert_eq!(pack_with(b"short", 16, &enc), b"\0short");
        // Bytes that are no dictionary (or name no id) make none; damaged frames read as nothing.
        assert!(Dict::new(b"not a dictionary").is_none());
        assert!(Encoder::new(b"not a dictionary", 3).is_none());
        for cut in [1, 2, p.len() / 2, p.len() - 1] {
            assert_eq!(
                with_unpacked_dict(&p[..cut], usize::MAX, Some(&dict), |b| b.len()),
                0
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
