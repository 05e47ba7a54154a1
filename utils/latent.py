"""Irregularly sampled time series (lesson 09): data, one encoder, two decoders, training, metrics.

The task: a damped oscillator, seen at a few random times with noise, in a window ``[0, t_split]``.
Predict its position at *any* time, inside the window (interpolation) and after it
(extrapolation). Both models read the observations with the same encoder and differ only in how
they move forward in time:

* :class:`GapGRUEncoder` runs a GRU over the observed points **backwards in time**, feeding it each
  point's value, the time gap to the point it read before, and its time
  (:func:`encode_backwards`), and maps its last hidden state to an initial latent state ``z0``
  (the state at ``t = 0``). With ``direction="forwards"`` it reads them in time order instead
  (:func:`encode_forwards`): lesson 09 trains both to measure what the reading direction does.
* :class:`LatentODEDecoder` solves ``dz/dt = f_theta(z)`` from ``z0`` and reads the position out of
  ``z(t)`` at the query times (:func:`latent_readout`): a function of continuous time.
* :class:`GRUDeltaTDecoder` steps a GRU once per query time, fed the gap since the previous query:
  a sequence model that is *told* the time but has to learn what to do with it.

This is the deterministic core of the latent ODE of Rubanova, Chen & Duvenaud, "Latent ODEs for
Irregularly-Sampled Time Series", NeurIPS 2019, arXiv:1907.03907. Their model is a variational
autoencoder (the encoder gives a distribution over ``z0``, trained by the ELBO) and their encoder
is an ODE-RNN (the hidden state also follows an ODE between observations); here the encoder is a
GRU told the gaps and times, and ``z0`` is a point. The GRU-Δt decoder is the simple recurrent
model fed the time gaps, like their "RNN-Δt" baseline.

Shapes: ``n_series`` (batch) first, time second: positions ``(batch, n_times)``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .models import ODEFunc, count_parameters
from .solvers import odeint
from .training import TrainHistory, train

__all__ = [
    "IrregularSeries",
    "oscillator_position",
    "irregular_oscillators",
    "random_query_times",
    "encode_backwards",
    "encode_forwards",
    "ENCODER_DIRECTIONS",
    "latent_readout",
    "GapGRUEncoder",
    "LatentODEDecoder",
    "GRUDeltaTDecoder",
    "SeriesModel",
    "make_model",
    "n_parameters",
    "train_model",
    "predict",
    "linear_interpolation",
    "mse",
    "split_mse",
    "prediction_sweep",
]


class IrregularSeries(NamedTuple):
    """Damped oscillators on a fine time grid, each observed at a random subset of its times.

    Attributes:
        t: the fine grid, shape ``(n_grid,)``, on ``[0, t_end]``.
        x: noisy positions on the whole grid, shape ``(n_series, n_grid)``; a model may only use
            them where ``mask`` is True.
        mask: which grid points of each series are observed, bool ``(n_series, n_grid)``; every
            series has the same number of them.
        truth: the noise-free positions on the grid, ``(n_series, n_grid)``.
        amplitude, phase: each series' parameters, ``(n_series,)`` (:func:`oscillator_position`).
        t_split: the end of the observation window the encoder may read (``t <= t_split``).
        zeta, omega: damping ratio and natural frequency, shared by every series.
    """

    t: np.ndarray
    x: np.ndarray
    mask: np.ndarray
    truth: np.ndarray
    amplitude: np.ndarray
    phase: np.ndarray
    t_split: float
    zeta: float
    omega: float

    @property
    def window(self) -> np.ndarray:
        """``mask`` restricted to the observation window: bool ``(n_series, n_grid)``."""
        return self.mask & (self.t <= self.t_split + 1e-9)[None, :]

    @property
    def n_window(self) -> int:
        """Number of grid points in the observation window (they come first on the grid)."""
        return int(np.sum(self.t <= self.t_split + 1e-9))

    def position(self, t) -> np.ndarray:
        """The noise-free positions at any times ``t`` (``(n,)`` or ``(n_series, n)``)."""
        return oscillator_position(t, self.amplitude, self.phase, zeta=self.zeta, omega=self.omega)


def oscillator_position(t, amplitude, phase, *, zeta: float, omega: float) -> np.ndarray:
    """Position of ``x'' + 2 zeta omega x' + omega^2 x = 0`` (underdamped) at times ``t``.

    ``x(t) = A exp(-zeta omega t) cos(omega_d t + phase)``, ``omega_d = omega sqrt(1 - zeta^2)``.

    Args:
        t: times, shape ``(n,)`` (shared by every series) or ``(n_series, n)``.
        amplitude, phase: shape ``(n_series,)``.
        zeta, omega: damping ratio in ``[0, 1)`` and natural frequency ``> 0``.

    Returns:
        Positions, shape ``(n_series, n)``.
    """
    if not (0 <= zeta < 1 and omega > 0):
        raise ValueError(f"need 0 <= zeta < 1 and omega > 0 (underdamped), got {zeta}, {omega}")
    t = np.asarray(t, dtype=float)
    t = t[None, :] if t.ndim == 1 else t
    a = np.asarray(amplitude, dtype=float)[:, None]
    p = np.asarray(phase, dtype=float)[:, None]
    omega_d = omega * math.sqrt(1 - zeta**2)
    return a * np.exp(-zeta * omega * t) * np.cos(omega_d * t + p)


def irregular_oscillators(
    n_series: int,
    *,
    fraction: float = 0.3,
    t_end: float = 10.0,
    t_split: float = 5.0,
    n_grid: int = 51,
    noise_std: float = 0.05,
    zeta: float = 0.05,
    omega: float = 2.0,
    amplitude_range: tuple[float, float] = (0.5, 1.5),
    seed: int = 0,
) -> IrregularSeries:
    """Draw ``n_series`` damped oscillators with random amplitude and phase, observed irregularly.

    Each series is observed at ``round(fraction * n_grid)`` grid points chosen at random (so
    the gaps between observations are uneven and differ between series), with Gaussian noise of
    standard deviation ``noise_std``. The same ``seed`` with a larger ``fraction`` observes the
    same series at a superset of the times, with the same noise on the shared points.

    Args:
        n_series: how many series (>= 1).
        fraction: share of the grid observed, in ``(0, 1]`` (at least 2 points are observed).
        t_end, n_grid: the fine grid ``linspace(0, t_end, n_grid)``.
        t_split: end of the observation window (what an encoder may read), ``0 < t_split < t_end``.
        noise_std: measurement noise (>= 0).
        zeta, omega: the oscillator (same for every series).
        amplitude_range: amplitudes are uniform in this range; phases uniform in ``[0, 2 pi)``.
        seed: seed of the ``numpy.random.default_rng`` that draws everything.

    Returns:
        :class:`IrregularSeries` (float64 arrays, bool mask).
    """
    if not (isinstance(n_series, int) and n_series >= 1):
        raise ValueError(f"n_series must be an int >= 1, got {n_series!r}")
    if not (isinstance(n_grid, int) and n_grid >= 2):
        raise ValueError(f"n_grid must be an int >= 2, got {n_grid!r}")
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction!r}")
    if not 0 < t_split < t_end:
        raise ValueError(f"need 0 < t_split < t_end, got t_split={t_split!r}, t_end={t_end!r}")
    if noise_std < 0:
        raise ValueError(f"noise_std must be >= 0, got {noise_std!r}")
    low, high = amplitude_range
    if not 0 < low <= high:
        raise ValueError(f"amplitude_range must be (low, high) with 0 < low <= high, got "
                         f"{amplitude_range!r}")
    rng = np.random.default_rng(seed)
    amplitude = rng.uniform(low, high, n_series)
    phase = rng.uniform(0.0, 2 * np.pi, n_series)
    noise = noise_std * rng.standard_normal((n_series, n_grid))
    order = np.argsort(rng.random((n_series, n_grid)), axis=1)  # a random order of the grid
    t = np.linspace(0.0, float(t_end), n_grid)
    truth = oscillator_position(t, amplitude, phase, zeta=zeta, omega=omega)
    k = max(2, round(fraction * n_grid))
    mask = np.zeros((n_series, n_grid), dtype=bool)
    np.put_along_axis(mask, order[:, :k], True, axis=1)  # the first k of the order: nested
    return IrregularSeries(t=t, x=truth + noise, mask=mask, truth=truth, amplitude=amplitude,
                           phase=phase, t_split=float(t_split), zeta=float(zeta),
                           omega=float(omega))


def random_query_times(n: int, *, n_series: int | None = None, t_end: float = 10.0,
                       resolution: float = 0.01, seed: int = 0) -> np.ndarray:
    """``n`` distinct sorted times drawn at random from ``resolution, 2 resolution, ..., t_end``:
    where a user asks for predictions.

    Returns ``(n,)`` (one set for every series) or, with ``n_series``, ``(n_series, n)`` (a set
    per series). The times lie on a fine grid so that a batch of per-series sets shares few
    distinct times (a latent ODE solves once at their union).
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    if n_series is not None and not (isinstance(n_series, int) and n_series >= 1):
        raise ValueError(f"n_series must be None or an int >= 1, got {n_series!r}")
    candidates = np.arange(1, round(t_end / resolution) + 1) * resolution
    if n > len(candidates):
        raise ValueError(f"n={n} is more than the {len(candidates)} times of the grid")
    rng = np.random.default_rng(seed)
    scores = rng.random((1 if n_series is None else n_series, len(candidates)))
    times = np.sort(candidates[np.argsort(scores, axis=1)[:, :n]], axis=1)
    return times[0] if n_series is None else times


