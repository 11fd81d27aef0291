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
pub use crate::packed::{Dict, Encoder};
use rusqlite::{Connection, OptionalExtension};
use std::sync::{Arc, Mutex};

/// Texts shorter than this are stored as they are.
const MIN_COMPRESSED: usize = 128;
/// zstd's level, in the scan's worker threads. Measured on 20,000 texts of the 70k bench corpus
/// (97 MB) with a dictionary of their own: level 3 stores them in 0.446 of their size in
/// 825 ms, level 4 in 0.437 in 1,186 ms, level 5 in 0.417 in 1,300 ms (level 7 and 19 were
/// 0.92 and 0.85 of level 3's size in 3.1× and 38× its time). Stops 26–34 used level 5; level 3
/// made a 70k cold index 1.0–2.4 s faster, with the space it adds (9 MiB at 70k) won back in
/// `gram_blocks` (`index::segment::CREATE`). Reading is as fast whatever the level.
const LEVEL: i32 = 3;
/// The most a stored text may unpack to: far above what a post file's text can be (files above
/// the scan's size limit are not indexed).
pub const MAX_TEXT: usize = 256 << 20;
/// The size of a trained dictionary: 256 KiB took the stored text of 5,000 real posts from 0.55
/// of its size to 0.44 (110 KiB: 0.46; 512 KiB: 0.43), and is read once per reader.
const DICT_BYTES: usize = 256 << 10;
/// A dictionary is kept when it makes texts at most this much of their size without it (real
/// posts: 0.80).
const KEEP_BELOW: f64 = 0.95;
/// Fewer posts than this make no dictionary worth its size.
const MIN_SAMPLES: usize = 100;
/// A stored dictionary above this is not loaded (the index is untrusted).
const DICT_MAX: usize = 4 << 20;

/// The stored form of a folded text, compressed with the index's dictionary if it has one.
pub fn pack(folded: &str, dict: Option<&Encoder>) -> Vec<u8> {
    match dict {
        Some(d) => packed::pack_with(folded.as_bytes(), MIN_COMPRESSED, d),
        None => packed::pack(folded.as_bytes(), MIN_COMPRESSED, LEVEL),
    }
}

/// Call `f` with the folded text of a stored one (its UTF-8 bytes; empty when it cannot be read).
/// `dict` is the dictionary it names (`Dicts::for_stored`), if any.
pub fn with_unpacked<R>(stored: &[u8], dict: Option<&Dict>, f: impl FnOnce(&[u8]) -> R) -> R {
    packed::with_unpacked_dict(stored, MAX_TEXT, dict, f)
}

/// The folded text of a stored one, as a string (lossy; empty when it cannot be read).
pub fn unpack(stored: &[u8], dict: Option<&Dict>) -> String {
    with_unpacked(stored, dict, |b| String::from_utf8_lossy(b).into_owned())
}

/// A dictionary trained on folded texts (samples of an archive's posts), as it is stored; none
/// when zstd cannot make one from them, or when it does not make the texts it was not trained
/// on (one in five) at least `KEEP_BELOW` of their size compressed without it.
pub fn train(samples: &[&[u8]]) -> Option<Vec<u8>> {
    if samples.len() < MIN_SAMPLES {
        return None;
    }
    // One in five is held out, to check the dictionary on.
    let held_out = |i: usize| i % 5 == 4;
    let pick = |out: bool| -> Vec<&[u8]> {
        let chosen = samples
            .iter()
            .enumerate()
            .filter(move |(i, _)| held_out(*i) == out);
        chosen.map(|(_, s)| *s).collect()
    };
    let (trained, checked) = (pick(false), pick(true));
    let total: usize = trained.iter().map(|s| s.len()).sum();
    // zstd's advice is samples of about 100 times the dictionary; 20 times did as well here.
    let bytes = packed::train(&trained, DICT_BYTES.min(total / 10))?;
    let encoder = encoder_from(&bytes)?;
    let (mut with, mut without) = (0usize, 0usize);
    for s in checked {
        with += packed::pack_with(s, MIN_COMPRESSED, &encoder).len();
        without += packed::pack(s, MIN_COMPRESSED, LEVEL).len();
    }
    (with as f64 <= without as f64 * KEEP_BELOW).then_some(bytes)
}

/// The dictionary of stored bytes, ready to read with; none when they are not one (or too
/// large).
pub fn dict_from(bytes: &[u8]) -> Option<Dict> {
    (bytes.len() <= DICT_MAX)
        .then(|| Dict::new(bytes))
        .flatten()
}

/// The dictionary of stored bytes, ready to compress with; none as for `dict_from`.
pub fn encoder_from(bytes: &[u8]) -> Option<Encoder> {
    (bytes.len() <= DICT_MAX)
        .then(|| Encoder::new(bytes, LEVEL))
        .flatten()
}

/// The dictionary `id` of an index (`text_dicts`), if it holds a usable one by that id.
pub fn load_dict(conn: &Connection, id: u32) -> rusqlite::Result<Option<Dict>> {
    Ok(load_bytes(conn, id)?
        .and_then(|b| dict_from(&b))
        .filter(|d| d.id() == id))
}

