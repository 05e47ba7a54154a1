"""Reference solutions of Lesson 03's exercises (the Neural ODE forward pass)."""

import torch


def odefunc_forward(t, h, linear1, linear2):
    """dh/dt = linear2(tanh(linear1([h, t]))): the time is appended as the last input column.

    h has shape (..., dim); t is a number or a 0-d tensor; returns shape (..., dim).
    """
    t_column = torch.as_tensor(t, dtype=h.dtype).expand(*h.shape[:-1], 1)
    return linear2(torch.tanh(linear1(torch.cat((h, t_column), dim=-1))))


def rk4_step(func, t, h, dt):
    """One classical Runge–Kutta step of dh/dt = func(t, h) for a tensor h of any shape."""
    k1 = func(t, h)
    k2 = func(t + dt / 2, h + dt / 2 * k1)
    k3 = func(t + dt / 2, h + dt / 2 * k2)
    k4 = func(t + dt, h + dt * k3)
    return h + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def neural_ode_forward(func, h0, t, n_sub):
    """The trajectory at the times t (1-D tensor): shape (len(t), *h0.shape), starting with h0.

    Between consecutive output times t[i] and t[i+1], take n_sub equal RK4 steps.
    """
    states = [h0]
    h = h0
    for i in range(len(t) - 1):
        dt = (t[i + 1] - t[i]) / n_sub
        for j in range(n_sub):
            h = rk4_step(func, t[i] + j * dt, h, dt)
        states.append(h)
    return torch.stack(states)
