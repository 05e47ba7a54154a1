"""Verdicts, outside the sandbox: expected values and the course's one judge.

The expected outcomes come from the reference solutions (or a case's closed form) run here, in
the grading process, by :func:`utils.exercises.judge.expected_outcomes`; the sandbox only ever
sees each case without its expected value. The outcomes that come back from the sandbox are
parsed defensively (:meth:`Outcome.from_json`: no pickle) and judged with
:func:`utils.exercises.judge.judge`, the same judge as the learners' check cells.
"""

from __future__ import annotations

import ast
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["OUT_OF_MEMORY", "Expected", "expected_for", "reference_parts", "reference_source",
           "verdict"]

# The exercise statuses of grades.csv beyond the judge's three (passed, not attempted, wrong).
_NOT_ATTEMPTED = "not_attempted"
#: What an out-of-memory failure says (a raised error's text, a dead kernel's last words); the
#: grader's one definition (:mod:`grader.describe` reads it too).
OUT_OF_MEMORY = re.compile(
    r"MemoryError|can't allocate memory|Cannot allocate memory|out of memory", re.IGNORECASE)


@dataclass(frozen=True)
class Expected:
    """An exercise's cases (visible then hidden) and the expected outcome of each."""

    cases: list
    outcomes: list


def expected_for(exercise) -> Expected:
    """Build the exercise's cases as the sandbox builds them, and run the reference on them."""
    from utils.exercises.judge import expected_outcomes

    cases = exercise.case_list(hidden=True)
    return Expected(cases, expected_outcomes(exercise, cases))


def verdict(exercise, data, expected: Expected) -> tuple[str, str]:
    """(status, message) for one exercise from what the sandbox sent (``data``, untrusted)."""
    from utils.exercises.judge import Outcome, Status, judge

    if not isinstance(data, dict) or data.get("exercise") != exercise.id:
        return "not_graded", "the grader received no readable results for this exercise"
    raw = data.get("outcomes")
    if not isinstance(raw, list) or len(raw) != len(expected.cases):
        count = len(raw) if isinstance(raw, list) else 0
        return "not_graded", (f"the grader received {count} results for "
                              f"{len(expected.cases)} cases")
    try:
        outcomes = [Outcome.from_json(item) for item in raw]
    except (ValueError, TypeError, RecursionError) as exc:
        return "not_graded", f"the results sent could not be read ({str(exc)[:200]})"
    for outcome, case in zip(outcomes, expected.cases, strict=True):
        if outcome.case != case.name[:300]:
            return "not_graded", "the results sent are not for this exercise's cases"
    result = judge(exercise, expected.cases, outcomes, expected.outcomes)
    status = {Status.PASSED: "passed", Status.NOT_ATTEMPTED: _NOT_ATTEMPTED}.get(
        result.status, "wrong")
    if status == "wrong":
        if any(o.status == "raised" and OUT_OF_MEMORY.search(o.error) for o in outcomes):
            status = "out_of_memory"
        elif any(o.status == "raised" for o in outcomes) and "raised" in result.message:
            status = "error"
        elif "NaN or inf" in result.message:
            status = "nan"
    return status, result.message


def _top_level_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    names = set()
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def reference_source(exercise) -> str | None:
    """The source of the exercise's reference and only what it needs from its module.

    Sent into the sandbox after the exercise's outcomes have left it, as the fallback later
    cells use (what the check cell returns when an answer fails). Module imports are kept; of
    the module's other definitions only those the reference uses (directly or indirectly).
    """
    parts = reference_parts(exercise)
    return None if parts is None else parts[0]


def reference_parts(exercise) -> tuple[str, set[str]] | None:
    """(:func:`reference_source`, the names of the module's definitions it holds).

    The names say which other references travel with this one (``euler_solve`` brings
    ``euler_step``): the grader must not send it while one of them is still to be graded.
    """
    module_name, function = exercise.reference_path.rsplit(".", 1)
    spec = importlib.util.find_spec(f"utils.exercises.solutions.{module_name}")
    if spec is None or spec.origin is None:
        return None
    source = Path(spec.origin).read_text(encoding="utf-8")
    tree = ast.parse(source)
    defines: dict[str, ast.stmt] = {}
    for node in tree.body:
        for name in _top_level_names(node):
            defines[name] = node
    if function not in defines:
        return None
    keep: set[int] = set()
    todo = [defines[function]]
    while todo:
        node = todo.pop()
        if id(node) in keep:
            continue
        keep.add(id(node))
        used = {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
        todo += [defines[name] for name in used if name in defines]
    lines = source.splitlines()
    parts = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) or id(node) in keep:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            parts.append("\n".join(lines[first - 1: node.end_lineno]))
    names = {name for name, node in defines.items() if id(node) in keep}
    return "\n\n".join(parts) + "\n", names
