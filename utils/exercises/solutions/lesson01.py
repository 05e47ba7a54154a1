"""Reference solutions of Lesson 01's exercises (ODE basics)."""

import numpy as np


def euler_step(f, t, y, h):
    """One Euler step: follow the slope at the start for a time h."""
    return y + h * f(t, y)


def euler_solve(f, y0, t):
    """Euler's method on the grid t (any spacing): returns ys of shape (len(t), *y0.shape)."""
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        h = t[n + 1] - t[n]  # the grid need not be even: take each step's own size
        ys.append(euler_step(f, t[n], ys[-1], h))
    return np.stack(ys)


def rk4_step(f, t, y, h):
    """One classical Runge–Kutta step: four slopes, weighted 1/6, 1/3, 1/3, 1/6."""
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def convergence_order(step_sizes, errors):
    """Slope of the least-squares line through (log h, log error): the empirical order."""
    slope, _intercept = np.polyfit(np.log(step_sizes), np.log(errors), 1)
    return slope
