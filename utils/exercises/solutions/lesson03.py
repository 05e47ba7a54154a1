"""Reference solutions of Lesson 03's exercises (the Neural ODE forward pass)."""

import torch


def odefunc_forward(t, h, linear1, linear2):
    """dh/dt = linear2(tanh(linear1([h, t]))): the time is appended as the last input column.

    h has shape (..., dim); t is a number or a 0-d tensor; returns shape (..., dim).
    """
    t_column = torch.as_tensor(t, dtype=h.dtype).expand(*h.shape[:-1], 1)
    return linear2(torch.tanh(linear1(torch.cat((h, t_column), dim=-1))))


def tableau_step(func, t, h, dt, tableau):
    """One explicit Runge–Kutta step of dh/dt = func(t, h), the method given as a Butcher tableau.

    Stage i is evaluated at time t + c_i dt and state h + dt * sum_j a_ij k_j; the step returns
    h + dt * sum_i b_i k_i. The same few lines run Euler, midpoint, RK4 or Dormand–Prince.
    """
    slopes = []
    for c_i, a_i in zip(tableau.c, tableau.a, strict=True):
        stage = h
        for a_ij, k_j in zip(a_i, slopes, strict=False):
            stage = stage + dt * a_ij * k_j
        slopes.append(func(t + c_i * dt, stage))
    step = h
    for b_i, k_i in zip(tableau.b, slopes, strict=True):
        step = step + dt * b_i * k_i
    return step


def neural_ode_forward(func, h0, t, n_sub):
    """The trajectory at the times t (1-D tensor): shape (len(t), *h0.shape), starting with h0.

    Between consecutive output times t[i] and t[i+1], take n_sub equal RK4 steps.
    """
    from utils.tableaus import RK4

    states = [h0]
    h = h0
    for i in range(len(t) - 1):
        dt = (t[i + 1] - t[i]) / n_sub
        for j in range(n_sub):
            h = tableau_step(func, t[i] + j * dt, h, dt, RK4)
        states.append(h)
    return torch.stack(states)
