"""The one judge of every exercise: run an answer on a case, then decide the verdict.

Judging is split in two so that the learner's code and the expected values never need to meet:

1. :func:`run_case` runs the learner's answer on one :class:`Case`, in the learner's kernel (or
   the grader's sandbox). Every call gets fresh deep copies of the case's inputs; afterwards the
   inputs the answer saw are compared with copies taken before the call, so an answer that changes
   an argument in place is caught. What comes back is an :class:`Outcome`: plain data (numbers,
   arrays, a description of the result's type, dtype, shape and whether it requires grad, or the
   error with the learner's own line). It never raises.
2. :func:`judge` compares those outcomes with the expected ones (:func:`expected_outcomes`: the
   reference run through the same :func:`run_case`, or a closed form) and returns one
   :class:`CheckResult`. The check cells (:meth:`Exercise.check`) and the grader both use it.

The contract an answer must meet is read off the reference's outcome on the same case: the same
kind of result (a NumPy array, a tensor, a tuple ...), dtype, shape and values (``numpy.allclose``
with the case's tolerances), no NaN or inf, and, if the reference's result requires grad, the
answer's does too (later cells differentiate through it).
"""

from __future__ import annotations

import base64
import binascii
import copy
import enum
import inspect
import io
import linecache
import math
import os
import random
import traceback
import warnings
from collections.abc import Callable, Iterable
from contextlib import nullcontext
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch

__all__ = [
    "WithheldFunction", "pin", "withholding",
    "Status", "Case", "CheckResult", "Value", "Outcome", "describe", "run_case",
    "expected_outcomes", "judge", "case_problem", "FROM_REFERENCE", "WITHHELD",
]


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
            answer runs on this case (:func:`withholding`); set by :meth:`Exercise.case_list`.
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


# -- results as plain data --------------------------------------------------------------------

MAX_ARRAY_BYTES = 16 * 2**20  # a result array larger than this is not checked (nor sent out)
_MAX_DEPTH = 6
_MAX_ITEMS = 1000
_KINDS = {"ndarray", "tensor", "number", "bool", "list", "tuple", "dict", "none", "other"}
_KIND_WORDS = {
    "ndarray": "a NumPy array", "tensor": "a torch tensor", "number": "a number",
    "bool": "a bool", "list": "a list", "tuple": "a tuple", "dict": "a dict", "none": "None",
}


