"""Exercises of Lesson 03 (the Neural ODE forward pass): the dynamics network, a Runge–Kutta step
from a Butcher tableau in torch, and a forward pass that returns the whole trajectory.

Inputs are modules whose parameters require grad, as in the lesson: a result that does not carry
a gradient (``torch.no_grad()``, ``.detach()``, a NumPy detour) fails, since training
differentiates through these functions.
"""

from __future__ import annotations

import torch

from ..models import ODEFunc
from ..tableaus import DOPRI5, EULER, KUTTA3, MIDPOINT, RK4
from .core import SOLVERS, Case, Exercise

__all__ = ["odefunc_forward", "tableau_step", "neural_ode_forward"]


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


def _tableau_cases():
    f_time = _func(2, 8, time_input=True, seed=4)
    f_auto = _func(3, 16, time_input=False, seed=5)
    g = torch.Generator().manual_seed(6)
    return [
        Case("RK4, autonomous ODEFunc(3), one state, t=0, dt=0.3",
             args=(f_auto, 0.0, torch.randn(3, dtype=torch.float64, generator=g), 0.3, RK4)),
        Case("Kutta's 3rd-order method (a_31 = -1), time-dependent ODEFunc(2), batch of 4, t=1",
             args=(f_time, 1.0, torch.randn(4, 2, dtype=torch.float64, generator=g), 0.5, KUTTA3),
             why="stage i uses every earlier slope, weighted by row i of a"),
        Case("midpoint, time-dependent ODEFunc(2), t=0.2, dt=0.4",
             args=(f_time, 0.2, torch.tensor([[0.3, -0.6]], dtype=torch.float64), 0.4, MIDPOINT),
             why="stage i is evaluated at time t + c_i dt"),
        Case("Euler, dh/dt = -h from ones(2), dt=0.1",
             args=(_decay, 0.0, torch.ones(2, dtype=torch.float64), 0.1, EULER)),
    ]


def _tableau_hidden_cases():
    f_time = _func(2, 8, time_input=True, seed=13, dtype=torch.float32)
    f_64 = _func(2, 8, time_input=True, seed=15)
    return [
        Case("Dormand–Prince's 7 stages, time-dependent, float32, backwards dt=-0.2 from t=0.6",
             args=(f_time, 0.6, torch.tensor([[0.2, -0.4]]), -0.2, DOPRI5), rtol=1e-5, atol=1e-6),
        Case("Kutta's method, a (2, 3, 2) batch, t=-1, dt=0.25",
             args=(f_64, -1.0, torch.randn(2, 3, 2, dtype=torch.float64,
                                           generator=torch.Generator().manual_seed(16)), 0.25,
                   KUTTA3)),
    ]


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
    withholds=("utils.models.ODEFunc.forward",),
    title="Exercise 3.1: the dynamics network's forward pass",
    points=2,
    reference="lesson03.odefunc_forward",
    cases=_odefunc_cases,
    hidden_cases=_odefunc_hidden_cases,
    hints=(
        'The network sees the time as one more input feature, next to the state.',
        "Make t a column with the state's leading shape (..., 1) and the state's dtype, "
        'append it as the last feature (concatenate along the last axis), then apply the '
        'first linear layer, tanh, and the second linear layer (no tanh after the last one).',
    ),
)

tableau_step = Exercise(
    id="ex03_tableau_step",
    withholds=SOLVERS,
    title="Exercise 3.2: any Runge–Kutta step, from its Butcher tableau",
    points=2,
    reference="lesson03.tableau_step",
    cases=_tableau_cases,
    hidden_cases=_tableau_hidden_cases,
    hints=(
        'Every Runge–Kutta method is the same loop over stages; only the numbers in c, a, b '
        'change.',
        'Keep a list of slopes. Stage i is evaluated at time t + c_i dt, at the state h plus '
        'dt times the sum over the earlier slopes k_j weighted by row i of a (all earlier '
        'slopes, not only the last). The step returns h plus dt times the b-weighted sum of '
        'all slopes. Build new tensors (no in-place updates) so gradients flow.',
    ),
)

neural_ode_forward = Exercise(
    id="ex03_neural_ode_forward",
    withholds=SOLVERS + ("utils.models.NeuralODE.forward",),
    title="Exercise 3.3: a Neural ODE forward pass that returns the trajectory",
    points=3,
    reference="lesson03.neural_ode_forward",
    cases=_forward_cases,
    hidden_cases=_forward_hidden_cases,
    hints=(
        'Between two output times take n_sub equal RK4 steps with your tableau step; record a '
        'state at each output time.',
        'Start the list of states with h0. For each interval [t[i], t[i+1]] the sub-step is '
        'its own length divided by n_sub (output times need not be evenly spaced); sub-step j '
        'starts at time t[i] + j dt. After each interval append the state; stack the list '
        'along a new first axis.',
    ),
)
