"""Tests of ``utils.solvers.odeint``: accuracy, convergence order, tolerances, torch, errors.

Read as a tour of what a solver promises and how to check each promise:
1. problems with exact solutions, solved by every method;
2. the empirical order of convergence: the slope of log(error) against log(step size);
3. the adaptive method meets its tolerance, also between its steps (dense output);
4. NumPy and torch, float32 and float64, batches and autograd;
5. backwards in time; 6. the solve statistics; 7. a clear error for each bad input.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

import numpy as np
import pytest
import torch

from utils.solvers import (
    MAX_FACTOR,
    MIN_FACTOR,
    SAFETY,
    MaxStepsExceededError,
    NonFiniteStateError,
    OutOfScopeError,
    SolverError,
    StepSizeUnderflowError,
    check_solver_options,
    next_step_factor,
    odeint,
    rk_step,
)
from utils.systems import DampedOscillator, LinearSpiral, LotkaVolterra
from utils.tableaus import DOPRI5, TABLEAUS, ButcherTableau

# The tests of sections 1-7 run on the four methods the lessons use; the other methods have their
# own tests (section 8, tests/test_tableaus.py, tests/test_torchdiffeq_compat.py).
CLASSIC = ["euler", "midpoint", "rk4", "dopri5"]
FIXED = ["euler", "midpoint", "rk4"]
ADAPTIVE = ["dopri5", "adaptive_heun", "fehlberg2", "bosh3", "tsit5", "dopri8"]
# Options for tests where accuracy is not the point (kinds, dtypes, batches): cheap solves.
QUICK = {**{m: dict(step_size=0.05) for m in FIXED},
         **{m: dict(rtol=1e-8, atol=1e-10) for m in ADAPTIVE}}

# One setting per method that makes its error small on the problems below, and the error it must
# then reach on [0, 3] (measured errors are 2-40x smaller, depending on the problem).
SETTINGS = {
    "euler": (dict(step_size=1e-3), 1e-2),
    "midpoint": (dict(step_size=1e-2), 1e-3),
    "rk4": (dict(step_size=5e-2), 2e-5),
    "dopri5": (dict(rtol=1e-8, atol=1e-10), 1e-7),
    "heun2": (dict(step_size=1e-2), 1e-3),
    "heun3": (dict(step_size=1e-2), 1e-5),
    "adaptive_heun": (dict(rtol=1e-8, atol=1e-10), 1e-6),
    "fehlberg2": (dict(rtol=1e-8, atol=1e-10), 1e-6),
    "bosh3": (dict(rtol=1e-8, atol=1e-10), 1e-7),
    "tsit5": (dict(rtol=1e-8, atol=1e-10), 1e-7),
    "dopri8": (dict(rtol=1e-8, atol=1e-10), 1e-7),
}


def _cos(t):
    return torch.cos(t) if isinstance(t, torch.Tensor) else np.cos(t)


@dataclass(frozen=True)
class Problem:
    """An initial value problem with its exact solution ``exact(t, y0)``, shape (len(t), ...)."""

    name: str
    func: object
    y0: np.ndarray
    exact: object


SPIRAL = LinearSpiral()
OSCILLATOR = DampedOscillator()
PROBLEMS = [
    Problem(
        "decay: dy/dt = -0.7 y",
        lambda t, y: -0.7 * y,
        np.array([1.0, -2.0]),
        lambda t, y0: np.exp(-0.7 * np.asarray(t))[:, None] * y0,
    ),
    Problem("linear spiral", SPIRAL, np.array([2.0, 0.0]), SPIRAL.exact),
    Problem("damped oscillator", OSCILLATOR, np.array([1.0, 0.0]), OSCILLATOR.exact),
    # Time-dependent and scalar (y0 has shape ()): dy/dt = cos t, y(0) = 0, so y = sin t.
    Problem("dy/dt = cos t", lambda t, y: _cos(t), np.array(0.0), lambda t, y0: np.sin(t)),
]
PROBLEM_IDS = [p.name for p in PROBLEMS]


# --- 1. exact solutions --------------------------------------------------------------------------


@pytest.mark.parametrize("problem", PROBLEMS, ids=PROBLEM_IDS)
@pytest.mark.parametrize("method", CLASSIC)
def test_matches_exact_solution(problem, method):
    options, tolerance = SETTINGS[method]
    t = np.linspace(0.0, 3.0, 7)
    ys = odeint(problem.func, problem.y0, t, method=method, **options)
    assert ys.shape == (len(t), *problem.y0.shape)
    assert np.array_equal(ys[0], problem.y0)
    assert np.max(np.abs(ys - problem.exact(t, problem.y0))) < tolerance


# --- 2. empirical order of convergence -----------------------------------------------------------


def measured_order(step_sizes, errors) -> float:
    """The slope of log(error) against log(h): error ~ C h**p gives slope p."""
    return float(np.polyfit(np.log(step_sizes), np.log(errors), 1)[0])


@pytest.mark.parametrize("problem", [PROBLEMS[1], PROBLEMS[3]], ids=["spiral", "cos"])
@pytest.mark.parametrize("method", [*FIXED, "heun2", "heun3"])
def test_convergence_order_of_fixed_step_methods(problem, method):
    t_end = 2.0
    step_sizes = t_end / 2.0 ** np.arange(3, 8)  # 0.25 ... 0.016
    exact_end = problem.exact([t_end], problem.y0)[-1]
    errors = [
        np.max(np.abs(odeint(problem.func, problem.y0, [0.0, t_end], method=method, step_size=h)[-1]
                      - exact_end))
        for h in step_sizes
    ]
    assert measured_order(step_sizes, errors) == pytest.approx(TABLEAUS[method].order, abs=0.15)


def fixed_step_solve(func, y0, t_end, h, tableau):
    """Plain loop of ``rk_step``: the way to run an adaptive tableau with a fixed step."""
    y = y0
    for i in range(round(t_end / h)):
        y, _, _ = rk_step(func, i * h, y, h, tableau)
    return y


def test_dopri5_is_fifth_order_and_its_embedded_solution_fourth():
    b_hat = tuple(b - e for b, e in zip(DOPRI5.b, DOPRI5.b_err, strict=True))
    embedded = ButcherTableau(name="dopri5-embedded", order=4, c=DOPRI5.c, a=DOPRI5.a, b=b_hat)
    step_sizes = 2.0 / 2.0 ** np.arange(2, 6)  # 0.5 ... 0.0625
    exact_end = SPIRAL.exact([2.0], np.array([2.0, 0.0]))[-1]
    for tableau, order in ((DOPRI5, 5), (embedded, 4)):
        errors = [
            np.max(np.abs(fixed_step_solve(SPIRAL, np.array([2.0, 0.0]), 2.0, h, tableau)
                          - exact_end))
            for h in step_sizes
        ]
        assert measured_order(step_sizes, errors) == pytest.approx(order, abs=0.15)


def test_dopri5_error_shrinks_with_the_tolerance():
    problem = PROBLEMS[2]  # damped oscillator
    t = np.linspace(0.0, 5.0, 11)
    errors, steps = [], []
    for rtol in (1e-3, 1e-5, 1e-7, 1e-9):
        ys, stats = odeint(problem.func, problem.y0, t, rtol=rtol, atol=rtol * 1e-2,
                           return_stats=True)
        errors.append(np.max(np.abs(ys - problem.exact(t, problem.y0))))
        steps.append(stats.n_accepted)
        assert errors[-1] < 10 * rtol
    assert all(e_small < e_big for e_big, e_small in zip(errors, errors[1:], strict=False))
    assert all(n_more > n_fewer for n_fewer, n_more in zip(steps, steps[1:], strict=False))


# --- 3. tolerances and dense output --------------------------------------------------------------


def scaled_error(ys, reference, rtol, atol) -> float:
    """max |y - y_ref| / (atol + rtol |y_ref|): 1 means "exactly the requested tolerance"."""
    return float(np.max(np.abs(ys - reference) / (atol + rtol * np.abs(reference))))


def test_dopri5_meets_tolerance_on_lotka_volterra():
    lv, y0, t = LotkaVolterra(), np.array([10.0, 5.0]), np.linspace(0.0, 10.0, 201)
    reference = odeint(lv, y0, t, rtol=1e-11, atol=1e-11)
    ys = odeint(lv, y0, t, rtol=1e-6, atol=1e-8)
    # rtol bounds the error made in each step; the global error is a few steps' worth
    # (measured: ~6 on this span; it grows with the length of the solve).
    assert scaled_error(ys, reference, rtol=1e-6, atol=1e-8) < 20


def test_dense_output_is_accurate_between_steps():
    y0, t, rtol = np.array([2.0, 0.0]), np.linspace(0.0, 10.0, 1001), 1e-6
    ys, stats = odeint(SPIRAL, y0, t, rtol=rtol, atol=1e-9, return_stats=True)
    # Far fewer steps than output times: most outputs lie inside a step and are interpolated.
    assert stats.n_accepted < len(t) / 10
    # The state starts at size 2 and decays; measured max error: 0.3 rtol.
    assert np.max(np.abs(ys - SPIRAL.exact(t, y0))) < 5 * rtol


def test_output_times_do_not_change_the_steps():
    y0 = np.array([10.0, 5.0])
    ends, stats_few = odeint(LotkaVolterra(), y0, [0.0, 10.0], return_stats=True)
    many, stats_many = odeint(LotkaVolterra(), y0, np.linspace(0.0, 10.0, 501), return_stats=True)
    assert stats_many.step_sizes == stats_few.step_sizes
    assert stats_many.n_fevals == stats_few.n_fevals
    assert np.array_equal(many[-1], ends[-1])


# --- 4. NumPy and torch, dtypes, batches, autograd ------------------------------------------------


@pytest.mark.parametrize("method", CLASSIC)
def test_numpy_and_torch_agree_in_float64(method):
    options = QUICK[method]
    y0, t = np.array([2.0, 0.0]), np.linspace(0.0, 3.0, 7)
    ys_np, stats_np = odeint(SPIRAL, y0, t, method=method, return_stats=True, **options)
    ys_torch, stats_torch = odeint(SPIRAL, torch.from_numpy(y0), torch.from_numpy(t),
                                   method=method, return_stats=True, **options)
    assert isinstance(ys_torch, torch.Tensor) and ys_torch.dtype == torch.float64
    np.testing.assert_allclose(ys_torch.numpy(), ys_np, rtol=1e-12, atol=1e-14)
    assert stats_torch.n_fevals == stats_np.n_fevals


@pytest.mark.parametrize("kind", ["numpy", "torch"])
@pytest.mark.parametrize("method", CLASSIC)
def test_float32_stays_float32(method, kind):
    options = dict(step_size=1e-2) if method in FIXED else dict(rtol=1e-5, atol=1e-7)
    t = np.linspace(0.0, 3.0, 7)
    # dy/dt = cos t computes in float64 under NumPy (np.cos of a Python float): the result must
    # still come back in y0's dtype.
    y0 = np.zeros((), np.float32) if kind == "numpy" else torch.zeros((), dtype=torch.float32)
    ys = odeint(lambda t, y: _cos(t) + 0 * y, y0, t, method=method, **options)
    assert ys.dtype == y0.dtype
    tolerance = {"euler": 1e-2, "midpoint": 1e-4, "rk4": 1e-5, "dopri5": 1e-4}[method]  # 10 rtol
    assert np.max(np.abs(np.asarray(ys, dtype=np.float64) - np.sin(t))) < tolerance


@pytest.mark.parametrize("method", CLASSIC)
def test_batched_states_equal_per_sample_solves(method):
    options = QUICK[method]
    batch = np.array([[2.0, 0.0], [0.0, 1.0], [-1.0, 3.0]])  # (batch, dim)
    t = np.linspace(0.0, 3.0, 7)
    ys = odeint(SPIRAL, torch.from_numpy(batch), torch.from_numpy(t), method=method, **options)
    assert ys.shape == (len(t), *batch.shape)
    singles = np.stack([odeint(SPIRAL, y0, t, method=method, **options) for y0 in batch], axis=1)
    if method in FIXED:
        # The same steps, so the same numbers up to rounding.
        np.testing.assert_allclose(ys.numpy(), singles, rtol=1e-12, atol=1e-14)
    else:
        # dopri5 picks one step size for the whole batch (from the rms error over all of it),
        # so the batch and the single solves take different steps: equal within tolerance.
        np.testing.assert_allclose(ys.numpy(), singles, rtol=0, atol=1e-7)
        np.testing.assert_allclose(ys.numpy(), SPIRAL.exact(t, batch), rtol=0, atol=1e-7)


@pytest.mark.parametrize("method", ["rk4", "dopri5"])
def test_gradient_wrt_y0_is_the_matrix_exponential(method):
    """For the linear dy/dt = A y, y(T) = expm(A T) y0, so d y(T) / d y0 = expm(A T)."""
    d, w, t_end = SPIRAL.decay, SPIRAL.frequency, 2.0
    options = dict(step_size=0.05) if method == "rk4" else dict(rtol=1e-10, atol=1e-12)
    t = torch.tensor([0.0, t_end], dtype=torch.float64)
    y0 = torch.tensor([2.0, 0.5], dtype=torch.float64, requires_grad=True)

    def final_state(y0):
        return odeint(SPIRAL, y0, t, method=method, **options)[-1]

    jacobian = torch.autograd.functional.jacobian(final_state, y0)  # backprop through the solve
    rotation = np.array([[np.cos(w * t_end), -np.sin(w * t_end)],
                         [np.sin(w * t_end), np.cos(w * t_end)]])
    np.testing.assert_allclose(jacobian.numpy(), np.exp(-d * t_end) * rotation, atol=1e-6)


def test_gradient_wrt_a_parameter_of_func():
    """d y(T) / d k for dy/dt = -k y is -T y0 exp(-k T): gradients reach func's parameters."""
    k = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    y0 = torch.tensor([1.5], dtype=torch.float64)
    y_end = odeint(lambda t, y: -k * y, y0, torch.tensor([0.0, 2.0], dtype=torch.float64),
                   rtol=1e-10, atol=1e-12)[-1]
    (grad,) = torch.autograd.grad(y_end.sum(), k)
    assert float(grad) == pytest.approx(-2.0 * 1.5 * np.exp(-0.7 * 2.0), rel=1e-7)


