"""What the lessons' sliders compute and draw, kept out of the notebooks so tests can check it.

Each slider is a pure ``*_data`` function (numbers in, arrays out: tested in ``tests/``) and a
``show_*`` function that draws that data; the lesson wires ``show_*`` to ``ipywidgets.interact``.
"""

from __future__ import annotations

import functools
import io
import math
import numbers
import textwrap
import weakref

import numpy as np
import torch
from matplotlib.figure import Figure

from . import plots
from .arrays import field_on_grid, to_numpy
from .datasets import load_lynx_hare
from .plots import FIGURE_DPI
from .solvers import SolverError, check_solver_options, odeint
from .systems import LinearSpiral, LotkaVolterra
from .tableaus import TABLEAUS
from .training import Snapshot, restored, rmse

__all__ = [
    "LiveFigure",
    "lotka_volterra_euler_data",
    "show_lotka_volterra_euler",
    "resnet_spiral_data",
    "show_resnet_spiral",
    "adaptive_steps_data",
    "show_adaptive_steps",
    "solver_cost_data",
    "show_solver_cost",
    "training_snapshot_data",
    "show_training_snapshot",
    "lotka_volterra_by_hand_data",
    "show_lotka_volterra_by_hand",
]


class LiveFigure:
    """A slider's figure, built once and redrawn in place (``set_data``) on every slider move.

    Re-creating a figure, its axes and its layout on every move is what made a slider slow; here
    ``build()`` runs once, each callback only updates its artists, and :meth:`png` renders the one
    PNG the cell shows (no second "tight bbox" pass: the layout was fixed when the figure was
    built). The figure is a plain :class:`matplotlib.figure.Figure`, not registered with pyplot, so
    ``plt.show()`` elsewhere never shows it twice. The callback *returns* :meth:`png`'s image and
    ``ipywidgets.interact`` displays it.
    """

    def __init__(self, build):
        self._build = build
        self._parts = None

    @property
    def parts(self):
        """Whatever ``build()`` returned (a dict: the figure and the artists to update)."""
        if self._parts is None:
            self._parts = self._build()
        return self._parts

    def png(self):
        return _png(self.parts["fig"])


def _png(fig):
    """The figure as an IPython PNG image, rendered once at the figure's own dpi
    (:data:`utils.plots.FIGURE_DPI`). zlib's fastest level: at 150 dpi the default level's
    compression took as long as drawing the figure, for files only ~10% smaller."""
    from IPython.display import Image

    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
    return Image(data=buffer.getvalue(), format="png")


def _joined(trajectories) -> np.ndarray:
    """``(n_times, batch, 2)`` trajectories as one ``((n_times + 1) * batch, 2)`` polyline, the
    members separated by NaN rows (Matplotlib leaves a gap at NaN): one artist for a batch."""
    ys = to_numpy(trajectories).reshape(len(trajectories), -1, 2)
    gap = np.full((1, ys.shape[1], 2), np.nan)
    return np.concatenate((ys, gap), axis=0).transpose(1, 0, 2).reshape(-1, 2)


_LAID_OUT: weakref.WeakSet = weakref.WeakSet()  # figures whose axes _image placed already


def _image(fig):
    """The PNG image of a slider's figure, rendered once: laid out as ``tight_layout`` would,
    without the second drawing pass that a layout engine or the inline backend's tight bounding
    box costs. A figure that is redrawn in place (a :class:`LiveFigure`) is laid out on its
    first image only: the layout pass costs as much as the render. The show functions return it
    and ``interact`` displays it; ``image.figure`` keeps the figure (for tests)."""
    if fig not in _LAID_OUT:
        _fixed_tight_layout(fig)
        _LAID_OUT.add(fig)
    image = _png(fig)
    image.figure = fig
    return image


def _fixed_margins(fig, **margins):
    """Place the axes with fixed margins (``Figure.subplots_adjust``) and mark the figure laid
    out: for a figure built anew on every move, the layout pass of :func:`_image` would cost as
    much as its render. The margins must leave room for the figure's longest labels and titles
    (each use is drawn at both ends of its slider in ``tests/``)."""
    fig.subplots_adjust(**margins)
    _LAID_OUT.add(fig)


def _fixed_tight_layout(fig, **kwargs):
    """Place the axes once, as ``tight_layout`` would, without installing a layout engine:
    a figure with a layout engine is drawn twice per ``savefig`` (a layout pass, then the
    render), which doubles a slider's redraw time."""
    from matplotlib.layout_engine import TightLayoutEngine

    TightLayoutEngine(**kwargs).execute(fig)


