#!/usr/bin/env bash
# A read-only archive, used by someone who may not write to it: the CLI and `serve` run as an
# unprivileged user on a copy of sample-archive/ owned by root (folders 0555, files 0444).
# Called by tests/e2e/run.sh (which builds `shelfmark`); alone:
#
#   SHELFMARK_BIN=target/release/shelfmark bash tests/readonly/run.sh
#
# Needs root (CI runs as root): it creates the system user $READONLY_USER (default shelfmark-ci)
# if it is missing, and runs the binary as that user with setpriv. Not root: skipped, saying so.
#
# What is checked (every check runs; the script fails if any did):
#   - an index built by root into the archive: `search` and `show` as the user answer what root's
#     answer, and `index` leaves the archive alone;
#   - an archive with no index: `index` as the user puts the index in the user's data folder
#     ($HOME/.local/share/shelfmark/indexes) and `search` then works; with no writable data
#     folder it fails with an error naming that folder;
#   - `set` and `tag add` (and `apply_edit` through `serve`) are refused with an error that says
#     the archive is read-only and names it, and nothing in the archive changes (the whole tree,
#     modes and times included, is hashed before and after);
#   - `serve` started as the user prints its address, and `/api/search` answers what root's
#     `search` does;
#   - the desktop app (tests/e2e/desktop/readonly.test.mjs, under xvfb-run, when the app, tauri-driver
#     and WebKitWebDriver are there; READONLY_DESKTOP=0 skips it) lists and searches a read-only
#     archive nobody indexed and refuses an edit with a visible message; nothing changes.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"

