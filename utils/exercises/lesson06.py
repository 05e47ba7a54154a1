"""Exercises of Lesson 06 (real data: lynx and hare): Lotka–Volterra with positive parameters.

The expected values of the direct cases come from ``utils.systems.LotkaVolterra``, an independent
implementation; ``log_rates`` requires grad as in the lesson's fit, so the result must carry a
gradient, and a case backpropagates through the answer.
"""

from __future__ import annotations

import numpy as np
import torch

from .core import Case, Exercise

__all__ = ["lotka_volterra_log"]


def _lv_case(name, rates, state):
    rates = np.asarray(rates, dtype=float)
    state = torch.tensor(state, dtype=torch.float64)
    log_rates = torch.log(torch.tensor(rates, dtype=torch.float64)).requires_grad_(True)
    return Case(name, args=(log_rates, state), rtol=1e-9, atol=1e-12)


def _gradient(answer, log_rates, state):
    """d sum(f) / d log_rates: what training the rates needs."""
    log_rates = log_rates.detach().requires_grad_(True)
    answer(log_rates, state).sum().backward()
    return log_rates.grad.detach().clone()


def _cases():
    rates = torch.log(torch.tensor([0.5, 0.2, 0.8, 0.3], dtype=torch.float64))
    return [
        _lv_case("rates (1, 0.1, 1.5, 0.075), state (10, 5)", [1.0, 0.1, 1.5, 0.075], [10.0, 5.0]),
        _lv_case("rates (0.55, 0.28, 0.8, 0.24), a batch of 3 states",
                 [0.55, 0.28, 0.8, 0.24], [[3.0, 0.4], [7.7, 3.5], [2.0, 6.0]]),
        Case("gradient of sum(f) with respect to log_rates", call=_gradient, rtol=1e-9,
             atol=1e-12, args=(rates, torch.tensor([[3.0, 2.0], [1.0, 4.0]], dtype=torch.float64))),
    ]


lotka_volterra_log = Exercise(
    id="ex06_lotka_volterra_log",
    title="Exercise 6.1: Lotka–Volterra with positive parameters",
    points=3,
    reference="lesson06.lotka_volterra_log",
    cases=_cases,
    hidden_cases=lambda: [
        _lv_case("rates (2, 0.5, 0.3, 0.1), state (1, 1)", [2.0, 0.5, 0.3, 0.1], [1.0, 1.0]),
        _lv_case("a (2, 2, 2) batch of states", [0.9, 0.05, 0.6, 0.02],
                 [[[1.0, 2.0], [3.0, 4.0]], [[20.0, 10.0], [0.5, 0.1]]]),
    ],
    hints=(
        'Learn the logarithms of the rates, so that the rates themselves are always positive.',
        'Exponentiate the four log-rates to get alpha, beta, gamma, delta. Prey grow at rate '
        'alpha and are eaten at rate beta times predators; predators grow at delta times prey '
        'and die at rate gamma. Compute both derivatives for every state of the batch (the '
        'last axis holds prey, predators) and put them together along a new last axis, '
        'without writing into the state.',
    ),
)
