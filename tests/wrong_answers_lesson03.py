"""Plausible wrong answers to Lesson 03's exercises; each must be reported wrong."""

import torch


def _t_column(t, h):
    return torch.as_tensor(t, dtype=h.dtype).expand(*h.shape[:-1], 1)


def forward_tanh_on_output(t, h, linear1, linear2):
    """A tanh after the last layer too."""
    x = torch.cat((h, _t_column(t, h)), dim=-1)
    return torch.tanh(linear2(torch.tanh(linear1(x))))


def forward_time_first(t, h, linear1, linear2):
    """The time column in front of the state instead of after it."""
    x = torch.cat((_t_column(t, h), h), dim=-1)
    return linear2(torch.tanh(linear1(x)))


def forward_relu(t, h, linear1, linear2):
    """ReLU instead of tanh."""
    x = torch.cat((h, _t_column(t, h)), dim=-1)
    return linear2(torch.relu(linear1(x)))


def forward_time_zero(t, h, linear1, linear2):
    """Feeds t = 0 whatever the time."""
    x = torch.cat((h, torch.zeros_like(h[..., :1])), dim=-1)
    return linear2(torch.tanh(linear1(x)))


def _rk4(func, t, h, dt):
    k1 = func(t, h)
    k2 = func(t + dt / 2, h + dt / 2 * k1)
    k3 = func(t + dt / 2, h + dt / 2 * k2)
    k4 = func(t + dt, h + dt * k3)
    return h + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def forward_final_only(func, h0, t, n_sub):
    """Returns only the final state."""
    h = h0
    for i in range(len(t) - 1):
        dt = (t[i + 1] - t[i]) / n_sub
        for j in range(n_sub):
            h = _rk4(func, t[i] + j * dt, h, dt)
    return h


def forward_without_h0(func, h0, t, n_sub):
    """Forgets the initial state: len(t) - 1 states."""
    states, h = [], h0
    for i in range(len(t) - 1):
        dt = (t[i + 1] - t[i]) / n_sub
        for j in range(n_sub):
            h = _rk4(func, t[i] + j * dt, h, dt)
        states.append(h)
    return torch.stack(states)


def forward_whole_interval_steps(func, h0, t, n_sub):
    """n_sub steps of the whole interval each (overshoots)."""
    states, h = [h0], h0
    for i in range(len(t) - 1):
        dt = t[i + 1] - t[i]
        for j in range(n_sub):
            h = _rk4(func, t[i] + j * dt, h, dt)
        states.append(h)
    return torch.stack(states)


def forward_assumes_even_grid(func, h0, t, n_sub):
    """Uses the first interval's length for every interval."""
    states, h = [h0], h0
    dt = (t[1] - t[0]) / n_sub
    for i in range(len(t) - 1):
        for j in range(n_sub):
            h = _rk4(func, t[i] + j * dt, h, dt)
        states.append(h)
    return torch.stack(states)


WRONG = {
    "ex03_odefunc_forward": [
        forward_tanh_on_output, forward_time_first, forward_relu, forward_time_zero,
    ],
    "ex03_neural_ode_forward": [
        forward_final_only, forward_without_h0, forward_whole_interval_steps,
        forward_assumes_even_grid,
    ],
}


# -- written as learners wrote them (issue: exercise verdicts) -------------------------------


def forward_detached_input(t, h, linear1, linear2):
    h = h.detach()  # cuts the gradient with respect to the state
    return linear2(torch.tanh(linear1(torch.cat((h, _t_column(t, h)), dim=-1))))


def forward_numpy_tanh(t, h, linear1, linear2):
    import numpy as np

    z = linear1(torch.cat((h, _t_column(t, h)), dim=-1))
    return linear2(torch.from_numpy(np.tanh(z.detach().numpy())))  # first layer leaves autograd


def forward_detached_substeps(func, h0, t, n_sub):
    states, h = [h0], h0
    for i in range(len(t) - 1):
        dt = (t[i + 1] - t[i]) / n_sub
        for j in range(n_sub):
            h = _rk4(func, t[i] + j * dt, h.detach(), dt)  # backprop stops after one sub-step
        states.append(h)
    return torch.stack(states)


WRONG["ex03_odefunc_forward"] += [forward_detached_input, forward_numpy_tanh]

WRONG["ex03_neural_ode_forward"].append(forward_detached_substeps)


# -- Exercise 3.2 is now one Runge–Kutta step from a Butcher tableau ----------------------------


def tableau_previous_slope_only(func, t, h, dt, tableau):
    slopes = []
    for c_i, a_i in zip(tableau.c, tableau.a, strict=True):
        stage = h if not slopes else h + dt * sum(a_i) * slopes[-1]  # right for RK4 only
        slopes.append(func(t + c_i * dt, stage))
    return h + dt * sum(b * k for b, k in zip(tableau.b, slopes, strict=True))


def tableau_stage_times_ignored(func, t, h, dt, tableau):
    slopes = []
    for a_i in tableau.a:
        stage = h + dt * sum(a * k for a, k in zip(a_i, slopes, strict=False)) if slopes else h
        slopes.append(func(t, stage))  # every stage at the start time
    return h + dt * sum(b * k for b, k in zip(tableau.b, slopes, strict=True))


def tableau_equal_weights(func, t, h, dt, tableau):
    slopes = []
    for c_i, a_i in zip(tableau.c, tableau.a, strict=True):
        stage = h + dt * sum(a * k for a, k in zip(a_i, slopes, strict=False)) if slopes else h
        slopes.append(func(t + c_i * dt, stage))
    return h + dt * sum(slopes) / len(slopes)


def tableau_detached_first_slope(func, t, h, dt, tableau):
    slopes = []
    for c_i, a_i in zip(tableau.c, tableau.a, strict=True):
        stage = h + dt * sum(a * k for a, k in zip(a_i, slopes, strict=False)) if slopes else h
        k = func(t + c_i * dt, stage)
        slopes.append(k.detach() if not slopes else k)  # one stage cut from the graph
    return h + dt * sum(b * k for b, k in zip(tableau.b, slopes, strict=True))


def tableau_in_place(func, t, h, dt, tableau):
    slopes = []
    for c_i, a_i in zip(tableau.c, tableau.a, strict=True):
        stage = h + dt * sum(a * k for a, k in zip(a_i, slopes, strict=False)) if slopes else h
        slopes.append(func(t + c_i * dt, stage))
    with torch.no_grad():
        for b, k in zip(tableau.b, slopes, strict=True):
            h += dt * b * k  # changes the caller's state
    return h


WRONG["ex03_tableau_step"] = [tableau_previous_slope_only, tableau_stage_times_ignored,
                              tableau_equal_weights, tableau_detached_first_slope,
                              tableau_in_place]
