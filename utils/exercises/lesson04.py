"""Exercises of Lesson 04 (the adjoint method): a gradient by hand, then the augmented dynamics."""

from __future__ import annotations

import math

import torch
from torch import nn

from ..models import ODEFunc
from ..solvers import odeint
from .core import Case, Exercise

__all__ = ["growth_gradients", "augmented_dynamics", "adjoint_gradients"]


# -- reference solutions (what `ex.<name>.solution()` prints) ---------------------------------


def _growth_gradients(theta, h0, T):
    """dh/dt = theta h, h(0) = h0, L = h(T): return (dL/dh0, dL/dtheta) in closed form."""
    growth = math.exp(theta * T)  # h(T) = h0 * exp(theta T)
    return growth, T * h0 * growth


def _augmented_dynamics(func, t, h, a, params):
    """Time derivatives of (h, a, g): (f, -a^T df/dh, -a^T df/dtheta), one tensor per param."""
    with torch.enable_grad():
        h = h.detach().requires_grad_(True)
        f = func(t, h)
        vjp_h, *vjp_params = torch.autograd.grad(
            f, (h, *params), grad_outputs=a, allow_unused=True
        )
    dg = [torch.zeros_like(p) if v is None else -v for p, v in zip(params, vjp_params, strict=True)]
    return f.detach(), -vjp_h, dg


# -- the check of exercise 4.2: run a backward solve with the learner's dynamics --------------


def adjoint_gradients(dynamics, func: nn.Module, y0, t_end: float, n_steps: int = 100):
    """Gradients of ``L = sum(y(t_end)**2) / 2`` from a backward RK4 solve of ``dynamics``.

    ``dynamics(func, t, h, a, params)`` returns ``(dh/dt, da/dt, dg/dt)``. Starting at ``t_end``
    from ``h = y(t_end)``, ``a = dL/dy(t_end) = y(t_end)``, ``g = 0``, it takes ``n_steps`` RK4
    steps back to 0 and returns ``[dL/dy0, dL/dtheta_1, ...]`` (that is ``[a(0), *g(0)]``).
    """
    params = [p for p in func.parameters() if p.requires_grad]
    t = torch.tensor([0.0, t_end], dtype=y0.dtype)
    with torch.no_grad():
        y_end = odeint(func, y0, t, method="rk4", step_size=t_end / n_steps)[-1]
    state = [y_end, y_end.clone(), [torch.zeros_like(p) for p in params]]

    def derivative(time, s):
        dh, da, dg = dynamics(func, torch.tensor(time, dtype=y0.dtype), s[0], s[1], params)
        return [dh, da, list(dg)]

    def moved(s, ds, c):
        g = [g + c * d for g, d in zip(s[2], ds[2], strict=True)]
        return [s[0] + c * ds[0], s[1] + c * ds[1], g]

    h = -t_end / n_steps
    for i in range(n_steps):
        time = t_end + i * h
        k1 = derivative(time, state)
        k2 = derivative(time + h / 2, moved(state, k1, h / 2))
        k3 = derivative(time + h / 2, moved(state, k2, h / 2))
        k4 = derivative(time + h, moved(state, k3, h))
        for k, w in ((k1, 1), (k2, 2), (k3, 2), (k4, 1)):
            state = moved(state, k, w * h / 6)
    return [state[1], *state[2]]


def _direct_gradients(func, y0, t_end, n_steps=100):
    """The same gradients by backpropagating through the RK4 solve: what the check expects."""
    func.zero_grad(set_to_none=True)
    y0 = y0.detach().clone().requires_grad_(True)
    y_end = odeint(func, y0, torch.tensor([0.0, t_end]), method="rk4", step_size=t_end / n_steps)
    (y_end[-1].pow(2).sum() / 2).backward()
    grads = [y0.grad] + [p.grad for p in func.parameters() if p.requires_grad]
    func.zero_grad(set_to_none=True)
    return grads


class _Growth(nn.Module):
    """dh/dt = theta h, the lesson's hand-checkable case."""

    def __init__(self, theta):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(theta, dtype=torch.float64))

    def forward(self, t, h):
        return self.theta * h


def _mlp(seed, dim=2, **kwargs):
    torch.manual_seed(seed)
    return ODEFunc(dim, hidden=8, **kwargs).double()


def _dynamics_case(name, func, y0, t_end):
    expected = [g.detach() for g in _direct_gradients(func, y0, t_end)]
    return Case(
        name,
        expected,
        call=lambda answer: [g.detach() for g in adjoint_gradients(answer, func, y0, t_end)],
        rtol=1e-6,
        atol=1e-9,
    )


def _dynamics_cases():
    generator = torch.Generator().manual_seed(4)
    batch = torch.randn(3, 2, generator=generator, dtype=torch.float64)
    return [
        _dynamics_case("dh/dt = 0.7 h from h0 = [1.5], T = 1 (gradients [dL/dh0, dL/dtheta])",
                       _Growth(0.7), torch.tensor([1.5], dtype=torch.float64), 1.0),
        _dynamics_case("ODEFunc(2, hidden=8), a batch of 3 states, T = 1", _mlp(0), batch, 1.0),
    ]


def _dynamics_hidden_cases():
    y0 = torch.tensor([[0.3, -0.8]], dtype=torch.float64)
    return [_dynamics_case("ODEFunc with time input, T = 0.5", _mlp(1, time_input=True), y0, 0.5)]


# -- the exercises ----------------------------------------------------------------------------

growth_gradients = Exercise(
    id="ex04_growth_gradients",
    title="Exercise 4.1: the gradients of dh/dt = theta h by hand",
    points=2,
    reference=_growth_gradients,
    cases=lambda: [
        Case(f"theta={th}, h0={h0}, T={T}", _growth_gradients(th, h0, T), args=(th, h0, T))
        for th, h0, T in [(0.5, 1.0, 1.0), (-1.2, 2.0, 0.5), (0.3, -1.5, 3.0)]
    ],
    hidden_cases=lambda: [Case("theta=0, h0=2, T=2", (1.0, 4.0), args=(0.0, 2.0, 2.0))],
    hint_text="""
h(T) = h0 * exp(theta T), and L = h(T).
dL/dh0 = exp(theta T);  dL/dtheta = T * h0 * exp(theta T).  Return them as a tuple.""",
)

augmented_dynamics = Exercise(
    id="ex04_augmented_dynamics",
    title="Exercise 4.2: the augmented dynamics of the adjoint",
    points=3,
    reference=_augmented_dynamics,
    cases=_dynamics_cases,
    hidden_cases=_dynamics_hidden_cases,
    hint_text="""
Inside `with torch.enable_grad():` make h a leaf that requires grad
(h = h.detach().requires_grad_(True)), evaluate f = func(t, h), then
torch.autograd.grad(f, (h, *params), grad_outputs=a, allow_unused=True) gives a^T df/dh and
a^T df/dtheta in one pass. Return (f.detach(), -a^T df/dh, [-a^T df/dtheta_i for each param]);
a parameter whose gradient is None gets torch.zeros_like(param).""",
)
