#!/usr/bin/env bash
# Export benchmark (issue 5): export N posts (default 10,000) with the release CLI as copies and as
# the HTML edition, each into a fresh target folder, then export the copies again into the same
# folder with nothing changed (every file skipped by checksum); also copies in the by-month layout
# and as a zip. Each export runs R times (default 3, a fresh target each time but for the re-export);
# prints wall-clock seconds and posts/s of each run with the load average when it ran, then the
# median of each (target: >= 2,000 posts/s for copies). The exporter ends with one syncfs, so the
# times include getting the files to disk, and vary with what else the machine is writing.
# Works on a grown copy under bench/out/ (never on the source corpus); every target is under
# bench/out/ too. Without the source corpus it says so and exits 0.
#
#   bench/export.sh [--posts N] [--corpus DIR] [--rounds R] [--build]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
POSTS=10000
SRC="${SHELFMARK_CORPUS:-/work/shared/corpus/real-dev}"
BUILD=0
ROUNDS=3
while [ $# -gt 0 ]; do
  case "$1" in
    --posts) POSTS="$2"; shift 2 ;;
    --corpus) SRC="$2"; shift 2 ;;
    --rounds) ROUNDS="$2"; shift 2 ;;
    --build) BUILD=1; shift ;;
    *) echo "usage: bench/export.sh [--posts N] [--corpus DIR] [--rounds R] [--build]" >&2; exit 2 ;;
  esac
done
OUT="$ROOT/bench/out"
CORPUS="$OUT/export-corpus-$POSTS"
TARGETS="$OUT/export-targets"
SM="$ROOT/target/release/shelfmark"
if [ ! -d "$SRC" ] && [ ! -d "$CORPUS" ]; then
  echo "bench/export.sh: no source corpus at $SRC; skipped"
  exit 0
fi
mkdir -p "$OUT"
if [ "$BUILD" = 1 ] || [ ! -x "$SM" ]; then
  (cd "$ROOT" && cargo build --release -q -p shelfmark-cli)
fi
echo "shelfmark binary built $(date -r "$SM" '+%F %T')"
if [ ! -d "$CORPUS" ]; then
  echo "growing $SRC to $POSTS posts in $CORPUS…"
  rm -rf "$CORPUS.partial"
  python3 "$HERE/grow.py" "$SRC" "$CORPUS.partial" "$POSTS" >/dev/null
  mv "$CORPUS.partial" "$CORPUS"
fi
chmod -R u+w "$CORPUS"
rm -rf "$CORPUS/.shelfmark"
"$SM" index "$CORPUS" >/dev/null
n=$("$SM" -C "$CORPUS" search '' --limit 0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
src_mb=$(du -sm --exclude=.shelfmark "$CORPUS" | cut -f1)
echo "posts: $n ($src_mb MB of Markdown), $(nproc) cores"

load() { cut -d' ' -f1-3 /proc/loadavg; }
# One line from an export's JSON summary and the times around it.
REPORT=$(cat <<'PY'
import json, os, sys
d = json.load(sys.stdin)
n = int(os.environ["N"])
assert d["posts"] == n and not d["problems"] and not d["conflicts"], d
secs = float(os.environ["E"]) - float(os.environ["S"])
with open(os.environ["RESULTS"], "a") as f:
    f.write(f"{os.environ['NAME']}\t{secs}\n")
print(f"{os.environ['NAME']:<26} {secs:6.2f} s {n / secs:7.0f} posts/s"
      f"  (written {d['written']}, unchanged {d['unchanged']}, renamed {d['renamed']},"
      f" {os.environ['SIZE']} MB; the exporter's own time {d['seconds']:.2f} s;"
      f" load {os.environ['L']})")
PY
)
# measure NAME TARGET ARGS…: one export of every post, timed from outside.
measure() {
  local name="$1" target="$2"; shift 2
  local l s e json
  l=$(load)
  s=$(date +%s.%N)
  json=$("$SM" -C "$CORPUS" export --query '' --to "$target" --json "$@")
  e=$(date +%s.%N)
  SIZE=$(du -sm "$target" | cut -f1) NAME="$name" S="$s" E="$e" L="$l" N="$n" \
    RESULTS="$RESULTS" python3 -c "$REPORT" <<<"$json"
}

RESULTS="$OUT/export-results.tsv"
: >"$RESULTS"
for round in $(seq "$ROUNDS"); do
  echo "round $round of $ROUNDS:"
  rm -rf "$TARGETS"
  mkdir -p "$TARGETS"
  sync
  measure "copies (keep layout)" "$TARGETS/copies"
  measure "copies again, no change" "$TARGETS/copies"
  sync
  measure "copies (by-month layout)" "$TARGETS/by-month" --layout by-month
  sync
  measure "HTML edition (keep layout)" "$TARGETS/html" --format html
  sync
  measure "copies as a zip" "$TARGETS/copies.zip" --zip
done
rm -rf "$TARGETS"
echo "median of $ROUNDS rounds ($n posts):"
N="$n" python3 - "$RESULTS" <<'PY'
import os, statistics, sys
n = int(os.environ["N"])
runs = {}
for line in open(sys.argv[1]):
    name, secs = line.rstrip("\n").split("\t")
    runs.setdefault(name, []).append(float(secs))
for name, secs in runs.items():
    m = statistics.median(secs)
    print(f"  {name:<26} {m:6.2f} s {n / m:7.0f} posts/s  (runs: {', '.join(f'{s:.2f}' for s in secs)} s)")
PY
