"""Plotting helpers the lessons share: phase portraits, vector fields, step sizes, log-log slopes.

Each function draws on a Matplotlib ``Axes`` (a new figure if ``ax`` is None) and returns the
axes, so a lesson can combine them in subplots and still add its own labels. They take plain
data (NumPy arrays or torch tensors, converted with :func:`to_numpy`), never solve anything
themselves, except :func:`vector_field`, which evaluates the dynamics on a grid.

Importing this module changes no global Matplotlib state (no rcParams, no style).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np

from .arrays import field_on_grid, to_numpy

# The resolution of the sliders' figures (utils.widgets, utils.flows, lesson 10): sharp on the
# course website and on high-density screens. Static figures get the same from
# notebooks/matplotlibrc (`figure.dpi: 150`), which a lesson's kernel reads from its folder.
FIGURE_DPI = 150

__all__ = [
    "FIGURE_DPI",
    "to_numpy",
    "phase_portrait",
    "vector_field",
    "field_on_grid",
    "step_sizes",
    "loglog_slope",
]


def _axes(ax, figsize=(5, 5)):
    if ax is None:
        _fig, ax = plt.subplots(figsize=figsize)
    return ax


def _as_trajectories(trajectories) -> dict[str, np.ndarray]:
    """{label: array (n_times, ..., 2)} from one array, a list of arrays, or a dict of them."""
    if isinstance(trajectories, Mapping):
        items = dict(trajectories)
    elif isinstance(trajectories, (list, tuple)):
        items = {f"trajectory {i}": y for i, y in enumerate(trajectories)}
    else:
        items = {"": trajectories}
    out = {}
    for label, y in items.items():
        y = to_numpy(y)
        if y.ndim < 2 or y.shape[-1] != 2:
            raise ValueError(
                f"trajectory {label!r} has shape {y.shape}; expected (n_times, 2) or "
                "(n_times, batch, 2): a phase portrait draws the two components of the state"
            )
        out[label] = y
    return out


def phase_portrait(
    trajectories,
    *,
    ax=None,
    styles: Mapping[str, dict] | None = None,
    mark_start: bool = True,
    equal_aspect: bool = True,
    limits: tuple[float, float, float, float] | None = None,
):
    """Draw 2-D trajectories in the phase plane (first component against second).

    Args:
        trajectories: an array of shape ``(n_times, 2)`` or ``(n_times, batch, 2)`` (a batch draws
            one line per member), a list of such arrays, or a dict ``{label: array}`` (the labels
            go to the legend).
        ax: axes to draw on; default: a new figure.
        styles: per-label keyword arguments for ``ax.plot`` (e.g. ``{"Euler": {"marker": "o"}}``).
        mark_start: mark each initial state with a black dot.
        equal_aspect: same scale on both axes (circles look like circles).
        limits: ``(xmin, xmax, ymin, ymax)``; default: Matplotlib's choice.

    Returns:
        The axes.
    """
    ax = _axes(ax)
    styles = dict(styles or {})
    items = _as_trajectories(trajectories)
    for label, y in items.items():
        y = y.reshape(y.shape[0], -1, 2)
        style = {"lw": 1.5, **styles.get(label, {})}
        for member in range(y.shape[1]):
            line_label = label if (member == 0 and label) else None
            lines = ax.plot(y[:, member, 0], y[:, member, 1], label=line_label, **style)
            style.setdefault("color", lines[0].get_color())
        if mark_start:
            ax.plot(y[0, :, 0], y[0, :, 1], "o", color="black", ms=4, zorder=5)
    if equal_aspect:
        ax.set_aspect("equal", adjustable="datalim" if limits is None else "box")
    if limits is not None:
        ax.set_xlim(limits[0], limits[1])
        ax.set_ylim(limits[2], limits[3])
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if any(items):  # some trajectory has a label
        ax.legend(loc="best", fontsize="small")
    return ax


def vector_field(
    func: Callable,
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    ax=None,
    n: int = 25,
    t: float = 0.0,
    density: float = 1.0,
    color_by_speed: bool = True,
):
    """Stream plot of 2-D dynamics ``dx/dt = func(t, x)`` at the fixed time ``t``.

    Streamlines follow the field, so for autonomous dynamics (no dependence on t) they are the
    trajectories; for time-dependent dynamics they are only a snapshot at time ``t``.

    Args:
        func: the dynamics, as for :func:`field_on_grid` (plain function or ``nn.Module``).
        xlim, ylim: the plotted window, ``(low, high)``.
        ax: axes to draw on; default: a new figure.
        n: grid points per axis where the field is evaluated.
        t: the time at which the field is drawn.
        density: streamline density (Matplotlib's ``streamplot``).
        color_by_speed: colour streamlines by ``|dx/dt|`` (else grey).

    Returns:
        The axes.
    """
    ax = _axes(ax)
    X, Y, U, V = field_on_grid(func, xlim=xlim, ylim=ylim, n=n, t=t)
    color = np.hypot(U, V) if color_by_speed else "0.6"
    ax.streamplot(X, Y, U, V, color=color, cmap="Blues", density=density, linewidth=0.8,
                  arrowsize=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax


def step_sizes(stats, *, ax=None, label: str | None = None, show_rejected: bool = True):
    """Plot an adaptive solve's accepted step sizes against time, and where steps were rejected.

    Args:
        stats: a :class:`utils.solvers.SolveStats` (``odeint(..., return_stats=True)``).
        ax: axes to draw on; default: a new figure.
        label: legend label of the accepted steps (default: the method and counts).
        show_rejected: mark the start time of each rejected attempt with a red x on the
            bottom edge of the axes.

    Returns:
        The axes. The y axis is logarithmic: step sizes often span decades.
    """
    ax = _axes(ax, figsize=(6, 3))
    starts = np.asarray(stats.step_starts, dtype=float)
    sizes = np.abs(np.asarray(stats.step_sizes, dtype=float))
    if label is None:
        label = f"{stats.method}: {stats.n_accepted} accepted, {stats.n_rejected} rejected"
    ax.step(starts, sizes, where="post", marker=".", label=label)
    if show_rejected and stats.rejected_starts:
        ax.plot(stats.rejected_starts, np.zeros(len(stats.rejected_starts)), "x", color="red",
                transform=ax.get_xaxis_transform(), clip_on=False, ms=7,
                label="rejected attempt")
    ax.set_yscale("log")
    ax.set_xlabel("t (start of the step)")
    ax.set_ylabel("step size")
    ax.legend(loc="best", fontsize="small")
    return ax


def loglog_slope(
    x: Sequence[float],
    y: Sequence[float],
    *,
    ax=None,
    label: str = "",
    fit: bool = True,
    marker: str = "o",
):
    """Plot ``y`` against ``x`` on log-log axes and fit the slope of ``log y`` against ``log x``.

    A power law ``y = C x^p`` is a straight line of slope ``p`` on these axes: the measured
    convergence order of a method, the rate at which a gap closes, ...

    Returns:
        ``(ax, slope)``; ``slope`` is the least-squares slope (``nan`` if ``fit`` is False).
    """
    xs, ys = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if xs.shape != ys.shape or xs.ndim != 1 or xs.size < 2:
        raise ValueError(
            f"x and y must be 1-D of equal length >= 2, got {xs.shape} and {ys.shape}")
    if (xs <= 0).any() or (ys <= 0).any():
        raise ValueError("x and y must be positive for log-log axes")
    ax = _axes(ax, figsize=(5, 4))
    slope = float(np.polyfit(np.log(xs), np.log(ys), 1)[0]) if fit else float("nan")
    text = f"{label} (slope {slope:.2f})" if fit else label
    ax.loglog(xs, ys, marker=marker, label=text.strip() or None)
    if text.strip():
        ax.legend(loc="best", fontsize="small")
    return ax, slope
