"""Data sets of the course: a synthetic one made from a known ODE, and a real one shipped with it.

* :func:`damped_oscillator_dataset` (lesson 05): trajectories of the damped oscillator from
  random initial states, sampled from its exact solution.
* :func:`load_lynx_hare` (lesson 06): the Hudson's Bay Company lynx and hare pelts, 1900–1920, read
  from ``utils/data/hudson_bay_lynx_hare.csv``, which installs with the package (no download).
"""

from __future__ import annotations

import csv
import io
from importlib import resources
from typing import NamedTuple

import numpy as np

from .systems import DampedOscillator

__all__ = ["OscillatorData", "LynxHare", "damped_oscillator_dataset", "load_lynx_hare"]

LYNX_HARE_FILE = "hudson_bay_lynx_hare.csv"


class OscillatorData(NamedTuple):
    """Trajectories of a known system.

    Attributes:
        t: sample times, shape ``(n_times,)``.
        y: states, shape ``(n_times, n_trajectories, 2)``, time first, as ``odeint`` returns them.
        y0: initial states, shape ``(n_trajectories, 2)`` (equal to ``y[0]``).
    """

    t: np.ndarray
    y: np.ndarray
    y0: np.ndarray


class LynxHare(NamedTuple):
    """The Hudson's Bay Company pelt records (in thousands of pelts), one row per year.

    Attributes:
        years: shape ``(21,)``, 1900 ... 1920 (int).
        hare: snowshoe hare pelts, shape ``(21,)`` (float, thousands).
        lynx: Canadian lynx pelts, shape ``(21,)`` (float, thousands).
    """

    years: np.ndarray
    hare: np.ndarray
    lynx: np.ndarray


def damped_oscillator_dataset(
    *,
    n_trajectories: int = 10,
    n_times: int = 100,
    t_end: float = 5.0,
    position_range: float = 1.0,
    velocity_range: float = 2.0,
    noise_std: float = 0.0,
    system: DampedOscillator | None = None,
    seed: int = 0,
) -> OscillatorData:
    """Sample trajectories of ``x'' + 2 zeta omega_n x' + omega_n^2 x = 0`` from random starts.

    Initial states are uniform in ``[-position_range, position_range] x [-velocity_range,
    velocity_range]``; the states come from the system's exact solution at ``n_times`` evenly
    spaced times on ``[0, t_end]`` (so no solver error is baked into the data), plus Gaussian noise
    of standard deviation ``noise_std`` if asked for.

    Args (keyword-only):
        n_trajectories, n_times, t_end: how many trajectories, samples each, and the time span.
        position_range, velocity_range: half-widths of the box the initial states are drawn from.
        noise_std: standard deviation of Gaussian noise added to every sample (default 0: none).
        system: the oscillator; default ``DampedOscillator()`` (zeta=0.1, omega_n=2.0).
        seed: seed of the ``numpy.random.default_rng`` that draws starts and noise.

    Returns:
        :class:`OscillatorData` with ``t`` ``(n_times,)``, ``y`` ``(n_times, n_trajectories, 2)``,
        ``y0`` ``(n_trajectories, 2)``, all float64.
    """
    for name, value in (("n_trajectories", n_trajectories), ("n_times", n_times)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    for name, number in (("t_end", t_end), ("position_range", position_range),
                         ("velocity_range", velocity_range)):
        if not (isinstance(number, (int, float)) and number > 0):
            raise ValueError(f"{name} must be a number > 0, got {number!r}")
    if not (isinstance(noise_std, (int, float)) and noise_std >= 0):
        raise ValueError(f"noise_std must be a number >= 0, got {noise_std!r}")
    system = DampedOscillator() if system is None else system
    rng = np.random.default_rng(seed)
    half_widths = np.array([position_range, velocity_range], dtype=float)
    y0 = rng.uniform(-1.0, 1.0, size=(n_trajectories, 2)) * half_widths
    t = np.linspace(0.0, float(t_end), n_times)
    y = system.exact(t, y0)
    if noise_std > 0:
        y = y + noise_std * rng.standard_normal(y.shape)
    return OscillatorData(t=t, y=y, y0=y0)


def load_lynx_hare() -> LynxHare:
    """The Hudson's Bay Company lynx and snowshoe hare pelts, 1900–1920, in thousands.

    Source: Hudson's Bay Company fur records, as tabulated in P. Howard (2009), *Modeling Basics*
    (lecture notes, Math 442, Texas A&M University) and used in B. Carpenter (2018),
    "Predator-Prey Population Dynamics: the Lotka-Volterra model in Stan" (Stan case studies).
    The series goes back to C. G. Hewitt (1921), *The Conservation of the Wild Life of Canada*,
    and D. A. MacLulich (1937). Pelts traded are a proxy for the animal populations, not a census.

    The file is read with :mod:`importlib.resources`, so it works from an installed package too.

    Returns:
        :class:`LynxHare`: ``years`` (int, shape ``(21,)``), ``hare`` and ``lynx`` (float).
    """
    text = resources.files(__package__).joinpath("data", LYNX_HARE_FILE).read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    years = np.array([int(row["year"]) for row in rows])
    hare = np.array([float(row["hare_thousands"]) for row in rows])
    lynx = np.array([float(row["lynx_thousands"]) for row in rows])
    return LynxHare(years=years, hare=hare, lynx=lynx)