# --- 5. backwards in time ------------------------------------------------------------------------


@pytest.mark.parametrize("method", CLASSIC)
def test_forward_then_backward_recovers_y0(method):
    options = SETTINGS[method][0] if method in FIXED else dict(rtol=1e-10, atol=1e-12)
    # Euler is not symmetric in time, so its round trip is off by O(h) (measured: 3e-3);
    # the others measured 1e-6, 3e-8, 6e-11.
    tolerance = {"euler": 1e-2, "midpoint": 1e-5, "rk4": 3e-7, "dopri5": 1e-8}[method]
    lv, y0 = LotkaVolterra(), np.array([10.0, 5.0])
    y_end = odeint(lv, y0, [0.0, 3.0], method=method, **options)[-1]
    y_back = odeint(lv, y_end, [3.0, 0.0], method=method, **options)[-1]
    np.testing.assert_allclose(y_back, y0, rtol=tolerance)


@pytest.mark.parametrize("method", CLASSIC)
def test_decreasing_times(method):
    options, tolerance = SETTINGS[method]
    y0, t = np.array([2.0, 0.0]), np.linspace(0.0, -3.0, 7)  # the spiral unwinds and grows
    ys, stats = odeint(SPIRAL, y0, t, method=method, return_stats=True, **options)
    exact = SPIRAL.exact(t, y0)
    assert np.max(np.abs(ys - exact) / np.abs(exact).max()) < tolerance
    assert all(h < 0 for h in stats.step_sizes)


