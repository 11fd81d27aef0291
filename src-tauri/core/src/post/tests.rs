//! `parse` as a whole: small hand-written posts, hostile files, and properties over random input.

use super::*;
use proptest::prelude::*;
use serde_json::json;

fn parse_ok(file_name: &str, bytes: &[u8]) -> (Post, Vec<Problem>) {
    let parsed = parse(file_name, bytes, &ParseOptions::default());
    (parsed.post.expect("a post"), parsed.problems)
}

fn kinds(problems: &[Problem]) -> Vec<ProblemKind> {
    problems.iter().map(|p| p.kind).collect()
}

const CHINESE_POST: &str = "---\nlayout: post\ntitle: \"新冠疫苗：从今天开始交付 \"\ndate: 2021-01-11T11:55:14.000Z\n\
author: 法广\nfrom: http://www.rfi.fr/cn/20210111-vaccine\ntags: [ 法广 ]\ncategories: [ 法广 ]\n---\n\
<!--1610366114000-->\n[新冠疫苗：从今天开始交付](http://www.rfi.fr/cn/20210111-vaccine)\n------\n\n\
<div>\n<div>11/01/2021 - 11:48</div><img src=\"x.jpg\"><p><strong>  获得欧洲卫生当局&nbsp;上市许可</strong></p>\
<script>var ad = 1;</script><p>第二段&amp;结尾</p></div>\n";

#[test]
fn a_typical_archive_post_is_read_completely() {
    let (post, problems) = parse_ok("2021-01-11-新冠疫苗.md", CHINESE_POST.as_bytes());
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(post.title, "新冠疫苗：从今天开始交付");
    assert_eq!(post.fields["title"], json!("新冠疫苗：从今天开始交付 "));
    assert_eq!(
        post.date,
        Some(PostDate {
            utc_ms: 1_610_366_114_000,
            raw: "2021-01-11T11:55:14.000Z".into(),
            from_file_name: false
        })
    );
    assert_eq!(post.author.as_deref(), Some("法广"));
    assert_eq!(
        post.source.as_deref(),
        Some("http://www.rfi.fr/cn/20210111-vaccine")
    );
    assert_eq!(
        (post.tags.clone(), post.categories.clone()),
        (vec!["法广".to_string()], vec!["法广".to_string()])
    );
    assert_eq!(post.layout.as_deref(), Some("post"));
    assert_eq!(post.epoch_ms, Some(1_610_366_114_000));
    assert_eq!(
        post.text,
        "新冠疫苗：从今天开始交付\n11/01/2021 - 11:48\n获得欧洲卫生当局 上市许可\n第二段&结尾"
    );
    assert_eq!(
        (post.encoding, post.front_matter, post.crlf),
        (TextEncoding::Utf8, FrontMatterKind::Yaml, false)
    );
    let keys: Vec<_> = post.fields.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "layout",
            "title",
            "date",
            "author",
            "from",
            "tags",
            "categories"
        ]
    );
    assert_eq!(
        &CHINESE_POST[post.body_offset..post.body_offset + 4],
        "<!--"
    );
}

#[test]
fn key_spans_cover_each_key_line_in_the_original_bytes() {
    let (post, _) = parse_ok("x.md", CHINESE_POST.as_bytes());
    let spans: Vec<_> = post
        .key_spans
        .iter()
        .map(|s| (s.key.as_str(), &CHINESE_POST[s.start..s.end]))
        .collect();
    assert_eq!(spans[0], ("layout", "layout: post\n"));
    assert_eq!(
        spans[1],
        ("title", "title: \"新冠疫苗：从今天开始交付 \"\n")
    );
    assert_eq!(spans[5], ("tags", "tags: [ 法广 ]\n"));
    assert_eq!(spans.len(), 7);
}

