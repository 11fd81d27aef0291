//! Post bodies are hostile HTML. This turns a body (Markdown mixed with scraped HTML) into HTML
//! that is safe to put into the webview: ammonia with a small allowlist removes scripts, event
//! handlers, `javascript:` URLs, iframes, objects, forms, `<meta>`, `<base>`, `<link>` and styles.
//! Remote images are never given a `src`: their address moves to `data-remote-src`, so nothing
//! is fetched until the user asks for it (and the webview's CSP blocks remote loads anyway).
//! Before ammonia, a guard bounds what its parser and serializer may cost (see "Nesting guard"):
//! nesting beyond MAX_DEPTH is cut, tags keep at most 256 attributes, long text is split.

use serde::Serialize;
use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

/// Attribute that carries a blocked image's address.
pub const REMOTE_SRC: &str = "data-remote-src";

#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export)]
pub struct RenderedBody {
    /// Sanitized HTML.
    pub html: String,
    /// Addresses of the remote images that were blocked, in order of appearance.
    pub remote_images: Vec<String>,
    /// Hosts of those images (for "always allow this site").
    pub remote_hosts: Vec<String>,
    /// How many matches of the query are marked (0 without a query).
    pub matches: u32,
    /// The HTML is the article alone: the page around it (navigation, related lists, share
    /// bars...) was left out (see `post::article_source`).
    pub article: bool,
    /// Characters of page text around the article (shown or not); 0 when the body has no article
    /// apart from its page, so "whole page / article only" means nothing for it.
    pub page_chars: u32,
    /// Matches of the query in the page text that the article view leaves out (0 when the whole
    /// page is shown).
    pub hidden_matches: u32,
}

const TAGS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "blockquote",
    "br",
    "caption",
    "cite",
    "code",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "small",
    "span",
    "strong",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "u",
    "ul",
];

fn is_remote(url: &str) -> bool {
    let u = url.trim_start().to_ascii_lowercase();
    u.starts_with("http://") || u.starts_with("https://") || u.starts_with("//")
}

/// Move `src` (and lazy-loading `data-src`/`data-original`) of `<img>` tags to `data-remote-src`.
/// Runs before sanitizing; whatever slips through is still stripped by the attribute filter.
fn park_image_sources(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + 64);
    let lower = html.to_ascii_lowercase();
    let mut i = 0;
    while let Some(pos) = lower[i..].find("<img") {
        let start = i + pos;
        let end = lower[start..]
            .find('>')
            .map(|e| start + e)
            .unwrap_or(html.len());
        out.push_str(&html[i..start]);
        let tag = &html[start..end];
        let tag_lower = &lower[start..end];
        let mut rewritten = String::with_capacity(tag.len() + 16);
        let mut j = 0;
        for (name_pos, name) in attribute_positions(tag_lower) {
            if matches!(name, "src" | "data-src" | "data-original") {
                rewritten.push_str(&tag[j..name_pos]);
                rewritten.push_str(if name == "src" {
                    "data-shelfmark-src"
                } else {
                    "data-shelfmark-lazy"
                });
                j = name_pos + name.len();
            }
        }
        rewritten.push_str(&tag[j..]);
        out.push_str(&rewritten);
        i = end;
    }
    out.push_str(&html[i..]);
    out
}

/// Positions of attribute names in a lower-cased tag (`<img a=1 b="2">`).
fn attribute_positions(tag: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let bytes = tag.as_bytes();
    let mut i = 4; // after "<img"
    while i < bytes.len() {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        let start = i;
        while i < bytes.len()
            && !bytes[i].is_ascii_whitespace()
            && bytes[i] != b'='
            && bytes[i] != b'>'
        {
            i += 1;
        }
        if i > start {
            out.push((start, &tag[start..i]));
        }
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            match bytes.get(i) {
                Some(&q @ (b'"' | b'\'')) => {
                    i += 1;
                    while i < bytes.len() && bytes[i] != q {
                        i += 1;
                    }
                    i += 1;
                }
                _ => {
                    while i < bytes.len() && !bytes[i].is_ascii_whitespace() && bytes[i] != b'>' {
                        i += 1;
                    }
                }
            }
        } else if i == start {
            i += 1;
        }
    }
    out
}

// ---- Nesting guard ----
//
// html5ever's tree builder is quadratic on deep or misnested markup: every start tag checks "a p
// element in button scope" by walking the whole stack of open elements, and misnested formatting
// elements (`<p><b id=1>x</p><p><b id=2>x</p>...`) are reopened in every later block, so 100 KB
// of `>` (100,000 nested blockquotes) took a minute and the misnested case grows the output
// quadratically. Rather than guess what the tree builder does with a model of our own, the guard
// runs html5ever's own tokenizer and tree builder on the HTML, chunk by chunk, into a sink that
// only keeps parent links: it counts the tree builder's work (element-name look-ups while walking
// the stack, node comparisons, attribute merges, its own child-list scans) and the height of the
// tree. While both stay within bounds the HTML goes to ammonia unchanged, so ordinary posts render
// exactly as before. At the first chunk that goes past a bound, the HTML is cut before that chunk
// and the rest keeps only its text, so the tree ammonia builds is at most about MAX_DEPTH deep
// and the total work is linear in the input.

/// Deepest element nesting the guard lets through (ordinary posts stay far below: see the tests).
pub const MAX_DEPTH: u32 = 256;
/// Tree-builder work allowed per byte of HTML, plus a fixed allowance.
const WORK_PER_BYTE: u64 = 16;
const WORK_BASE: u64 = 1 << 20;
/// The guard checks its bounds after each chunk of about this many bytes (ended before a `<`).
const CHUNK: usize = 256;
/// No tag may have more attributes than this (html5ever checks each new attribute against all the
/// previous ones of its tag: quadratic in a tag with 100,000 attributes).
const MAX_ATTRIBUTES: usize = 256;
/// Nor an attribute value longer than this (the serializer is quadratic in a value full of `&`).
const MAX_VALUE: usize = 16 * 1024;

use crate::post::{markup_tokens, scan_attributes, Markup};
use html5ever::tendril::{StrTendril, TendrilSink};
use html5ever::tree_builder::{ElementFlags, NodeOrText, QuirksMode, TreeSink};
use html5ever::{local_name, ns, Attribute, QualName};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

