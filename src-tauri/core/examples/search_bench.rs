//! Search latency benchmark: runs a fixed query set against an indexed archive, in process,
//! with facets, and prints p50/p95 per query class. Used by bench/run.sh.
//!
//! usage: cargo run --release -p shelfmark-core --example search_bench -- ARCHIVE [ROUNDS] [QUERY...]
//! (queries given after ROUNDS replace the fixed set, as one class: to time or profile a few)

use shelfmark_core::api::Archive;
use shelfmark_core::search::searcher::SearchRequest;
use std::time::Instant;

const QUERIES: &[(&str, &[&str])] = &[
    ("cjk-1", &["中", "岸", "疫", "的", "港"]),
    ("cjk-2", &["两岸", "疫苗", "经济", "美国", "兩岸"]),
    ("cjk-3", &["新冠病", "习近平", "共产党", "台湾人", "香港人"]),
    (
        "cjk-4+",
        &[
            "两岸关系",
            "新冠疫苗",
            "中国人民",
            "新冠疫苗接种",
            "美国总统拜登",
        ],
    ),
    (
        "latin",
        &["vaccine", "climate", "Biden", "COVID-19", "iPhone"],
    ),
    (
        "mixed",
        &["iPhone手机", "G7峰会", "BBC中文", "COVID疫苗", "5G网络"],
    ),
    (
        "fields",
        &[
            "tag:联合早报",
            "site:bbc.com 疫苗",
            "date:2021-06 经济",
            "author:法广 -疫苗",
            "date:2020..2021 两岸 OR 台湾",
        ],
    ),
    ("empty", &[""]),
];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(dir) = args.next() else {
        eprintln!("usage: search_bench ARCHIVE [ROUNDS]");
        std::process::exit(2);
    };
    let rounds: usize = args.next().and_then(|r| r.parse().ok()).unwrap_or(5);
    let given: Vec<&'static str> = args.map(|q| &*q.leak()).collect();
    let given_class = [("given", given.as_slice())];
    let classes: &[(&str, &[&str])] = if given.is_empty() {
        QUERIES
    } else {
        &given_class
    };
    let archive = match Archive::open(std::path::Path::new(&dir)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("search_bench: {}", e.message);
            std::process::exit(1);
        }
    };
    let t = Instant::now();
    let warm = archive.search(&SearchRequest {
        query: String::new(),
        limit: Some(1),
        ..Default::default()
    });
    let open_ms = t.elapsed().as_secs_f64() * 1e3;
    let total = warm.map(|r| r.total).unwrap_or(0);
    println!(
        "archive {dir}: {total} posts; first search (opens index, loads snapshot) {open_ms:.1} ms"
    );
    println!(
        "{:<8} {:>8} {:>8} {:>8}  hits (first round)",
        "class", "p50 ms", "p95 ms", "max ms"
    );
    let mut all = Vec::new();
    for (class, queries) in classes {
        let mut times = Vec::new();
        let mut hits = Vec::new();
        for round in 0..rounds {
            for q in *queries {
                let req = SearchRequest {
                    query: q.to_string(),
                    limit: Some(50),
                    facets: true,
                    ..Default::default()
                };
                let t = Instant::now();
                let r = archive.search(&req);
                times.push(t.elapsed().as_secs_f64() * 1e3);
                if round == 0 {
                    hits.push(format!(
                        "{q}={}",
                        r.map(|r| r.total.to_string()).unwrap_or_else(|e| e.message)
                    ));
                }
            }
        }
        all.extend_from_slice(&times);
        times.sort_by(f64::total_cmp);
        println!(
            "{:<8} {:>8.1} {:>8.1} {:>8.1}  {}",
            class,
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times.last().copied().unwrap_or(0.0),
            hits.join(" ")
        );
    }
    all.sort_by(f64::total_cmp);
    println!(
        "{:<8} {:>8.1} {:>8.1} {:>8.1}",
        "all",
        percentile(&all, 0.5),
        percentile(&all, 0.95),
        all.last().copied().unwrap_or(0.0)
    );
}
