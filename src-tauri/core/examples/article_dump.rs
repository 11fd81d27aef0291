//! Prints the page text of posts and the article's ranges, one JSON object per post, for looking
//! at the extraction: `cargo run -p shelfmark-core --example article_dump -- FILE...`
//! (`--text` prints the article text instead, with the page text's other lines marked `✗`).

fn main() {
    let mut as_text = false;
    let mut as_lines = false;
    for arg in std::env::args().skip(1) {
        if arg == "--lines" {
            as_lines = true;
            continue;
        }
        if arg == "--text" {
            as_text = true;
            continue;
        }
        let Ok(bytes) = std::fs::read(&arg) else {
            eprintln!("cannot read {arg}");
            continue;
        };
        let name = std::path::Path::new(&arg)
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let parsed = shelfmark_core::post::parse(&name, &bytes, &Default::default());
        let Some(post) = parsed.post else { continue };
        if as_lines {
            let text = String::from_utf8_lossy(&bytes);
            let body = text
                .get(post.body_offset.min(text.len())..)
                .unwrap_or_default();
            for (line, link, boiler) in shelfmark_core::post::article_lines(body) {
                let short: String = line.chars().take(40).collect();
                println!("{:5} {link:5} {boiler:5} {short}", line.len());
            }
            continue;
        }
        if as_text {
            println!("##### {arg}");
            let mut at = 0usize;
            for line in post.text.split('\n') {
                let start = u32::try_from(at).unwrap_or(u32::MAX);
                let kept = post
                    .article
                    .iter()
                    .any(|&(s, e)| s <= start && start < e.max(s + 1));
                println!("{} {line}", if kept { ' ' } else { '✗' });
                at += line.len() + 1;
            }
        } else {
            let line = serde_json::json!({"path": arg, "text": post.text, "article": post.article});
            println!("{line}");
        }
    }
}
