"""Example dynamical systems of the course, as ``func(t, y)`` callables for :func:`utils.odeint`.

Each works on NumPy arrays and torch tensors, with the state in the last axis, so a batch of
states of shape ``(batch, 2)`` is solved in one call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

__all__ = ["LotkaVolterra", "LinearSpiral", "DampedOscillator"]


def _stack_last(a, b):
    return torch.stack((a, b), dim=-1) if isinstance(a, torch.Tensor) else np.stack((a, b), axis=-1)


def _log(x):
    return torch.log(x) if isinstance(x, torch.Tensor) else np.log(x)


@dataclass(frozen=True)
class LotkaVolterra:
    """Predator–prey dynamics (Lotka 1925, Volterra 1926); state ``(..., 2)`` = (prey, predators).

        dx/dt = alpha x - beta x y        dy/dt = delta x y - gamma y

    Defaults are the course's running example: alpha=1.0, beta=0.1, gamma=1.5, delta=0.075.
    """

    alpha: float = 1.0
    beta: float = 0.1
    gamma: float = 1.5
    delta: float = 0.075

    def __call__(self, t, state):
        x, y = state[..., 0], state[..., 1]
        return _stack_last(self.alpha * x - self.beta * x * y, self.delta * x * y - self.gamma * y)

    def invariant(self, state):
        """The conserved ``V = delta x - gamma ln x + beta y - alpha ln y``, shape ``(...)``.

        Exact solutions keep V constant (for x, y > 0); numerical ones drift.
        """
        x, y = state[..., 0], state[..., 1]
        return self.delta * x - self.gamma * _log(x) + self.beta * y - self.alpha * _log(y)

    @property
    def equilibrium(self) -> tuple[float, float]:
        """The coexistence point (gamma/delta, alpha/beta), around which orbits circle."""
        return self.gamma / self.delta, self.alpha / self.beta


@dataclass(frozen=True)
class LinearSpiral:
    """The damped spiral ``dx/dt = -d x - w y``, ``dy/dt = w x - d y`` (defaults d=0.5, w=1).

    Linear, so exact: ``(x, y)(t) = e^{-d t} R(w t) (x0, y0)`` with R a rotation.
    """

    decay: float = 0.5
    frequency: float = 1.0

    def __call__(self, t, state):
        x, y = state[..., 0], state[..., 1]
        d, w = self.decay, self.frequency
        return _stack_last(-d * x - w * y, w * x - d * y)

    def exact(self, t, state0):
        """The exact solution at times ``t`` (1-D), shape ``(len(t), *state0.shape)`` (NumPy)."""
        t = np.asarray(t, dtype=float).reshape(-1, *([1] * (np.ndim(state0) - 1)))
        x0, y0 = np.asarray(state0)[..., 0], np.asarray(state0)[..., 1]
        c, s, g = np.cos(self.frequency * t), np.sin(self.frequency * t), np.exp(-self.decay * t)
        return np.stack((g * (c * x0 - s * y0), g * (s * x0 + c * y0)), axis=-1)


@dataclass(frozen=True)
class DampedOscillator:
    """``x'' + 2 zeta omega_n x' + omega_n^2 x = 0`` as a first-order system; state (x, v).

    Defaults: zeta=0.1, omega_n=2.0 (underdamped), the seed lesson's example.
    """

    zeta: float = 0.1
    omega_n: float = 2.0

    def __call__(self, t, state):
        x, v = state[..., 0], state[..., 1]
        return _stack_last(v, -2 * self.zeta * self.omega_n * v - self.omega_n**2 * x)

    def exact(self, t, state0):
        """Exact solution (underdamped, zeta < 1) at times ``t``: ``(len(t), *state0.shape)``."""
        if not 0 <= self.zeta < 1:
            raise ValueError(f"exact() covers the underdamped case 0 <= zeta < 1, got {self.zeta}")
        t = np.asarray(t, dtype=float).reshape(-1, *([1] * (np.ndim(state0) - 1)))
        x0, v0 = np.asarray(state0)[..., 0], np.asarray(state0)[..., 1]
        a = self.zeta * self.omega_n
        wd = self.omega_n * np.sqrt(1 - self.zeta**2)
        c, s, g = np.cos(wd * t), np.sin(wd * t), np.exp(-a * t)
        x = g * (x0 * c + (v0 + a * x0) / wd * s)
        v = g * (v0 * c - (a * v0 + self.omega_n**2 * x0) / wd * s)
        return np.stack((x, v), axis=-1)