# -- the encoder ---------------------------------------------------------------------------------


def encode_backwards(cell: nn.GRUCell, x: torch.Tensor, mask: torch.Tensor,
                     t: torch.Tensor) -> torch.Tensor:
    """Run ``cell`` over the observed points of each series from the last to the first.

    At each grid time ``t[i]``, going backwards, a series with ``mask[:, i]`` True updates its
    hidden state ``h <- cell([x_i, gap_i, t_i], h)``, where ``gap_i`` is the time from ``t[i]``
    to the observation this series read before (its next one in time), or to ``t[-1]`` for its
    first; a series without an observation at ``t[i]`` keeps its ``h``. ``h`` starts at zeros.

    Args:
        cell: ``nn.GRUCell(3, hidden)``; input features ``(value, gap, time)`` in that order.
            (With only value and gap, the GRU must add up gaps to know where it is in time;
            in trials while writing lesson 09, the time as a third input made it learn much
            faster at the lesson's budget.)
        x: values ``(batch, n_times)`` (ignored where not observed).
        mask: bool ``(batch, n_times)``: which points each series observed.
        t: grid times ``(n_times,)``, increasing (not necessarily evenly spaced).

    Returns:
        The hidden state after the earliest observation, ``(batch, hidden)``.
    """
    batch, n_times = x.shape
    h = x.new_zeros(batch, cell.hidden_size)
    t_before = t[-1].expand(batch)  # time of the observation read before, per series
    for i in reversed(range(n_times)):
        gap = t_before - t[i]
        h_new = cell(torch.stack((x[:, i], gap, t[i].expand(batch)), dim=-1), h)
        seen = mask[:, i]
        h = torch.where(seen[:, None], h_new, h)  # only observed points update h
        t_before = torch.where(seen, t[i], t_before)
    return h


