"""What the lessons' sliders compute and draw, kept out of the notebooks so tests can check it.

Each slider is a pure ``*_data`` function (numbers in, arrays out: tested in ``tests/``) and a
``show_*`` function that draws that data; the lesson wires ``show_*`` to ``ipywidgets.interact``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

from .solvers import SolverError, odeint
from .systems import LotkaVolterra

__all__ = ["lotka_volterra_euler_data", "show_lotka_volterra_euler"]


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
    """Euler with ``step_size`` against a tight dopri5 reference, on Lotka–Volterra.

    Returns a dict with ``t`` (n_points,), ``euler`` and ``reference`` (n_points, 2),
    ``drift`` (n_points,): the relative change of the conserved quantity under Euler,
    ``(V(t) - V(0)) / |V(0)|``; and ``failure``: ``""``, or why Euler's solve stopped
    (then ``euler`` holds NaN from that point on).
    """
    if not step_size > 0:
        raise ValueError(f"step_size must be > 0, got {step_size}")
    system = LotkaVolterra(alpha=alpha, beta=beta, gamma=gamma, delta=delta)
    t = np.linspace(0.0, t_end, n_points)
    y0 = np.asarray(y0, dtype=float)
    reference = odeint(system, y0, t, method="dopri5", rtol=1e-10, atol=1e-10)
    failure = ""
    try:
        euler = odeint(system, y0, t, method="euler", step_size=step_size)
    except SolverError as exc:
        euler, failure = np.full_like(reference, np.nan), str(exc)
    with np.errstate(invalid="ignore", divide="ignore"):  # negative populations: log is NaN
        invariant = system.invariant(euler)
    v0 = system.invariant(y0)
    return {
        "t": t,
        "euler": euler,
        "reference": reference,
        "drift": (invariant - v0) / abs(v0),
        "failure": failure,
    }


def show_lotka_volterra_euler(step_size, alpha, beta, gamma, delta):
    """Draw :func:`lotka_volterra_euler_data`: time series, phase portrait, invariant drift."""
    data = lotka_volterra_euler_data(
        step_size=step_size, alpha=alpha, beta=beta, gamma=gamma, delta=delta
    )
    t, euler, reference = data["t"], data["euler"], data["reference"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8))
    for i, (name, color) in enumerate((("prey", "tab:green"), ("predators", "tab:red"))):
        axes[0].plot(t, reference[:, i], color=color, lw=1, alpha=0.5, label=f"{name} (reference)")
        axes[0].plot(t, euler[:, i], color=color, lw=2, ls="--", label=f"{name} (Euler)")
    axes[0].set(xlabel="t", ylabel="population", title=f"Euler, h = {step_size:.4g}")
    axes[0].legend(fontsize=7, loc="upper right")
    axes[1].plot(reference[:, 0], reference[:, 1], color="k", lw=1, label="reference")
    axes[1].plot(euler[:, 0], euler[:, 1], color="tab:purple", lw=1.5, label="Euler")
    top = 2.5 * np.nanmax(reference, axis=0)
    axes[1].set(xlim=(0, top[0]), ylim=(0, top[1]), xlabel="prey", ylabel="predators",
                title="phase portrait")
    axes[1].legend(fontsize=8)
    axes[2].plot(t, data["drift"], color="tab:purple")
    axes[2].axhline(0, color="k", lw=0.8)
    axes[2].set(xlabel="t", ylabel="(V(t) - V(0)) / |V(0)|", title="drift of the conserved V")
    if data["failure"]:
        fig.suptitle("Euler stopped: " + data["failure"][:90], color="tab:red", fontsize=9)
    fig.tight_layout()
    plt.show()