const NO_PARENT: usize = usize::MAX;

/// What the guard measured.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct NestingReport {
    /// Deepest element nesting the tree builder produced (over the part it was allowed to read).
    pub depth: u32,
    /// Tree-builder work counted.
    pub work: u64,
    /// Byte offset where the HTML was cut (its markup after that point kept as text), if it was.
    pub cut_at: Option<usize>,
}

#[derive(Default)]
struct Tree {
    parent: Vec<usize>,
    children: Vec<Vec<usize>>,
    /// Height of each node's subtree (a leaf is 0). Never lowered: an upper bound.
    height: Vec<u32>,
    attributes: Vec<usize>,
    templates: Vec<(usize, Rc<ProbeNode>)>,
}

struct ProbeNode {
    id: usize,
    name: QualName,
}

struct ProbeSink {
    tree: RefCell<Tree>,
    work: Rc<Cell<u64>>,
    depth: Rc<Cell<u32>>,
    document: Rc<ProbeNode>,
}

impl ProbeSink {
    fn new(work: Rc<Cell<u64>>, depth: Rc<Cell<u32>>) -> Self {
        let sink = ProbeSink {
            tree: RefCell::default(),
            work,
            depth,
            document: Rc::new(ProbeNode {
                id: 0,
                name: QualName::new(None, ns!(), local_name!("")),
            }),
        };
        sink.new_node(0);
        sink
    }

    fn charge(&self, units: usize) {
        let units = u64::try_from(units).unwrap_or(u64::MAX);
        self.work.set(self.work.get().saturating_add(units));
    }

    fn new_node(&self, attributes: usize) -> usize {
        let mut tree = self.tree.borrow_mut();
        let id = tree.parent.len();
        tree.parent.push(NO_PARENT);
        tree.children.push(Vec::new());
        tree.height.push(0);
        tree.attributes.push(attributes);
        id
    }

    fn node(&self, name: QualName, attributes: usize) -> Rc<ProbeNode> {
        self.charge(1);
        Rc::new(ProbeNode {
            id: self.new_node(attributes),
            name,
        })
    }

    fn detach(&self, tree: &mut Tree, child: usize) {
        let parent = tree.parent.get(child).copied().unwrap_or(NO_PARENT);
        if let Some(siblings) = tree.children.get_mut(parent) {
            // RcDom finds a child among its siblings the same way: count it.
            let position = siblings.iter().rposition(|&c| c == child);
            self.charge(siblings.len() - position.unwrap_or(0));
            if let Some(position) = position {
                siblings.remove(position);
            }
        }
        if let Some(p) = tree.parent.get_mut(child) {
            *p = NO_PARENT;
        }
    }

    fn attach(&self, parent: usize, child: &NodeOrText<Rc<ProbeNode>>) {
        let NodeOrText::AppendNode(child) = child else {
            self.charge(1);
            return;
        };
        let mut tree = self.tree.borrow_mut();
        self.detach(&mut tree, child.id);
        self.attach_id(&mut tree, parent, child.id);
    }

    fn attach_id(&self, tree: &mut Tree, parent: usize, child: usize) {
        if let Some(p) = tree.parent.get_mut(child) {
            *p = parent;
        }
        if let Some(siblings) = tree.children.get_mut(parent) {
            siblings.push(child);
        }
        // Raise the heights of the ancestors; stop where they are already high enough.
        let mut height = tree
            .height
            .get(child)
            .copied()
            .unwrap_or(0)
            .saturating_add(1);
        let mut node = parent;
        while let Some(h) = tree.height.get_mut(node) {
            if *h >= height {
                break;
            }
            *h = height;
            self.charge(1);
            height = height.saturating_add(1);
            node = tree.parent.get(node).copied().unwrap_or(NO_PARENT);
        }
        let root = tree.height.first().copied().unwrap_or(0);
        self.depth.set(self.depth.get().max(root));
    }
}

impl TreeSink for ProbeSink {
    type Handle = Rc<ProbeNode>;
    type Output = ();
    type ElemName<'a> = &'a QualName;

    fn finish(self) {}

