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
    assert np.ptp(v_ref) < 1e-8
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


def test_show_draws_without_error(shown):
    show_lotka_volterra_euler(0.05, 1.0, 0.1, 1.5, 0.075)
    assert len(shown) == 1 and len(shown[0].axes) == 3


def test_every_slider_is_a_data_function_and_a_show_function():
    """The module's convention: each ``show_X`` draws what ``X_data`` computes, both public."""
    from utils import widgets

    names = set(widgets.__all__)
    shows = {n.removeprefix("show_") for n in names if n.startswith("show_")}
    datas = {n.removesuffix("_data") for n in names if n.endswith("_data")}
    assert names == {f"show_{s}" for s in shows} | {f"{d}_data" for d in datas}
    assert shows == datas
    assert all(callable(getattr(widgets, n)) for n in names)