#[test]
fn bom_and_crlf_are_tolerated_and_offsets_count_the_bom() {
    let text = "---  \r\ntitle: Hello\r\ntags:\r\n- a\r\n- b\r\n---\r\nBody &amp; more\r\n";
    let mut bytes = b"\xEF\xBB\xBF".to_vec();
    bytes.extend_from_slice(text.as_bytes());
    let (post, problems) = parse_ok("hello.md", &bytes);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!((post.encoding, post.crlf), (TextEncoding::Utf8Bom, true));
    assert_eq!(post.title, "Hello");
    assert_eq!(post.tags, ["a", "b"]);
    assert_eq!(&bytes[post.body_offset..], b"Body &amp; more\r\n");
    assert_eq!(post.text, "Body & more");
    let spans: Vec<_> = post
        .key_spans
        .iter()
        .map(|s| (s.key.as_str(), &bytes[s.start..s.end]))
        .collect();
    assert_eq!(
        spans,
        [
            ("title", &b"title: Hello\r\n"[..]),
            ("tags", &b"tags:\r\n- a\r\n- b\r\n"[..])
        ]
    );
}

#[test]
fn gb18030_posts_are_decoded_indexed_and_flagged() {
    let text = "---\ntitle: 法国卫生部长强调疫苗将在周三送达\ndate: 2021-01-11\n---\n法国卫生部长奥利维尔在广播中强调，疫苗将在周三送达病毒传播最严重的地区。";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let (post, problems) = parse_ok("x.md", &bytes);
    assert_eq!(post.encoding, TextEncoding::Gb18030);
    assert_eq!(post.title, "法国卫生部长强调疫苗将在周三送达");
    assert!(post.text.starts_with("法国卫生部长"));
    assert!(post.key_spans.is_empty());
    assert_eq!(kinds(&problems), [ProblemKind::Encoding]);
    assert!(
        problems[0].message.contains("GB18030")
            && problems[0].message.contains("edits will be refused")
    );
    assert_eq!(
        &bytes[post.body_offset..post.body_offset + 2],
        &encoding_rs::GB18030.encode("法").0[..]
    );
}

#[test]
fn big5_posts_are_decoded_and_flagged() {
    let text = "---\ntitle: 總統府發表聲明\n---\n中央社記者報導，總統府今天發表聲明，表示將持續關注國際疫情發展與經濟變化。";
    let (bytes, _, _) = encoding_rs::BIG5.encode(text);
    let (post, problems) = parse_ok("x.md", &bytes);
    assert_eq!(
        (post.encoding, post.title.as_str()),
        (TextEncoding::Big5, "總統府發表聲明")
    );
    assert_eq!(kinds(&problems), [ProblemKind::Encoding]);
}

#[test]
fn utf16_posts_are_decoded_with_or_without_a_bom() {
    let text = "---\ntitle: 双语 Bilingual\n---\nBody 正文";
    let mut with_bom = b"\xFF\xFE".to_vec();
    with_bom.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    let without_bom: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
    let (post, problems) = parse_ok("x.md", &with_bom);
    assert_eq!(
        (post.encoding, post.title.as_str(), post.text.as_str()),
        (TextEncoding::Utf16Le, "双语 Bilingual", "Body 正文")
    );
    assert_eq!(kinds(&problems), [ProblemKind::Encoding]);
    assert_eq!(&with_bom[post.body_offset..post.body_offset + 2], b"B\0");
    let (post, _) = parse_ok("x.md", &without_bom);
    assert_eq!(
        (post.encoding, post.title.as_str()),
        (TextEncoding::Utf16Be, "双语 Bilingual")
    );
}

#[test]
fn binary_files_are_not_posts() {
    let parsed = parse(
        "image.md",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\x01\0",
        &ParseOptions::default(),
    );
    assert_eq!(parsed.post, None);
    assert_eq!(kinds(&parsed.problems), [ProblemKind::Binary]);
    let noise: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 1)
        .collect();
    let parsed = parse("noise.md", &noise, &ParseOptions::default());
    assert_eq!(parsed.post, None, "{:?}", parsed.problems);
    assert_eq!(kinds(&parsed.problems), [ProblemKind::Binary]);
}

