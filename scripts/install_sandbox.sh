#!/usr/bin/env bash
# Install the sandbox the grader runs learner code in: bubblewrap (Debian package `bubblewrap`,
# the `bwrap` command), a maintained tool used by Flatpak. Idempotent: does nothing when `bwrap`
# is already on PATH. Called by `make grade` and `make release`-free test runs alike.
# Usage: scripts/install_sandbox.sh      (as root, or with sudo available)
set -euo pipefail

if command -v bwrap >/dev/null; then
    echo "bubblewrap already installed: $(bwrap --version)"
    exit 0
fi
if ! command -v apt-get >/dev/null; then
    echo "no bwrap and no apt-get: install bubblewrap with your system's package manager" \
         "(e.g. dnf install bubblewrap), or grade with --no-sandbox (see docs/instructors.md)" >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends bubblewrap
echo "installed: $(bwrap --version)"