# --- 6. solve statistics -------------------------------------------------------------------------


class CountingFunc:
    """Wraps a func and counts its calls, to check ``SolveStats.n_fevals`` independently."""

    def __init__(self, func):
        self.func, self.calls = func, 0

    def __call__(self, t, y):
        self.calls += 1
        return self.func(t, y)


@pytest.mark.parametrize("t_end", [6.0, -6.0], ids=["forward", "backward"])
@pytest.mark.parametrize("method", CLASSIC)
def test_stats_count_what_the_solve_did(method, t_end):
    func = CountingFunc(LotkaVolterra())
    t = np.linspace(0.0, t_end, 4)
    step = None if TABLEAUS[method].adaptive else 0.1
    _, stats = odeint(func, np.array([10.0, 5.0]), t, method=method, step_size=step,
                      return_stats=True)
    assert stats.method == method
    assert stats.n_fevals == func.calls
    assert stats.n_accepted == len(stats.step_sizes) == len(stats.step_starts)
    assert stats.n_rejected == len(stats.rejected_starts)
    assert stats.n_steps == stats.n_accepted + stats.n_rejected
    assert sum(stats.step_sizes) == pytest.approx(t_end, abs=1e-12)
    # Steps follow each other: each one starts where the previous one ended.
    ends = np.add(stats.step_starts, stats.step_sizes)
    np.testing.assert_allclose(stats.step_starts[1:], ends[:-1], atol=1e-12)
    stages = TABLEAUS[method].stages
    if method in FIXED:
        assert stats.n_rejected == 0
        assert stats.n_accepted == 60  # steps of 0.1 over a span of 6, whatever the output times
        # The slope at a step's end (used to interpolate outputs) is the next step's first stage,
        # so it costs nothing extra: s evaluations per step.
        assert stats.n_fevals == stages * stats.n_accepted
    else:
        # 2 evaluations choose the first step; then FSAL reuses the last stage: 6 per attempt.
        assert stats.n_fevals == 2 + (stages - 1) * stats.n_steps


