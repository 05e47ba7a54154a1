"""Reference solutions of Lesson 06's exercises (lynx and hare)."""

import torch


def lotka_volterra_log(log_rates, state):
    """Lotka–Volterra right-hand side with rates exp(log_rates) = (alpha, beta, gamma, delta).

    log_rates: tensor (4,); state: tensor (..., 2) = (prey, predators). Returns (..., 2).
    """
    alpha, beta, gamma, delta = torch.exp(log_rates)
    prey, predators = state[..., 0], state[..., 1]
    d_prey = alpha * prey - beta * prey * predators
    d_predators = delta * prey * predators - gamma * predators
    return torch.stack((d_prey, d_predators), dim=-1)