def _lotka_volterra_steps(method, rates, y0, h, n_steps, stop_at_zero):
    """Fixed steps of Euler or RK4 on Lotka–Volterra in plain Python floats.

    Two numbers per state make NumPy's per-call overhead dominate (``odeint`` on an array of
    shape (2,) takes ~20 us a step); plain floats take ~1 us, which is what lets the lesson 01
    slider re-solve within a frame. Returns lists of x and y at the steps' ends (``n_steps + 1``
    values, fewer if ``stop_at_zero`` and a population reached <= 0 or overflowed).
    """
    a, b, g, d = rates
    x, y = float(y0[0]), float(y0[1])
    xs, ys = [x], [y]
    for _ in range(n_steps):
        if method == "euler":
            x, y = x + h * (a * x - b * x * y), y + h * (d * x * y - g * y)
        else:
            k1x, k1y = a * x - b * x * y, d * x * y - g * y
            x2, y2 = x + h / 2 * k1x, y + h / 2 * k1y
            k2x, k2y = a * x2 - b * x2 * y2, d * x2 * y2 - g * y2
            x3, y3 = x + h / 2 * k2x, y + h / 2 * k2y
            k3x, k3y = a * x3 - b * x3 * y3, d * x3 * y3 - g * y3
            x4, y4 = x + h * k3x, y + h * k3y
            k4x, k4y = a * x4 - b * x4 * y4, d * x4 * y4 - g * y4
            x = x + h / 6 * (k1x + 2 * k2x + 2 * k3x + k4x)
            y = y + h / 6 * (k1y + 2 * k2y + 2 * k3y + k4y)
        xs.append(x)
        ys.append(y)
        if stop_at_zero and not (0 < x < 1e12 and 0 < y < 1e12):
            break
    return xs, ys


@functools.lru_cache(maxsize=256)
def _lotka_volterra_reference(rates, y0, t_end, n_points):
    """RK4 with h = 0.01 on the output grid (relative error below 1e-5 on the lesson's orbits,
    tested: a reference for the eye), cached per parameter set so that moving ``h`` never
    re-solves it."""
    per_interval = max(1, math.ceil(t_end / (n_points - 1) / 0.01 - 1e-9))
    h = t_end / (n_points - 1) / per_interval
    xs, ys = _lotka_volterra_steps("rk4", rates, y0, h, per_interval * (n_points - 1), False)
    out = np.stack((xs, ys), axis=-1)[::per_interval]
    out.setflags(write=False)
    return out


def lotka_volterra_euler_data(
    *,
    step_size: float,
    alpha: float = 1.0,
    beta: float = 0.1,
    gamma: float = 1.5,
    delta: float = 0.075,
    y0=(10.0, 5.0),
    t_end: float = 50.0,
    n_points: int = 501,
) -> dict:
    """Euler with ``step_size`` against a reference, on Lotka–Volterra over ``[0, t_end]``.

    Euler's states between its steps are its own straight segments (linear interpolation onto
    the output grid). The reference is RK4 with steps of 0.01 or less (relative error below
    1e-5 here, far below what the figure resolves), cached per parameter set.

    Returns a dict with ``t`` (n_points,), ``euler`` and ``reference`` (n_points, 2),
    ``drift`` (n_points,): the relative change of the conserved quantity under Euler,
    ``(V(t) - V(0)) / |V(0)|``; ``left_at``: None, or the time of the first Euler step that made
    a population <= 0 (past zero the model means nothing and blows up, so ``euler`` and
    ``drift`` are NaN from that step on); and ``failure``: ``""`` or that fact in words.
    """
    if not step_size > 0:
        raise ValueError(f"step_size must be > 0, got {step_size}")
    rates = (float(alpha), float(beta), float(gamma), float(delta))
    if not all(r > 0 for r in rates):
        raise ValueError(f"alpha, beta, gamma, delta must be > 0, got {rates}")
    y0 = (float(y0[0]), float(y0[1]))
    system = LotkaVolterra(*rates)
    t = np.linspace(0.0, t_end, n_points)
    reference = _lotka_volterra_reference(rates, y0, float(t_end), int(n_points))
    n_steps = max(1, math.ceil(t_end / step_size - 1e-9))
    xs, ys = _lotka_volterra_steps("euler", rates, y0, float(step_size), n_steps, True)
    step_times = np.minimum(np.arange(len(xs)) * float(step_size), t_end)
    left_at = None
    if len(xs) < n_steps + 1 or not (xs[-1] > 0 and ys[-1] > 0):
        left_at = float(step_times[-1])
        xs, ys, step_times = xs[:-1], ys[:-1], step_times[:-1]
    euler = np.full((n_points, 2), np.nan)
    inside = t <= step_times[-1] + 1e-12
    euler[inside, 0] = np.interp(t[inside], step_times, xs)
    euler[inside, 1] = np.interp(t[inside], step_times, ys)
    drift = np.full(n_points, np.nan)
    v0 = system.invariant(np.asarray(y0))
    drift[inside] = (system.invariant(euler[inside]) - v0) / abs(v0)
    failure = "" if left_at is None else (
        f"Euler left the physical region at t = {left_at:.3g}: a population fell to <= 0")
    return {"t": t, "euler": euler, "reference": reference, "drift": drift,
            "left_at": left_at, "failure": failure}


