"""Exercises of Lesson 04 (the adjoint method): a gradient by hand, then the augmented dynamics.

Exercise 4.2's answer is checked where it is used: it drives a backward RK4 solve of the adjoint
system under ``torch.no_grad()``, exactly as inside ``odeint_adjoint``'s backward pass, and the
gradients that solve produces are compared with the reference's.
"""

from __future__ import annotations

import torch
from torch import nn

from ..models import ODEFunc
from ..solvers import odeint
from .core import Case, Exercise

__all__ = ["growth_gradients", "augmented_dynamics", "adjoint_gradients"]


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


def _adjoint_harness(answer, func, y0, t_end):
    return [g.detach() for g in adjoint_gradients(answer, func, y0, t_end, n_steps=50)]


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


class _WithUnused(nn.Module):
    """ODEFunc plus a parameter the dynamics never use: its gradient is None in autograd."""

    def __init__(self, seed):
        super().__init__()
        self.inner = _mlp(seed)
        self.unused = nn.Parameter(torch.ones(3, dtype=torch.float64))

    def forward(self, t, h):
        return self.inner(t, h)


def _dynamics_case(name, func, y0, t_end):
    n_params = sum(1 for p in func.parameters() if p.requires_grad)
    names = ("dL/dh0", *(f"dL/dtheta_{i + 1} (parameter {i + 1} of {n_params})"
                         for i in range(n_params)))
    return Case(name, args=(func, y0, t_end), call=_adjoint_harness, rtol=1e-6, atol=1e-9,
                no_grad=True, result_names=names)


def _dynamics_cases():
    batch = torch.randn(3, 2, generator=torch.Generator().manual_seed(4), dtype=torch.float64)
    return [
        _dynamics_case("dh/dt = 0.7 h from h0 = [1.5], T = 1 (gradients [dL/dh0, dL/dtheta])",
                       _Growth(0.7), torch.tensor([1.5], dtype=torch.float64), 1.0),
        _dynamics_case("ODEFunc(2, hidden=8), a batch of 3 states, T = 1", _mlp(0), batch, 1.0),
    ]


def _dynamics_hidden_cases():
    y0 = torch.tensor([[0.3, -0.8]], dtype=torch.float64)
    return [
        _dynamics_case("ODEFunc with time input, T = 0.5", _mlp(1, time_input=True), y0, 0.5),
        _dynamics_case("a model with a parameter the dynamics never use, T = 0.3",
                       _WithUnused(2), torch.tensor([[1.0, 0.5]], dtype=torch.float64), 0.3),
    ]


growth_gradients = Exercise(
    id="ex04_growth_gradients",
    withholds=("utils.adjoint.odeint_adjoint", "utils.adjoint.augmented_dynamics"),
    title="Exercise 4.1: the gradients of dh/dt = theta h by hand",
    points=2,
    reference="lesson04.growth_gradients",
    cases=lambda: [Case(f"theta={th}, h0={h0}, T={T}", args=(th, h0, T))
                   for th, h0, T in [(0.5, 2.0, 1.0), (-1.2, 2.0, 0.5), (0.3, -1.5, 3.0)]],
    hidden_cases=lambda: [Case("theta=0.1, h0=4, T=2", args=(0.1, 4.0, 2.0)),
                          Case("theta=-0.4, h0=0.5, T=5", args=(-0.4, 0.5, 5.0))],
    hints=(
        'dh/dt = theta h has a closed-form solution: differentiate it.',
        'h(T) = h0 e^(theta T) and L = h(T). dL/dh0 is the factor in front of h0; dL/dtheta '
        'brings down T from the exponent. Return the two as a tuple of plain floats, dL/dh0 '
        'first.',
    ),
)

augmented_dynamics = Exercise(
    id="ex04_augmented_dynamics",
    withholds=("utils.adjoint.augmented_dynamics", "utils.adjoint.odeint_adjoint"),
    title="Exercise 4.2: the augmented dynamics of the adjoint",
    points=3,
    reference="lesson04.augmented_dynamics",
    cases=_dynamics_cases,
    hidden_cases=_dynamics_hidden_cases,
    hints=(
        'The adjoint needs vector-Jacobian products a^T df/dh and a^T df/dtheta: one backward '
        'pass gives both.',
        'The backward solve runs under no_grad, so switch gradients back on inside your '
        'function and evaluate f on a detached copy of h made a leaf that requires grad. Ask '
        'autograd for the gradient of f with respect to h and every parameter at once, with a '
        'as the vector to multiply by (some parameters may not be used: allow that, and give '
        'them zeros). Return the detached f, minus the product for h, and the list of minus '
        'the products for the parameters.',
    ),
)
