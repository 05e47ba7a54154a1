"""Reference solutions of Lesson 10's exercises (Hamiltonian neural networks, leapfrog)."""

import torch


def hamiltonian_field(H, y):
    """(dH/dp, -dH/dq) at the states y (..., 2): the symplectic gradient of the energies H(y)."""
    if not y.requires_grad:  # a plain tensor: make a leaf of our own (the caller's stays as it is)
        y = y.detach().requires_grad_(True)
    # (a y that requires grad is a state inside a rollout being trained: detaching it would cut
    # the gradient that flows through the states)
    # The sum of independent energies has each state's gradient as its gradient w.r.t. y;
    # create_graph=True keeps the result differentiable (training backpropagates through it).
    (dH,) = torch.autograd.grad(H(y).sum(), y, create_graph=True)  # (..., 2): (dH/dq, dH/dp)
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


def leapfrog_step(dV, dT, q, p, h):
    """One Störmer–Verlet step for H = T(p) + V(q): half kick, drift, half kick."""
    p_half = p - 0.5 * h * dV(q)  # half kick: V'(q) at the old position
    q_new = q + h * dT(p_half)  # drift with the half-step momentum
    p_new = p_half - 0.5 * h * dV(q_new)  # half kick: V'(q) at the new position
    return q_new, p_new