def _build_lotka_volterra_euler():
    # Two rows, not three panels side by side: on a phone's screen a 13-inch row of three panels
    # shrank its text to a third of its size. The time series spans the top row; the phase
    # portrait and the drift share the bottom one.
    fig = Figure(figsize=(6.5, 5.4), dpi=FIGURE_DPI)
    grid = fig.add_gridspec(2, 2)
    axes = [fig.add_subplot(grid[0, :]), fig.add_subplot(grid[1, 0]),
            fig.add_subplot(grid[1, 1])]
    lines = {}
    for i, (name, color) in enumerate((("prey", "tab:green"), ("predators", "tab:red"))):
        lines[f"ref{i}"], = axes[0].plot([], [], color=color, lw=1, alpha=0.5,
                                         label=f"{name} (reference)")
        lines[f"euler{i}"], = axes[0].plot([], [], color=color, lw=2, ls="--",
                                           label=f"{name} (Euler)")
    axes[0].set(xlabel="t", ylabel="population", xlim=(0, 50))
    axes[0].legend(fontsize=8, loc="upper right", ncol=2)
    lines["ref_phase"], = axes[1].plot([], [], color="k", lw=1, label="reference")
    lines["euler_phase"], = axes[1].plot([], [], color="tab:purple", lw=1.5, ls="--",
                                         label="Euler")
    axes[1].set(xlabel="prey", ylabel="predators", title="phase portrait")
    axes[1].legend(fontsize=9, loc="upper right")
    lines["drift"], = axes[2].plot([], [], color="tab:purple")
    axes[2].axhline(0, color="k", lw=0.8)
    axes[2].set(xlabel="t", ylabel="(V(t) - V(0)) / |V(0)|", xlim=(0, 50),
                title="drift of the conserved V")
    lines["left"] = axes[2].axvline(np.nan, color="tab:red", lw=1, ls=":")
    _fixed_tight_layout(fig, rect=(0, 0, 1, 0.89))  # room for a two-line suptitle
    return {"fig": fig, "axes": axes, "lines": lines,
            "suptitle": fig.suptitle("", fontsize=10, color="tab:red")}


_LOTKA_VOLTERRA_EULER = LiveFigure(_build_lotka_volterra_euler)


def show_lotka_volterra_euler(step_size, alpha, beta, gamma, delta):
    """Draw :func:`lotka_volterra_euler_data` (time series, phase portrait, drift of V) on one
    persistent figure and return it as a PNG image (``interact`` displays the return value).

    The frame follows the reference orbit (1.6x its largest populations), so Euler's outward
    spiral shows against the true orbit. If Euler makes a population negative the curves stop
    there, a dotted line marks when, and the title says so.
    """
    data = lotka_volterra_euler_data(
        step_size=step_size, alpha=alpha, beta=beta, gamma=gamma, delta=delta
    )
    parts = _LOTKA_VOLTERRA_EULER.parts
    lines, axes = parts["lines"], parts["axes"]
    t, euler, reference = data["t"], data["euler"], data["reference"]
    for i in range(2):
        lines[f"ref{i}"].set_data(t, reference[:, i])
        lines[f"euler{i}"].set_data(t, euler[:, i])
    lines["ref_phase"].set_data(reference[:, 0], reference[:, 1])
    lines["euler_phase"].set_data(euler[:, 0], euler[:, 1])
    lines["drift"].set_data(t, data["drift"])
    # The frame follows the true orbit (1.6x its largest populations), not Euler's excursions.
    top = 1.6 * reference.max(axis=0)
    axes[0].set_ylim(0, top.max())
    axes[1].set(xlim=(0, top[0]), ylim=(0, top[1]))
    drift = data["drift"][np.isfinite(data["drift"])]
    low, high = (min(0.0, drift.min()), max(0.0, drift.max())) if drift.size else (0.0, 0.0)
    pad = max(0.01, 0.1 * (high - low))
    axes[2].set_ylim(low - pad, high + pad)
    left = data["left_at"]
    lines["left"].set_xdata([np.nan if left is None else left] * 2)
    axes[0].set_title(f"Euler, h = {step_size:.4g}")
    parts["suptitle"].set_text(
        "" if left is None else data["failure"] + "\n(past zero the model means nothing)")
    return _LOTKA_VOLTERRA_EULER.png()


# -- Lesson 02: the depth of a residual stack on the spiral -----------------------------------


