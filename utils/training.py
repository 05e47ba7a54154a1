"""Training helpers of lessons 05 and 06: a readable loop, mini-batches of time windows, metrics.

The loop itself is four lines a learner writes in lesson 05 (forward solve, loss, backward,
optimizer step). :func:`train` only runs such a step function many times and keeps the record:
a progress bar (tqdm), the loss of every step, the wall time, and snapshots of the model's
parameters for lesson 05's "training as it goes" slider
(:func:`utils.widgets.training_snapshot_data`). It is the project's one training loop: the
lessons' own models pass their step to it too (:func:`utils.classification.train_classifier`
and ``train_flow`` in lesson 07, ``utils.latent`` in 09, ``utils.hamiltonian`` in 10).

Reference: R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
Equations", NeurIPS 2018, arXiv:1806.07366 (section 5 fits time series by backpropagating through
an ODE solve, as these lessons do).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from tqdm.auto import tqdm

from .arrays import to_numpy

__all__ = [
    "Snapshot",
    "TrainHistory",
    "train",
    "sample_windows",
    "rmse",
    "restored",
]


class Snapshot(NamedTuple):
    """The model's parameters after ``step`` optimizer steps (``state`` is a deep copy)."""

    step: int
    loss: float
    state: dict


@dataclass
class TrainHistory:
    """What :func:`train` did.

    Attributes:
        losses: the loss returned by every step, in order (``len(losses) == n_steps``).
        snapshots: :class:`Snapshot` s, the first before any step, the last after the final one.
        seconds: wall time of the whole loop.
    """

    losses: list[float] = field(default_factory=list)
    snapshots: list[Snapshot] = field(default_factory=list)
    seconds: float = 0.0


def train(
    step: Callable[[int], float],
    *,
    n_steps: int,
    model: nn.Module | None = None,
    snapshot_every: int = 0,
    progress: bool = True,
    desc: str = "training",
) -> TrainHistory:
    """Call ``loss = step(i)`` for ``i = 0 .. n_steps - 1`` with a progress bar; keep the record.

    ``step`` does one optimizer update (forward solve, loss, backward, ``optimizer.step()``) and
    returns the loss as a Python float. This function adds only the bookkeeping around it.

    Args:
        step: one training step, called with the step index.
        n_steps: how many steps (>= 1).
        model: the module whose parameters are snapshotted (needed if ``snapshot_every > 0``).
        snapshot_every: keep a :class:`Snapshot` every this many steps (0: none); the state before
            training (step 0, loss NaN) and after the last step are always kept then.
        progress: show a tqdm progress bar with the current loss.
        desc: the progress bar's label.

    Returns:
        :class:`TrainHistory` with the losses, snapshots and wall time.
    """
    if not callable(step):
        raise TypeError(f"step must be callable as step(i) -> loss, got {type(step).__name__}")
    if not (isinstance(n_steps, int) and n_steps >= 1):
        raise ValueError(f"n_steps must be an int >= 1, got {n_steps!r}")
    if not (isinstance(snapshot_every, int) and snapshot_every >= 0):
        raise ValueError(f"snapshot_every must be an int >= 0, got {snapshot_every!r}")
    if snapshot_every and model is None:
        raise ValueError("snapshot_every > 0 needs the model whose parameters to snapshot")

    history = TrainHistory()

    def keep(i, loss):
        history.snapshots.append(Snapshot(i, loss, copy.deepcopy(model.state_dict())))

    if snapshot_every:
        keep(0, float("nan"))
    start = time.perf_counter()
    bar = tqdm(range(n_steps), desc=desc, disable=not progress, mininterval=0.5)
    for i in bar:
        loss = float(step(i))
        history.losses.append(loss)
        if i % 20 == 0 or i == n_steps - 1:
            bar.set_postfix(loss=f"{loss:.3g}", refresh=False)
        if snapshot_every and ((i + 1) % snapshot_every == 0 or i == n_steps - 1):
            if history.snapshots[-1].step != i + 1:
                keep(i + 1, loss)
    bar.close()
    history.seconds = time.perf_counter() - start
    return history


def sample_windows(t, y, *, length: int, batch_size: int, generator: torch.Generator):
    """Draw a mini-batch of short time windows from trajectories sampled on one uniform grid.

    A window is ``length`` consecutive samples of one trajectory. Training on windows keeps every
    solve short (cheap, and errors cannot pile up over a long rollout before the loss sees them)
    and mixes many starts into one batch. The dynamics must be autonomous (``f`` does not use
    ``t``): every window then starts at time 0, so one solve serves the whole batch.

    Args:
        t: sample times, tensor of shape ``(n_times,)``, evenly spaced.
        y: trajectories, tensor of shape ``(n_times, n_trajectories, dim)``.
        length: samples per window, ``2 <= length <= n_times``.
        batch_size: windows per batch (>= 1).
        generator: a seeded ``torch.Generator``, so the batches are reproducible.

    Returns:
        ``(t_window, y0, y_window)``: times ``(length,)`` starting at 0, initial states
        ``(batch_size, dim)`` and targets ``(length, batch_size, dim)`` with ``y_window[0] == y0``.
    """
    if not (isinstance(t, torch.Tensor) and isinstance(y, torch.Tensor)):
        raise TypeError("t and y must be torch tensors (e.g. torch.as_tensor(array))")
    if t.ndim != 1 or y.ndim != 3 or y.shape[0] != t.shape[0]:
        raise ValueError(
            f"need t of shape (n_times,) and y of shape (n_times, n_trajectories, dim), got "
            f"{tuple(t.shape)} and {tuple(y.shape)}"
        )
    n_times, n_traj = y.shape[0], y.shape[1]
    if not (isinstance(length, int) and 2 <= length <= n_times):
        raise ValueError(f"length must be an int in [2, {n_times}], got {length!r}")
    if not (isinstance(batch_size, int) and batch_size >= 1):
        raise ValueError(f"batch_size must be an int >= 1, got {batch_size!r}")
    dt = torch.diff(t)
    if not torch.allclose(dt, dt[0].expand_as(dt), rtol=1e-4, atol=0.0):  # float32-safe
        raise ValueError("t must be evenly spaced: windows share one time grid")
    starts = torch.randint(0, n_times - length + 1, (batch_size,), generator=generator)
    which = torch.randint(0, n_traj, (batch_size,), generator=generator)
    rows = starts[None, :] + torch.arange(length)[:, None]  # (length, batch_size)
    y_window = y[rows, which[None, :]]
    return t[:length] - t[0], y_window[0], y_window


def rmse(prediction, target) -> float:
    """Root mean squared error over all entries: ``sqrt(mean((prediction - target)**2))``."""
    p, q = to_numpy(prediction).astype(float), to_numpy(target).astype(float)
    if p.shape != q.shape:
        raise ValueError(f"prediction has shape {p.shape} but target has shape {q.shape}")
    return float(np.sqrt(np.mean((p - q) ** 2)))


class restored:
    """Context manager: load a :class:`Snapshot` into ``model``, put the old parameters back after.

    Example::

        with restored(func, history.snapshots[3]):
            ys = odeint(func, y0, t)
    """

    def __init__(self, model: nn.Module, snapshot: Snapshot):
        if not isinstance(snapshot, Snapshot):
            raise TypeError(f"snapshot must be a Snapshot, got {type(snapshot).__name__}")
        self.model, self.snapshot = model, snapshot

    def __enter__(self):
        self._saved = copy.deepcopy(self.model.state_dict())
        self.model.load_state_dict(self.snapshot.state)
        return self.model

    def __exit__(self, *exc):
        self.model.load_state_dict(self._saved)
        return False
