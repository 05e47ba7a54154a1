"""ODE solvers: ``odeint`` with fixed-step and adaptive Runge–Kutta methods.

Solves the initial value problem ``dy/dt = func(t, y)``, ``y(t[0]) = y0`` and returns the
solution at every time in ``t``. The call is the one of torchdiffeq's ``odeint``, so a lesson can
switch between the two by changing one import. It works on NumPy arrays (any plain Python
``func``) and on torch tensors (autograd flows through every operation of the solve).

The methods are Butcher tableaus (:mod:`utils.tableaus`) driven by one loop, :func:`rk_step`:
every explicit Runge–Kutta method torchdiffeq has, under its names, plus ``tsit5``. The adaptive
methods control the local error, adapt the step size, and interpolate output times inside a step
with their dense output, so the output grid never forces small steps.

torchdiffeq's conventions hold: ``odeint(func, y0, t, *, rtol, atol, method=None, options=None,
event_fn=None)``, ``options`` carrying ``step_size``, ``first_step``, ``max_num_steps`` and
``interp``; a tuple of tensors as the state; gradients with respect to ``t``. What the course does
not implement (events, custom norms, jump times, callbacks, Adams and implicit methods) raises
:class:`OutOfScopeError` naming it; nothing is silently ignored.
``tests/test_torchdiffeq_compat.py`` runs the same calls through both libraries.

References: E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*,
2nd ed., Springer 1993 (II.4: step-size control and the initial step; II.6: dense output);
R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
Equations", NeurIPS 2018, arXiv:1806.07366.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .tableaus import TABLEAUS, ButcherTableau

__all__ = [
    "odeint",
    "check_solver_options",
    "ignored_solver_options",
    "resolve_solver_call",
    "OutOfScopeError",
    "OUT_OF_SCOPE",
    "DEFAULT_RTOL",
    "DEFAULT_ATOL",
    "rk_step",
    "next_step_factor",
    "SolveStats",
    "SolverError",
    "StepSizeUnderflowError",
    "MaxStepsExceededError",
    "NonFiniteStateError",
    "METHODS",
]

METHODS = tuple(TABLEAUS)
DEFAULT_RTOL = 1e-7  # the adaptive methods' tolerances when the caller gives none: torchdiffeq's
DEFAULT_ATOL = 1e-9
DEFAULT_METHOD = "dopri5"  # method=None means this, as in torchdiffeq
DEFAULT_MAX_STEPS = 100_000

#: What torchdiffeq offers and the course does not implement, and what each one is. Passing any
#: of them (as a keyword, an ``options`` entry, a method name, or a callback on ``func``) raises
#: :class:`OutOfScopeError` naming it.
OUT_OF_SCOPE = {
    "event_fn": "stopping the solve at an event (event_fn(t, y) = 0)",
    "norm": "a custom error norm",
    "jump_t": "restarting the steps at discontinuities of func (jump_t)",
    "step_t": "forcing step boundaries at given times (step_t)",
    "perturb": "perturbing t at step boundaries (perturb)",
    "grid_constructor": "a custom grid of fixed steps (grid_constructor)",
    "min_step": "a bound on the adaptive step size (min_step)",
    "max_step": "a bound on the adaptive step size (max_step)",
    "safety": "tuning the step-size controller (safety)",
    "ifactor": "tuning the step-size controller (ifactor)",
    "dfactor": "tuning the step-size controller (dfactor)",
    "dtype": "a separate dtype for time (dtype)",
    "callback_step": "callbacks on func (callback_step)",
    "callback_accept_step": "callbacks on func (callback_accept_step)",
    "callback_reject_step": "callbacks on func (callback_reject_step)",
    "explicit_adams": "multistep methods (Adams–Bashforth)",
    "implicit_adams": "implicit methods (Adams–Bashforth–Moulton)",
    "fixed_adams": "implicit methods (Adams–Bashforth–Moulton)",
    "scipy_solver": "SciPy's solvers through torchdiffeq",
}
_CALLBACKS = ("callback_step", "callback_accept_step", "callback_reject_step")
#: The ``options`` entries ``odeint`` implements (torchdiffeq's names).
OPTIONS = ("step_size", "first_step", "max_num_steps", "interp")

# Step-size control constants (Hairer, Nørsett & Wanner II.4, eq. 4.13).
SAFETY = 0.9  # aim a little below the largest step the error model allows
MIN_FACTOR = 0.2  # never shrink a step by more than 5x at once
MAX_FACTOR = 10.0  # never grow a step by more than 10x at once


class SolverError(RuntimeError):
    """A solve that started correctly but could not finish. The message says what to change."""


class StepSizeUnderflowError(SolverError):
    """The adaptive step size fell below what floating point can resolve at the current t."""


class MaxStepsExceededError(SolverError):
    """The solve needed more steps (accepted + rejected) than ``max_steps``."""


class NonFiniteStateError(SolverError):
    """The state or its derivative became inf or NaN during the solve."""


class OutOfScopeError(NotImplementedError):
    """A torchdiffeq feature the course's ``utils`` does not implement (:data:`OUT_OF_SCOPE`)."""