@pytest.mark.parametrize(
    ("error_ratio", "factor"),
    [
        (1.0, SAFETY),  # exactly on tolerance: keep the step, with a safety margin
        (2.0**5, SAFETY / 2),  # error ~ h**5 for dopri5's 4th-order estimate: halve h for 2**5
        (2.0**-5, SAFETY * 2),
        (1e12, MIN_FACTOR),  # never shrink by more than 5x at once ...
        (1e-12, MAX_FACTOR),  # ... nor grow by more than 10x
        (0.0, MAX_FACTOR),  # an exact step (e.g. dy/dt = 0)
        (float("nan"), MIN_FACTOR),  # a step that produced NaN
    ],
)
def test_next_step_factor(error_ratio, factor):
    """The step-size control law h_new = h * SAFETY * error_ratio**(-1 / (error_order + 1))."""
    assert next_step_factor(error_ratio, error_order=4) == pytest.approx(factor)


def test_dopri5_rejects_a_too_large_first_step_and_recovers():
    func = CountingFunc(LotkaVolterra())
    ys, stats = odeint(func, np.array([10.0, 5.0]), [0.0, 2.0], first_step=1.0,
                       rtol=1e-8, return_stats=True)
    assert stats.n_rejected >= 1 and stats.rejected_starts[0] == 0.0
    assert abs(stats.step_sizes[0]) < 1.0
    assert stats.n_fevals == func.calls == 1 + 6 * stats.n_steps  # no first-step estimate
    np.testing.assert_allclose(ys[-1], odeint(LotkaVolterra(), np.array([10.0, 5.0]),
                                              [0.0, 2.0], rtol=1e-8)[-1], rtol=1e-6)


def test_fixed_step_default_is_one_step_per_interval():
    """Without step_size, a fixed-step method takes one step per interval of t (as torchdiffeq)."""
    t = np.array([0.0, 0.5, 1.5, 2.0])
    y0 = np.array([10.0, 5.0])
    ys, stats = odeint(LotkaVolterra(), y0, t, method="rk4", return_stats=True)
    assert stats.n_accepted == len(t) - 1
    assert stats.step_sizes == pytest.approx(list(np.diff(t)))
    y = y0
    for i in range(len(t) - 1):
        y, _, _ = rk_step(LotkaVolterra(), t[i], y, t[i + 1] - t[i], TABLEAUS["rk4"])
        np.testing.assert_allclose(ys[i + 1], y, rtol=1e-14)


