"""Reference solutions of Lesson 08's exercises (continuous normalizing flows)."""

import math

import torch


def jacobian_trace(f, z):
    """tr(df/dz) for each row: one backward pass per dimension, graph kept for training."""
    trace = torch.zeros(z.shape[0], dtype=z.dtype)
    for i in range(z.shape[1]):
        # row b of f depends only on row b of z, so the gradient of the column sum is the
        # column i of each row's Jacobian; its entry i is the diagonal element d f_i / d z_i.
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=True)
        trace = trace + grad[:, i]
    return trace


def linear_flow_log_prob(A, x, t_end):
    """log p(x) under dz/dt = A z, data at t = 0, standard normal at t = t_end."""
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T  # z(t_end) = exp(A t_end) x, row by row
    log_base = -0.5 * (z_end**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
    return log_base + t_end * torch.trace(A)  # - delta(t_end) = + integral of tr(A) dt


def hutchinson_estimate(f, z, noise):
    """eps^T (df/dz) eps for each row, with one vector-Jacobian product."""
    (eps_jacobian,) = torch.autograd.grad(f, z, noise, create_graph=True)  # eps^T J, (batch, dim)
    return (eps_jacobian * noise).sum(dim=1)
