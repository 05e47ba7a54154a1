"""The verdict on an answer, and its wording: what the learner reads.

:func:`judge` compares an answer's outcomes (:func:`.running.run_case`) with the expected ones
(:func:`.running.expected_outcomes`: the reference run the same way, or a closed form), case by
case, and returns one :class:`~.model.CheckResult`. The check cells
(:meth:`~.core.Exercise.check`) and the grader (:mod:`grader.verdicts`) both use it, so a
learner's check and the grade never disagree.

The contract an answer must meet is read off the reference's outcome on the same case: the same
kind of result (a NumPy array, a tensor, a tuple ...), dtype, shape and values (``numpy.allclose``
with the case's tolerances), no NaN or inf, and, if the reference's result requires grad, the
answer's does too, with the same gradients (later cells differentiate through it). The first
failure decides the message, in the order of causes (:func:`_diagnose`); a hidden case's message
names the case, never its values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from .model import Case, CheckResult, Status
from .text import KIND_WORDS, cap, fmt, relative_difference
from .wire import Outcome, Value

__all__ = ["case_problem", "judge"]


def judge(exercise, cases: Iterable[Case], outcomes: Iterable[Outcome],
          expected: Iterable[Outcome]) -> CheckResult:
    """The verdict on an answer from its outcomes on ``cases`` and the expected outcomes.

    Cases are judged in order and the first that fails decides the verdict; the iterables are
    consumed lazily, so a caller may run cases one by one and stop at the first failure.
    A hidden case's message names the case (and the mistake it guards against, when that is
    what went wrong), never its values.
    """
    count = 0
    hidden = 0
    for case, got, want in zip(cases, outcomes, expected, strict=False):
        count += 1
        hidden += case.hidden
        status, kind, problem = _diagnose(exercise, case, got, want)
        if problem:
            if status == Status.WRONG and _why_applies(case, kind, got, want):
                problem = f"{problem.rstrip('.')} ({case.why})"
            return _result(exercise, status, problem)
    if count == 0:
        return _result(exercise, Status.WRONG, "no cases were run")
    shown = f"all {count - hidden} cases match" if not hidden else (
        f"all {count - hidden} cases and {hidden} hidden case{'' if hidden == 1 else 's'} match")
    return _result(exercise, Status.PASSED, shown + ".")


def _why_applies(case: Case, kind: str, got: Outcome, want: Outcome) -> bool:
    """Whether the case's ``why`` explains this failure: its kind, and the mistake's result."""
    if not case.why or kind not in case.why_on:
        return False
    if case.why_if is None:
        return True
    if want.mistake is None or got.value is None:
        return False
    loose = replace(case, rtol=max(case.rtol, 1e-5), atol=max(case.atol, 1e-7), result_names=())
    return _compare(got.value, want.mistake, loose, hidden=True) == ("", "")


def _result(exercise, status: Status, message: str) -> CheckResult:
    points = exercise.points if status == Status.PASSED else 0.0
    return CheckResult(exercise.id, status, message, points, exercise.points)


def case_problem(exercise, case: Case, got: Outcome, want: Outcome) -> tuple[Status, str]:
    """(status, '') if ``got`` is right for ``case``, else (status, a sentence for the learner)."""
    status, _, problem = _diagnose(exercise, case, got, want)
    return status, problem


_CREATE_GRAPH = (
    "your function takes a gradient with torch.autograd.grad but without create_graph=True, so "
    "the gradient it returns is a plain tensor that cannot be differentiated again; training "
    "backpropagates through it: pass create_graph=True")


def _wants_graph(want: Outcome) -> bool:
    """Whether the reference's result on this case can be differentiated (requires grad)."""
    return want.gradient is not None or _any_requires_grad(want.value) or (
        want.last_return is not None and _any_requires_grad(want.last_return))


def _any_requires_grad(value: Value | None) -> bool:
    return value is not None and (value.requires_grad
                                  or any(_any_requires_grad(v) for v in value.items))


