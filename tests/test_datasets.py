"""Tests of utils.datasets: the shipped lynx–hare file and the synthetic oscillator data."""

import numpy as np
import pytest

from utils.datasets import damped_oscillator_dataset, load_lynx_hare
from utils.systems import DampedOscillator


def test_lynx_hare_has_the_21_years_and_known_values():
    data = load_lynx_hare()
    assert data.years.tolist() == list(range(1900, 1921))
    assert data.hare.shape == data.lynx.shape == (21,)
    # spot values from the source table (thousands of pelts)
    assert (data.hare[0], data.lynx[0]) == (30.0, 4.0)
    assert (data.hare[4], data.lynx[4]) == (36.3, 59.4)
    assert (data.hare[-1], data.lynx[-1]) == (24.7, 8.6)
    assert (data.hare > 0).all() and (data.lynx > 0).all()


def test_lynx_hare_ships_with_its_source_note():
    from importlib import resources

    note = resources.files("utils").joinpath("data", "README.md").read_text("utf-8")
    for source in ("Hudson's Bay Company", "Howard (2009)", "Carpenter (2018)", "Hewitt (1921)",
                   "MacLulich (1937)", "proxy"):
        assert source in note


def test_oscillator_dataset_shapes_and_exactness():
    data = damped_oscillator_dataset(n_trajectories=4, n_times=501, t_end=5.0, seed=1)
    assert data.t.shape == (501,) and data.y.shape == (501, 4, 2) and data.y0.shape == (4, 2)
    np.testing.assert_array_equal(data.y[0], data.y0)
    assert data.t[0] == 0.0 and data.t[-1] == 5.0
    # the data are the exact solution: they satisfy the ODE (central differences)
    dt = data.t[1] - data.t[0]
    derivative = (data.y[2:] - data.y[:-2]) / (2 * dt)
    np.testing.assert_allclose(derivative, DampedOscillator()(0.0, data.y[1:-1]), atol=1e-3)


def test_oscillator_dataset_is_seeded_and_respects_the_box():
    a = damped_oscillator_dataset(seed=0)
    b = damped_oscillator_dataset(seed=0)
    c = damped_oscillator_dataset(seed=1)
    np.testing.assert_array_equal(a.y, b.y)
    assert not np.array_equal(a.y0, c.y0)
    assert (np.abs(a.y0[:, 0]) <= 1.0).all() and (np.abs(a.y0[:, 1]) <= 2.0).all()


def test_oscillator_noise_is_added():
    clean = damped_oscillator_dataset(seed=0)
    noisy = damped_oscillator_dataset(seed=0, noise_std=0.1)
    assert 0.05 < np.std(noisy.y - clean.y) < 0.2


@pytest.mark.parametrize("kwargs", [
    {"n_trajectories": 0}, {"n_times": 2.5}, {"t_end": -1.0}, {"noise_std": -0.1},
    {"velocity_range": 0},
])
def test_oscillator_dataset_rejects_bad_input(kwargs):
    with pytest.raises(ValueError):
        damped_oscillator_dataset(**kwargs)
