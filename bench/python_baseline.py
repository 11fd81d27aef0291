#!/usr/bin/env python3
"""Python indexing baseline for bench/run.sh: what a few lines of "ordinary" Python give.

Index mode (timed from outside with /usr/bin/time):
    python_baseline.py DIR DB [--limit M]
  parses every .md file under DIR (sorted; hidden folders such as .shelfmark/ skipped; the first
  M only with --limit) with python-frontmatter, inserts rows (path, title, date, tags, body) into
  DB with sqlite-utils' insert_all in batches, then builds an FTS5 index over title+body with the
  trigram tokenizer (enable_fts(..., tokenize="trigram")). Prints one JSON line:
  {"posts", "failed", "parse_insert_seconds", "fts_seconds", "seconds", "db_mb"}.

Query mode:
    python_baseline.py --query DB ROUNDS QUERY...
  for each QUERY runs, ROUNDS times, the FTS5 equivalent of a Shelfmark search page:
  the match count plus the 50 best rows by bm25 rank, and prints one JSON line per query:
  {"query", "chars", "hits", "error", "p50_ms", "p95_ms", "like_hits", "like_ms"}.
  like_* is a plain `LIKE '%QUERY%'` scan over title/body: the only way to find a 1-2 character
  term when the tokenizer is trigram (FTS5 trigram MATCH needs at least 3 characters).
"""
import json
import os
import sqlite3
import sys
import time


def md_files(root):
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if not x.startswith(".")]
        for f in files:
            if f.endswith(".md"):
                out.append(os.path.join(d, f))
    out.sort()
    return out


def index(root, db_path, limit=None):
    import frontmatter
    import sqlite_utils

    t0 = time.perf_counter()
    files = md_files(root)
    if limit is not None:
        files = files[:limit]
    if os.path.exists(db_path):
        os.remove(db_path)
    db = sqlite_utils.Database(db_path)
    failed = 0

    def rows():
        nonlocal failed
        for path in files:
            try:
                post = frontmatter.load(path)
            except Exception:  # bad YAML, bad UTF-8, unreadable: skipped and counted
                failed += 1
                continue
            meta = post.metadata
            tags = meta.get("tags") or []
            if not isinstance(tags, list):
                tags = [tags]
            rel = os.fsencode(os.path.relpath(path, root)).decode("utf-8", "replace")
            yield {
                "path": rel,
                "title": str(meta.get("title") or ""),
                "date": str(meta.get("date") or ""),
                "tags": json.dumps([str(t) for t in tags], ensure_ascii=False),
                "body": post.content,
            }

    posts = db["posts"]
    posts.insert_all(rows(), batch_size=500)
    t1 = time.perf_counter()
    posts.enable_fts(["title", "body"], tokenize="trigram")
    db.conn.commit()
    t2 = time.perf_counter()
    n = posts.count
    db.close()
    print(
        json.dumps(
            {
                "posts": n,
                "failed": failed,
                "parse_insert_seconds": round(t1 - t0, 3),
                "fts_seconds": round(t2 - t1, 3),
                "seconds": round(t2 - t0, 3),
                "db_mb": round(os.path.getsize(db_path) / 1e6, 1),
            }
        )
    )


def percentile(sorted_times, p):
    if not sorted_times:
        return 0.0
    i = int(round((len(sorted_times) - 1) * p))
    return sorted_times[min(i, len(sorted_times) - 1)]


def query(db_path, rounds, queries):
    conn = sqlite3.connect(db_path)
    for q in queries:
        match = '"' + q.replace('"', '""') + '"'  # one FTS5 string: a substring search
        times, hits, error = [], None, None
        for _ in range(rounds):
            t = time.perf_counter()
            try:
                n = conn.execute(
                    "SELECT count(*) FROM posts_fts WHERE posts_fts MATCH ?", (match,)
                ).fetchone()[0]
                conn.execute(
                    "SELECT rowid, title FROM posts_fts WHERE posts_fts MATCH ? "
                    "ORDER BY rank LIMIT 50",
                    (match,),
                ).fetchall()
            except sqlite3.Error as e:
                n, error = None, str(e)
            times.append((time.perf_counter() - t) * 1e3)
            hits = n
        times.sort()
        like = "%" + q + "%"
        t = time.perf_counter()
        like_hits = conn.execute(
            "SELECT count(*) FROM posts WHERE title LIKE ? OR body LIKE ?", (like, like)
        ).fetchone()[0]
        like_ms = (time.perf_counter() - t) * 1e3
        print(
            json.dumps(
                {
                    "query": q,
                    "chars": len(q),
                    "hits": hits,
                    "error": error,
                    "p50_ms": round(percentile(times, 0.5), 2),
                    "p95_ms": round(percentile(times, 0.95), 2),
                    "like_hits": like_hits,
                    "like_ms": round(like_ms, 1),
                },
                ensure_ascii=False,
            ),
            flush=True,
        )
    conn.close()


def main(argv):
    if len(argv) >= 4 and argv[1] == "--query":
        query(argv[2], int(argv[3]), argv[4:])
        return
    args = [a for a in argv[1:]]
    limit = None
    if "--limit" in args:
        i = args.index("--limit")
        limit = int(args[i + 1])
        del args[i : i + 2]
    if len(args) != 2:
        sys.exit(__doc__)
    index(args[0], args[1], limit)


if __name__ == "__main__":
    main(sys.argv)
