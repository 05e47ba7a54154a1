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

from utils.tableaus import DOPRI5, EULER, KUTTA3, MIDPOINT, RK4, TABLEAUS, ButcherTableau

ALL = [EULER, MIDPOINT, RK4, DOPRI5]
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


def test_registry_holds_the_four_methods():
    assert list(TABLEAUS) == ["euler", "midpoint", "rk4", "dopri5"]
    assert [tab.order for tab in ALL] == [1, 2, 4, 5]


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


def test_only_dopri5_is_adaptive_and_first_same_as_last():
    assert [tab.adaptive for tab in ALL] == [False, False, False, True]
    # FSAL: DOPRI5's last stage is f(t + h, y_new), the next step's first stage.
    assert [tab.fsal for tab in ALL] == [False, False, False, True]


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
    residuals = order_condition_residuals(tab.b, tab, tab.order + 1)
    assert np.max(np.abs(residuals)) > 1e-4


@pytest.mark.parametrize("tab", EVERY, ids=EVERY_IDS)
def test_quadrature_conditions(tab):
    """The bushy trees alone: integrating dy/dt = t**k exactly needs sum_i b_i c_i**k = 1/(k+1)."""
    b, c = np.array(tab.b), np.array(tab.c)
    for k in range(tab.order):
        assert np.dot(b, c**k) == pytest.approx(1.0 / (k + 1), abs=1e-14)


def test_dopri5_embedded_solution_has_order_4():
    b_hat = np.array(DOPRI5.b) - np.array(DOPRI5.b_err)
    for order in range(1, DOPRI5.error_order + 1):
        assert np.max(np.abs(order_condition_residuals(b_hat, DOPRI5, order))) < 1e-13
    assert np.max(np.abs(order_condition_residuals(b_hat, DOPRI5, 5))) > 1e-5


# --- dense output --------------------------------------------------------------------------------


def dense_weights(tab: ButcherTableau, theta: float) -> np.ndarray:
    """b_i(theta) = P[i][0] theta + P[i][1] theta**2 + ...: the weights at t + theta h."""
    return np.array([sum(p * theta ** (j + 1) for j, p in enumerate(row)) for row in tab.dense])


def test_dense_output_ends_on_the_step_solution():
    np.testing.assert_allclose(dense_weights(DOPRI5, 1.0), DOPRI5.b, atol=1e-14)
    np.testing.assert_allclose(dense_weights(DOPRI5, 0.0), 0.0)


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
