"""Exercises of Lesson 03 (the Neural ODE forward pass): the dynamics network, an RK4 step in
torch, and a forward pass that returns the whole trajectory."""

from __future__ import annotations

import math

import torch

from ..models import ODEFunc
from ..solvers import odeint, rk_step
from ..tableaus import RK4
from .core import Case, Exercise

__all__ = ["odefunc_forward", "rk4_step", "neural_ode_forward"]


# -- reference solutions (what `ex.<name>.solution()` prints) ---------------------------------


def _odefunc_forward(t, h, linear1, linear2):
    """dh/dt = linear2(tanh(linear1([h, t]))): the time is appended as the last input column.

    h has shape (..., dim); t is a number or a 0-d tensor; returns shape (..., dim).
    """
    t_column = torch.as_tensor(t, dtype=h.dtype).expand(*h.shape[:-1], 1)
    return linear2(torch.tanh(linear1(torch.cat((h, t_column), dim=-1))))


def _rk4_step(func, t, h, dt):
    """One classical Runge–Kutta step of dh/dt = func(t, h) for a tensor h of any shape."""
    k1 = func(t, h)
    k2 = func(t + dt / 2, h + dt / 2 * k1)
    k3 = func(t + dt / 2, h + dt / 2 * k2)
    k4 = func(t + dt, h + dt * k3)
    return h + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)


def _neural_ode_forward(func, h0, t, n_sub):
    """The trajectory at the times t (1-D tensor): shape (len(t), *h0.shape), starting with h0.

    Between consecutive output times t[i] and t[i+1], take n_sub equal RK4 steps.
    """
    states = [h0]
    h = h0
    for i in range(len(t) - 1):
        dt = (t[i + 1] - t[i]) / n_sub
        for j in range(n_sub):
            h = _rk4_step(func, t[i] + j * dt, h, dt)
        states.append(h)
    return torch.stack(states)


# -- cases ------------------------------------------------------------------------------------


def _func(dim, hidden, *, time_input, seed):
    torch.manual_seed(seed)
    return ODEFunc(dim, hidden=hidden, time_input=time_input).double()


def _odefunc_cases():
    f3 = _func(3, 16, time_input=True, seed=1)
    f2 = _func(2, 8, time_input=True, seed=2)
    torch.manual_seed(3)
    batch = torch.randn(5, 3, dtype=torch.float64)
    single = torch.tensor([0.3, -1.2], dtype=torch.float64)
    with torch.no_grad():
        return [
            Case("dim 3, hidden 16, a batch of 5 states, t = 0.7",
                 f3(0.7, batch), args=(0.7, batch, f3.net[0], f3.net[2])),
            Case("dim 2, hidden 8, one state of shape (2,), t = tensor(-1.5)",
                 f2(torch.tensor(-1.5, dtype=torch.float64), single),
                 args=(torch.tensor(-1.5, dtype=torch.float64), single, f2.net[0], f2.net[2])),
            Case("same network at t = 0 and t = 2 differ: checking t = 2",
                 f2(2.0, single), args=(2.0, single, f2.net[0], f2.net[2])),
        ]


def _rk4_cases():
    f_time = _func(2, 8, time_input=True, seed=4)
    f_auto = _func(3, 16, time_input=False, seed=5)
    torch.manual_seed(6)
    h2 = torch.randn(4, 2, dtype=torch.float64)
    h3 = torch.randn(3, dtype=torch.float64)
    with torch.no_grad():
        return [
            Case("autonomous ODEFunc(3), one state, t=0, dt=0.3",
                 rk_step(f_auto, 0.0, h3, 0.3, RK4)[0], args=(f_auto, 0.0, h3, 0.3)),
            Case("time-dependent ODEFunc(2), batch of 4, t=1.0, dt=0.5",
                 rk_step(f_time, 1.0, h2, 0.5, RK4)[0], args=(f_time, 1.0, h2, 0.5)),
            Case("dh/dt = -h from ones(2), t=0, dt=0.1 (Taylor series of exp(-0.1) to 4th order)",
                 torch.full((2,), sum((-0.1) ** k / math.factorial(k) for k in range(5)),
                            dtype=torch.float64),
                 args=(lambda t, h: -h, 0.0, torch.ones(2, dtype=torch.float64), 0.1)),
        ]


def _forward_cases():
    f_time = _func(2, 8, time_input=True, seed=7)
    f_auto = _func(3, 16, time_input=False, seed=8)
    torch.manual_seed(9)
    h0_batch = torch.randn(5, 3, dtype=torch.float64)
    h0_one = torch.tensor([0.5, -0.5], dtype=torch.float64)
    t_even = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
    t_uneven = torch.tensor([0.0, 0.1, 0.5, 1.5], dtype=torch.float64)
    with torch.no_grad():
        return [
            Case("ODEFunc(3), batch of 5, t = linspace(0, 2, 5), n_sub = 1",
                 odeint(f_auto, h0_batch, t_even, method="rk4"),
                 args=(f_auto, h0_batch, t_even, 1)),
            Case("time-dependent ODEFunc(2), t = linspace(0, 2, 5), n_sub = 4",
                 odeint(f_time, h0_one, t_even, method="rk4", step_size=0.125),
                 args=(f_time, h0_one, t_even, 4)),
            Case("uneven output times t = [0, 0.1, 0.5, 1.5], n_sub = 2",
                 _neural_ode_forward(f_time, h0_one, t_uneven, 2),
                 args=(f_time, h0_one, t_uneven, 2)),
        ]


# -- the exercises ----------------------------------------------------------------------------

odefunc_forward = Exercise(
    id="ex03_odefunc_forward",
    title="Exercise 3.1: the dynamics network's forward pass",
    points=2,
    reference=_odefunc_forward,
    cases=_odefunc_cases,
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
    reference=_rk4_step,
    cases=_rk4_cases,
    hint_text="""
k1 = func(t, h);  k2 = func(t + dt/2, h + dt/2 * k1);  k3 = func(t + dt/2, h + dt/2 * k2)
k4 = func(t + dt, h + dt * k3);  return h + dt/6 * (k1 + 2 k2 + 2 k3 + k4)
The same code as Lesson 01's: tensors support +, * and / like arrays.""",
)

neural_ode_forward = Exercise(
    id="ex03_neural_ode_forward",
    title="Exercise 3.3: a Neural ODE forward pass that returns the trajectory",
    points=3,
    reference=_neural_ode_forward,
    cases=_forward_cases,
    hint_text="""
states = [h0]; for each interval i: dt = (t[i+1] - t[i]) / n_sub, take n_sub rk4_step's starting
at times t[i] + j * dt, then append the state. Return torch.stack(states): shape
(len(t), *h0.shape). Compute dt per interval: output times need not be evenly spaced.""",
)
