#!/usr/bin/env bash
# System packages a fresh Debian 12 machine needs to build and test Shelfmark.
# This is the one apt list. Usage:
#   .ci/install-system.sh               install (apt-get update + install) unconditionally
#   .ci/install-system.sh --if-missing  install only when a package is missing (dpkg-query), else do nothing
#   .ci/install-system.sh --missing     print the missing packages and exit 1 if there are any
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive

PACKAGES=(
  build-essential pkg-config curl file ca-certificates
  libwebkit2gtk-4.1-dev libgtk-3-dev libsoup-3.0-dev libjavascriptcoregtk-4.1-dev
  libssl-dev libxdo-dev libayatana-appindicator3-dev librsvg2-dev
  xvfb xauth dbus-x11 at-spi2-core x11-utils desktop-file-utils
  chromium chromium-driver webkit2gtk-driver
  fonts-noto-cjk ripgrep sqlite3
)

missing_packages() {
  local p
  for p in "${PACKAGES[@]}"; do
    if [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" != "install ok installed" ]; then
      echo "$p"
    fi
  done
}

case "${1:-}" in
  --missing)
    missing="$(missing_packages)"
    if [ -n "$missing" ]; then echo "$missing"; exit 1; fi
    exit 0
    ;;
  --if-missing)
    missing="$(missing_packages)"
    if [ -z "$missing" ]; then
      echo "system packages: all ${#PACKAGES[@]} present"
      exit 0
    fi
    echo "system packages missing: $(echo "$missing" | tr '\n' ' ')"
    ;;
  "") ;;
  *)
    echo "usage: $0 [--if-missing|--missing]" >&2
    exit 2
    ;;
esac

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
