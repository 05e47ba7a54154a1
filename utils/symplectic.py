"""Symplectic splitting methods as data: leapfrog (Störmer–Verlet) and friends.

For a *separable* Hamiltonian ``H(q, p) = T(p) + V(q)`` the equations of motion

    dq/dt =  dT/dp (p)        (depends on p only: a "drift" moves q at fixed p)
    dp/dt = -dV/dq (q)        (depends on q only: a "kick"  moves p at fixed q)

split into two parts that are each solved *exactly* by one explicit update. A splitting method
alternates them with fixed coefficients; one step of size ``h`` is

    p <- p - kicks[0]  * h * dV(q)
    q <- q + drifts[0] * h * dT(p)
    p <- p - kicks[1]  * h * dV(q)
    ...
    p <- p - kicks[-1] * h * dV(q)          (one more kick than drifts)

Each update is the exact flow of a Hamiltonian system, so it preserves phase-space area, and so
does their composition: the method is *symplectic*. Such a method does not conserve ``H``
exactly, but it conserves a nearby "modified" Hamiltonian exactly, so its energy error stays
bounded (it oscillates) over exponentially long times instead of drifting. When the coefficients
read the same forwards and backwards (a *symmetric* method) it is also time-reversible: a step
with ``-h`` undoes a step with ``h``.

As in :mod:`utils.tableaus`, everything that distinguishes one method from another is in the
numbers: :class:`SplittingMethod` holds them and checks itself, :func:`splitting_step` is the one
loop that uses them. Leapfrog is ``kicks=(1/2, 1/2), drifts=(1,)``: half kick, drift, half kick.

Explicit updates need the split: for a non-separable ``H(q, p)``, ``dq/dt`` depends on ``q`` too,
no update is exact, and the (still symplectic) generalized leapfrog becomes implicit.

References: E. Hairer, C. Lubich, G. Wanner, *Geometric Numerical Integration*, 2nd ed.,
Springer 2006, sections I.1.4 (Störmer–Verlet), II.4–II.5 (composition and splitting),
VI (symplecticity), IX.8 (long-time energy conservation); E. Hairer, C. Lubich, G. Wanner,
"Geometric numerical integration illustrated by the Störmer–Verlet method", Acta Numerica 12
(2003) 399–450; H. Yoshida, "Construction of higher order symplectic integrators",
Phys. Lett. A 150 (1990) 262–268.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "SplittingMethod",
    "SYMPLECTIC_EULER",
    "LEAPFROG",
    "YOSHIDA4",
    "SPLITTING_METHODS",
    "splitting_step",
    "integrate_separable",
]

_TOL = 1e-12


@dataclass(frozen=True)
class SplittingMethod:
    """The coefficients of a kick-drift splitting method, checked on construction.

    Attributes:
        name: the method's name.
        order: its order (global error ~ h**order on a smooth separable problem).
        kicks: fractions of ``h`` of the momentum updates ``p -= kick * h * dV(q)``; one more
            than ``drifts``; they sum to 1 (the kicks together cover one step).
        drifts: fractions of ``h`` of the position updates ``q += drift * h * dT(p)``; they sum
            to 1.
    """

    name: str
    order: int
    kicks: tuple[float, ...]
    drifts: tuple[float, ...]

    def __post_init__(self):
        if len(self.kicks) != len(self.drifts) + 1:
            raise ValueError(
                f"{self.name}: need one more kick than drifts (kick, drift, ..., kick), got "
                f"{len(self.kicks)} kicks and {len(self.drifts)} drifts"
            )
        for label, coefficients in (("kicks", self.kicks), ("drifts", self.drifts)):
            if abs(sum(coefficients) - 1.0) > _TOL:
                raise ValueError(
                    f"{self.name}: {label} sum to {sum(coefficients)}, must sum to 1 (consistency)"
                )

    @property
    def symmetric(self) -> bool:
        """Coefficients palindromic: the method is time-reversible (and of even order)."""
        return _close(self.kicks, self.kicks[::-1]) and _close(self.drifts, self.drifts[::-1])

    @property
    def force_evaluations(self) -> int:
        """Calls of ``dV`` per step, counting a zero kick as free."""
        return sum(1 for k in self.kicks if k != 0.0)


def _close(a, b) -> bool:
    return all(abs(x - y) <= _TOL for x, y in zip(a, b, strict=True))


# Symplectic Euler: a full kick, then a full drift (the trailing kick is zero). First order.
SYMPLECTIC_EULER = SplittingMethod("symplectic_euler", 1, kicks=(1.0, 0.0), drifts=(1.0,))

# Störmer–Verlet / leapfrog / velocity Verlet: half kick, drift, half kick. Second order.
LEAPFROG = SplittingMethod("leapfrog", 2, kicks=(0.5, 0.5), drifts=(1.0,))

# Yoshida's fourth-order method: leapfrog composed with itself at steps w1 h, w0 h, w1 h.
_W1 = 1.0 / (2.0 - 2.0 ** (1.0 / 3.0))
_W0 = 1.0 - 2.0 * _W1  # negative: the middle sub-step goes backwards in time
YOSHIDA4 = SplittingMethod(
    "yoshida4",
    4,
    kicks=(_W1 / 2, (_W0 + _W1) / 2, (_W0 + _W1) / 2, _W1 / 2),
    drifts=(_W1, _W0, _W1),
)

SPLITTING_METHODS: dict[str, SplittingMethod] = {
    m.name: m for m in (SYMPLECTIC_EULER, LEAPFROG, YOSHIDA4)
}


def _method(method) -> SplittingMethod:
    if isinstance(method, SplittingMethod):
        return method
    if method in SPLITTING_METHODS:
        return SPLITTING_METHODS[method]
    raise ValueError(
        f"unknown method {method!r}: use a SplittingMethod or one of {sorted(SPLITTING_METHODS)}"
    )


def splitting_step(dV: Callable, dT: Callable, q, p, h: float, method="leapfrog"):
    """One step of a splitting method for ``H(q, p) = T(p) + V(q)``.

    Args:
        dV: ``dV(q) -> dV/dq``, same shape as ``q`` (the negative force).
        dT: ``dT(p) -> dT/dp``, same shape as ``p`` (the velocity; ``p / m`` for ``p**2 / 2m``).
        q, p: positions and momenta, NumPy arrays or torch tensors of one shape, e.g.
            ``(batch, dof)``.
        h: step size (negative to step backwards in time).
        method: a :class:`SplittingMethod` or its name (default ``"leapfrog"``).

    Returns:
        ``(q_new, p_new)`` at ``t + h``, new arrays (the inputs are not modified).
    """
    method = _method(method)
    for kick, drift in zip(method.kicks, method.drifts + (None,), strict=True):
        if kick != 0.0:
            p = p - (kick * h) * dV(q)
        if drift is not None:
            q = q + (drift * h) * dT(p)
    return q, p


def integrate_separable(
    dV: Callable, dT: Callable, q0, p0, *, step_size: float, n_steps: int, method="leapfrog"
):
    """``n_steps`` steps of a splitting method from ``(q0, p0)``; every state is returned.

    Args:
        dV, dT: the gradients of ``V(q)`` and ``T(p)`` (see :func:`splitting_step`).
        q0, p0: initial positions and momenta, arrays or tensors of one shape ``S``.
        step_size: ``h`` (non-zero; negative integrates backwards in time).
        n_steps: number of steps (>= 0); the times are ``h * arange(n_steps + 1)``.
        method: a :class:`SplittingMethod` or its name.

    Returns:
        ``(qs, ps)``, each of shape ``(n_steps + 1, *S)``, with ``qs[0] == q0``, ``ps[0] == p0``.

    Raises:
        ValueError: mismatched shapes, zero or non-finite step, negative ``n_steps``,
            unknown method.
    """
    method = _method(method)
    if tuple(np.shape(q0)) != tuple(np.shape(p0)):
        raise ValueError(
            f"q0 and p0 must have one shape, got {tuple(np.shape(q0))} and {tuple(np.shape(p0))}"
        )
    if not (np.isfinite(step_size) and step_size != 0):
        raise ValueError(f"step_size must be finite and non-zero, got {step_size!r}")
    if not (isinstance(n_steps, (int, np.integer)) and n_steps >= 0):
        raise ValueError(f"n_steps must be an int >= 0, got {n_steps!r}")
    torch_input = isinstance(q0, torch.Tensor)
    if not torch_input:
        q0, p0 = np.asarray(q0, dtype=float), np.asarray(p0, dtype=float)
    qs, ps = [q0], [p0]
    q, p = q0, p0
    for _ in range(n_steps):
        q, p = splitting_step(dV, dT, q, p, step_size, method)
        qs.append(q)
        ps.append(p)
    stack = torch.stack if torch_input else np.stack
    return stack(qs), stack(ps)
