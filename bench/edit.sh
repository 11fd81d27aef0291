#!/usr/bin/env bash
# Bulk edit benchmark (issue 4): add a tag to N posts (default 10,000), then undo it, through the
# release CLI, and print the times and what the journal holds. Works on a grown copy under
# bench/out/ (never on the source corpus). Without the source corpus it says so and exits 0.
#
#   bench/edit.sh [--posts N] [--corpus DIR]
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
ROOT="$(cd "$HERE/.." && pwd)"
POSTS=10000
SRC="${SHELFMARK_CORPUS:-/work/shared/corpus/real-dev}"
while [ $# -gt 0 ]; do
  case "$1" in
    --posts) POSTS="$2"; shift 2 ;;
    --corpus) SRC="$2"; shift 2 ;;
    *) echo "usage: bench/edit.sh [--posts N] [--corpus DIR]" >&2; exit 2 ;;
  esac
done
OUT="$ROOT/bench/out"
CORPUS="$OUT/edit-corpus-$POSTS"
SM="$ROOT/target/release/shelfmark"
if [ ! -d "$SRC" ] && [ ! -d "$CORPUS" ]; then
  echo "bench/edit.sh: no source corpus at $SRC; skipped"
  exit 0
fi
mkdir -p "$OUT"
[ -x "$SM" ] || (cd "$ROOT" && cargo build --release -q -p shelfmark-cli)
echo "shelfmark binary built $(date -r "$SM" '+%F %T')"
if [ ! -d "$CORPUS" ]; then
  echo "growing $SRC to $POSTS posts in $CORPUS…"
  python3 "$HERE/grow.py" "$SRC" "$CORPUS.partial" "$POSTS" >/dev/null
  mv "$CORPUS.partial" "$CORPUS"
fi
chmod -R u+w "$CORPUS"
# Start from a clean journal and a fresh index.
rm -rf "$CORPUS/.shelfmark"
"$SM" index "$CORPUS" >/dev/null
n=$("$SM" -C "$CORPUS" search '' --limit 0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
tree_hash() { (cd "$CORPUS" && find . -path ./.shelfmark -prune -o -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16); }
before=$(tree_hash)
sync
t() { local s e; s=$(date +%s.%N); "$@" >/dev/null; e=$(date +%s.%N); python3 -c "print(f'{$e-$s:.2f}')"; }
load() { cut -d' ' -f1 /proc/loadavg; }
l1=$(load); add=$(t "$SM" -C "$CORPUS" tag add bench-bulk-tag --query '')
tagged=$("$SM" -C "$CORPUS" search 'tag:bench-bulk-tag' --limit 0 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
journal=$(du -sh "$CORPUS/.shelfmark/journal" | cut -f1)
l2=$(load); undo=$(t "$SM" -C "$CORPUS" undo)
after=$(tree_hash)
reindex=$("$SM" index "$CORPUS" --json)
echo "posts: $n"
echo "tag add to every post: ${add}s (load $l1); posts with the tag afterwards: $tagged; journal: $journal"
echo "undo: ${undo}s (load $l2)"
echo "tree sha256 before/after undo: $before / $after $( [ "$before" = "$after" ] && echo identical || echo DIFFERENT)"
echo "rescan after both (should find nothing to index): $reindex"