def _diagnose(exercise, case: Case, got: Outcome, want: Outcome) -> tuple[Status, str, str]:
    """(status, kind of failure, message); the message is '' if ``got`` is right.

    The order is the order of causes: missing ``create_graph``, an argument changed (in place,
    or its ``requires_grad`` switched on), then what the result is: its kind, dtype, shape,
    values, and last whether gradients flow through it.
    """
    name = exercise.answer_name
    label = case.label
    if want.status != "returned":  # the course's own reference failed: never the learner's fault
        return Status.WRONG, "reference", (
            f"{label}: the course's reference did not run ({want.status}: "
            f"{cap(want.error, 300)}); please report this.")
    if got.status == "undefined":
        return Status.NOT_ATTEMPTED, "undefined", (
            f"'{name}' is not defined yet: run your answer cell first.")
    if got.status == "not callable":
        return Status.WRONG, "undefined", f"'{name}' should be a function (or class), {got.error}."
    if got.status == "not attempted":
        return Status.NOT_ATTEMPTED, "not attempted", (
            "replace `raise NotImplementedError()` with your code.")
    status, kind, problem = _diagnose_result(case, got, want)
    if problem and "no_create_graph" in got.flags and _wants_graph(want) and (
            kind in ("no_grad", "gradient", "checker")
            or (kind == "raised" and ("does not require grad" in got.error
                                      or "second time" in got.error))):
        return Status.WRONG, "create_graph", f"{label}: {_CREATE_GRAPH}."
    if got.status == "raised":
        return status, kind, problem
    changed = [f.split(":", 1)[1] for f in got.flags if f.startswith("requires_grad_changed:")]
    if changed:
        args = ", ".join(f"`{m}`" for m in changed)
        return Status.WRONG, "mutated", (
            f"{label}: your function switched on requires_grad of the caller's tensor {args} "
            f"(`{changed[0]}.requires_grad_(...)` changes the caller's tensor itself); the "
            f"caller's data must stay as it was. Leave `{changed[0]}` as it is when it already "
            "requires grad (it may be a state inside a rollout), and otherwise make a leaf of "
            "your own from a detached copy.")
    if got.mutated:
        args = ", ".join(f"`{m}`" for m in got.mutated)
        return Status.WRONG, "mutated", (
            f"{label}: your function changed its argument {args} in place (e.g. `y += ...` or "
            f"`y[...] = ...`); the caller's data must stay as it was. Build and return a new "
            f"array or tensor instead (e.g. `y_next = y + h * f(t, y)`).")
    return status, kind, problem


def _diagnose_result(case: Case, got: Outcome, want: Outcome) -> tuple[Status, str, str]:
    label = case.label
    if got.status == "raised":
        return Status.WRONG, "raised", (f"{label}: your code raised {got.error}"
                                        + _no_grad_note(case))
    if got.status == "checker failed":
        returned = got.last_return
        if returned is None:
            return Status.WRONG, "checker", (
                f"{label}: the check could not call your function ({got.error}); does it take "
                "the arguments the exercise describes?")
        if returned.kind == "none":
            return Status.WRONG, "kind", (f"{label}: your function returned None: did it forget "
                                          "to `return` its result?")
        shape_hint = _expected_shape_words(want.last_return)
        return Status.WRONG, "checker", (
            f"{label}: the check could not use what your function returned "
            f"({returned.words}){shape_hint}.")
    if got.status != "returned" or got.value is None:
        return Status.WRONG, "checker", f"{label}: no result ({got.status})"
    if want.value is None:  # expected_outcomes always describes the reference's result
        return Status.WRONG, "reference", (
            f"{label}: the course's expected result is missing; please report this.")
    kind, problem = _compare(got.value, want.value, case, hidden=case.hidden)
    if problem:
        return Status.WRONG, kind, f"{label}: {problem}"
    if want.gradient is not None and want.gradient.kind != "other":
        if got.gradient is not None and got.gradient.kind == "other":
            return Status.WRONG, "gradient", (f"{label}: the values are right, but "
                                              f"{got.gradient.text}")
        quiet = replace(case, rtol=max(case.rtol, 1e-5), atol=max(case.atol, 1e-7),
                        result_names=())
        if got.gradient is None or _compare(got.gradient, want.gradient, quiet, hidden=True)[1]:
            return Status.WRONG, "gradient", (
                f"{label}: the values are right, but the gradients through your result are not "
                "(the check backpropagates through it to the inputs that require grad, as "
                "training does). Somewhere the computation leaves autograd: `.detach()`, "
                "`torch.no_grad()`, `.item()`, `torch.tensor(...)` of results or a NumPy detour.")
    return Status.PASSED, "", ""


def _no_grad_note(case: Case) -> str:
    if case.no_grad:
        return (". This case runs your function under torch.no_grad(), as it runs in the "
                "lesson; if it needs gradients inside, open `with torch.enable_grad():`")
    return ""


def _expected_shape_words(value: Value | None) -> str:
    if value is None:
        return ""
    return f"; it expects what the reference returns: {_deep_words(value)}"


def _deep_words(value: Value) -> str:
    if value.kind in ("list", "tuple"):
        inner = ", ".join(_deep_words(v) for v in value.items[:4])
        more = ", ..." if len(value.items) > 4 else ""
        return f"{KIND_WORDS[value.kind]} of {len(value.items)} ({inner}{more})"
    return value.words


