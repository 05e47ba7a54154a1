"""Splitting methods (utils.symplectic): coefficients, reversibility, energy, convergence order."""

import numpy as np
import pytest
import torch

from utils.symplectic import (
    LEAPFROG,
    SPLITTING_METHODS,
    SYMPLECTIC_EULER,
    YOSHIDA4,
    SplittingMethod,
    integrate_separable,
    splitting_step,
)


# Harmonic oscillator H = p**2 / 2 + q**2 / 2: exact solution q = cos t, p = -sin t from (1, 0).
def dV(q):
    return q


def dT(p):
    return p


# Pendulum H = p**2 / 2 + 4 (1 - cos q): nonlinear, still separable.
def dV_pendulum(q):
    return 4.0 * np.sin(q)


def pendulum_energy(q, p):
    return 0.5 * p**2 + 4.0 * (1 - np.cos(q))


@pytest.mark.parametrize("method", list(SPLITTING_METHODS.values()), ids=list(SPLITTING_METHODS))
def test_coefficients_are_consistent(method):
    assert abs(sum(method.kicks) - 1) < 1e-12
    assert abs(sum(method.drifts) - 1) < 1e-12
    assert len(method.kicks) == len(method.drifts) + 1


def test_symmetry_flags():
    assert LEAPFROG.symmetric and YOSHIDA4.symmetric
    assert not SYMPLECTIC_EULER.symmetric


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"kicks": (0.5, 0.5), "drifts": (0.5, 0.5)}, "one more kick"),
        ({"kicks": (0.5, 0.4), "drifts": (1.0,)}, "kicks sum"),
        ({"kicks": (0.5, 0.5), "drifts": (0.9,)}, "drifts sum"),
    ],
)
def test_bad_coefficients_raise(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SplittingMethod("bad", 2, **kwargs)


def test_leapfrog_step_by_hand():
    q, p, h = np.array([0.3]), np.array([-0.2]), 0.1
    p_half = p - 0.5 * h * dV_pendulum(q)
    q_new = q + h * p_half
    p_new = p_half - 0.5 * h * dV_pendulum(q_new)
    got = splitting_step(dV_pendulum, dT, q, p, h, "leapfrog")
    np.testing.assert_allclose(got[0], q_new, rtol=1e-14)
    np.testing.assert_allclose(got[1], p_new, rtol=1e-14)


@pytest.mark.parametrize("method", ["leapfrog", "yoshida4"])
def test_time_reversible(method):
    q0, p0 = np.array([1.2, -0.4]), np.array([0.3, 1.5])
    qs, ps = integrate_separable(dV_pendulum, dT, q0, p0, step_size=0.2, n_steps=200,
                                 method=method)
    # Flip the momentum and integrate forwards again: a reversible method retraces its path.
    qb, pb = integrate_separable(dV_pendulum, dT, qs[-1], -ps[-1], step_size=0.2, n_steps=200,
                                 method=method)
    np.testing.assert_allclose(qb[-1], q0, atol=1e-10)
    np.testing.assert_allclose(-pb[-1], p0, atol=1e-10)
    # Equivalently, a step with -h undoes a step with h.
    q1, p1 = splitting_step(dV_pendulum, dT, q0, p0, 0.3, method)
    q2, p2 = splitting_step(dV_pendulum, dT, q1, p1, -0.3, method)
    np.testing.assert_allclose(q2, q0, atol=1e-13)
    np.testing.assert_allclose(p2, p0, atol=1e-13)


def test_symplectic_euler_is_not_reversible():
    q0, p0 = np.array([1.2]), np.array([0.3])
    q1, p1 = splitting_step(dV_pendulum, dT, q0, p0, 0.3, SYMPLECTIC_EULER)
    q2, _ = splitting_step(dV_pendulum, dT, q1, p1, -0.3, SYMPLECTIC_EULER)
    assert abs(q2 - q0).max() > 1e-3


def test_leapfrog_energy_stays_bounded_on_the_harmonic_oscillator():
    # Exact result: leapfrog conserves the modified energy p**2/2 + (1 - h**2/4) q**2/2, so the
    # true energy oscillates within a band of relative width ~h**2/4, forever; no drift.
    h, n = 0.1, 20_000  # 2,000 time units, ~320 periods
    qs, ps = integrate_separable(dV, dT, np.array([1.0]), np.array([0.0]), step_size=h,
                                 n_steps=n)
    energy = 0.5 * (qs**2 + ps**2)[:, 0]
    error = np.abs(energy - 0.5) / 0.5
    assert error.max() < h**2 / 4 * 1.01
    # The band in the last tenth is the band of the first tenth: bounded, not growing.
    first, last = error[: n // 10].max(), error[-n // 10 :].max()
    assert last < 1.01 * first
    modified = 0.5 * ps[:, 0] ** 2 + 0.5 * (1 - h**2 / 4) * qs[:, 0] ** 2
    np.testing.assert_allclose(modified, modified[0], rtol=1e-9)


def test_rk4_energy_drifts_where_leapfrog_does_not():
    # Same problem, coarse step, long time: RK4 (not symplectic) loses energy steadily.
    from utils.solvers import odeint

    h, n = 0.5, 4000
    t = np.arange(n + 1) * h
    y = odeint(lambda t, y: np.stack([y[..., 1], -np.sin(y[..., 0])], -1), np.array([1.0, 0.0]),
               t, method="rk4")
    e_rk4 = 0.5 * y[:, 1] ** 2 + 1 - np.cos(y[:, 0])
    qs, ps = integrate_separable(np.sin, dT, np.array([1.0]), np.array([0.0]), step_size=h,
                                 n_steps=n)
    e_lf = 0.5 * ps[:, 0] ** 2 + 1 - np.cos(qs[:, 0])
    e0 = 1 - np.cos(1.0)
    rk4_final, lf_max = abs(e_rk4[-1] - e0) / e0, (np.abs(e_lf - e0) / e0).max()
    assert rk4_final > 3 * lf_max


@pytest.mark.parametrize("name, order", [("symplectic_euler", 1), ("leapfrog", 2),
                                         ("yoshida4", 4)])
def test_measured_convergence_order(name, order):
    # Global error at t = 2 on the harmonic oscillator against the exact solution; the slope
    # of log(error) against log(h) is the order.
    steps = np.array([0.1, 0.05, 0.025, 0.0125])
    errors = []
    for h in steps:
        n = round(2.0 / h)
        qs, ps = integrate_separable(dV, dT, np.array([1.0]), np.array([0.0]), step_size=h,
                                     n_steps=n, method=name)
        errors.append(np.hypot(qs[-1, 0] - np.cos(2.0), ps[-1, 0] + np.sin(2.0)))
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert abs(slope - order) < 0.1, slope


def test_works_on_torch_with_gradients():
    q0 = torch.tensor([[0.5], [1.0]], dtype=torch.float64, requires_grad=True)
    p0 = torch.zeros(2, 1, dtype=torch.float64)
    qs, ps = integrate_separable(torch.sin, lambda p: p, q0, p0, step_size=0.1, n_steps=20)
    assert qs.shape == ps.shape == (21, 2, 1) and qs.dtype == torch.float64
    qs[-1].sum().backward()
    assert q0.grad is not None and torch.isfinite(q0.grad).all()
    q_np, p_np = integrate_separable(np.sin, dT, q0.detach().numpy(), p0.numpy(), step_size=0.1,
                                     n_steps=20)
    np.testing.assert_allclose(qs.detach().numpy(), q_np, rtol=1e-12)


def test_inputs_are_not_modified():
    q0, p0 = np.array([0.5, 1.0]), np.array([0.1, 0.0])
    integrate_separable(dV, dT, q0, p0, step_size=0.1, n_steps=5)
    splitting_step(dV, dT, q0, p0, 0.1)
    np.testing.assert_array_equal(q0, [0.5, 1.0])
    np.testing.assert_array_equal(p0, [0.1, 0.0])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"q0": np.zeros(2), "p0": np.zeros(3)}, "one shape"),
        ({"step_size": 0.0}, "step_size"),
        ({"step_size": float("nan")}, "step_size"),
        ({"n_steps": -1}, "n_steps"),
        ({"n_steps": 2.5}, "n_steps"),
        ({"method": "rk4"}, "unknown method"),
    ],
)
def test_bad_input_raises(kwargs, message):
    args = {"q0": np.zeros(2), "p0": np.zeros(2), "step_size": 0.1, "n_steps": 3,
            "method": "leapfrog"} | kwargs
    with pytest.raises(ValueError, match=message):
        integrate_separable(dV, dT, args.pop("q0"), args.pop("p0"), **args)
