"""Plausible wrong answers to Lesson 02's exercises; each must be reported wrong."""

import numpy as np

from utils.solvers import odeint


def stack_full_step(f, h0, t_end, n_blocks):
    """Uses t_end instead of t_end / n_blocks as the step."""
    h = h0
    for n in range(n_blocks):
        h = h + t_end * f(n * t_end, h)
    return h


def stack_one_block_short(f, h0, t_end, n_blocks):
    """Off by one: n_blocks - 1 blocks."""
    dt = t_end / n_blocks
    h = h0
    for n in range(n_blocks - 1):
        h = h + dt * f(n * dt, h)
    return h


def stack_time_zero(f, h0, t_end, n_blocks):
    """Every block sees t = 0."""
    dt = t_end / n_blocks
    h = h0
    for _ in range(n_blocks):
        h = h + dt * f(0.0, h)
    return h


def stack_frozen_slope(f, h0, t_end, n_blocks):
    """Evaluates f at h0 every time (no feedback: h0 + t_end f(h0) in pieces)."""
    dt = t_end / n_blocks
    h = h0
    for n in range(n_blocks):
        h = h + dt * f(n * dt, h0)
    return h


def growth_exact_flow(dt, decay, frequency):
    """The exact flow's factor exp(-d dt), not Euler's."""
    return float(np.exp(-decay * dt))


def growth_no_square(dt, decay, frequency):
    """Forgets to square the imaginary part."""
    return float(np.sqrt((1 - dt * decay) ** 2 + dt * frequency))


def growth_decay_sign(dt, decay, frequency):
    """|1 + dt (d + i w)|: the decay with the wrong sign."""
    return abs(1 + dt * complex(decay, frequency))


def reconstruction_forward_only(func, y0, t_end, method, step_size):
    """Never goes back: the distance travelled, not the reconstruction error."""
    y_end = odeint(func, y0, [0.0, t_end], method=method, step_size=step_size)[-1]
    return float(np.linalg.norm(y_end - y0))


def reconstruction_forward_twice(func, y0, t_end, method, step_size):
    """'Backwards' by solving forward again from t_end to 2 t_end."""
    y_end = odeint(func, y0, [0.0, t_end], method=method, step_size=step_size)[-1]
    y_back = odeint(func, y_end, [t_end, 2 * t_end], method=method, step_size=step_size)[-1]
    return float(np.linalg.norm(y_back - y0))


def reconstruction_negated_field(func, y0, t_end, method, step_size):
    """Solves dy/dt = -f forward in time from 0 instead of backwards from t_end
    (the same for autonomous f, wrong for time-dependent f)."""
    y_end = odeint(func, y0, [0.0, t_end], method=method, step_size=step_size)[-1]
    y_back = odeint(lambda t, y: -func(t, y), y_end, [0.0, t_end], method=method,
                    step_size=step_size)[-1]
    return float(np.linalg.norm(y_back - y0))


WRONG = {
    "ex02_residual_stack": [
        stack_full_step, stack_one_block_short, stack_time_zero, stack_frozen_slope,
    ],
    "ex02_euler_growth": [growth_exact_flow, growth_no_square, growth_decay_sign],
    "ex02_reconstruction_error": [
        reconstruction_forward_only, reconstruction_forward_twice, reconstruction_negated_field,
    ],
}


# -- written as learners wrote them (issue: exercise verdicts) -------------------------------


def stack_in_place(f, h0, t_end, n_blocks):
    dt = t_end / n_blocks
    h = h0
    for n in range(n_blocks):
        h += dt * f(n * dt, h)  # h is h0: this changes the caller's array
    return h


WRONG["ex02_residual_stack"].append(stack_in_place)