def encode_forwards(cell: nn.GRUCell, x: torch.Tensor, mask: torch.Tensor,
                    t: torch.Tensor) -> torch.Tensor:
    """Run ``cell`` over the observed points of each series from the first to the last.

    The mirror image of :func:`encode_backwards`: at each grid time ``t[i]``, going forwards, a
    series with ``mask[:, i]`` True updates ``h <- cell([x_i, gap_i, t_i], h)``, where ``gap_i``
    is the time from the observation this series read before (its previous one in time), or from
    ``t[0]`` for its first, to ``t[i]`` (so gaps are >= 0 in both directions). ``h`` starts at
    zeros; a series without an observation at ``t[i]`` keeps its ``h``. The last update comes from
    the *latest* observation, the one farthest from ``t = 0``.

    Args and returns as :func:`encode_backwards`: ``cell`` ``nn.GRUCell(3, hidden)``; ``x``,
    ``mask`` ``(batch, n_times)``; ``t`` ``(n_times,)`` increasing; returns ``(batch, hidden)``.
    """
    batch, n_times = x.shape
    h = x.new_zeros(batch, cell.hidden_size)
    t_before = t[0].expand(batch)  # time of the observation read before, per series
    for i in range(n_times):
        gap = t[i] - t_before
        h_new = cell(torch.stack((x[:, i], gap, t[i].expand(batch)), dim=-1), h)
        seen = mask[:, i]
        h = torch.where(seen[:, None], h_new, h)  # only observed points update h
        t_before = torch.where(seen, t[i], t_before)
    return h