    fn parse_error(&self, _msg: Cow<'static, str>) {}

    fn get_document(&self) -> Rc<ProbeNode> {
        self.document.clone()
    }

    fn elem_name<'a>(&'a self, target: &'a Rc<ProbeNode>) -> &'a QualName {
        // The tree builder's scope checks walk the stack of open elements asking for names: this
        // is the step that makes deep nesting quadratic.
        self.charge(1);
        &target.name
    }

    fn create_element(
        &self,
        name: QualName,
        attrs: Vec<Attribute>,
        _flags: ElementFlags,
    ) -> Rc<ProbeNode> {
        self.node(name, attrs.len())
    }

    fn create_comment(&self, _text: StrTendril) -> Rc<ProbeNode> {
        self.node(QualName::new(None, ns!(), local_name!("")), 0)
    }

    fn create_pi(&self, _target: StrTendril, _data: StrTendril) -> Rc<ProbeNode> {
        self.node(QualName::new(None, ns!(), local_name!("")), 0)
    }

    fn append(&self, parent: &Rc<ProbeNode>, child: NodeOrText<Rc<ProbeNode>>) {
        self.attach(parent.id, &child);
    }

    fn append_based_on_parent_node(
        &self,
        element: &Rc<ProbeNode>,
        prev_element: &Rc<ProbeNode>,
        child: NodeOrText<Rc<ProbeNode>>,
    ) {
        let parent = self
            .tree
            .borrow()
            .parent
            .get(element.id)
            .copied()
            .unwrap_or(NO_PARENT);
        if parent == NO_PARENT {
            self.attach(prev_element.id, &child);
        } else {
            self.attach(parent, &child);
        }
    }

    fn append_doctype_to_document(&self, _: StrTendril, _: StrTendril, _: StrTendril) {}

    fn get_template_contents(&self, target: &Rc<ProbeNode>) -> Rc<ProbeNode> {
        let known = self
            .tree
            .borrow()
            .templates
            .iter()
            .find(|(t, _)| *t == target.id)
            .map(|(_, c)| c.clone());
        self.charge(self.tree.borrow().templates.len());
        if let Some(contents) = known {
            return contents;
        }
        let contents = self.node(QualName::new(None, ns!(), local_name!("")), 0);
        let mut tree = self.tree.borrow_mut();
        self.attach_id(&mut tree, target.id, contents.id);
        tree.templates.push((target.id, contents.clone()));
        contents
    }

    fn same_node(&self, x: &Rc<ProbeNode>, y: &Rc<ProbeNode>) -> bool {
        self.charge(1);
        x.id == y.id
    }

    fn set_quirks_mode(&self, _mode: QuirksMode) {}

    fn append_before_sibling(&self, sibling: &Rc<ProbeNode>, new_node: NodeOrText<Rc<ProbeNode>>) {
        let parent = self
            .tree
            .borrow()
            .parent
            .get(sibling.id)
            .copied()
            .unwrap_or(NO_PARENT);
        if parent != NO_PARENT {
            self.attach(parent, &new_node);
        }
    }

    fn add_attrs_if_missing(&self, target: &Rc<ProbeNode>, attrs: Vec<Attribute>) {
        // RcDom compares the new attributes with all the element's existing ones.
        let mut tree = self.tree.borrow_mut();
        if let Some(existing) = tree.attributes.get_mut(target.id) {
            self.charge(existing.saturating_add(attrs.len()));
            *existing = existing.saturating_add(attrs.len());
        }
    }

    fn remove_from_parent(&self, target: &Rc<ProbeNode>) {
        let mut tree = self.tree.borrow_mut();
        self.detach(&mut tree, target.id);
    }

    fn reparent_children(&self, node: &Rc<ProbeNode>, new_parent: &Rc<ProbeNode>) {
        let mut tree = self.tree.borrow_mut();
        let moved = tree
            .children
            .get_mut(node.id)
            .map(std::mem::take)
            .unwrap_or_default();
        self.charge(moved.len());
        for child in moved {
            self.attach_id(&mut tree, new_parent.id, child);
        }
    }
}

/// Where the chunk starting at `start` ends: about CHUNK bytes on, just before a `<`.
fn chunk_end(html: &str, start: usize) -> usize {
    let mut end = start.saturating_add(CHUNK).min(html.len());
    while !html.is_char_boundary(end) {
        end += 1;
    }
    match memchr::memchr(b'<', html.as_bytes().get(end..).unwrap_or_default()) {
        Some(p) => end + p,
        None => html.len(),
    }
}

/// Run html5ever's tree builder over `html` as ammonia will (a fragment in a `<div>`), measuring;
/// cut the HTML at the first chunk that goes past MAX_DEPTH or the work allowance.
pub fn bound_nesting_report(html: &str) -> (Cow<'_, str>, NestingReport) {
    let html = cap_attributes(html);
    let work = Rc::new(Cell::new(0));
    let depth = Rc::new(Cell::new(0));
    let mut parser = html5ever::parse_fragment(
        ProbeSink::new(work.clone(), depth.clone()),
        html5ever::ParseOpts::default(),
        QualName::new(None, ns!(html), local_name!("div")),
        vec![],
        false,
    );
    let mut start = 0;
    while start < html.len() {
        let end = chunk_end(&html, start);
        parser.process(StrTendril::from_slice(
            html.get(start..end).unwrap_or_default(),
        ));
        let allowance = WORK_BASE
            .saturating_add(WORK_PER_BYTE.saturating_mul(end.try_into().unwrap_or(u64::MAX)));
        // The fragment's root `<html>` element counts as one level.
        if depth.get() > MAX_DEPTH + 1 || work.get() > allowance {
            let report = NestingReport {
                depth: depth.get().saturating_sub(1),
                work: work.get(),
                cut_at: Some(start),
            };
            let mut out = String::with_capacity(html.len().min(start + 65536));
            out.push_str(html.get(..start).unwrap_or_default());
            markup_to_text(html.get(start..).unwrap_or_default(), &mut out);
            return (Cow::Owned(out), report);
        }
        start = end;
    }
    let report = NestingReport {
        depth: depth.get().saturating_sub(1),
        work: work.get(),
        cut_at: None,
    };
    (html, report)
}

fn guard(html: &str) -> Cow<'_, str> {
    match bound_nesting_report(html).0 {
        Cow::Borrowed(html) => break_long_text(html),
        Cow::Owned(html) => Cow::Owned(break_long_text(&html).into_owned()),
    }
}

/// Bytes of text after which the next `&` or U+0080..U+00BF character starts a new text node.
const TEXT_RUN: usize = 4096;

/// html5ever 0.40's serializer (which ammonia uses) looks for the next `<`, `>` or quote before
/// each `&` or NBSP lead byte (0xC2) of a text node: quadratic in a long text node full of `&`.
/// An empty comment before such a byte every TEXT_RUN bytes of text splits the text node; ammonia
/// removes comments and writes the two text nodes side by side, so the output is the same.
fn break_long_text(html: &str) -> Cow<'_, str> {
    let s = html.as_bytes();
    let mut breaks = Vec::new();
    let mut run = 0;
    markup_tokens(html, |token| {
        if let Markup::Text(a, b) = token {
            if run + (b - a) < TEXT_RUN {
                run += b - a;
                return;
            }
            for (i, &byte) in s.get(a..b).unwrap_or_default().iter().enumerate() {
                if run >= TEXT_RUN && matches!(byte, b'&' | 0xC2) {
                    breaks.push(a + i);
                    run = 0;
                }
                run += 1;
            }
        }
    });
    if breaks.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len() + 7 * breaks.len());
    let mut from = 0;
    for at in breaks {
        out.push_str(html.get(from..at).unwrap_or_default());
        out.push_str("<!---->");
        from = at;
    }
    out.push_str(html.get(from..).unwrap_or_default());
    Cow::Owned(out)
}

/// Drop the attributes after the first MAX_ATTRIBUTES of every tag, and cut attribute values
/// after MAX_VALUE bytes.
fn cap_attributes(html: &str) -> Cow<'_, str> {
    let s = html.as_bytes();
    let mut cuts = Vec::new();
    let mut long = Vec::new();
    markup_tokens(html, |token| {
        if let Markup::Tag { name_end, .. } = token {
            long.clear();
            let (gt, extra) = scan_attributes(s, name_end, MAX_ATTRIBUTES, MAX_VALUE, &mut long);
            let dropped_from = extra.unwrap_or(usize::MAX);
            cuts.extend(long.iter().filter(|&&(from, _)| from < dropped_from));
            if let Some(from) = extra {
                cuts.push((from, gt));
            }
        }
    });
    if cuts.is_empty() {
        return Cow::Borrowed(html);
    }
    let mut out = String::with_capacity(html.len());
    let mut from = 0;
    for (cut, to) in cuts {
        out.push_str(html.get(from..cut.max(from)).unwrap_or_default());
        from = to.max(from);
    }
    out.push_str(html.get(from..).unwrap_or_default());
    Cow::Owned(out)
}

