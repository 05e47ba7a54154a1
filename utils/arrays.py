"""Small computing helpers shared by ``utils`` modules: arrays from tensors, fields on grids.

Nothing here draws: :mod:`utils.training` and :mod:`utils.widgets`' ``*_data`` functions use these
without importing Matplotlib; :mod:`utils.plots` re-exports them for the lessons.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

__all__ = ["to_numpy", "field_on_grid"]


def to_numpy(x) -> np.ndarray:
    """A NumPy copy of ``x`` (array, tensor with or without grad, list, number)."""
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)



def field_on_grid(
    func: Callable,
    *,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    n: int = 25,
    t: float = 0.0,
):
    """Evaluate 2-D dynamics on an ``n x n`` grid: returns ``(X, Y, U, V)``, each ``(n, n)``.

    ``func(t, states)`` is called once with all grid points as a batch of shape ``(n * n, 2)``:
    a float64 NumPy array for plain functions, a tensor of the module's dtype for a
    ``torch.nn.Module`` (evaluated without gradient tracking).
    """
    if not (isinstance(n, int) and n >= 2):
        raise ValueError(f"n must be an int >= 2 (grid points per axis), got {n!r}")
    for name, lim in (("xlim", xlim), ("ylim", ylim)):
        if len(lim) != 2 or not lim[0] < lim[1]:
            raise ValueError(f"{name} must be (low, high) with low < high, got {lim!r}")
    X, Y = np.meshgrid(np.linspace(*xlim, n), np.linspace(*ylim, n))
    points = np.stack((X.ravel(), Y.ravel()), axis=-1)
    if isinstance(func, torch.nn.Module):
        param = next(func.parameters(), None)
        dtype = param.dtype if param is not None else torch.get_default_dtype()
        with torch.no_grad():
            uv = func(torch.tensor(t, dtype=dtype), torch.as_tensor(points, dtype=dtype))
    else:
        uv = func(t, points)
    uv = to_numpy(uv)
    if uv.shape != points.shape:
        raise ValueError(
            f"func(t, states) returned shape {uv.shape} for states of shape {points.shape}; "
            "the dynamics must map a batch of 2-D states to a batch of 2-D derivatives"
        )
    return X, Y, uv[:, 0].reshape(X.shape), uv[:, 1].reshape(X.shape)