def resnet_spiral_data(
    *, n_blocks: int, t_end: float = 10.0, y0=(2.0, 0.0), n_fine: int = 401
) -> dict:
    """A weight-shared residual stack of ``n_blocks`` Euler steps on the damped spiral.

    The spiral is :class:`utils.systems.LinearSpiral` (``dz/dt = (-0.5 + i) z``); block ``n`` is
    the Euler step ``h <- h + dt f(h)`` with ``dt = t_end / n_blocks``, so one block multiplies
    the norm by ``|1 + dt (-0.5 + i)|`` (Lesson 02, section 2).

    Returns a dict with ``t`` (n_blocks + 1,) the blocks' times; ``resnet`` and ``exact``
    (n_blocks + 1, 2) the stack's states and the exact flow at those times; ``t_fine``
    (n_fine,) and ``exact_fine`` (n_fine, 2) the exact flow on a fine grid, for drawing;
    ``dt``; ``growth``: the norm factor per block, measured as
    ``(|h_N| / |h_0|) ** (1 / N)``; ``gap``: ``|h_N - flow(t_end)|``.
    """
    if isinstance(n_blocks, bool) or not isinstance(n_blocks, numbers.Integral) or n_blocks < 1:
        raise ValueError(f"n_blocks must be an int >= 1, got {n_blocks!r}")
    if not t_end > 0:
        raise ValueError(f"t_end must be > 0, got {t_end!r}")
    n_blocks = int(n_blocks)
    system = LinearSpiral()
    y0 = np.asarray(y0, dtype=float)
    if y0.shape != (2,):
        raise ValueError(f"y0 must be one 2-D state, shape (2,), got shape {y0.shape}")
    t = np.linspace(0.0, t_end, n_blocks + 1)
    resnet = odeint(system, y0, t, method="euler")  # one Euler step per interval of t
    exact = system.exact(t, y0)
    t_fine = np.linspace(0.0, t_end, n_fine)
    growth = (np.linalg.norm(resnet[-1]) / np.linalg.norm(y0)) ** (1 / n_blocks)
    return {
        "t": t,
        "resnet": resnet,
        "exact": exact,
        "t_fine": t_fine,
        "exact_fine": system.exact(t_fine, y0),
        "dt": t_end / n_blocks,
        "growth": float(growth),
        "gap": float(np.linalg.norm(resnet[-1] - exact[-1])),
    }


def _blank_axes(figsize, **margins):
    """A slider's persistent figure with one axes at fixed margins: each move clears the axes
    and draws again, without a new figure or a layout pass."""
    fig = Figure(figsize=figsize, dpi=FIGURE_DPI)
    _fixed_margins(fig, **margins)
    return {"fig": fig, "ax": fig.subplots()}


_RESNET_SPIRAL = LiveFigure(
    functools.partial(_blank_axes, (5.5, 5.5), left=0.12, right=0.97, bottom=0.1, top=0.93))


def show_resnet_spiral(n_blocks):
    """Draw :func:`resnet_spiral_data`: the stack's states over the exact flow, phase plane."""
    data = resnet_spiral_data(n_blocks=n_blocks)
    label = f"{n_blocks} blocks"
    ax = _RESNET_SPIRAL.parts["ax"]
    ax.clear()
    plots.phase_portrait(
        {"exact flow": data["exact_fine"], label: data["resnet"]},
        ax=ax,
        styles={"exact flow": {"color": "black", "lw": 2}, label: {"marker": "o", "ms": 3}},
        limits=(-5, 5, -5, 5),
    )
    ax.set(xlabel="x", ylabel="y")
    ax.set_title(
        f"Δt = {data['dt']:.3g}: norm x{data['growth']:.3f} per block, "
        f"gap at t={data['t'][-1]:.3g}: {data['gap']:.3g}",
        fontsize=10,
    )
    return _image(_RESNET_SPIRAL.parts["fig"])


# -- Lesson 02: dopri5's steps on Lotka-Volterra at a chosen tolerance -------------------------


def adaptive_steps_data(
    *, rtol: float, t_end: float = 15.0, y0=(10.0, 5.0), n_points: int = 601
) -> dict:
    """dopri5 on Lotka-Volterra (default parameters) at tolerance ``rtol``, ``atol = rtol / 100``.

    Returns a dict with ``t`` (n_points,), ``ys`` (n_points, 2) the solution (dense output),
    ``stats`` the solve's :class:`utils.solvers.SolveStats` (accepted step starts and sizes,
    rejected attempts), and ``nfe``, its number of function evaluations.
    """
    if isinstance(rtol, bool) or not isinstance(rtol, numbers.Real):
        raise TypeError(f"rtol must be a real number, got {type(rtol).__name__} {rtol!r}")
    if not 0 < rtol < 1:
        raise ValueError(f"rtol must be in (0, 1), got {rtol!r}")
    t = np.linspace(0.0, t_end, n_points)
    ys, stats = odeint(LotkaVolterra(), np.asarray(y0, dtype=float), t, rtol=float(rtol),
                       atol=float(rtol) / 100, return_stats=True)
    return {"t": t, "ys": ys, "stats": stats, "nfe": stats.n_fevals}