def _out_of_scope(caller: str, name: str, how: str) -> OutOfScopeError:
    return OutOfScopeError(
        f"{caller}: {how} is outside the course's scope: utils does not implement "
        f"{OUT_OF_SCOPE[name]}. Use torchdiffeq.{caller.split(',')[0]} for it, or drop {name!r}."
    )


@dataclass
class SolveStats:
    """What a solve did; returned by ``odeint(..., return_stats=True)``.

    Attributes:
        method: the method's name.
        n_fevals: number of calls to ``func``.
        n_accepted: accepted steps.
        n_rejected: rejected steps (adaptive methods only).
        step_starts: time at the start of each accepted step.
        step_sizes: size of each accepted step (negative when solving backwards in time).
        rejected_starts: time at the start of each rejected step attempt.
        record_steps: keep the three per-step lists above; ``odeint`` does so only when asked
            for its stats, so a plain solve's memory does not grow with its number of steps.
    """

    method: str
    n_fevals: int = 0
    n_accepted: int = 0
    n_rejected: int = 0
    step_starts: list[float] = field(default_factory=list)
    step_sizes: list[float] = field(default_factory=list)
    rejected_starts: list[float] = field(default_factory=list)
    record_steps: bool = True

    def accepted(self, t: float, h: float) -> None:
        """Count an accepted step of size h from t."""
        self.n_accepted += 1
        if self.record_steps:
            self.step_starts.append(t)
            self.step_sizes.append(h)

    def rejected(self, t: float) -> None:
        """Count a rejected step attempt from t."""
        self.n_rejected += 1
        if self.record_steps:
            self.rejected_starts.append(t)

    @property
    def n_steps(self) -> int:
        """Accepted plus rejected steps."""
        return self.n_accepted + self.n_rejected


def rk_step(func, t: float, y, h: float, tableau: ButcherTableau, k0=None):
    """One explicit Runge–Kutta step of size ``h`` from ``(t, y)``.

    Args:
        func: ``func(t, y)`` returning ``dy/dt`` with the shape of ``y``.
        t: start time of the step.
        y: state at ``t`` (array or tensor, any shape).
        h: step size (negative to step backwards); a 0-d tensor when gradients flow to the times.
        tableau: the method's coefficients.
        k0: ``func(t, y)`` if already known (First-Same-As-Last methods reuse the last stage).

    Returns:
        ``(y_new, y_err, ks)``: the state at ``t + h``, the error estimate (``None`` for methods
        without an embedded pair) and the list of the s stage derivatives ``k_i``.
    """
    ks = [func(t, y) if k0 is None else k0]
    y_stage = y
    for c_i, a_row in zip(tableau.c[1:], tableau.a[1:], strict=True):
        y_stage = _axpy(y, h, a_row, ks)
        ks.append(func(t + c_i * h, y_stage))
    # First-Same-As-Last: the last stage was evaluated at y + h * sum(b_i k_i), i.e. at y_new.
    y_new = y_stage if tableau.fsal else _axpy(y, h, tableau.b, ks)
    y_err = None if tableau.b_err is None else _axpy(None, h, tableau.b_err, ks)
    return y_new, y_err, ks


def _axpy(y, h, weights, ks):
    """``y + h * sum_i weights[i] * ks[i]`` (``y=None`` for 0), skipping zero weights.

    Tableaus have many zeros, and the states of small problems are tiny tensors whose cost is
    per operation, not per number: so one fused ``torch.add(total, k, alpha=h*w)`` per weight.
    """
    total = y
    for w, k in zip(weights, ks, strict=False):  # a row of `a` is shorter than ks at the end
        if _is_number(w) and w == 0.0:
            continue
        coefficient = h * w  # a tensor when gradients flow to the times (h or w a tensor)
        if total is None:
            total = coefficient * k
        elif _is_torch(k) and not _is_torch(coefficient):
            total = torch.add(total, k, alpha=coefficient)
        else:
            total = total + coefficient * k
    return 0.0 * ks[0] if total is None else total


def next_step_factor(error_ratio: float, error_order: int) -> float:
    """How much to scale the step size after a step with the given error ratio.

    ``error_ratio = rms(err / (atol + rtol * max(|y_old|, |y_new|)))``: a step is accepted when it
    is at most 1. The local error scales like ``h**(error_order + 1)``, so the step that would
    give ratio 1 is ``h * error_ratio**(-1 / (error_order + 1))``; SAFETY aims a little below it,
    and the factor is clipped to [MIN_FACTOR, MAX_FACTOR].
    """
    if error_ratio == 0.0:
        return MAX_FACTOR
    if not math.isfinite(error_ratio):
        return MIN_FACTOR
    factor = SAFETY * error_ratio ** (-1.0 / (error_order + 1))
    return min(MAX_FACTOR, max(MIN_FACTOR, factor))


# --- array helpers: the same code serves NumPy arrays and torch tensors -----------------------


def _is_torch(x) -> bool:
    return isinstance(x, torch.Tensor)


def _all_finite(x) -> bool:
    return bool(torch.isfinite(x).all()) if _is_torch(x) else bool(np.isfinite(x).all())


def _rms(x) -> float:
    if _is_torch(x):
        return float(x.detach().pow(2).mean().sqrt())
    return float(np.sqrt(np.mean(np.square(x))))


def _abs_max(a, b):
    if _is_torch(a):
        return torch.maximum(a.detach().abs(), b.detach().abs())
    return np.maximum(np.abs(a), np.abs(b))


