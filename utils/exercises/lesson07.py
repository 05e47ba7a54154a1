"""Exercises of Lesson 07 (Neural ODEs as classifiers): an ODE block's forward pass, augment."""

from __future__ import annotations

import torch

from ..classification import ConvODEFunc
from .core import Case, Exercise

__all__ = ["ode_block", "augment"]


# Dynamics for the cases: module-level functions (deep copies of them are themselves).
def _decay(t, h):
    return -h


def _pulsing(t, h):
    return torch.cos(2.0 * t) * h  # time-dependent: the answer must pass the solver's t


def _rotation(t, h):
    return torch.stack((-h[..., 1], h[..., 0]), dim=-1)


def _conv(channels, dtype):
    torch.manual_seed(channels)
    return ConvODEFunc(channels).to(dtype)


def _solved_to_one(func, x, t_end):
    """The mistake case 2 guards against: solving to t = 1 whatever t_end is."""
    from ..solvers import odeint

    t = torch.tensor([0.0, 1.0], dtype=x.dtype)
    ys, stats = odeint(func, x, t, method="dopri5", rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals


def _ode_block_cases():
    return [
        Case("dh/dt = -h, two 1-D states (float64), t_end = 1",
             args=(_decay, torch.tensor([[1.0], [2.0]], dtype=torch.float64), 1.0),
             why="return (state at t_end, number of calls of func)", why_on=("kind", "shape")),
        Case("dh/dt = cos(2t) h, states (3, 2) in float32, t_end = 0.5",
             args=(_pulsing, torch.randn(3, 2, requires_grad=True), 0.5),
             why="solve from t = 0 to t_end, not to 1", why_if=_solved_to_one),
        Case("a ConvODEFunc on feature maps (2, 3, 4, 4), float32, t_end = 1",
             args=(_conv(3, torch.float32), torch.randn(2, 3, 4, 4, requires_grad=True), 1.0),
             why="gradients must flow back to x and the parameters: training backpropagates "
                 "through this", why_on=("no_grad", "gradient")),
    ]


def _ode_block_hidden_cases():
    return [
        Case("rotation in the plane, (4, 2) float64, t_end = 2",
             args=(_rotation, torch.randn(4, 2, dtype=torch.float64, requires_grad=True), 2.0)),
        Case("a ConvODEFunc in float64 on (3, 2, 4, 4), t_end = 0.25",
             args=(_conv(2, torch.float64),
                   torch.randn(3, 2, 4, 4, dtype=torch.float64, requires_grad=True), 0.25)),
    ]


ode_block = Exercise(
    id="ex07_ode_block",
    withholds=("utils.classification.ODEBlock.forward",),
    title="Exercise 7.1: the ODE block's forward pass",
    points=3,
    reference="lesson07.ode_block_forward",
    result_names=("h(t_end)", "nfe"),
    cases=_ode_block_cases,
    hidden_cases=_ode_block_hidden_cases,
    hints=(
        "The block's output is the state at t_end of dh/dt = func(t, h) started at x; the "
        'solver also tells you how many times it called func.',
        "Solve on the two times 0 and t_end only (in x's dtype) with dopri5 at rtol = atol = "
        "1e-3, asking the course's odeint for its statistics. The solution holds the state at "
        'both times: return the one at t_end, and the number of function evaluations (not the '
        'number of steps).',
    ),
)


def _augment_cases():
    return [
        Case("three 1-D points, one extra", args=(torch.tensor([[1.0], [-2.0], [3.0]]), 1)),
        Case("four 2-D points in float64 (gradient must flow), two extra",
             args=(torch.randn(4, 2, dtype=torch.float64, requires_grad=True), 2),
             why="the zeros take x's dtype, and gradients flow back to x",
             why_on=("dtype", "no_grad", "gradient")),
        Case("no extra dimensions (n_extra = 0)", args=(torch.randn(3, 2), 0)),
        Case("a batch of 1-D sequences (2, 4, 1), two extra", args=(torch.randn(2, 4, 1), 2),
             why="pad the last dimension, whatever the shape before it", why_on=("shape",)),
    ]


def _augment_hidden_cases():
    return [
        Case("a batch of sequences (2, 3, 2), three extra", args=(torch.randn(2, 3, 2), 3)),
        Case("five 1-D points in float64, one extra",
             args=(torch.randn(5, 1, dtype=torch.float64, requires_grad=True), 1)),
    ]


augment = Exercise(
    id="ex07_augment",
    withholds=("utils.classification.augment",),
    title="Exercise 7.2: augment",
    points=2,
    reference="lesson07.augment",
    cases=_augment_cases,
    hidden_cases=_augment_hidden_cases,
    hints=(
        'Augmenting means padding each point with extra coordinates that start at zero.',
        'Create zeros with the same leading shape as x, n_extra in the last dimension, and '
        "x's dtype; then concatenate x and the zeros along the last dimension (concatenation "
        'keeps the gradient path to x).',
    ),
)
