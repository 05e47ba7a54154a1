"""Lessons speak to learners, not to maintainers (issue 23, point 4).

Run-time budgets, prototypes, redraw timings and the machine a build ran on belong in
docs/benchmarks.md (rendered by bench/run.py), not in a lesson. This test greps every lesson
source for phrases that have crept in before. A hit names the file, the line and the phrase.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

LESSONS = sorted((Path(__file__).resolve().parents[1] / "lessons_src").glob("[0-9][0-9]_*.py"))

# Lower-case phrases (matched case-insensitively, across line breaks: the prose is wrapped).
MAINTAINER_PHRASES = (
    "under a minute",
    "in a minute",
    "one-minute",
    "lesson's minute",
    "the lesson's budget",
    "fit the budget",
    "fits the budget",
    "fits in the lesson",
    "within the budget",
    "time budget",
    "must run in",
    "to keep the lesson quick",
    "to keep the lesson fast",
    "prototype",
    "cpu time",
    "cpu seconds",
    "of cpu",
    "on two cores",
    "on 2 cores",
    "2 cpu cores",
    "two cpu cores",
    "2-core",
    "two quiet cores",
    "quiet machine",
    "busy machine",
    "redraw took",
    "redraw time",
    "redraw timing",
    "ms per redraw",
    "this notebook so far",
    "with wide margins",
    "nbval",
    "portable kernel",
    "the grader's cell limit",
)


def _normalised(text: str) -> str:
    """Cell markers dropped (their tags name nbval), comment markers and line breaks folded
    into single spaces, lower case."""
    text = "\n".join(line for line in text.splitlines() if not line.startswith("# %%"))
    text = re.sub(r"\n\s*#\s?", " ", text)
    return re.sub(r"\s+", " ", text).lower()


def test_there_are_lessons():
    assert len(LESSONS) >= 10


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.name)
def test_no_maintainer_speak(path):
    raw = path.read_text(encoding="utf-8")
    text = _normalised(raw)
    hits = []
    for phrase in MAINTAINER_PHRASES:
        for match in re.finditer(re.escape(phrase), text):
            hits.append(f"{phrase!r}: …{text[max(0, match.start() - 60):match.end() + 60]}…")
    assert not hits, f"{path.name} speaks to maintainers:\n" + "\n".join(hits)


def test_the_phrase_list_catches_what_it_should():
    sample = "# This lesson must run in under a\n# minute on two cores; a prototype took 2 s.\n"
    text = _normalised(sample)
    found = [p for p in MAINTAINER_PHRASES if p in text]
    assert {"must run in", "under a minute", "on two cores", "prototype"} <= set(found)