_ADAPTIVE_STEPS = LiveFigure(
    functools.partial(_blank_axes, (8, 3.5), left=0.1, right=0.98, bottom=0.14, top=0.9))


@functools.lru_cache(maxsize=64)
def _adaptive_steps_at(log10_rtol):
    """The slider's solves, each computed once (a slider browses a few dozen settings)."""
    return adaptive_steps_data(rtol=10.0**log10_rtol)


def show_adaptive_steps(log10_rtol):
    """Draw :func:`adaptive_steps_data` at ``rtol = 10 ** log10_rtol``: accepted step sizes over
    time and rejected attempts. (A log10 slider: tolerances span decades.)"""
    import matplotlib.ticker

    rtol = 10.0**log10_rtol
    data = _adaptive_steps_at(float(log10_rtol))
    ax = _ADAPTIVE_STEPS.parts["ax"]
    ax.clear()
    plots.step_sizes(data["stats"], ax=ax)
    # Plain tick labels (1e-05): the default log labels are typeset as math on every redraw.
    ax.yaxis.set_major_formatter(matplotlib.ticker.LogFormatter())
    ax.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.set_title(f"dopri5 on Lotka–Volterra, rtol = {rtol:.1e}: NFE = {data['nfe']}")
    return _image(_ADAPTIVE_STEPS.parts["fig"])


# -- Lesson 03: cost and accuracy of a solver on a Neural ODE ---------------------------------


def solver_cost_data(
    func, h0, t, reference, *, method: str, step_size: float | None = None,
    rtol: float | None = None,
) -> dict:
    """Solve ``dh/dt = func(t, h)`` with ``method`` and measure its cost and error.

    Args:
        func: the dynamics, e.g. a :class:`utils.models.ODEFunc` (called without gradients).
        h0: initial states, tensor of shape ``(batch, dim)`` (any shape ``odeint`` accepts).
        t: output times, 1-D tensor of length ``n_times``.
        reference: an accurate solution at ``t``, shape ``(n_times, *h0.shape)``, computed
            independently (a tighter tolerance or another method), or the error means nothing.
        method: ``"euler"``, ``"midpoint"``, ``"rk4"`` or ``"dopri5"``.
        step_size: the step of a fixed-step method (required for those).
        rtol: dopri5's relative tolerance (required for dopri5), with ``atol = rtol / 100``.
            An option the method does not use warns (:func:`utils.solvers.check_solver_options`).

    Returns:
        A dict with ``ys`` (n_times, *h0.shape), ``nfe`` (function evaluations), ``steps``
        (accepted steps), ``error``: the largest ``|ys - reference|``, and ``failure``: ``""``,
        or why the solve stopped (e.g. a step so small it needs more than ``max_steps`` steps);
        then ``ys`` is NaN, ``nfe`` and ``steps`` are None and ``error`` is NaN.
    """
    options = check_solver_options(method, step_size=step_size, rtol=rtol,
                                   atol=None if rtol is None else rtol / 100,
                                   caller="solver_cost_data")
    needed = "rtol" if TABLEAUS[method].adaptive else "step_size"
    if {"rtol": rtol, "step_size": step_size}[needed] is None:
        raise ValueError(f"solver_cost_data: method={method!r} needs {needed}=..., got None")
    options.pop("first_step", None)
    expected = (len(t), *tuple(h0.shape))
    if tuple(reference.shape) != expected:
        raise ValueError(
            f"reference has shape {tuple(reference.shape)}; expected (len(t), *h0.shape) = "
            f"{expected}"
        )
    try:
        with torch.no_grad():
            ys, stats = odeint(func, h0, t, method=method, return_stats=True, **options)
    except SolverError as exc:
        return {"ys": torch.full_like(reference, float("nan")), "nfe": None, "steps": None,
                "error": float("nan"), "failure": str(exc)}
    error = (ys - reference).abs().max().item()
    return {"ys": ys, "nfe": stats.n_fevals, "steps": stats.n_accepted, "error": error,
            "failure": ""}