ENCODER_DIRECTIONS = {"backwards": encode_backwards, "forwards": encode_forwards}


class GapGRUEncoder(nn.Module):
    """Observations -> initial latent state ``z0``: a GRU reads them with their gaps
    (:func:`encode_backwards` or :func:`encode_forwards`; :meth:`forward` computes the same
    faster), then a linear map.

    Reading backwards (the default) means the last thing the GRU sees is the earliest
    observation, the one closest to ``t = 0`` where ``z0`` lives (Rubanova et al. 2019,
    section 3). ``direction="forwards"`` reads in time order, so the last thing it sees is the
    latest observation; lesson 09 trains both and compares them.

    Args:
        latent_dim: size of ``z0``; hidden: the GRU's hidden size.
        direction: ``"backwards"`` or ``"forwards"`` (keyword-only): the order in which the GRU
            reads the observations. Both directions create the same parameters in the same
            order, so one seed gives both the same initial weights.

    ``forward(x, mask, t)`` with ``x``, ``mask`` ``(batch, n_times)``, ``t`` ``(n_times,)`` returns
    ``z0`` ``(batch, latent_dim)``.
    """

    def __init__(self, latent_dim: int = 4, hidden: int = 16, *, direction: str = "backwards"):
        super().__init__()
        if direction not in ENCODER_DIRECTIONS:
            raise ValueError(f"direction must be one of {sorted(ENCODER_DIRECTIONS)}, got "
                             f"{direction!r}")
        self.direction = direction
        self.cell = nn.GRUCell(3, hidden)
        self.to_z0 = nn.Linear(hidden, latent_dim)

    def forward(self, x, mask, t):
        """``z0`` ``(batch, latent_dim)``: ``to_z0`` of what :func:`encode_backwards` (or
        :func:`encode_forwards`) returns, computed over the observed points only.

        The same updates in the same order (tests check it, gradients too), but faster: those
        functions step through every grid time while most series observe a few of them (a third,
        in lesson 09), so most steps change nothing. Here each series' observed points are first
        gathered in reading order with their gaps, and the loop runs once per point of the series
        that observed the most. (It is written here, not as a function of its own, so that
        withholding this method while Exercise 9.1 is checked withholds it all.)
        """
        backwards = self.direction == "backwards"
        batch, n_times = x.shape
        position = torch.arange(n_times).expand(batch, n_times)
        # Sorting puts each series' observed positions first, in reading order (unobserved ones,
        # keyed past either end, come last).
        key = torch.where(mask, position, -1 if backwards else n_times)
        count = mask.sum(dim=1)  # observations per series
        n_steps = int(count.max()) if batch else 0
        order = key.sort(dim=1, descending=backwards).values[:, :n_steps].clamp(0, n_times - 1)
        values, times = torch.gather(x, 1, order), t[order]  # (batch, n_steps), reading order
        start = t[-1] if backwards else t[0]  # where the first gap is measured from
        before = torch.cat((start.expand(batch, 1), times[:, :-1]), dim=1)
        gaps = before - times if backwards else times - before
        inputs = torch.stack((values, gaps, times), dim=-1)  # (batch, n_steps, 3)
        real = torch.arange(n_steps)[None, :] < count[:, None]  # False: a series ran out of points
        h = x.new_zeros(batch, self.cell.hidden_size)
        for k in range(n_steps):
            h = torch.where(real[:, k, None], self.cell(inputs[:, k], h), h)
        return self.to_z0(h)

    def extra_repr(self) -> str:
        return f"direction={self.direction!r}"


