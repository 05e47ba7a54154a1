"""Plausible wrong answers to lesson 07's exercises; each must be reported wrong."""

import numpy as np
import torch

from utils.solvers import odeint


def _t(x, t_end):
    return torch.tensor([0.0, t_end], dtype=x.dtype)


def block_returns_trajectory(func, x, t_end):
    ys, stats = odeint(func, x, _t(x, t_end), rtol=1e-3, atol=1e-3, return_stats=True)
    return ys, stats.n_fevals


def block_returns_start(func, x, t_end):
    ys, stats = odeint(func, x, _t(x, t_end), rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[0], stats.n_fevals


def block_always_to_one(func, x, t_end):
    ys, stats = odeint(func, x, _t(x, 1.0), rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals


def block_default_tolerances(func, x, t_end):
    ys, stats = odeint(func, x, _t(x, t_end), return_stats=True)
    return ys[-1], stats.n_fevals


def block_counts_steps(func, x, t_end):
    ys, stats = odeint(func, x, _t(x, t_end), rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_accepted


def block_without_gradient(func, x, t_end):
    with torch.no_grad():
        ys, stats = odeint(func, x, _t(x, t_end), rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals


def block_detaches_input(func, x, t_end):
    ys, stats = odeint(func, x.detach(), _t(x, t_end), rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals


def block_with_rk4(func, x, t_end):
    ys, stats = odeint(func, x, _t(x, t_end), method="rk4", return_stats=True)
    return ys[-1], stats.n_fevals


def block_backwards_in_time(func, x, t_end):
    ys, stats = odeint(func, x, _t(x, t_end).flip(0), rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals


def block_state_only(func, x, t_end):
    return odeint(func, x, _t(x, t_end), rtol=1e-3, atol=1e-3)[-1]


def augment_with_ones(x, n_extra):
    return torch.cat((x, torch.ones(*x.shape[:-1], n_extra, dtype=x.dtype)), dim=-1)


def augment_in_front(x, n_extra):
    return torch.cat((torch.zeros(*x.shape[:-1], n_extra, dtype=x.dtype), x), dim=-1)


def augment_default_dtype(x, n_extra):
    return torch.cat((x.float(), torch.zeros(*x.shape[:-1], n_extra)), dim=-1)


def augment_two_dimensional_only(x, n_extra):
    return torch.cat((x, torch.zeros(x.shape[0], n_extra, dtype=x.dtype)), dim=1)


def augment_detached(x, n_extra):
    return torch.cat((x.detach(), torch.zeros(*x.shape[:-1], n_extra, dtype=x.dtype)), dim=-1)


def augment_adds_rows(x, n_extra):
    return torch.cat((x, torch.zeros(n_extra, *x.shape[1:], dtype=x.dtype)), dim=0)


def augment_with_numpy(x, n_extra):
    return np.pad(x.detach().numpy(), [(0, 0)] * (x.ndim - 1) + [(0, n_extra)])


def augment_random_padding(x, n_extra):
    return torch.cat((x, 0.01 * torch.randn(*x.shape[:-1], n_extra, dtype=x.dtype)), dim=-1)


def block_ignores_time(func, x, t_end):
    """Calls func at t = 0 whatever the solver's t: wrong for time-dependent dynamics."""
    ys, stats = odeint(lambda t, h: func(torch.zeros_like(t), h), x, _t(x, t_end), rtol=1e-3,
                       atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals


WRONG = {
    "ex07_ode_block": [
        block_returns_trajectory,
        block_returns_start,
        block_always_to_one,
        block_default_tolerances,
        block_counts_steps,
        block_without_gradient,
        block_detaches_input,
        block_with_rk4,
        block_backwards_in_time,
        block_ignores_time,
        block_state_only,
    ],
    "ex07_augment": [
        augment_with_ones,
        augment_in_front,
        augment_default_dtype,
        augment_two_dimensional_only,
        augment_detached,
        augment_adds_rows,
        augment_with_numpy,
        augment_random_padding,
    ],
}