@pytest.mark.parametrize("method", FIXED)
def test_fixed_steps_do_not_depend_on_the_output_times(method):
    """step_size sets the steps (the last one shortened to end on t[-1]); output times inside a
    step are interpolated, so a fine output grid shows a coarse method's steps as they are."""
    y0 = np.array([2.0, 0.0])
    few, stats_few = odeint(SPIRAL, y0, [0.0, 1.0, 2.0], method=method, step_size=0.3,
                            return_stats=True)
    assert stats_few.step_sizes == pytest.approx([0.3] * 6 + [0.2])
    t = np.linspace(0.0, 2.0, 201)
    many, stats_many = odeint(SPIRAL, y0, t, method=method, step_size=0.3, return_stats=True)
    assert stats_many.step_sizes == stats_few.step_sizes
    assert np.array_equal(many[-1], few[-1])
    # The interpolant adds (almost) nothing to the method's own error at its grid points.
    errors = np.max(np.abs(many - SPIRAL.exact(t, y0)), axis=-1)
    grid_times = np.concatenate([[0.0], np.cumsum(stats_many.step_sizes)])
    on_grid = np.isclose(t[:, None], grid_times[None, :], rtol=0, atol=1e-12).any(axis=1)
    assert on_grid.sum() == 8  # all grid points 0, 0.3, ..., 1.8, 2.0 are output times here
    assert errors.max() <= 1.1 * errors[on_grid].max()


def test_rtol_zero_works_when_a_component_stays_at_zero():
    # Pure relative tolerance (atol=0) with a component at exactly 0: its error scale is 0.
    ys, stats = odeint(lambda t, y: -y, np.array([0.0, 1.0]), [0.0, 1.0], rtol=1e-6, atol=0.0,
                       return_stats=True)
    np.testing.assert_allclose(ys[-1], [0.0, np.exp(-1.0)], rtol=1e-5)
    assert stats.n_accepted < 50


# --- 7. a clear error for each bad input ---------------------------------------------------------

Y0 = np.array([10.0, 5.0])


@pytest.mark.parametrize(
    ("t", "message"),
    [
        (np.zeros((2, 3)), r"t must be a 1-D sequence of output times, got shape \(2, 3\)"),
        (0.5, r"t must be a 1-D sequence of output times, got shape \(\)"),
        ([], r"got shape \(0,\)"),
        ([0.0, 1.0, 0.5], r"strictly increasing or strictly decreasing; t\[1\] = 1.0 and t\[2\]"),
        ([0.0, 1.0, 1.0, 2.0], r"strictly .*; t\[1\] = 1.0 and t\[2\] = 1.0 break that"),
        ([0.0, 0.0], r"t\[0\] = 0.0 and t\[1\] = 0.0"),
        ([0.0, np.inf], "t must be finite"),
    ],
    ids=["2-D", "scalar", "empty", "not monotonic", "repeated time", "repeated start", "inf"],
)
def test_bad_t(t, message):
    with pytest.raises(ValueError, match=message):
        odeint(LotkaVolterra(), Y0, t)


@pytest.mark.parametrize("method", CLASSIC)
def test_func_output_shape_mismatch(method):
    with pytest.raises(ValueError, match=re.escape("func(t, y) returned shape (1,) but the state "
                                                   "has shape (2,)")):
        odeint(lambda t, y: y[:1], Y0, [0.0, 1.0], method=method)


def test_func_returning_the_wrong_kind():
    with pytest.raises(TypeError, match="func.* must return a NumPy array like y, got list"):
        odeint(lambda t, y: [1.0, 2.0], Y0, [0.0, 1.0])
    with pytest.raises(TypeError, match="must return a torch tensor like y, got ndarray"):
        odeint(lambda t, y: np.ones(2), torch.ones(2), [0.0, 1.0])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("kind", ["numpy", "torch"])
def test_non_finite_y0(bad, kind):
    y0 = np.array([1.0, bad]) if kind == "numpy" else torch.tensor([1.0, bad])
    with pytest.raises(ValueError, match="y0 contains inf or NaN"):
        odeint(LotkaVolterra(), y0, [0.0, 1.0])


def time_in_message(error: Exception, prefix: str) -> float:
    """The t printed in an error message after ``prefix`` (e.g. 'at t=')."""
    return float(re.search(re.escape(prefix) + r"([-+0-9.e]+)", str(error)).group(1))


@pytest.mark.filterwarnings("ignore:overflow encountered")  # y**2 overflows: that is the point
@pytest.mark.parametrize("method", FIXED)
def test_blow_up_with_a_fixed_step_names_the_time(method):
    # dy/dt = y**2, y(0) = 1 has the solution 1 / (1 - t): it blows up at t = 1.
    with pytest.raises(NonFiniteStateError, match="became inf/NaN at t=") as info:
        odeint(lambda t, y: y**2, np.array([1.0]), [0.0, 2.0], method=method, step_size=0.01)
    # The numerical solution lags the exact one a little, so it overflows just after t = 1.
    assert 1.0 <= time_in_message(info.value, "at t=") <= 1.2
    assert "try a smaller step_size or an adaptive method" in str(info.value)


def test_blow_up_with_dopri5_underflows_the_step_at_the_blow_up_time():
    # dopri5 follows 1 / (1 - t) ever closer to t = 1 with ever smaller steps, until the step is
    # below what float64 can add to t.
    with pytest.raises(StepSizeUnderflowError, match="step size fell to .* at t=") as info:
        odeint(lambda t, y: y**2, np.array([1.0]), [0.0, 2.0])
    assert time_in_message(info.value, "at t=") == pytest.approx(1.0, abs=1e-4)
    assert "loosen rtol/atol" in str(info.value)


