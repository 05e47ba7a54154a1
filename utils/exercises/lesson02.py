"""Exercises of Lesson 02 (continuous vs. discrete dynamics): residual stacks, Euler's growth
factor, and how well a flow run backwards recovers its start."""

from __future__ import annotations

import numpy as np
import torch

from ..solvers import odeint
from ..systems import LinearSpiral
from .core import Case, Exercise

__all__ = ["residual_stack", "euler_growth", "reconstruction_error"]


# -- reference solutions (what `ex.<name>.solution()` prints) ---------------------------------


def _residual_stack(f, h0, t_end, n_blocks):
    """A weight-shared residual network: n_blocks blocks h <- h + dt * f(t, h), dt = t_end/n_blocks.

    Block n sees the time t = n * dt, so the stack is exactly Euler's method on dh/dt = f(t, h).
    Returns the state after the last block (same shape and kind as h0).
    """
    dt = t_end / n_blocks
    h = h0
    for n in range(n_blocks):
        h = h + dt * f(n * dt, h)
    return h


def _euler_growth(dt, decay, frequency):
    """Factor by which one Euler step of size dt multiplies the norm of the spiral's state.

    For dx/dt = -d x - w y, dy/dt = w x - d y, write z = x + i y: dz/dt = (-d + i w) z, so an
    Euler step is z <- (1 + dt (-d + i w)) z and the norm is multiplied by |1 + dt (-d + i w)|.
    """
    return abs(1 + dt * complex(-decay, frequency))


def _reconstruction_error(func, y0, t_end, method, step_size):
    """Solve from t=0 to t_end, then from t_end back to 0; return ||y_back - y0|| (Euclidean)."""
    from utils.solvers import odeint

    y_end = odeint(func, y0, [0.0, t_end], method=method, step_size=step_size)[-1]
    y_back = odeint(func, y_end, [t_end, 0.0], method=method, step_size=step_size)[-1]
    return float(np.linalg.norm(y_back - y0))


# -- cases ------------------------------------------------------------------------------------

_SPIRAL = LinearSpiral()


def _clock(t, h):
    """A time-dependent field: a wrong time per block changes the result."""
    return np.cos(3 * t) * h + t


def _residual_cases():
    h0 = np.array([2.0, 0.0])
    torch_h0 = torch.tensor([[1.0, -1.0], [0.5, 0.25]], dtype=torch.float64)
    torch_expected = odeint(_SPIRAL, torch_h0, torch.tensor([0.0, 3.0], dtype=torch.float64),
                            method="euler", step_size=0.5)[-1]
    return [
        Case("spiral from (2, 0), t_end=10, 20 blocks (dt=0.5)",
             odeint(_SPIRAL, h0, [0.0, 10.0], method="euler", step_size=0.5)[-1],
             args=(_SPIRAL, h0, 10.0, 20)),
        Case("one block: h0 + t_end * f(0, h0)", h0 + 2.0 * _SPIRAL(0.0, h0),
             args=(_SPIRAL, h0, 2.0, 1)),
        Case("time-dependent f(t, h) = cos(3t) h + t, t_end=1.5, 6 blocks",
             odeint(_clock, np.array([1.0]), [0.0, 1.5], method="euler", step_size=0.25)[-1],
             args=(_clock, np.array([1.0]), 1.5, 6)),
        Case("a torch batch of two states, t_end=3, 6 blocks", torch_expected,
             args=(_SPIRAL, torch_h0, 3.0, 6)),
    ]


def _growth_cases():
    return [
        Case(f"spiral d=0.5, w=1, dt={dt}", _euler_growth(dt, 0.5, 1.0), args=(dt, 0.5, 1.0))
        for dt in (0.5, 1.0, 2.0)
    ] + [
        Case("pure rotation d=0, w=2, dt=0.1", float(np.hypot(1.0, 0.2)), args=(0.1, 0.0, 2.0)),
        Case("strong decay d=3, w=0.5, dt=0.4", float(np.hypot(1 - 1.2, 0.2)),
             args=(0.4, 3.0, 0.5)),
    ]


def _reconstruction_cases():
    y0 = np.array([2.0, 0.0])
    return [
        Case("spiral, t_end=10, rk4 with step 0.5",
             _reconstruction_error(_SPIRAL, y0, 10.0, "rk4", 0.5),
             args=(_SPIRAL, y0, 10.0, "rk4", 0.5), rtol=1e-5, atol=1e-12),
        Case("spiral, t_end=2, Euler with step 0.1",
             _reconstruction_error(_SPIRAL, y0, 2.0, "euler", 0.1),
             args=(_SPIRAL, y0, 2.0, "euler", 0.1), rtol=1e-5, atol=1e-12),
        Case("dy/dt = cos(3t) y + t (time-dependent), t_end=1, midpoint with step 0.2",
             _reconstruction_error(_clock, np.array([1.0]), 1.0, "midpoint", 0.2),
             args=(_clock, np.array([1.0]), 1.0, "midpoint", 0.2), rtol=1e-5, atol=1e-12),
    ]


# -- the exercises ----------------------------------------------------------------------------

residual_stack = Exercise(
    id="ex02_residual_stack",
    title="Exercise 2.1: a weight-shared residual stack",
    points=2,
    reference=_residual_stack,
    cases=_residual_cases,
    hint_text="""
dt = t_end / n_blocks. Start from h = h0 and repeat n_blocks times:
    h = h + dt * f(n * dt, h)        # block n sees the time n * dt
Return the final h. Write h = h + ..., not h += ...: in-place updates would change h0.""",
)

euler_growth = Exercise(
    id="ex02_euler_growth",
    title="Exercise 2.2: how much one Euler step grows the spiral",
    points=1,
    reference=_euler_growth,
    cases=_growth_cases,
    hint_text="""
With z = x + i y the spiral is dz/dt = (-d + i w) z. One Euler step multiplies z by the complex
number 1 + dt * (-d + i w); the norm is multiplied by its modulus: abs(1 + dt * complex(-d, w)).""",
)

reconstruction_error = Exercise(
    id="ex02_reconstruction_error",
    title="Exercise 2.3: run the flow forward, then backward",
    points=2,
    reference=_reconstruction_error,
    cases=_reconstruction_cases,
    hint_text="""
y_end  = odeint(func, y0, [0.0, t_end], method=method, step_size=step_size)[-1]
y_back = odeint(func, y_end, [t_end, 0.0], method=method, step_size=step_size)[-1]
return the Euclidean norm of y_back - y0 as a float (np.linalg.norm).
Import odeint inside the function: from utils.solvers import odeint""",
)
