"""Hamiltonian neural networks (lesson 10): the pendulum, its data, three models, their training.

A Hamiltonian system has a state ``y = (q, p)`` (position, momentum) and an energy ``H(q, p)``;
its motion is the *symplectic gradient* of ``H``,

    dq/dt = dH/dp,        dp/dt = -dH/dq,

so ``dH/dt = dH/dq dq/dt + dH/dp dp/dt = 0``: the energy is conserved along every solution.
A Hamiltonian neural network (HNN) learns a scalar ``H_theta(q, p)`` and uses its symplectic
gradient as the vector field, so whatever it learns conserves *its own* energy ``H_theta``.
The three models here take one state layout, ``y[..., 0] = q`` and ``y[..., 1] = p``:

- :class:`NeuralODEField`: an MLP ``f_theta(q, p) -> (dq/dt, dp/dt)``, no structure (lesson 05).
- :class:`HamiltonianNN`: an MLP ``H_theta(q, p) -> scalar``; the field is its symplectic gradient.
- :class:`SeparableHNN`: ``H_theta = T_theta(p) + V_theta(q)``, two MLPs of one variable each; the
  field is ``(T'(p), -V'(q))``, which a leapfrog step (:mod:`utils.symplectic`) can integrate.

All three are trained by one recipe, :func:`train_model`: RK4 rollouts over short windows of the
noisy data, mean squared error, Adam.

References: S. Greydanus, M. Dzamba, J. Yosinski, "Hamiltonian Neural Networks", NeurIPS 2019,
arXiv:1906.01563 (the HNN and its pendulum task); E. Hairer, C. Lubich, G. Wanner, *Geometric
Numerical Integration*, 2nd ed., Springer 2006, chapter I (Hamiltonian systems, the pendulum).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .models import count_parameters
from .solvers import odeint
from .training import TrainHistory, sample_windows, train

__all__ = [
    "Pendulum",
    "PendulumData",
    "pendulum_dataset",
    "hamiltonian_field",
    "NeuralODEField",
    "HamiltonianNN",
    "SeparableHNN",
    "MODELS",
    "count_parameters",
    "train_model",
    "rollout",
    "relative_energy_error",
    "compare_integrators",
]


def _cos(x):
    return torch.cos(x) if isinstance(x, torch.Tensor) else np.cos(x)


def _sin(x):
    return torch.sin(x) if isinstance(x, torch.Tensor) else np.sin(x)


@dataclass(frozen=True)
class Pendulum:
    """An ideal pendulum of unit mass and length: ``H(q, p) = p**2 / 2 + omega**2 (1 - cos q)``.

    ``q`` is the angle from the bottom (radians), ``p`` the angular momentum, ``omega**2 = g / l``.
    Small swings have period ``2 pi / omega``; orbits with ``H < 2 omega**2`` swing back and forth,
    those above the separatrix ``H = 2 omega**2`` go over the top. Works on NumPy arrays and
    torch tensors whose last axis is ``(q, p)``.
    """

    omega: float = 2.0

    def energy(self, y):
        """``H(q, p)`` for states ``y`` of shape ``(..., 2)``; returns shape ``(...)``."""
        q, p = y[..., 0], y[..., 1]
        return 0.5 * p**2 + self.omega**2 * (1 - _cos(q))

    def dV(self, q):
        """``dV/dq = omega**2 sin q`` (same shape as ``q``)."""
        return self.omega**2 * _sin(q)

    def dT(self, p):
        """``dT/dp = p`` (same shape as ``p``)."""
        return p

    def __call__(self, t, y):
        """The vector field ``(dq/dt, dp/dt) = (p, -omega**2 sin q)``, shape of ``y``."""
        q, p = y[..., 0], y[..., 1]
        field = (self.dT(p), -self.dV(q))
        return torch.stack(field, -1) if isinstance(y, torch.Tensor) else np.stack(field, -1)

    def solve(self, y0, t):
        """Accurate trajectories (dopri5, rtol = atol = 1e-10, float64): ``(len(t), *y0.shape)``."""
        return odeint(self, np.asarray(y0, dtype=float), np.asarray(t, dtype=float),
                      rtol=1e-10, atol=1e-10)

    def sample_states(self, n: int, rng: np.random.Generator, *, max_energy: float = 6.0):
        """``n`` states drawn uniformly from the box ``|q| <= 2, |p| <= 3``, keeping those with
        ``H <= max_energy`` (default 6, below the separatrix ``2 omega**2 = 8`` for omega 2).
        Returns an array ``(n, 2)``."""
        kept = np.empty((0, 2))
        while len(kept) < n:
            y = rng.uniform([-2.0, -3.0], [2.0, 3.0], size=(4 * n, 2))
            kept = np.concatenate([kept, y[self.energy(y) <= max_energy]])
        return kept[:n]


class PendulumData(NamedTuple):
    """Noisy pendulum trajectories on one time grid.

    Attributes:
        t: times ``(n_times,)`` from 0.
        y: noisy observations ``(n_times, n_trajectories, 2)`` (what the models see).
        clean: the noise-free states, same shape (for measuring only).
        y0: the true initial states ``(n_trajectories, 2)``.
    """

    t: np.ndarray
    y: np.ndarray
    clean: np.ndarray
    y0: np.ndarray


def pendulum_dataset(
    system: Pendulum | None = None,
    *,
    n_trajectories: int = 25,
    t_end: float = 3.0,
    dt: float = 0.1,
    noise_std: float = 0.05,
    seed: int = 0,
) -> PendulumData:
    """Trajectories of ``system`` (default ``Pendulum()``) from random starts, with Gaussian noise
    of standard deviation ``noise_std`` added to ``q`` and ``p`` at every sample (the starts drawn
    by :meth:`Pendulum.sample_states`; all randomness from ``seed``)."""
    system = Pendulum() if system is None else system
    if not (isinstance(n_trajectories, int) and n_trajectories >= 1):
        raise ValueError(f"n_trajectories must be an int >= 1, got {n_trajectories!r}")
    if not (t_end > 0 and dt > 0 and dt <= t_end):
        raise ValueError(f"need 0 < dt <= t_end, got dt={dt!r}, t_end={t_end!r}")
    if not noise_std >= 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    rng = np.random.default_rng(seed)
    y0 = system.sample_states(n_trajectories, rng)
    t = np.arange(round(t_end / dt) + 1) * dt
    clean = system.solve(y0, t)
    noisy = clean + noise_std * rng.standard_normal(clean.shape)
    return PendulumData(t=t, y=noisy, clean=clean, y0=y0)


def hamiltonian_field(H: Callable, y: torch.Tensor) -> torch.Tensor:
    """The symplectic gradient of a scalar function: ``(dH/dp, -dH/dq)`` (exercise 10.1).

    Args:
        H: ``H(y) -> energies`` of shape ``(...)`` for states ``y`` of shape ``(..., 2)``.
        y: states ``(..., 2)`` with ``y[..., 0] = q``, ``y[..., 1] = p``. A ``y`` that requires
            grad (a state inside a rollout being trained) is used as it is, so the gradient that
            flows through the states is kept; a plain one gets a leaf copy of its own.

    Returns:
        ``(..., 2)``, differentiable with respect to ``H``'s parameters (``create_graph=True``):
        training backpropagates through it. Needs gradients enabled; the models evaluate it
        under ``torch.no_grad()`` through :func:`_evaluable`.
    """
    if not y.requires_grad:
        y = y.detach().requires_grad_(True)
    (dH,) = torch.autograd.grad(H(y).sum(), y, create_graph=True)  # (dH/dq, dH/dp)
    return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)


def _evaluable(H: Callable, y: torch.Tensor) -> torch.Tensor:
    """:func:`hamiltonian_field` in training and in evaluation alike: under ``torch.no_grad()``
    (rollouts) autograd still needs a graph to differentiate ``H``, so it is switched on for the
    call and the result is returned detached."""
    if torch.is_grad_enabled():
        return hamiltonian_field(H, y)
    with torch.enable_grad():
        return hamiltonian_field(H, y).detach()


def _gradient(f: Callable, x: torch.Tensor) -> torch.Tensor:
    """``d f(x).sum() / dx`` by autograd: the gradient of a function summed over a batch, e.g.
    ``f'(x)`` elementwise for a function applied elementwise. Keeps the graph if gradients are
    enabled (training), else returns it detached (evaluation under ``torch.no_grad()``)."""
    keep_graph = torch.is_grad_enabled()
    with torch.enable_grad():
        if not x.requires_grad:
            x = x.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(f(x).sum(), x, create_graph=keep_graph)
    return grad if keep_graph else grad.detach()


def _mlp(n_in: int, n_out: int, hidden: int) -> nn.Sequential:
    """``n_in -> hidden -> hidden -> n_out`` with tanh: smooth, so its gradients are smooth too."""
    return nn.Sequential(
        nn.Linear(n_in, hidden), nn.Tanh(), nn.Linear(hidden, hidden), nn.Tanh(),
        nn.Linear(hidden, n_out),
    )


class NeuralODEField(nn.Module):
    """A plain Neural ODE field: ``f_theta(q, p) -> (dq/dt, dp/dt)``, an MLP ``2 -> hidden ->
    hidden -> 2``. ``forward(t, y)`` takes ``y`` of shape ``(..., 2)``."""

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.net = _mlp(2, 2, hidden)

    def forward(self, t, y):
        return self.net(y)


class HamiltonianNN(nn.Module):
    """A Hamiltonian neural network (Greydanus et al. 2019): a scalar ``H_theta(q, p)``, an MLP
    ``2 -> hidden -> hidden -> 1``, whose symplectic gradient is the field."""

    def __init__(self, hidden: int = 32):
        super().__init__()
        self.net = _mlp(2, 1, hidden)

    def hamiltonian(self, y):
        """``H_theta(y)``: ``(..., 2) -> (...)``."""
        return self.net(y).squeeze(-1)

    def forward(self, t, y):
        return _evaluable(self.hamiltonian, y)


class SeparableHNN(nn.Module):
    """A separable Hamiltonian ``H_theta(q, p) = T_theta(p) + V_theta(q)``, two MLPs
    ``1 -> hidden -> hidden -> 1``. The field is ``(T'(p), -V'(q))``; :meth:`dT` and :meth:`dV`
    serve a leapfrog step (:func:`utils.symplectic.splitting_step`), on tensors of any shape."""

    def __init__(self, hidden: int = 22):
        super().__init__()
        self.kinetic = _mlp(1, 1, hidden)
        self.potential = _mlp(1, 1, hidden)

    def T(self, p):
        return self.kinetic(p.unsqueeze(-1)).squeeze(-1)

    def V(self, q):
        return self.potential(q.unsqueeze(-1)).squeeze(-1)

    def hamiltonian(self, y):
        """``T_theta(p) + V_theta(q)``: ``(..., 2) -> (...)``."""
        return self.T(y[..., 1]) + self.V(y[..., 0])

    def dT(self, p):
        """``dT_theta/dp``, same shape as ``p``."""
        return _gradient(self.T, p)

    def dV(self, q):
        """``dV_theta/dq``, same shape as ``q``."""
        return _gradient(self.V, q)

    def forward(self, t, y):
        # One backward pass gives both derivatives: dH/dq = V'(q), dH/dp = T'(p).
        return _evaluable(self.hamiltonian, y)


MODELS: dict[str, type[nn.Module]] = {
    "Neural ODE": NeuralODEField,
    "HNN": HamiltonianNN,
    "separable HNN": SeparableHNN,
}
"""The three models of lesson 10, by the names the lesson prints; default widths give about
1,200 parameters each (:func:`count_parameters`)."""


def train_model(
    model: nn.Module,
    data: PendulumData,
    *,
    n_steps: int,
    window: int = 6,
    batch_size: int = 128,
    lr: float = 2e-2,
    seed: int = 0,
    progress: bool = True,
    desc: str = "training",
) -> TrainHistory:
    """Fit ``model`` to the noisy data by RK4 rollouts over short windows (the one recipe).

    Every step draws ``batch_size`` windows of ``window`` consecutive samples (default 6, i.e.
    5 RK4 steps of the data's ``dt``) from random trajectories and start times, rolls the model
    out from each window's first (noisy) sample with ``odeint(..., method="rk4")``, and takes an
    Adam step on the mean squared error; the learning rate decays along a cosine from ``lr`` to
    ``lr / 100``. Float32; ``seed`` seeds the windows (initialise the model's weights yourself).

    Returns:
        the :class:`utils.training.TrainHistory` (losses, wall time).
    """
    t = torch.tensor(data.t, dtype=torch.float32)
    y = torch.tensor(data.y, dtype=torch.float32)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_steps,
                                                          eta_min=lr / 100)
    generator = torch.Generator().manual_seed(seed)

    def step(i):
        t_w, y0_w, y_w = sample_windows(t, y, length=window, batch_size=batch_size,
                                        generator=generator)
        optimizer.zero_grad()
        loss = (odeint(model, y0_w, t_w, method="rk4") - y_w).pow(2).mean()
        loss.backward()
        optimizer.step()
        schedule.step()
        return loss.item()

    return train(step, n_steps=n_steps, progress=progress, desc=desc)


def rollout(model: nn.Module, y0, t, *, method: str = "rk4") -> np.ndarray:
    """The model's trajectories from ``y0`` (array ``(batch, 2)``) at the times ``t``, one RK4 step
    per interval of ``t`` (float64, no gradients). Returns an array ``(len(t), batch, 2)``."""
    dtype = next(model.parameters()).dtype
    with torch.no_grad():
        ys = odeint(model, torch.as_tensor(np.asarray(y0), dtype=dtype),
                    torch.as_tensor(np.asarray(t), dtype=dtype), method=method)
    return ys.numpy().astype(float)


def relative_energy_error(energy, *, rest: float = 0.0) -> np.ndarray:
    """``|E(t) - E(0)| / |E(0) - rest|`` along trajectories.

    Args:
        energy: energies of shape ``(n_times, ...)`` (array or tensor), ``energy[0]`` the start.
        rest: the energy at rest, ``H(0, 0)``: a learned ``H_theta`` is only defined up to a
            constant, so it is measured from its value at rest, as the true energy is (0).

    Returns:
        an array of the shape of ``energy``.
    """
    energy = np.asarray(energy, dtype=float)
    return np.abs(energy - energy[0]) / np.abs(energy[0] - rest)


def compare_integrators(system, y0, *, step_size: float, t_end: float) -> dict:
    """Energy error of leapfrog and of RK4 at one step size, on a separable Hamiltonian.

    Args:
        system: has ``dV(q)``, ``dT(p)``, ``energy(y)`` (or ``hamiltonian(y)``) and is the field
            ``system(t, y)``: a :class:`Pendulum` (NumPy) or a :class:`SeparableHNN` (torch,
            evaluated without gradients).
        y0: initial states ``(batch, 2)``, array.
        step_size: the step of both integrators; ``t_end``: the horizon.

    Returns:
        dict with ``t`` (n + 1,) and, for ``"leapfrog"`` and ``"rk4"``, the relative energy error
        (:func:`relative_energy_error`, measured from rest) of shape ``(n + 1, batch)``, where
        ``n = round(t_end / step_size)``.
    """
    from .symplectic import integrate_separable

    if not (step_size > 0 and t_end >= step_size):
        raise ValueError(f"need 0 < step_size <= t_end, got {step_size!r} and {t_end!r}")
    n = round(t_end / step_size)
    t = np.arange(n + 1) * step_size
    energy = getattr(system, "energy", None) or system.hamiltonian
    torch_model = isinstance(system, nn.Module)
    y0 = np.asarray(y0, dtype=float)
    t_solve: torch.Tensor | np.ndarray
    if torch_model:
        dtype = next(system.parameters()).dtype
        y0, t_solve = torch.tensor(y0, dtype=dtype), torch.tensor(t, dtype=dtype)
    else:
        t_solve = t
    with torch.no_grad():
        qs, ps = integrate_separable(system.dV, system.dT, y0[..., 0], y0[..., 1],
                                     step_size=step_size, n_steps=n)
        stack = torch.stack if torch_model else np.stack
        ys = {"leapfrog": stack((qs, ps), -1),
              "rk4": odeint(system, y0, t_solve, method="rk4")}
        rest = float(energy(y0[:1] * 0)[0])
        out = {"t": t}
        for name, y in ys.items():
            out[name] = relative_energy_error(_numpy(energy(y)), rest=rest)
    return out


def _numpy(x) -> np.ndarray:
    return x.detach().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)
