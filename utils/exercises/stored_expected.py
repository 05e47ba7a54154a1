"""Expected outcomes of the visible cases, stored for a copy of the course without references.

A check cell judges an answer against the reference solution's outcome on the same case
(:func:`utils.exercises.judge.expected_outcomes`). The learner distribution (``make
student-dist``) leaves the reference solutions out, so it ships, instead, what they produced on
the **visible** cases, computed once when the distribution is built: one JSON file,
``expected_outcomes.json``, next to this module. The hidden cases' expected values are not
stored: with them a learner could read off what the grader expects on every case. So in that copy
a check cell judges the visible cases only and says that the hidden ones run when the work is
graded (:meth:`utils.exercises.core.Exercise.check`).

The file uses the judge's own wire format (:meth:`Outcome.to_json`, :meth:`Value.to_json`: plain
JSON and ``.npy`` bytes, no pickle), plus each case's ``mistake`` (what the case's ``why_if``
wrong answer gives, so the "because ..." sentence of a message still appears). Values are compared
with the case's tolerances as usual, so a learner's machine whose float digits differ from the
build machine's in the last places still passes a right answer
(``tests/test_learner_distribution.py`` checks the references against the stored file under
PyTorch's portable CPU kernels).

Layout: ``{"format": 1, "exercises": {exercise id: {case name: {"outcome", "mistake"}}}}``.
"""

from __future__ import annotations

import json
from pathlib import Path

from .judge import Outcome, Value, expected_outcomes

__all__ = ["FILE_NAME", "FORMAT", "build", "load", "write"]

FILE_NAME = "expected_outcomes.json"
FORMAT = 1
_DEFAULT = Path(__file__).resolve().parent / FILE_NAME


def build(exercises) -> dict:
    """The stored form of every visible case's expected outcome of ``exercises`` (an iterable of
    :class:`~utils.exercises.core.Exercise`). Needs the reference solutions installed."""
    stored: dict[str, dict] = {}
    for exercise in exercises:
        cases = exercise.case_list(hidden=False)
        per_case = {}
        for case, outcome in zip(cases, expected_outcomes(exercise, cases), strict=True):
            per_case[case.name] = {
                "outcome": outcome.to_json(),
                "mistake": None if outcome.mistake is None else outcome.mistake.to_json(),
            }
        stored[exercise.id] = per_case
    return {"format": FORMAT, "exercises": stored}


def write(exercises, path: Path) -> Path:
    """Write :func:`build`'s result to ``path`` (a JSON file); returns ``path``."""
    path = Path(path)
    path.write_text(json.dumps(build(exercises), sort_keys=True) + "\n", encoding="utf-8")
    return path


_LOADED: dict[Path, dict | None] = {}


def load(exercise_id: str, case_name: str, path: Path | None = None) -> Outcome | None:
    """The stored expected outcome of one visible case, or None when none is stored (no file:
    the references are installed here, or the case is hidden, or the distribution predates it).

    Raises ValueError, naming the file, if the file is not one :func:`write` wrote.
    """
    path = _DEFAULT if path is None else Path(path)
    if path not in _LOADED:
        _LOADED[path] = _read(path) if path.is_file() else None
    data = _LOADED[path]
    if data is None:
        return None
    entry = data["exercises"].get(exercise_id, {}).get(case_name)
    if entry is None:
        return None
    outcome = Outcome.from_json(entry["outcome"])
    if entry.get("mistake") is not None:
        from dataclasses import replace

        outcome = replace(outcome, mistake=Value.from_json(entry["mistake"]))
    return outcome


def _read(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ValueError(f"{path} is not readable JSON ({exc}); rebuild the distribution "
                         "with `make student-dist`") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(
            data.get("exercises"), dict):
        raise ValueError(f"{path} is not a stored-expected-outcomes file of format {FORMAT}; "
                         "rebuild the distribution with `make student-dist`")
    return data
