"""Plausible wrong answers to the exercises of Lesson 04: each must be reported wrong."""

import math

import torch


def growth_forgets_h0(theta, h0, T):
    growth = math.exp(theta * T)
    return growth, T * growth  # dropped the factor h0


def growth_forgets_T(theta, h0, T):
    growth = math.exp(theta * T)
    return growth, h0 * growth  # dropped the factor T from the chain rule


def growth_swapped(theta, h0, T):
    growth = math.exp(theta * T)
    return T * h0 * growth, growth


def _vjps(func, t, h, a, params):
    with torch.enable_grad():
        h = h.detach().requires_grad_(True)
        f = func(t, h)
        vjp_h, *vjp_params = torch.autograd.grad(f, (h, *params), grad_outputs=a, allow_unused=True)
    vjp_params = [
        torch.zeros_like(p) if v is None else v for p, v in zip(params, vjp_params, strict=True)
    ]
    return f.detach(), vjp_h, vjp_params


def dynamics_adjoint_sign(func, t, h, a, params):
    f, vjp_h, vjp_params = _vjps(func, t, h, a, params)
    return f, vjp_h, [-v for v in vjp_params]  # da/dt = +a^T df/dh: wrong sign


def dynamics_param_sign(func, t, h, a, params):
    f, vjp_h, vjp_params = _vjps(func, t, h, a, params)
    return f, -vjp_h, vjp_params  # dg/dt = +a^T df/dtheta: wrong sign


def dynamics_frozen_state(func, t, h, a, params):
    f, vjp_h, vjp_params = _vjps(func, t, h, a, params)
    return torch.zeros_like(f), -vjp_h, [-v for v in vjp_params]  # h not re-solved backwards


def dynamics_without_adjoint(func, t, h, a, params):
    f, vjp_h, vjp_params = _vjps(func, t, h, torch.ones_like(a), params)  # 1^T df/dh, not a^T
    return f, -vjp_h, [-v for v in vjp_params]


WRONG = {
    "ex04_growth_gradients": [growth_forgets_h0, growth_forgets_T, growth_swapped],
    "ex04_augmented_dynamics": [
        dynamics_adjoint_sign,
        dynamics_param_sign,
        dynamics_frozen_state,
        dynamics_without_adjoint,
    ],
}


# -- written as learners wrote them (issue: exercise verdicts) -------------------------------


def dynamics_without_enable_grad(func, t, h, a, params):
    h = h.detach().requires_grad_(True)  # under no_grad, f will not track h
    f = func(t, h)
    vjp_h, *vjp_params = torch.autograd.grad(f, (h, *params), grad_outputs=a, allow_unused=True)
    return f.detach(), -vjp_h, [-v for v in vjp_params]


def dynamics_pass(func, t, h, a, params):
    pass


def dynamics_dg_as_one_tensor(func, t, h, a, params):
    f, vjp_h, vjp_params = _vjps(func, t, h, a, params)
    return f, -vjp_h, -torch.cat([v.reshape(-1) for v in vjp_params])  # one flat tensor


WRONG["ex04_augmented_dynamics"] += [dynamics_without_enable_grad, dynamics_pass,
                                     dynamics_dg_as_one_tensor]
