"""Continuous normalizing flows (lesson 08): a density from the instantaneous change of variables.

A continuous normalizing flow moves points with an ODE ``dz/dt = f(z, t)``. If ``z(0)`` has
density ``p_0``, the density along a trajectory changes as (Chen et al. 2018, Theorem 1)::

    d log p(z(t)) / dt = -tr( df/dz (z(t), t) ).

Convention of this module (FFJORD's): the **data** live at ``t = 0`` and the **base** density,
a standard normal, at ``t = T``. To score a point ``x``, solve the *augmented* state
``[z, delta]`` from ``[x, 0]`` at ``t = 0`` to ``t = T`` with ``d delta/dt = -tr(df/dz)``; then
``log p(x) = log N(z(T); 0, I) - delta(T)``. To sample, draw ``z(T) ~ N(0, I)`` and solve
backwards from ``T`` to 0. The course solver (:func:`utils.solvers.odeint`) takes one tensor, so
the augmented state is the tensor ``(batch, dim + 1)``: ``state[:, :dim]`` is ``z``,
``state[:, dim]`` is ``delta``.

The trace is computed exactly (one backward pass per dimension: cheap in 2-D) or estimated with
Hutchinson's estimator ``eps^T (df/dz) eps`` (one backward pass whatever the dimension; unbiased,
but noisy), as in FFJORD.

The data: :class:`TwoMoons` is a mixture of Gaussians whose centres lie along the two half
circles of scikit-learn's ``make_moons``; its density is therefore known exactly, which gives the
log-likelihood ceiling any model can reach on it.

References:
    R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
    Equations", NeurIPS 2018, arXiv:1806.07366 (section 4: continuous normalizing flows).
    W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, "FFJORD: Free-form
    Continuous Dynamics for Scalable Reversible Generative Models", ICLR 2019, arXiv:1810.01367.
    M. F. Hutchinson, "A stochastic estimator of the trace of the influence matrix for Laplacian
    smoothing splines", Communications in Statistics - Simulation and Computation 18(3), 1989.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .solvers import odeint

__all__ = [
    "TwoMoons",
    "VectorField",
    "CNFDynamics",
    "exact_trace",
    "hutchinson_trace",
    "standard_normal_log_prob",
    "log_prob",
    "sample",
    "morph_frames",
    "MorphView",
]

LOG_2PI = math.log(2.0 * math.pi)


# -- the data, with its exact density -----------------------------------------------------------


@dataclass(frozen=True)
class TwoMoons:
    """Two moons as an equal-weight mixture of ``2 * n_per_moon`` Gaussians of std ``noise``.

    The centres are evenly spaced in angle along scikit-learn's two half circles,
    ``(cos a, sin a)`` and ``(1 - cos a, 0.5 - sin a)`` for ``a`` in ``[0, pi]``, shifted by
    ``-(0.5, 0.25)`` so the data's mean is near 0. With 100 centres per moon, neighbouring
    centres are 0.03 apart, well under ``noise = 0.1``: the density is a smooth band along each
    moon (the same picture as ``make_moons(noise=0.1)``), and because it *is* a finite mixture,
    :meth:`log_prob` is exact (a log-sum-exp over the centres) and :meth:`sample` draws from it
    exactly.

    Shapes: :meth:`sample` returns ``(n, 2)``; :meth:`log_prob` maps ``(n, 2) -> (n,)``.
    """

    noise: float = 0.1
    n_per_moon: int = 100

    def __post_init__(self):
        if not self.noise > 0:
            raise ValueError(f"noise must be > 0, got {self.noise!r}")
        if not (isinstance(self.n_per_moon, int) and self.n_per_moon >= 2):
            raise ValueError(f"n_per_moon must be an int >= 2, got {self.n_per_moon!r}")

    @property
    def centres(self) -> np.ndarray:
        """The mixture's centres, shape ``(2 * n_per_moon, 2)``."""
        a = np.linspace(0.0, np.pi, self.n_per_moon)
        outer = np.stack((np.cos(a), np.sin(a)), axis=1)
        inner = np.stack((1.0 - np.cos(a), 0.5 - np.sin(a)), axis=1)
        return np.concatenate((outer, inner)) - np.array([0.5, 0.25])

    def sample(self, n: int, *, seed: int) -> np.ndarray:
        """``n`` points drawn from the mixture (float64, shape ``(n, 2)``), reproducible by seed."""
        if not (isinstance(n, int) and n >= 1):
            raise ValueError(f"n must be an int >= 1, got {n!r}")
        rng = np.random.default_rng(seed)
        centres = self.centres
        which = rng.integers(len(centres), size=n)
        return centres[which] + self.noise * rng.standard_normal((n, 2))

    def log_prob(self, x) -> np.ndarray:
        """The exact log-density at ``x`` (array ``(n, 2)``), shape ``(n,)``, in nats."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[1] != 2:
            raise ValueError(f"x must have shape (n, 2), got {x.shape}")
        sq = ((x[:, None, :] - self.centres[None, :, :]) ** 2).sum(-1)  # (n, n_centres)
        log_terms = -0.5 * sq / self.noise**2 - LOG_2PI - 2 * math.log(self.noise)
        top = log_terms.max(axis=1, keepdims=True)
        mixture = np.log(np.exp(log_terms - top).mean(axis=1))  # equal weights 1 / n_centres
        return top[:, 0] + mixture


# -- the vector field and its trace ---------------------------------------------------------------


class VectorField(nn.Module):
    """``f_theta(z, t)``: an MLP on ``(z, t)`` with softplus hidden layers.

    Softplus (not ReLU) because the trace of the Jacobian must be smooth in ``z`` and ``theta``
    for the density to be smooth and trainable. With ``dim=2, hidden=64, layers=2`` each network
    has 4,546 parameters (3 -> 64 -> 64 -> 2).

    ``copies`` independent networks can live in one module, to train several seeds in one pass:
    the batch is split into ``copies`` equal consecutive blocks, block ``k`` goes through network
    ``k`` only (a batched matrix product), and rows never mix. With a loss that is the *sum* of
    each block's mean, every network gets exactly the gradient it would get alone, and Adam (which
    updates each parameter from its own gradient history) trains each exactly as a separate run
    would, for much less than ``copies`` times the time of one run (Python's overhead is shared).
    :meth:`select` takes one network out.

    Shapes: ``forward(t, z)`` takes ``t`` a scalar (float or 0-d tensor) and ``z`` of shape
    ``(batch, dim)``, ``batch`` a multiple of ``copies``; returns ``dz/dt`` of shape
    ``(batch, dim)``.
    """

    def __init__(self, dim: int = 2, *, hidden: int = 64, layers: int = 2, copies: int = 1):
        super().__init__()
        if min(dim, hidden, layers, copies) < 1:
            raise ValueError(f"dim, hidden, layers and copies must be >= 1, got {dim}, {hidden}, "
                             f"{layers}, {copies}")
        self.dim, self.hidden, self.layers, self.copies = dim, hidden, layers, copies
        sizes = [dim + 1] + [hidden] * layers + [dim]
        self.weights, self.biases = nn.ParameterList(), nn.ParameterList()
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            bound = 1.0 / math.sqrt(n_in)  # nn.Linear's default initialisation
            weight = torch.empty(copies, n_in, n_out).uniform_(-bound, bound)
            bias = torch.empty(copies, 1, n_out).uniform_(-bound, bound)
            self.weights.append(nn.Parameter(weight))
            self.biases.append(nn.Parameter(bias))

    def forward(self, t, z):
        if z.ndim != 2 or z.shape[1] != self.dim or z.shape[0] % self.copies:
            raise ValueError(f"VectorField(dim={self.dim}, copies={self.copies}) needs z of shape "
                             f"(batch, {self.dim}) with batch a multiple of {self.copies}, "
                             f"got {tuple(z.shape)}")
        t_column = torch.as_tensor(t, dtype=z.dtype).expand(z.shape[0], 1)
        h = torch.cat((z, t_column), dim=1).reshape(self.copies, -1, self.dim + 1)
        for i, (weight, bias) in enumerate(zip(self.weights, self.biases, strict=True)):
            h = torch.baddbmm(bias, h, weight)  # (copies, rows, n_out): network k on block k
            if i < len(self.weights) - 1:
                h = nn.functional.softplus(h)
        return h.reshape(z.shape[0], self.dim)

    def select(self, k: int) -> VectorField:
        """Network ``k`` of the copies, as a new ``VectorField`` with ``copies=1``."""
        if not 0 <= k < self.copies:
            raise ValueError(f"k must be in 0..{self.copies - 1}, got {k!r}")
        one = VectorField(self.dim, hidden=self.hidden, layers=self.layers)
        with torch.no_grad():
            for mine, theirs in zip(one.parameters(), self.parameters(), strict=True):
                mine.copy_(theirs[k : k + 1])
        return one.to(next(self.parameters()).dtype)


def exact_trace(f: torch.Tensor, z: torch.Tensor, *, create_graph: bool) -> torch.Tensor:
    """``tr(df/dz)`` for each row: ``f`` (batch, dim) computed from ``z`` (batch, dim) -> (batch,).

    One backward pass per dimension: ``d f[:, i] / d z[:, i]`` is column ``i`` of the gradient of
    ``f[:, i].sum()`` (rows do not mix, so summing over the batch is safe). ``create_graph=True``
    keeps the trace differentiable (training); ``False`` is enough to evaluate it.
    """
    trace = torch.zeros(z.shape[0], dtype=z.dtype)
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=create_graph,
                                      retain_graph=True)
        trace = trace + grad[:, i]
    return trace


def hutchinson_trace(f: torch.Tensor, z: torch.Tensor, noise: torch.Tensor, *,
                     create_graph: bool) -> torch.Tensor:
    """Hutchinson's estimate ``eps^T (df/dz) eps`` for each row -> (batch,).

    ``noise`` (batch, dim) has mean 0 and identity covariance (Rademacher +-1 or standard
    normal), so ``E[eps^T J eps] = tr J``. One vector-Jacobian product ``eps^T J`` whatever the
    dimension. For Rademacher noise in 2-D the estimate is ``tr J +- (J_12 + J_21)``, each sign
    with probability 1/2: unbiased, with variance ``(J_12 + J_21)^2`` (Hutchinson 1989; FFJORD).
    """
    (eps_jacobian,) = torch.autograd.grad(f, z, noise, create_graph=create_graph,
                                          retain_graph=True)
    return (eps_jacobian * noise).sum(dim=1)


class CNFDynamics(nn.Module):
    """The augmented dynamics ``d/dt [z, delta] = [f(z, t), -tr(df/dz)]`` on one tensor.

    Args:
        field: the vector field ``f(t, z)`` (e.g. :class:`VectorField`).
        trace: ``"exact"`` or ``"hutchinson"``.
        noise: for ``"hutchinson"``, the probe vectors ``(batch, dim)``, fixed for the whole
            solve (FFJORD does the same: one draw per solve, so the dynamics stay smooth in t).
        create_graph: ``True`` while training (the trace must be differentiable in theta, so the
            graph runs across solver steps). ``False`` to evaluate: every call then starts from
            a detached state, builds its small graph for the trace and frees it, and the memory
            does not grow with the number of steps (chaining ``create_graph`` graphs through a
            long adaptive solve is what blows memory up).

    Shapes: ``forward(t, state)`` with ``state`` (batch, dim + 1) returns (batch, dim + 1).
    ``nfe`` counts calls.
    """

    def __init__(self, field: nn.Module, *, trace: str = "exact", noise: torch.Tensor | None = None,
                 create_graph: bool = True):
        super().__init__()
        if trace not in ("exact", "hutchinson"):
            raise ValueError(f"trace must be 'exact' or 'hutchinson', got {trace!r}")
        if trace == "hutchinson" and noise is None:
            raise ValueError("trace='hutchinson' needs noise: a tensor (batch, dim) of probes")
        self.field, self.trace, self.noise, self.create_graph = field, trace, noise, create_graph
        self.nfe = 0

    def forward(self, t, state):
        self.nfe += 1
        with torch.enable_grad():
            z = state[:, :-1]
            if not self.create_graph:
                z = z.detach()
            if not z.requires_grad:
                z = z.requires_grad_(True)
            f = self.field(t, z)
            if self.trace == "exact":
                trace = exact_trace(f, z, create_graph=self.create_graph)
            else:
                trace = hutchinson_trace(f, z, self.noise, create_graph=self.create_graph)
        if not self.create_graph:
            f, trace = f.detach(), trace.detach()
        return torch.cat((f, -trace[:, None]), dim=1)


def standard_normal_log_prob(z: torch.Tensor) -> torch.Tensor:
    """``log N(z; 0, I)`` for each row of ``z`` (batch, dim) -> (batch,)."""
    return -0.5 * (z**2).sum(dim=1) - 0.5 * z.shape[1] * LOG_2PI


def log_prob(field: nn.Module, x: torch.Tensor, *, t_end: float = 1.0, method: str = "rk4",
             step_size: float | None = 0.25, rtol: float = 1e-6, atol: float = 1e-8,
             trace: str = "exact", noise: torch.Tensor | None = None, create_graph: bool = True,
             return_stats: bool = False):
    """The flow's log-density at the data points ``x`` (batch, dim) -> (batch,), in nats.

    Solves ``[z, delta]`` from ``[x, 0]`` at ``t = 0`` to ``t_end`` and returns
    ``log N(z(t_end)) - delta(t_end)``. Training: the defaults (rk4, 4 steps, differentiable).
    Evaluation: ``method="dopri5"`` with tight ``rtol``/``atol`` and ``create_graph=False``,
    under ``torch.no_grad()`` or not (the trace's own gradients are enabled inside).
    With ``return_stats=True`` returns ``(log p, SolveStats)``.
    """
    if x.ndim != 2:
        raise ValueError(f"x must have shape (batch, dim), got {tuple(x.shape)}")
    if not t_end > 0:
        raise ValueError(f"t_end must be > 0, got {t_end!r}")
    dynamics = CNFDynamics(field, trace=trace, noise=noise, create_graph=create_graph)
    state0 = torch.cat((x, torch.zeros(x.shape[0], 1, dtype=x.dtype)), dim=1)
    t = torch.tensor([0.0, t_end], dtype=x.dtype)
    options = dict(rtol=rtol, atol=atol) if method == "dopri5" else dict(step_size=step_size)
    states, stats = odeint(dynamics, state0, t, method=method, return_stats=True, **options)
    z_end, delta = states[-1, :, :-1], states[-1, :, -1]
    logp = standard_normal_log_prob(z_end) - delta
    return (logp, stats) if return_stats else logp


def sample(field: nn.Module, n: int, *, generator: torch.Generator, t_end: float = 1.0,
           times=None, method: str = "dopri5", rtol: float = 1e-5, atol: float = 1e-7,
           dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Draw ``n`` samples: ``z(t_end) ~ N(0, I)``, solved backwards in time to ``t = 0``.

    Only ``dz/dt = f`` is solved (no trace: sampling needs no density), under ``no_grad``.
    ``times``: decreasing output times from ``t_end`` to 0 (default ``[t_end, 0]``).
    Returns ``(n, dim)`` (the samples at t = 0), or ``(len(times), n, dim)`` if ``times`` is given.
    """
    if not (isinstance(n, int) and n >= 1):
        raise ValueError(f"n must be an int >= 1, got {n!r}")
    dim = getattr(field, "dim", 2)
    z_end = torch.randn(n, dim, generator=generator, dtype=dtype)
    t = torch.tensor([t_end, 0.0] if times is None else list(times), dtype=dtype)
    if not (t[0] == t_end and t[-1] == 0.0 and bool(torch.all(t[1:] < t[:-1]))):
        raise ValueError(f"times must decrease from t_end={t_end} to 0, got {t.tolist()}")
    with torch.no_grad():
        zs = odeint(field, z_end, t, method=method, rtol=rtol, atol=atol)
    return zs if times is not None else zs[-1]


# -- the slider of lesson 08: the base density morphing into the learned one ---------------------


def morph_frames(field: nn.Module, *, t_end: float = 1.0, n_frames: int = 9, grid: int = 60,
                 lim: tuple[float, float, float, float] = (-2.0, 2.0, -1.5, 1.5),
                 n_samples: int = 1000, seed: int = 0, steps_per_unit: int = 8) -> dict:
    """Precompute the slider's frames: the density ``p_t`` and samples at ``n_frames`` times.

    Frame ``k`` is the time ``t_k = t_end * (1 - k / (n_frames - 1))``: frame 0 is the base
    (standard normal, at ``t_end``), the last frame the learned density (``t = 0``). The density
    at ``t_k`` on the ``grid x grid`` points: solve ``[z, delta]`` from ``t_k`` to ``t_end``
    (rk4, ``steps_per_unit`` steps per unit of time, exact trace, no graph kept). The samples:
    one backward solve of ``n_samples`` base draws with output at every ``t_k``.

    Returns a dict: ``times`` (n_frames,), ``x``, ``y`` (grid,) the axes, ``density``
    (n_frames, grid, grid) with rows along ``y``, ``samples`` (n_frames, n_samples, 2), ``lim``.
    """
    if not (isinstance(n_frames, int) and n_frames >= 2):
        raise ValueError(f"n_frames must be an int >= 2, got {n_frames!r}")
    dtype = next(field.parameters()).dtype
    times = t_end * (1.0 - np.arange(n_frames) / (n_frames - 1))
    x = np.linspace(lim[0], lim[1], grid)
    y = np.linspace(lim[2], lim[3], grid)
    points = torch.tensor(np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2), dtype=dtype)
    dynamics = CNFDynamics(field, create_graph=False)
    density = np.empty((n_frames, grid, grid))
    for k, t_k in enumerate(times):
        if t_k >= t_end:
            logp = standard_normal_log_prob(points)
        else:
            n_steps = max(1, math.ceil((t_end - t_k) * steps_per_unit))
            state0 = torch.cat((points, torch.zeros(len(points), 1, dtype=dtype)), dim=1)
            t = torch.tensor([t_k, t_end], dtype=dtype)
            with torch.no_grad():
                end = odeint(dynamics, state0, t, method="rk4",
                             step_size=(t_end - t_k) / n_steps)[-1]
            logp = standard_normal_log_prob(end[:, :-1]) - end[:, -1]
        density[k] = logp.exp().reshape(grid, grid).numpy()
    generator = torch.Generator().manual_seed(seed)
    samples = sample(field, n_samples, generator=generator, t_end=t_end, times=times, dtype=dtype)
    return {"times": times, "x": x, "y": y, "density": density, "samples": samples.numpy(),
            "lim": lim}


class MorphView:
    """The slider's view of :func:`morph_frames`: ``view.show(k)`` returns frame ``k`` as a PNG.

    One persistent figure (:class:`utils.widgets.LiveFigure`), built on the first call; every
    later call only swaps the image's data and the samples' positions and renders, which keeps a
    slider move near the cost of rendering a trivial two-panel figure. The density's colours run
    from 0 to the frame's own peak (in the title): the base's peak is about 0.16, the moons'
    several times higher. ``data`` (n, 2), if given, is drawn in grey under the samples.

    Use: ``interact(MorphView(frames, data=x).show, k=IntSlider(...))`` (``interact`` displays
    the returned image).
    """

    def __init__(self, frames: dict, *, data: np.ndarray | None = None):
        from .widgets import LiveFigure

        self.frames, self.data = frames, data
        self.live = LiveFigure(self._build)

    def _build(self):
        from matplotlib.figure import Figure

        from .plots import FIGURE_DPI

        lim = self.frames["lim"]
        fig = Figure(figsize=(10, 3.8), dpi=FIGURE_DPI)
        axes = fig.subplots(1, 2)
        image = axes[0].imshow(self.frames["density"][0], origin="lower", extent=lim,
                               cmap="viridis", aspect="auto")
        if self.data is not None:
            axes[1].plot(self.data[:, 0], self.data[:, 1], ".", ms=2, color="0.8")
        (points,) = axes[1].plot([], [], ".", ms=2, color="C3")
        axes[1].set(xlim=lim[:2], ylim=lim[2:])
        for ax in axes:
            ax.set(xlabel="$x_1$", ylabel="$x_2$", title="placeholder: the layout keeps room")
        fig.tight_layout()
        return {"fig": fig, "axes": axes, "image": image, "points": points}

    def show(self, k: int):
        """Frame ``k`` (0: the base at ``t_end``, last: the learned density at 0) as a PNG."""
        times = self.frames["times"]
        if not 0 <= k < len(times):
            raise ValueError(f"k must be in 0..{len(times) - 1}, got {k!r}")
        parts = self.live.parts
        peak = float(self.frames["density"][k].max())
        parts["image"].set_data(self.frames["density"][k])
        parts["image"].set_clim(0.0, peak)
        samples = self.frames["samples"][k]
        parts["points"].set_data(samples[:, 0], samples[:, 1])
        parts["axes"][0].set_title(f"density p_t at t = {times[k]:.2f} (peak {peak:.2f})")
        parts["axes"][1].set_title(f"{len(samples)} samples at t = {times[k]:.2f}")
        return self.live.png()