def test_nan_from_func_during_an_adaptive_solve_names_the_time():
    def func(t, y):  # undefined after t = 0.5, as if it took sqrt(0.5 - t)
        return -y * (np.nan if t > 0.5 else 1.0)

    with pytest.raises(NonFiniteStateError, match="inf/NaN for every step tried from t=") as info:
        odeint(func, np.array([1.0]), [0.0, 1.0])
    assert time_in_message(info.value, "from t=") == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize("method", CLASSIC)
def test_max_steps_exceeded(method):
    # Fixed-step methods know the number of steps in advance and refuse at once.
    with pytest.raises(MaxStepsExceededError, match=r"max_steps=5\b.*raise max_steps"):
        step = None if TABLEAUS[method].adaptive else 0.1
        odeint(LotkaVolterra(), Y0, [0.0, 10.0], method=method, step_size=step, max_steps=5)


def test_solver_errors_share_a_base_class():
    for error in (StepSizeUnderflowError, MaxStepsExceededError, NonFiniteStateError):
        assert issubclass(error, SolverError) and issubclass(error, RuntimeError)


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError, match="unknown method 'rk45'; valid methods are euler, "
                                         "midpoint, rk4, dopri5, heun2, heun3, adaptive_heun, "
                                         "fehlberg2, bosh3, tsit5, dopri8"):
        odeint(LotkaVolterra(), Y0, [0.0, 1.0], method="rk45")


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        (dict(step_size=-0.1, method="rk4"), ValueError, "step_size must be a finite number > 0"),
        (dict(step_size=0.0, method="euler"), ValueError, "step_size must be a finite number > 0"),
        (dict(first_step=float("nan")), ValueError, "first_step must be a finite number > 0"),
        (dict(rtol=0.0, atol=0.0), ValueError, "rtol and atol cannot both be 0"),
        (dict(rtol=-1e-6), ValueError, "rtol must be a finite number >= 0, got -1e-06"),
        (dict(atol=float("inf")), ValueError, "atol must be a finite number >= 0"),
        (dict(max_steps=0), ValueError, "max_steps must be a positive int, got 0"),
    ],
)
def test_bad_options(options, error, message):
    with pytest.raises(error, match=message):
        odeint(LotkaVolterra(), Y0, [0.0, 1.0], **options)


@pytest.mark.parametrize(
    ("func", "y0", "t", "message"),
    [
        (LotkaVolterra(), torch.tensor([10, 5]), [0.0, 1.0], "y0 has dtype torch.int64; pass a "
                                                             "floating-point tensor"),
        ("not a function", Y0, [0.0, 1.0], "func must be callable as func.t, y., got str"),
        (LotkaVolterra(), "10, 5", [0.0, 1.0], "y0 must be a NumPy array or a torch tensor"),
        (LotkaVolterra(), Y0, torch.tensor([0.0, 1.0]), "y0 is a NumPy array but t is a torch"),
    ],
    ids=["integer torch y0", "func not callable", "y0 a string", "numpy y0, torch t"],
)
def test_bad_types(func, y0, t, message):
    with pytest.raises(TypeError, match=message):
        odeint(func, y0, t)


def test_integer_numpy_y0_becomes_float64():
    ys = odeint(lambda t, y: -y, np.array([1, 2]), [0.0, 1.0])
    assert ys.dtype == np.float64
    np.testing.assert_allclose(ys[-1], np.exp(-1.0) * np.array([1.0, 2.0]), rtol=1e-5)


# --- one check of methods and options, shared with odeint_adjoint, NeuralODE and the widgets ----


def test_check_solver_options_fills_defaults_and_keeps_what_applies():
    # torchdiffeq's defaults.
    assert check_solver_options("dopri5") == {"rtol": 1e-7, "atol": 1e-9, "first_step": None}
    assert check_solver_options("dopri5", rtol=1e-3, atol=0) == {
        "rtol": 1e-3, "atol": 0.0, "first_step": None}
    assert check_solver_options("rk4", step_size=0.5) == {"step_size": 0.5}
    assert check_solver_options("euler") == {"step_size": None}


@pytest.mark.parametrize(
    ("method", "options", "named"),
    [
        ("dopri5", {"step_size": 0.5}, "step_size has no effect"),
        ("rk4", {"rtol": 1e-3, "first_step": 0.1}, "rtol, first_step have no effect"),
        ("euler", {"atol": 1e-9}, "atol has no effect"),
    ],
)
def test_options_that_do_not_apply_warn_like_solve_ivp(method, options, named):
    with pytest.warns(UserWarning, match=named):
        odeint(LotkaVolterra(), Y0, [0.0, 1.0], method=method, **options)