def _stack(ys):
    """Stack along a new first axis, in y0's dtype (a func may compute in a wider dtype, e.g.
    ``np.cos(t)`` of a Python float t is float64; the caller still gets y0's dtype back)."""
    if _is_torch(ys[0]):
        return torch.stack([y.to(ys[0].dtype) for y in ys])
    return np.stack(ys).astype(ys[0].dtype, copy=False)


def _scaled_rms(x, scale) -> float:
    """``rms(x / scale)``, where a component with ``x == 0`` counts 0 even if its scale is 0.

    With ``atol=0`` a state component that sits at exactly 0 has scale 0; without this rule its
    ``0 / 0 = NaN`` would make every step look infinitely wrong.
    """
    if _is_torch(x):
        x = x.detach()
        return _rms(torch.where(x == 0, torch.zeros_like(x), x / scale))
    with np.errstate(divide="ignore", invalid="ignore"):
        return _rms(np.where(x == 0, 0.0, x / scale))


def _error_ratio(y, y_new, y_err, rtol, atol) -> float:
    """``rms(y_err / (atol + rtol * max(|y|, |y_new|)))``: the step is accepted when <= 1."""
    if _is_torch(y_err) and atol > 0:  # the common case, in few tensor operations
        with torch.no_grad():
            scale = torch.maximum(y.abs(), y_new.abs()).mul_(rtol).add_(atol)
            norm = torch.linalg.vector_norm(y_err / scale)
        return float(norm) / math.sqrt(y_err.numel())
    return _scaled_rms(y_err, atol + rtol * _abs_max(y, y_new))


# --- input validation: the one place that checks what the caller passed ----------------------


@dataclass(frozen=True)
class _TupleState:
    """A state given as a tuple of tensors, solved as one flat tensor (as torchdiffeq does).

    ``flatten`` concatenates the parts, ``split`` cuts a flat tensor (or a leading-axis stack of
    them) back into parts of their shapes; the error norm is the largest of the parts' RMS norms,
    torchdiffeq's norm for tuples.
    """

    shapes: tuple[torch.Size, ...]

    @property
    def sizes(self) -> list[int]:
        return [math.prod(shape) for shape in self.shapes]

    def flatten(self, parts) -> torch.Tensor:
        return torch.cat([part.reshape(-1) for part in parts])

    def split(self, flat: torch.Tensor) -> tuple[torch.Tensor, ...]:
        lead = flat.shape[:-1]
        return tuple(piece.reshape(*lead, *shape)
                     for piece, shape in zip(flat.split(self.sizes, dim=-1), self.shapes,
                                             strict=True))

    def func(self, func):
        def flat_func(t, y):
            dy = func(t, self.split(y))
            if not isinstance(dy, (tuple, list)) or len(dy) != len(self.shapes):
                raise TypeError(
                    f"with a tuple state of {len(self.shapes)} tensors, func(t, y) must return a "
                    f"tuple of {len(self.shapes)} tensors (dy/dt of each), got "
                    f"{type(dy).__name__}"
                )
            for i, (part, shape) in enumerate(zip(dy, self.shapes, strict=True)):
                if not _is_torch(part) or tuple(part.shape) != tuple(shape):
                    got = tuple(part.shape) if _is_torch(part) else type(part).__name__
                    raise ValueError(f"func(t, y)[{i}] is {got} but y0[{i}] has shape "
                                     f"{tuple(shape)}: each part of dy/dt needs its part's shape")
            return self.flatten(dy)

        return flat_func

    def error_ratio(self, y, y_new, y_err, rtol, atol) -> float:
        parts = zip(self.split(y), self.split(y_new), self.split(y_err), strict=True)
        return max((_error_ratio(a, b, e, rtol, atol) for a, b, e in parts), default=0.0)


def _tuple_state(y0):
    """``_TupleState`` when y0 is a tuple (or list) of tensors, else None."""
    if not isinstance(y0, (tuple, list)) or not any(_is_torch(part) for part in y0):
        return None
    if not all(_is_torch(part) for part in y0):
        kinds = ", ".join(type(part).__name__ for part in y0)
        raise TypeError(f"a tuple state must hold torch tensors only, got ({kinds}); "
                        "or concatenate the parts into one tensor yourself")
    dtypes = {part.dtype for part in y0}
    if len(dtypes) > 1 or not all(part.is_floating_point() for part in y0):
        raise TypeError(f"the tensors of a tuple state must share one floating-point dtype, got "
                        f"{sorted(str(d) for d in dtypes)}; e.g. convert each with .double()")
    return _TupleState(tuple(part.shape for part in y0))


