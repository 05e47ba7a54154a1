"""Plausible wrong answers to lesson 06's exercise; each must be reported wrong."""

import torch


def rates_not_exponentiated(log_rates, state):
    alpha, beta, gamma, delta = log_rates
    x, y = state[..., 0], state[..., 1]
    return torch.stack((alpha * x - beta * x * y, delta * x * y - gamma * y), dim=-1)


def gamma_delta_swapped(log_rates, state):
    alpha, beta, delta, gamma = torch.exp(log_rates)
    x, y = state[..., 0], state[..., 1]
    return torch.stack((alpha * x - beta * x * y, delta * x * y - gamma * y), dim=-1)


def predator_growth_sign_flipped(log_rates, state):
    alpha, beta, gamma, delta = torch.exp(log_rates)
    x, y = state[..., 0], state[..., 1]
    return torch.stack((alpha * x - beta * x * y, gamma * y - delta * x * y), dim=-1)


def gradient_cut(log_rates, state):
    alpha, beta, gamma, delta = torch.exp(log_rates.detach())
    x, y = state[..., 0], state[..., 1]
    return torch.stack((alpha * x - beta * x * y, delta * x * y - gamma * y), dim=-1)


WRONG = {
    "ex06_lotka_volterra_log": [
        rates_not_exponentiated,
        gamma_delta_swapped,
        predator_growth_sign_flipped,
        gradient_cut,
    ],
}


# -- written as learners wrote them (issue: exercise verdicts) -------------------------------


def lv_in_place(log_rates, state):
    alpha, beta, gamma, delta = torch.exp(log_rates)
    prey, predators = state[..., 0].clone(), state[..., 1].clone()
    state[..., 0] = alpha * prey - beta * prey * predators  # writes into the caller's state
    state[..., 1] = delta * prey * predators - gamma * predators
    return state


WRONG["ex06_lotka_volterra_log"].append(lv_in_place)