def test_options_that_apply_do_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        odeint(LotkaVolterra(), Y0, [0.0, 1.0], method="rk4", step_size=0.1)
        odeint(LotkaVolterra(), Y0, [0.0, 1.0], method="dopri5", rtol=1e-4, first_step=0.1)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"method": "rk45"}, "unknown method 'rk45'; valid methods are"),
        ({"method": "dopri5", "rtol": -1.0}, "rtol must be a finite number >= 0"),
        ({"method": "dopri5", "atol": float("nan")}, "atol must be a finite number >= 0"),
        ({"method": "dopri5", "rtol": 0, "atol": 0}, "cannot both be 0"),
        ({"method": "rk4", "step_size": 0.0}, "step_size must be a finite number > 0"),
        ({"method": "dopri5", "rtol": True}, "rtol must be a finite number"),
    ],
)
def test_check_solver_options_rejects_bad_values_naming_the_caller(kwargs, message):
    with pytest.raises(ValueError, match=message) as info:
        check_solver_options(caller="odeint_adjoint", **kwargs)
    assert str(info.value).startswith("odeint_adjoint: ")


# --- 8. the other methods, torchdiffeq's conventions, tuple states, gradients through t -----------

NEW_ADAPTIVE = ["adaptive_heun", "fehlberg2", "bosh3", "tsit5", "dopri8"]


@pytest.mark.parametrize("method", NEW_ADAPTIVE)
def test_other_adaptive_methods_meet_their_tolerance(method):
    """At the end of the solve (a step's own end) each method is as accurate as its tolerance;
    between steps its dense output is as accurate as that interpolant's order allows (tsit5's
    cubic Hermite and dopri8's quartic lag their 5th and 8th order steps: measured 4.6e-7 and
    2.5e-6 here, with 21 and 5 steps)."""
    problem = PROBLEMS[1]  # linear spiral
    t = np.linspace(0.0, 3.0, 7)
    ys = odeint(problem.func, problem.y0, t, method=method, rtol=1e-8, atol=1e-10)
    errors = np.abs(ys - problem.exact(t, problem.y0)).max(axis=-1)
    # fehlberg2's estimate sees only its first-order formula's small h**2 term (see the tableau
    # tests), so its true error runs above the tolerance.
    assert errors[-1] < (1e-6 if method == "fehlberg2" else 1e-7)
    assert errors.max() < 1e-5


@pytest.mark.parametrize("method", ["heun2", "heun3", *NEW_ADAPTIVE])
def test_other_methods_solve_in_torch_float32_and_backwards(method):
    options = dict(step_size=0.01) if not TABLEAUS[method].adaptive else dict(rtol=1e-6,
                                                                              atol=1e-8)
    t = torch.linspace(0.0, -2.0, 5)
    y0 = torch.tensor([2.0, 0.0])
    ys = odeint(SPIRAL, y0, t, method=method, **options)
    assert ys.dtype == torch.float32
    np.testing.assert_allclose(ys.numpy(), SPIRAL.exact(t.numpy(), y0.numpy()), atol=2e-3)


def test_method_none_is_dopri5_and_options_carry_step_size():
    y0, t = np.array([10.0, 5.0]), np.linspace(0.0, 2.0, 5)
    assert np.array_equal(odeint(LotkaVolterra(), y0, t, method=None),
                          odeint(LotkaVolterra(), y0, t))
    top = odeint(LotkaVolterra(), y0, t, method="rk4", step_size=0.1)
    inside = odeint(LotkaVolterra(), y0, t, method="rk4", options={"step_size": 0.1,
                                                                   "interp": "cubic"})
    assert np.array_equal(top, inside)
    _, stats = odeint(LotkaVolterra(), y0, t, options={"first_step": 0.01, "max_num_steps": 500},
                      return_stats=True)
    assert stats.step_sizes[0] == pytest.approx(0.01)
    with pytest.raises(MaxStepsExceededError, match="max_steps=3"):
        odeint(LotkaVolterra(), y0, t, options={"max_num_steps": 3})
    assert np.array_equal(odeint(LotkaVolterra(), y0, t, options=None),
                          odeint(LotkaVolterra(), y0, t, options={}))


def test_options_step_size_interpolates_linearly_like_torchdiffeq():
    """torchdiffeq fills output times inside a fixed step linearly unless interp='cubic'."""
    t = np.array([0.0, 0.05, 0.1])
    linear = odeint(SPIRAL, np.array([2.0, 0.0]), t, method="euler", options={"step_size": 0.1})
    np.testing.assert_allclose(linear[1], (linear[0] + linear[2]) / 2, rtol=1e-14)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        (dict(event_fn=lambda t, y: y[0]), "event_fn"),
        (dict(options={"norm": lambda x: x.abs().max()}), "options\\['norm'\\]"),
        (dict(options={"jump_t": torch.tensor([0.5])}), "jump_t"),
        (dict(options={"perturb": True}, method="rk4"), "perturb"),
        (dict(options={"grid_constructor": None}, method="rk4"), "grid_constructor"),
        (dict(options={"min_step": 1e-3}), "min_step"),
        (dict(options={"max_step": 1e-1}), "max_step"),
        (dict(method="implicit_adams"), "method='implicit_adams'"),
        (dict(method="explicit_adams"), "method='explicit_adams'"),
        (dict(norm=None), "norm"),
    ],
)
def test_out_of_scope_keywords_raise_a_clear_error(kwargs, named):
    with pytest.raises(OutOfScopeError, match=f"{named}.* outside the course's scope"):
        odeint(lambda t, y: -y, torch.ones(2), torch.tensor([0.0, 1.0]), **kwargs)


