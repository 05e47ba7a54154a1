"""The Butcher tableaus: consistency, order conditions, dense output, and malformed input.

A Runge–Kutta method has order p when its Taylor expansion matches the exact solution's up to
h**p. Butcher's theory turns that into one equation per *rooted tree* with at most p nodes:

    sum_i b_i Phi_i(tree) = 1 / gamma(tree)

where Phi is the tree's elementary weight (built from ``a`` and ``c``) and gamma its density.
There are 1, 1, 2, 4, 9, 20 trees with 1..6 nodes, so order 4 needs 8 conditions and order 5
needs 17. Checking them all is the strongest test that the coefficients were typed in right:
one wrong digit breaks some condition.

Reference: E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*,
2nd ed., Springer 1993, section II.2 (order conditions, Table 2.2) and II.6 (dense output).
"""

from __future__ import annotations

import dataclasses
import functools
import math

import numpy as np
import pytest

from utils.tableaus import (
    ADAPTIVE_HEUN,
    BOSH3,
    DOPRI5,
    DOPRI8,
    EULER,
    FEHLBERG2,
    HEUN2,
    HEUN3,
    KUTTA3,
    MIDPOINT,
    RK4,
    TABLEAUS,
    TSIT5,
    ButcherTableau,
    hermite_dense,
)

ALL = [EULER, MIDPOINT, RK4, DOPRI5, HEUN2, HEUN3, ADAPTIVE_HEUN, FEHLBERG2, BOSH3, TSIT5, DOPRI8]
IDS = [tab.name for tab in ALL]
#: Every tableau the course defines, the registry's and exercise 3.2's Kutta method.
EVERY = [*ALL, KUTTA3]
EVERY_IDS = [tab.name for tab in EVERY]


# --- rooted trees: a tree is the sorted tuple of the subtrees hanging from its root -------------


@functools.cache
def forests(n_nodes: int) -> frozenset:
    """Every multiset of rooted trees with ``n_nodes`` nodes in total, as sorted tuples."""
    if n_nodes == 0:
        return frozenset({()})
    found = set()
    for k in range(1, n_nodes + 1):
        for first in trees(k):
            for rest in forests(n_nodes - k):
                found.add(tuple(sorted((first, *rest))))
    return frozenset(found)


@functools.cache
def trees(order: int) -> frozenset:
    """Every rooted tree with ``order`` nodes: a root plus a forest of ``order - 1`` nodes."""
    return forests(order - 1)


def tree_order(tree) -> int:
    return 1 + sum(tree_order(child) for child in tree)


def density(tree) -> int:
    """gamma(tree) = order(tree) * product of the children's densities."""
    return tree_order(tree) * math.prod(density(child) for child in tree)


def elementary_weight(tree, a: np.ndarray) -> np.ndarray:
    """Phi_i(tree) for every stage i: the product over the root's children of (a @ Phi(child))."""
    phi = np.ones(a.shape[0])
    for child in tree:
        phi = phi * (a @ elementary_weight(child, a))
    return phi


def a_matrix(tab: ButcherTableau) -> np.ndarray:
    """The tableau's strictly lower triangular ``a`` as a square matrix."""
    a = np.zeros((tab.stages, tab.stages))
    for i, row in enumerate(tab.a):
        a[i, : len(row)] = row
    return a


def order_condition_residuals(b, tab: ButcherTableau, order: int) -> list[float]:
    """``sum_i b_i Phi_i(tree) - 1/gamma(tree)`` for every tree with exactly ``order`` nodes."""
    a = a_matrix(tab)
    return [
        float(np.dot(b, elementary_weight(tree, a)) - 1.0 / density(tree))
        for tree in trees(order)
    ]


def test_number_of_rooted_trees():
    # The order conditions per order (Hairer, Nørsett & Wanner, Table II.2.1).
    assert [len(trees(n)) for n in range(1, 7)] == [1, 1, 2, 4, 9, 20]


def test_registry_holds_torchdiffeqs_explicit_methods_and_tsit5():
    assert list(TABLEAUS) == ["euler", "midpoint", "rk4", "dopri5", "heun2", "heun3",
                              "adaptive_heun", "fehlberg2", "bosh3", "tsit5", "dopri8"]
    assert [tab.order for tab in ALL] == [1, 2, 4, 5, 2, 3, 2, 2, 3, 5, 8]
    assert list(TABLEAUS.values()) == ALL