/// The text of HTML markup, escaped again as HTML text: tags, comments and raw-text contents
/// dropped, a line break for each block tag.
fn markup_to_text(html: &str, out: &mut String) {
    markup_tokens(html, |token| match token {
        Markup::Text(a, b) => {
            for c in html.get(a..b).unwrap_or_default().chars() {
                match c {
                    '<' => out.push_str("&lt;"),
                    '>' => out.push_str("&gt;"),
                    c => out.push(c),
                }
            }
        }
        Markup::Tag { block: true, .. } => {
            if !out.ends_with('\n') {
                out.push('\n');
            }
        }
        Markup::Tag { .. } | Markup::Skip => {}
    });
}

/// ammonia with Shelfmark's allowlist, over each of `parts` on its own (so a tag left open in one
/// part is closed at its end): (the sanitized parts joined, remote image addresses in order).
fn sanitize_parts(parts: &[Cow<'_, str>]) -> (String, Vec<String>) {
    let remote: Arc<Mutex<Vec<String>>> = Arc::default();
    let seen = remote.clone();
    let mut builder = ammonia::Builder::default();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(
            [
                "script", "style", "noscript", "template", "iframe", "object", "title",
            ]
            .into_iter()
            .collect(),
        )
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .add_tag_attributes("img", ["data-shelfmark-src", "data-shelfmark-lazy"])
        .attribute_filter(
            move |element, attribute, value| match (element, attribute) {
                ("img", "src") if is_remote(value) => None,
                ("img", "data-shelfmark-src" | "data-shelfmark-lazy") => {
                    if is_remote(value) {
                        if let Ok(mut list) = seen.lock() {
                            let url = if value.trim_start().starts_with("//") {
                                format!("https:{}", value.trim())
                            } else {
                                value.trim().to_string()
                            };
                            list.push(url);
                        }
                        Some(Cow::Owned(value.trim().to_string()))
                    } else {
                        None
                    }
                }
                _ => Some(Cow::Borrowed(value)),
            },
        );
    let mut clean = String::new();
    for part in parts {
        clean.push_str(&builder.clean(part).to_string());
    }
    let clean = clean
        .replace("data-shelfmark-src=", &format!("{REMOTE_SRC}="))
        .replace("data-shelfmark-lazy=", &format!("{REMOTE_SRC}="));
    // Deduplicated here with a set: `Vec::contains` per image was quadratic in the image count.
    let mut seen_urls = HashSet::new();
    let remote_images: Vec<String> = remote
        .lock()
        .map(|l| l.clone())
        .unwrap_or_default()
        .into_iter()
        .filter(|u| seen_urls.insert(u.clone()))
        .collect();
    (clean, remote_images)
}

/// ammonia with Shelfmark's allowlist over one piece of HTML.
#[cfg(test)]
fn sanitize(html: &str) -> (String, Vec<String>) {
    sanitize_parts(&[Cow::Borrowed(html)])
}

/// Render a post body (Markdown and HTML) to sanitized HTML.
pub fn body_html(body: &str) -> RenderedBody {
    render_parts(&[body])
}

/// Render only the article of a body: `runs` are byte ranges of `body` (as
/// `post::article_source` gives them). Each run is rendered and sanitized on its own, as a
/// whole body would be, so a run cut anywhere cannot carry markup out of it: first its ends are
/// moved off any tag, comment or raw-text element (`<script>`, `<style>`, `<textarea>`...) they
/// fall inside, as html5ever's tokenizer reads the body ([`snap_runs`]); then ammonia closes
/// what a run leaves open.
pub fn article_html(body: &str, runs: &[(usize, usize)]) -> RenderedBody {
    let parts: Vec<&str> = snap_runs(body, runs)
        .into_iter()
        .filter_map(|(s, e)| body.get(s..e))
        .collect();
    let mut rendered = render_parts(&parts);
    rendered.article = true;
    rendered
}

/// `runs` (sorted, apart) with each end moved out of the markup token it falls strictly inside:
/// a start inside a tag to the tag's start, inside a comment or raw-text element to its end; an
/// end to the token's start. Runs left empty are dropped. Linear in the body.
fn snap_runs(body: &str, runs: &[(usize, usize)]) -> Vec<(usize, usize)> {
    // Every end of every run, in order, with whether it starts a run.
    let mut ends: Vec<(usize, bool)> = Vec::with_capacity(runs.len() * 2);
    for &(s, e) in runs {
        let s = s.min(body.len());
        let e = e.min(body.len());
        if s < e && ends.last().is_none_or(|&(last, _)| last <= s) {
            ends.push((s, true));
            ends.push((e, false));
        }
    }
    let mut next = 0;
    // The ends strictly inside `a..b` move: starts to `b` when `skip` (the token hides its
    // content), else to `a`; run ends to `a`.
    let mut snap = |a: usize, b: usize, skip: bool| {
        while ends.get(next).is_some_and(|&(p, _)| p <= a) {
            next += 1;
        }
        while let Some((p, start)) = ends.get_mut(next) {
            if *p >= b {
                break;
            }
            *p = if *start && skip { b } else { a };
            next += 1;
        }
    };
    // A raw-text element's start tag and its content are one token here.
    let mut tag: Option<(usize, usize)> = None;
    crate::post::markup_spans(body, |a, b, token| match token {
        Markup::Skip => match tag.take() {
            Some((ta, tb)) if tb == a => snap(ta, b, true),
            Some((ta, tb)) => {
                snap(ta, tb, false);
                snap(a, b, true);
            }
            None => snap(a, b, true),
        },
        Markup::Tag { .. } => {
            if let Some((ta, tb)) = tag.replace((a, b)) {
                snap(ta, tb, false);
            }
        }
        Markup::Text(..) => {
            if let Some((ta, tb)) = tag.take() {
                snap(ta, tb, false);
            }
        }
    });
    if let Some((ta, tb)) = tag {
        snap(ta, tb, false);
    }
    let mut out: Vec<(usize, usize)> = Vec::with_capacity(runs.len());
    for pair in ends.chunks_exact(2) {
        let (s, e) = (pair[0].0, pair[1].0);
        if s < e && out.last().is_none_or(|&(_, last)| last <= s) {
            out.push((s, e));
        }
    }
    out
}

/// Markdown → HTML → images parked → nesting guarded, for each part; then sanitized.
fn render_parts(parts: &[&str]) -> RenderedBody {
    let mut opts = pulldown_cmark::Options::empty();
    opts.insert(pulldown_cmark::Options::ENABLE_TABLES);
    opts.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
    let parked: Vec<String> = parts
        .iter()
        .map(|part| {
            let mut html = String::with_capacity(part.len() + part.len() / 8);
            pulldown_cmark::html::push_html(&mut html, pulldown_cmark::Parser::new_ext(part, opts));
            park_image_sources(&html)
        })
        .collect();
    let guarded: Vec<Cow<'_, str>> = parked.iter().map(|html| guard(html)).collect();
    let (clean, remote_images) = sanitize_parts(&guarded);
    let mut hosts: Vec<String> = Vec::new();
    let mut host_set = HashSet::new();
    for u in &remote_images {
        if let Some(h) = url::Url::parse(u)
            .ok()
            .and_then(|u| u.host_str().map(str::to_string))
        {
            if host_set.insert(h.clone()) {
                hosts.push(h);
            }
        }
    }
    RenderedBody {
        html: clean,
        remote_images,
        remote_hosts: hosts,
        matches: 0,
        article: false,
        page_chars: 0,
        hidden_matches: 0,
    }
}

/// The class of the `<mark>`s that `mark_matches` adds (the sanitizer lets no post set a class,
/// so a post's own `<mark>` is never taken for one).
pub const HIT_CLASS: &str = "hit";

/// Wraps the matches that `find` reports (byte ranges in a text, sorted, not overlapping) in
/// `<mark class="hit">`, in each text node of sanitized HTML (as `sanitize` writes it: tags with
/// double-quoted attributes, text with character references). Tags and attributes are copied
/// as they are; a match never spans two text nodes. Answers the HTML and how many marks.
pub fn mark_matches(html: &str, find: &dyn Fn(&str) -> Vec<(usize, usize)>) -> (String, usize) {
    let bytes = html.as_bytes();
    let mut out = String::with_capacity(html.len() + 64);
    let mut count = 0;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'<' {
            let mut j = i + 1;
            let mut quoted = false;
            while j < bytes.len() {
                match bytes[j] {
                    b'"' => quoted = !quoted,
                    b'>' if !quoted => break,
                    _ => {}
                }
                j += 1;
            }
            let end = (j + 1).min(bytes.len());
            out.push_str(&html[i..end]);
            i = end;
        } else {
            let end = html[i..].find('<').map_or(html.len(), |k| i + k);
            count += mark_text(&html[i..end], find, &mut out);
            i = end;
        }
    }
    (out, count)
}