/// The dictionary `id` of an index, to compress with, if it holds a usable one by that id.
pub fn load_encoder(conn: &Connection, id: u32) -> rusqlite::Result<Option<Encoder>> {
    Ok(load_bytes(conn, id)?
        .and_then(|b| encoder_from(&b))
        .filter(|d| d.id() == id))
}

fn load_bytes(conn: &Connection, id: u32) -> rusqlite::Result<Option<Vec<u8>>> {
    conn.prepare_cached("SELECT dict FROM text_dicts WHERE id = ?1 AND length(dict) <= ?2")
        .and_then(|mut s| {
            s.query_row(rusqlite::params![id, DICT_MAX as i64], |r| r.get(0))
                .optional()
        })
}

/// The dictionaries a reader of an index has loaded, each once, as stored texts name them.
#[derive(Default)]
pub struct Dicts(Mutex<Vec<(u32, Option<Arc<Dict>>)>>);

impl std::fmt::Debug for Dicts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Dicts")
    }
}

/// Dictionaries a reader keeps loaded at most (an index has one; a hostile one may name more).
const DICTS_KEPT: usize = 4;

impl Dicts {
    /// The dictionary `stored` was compressed with, loaded through `conn` the first time; none
    /// when it names none, or the index does not hold it (the text then reads as empty).
    pub fn for_stored(
        &self,
        conn: &Connection,
        stored: &[u8],
    ) -> rusqlite::Result<Option<Arc<Dict>>> {
        let Some(id) = packed::dict_id(stored) else {
            return Ok(None);
        };
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, d)) = kept.iter().find(|(k, _)| *k == id) {
            return Ok(d.clone());
        }
        let dict = load_dict(conn, id)?.map(Arc::new);
        if kept.len() >= DICTS_KEPT {
            kept.remove(0);
        }
        kept.push((id, dict.clone()));
        Ok(dict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_come_back_as_they_went_in() {
        let long = "两岸关系 和平发展 ".repeat(200);
        for t in ["", "短", "a\nb\nc", long.as_str()] {
            let p = pack(t, None);
            assert_eq!(unpack(&p, None), t);
        }
        // Long text is compressed (tag 1); short text is not (tag 0).
        assert_eq!(pack(&long, None)[0], 1);
        assert!(pack(&long, None).len() < long.len() / 4);
        assert_eq!(pack("短", None)[0], 0);
        // Damaged: no text.
        assert_eq!(unpack(&pack(&long, None)[..10], None), "");
    }

    #[test]
    fn a_reader_loads_the_dictionary_a_text_names_once_and_only_by_its_id() {
        let texts: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    "第{i}篇 新华社北京电 记者从国务院新闻办获悉 {} 责任编辑 {}",
                    "经济 社会 ".repeat(i % 9 + 3),
                    i * 7919
                )
            })
            .collect();
        let samples: Vec<&[u8]> = texts.iter().map(|t| t.as_bytes()).collect();
        // Too few samples: no dictionary.
        assert!(train(&samples[..MIN_SAMPLES - 1]).is_none());
        // A dictionary that does not pay on the texts held out (every fifth: here random bytes,
        // unlike the rest) is not kept.
        let mut x = 7u64;
        let noise: Vec<Vec<u8>> = (0..300)
            .map(|_| {
                (0..600)
                    .map(|_| {
                        x = x.wrapping_mul(6364136223846793005).wrapping_add(1);
                        (x >> 56) as u8
                    })
                    .collect()
            })
            .collect();
        let mixed: Vec<&[u8]> = (0..300)
            .map(|i| {
                if i % 5 == 4 {
                    &noise[i][..]
                } else {
                    samples[i]
                }
            })
            .collect();
        assert!(train(&mixed).is_none());
        let bytes = train(&samples).unwrap();
        let dict = encoder_from(&bytes).unwrap();
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE text_dicts(id INTEGER PRIMARY KEY, dict BLOB NOT NULL);")
            .unwrap();
        let text = format!("{} 完", texts[299]);
        let stored = pack(&text, Some(&dict));
        assert_eq!(stored[0], 2);
        let dicts = Dicts::default();
        // Not in the index: the text reads as empty.
        assert!(dicts.for_stored(&conn, &stored).unwrap().is_none());
        let dicts = Dicts::default();
        // Stored under another id: not taken.
        conn.execute(
            "INSERT INTO text_dicts(id, dict) VALUES (?1, ?2)",
            rusqlite::params![dict.id() ^ 1, bytes],
        )
        .unwrap();
        assert!(dicts.for_stored(&conn, &stored).unwrap().is_none());
        let dicts = Dicts::default();
        conn.execute(
            "INSERT INTO text_dicts(id, dict) VALUES (?1, ?2)",
            rusqlite::params![dict.id(), bytes],
        )
        .unwrap();
        let loaded = dicts.for_stored(&conn, &stored).unwrap().unwrap();
        assert_eq!(unpack(&stored, Some(&loaded)), text);
        // Loaded once: the reader keeps it even when the index no longer has it.
        conn.execute("DELETE FROM text_dicts", []).unwrap();
        assert!(dicts.for_stored(&conn, &stored).unwrap().is_some());
        // A text with no dictionary needs none.
        assert!(dicts
            .for_stored(&conn, &pack(&text, None))
            .unwrap()
            .is_none());
    }
}
