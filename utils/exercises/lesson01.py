"""Exercises of Lesson 01 (ODE basics): Euler's method, RK4, and the measured convergence order.

The cases are built against the plausible wrong answers: time-dependent right-hand sides (an
answer that ignores or shifts ``t`` fails), uneven and backward time grids (a constant step or the
loop index as the time fails), batches and float32 states (wrong shapes or dtypes fail).
"""

from __future__ import annotations

import numpy as np

from ..systems import LotkaVolterra
from .core import SOLVERS, Case, Exercise

__all__ = ["euler_step", "euler_solve", "rk4_step", "convergence_order"]

_LV = LotkaVolterra()


def _decay(t, y):
    return -y


def _time_dependent(t, y):
    return np.cos(t) * y + t


def _growing_in_time(t, y):
    """dy/dt = t y: the slope depends on which time the answer passes."""
    return t * y


def _step_cases():
    return [
        Case("dy/dt = -y from y=[1.0] at t=0, h=0.1", args=(_decay, 0.0, np.array([1.0]), 0.1)),
        Case("dy/dt = cos(t) y + t from y=[1, -2] at t=0.7, h=0.25 (uses t)",
             args=(_time_dependent, 0.7, np.array([1.0, -2.0]), 0.25)),
        Case("Lotka–Volterra from (10, 5), h=0.01", args=(_LV, 0.0, np.array([10.0, 5.0]), 0.01)),
        Case("backwards in time: dy/dt = t y from y=[1.0] at t=1, h=-0.5",
             args=(_growing_in_time, 1.0, np.array([1.0]), -0.5)),
    ]


def _step_hidden_cases():
    return [
        Case("a batch of two Lotka–Volterra states", args=(_LV, 0.0, np.array([[10.0, 5.0],
                                                                           [2.0, 1.0]]), 0.1)),
        Case("float32 state, dy/dt = t y at t=2, h=0.3",
             args=(_growing_in_time, 2.0, np.array([0.5, 1.5], dtype=np.float32), 0.3),
             rtol=1e-5, atol=1e-6),
        Case("dy/dt = t y from y=[2.0] at t=-1.5, h=0.2", args=(_growing_in_time, -1.5,
                                                                 np.array([2.0]), 0.2)),
    ]


def _solve_cases():
    return [
        Case("dy/dt = -y from [1.0] on linspace(0, 1, 11)",
             args=(_decay, np.array([1.0]), np.linspace(0.0, 1.0, 11))),
        Case("dy/dt = t y (uses t) on the uneven grid [0, 0.1, 0.3, 0.35, 1.0]",
             args=(_growing_in_time, np.array([1.0]), np.array([0.0, 0.1, 0.3, 0.35, 1.0])),
             why="each step must use its own size t[n+1] - t[n] and the time t[n]"),
        Case("Lotka–Volterra from (10, 5) on linspace(0, 2, 201)",
             args=(_LV, np.array([10.0, 5.0]), np.linspace(0.0, 2.0, 201))),
    ]


def _solve_hidden_cases():
    return [
        Case("dy/dt = cos(t) y + t, two components, uneven grid starting at t=0.5",
             args=(_time_dependent, np.array([1.0, -1.0]), np.array([0.5, 0.6, 0.9, 1.0, 1.7]))),
        Case("backwards in time: dy/dt = t y on [2, 1.5, 1.2, 0]",
             args=(_growing_in_time, np.array([0.5]), np.array([2.0, 1.5, 1.2, 0.0]))),
        Case("a single time point: only y0", args=(_decay, np.array([3.0, 4.0]), np.array([0.0]))),
    ]


def _order_cases():
    h = np.array([0.1, 0.05, 0.025, 0.0125])
    return [
        Case("errors = 3 h (first order)", args=(h, 3 * h)),
        Case("errors = 0.5 h^4 (fourth order)", args=(h, 0.5 * h**4)),
        Case("errors = 2 h^2 (1 + 0.1 h), not an exact power", args=(h, 2 * h**2 * (1 + 0.1 * h))),
    ]


def _order_hidden_cases():
    h = np.array([0.2, 0.1, 0.05])
    return [
        Case("three points, errors = 5 h^3 (1 + h)", args=(h, 5 * h**3 * (1 + h))),
        Case("unevenly spaced step sizes, errors = h^1.5",
             args=(np.array([0.3, 0.2, 0.01]), np.array([0.3, 0.2, 0.01]) ** 1.5)),
    ]


euler_step = Exercise(
    id="ex01_euler_step",
    withholds=SOLVERS,
    title="Exercise 1.1: one Euler step",
    points=2,
    reference="lesson01.euler_step",
    cases=_step_cases,
    hidden_cases=_step_hidden_cases,
    hints=(
        "Euler's method trusts the slope at the start of the step for the whole step of "
        'length h.',
        'The new state is the old state plus the step size times the slope f evaluated at the '
        'current time and state (f takes the time first, then the state). Return a new array: '
        "updating y in place would change the caller's array.",
    ),
)

euler_solve = Exercise(
    id="ex01_euler_solve",
    withholds=SOLVERS,
    title="Exercise 1.2: Euler's method on a time grid",
    points=2,
    reference="lesson01.euler_solve",
    cases=_solve_cases,
    hidden_cases=_solve_hidden_cases,
    hints=(
        'Walk along the grid one interval at a time, with the step you wrote in Exercise 1.1.',
        'Keep the states in a list that starts with y0. For each interval n, the step size is '
        "that interval's own length t[n+1] - t[n] (the grid need not be even); step from the "
        'last state at time t[n] and append. At the end turn the list into one array of shape '
        '(len(t), *y0.shape).',
    ),
)

rk4_step = Exercise(
    id="ex01_rk4_step",
    withholds=SOLVERS,
    title="Exercise 1.3: one Runge–Kutta 4 step",
    points=3,
    reference="lesson01.rk4_step",
    cases=_step_cases,
    hidden_cases=_step_hidden_cases,
    hints=(
        'RK4 samples the slope four times inside the step and averages them with weights 1, '
        '2, 2, 1.',
        'k1 is the slope at the start; k2 the slope at the midpoint time, reached with half a '
        'step along k1; k3 the same with half a step along k2; k4 the slope at the end time, '
        'reached with a full step along k3. The new state is y plus h times the weighted mean '
        '(k1 + 2 k2 + 2 k3 + k4) / 6.',
    ),
)

convergence_order = Exercise(
    id="ex01_convergence_order",
    withholds=("utils.plots.loglog_slope",),
    title="Exercise 1.4: measure a convergence order",
    points=2,
    reference="lesson01.convergence_order",
    cases=_order_cases,
    hidden_cases=_order_hidden_cases,
    hints=(
        'If error = C h^p, what does the relation look like on log-log axes?',
        'Taking logs, log(error) = log(C) + p log(h): a straight line whose slope is the '
        'order p. Fit a degree-1 polynomial to the logs of the errors against the logs of the '
        'step sizes (NumPy has a least-squares polynomial fit) and return its slope (the '
        'first coefficient).',
    ),
)
