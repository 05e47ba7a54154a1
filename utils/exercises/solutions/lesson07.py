"""Reference solutions of Lesson 07's exercises (Neural ODEs as classifiers, augmentation)."""

import torch

from utils.solvers import odeint


def ode_block_forward(func, x, t_end):
    """(h(t_end), nfe): solve dh/dt = func(t, h), h(0) = x, by dopri5 at rtol = atol = 1e-3."""
    t = torch.tensor([0.0, t_end], dtype=x.dtype)  # only the two ends: h(0) and h(t_end)
    ys, stats = odeint(func, x, t, method="dopri5", rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals  # ys has shape (2, *x.shape); ys[-1] is h(t_end)


def augment(x, n_extra):
    """x (..., d) -> (..., d + n_extra): x followed by n_extra zeros (x's dtype, grad flows)."""
    zeros = torch.zeros(*x.shape[:-1], n_extra, dtype=x.dtype)
    return torch.cat((x, zeros), dim=-1)
