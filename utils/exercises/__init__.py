"""Graded exercises: the mechanism (:mod:`.core`) and one module per lesson (``lessonNN``).

``registry()`` finds every ``Exercise`` of every ``lessonNN`` module, for tests and grading.
"""

from __future__ import annotations

import importlib
import pkgutil

from .core import NOT_ATTEMPTED, PASSED, WRONG, Case, CheckResult, Exercise

__all__ = [
    "Case", "CheckResult", "Exercise", "PASSED", "NOT_ATTEMPTED", "WRONG",
    "lesson_modules", "registry",
]


def lesson_modules() -> dict[str, object]:
    """{'lesson01': module, ...} for every ``utils/exercises/lessonNN.py``, in lesson order."""
    names = sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name.startswith("lesson"))
    return {name: importlib.import_module(f"{__name__}.{name}") for name in names}


def registry() -> dict[str, Exercise]:
    """Every exercise of the course by id, e.g. ``registry()["ex01_euler_step"]``."""
    found = {}
    for module in lesson_modules().values():
        for value in vars(module).values():
            if isinstance(value, Exercise):
                if value.id in found and found[value.id] is not value:
                    raise ValueError(f"two exercises share the id {value.id!r}")
                found[value.id] = value
    return found