def test_callbacks_on_func_raise_a_clear_error():
    class WithCallback(torch.nn.Module):
        def forward(self, t, y):
            return -y

        def callback_step(self, t0, y0, dt):
            pass

    with pytest.raises(OutOfScopeError, match="func.callback_step is outside"):
        odeint(WithCallback(), torch.ones(2), torch.tensor([0.0, 1.0]))


def test_unknown_option_and_keyword():
    with pytest.raises(ValueError, match="unknown option 'stepsize'"):
        odeint(lambda t, y: -y, Y0, [0.0, 1.0], options={"stepsize": 0.1})
    with pytest.raises(TypeError, match="unexpected keyword argument 'stepsize'"):
        odeint(lambda t, y: -y, Y0, [0.0, 1.0], stepsize=0.1)
    with pytest.raises(ValueError, match="step_size given twice"):
        odeint(lambda t, y: -y, Y0, [0.0, 1.0], method="rk4", step_size=0.1,
               options={"step_size": 0.1})


@pytest.mark.parametrize("method", ["dopri5", "rk4", "bosh3"])
def test_tuple_state_equals_the_concatenated_solve(method):
    def func(t, state):
        position, velocity = state
        return velocity, -position - 0.1 * velocity

    pos, vel = torch.tensor([[1.0, 0.5]], dtype=torch.float64), torch.tensor([[0.0, -0.3]],
                                                                             dtype=torch.float64)
    t = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
    tight = dict(rtol=1e-9, atol=1e-11) if TABLEAUS[method].adaptive else {}
    ys_pos, ys_vel = odeint(func, (pos, vel), t, method=method, **tight)
    assert ys_pos.shape == ys_vel.shape == (5, 1, 2)
    flat = odeint(lambda t, y: torch.cat([y[2:], -y[:2] - 0.1 * y[2:]]),
                  torch.cat([pos.reshape(-1), vel.reshape(-1)]), t, method=method, **tight)
    np.testing.assert_allclose(ys_pos.reshape(5, 2), flat[:, :2], rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(ys_vel.reshape(5, 2), flat[:, 2:], rtol=1e-7, atol=1e-9)
    pos.requires_grad_(True)
    odeint(func, (pos, vel), t, method=method)[0][-1].sum().backward()
    assert pos.grad is not None and pos.grad.abs().sum() > 0


def test_tuple_state_errors():
    with pytest.raises(TypeError, match="tuple state must hold torch tensors only"):
        odeint(lambda t, y: y, (torch.ones(2), np.ones(2)), [0.0, 1.0])
    with pytest.raises(TypeError, match="must return a tuple of 2 tensors"):
        odeint(lambda t, y: y[0], (torch.ones(2), torch.ones(2)), [0.0, 1.0])


def _time_gradient(method, t_values, **options):
    """d(sum of y(t_i) * w_i)/dt_i by autograd through the solve, for y' = -y + sin(3t)."""
    t = torch.tensor(t_values, dtype=torch.float64, requires_grad=True)
    weights = torch.tensor([0.3, -1.0, 2.0, 0.7][: len(t_values)], dtype=torch.float64)

    def loss(times):
        ys = odeint(lambda s, y: -y + torch.sin(3 * s), torch.tensor([1.0], dtype=torch.float64),
                    times, method=method, **options)
        return (ys[:, 0] * weights).sum()

    loss(t).backward()
    eps = 1e-6
    fd = []
    for i in range(len(t_values)):
        up, down = list(t_values), list(t_values)
        up[i] += eps
        down[i] -= eps
        with torch.no_grad():
            fd.append(float(loss(torch.tensor(up, dtype=torch.float64))
                            - loss(torch.tensor(down, dtype=torch.float64))) / (2 * eps))
    return t.grad.numpy(), np.array(fd)


@pytest.mark.parametrize(
    ("method", "options"),
    [("rk4", {}), ("euler", {}), ("rk4", dict(step_size=0.1)),
     ("rk4", dict(options={"step_size": 0.1})), ("dopri5", dict(rtol=1e-10, atol=1e-12)),
     ("tsit5", dict(rtol=1e-10, atol=1e-12))],
    ids=["rk4 per interval", "euler", "rk4 step 0.1", "rk4 linear", "dopri5", "tsit5"],
)
def test_gradients_through_t_match_finite_differences(method, options):
    """Autograd through the solve's times: every t_i, t_0 included, gets its gradient (and none
    is a silent zero). Fixed steps: the exact derivative of the discrete solve. Adaptive: the
    steps are chosen without gradients, as in torchdiffeq; at this tolerance the result agrees
    with finite differences of the solve to 1e-6."""
    # (No output time on a step boundary of step_size=0.1: linear interpolation has a kink there,
    # which a central difference would average.)
    grad, fd = _time_gradient(method, [0.0, 0.35, 1.05, 1.6], **options)
    assert np.all(np.abs(grad) > 1e-3)
    np.testing.assert_allclose(grad, fd, rtol=1e-5, atol=1e-6)
