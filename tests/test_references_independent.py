"""Every exercise's reference solution, checked against something it did not compute.

The exercise cases (utils/exercises/judge.py) take most expected values from the reference
itself, so a wrong reference would be graded "right" everywhere. Here each reference meets at
least two independent facts: a closed form, scipy, a count made by the test, or values worked
out by hand (the derivation in a comment). ``CHECKED`` lists which test covers which reference;
a new exercise without independent checks fails ``test_every_reference_is_checked``.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.integrate
import scipy.linalg
import scipy.stats
import torch
from torch import nn

from utils.exercises import registry
from utils.exercises.solutions import (
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
    lesson09,
    lesson10,
)
from utils.tableaus import EULER, MIDPOINT, RK4

CHECKED: set[str] = set()


def checks(*references: str):
    """Mark a test as an independent check of these references ("lessonNN.function")."""
    CHECKED.update(references)
    return lambda test: test


def _rk4_factor(z: float) -> float:
    # RK4 on dy/dt = lam y multiplies y by the degree-4 Taylor polynomial of exp(z), z = lam h
    return 1 + z + z**2 / 2 + z**3 / 6 + z**4 / 24


# -- lesson 01 ------------------------------------------------------------------------------


@checks("lesson01.euler_step")
def test_euler_step():
    # dy/dt = y: y + h y = 2 * 1.1; dy/dt = t: y + h t = 1 + 0.5 * 3
    assert lesson01.euler_step(lambda t, y: y, 0.0, np.array([2.0]), 0.1) == pytest.approx(2.2)
    assert lesson01.euler_step(lambda t, y: t, 3.0, 1.0, 0.5) == pytest.approx(2.5)


@checks("lesson01.euler_solve")
def test_euler_solve_uneven_grid():
    t = np.array([0.0, 0.1, 0.3, 0.7])
    # dy/dt = y: each step multiplies by (1 + h_n): 1.1, 1.1*1.2, 1.1*1.2*1.4
    ys = lesson01.euler_solve(lambda t, y: y, np.array([1.0]), t)
    np.testing.assert_allclose(ys[:, 0], [1.0, 1.1, 1.32, 1.848])
    # dy/dt = t: left Riemann sums 0, 0 + 0.1*0, + 0.2*0.1 = 0.02, + 0.4*0.3 = 0.14
    ys = lesson01.euler_solve(lambda t, y: np.full_like(y, t), np.array([0.0]), t)
    np.testing.assert_allclose(ys[:, 0], [0.0, 0.0, 0.02, 0.14], atol=1e-15)


@checks("lesson01.rk4_step")
def test_rk4_step():
    h = 0.3
    # dy/dt = y: the degree-4 Taylor polynomial of e^h
    assert lesson01.rk4_step(lambda t, y: y, 0.0, 1.0, h) == pytest.approx(_rk4_factor(h))
    # dy/dt = t^3: RK4 is Simpson's rule here, exact for cubics: ((t+h)^4 - t^4) / 4
    t0 = 0.5
    assert lesson01.rk4_step(lambda t, y: t**3, t0, 2.0, h) == pytest.approx(
        2.0 + ((t0 + h) ** 4 - t0**4) / 4, rel=1e-13)


@checks("lesson01.convergence_order")
def test_convergence_order():
    steps = np.array([0.1, 0.05, 0.025, 0.0125])
    assert lesson01.convergence_order(steps, 7.0 * steps**3) == pytest.approx(3.0)
    # Euler on dy/dt = y over [0, 1]: error e - (1 + h)^(1/h), first order
    errors = np.array([math.e - (1 + h) ** round(1 / h) for h in steps])
    assert lesson01.convergence_order(steps, errors) == pytest.approx(1.0, abs=0.05)


# -- lesson 02 ------------------------------------------------------------------------------


@checks("lesson02.residual_stack")
def test_residual_stack():
    # dh/dt = a h: n Euler steps of dt = T / n multiply by (1 + a dt)^n
    h = lesson02.residual_stack(lambda t, h: -0.5 * h, np.array([2.0]), 1.0, 10)
    np.testing.assert_allclose(h, 2.0 * (1 - 0.05) ** 10)
    # dh/dt = t: sum over n of (n dt) dt = dt^2 n(n-1)/2 = 0.01 * 10 * 9 / 2 = 0.45
    h = lesson02.residual_stack(lambda t, h: np.full_like(h, t), np.array([0.0]), 1.0, 10)
    np.testing.assert_allclose(h, [0.45])


@checks("lesson02.euler_growth")
def test_euler_growth():
    dt, d, w = 0.1, 0.3, 2.0
    # one Euler step of the linear system, by matrix: (I + dt M) [1, 0]
    step = (np.eye(2) + dt * np.array([[-d, -w], [w, -d]])) @ np.array([1.0, 0.0])
    assert lesson02.euler_growth(dt, d, w) == pytest.approx(np.linalg.norm(step))
    # by hand: |1 - 0.03 + 0.2 i| = sqrt(0.97^2 + 0.04)
    assert lesson02.euler_growth(dt, d, w) == pytest.approx(math.sqrt(0.97**2 + 0.04))


@checks("lesson02.reconstruction_error")
def test_reconstruction_error():
    y0 = np.array([3.0, -4.0])  # norm 5
    # Euler on dy/dt = -y, 4 steps of 0.25 forward then 4 back: (0.75 * 1.25)^4 = (1 - h^2)^4
    got = lesson02.reconstruction_error(lambda t, y: -y, y0, 1.0, "euler", 0.25)
    assert got == pytest.approx(5.0 * (1 - (1 - 0.25**2) ** 4))
    got = lesson02.reconstruction_error(lambda t, y: -y, y0, 1.0, "rk4", 0.25)
    assert got == pytest.approx(5.0 * abs(1 - (_rk4_factor(-0.25) * _rk4_factor(0.25)) ** 4))


# -- lesson 03 ------------------------------------------------------------------------------


@checks("lesson03.odefunc_forward")
def test_odefunc_forward():
    torch.manual_seed(0)
    linear1, linear2 = nn.Linear(3, 4).double(), nn.Linear(4, 2).double()
    h = torch.tensor([[0.2, -0.7], [1.0, 0.5]], dtype=torch.float64)
    w1, b1 = linear1.weight.detach().numpy(), linear1.bias.detach().numpy()
    w2, b2 = linear2.weight.detach().numpy(), linear2.bias.detach().numpy()
    for t in (0.0, torch.tensor(1.5, dtype=torch.float64)):
        # by hand in NumPy: W2 tanh(W1 [h, t] + b1) + b2, row by row
        rows = np.hstack([h.numpy(), np.full((2, 1), float(t))])
        want = np.tanh(rows @ w1.T + b1) @ w2.T + b2
        got = lesson03.odefunc_forward(t, h, linear1, linear2)
        np.testing.assert_allclose(got.detach().numpy(), want, rtol=1e-12)


@checks("lesson03.tableau_step")
def test_tableau_step():
    def grow(t, y):
        return y

    one = torch.tensor([1.0], dtype=torch.float64)
    assert float(lesson03.tableau_step(grow, 0.0, one, 0.2, EULER)) == pytest.approx(1.2)
    assert float(lesson03.tableau_step(grow, 0.0, one, 0.2, RK4)) == pytest.approx(
        _rk4_factor(0.2))
    # midpoint on dy/dt = t: y + dt (t + dt/2), the exact integral of t
    got = lesson03.tableau_step(lambda t, y: torch.full_like(y, t), 1.0, one, 0.5, MIDPOINT)
    assert float(got) == pytest.approx(1.0 + (1.5**2 - 1.0) / 2)


@checks("lesson03.neural_ode_forward")
def test_neural_ode_forward():
    h0 = torch.tensor([[2.0]], dtype=torch.float64)
    t = torch.tensor([0.0, 0.5, 1.5], dtype=torch.float64)
    ys = lesson03.neural_ode_forward(lambda t, h: -h, h0, t, 4)
    # n_sub RK4 steps of dt per interval: factor R(-dt)^4 with dt = 0.125, then 0.25
    want = [2.0, 2.0 * _rk4_factor(-0.125) ** 4,
            2.0 * _rk4_factor(-0.125) ** 4 * _rk4_factor(-0.25) ** 4]
    np.testing.assert_allclose(ys[:, 0, 0].numpy(), want, rtol=1e-13)
    np.testing.assert_allclose(ys[:, 0, 0].numpy(), 2.0 * np.exp(-t.numpy()), rtol=1e-4)


# -- lesson 04 ------------------------------------------------------------------------------


@checks("lesson04.growth_gradients")
def test_growth_gradients():
    theta, h0, T = 0.7, 1.5, 2.0

    def h_end(th):  # scipy solves dh/dt = th h: the value the formula must match
        sol = scipy.integrate.solve_ivp(lambda t, h: th * h, (0, T), [h0], rtol=1e-12,
                                        atol=1e-12)
        return sol.y[0, -1]

    growth, grad = lesson04.growth_gradients(theta, h0, T)
    assert growth == pytest.approx(h_end(theta) / h0, rel=1e-8)
    eps = 1e-5  # central finite difference of h(T) in theta
    assert grad == pytest.approx((h_end(theta + eps) - h_end(theta - eps)) / (2 * eps), rel=1e-6)


@checks("lesson04.augmented_dynamics")
def test_augmented_dynamics():
    torch.manual_seed(1)
    linear = nn.Linear(2, 2).double()
    unused = nn.Parameter(torch.ones(3, dtype=torch.float64))
    h = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
    a = torch.tensor([[2.0, 3.0]], dtype=torch.float64)
    with torch.no_grad():
        f, da, dg = lesson04.augmented_dynamics(lambda t, y: linear(y), 0.0, h, a,
                                                (linear.weight, linear.bias, unused))
    W, b = linear.weight.detach(), linear.bias.detach()
    # f = W h + b; da/dt = -a^T df/dh = -a W; dg/dt = -a^T df/dtheta: -(a outer h) and -a
    torch.testing.assert_close(f, h @ W.T + b)
    torch.testing.assert_close(da, -(a @ W))
    torch.testing.assert_close(dg[0], -(a.T @ h))
    torch.testing.assert_close(dg[1], -a[0])
    torch.testing.assert_close(dg[2], torch.zeros(3, dtype=torch.float64))


# -- lesson 05 ------------------------------------------------------------------------------


class _Growth(nn.Module):
    def __init__(self, theta):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(theta, dtype=torch.float64))

    def forward(self, t, y):
        return self.theta * y


@checks("lesson05.training_step")
def test_training_step():
    # dy/dt = theta y: prediction y0 e^{theta t}; loss mean((pred - true)^2); its derivative
    # mean(2 (pred - true) y0 t e^{theta t}); SGD moves theta by -lr * derivative each step
    func, lr = _Growth(0.5), 0.1
    optimizer = torch.optim.SGD(func.parameters(), lr=lr)
    y0 = torch.tensor([[1.0]], dtype=torch.float64)
    t = torch.tensor([0.0, 0.1, 0.2], dtype=torch.float64)
    y_true = torch.tensor([[[1.0]], [[1.2]], [[1.3]]], dtype=torch.float64)
    tn, yn = t.numpy(), y_true[:, 0, 0].numpy()
    theta = 0.5
    for _ in range(2):  # the second step must not reuse the first step's gradient
        pred = np.exp(theta * tn)
        loss = lesson05.training_step(func, optimizer, y0, t, y_true)
        assert loss == pytest.approx(np.mean((pred - yn) ** 2), rel=1e-6)
        theta -= lr * np.mean(2 * (pred - yn) * tn * pred)
        assert float(func.theta.detach()) == pytest.approx(theta, rel=1e-6)


@checks("lesson05.rollout_errors")
def test_rollout_errors():
    y_true = np.zeros((3, 2))
    y_pred = np.array([[3.0, 4.0], [0.0, 1.0], [1.0, 0.0]])
    # squares: 9 + 16 + 0 + 1 + 1 + 0 = 27 over 6 numbers; distances 5, 1, 1
    assert lesson05.rollout_errors(y_pred, y_true) == pytest.approx((4.5, 5.0, 1.0))
    assert lesson05.rollout_errors(y_true, y_true) == (0.0, 0.0, 0.0)


# -- lesson 06 ------------------------------------------------------------------------------


@checks("lesson06.lotka_volterra_log")
def test_lotka_volterra_log():
    rates = torch.log(torch.tensor([1.0, 2.0, 3.0, 4.0], dtype=torch.float64))
    # prey 2, predators 3: 1*2 - 2*2*3 = -10; 4*2*3 - 3*3 = 15
    got = lesson06.lotka_volterra_log(rates, torch.tensor([2.0, 3.0], dtype=torch.float64))
    torch.testing.assert_close(got, torch.tensor([-10.0, 15.0], dtype=torch.float64))
    # the equilibrium (gamma/delta, alpha/beta) = (0.75, 0.5) does not move, in a batch too
    state = torch.tensor([[0.75, 0.5], [0.0, 0.0]], dtype=torch.float64)
    torch.testing.assert_close(lesson06.lotka_volterra_log(rates, state),
                               torch.zeros(2, 2, dtype=torch.float64))


# -- lesson 07 ------------------------------------------------------------------------------


@checks("lesson07.ode_block_forward")
def test_ode_block_forward():
    calls = []

    def decay(t, h):
        calls.append(1)
        return -h

    x = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    h_end, nfe = lesson07.ode_block_forward(decay, x, 2.0)
    torch.testing.assert_close(h_end, x * math.exp(-2.0), rtol=1e-2, atol=1e-3)  # dopri5 at 1e-3
    assert nfe == len(calls)  # the count is the calls the test saw


@checks("lesson07.augment")
def test_augment():
    x = torch.tensor([[1.0, 2.0], [3.0, 4.0]], dtype=torch.float64)
    torch.testing.assert_close(lesson07.augment(x, 2), torch.tensor(
        [[1.0, 2.0, 0.0, 0.0], [3.0, 4.0, 0.0, 0.0]], dtype=torch.float64))
    assert lesson07.augment(x, 0).tolist() == x.tolist()


# -- lesson 08 ------------------------------------------------------------------------------

A = torch.tensor([[0.3, -1.0], [0.5, -0.2]], dtype=torch.float64)


@checks("lesson08.jacobian_trace")
def test_jacobian_trace():
    z = torch.tensor([[1.0, 2.0], [-0.5, 0.3]], dtype=torch.float64, requires_grad=True)
    # linear f = A z: the trace is tr(A) = 0.1 for every row
    torch.testing.assert_close(lesson08.jacobian_trace(z @ A.T, z),
                               torch.full((2,), 0.1, dtype=torch.float64))
    # f = z^2 componentwise: the Jacobian is diag(2 z), trace 2 (z1 + z2)
    torch.testing.assert_close(lesson08.jacobian_trace(z**2, z),
                               torch.tensor([6.0, -0.4], dtype=torch.float64))


@checks("lesson08.linear_flow_log_prob")
def test_linear_flow_log_prob():
    x = np.array([[0.5, -1.0], [2.0, 0.1]])
    for t_end in (0.7, 1.5):
        # scipy: z = expm(A T) x is standard normal; change of variables adds log|det expm(A T)|
        m = scipy.linalg.expm(A.numpy() * t_end)
        want = (scipy.stats.multivariate_normal(np.zeros(2), np.eye(2)).logpdf(x @ m.T)
                + np.linalg.slogdet(m)[1])
        got = lesson08.linear_flow_log_prob(A, torch.from_numpy(x), t_end)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-10)


@checks("lesson08.hutchinson_estimate")
def test_hutchinson_estimate():
    z = torch.tensor([[1.0, 2.0], [-0.5, 0.3]], dtype=torch.float64, requires_grad=True)
    noise = torch.tensor([[1.0, -1.0], [1.0, 1.0]], dtype=torch.float64)
    # eps^T A eps by hand: (1,-1): 0.3 + 1.0 - 0.5 - 0.2 = 0.6; (1,1): 0.3 - 1.0 + 0.5 - 0.2
    got = lesson08.hutchinson_estimate(z @ A.T, z, noise)
    torch.testing.assert_close(got, torch.tensor([0.6, -0.4], dtype=torch.float64))
    # averaged over the four Rademacher vectors it is exactly tr(A) = 0.1
    signs = torch.tensor([[1.0, 1.0], [1.0, -1.0], [-1.0, 1.0], [-1.0, -1.0]],
                         dtype=torch.float64)
    zz = z.detach()[:1].repeat(4, 1).requires_grad_(True)
    assert float(lesson08.hutchinson_estimate(zz @ A.T, zz, signs).mean()) == pytest.approx(0.1)


# -- lesson 09 ------------------------------------------------------------------------------


@checks("lesson09.encode_backwards")
def test_encode_backwards():
    torch.manual_seed(2)
    cell = nn.GRUCell(3, 4).double()
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    x = torch.tensor([[0.3, 0.7, -0.2], [1.0, 2.0, 3.0]], dtype=torch.float64)
    with torch.no_grad():
        # nothing observed: the state stays zero
        nothing = torch.zeros(2, 3, dtype=torch.bool)
        assert lesson09.encode_backwards(cell, x, nothing, t).abs().max() == 0
        # series 0 observed only at t = 0.5: one cell call on (x, gap to t_end = 0.5, t = 0.5);
        # series 1 only at t = 1.0: (3.0, gap 0, t = 1.0). Worked out with the cell directly.
        mask = torch.tensor([[False, True, False], [False, False, True]])
        h = lesson09.encode_backwards(cell, x, mask, t)
        zero = torch.zeros(1, 4, dtype=torch.float64)
        want0 = cell(torch.tensor([[0.7, 0.5, 0.5]], dtype=torch.float64), zero)
        want1 = cell(torch.tensor([[3.0, 0.0, 1.0]], dtype=torch.float64), zero)
        torch.testing.assert_close(h, torch.cat((want0, want1)))
        # two observations (t = 1.0 then t = 0.0, gap 1.0): two chained cell calls by hand
        mask = torch.tensor([[True, False, True], [True, True, True]])
        h = lesson09.encode_backwards(cell, x, mask, t)
        first = cell(torch.tensor([[-0.2, 0.0, 1.0]], dtype=torch.float64), zero)
        want = cell(torch.tensor([[0.3, 1.0, 0.0]], dtype=torch.float64), first)
        torch.testing.assert_close(h[:1], want)


@checks("lesson09.latent_readout")
def test_latent_readout():
    # dz/dt = -z, readout w . z (no bias): w . z0 e^{-t}, from t = 0 whether or not asked for
    func = lambda t, z: -z  # noqa: E731
    readout = nn.Linear(2, 1, bias=False).double()
    with torch.no_grad():
        readout.weight.copy_(torch.tensor([[1.0, 2.0]]))
    z0 = torch.tensor([[1.0, 1.0], [2.0, 0.0]], dtype=torch.float64)  # w . z0 = 3 and 2
    for t_query in ([0.0, 0.5, 1.0], [0.25, 1.0]):
        tq = torch.tensor(t_query, dtype=torch.float64)
        got = lesson09.latent_readout(func, readout, z0, tq, 0.05)
        want = torch.tensor([[3.0], [2.0]], dtype=torch.float64) * torch.exp(-tq)
        assert got.shape == (2, len(t_query))
        torch.testing.assert_close(got.detach(), want, rtol=1e-6, atol=1e-8)


# -- lesson 10 ------------------------------------------------------------------------------


@checks("lesson10.hamiltonian_field")
def test_hamiltonian_field():
    y = torch.tensor([[1.0, 2.0], [-0.5, 0.3]], dtype=torch.float64)
    # H = (q^2 + p^2) / 2: (dq/dt, dp/dt) = (p, -q)
    got = lesson10.hamiltonian_field(lambda y: 0.5 * (y**2).sum(-1), y)
    torch.testing.assert_close(got.detach(), torch.stack((y[:, 1], -y[:, 0]), dim=-1))
    # H = q^4 / 4 + p^2 / 2: (p, -q^3)
    got = lesson10.hamiltonian_field(lambda y: y[..., 0] ** 4 / 4 + y[..., 1] ** 2 / 2, y)
    torch.testing.assert_close(got.detach(), torch.stack((y[:, 1], -y[:, 0] ** 3), dim=-1))


@checks("lesson10.leapfrog_step")
def test_leapfrog_step():
    h = 0.1
    # harmonic oscillator from (1, 0): p_half = -h/2, q = 1 - h^2/2, p = -h + h^3/4
    q, p = lesson10.leapfrog_step(lambda q: q, lambda p: p, torch.tensor(1.0, dtype=torch.float64),
                                  torch.tensor(0.0, dtype=torch.float64), h)
    assert (float(q), float(p)) == pytest.approx((1 - h**2 / 2, -h + h**3 / 4))
    # no force: a free drift q + h p, p unchanged
    q, p = lesson10.leapfrog_step(lambda q: 0 * q, lambda p: p, torch.tensor(2.0),
                                  torch.tensor(3.0), 0.5)
    assert (float(q), float(p)) == (3.5, 3.0)


def test_every_reference_is_checked():
    references = {ex.reference_path for ex in registry().values()}
    assert len(references) >= 24
    assert references <= CHECKED, sorted(references - CHECKED)