def show_solver_cost(func, h0, t, reference, *, method, log10_step_size, log10_rtol):
    """Draw :func:`solver_cost_data`: the solver's states over the reference, phase plane.

    The fixed-step methods use the step size ``10 ** log10_step_size``, dopri5 uses
    ``rtol = 10 ** log10_rtol`` (two log10 sliders, since useful step sizes and tolerances lie in
    different ranges). Wire it to the sliders with the problem held fixed:
    ``interact(show_solver_cost, func=fixed(func), h0=fixed(h0), ...)``.
    """
    adaptive = TABLEAUS.get(method) is not None and TABLEAUS[method].adaptive
    setting = 10.0 ** (log10_rtol if adaptive else log10_step_size)
    option = {"rtol" if adaptive else "step_size": setting}
    data = solver_cost_data(func, h0, t, reference, method=method, **option)
    what = f"rtol {setting:.1e}" if adaptive else f"step {setting:.3g}"
    # Say which slider this method ignores, so moving it visibly explains itself.
    unused = (f"step {10.0 ** log10_step_size:.3g} applies to fixed-step methods only" if adaptive
              else f"rtol {10.0 ** log10_rtol:.1e} applies to dopri5 only")
    fig = Figure(figsize=(5.5, 5.5), dpi=FIGURE_DPI)
    _fixed_margins(fig, left=0.1, right=0.97, bottom=0.09, top=0.86)
    ax = fig.subplots()
    # One line per solve, the batch members joined by NaN gaps: two artists instead of one per
    # trajectory, which is most of the redraw time with 25 trajectories.
    ax.plot(*_joined(reference).T, color="black", lw=2.5, marker="o", label="reference")
    ax.plot(*_joined(data["ys"]).T, color="tab:orange", ls="--", marker="x", label=method)
    starts = to_numpy(h0).reshape(-1, 2)
    ax.plot(starts[:, 0], starts[:, 1], "o", color="black", ms=4, zorder=5)
    ax.set(xlim=(-3, 3), ylim=(-3, 3), xlabel="h[0]", ylabel="h[1]")
    ax.set_aspect("equal", adjustable="box")
    ax.legend(loc="upper right", fontsize="small")
    if data["failure"]:
        message = textwrap.fill(f"{method}, {what}: {data['failure']}", width=70)
        ax.set_title(f"{message}\n({unused})", color="tab:red", fontsize=8)
    else:
        ax.set_title(f"{method}, {what}: NFE {data['nfe']}, largest error {data['error']:.1e}"
                     f"\n({unused})", fontsize=10)
    return _image(fig)


# -- Lesson 05: the learned dynamics at a snapshot taken during training ----------------------


def training_snapshot_data(
    func: torch.nn.Module,
    snapshot: Snapshot,
    y0,
    t,
    *,
    xlim: tuple[float, float] = (-2.0, 2.0),
    ylim: tuple[float, float] = (-2.0, 2.0),
    n: int = 15,
    method: str = "rk4",
    step_size: float | None = None,
) -> dict:
    """Load ``snapshot`` into ``func``, roll it out from ``y0`` over ``t``, sample its field.

    ``func`` gets back the parameters it had before the call (:class:`utils.training.restored`).

    Args:
        func: the learned dynamics (the module the snapshots were taken from), state dim 2.
        snapshot: one of ``TrainHistory.snapshots`` (:func:`utils.training.train`).
        y0: initial state, tensor ``(2,)``; t: output times, tensor ``(n_times,)``.
        xlim, ylim, n: the ``n x n`` grid of the vector field
            (:func:`utils.arrays.field_on_grid`, evaluated in the module's dtype).
        method, step_size: passed to :func:`utils.solvers.odeint`.

    Returns:
        A dict with ``step`` and ``loss`` (the snapshot's), ``trajectory`` (n_times, 2) the
        rollout, and ``field``: ``(X, Y, U, V)``, each (n, n), ready for ``plt.quiver(*field)``.
    """
    if not isinstance(func, torch.nn.Module):
        raise TypeError(f"func must be the torch.nn.Module the snapshots came from, got "
                        f"{type(func).__name__}")
    with restored(func, snapshot), torch.no_grad():
        ys = odeint(func, y0, t, method=method, step_size=step_size)
        field = field_on_grid(func, xlim=xlim, ylim=ylim, n=n)
    return {"step": snapshot.step, "loss": snapshot.loss, "trajectory": to_numpy(ys),
            "field": field}


