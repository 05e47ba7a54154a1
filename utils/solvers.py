"""ODE solvers: ``odeint`` with fixed-step and adaptive Runge–Kutta methods.

Solves the initial value problem ``dy/dt = func(t, y)``, ``y(t[0]) = y0`` and returns the
solution at every time in ``t``. The call is the one of torchdiffeq's ``odeint``, so a lesson can
switch between the two by changing one import. It works on NumPy arrays (any plain Python
``func``) and on torch tensors (autograd flows through every operation of the solve).

The methods are Butcher tableaus (:mod:`utils.tableaus`) driven by one loop, :func:`rk_step`.
The adaptive method (``dopri5``) controls the local error, adapts the step size, and interpolates
output times inside a step with its dense output, so the output grid never forces small steps.

References: E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*,
2nd ed., Springer 1993 (II.4: step-size control and the initial step; II.6: dense output);
R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
Equations", NeurIPS 2018, arXiv:1806.07366.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from .tableaus import TABLEAUS, ButcherTableau

__all__ = [
    "odeint",
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
    """

    method: str
    n_fevals: int = 0
    n_accepted: int = 0
    n_rejected: int = 0
    step_starts: list[float] = field(default_factory=list)
    step_sizes: list[float] = field(default_factory=list)
    rejected_starts: list[float] = field(default_factory=list)

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
        h: step size (negative to step backwards).
        tableau: the method's coefficients.
        k0: ``func(t, y)`` if already known (First-Same-As-Last methods reuse the last stage).

    Returns:
        ``(y_new, y_err, ks)``: the state at ``t + h``, the error estimate (``None`` for methods
        without an embedded pair) and the list of the s stage derivatives ``k_i``.
    """
    ks = [func(t, y) if k0 is None else k0]
    for c_i, a_row in zip(tableau.c[1:], tableau.a[1:], strict=True):
        ks.append(func(t + c_i * h, y + h * _combine(a_row, ks)))
    y_new = y + h * _combine(tableau.b, ks)
    y_err = None if tableau.b_err is None else h * _combine(tableau.b_err, ks)
    return y_new, y_err, ks


def _combine(weights, ks):
    """sum_i weights[i] * ks[i], skipping zero weights (they are common in tableaus)."""
    total = None
    for w, k in zip(weights, ks):
        if w != 0.0:
            total = w * k if total is None else total + w * k
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
    return torch.stack(ys) if _is_torch(ys[0]) else np.stack(ys)


# --- input validation: the one place that checks what the caller passed ----------------------


def _validate(func, y0, t, method, rtol, atol, step_size, max_steps):
    if not callable(func):
        raise TypeError(f"func must be callable as func(t, y), got {type(func).__name__}")
    if method not in TABLEAUS:
        raise ValueError(f"unknown method {method!r}; valid methods are {', '.join(METHODS)}")

    if _is_torch(y0):
        if not y0.is_floating_point():
            raise TypeError(
                f"y0 has dtype {y0.dtype}; pass a floating-point tensor, e.g. y0.float() or "
                "y0.double()"
            )
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
            f"y0 must be a NumPy array or a torch tensor, got {type(y0).__name__}"
        )

    if t.ndim != 1 or t.shape[0] < 1:
        raise ValueError(f"t must be a 1-D sequence of output times, got shape {tuple(t.shape)}")
    t_list = [float(x) for x in t]
    if not all(math.isfinite(x) for x in t_list):
        raise ValueError(f"t must be finite, got {t_list}")
    dts = [b - a for a, b in zip(t_list, t_list[1:])]
    if dts and not (all(d > 0 for d in dts) or all(d < 0 for d in dts)):
        bad = next(i for i, d in enumerate(dts) if (d > 0) != (dts[0] > 0) or d == 0)
        raise ValueError(
            "t must be strictly increasing or strictly decreasing; "
            f"t[{bad}] = {t_list[bad]} and t[{bad + 1}] = {t_list[bad + 1]} break that"
        )
    if not _all_finite(y0):
        raise ValueError("y0 contains inf or NaN; the initial state must be finite")
    for name, value in (("rtol", rtol), ("atol", atol)):
        if not (isinstance(value, (int, float)) and value >= 0 and math.isfinite(value)):
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    if rtol == 0 and atol == 0:
        raise ValueError("rtol and atol cannot both be 0; e.g. rtol=1e-6, atol=1e-8")
    if step_size is not None and not (
        isinstance(step_size, (int, float)) and step_size > 0 and math.isfinite(step_size)
    ):
        raise ValueError(f"step_size must be a finite number > 0, got {step_size!r}")
    if not (isinstance(max_steps, int) and max_steps > 0):
        raise ValueError(f"max_steps must be a positive int, got {max_steps!r}")
    return y0, t_list


def _checked_func(func, y0, stats: SolveStats):
    """Wrap ``func``: pass t in y's kind, count calls, check the returned shape once."""
    if _is_torch(y0):
        dtype, device = y0.dtype, y0.device

        def as_time(t):
            return torch.tensor(t, dtype=dtype, device=device)
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
    method: str = "dopri5",
    rtol: float = 1e-6,
    atol: float = 1e-8,
    step_size: float | None = None,
    first_step: float | None = None,
    max_steps: int = 100_000,
    return_stats: bool = False,
):
    """Solve ``dy/dt = func(t, y)``, ``y(t[0]) = y0`` and return y at every time in ``t``.

    Args:
        func: the dynamics, called as ``func(t, y)`` with ``y`` of the shape of ``y0`` and
            returning ``dy/dt`` of the same shape. For torch, ``t`` is a 0-d tensor of y0's dtype;
            for NumPy, a Python float. A ``torch.nn.Module`` works as it is.
        y0: initial state, NumPy array or torch tensor of any shape (e.g. ``(batch, dim)``),
            float32 or float64. Lists and Python numbers become float64 arrays.
        t: output times, 1-D, strictly increasing or strictly decreasing (solve backwards).
            ``t[0]`` is the time of ``y0``.
        method: ``"euler"``, ``"midpoint"``, ``"rk4"`` (fixed step) or ``"dopri5"`` (adaptive).
        rtol, atol: tolerances of the adaptive method: a step is accepted when
            ``rms(err / (atol + rtol * max(|y_old|, |y_new|))) <= 1``. Ignored by fixed-step methods.
        step_size: fixed-step methods: the largest step. Each interval between output times is cut
            into ``ceil(interval / step_size)`` equal steps, so steps land exactly on the output
            times. Default ``None``: one step per interval of ``t`` (torchdiffeq's behaviour).
            Ignored by ``dopri5``.
        first_step: ``dopri5``: the first step to try; default: chosen from the dynamics at y0
            (Hairer, Nørsett & Wanner II.4), which costs one extra function evaluation.
        max_steps: give up with :class:`MaxStepsExceededError` after this many steps.
        return_stats: also return a :class:`SolveStats`.

    Returns:
        ``ys`` of shape ``(len(t), *y0.shape)``, with ``ys[0] == y0`` (same kind and dtype as
        ``y0``); or ``(ys, stats)`` with ``return_stats=True``.

    Raises:
        TypeError, ValueError: bad input; the message names the value and what would be valid.
        StepSizeUnderflowError, MaxStepsExceededError, NonFiniteStateError: the solve could not
            finish; the message says at which t and what to try.
    """
    y0, ts = _validate(func, y0, t, method, rtol, atol, step_size, max_steps)
    tableau = TABLEAUS[method]
    stats = SolveStats(method=method)
    f, f_first = _checked_func(func, y0, stats)
    if tableau.adaptive:
        ys = _solve_adaptive(f, f_first, y0, ts, tableau, rtol, atol, first_step, max_steps, stats)
    else:
        ys = _solve_fixed(f, f_first, y0, ts, tableau, step_size, max_steps, stats)
    out = _stack(ys)
    return (out, stats) if return_stats else out


