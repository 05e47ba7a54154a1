"""Exercises of Lesson 01 (ODE basics): Euler's method, RK4, and the measured convergence order."""

from __future__ import annotations

import numpy as np

from ..systems import LotkaVolterra
from .core import Case, Exercise

__all__ = ["euler_step", "euler_solve", "rk4_step", "convergence_order"]


# -- reference solutions (what `ex.<name>.solution()` prints) ---------------------------------


def _euler_step(f, t, y, h):
    """One Euler step: follow the slope at the start for a time h."""
    return y + h * f(t, y)


def _euler_solve(f, y0, t):
    """Euler's method on the grid t (evenly spaced): returns ys of shape (len(t), *y0.shape)."""
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        h = t[n + 1] - t[n]
        ys.append(_euler_step(f, t[n], ys[-1], h))
    return np.stack(ys)


def _rk4_step(f, t, y, h):
    """One classical Runge–Kutta step: four slopes, weighted 1/6, 1/3, 1/3, 1/6."""
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _convergence_order(step_sizes, errors):
    """Slope of the least-squares line through (log h, log error): the empirical order."""
    slope, _intercept = np.polyfit(np.log(step_sizes), np.log(errors), 1)
    return slope


# -- cases ------------------------------------------------------------------------------------

_LV = LotkaVolterra()


def _decay(t, y):
    return -y


def _time_dependent(t, y):
    return np.cos(t) * y + t


def _case(name, reference, *args):
    """A case whose expected result is the reference's on the same arguments."""
    return Case(name, reference(*args), args=args)


def _step_cases(reference):
    one, y_2, y_lv = np.array([1.0]), np.array([1.0, -2.0]), np.array([10.0, 5.0])
    return [
        _case("dy/dt = -y from y=[1.0] at t=0, h=0.1", reference, _decay, 0.0, one, 0.1),
        _case("dy/dt = cos(t) y + t from y=[1, -2] at t=0.7, h=0.25 (uses t)", reference,
              _time_dependent, 0.7, y_2, 0.25),
        _case("Lotka–Volterra from (10, 5), h=0.01", reference, _LV, 0.0, y_lv, 0.01),
        _case("backwards in time: dy/dt = -y from y=[1.0] at t=1, h=-0.5", reference,
              _decay, 1.0, one, -0.5),
    ]


def _euler_solve_cases():
    return [
        _case("dy/dt = -y from [1.0] on linspace(0, 1, 11)", _euler_solve,
              _decay, np.array([1.0]), np.linspace(0.0, 1.0, 11)),
        _case("Lotka–Volterra from (10, 5) on linspace(0, 2, 201)", _euler_solve,
              _LV, np.array([10.0, 5.0]), np.linspace(0.0, 2.0, 201)),
    ]


def _order_cases():
    h = np.array([0.1, 0.05, 0.025, 0.0125])
    return [
        Case("errors = 3 h (first order)", 1.0, args=(h, 3 * h)),
        Case("errors = 0.5 h^4 (fourth order)", 4.0, args=(h, 0.5 * h**4)),
        _case("errors = 2 h^2 (1 + 0.1 h), not an exact power", _convergence_order,
              h, 2 * h**2 * (1 + 0.1 * h)),
    ]


def _order_hidden_cases():
    h = np.array([0.2, 0.1, 0.05])
    return [Case("three points, errors = h^3", 3.0, args=(h, h**3))]


# -- the exercises ----------------------------------------------------------------------------

euler_step = Exercise(
    id="ex01_euler_step",
    title="Exercise 1.1: one Euler step",
    points=2,
    reference=_euler_step,
    cases=lambda: _step_cases(_euler_step),
    hidden_cases=lambda: [
        _case("a batch of two states", _euler_step,
              _LV, 0.0, np.array([[10.0, 5.0], [2.0, 1.0]]), 0.1),
    ],
    hint_text="""
Euler follows the slope at the start of the step:  y_next = y + h * f(t, y).
Call f with the time first and the state second, exactly as given.""",
)

euler_solve = Exercise(
    id="ex01_euler_solve",
    title="Exercise 1.2: Euler's method on a time grid",
    points=2,
    reference=_euler_solve,
    cases=_euler_solve_cases,
    hint_text="""
Start a list with y0. For every n, take one euler_step from (t[n], ys[-1]) with
h = t[n+1] - t[n] and append the result. Return np.stack(ys): shape (len(t), *y0.shape).""",
)

rk4_step = Exercise(
    id="ex01_rk4_step",
    title="Exercise 1.3: one Runge–Kutta 4 step",
    points=3,
    reference=_rk4_step,
    cases=lambda: _step_cases(_rk4_step),
    hint_text="""
k1 = f(t, y);  k2 = f(t + h/2, y + h/2 k1);  k3 = f(t + h/2, y + h/2 k2);  k4 = f(t + h, y + h k3)
y_next = y + h/6 (k1 + 2 k2 + 2 k3 + k4)""",
)

convergence_order = Exercise(
    id="ex01_convergence_order",
    title="Exercise 1.4: measure a convergence order",
    points=2,
    reference=_convergence_order,
    cases=_order_cases,
    hidden_cases=_order_hidden_cases,
    hint_text="""
If error = C h^p then log(error) = log(C) + p log(h): a straight line of slope p.
Fit it with np.polyfit(np.log(step_sizes), np.log(errors), 1) and return the slope.""",
)
