"""Exercises of Lesson 02 (continuous vs. discrete dynamics): residual stacks, Euler's growth
factor, and how well a flow run backwards recovers its start."""

from __future__ import annotations

import numpy as np
import torch

from ..systems import LinearSpiral
from .core import SOLVERS, Case, Exercise

__all__ = ["residual_stack", "euler_growth", "reconstruction_error"]

_SPIRAL = LinearSpiral()


def _clock(t, h):
    """A time-dependent field: a wrong time per block changes the result."""
    return np.cos(3 * t) * h + t


def _torch_clock(t, h):
    return torch.cos(torch.as_tensor(3 * t, dtype=h.dtype)) * h + t


def _residual_cases():
    return [
        Case("spiral from (2, 0), t_end=10, 20 blocks (dt=0.5)",
             args=(_SPIRAL, np.array([2.0, 0.0]), 10.0, 20)),
        Case("one block: h0 + t_end * f(0, h0)", args=(_SPIRAL, np.array([2.0, 0.0]), 2.0, 1)),
        Case("time-dependent f(t, h) = cos(3t) h + t, t_end=1.5, 6 blocks",
             args=(_clock, np.array([1.0]), 1.5, 6),
             why="block n must see the time n * dt, starting at 0"),
        Case("a torch batch of two states, t_end=3, 6 blocks",
             args=(_SPIRAL, torch.tensor([[1.0, -1.0], [0.5, 0.25]], dtype=torch.float64), 3.0, 6)),
    ]


def _residual_hidden_cases():
    return [
        Case("time-dependent, torch float32 batch, t_end=2, 5 blocks",
             args=(_torch_clock, torch.tensor([[1.0], [-2.0]]), 2.0, 5), rtol=1e-5, atol=1e-6),
        Case("time-dependent, t_end=0.9, 3 blocks", args=(_clock, np.array([0.5, 2.0]), 0.9, 3)),
    ]


def _growth_cases():
    cases = [Case(f"spiral d=0.5, w=1, dt={dt}", args=(dt, 0.5, 1.0)) for dt in (0.5, 1.0, 2.0)]
    return cases + [
        Case("pure rotation d=0, w=2, dt=0.1", args=(0.1, 0.0, 2.0)),
        Case("strong decay d=3, w=0.5, dt=0.4", args=(0.4, 3.0, 0.5)),
    ]


def _growth_hidden_cases():
    return [Case("d=0.2, w=3, dt=0.25", args=(0.25, 0.2, 3.0)),
            Case("d=1, w=0, dt=2.5 (overshoot)", args=(2.5, 1.0, 0.0))]


def _reconstruction_cases():
    y0 = np.array([2.0, 0.0])
    return [
        Case("spiral, t_end=10, rk4 with step 0.5", args=(_SPIRAL, y0, 10.0, "rk4", 0.5),
             rtol=1e-5, atol=1e-12),
        Case("spiral, t_end=2, Euler with step 0.1", args=(_SPIRAL, y0, 2.0, "euler", 0.1),
             rtol=1e-5, atol=1e-12),
        Case("dy/dt = cos(3t) y + t (time-dependent), t_end=1, midpoint with step 0.2",
             args=(_clock, np.array([1.0]), 1.0, "midpoint", 0.2), rtol=1e-5, atol=1e-12),
    ]


def _reconstruction_hidden_cases():
    return [Case("spiral from (0, 1), t_end=4, Euler with step 0.25",
                 args=(_SPIRAL, np.array([0.0, 1.0]), 4.0, "euler", 0.25), rtol=1e-5, atol=1e-12)]


residual_stack = Exercise(
    id="ex02_residual_stack",
    withholds=SOLVERS,
    title="Exercise 2.1: a weight-shared residual stack",
    points=2,
    reference="lesson02.residual_stack",
    cases=_residual_cases,
    hidden_cases=_residual_hidden_cases,
    hints=(
        "A residual block adds dt times f to its input: the stack is Euler's method in "
        'disguise.',
        'The step dt is t_end divided by n_blocks. Starting from h0, apply n_blocks blocks; '
        'block n '
        '(counting from 0) sees the time n dt and adds dt f(n dt, h). Rebind h to a new value '
        'each time (no +=, which would change h0), and return the final state.',
    ),
)

euler_growth = Exercise(
    id="ex02_euler_growth",
    title="Exercise 2.2: how much one Euler step grows the spiral",
    points=1,
    reference="lesson02.euler_growth",
    cases=_growth_cases,
    hidden_cases=_growth_hidden_cases,
    hints=(
        'Write the 2-D linear system as one complex equation dz/dt = lambda z with z = x + i '
        'y.',
        'Here lambda = -d + i w. One Euler step multiplies z by the complex number 1 + dt '
        'lambda, so the norm of the state is multiplied by the modulus of that number: '
        "Python's complex numbers and abs are enough.",
    ),
)

reconstruction_error = Exercise(
    id="ex02_reconstruction_error",
    title="Exercise 2.3: run the flow forward, then backward",
    points=2,
    reference="lesson02.reconstruction_error",
    cases=_reconstruction_cases,
    hidden_cases=_reconstruction_hidden_cases,
    hints=(
        'Solve forward from 0 to t_end, then solve the result back from t_end to 0, and '
        'compare.',
        "Use the course's odeint (import it inside your function) with the given method and "
        'step size, once on the grid [0, t_end] and once, from the state at the end, on '
        '[t_end, 0]; keep the last state of each solve. Return the Euclidean norm of (state '
        'back at 0) minus y0 as a float.',
    ),
)
