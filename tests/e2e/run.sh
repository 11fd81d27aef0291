#!/usr/bin/env bash
# End-to-end tests of the web UI: playwright-core driving Debian's chromium (headless, no browser
# download) against `shelfmark serve` on copies of fixture archives. Called by `./dev test`.
#
#   bash tests/e2e/run.sh             build what is missing, then run every test
#   SHELFMARK_BIN=path bash run.sh    test another `shelfmark` binary (no build)
#   E2E_DESKTOP=0 bash run.sh         skip the desktop WebDriver tests (tests/e2e/desktop/: the
#                                     built app, and its Debian package installed and started)
#   E2E_PACKAGE=0 bash run.sh         skip only the Debian package's test
#   E2E_READONLY=0 bash run.sh        skip the read-only archive test (tests/readonly/run.sh)
#
# Bounded: the whole run is killed after E2E_TIMEOUT seconds (default 600); every server and
# browser it started is stopped on the way out. Screenshots: tests/e2e/artifacts/.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
cd "$HERE"

say() { printf '\033[1m==> e2e: %s\033[0m\n' "$*" >&2; }
die() { printf 'e2e: %s\n' "$*" >&2; exit 1; }

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] || die "$CHROMIUM is missing: install Debian's chromium (.ci/install-system.sh)"

# playwright-core only (it downloads no browser).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --no-audit --no-fund
fi

if [ -z "${SHELFMARK_BIN:-}" ]; then
  # ./dev test has just built ui/dist; alone, build it unless it is newer than every source.
  if [ ! -f "$ROOT/ui/dist/index.html" ] || [ -n "$(find "$ROOT/ui/src" "$ROOT/ui/index.html" -newer "$ROOT/ui/dist/index.html" -print -quit)" ]; then
    say "building ui/dist"
    (cd "$ROOT/ui" && npm run build)
  fi
  # `serve` embeds ui/dist at compile time. A binary built before ui/dist existed (or before its
  # current assets) does not hold them: make cargo build it again.
  BIN="$ROOT/target/release/shelfmark"
  asset="$(cd "$ROOT/ui/dist" && ls assets/*.js | head -n 1)"
  if [ -x "$BIN" ] && ! grep -qF "$asset" "$BIN"; then
    touch "$ROOT/src-tauri/cli/src/serve/assets.rs"
  fi
  say "cargo build --release -p shelfmark-cli"
  (cd "$ROOT" && cargo build --release -p shelfmark-cli --bin shelfmark)
  export SHELFMARK_BIN="$BIN"
fi

mkdir -p artifacts
rm -f artifacts/*.png

# Own process group, so that a timeout or Ctrl-C takes every child (servers, chromium) with it.
. "$HERE/bounded.sh"

say "node --test serve.test.mjs edit.test.mjs collections.test.mjs export.test.mjs opening.test.mjs ux.test.mjs reader.test.mjs article.test.mjs duplicates.test.mjs workbench.test.mjs (screenshots in tests/e2e/artifacts/)"
status=0
bounded "${E2E_TIMEOUT:-600}" \
  node --test --test-concurrency=1 --test-timeout=180000 serve.test.mjs edit.test.mjs collections.test.mjs export.test.mjs opening.test.mjs ux.test.mjs reader.test.mjs article.test.mjs duplicates.test.mjs workbench.test.mjs || status=$?
[ "$status" -eq 124 ] && die "timed out after ${E2E_TIMEOUT:-600}s"
[ "$status" -eq 0 ] || exit "$status"

# The real desktop binary over WebDriver (tauri-driver + WebKitWebDriver under xvfb-run), then
# its Debian package (`./dev package --debug`), unpacked into a temporary root and started.
# E2E_DESKTOP=0 skips both.
if [ -f "$HERE/desktop/run.sh" ] && [ "${E2E_DESKTOP:-1}" != 0 ]; then
  say "desktop: tests/e2e/desktop/run.sh"
  bash "$HERE/desktop/run.sh"
fi

# A read-only archive used by an unprivileged user: the CLI, `serve` and the desktop app
# built just above (needs root, else it says it skips). E2E_READONLY=0 skips it.
if [ -f "$ROOT/tests/readonly/run.sh" ] && [ "${E2E_READONLY:-1}" != 0 ]; then
  say "read-only archive: tests/readonly/run.sh"
  READONLY_DESKTOP="${READONLY_DESKTOP:-${E2E_DESKTOP:-1}}" bash "$ROOT/tests/readonly/run.sh"
fi
