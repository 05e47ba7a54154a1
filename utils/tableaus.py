"""Runge–Kutta methods as data: one Butcher tableau per method.

An explicit s-stage Runge–Kutta method advances ``y' = f(t, y)`` by one step ``h``:

    k_i   = f(t + c_i h,  y + h * sum_j a_ij k_j)   for i = 1..s  (a strictly lower triangular)
    y_new = y + h * sum_i b_i k_i
    err   =     h * sum_i b_err_i k_i                (embedded error estimate, adaptive methods)

Everything that distinguishes Euler from Dormand–Prince is in the numbers ``c, a, b, b_err``;
:func:`utils.solvers.rk_step` is the one loop that uses them.

Reference: E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*,
2nd ed., Springer 1993, section II.1 (tableaus) and II.5 (Dormand–Prince);
J. R. Dormand, P. J. Prince, "A family of embedded Runge-Kutta formulae",
J. Comput. Appl. Math. 6 (1980) 19–26.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction as F

__all__ = ["ButcherTableau", "EULER", "MIDPOINT", "KUTTA3", "RK4", "DOPRI5", "TABLEAUS"]

_TOL = 1e-12


@dataclass(frozen=True)
class ButcherTableau:
    """The coefficients of an explicit Runge–Kutta method, checked on construction.

    Attributes:
        name: the method's name, as passed to ``odeint(method=...)``.
        order: the order of ``b`` (global error ~ h**order).
        c: nodes, length s (``c[0] == 0``).
        a: s rows; row i holds the i coefficients ``a[i][0..i-1]`` (strictly lower triangular).
        b: weights of the solution, length s.
        b_err: weights of the error estimate ``b - b_hat``, length s; ``None`` for fixed-step
            methods.
        error_order: order of the embedded solution ``b_hat`` (sets the step-size exponent).
        dense: for methods with dense output, an s x 4 matrix ``P``: between ``t`` and ``t + h``,
            ``y(t + theta h) = y + h * sum_i k_i * (P[i][0] theta + ... + P[i][3] theta**4)``.
    """

    name: str
    order: int
    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    b_err: tuple[float, ...] | None = None
    error_order: int | None = None
    dense: tuple[tuple[float, ...], ...] | None = None

    def __post_init__(self):
        s = len(self.c)
        if len(self.a) != s or len(self.b) != s:
            raise ValueError(f"{self.name}: c, a and b must all have {s} entries (one per stage)")
        for i, row in enumerate(self.a):
            if len(row) != i:
                raise ValueError(f"{self.name}: row {i} of a must have {i} entries, got {len(row)}")
            if abs(sum(row) - self.c[i]) > _TOL:
                raise ValueError(
                    f"{self.name}: row {i} of a sums to {sum(row)}, but c[{i}] = {self.c[i]}"
                )
        if abs(sum(self.b) - 1.0) > _TOL:
            raise ValueError(f"{self.name}: b sums to {sum(self.b)}, must sum to 1 (consistency)")
        if self.b_err is not None:
            if len(self.b_err) != s:
                raise ValueError(f"{self.name}: b_err must have {s} entries")
            if abs(sum(self.b_err)) > _TOL:
                raise ValueError(f"{self.name}: b_err sums to {sum(self.b_err)}, must sum to 0")
            if self.error_order is None:
                raise ValueError(f"{self.name}: an adaptive method needs error_order")
        if self.dense is not None and len(self.dense) != s:
            raise ValueError(f"{self.name}: dense must have one row per stage")

    @property
    def stages(self) -> int:
        return len(self.c)

    @property
    def adaptive(self) -> bool:
        return self.b_err is not None

    @property
    def fsal(self) -> bool:
        """First Same As Last: the last stage is f(t + h, y_new), so the next step reuses it."""
        return self.c[-1] == 1.0 and tuple(self.a[-1]) == tuple(self.b[:-1]) and self.b[-1] == 0.0


def _floats(*rows):
    return tuple(tuple(float(x) for x in row) for row in rows)


EULER = ButcherTableau(name="euler", order=1, c=(0.0,), a=((),), b=(1.0,))

MIDPOINT = ButcherTableau(
    name="midpoint", order=2, c=(0.0, 0.5), a=((), (0.5,)), b=(0.0, 1.0)
)

# Kutta's third-order method (Kutta 1901; Hairer, Nørsett & Wanner, section II.1): a stage that
# uses more than the previous slope (a_31 = -1). Not an ``odeint`` method; exercise 3.2 steps it.
KUTTA3 = ButcherTableau(
    name="kutta3", order=3, c=(0.0, 0.5, 1.0), a=((), (0.5,), (-1.0, 2.0)), b=(1 / 6, 2 / 3, 1 / 6)
)

RK4 = ButcherTableau(
    name="rk4",
    order=4,
    c=(0.0, 0.5, 0.5, 1.0),
    a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
)

# Dormand–Prince 5(4): fifth-order solution, fourth-order embedded estimate, FSAL.
_DP_B = (F(35, 384), F(0), F(500, 1113), F(125, 192), F(-2187, 6784), F(11, 84), F(0))
_DP_B_HAT = (
    F(5179, 57600), F(0), F(7571, 16695), F(393, 640), F(-92097, 339200), F(187, 2100), F(1, 40)
)
DOPRI5 = ButcherTableau(
    name="dopri5",
    order=5,
    c=tuple(float(x) for x in (0, F(1, 5), F(3, 10), F(4, 5), F(8, 9), 1, 1)),
    a=_floats(
        (),
        (F(1, 5),),
        (F(3, 40), F(9, 40)),
        (F(44, 45), F(-56, 15), F(32, 9)),
        (F(19372, 6561), F(-25360, 2187), F(64448, 6561), F(-212, 729)),
        (F(9017, 3168), F(-355, 33), F(46732, 5247), F(49, 176), F(-5103, 18656)),
        _DP_B[:6],
    ),
    b=tuple(float(x) for x in _DP_B),
    b_err=tuple(float(x - y) for x, y in zip(_DP_B, _DP_B_HAT, strict=True)),
    error_order=4,
    # Continuous extension of order 4 (Hairer, Nørsett & Wanner, II.6; the coefficients scipy's
    # RK45 uses): row i gives the theta, theta^2, theta^3, theta^4 coefficients of stage i.
    dense=_floats(
        (1, F(-8048581381, 2820520608), F(8663915743, 2820520608), F(-12715105075, 11282082432)),
        (0, 0, 0, 0),
        (0, F(131558114200, 32700410799), F(-68118460800, 10900136933),
         F(87487479700, 32700410799)),
        (0, F(-1754552775, 470086768), F(14199869525, 1410260304), F(-10690763975, 1880347072)),
        (0, F(127303824393, 49829197408), F(-318862633887, 49829197408),
         F(701980252875, 199316789632)),
        (0, F(-282668133, 205662961), F(2019193451, 616988883), F(-1453857185, 822651844)),
        (0, F(40617522, 29380423), F(-110615467, 29380423), F(69997945, 29380423)),
    ),
)

TABLEAUS: dict[str, ButcherTableau] = {tab.name: tab for tab in (EULER, MIDPOINT, RK4, DOPRI5)}