# -- decoder A: a latent ODE ---------------------------------------------------------------------


def latent_readout(func, readout: nn.Module, z0: torch.Tensor, t_query: torch.Tensor,
                   step_size: float) -> torch.Tensor:
    """Positions ``readout(z(t))`` at the query times, where ``dz/dt = func(t, z)``, ``z(0) = z0``.

    Solved with fixed-step RK4 (steps of ``step_size`` from ``t = 0``, ``utils.solvers.odeint``);
    an output time inside a step is interpolated, so the steps, and the prediction at any time,
    do not depend on which other times are asked for.

    Args:
        func: the latent dynamics ``func(t, z)``, ``z`` ``(batch, latent_dim)``.
        readout: maps ``(..., latent_dim)`` to ``(..., 1)``.
        z0: latent state at ``t = 0``, ``(batch, latent_dim)``.
        t_query: strictly increasing times ``>= 0``, ``(n_query,)``; may or may not start at 0.
        step_size: the RK4 step (> 0).

    Returns:
        ``(batch, n_query)``.
    """
    starts_at_zero = bool(t_query[0] == 0)
    t_solve = t_query if starts_at_zero else torch.cat((t_query.new_zeros(1), t_query))
    z = odeint(func, z0, t_solve, method="rk4", step_size=step_size)  # (n, batch, latent)
    if not starts_at_zero:
        z = z[1:]  # drop t = 0: it was only the start
    return readout(z).squeeze(-1).transpose(0, 1)


def _per_series(decode, z0, t_query):
    """Decode at shared (``(n,)``) or per-series (``(batch, n)``) query times.

    Per-series times are decoded at the sorted union of all of them, then each series picks its own.
    """
    if t_query.ndim == 1:
        return decode(z0, t_query)
    union, where = torch.unique(t_query, sorted=True, return_inverse=True)
    return torch.gather(decode(z0, union), 1, where)


class LatentODEDecoder(nn.Module):
    """``z0`` -> positions at any times: ``dz/dt = f_theta(z)`` (an :class:`ODEFunc`), then a
    linear read-out (:func:`latent_readout`).

    Args:
        latent_dim: size of ``z``; hidden: width of the dynamics' two hidden layers;
        step_size: the RK4 step used for training and prediction.

    ``forward(z0, t_query)``: ``z0`` ``(batch, latent_dim)``, ``t_query`` ``(n,)`` shared or
    ``(batch, n)`` per series (each row increasing, >= 0); returns ``(batch, n)``.
    """

    def __init__(self, latent_dim: int = 4, hidden: int = 32, step_size: float = 0.25):
        super().__init__()
        self.func = ODEFunc(latent_dim, hidden=hidden, layers=2)
        self.readout = nn.Linear(latent_dim, 1)
        self.step_size = step_size

    def forward(self, z0, t_query):
        def decode(z, t):
            return latent_readout(self.func, self.readout, z, t, self.step_size)

        return _per_series(decode, z0, t_query)


# -- decoder B: a GRU told the time gaps ---------------------------------------------------------


