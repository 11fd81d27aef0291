//! Checks against the real development corpus (`/work/shared/corpus/real-dev`, or the folder in
//! `SHELFMARK_CORPUS`). The project must not depend on it: without it these tests skip.
//! `measure_text_extraction_throughput` is `#[ignore]`d; run it in release:
//! `cargo test --release -p shelfmark-core post::real_corpus -- --ignored --nocapture`.

use super::{front_matter, parse, split, text, ParseOptions};
use std::path::{Path, PathBuf};
use std::time::Instant;

const DEFAULT_CORPUS: &str = "/work/shared/corpus/real-dev";

/// Every file of the corpus (name, bytes), or None (after saying so) when it is absent.
fn corpus_files() -> Option<Vec<(String, Vec<u8>)>> {
    let root = std::env::var_os("SHELFMARK_CORPUS")
        .map_or_else(|| PathBuf::from(DEFAULT_CORPUS), PathBuf::from);
    if !root.is_dir() {
        eprintln!("skipping: corpus not found at {}", root.display());
        return None;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                dirs.push(path);
            } else if let Ok(bytes) = std::fs::read(&path) {
                files.push((file_name(&path), bytes));
            }
        }
    }
    files.sort();
    Some(files)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn every_corpus_post_parses_without_problems_and_with_a_date() {
    let Some(files) = corpus_files() else { return };
    let mut failures = Vec::new();
    for (name, bytes) in &files {
        let parsed = parse(name, bytes, &ParseOptions::default());
        let Some(post) = parsed.post else {
            failures.push(format!("{name}: no post: {:?}", parsed.problems));
            continue;
        };
        if !parsed.problems.is_empty() {
            failures.push(format!("{name}: {:?}", parsed.problems));
        }
        if post.date.as_ref().is_none_or(|d| d.from_file_name) {
            failures.push(format!("{name}: no front matter date ({:?})", post.date));
        }
        for span in &post.key_spans {
            // Each span alone must read back as the same field: that is what the edit path splices.
            let alone = bytes
                .get(span.start..span.end)
                .and_then(|b| std::str::from_utf8(b).ok());
            let reread = alone.and_then(|text| front_matter::parse_yaml(text).ok());
            if reread.as_ref().and_then(|fm| fm.fields.get(&span.key)) != post.fields.get(&span.key)
            {
                failures.push(format!(
                    "{name}: span of `{}` does not reread as its value",
                    span.key
                ));
            }
        }
        if post.key_spans.len() != post.fields.len() {
            failures.push(format!(
                "{name}: {} key spans for {} fields",
                post.key_spans.len(),
                post.fields.len()
            ));
        }
        if post.title.is_empty() || post.title.trim() != post.title {
            failures.push(format!("{name}: title {:?}", post.title));
        }
        if post.text.contains([
            '\u{200B}', '\u{200E}', '\u{202E}', '\u{FEFF}', '\u{AD}', '\r', '\u{7}',
        ]) {
            failures.push(format!(
                "{name}: invisible or control characters left in text"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
    eprintln!("{} corpus posts parsed cleanly", files.len());
}

/// The bodies of the corpus (after the front matter).
fn corpus_bodies(files: &[(String, Vec<u8>)]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(_, bytes)| std::str::from_utf8(bytes).ok())
        .map(|text| split::split_front_matter(text).body(text).to_owned())
        .collect()
}

fn mb_per_s(bytes: usize, started: Instant) -> f64 {
    bytes as f64 / 1e6 / started.elapsed().as_secs_f64()
}

#[test]
#[ignore = "a measurement: run in release with --ignored --nocapture"]
fn measure_text_extraction_throughput() {
    let Some(files) = corpus_files() else { return };
    let bodies = corpus_bodies(&files);
    let body_bytes: usize = bodies.iter().map(String::len).sum();
    let file_bytes: usize = files.iter().map(|(_, b)| b.len()).sum();
    eprintln!(
        "{} files, {:.1} MB, bodies {:.1} MB",
        files.len(),
        file_bytes as f64 / 1e6,
        body_bytes as f64 / 1e6
    );

    for round in 0..3 {
        let started = Instant::now();
        let chars: usize = bodies.iter().map(|b| text::body_text(b).len()).sum();
        eprintln!(
            "[{round}] single-pass extractor:        {:7.1} MB/s ({chars} bytes of text)",
            mb_per_s(body_bytes, started)
        );

        let started = Instant::now();
        let article: usize = bodies
            .iter()
            .map(|b| {
                let (text, lines) = text::body_text_and_lines(b);
                super::article::article_ranges(&text, &lines, "")
                    .iter()
                    .map(|(s, e)| (e - s) as usize)
                    .sum::<usize>()
            })
            .sum();
        eprintln!(
            "[{round}] extractor + article choice:  {:7.1} MB/s ({article} bytes of article)",
            mb_per_s(body_bytes, started)
        );

        let started = Instant::now();
        let chars: usize = bodies
            .iter()
            .map(|b| reference::html5ever_text(b).len())
            .sum();
        eprintln!(
            "[{round}] html5ever tokenizer:          {:7.1} MB/s ({chars} bytes of text)",
            mb_per_s(body_bytes, started)
        );

        let started = Instant::now();
        let events: usize = bodies
            .iter()
            .map(|b| pulldown_cmark::Parser::new(b).count())
            .sum();
        eprintln!(
            "[{round}] pulldown-cmark events only:   {:7.1} MB/s ({events} events)",
            mb_per_s(body_bytes, started)
        );

        let started = Instant::now();
        let chars: usize = bodies
            .iter()
            .map(|b| reference::markdown_then_html5ever_text(b).len())
            .sum();
        eprintln!(
            "[{round}] pulldown-cmark + html5ever:   {:7.1} MB/s ({chars} bytes of text)",
            mb_per_s(body_bytes, started)
        );

        let started = Instant::now();
        let fields: usize = files
            .iter()
            .filter_map(|(_, bytes)| std::str::from_utf8(bytes).ok())
            .filter_map(|text| {
                front_matter::parse_yaml(split::split_front_matter(text).front_matter).ok()
            })
            .map(|fm| fm.fields.len())
            .sum();
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "[{round}] YAML front matter only:       {:7.1} µs/post ({fields} fields)",
            elapsed * 1e6 / files.len() as f64
        );

        let started = Instant::now();
        let posts = files
            .iter()
            .filter(|(name, bytes)| parse(name, bytes, &ParseOptions::default()).post.is_some())
            .count();
        let elapsed = started.elapsed().as_secs_f64();
        eprintln!(
            "[{round}] full parse:                   {:7.1} MB/s, {:.0} posts/s ({posts} posts)",
            file_bytes as f64 / 1e6 / elapsed,
            posts as f64 / elapsed
        );
    }

    // Same visible characters as html5ever on the HTML part of each body (Markdown differs on purpose).
    let mut differing = 0;
    for body in &bodies {
        let html = body
            .find("\n------\n")
            .map_or(body.as_str(), |at| &body[at + 8..]);
        let ours = visible(&text::body_text(html));
        let theirs = visible(&reference::html5ever_text(html));
        if ours != theirs {
            differing += 1;
            if differing <= 40 {
                let at = ours
                    .chars()
                    .zip(theirs.chars())
                    .take_while(|(a, b)| a == b)
                    .count();
                let show = |s: &str| {
                    s.chars()
                        .skip(at.saturating_sub(6))
                        .take(30)
                        .collect::<String>()
                };
                eprintln!(
                    "differs at char {at}:\n  ours:   {}\n  theirs: {}",
                    show(&ours),
                    show(&theirs)
                );
            }
        }
    }
    eprintln!(
        "{differing} of {} bodies differ from html5ever in visible characters",
        bodies.len()
    );
}

/// The characters a reader sees, without any whitespace or invisible characters.
fn visible(text: &str) -> String {
    text.chars().filter(|&c| !c.is_whitespace() && !c.is_control() && !matches!(c, '\u{AD}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{206F}' | '\u{FEFF}')).collect()
}

/// The slower, standard way to the same text, kept to measure against.
mod reference {
    use html5ever::tendril::StrTendril;
    use html5ever::tokenizer::states::RawKind;
    use html5ever::tokenizer::{
        BufferQueue, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
    };
    use std::cell::{Cell, RefCell};

    #[derive(Default)]
    struct TextSink {
        out: RefCell<String>,
        in_raw: Cell<bool>,
    }

    impl TokenSink for TextSink {
        type Handle = ();

        fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
            match token {
                Token::CharacterTokens(text) if !self.in_raw.get() => {
                    self.out.borrow_mut().push_str(&text)
                }
                Token::TagToken(tag) => {
                    let name: &str = &tag.name;
                    if matches!(
                        name,
                        "p" | "div"
                            | "br"
                            | "li"
                            | "h1"
                            | "h2"
                            | "h3"
                            | "h4"
                            | "h5"
                            | "h6"
                            | "tr"
                            | "td"
                            | "table"
                            | "blockquote"
                            | "section"
                            | "article"
                            | "hr"
                            | "pre"
                    ) {
                        self.out.borrow_mut().push('\n');
                    }
                    let raw = match name {
                        "script" => Some(RawKind::ScriptData),
                        "style" | "noscript" | "template" | "iframe" | "xmp" | "noembed"
                        | "noframes" => Some(RawKind::Rawtext),
                        _ => None,
                    };
                    if let Some(kind) = raw {
                        if tag.kind == TagKind::StartTag {
                            self.in_raw.set(true);
                            return TokenSinkResult::RawData(kind);
                        }
                        self.in_raw.set(false);
                    }
                }
                _ => {}
            }
            TokenSinkResult::Continue
        }
    }

    pub fn html5ever_text(html: &str) -> String {
        let tokenizer = Tokenizer::new(TextSink::default(), TokenizerOpts::default());
        let input = BufferQueue::default();
        input.push_back(StrTendril::from_slice(html));
        let _ = tokenizer.feed(&input);
        tokenizer.end();
        tokenizer.sink.out.take()
    }

    pub fn markdown_then_html5ever_text(body: &str) -> String {
        use pulldown_cmark::{Event, Parser};
        let tokenizer = Tokenizer::new(TextSink::default(), TokenizerOpts::default());
        let input = BufferQueue::default();
        let mut text = String::new();
        for event in Parser::new(body) {
            match event {
                Event::Text(t) | Event::Code(t) => text.push_str(&t),
                Event::Html(h) | Event::InlineHtml(h) => {
                    input.push_back(StrTendril::from_slice(&h));
                    let _ = tokenizer.feed(&input);
                }
                Event::SoftBreak | Event::HardBreak | Event::End(_) => text.push('\n'),
                _ => {}
            }
        }
        tokenizer.end();
        text.push_str(&tokenizer.sink.out.take());
        text
    }
}
