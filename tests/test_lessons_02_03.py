"""Tests of what Lessons 02 and 03 compute: their sliders' logic (utils.widgets) and utils.plots.

Each slider is a pure ``*_data`` function (numbers in, arrays out) checked against what the
lesson claims, and a ``show_*`` function checked to draw without error.
"""

from __future__ import annotations

import math

import matplotlib
import numpy as np
import pytest
import torch

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils import plots  # noqa: E402
from utils.models import ODEFunc  # noqa: E402
from utils.solvers import odeint  # noqa: E402
from utils.systems import LinearSpiral  # noqa: E402
from utils.widgets import (  # noqa: E402
    adaptive_steps_data,
    resnet_spiral_data,
    show_adaptive_steps,
    show_resnet_spiral,
    show_solver_cost,
    solver_cost_data,
)


@pytest.fixture
def shown(monkeypatch):
    """The figures the show functions rendered (they return a PNG image, nothing goes through
    ``plt.show``): overrides the conftest fixture of the same name for this module."""
    from utils import widgets

    figures, original = [], widgets._image

    def recording(fig):
        figures.append(fig)
        return original(fig)

    monkeypatch.setattr(widgets, "_image", recording)
    return figures



@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


# -- Lesson 02: the depth slider --------------------------------------------------------------


@pytest.mark.parametrize("n_blocks", [5, 10, 20, 40])
def test_resnet_spiral_growth_is_eulers_factor(n_blocks):
    data = resnet_spiral_data(n_blocks=n_blocks)
    dt = 10.0 / n_blocks
    assert data["dt"] == pytest.approx(dt)
    assert data["t"].shape == (n_blocks + 1,) and data["resnet"].shape == (n_blocks + 1, 2)
    assert data["growth"] == pytest.approx(abs(1 + dt * complex(-0.5, 1.0)), rel=1e-12)
    assert np.allclose(data["exact"], LinearSpiral().exact(data["t"], np.array([2.0, 0.0])))


def test_resnet_spiral_is_a_residual_stack():
    # The stack's states are h_{n+1} = h_n + dt f(h_n), written out here by hand.
    data = resnet_spiral_data(n_blocks=8, t_end=4.0)
    f, h = LinearSpiral(), np.array([2.0, 0.0])
    for n in range(8):
        assert np.allclose(data["resnet"][n], h, rtol=1e-13, atol=0)
        h = h + 0.5 * f(0.0, h)
    assert np.allclose(data["resnet"][-1], h, rtol=1e-13, atol=0)
    assert data["gap"] == pytest.approx(np.linalg.norm(h - data["exact"][-1]))


def test_resnet_spiral_fine_flow_is_exact_and_spans_the_interval():
    data = resnet_spiral_data(n_blocks=5, t_end=6.0, n_fine=101)
    assert data["t_fine"].shape == (101,) and data["exact_fine"].shape == (101, 2)
    assert data["t_fine"][-1] == pytest.approx(6.0)
    norms = np.linalg.norm(data["exact_fine"], axis=1)
    assert np.allclose(norms, 2.0 * np.exp(-0.5 * data["t_fine"]))  # decays like e^{-t/2}
    assert np.allclose(data["exact_fine"][[0, -1]], data["exact"][[0, -1]])  # same curve
    assert data["exact_fine"][0].tolist() == [2.0, 0.0]


def test_resnet_spiral_stability_threshold_is_dt_0_8():
    # |1 + dt (-0.5 + i)| = 1 at dt = 0.8 (Lesson 02, Exercise 2.2's check).
    assert resnet_spiral_data(n_blocks=10, t_end=7.0)["growth"] < 1
    assert resnet_spiral_data(n_blocks=10, t_end=9.0)["growth"] > 1
    assert resnet_spiral_data(n_blocks=10, t_end=8.0)["growth"] == pytest.approx(1.0, abs=1e-12)


