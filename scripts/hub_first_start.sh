#!/bin/sh
# The course's first-start hook on a JupyterHub (postBuild installs it as
# <env>/share/neural-ode-course/first_start.sh; the hub's config.yaml runs it as the
# single-user server's postStart hook: docs/instructors.md).
# Copies the learner notebooks into the user's home on first start: COURSE_DIR
# (default ~/neural-ode-course). An existing folder is never touched, so a learner's work
# survives restarts and image updates; a learner who wants a fresh copy renames theirs.
set -eu
SRC="${COURSE_NOTEBOOKS:-$(dirname "$0")/notebooks}"
DEST="${COURSE_DIR:-$HOME/neural-ode-course}"
if [ -e "$DEST" ]; then
    exit 0
fi
mkdir -p "$DEST.partial"
cp -R "$SRC/." "$DEST.partial/"
mv "$DEST.partial" "$DEST"
