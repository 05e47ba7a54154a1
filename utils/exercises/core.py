"""Graded exercises that answer at once, and never crash the notebook.

A lesson defines each exercise once, in ``utils/exercises/lessonNN.py``::

    euler_step = Exercise(
        id="ex01_euler_step", title="One Euler step", points=2,
        reference=_euler_step,                      # the correct function
        cases=_euler_step_cases,                    # () -> list[Case], built lazily
        hint="y_{n+1} = y_n + h f(t_n, y_n)",
    )

and the notebook uses it in three cells: the learner's answer (an nbgrader solution cell), then
the check (an nbgrader grade cell) which also picks the function later cells use::

    euler_step = ex.euler_step.check(euler_step)   # prints the verdict; returns the function to use

:meth:`Exercise.check` prints one of three verdicts: passed; not attempted yet (the stub still
raises ``NotImplementedError``); or wrong, naming the failed case with expected vs. got. It never
raises. A wrong or unfinished answer is replaced by the reference, and the message says so,
so later cells always run. Verdicts other than "passed" go to stderr: nbgrader's autograde gives a
grade cell zero points when it writes to stderr, so the same cells grade under nbgrader.

:meth:`Exercise.evaluate` is the pure version (returns a :class:`CheckResult`), used by the tests
and by :mod:`utils.grading`, which also runs the hidden cases.
"""

from __future__ import annotations

import inspect
import math
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

__all__ = ["Case", "CheckResult", "Exercise", "PASSED", "NOT_ATTEMPTED", "WRONG"]

PASSED = "passed"
NOT_ATTEMPTED = "not attempted"
WRONG = "wrong"