class GRUDeltaTDecoder(nn.Module):
    """``z0`` -> positions at query times by a GRU stepped once per query, fed the time gap.

    ``h_0 = tanh(W z0 + b)``; for each query ``t_k``: ``h_k = GRU(t_k - t_{k-1}, h_{k-1})`` with
    ``t_{-1} = 0``, and the prediction is a linear read-out of ``h_k``. The GRU is told how much
    time passed, but one query is one update whatever the gap: nothing forces it to treat two
    gaps of 0.1 like one gap of 0.2.

    Args:
        latent_dim: size of ``z0``; hidden: the GRU's hidden size.

    ``forward(z0, t_query)``: ``t_query`` ``(n,)`` shared or ``(batch, n)`` per series, each row
    increasing and >= 0; returns ``(batch, n)``.
    """

    def __init__(self, latent_dim: int = 4, hidden: int = 19):
        super().__init__()
        self.init = nn.Linear(latent_dim, hidden)
        self.cell = nn.GRUCell(1, hidden)
        self.readout = nn.Linear(hidden, 1)

    def forward(self, z0, t_query):
        if t_query.ndim == 1:
            t_query = t_query.expand(z0.shape[0], -1)
        gaps = torch.diff(t_query, dim=1, prepend=t_query.new_zeros(t_query.shape[0], 1))
        h = torch.tanh(self.init(z0))
        out = []
        for k in range(t_query.shape[1]):
            h = self.cell(gaps[:, k : k + 1], h)
            out.append(self.readout(h))
        return torch.cat(out, dim=1)


# -- the model, training, predictions ------------------------------------------------------------


class SeriesModel(nn.Module):
    """Encoder + decoder: ``forward(x, mask, t, t_query) = decoder(encoder(x, mask, t), t_query)``.

    ``x``, ``mask`` ``(batch, n_times)`` on the grid ``t`` ``(n_times,)``; returns ``(batch, n)``.
    """

    def __init__(self, encoder: GapGRUEncoder, decoder: nn.Module):
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x, mask, t, t_query):
        return self.decoder(self.encoder(x, mask, t), t_query)


def make_model(kind: str, *, seed: int, latent_dim: int = 4, encoder_hidden: int = 32,
               ode_hidden: int = 32, gru_hidden: int = 19, step_size: float = 0.5,
               direction: str = "backwards") -> SeriesModel:
    """A freshly initialised model, ``kind`` ``"latent_ode"`` or ``"gru_dt"``, seeded by ``seed``.

    The defaults give the two decoders nearly equal parameter counts (1,353 and 1,369), on top of
    the same encoder architecture (3,684). ``direction`` is the encoder's reading order,
    ``"backwards"`` or ``"forwards"`` (:class:`GapGRUEncoder`); with the same ``seed`` both start
    from the same weights.
    """
    if kind not in ("latent_ode", "gru_dt"):
        raise ValueError(f"kind must be 'latent_ode' or 'gru_dt', got {kind!r}")
    if direction not in ENCODER_DIRECTIONS:
        raise ValueError(f"direction must be one of {sorted(ENCODER_DIRECTIONS)}, got "
                         f"{direction!r}")
    torch.manual_seed(seed)
    encoder = GapGRUEncoder(latent_dim, encoder_hidden, direction=direction)
    decoder: nn.Module
    if kind == "latent_ode":
        decoder = LatentODEDecoder(latent_dim, ode_hidden, step_size)
    else:
        decoder = GRUDeltaTDecoder(latent_dim, gru_hidden)
    return SeriesModel(encoder, decoder)


#: Number of trainable parameters of a module: :func:`utils.models.count_parameters`, under the
#: name lesson 09 uses.
n_parameters = count_parameters


def _tensors(data: IrregularSeries, dtype=torch.float32):
    """``(t, x, window, mask)`` as tensors; ``x`` is zero where not observed (never used there)."""
    t = torch.tensor(data.t, dtype=dtype)
    x = torch.tensor(np.where(data.mask, data.x, 0.0), dtype=dtype)
    return t, x, torch.tensor(data.window), torch.tensor(data.mask)


