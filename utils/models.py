"""Neural ODE models: the dynamics (:class:`ODEFunc`) and the model solving them (`NeuralODE`).

A Neural ODE replaces a stack of residual layers ``h <- h + f(h)`` by the solution of
``dh/dt = f_theta(h, t)`` from ``t[0]`` to ``t[-1]`` (Chen et al. 2018, arXiv:1806.07366).
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from .adjoint import odeint_adjoint
from .solvers import SolveStats, check_solver_options, odeint

__all__ = ["ODEFunc", "NeuralODE", "NEURAL_ODE_RTOL", "NEURAL_ODE_ATOL", "count_parameters"]

#: NeuralODE's own tolerances for an adaptive method when none are given (the course's lessons
#: were built with these; ``odeint``'s defaults follow torchdiffeq's instead).
NEURAL_ODE_RTOL = 1e-6
NEURAL_ODE_ATOL = 1e-8


class ODEFunc(nn.Module):
    """An MLP ``f_theta(t, h)`` used as the right-hand side of ``dh/dt = f_theta(t, h)``.

    Args:
        dim: size of the state h.
        hidden: width of each hidden layer.
        layers: number of hidden layers (>= 1).
        time_input: if True, t is appended to the input, so the dynamics may change over time.

    Shapes: ``forward(t, h)`` takes ``t`` a scalar (float or 0-d tensor) and ``h`` of shape
    ``(..., dim)``; returns ``dh/dt`` of shape ``(..., dim)``. Hidden layers use tanh, which is
    smooth, so the solver's error control sees smooth dynamics. ``nfe`` counts calls (forward
    function evaluations); reset it with ``func.nfe = 0``.
    """

    def __init__(self, dim: int, *, hidden: int = 32, layers: int = 1, time_input: bool = False):
        super().__init__()
        for name, value in (("dim", dim), ("hidden", hidden), ("layers", layers)):
            if not isinstance(value, int) or isinstance(value, bool):
                raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
        if dim < 1 or hidden < 1 or layers < 1:
            raise ValueError(f"dim, hidden and layers must be >= 1, got {dim}, {hidden}, {layers}")
        self.dim, self.time_input = dim, time_input
        sizes = [dim + int(time_input)] + [hidden] * layers
        blocks = []
        for n_in, n_out in zip(sizes[:-1], sizes[1:], strict=True):
            blocks += [nn.Linear(n_in, n_out), nn.Tanh()]
        self.net = nn.Sequential(*blocks, nn.Linear(hidden, dim))
        self.nfe = 0

    def forward(self, t, h):
        """``dh/dt`` at time ``t`` (scalar) and state ``h`` of shape ``(..., dim)``."""
        if not isinstance(h, torch.Tensor):
            raise TypeError(f"h must be a torch tensor of shape (..., {self.dim}), got "
                            f"{type(h).__name__}")
        self.nfe += 1
        if h.shape[-1] != self.dim:
            raise ValueError(f"ODEFunc(dim={self.dim}) got a state of shape {tuple(h.shape)}")
        if self.time_input:
            t_column = torch.as_tensor(t, dtype=h.dtype, device=h.device).expand(*h.shape[:-1], 1)
            h = torch.cat((h, t_column), dim=-1)
        return self.net(h)


class NeuralODE(nn.Module):
    """Dynamics + solver + output times: ``y0 -> y(t)`` for every time in ``t``.

    Args:
        func: the dynamics, an ``nn.Module`` called as ``func(t, h)`` (e.g. :class:`ODEFunc`).
        t: output times, 1-D tensor; ``t[0]`` is the time of the input state.
        method, rtol, atol, step_size: passed to the solver (see :func:`utils.solvers.odeint`);
            an adaptive method's tolerances default to ``NEURAL_ODE_RTOL`` and
            ``NEURAL_ODE_ATOL`` (1e-6 and 1e-8).
        adjoint: if True, gradients come from the adjoint method
            (:func:`utils.adjoint.odeint_adjoint`: memory independent of the number of steps)
            instead of backpropagating through the solver's operations.
        trajectory: if True, ``forward`` returns the whole trajectory, shape
            ``(len(t), *y0.shape)``; if False, only the final state, shape ``y0.shape``
            (a drop-in layer).

    After each forward pass, ``last_stats`` holds the solver's :class:`~utils.solvers.SolveStats`.
    """

    def __init__(
        self,
        func: nn.Module,
        t: torch.Tensor,
        *,
        method: str = "dopri5",
        rtol: float | None = None,
        atol: float | None = None,
        step_size: float | None = None,
        adjoint: bool = False,
        trajectory: bool = True,
    ):
        super().__init__()
        if not callable(func):
            raise TypeError(f"func must be callable as func(t, h), got {type(func).__name__}")
        t = torch.as_tensor(t)
        if not t.is_floating_point():
            t = t.to(torch.get_default_dtype())
        if t.ndim != 1 or t.shape[0] < 2:
            raise ValueError(
                "t must be 1-D with at least 2 output times (start and end), "
                f"got shape {tuple(t.shape)}"
            )
        # The solver's own check (raises on a bad method or value, warns on options that do not
        # apply), at construction rather than at the first forward pass.
        check_solver_options(method, rtol=rtol, atol=atol, step_size=step_size,
                             caller="NeuralODE")
        self.func = func
        self.register_buffer("t", t)
        self.method, self.rtol, self.atol, self.step_size = method, rtol, atol, step_size
        self.adjoint, self.trajectory = adjoint, trajectory
        self.last_stats: SolveStats | None = None

    def forward(self, y0: torch.Tensor) -> torch.Tensor:
        t = self.t.to(dtype=y0.dtype)
        # Only the options the method uses (each was checked, and warned about, at construction).
        rtol = NEURAL_ODE_RTOL if self.rtol is None else self.rtol
        atol = NEURAL_ODE_ATOL if self.atol is None else self.atol
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            options = dict(method=self.method, **check_solver_options(
                self.method, rtol=rtol, atol=atol, step_size=self.step_size))
        if self.adjoint:
            ys, self.last_stats = odeint_adjoint(self.func, y0, t, return_stats=True, **options)
        else:
            ys, self.last_stats = odeint(self.func, y0, t, return_stats=True, **options)
        return ys if self.trajectory else ys[-1]


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model``: ``p.numel()`` summed over the parameters that
    require grad (frozen ones are not counted). The one count the lessons print (07 and 10 import
    it from their own modules, 09 as ``utils.latent.n_parameters``)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
