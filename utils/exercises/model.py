"""What a check is made of: the cases an answer runs on, and the verdict it gets.

- :class:`Case`: one test of an answer (its inputs, how to call the answer, tolerances, and the
  mistake it guards against);
- :class:`Status` and :class:`CheckResult`: the verdict on an answer;
- markers: :data:`FROM_REFERENCE` (the expected value is the reference's result),
  :data:`WITHHELD` (the expected value was removed before learner code ran) and
  :data:`UNDEFINED` (the learner has not defined the answer's name).

What one run of an answer produced is in :mod:`.wire`; running it is :mod:`.running`; deciding
and wording the verdict is :mod:`.verdict`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

__all__ = ["FROM_REFERENCE", "UNDEFINED", "WITHHELD", "Case", "CheckResult", "Status"]


class Status(enum.StrEnum):
    """The verdict on an exercise. A ``str``, so ``Status.PASSED == "passed"``."""

    PASSED = "passed"
    NOT_ATTEMPTED = "not attempted"
    WRONG = "wrong"


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name

    def __deepcopy__(self, memo):
        return self


FROM_REFERENCE = _Marker("FROM_REFERENCE")  #: expected = the reference's result on the same inputs
WITHHELD = _Marker("WITHHELD")  #: expected value removed before learner code runs (grader)


class _Undefined:
    def __repr__(self):
        return "UNDEFINED"


UNDEFINED = _Undefined()  #: the answer's name is not defined in the learner's namespace


@dataclass(frozen=True)
class Case:
    """One test of an answer.

    Attributes:
        name: what the case is, in words the learner understands ("dy/dt = -y, y=1, h=0.1").
        expected: the correct result, when a closed form is known; by default (``FROM_REFERENCE``)
            the reference's result on fresh copies of the same inputs.
        args: the inputs. Direct cases call ``answer(*args)``.
        call: a harness for answers that are used inside something else (a solver, a training
            step): ``call(answer, *args) -> result``, so the answer is checked where the lesson
            uses it.
        rtol, atol: tolerances of the comparison (``numpy.allclose`` semantics).
        no_grad: run the call under ``torch.no_grad()``, as an adjoint's backward pass does.
        why: one sentence on the mistake the case guards against, added to the message only when
            that mistake is what went wrong: the failure is of a kind in ``why_on`` and, if
            ``why_if`` is given, the answer's result matches the mistake's.
        why_on: the kinds of failure ``why`` explains (default: wrong values), among "values",
            "shape", "dtype", "kind", "no_grad" (the result does not require grad), "gradient"
            (gradients through the result differ), "checker" (a harness could not use it).
        why_if: the mistake itself, written as a wrong answer (a module-level function): when
            given, ``why`` shows only if the answer's result matches this function's result.
        may_change: positions of the answer's arguments it is meant to change in place (a model
            that an optimizer step updates); every other argument must come back unchanged.
        result_names: what each item of a tuple result is ("dL/dh0", ...), used in messages.
        hidden: set by :meth:`Exercise.case_list` on the grader's hidden cases; their messages
            never show values.
        withheld: course functions (dotted names) that answer the exercise, withheld while the
            answer runs on this case (:mod:`.withholding`); set by :meth:`Exercise.case_list`.
        asked_by: the exercise's short title ("Exercise 1.1"), for the withheld message.
    """

    name: str
    expected: Any = FROM_REFERENCE
    args: tuple = ()
    call: Callable[..., Any] | None = None
    rtol: float = 1e-6
    atol: float = 1e-8
    no_grad: bool = False
    why: str = ""
    why_on: tuple[str, ...] = ("values",)
    why_if: Callable[..., Any] | None = None
    may_change: tuple[int, ...] = ()
    result_names: tuple[str, ...] = ()
    hidden: bool = False
    withheld: tuple[str, ...] = ()
    asked_by: str = ""

    def without_expected(self) -> Case:
        """The same case with its expected value removed: what may go near learner code."""
        return replace(self, expected=WITHHELD)

    @property
    def label(self) -> str:
        return f"{'hidden case' if self.hidden else 'case'} '{self.name}'"


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one answer."""

    exercise_id: str
    status: Status
    message: str
    points: float
    max_points: float

    @property
    def passed(self) -> bool:
        return self.status == Status.PASSED