def _solve_fixed(f, f_first, y0, ts, tableau, step_size, max_steps, stats):
    ys = [y0]
    y = y0
    first = True
    for t_start, t_end in zip(ts, ts[1:]):
        interval = t_end - t_start
        n = 1 if step_size is None else max(1, math.ceil(abs(interval) / step_size - 1e-9))
        h = interval / n
        for i in range(n):
            t_now = t_start + i * h
            if stats.n_accepted >= max_steps:
                raise MaxStepsExceededError(
                    f"reached max_steps={max_steps} at t={t_now:.6g}; raise max_steps or the "
                    "step_size"
                )
            k0 = f_first(t_now, y) if first else None
            first = False
            y, _, _ = rk_step(f, t_now, y, h, tableau, k0=k0)
            if not _all_finite(y):
                raise NonFiniteStateError(
                    f"the state became inf/NaN at t={t_now + h:.6g} (step of {h:.3g} from "
                    f"t={t_now:.6g}); the dynamics blow up or the step is too large for them: "
                    "try a smaller step_size or an adaptive method"
                )
            stats.n_accepted += 1
            stats.step_starts.append(t_now)
            stats.step_sizes.append(h)
        ys.append(y)
    return ys


def _initial_step(f, t0, y0, f0, direction, order, rtol, atol, t_span):
    """Hairer, Nørsett & Wanner II.4: a first step from the size of y0, f0 and f's change."""
    scale = atol + rtol * (y0.detach().abs() if _is_torch(y0) else np.abs(y0))
    d0, d1 = _rms(y0 / scale), _rms(f0 / scale)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, abs(t_span))
    y1 = y0 + direction * h0 * f0
    f1 = f(t0 + direction * h0, y1)
    d2 = _rms((f1 - f0) / scale) / h0
    if max(d1, d2) <= 1e-15:
        h1 = max(1e-6, h0 * 1e-3)
    else:
        h1 = (0.01 / max(d1, d2)) ** (1.0 / (order + 1))
    return min(100 * h0, h1, abs(t_span))