def _validate(func, y0, t, max_steps):
    """Check func, y0, t and max_steps; returns ``(y0, times as floats, t as a tensor or None)``.

    The tensor is returned when ``t`` requires grad (the solve then builds its times from it).
    """
    if not callable(func):
        raise TypeError(f"func must be callable as func(t, y), got {type(func).__name__}")

    t_tensor = None
    if _is_torch(y0):
        if not y0.is_floating_point():
            raise TypeError(
                f"y0 has dtype {y0.dtype}; pass a floating-point tensor, e.g. y0.float() or "
                "y0.double()"
            )
        if _is_torch(t) and t.requires_grad:
            t_tensor = t.to(dtype=y0.dtype, device=y0.device)
        t = torch.as_tensor(t, dtype=y0.dtype, device=y0.device)
    elif isinstance(y0, (np.ndarray, list, tuple, float, int)):
        y0 = np.asarray(y0)
        if not np.issubdtype(y0.dtype, np.floating):
            y0 = y0.astype(np.float64)
        if _is_torch(t):
            raise TypeError("y0 is a NumPy array but t is a torch tensor; pass both as one kind")
        t = np.asarray(t, dtype=y0.dtype)
    else:
        raise TypeError(
            f"y0 must be a NumPy array or a torch tensor (or a tuple of tensors), got "
            f"{type(y0).__name__}"
        )

    if t.ndim != 1 or t.shape[0] < 1:
        raise ValueError(f"t must be a 1-D sequence of output times, got shape {tuple(t.shape)}")
    t_list = [float(x) for x in (t.detach() if _is_torch(t) else t)]
    if not all(math.isfinite(x) for x in t_list):
        raise ValueError(f"t must be finite, got {t_list}")
    dts = [b - a for a, b in zip(t_list[:-1], t_list[1:], strict=True)]
    if dts and not (all(d > 0 for d in dts) or all(d < 0 for d in dts)):
        bad = next(i for i, d in enumerate(dts) if (d > 0) != (dts[0] > 0) or d == 0)
        raise ValueError(
            "t must be strictly increasing or strictly decreasing; "
            f"t[{bad}] = {t_list[bad]} and t[{bad + 1}] = {t_list[bad + 1]} break that"
        )
    if not _all_finite(y0):
        raise ValueError("y0 contains inf or NaN; the initial state must be finite")
    if not (isinstance(max_steps, int) and not isinstance(max_steps, bool) and max_steps > 0):
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    return y0, t_list, t_tensor


def _is_number(value) -> bool:
    return isinstance(value, (int, float, np.floating, np.integer)) and not isinstance(value, bool)


def ignored_solver_options(
    method: str,
    *,
    rtol: Any = None,
    atol: Any = None,
    first_step: Any = None,
    step_size: Any = None,
) -> list[str]:
    """The options given (not ``None``) that ``method`` does not use, in this order: ``rtol``,
    ``atol`` and ``first_step`` for a fixed-step method, ``step_size`` for an adaptive one.

    The one place that decides it: :func:`check_solver_options` warns about these options, and
    :func:`utils.adjoint.odeint_adjoint` asks it about each of its two solves.
    """
    if method not in TABLEAUS:
        raise ValueError(f"unknown method {method!r}; valid methods are {', '.join(METHODS)}")
    applies = ("rtol", "atol", "first_step") if TABLEAUS[method].adaptive else ("step_size",)
    given = {"rtol": rtol, "atol": atol, "first_step": first_step, "step_size": step_size}
    return [name for name, value in given.items() if value is not None and name not in applies]


def check_solver_options(
    method: str,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    step_size: float | None = None,
    first_step: float | None = None,
    caller: str = "odeint",
    stacklevel: int = 3,
) -> dict:
    """Check a solver's method and options; the one check ``odeint``, ``odeint_adjoint``,
    ``NeuralODE`` and the lessons' sliders share.

    Raises ``ValueError`` for an unknown method or a bad value (the message names the value and
    what would be valid). Options that do not apply to ``method`` (``rtol``, ``atol`` and
    ``first_step`` for a fixed-step method, ``step_size`` for an adaptive one) are not errors: a
    ``UserWarning`` names them, as scipy's ``solve_ivp`` does for extraneous options, and they
    are dropped. ``None`` means "not given".

    Returns:
        The options the method uses, with defaults filled in: ``{"rtol", "atol", "first_step"}``
        for an adaptive method (``DEFAULT_RTOL``/``DEFAULT_ATOL`` when not given), ``{"step_size"}``
        for a fixed-step one.
    """
    if method in OUT_OF_SCOPE:
        raise _out_of_scope(caller, method, f"method={method!r}")
    if method not in TABLEAUS:
        raise ValueError(
            f"{caller}: unknown method {method!r}; valid methods are {', '.join(METHODS)}"
        )
    for name, value in (("rtol", rtol), ("atol", atol)):
        if value is not None and not (_is_number(value) and value >= 0 and math.isfinite(value)):
            raise ValueError(f"{caller}: {name} must be a finite number >= 0, got {value!r}")
    for name, value in (("step_size", step_size), ("first_step", first_step)):
        if value is not None and not (_is_number(value) and value > 0 and math.isfinite(value)):
            raise ValueError(
                f"{caller}: {name} must be a finite number > 0 (or None), got {value!r}"
            )
    adaptive = TABLEAUS[method].adaptive
    ignored = ignored_solver_options(method, rtol=rtol, atol=atol, first_step=first_step,
                                     step_size=step_size)
    if ignored:
        kind = "the adaptive method" if adaptive else "a fixed-step method"
        warnings.warn(
            f"{caller}: {', '.join(ignored)} ha{'ve' if len(ignored) > 1 else 's'} no effect with "
            f"method={method!r} ({kind}); "
            + ("tolerances and first_step apply to the adaptive methods only" if not adaptive
               else "step_size applies to fixed-step methods only"),
            UserWarning,
            stacklevel=stacklevel,
        )
    if not adaptive:
        return {"step_size": None if step_size is None else float(step_size)}
    rtol = DEFAULT_RTOL if rtol is None else float(rtol)
    atol = DEFAULT_ATOL if atol is None else float(atol)
    if rtol == 0 and atol == 0:
        raise ValueError(f"{caller}: rtol and atol cannot both be 0; e.g. rtol=1e-6, atol=1e-8")
    return {"rtol": rtol, "atol": atol,
            "first_step": None if first_step is None else float(first_step)}