# --- consistency -------------------------------------------------------------------------------


@pytest.mark.parametrize("tab", EVERY, ids=EVERY_IDS)
def test_tableau_is_consistent(tab):
    """Rows of a sum to c (each stage is evaluated at the time it claims), b sums to 1."""
    assert tab.c[0] == 0.0
    for i, row in enumerate(tab.a):
        assert len(row) == i  # explicit: stage i uses only the stages before it
        assert sum(row) == pytest.approx(tab.c[i], abs=1e-14)
    assert sum(tab.b) == pytest.approx(1.0, abs=1e-14)
    if tab.adaptive:
        # The error estimate is the difference of two solutions that both sum to 1.
        assert sum(tab.b_err) == pytest.approx(0.0, abs=1e-14)
        assert tab.error_order == tab.order - 1
    else:
        assert tab.b_err is None


def test_which_methods_are_adaptive_and_first_same_as_last():
    adaptive = [tab.name for tab in ALL if tab.adaptive]
    assert adaptive == ["dopri5", "adaptive_heun", "fehlberg2", "bosh3", "tsit5", "dopri8"]
    # FSAL: the last stage is f(t + h, y_new), the next step's first stage (one evaluation saved
    # per step). adaptive_heun's and fehlberg2's last stages sit at the embedded solution instead.
    assert [tab.name for tab in ALL if tab.fsal] == ["dopri5", "bosh3", "tsit5", "dopri8"]


# --- order conditions ----------------------------------------------------------------------------


@pytest.mark.parametrize("tab", EVERY, ids=EVERY_IDS)
def test_order_conditions_hold_up_to_the_order(tab):
    for order in range(1, tab.order + 1):
        residuals = order_condition_residuals(tab.b, tab, order)
        assert np.max(np.abs(residuals)) < 1e-13, f"order-{order} conditions fail: {residuals}"


@pytest.mark.parametrize("tab", EVERY, ids=EVERY_IDS)
def test_order_is_not_higher_than_claimed(tab):
    # At least one condition of the next order fails, so ``order`` is the method's true order
    # (and this check can fail: it is not satisfied by any set of numbers).
    # (Residuals shrink with the order, like 1/gamma: dopri8's largest at order 9 is 8e-6, still
    # ten million times round-off.)
    residuals = order_condition_residuals(tab.b, tab, tab.order + 1)
    assert np.max(np.abs(residuals)) > 1e-6


@pytest.mark.parametrize("tab", EVERY, ids=EVERY_IDS)
def test_quadrature_conditions(tab):
    """The bushy trees alone: integrating dy/dt = t**k exactly needs sum_i b_i c_i**k = 1/(k+1)."""
    b, c = np.array(tab.b), np.array(tab.c)
    for k in range(tab.order):
        assert np.dot(b, c**k) == pytest.approx(1.0 / (k + 1), abs=1e-14)


ADAPTIVE = [tab for tab in ALL if tab.adaptive]
ADAPTIVE_IDS = [tab.name for tab in ADAPTIVE]


@pytest.mark.parametrize("tab", ADAPTIVE, ids=ADAPTIVE_IDS)
def test_embedded_solution_has_the_error_order(tab):
    """The embedded solution b_hat = b - b_err has order error_order exactly, so the error
    estimate h * sum_i b_err_i k_i is the local error of b_hat, ~ h**(error_order + 1)."""
    b_hat = np.array(tab.b) - np.array(tab.b_err)
    for order in range(1, tab.error_order + 1):
        assert np.max(np.abs(order_condition_residuals(b_hat, tab, order))) < 1e-13
    assert np.max(np.abs(order_condition_residuals(b_hat, tab, tab.error_order + 1))) > 1e-5


# --- measured order: the slope of log(error) against log(h), one step and many ---------------


def _spiral(t, y):
    """dy/dt = A y with A = [[-0.1, -1], [1, -0.1]]: y(t) = e^(-0.1 t) R(t) y0."""
    return np.stack([-0.1 * y[0] - y[1], y[0] - 0.1 * y[1]])


def _spiral_exact(t, y0):
    c, s = np.cos(t), np.sin(t)
    return np.exp(-0.1 * t) * np.array([c * y0[0] - s * y0[1], s * y0[0] + c * y0[1]])


