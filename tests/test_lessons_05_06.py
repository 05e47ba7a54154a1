"""What lessons 05 and 06 compute behind their sliders (utils.widgets), tested without notebooks."""

import matplotlib
import numpy as np
import pytest
import torch
from torch import nn

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from utils.datasets import load_lynx_hare  # noqa: E402
from utils.systems import DampedOscillator, LotkaVolterra  # noqa: E402
from utils.training import Snapshot  # noqa: E402
from utils.widgets import (  # noqa: E402
    lotka_volterra_by_hand_data,
    show_lotka_volterra_by_hand,
    show_training_snapshot,
    training_snapshot_data,
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


class _Linear2(nn.Module):
    """dy/dt = A y with a learnable 2x2 matrix A (a stand-in for a trained ODEFunc)."""

    def __init__(self, dtype=torch.float64):
        super().__init__()
        self.A = nn.Parameter(torch.zeros(2, 2, dtype=dtype))

    def forward(self, t, y):
        return y @ self.A.T


def _oscillator_problem(dtype=torch.float64):
    osc = DampedOscillator()
    true_A = torch.tensor([[0.0, 1.0], [-osc.omega_n**2, -2 * osc.zeta * osc.omega_n]],
                          dtype=dtype)
    func = _Linear2(dtype)
    snapshots = [Snapshot(0, float("nan"), {"A": torch.zeros(2, 2, dtype=dtype)}),
                 Snapshot(100, 1e-6, {"A": true_A.clone()})]
    with torch.no_grad():
        func.A.fill_(7.0)  # the live parameters, which the slider must not change
    t = torch.linspace(0.0, 10.0, 101, dtype=dtype)
    y0 = torch.tensor([1.0, 0.0], dtype=dtype)
    return osc, func, snapshots, y0, t


# -- Lesson 05: the training-snapshot slider --------------------------------------------------


def test_training_snapshot_shows_each_snapshot_and_leaves_the_model_alone():
    osc, func, snapshots, y0, t = _oscillator_problem()
    untrained = training_snapshot_data(func, snapshots[0], y0, t, n=9, step_size=0.05)
    trained = training_snapshot_data(func, snapshots[1], y0, t, n=9, step_size=0.05)

    assert untrained["step"] == 0 and trained["step"] == 100 and trained["loss"] == 1e-6
    assert trained["trajectory"].shape == (101, 2)
    np.testing.assert_allclose(untrained["trajectory"], np.tile([1.0, 0.0], (101, 1)))
    np.testing.assert_allclose(trained["trajectory"], osc.exact(t.numpy(), y0.numpy()),
                               atol=1e-5)
    X, Y, U, V = trained["field"]
    assert X.shape == (9, 9)
    assert X[0, 0] == -2 and Y[-1, 0] == 2  # the default window (-2, 2) x (-2, 2), rows are y
    np.testing.assert_allclose(np.stack((U, V), -1), osc(0.0, np.stack((X, Y), -1)), atol=1e-12)
    assert np.all(untrained["field"][2] == 0)
    assert (func.A.detach() == 7.0).all()  # the slider does not change the model


def test_training_snapshot_field_follows_the_window_and_the_models_dtype():
    osc, func, snapshots, y0, t = _oscillator_problem(torch.float32)
    data = training_snapshot_data(func, snapshots[1], y0, t, xlim=(-1.5, 1.5), ylim=(-2.5, 2.5),
                                  n=5)
    X, Y, U, V = data["field"]
    assert X.min() == -1.5 and X.max() == 1.5 and Y.min() == -2.5 and Y.max() == 2.5
    assert U.dtype == np.float32  # evaluated in the module's precision, like the training
    np.testing.assert_allclose(V, -osc.omega_n**2 * X - 2 * osc.zeta * osc.omega_n * Y,
                               rtol=1e-6, atol=1e-6)


def test_training_snapshot_rejects_a_plain_function():
    _osc, _func, snapshots, y0, t = _oscillator_problem()
    with pytest.raises(TypeError, match="nn.Module"):
        training_snapshot_data(lambda t, y: y, snapshots[0], y0, t)
    with pytest.raises(TypeError, match="Snapshot"):
        training_snapshot_data(_Linear2(), {"A": torch.zeros(2, 2)}, y0, t)


def test_show_training_snapshot_draws(shown):
    osc, func, snapshots, y0, t = _oscillator_problem()
    reference = osc.exact(t.numpy(), y0.numpy())
    show_training_snapshot(func, snapshots[1], y0, t, reference=reference)
    assert len(shown) == 1 and len(shown[0].axes) == 2
    phase, series = shown[0].axes
    assert phase.get_title() == "step 100: learned field and rollout"
    assert series.get_title() == "window loss at this step: 1e-06"
    assert phase.get_xlim() == (-1.5, 1.5)


# -- Lesson 06: Lotka-Volterra by hand against the records ------------------------------------


def test_lotka_volterra_by_hand_matches_the_system_and_the_data():
    records = load_lynx_hare()
    rates = dict(alpha=0.55, beta=0.028, gamma=0.8, delta=0.024)
    data = lotka_volterra_by_hand_data(**rates, state0=(30.0, 4.0))
    np.testing.assert_array_equal(data["years"], records.years)
    np.testing.assert_array_equal(data["records"][:, 0], records.hare)
    np.testing.assert_array_equal(data["records"][:, 1], records.lynx)
    assert data["at_years"].shape == (21, 2) and data["curve"].shape == (161, 2)
    assert data["dense_years"][0] == 1900 and data["dense_years"][-1] == 1920
    np.testing.assert_allclose(data["at_years"][0], [30.0, 4.0])
    # the dense curve passes through the values at the years (every 8th point is a year)
    np.testing.assert_allclose(data["curve"][::8], data["at_years"], rtol=1e-6)
    invariant = LotkaVolterra(**rates).invariant(data["curve"])
    assert np.ptp(invariant) < 1e-4 * abs(invariant[0])  # a closed orbit, solved accurately
    expected = np.sqrt(np.mean((data["at_years"] - data["records"]) ** 2))
    assert data["rmse"] == pytest.approx(expected) and data["rmse"] > 1


def test_lotka_volterra_by_hand_rmse_responds_to_the_rates():
    a = lotka_volterra_by_hand_data(alpha=0.55, beta=0.028, gamma=0.8, delta=0.024,
                                    state0=(30.0, 4.0))
    b = lotka_volterra_by_hand_data(alpha=1.1, beta=0.028, gamma=0.8, delta=0.024,
                                    state0=(30.0, 4.0))
    assert np.abs(a["at_years"] - b["at_years"]).max() > 1
    assert a["rmse"] != b["rmse"]


@pytest.mark.parametrize("bad", [dict(alpha=-0.1), dict(beta=0.0), dict(gamma=True),
                                 dict(delta=float("inf")), dict(state0=(0.0, 4.0)),
                                 dict(state0=(1.0, 2.0, 3.0)), dict(n_dense=1)])
def test_lotka_volterra_by_hand_rejects_bad_input(bad):
    kwargs = dict(alpha=0.5, beta=0.03, gamma=0.8, delta=0.02, state0=(30.0, 4.0))
    kwargs.update(bad)
    with pytest.raises(ValueError):
        lotka_volterra_by_hand_data(**kwargs)


def test_show_lotka_volterra_by_hand_draws_the_fit_rmse_only(shown):
    from utils.widgets import _LOTKA_VOLTERRA_BY_HAND

    image = show_lotka_volterra_by_hand(0.55, 0.028, 0.8, 0.024, state0=(30.0, 4.0))
    assert shown == [] and image.data[:4] == b"\x89PNG"
    ax = _LOTKA_VOLTERRA_BY_HAND.parts["ax"]
    data = lotka_volterra_by_hand_data(alpha=0.55, beta=0.028, gamma=0.8, delta=0.024,
                                       state0=(30.0, 4.0))
    assert ax.get_title() == (f"fit RMSE 1900-1915: {data['fit_rmse']:.1f} thousand pelts "
                              "(tune on this)")
    assert f"{data['forecast_rmse']:.1f}" not in ax.get_title()
    assert len(ax.lines) == 4


def test_fit_and_forecast_rmse_split_the_years():
    data = lotka_volterra_by_hand_data(alpha=0.55, beta=0.028, gamma=0.8, delta=0.024,
                                       state0=(30.0, 4.0))
    diff = data["at_years"] - data["records"]
    assert data["fit_rmse"] == pytest.approx(np.sqrt(np.mean(diff[:16] ** 2)))
    assert data["forecast_rmse"] == pytest.approx(np.sqrt(np.mean(diff[16:] ** 2)))
    with pytest.raises(ValueError, match="n_fit"):
        lotka_volterra_by_hand_data(alpha=0.55, beta=0.028, gamma=0.8, delta=0.024,
                                    state0=(30.0, 4.0), n_fit=21)


def test_a_curve_off_the_scale_is_named():
    from utils.widgets import _LOTKA_VOLTERRA_BY_HAND

    show_lotka_volterra_by_hand(1.2, 0.005, 0.2, 0.06, state0=(30.0, 4.0))
    assert "off the scale" in _LOTKA_VOLTERRA_BY_HAND.parts["off_scale"].get_text()
    show_lotka_volterra_by_hand(0.55, 0.028, 0.8, 0.024, state0=(30.0, 4.0))
    assert _LOTKA_VOLTERRA_BY_HAND.parts["off_scale"].get_text() == ""



def test_show_training_snapshot_before_training_has_no_nan_title(shown):
    osc, func, snapshots, y0, t = _oscillator_problem()
    untrained = snapshots[0]._replace(loss=float("nan"))
    show_training_snapshot(func, untrained, y0, t, reference=osc.exact(t.numpy(), y0.numpy()))
    title = shown[0].axes[1].get_title()
    assert "nan" not in title and title == "before training (no loss yet)"


def test_show_training_snapshot_draws_precomputed_data_without_solving(shown):
    osc, func, snapshots, y0, t = _oscillator_problem()
    reference = osc.exact(t.numpy(), y0.numpy())
    data = training_snapshot_data(func, snapshots[1], y0, t, xlim=(-1.5, 1.5), ylim=(-2.5, 2.5),
                                  n=15, method="rk4")
    fresh = show_training_snapshot(func, snapshots[1], y0, t, reference=reference)
    calls = []
    original = func.forward
    func.forward = lambda *a: calls.append(1) or original(*a)
    cached = show_training_snapshot(func, snapshots[1], y0, t, reference=reference, data=data)
    assert calls == [] and cached.data == fresh.data
