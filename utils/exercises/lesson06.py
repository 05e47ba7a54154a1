"""Exercises of Lesson 06 (real data: lynx and hare): Lotka–Volterra with positive parameters."""

from __future__ import annotations

import numpy as np
import torch

from ..systems import LotkaVolterra
from .core import Case, Exercise

__all__ = ["lotka_volterra_log"]


# -- reference solutions (what `ex.<name>.solution()` prints) ---------------------------------


def _lotka_volterra_log(log_rates, state):
    """Lotka–Volterra right-hand side with rates exp(log_rates) = (alpha, beta, gamma, delta).

    log_rates: tensor (4,); state: tensor (..., 2) = (prey, predators). Returns (..., 2).
    """
    alpha, beta, gamma, delta = torch.exp(log_rates)
    prey, predators = state[..., 0], state[..., 1]
    d_prey = alpha * prey - beta * prey * predators
    d_predators = delta * prey * predators - gamma * predators
    return torch.stack((d_prey, d_predators), dim=-1)


# -- cases ------------------------------------------------------------------------------------


def _lv_case(name, rates, state):
    """Expected values from utils.systems.LotkaVolterra, an independent implementation."""
    rates = np.asarray(rates, dtype=float)
    state = torch.tensor(state, dtype=torch.float64)
    expected = LotkaVolterra(*rates)(0.0, state)
    log_rates = torch.log(torch.tensor(rates, dtype=torch.float64))
    return Case(name, expected, args=(log_rates, state), rtol=1e-9, atol=1e-12)


def _gradient_case():
    """The loss must be differentiable with respect to log_rates (that is what we train)."""
    state = torch.tensor([[3.0, 2.0], [1.0, 4.0]], dtype=torch.float64)
    rates = torch.tensor([0.5, 0.2, 0.8, 0.3], dtype=torch.float64)

    def gradient(answer):
        log_rates = torch.log(rates).requires_grad_(True)
        answer(log_rates, state).sum().backward()
        return log_rates.grad.detach().clone()

    return Case("gradient of sum(f) with respect to log_rates", gradient(_lotka_volterra_log),
                call=gradient, rtol=1e-9, atol=1e-12)


def _cases():
    return [
        _lv_case("rates (1, 0.1, 1.5, 0.075), state (10, 5)", [1.0, 0.1, 1.5, 0.075], [10.0, 5.0]),
        _lv_case("rates (0.55, 0.28, 0.8, 0.24), a batch of 3 states",
                 [0.55, 0.28, 0.8, 0.24], [[3.0, 0.4], [7.7, 3.5], [2.0, 6.0]]),
        _gradient_case(),
    ]


# -- the exercises ----------------------------------------------------------------------------

lotka_volterra_log = Exercise(
    id="ex06_lotka_volterra_log",
    title="Exercise 6.1: Lotka–Volterra with positive parameters",
    points=3,
    reference=_lotka_volterra_log,
    cases=_cases,
    hidden_cases=lambda: [
        _lv_case("rates (2, 0.5, 0.3, 0.1), state (1, 1)", [2.0, 0.5, 0.3, 0.1], [1.0, 1.0]),
    ],
    hint_text="""
alpha, beta, gamma, delta = torch.exp(log_rates)       # always > 0, whatever log_rates is
prey, predators = state[..., 0], state[..., 1]
d prey / dt      = alpha * prey - beta * prey * predators
d predators / dt = delta * prey * predators - gamma * predators
Return torch.stack((d_prey, d_predators), dim=-1).""",
)
