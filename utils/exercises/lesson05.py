"""Exercises of Lesson 05 (learning dynamics from data): one training step, and the test metrics."""

from __future__ import annotations

import numpy as np
import torch

from ..models import ODEFunc
from ..systems import DampedOscillator
from .core import Case, Exercise

__all__ = ["training_step", "rollout_errors"]


def _two_steps(answer, optimizer_name, batch):
    """Call ``answer`` twice on a fresh seeded model; return both losses and the parameters after.

    Two calls catch a missing ``zero_grad`` (the second step would use summed gradients).
    """
    torch.manual_seed(1)
    func = ODEFunc(2, hidden=8).double()
    if optimizer_name == "sgd":
        optimizer = torch.optim.SGD(func.parameters(), lr=0.1)
    else:
        optimizer = torch.optim.Adam(func.parameters(), lr=0.01)
    t = torch.linspace(0.0, 0.5, 6, dtype=torch.float64)
    rng = np.random.default_rng(3)
    y0 = torch.tensor(rng.uniform(-1, 1, size=(batch, 2)))
    y_true = torch.as_tensor(DampedOscillator().exact(t.numpy(), y0.numpy()))
    first = answer(func, optimizer, y0, t, y_true)
    second = answer(func, optimizer, y0, t, y_true)
    params = torch.cat([p.detach().reshape(-1) for p in func.parameters()])
    return (first, second, params)


def _step_case(optimizer_name, batch):
    # Tight tolerances: another solver (dopri5) or loss gives other numbers at 1e-7.
    return Case(f"two steps, {optimizer_name.upper()}, batch of {batch} oscillator windows",
                args=(optimizer_name, batch), call=_two_steps, may_change=(0, 1), rtol=1e-9,
                atol=1e-12, result_names=(
                    "the loss your first call returned", "the loss your second call returned",
                    "the parameters after both steps (did the step use fresh gradients?)"))


def _rollout_cases():
    t = np.linspace(0.0, 2.0, 5)
    true = np.stack((np.cos(t), -np.sin(t)), axis=-1)
    early = true.copy()
    early[1] += np.array([0.3, 0.4])  # one bad point in the middle: max != final
    return [
        Case("constant offset (0.03, -0.04)", args=(true + np.array([0.03, -0.04]), true)),
        Case("error growing like 0.1 t", args=(true + np.outer(t, [0.0, 0.1]), true)),
        Case("one bad point at t=0.5", args=(early, true)),
    ]


def _rollout_hidden_cases():
    t = np.linspace(0.0, 1.0, 7)
    true = np.stack((np.sin(t), np.cos(t)), axis=-1)
    return [Case("seven times, error growing like t^2",
                 args=(true + np.outer(t**2, [0.1, -0.2]), true))]


training_step = Exercise(
    id="ex05_training_step",
    title="Exercise 5.1: one training step",
    points=3,
    reference="lesson05.training_step",
    cases=lambda: [_step_case("sgd", 4), _step_case("adam", 3)],
    hidden_cases=lambda: [_step_case("sgd", 2)],
    hints=(
        'A training step: forget old gradients, predict, measure the loss, backpropagate, '
        'update.',
        "Zero the optimizer's gradients first; solve the ODE from y0 over t with the "
        'fixed-step RK4 method; the loss is the mean squared difference to y_true; '
        'backpropagate it and let the optimizer step. Return the loss as a Python float.',
    ),
)

rollout_errors = Exercise(
    id="ex05_rollout_errors",
    title="Exercise 5.2: how far off is a rollout?",
    points=2,
    reference="lesson05.rollout_errors",
    cases=_rollout_cases,
    hidden_cases=_rollout_hidden_cases,
    hints=(
        'Three numbers about the same difference y_pred - y_true.',
        'The MSE is the mean of the squared difference over times and components (the '
        "training loss's measure). The distance at each time is the Euclidean norm over the "
        'last axis; report its largest value and its value at the last time. Return three '
        'Python floats (mse, max, final).',
    ),
)
