"""The logic behind lesson sliders (utils.widgets), tested without a browser."""

import numpy as np
import pytest

from utils.systems import LotkaVolterra
from utils.widgets import lotka_volterra_euler_data, show_lotka_volterra_euler


def test_euler_slider_data_shapes_and_reference():
    data = lotka_volterra_euler_data(step_size=0.01)
    assert data["t"].shape == (501,)
    assert data["euler"].shape == data["reference"].shape == (501, 2)
    assert data["failure"] == ""
    # The reference conserves V; Euler drifts, and outwards (V grows).
    lv = LotkaVolterra()
    v_ref = lv.invariant(data["reference"])
    assert np.ptp(v_ref) < 1e-6
    assert data["drift"][-1] > 0.01


def test_smaller_step_means_smaller_drift():
    coarse = lotka_volterra_euler_data(step_size=0.01)["drift"][-1]
    fine = lotka_volterra_euler_data(step_size=0.0025)["drift"][-1]
    assert 3.5 < coarse / fine < 6.5  # first order: 4x smaller step, about 4x less drift


def test_parameters_reach_the_dynamics():
    a = lotka_volterra_euler_data(step_size=0.01, alpha=1.0)["reference"]
    b = lotka_volterra_euler_data(step_size=0.01, alpha=1.5)["reference"]
    assert np.abs(a - b).max() > 1


def test_bad_step_size_is_a_clear_error():
    with pytest.raises(ValueError, match="step_size must be > 0"):
        lotka_volterra_euler_data(step_size=0.0)


def test_show_redraws_one_persistent_figure_and_returns_its_png(shown):
    from utils.widgets import _LOTKA_VOLTERRA_EULER

    first = show_lotka_volterra_euler(0.05, 1.0, 0.1, 1.5, 0.075)
    fig = _LOTKA_VOLTERRA_EULER.parts["fig"]
    second = show_lotka_volterra_euler(0.02, 1.0, 0.1, 1.5, 0.075)
    assert _LOTKA_VOLTERRA_EULER.parts["fig"] is fig and len(fig.axes) == 3
    assert first.data[:8] == b"\x89PNG\r\n\x1a\n" and first.data != second.data
    assert fig.axes[0].get_title() == "Euler, h = 0.02"
    assert shown == []  # nothing goes through pyplot: interact displays the returned image


def test_reference_is_independent_and_accurate():
    # The cached RK4 reference against a tight dopri5 solve of the same problem.
    from utils.solvers import odeint

    data = lotka_volterra_euler_data(step_size=0.01, alpha=1.3, gamma=1.2)
    tight = odeint(LotkaVolterra(alpha=1.3, gamma=1.2), np.array([10.0, 5.0]), data["t"],
                   rtol=1e-11, atol=1e-11)
    assert np.abs(data["reference"] - tight).max() < 1e-5 * np.abs(tight).max()


def test_euler_leaving_the_physical_region_is_reported_not_drawn():
    data = lotka_volterra_euler_data(step_size=0.063, alpha=1.6, beta=0.06, gamma=2.0,
                                     delta=0.05)
    assert data["left_at"] is not None and 5 < data["left_at"] < 50
    assert "left the physical region" in data["failure"]
    after = data["t"] > data["left_at"]
    assert np.isnan(data["euler"][after]).all() and np.isnan(data["drift"][after]).all()
    before = data["t"] < data["left_at"] - 0.1
    assert (data["euler"][before] > 0).all() and np.isfinite(data["drift"][before]).all()


@pytest.mark.parametrize("h", [0.001, 0.063])
@pytest.mark.parametrize("rates", [(0.6, 0.06, 1.0, 0.05), (1.6, 0.15, 2.0, 0.1),
                                   (1.6, 0.06, 2.0, 0.05), (0.6, 0.15, 2.0, 0.1)])
def test_slider_extremes_warn_nothing(h, rates):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        show_lotka_volterra_euler(h, *rates)


def test_euler_matches_the_library_at_the_steps():
    from utils.solvers import odeint

    data = lotka_volterra_euler_data(step_size=0.05)  # steps land on the output grid
    assert data["left_at"] is None
    library = odeint(LotkaVolterra(), np.array([10.0, 5.0]), data["t"], method="euler",
                     step_size=0.05)
    assert np.abs(data["euler"] - library).max() < 1e-9


def test_every_slider_is_a_data_function_and_a_show_function():
    """The module's convention: each ``show_X`` draws what ``X_data`` computes, both public."""
    from utils import widgets

    names = set(widgets.__all__) - {"LiveFigure"}
    shows = {n.removeprefix("show_") for n in names if n.startswith("show_")}
    datas = {n.removesuffix("_data") for n in names if n.endswith("_data")}
    assert names == {f"show_{s}" for s in shows} | {f"{d}_data" for d in datas}
    assert shows == datas
    assert all(callable(getattr(widgets, n)) for n in names)


def test_slider_figures_are_stored_at_150_dpi_or_more():
    """What the site and the lab show of a slider is this PNG: at the course's dpi (issue 23)."""
    import io

    from PIL import Image

    from utils.plots import FIGURE_DPI
    from utils.widgets import show_resnet_spiral

    assert FIGURE_DPI >= 150
    for image in (show_lotka_volterra_euler(0.05, 1.0, 0.1, 1.5, 0.075), show_resnet_spiral(8)):
        with Image.open(io.BytesIO(image.data)) as png:
            assert png.info["dpi"][0] >= 150


def test_lesson01_slider_figure_stacks_its_panels_for_a_narrow_screen():
    """Time series on top, phase portrait and drift below: at most 8 inches wide, so that its
    text stays legible on a phone (a 13-inch row of three panels did not)."""
    from utils.widgets import _LOTKA_VOLTERRA_EULER

    show_lotka_volterra_euler(0.05, 1.0, 0.1, 1.5, 0.075)
    fig = _LOTKA_VOLTERRA_EULER.parts["fig"]
    assert fig.get_figwidth() <= 8
    top, left, right = (ax.get_position() for ax in fig.axes)
    assert top.y0 > max(left.y1, right.y1)  # a row of its own, above the other two
    assert abs(left.y0 - right.y0) < 1e-9 and left.x1 < right.x0