/// One text node (raw, with character references): its decoded text is searched, and the marks
/// go around the raw bytes of each match.
fn mark_text(raw: &str, find: &dyn Fn(&str) -> Vec<(usize, usize)>, out: &mut String) -> usize {
    let mut text = String::with_capacity(raw.len());
    // The raw offset of each decoded byte offset (at character boundaries), and of the end.
    let mut raw_at: Vec<usize> = Vec::with_capacity(raw.len() + 1);
    let mut i = 0;
    while i < raw.len() {
        let (c, len) = if raw.as_bytes()[i] == b'&' {
            decode_reference(&raw[i..]).unwrap_or(('&', 1))
        } else {
            match raw[i..].chars().next() {
                Some(c) => (c, c.len_utf8()),
                None => break,
            }
        };
        for _ in 0..c.len_utf8() {
            raw_at.push(i);
        }
        text.push(c);
        i += len;
    }
    raw_at.push(raw.len());
    let mut at = 0;
    let mut count = 0;
    for (s, e) in find(&text) {
        let (Some(&rs), Some(&re)) = (raw_at.get(s), raw_at.get(e)) else {
            continue;
        };
        if rs < at || re <= rs {
            continue;
        }
        out.push_str(&raw[at..rs]);
        out.push_str("<mark class=\"");
        out.push_str(HIT_CLASS);
        out.push_str("\">");
        out.push_str(&raw[rs..re]);
        out.push_str("</mark>");
        at = re;
        count += 1;
    }
    out.push_str(&raw[at..]);
    count
}

