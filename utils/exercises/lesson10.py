"""Exercises of Lesson 10 (Hamiltonian neural networks): the symplectic gradient by autograd, and
a leapfrog step checked by its values and by what makes it a good integrator (second order,
time-reversible, bounded energy)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..solvers import odeint
from .core import Case, Exercise

__all__ = ["hamiltonian_field", "leapfrog_step"]


# -- energies and forces for the cases (module-level functions: deep-copyable, NumPy or torch) --


def _sin(x):
    return torch.sin(x) if isinstance(x, torch.Tensor) else np.sin(x)


def _cos(x):
    return torch.cos(x) if isinstance(x, torch.Tensor) else np.cos(x)


def _sqrt(x):
    return torch.sqrt(x) if isinstance(x, torch.Tensor) else np.sqrt(x)


def pendulum_energy(y):
    """H = p^2/2 + 4 (1 - cos q)."""
    return 0.5 * y[..., 1] ** 2 + 4.0 * (1 - _cos(y[..., 0]))


def coupled_energy(y):
    """H = q^2 p^2 / 2 + q^4 / 4 + sin(p): not separable, not symmetric in q and p."""
    q, p = y[..., 0], y[..., 1]
    return 0.5 * q**2 * p**2 + 0.25 * q**4 + _sin(p)


def pendulum_dV(q):
    return 4.0 * _sin(q)


def identity_dT(p):
    return p


def relativistic_dT(p):
    """T(p) = sqrt(1 + p^2): T'(p) = p / sqrt(1 + p^2), not p."""
    return p / _sqrt(1 + p**2)


def quartic_dV(q):
    """V(q) = q^4 / 4."""
    return q**3


def heavy_dT(p):
    """T(p) = p^2 / (2 m) with m = 2."""
    return 0.5 * p


def harmonic_dV(q):
    return q


class _MLPEnergy(nn.Module):
    """A small learned energy H_theta(q, p): 2 -> 8 -> 1, tanh."""

    def __init__(self, seed):
        super().__init__()
        torch.manual_seed(seed)
        self.net = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 1)).double()

    def forward(self, y):
        return self.net(y).squeeze(-1)


# -- Exercise 10.1: the Hamiltonian vector field ------------------------------------------------


def _states(shape, dtype, seed):
    return torch.tensor(np.random.default_rng(seed).uniform(-2, 2, size=shape), dtype=dtype)


def _train_through(answer, energy, y0, t, target):
    """One RK4 rollout with the answer's field, a loss, backward: the gradient w.r.t. H's
    parameters (needs the field to keep its graph: create_graph=True)."""
    ys = odeint(lambda _t, y: answer(energy, y), y0, t, method="rk4")
    loss = (ys - target).pow(2).mean()
    loss.backward()
    # The last bias shifts H by a constant: it has no effect on the field, and no gradient.
    return torch.cat([(torch.zeros_like(p) if p.grad is None else p.grad).reshape(-1)
                      for p in energy.parameters()])


def _field_detaching_y(H, y):
    """The mistake the rollout case guards against: a leaf of its own even inside a rollout."""
    y = y.detach().requires_grad_(True)
    (dH,) = torch.autograd.grad(H(y).sum(), y, create_graph=True)
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


def _field_cases():
    return [
        Case("pendulum H = p^2/2 + 4(1 - cos q), 5 states (5, 2), float64",
             args=(pendulum_energy, _states((5, 2), torch.float64, 1)),
             why="the field is (dH/dp, -dH/dq): that order, that sign"),
        Case("a non-separable H = q^2 p^2/2 + q^4/4 + sin p, states (3, 4, 2), float32",
             args=(coupled_energy, _states((3, 4, 2), torch.float32, 2)), rtol=1e-5, atol=1e-6,
             why="the batch can have any leading shape (...), and the dtype is kept",
             why_on=("shape", "dtype", "checker")),
        Case("one state of shape (2,), the pendulum at q = 1, p = -0.5",
             args=(pendulum_energy, torch.tensor([1.0, -0.5], dtype=torch.float64))),
        Case("a small MLP energy H_theta: the field must stay differentiable w.r.t. theta",
             args=(_MLPEnergy(0), _states((6, 2), torch.float64, 3)),
             why="training backpropagates through the field: it must stay differentiable",
             why_on=("no_grad", "gradient")),
        Case("inside a rollout: the pendulum at states (4, 2) that already require grad",
             args=(pendulum_energy, _states((4, 2), torch.float64, 6).requires_grad_(True)),
             why="inside a rollout y already requires grad: use it as it is (detaching it cuts "
                 "the gradient that flows back through the states)",
             why_on=("gradient", "no_grad")),
    ]


