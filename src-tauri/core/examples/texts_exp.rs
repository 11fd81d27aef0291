use rusqlite::Connection;
fn main() {
    let path = std::env::args().nth(1).unwrap();
    let conn =
        Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let (dict_id, dict_bytes): (u32, Vec<u8>) = conn
        .query_row("SELECT id, dict FROM text_dicts", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    let dict = shelfmark_core::store::text::dict_from(&dict_bytes).unwrap();
    assert_eq!(dict.id(), dict_id);
    let mut st = conn.prepare("SELECT data FROM post_texts").unwrap();
    let mut rows = st.query([]).unwrap();
    let mut texts: Vec<Vec<u8>> = vec![];
    let mut stored_total = 0usize;
    let mut n = 0;
    while let Some(r) = rows.next().unwrap() {
        n += 1;
        if n % 8 != 0 {
            continue;
        }
        let d: Vec<u8> = r.get(0).unwrap();
        let cnt = u32::from_le_bytes(d[..4].try_into().unwrap()) as usize;
        let mut at = 4 + cnt * 8;
        for i in 0..cnt {
            let len =
                u32::from_le_bytes(d[4 + i * 8 + 4..4 + i * 8 + 8].try_into().unwrap()) as usize;
            let s = &d[at..at + len];
            at += len;
            stored_total += len;
            texts.push(shelfmark_core::store::text::with_unpacked(
                s,
                Some(&dict),
                |b| b.to_vec(),
            ));
        }
    }
    let raw: usize = texts.iter().map(|t| t.len()).sum();
    println!(
        "{} texts, raw {:.1} MiB, stored {:.1} MiB",
        texts.len(),
        raw as f64 / 1048576.0,
        stored_total as f64 / 1048576.0
    );
    for level in [1, 3, 5, 7, 9, 12, 15, 19] {
        let enc = shelfmark_core::packed::Encoder::new(&dict_bytes, level).unwrap();
        let t = std::time::Instant::now();
        let total: usize = texts
            .iter()
            .map(|s| shelfmark_core::packed::pack_with(s, 128, &enc).len())
            .sum();
        println!(
            "level {level:2}: {:.2} MiB ({:.3}) in {:.2} s",
            total as f64 / 1048576.0,
            total as f64 / stored_total as f64,
            t.elapsed().as_secs_f64()
        );
    }
}
