#!/usr/bin/env bash
# Install the browser the browser test drives: Debian's chromium at /usr/bin/chromium.
# Idempotent: does nothing when it is already there. Playwright's own browser download is not
# used (it does not work on the course's CI machines); Playwright drives this chromium instead.
# Usage: scripts/install_browser.sh      (as root, or with sudo available)
set -euo pipefail

CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
    echo "chromium already installed: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "no $CHROMIUM and no apt-get: install Chromium yourself and set CHROMIUM=/path/to/it" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core
echo "installed: $(/usr/bin/chromium --version)"
