"""Graded exercises: the mechanism (:mod:`.core`, :mod:`.judge`), one module of cases per lesson
(``lessonNN``) and the reference solutions (:mod:`.solutions`).

``registry()`` finds every ``Exercise`` of every ``lessonNN`` module, for tests and grading;
``self_check("lesson01")`` judges a learner's current answers the way the grader will.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys

from ..course import VERDICT_LABELS
from .core import Case, CheckResult, Exercise, ReferenceWithheld, Status

PASSED, NOT_ATTEMPTED, WRONG = Status.PASSED, Status.NOT_ATTEMPTED, Status.WRONG

__all__ = [
    "Case", "CheckResult", "Exercise", "ReferenceWithheld", "Status",
    "PASSED", "NOT_ATTEMPTED", "WRONG", "lesson_modules", "registry", "lesson_exercises",
    "self_check",
]


def lesson_modules() -> dict[str, object]:
    """{'lesson01': module, ...} for every ``utils/exercises/lessonNN.py``, in lesson order."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("lesson"))
    return {name: importlib.import_module(f"{__name__}.{name}") for name in names}


def lesson_exercises(lesson: str) -> list[Exercise]:
    """The exercises of one lesson (``"lesson01"`` or ``"01"``), in the order they appear."""
    name = lesson if lesson.startswith("lesson") else f"lesson{lesson}"
    modules = lesson_modules()
    if name not in modules:
        raise ValueError(f"no lesson {lesson!r}: known lessons are {', '.join(modules)}")
    return [v for v in vars(modules[name]).values() if isinstance(v, Exercise)]


def registry() -> dict[str, Exercise]:
    """Every exercise of the course by id, e.g. ``registry()["ex01_euler_step"]``."""
    found: dict[str, Exercise] = {}
    for module in lesson_modules().values():
        for value in vars(module).values():
            if isinstance(value, Exercise):
                if value.id in found and found[value.id] is not value:
                    raise ValueError(f"two exercises share the id {value.id!r}")
                found[value.id] = value
    return found


def self_check(lesson: str, namespace: dict | None = None, *, quiet: bool = False
               ) -> list[CheckResult]:
    """Judge every exercise of ``lesson`` on the learner's current answers, as the grader will.

    ``namespace`` holds the learner's definitions (default: the calling notebook's globals).
    Runs the visible and the hidden cases; a hidden case that fails is named, its values are not
    shown. Prints one line per exercise (unless ``quiet``) and returns the results.
    """
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    from .judge import UNDEFINED

    results = []
    left_to_grader = 0  # hidden cases judged only by the grader (no references installed)
    for exercise in lesson_exercises(lesson):
        answer = namespace.get(exercise.answer_name, UNDEFINED)
        try:
            if answer is exercise.reference:  # a check cell put the reference in place:
                answer = exercise.last_answer  # judge what the learner wrote
        except ReferenceWithheld:
            pass
        try:
            result, unjudged = exercise._evaluate(answer, hidden=True)
        except ReferenceWithheld:
            print(f"The self-check needs the course's references or their stored outcomes, "
                  f"and neither is installed here ({lesson}).")
            return []
        results.append(result)
        left_to_grader += unjudged if result.passed else 0
    if not quiet:
        total = sum(r.points for r in results)
        print(f"Self-check of {lesson}: {total:g} of {sum(r.max_points for r in results):g} points"
              + (f" if the {left_to_grader} hidden cases this copy cannot judge pass at grading"
                 if left_to_grader else ""))
        for exercise, r in zip(lesson_exercises(lesson), results, strict=True):
            mark = VERDICT_LABELS.get(r.status.value, VERDICT_LABELS[WRONG.value])
            if r.passed and exercise.unjudged_hidden():
                mark = "passed the visible cases"
            print(f"  [{mark}] {exercise.title}" + ("" if r.passed else f": {r.message}"))
    return results