#[test]
fn files_over_the_limit_are_too_large() {
    let parsed = parse(
        "big.md",
        &[b'a'; 2048],
        &ParseOptions {
            max_bytes: 1024,
            ..Default::default()
        },
    );
    assert_eq!(parsed.post, None);
    assert_eq!(kinds(&parsed.problems), [ProblemKind::TooLarge]);
    assert_eq!(parsed.problems[0], too_large_problem(2048, 1024));
    assert!(
        parsed.problems[0].message.contains("2.0 KiB")
            && parsed.problems[0].message.contains("1.0 KiB")
    );
    assert!(too_large_problem(20 << 20, 16 << 20)
        .message
        .contains("20.0 MiB, over the 16.0 MiB limit"));
}

#[test]
fn files_without_front_matter_are_posts_too() {
    let (post, problems) = parse_ok(
        "2020-05-06-plain-notes.md",
        b"# Heading &amp; more\n\nSome *text*.\n",
    );
    assert!(problems.is_empty());
    assert_eq!(post.front_matter, FrontMatterKind::None);
    assert_eq!(post.title, "Heading & more");
    assert_eq!(
        post.date
            .as_ref()
            .map(|d| (d.raw.as_str(), d.from_file_name)),
        Some(("2020-05-06", true))
    );
    assert_eq!(post.text, "Heading & more\nSome text.");
    assert_eq!(post.body_offset, 0);
    assert!(post.fields.is_empty() && post.key_spans.is_empty());
}

#[test]
fn unclosed_front_matter_is_reported_and_the_whole_file_is_the_body() {
    let (post, problems) = parse_ok(
        "2021-02-03-未完.md",
        "---\ntitle: 未完\n\n正文内容\n".as_bytes(),
    );
    assert_eq!(kinds(&problems), [ProblemKind::UnclosedFrontMatter]);
    assert_eq!(problems[0].line, Some(1));
    assert_eq!(post.title, "未完");
    assert!(post.fields.is_empty());
    assert!(post.text.contains("title: 未完") && post.text.contains("正文内容"));
    assert_eq!(post.date.map(|d| d.from_file_name), Some(true));
}

#[test]
fn malformed_yaml_is_reported_at_its_line_in_the_file() {
    let (post, problems) = parse_ok(
        "2021-01-01-x.md",
        b"---\ntitle: ok\ntags: [a, b\nauthor: me\n---\n# Real Title\n",
    );
    assert_eq!(kinds(&problems), [ProblemKind::MalformedFrontMatter]);
    let line = problems[0].line.unwrap();
    assert!((3..=5).contains(&line), "line {line}");
    assert!(problems[0].column.is_some());
    assert!(post.fields.is_empty());
    assert_eq!(post.title, "Real Title");
    assert_eq!(post.date.map(|d| d.from_file_name), Some(true));
}

#[test]
fn a_list_or_scalar_front_matter_is_not_a_mapping() {
    let (post, problems) = parse_ok("x.md", b"---\n- a\n- b\n---\nbody\n");
    assert_eq!(kinds(&problems), [ProblemKind::NotAMapping]);
    assert_eq!(problems[0].line, Some(2));
    assert_eq!((post.title.as_str(), post.text.as_str()), ("x", "body"));
}

#[test]
fn alias_bombs_and_deep_nesting_are_too_complex_but_the_post_survives() {
    let mut bomb = String::from("---\na: &a [lol,lol,lol,lol,lol,lol,lol,lol,lol]\n");
    for level in 1..10u8 {
        let (prev, name) = ((b'a' + level - 1) as char, (b'a' + level) as char);
        bomb.push_str(&format!(
            "{name}: &{name} [{}]\n",
            vec![format!("*{prev}"); 9].join(",")
        ));
    }
    bomb.push_str("---\nbody\n");
    let deep = format!("---\nt: {}\n---\nbody\n", "[".repeat(10_000));
    for file in [bomb, deep] {
        let started = std::time::Instant::now();
        let (post, problems) = parse_ok("2021-01-01-x.md", file.as_bytes());
        assert_eq!(kinds(&problems), [ProblemKind::FrontMatterTooComplex]);
        assert_eq!(post.text, "body");
        assert!(started.elapsed().as_secs() < 5);
    }
}