say() { printf '\033[1m==> readonly: %s\033[0m\n' "$*" >&2; }
die() { printf 'readonly: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -ne 0 ]; then
  say "skipped: needs root to create an unprivileged user and a root-owned archive (CI runs as root)"
  exit 0
fi
command -v setpriv >/dev/null || { say "skipped: setpriv (util-linux) is missing"; exit 0; }
command -v node >/dev/null || die "node is missing (it reads the JSON answers)"
command -v curl >/dev/null || die "curl is missing (.ci/install-system.sh)"

BIN_SRC="${SHELFMARK_BIN:-$ROOT/target/release/shelfmark}"
[ -x "$BIN_SRC" ] || die "$BIN_SRC is missing: build it (cargo build --release -p shelfmark-cli) or set SHELFMARK_BIN"
USER_NAME="${READONLY_USER:-shelfmark-ci}"

if ! id -u "$USER_NAME" >/dev/null 2>&1; then
  say "creating the system user $USER_NAME (no home, no login)"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$USER_NAME" ||
    id -u "$USER_NAME" >/dev/null 2>&1 || die "could not create the user $USER_NAME"
fi
[ "$(id -u "$USER_NAME")" -ne 0 ] || die "$USER_NAME is root"

WORK="$(mktemp -d /tmp/shelfmark-readonly.XXXXXX)"
chmod 0755 "$WORK"
SERVE_PID=""
cleanup() {
  if [ -n "$SERVE_PID" ]; then
    kill -TERM "$SERVE_PID" 2>/dev/null || true
    wait "$SERVE_PID" 2>/dev/null || true
  fi
  chmod -R u+w "$WORK" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

# The binary where the user can run it (the build tree may be in a folder only root can enter).
mkdir -m 0755 "$WORK/bin"
install -m 0755 "$BIN_SRC" "$WORK/bin/shelfmark"
BIN="$WORK/bin/shelfmark"

# The user's home: writable by the user only (the data folder of the index fallback lives here).
USER_HOME="$WORK/home"
mkdir -m 0700 "$USER_HOME"
chown "$USER_NAME:" "$USER_HOME"

# Runs a command as the user, with a given HOME and nothing else of root's environment.
as_user_home() {
  local home="$1"
  shift
  setpriv --reuid="$USER_NAME" --regid="$(id -g "$USER_NAME")" --clear-groups -- \
    env -i PATH=/usr/bin:/bin HOME="$home" LANG=C.UTF-8 "$@"
}
as_user() { as_user_home "$USER_HOME" "$@"; }

# Root-owned copies of the sample archive: A indexed by root (and nothing else: a search would
# leave SQLite's -wal and -shm files beside the index), B without an index, and C where root
# searches, for the answers the user must get.
A="$WORK/indexed-by-root"
B="$WORK/not-indexed"
C="$WORK/root-answers"
for dir in "$A" "$B" "$C"; do
  cp -a "$ROOT/sample-archive" "$dir"
  rm -rf "$dir/.shelfmark"
done
"$BIN" index "$A" >/dev/null
"$BIN" index "$C" >/dev/null

QUERY='两岸'
SHOW_PATH="$(cd "$C" && find _posts -name '*.md' | LC_ALL=C sort | head -n 1)"
"$BIN" -C "$C" search --json --limit 1000 -- "$QUERY" >"$WORK/root-search.json"
"$BIN" -C "$C" search --json --limit 1 -- '' >"$WORK/root-all.json"
# A post's `id` is the order the scan stored it in, which differs between two builds of an index
# (files are parsed in parallel): compared without it.
without_id() { sed -E 's/^\{"id":[0-9]+,/{/'; }
"$BIN" -C "$C" show --json -- "$SHOW_PATH" | sed "s|$C|$A|g" | without_id >"$WORK/root-show.json"

chown -R root:root "$A" "$B"
find "$A" "$B" -type d -exec chmod 0555 {} +
find "$A" "$B" -type f -exec chmod 0444 {} +

# Everything about a tree: names, modes, owners, sizes, times, contents.
tree_state() {
  (
    cd "$1"
    find . -printf '%M %u %g %s %T@ %p\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  ) | sha256sum | cut -d' ' -f1
}
A_STATE="$(tree_state "$A")"
B_STATE="$(tree_state "$B")"

failures=0
pass() { printf '  ok    %s\n' "$*" >&2; }
fail() {
  printf '  FAIL  %s\n' "$*" >&2
  failures=$((failures + 1))
}

# `{total, paths}` of a search answer (CLI --json or /api/search), for comparing two of them; the
# paths sorted, since ties in rank fall in the order of ids, which differ between two index builds.
summary() {
  node -e '
    const r = JSON.parse(require("fs").readFileSync(0, "utf8"));
    process.stdout.write(JSON.stringify({ total: Number(r.total), paths: r.hits.map((h) => h.path).sort() }));
  '
}
WANT_SEARCH="$(summary <"$WORK/root-search.json")"
[ "$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).total))' "$WANT_SEARCH")" -ge 2 ] ||
  die "the sample archive should have matches for $QUERY: $WANT_SEARCH"

# Runs a command as the user; its status, stdout and stderr land in $status, $out, $err.
run_user() {
  set +e
  as_user "$@" >"$WORK/out" 2>"$WORK/err"
  status=$?
  set -e
  out="$(cat "$WORK/out")"
  err="$(cat "$WORK/err")"
}

# An edit must be refused: non-zero status, an error that says read-only and names the archive.
expect_refused() {
  local what="$1" archive="$2"
  if [ "$status" -eq 0 ]; then
    fail "$what: succeeded on a read-only archive: $out"
  elif ! grep -qi 'read-only' <<<"$err" || ! grep -qF "$archive" <<<"$err"; then
    fail "$what: refused, but the error does not say the archive is read-only and name it: $err"
  else
    pass "$what: refused: $err"
  fi
}

say "as $USER_NAME: an archive indexed by root ($A)"

run_user "$BIN" -C "$A" search --json --limit 1000 -- "$QUERY"
if [ "$status" -ne 0 ]; then
  fail "search: exit $status: $err"
elif [ "$(summary <<<"$out")" != "$WANT_SEARCH" ]; then
  fail "search: $(summary <<<"$out") instead of $WANT_SEARCH"
else
  pass "search $QUERY: the same hits as root's"
fi

run_user "$BIN" -C "$A" show --json -- "$SHOW_PATH"
if [ "$status" -ne 0 ]; then
  fail "show: exit $status: $err"
elif [ "$(without_id <<<"$out")" != "$(cat "$WORK/root-show.json")" ]; then
  fail "show: not what root's show answers"
else
  pass "show $SHOW_PATH: what root's show answers"
fi

run_user "$BIN" -C "$A" set "$SHOW_PATH" 'title=changed by shelfmark-ci'
expect_refused "set" "$A"
run_user "$BIN" -C "$A" tag add readonly-test -q "$QUERY"
expect_refused "tag add" "$A"

# `serve` as the user: wait for the address it prints, then ask the api.
say "as $USER_NAME: serve $A"
exec {SERVE_FD}< <(exec setpriv --reuid="$USER_NAME" --regid="$(id -g "$USER_NAME")" --clear-groups -- \
  env -i PATH=/usr/bin:/bin HOME="$USER_HOME" LANG=C.UTF-8 "$BIN" serve -C "$A" --port 0 2>"$WORK/serve.err")
SERVE_PID=$!
origin=""
token=""
while IFS= read -r -t 120 line <&"$SERVE_FD"; do
  if [[ $line =~ ^(http://127\.0\.0\.1:[0-9]+)/#token=([0-9a-f]{32})$ ]]; then
    origin="${BASH_REMATCH[1]}"
    token="${BASH_REMATCH[2]}"
    break
  fi
done
api() {
  curl -sS --max-time 60 -o "$WORK/api.json" -w '%{http_code}' -X POST \
    -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data "$2" "$origin/api/$1"
}
if [ -z "$origin" ]; then
  fail "serve printed no address: $(cat "$WORK/serve.err")"
else
  pass "serve printed $origin/#token=…"
  code="$(api search "{\"query\":\"$QUERY\",\"sort\":null,\"limit\":1000,\"offset\":0,\"facets\":false}")"
  if [ "$code" != 200 ]; then
    fail "/api/search: HTTP $code: $(cat "$WORK/api.json")"
  elif [ "$(summary <"$WORK/api.json")" != "$WANT_SEARCH" ]; then
    fail "/api/search: $(summary <"$WORK/api.json") instead of $WANT_SEARCH"
  else
    pass "/api/search $QUERY: the same hits as root's search"
  fi
  code="$(api apply_edit "{\"request\":{\"target\":{\"kind\":\"query\",\"query\":\"$QUERY\"},\"ops\":[{\"op\":\"add-items\",\"key\":\"tags\",\"items\":[\"readonly-test\"]}]}}")"
  status=0
  [[ $code == 2* ]] || status=1
  out="HTTP $code $(cat "$WORK/api.json")"
  err="$out"
  expect_refused "/api/apply_edit" "$A"
fi
kill -TERM "$SERVE_PID" 2>/dev/null || true
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=""
exec {SERVE_FD}<&-

run_user "$BIN" index "$A"
if [ "$status" -eq 0 ]; then
  pass "index of an archive indexed by root: $out"
else
  # Nothing can be updated in place; what matters is a readable error and an untouched archive.
  printf '  note  index of an archive indexed by root: exit %s: %s\n' "$status" "$err" >&2
fi

if [ "$(tree_state "$A")" = "$A_STATE" ]; then
  pass "nothing in $A changed"
else
  fail "$A changed"
fi

say "as $USER_NAME: an archive nobody indexed ($B)"

set +e
as_user_home /nonexistent "$BIN" index "$B" >"$WORK/out" 2>"$WORK/err"
status=$?
set -e
err="$(cat "$WORK/err")"
if [ "$status" -eq 0 ]; then
  fail "index with no writable data folder: succeeded, where did the index go? $(cat "$WORK/out")"
elif ! grep -qF '/nonexistent/.local/share/shelfmark' <<<"$err"; then
  fail "index with no writable data folder: the error does not name the folder: $err"
else
  pass "index with no writable data folder: $err"
fi

run_user "$BIN" index "$B"
indexes=("$USER_HOME"/.local/share/shelfmark/indexes/*.sqlite)
if [ "$status" -ne 0 ]; then
  fail "index: exit $status: $err"
elif [ ! -f "${indexes[0]}" ]; then
  fail "index: succeeded, but no index in $USER_HOME/.local/share/shelfmark/indexes"
else
  pass "index: $out (the index is in the user's data folder)"
fi
run_user "$BIN" -C "$B" search --json --limit 1000 -- "$QUERY"
if [ "$status" -ne 0 ]; then
  fail "search: exit $status: $err"
elif [ "$(summary <<<"$out")" != "$WANT_SEARCH" ]; then
  fail "search: $(summary <<<"$out") instead of $WANT_SEARCH"
else
  pass "search $QUERY: the same hits as root's"
fi
run_user "$BIN" -C "$B" set "$SHOW_PATH" 'title=changed by shelfmark-ci'
expect_refused "set" "$B"
run_user "$BIN" -C "$B" tag add readonly-test -q "$QUERY"
expect_refused "tag add" "$B"

if [ "$(tree_state "$B")" = "$B_STATE" ]; then
  pass "nothing in $B changed"
else
  fail "$B changed"
fi

# The desktop app as the user, on C made read-only with no index (tests/e2e/desktop/readonly.test.mjs
# under xvfb-run): it lists and searches the archive and refuses an edit with a visible message.
desktop_test() {
  local app="${SHELFMARK_DESKTOP_BIN:-$ROOT/target/debug/shelfmark-desktop}"
  local driver="${TAURI_DRIVER:-$(command -v tauri-driver || true)}"
  [ -z "$driver" ] && [ -x "$HOME/.cargo/bin/tauri-driver" ] && driver="$HOME/.cargo/bin/tauri-driver"
  local missing=""
  [ -x "$app" ] || missing="$missing $app (cargo build --bin shelfmark-desktop)"
  [ -n "$driver" ] || missing="$missing tauri-driver (./dev setup)"
  command -v WebKitWebDriver >/dev/null || missing="$missing WebKitWebDriver"
  command -v xvfb-run >/dev/null || missing="$missing xvfb-run"
  [ -d "$ROOT/tests/e2e/desktop/node_modules/webdriverio" ] || missing="$missing tests/e2e/desktop/node_modules"
  if [ -n "$missing" ]; then
    say "desktop part skipped: missing$missing"
    return 0
  fi
  say "as $USER_NAME: the desktop app on a read-only archive nobody indexed ($C)"
  # The test, the app and the driver where the user can read them.
  install -m 0755 "$app" "$WORK/bin/shelfmark-desktop"
  install -m 0755 "$driver" "$WORK/bin/tauri-driver"
  mkdir -m 0755 "$WORK/desktop"
  cp -a "$ROOT/tests/e2e/desktop/." "$WORK/desktop/"
  chmod -R a+rX "$WORK/desktop"
  mkdir -m 0700 "$WORK/artifacts"
  chown "$USER_NAME:" "$WORK/artifacts"
  # C: root's answers came from it; now it loses its index and becomes read-only like the others.
  chmod -R u+w "$C"
  rm -rf "$C/.shelfmark"
  chown -R root:root "$C"
  find "$C" -type d -exec chmod 0555 {} +
  find "$C" -type f -exec chmod 0444 {} +
  local c_state all
  c_state="$(tree_state "$C")"
  all="$(node -e 'process.stdout.write(String(JSON.parse(require("fs").readFileSync(0, "utf8")).total))' <"$WORK/root-all.json")"
  local want_query
  want_query="$(node -e 'process.stdout.write(String(JSON.parse(process.argv[1]).total))' "$WANT_SEARCH")"
  # dbus-run-session gives WebKitGTK a session bus of its own.
  local dbus=()
  command -v dbus-run-session >/dev/null && dbus=(dbus-run-session --)
  set +e
  (
    cd "$WORK/desktop"
    timeout --kill-after=15 "${READONLY_DESKTOP_TIMEOUT:-300}" \
      setpriv --reuid="$USER_NAME" --regid="$(id -g "$USER_NAME")" --clear-groups -- \
      env -i PATH=/usr/bin:/bin HOME="$USER_HOME" LANG=C.UTF-8 \
      SHELFMARK_DESKTOP_BIN="$WORK/bin/shelfmark-desktop" TAURI_DRIVER="$WORK/bin/tauri-driver" \
      READONLY_ARCHIVE="$C" READONLY_TOTAL="$all" READONLY_QUERY="$QUERY" READONLY_QUERY_TOTAL="$want_query" \
      READONLY_ARTIFACTS="$WORK/artifacts" \
      xvfb-run -a -s "-screen 0 1400x900x24" "${dbus[@]}" \
      node --test --test-concurrency=1 --test-timeout=240000 readonly.test.mjs
  ) >"$WORK/desktop.log" 2>&1
  local code=$?
  set -e
  mkdir -p "$ROOT/tests/e2e/artifacts"
  cp "$WORK"/artifacts/*.png "$ROOT/tests/e2e/artifacts/" 2>/dev/null || true
  if [ "$code" -eq 0 ]; then
    pass "desktop: lists and searches the archive, and refuses the edit visibly"
  else
    grep -vE '^ *at |^#' "$WORK/desktop.log" | tail -n 40 >&2
    fail "desktop: exit $code (its output is above)"
  fi
  if [ "$(tree_state "$C")" = "$c_state" ]; then
    pass "nothing in $C changed"
  else
    fail "$C changed"
  fi
}
if [ "${READONLY_DESKTOP:-1}" != 0 ]; then
  desktop_test
fi

if [ "$failures" -ne 0 ]; then
  say "$failures check(s) failed"
  exit 1
fi
say "all checks passed"
