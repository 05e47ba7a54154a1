"""The same calls through ``utils.odeint`` and ``torchdiffeq.odeint``: values, gradients, NFE.

The course promises that a lesson can switch between the two by changing one import. This file
is that promise, checked: for every method both libraries offer, the same torchdiffeq-style call
(``rtol``, ``atol``, ``method``, ``options``) runs through both, on the course's problems, and
the answers must agree:

* values: within what the two methods' own errors allow. Adaptive methods choose different steps
  (utils lands its last step on ``t[-1]``, torchdiffeq steps past it and interpolates; their
  step-size controllers differ in details), so they agree to a small multiple of the tolerance.
  Fixed-step methods take the same steps; they agree to round-off, except ``rk4``: torchdiffeq's
  ``rk4`` is Kutta's 3/8 rule, the course's the classical RK4 (the one lessons 01 and 03 teach),
  so they agree to RK4's own error.
* gradients with respect to ``y0``, the parameters and ``t``: as the values.
* NFE (function evaluations): within 35% for adaptive methods (different step sequences; measured
  within 16%), to one evaluation for fixed steps. Not for ``adaptive_heun`` and ``fehlberg2``:
  torchdiffeq reuses their last stage as the next step's first although it is not evaluated at
  the new state (it sits at the embedded solution), one evaluation fewer per step; utils
  evaluates f at the new state (measured: 1.5x and 2x torchdiffeq's NFE).

torchdiffeq 0.2.5 has no ``tsit5``; its tests are against exact solutions
(``tests/test_solvers.py``). Adams and implicit methods are out of scope in utils: an error.
"""

from __future__ import annotations

import pytest
import torch

from utils.models import ODEFunc
from utils.solvers import OutOfScopeError, odeint
from utils.systems import DampedOscillator, LotkaVolterra

torchdiffeq = pytest.importorskip("torchdiffeq")

FIXED = ["euler", "midpoint", "rk4", "heun2", "heun3"]
ADAPTIVE = ["dopri5", "bosh3", "fehlberg2", "adaptive_heun", "dopri8"]
#: Adaptive methods that torchdiffeq runs as First-Same-As-Last although they are not.
PSEUDO_FSAL = {"adaptive_heun", "fehlberg2"}


class Counting(torch.nn.Module):
    """Wraps dynamics and counts calls (NFE)."""

    def __init__(self, func):
        super().__init__()
        self.func, self.calls = func, 0

    def forward(self, t, y):
        self.calls += 1
        return self.func(t, y)


def _lotka_volterra(t, y):
    return torch.as_tensor(LotkaVolterra()(t, y))


def _damped(t, y):
    return DampedOscillator()(t, y)


def _problems():
    """(name, func, y0, t): the course's problems, in float64."""
    torch.manual_seed(0)
    neural = ODEFunc(2, hidden=16, time_input=True).double()
    return [
        ("lotka-volterra", _lotka_volterra, torch.tensor([10.0, 5.0], dtype=torch.float64),
         torch.linspace(0.0, 5.0, 11, dtype=torch.float64)),
        ("damped oscillator", _damped, torch.tensor([[1.0, 0.0], [0.5, -1.0]],
                                                    dtype=torch.float64),
         torch.linspace(0.0, 6.0, 7, dtype=torch.float64)),
        ("neural ode, backwards", neural, torch.tensor([[0.3, -0.7]], dtype=torch.float64),
         torch.linspace(1.0, -1.0, 5, dtype=torch.float64)),
    ]


PROBLEMS = _problems()
PROBLEM_IDS = [p[0] for p in PROBLEMS]


def _both(func, y0, t, **kwargs):
    """Run the call through both libraries: ``[(ys, nfe) of utils, (ys, nfe) of torchdiffeq]``."""
    results = []
    for solve in (odeint, torchdiffeq.odeint):
        counting = Counting(func)
        ys = solve(counting, y0, t, **kwargs)
        results.append((ys, counting.calls))
    return results


def _relative(a, b) -> float:
    return float((a - b).abs().max() / b.abs().max())


@pytest.mark.parametrize("problem", PROBLEMS, ids=PROBLEM_IDS)
@pytest.mark.parametrize("method", ADAPTIVE)
@pytest.mark.parametrize("tolerance", [(1e-7, 1e-9), (1e-5, 1e-7)], ids=["1e-7", "1e-5"])
def test_adaptive_methods_agree(problem, method, tolerance):
    _, func, y0, t = problem
    rtol, atol = tolerance
    (ours, our_nfe), (theirs, their_nfe) = _both(func, y0, t, rtol=rtol, atol=atol,
                                                 method=method)
    assert ours.shape == theirs.shape and ours.dtype == theirs.dtype
    # Both are within a few tolerances of the truth (more for the low-order pairs, whose error
    # estimates are rough, and for torchdiffeq's first-order interpolants between steps).
    # Measured worst gaps, in units of rtol: dopri5 2.6, dopri8 79 (torchdiffeq's quartic between
    # its long steps), bosh3 230 (torchdiffeq's first-order interpolant), fehlberg2 63,
    # adaptive_heun 1.6.
    limit = {"dopri5": 50, "dopri8": 200, "bosh3": 500}.get(method, 2000) * rtol
    assert _relative(ours, theirs) < limit
    if method not in PSEUDO_FSAL:
        assert abs(our_nfe - their_nfe) <= 0.35 * their_nfe + 14