def _dense_eval(tableau, y, ks, h, theta):
    """y(t + theta h) from the stages of an accepted step (4th-order continuous extension)."""
    weights = [sum(p * theta ** (j + 1) for j, p in enumerate(row)) for row in tableau.dense]
    return y + h * _combine(weights, ks)


def _solve_adaptive(f, f_first, y0, ts, tableau, rtol, atol, first_step, max_steps, stats):
    ys = [y0]
    if len(ts) == 1:
        return ys
    t0, t_final = ts[0], ts[-1]
    direction = 1.0 if t_final > t0 else -1.0
    k0 = f_first(t0, y0)
    if first_step is None:
        h_abs = _initial_step(f, t0, y0, k0, direction, tableau.error_order, rtol, atol, t_final - t0)
    else:
        h_abs = abs(first_step)
    t, y = t0, y0
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
        y_new, y_err, ks = rk_step(f, t, y, h, tableau, k0=k0)
        scale = atol + rtol * _abs_max(y, y_new)
        error_ratio = _rms(y_err / scale)
        factor = next_step_factor(error_ratio, tableau.error_order)
        if not (error_ratio <= 1.0):  # also rejects NaN
            last_rejection_non_finite = not math.isfinite(error_ratio)
            stats.n_rejected += 1
            stats.rejected_starts.append(t)
            h_abs = abs(h) * min(1.0, factor)
            continue
        last_rejection_non_finite = False
        t_new = t_final if reaches_end else t + h  # land on t_final exactly
        # Output times inside (t, t_new]: interpolate with the step's own stages.
        while next_out < len(ts) and (ts[next_out] - t_new) * direction <= 0:
            t_out = ts[next_out]
            if t_out == t_new:
                ys.append(y_new)
            else:
                ys.append(_dense_eval(tableau, y, ks, h, (t_out - t) / h))
            next_out += 1
        stats.n_accepted += 1
        stats.step_starts.append(t)
        stats.step_sizes.append(h)
        k0 = ks[-1] if tableau.fsal else None
        t, y = t_new, y_new
        h_abs = abs(h) * factor
    return ys
