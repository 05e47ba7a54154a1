"""Reference solutions of Lesson 04's exercises (the adjoint method)."""

import math

import torch


def growth_gradients(theta, h0, T):
    """dh/dt = theta h, h(0) = h0, L = h(T): return (dL/dh0, dL/dtheta) in closed form."""
    growth = math.exp(theta * T)  # h(T) = h0 * exp(theta T)
    return growth, T * h0 * growth


def augmented_dynamics(func, t, h, a, params):
    """Time derivatives of (h, a, g): (f, -a^T df/dh, -a^T df/dtheta), one tensor per param."""
    with torch.enable_grad():  # the adjoint's backward pass runs under no_grad
        h = h.detach().requires_grad_(True)
        f = func(t, h)
        vjp_h, *vjp_params = torch.autograd.grad(
            f, (h, *params), grad_outputs=a, allow_unused=True
        )
    dg = [torch.zeros_like(p) if v is None else -v for p, v in zip(params, vjp_params, strict=True)]
    return f.detach(), -vjp_h, dg