#[test]
fn an_impossible_date_is_a_bad_field_and_the_post_is_kept() {
    let (post, problems) = parse_ok("2021-01-01-x.md", b"---\ntitle: x\ndate: 2021-13-45\n---\n");
    assert_eq!(post.date, None);
    assert_eq!(kinds(&problems), [ProblemKind::BadField]);
    assert!(problems[0].message.contains("2021-13-45"));
}

#[test]
fn list_valued_titles_fall_back_to_the_body_heading_with_a_problem() {
    let (post, problems) = parse_ok(
        "x.md",
        b"---\ntitle: [a, b]\n---\n[Linked Title](http://x.y)\n------\n",
    );
    assert_eq!(post.title, "Linked Title");
    assert_eq!(post.fields["title"], json!(["a", "b"]));
    assert_eq!(kinds(&problems), [ProblemKind::BadField]);
}

#[test]
fn tags_as_strings_and_numbers_become_terms() {
    let (post, problems) = parse_ok(
        "x.md",
        b"---\ntags: \"a, b c\"\ncategories: [2021, 7, news, 2021]\n---\n",
    );
    assert!(problems.is_empty());
    assert_eq!(post.tags, ["a", "b", "c"]);
    assert_eq!(post.categories, ["2021", "7", "news"]);
}

#[test]
fn toml_front_matter_is_read_without_key_spans() {
    let (post, problems) = parse_ok(
        "x.md",
        b"+++\ntitle = \"TOML post\"\ndate = 2021-01-11T11:55:14Z\ntags = [\"a\"]\n+++\nbody\n",
    );
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(
        (post.front_matter, post.title.as_str(), post.tags.clone()),
        (FrontMatterKind::Toml, "TOML post", vec!["a".to_string()])
    );
    assert_eq!(
        post.date.map(|d| d.raw),
        Some("2021-01-11T11:55:14Z".to_string())
    );
    assert!(post.key_spans.is_empty());
}

#[test]
fn a_huge_single_line_body_is_read() {
    let mut file = String::from("---\ntitle: big\n---\n");
    for i in 0..200_000 {
        file.push_str(&format!("<span class=\"c{i}\">词{i}</span>"));
    }
    let (post, problems) = parse_ok("x.md", file.as_bytes());
    assert!(problems.is_empty());
    assert!(post.text.starts_with("词0词1") && post.text.ends_with("词199999"));
}

#[test]
fn title_entities_are_decoded_for_display_but_kept_raw_in_fields() {
    let (post, _) = parse_ok(
        "x.md",
        "---\ntitle: \"马克龙宣布&quot;再度封城&quot;\u{3000}\"\n---\n".as_bytes(),
    );
    assert_eq!(post.title, "马克龙宣布\"再度封城\"");
    assert_eq!(
        post.fields["title"],
        json!("马克龙宣布&quot;再度封城&quot;\u{3000}")
    );
}

#[test]
fn title_falls_back_to_the_file_name_without_date_and_extension() {
    let (post, _) = parse_ok(
        "2021-01-11-没有标题的帖子.md",
        b"---\nauthor: x\n---\n<p>just html</p>\n",
    );
    assert_eq!(post.title, "没有标题的帖子");
}

#[test]
fn duplicate_keys_keep_the_last_value_but_give_no_spans() {
    let (post, problems) = parse_ok("x.md", b"---\ntitle: a\ntitle: b\n---\n");
    assert_eq!(post.title, "b");
    assert_eq!(kinds(&problems), [ProblemKind::BadField]);
    assert!(post.key_spans.is_empty());
}