@dataclass(frozen=True)
class Value:
    """A description of one result, as plain data (no learner objects survive in it).

    ``kind`` is one of ndarray, tensor, number, bool, list, tuple, dict, none, other; arrays and
    tensors keep ``dtype`` (e.g. ``float32``), ``shape``, ``data`` (a NumPy copy) and
    ``requires_grad``; lists and tuples keep ``items``; ``text`` says what an "other" was.
    """

    kind: str
    dtype: str = ""
    shape: tuple = ()
    data: np.ndarray | None = None
    requires_grad: bool = False
    items: tuple = ()
    text: str = ""

    @property
    def words(self) -> str:
        """'a torch tensor of shape (3, 2), float32', 'a list of 2 items', 'None' ..."""
        if self.kind in ("ndarray", "tensor"):
            return f"{_KIND_WORDS[self.kind]} of shape {self.shape}, {self.dtype}"
        if self.kind in ("list", "tuple"):
            return f"{_KIND_WORDS[self.kind]} of {len(self.items)} items"
        if self.kind == "number":
            return f"the number {_fmt(self.data)}"
        if self.kind == "other":
            return self.text
        return _KIND_WORDS[self.kind]

    # JSON, for values that cross a process or sandbox boundary
    def to_json(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind in ("ndarray", "tensor", "number", "bool"):
            out.update(dtype=self.dtype, shape=list(self.shape), requires_grad=self.requires_grad)
            if self.data is not None:
                buffer = io.BytesIO()
                np.save(buffer, self.data, allow_pickle=False)
                out["npy"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        if self.kind in ("list", "tuple"):
            out["items"] = [v.to_json() for v in self.items]
        if self.text:
            out["text"] = _cap(self.text, 300)
        return out

    @classmethod
    def from_json(cls, data, depth: int = 0) -> Value:
        """Parse what :meth:`to_json` wrote; raises ValueError on anything else (no pickle)."""
        if not isinstance(data, dict) or data.get("kind") not in _KINDS or depth > _MAX_DEPTH:
            raise ValueError(f"not a result description: {str(data)[:100]}")
        kind = data["kind"]
        text = str(data.get("text", ""))[:300]
        if kind in ("list", "tuple"):
            items = data.get("items")
            if not isinstance(items, list) or len(items) > _MAX_ITEMS:
                raise ValueError("a list result without a valid 'items' list")
            return cls(kind, items=tuple(cls.from_json(v, depth + 1) for v in items), text=text)
        if kind in ("ndarray", "tensor", "number", "bool"):
            array = None
            if "npy" in data:
                raw = data["npy"]
                if not isinstance(raw, str) or len(raw) > MAX_ARRAY_BYTES * 4 // 3 + 1024:
                    raise ValueError("an array result that is not base64 text of a sane size")
                try:
                    array = np.load(io.BytesIO(base64.b64decode(raw, validate=True)),
                                    allow_pickle=False)
                except (ValueError, OSError, binascii.Error) as exc:
                    raise ValueError(f"an unreadable array result ({exc})") from None
                if array.dtype.kind not in "biufc":
                    raise ValueError(f"an array result of dtype {array.dtype}")
            shape = data.get("shape", [])
            if not isinstance(shape, list) or not all(isinstance(n, int) for n in shape):
                raise ValueError("an array result with a bad shape")
            return cls(kind, dtype=str(data.get("dtype", ""))[:40], shape=tuple(shape), data=array,
                       requires_grad=bool(data.get("requires_grad", False)), text=text)
        return cls(kind, text=text)


def describe(x, depth: int = 0) -> Value:
    """A plain-data :class:`Value` for any result (the learner's or the reference's)."""
    if x is None:
        return Value("none")
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        dtype = str(t.dtype).removeprefix("torch.")
        if t.element_size() * t.nelement() > MAX_ARRAY_BYTES:
            return Value("other", text=f"a tensor of {t.nelement()} numbers (too big to check)")
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.to(torch.float32)
        return Value("tensor", dtype=dtype, shape=tuple(t.shape), data=t.numpy().copy(),
                     requires_grad=bool(x.requires_grad))
    if isinstance(x, (bool, np.bool_)):
        return Value("bool", dtype="bool", data=np.asarray(bool(x)))
    if isinstance(x, (int, float, np.integer, np.floating)):
        try:
            data = np.asarray(float(x))
        except OverflowError:
            data = np.asarray(math.copysign(math.inf, x))
        return Value("number", dtype=type(x).__name__, data=data)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            return Value("other", text=f"a NumPy array of dtype {x.dtype} (not numbers)")
        if x.nbytes > MAX_ARRAY_BYTES:
            return Value("other", text=f"an array of {x.nbytes / 2**20:.0f} MB (too big to check)")
        return Value("ndarray", dtype=str(x.dtype), shape=x.shape, data=x.copy())
    if isinstance(x, (list, tuple)):
        kind = "list" if isinstance(x, list) else "tuple"
        if depth >= _MAX_DEPTH or len(x) > _MAX_ITEMS:
            return Value("other", text=f"{_KIND_WORDS[kind]} too long or deep to check")
        return Value(kind, items=tuple(describe(v, depth + 1) for v in x))
    if isinstance(x, dict):
        return Value("dict", text="a dict")
    name = type(x).__name__
    try:
        shown = repr(x)
    except Exception:  # a learner's object whose repr fails
        shown = "?"
    return Value("other", text=f"an object of type {name} ({shown[:80]})")


@dataclass(frozen=True)
class Outcome:
    """What one run of an answer on one case produced, as plain data.

    ``status`` is ``returned`` (``value`` holds the result), ``raised`` (``error`` says what, at
    the learner's own line), ``not attempted`` (the stub's ``NotImplementedError``), ``undefined``,
    ``not callable`` or ``checker failed`` (the harness could not use what the answer returned:
    ``last_return`` says what that was). ``mutated`` names the arguments changed in place.
    """

    case: str
    status: str
    value: Value | None = None
    error: str = ""
    mutated: tuple[str, ...] = ()
    last_return: Value | None = None
    gradient: Value | None = None
    flags: tuple[str, ...] = ()  # "no_create_graph", "requires_grad_changed:y": what the run saw
    mistake: Value | None = None  # on expected outcomes: what the case's ``why_if`` mistake gives

    _STATUSES = ("returned", "raised", "not attempted", "undefined", "not callable",
                 "checker failed")

    def to_json(self) -> dict:
        return {
            "case": self.case[:300], "status": self.status, "error": _cap(self.error, 2000),
            "mutated": list(self.mutated)[:20],
            "value": None if self.value is None else self.value.to_json(),
            "last_return": None if self.last_return is None else self.last_return.to_json(),
            "gradient": None if self.gradient is None else self.gradient.to_json(),
            "flags": [_cap(f, 80) for f in self.flags[:20]],
        }

    @classmethod
    def from_json(cls, data) -> Outcome:
        """Parse what :meth:`to_json` wrote, defensively: ValueError on anything else."""
        if not isinstance(data, dict) or data.get("status") not in cls._STATUSES:
            raise ValueError(f"not an outcome: {str(data)[:100]}")
        mutated = data.get("mutated", [])
        if not isinstance(mutated, list):
            raise ValueError("an outcome whose 'mutated' is not a list")

        def value(key):
            raw = data.get(key)
            return None if raw is None else Value.from_json(raw)

        flags = data.get("flags", [])
        if not isinstance(flags, list):
            raise ValueError("an outcome whose 'flags' is not a list")
        return cls(str(data.get("case", ""))[:300], data["status"], value("value"),
                   str(data.get("error", ""))[:2000], tuple(str(m)[:50] for m in mutated[:20]),
                   value("last_return"), value("gradient"),
                   tuple(str(f)[:80] for f in flags[:20]))


# -- running an answer -------------------------------------------------------------------------

_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../utils
_LIBRARY_DIRS = tuple(
    {os.path.dirname(os.path.abspath(m.__file__)) for m in (os, np, torch)}
    | {os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))}
)


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

    def __init__(self, answer, may_change=(), withheld=(), asked_by=""):
        self.answer = answer
        self.may_change = set(may_change)
        self.withheld, self.asked_by = tuple(withheld), asked_by
        self.mutated: list[str] = []
        self.last_return = None
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