def _stage_step(tab, y, h, weights):
    """One step of ``tab`` from t = 0 with the given output weights (b, b_hat, or b(theta))."""
    ks = []
    for i in range(tab.stages):
        y_i = y + h * sum(tab.a[i][j] * ks[j] for j in range(i))
        ks.append(_spiral(tab.c[i] * h, y_i))
    return y + h * sum(w * k for w, k in zip(weights, ks, strict=True)), ks


def _slope(hs, errors):
    return float(np.polyfit(np.log(hs), np.log(errors), 1)[0])


def _pendulum(t, y):
    """A nonlinear problem (every elementary differential is non-zero): theta'' = -sin theta."""
    return np.stack([y[1], -np.sin(y[0])])


def _fixed_step_solve(tab, y0, t_end, n_steps):
    y, h = y0, t_end / n_steps
    for i in range(n_steps):
        ks = []
        for c_i, a_row in zip(tab.c, tab.a, strict=True):
            y_i = y + h * sum(a * k for a, k in zip(a_row, ks, strict=True))
            ks.append(_pendulum(i * h + c_i * h, y_i))
        y = y + h * sum(b * k for b, k in zip(tab.b, ks, strict=True))
    return y


@functools.cache
def _pendulum_reference() -> tuple:
    return tuple(_fixed_step_solve(DOPRI8, np.array([1.5, 0.0]), 6.0, 2000))


# Numbers of steps over [0, 6] per order: enough to be in the asymptotic regime, few enough that
# round-off stays far below the error (dopri8 reaches 5e-12 with 32 steps).
_N_STEPS = {1: 256, 2: 32, 3: 32, 4: 16, 5: 32, 8: 4}


@pytest.mark.parametrize("tab", ALL, ids=IDS)
def test_measured_order_of_convergence(tab):
    """The global error at t = 6 falls like h**order: the log-log slope is the order.

    Measured on the pendulum: 1.01, 1.98 (midpoint), 1.97 (heun2), 3.01, 3.98, 5.18 (dopri5),
    8.25 (dopri8) and 5.57 (tsit5, whose leading error terms Tsitouras made small on purpose, so
    the next order still shows at these steps).
    """
    n_steps = _N_STEPS[tab.order] * 2 ** np.arange(4)
    errors = [np.abs(_fixed_step_solve(tab, np.array([1.5, 0.0]), 6.0, n)
                     - _pendulum_reference()).max() for n in n_steps]
    assert _slope(6.0 / n_steps, errors) == pytest.approx(tab.order, abs=0.6)


@pytest.mark.parametrize("tab", ADAPTIVE, ids=ADAPTIVE_IDS)
def test_embedded_error_estimate_is_the_error_of_b_hat(tab):
    """The estimate h * sum b_err_i k_i is y(b) - y(b_hat): it shrinks like h**(error_order + 1)
    and, because b is more accurate, it is close to b_hat's true local error."""
    y0 = np.array([1.0, 0.5])
    b_hat = np.array(tab.b) - np.array(tab.b_err)
    hs = 0.4 / 2.0 ** np.arange(4)
    estimates, errors = [], []
    for h in hs:
        y_new, ks = _stage_step(tab, y0, h, tab.b)
        estimate = h * sum(w * k for w, k in zip(tab.b_err, ks, strict=True))
        y_hat = y0 + h * sum(w * k for w, k in zip(b_hat, ks, strict=True))
        np.testing.assert_allclose(estimate, y_new - y_hat, atol=1e-15)
        estimates.append(np.abs(estimate).max())
        errors.append(np.abs(y_hat - _spiral_exact(h, y0)).max())
    assert _slope(hs, estimates) == pytest.approx(tab.error_order + 1, abs=0.3)
    if tab is not FEHLBERG2:
        # The estimate is b_hat's local error up to b's own, smaller one (measured at h = 0.2:
        # ratios 0.93-1.07). Not so for fehlberg2: Fehlberg chose its first-order weights so that
        # their h**2 error term nearly vanishes, so at practical steps b_hat's error is its h**3
        # term, which the estimate (h**2) does not see: a ratio of 0.03 here.
        np.testing.assert_allclose(estimates[1], errors[1], rtol=0.2)


# --- dense output --------------------------------------------------------------------------------


