"""Running an answer on one case, and recording what happened as plain data.

:func:`run_case` calls the learner's answer (or the reference: :func:`expected_outcomes` runs it
the same way) on one :class:`~.model.Case`, in the learner's kernel or the grader's sandbox:

- on fresh deep copies of the case's inputs, compared afterwards with copies taken before the
  call, so an answer that changes an argument in place is caught (as is one that switches on
  ``requires_grad`` of the caller's tensor);
- with the random generators seeded and then restored (:func:`.seeding.seeded`), so a check
  never changes the lesson's random stream;
- with the course functions that would answer the exercise withheld (:mod:`.withholding`);
- through the case's harness when it has one (``call(answer, *args)``), so the answer is checked
  where the lesson uses it, and under ``torch.no_grad()`` when the case says so.

What comes back is an :class:`~.wire.Outcome`: the result described as plain data, or the error
worded at the learner's own line (:func:`.errors.explain_error`), plus the gradients through the
result (to catch a graph cut anywhere inside). It never raises. Whether it is right is decided
elsewhere (:mod:`.verdict`), possibly in another process.
"""

from __future__ import annotations

import copy
import inspect
import warnings
from collections.abc import Iterable
from contextlib import nullcontext
from dataclasses import replace
from typing import Any

import numpy as np
import torch

from .errors import error_words, explain_error
from .model import FROM_REFERENCE, UNDEFINED, WITHHELD, Case
from .seeding import seeded
from .text import cap
from .wire import Outcome, Value, describe
from .withholding import withholding

__all__ = ["expected_outcomes", "run_case"]




class _AnswerRaised(Exception):
    """Carries an exception raised inside the learner's function through a harness."""

    def __init__(self, original: BaseException):
        super().__init__(str(original))
        self.original = original