def resolve_solver_call(
    func,
    *,
    method: str | None,
    rtol=None,
    atol=None,
    options: dict | None = None,
    event_fn=None,
    step_size: float | None = None,
    first_step: float | None = None,
    max_steps: int | None = None,
    unexpected: dict | None = None,
    caller: str = "odeint",
    stacklevel: int = 4,
) -> dict:
    """Turn one torchdiffeq-style call into the options ``odeint`` runs with; the one place that
    reads ``method``, ``options`` and the course's top-level conveniences.

    * ``method=None`` means ``"dopri5"``; Adams, implicit and SciPy methods are out of scope.
    * ``options`` (torchdiffeq's dict) may carry ``step_size``, ``first_step``,
      ``max_num_steps`` and ``interp`` (``"linear"``, torchdiffeq's default there, or
      ``"cubic"``); the top-level ``step_size=``, ``first_step=``, ``max_steps=`` say the same
      and interpolate cubically. The same option given both ways is an error.
    * ``event_fn``, the options torchdiffeq has and the course does not (``norm``, ``jump_t``,
      ``perturb``, ``grid_constructor``, ``min_step``, ``max_step``, ...), and callbacks on
      ``func`` raise :class:`OutOfScopeError`; any other unknown name a ``TypeError``.
    * The values go through :func:`check_solver_options`.

    Returns:
        ``{"method", "max_steps", "interp", ...}`` plus what :func:`check_solver_options` returns.
    """
    for name in (unexpected or {}):
        if name in OUT_OF_SCOPE:
            raise _out_of_scope(caller, name, f"the keyword {name}=")
        raise TypeError(f"{caller}() got an unexpected keyword argument {name!r}")
    if event_fn is not None:
        raise _out_of_scope(caller, "event_fn", "event_fn=")
    for name in _CALLBACKS:
        if getattr(func, name, None) is not None:
            raise _out_of_scope(caller, name, f"func.{name}")
    if options is not None and not isinstance(options, dict):
        raise TypeError(f"{caller}: options must be a dict (or None), got {type(options).__name__}")
    options = dict(options or {})
    for name in options:
        if name in OUT_OF_SCOPE:
            raise _out_of_scope(caller, name, f"options[{name!r}]")
        if name not in OPTIONS:
            raise ValueError(f"{caller}: unknown option {name!r}; options may hold "
                             f"{', '.join(OPTIONS)}")
    for key, value, top in (("step_size", step_size, "step_size"),
                            ("first_step", first_step, "first_step"),
                            ("max_num_steps", max_steps, "max_steps")):
        if key in options and value is not None:
            raise ValueError(f"{caller}: {key} given twice, as {top}= and in options; give it once")
    interp = options.pop("interp", "linear" if "step_size" in options else "cubic")
    if interp not in ("linear", "cubic"):
        raise ValueError(f"{caller}: options['interp'] must be 'linear' or 'cubic', got {interp!r}")
    step_size = options.pop("step_size", step_size)
    first_step = options.pop("first_step", first_step)
    max_steps = options.pop("max_num_steps", max_steps)
    method = DEFAULT_METHOD if method is None else method
    for name, value in (("rtol", rtol), ("atol", atol)):
        if _is_torch(value) and value.numel() == 1:
            value = float(value)
        if value is not None and not _is_number(value):
            raise TypeError(f"{caller}: {name} must be one number (per-component tolerances are "
                            f"outside the course's scope), got {type(value).__name__}")
    rtol = float(rtol) if _is_torch(rtol) else rtol
    atol = float(atol) if _is_torch(atol) else atol
    checked = check_solver_options(method, rtol=rtol, atol=atol, step_size=step_size,
                                   first_step=first_step, caller=caller, stacklevel=stacklevel)
    return {"method": method, "max_steps": DEFAULT_MAX_STEPS if max_steps is None else max_steps,
            "interp": interp, **checked}


def _checked_func(func, y0, stats: SolveStats):
    """Wrap ``func``: pass t in y's kind, count calls, check the returned shape once."""
    if _is_torch(y0):
        dtype, device = y0.dtype, y0.device

        def as_time(t):
            if _is_torch(t):  # a time that carries gradients back to the caller's t
                return t.to(dtype)
            return torch.full((), t, dtype=dtype, device=device)
    else:

        def as_time(t):
            return t

    def wrapped(t, y):
        stats.n_fevals += 1
        return func(as_time(t), y)

    def first_call(t, y):
        dy = wrapped(t, y)
        if _is_torch(y) != _is_torch(dy) or not hasattr(dy, "shape"):
            kind = "a torch tensor" if _is_torch(y) else "a NumPy array"
            raise TypeError(f"func(t, y) must return {kind} like y, got {type(dy).__name__}")
        if tuple(dy.shape) != tuple(y.shape):
            raise ValueError(
                f"func(t, y) returned shape {tuple(dy.shape)} but the state has shape "
                f"{tuple(y.shape)}: func must return dy/dt with the same shape as y"
            )
        return dy

    return wrapped, first_call


