"""Exercises of Lesson 03 (the Neural ODE forward pass): the dynamics network, an RK4 step in
torch, and a forward pass that returns the whole trajectory.

Inputs are modules whose parameters require grad, as in the lesson: a result that does not carry
a gradient (``torch.no_grad()``, ``.detach()``, a NumPy detour) fails, since training
differentiates through these functions.
"""

from __future__ import annotations

import torch

from ..models import ODEFunc
from .core import Case, Exercise

__all__ = ["odefunc_forward", "rk4_step", "neural_ode_forward"]


def _func(dim, hidden, *, time_input, seed, dtype=torch.float64):
    torch.manual_seed(seed)
    return ODEFunc(dim, hidden=hidden, time_input=time_input).to(dtype)


def _decay(t, h):
    return -h


def _odefunc_cases():
    f3 = _func(3, 16, time_input=True, seed=1)
    f2 = _func(2, 8, time_input=True, seed=2)
    batch = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(3))
    batch.requires_grad_(True)  # inside a solve the state carries gradients too
    single = torch.tensor([0.3, -1.2], dtype=torch.float64)
    return [
        Case("dim 3, hidden 16, a batch of 5 states, t = 0.7",
             args=(0.7, batch, f3.net[0], f3.net[2])),
        Case("dim 2, hidden 8, one state of shape (2,), t = tensor(-1.5)",
             args=(torch.tensor(-1.5, dtype=torch.float64), single, f2.net[0], f2.net[2])),
        Case("same network at t = 2 (the time must enter as the last input column)",
             args=(2.0, single, f2.net[0], f2.net[2])),
    ]


def _odefunc_hidden_cases():
    f4 = _func(4, 6, time_input=True, seed=11, dtype=torch.float32)
    batch = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(12)).requires_grad_(True)
    return [Case("float32, a (2, 3, 4) batch, t = 0.25", args=(0.25, batch, f4.net[0], f4.net[2]),
                 rtol=1e-5, atol=1e-6)]


def _rk4_cases():
    f_time = _func(2, 8, time_input=True, seed=4)
    f_auto = _func(3, 16, time_input=False, seed=5)
    g = torch.Generator().manual_seed(6)
    return [
        Case("autonomous ODEFunc(3), one state, t=0, dt=0.3",
             args=(f_auto, 0.0, torch.randn(3, dtype=torch.float64, generator=g), 0.3)),
        Case("time-dependent ODEFunc(2), batch of 4, t=1.0, dt=0.5",
             args=(f_time, 1.0, torch.randn(4, 2, dtype=torch.float64, generator=g), 0.5)),
        Case("dh/dt = -h from ones(2), t=0, dt=0.1",
             args=(_decay, 0.0, torch.ones(2, dtype=torch.float64), 0.1)),
    ]


def _rk4_hidden_cases():
    f_time = _func(2, 8, time_input=True, seed=13, dtype=torch.float32)
    return [Case("time-dependent, float32, backwards dt=-0.2 from t=0.6",
                 args=(f_time, 0.6, torch.tensor([[0.2, -0.4]]), -0.2), rtol=1e-5, atol=1e-6)]


def _forward_cases():
    f_time = _func(2, 8, time_input=True, seed=7)
    f_auto = _func(3, 16, time_input=False, seed=8)
    h0_batch = torch.randn(5, 3, dtype=torch.float64, generator=torch.Generator().manual_seed(9))
    h0_one = torch.tensor([0.5, -0.5], dtype=torch.float64)
    t_even = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
    return [
        Case("ODEFunc(3), batch of 5, t = linspace(0, 2, 5), n_sub = 1",
             args=(f_auto, h0_batch, t_even, 1)),
        Case("time-dependent ODEFunc(2), t = linspace(0, 2, 5), n_sub = 4",
             args=(f_time, h0_one, t_even, 4)),
        Case("uneven output times t = [0, 0.1, 0.5, 1.5], n_sub = 2",
             args=(f_time, h0_one, torch.tensor([0.0, 0.1, 0.5, 1.5], dtype=torch.float64), 2),
             why="each interval has its own dt = (t[i+1] - t[i]) / n_sub"),
    ]


def _forward_hidden_cases():
    f_time = _func(2, 8, time_input=True, seed=14)
    return [Case("uneven times starting at t=1, n_sub = 3",
                 args=(f_time, torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64),
                       torch.tensor([1.0, 1.2, 2.0], dtype=torch.float64), 3))]


odefunc_forward = Exercise(
    id="ex03_odefunc_forward",
    title="Exercise 3.1: the dynamics network's forward pass",
    points=2,
    reference="lesson03.odefunc_forward",
    cases=_odefunc_cases,
    hidden_cases=_odefunc_hidden_cases,
    hint_text="""
Make t a column of the state's shape (..., 1):
    t_column = torch.as_tensor(t, dtype=h.dtype).expand(*h.shape[:-1], 1)
append it as the LAST input column: torch.cat((h, t_column), dim=-1); then
linear1 -> torch.tanh -> linear2 (no tanh after the last layer).""",
)

rk4_step = Exercise(
    id="ex03_rk4_step",
    title="Exercise 3.2: one RK4 step in torch",
    points=2,
    reference="lesson03.rk4_step",
    cases=_rk4_cases,
    hidden_cases=_rk4_hidden_cases,
    hint_text="""
k1 = func(t, h);  k2 = func(t + dt/2, h + dt/2 * k1);  k3 = func(t + dt/2, h + dt/2 * k2)
k4 = func(t + dt, h + dt * k3);  return h + dt/6 * (k1 + 2 k2 + 2 k3 + k4)
Keep it differentiable: no torch.no_grad(), no .detach(), no in-place updates.""",
)

neural_ode_forward = Exercise(
    id="ex03_neural_ode_forward",
    title="Exercise 3.3: a Neural ODE forward pass that returns the trajectory",
    points=3,
    reference="lesson03.neural_ode_forward",
    cases=_forward_cases,
    hidden_cases=_forward_hidden_cases,
    hint_text="""
states = [h0]; for each interval i: dt = (t[i+1] - t[i]) / n_sub, take n_sub rk4_step's starting
at times t[i] + j * dt, then append the state. Return torch.stack(states): shape
(len(t), *h0.shape). Compute dt per interval: output times need not be evenly spaced.""",
)
