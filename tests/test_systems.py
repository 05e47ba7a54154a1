"""The example systems: their exact solutions solve their ODEs, their invariants are invariant.

An exact solution is only useful as a reference if it is right, so each ``exact`` is checked
against its own ``__call__`` (a central difference of the solution equals the dynamics) and
its initial value; the Lotka–Volterra invariant is checked along a tight numerical solution.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from utils.solvers import odeint
from utils.systems import DampedOscillator, LinearSpiral, LotkaVolterra

EXACT_SYSTEMS = [
    LinearSpiral(),
    LinearSpiral(decay=0.1, frequency=3.0),
    DampedOscillator(),
    DampedOscillator(zeta=0.0, omega_n=1.0),  # undamped: a harmonic oscillator
]
BATCH = np.array([[2.0, 0.0], [0.0, 1.0], [-1.5, 0.5]])  # (batch, 2)


@pytest.mark.parametrize("system", EXACT_SYSTEMS, ids=repr)
@pytest.mark.parametrize("state0", [BATCH[0], BATCH], ids=["one state", "batch"])
def test_exact_solution_starts_at_y0_and_solves_the_ode(system, state0):
    t = np.linspace(-1.0, 4.0, 51)
    ys = system.exact(t, state0)
    assert ys.shape == (len(t), *state0.shape)
    np.testing.assert_allclose(system.exact([0.0], state0)[0], state0, atol=1e-15)
    # d/dt of the exact solution (central difference, error ~ eps**2) equals func(t, y).
    eps = 1e-5
    derivative = (system.exact(t + eps, state0) - system.exact(t - eps, state0)) / (2 * eps)
    np.testing.assert_allclose(derivative, system(t, ys), atol=1e-8)


@pytest.mark.parametrize("system", EXACT_SYSTEMS, ids=repr)
def test_exact_solution_agrees_with_a_tight_numerical_solve(system):
    t = np.linspace(0.0, 5.0, 11)
    ys = odeint(system, BATCH, t, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ys, system.exact(t, BATCH), atol=1e-8)


def test_linear_spiral_shrinks_at_its_decay_rate():
    spiral, t = LinearSpiral(decay=0.5), np.linspace(0.0, 3.0, 7)
    radius = np.linalg.norm(spiral.exact(t, BATCH[0]), axis=-1)
    np.testing.assert_allclose(radius, 2.0 * np.exp(-0.5 * t), rtol=1e-14)


def test_damped_oscillator_loses_energy_and_only_the_underdamped_case_is_exact():
    osc = DampedOscillator()
    x, v = osc.exact(np.linspace(0.0, 10.0, 101), np.array([1.0, 0.0])).T
    energy = 0.5 * v**2 + 0.5 * osc.omega_n**2 * x**2
    assert np.all(np.diff(energy) < 0)  # damping only removes energy
    for zeta in (1.0, 2.0, -0.1):
        with pytest.raises(ValueError, match="underdamped case 0 <= zeta < 1"):
            DampedOscillator(zeta=zeta).exact([0.0, 1.0], np.array([1.0, 0.0]))


def test_lotka_volterra_equilibrium_is_a_fixed_point():
    lv = LotkaVolterra()
    assert lv.equilibrium == (20.0, 10.0)  # (gamma / delta, alpha / beta)
    np.testing.assert_allclose(lv(0.0, np.array(lv.equilibrium)), [0.0, 0.0], atol=1e-12)


def test_lotka_volterra_invariant_is_conserved_by_the_flow():
    lv, t = LotkaVolterra(), np.linspace(0.0, 10.0, 101)
    ys = odeint(lv, np.array([10.0, 5.0]), t, rtol=1e-10, atol=1e-10)
    drift = lv.invariant(ys) - lv.invariant(ys[0])
    assert np.max(np.abs(drift)) < 1e-8
    # ... and it is a real test: Euler's drift on the same span is large.
    euler = odeint(lv, np.array([10.0, 5.0]), t, method="euler", step_size=0.01)
    assert np.max(np.abs(lv.invariant(euler) - lv.invariant(euler[0]))) > 1e-2


@pytest.mark.parametrize("system", [LotkaVolterra(), *EXACT_SYSTEMS], ids=repr)
def test_numpy_and_torch_give_the_same_dynamics_in_any_batch_shape(system):
    states = np.abs(np.random.default_rng(0).normal(size=(4, 3, 2))) + 0.5  # (4, 3, 2)
    dy_np = system(0.0, states)
    dy_torch = system(torch.tensor(0.0, dtype=torch.float64), torch.from_numpy(states))
    assert dy_np.shape == states.shape and isinstance(dy_torch, torch.Tensor)
    np.testing.assert_allclose(dy_torch.numpy(), dy_np, rtol=1e-15)
    # A batch is solved row by row: each state's derivative does not depend on the others.
    np.testing.assert_allclose(system(0.0, states[1, 2]), dy_np[1, 2], rtol=1e-15)
    if isinstance(system, LotkaVolterra):
        np.testing.assert_allclose(system.invariant(torch.from_numpy(states)).numpy(),
                                   system.invariant(states), rtol=1e-15)
