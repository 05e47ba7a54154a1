"""Reference solutions of Lesson 02's exercises (continuous vs. discrete dynamics)."""

import numpy as np


def residual_stack(f, h0, t_end, n_blocks):
    """A weight-shared residual network: n_blocks blocks h <- h + dt * f(t, h), dt = t_end/n_blocks.

    Block n sees the time t = n * dt, so the stack is exactly Euler's method on dh/dt = f(t, h).
    Returns the state after the last block (same shape and kind as h0).
    """
    dt = t_end / n_blocks
    h = h0
    for n in range(n_blocks):
        h = h + dt * f(n * dt, h)
    return h


def euler_growth(dt, decay, frequency):
    """Factor by which one Euler step of size dt multiplies the norm of the spiral's state.

    For dx/dt = -d x - w y, dy/dt = w x - d y, write z = x + i y: dz/dt = (-d + i w) z, so an
    Euler step is z <- (1 + dt (-d + i w)) z and the norm is multiplied by |1 + dt (-d + i w)|.
    """
    return abs(1 + dt * complex(-decay, frequency))


def reconstruction_error(func, y0, t_end, method, step_size):
    """Solve from t=0 to t_end, then from t_end back to 0; return ||y_back - y0|| (Euclidean)."""
    from utils.solvers import odeint

    y_end = odeint(func, y0, [0.0, t_end], method=method, step_size=step_size)[-1]
    y_back = odeint(func, y_end, [t_end, 0.0], method=method, step_size=step_size)[-1]
    return float(np.linalg.norm(y_back - y0))