def odeint(
    func: Callable[[Any, Any], Any],
    y0,
    t,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    method: str | None = None,
    options: dict | None = None,
    event_fn=None,
    step_size: float | None = None,
    first_step: float | None = None,
    max_steps: int | None = None,
    return_stats: bool = False,
    **unexpected,
):
    """Solve ``dy/dt = func(t, y)``, ``y(t[0]) = y0`` and return y at every time in ``t``.

    The call is torchdiffeq's ``odeint(func, y0, t, *, rtol, atol, method, options, event_fn)``;
    ``step_size``, ``first_step``, ``max_steps`` and ``return_stats`` are the course's own.

    Args:
        func: the dynamics, called as ``func(t, y)`` with ``y`` of the shape of ``y0`` and
            returning ``dy/dt`` of the same shape. For torch, ``t`` is a 0-d tensor of y0's dtype;
            for NumPy, a Python float. A ``torch.nn.Module`` works as it is. Callbacks
            (``func.callback_step`` ...) are out of scope: an error.
        y0: initial state: a NumPy array or torch tensor of any shape (e.g. ``(batch, dim)``),
            float32 or float64 (lists and Python numbers become float64 arrays); or a tuple of
            tensors of one dtype, any shapes, solved as one (``func`` then takes and returns such
            tuples, and the result is a tuple of ``(len(t), *part.shape)`` tensors).
        t: output times, 1-D, strictly increasing or strictly decreasing (solve backwards).
            ``t[0]`` is the time of ``y0``. If ``t`` is a tensor that requires grad, the solve's
            times are built from it and autograd differentiates the result with respect to
            ``t`` too (the steps themselves are chosen as without gradients).
        rtol, atol: tolerances of the adaptive methods: a step is accepted when
            ``rms(err / (atol + rtol * max(|y_old|, |y_new|))) <= 1``; default
            ``DEFAULT_RTOL`` and ``DEFAULT_ATOL``, torchdiffeq's 1e-7 and 1e-9 (``NeuralODE``
            keeps its own 1e-6 and 1e-8). A fixed-step method ignores them, with a warning.
        method: ``None`` (``"dopri5"``) or a name of :data:`METHODS`: fixed step ``"euler"``,
            ``"midpoint"``, ``"rk4"`` (the classical one), ``"heun2"``, ``"heun3"``; adaptive
            ``"dopri5"``, ``"adaptive_heun"``, ``"fehlberg2"``, ``"bosh3"``, ``"tsit5"``,
            ``"dopri8"``. Adams, implicit and SciPy methods are out of scope: an error.
        options: torchdiffeq's options: ``step_size``, ``first_step``, ``max_num_steps`` (the
            same as the keywords below) and ``interp``, how a fixed-step method fills output
            times inside a step: ``"linear"`` (torchdiffeq's default when ``step_size`` is in
            ``options``) or ``"cubic"`` (Hermite, the course's default). Anything else raises.
        event_fn: out of scope; anything but ``None`` raises :class:`OutOfScopeError`.
        step_size: fixed-step methods: steps of exactly this size from ``t[0]``, the last one
            shortened to end on ``t[-1]``, whatever the output times; an output time inside a
            step is interpolated (cubic Hermite). Default ``None``: the steps are the intervals
            of ``t``, one step each (torchdiffeq's behaviour). Adaptive methods ignore it, with
            a warning.
        first_step: adaptive methods: the size (> 0) of the first step to try, the direction
            comes from ``t``; default: chosen from the dynamics at y0 (Hairer, Nørsett & Wanner
            II.4), which costs one extra function evaluation.
        max_steps: give up with :class:`MaxStepsExceededError` after this many steps (accepted
            and rejected, over the whole solve); default 100 000.
        return_stats: also return a :class:`SolveStats`.

    Returns:
        ``ys`` of shape ``(len(t), *y0.shape)``, with ``ys[0] == y0`` (same kind and dtype as
        ``y0``), or a tuple of such tensors for a tuple state; or ``(ys, stats)`` with
        ``return_stats=True``.

    Raises:
        TypeError, ValueError: bad input; the message names the value and what would be valid.
        OutOfScopeError: a torchdiffeq feature the course does not implement (named).
        StepSizeUnderflowError, MaxStepsExceededError, NonFiniteStateError: the solve could not
            finish; the message says at which t and what to try.
    """
    settings = resolve_solver_call(func, method=method, rtol=rtol, atol=atol, options=options,
                                   event_fn=event_fn, step_size=step_size, first_step=first_step,
                                   max_steps=max_steps, unexpected=unexpected)
    tuple_state = _tuple_state(y0)
    if tuple_state is not None:
        y0, func = tuple_state.flatten(y0), tuple_state.func(func)
    y0, ts, t_grad = _validate(func, y0, t, settings["max_steps"])
    tableau = TABLEAUS[settings["method"]]
    stats = SolveStats(method=settings["method"], record_steps=return_stats)
    f, f_first = _checked_func(func, y0, stats)
    clock = _Clock(ts, t_grad)
    if tableau.adaptive:
        error_ratio = _error_ratio if tuple_state is None else tuple_state.error_ratio
        ys = _solve_adaptive(f, f_first, y0, clock, tableau, settings["rtol"], settings["atol"],
                             settings["first_step"], settings["max_steps"], stats, error_ratio)
    else:
        ys = _solve_fixed(f, f_first, y0, clock, tableau, settings["step_size"],
                          settings["max_steps"], stats, settings["interp"])
    out = _stack(ys)
    if tuple_state is not None:
        out = tuple_state.split(out)
    return (out, stats) if return_stats else out