def show_training_snapshot(
    func: torch.nn.Module,
    snapshot: Snapshot,
    y0,
    t,
    *,
    reference,
    xlim: tuple[float, float] = (-1.5, 1.5),
    ylim: tuple[float, float] = (-2.5, 2.5),
    names: tuple[str, str] = ("position x", "velocity v"),
    data: dict | None = None,
):
    """Draw :func:`training_snapshot_data`: the learned field (arrows, a 15 x 15 grid over
    ``xlim`` x ``ylim``) and the RK4 rollout against ``reference`` (the true solution at ``t``,
    shape ``(n_times, 2)``) in the phase plane, and the first component over time. Returns the
    figure's PNG image.

    ``data``: that snapshot's :func:`training_snapshot_data` (same ``xlim``, ``ylim``, ``n=15``,
    ``method="rk4"``), if already computed: a slider should precompute what it browses, so
    that a move only redraws. The slider picks the snapshot: in the lesson,
    ``def show(index): return show_training_snapshot(func, history.snapshots[index], ...,
    data=views[index])`` wired to ``interact(show, index=IntSlider(...))``.
    """
    if data is None:
        data = training_snapshot_data(func, snapshot, y0, t, xlim=xlim, ylim=ylim, n=15,
                                      method="rk4")
    t, reference, trajectory = to_numpy(t), to_numpy(reference), data["trajectory"]
    X, Y, U, V = data["field"]
    key = (tuple(xlim), tuple(ylim), tuple(names), X.shape, X.tobytes(), Y.tobytes(),
           t.tobytes(), reference.tobytes())
    parts = _SNAPSHOT_FIGURES.get(key)
    if parts is None:  # the first move with this window: build the figure; later moves reuse it
        _SNAPSHOT_FIGURES.clear()
        parts = _SNAPSHOT_FIGURES[key] = _build_training_snapshot(X, Y, t, reference, xlim,
                                                                  ylim, names)
    parts["quiver"].set_UVC(U, V)
    parts["quiver"].scale = None  # scaled to this snapshot's field, as a fresh quiver would be
    parts["phase"].set_data(trajectory[:, 0], trajectory[:, 1])
    parts["series"].set_data(t, trajectory[:, 0])
    parts["axes"][0].set_title(f"step {data['step']}: learned field and rollout")
    parts["axes"][1].set_title(f"window loss at this step: {data['loss']:.2g}"
                               if np.isfinite(data["loss"]) else "before training (no loss yet)")
    return _image(parts["fig"])


_SNAPSHOT_FIGURES: dict = {}  # the one figure lesson 05's slider redraws, by its fixed parts


def _build_training_snapshot(X, Y, t, reference, xlim, ylim, names):
    """:func:`show_training_snapshot`'s figure: what stays fixed is drawn once (the grid of the
    field, the true curves, labels, legends); each move updates the arrows and the two learned
    curves (about half the redraw time of a new figure, and no layout pass)."""
    fig = Figure(figsize=(11, 4), dpi=FIGURE_DPI)
    axes = fig.subplots(1, 2)
    quiver = axes[0].quiver(X, Y, np.zeros_like(X), np.zeros_like(Y), color="0.5")
    axes[0].plot(reference[:, 0], reference[:, 1], "C0", lw=3, alpha=0.5, label="true")
    phase, = axes[0].plot([], [], "C3", lw=1.5, label="learned")
    axes[0].set(xlim=xlim, ylim=ylim, xlabel=names[0], ylabel=names[1],
                title="step 0: learned field and rollout")
    axes[0].legend(loc="upper right")
    axes[1].plot(t, reference[:, 0], "C0", lw=3, alpha=0.5, label=f"true {names[0]}")
    series, = axes[1].plot([], [], "C3", lw=1.5, label=f"learned {names[0]}")
    axes[1].set(xlim=(t[0], t[-1]), ylim=xlim, xlabel="t", ylabel=names[0],
                title="window loss at this step: 0.01")
    axes[1].legend(loc="upper right")
    return {"fig": fig, "axes": axes, "quiver": quiver, "phase": phase, "series": series}


# -- Lesson 06: Lotka-Volterra by hand against the lynx-hare records ---------------------------


