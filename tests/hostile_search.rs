//! Hostile searches (issue 10, finding 6): a huge query is refused with an error that says the
//! limit, a search that takes long does not hold up other requests, a superseded search stops,
//! and a smart collection shipped inside an archive with an oversized query is an error for that
//! collection, not a hang of the sidebar.
//!
//! The slow search is held deterministically: `SHELFMARK_SEARCH_HOLD=DIR` makes each search, once
//! it holds a reader, create `DIR/held-N` and wait until `DIR/release` exists. The tests wait on
//! those files and on answers, never on time.

mod common;
use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::Duration;

/// How long a request may go unanswered before the test gives up on it (a safety net against a
/// hang, not a measure of speed: every answer awaited here takes milliseconds when it comes).
const PATIENCE: Duration = Duration::from_secs(60);

/// `shelfmark serve` on a fixture, with the search hold hook pointed at `hold`.
struct Server {
    child: Child,
    addr: String,
    token: String,
}

impl Server {
    fn start(dir: &Path, hold: &Path) -> Server {
        let mut child = shelfmark()
            .args([
                "serve",
                dir.to_str().unwrap_or_else(|| panic!("utf-8 path")),
            ])
            .env("SHELFMARK_SEARCH_HOLD", hold)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("shelfmark serve: {e}"));
        let stdout = child.stdout.take().unwrap_or_else(|| panic!("no stdout"));
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .unwrap_or_else(|e| panic!("{e}"));
        // http://127.0.0.1:PORT/#token=TOKEN
        let rest = line
            .trim()
            .strip_prefix("http://")
            .unwrap_or_else(|| panic!("serve printed {line:?}"));
        let (addr, token) = rest
            .split_once("/#token=")
            .unwrap_or_else(|| panic!("serve printed {line:?}"));
        Server {
            child,
            addr: addr.to_string(),
            token: token.to_string(),
        }
    }

    /// `POST /api/COMMAND` with a JSON body: the status and the JSON answer.
    fn post(&self, command: &str, body: &serde_json::Value) -> (u16, serde_json::Value) {
        post(&self.addr, &self.token, command, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn post(
    addr: &str,
    token: &str,
    command: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    let body = body.to_string();
    let mut s =
        std::net::TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
    s.set_read_timeout(Some(PATIENCE))
        .unwrap_or_else(|e| panic!("{e}"));
    let req = format!(
        "POST /api/{command} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut out = String::new();
    s.read_to_string(&mut out)
        .unwrap_or_else(|e| panic!("no answer to {command} {body}: {e}"));
    let (head, json) = out.split_once("\r\n\r\n").unwrap_or((&out, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let json =
        serde_json::from_str(json).unwrap_or_else(|e| panic!("{command}: not JSON ({e}): {out}"));
    (status, json)
}

/// Wait until `path` exists (the hold hook creates it when a search reaches it).
fn wait_for(path: &Path, what: &str) {
    let start = std::time::Instant::now();
    while !path.exists() {
        assert!(start.elapsed() < PATIENCE, "{what} never happened");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The news archive, plus a 2 MB post, indexed.
fn archive() -> Fixture {
    let f = news_archive();
    let big = format!(
        "---\ntitle: big\n---\n<p>{}</p>\n",
        "两岸 關係 climate change ".repeat(100_000)
    );
    assert!(big.len() > 2_000_000);
    f.write("_posts/2021-07-01-big.md", big.as_bytes());
    index(f.path());
    f
}

/// A search in a thread of its own; its answer comes through the handle.
fn search_in_background(
    server: &Server,
    query: &str,
) -> std::thread::JoinHandle<(u16, serde_json::Value)> {
    let (addr, token) = (server.addr.clone(), server.token.clone());
    let body = serde_json::json!({ "query": query, "limit": 5 });
    std::thread::spawn(move || post(&addr, &token, "search", &body))
}

#[test]
fn a_query_over_the_limits_is_refused_with_the_limit_in_the_message() {
    let f = news_archive();
    index(f.path());
    let dir = f.path().to_str().unwrap_or_else(|| panic!("utf-8 path"));
    for (query, limit) in [
        ("a".repeat(20_000), "1000 characters"),
        (vec!["两岸"; 65].join(" "), "64 terms"),
        (format!("\"{}\"", "长".repeat(300)), "256 characters"),
    ] {
        let out = run(&["-C", dir, "search", &query]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            !out.status.success(),
            "{} characters: {stderr}",
            query.len()
        );
        assert!(stderr.contains(limit), "{stderr}");
    }
    // Within the limits, the same kind of query still runs.
    assert_eq!(
        search_paths(f.path(), &vec!["两岸"; 64].join(" ")),
        vec!["_posts/2021-01-11-两岸关系.md", "_posts/2021-02-01-兩岸.md"]
    );
}

#[test]
fn show_is_answered_while_a_search_is_still_running() {
    let f = archive();
    let hold = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::start(f.path(), hold.path());
    let search = search_in_background(&server, "两岸 climate");
    wait_for(&hold.path().join("held-1"), "the search reaching its hold");

    // The search holds a reader and cannot finish (no `release` yet); `show` is answered.
    let (status, post) = server.post(
        "show",
        &serde_json::json!({ "path": "_posts/2021-01-11-两岸关系.md" }),
    );
    assert_eq!(status, 200, "{post}");
    assert_eq!(post["title"], "两岸关系新论述");
    let (status, big) = server.post(
        "show",
        &serde_json::json!({ "path": "_posts/2021-07-01-big.md" }),
    );
    assert_eq!(status, 200);
    assert_eq!(big["title"], "big");
    assert!(!search.is_finished());
    assert!(!hold.path().join("release").exists());

    std::fs::write(hold.path().join("release"), b"").unwrap_or_else(|e| panic!("{e}"));
    let (status, found) = search.join().unwrap_or_else(|_| panic!("search thread"));
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1, "{found}");
    assert_eq!(found["hits"][0]["path"], "_posts/2021-07-01-big.md");
}

#[test]
fn a_search_superseded_by_another_query_stops_and_says_so() {
    let f = archive();
    let hold = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let server = Server::start(f.path(), hold.path());
    let first = search_in_background(&server, "climate change");
    wait_for(
        &hold.path().join("held-1"),
        "the first search reaching its hold",
    );
    // The same query again (another page of it) does not supersede it…
    let page = search_in_background(&server, "climate change");
    wait_for(
        &hold.path().join("held-2"),
        "the second page reaching its hold",
    );
    // …another query does.
    let second = search_in_background(&server, "两岸");
    wait_for(
        &hold.path().join("held-3"),
        "the second search reaching its hold",
    );
    std::fs::write(hold.path().join("release"), b"").unwrap_or_else(|e| panic!("{e}"));

    let (status, answer) = first.join().unwrap_or_else(|_| panic!("first search"));
    assert_eq!(
        (status, &answer["code"]),
        (409, &serde_json::json!("cancelled")),
        "{answer}"
    );
    let (status, answer) = page.join().unwrap_or_else(|_| panic!("second page"));
    assert_eq!(
        (status, &answer["code"]),
        (409, &serde_json::json!("cancelled")),
        "{answer}"
    );
    let (status, answer) = second.join().unwrap_or_else(|_| panic!("second search"));
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["total"], 3, "{answer}");
}

/// A collection file as a cloned archive could ship it.
fn write_collection(f: &Fixture, id: &str, name: &str, query: &str) -> PathBuf {
    let json = serde_json::json!({
        "name": name,
        "kind": "smart",
        "position": 0,
        "created": "2024-01-01T00:00:00Z",
        "query": query,
    });
    let rel = format!(".shelfmark/collections/{id}.json");
    f.write(&rel, json.to_string().as_bytes());
    f.file(&rel)
}

#[test]
fn a_shipped_smart_collection_with_a_huge_query_is_an_error_for_that_collection_only() {
    let f = news_archive();
    index(f.path());
    write_collection(&f, "huge", "Huge", &"a".repeat(20_000));
    write_collection(&f, "fine", "Fine", "两岸");
    // The sidebar lists every collection; the broken one holds nothing.
    let list = json(f.path(), &["collection", "list"]);
    let counts: Vec<(String, u64)> = list
        .as_array()
        .unwrap_or_else(|| panic!("{list}"))
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap_or("").to_string(),
                c["count"].as_u64().unwrap_or(u64::MAX),
            )
        })
        .collect();
    assert_eq!(counts, vec![("Fine".into(), 2), ("Huge".into(), 0)]);
    // Opening it says why.
    let dir = f.path().to_str().unwrap_or_else(|| panic!("utf-8 path"));
    let out = run(&["-C", dir, "collection", "show", "Huge"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("1000 characters"), "{stderr}");
    // And a search that names it.
    let out = run(&["-C", dir, "search", "collection:Huge"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("1000 characters"), "{stderr}");
}