def dense_weights(tab: ButcherTableau, theta: float) -> np.ndarray:
    """b_i(theta) = P[i][0] theta + P[i][1] theta**2 + ...: the weights at t + theta h."""
    return np.array([sum(p * theta ** (j + 1) for j, p in enumerate(row)) for row in tab.dense])


@pytest.mark.parametrize("tab", ADAPTIVE, ids=ADAPTIVE_IDS)
def test_dense_output_ends_on_the_step_solution(tab):
    np.testing.assert_allclose(dense_weights(tab, 1.0), tab.b, atol=1e-14)
    np.testing.assert_allclose(dense_weights(tab, 0.0), 0.0)


def dense_order(tab: ButcherTableau) -> int:
    """The highest p such that the continuous order conditions hold up to p at several theta."""
    a = a_matrix(tab)
    order = 0
    for p in range(1, 7):
        for theta in (0.1, 0.37, 0.5, 0.9):
            weights = dense_weights(tab, theta)
            if any(abs(np.dot(weights, elementary_weight(tree, a)) - theta**p / density(tree))
                   > 1e-12 for tree in trees(p)):
                return order
        order = p
    return order


def test_order_of_each_dense_output():
    """Between the steps: dopri5's continuous extension and dopri8's quartic are 4th order; the
    cubic Hermite (bosh3, tsit5) 3rd; torchdiffeq's quartic for adaptive_heun and fehlberg2 is
    1st order (its mid-point and end slope are themselves low order): an error O(h**2), like
    these second-order methods' own global error."""
    assert {tab.name: dense_order(tab) for tab in ADAPTIVE} == {
        "dopri5": 4, "adaptive_heun": 1, "fehlberg2": 1, "bosh3": 3, "tsit5": 3, "dopri8": 4}


def test_hermite_dense_is_the_cubic_hermite():
    """p(0) = y0, p(1) = y1, p'(0) = h f0, p'(1) = h f1, with f1 the FSAL stage."""
    weights = np.array(hermite_dense(BOSH3.b))  # (stages, 3): theta, theta^2, theta^3
    derivative_at_1 = weights @ np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(weights.sum(axis=1), BOSH3.b, atol=1e-15)
    np.testing.assert_allclose(weights[:, 0], [1, 0, 0, 0])
    np.testing.assert_allclose(derivative_at_1, [0, 0, 0, 1], atol=1e-15)


@pytest.mark.parametrize("theta", [0.1, 0.37, 0.5, 0.9])
def test_dense_output_is_fourth_order_inside_the_step(theta):
    """Continuous order conditions: sum_i b_i(theta) Phi_i(tree) = theta**order / gamma(tree)."""
    a, weights = a_matrix(DOPRI5), dense_weights(DOPRI5, theta)
    for order in range(1, 5):
        for tree in trees(order):
            got = np.dot(weights, elementary_weight(tree, a))
            assert got == pytest.approx(theta**order / density(tree), abs=1e-13)


# --- a malformed tableau is refused with a message that names the problem ------------------------

_GOOD = dict(name="test", order=2, c=(0.0, 0.5), a=((), (0.5,)), b=(0.0, 1.0))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(a=((), (0.4,))), r"row 1 of a sums to 0.4, but c\[1\] = 0.5"),
        (dict(a=((), (0.25, 0.25))), "row 1 of a must have 1 entries, got 2"),
        (dict(b=(0.5, 0.6)), "b sums to 1.1"),
        (dict(c=(0.0, 0.5, 1.0)), "must all have 3 entries"),
        (dict(b_err=(0.5, 0.5), error_order=1), "b_err sums to 1.0, must sum to 0"),
        (dict(b_err=(0.5,), error_order=1), "b_err must have 2 entries"),
        (dict(b_err=(0.5, -0.5)), "needs error_order"),
        (dict(dense=((1.0,),)), "dense must have one row per stage"),
    ],
)
def test_malformed_tableau_raises_value_error(change, message):
    ButcherTableau(**_GOOD)  # the unchanged tableau is fine
    with pytest.raises(ValueError, match=message):
        ButcherTableau(**{**_GOOD, **change})


def test_tableau_is_immutable():
    with pytest.raises(dataclasses.FrozenInstanceError):
        RK4.b = (1.0, 0.0, 0.0, 0.0)