class _Clock:
    """The solve's times: Python floats for step-size control, and, when gradients flow to the
    output times ``t``, the same times as tensors built from ``t`` (so that autograd sees how
    every step, stage time and interpolation point moves with each ``t[i]``).

    A time that is the output time ``t[i]`` itself is ``t[i]``; any other time ``x`` (inside the
    steps) is ``t[0] + (x - t[0])``: moving ``t[0]`` shifts the whole step grid, as in
    torchdiffeq. Without gradients, every method returns the float unchanged.
    """

    def __init__(self, ts: list[float], t_tensor):
        self.ts, self.t_tensor = ts, t_tensor

    @property
    def differentiable(self) -> bool:
        return self.t_tensor is not None

    def at(self, x: float, index: int | None = None):
        """Time ``x`` (the output time ``t[index]`` if ``index`` is given)."""
        if self.t_tensor is None:
            return x
        if index is not None:
            return self.t_tensor[index]
        return self.t_tensor[0] + (x - self.ts[0])


def _fixed_steps(ts, step_size) -> tuple[int, Iterator[tuple[float, float, int | None]]]:
    """The fixed steps as ``(number of steps, iterator of (t_start, t_end, index))``.

    With ``step_size=None`` the steps are the intervals of ``ts``; otherwise steps of exactly
    ``step_size`` from ts[0], the last one shortened to end on ts[-1]. ``index`` is the position
    in ``ts`` of ``t_end`` when the step is built to end there (else None). The times are made one
    at a time (no list of all steps), so memory does not grow with the number of steps.
    """
    if step_size is None or len(ts) == 1:
        return len(ts) - 1, ((a, b, i + 1) for i, (a, b) in enumerate(zip(ts[:-1], ts[1:],
                                                                                 strict=True)))
    span = ts[-1] - ts[0]
    n = max(1, math.ceil(abs(span) / step_size - 1e-9))
    h = step_size if span > 0 else -step_size

    def steps():
        for i in range(n):
            last = i == n - 1
            yield ts[0] + i * h, (ts[-1] if last else ts[0] + (i + 1) * h), (len(ts) - 1 if last
                                                                            else None)

    return n, steps()


def _hermite(y0, y1, f0, f1, h, theta):
    """Cubic Hermite interpolation inside a step, from y and dy/dt at both ends.

    Its error is O(h^4), below the global error of every fixed-step method here.
    """
    theta2, theta3 = theta * theta, theta * theta * theta
    return (
        (2 * theta3 - 3 * theta2 + 1) * y0
        + (theta3 - 2 * theta2 + theta) * h * f0
        + (3 * theta2 - 2 * theta3) * y1
        + (theta3 - theta2) * h * f1
    )


def _solve_fixed(f, f_first, y0, clock, tableau, step_size, max_steps, stats, interp="cubic"):
    """Steps of ``step_size`` (the last one shortened to end on ``ts[-1]``), independent of the
    output times; an output time inside a step is interpolated: cubic Hermite
    (:func:`_hermite`), or linear (``interp="linear"``, torchdiffeq's default for ``step_size``
    given in ``options``)."""
    ts = clock.ts
    n_steps, steps = _fixed_steps(ts, step_size)
    if n_steps > max_steps:
        raise MaxStepsExceededError(
            f"step_size={step_size} needs {n_steps} steps to cover [{ts[0]:.6g}, "
            f"{ts[-1]:.6g}], more than max_steps={max_steps}; raise max_steps or the step_size"
        )
    direction = 1.0 if ts[-1] > ts[0] else -1.0
    ys = [y0]
    y, k0, next_out = y0, (f_first(clock.at(ts[0], 0), y0) if len(ts) > 1 else None), 1
    start = clock.at(ts[0], 0)
    for step, (t_now, t_next, end_index) in enumerate(steps):
        end = clock.at(t_next, end_index)
        h = end - start  # a float, or a tensor carrying the gradient to t
        y_new, _, _ = rk_step(f, start, y, h, tableau, k0=k0)
        if not _all_finite(y_new):
            raise NonFiniteStateError(
                f"the state became inf/NaN at t={t_next:.6g} (step of {t_next - t_now:.3g} from "
                f"t={t_now:.6g}); the dynamics blow up or the step is too large for them: "
                "try a smaller step_size or an adaptive method"
            )
        stats.accepted(t_now, t_next - t_now)
        last_step = step == n_steps - 1
        end_inside = next_out
        while end_inside < len(ts) and (ts[end_inside] - t_next) * direction < 0:
            end_inside += 1
        inside = range(next_out, end_inside)
        # An output time on the step's end that the step was not built from (a grid point that
        # happens to equal t[j]): with gradients to t, interpolate there too, so t[j] gets its own.
        on_end = end_inside < len(ts) and (ts[end_inside] - t_next) * direction <= 0
        end_by_value = on_end and end_index != end_inside and clock.differentiable
        # dy/dt at the step's end: the next step's first stage, and the interpolant's end slope.
        needs_k1 = not last_step or ((inside or end_by_value) and interp == "cubic")
        k1 = f(end, y_new) if needs_k1 else None
        for j in [*inside, *([end_inside] if end_by_value else [])]:
            theta = (clock.at(ts[j], j) - start) / h
            if interp == "cubic":
                ys.append(_hermite(y, y_new, k0, k1, h, theta))
            else:
                ys.append(y + theta * (y_new - y))
        next_out = end_inside + int(end_by_value)
        if on_end and not end_by_value:
            ys.append(y_new)  # an output time on the grid point itself
            next_out += 1
        y, k0, start = y_new, k1, end
    return ys