def _field_hidden_cases():
    return [
        Case("non-separable H, states (7, 2), float64",
             args=(coupled_energy, _states((7, 2), torch.float64, 11))),
        Case("pendulum H, states (2, 3, 2), float32",
             args=(pendulum_energy, _states((2, 3, 2), torch.float32, 12)), rtol=1e-5, atol=1e-6),
        Case("another MLP energy, states (5, 2)",
             args=(_MLPEnergy(2), _states((5, 2), torch.float64, 13))),
        Case("used for training: RK4 rollout with your field, loss.backward(), gradient w.r.t. "
             "H_theta's parameters",
             args=(_MLPEnergy(1), _states((4, 2), torch.float64, 4),
                   torch.linspace(0, 1.0, 5, dtype=torch.float64),
                   _states((5, 4, 2), torch.float64, 5)),
             call=_train_through,
             why="inside a rollout y already requires grad: use it as it is (detaching it cuts "
                 "the gradient that flows through the states)", why_if=_field_detaching_y),
    ]


hamiltonian_field = Exercise(
    id="ex10_hamiltonian_field",
    withholds=("utils.hamiltonian.hamiltonian_field",),
    title="Exercise 10.1: the Hamiltonian vector field, by autograd",
    points=3,
    reference="lesson10.hamiltonian_field",
    cases=_field_cases,
    hidden_cases=_field_hidden_cases,
    hints=(
        "Hamilton's equations: dq/dt = dH/dp, dp/dt = -dH/dq. Autograd gives dH/dy for every "
        'state at once.',
        "Differentiate the sum of the energies H(y) with respect to y: that is each state's "
        'gradient (dH/dq, dH/dp) in the last axis. A y that already requires grad is a state '
        'inside a rollout: use it as it is; a plain y needs a leaf of your own (a detached '
        "copy), never a change to the caller's tensor. Keep the graph (create_graph), since "
        'training differentiates the field. Return (dH/dp, -dH/dq) stacked on the last axis: '
        'that order, that sign.',
    ),
)


# -- Exercise 10.2: a leapfrog step -------------------------------------------------------------


def _run(step, dV, dT, q, p, h, n):
    for _ in range(n):
        q, p = step(dV, dT, q, p, h)
    return q, p


def _measured_order(answer, dV, dT, q0, p0, t_end, q_ref, p_ref):
    """Global error at t_end for h = t_end/10, /20, /40 against an accurate (q_ref, p_ref);
    returns the log-log slope: the order of the method (2 for leapfrog)."""
    steps = np.array([t_end / 10, t_end / 20, t_end / 40])
    errors = []
    for h in steps:
        q, p = _run(answer, dV, dT, q0, p0, h, round(t_end / h))
        errors.append(float(np.sqrt(np.sum((q - q_ref) ** 2 + (p - p_ref) ** 2))))
    return float(np.polyfit(np.log(steps), np.log(errors), 1)[0])


def _round_trip(answer, dV, dT, q0, p0, h, n):
    """n steps with h, then n with -h: the distance from the start (0 for a reversible step)."""
    q, p = _run(answer, dV, dT, q0, p0, h, n)
    q, p = _run(answer, dV, dT, q, p, -h, n)
    return float(np.sqrt(np.sum((q - q0) ** 2 + (p - p0) ** 2)))


def _energy_band(answer, q0, p0, h, n):
    """Harmonic oscillator H = (q^2 + p^2)/2, n steps: the largest relative energy error over the
    first and over the last fifth of the run (equal for a symplectic step: a band, no drift)."""
    e0 = 0.5 * (q0**2 + p0**2)
    errors = []
    q, p = q0, p0
    for _ in range(n):
        q, p = answer(harmonic_dV, identity_dT, q, p, h)
        errors.append(float(np.max(np.abs(0.5 * (q**2 + p**2) - e0) / e0)))
    fifth = n // 5
    return (max(errors[:fifth]), max(errors[-fifth:]))


def _pendulum_reference(q0, p0, t_end):
    y = odeint(lambda t, y: np.stack([y[..., 1], -4.0 * np.sin(y[..., 0])], -1),
               np.stack([q0, p0], -1), np.array([0.0, t_end]), rtol=1e-12, atol=1e-12)[-1]
    return y[..., 0], y[..., 1]


