"""Plausible wrong answers to lesson 10's exercises; each must be reported wrong.

(One more, a field that always detaches ``y`` and so cuts the gradient through a rollout's
states, is caught only by a hidden case that trains through an RK4 rollout: a visible harness
case would defeat the generated "memorised answers" test. tests/test_hamiltonian.py checks it.)
"""

import numpy as np
import torch


def _grad(H, y, create_graph=True):
    if not y.requires_grad:
        y = y.detach().requires_grad_(True)
    (dH,) = torch.autograd.grad(H(y).sum(), y, create_graph=create_graph)
    return dH


# -- Exercise 10.1: the Hamiltonian vector field -----------------------------------------------


def field_is_the_plain_gradient(H, y):
    return _grad(H, y)  # (dH/dq, dH/dp): not turned by 90 degrees


def field_with_swapped_signs(H, y):
    dH = _grad(H, y)
    return torch.stack((-dH[..., 1], dH[..., 0]), dim=-1)  # time runs backwards


def field_without_minus(H, y):
    dH = _grad(H, y)
    return torch.stack((dH[..., 1], dH[..., 0]), dim=-1)


def field_in_q_p_order(H, y):
    dH = _grad(H, y)
    return torch.stack((dH[..., 0], -dH[..., 1]), dim=-1)


def field_without_create_graph(H, y):
    dH = _grad(H, y, create_graph=False)  # no gradient w.r.t. H's parameters
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


def field_for_batches_of_rows_only(H, y):
    dH = _grad(H, y)
    return torch.stack((dH[:, 1], -dH[:, 0]), dim=-1)  # assumes y is (batch, 2)


def field_without_sum(H, y):
    y = y.detach().requires_grad_(True)
    (dH,) = torch.autograd.grad(H(y), y, create_graph=True)  # needs a scalar
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


def field_as_numpy(H, y):
    dH = _grad(H, y, create_graph=False)
    return np.stack((dH[..., 1].numpy(), -dH[..., 0].numpy()), axis=-1)


def field_in_float64(H, y):
    dH = _grad(H, y.double())
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


# -- Exercise 10.2: a leapfrog step -------------------------------------------------------------


def symplectic_euler(dV, dT, q, p, h):
    p_new = p - h * dV(q)  # full kick, then full drift: first order, not reversible
    q_new = q + h * dT(p_new)
    return q_new, p_new


def explicit_euler(dV, dT, q, p, h):
    return q + h * dT(p), p - h * dV(q)


def second_kick_at_old_position(dV, dT, q, p, h):
    p_half = p - 0.5 * h * dV(q)
    q_new = q + h * dT(p_half)
    p_new = p_half - 0.5 * h * dV(q)  # should be dV(q_new)
    return q_new, p_new


def drift_with_old_momentum(dV, dT, q, p, h):
    p_half = p - 0.5 * h * dV(q)
    q_new = q + h * dT(p)  # should be dT(p_half)
    p_new = p_half - 0.5 * h * dV(q_new)
    return q_new, p_new


def drift_assumes_unit_mass(dV, dT, q, p, h):
    p_half = p - 0.5 * h * dV(q)
    q_new = q + h * p_half  # T'(p) = p only for T = p^2 / 2
    p_new = p_half - 0.5 * h * dV(q_new)
    return q_new, p_new


def kick_with_wrong_sign(dV, dT, q, p, h):
    p_half = p + 0.5 * h * dV(q)
    q_new = q + h * dT(p_half)
    p_new = p_half + 0.5 * h * dV(q_new)
    return q_new, p_new


def full_kicks(dV, dT, q, p, h):
    p_half = p - h * dV(q)
    q_new = q + h * dT(p_half)
    p_new = p_half - h * dV(q_new)
    return q_new, p_new


def drift_kick_drift(dV, dT, q, p, h):
    q_half = q + 0.5 * h * dT(p)  # position Verlet: also second order, but not what was asked
    p_new = p - h * dV(q_half)
    q_new = q_half + 0.5 * h * dT(p_new)
    return q_new, p_new


def in_place_updates(dV, dT, q, p, h):
    p -= 0.5 * h * dV(q)
    q += h * dT(p)
    p -= 0.5 * h * dV(q)
    return q, p


def returns_p_then_q(dV, dT, q, p, h):
    p_half = p - 0.5 * h * dV(q)
    q_new = q + h * dT(p_half)
    return p_half - 0.5 * h * dV(q_new), q_new


def forgets_return(dV, dT, q, p, h):
    p_half = p - 0.5 * h * dV(q)
    q_new = q + h * dT(p_half)
    p_new = p_half - 0.5 * h * dV(q_new)  # noqa: F841


def field_always_detaching(H, y):
    """A leaf of its own even for a y that requires grad: cuts the gradient through a rollout."""
    y = y.detach().requires_grad_(True)
    (dH,) = torch.autograd.grad(H(y).sum(), y, create_graph=True)
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


def field_switching_on_the_callers_grad(H, y):
    """requires_grad_ on the caller's tensor itself."""
    y.requires_grad_(True)
    (dH,) = torch.autograd.grad(H(y).sum(), y, create_graph=True)
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


WRONG = {
    "ex10_hamiltonian_field": [
        field_is_the_plain_gradient, field_with_swapped_signs, field_without_minus,
        field_in_q_p_order, field_without_create_graph,
        field_for_batches_of_rows_only, field_without_sum, field_always_detaching,
        field_switching_on_the_callers_grad, field_as_numpy, field_in_float64,
    ],
    "ex10_leapfrog_step": [
        symplectic_euler, explicit_euler, second_kick_at_old_position, drift_with_old_momentum,
        drift_assumes_unit_mass, kick_with_wrong_sign, full_kicks, drift_kick_drift,
        in_place_updates, returns_p_then_q, forgets_return,
    ],
}