def test_resnet_spiral_gap_closes_like_one_over_depth():
    depths = [1000, 2000, 4000, 8000]
    gaps = [resnet_spiral_data(n_blocks=n)["gap"] for n in depths]
    slope = np.polyfit(np.log(depths), np.log(gaps), 1)[0]
    assert slope == pytest.approx(-1.0, abs=0.05)


def test_resnet_spiral_rejects_bad_input():
    for bad in (0, 2.5, -3, True):
        with pytest.raises(ValueError, match="n_blocks"):
            resnet_spiral_data(n_blocks=bad)
    with pytest.raises(ValueError, match="t_end"):
        resnet_spiral_data(n_blocks=3, t_end=0.0)
    with pytest.raises(ValueError, match="y0"):
        resnet_spiral_data(n_blocks=3, y0=(1.0, 2.0, 3.0))
    with pytest.raises(TypeError):
        resnet_spiral_data(10)  # keyword-only: resnet_spiral_data(n_blocks=10)


def test_show_resnet_spiral_draws(shown):
    show_resnet_spiral(7)
    assert len(shown) == 1
    ax = shown[0].axes[0]
    growth = resnet_spiral_data(n_blocks=7)["growth"]  # |1 + (10/7)(-0.5 + i)| = 1.457
    assert f"norm x{growth:.3f} per block" in ax.get_title()
    assert len(ax.lines) >= 2


# -- Lesson 02: the tolerance slider ----------------------------------------------------------


def test_adaptive_steps_cost_grows_as_tolerance_tightens():
    data = {rtol: adaptive_steps_data(rtol=rtol) for rtol in (1e-2, 1e-4, 1e-6, 1e-8)}
    nfes = [data[r]["nfe"] for r in sorted(data, reverse=True)]
    assert nfes == sorted(nfes) and nfes[0] < nfes[-1]
    for d in data.values():
        st = d["stats"]
        assert d["t"].shape == (601,) and d["ys"].shape == (601, 2)
        assert d["nfe"] == st.n_fevals and st.method == "dopri5"
        assert len(st.step_sizes) == st.n_accepted and len(st.rejected_starts) == st.n_rejected
        assert sum(st.step_sizes) == pytest.approx(15.0)  # the accepted steps tile [0, 15]


def test_adaptive_steps_is_dopri5_with_atol_a_hundredth_of_rtol():
    from utils.systems import LotkaVolterra

    data = adaptive_steps_data(rtol=1e-5)
    ys, stats = odeint(LotkaVolterra(), np.array([10.0, 5.0]), data["t"], rtol=1e-5, atol=1e-7,
                       return_stats=True)
    assert data["nfe"] == stats.n_fevals and data["stats"].step_sizes == stats.step_sizes
    assert np.array_equal(data["ys"], ys)


def test_adaptive_steps_solution_is_accurate_at_tight_tolerance():
    tight = adaptive_steps_data(rtol=1e-9)["ys"]
    loose = adaptive_steps_data(rtol=1e-3)["ys"]
    assert tight[0].tolist() == [10.0, 5.0]
    assert np.abs(loose - tight).max() > 10 * np.abs(adaptive_steps_data(rtol=1e-7)["ys"]
                                                     - tight).max()


def test_adaptive_steps_rejects_bad_tolerance():
    for bad in (0.0, 2.0, 1, -1e-3):
        with pytest.raises(ValueError, match="rtol"):
            adaptive_steps_data(rtol=bad)
    with pytest.raises(TypeError, match="rtol"):
        adaptive_steps_data(rtol="1e-3")


def test_show_adaptive_steps_draws(shown):
    show_adaptive_steps(-3.0)
    assert len(shown) == 1
    ax = shown[0].axes[0]
    nfe = adaptive_steps_data(rtol=1e-3)["nfe"]
    assert f"NFE = {nfe}" in ax.get_title() and ax.get_yscale() == "log"


# -- Lesson 03: the solver slider ------------------------------------------------------------


@pytest.fixture(scope="module")
def problem():
    torch.manual_seed(0)
    func = ODEFunc(2, hidden=16).double()
    h0 = torch.randn(6, 2, dtype=torch.float64)
    t = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
    with torch.no_grad():
        reference = odeint(func, h0, t, rtol=1e-11, atol=1e-12)
    return func, h0, t, reference