/// Front matter text whose values are built from pieces the span scanner must handle.
fn front_matter_strategy() -> impl Strategy<Value = String> {
    // The `k` keeps clear of the typed keys (`date`, `title`, `tags`…), whose values are checked.
    let key = "k[a-z0-9_]{0,8}";
    let scalar = prop_oneof![
        "[a-zA-Z0-9 \u{4e00}-\u{4e20}]{1,12}".prop_map(|s| format!("v{s}")),
        "[a-zA-Z0-9 '\u{4e00}-\u{4e20}\n]{0,12}"
            .prop_map(|s| format!("\"{}\"", s.replace('\n', "\n  "))),
        "[a-zA-Z0-9 \"\u{4e00}-\u{4e20}]{0,12}".prop_map(|s| format!("'{s}'")),
        prop::collection::vec("[a-z0-9]{1,6}", 0..4).prop_map(|v| format!("[ {} ]", v.join(", "))),
        prop::collection::vec("[a-z0-9]{1,6}", 1..4).prop_map(|v| format!(
            "\n{}",
            v.iter()
                .map(|x| format!("- {x}\n"))
                .collect::<String>()
                .trim_end()
        )),
        prop::collection::vec("[a-z0-9#][a-z0-9 #]{0,9}", 1..3).prop_map(|v| format!(
            "|\n{}",
            v.iter()
                .map(|x| format!("  {x}\n"))
                .collect::<String>()
                .trim_end()
        )),
    ];
    let comment = prop_oneof![Just(""), Just("# note\n"), Just("\n")];
    prop::collection::vec((key, scalar, comment), 1..6).prop_map(|entries| {
        let mut seen = std::collections::HashSet::new();
        let mut out = String::new();
        for (k, v, c) in entries {
            if seen.insert(k.clone()) {
                out.push_str(&format!("{k}: {v}\n{c}"));
            }
        }
        out
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse("2021-01-01-x.md", &bytes, &ParseOptions::default());
    }

    #[test]
    fn parse_never_panics_on_post_like_text(
        head in prop_oneof![Just("---\n"), Just("\u{FEFF}---\r\n"), Just("+++\n"), Just("")],
        fm in "([a-z]{1,5}: ?[\\[\\]{}\"'&*!|>#:, a-z0-9\u{4e00}-\u{4e10}-]{0,20}\r?\n){0,6}",
        close in prop_oneof![Just("---\n"), Just("...\n"), Just("+++\n"), Just("")],
        body in "(\\PC|[<>&\\[\\]()*_#!;\"'=/\n -])*",
        name in "\\PC{0,20}",
    ) {
        let file = format!("{head}{fm}{close}{body}");
        let parsed = parse(&name, file.as_bytes(), &ParseOptions::default());
        let post = parsed.post.expect("text is always a post");
        prop_assert!(post.body_offset <= file.len());
        for span in &post.key_spans {
            prop_assert!(span.start < span.end && span.end <= post.body_offset);
        }
    }

    #[test]
    fn every_key_span_reparses_to_its_field(fm in front_matter_strategy(), crlf in any::<bool>()) {
        let fm = if crlf { fm.replace('\n', "\r\n") } else { fm };
        let file = format!("---\n{fm}---\nbody\n");
        let parsed = parse("x.md", file.as_bytes(), &ParseOptions::default());
        prop_assert!(parsed.problems.is_empty(), "{:?}\n{}", parsed.problems, file);
        let post = parsed.post.unwrap();
        prop_assert_eq!(post.key_spans.len(), post.fields.len(), "{}", file);
        let mut previous_end = 0;
        for span in &post.key_spans {
            prop_assert!(span.start >= previous_end);
            previous_end = span.end;
            let alone = &file[span.start..span.end];
            let reparsed = front_matter::parse_yaml(alone).unwrap().fields;
            prop_assert_eq!(reparsed.get(&span.key), post.fields.get(&span.key), "{}", alone);
        }
    }
}