@dataclass(frozen=True)
class Case:
    """One test of an answer.

    Attributes:
        name: what the case is, in words the learner understands ("dy/dt = -y, y=1, h=0.1").
        expected: the correct result (arrays, tensors, numbers, or tuples of them).
        args: positional arguments the answer is called with: ``answer(*args)``.
        call: instead of ``args``, a function ``call(answer) -> result`` for answers that are not
            called directly (a class to instantiate, a module whose parameters are set first).
        rtol, atol: tolerances of the comparison (``numpy.allclose`` semantics).
    """

    name: str
    expected: Any
    args: tuple = ()
    call: Callable[[Any], Any] | None = None
    rtol: float = 1e-6
    atol: float = 1e-8

    def run(self, answer):
        return self.call(answer) if self.call is not None else answer(*self.args)


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer: status is PASSED, NOT_ATTEMPTED or WRONG."""

    exercise_id: str
    status: str
    message: str
    points: float
    max_points: float

    @property
    def passed(self) -> bool:
        return self.status == PASSED


@dataclass
class Exercise:
    """A graded exercise: its cases, its reference solution, a hint.

    Attributes:
        id: unique id, also the nbgrader ``grade_id`` of its check cell (``exNN_name``).
        title: shown in every verdict.
        points: points for a passing answer (all or nothing).
        reference: the correct implementation; used when the learner's answer is not right yet.
        cases: a function returning the list of :class:`Case` the learner's check runs.
        hint: a nudge, printed by :meth:`hint`.
        hidden_cases: more cases that only the grader runs (:mod:`utils.grading`).
        answer_name: the name the learner's answer has in the notebook (default: the reference's
            name); the grader reads it from the submission.
    """

    id: str
    title: str
    points: float
    reference: Any
    cases: Callable[[], Sequence[Case]]
    hint_text: str
    hidden_cases: Callable[[], Sequence[Case]] | None = None
    answer_name: str = ""
    _cache: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if not self.answer_name:
            self.answer_name = self.reference.__name__.lstrip("_")

    # -- what the notebook calls ----------------------------------------------------------------

    def check(self, answer):
        """Print the verdict on ``answer``; return it if it passed, else the reference.

        Never raises: a wrong or unfinished answer gets a message, and later cells run on.
        """
        result = self.evaluate(answer)
        if result.passed:
            print(f"[passed] {self.title}: {result.message}")
            return answer
        stream = sys.stderr
        label = "[not attempted yet]" if result.status == NOT_ATTEMPTED else "[not yet right]"
        print(f"{label} {self.title}: {result.message}", file=stream)
        print(
            f"  The cells below use the course's reference solution for '{self.answer_name}' "
            "until yours passes.",
            file=stream,
        )
        return self.reference

    def hint(self) -> None:
        """Print a hint."""
        print(f"Hint for '{self.title}':\n{textwrap.indent(self.hint_text.strip(), '  ')}")

    def solution(self) -> None:
        """Print the reference solution's source code, under the names the notebook uses.

        References are private functions (``_euler_step``) of the lesson's exercise module; the
        printed source calls them by the learner's names (``euler_step``).
        """
        source = textwrap.dedent(inspect.getsource(self.reference))
        module = inspect.getmodule(self.reference)
        for value in vars(module).values():
            if isinstance(value, Exercise):
                source = re.sub(rf"\b_{value.answer_name}\b", value.answer_name, source)
        print(source)

    # -- the verdict ----------------------------------------------------------------------------

    def evaluate(self, answer, *, hidden: bool = False) -> CheckResult:
        """Run the cases (and the hidden ones if ``hidden``) on ``answer``; never raises."""
        cases = list(self._cases("cases", self.cases))
        if hidden and self.hidden_cases is not None:
            cases += list(self._cases("hidden", self.hidden_cases))
        if answer is None or answer is Ellipsis:
            return self._result(NOT_ATTEMPTED, f"'{self.answer_name}' is not defined yet.")
        if not callable(answer):
            return self._result(
                WRONG,
                f"'{self.answer_name}' should be a function (or class), got "
                f"{type(answer).__name__}.",
            )
        for case in cases:
            try:
                got = case.run(answer)
            except NotImplementedError:
                return self._result(
                    NOT_ATTEMPTED, "replace `raise NotImplementedError()` with your code."
                )
            except Exception as exc:  # the learner's code failed: report it, never re-raise
                return self._result(
                    WRONG, f"case '{case.name}' raised {type(exc).__name__}: {exc}"
                )
            problem = compare(got, case.expected, rtol=case.rtol, atol=case.atol)
            if problem:
                return self._result(WRONG, f"case '{case.name}': {problem}")
        return self._result(PASSED, f"all {len(cases)} cases match.")

    def _cases(self, key, make):
        if key not in self._cache:
            self._cache[key] = tuple(make())
        return self._cache[key]

    def _result(self, status, message):
        points = self.points if status == PASSED else 0.0
        return CheckResult(self.id, status, message, points, self.points)


# -- comparing a learner's result with the expected one ---------------------------------------


def _to_numpy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return x


def _fmt(x) -> str:
    arr = np.asarray(x)
    if arr.size > 6:
        flat = np.array2string(arr.ravel()[:6], precision=4, separator=", ")
        return f"array of shape {arr.shape} starting {flat[:-1]}, ...]"
    return np.array2string(arr, precision=6, separator=", ") if arr.ndim else f"{float(arr):.6g}"


def compare(got, expected, *, rtol: float, atol: float) -> str:
    """Return '' if ``got`` matches ``expected``, else a sentence saying how it differs."""
    if isinstance(expected, (tuple, list)) and not _is_number_seq(expected):
        if not isinstance(got, (tuple, list)) or len(got) != len(expected):
            return f"expected {len(expected)} results (a tuple), got {_describe(got)}"
        for i, (g, e) in enumerate(zip(got, expected, strict=True)):
            problem = compare(g, e, rtol=rtol, atol=atol)
            if problem:
                return f"result {i}: {problem}"
        return ""
    if isinstance(expected, torch.Tensor) and not isinstance(got, torch.Tensor):
        return f"expected a torch tensor, got {_describe(got)}"
    got_np, exp_np = _to_numpy(got), np.asarray(_to_numpy(expected))
    try:
        got_arr = np.asarray(got_np, dtype=float)
    except (TypeError, ValueError):
        return f"expected {_fmt(exp_np)}, got {_describe(got)}"
    if got_arr.shape != exp_np.shape:
        return f"expected shape {exp_np.shape}, got shape {got_arr.shape}"
    if not np.isfinite(got_arr).all():
        return f"the result contains NaN or inf: {_fmt(got_arr)}"
    if not np.allclose(got_arr, exp_np, rtol=rtol, atol=atol):
        diff = float(np.max(np.abs(got_arr - exp_np)))
        return f"expected {_fmt(exp_np)}, got {_fmt(got_arr)} (largest difference {diff:.3g})"
    return ""


def _is_number_seq(x) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in x)


def _describe(x) -> str:
    if x is None:
        return "None (did the function forget to `return`?)"
    if isinstance(x, (torch.Tensor, np.ndarray)):
        return f"{type(x).__name__} of shape {tuple(x.shape)}"
    if isinstance(x, float) and math.isnan(x):
        return "NaN"
    return f"{type(x).__name__} {x!r}"[:200]