@pytest.mark.parametrize("method, stages", [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_solver_cost_counts_stages_per_step(problem, method, stages):
    data = solver_cost_data(*problem, method=method, step_size=0.1)
    assert data["steps"] == 20 and data["nfe"] == 20 * stages
    assert data["ys"].shape == (5, 6, 2) and data["failure"] == ""
    assert data["error"] == pytest.approx((data["ys"] - problem[3]).abs().max().item())


@pytest.mark.parametrize("method, order", [("euler", 1), ("midpoint", 2), ("rk4", 4)])
def test_solver_cost_error_shrinks_with_the_methods_order(problem, method, order):
    steps = [0.1, 0.05, 0.025]
    errors = [solver_cost_data(*problem, method=method, step_size=h)["error"] for h in steps]
    slope = np.polyfit(np.log(steps), np.log(errors), 1)[0]
    assert slope == pytest.approx(order, abs=0.3)


def test_solver_cost_dopri5_uses_the_tolerance(problem):
    loose = solver_cost_data(*problem, method="dopri5", rtol=1e-3)
    tight = solver_cost_data(*problem, method="dopri5", rtol=1e-8)
    assert tight["nfe"] > loose["nfe"] and tight["error"] < loose["error"]
    assert tight["error"] < 1e-6


def test_solver_cost_reports_a_failed_solve(problem):
    # 2 / 1e-5 = 200000 steps: more than odeint's max_steps, reported instead of raised.
    data = solver_cost_data(*problem, method="euler", step_size=1e-5)
    assert "max_steps" in data["failure"]
    assert data["nfe"] is None and math.isnan(data["error"]) and data["ys"].isnan().all()


def test_solver_cost_rejects_bad_input(problem):
    with pytest.raises(ValueError, match="method"):
        solver_cost_data(*problem, method="rk45", step_size=0.1)
    for bad in (0.0, -0.1, True):
        with pytest.raises(ValueError, match="step_size must be a finite number > 0"):
            solver_cost_data(*problem, method="rk4", step_size=bad)
    with pytest.raises(ValueError, match="needs rtol"):
        solver_cost_data(*problem, method="dopri5")
    with pytest.raises(ValueError, match="needs step_size"):
        solver_cost_data(*problem, method="rk4")
    with pytest.warns(UserWarning, match="rtol, atol have no effect"):
        solver_cost_data(*problem, method="rk4", step_size=0.5, rtol=1e-3)
    func, h0, t, reference = problem
    with pytest.raises(ValueError, match="reference has shape"):
        solver_cost_data(func, h0, t, reference[1:], method="rk4", step_size=0.1)


@pytest.mark.parametrize("method, expected", [("rk4", "step 0.25"), ("dopri5", "rtol 1.0e-04")])
def test_show_solver_cost_uses_the_methods_setting(problem, shown, method, expected):
    show_solver_cost(*problem, method=method, log10_step_size=math.log10(0.25), log10_rtol=-4)
    title = shown[0].axes[0].get_title()
    option = {"step_size": 0.25} if method == "rk4" else {"rtol": 1e-4}
    nfe = solver_cost_data(*problem, method=method, **option)["nfe"]
    assert expected in title and f"NFE {nfe}," in title


@pytest.mark.parametrize("method, moved", [("rk4", "log10_rtol"), ("dopri5", "log10_step_size")])
def test_the_slider_a_method_ignores_still_changes_the_title(problem, shown, method, moved):
    # Every slider must visibly respond (the browser test checks it): the ignored one says so.
    settings = {"log10_step_size": -1.0, "log10_rtol": -4.0}
    show_solver_cost(*problem, method=method, **settings)
    show_solver_cost(*problem, method=method, **{**settings, moved: settings[moved] + 1})
    before, after = (fig.axes[0].get_title() for fig in shown)
    assert before != after and "only" in after


def test_show_solver_cost_shows_a_failure_in_the_title(problem, shown):
    show_solver_cost(*problem, method="euler", log10_step_size=-5, log10_rtol=-4)
    assert "max_steps" in shown[0].axes[0].get_title()


# -- utils.plots ------------------------------------------------------------------------------


def test_phase_portrait_draws_one_line_per_batch_member():
    ys = np.zeros((10, 3, 2))
    ys[:, :, 0] = np.arange(10)[:, None]
    ax = plots.phase_portrait({"batch": ys, "single": ys[:, 0]}, mark_start=False)
    assert len(ax.lines) == 4
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["batch", "single"]
    colors = {line.get_color() for line in ax.lines[:3]}
    assert len(colors) == 1  # one colour per label


def test_phase_portrait_accepts_tensors_and_limits():
    ys = torch.randn(5, 2, requires_grad=True)
    ax = plots.phase_portrait(ys, limits=(-1, 1, -2, 2))
    assert ax.get_xlim() == (-1, 1) and ax.get_ylim() == (-2, 2)


def test_phase_portrait_rejects_non_2d_states():
    with pytest.raises(ValueError, match="n_times, 2"):
        plots.phase_portrait(np.zeros((10, 3)))


def test_field_on_grid_evaluates_numpy_and_torch_dynamics():
    spiral = LinearSpiral()
    X, Y, U, V = plots.field_on_grid(spiral, xlim=(-1, 1), ylim=(-2, 2), n=5)
    assert X.shape == U.shape == (5, 5)
    assert np.allclose(U, -0.5 * X - Y) and np.allclose(V, X - 0.5 * Y)
    func = ODEFunc(2, hidden=4)
    X, Y, U, V = plots.field_on_grid(func, xlim=(-1, 1), ylim=(-1, 1), n=4)
    with torch.no_grad():
        expected = func(0.0, torch.tensor([[X[1, 2], Y[1, 2]]], dtype=torch.float32))
    assert np.allclose([U[1, 2], V[1, 2]], expected.numpy()[0], atol=1e-6)


def test_field_on_grid_checks_its_input():
    with pytest.raises(ValueError, match="n must be"):
        plots.field_on_grid(LinearSpiral(), xlim=(0, 1), ylim=(0, 1), n=1)
    with pytest.raises(ValueError, match="xlim"):
        plots.field_on_grid(LinearSpiral(), xlim=(1, 0), ylim=(0, 1))
    with pytest.raises(ValueError, match="returned shape"):
        plots.field_on_grid(lambda t, y: y[:, :1], xlim=(0, 1), ylim=(0, 1))


def test_vector_field_draws_a_stream_plot():
    ax = plots.vector_field(LinearSpiral(), xlim=(-2, 2), ylim=(-2, 2), n=10)
    assert ax.collections, "streamplot adds a line collection"
    assert ax.get_xlim() == (-2, 2)


def test_step_sizes_plots_every_accepted_step_and_rejection():
    _, stats = odeint(LinearSpiral(), np.array([2.0, 0.0]), [0.0, 10.0], rtol=1e-6,
                      return_stats=True)
    assert stats.n_rejected > 0  # this solve has rejections to draw
    ax = plots.step_sizes(stats)
    accepted, rejected = ax.lines[0], ax.lines[1]
    assert len(accepted.get_xdata()) == stats.n_accepted
    assert len(rejected.get_xdata()) == stats.n_rejected
    assert ax.get_yscale() == "log"


@pytest.mark.parametrize("power", [-1.0, 2.0, 4.0])
def test_loglog_slope_recovers_a_power_law(power):
    x = np.array([1.0, 2.0, 4.0, 8.0])
    ax, slope = plots.loglog_slope(x, 3.0 * x**power, label="test")
    assert slope == pytest.approx(power)
    assert f"{power:.2f}" in ax.get_legend().get_texts()[0].get_text()


def test_loglog_slope_rejects_bad_data():
    with pytest.raises(ValueError, match="positive"):
        plots.loglog_slope([1.0, 2.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="equal length"):
        plots.loglog_slope([1.0, 2.0], [1.0])
