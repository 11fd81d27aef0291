#!/usr/bin/env bash
# WebDriver end-to-end tests of the desktop app (tauri-driver + WebKitWebDriver under xvfb-run).
# Called by tests/e2e/run.sh after the browser tests.
#
#   bash tests/e2e/desktop/run.sh                        build target/debug/shelfmark-desktop and
#                                                        its Debian package (`./dev package
#                                                        --debug`) if needed, then run
#                                                        desktop.test.mjs (the built binary) and
#                                                        installed.test.mjs (the package, unpacked
#                                                        into a temporary folder and started)
#   SHELFMARK_DESKTOP_BIN=path bash run.sh               test another binary (no build; the
#                                                        package test is skipped unless
#                                                        SHELFMARK_DEB is set too)
#   SHELFMARK_DEB=path bash run.sh                       test another package
#   E2E_PACKAGE=0 bash run.sh                            skip the package test
#
# Needs tauri-driver (`./dev setup`: cargo install tauri-driver --locked), Debian's
# webkit2gtk-driver (WebKitWebDriver) and xvfb. Bounded by DESKTOP_E2E_TIMEOUT seconds (default
# 300); every process it started (tauri-driver, WebKitWebDriver, the app, Xvfb) is stopped on the way out.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../../.." && pwd)"
cd "$HERE"

say() { printf '\033[1m==> e2e desktop: %s\033[0m\n' "$*" >&2; }
die() { printf 'e2e desktop: %s\n' "$*" >&2; exit 1; }

DRIVER="${TAURI_DRIVER:-$(command -v tauri-driver || true)}"
[ -z "$DRIVER" ] && [ -x "$HOME/.cargo/bin/tauri-driver" ] && DRIVER="$HOME/.cargo/bin/tauri-driver"
[ -n "$DRIVER" ] || die "tauri-driver is missing: run ./dev setup (cargo install tauri-driver --locked)"
export TAURI_DRIVER="$DRIVER"
command -v WebKitWebDriver >/dev/null || die "WebKitWebDriver is missing: install Debian's webkit2gtk-driver (.ci/install-system.sh)"
command -v xvfb-run >/dev/null || die "xvfb-run is missing: install xvfb (.ci/install-system.sh)"

# webdriverio only; no install scripts (nothing to download).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "npm ci"
  npm ci --ignore-scripts --no-audit --no-fund
fi

TESTS=(desktop.test.mjs)
if [ -z "${SHELFMARK_DESKTOP_BIN:-}" ]; then
  # The app embeds ui/dist at compile time (tests/e2e/run.sh has built it); cargo rebuilds it
  # when the sources changed.
  [ -f "$ROOT/ui/dist/index.html" ] || (cd "$ROOT/ui" && npm run build)
  if [ "${E2E_PACKAGE:-1}" != 0 ] && [ -z "${SHELFMARK_DEB:-}" ]; then
    # The same debug build, then the bundler packs it (no second compile).
    say "./dev package --debug"
    SHELFMARK_DEB="$("$ROOT/dev" package --debug)"
    export SHELFMARK_DEB
  else
    say "cargo build --bin shelfmark-desktop"
    (cd "$ROOT" && cargo build --bin shelfmark-desktop)
  fi
  export SHELFMARK_DESKTOP_BIN="$ROOT/target/debug/shelfmark-desktop"
fi
if [ "${E2E_PACKAGE:-1}" != 0 ]; then
  if [ -n "${SHELFMARK_DEB:-}" ]; then
    command -v desktop-file-validate >/dev/null || die "desktop-file-validate is missing: install desktop-file-utils (.ci/install-system.sh)"
    command -v xwininfo >/dev/null || die "xwininfo is missing: install x11-utils (.ci/install-system.sh)"
    TESTS+=(installed.test.mjs)
  else
    say "skipping the package test: SHELFMARK_DESKTOP_BIN is set and SHELFMARK_DEB is not"
  fi
fi

# A WebKitWebDriver left over from an earlier run would hold the native port (4445), and a
# tauri-driver the WebDriver port (4444): stop those, by pid, and only those on these ports.
for port in 4444 4445; do
  for pid in $(ss -ltnpH "sport = :$port" 2>/dev/null | grep -o 'pid=[0-9]*' | cut -d= -f2 | sort -u); do
    name="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
    case "$name" in
      WebKitWebDrive*|tauri-driver)
        say "stopping a stale $name (pid $pid) on port $port"
        kill "$pid" 2>/dev/null || true ;;
      *) die "port $port is taken by $name (pid $pid)" ;;
    esac
  done
done
sleep 0.5

# Own process group, so that a timeout or Ctrl-C takes every child (driver, app, Xvfb) with it.
. "$HERE/../bounded.sh"

say "xvfb-run node --test ${TESTS[*]} (screenshots: tests/e2e/artifacts/desktop.png, installed.png)"
# dbus-run-session gives WebKitGTK a session bus of its own when there is none.
DBUS=()
[ -z "${DBUS_SESSION_BUS_ADDRESS:-}" ] && command -v dbus-run-session >/dev/null && DBUS=(dbus-run-session --)
status=0
bounded "${DESKTOP_E2E_TIMEOUT:-300}" \
  xvfb-run -a -s "-screen 0 1400x900x24" "${DBUS[@]}" \
  node --test --test-concurrency=1 --test-timeout=180000 "${TESTS[@]}" || status=$?
[ "$status" -eq 124 ] && die "timed out after ${DESKTOP_E2E_TIMEOUT:-300}s"
exit "$status"
