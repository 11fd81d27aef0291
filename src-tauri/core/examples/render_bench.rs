//! Rendering and text-extraction benchmark on hostile post bodies (issue 10, finding 5): each
//! hostile body is timed next to an ordinary post of the same size, in ms per MB, through
//! `render::body_html` (Markdown, nesting guard, ammonia) and `post::parse` (body text for search).
//!
//! usage: cargo run --release -p shelfmark-core --example render_bench -- [SIZE_BYTES ...] [--only NAME]
//!
//! The ordinary post is the real corpus (`/work/shared/corpus/real-dev`, or `SHELFMARK_CORPUS`)
//! bodies concatenated up to the size, or a built-in scraped-looking sample repeated when the
//! corpus is absent. Default size: 100,000 bytes.

use shelfmark_core::post::{parse, ParseOptions};
use shelfmark_core::render::body_html;
use std::path::{Path, PathBuf};
use std::time::Instant;

const SAMPLE: &str = r#"<!--1610366114000-->
[新冠疫苗：从今天开始交付法国第一批疫苗](http://www.rfi.fr/cn/20210111-vaccine)
------

<div>
<div>11/01/2021 - 11:48</div><img src="https://s.rfi.fr/media/display/w:310/p:16x9/vaccine.JPG"><p><strong>获得欧洲卫生当局上市许可的新冠疫苗，将在今天交付给法国，超过五万剂的疫苗随即将运往东部大区。</strong></p><div class="t-content__body u-clearfix"><p>这是继德国 BioNTech 和美国辉瑞 (Pfizer) 公司联合研制的新冠疫苗之后，<a href="https://example.org/a">第二种</a>获准在法国使用的疫苗。</p>
<ul><li>第一点 &amp; <em>说明</em></li><li>第二点 &quot;引用&quot;</li></ul>
<table><tr><td>地区</td><td>剂量</td></tr><tr><td>东部</td><td>50,000</td></tr></table>
<blockquote><p>卫生部长表示，<b>接种</b>工作将按计划推进。</p></blockquote>
</div></div>

**Markdown** paragraph with a [link](https://example.com/x) and ![图](https://img.example.com/p.png).

"#;

fn repeat_to(unit: &str, size: usize) -> String {
    let mut s = String::with_capacity(size + unit.len());
    while s.len() < size {
        s.push_str(unit);
    }
    s
}

fn corpus_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            corpus_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "md") {
            out.push(p);
        }
    }
}

/// Real bodies (front matter cut off) concatenated up to `size`, or None without a corpus.
fn ordinary_from_corpus(size: usize) -> Option<String> {
    let dir = std::env::var_os("SHELFMARK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpus/real-dev"));
    let mut files = Vec::new();
    corpus_files(&dir, &mut files);
    if files.is_empty() {
        return None;
    }
    let mut s = String::with_capacity(size + 65536);
    for f in files.iter().cycle().take(files.len() * 64) {
        if s.len() >= size {
            break;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let body = text
            .strip_prefix("---")
            .and_then(|rest| rest.find("\n---").map(|p| &rest[p + 4..]))
            .unwrap_or(&text);
        s.push_str(body);
        s.push('\n');
    }
    Some(s)
}

fn cases(size: usize) -> Vec<(&'static str, String)> {
    let ordinary = ordinary_from_corpus(size).unwrap_or_else(|| repeat_to(SAMPLE, size));
    let attrs = {
        let mut s = String::from("<div");
        let mut i = 0;
        while s.len() < size {
            s.push_str(&format!(" a{i}=x"));
            i += 1;
        }
        s + ">text</div>"
    };
    let attr_imgs = {
        let mut s = String::new();
        let mut i = 0;
        while s.len() < size {
            s.push_str(&format!("![](https://img{i}.example.com/{i}.png)\n"));
            i += 1;
        }
        s
    };
    let formatting_attrs = {
        let mut s = String::new();
        let mut i = 0;
        while s.len() < size {
            s.push_str(&format!("<p><b id={i}>x</p>"));
            i += 1;
        }
        s
    };
    vec![
        ("ordinary", ordinary),
        ("gt", repeat_to(">", size)),
        ("div", repeat_to("<div>", size)),
        ("a", repeat_to("<a>", size)),
        ("b", repeat_to("<b>", size)),
        ("table", repeat_to("<table>", size)),
        ("table-td", repeat_to("<table><tr><td>", size)),
        ("ul-li", repeat_to("<ul><li>", size)),
        ("span-div", repeat_to("<span><div>", size)),
        ("p-b-misnest", formatting_attrs),
        ("b-div-misnest", repeat_to("<b><div></b>", size)),
        ("lt", repeat_to("<", size)),
        ("comment-open", repeat_to("<!--", size)),
        ("a-unclosed", repeat_to("<a ", size)),
        ("a-unclosed-quote", repeat_to("<a title=\"", size)),
        ("script-open", repeat_to("<script>", size)),
        ("amp", repeat_to("&amp;&", size)),
        ("long-attr-list", attrs),
        ("many-images", attr_imgs),
        ("brackets", repeat_to("[a](", size)),
        ("stars", repeat_to("*_", size)),
    ]
}

/// Best of up to 5 runs (one only when a run takes over a second).
fn time_ms(mut f: impl FnMut()) -> f64 {
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        f();
        best = best.min(t.elapsed().as_secs_f64() * 1000.0);
        if best > 1000.0 {
            break;
        }
    }
    best
}

fn main() {
    let mut sizes = Vec::new();
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--only" {
            only = args.next();
        } else if let Ok(n) = a.replace('_', "").parse::<usize>() {
            sizes.push(n);
        } else {
            eprintln!("usage: render_bench [SIZE_BYTES ...] [--only NAME]");
            std::process::exit(2);
        }
    }
    if sizes.is_empty() {
        sizes.push(100_000);
    }
    let opts = ParseOptions::default();
    println!(
        "{:<18} {:>9} {:>11} {:>11} {:>11} {:>11} {:>10}",
        "case", "bytes", "render ms", "ms/MB", "text ms", "ms/MB", "html out"
    );
    for size in sizes {
        for (name, body) in cases(size) {
            if only
                .as_deref()
                .is_some_and(|o| o != name && name != "ordinary")
            {
                continue;
            }
            let mb = body.len() as f64 / 1e6;
            let mut out_len = 0;
            let render = time_ms(|| out_len = body_html(&body).html.len());
            let text = time_ms(|| {
                let _ = parse("bench.md", body.as_bytes(), &opts);
            });
            println!(
                "{:<18} {:>9} {:>11.1} {:>11.1} {:>11.1} {:>11.1} {:>10}",
                name,
                body.len(),
                render,
                render / mb,
                text,
                text / mb,
                out_len
            );
        }
    }
}