/// A character reference at the start of `s`: the character and the reference's length.
fn decode_reference(s: &str) -> Option<(char, usize)> {
    let end = s.get(..s.len().min(12))?.find(';')?;
    let name = &s[1..end];
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => {
            let num = name.strip_prefix('#')?;
            let n = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => num.parse().ok()?,
            };
            char::from_u32(n)?
        }
    };
    Some((c, end + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = r#"<!--1610366114000-->
[标题](https://news.example.com/a)
------

<div class="ad-slot" id="div-gpt-ad-1"><script>window.pwned = 1</script></div>
<p onclick="window.pwned=2">正文 <a href="javascript:alert(1)">坏链接</a> <a href="https://example.org/x">好链接</a></p>
<iframe src="https://evil.example/frame"></iframe>
<object data="x.swf"></object><embed src="y.swf">
<form action="https://evil.example/post"><input name=a></form>
<meta http-equiv="refresh" content="0;url=https://evil.example/">
<base href="https://evil.example/">
<link rel="stylesheet" href="https://evil.example/a.css">
<style>body{background:url(https://evil.example/bg.png)}</style>
<img src="https://img.example.com/a.jpg" alt="图"><img src=//cdn.example.net/b.png>
<img data-src="https://lazy.example.com/c.jpg" src="data:image/gif;base64,R0lGODlhAQABAAAAACw=">
<img src="https://track.example.com/p.gif" width="1" height="1">
<svg onload="window.pwned=3"><script>window.pwned=4</script></svg>
<a href="https://example.org/y" onmouseover="x()" style="position:fixed">样式</a>
"#;

    fn words(words: &'static [&'static str]) -> impl Fn(&str) -> Vec<(usize, usize)> {
        move |text: &str| {
            let mut out: Vec<(usize, usize)> = words
                .iter()
                .flat_map(|w| text.match_indices(w).map(|(i, m)| (i, i + m.len())))
                .collect();
            out.sort_unstable();
            out
        }
    }

    #[test]
    fn marks_go_around_text_never_into_tags_or_attributes() {
        let html = r#"<p title="cat &quot;cat&quot;">a cat, <a href="https://x.org/cat">cat</a> &amp; cat&gt;</p>"#;
        let (out, n) = mark_matches(html, &words(&["cat"]));
        assert_eq!(n, 3);
        assert_eq!(
            out,
            r#"<p title="cat &quot;cat&quot;">a <mark class="hit">cat</mark>, <a href="https://x.org/cat"><mark class="hit">cat</mark></a> &amp; <mark class="hit">cat</mark>&gt;</p>"#
        );
    }

    #[test]
    fn a_match_over_a_character_reference_keeps_it_whole() {
        let (out, n) = mark_matches("<p>AT&amp;T and 1&lt;2</p>", &words(&["AT&T", "1<2"]));
        assert_eq!(n, 2);
        assert_eq!(
            out,
            r#"<p><mark class="hit">AT&amp;T</mark> and <mark class="hit">1&lt;2</mark></p>"#
        );
    }

    #[test]
    fn a_hostile_body_stays_inert_after_marking() {
        let r = body_html(HOSTILE);
        let (out, n) = mark_matches(&r.html, &words(&["script", "onclick", "样式", "正文"]));
        assert_eq!(n, 2, "{out}");
        let h = out.to_ascii_lowercase();
        for bad in ["<script", "onclick", "onload", "javascript:"] {
            assert!(!h.contains(bad), "{bad} in {out}");
        }
        assert!(out.contains(r#"<mark class="hit">正文</mark>"#), "{out}");
    }

    #[test]
    fn hostile_html_loses_everything_active() {
        let r = body_html(HOSTILE);
        let h = r.html.to_ascii_lowercase();
        for bad in [
            "<script",
            "onclick",
            "onload",
            "onmouseover",
            "javascript:",
            "<iframe",
            "<object",
            "<embed",
            "<form",
            "<meta",
            "<base",
            "<link",
            "<style",
            "style=",
            "<svg",
            "evil.example",
            "pwned",
        ] {
            assert!(!h.contains(bad), "{bad} survived in {}", r.html);
        }
        assert!(r.html.contains("正文"));
        assert!(r.html.contains(r#"href="https://example.org/x""#));
        assert!(r.html.contains("rel=\"noopener noreferrer nofollow\""));
    }

    #[test]
    fn remote_images_are_parked_and_listed_never_loaded() {
        let r = body_html(HOSTILE);
        assert!(!r.html.contains(" src=\"http"), "{}", r.html);
        assert!(!r.html.contains(" src=\"//"), "{}", r.html);
        assert!(
            r.html
                .contains(r#"data-remote-src="https://img.example.com/a.jpg""#),
            "{}",
            r.html
        );
        assert_eq!(
            r.remote_images,
            [
                "https://img.example.com/a.jpg",
                "https://cdn.example.net/b.png",
                "https://lazy.example.com/c.jpg",
                "https://track.example.com/p.gif"
            ]
        );
        assert_eq!(
            r.remote_hosts,
            [
                "img.example.com",
                "cdn.example.net",
                "lazy.example.com",
                "track.example.com"
            ]
        );
    }

    /// The start tags of sanitized HTML, as written (attribute values may hold `>`).
    fn start_tags(html: &str) -> Vec<&str> {
        let b = html.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while let Some(p) = html[i..].find('<') {
            let at = i + p;
            let mut j = at + 1;
            let mut quoted = false;
            while j < b.len() && (quoted || b[j] != b'>') {
                quoted ^= b[j] == b'"';
                j += 1;
            }
            if b.get(at + 1).is_some_and(u8::is_ascii_alphabetic) {
                out.push(&html[at..(j + 1).min(b.len())]);
            }
            i = (j + 1).min(b.len());
        }
        out
    }

    /// A body whose raw-text elements, comments and attribute values hold markup that the whole
    /// render never shows as markup.
    const CUT_ME: &str = "<p>一段<b title=\"x><img src=https://evil.example/1.png>\" onclick=\"a()\">粗</b></p>\
        <script>var s = \"<img src=https://evil.example/2.png>\";</script><p>二</p>\
        <!-- <a href=\"https://evil.example/3\">注释</a> --><p>三<a href=\"https://ok.example/\">链</a></p>\
        <textarea><img src=https://evil.example/4.png></textarea><style>p{}</style>\
        <img src=\"https://img.example/a.png\"><p>四</p>";

    #[test]
    fn an_article_run_cut_anywhere_lets_through_no_markup_the_whole_render_does_not() {
        let whole = body_html(CUT_ME);
        let allowed: HashSet<&str> = start_tags(&whole.html).into_iter().collect();
        // The whole render shows the hidden markup as text at most.
        assert!(
            allowed.iter().all(|t| !t.contains("evil.example/2")
                && !t.contains("evil.example/3")
                && !t.starts_with("<img data-remote-src=https://evil")),
            "{}",
            whole.html
        );
        let cuts: Vec<usize> = (0..=CUT_ME.len())
            .filter(|&i| CUT_ME.is_char_boundary(i))
            .collect();
        let mut rendered = 0;
        for (k, &s) in cuts.iter().enumerate() {
            for &e in cuts.iter().skip(k + 1).step_by(7) {
                let r = article_html(CUT_ME, &[(s, e)]);
                for tag in start_tags(&r.html) {
                    // Markdown may wrap a cut-off text in a paragraph of its own.
                    assert!(
                        allowed.contains(tag) || tag == "<p>",
                        "{s}..{e} {:?} gave {tag} in {}",
                        &CUT_ME[s..e],
                        r.html
                    );
                }
                let lower = r.html.to_ascii_lowercase();
                for bad in ["onclick", "<script", "<textarea", "<style", "javascript:"] {
                    assert!(!lower.contains(bad), "{s}..{e}: {bad} in {}", r.html);
                }
                assert!(
                    r.remote_images
                        .iter()
                        .all(|u| whole.remote_images.contains(u)),
                    "{s}..{e}: {:?}",
                    r.remote_images
                );
                rendered += 1;
            }
        }
        assert!(rendered > 1000);
    }

    #[test]
    fn a_run_inside_a_script_comment_or_attribute_renders_nothing_of_it() {
        let at = |needle: &str| CUT_ME.find(needle).expect("in the body");
        // Inside the script's string, the comment, the textarea, an attribute value.
        for (from, to) in [
            (at("<img src=https://evil.example/2"), at("</script>")),
            (at("<a href=\"https://evil.example/3"), at(" -->")),
            (at("<img src=https://evil.example/4"), at("</textarea>")),
            (at("<img src=https://evil.example/1"), at("\" onclick")),
        ] {
            let r = article_html(CUT_ME, &[(from, to)]);
            assert!(
                !r.html.contains("evil") && r.remote_images.is_empty(),
                "{}",
                r.html
            );
        }
        // A run from inside the script to the paragraph after it keeps only that paragraph.
        let r = article_html(CUT_ME, &[(at("var s"), at("<!--"))]);
        assert_eq!(r.html, "<p>二</p>");
        // Two runs: each closed on its own, the gap left out.
        let r = article_html(
            CUT_ME,
            &[
                (at("<p>二"), at("<!--")),
                (at("<img src=\"https://img"), CUT_ME.len()),
            ],
        );
        assert!(
            r.html.starts_with("<p>二</p>")
                && r.html
                    .contains("<img data-remote-src=\"https://img.example/a.png\">")
                && r.html.contains("<p>四</p>")
                && !r.html.contains("三"),
            "{}",
            r.html
        );
        assert_eq!(r.remote_images, ["https://img.example/a.png"]);
        assert!(r.article);
    }

    #[test]
    fn markdown_links_and_headings_render() {
        let r = body_html("# 标题\n\n[链接](https://example.org/) and **bold**\n");
        assert!(r.html.contains("<h1>标题</h1>"));
        assert!(r.html.contains("<strong>bold</strong>"));
    }

    /// Element nesting depth of sanitized HTML (ammonia serializes a tree: every non-void element
    /// has its end tag, text is escaped).
    fn output_depth(html: &str) -> usize {
        const VOID: &[&str] = &["br", "hr", "img"];
        let (mut depth, mut max) = (0usize, 0);
        for part in html.split('<').skip(1) {
            if let Some(rest) = part.strip_prefix('/') {
                let _ = rest;
                depth = depth.saturating_sub(1);
            } else {
                let name: String = part
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                if !name.is_empty() && !VOID.contains(&name.as_str()) {
                    depth += 1;
                    max = max.max(depth);
                }
            }
        }
        max
    }

    /// Hostile bodies of about `size` bytes.
    fn hostile(size: usize) -> Vec<(&'static str, String)> {
        let numbered = |f: &dyn Fn(usize) -> String| {
            let mut s = String::new();
            let mut i = 0;
            while s.len() < size {
                s.push_str(&f(i));
                i += 1;
            }
            s
        };
        let unit = |u: &str| u.repeat(size / u.len());
        vec![
            ("gt", unit(">")),
            ("div", unit("<div>")),
            ("a", unit("<a>")),
            ("b", unit("<b>")),
            ("table", unit("<table><tr><td>")),
            ("ul-li", unit("<ul><li>")),
            ("span-div", unit("<span><div>")),
            ("b-div", unit("<b><div></b>")),
            ("p-b", numbered(&|i| format!("<p><b id={i}>x</p>"))),
            ("div-b", numbered(&|i| format!("<div><i class={i}>x</div>"))),
            (
                "attrs",
                format!("<div {}>x</div>", numbered(&|i| format!(" a{i}=x"))),
            ),
            ("html-attrs", numbered(&|i| format!("<html a{i}=x>"))),
        ]
    }

    #[test]
    fn nesting_in_the_output_is_capped() {
        for (name, body) in hostile(20_000) {
            let r = body_html(&body);
            let depth = output_depth(&r.html);
            assert!(
                depth <= MAX_DEPTH as usize,
                "{name}: output nested {depth} deep (limit {MAX_DEPTH})"
            );
        }
        // Capped, not flattened: the first levels stay.
        let r = body_html(&"<blockquote>".repeat(1000));
        assert!(
            output_depth(&r.html) >= MAX_DEPTH as usize / 2,
            "{}",
            r.html.len()
        );
    }

    #[test]
    fn hostile_output_is_bounded_by_the_input() {
        for (name, body) in hostile(20_000) {
            let r = body_html(&body);
            // `<a>` becomes `<a rel="noopener noreferrer nofollow"></a>`: 42 bytes for 3.
            assert!(
                r.html.len() <= 16 * body.len() + 65_536,
                "{name}: {} bytes of HTML from {} bytes",
                r.html.len(),
                body.len()
            );
        }
    }

    #[test]
    fn what_ammonia_parses_costs_linear_tree_builder_work() {
        for (name, body) in hostile(20_000) {
            let mut markdown = String::new();
            pulldown_cmark::html::push_html(&mut markdown, pulldown_cmark::Parser::new(&body));
            let guarded = guard(&markdown);
            // Measured again on what the guard lets through: within bounds, nothing more to cut.
            let (_, report) = bound_nesting_report(&guarded);
            let allowance = WORK_BASE + WORK_PER_BYTE * guarded.len() as u64;
            assert!(
                report.cut_at.is_none() && report.work <= allowance && report.depth <= MAX_DEPTH,
                "{name}: {report:?} for {} bytes",
                guarded.len()
            );
        }
    }

    #[test]
    fn ordinary_markup_passes_the_guard_unchanged() {
        let ordinary = format!(
            "{}{}",
            "<div><p>text <b>bold <i>both</i></b> <a href=\"u\">link</a></p><ul><li>one<li>two</ul>\
             <table><tr><td>cell<td><p>para<div>block</div></table><img src=x alt=y></div>\n"
                .repeat(200),
            "<div>".repeat(100) + &"</div>".repeat(100)
        );
        let (out, report) = bound_nesting_report(&ordinary);
        assert!(matches!(out, Cow::Borrowed(_)), "{report:?}");
        assert_eq!(report.cut_at, None);
        assert!(report.depth >= 100 && report.depth < 110, "{report:?}");
    }

    /// Every body of the real corpus goes through the guard untouched (so renders exactly as before
    /// the guard existed), with room to spare under both bounds. Skips without the corpus.
    #[test]
    fn real_corpus_passes_the_guard_unchanged() {
        let root = std::env::var_os("SHELFMARK_CORPUS")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| "/work/shared/corpus/real-dev".into());
        let mut stack = vec![root.clone()];
        let (mut posts, mut max_depth, mut max_work_per_kb, mut broken) = (0, 0, 0, 0);
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for path in entries.filter_map(|e| e.ok().map(|e| e.path())) {
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "md") {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{e}"));
                let parsed = crate::post::parse("x.md", &bytes, &Default::default());
                let Some(post) = parsed.post else { continue };
                let text = String::from_utf8_lossy(&bytes);
                let body = text.get(post.body_offset..).unwrap_or_default();
                let mut html = String::new();
                let mut opts = pulldown_cmark::Options::empty();
                opts.insert(pulldown_cmark::Options::ENABLE_TABLES);
                opts.insert(pulldown_cmark::Options::ENABLE_STRIKETHROUGH);
                pulldown_cmark::html::push_html(
                    &mut html,
                    pulldown_cmark::Parser::new_ext(body, opts),
                );
                let html = park_image_sources(&html);
                let (out, report) = bound_nesting_report(&html);
                assert!(
                    matches!(out, Cow::Borrowed(_)),
                    "{}: {report:?}",
                    path.display()
                );
                if matches!(break_long_text(&html), Cow::Owned(_)) {
                    broken += 1;
                    assert_eq!(
                        sanitize(&guard(&html)).0,
                        sanitize(&html).0,
                        "{}",
                        path.display()
                    );
                }
                posts += 1;
                max_depth = max_depth.max(report.depth);
                max_work_per_kb = max_work_per_kb.max(report.work * 1024 / (html.len() as u64 + 1));
            }
        }
        if posts == 0 {
            eprintln!("skipping: corpus not found at {}", root.display());
            return;
        }
        eprintln!(
            "{posts} posts: deepest nesting {max_depth}, most tree-builder work {max_work_per_kb} per KB, \
             {broken} with long text split (same output)"
        );
        assert!(max_depth < MAX_DEPTH / 4);
    }

    #[test]
    fn tags_keep_at_most_max_attributes() {
        let attrs: String = (0..1000).map(|i| format!(" a{i}=\"x>{i}\"")).collect();
        let long_value = "&amp;é".repeat(MAX_VALUE);
        let html = format!(
            "<p title=\"{long_value}\">before</p><div{attrs}>text</div><b  {attrs} />after"
        );
        let capped = cap_attributes(&html);
        let mut tags = 0;
        markup_tokens(&capped, |token| {
            if let Markup::Tag { name_end, .. } = token {
                let mut long = Vec::new();
                let (_, extra) = scan_attributes(
                    capped.as_bytes(),
                    name_end,
                    MAX_ATTRIBUTES,
                    MAX_VALUE,
                    &mut long,
                );
                assert_eq!(
                    extra, None,
                    "a tag kept more than {MAX_ATTRIBUTES} attributes"
                );
                assert_eq!(long, [], "a value kept more than {MAX_VALUE} bytes");
                tags += 1;
            }
        });
        assert_eq!(tags, 5);
        assert!(capped.contains(&format!(
            " a{}=\"x>{}\" >text</div>",
            MAX_ATTRIBUTES - 1,
            MAX_ATTRIBUTES - 1
        )));
        assert!(capped.ends_with(">after"));
        // `<template>` content is markup to the tokenizer: capped too.
        let templated = format!("<template><p{attrs}></template>");
        assert!(cap_attributes(&templated).len() < attrs.len() / 2);
        // Tags with few attributes (quoted `>` included) are left alone.
        let few = "<div a=\">\" b='>' c=d e>x</div><!-- <a b c> -->";
        assert!(matches!(cap_attributes(few), Cow::Borrowed(_)));
    }

    #[test]
    fn long_text_is_split_for_the_serializer_and_renders_the_same() {
        let html = format!(
            "<p>{}</p><p>{}</p>",
            "&amp;x\u{A0}".repeat(20_000),
            "&lt;&amp;é".repeat(10_000)
        );
        let guarded = guard(&html);
        let longest = guarded
            .split("<!---->")
            .map(str::len)
            .max()
            .unwrap_or_default();
        assert!(longest <= TEXT_RUN + 16, "a text run of {longest} bytes");
        assert_eq!(sanitize(&guarded).0, sanitize(&html).0);
    }

    #[test]
    fn garbage_never_panics() {
        for s in [
            "<img",
            "<img src",
            "<img src=\"",
            "<IMG SRC=http://x>",
            "<img/src=//x>",
            "<<img>>",
            "\u{0}<img>",
        ] {
            let _ = body_html(s);
        }
    }

    proptest::proptest! {
        #[test]
        fn article_runs_of_any_body_stay_in_order_and_render(
            body in "(\\PC|[<>&\\[\\]()*_#!;\"'=/\n -]|<p>|</p>|<script>|</script>|<!--|-->|<a href=\"x\">|<img src=\"https://i.example/a.png\">)*",
            title in "\\PC{0,8}",
        ) {
            let Some(found) = crate::post::article_source(&body, &title) else {
                return Ok(());
            };
            let mut end = 0;
            for &(s, e) in &found.runs {
                proptest::prop_assert!(end <= s && s < e && e <= body.len());
                end = e;
            }
            let snapped = snap_runs(&body, &found.runs);
            let mut end = 0;
            for &(s, e) in &snapped {
                proptest::prop_assert!(end <= s && s < e && e <= body.len());
                proptest::prop_assert!(body.is_char_boundary(s) && body.is_char_boundary(e));
                end = e;
            }
            let r = article_html(&body, &found.runs);
            let whole = body_html(&body);
            proptest::prop_assert!(r.remote_images.iter().all(|u| whole.remote_images.contains(u)));
            proptest::prop_assert!(!r.html.to_ascii_lowercase().contains("<script"));
        }
    }
}