def lotka_volterra_by_hand_data(
    *, alpha: float, beta: float, gamma: float, delta: float, state0, n_dense: int = 161,
    n_fit: int = 16,
) -> dict:
    """Lotka–Volterra with the given rates from ``state0`` in 1900, against the pelt records.

    Units as in lesson 06's printout: ``alpha``, ``gamma`` per year, ``beta``, ``delta`` per year
    and per thousand pelts, ``state0`` = (hare, lynx) in thousands of pelts. Solved with dopri5
    (rtol 1e-6) on the records' years (:func:`utils.datasets.load_lynx_hare`, 1900–1920).

    Returns:
        A dict with ``years`` (21,) and ``records`` (21, 2) = (hare, lynx) pelts in thousands;
        ``dense_years`` (n_dense,) evenly spaced over 1900–1920 and ``curve`` (n_dense, 2) the
        model there, for drawing; ``at_years`` (21, 2) the model at the records' years;
        ``fit_rmse``: the RMSE (root of the mean over years and both species of the squared
        difference, lesson 05's convention) over the first ``n_fit`` years (1900–1915 by
        default), the years to tune on; ``forecast_rmse``: the same over the remaining years,
        held out; and ``rmse`` over all 21 years.
    """
    rates = (alpha, beta, gamma, delta)
    if not all(isinstance(r, numbers.Real) and not isinstance(r, bool) and 0 < r < np.inf
               for r in rates):
        raise ValueError(f"alpha, beta, gamma, delta must be finite numbers > 0, got {rates}")
    state0 = np.asarray(state0, dtype=float)
    if state0.shape != (2,) or not (state0 > 0).all():
        raise ValueError(f"state0 must be two positive numbers (hare, lynx), got {state0}")
    if isinstance(n_dense, bool) or not isinstance(n_dense, numbers.Integral) or n_dense < 2:
        raise ValueError(f"n_dense must be an int >= 2, got {n_dense!r}")
    records = load_lynx_hare()
    years = records.years
    if isinstance(n_fit, bool) or not isinstance(n_fit, numbers.Integral) or not (
            2 <= n_fit < len(years)):
        raise ValueError(f"n_fit must be an int in [2, {len(years) - 1}], got {n_fit!r}")
    observed = np.stack((records.hare, records.lynx), axis=-1)
    system = LotkaVolterra(alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    t_dense = np.linspace(0.0, float(years[-1] - years[0]), int(n_dense))
    t_years = (years - years[0]).astype(float)
    stride = (int(n_dense) - 1) // (len(years) - 1)
    if stride * (len(years) - 1) == int(n_dense) - 1 and np.allclose(t_dense[::stride], t_years):
        curve = odeint(system, state0, t_dense, method="dopri5", rtol=1e-6, atol=1e-8)
        at_years = curve[::stride]  # the years lie on the dense grid: one solve serves both
    else:
        curve = odeint(system, state0, t_dense, method="dopri5", rtol=1e-6, atol=1e-8)
        at_years = odeint(system, state0, t_years, method="dopri5", rtol=1e-6, atol=1e-8)
    return {"years": years, "records": observed, "dense_years": years[0] + t_dense,
            "curve": curve, "at_years": at_years, "n_fit": int(n_fit),
            "fit_rmse": rmse(at_years[:n_fit], observed[:n_fit]),
            "forecast_rmse": rmse(at_years[n_fit:], observed[n_fit:]),
            "rmse": rmse(at_years, observed)}


_BY_HAND_TOP = 160.0  # thousand pelts: the frame of lesson 06's slider (records peak near 80)


def _build_lotka_volterra_by_hand():
    records = load_lynx_hare()
    fig = Figure(figsize=(9, 3.8), dpi=FIGURE_DPI)
    ax = fig.subplots()
    n_fit = 16
    years = records.years
    ax.axvspan(years[n_fit] - 0.5, years[-1] + 0.5, color="0.92", zorder=0,
               label="held out: not for tuning")
    ax.plot(years, records.hare, "o", color="C0", label="hare records")
    ax.plot(years, records.lynx, "s", color="C1", label="lynx records")
    hare, = ax.plot([], [], "C0-", label="model hare")
    lynx, = ax.plot([], [], "C1-", label="model lynx")
    ax.set(xlabel="year", ylabel="pelts (thousands)", ylim=(0, _BY_HAND_TOP),
           xlim=(years[0] - 0.5, years[-1] + 0.5))
    ax.grid(alpha=0.3)
    ax.legend(ncol=3, fontsize=8, loc="upper left")
    off_scale = ax.text(0.99, 0.97, "", transform=ax.transAxes, ha="right", va="top",
                        fontsize=8, color="tab:red")
    _fixed_tight_layout(fig)
    return {"fig": fig, "ax": ax, "hare": hare, "lynx": lynx, "off_scale": off_scale}


_LOTKA_VOLTERRA_BY_HAND = LiveFigure(_build_lotka_volterra_by_hand)


def show_lotka_volterra_by_hand(alpha, beta, gamma, delta, *, state0):
    """Draw :func:`lotka_volterra_by_hand_data` on one persistent figure: records and model
    curves over 1900–1920, the fit RMSE (1900–1915, the years to tune on) in the title; the
    held-out years are shaded and their RMSE is not shown (evaluate it once, at the end, with
    ``lotka_volterra_by_hand_data(...)["forecast_rmse"]``). The frame is fixed at 0–160 thousand
    pelts; a curve that leaves it is named with its peak. Returns the PNG image; wire it with
    the start held fixed:
    ``interact(show_lotka_volterra_by_hand, state0=fixed(state0), alpha=FloatSlider(...), ...)``.
    """
    data = lotka_volterra_by_hand_data(alpha=alpha, beta=beta, gamma=gamma, delta=delta,
                                       state0=state0)
    parts = _LOTKA_VOLTERRA_BY_HAND.parts
    curve = data["curve"]
    parts["hare"].set_data(data["dense_years"], curve[:, 0])
    parts["lynx"].set_data(data["dense_years"], curve[:, 1])
    peak = float(curve.max())
    parts["off_scale"].set_text(
        f"model peaks at {peak:.0f} thousand: off the scale" if peak > _BY_HAND_TOP else "")
    years = data["years"]
    parts["ax"].set_title(f"fit RMSE {years[0]}-{years[data['n_fit'] - 1]}: "
                          f"{data['fit_rmse']:.1f} thousand pelts (tune on this)")
    return _LOTKA_VOLTERRA_BY_HAND.png()