def _encoder_inputs(data_tensors, n_window, rows=slice(None)):
    """The encoder's view: the grid points of the observation window only."""
    t, x, window, _ = data_tensors
    return x[rows, :n_window], window[rows, :n_window], t[:n_window]


def train_model(model: SeriesModel, data: IrregularSeries, *, n_steps: int = 300,
                batch_size: int = 64, n_queries: int = 15, lr: float = 1e-2,
                warmup: float = 0.5, seed: int = 0, progress: bool = True,
                desc: str = "training") -> TrainHistory:
    """Fit ``model`` by Adam: from the window's observations, predict other measured times.

    Each step takes ``batch_size`` random series. The encoder reads their observations in the
    window ``t <= t_split``; the decoder predicts each series at ``n_queries`` grid times drawn
    afresh (anywhere on ``[0, t_end]``, so also after the window); the loss is the mean squared
    difference from the noisy measurements there (``data.x``: training series are measured on
    the whole grid, but the encoder only ever sees the observed points of the window). Fresh
    query times each step mean a decoder cannot just replay the points the encoder read.

    Curriculum: the query times reach from ``t_split / 2`` to ``t_end`` over the first
    ``warmup * n_steps`` steps (later times are clamped and left out of the loss), as short
    windows did in lesson 05. The learning rate decays along a cosine to ``lr / 100``.

    Returns:
        :class:`utils.training.TrainHistory` (losses, wall time).
    """
    if not isinstance(model, SeriesModel):
        raise TypeError(f"model must be a SeriesModel (make_model), got {type(model).__name__}")
    for name, value in (("n_steps", n_steps), ("batch_size", batch_size), ("n_queries", n_queries)):
        if not (isinstance(value, int) and value >= 1):
            raise ValueError(f"{name} must be an int >= 1, got {value!r}")
    if n_queries > len(data.t):
        raise ValueError(f"n_queries={n_queries} is more than the {len(data.t)} grid times")
    tensors = _tensors(data)
    t = tensors[0]
    x_all = torch.tensor(data.x, dtype=t.dtype)  # the training series' measurements, whole grid
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=n_steps,
                                                          eta_min=lr / 100)
    t_start, t_end = data.t_split / 2, float(data.t[-1])

    def step(i):
        rows = torch.randint(0, len(data.x), (batch_size,), generator=generator)
        scores = torch.rand(batch_size, len(t), generator=generator)
        index = scores.argsort(dim=1)[:, :n_queries].sort(dim=1).values  # (batch, n_queries)
        t_query, target = t[index], torch.gather(x_all[rows], 1, index)
        horizon = t_start + (t_end - t_start) * min(1.0, i / max(1.0, warmup * n_steps))
        keep = t_query <= horizon + 1e-6
        optimizer.zero_grad()
        prediction = model(*_encoder_inputs(tensors, data.n_window, rows),
                           t_query.clamp(max=horizon))
        loss = ((prediction - target).pow(2) * keep).sum() / keep.sum()
        loss.backward()
        optimizer.step()
        schedule.step()
        return loss.item()

    return train(step, n_steps=n_steps, progress=progress, desc=desc)


def predict(model: SeriesModel, data: IrregularSeries, t_query) -> np.ndarray:
    """The model's positions at ``t_query`` for every series of ``data``, from the observations
    in its window.

    Args:
        t_query: ``(n,)`` shared or ``(n_series, n)`` per series; increasing, ``>= 0``.

    Returns:
        ``(n_series, n)`` float64 array.
    """
    inputs = _encoder_inputs(_tensors(data), data.n_window)
    with torch.no_grad():
        out = model(*inputs, torch.as_tensor(np.asarray(t_query), dtype=torch.float32))
    return out.double().numpy()