def _initial_step(f, t0, y0, f0, direction, order, rtol, atol, t_span):
    """Hairer, Nørsett & Wanner II.4: a first step from the size of y0, f0 and f's change."""
    scale = atol + rtol * (y0.detach().abs() if _is_torch(y0) else np.abs(y0))
    d0, d1 = _scaled_rms(y0, scale), _scaled_rms(f0, scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, abs(t_span))
    y1 = y0 + direction * h0 * f0
    f1 = f(t0 + direction * h0, y1)
    d2 = _scaled_rms(f1 - f0, scale) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1))
    return min(100 * h0, h1, abs(t_span))


def _dense_eval(tableau, y, ks, h, theta):
    """y(t + theta h) from the stages of an accepted step (the tableau's dense output)."""
    weights = [sum(p * theta ** (j + 1) for j, p in enumerate(row)) for row in tableau.dense]
    return _axpy(y, h, weights, ks)


def _solve_adaptive(f, f_first, y0, clock, tableau, rtol, atol, first_step, max_steps, stats,
                    error_ratio_of=_error_ratio):
    ts = clock.ts
    ys = [y0]
    if len(ts) == 1:
        return ys
    t0, t_final = ts[0], ts[-1]
    direction = 1.0 if t_final > t0 else -1.0
    k0 = f_first(clock.at(t0, 0), y0)
    if first_step is None:
        h_abs = _initial_step(
            f, t0, y0, k0, direction, tableau.error_order, rtol, atol, t_final - t0
        )
    else:
        h_abs = float(first_step)
    t, y = t0, y0
    start = clock.at(t0, 0)
    next_out = 1
    last_rejection_non_finite = False
    while next_out < len(ts):
        min_step = 10 * abs(math.nextafter(t, direction * math.inf) - t)
        if h_abs < min_step:
            if last_rejection_non_finite:
                raise NonFiniteStateError(
                    f"the state becomes inf/NaN for every step tried from t={t:.6g}; the "
                    "dynamics blow up there: check func, or stop the solve before that time"
                )
            raise StepSizeUnderflowError(
                f"step size fell to {h_abs:.3g} at t={t:.6g}, below what float precision "
                "resolves there; the solution may blow up or the problem be stiff: loosen "
                "rtol/atol, shorten the time span, or check the dynamics"
            )
        if stats.n_steps >= max_steps:
            raise MaxStepsExceededError(
                f"reached max_steps={max_steps} at t={t:.6g} of [{t0:.6g}, {t_final:.6g}]; "
                "raise max_steps, loosen rtol/atol, or check for stiffness"
            )
        reaches_end = h_abs >= abs(t_final - t)
        h = t_final - t if reaches_end else direction * h_abs
        t_new = t_final if reaches_end else t + h  # land on t_final exactly
        end = clock.at(t_new, len(ts) - 1 if reaches_end else None)
        h_step = end - start if clock.differentiable else h
        y_new, y_err, ks = rk_step(f, start, y, h_step, tableau, k0=k0)
        error_ratio = error_ratio_of(y, y_new, y_err, rtol, atol)
        factor = next_step_factor(error_ratio, tableau.error_order)
        if not (error_ratio <= 1.0):  # also rejects NaN
            last_rejection_non_finite = not math.isfinite(error_ratio)
            stats.rejected(t)
            h_abs = abs(h) * min(1.0, factor)
            k0 = ks[0]  # the retry starts from the same (t, y)
            continue
        last_rejection_non_finite = False
        # Output times inside (t, t_new]: interpolate with the step's own stages. With gradients
        # to t, only the final time is the step's own end; every other output is interpolated.
        while next_out < len(ts) and (ts[next_out] - t_new) * direction <= 0:
            t_out = ts[next_out]
            if t_out == t_new and (next_out == len(ts) - 1 or not clock.differentiable):
                ys.append(y_new)
            else:
                theta = (clock.at(t_out, next_out) - start) / h_step
                ys.append(_dense_eval(tableau, y, ks, h_step, theta))
            next_out += 1
        stats.accepted(t, h)
        k0 = ks[-1] if tableau.fsal else None
        t, y, start = t_new, y_new, end
        h_abs = abs(h) * factor
    return ys
