"""Plausible wrong answers to Lesson 01's exercises: each must be reported "wrong"."""

import numpy as np


def euler_step_slope_at_end(f, t, y, h):
    return y + h * f(t + h, y)  # evaluates the slope at the wrong time


def euler_step_ignores_h(f, t, y, h):
    return y + f(t, y)


def euler_step_returns_increment(f, t, y, h):
    return h * f(t, y)  # forgot to add the current state


def euler_step_forgets_return(f, t, y, h):
    y + h * f(t, y)  # noqa: B018  (the classic missing return)


def euler_solve_drops_first_state(f, y0, t):
    ys, y = [], np.asarray(y0, dtype=float)
    for n in range(len(t) - 1):
        y = y + (t[n + 1] - t[n]) * f(t[n], y)
        ys.append(y)
    return np.stack(ys)


def euler_solve_one_step_short(f, y0, t):
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 2):
        ys.append(ys[-1] + (t[n + 1] - t[n]) * f(t[n], ys[-1]))
    return np.stack(ys)


def rk4_step_equal_weights(f, t, y, h):
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 4 * (k1 + k2 + k3 + k4)


def rk4_step_k3_from_k1(f, t, y, h):
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k1)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def convergence_order_unlogged(step_sizes, errors):
    slope, _ = np.polyfit(step_sizes, errors, 1)
    return slope


def convergence_order_two_points_reversed(step_sizes, errors):
    return np.log(step_sizes[-1] / step_sizes[0]) / np.log(errors[-1] / errors[0])


WRONG = {
    "ex01_euler_step": [
        euler_step_slope_at_end, euler_step_ignores_h, euler_step_returns_increment,
        euler_step_forgets_return,
    ],
    "ex01_euler_solve": [euler_solve_drops_first_state, euler_solve_one_step_short],
    "ex01_rk4_step": [rk4_step_equal_weights, rk4_step_k3_from_k1],
    "ex01_convergence_order": [convergence_order_unlogged, convergence_order_two_points_reversed],
}


# -- written as learners wrote them (issue: exercise verdicts) -------------------------------


def euler_step_in_place(f, t, y, h):
    y += h * f(t, y)  # changes the caller's array
    return y


def euler_solve_index_as_time(f, y0, t):
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        ys.append(ys[-1] + (t[n + 1] - t[n]) * f(n, ys[-1]))  # the loop index is not the time
    return np.stack(ys)


def euler_solve_next_time(f, y0, t):
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        ys.append(ys[-1] + (t[n + 1] - t[n]) * f(t[n + 1], ys[-1]))
    return np.stack(ys)


def euler_solve_constant_step(f, y0, t):
    h = t[1] - t[0]  # assumes an even grid
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        ys.append(ys[-1] + h * f(t[n], ys[-1]))
    return np.stack(ys)


def euler_solve_returns_list(f, y0, t):
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        ys.append(ys[-1] + (t[n + 1] - t[n]) * f(t[n], ys[-1]))
    return ys


def rk4_step_in_place(f, t, y, h):
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    y += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return y


WRONG["ex01_euler_step"].append(euler_step_in_place)
WRONG["ex01_euler_solve"] += [euler_solve_index_as_time, euler_solve_next_time,
                              euler_solve_constant_step, euler_solve_returns_list]
WRONG["ex01_rk4_step"].append(rk4_step_in_place)