@pytest.mark.parametrize("problem", PROBLEMS, ids=PROBLEM_IDS)
@pytest.mark.parametrize("method", FIXED)
@pytest.mark.parametrize("options", [None, {"step_size": 0.05}, {"step_size": 0.05,
                                                                  "interp": "cubic"}],
                         ids=["per interval", "step 0.05 linear", "step 0.05 cubic"])
def test_fixed_step_methods_agree(problem, method, options):
    _, func, y0, t = problem
    (ours, our_nfe), (theirs, their_nfe) = _both(func, y0, t, method=method, options=options)
    # Same steps and same formulas: round-off; rk4 is another 4th-order formula (3/8 rule).
    limit = 1e-2 if method == "rk4" and options is None else (2e-6 if method == "rk4" else 1e-12)
    assert _relative(ours, theirs) < limit
    if options is None or "interp" not in options:
        # Both evaluate s stages per step (torchdiffeq's cubic interp costs an extra f per output).
        assert our_nfe <= their_nfe + 1 and our_nfe >= their_nfe - 1


def _gradients(solve, func, y0, t, **kwargs):
    y0 = y0.detach().clone().requires_grad_(True)
    t = t.detach().clone().requires_grad_(True)
    params = [p for p in func.parameters()] if isinstance(func, torch.nn.Module) else []
    for p in params:
        p.grad = None
    ys = solve(func, y0, t, **kwargs)
    weights = torch.linspace(-1.0, 1.0, ys.numel(), dtype=ys.dtype).reshape(ys.shape)
    (weights * ys).sum().backward()
    return [y0.grad, t.grad, *[p.grad for p in params]]


@pytest.mark.parametrize("method", ["dopri5", "bosh3", "dopri8", "rk4", "euler", "heun3"])
@pytest.mark.parametrize("adjoint", [False, True], ids=["backprop", "adjoint"])
def test_gradients_agree(method, adjoint):
    """dL/dy0, dL/dt and dL/dtheta through both libraries (direct backprop, then the adjoint)."""
    _, func, y0, t = PROBLEMS[2]  # the Neural ODE, solved backwards in time
    kwargs = dict(method=method)
    kwargs.update(dict(rtol=1e-9, atol=1e-11) if method in ADAPTIVE else
                  dict(options={"step_size": 0.05}))
    if adjoint:
        from utils.adjoint import odeint_adjoint

        solves = (odeint_adjoint, torchdiffeq.odeint_adjoint)
    else:
        solves = (odeint, torchdiffeq.odeint)
    ours, theirs = (_gradients(solve, func, y0, t, **kwargs) for solve in solves)
    limit = 1e-5 if method in ADAPTIVE else (2e-5 if method == "rk4" else 1e-9)
    if adjoint and method not in ADAPTIVE:
        limit = 1e-2  # the continuous adjoint of a fixed-step solve: the method's accuracy
    for name, a, b in zip(["y0", "t", *[f"param {i}" for i in range(10)]], ours, theirs,
                          strict=False):
        assert a is not None and b is not None, name
        if name == "t" and method not in ADAPTIVE and not adjoint:
            # torchdiffeq's fixed-grid solvers return 0 for every interior output time and
            # another value for t[0] (its grid does not follow t[1:-1]); utils' time gradients
            # match finite differences (tests/test_solvers.py), so they are not compared here.
            continue
        if name == "t" and method in ("bosh3", "dopri8"):
            # d y(t_i)/d t_i is the interpolant's slope: torchdiffeq's bosh3 interpolant is first
            # order, its dopri8 quartic coarse (measured gaps 4.3e-4 and 3.1e-5).
            assert _relative(a, b) < 1e-3, name
            continue
        assert _relative(a, b) < limit, name


def test_tuple_state_agrees():
    def func(t, state):
        x, v = state
        return v, -x - 0.2 * v

    state = (torch.tensor([1.0, 0.0], dtype=torch.float64),
             torch.tensor([0.0, 0.5], dtype=torch.float64))
    t = torch.linspace(0.0, 3.0, 4, dtype=torch.float64)
    ours = odeint(func, state, t)
    theirs = torchdiffeq.odeint(func, state, t)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape
        assert _relative(a, b) < 1e-5


def test_default_method_and_options_none_agree():
    _, func, y0, t = PROBLEMS[0]
    ours = odeint(func, y0, t, method=None, options=None)
    theirs = torchdiffeq.odeint(func, y0, t, method=None, options=None)
    assert _relative(ours, theirs) < 1e-4


@pytest.mark.parametrize("method", ["explicit_adams", "implicit_adams", "fixed_adams"])
def test_methods_torchdiffeq_has_and_utils_leaves_out_are_named(method):
    _, func, y0, t = PROBLEMS[0]
    torchdiffeq.odeint(func, y0, t, method=method, options={"step_size": 0.1})  # theirs runs
    with pytest.raises(OutOfScopeError, match=f"method='{method}' is outside the course's scope"):
        odeint(func, y0, t, method=method, options={"step_size": 0.1})