def _learner_frames(tb) -> list[traceback.FrameSummary]:
    """The frames of a traceback that are the learner's code (not the course's, not libraries)."""
    frames = traceback.extract_tb(tb)
    return [f for f in frames
            if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)
            and not os.path.abspath(f.filename).startswith(_LIBRARY_DIRS)
            and "site-packages" not in f.filename and not f.filename.startswith("<frozen")]


def _error_words(exc: BaseException, limit: int) -> str:
    """'RuntimeError: ...', without torch's debugging advice, capped at a whole word; an
    autograd in-place error says what that means for the learner's code."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if "Hint: enable anomaly detection" in text:  # torch's advice, for a debugger, not here
        text = text.split("Hint: enable anomaly detection")[0].strip()
    if "inplace operation" in text or "in-place operation" in text:
        text = (f"{type(exc).__name__}: a tensor autograd needs was changed in place "
                "(`h[...] = ...`, `h += ...` or a method ending in `_`); build a new tensor "
                "instead (torch.where, torch.cat)")
    return _cap(text, limit)


def _explain(exc: BaseException) -> str:
    """'ValueError: ... (line 3 of your `euler_step`: return y + h * f(t))'."""
    text = _error_words(exc, 400)
    frames = _learner_frames(exc.__traceback__)
    if frames:
        last = frames[-1]
        code = (last.line or linecache.getline(last.filename, last.lineno) or "").strip()
        where = f"line {last.lineno} of your `{last.name}`" if last.name != "<module>" else (
            f"line {last.lineno} of your cell")
        text += f" ({where}: {code})" if code else f" ({where})"
    return text


def _rng_state():
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def _set_rng_state(state) -> None:
    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.set_rng_state(state[2])


def _seed(seed: int = 0) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


class _Undefined:
    def __repr__(self):
        return "UNDEFINED"


UNDEFINED = _Undefined()  #: the answer's name is not defined in the learner's namespace


class WithheldFunction(RuntimeError):
    """A course function that answers the exercise being checked was called by the answer."""


# id(function) -> (function, its own code, the code that raises in its place)
_SWAPPED: dict[int, tuple[Callable, Any, Any]] = {}


def _resolve(dotted: str):
    """The object named ``package.module.attr[.attr]``, or None if it is not there."""
    import importlib

    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name, None)
        return obj
    return None


def _withheld_code(function, message: str):
    """A code object for ``function`` that raises :class:`WithheldFunction` with ``message``.

    It replaces the function's own code while the answer runs, so every way of reaching the
    function object (imported under another name, ``functools.partial``, a method of a class,
    a list of functions) meets it. It takes any arguments and needs no closure.
    """
    def template(*args, **kwargs):
        raise __import__("utils.exercises.judge", fromlist=["_"]).WithheldFunction("MESSAGE")

    code = template.__code__
    consts = tuple(message if c == "MESSAGE" else c for c in code.co_consts)
    return code.replace(co_consts=consts, co_name=function.__code__.co_name,
                        co_qualname=function.__code__.co_qualname)


_PINNED: dict[str, Any] = {}  # dotted name -> the course function first found under it


def pin(names) -> None:
    """Remember the course functions under ``names`` now (the grader does this before any
    learner cell runs), so that a notebook that later puts something else under the same name
    and keeps the original for itself still meets the withheld original."""
    for dotted in names:
        if dotted not in _PINNED:
            function = _resolve(dotted)
            if getattr(function, "__code__", None) is not None:
                _PINNED[dotted] = function


class withholding:  # noqa: N801 (a context manager, used like a function)
    """While active, the named course functions raise "Exercise 1.1 asks you to write this
    yourself": their code is swapped for one that raises, and restored afterwards (the rest of
    the lesson uses them as usual). Functions whose code cannot be swapped (with a closure, or
    not written in Python) are left as they are; the exercises name only plain functions."""

    def __init__(self, names, asked_by: str = ""):
        self.names, self.asked_by = tuple(names), asked_by or "This exercise"
        self.swapped: list[int] = []

    def __enter__(self):
        pin(self.names)
        for dotted in self.names:
            message = (f"{self.asked_by} asks you to write this yourself: the course's "
                       f"{dotted} is withheld while the exercise's cases run")
            for function in (_PINNED.get(dotted), _resolve(dotted)):
                code = getattr(function, "__code__", None)
                if code is None or code.co_freevars or id(function) in _SWAPPED:
                    continue
                stub = _withheld_code(function, message)
                _SWAPPED[id(function)] = (function, code, stub)
                self.swapped.append(id(function))
                function.__code__ = stub
        return self

    def __exit__(self, *exc):
        tampered = []
        for key in reversed(self.swapped):
            function, code, stub = _SWAPPED.pop(key)
            if function.__code__ is not stub:
                tampered.append(function.__qualname__)
            function.__code__ = code
        self.swapped = []
        if tampered and exc[0] is None:
            raise WithheldFunction(f"{self.asked_by} asks you to write this yourself: your "
                                   f"code put back the withheld {', '.join(tampered)}")
        return False


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
    saved = _rng_state()
    _seed(0)
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
        return Outcome(case.name, "raised", error=_explain(exc), mutated=tuple(recorder.mutated),
                       flags=tuple(recorder.flags))
    except Exception as exc:  # the harness failed on what the answer returned
        return Outcome(case.name, "checker failed",
                       error=_cap(f"{type(exc).__name__}: {exc}", 400),
                       mutated=tuple(recorder.mutated),
                       last_return=describe(recorder.last_return) if recorder.calls else None,
                       flags=tuple(recorder.flags))
    finally:
        _set_rng_state(saved)
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
                                  f"{_error_words(exc, 240)}")
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


# -- the verdict -------------------------------------------------------------------------------


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
            f"{_cap(want.error, 300)}); please report this.")
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
        return f"{_KIND_WORDS[value.kind]} of {len(value.items)} ({inner}{more})"
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
                       + ("" if hidden else f": {_fmt(got_arr)}"))
    if not np.allclose(got_arr, want_arr, rtol=case.rtol, atol=case.atol, equal_nan=True):
        diff = float(np.nanmax(np.abs(got_arr - want_arr))) if got_arr.size else 0.0
        if hidden:
            return "values", f"{prefix}the values are not right"
        if np.allclose(got_arr, want_arr, rtol=1e-5, atol=case.atol):
            return "values", (
                f"{prefix}close, but not within the tolerance (rtol={case.rtol:g}): largest "
                f"difference {diff:.3g}, relative {_relative(got_arr, want_arr):.1e}: not the "
                "same computation as the exercise asks for, only near it")
        return "values", (f"{prefix}expected {_fmt(want_arr)}, got {_fmt(got_arr)} "
                          f"(largest difference {diff:.3g})")
    if want.requires_grad and not got.requires_grad:
        return "no_grad", (
            f"{prefix}the values are right, but no gradient flows through your result (it "
            "does not require grad). Later cells differentiate through this function: avoid "
            "torch.no_grad(), .detach(), .item() and NumPy inside it")
    return "", ""


_ORDER = ("kind", "dtype", "shape", "nan", "values", "no_grad")


def _cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis."""
    text = str(text)
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 2, 1)]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:(") + " …"


def _relative(got, want) -> float:
    scale = np.maximum(np.abs(want), 1e-300)
    return float(np.nanmax(np.abs(got - want) / scale)) if got.size else 0.0


def _fmt(x) -> str:
    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{arr.item():.6g}" if arr.dtype.kind in "biuf" else str(arr.item())
    if arr.size > 6:
        flat = np.array2string(arr.ravel()[:6], precision=4, separator=", ")
        return f"an array of shape {arr.shape} starting {flat[:-1]}, ...]"
    return np.array2string(arr, precision=6, separator=", ")