def _snapshot(x, depth: int = 0):
    """A copy of the arrays/tensors inside ``x`` (for spotting in-place changes), or None."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, torch.nn.Module):
        return {k: v.detach().clone() for k, v in x.state_dict().items()}
    if isinstance(x, (list, tuple)) and depth < 3:
        return type(x)(_snapshot(v, depth + 1) for v in x) if isinstance(x, tuple) else [
            _snapshot(v, depth + 1) for v in x]
    if isinstance(x, dict) and depth < 3:
        return {k: _snapshot(v, depth + 1) for k, v in x.items()}
    return None


def _unchanged(before, x, depth: int = 0) -> bool:
    if before is None:
        return True
    if isinstance(before, torch.Tensor):
        if not isinstance(x, torch.Tensor) or x.shape != before.shape:
            return False
        now = x.detach()
        return bool(torch.equal(now, before) or (
            now.is_floating_point() and torch.equal(torch.isnan(now), torch.isnan(before))
            and torch.equal(torch.nan_to_num(now), torch.nan_to_num(before))))
    if isinstance(before, np.ndarray):
        return (isinstance(x, np.ndarray) and x.shape == before.shape
                and bool(np.array_equal(x, before, equal_nan=before.dtype.kind in "fc")))
    if isinstance(before, dict) and isinstance(x, torch.nn.Module):
        return _unchanged(before, {k: v for k, v in x.state_dict().items()}, depth)
    if isinstance(before, dict):
        return (isinstance(x, dict) and before.keys() == x.keys()
                and all(_unchanged(before[k], x[k], depth + 1) for k in before))
    if isinstance(before, (list, tuple)):
        return (isinstance(x, (list, tuple)) and len(x) == len(before)
                and all(_unchanged(b, v, depth + 1) for b, v in zip(before, x, strict=True)))
    return True


def _argument_names(function, count: int) -> list[str]:
    try:
        params = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return (names + [f"argument {i + 1}" for i in range(len(names), count)])[:count]


def _grad_flags(x, depth: int = 0):
    """The ``requires_grad`` flags of the tensors in ``x`` (to spot ``requires_grad_`` on the
    caller's tensor), or None where there is no tensor."""
    if isinstance(x, torch.Tensor):
        return bool(x.requires_grad)
    if isinstance(x, (list, tuple)) and depth < 3:
        return tuple(_grad_flags(v, depth + 1) for v in x)
    return None


class _GradWatch:
    """Notes whether the answer called ``torch.autograd.grad`` without ``create_graph=True``
    (a gradient that exists but cannot be differentiated again)."""

    def __init__(self):
        self.without_graph = False
        self.original = None

    def __enter__(self):
        self.original = original = torch.autograd.grad

        def grad(*args, **kwargs):
            create = kwargs.get("create_graph", args[4] if len(args) > 4 else False)
            if not create and torch.is_grad_enabled():
                self.without_graph = True
            return original(*args, **kwargs)

        grad.__wrapped__ = original
        torch.autograd.grad = grad
        return self

    def __exit__(self, *exc):
        torch.autograd.grad = self.original
        return False


class _Recorder:
    """Calls the answer for a harness, noting in-place changes and the last value returned."""

    def __init__(self, answer, may_change: Iterable[int] = (), withheld: Iterable[str] = (),
                 asked_by: str = "") -> None:
        self.answer = answer
        self.may_change = set(may_change)
        self.withheld, self.asked_by = tuple(withheld), asked_by
        self.mutated: list[str] = []
        self.last_return: Any = None
        self.calls = 0
        self.flags: list[str] = []
        self.__name__ = getattr(answer, "__name__", "answer")

    def __call__(self, *args, **kwargs):
        before = [None if i in self.may_change else _snapshot(a) for i, a in enumerate(args)]
        flags = [None if i in self.may_change else _grad_flags(a) for i, a in enumerate(args)]
        watch = _GradWatch()
        try:
            with withholding(self.withheld, self.asked_by), watch:
                result = self.answer(*args, **kwargs)
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            self._note(watch)
            raise _AnswerRaised(exc) from exc
        self._note(watch)
        self.calls += 1
        self.last_return = result
        names = _argument_names(self.answer, len(args))
        if not self.mutated:
            self.mutated = [n for n, b, a in zip(names, before, args, strict=True)
                            if not _unchanged(b, a)]
        for name, flag, arg in zip(names, flags, args, strict=True):
            note = f"requires_grad_changed:{name}"
            if flag is not None and flag != _grad_flags(arg) and note not in self.flags:
                self.flags.append(note)
        return result

    def _note(self, watch) -> None:
        if watch.without_graph and "no_create_graph" not in self.flags:
            self.flags.append("no_create_graph")


def run_case(answer, case: Case) -> Outcome:
    """Run ``answer`` on ``case``; never raises (but for KeyboardInterrupt and SystemExit).

    The answer gets fresh deep copies of ``case.args``; the random number generators are seeded
    (0) for the call and restored afterwards, so checking never changes a lesson's random stream.
    """
    if answer is UNDEFINED or answer is None or answer is Ellipsis:
        return Outcome(case.name, "undefined")
    if not callable(answer):
        return Outcome(case.name, "not callable", value=describe(answer),
                       error=f"got {type(answer).__name__}")
    args = copy.deepcopy(case.args)
    recorder = _Recorder(answer, case.may_change, case.withheld, case.asked_by)
    with seeded(0):
        try:
            with warnings.catch_warnings():  # the verdict, not library warnings, is what to read
                warnings.simplefilter("ignore")
                with torch.no_grad() if case.no_grad else nullcontext():
                    if case.call is not None:
                        result = case.call(recorder, *args)
                    else:
                        result = recorder(*args)
            gradient = _input_gradients(result, args) if case.call is None else None
        except _AnswerRaised as wrapped:
            exc = wrapped.original
            if isinstance(exc, NotImplementedError):
                return Outcome(case.name, "not attempted", mutated=tuple(recorder.mutated))
            return Outcome(case.name, "raised", error=explain_error(exc),
                           mutated=tuple(recorder.mutated), flags=tuple(recorder.flags))
        except Exception as exc:  # the harness failed on what the answer returned
            return Outcome(case.name, "checker failed",
                           error=cap(f"{type(exc).__name__}: {exc}", 400),
                           mutated=tuple(recorder.mutated),
                           last_return=describe(recorder.last_return) if recorder.calls else None,
                           flags=tuple(recorder.flags))
    return Outcome(case.name, "returned", value=describe(result), mutated=tuple(recorder.mutated),
                   last_return=describe(recorder.last_return) if case.call is not None else None,
                   gradient=gradient, flags=tuple(recorder.flags))


def _leaves(x, found: list, depth: int = 0) -> list:
    """Every tensor that requires grad among ``x`` (tensors, modules' parameters, lists)."""
    if isinstance(x, torch.Tensor):
        if x.requires_grad and x.is_leaf:
            found.append(x)
    elif isinstance(x, torch.nn.Module):
        found.extend(p for p in x.parameters() if p.requires_grad)
    elif isinstance(x, (list, tuple)) and depth < 3:
        for v in x:
            _leaves(v, found, depth + 1)
    return found


def _outputs(x, found: list, depth: int = 0) -> list:
    if isinstance(x, torch.Tensor) and x.requires_grad and x.is_floating_point():
        found.append(x)
    elif isinstance(x, (list, tuple)) and depth < 3:
        for v in x:
            _outputs(v, found, depth + 1)
    return found


def _input_gradients(result, args) -> Value | None:
    """d(fixed random projection of the result) / d(every input that requires grad).

    Compared with the reference's, this catches a graph cut anywhere inside the answer
    (``.detach()`` on one stage, a NumPy detour in one layer), which "the result requires grad"
    alone does not.
    """
    outputs, leaves = _outputs(result, []), _leaves(args, [])
    if not outputs or not leaves:
        return None
    generator = torch.Generator().manual_seed(1234)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            total = sum((o * torch.rand(o.shape, generator=generator, dtype=o.dtype)).sum()
                        for o in outputs)
            grads = torch.autograd.grad(total, leaves, allow_unused=True)
    except Exception as exc:  # e.g. an in-place change of a tensor autograd needed
        return Value("other", text=f"backpropagating through your result failed: "
                                  f"{error_words(exc, 240)}")
    return describe(tuple(torch.zeros_like(leaf) if g is None else g
                          for leaf, g in zip(leaves, grads, strict=True)))


def expected_outcomes(exercise, cases: Iterable[Case]) -> list[Outcome]:
    """The expected outcome of each case: its closed form, else the reference run on it."""
    out = []
    for case in cases:
        if case.expected is WITHHELD:
            raise ValueError(f"{case.label} has had its expected value removed")
        if case.expected is FROM_REFERENCE:
            outcome = run_case(exercise.reference, case)
        else:
            outcome = Outcome(case.name, "returned", value=describe(case.expected))
        if case.why_if is not None:
            mistake = run_case(case.why_if, replace(case, withheld=()))
            outcome = replace(outcome, mistake=mistake.value)
        out.append(outcome)
    return out