def linear_interpolation(data: IrregularSeries, t_query) -> np.ndarray:
    """Baseline: join each series' observations in the window by straight lines
    (``numpy.interp``: held constant before the first and after the last one); a series with no
    observation in the window gets 0.

    ``t_query`` ``(n,)`` or ``(n_series, n)``; returns ``(n_series, n)``.
    """
    t_query = np.asarray(t_query, dtype=float)
    t_query = np.broadcast_to(t_query, (len(data.x), t_query.shape[-1]))
    return np.stack([np.interp(tq, data.t[w], x[w]) if w.any() else np.zeros_like(tq)
                     for tq, x, w in zip(t_query, data.x, data.window, strict=True)])


def mse(prediction, target) -> float:
    """Mean squared error over all entries of two equal-shape arrays."""
    p, q = np.asarray(prediction, dtype=float), np.asarray(target, dtype=float)
    if p.shape != q.shape:
        raise ValueError(f"prediction has shape {p.shape} but target has shape {q.shape}")
    return float(np.mean((p - q) ** 2))


def split_mse(prediction, truth, t_query, t_split: float) -> tuple[float, float]:
    """``(interpolation MSE, extrapolation MSE)``: over query times ``<= t_split`` and after.

    ``prediction``, ``truth`` ``(n_series, n)``; ``t_query`` ``(n,)`` or ``(n_series, n)``.
    A part with no query time gives NaN.
    """
    p, q = np.asarray(prediction, dtype=float), np.asarray(truth, dtype=float)
    if p.shape != q.shape:
        raise ValueError(f"prediction has shape {p.shape} but truth has shape {q.shape}")
    inside = np.broadcast_to(np.asarray(t_query) <= t_split + 1e-9, p.shape)
    squared = (p - q) ** 2
    inner, outer = (float(np.mean(part)) if part.size else float("nan")
                    for part in (squared[inside], squared[~inside]))
    return inner, outer


def prediction_sweep(models: dict[str, SeriesModel], *, fractions, counts, n_series: int = 60,
                     n_shown: int = 4, seed: int = 2, query_seed: int = 0) -> dict:
    """What lesson 09's slider browses: trained models' predictions for new series, for every
    share of the grid observed (``fractions``) and number of query times (``counts``).

    For each fraction the same ``n_series`` series are drawn (:func:`irregular_oscillators` with
    ``seed``: more observed points of the same series, same noise); for each count, every series
    gets its own random query times (:func:`random_query_times`).

    Returns:
        A dict with ``t_fine`` ``(301,)`` and ``truth_fine`` ``(n_shown, 301)`` (the first
        ``n_shown`` series' truth), and ``cases[(fraction, count)]``: a dict with ``observed_t``
        and ``observed_x`` (lists of the shown series' window observations), ``t_query``
        ``(n_shown, count)``, ``predictions`` ``{name: (n_shown, count)}`` and ``mse``
        ``{name: (interpolation, extrapolation)}`` over all ``n_series`` series.
    """
    if not models:
        raise ValueError("models must map a name to at least one trained SeriesModel")
    cases = {}
    for fraction in fractions:
        data = irregular_oscillators(n_series, fraction=fraction, seed=seed)
        observed = [(data.t[w], x[w]) for x, w in zip(data.x[:n_shown], data.window[:n_shown],
                                                      strict=True)]
        for count in counts:
            t_query = random_query_times(count, n_series=n_series, seed=query_seed + count)
            truth = data.position(t_query)
            predictions, errors = {}, {}
            for name, model in models.items():
                p = predict(model, data, t_query)
                predictions[name] = p[:n_shown]
                errors[name] = split_mse(p, truth, t_query, data.t_split)
            cases[fraction, count] = {
                "observed_t": [t for t, _ in observed], "observed_x": [x for _, x in observed],
                "t_query": t_query[:n_shown], "predictions": predictions, "mse": errors,
            }
    t_fine = np.linspace(0.0, float(data.t[-1]), 301)
    return {"t_fine": t_fine, "truth_fine": data.position(t_fine)[:n_shown], "cases": cases}