def _drift_kick_drift(dV, dT, q, p, h):
    """The other Verlet splitting, which the exercise does not ask for."""
    q_half = q + 0.5 * h * dT(p)
    p_new = p - h * dV(q_half)
    return q_half + 0.5 * h * dT(p_new), p_new


def _leapfrog_cases():
    q0, p0 = np.array([0.5, 1.0, 2.0]), np.array([0.0, -1.0, 0.5])
    return [
        Case("pendulum V'(q) = 4 sin q, T'(p) = p, NumPy q, p of shape (3,), h = 0.1",
             args=(pendulum_dV, identity_dT, q0, p0, 0.1),
             why="that is drift-kick-drift (position Verlet); this exercise asks for "
                 "kick-drift-kick: half kick, drift, half kick", why_if=_drift_kick_drift),
        Case("T(p) = sqrt(1 + p^2), so T'(p) = p / sqrt(1 + p^2), torch float64 (4,) with q "
             "requiring grad, h = 0.3",
             args=(pendulum_dV, relativistic_dT, _states((4,), torch.float64, 21)
                   .requires_grad_(True), _states((4,), torch.float64, 22), 0.3),
             why="the drift uses dT(p) at the half-step momentum, and T'(p) is not always p"),
        Case("a step backwards, h = -0.2, NumPy (2, 3)",
             args=(pendulum_dV, identity_dT, np.full((2, 3), 0.7), np.linspace(-1, 1, 6)
                   .reshape(2, 3), -0.2)),
        Case("torch float32, h = 0.05", args=(pendulum_dV, identity_dT,
             _states((5,), torch.float32, 23), _states((5,), torch.float32, 24), 0.05),
             rtol=1e-5, atol=1e-6),
    ]


def _leapfrog_hidden_cases():
    q0, p0 = np.array([0.3, -1.5]), np.array([1.2, 0.4])
    q_ref, p_ref = _pendulum_reference(q0, p0, 2.0)
    return [
        Case("V(q) = q^4/4, T(p) = p^2/4, torch float64 (2, 2), h = 0.15",
             args=(quartic_dV, heavy_dT, _states((2, 2), torch.float64, 31),
                   _states((2, 2), torch.float64, 32), 0.15)),
        Case("pendulum, NumPy (2,), h = 0.25", args=(pendulum_dV, identity_dT, q0, p0, 0.25)),
        Case("measured order: log-log slope of the error at t = 2 (pendulum, h = 0.2, 0.1, 0.05)",
             args=(pendulum_dV, identity_dT, q0, p0, 2.0, q_ref, p_ref),
             call=_measured_order, rtol=0.0, atol=0.1,
             why="leapfrog is second order: halving h divides the error by 4"),
        Case("time-reversible: 50 steps with h = 0.1, then 50 with -0.1, distance from the start",
             args=(pendulum_dV, identity_dT, q0, p0, 0.1, 50), call=_round_trip,
             rtol=0.0, atol=1e-9, why="kick-drift-kick reads the same backwards"),
        Case("bounded energy: harmonic oscillator, 1,000 steps of h = 0.2, largest relative "
             "energy error in the first and in the last fifth",
             args=(np.array([1.0]), np.array([0.0]), 0.2, 1000), call=_energy_band,
             rtol=1e-3, atol=1e-9, why="a symplectic step keeps the energy in a band, no drift"),
        Case("time-reversible with T'(p) = p / sqrt(1 + p^2), 40 steps of h = 0.3",
             args=(pendulum_dV, relativistic_dT, q0, p0, 0.3, 40), call=_round_trip,
             rtol=0.0, atol=1e-9),
    ]


leapfrog_step = Exercise(
    id="ex10_leapfrog_step",
    withholds=("utils.symplectic.splitting_step", "utils.symplectic.integrate_separable"),
    title="Exercise 10.2: a leapfrog (Störmer–Verlet) step",
    points=3,
    reference="lesson10.leapfrog_step",
    result_names=("q_new", "p_new"),
    cases=_leapfrog_cases,
    hidden_cases=_leapfrog_hidden_cases,
    hints=(
        'Leapfrog splits the step into a half kick of the momentum, a full drift of the '
        'position, and another half kick.',
        "Half kick: the momentum moves by -(h/2) V'(q) at the old position. Drift: the "
        "position moves by h T'(p) with the half-step momentum. Half kick again at the new "
        'position. Each update uses the newest values; use new names (no in-place updates) '
        'and return (q_new, p_new).',
    ),
)