def _compare(got: Value, want: Value, case: Case, *, hidden: bool, where: str = ""
             ) -> tuple[str, str]:
    """('', '') if ``got`` matches ``want``, else (kind of failure, what differs); values are
    shown only for visible cases. Kinds: kind, dtype, shape, nan, values, no_grad."""
    prefix = f"{where}: " if where else ""
    if got.kind == "none" and want.kind != "none":
        return "kind", f"{prefix}your function returned None: did it forget to `return` its result?"
    if want.kind in ("list", "tuple"):
        if got.kind not in ("list", "tuple"):
            return "kind", f"{prefix}expected {_deep_words(want)}, got {got.words}"
        if len(got.items) != len(want.items):
            return "kind", (f"{prefix}expected {len(want.items)} results ({_deep_words(want)}), "
                            f"got {len(got.items)}")
        names = case.result_names if len(case.result_names) == len(want.items) and not where \
            else [f"result {i + 1} of {len(want.items)}" for i in range(len(want.items))]
        found = [_compare(g, w, case, hidden=hidden, where=f"{where} {name}".strip())
                 for name, g, w in zip(names, got.items, want.items, strict=True)]
        for order in _ORDER:  # the most basic difference first, whichever item has it
            for kind, problem in found:
                if kind == order:
                    return kind, problem
        return "", ""
    if want.kind == "other" or want.data is None:
        return "kind", f"{prefix}the expected result could not be described ({want.text})"
    scalar_kinds = ("number", "bool")
    if want.kind in ("ndarray", "tensor") and got.kind != want.kind and not (
            want.kind == "ndarray" and want.shape == () and got.kind in scalar_kinds):
        return "kind", (f"{prefix}expected {want.words}, got {got.words}" +
                        (" (later cells index and slice it as an array: return np.stack(...) or "
                         "np.array(...))" if want.kind == "ndarray" and got.kind == "list" else ""))
    if want.kind in scalar_kinds and got.kind not in (*scalar_kinds, "ndarray"):
        return "kind", (f"{prefix}expected a plain number, got {got.words}" +
                        (" (use .item() for a Python float)" if got.kind == "tensor" else ""))
    if got.data is None:
        return "kind", f"{prefix}expected {want.words}, got {got.words}"
    if want.kind in ("ndarray", "tensor") and got.kind == want.kind and got.dtype != want.dtype:
        return "dtype", (
            f"{prefix}expected dtype {want.dtype}, got {got.dtype}: the result keeps the dtype "
            f"of the inputs. Something in your function makes or converts to {got.dtype} "
            "(a constant or new tensor created without `dtype=` the inputs' dtype, `.double()`, "
            "`.float()`, `.astype(...)` or a NumPy detour)")
    got_arr, want_arr = np.asarray(got.data), np.asarray(want.data)
    if want.kind in scalar_kinds and got_arr.size == 1:
        got_arr = got_arr.reshape(())
    if got_arr.shape != want_arr.shape:
        if want_arr.shape == ():
            return "shape", (f"{prefix}expected a single number, got an array of shape "
                             f"{got_arr.shape}")
        return "shape", f"{prefix}expected shape {want_arr.shape}, got shape {got_arr.shape}"
    if np.iscomplexobj(got_arr) and not np.iscomplexobj(want_arr):
        return "values", f"{prefix}expected real numbers, got complex ones"
    if not np.isfinite(got_arr).all() and np.isfinite(want_arr).all():
        return "nan", (f"{prefix}the result contains NaN or inf"
                       + ("" if hidden else f": {fmt(got_arr)}"))
    if not np.allclose(got_arr, want_arr, rtol=case.rtol, atol=case.atol, equal_nan=True):
        diff = float(np.nanmax(np.abs(got_arr - want_arr))) if got_arr.size else 0.0
        if hidden:
            return "values", f"{prefix}the values are not right"
        if np.allclose(got_arr, want_arr, rtol=1e-5, atol=case.atol):
            relative = relative_difference(got_arr, want_arr)
            return "values", (
                f"{prefix}close, but not within the tolerance (rtol={case.rtol:g}): largest "
                f"difference {diff:.3g}, relative {relative:.1e}: not the "
                "same computation as the exercise asks for, only near it")
        return "values", (f"{prefix}expected {fmt(want_arr)}, got {fmt(got_arr)} "
                          f"(largest difference {diff:.3g})")
    if want.requires_grad and not got.requires_grad:
        return "no_grad", (
            f"{prefix}the values are right, but no gradient flows through your result (it "
            "does not require grad). Later cells differentiate through this function: avoid "
            "torch.no_grad(), .detach(), .item() and NumPy inside it")
    return "", ""


_ORDER = ("kind", "dtype", "shape", "nan", "values", "no_grad")
