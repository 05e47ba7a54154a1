"""Gradients of an ODE solve by the adjoint method: :func:`odeint_adjoint`.

Backpropagating through a solver (``utils.solvers.odeint`` on tensors) keeps every intermediate
tensor of every step in the autograd graph: memory grows with the number of steps. The adjoint
method keeps none. The forward solve runs without a graph; the backward pass solves a second ODE,
backwards in time, whose solution is the gradient. Its memory does not depend on the number of
steps; its price is a second solve (about twice the work of the forward one per step) and a
gradient that is only as accurate as that second solve.

Notation of Chen et al. (2018), with the state ``z(t)`` (``h`` in the course), dynamics
``f(z, t, theta)`` and a loss ``L`` of the state at the output times::

    a(t)          = dL/dz(t)                                  (the adjoint)
    dz/dt         =  f(z(t), t, theta)                        (the state, re-solved backwards)
    da/dt         = -a(t)^T df/dz (z(t), t, theta)            (eq. 4 of the paper)
    dL/dtheta     = -int_{t1}^{t0} a(t)^T df/dtheta dt        (eq. 5 of the paper)

All three are solved together from ``t1`` back to ``t0`` on one augmented state (Algorithm 1 of
the paper); here it is the named tuple :class:`AdjointState` ``(h, a, g)``. The accumulator
``g`` starts at 0 at ``t1`` and obeys ``dg/dt = -a^T df/dtheta``, so at ``t0`` it holds
``dL/dtheta``. At each earlier output time ``t_i`` the loss's own gradient ``dL/dz(t_i)`` is
added to ``a``, which is how a loss on many output times enters.

Reference: R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary
Differential Equations", NeurIPS 2018, arXiv:1806.07366 (section 2, eqs. 3-5, Algorithm 1,
Appendix B); L. S. Pontryagin et al., *The Mathematical Theory of Optimal Processes* (1962).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn
from torch.autograd.function import once_differentiable

from .solvers import (
    SolveStats,
    _tuple_state,
    ignored_solver_options,
    odeint,
    resolve_solver_call,
)

__all__ = [
    "odeint_adjoint",
    "AdjointState",
    "AdjointStats",
    "augmented_dynamics",
    "resolve_drift",
    "adjoint_gradient_error",
]


class AdjointState(NamedTuple):
    """The augmented state of the backward solve, at one time t.

    Attributes:
        h: the state h(t), re-solved backwards; shape of ``y0`` (e.g. ``(batch, dim)``).
        a: the adjoint a(t) = dL/dh(t); same shape as ``h``.
        g: the parameter-gradient accumulator, one tensor per parameter, each of that
            parameter's shape; at the end of the backward solve, ``g == dL/dtheta``.
    """

    h: torch.Tensor
    a: torch.Tensor
    g: tuple[torch.Tensor, ...]


class _Packer:
    """Flattens an :class:`AdjointState` into one 1-D tensor for the solver, and back.

    ``utils.solvers.odeint`` integrates one tensor. The flat vector is laid out as
    ``[h.ravel(), a.ravel(), g[0].ravel(), g[1].ravel(), ...]``; this class is the only place that
    knows the layout, so no other code slices the flat vector by index.
    """

    def __init__(self, like: AdjointState):
        self.shapes = [like.h.shape, like.a.shape, *[g.shape for g in like.g]]
        self.sizes = [math.prod(s) for s in self.shapes]

    def pack(self, state: AdjointState) -> torch.Tensor:
        parts = [state.h, state.a, *state.g]
        return torch.cat([p.reshape(-1) for p in parts])

    def unpack(self, flat: torch.Tensor) -> AdjointState:
        parts = [p.view(s) for p, s in zip(flat.split(self.sizes), self.shapes, strict=True)]
        return AdjointState(h=parts[0], a=parts[1], g=tuple(parts[2:]))


def augmented_dynamics(func: nn.Module, t, state: AdjointState, params) -> AdjointState:
    """The time derivative of the augmented state (Chen et al. 2018, Algorithm 1).

    Args:
        func: the dynamics ``f(t, h)``.
        t: the time, a 0-d tensor.
        state: the current ``(h, a, g)``.
        params: the parameters theta of ``func`` whose gradients ``g`` accumulates.

    Returns:
        ``AdjointState(dh/dt, da/dt, dg/dt) = (f, -a^T df/dh, -a^T df/dtheta)``. Both vector-
        Jacobian products come from one reverse-mode pass through ``func`` (never a full
        Jacobian). A parameter ``f`` does not use gets a zero derivative, and so does ``h`` when
        ``f`` depends on ``t`` alone.
    """
    vjps: tuple[torch.Tensor | None, ...]
    with torch.enable_grad():
        h = state.h.detach().requires_grad_(True)
        f = func(t, h)
        if f.requires_grad:
            vjps = torch.autograd.grad(f, (h, *params), grad_outputs=state.a, allow_unused=True)
        else:  # f depends on neither h nor the parameters (e.g. dy/dt = g(t)): no coupling
            vjps = (None,) * (1 + len(params))
    vjp_h, vjp_params = vjps[0], vjps[1:]
    da = -vjp_h if vjp_h is not None else torch.zeros_like(state.h)
    dg = tuple(
        torch.zeros_like(p) if v is None else -v for p, v in zip(params, vjp_params, strict=True)
    )
    return AdjointState(h=f.detach(), a=da, g=dg)


@dataclass
class AdjointStats(SolveStats):
    """:class:`~utils.solvers.SolveStats` of the forward solve, plus the backward solves.

    ``odeint_adjoint(..., return_stats=True)`` returns one. Its inherited fields (``n_fevals``,
    ``n_accepted``, ...) describe the forward solve and are set at once. ``backward`` is empty
    until ``loss.backward()`` runs; then it holds the stats of each backward solve, one per
    interval between output times, latest interval first. Each backward function evaluation
    costs one call of ``func`` plus one vector-Jacobian product through it.
    """

    backward: list[SolveStats] = field(default_factory=list)

    @property
    def backward_n_fevals(self) -> int:
        """Evaluations of the augmented dynamics over all backward solves (0 before backward)."""
        return sum(s.n_fevals for s in self.backward)

    @property
    def backward_n_steps(self) -> int:
        """Accepted plus rejected steps over all backward solves (0 before backward)."""
        return sum(s.n_steps for s in self.backward)


class _OdeintAdjointFunction(torch.autograd.Function):
    """Forward: ``odeint`` without a graph. Backward: the adjoint ODE, solved backwards."""

    @staticmethod
    def forward(ctx, func, tuple_state, options, adjoint_options, stats, t, y0, *params):
        with torch.no_grad():
            if tuple_state is None:
                ys, forward_stats = odeint(func, y0, t.detach(), return_stats=True, **options)
            else:  # solve the tuple itself, so the error norm is the tuple's (as in odeint)
                parts, forward_stats = odeint(func, tuple_state.split(y0), t.detach(),
                                              return_stats=True, **options)
                ys = torch.cat([p.reshape(len(t), -1) for p in parts], dim=1)
        if stats is not None:  # else the step log is dropped now: memory then stays flat
            for name in SolveStats.__dataclass_fields__:
                setattr(stats, name, getattr(forward_stats, name))
        ctx.func = func if tuple_state is None else tuple_state.func(func)
        ctx.adjoint_options, ctx.stats = adjoint_options, stats
        ctx.save_for_backward(t, ys, *params)
        return ys

    @staticmethod
    @once_differentiable
    def backward(ctx, grad_ys):
        t, ys, *params = ctx.saved_tensors
        func, stats = ctx.func, ctx.stats
        params = tuple(params)
        t_needs_grad = ctx.needs_input_grad[5]

        def dynamics(time, flat):
            return packer.pack(augmented_dynamics(func, time, packer.unpack(flat), params))

        def slope_along(grad, i):
            """<grad, f(t_i, y(t_i))>: how the loss moves with the output time t_i."""
            with torch.no_grad():
                return (grad * func(t[i].detach(), ys[i])).sum()

        time_grads = torch.zeros_like(t) if t_needs_grad else None
        # At the last output time: h = y(T), a = dL/dy(T), g = 0.
        state = AdjointState(h=ys[-1], a=grad_ys[-1], g=tuple(torch.zeros_like(p) for p in params))
        packer = _Packer(state)
        for i in range(len(t) - 1, 0, -1):
            if t_needs_grad:  # y(t_i) moves with t_i at the speed f(t_i, y(t_i))
                time_grads[i] = slope_along(grad_ys[i], i)
            span = torch.stack((t[i], t[i - 1])).detach()
            flat, back_stats = odeint(
                dynamics, packer.pack(state), span, return_stats=True, **ctx.adjoint_options
            )
            if stats is not None:
                stats.backward.append(back_stats)
            end = packer.unpack(flat[-1])
            # Restart h from the forward solve's stored y(t_i) (as torchdiffeq does): this stops
            # the re-solve's drift from carrying over into earlier intervals. Then add the loss's
            # own gradient at t_i to the adjoint.
            state = AdjointState(h=ys[i - 1], a=end.a + grad_ys[i - 1], g=end.g)
        if t_needs_grad and len(t) > 1:
            # Moving the start t_0 later is solving the same problem from y0 over a shorter span:
            # dL/dt_0 = -a(t_0)^T f(t_0, y0), with a(t_0) the adjoint of the later outputs only
            # (Chen et al. 2018, Appendix B.2).
            time_grads[0] = -slope_along(state.a - grad_ys[0], 0)
        return (
            None,  # func: not a tensor; its parameters get their gradients below
            None,  # tuple_state: a description of the state's parts
            None,  # options: a dict of solver settings, not differentiable
            None,  # adjoint_options: idem
            None,  # stats: a record (or None), not differentiable
            time_grads,  # t: dL/dt_i, or None when t needs none
            state.a,  # y0: dL/dy0 = a(t0)
            *state.g,  # params: dL/dtheta, accumulated by the backward solve
        )


def odeint_adjoint(
    func,
    y0,
    t,
    *,
    rtol: float | None = None,
    atol: float | None = None,
    method: str | None = None,
    options: dict | None = None,
    event_fn=None,
    adjoint_rtol: float | None = None,
    adjoint_atol: float | None = None,
    adjoint_method: str | None = None,
    adjoint_options: dict | None = None,
    adjoint_params=None,
    step_size: float | None = None,
    max_steps: int | None = None,
    return_stats: bool = False,
    **unexpected,
):
    """Solve ``dy/dt = func(t, y)`` like :func:`utils.solvers.odeint`; gradients by the adjoint.

    The call is torchdiffeq's ``odeint_adjoint``. The forward solve keeps no autograd graph.
    ``loss.backward()`` then solves the augmented system backwards from ``t[-1]`` to ``t[0]``
    (Chen et al. 2018, arXiv:1806.07366, eqs. 3-5 and Algorithm 1), with ``a(t) = dL/dy(t)`` and
    ``g`` the accumulator of ``dL/dtheta``::

        dy/dt = f(y, t, theta)
        da/dt = -a(t)^T df/dy
        dg/dt = -a(t)^T df/dtheta       (g(t[-1]) = 0, so g(t[0]) = dL/dtheta)

    adding ``dL/dy(t_i)`` to ``a`` at each output time on the way back. Memory does not grow with
    the number of solver steps (only the outputs ``y(t_i)`` are stored). When ``t`` requires
    grad, ``dL/dt_i = a(t_i)^T f(t_i, y(t_i))`` for the outputs' own times (with only
    ``dL/dy(t_i)`` as ``a``) and ``dL/dt_0 = -a(t_0)^T f(t_0, y0)`` (Chen et al., Appendix B.2).

    **The gradient is approximate.** The state ``y`` is not stored but re-solved backwards, and
    that re-solve drifts from the forward trajectory, by a lot when the dynamics are dissipative
    (contracting forwards means expanding backwards) or chaotic; the gradient inherits the drift
    on top of the solver's own error. Here ``y`` restarts from the stored forward value at every
    output time, which bounds the drift to one interval. Tighten ``adjoint_rtol/atol`` (or use
    direct backpropagation) when gradient accuracy matters; see Gholami, Keutzer & Biros 2019
    (ANODE), arXiv:1902.10298. The error control of the backward solve measures the whole
    augmented state (h, a, g), as in the paper.

    Args:
        func: the dynamics ``func(t, y)``: a ``torch.nn.Module`` (its parameters with
            ``requires_grad`` get gradients) or, with ``adjoint_params``, any callable, e.g. a
            closure over tensors. Callbacks on it are out of scope (an error).
        y0: initial state, a floating-point tensor of any shape, e.g. ``(batch, dim)``, or a tuple
            of such tensors (as in ``odeint``).
        t: output times, 1-D, strictly monotone; ``t[0]`` is the time of ``y0``. If it requires
            grad, it gets ``dL/dt``.
        rtol, atol, method, options, step_size, max_steps: the forward solve, as in ``odeint``
            (one check, :func:`utils.solvers.resolve_solver_call`; an option that applies to
            neither solve is ignored with a warning). ``event_fn`` is out of scope.
        adjoint_method, adjoint_rtol, adjoint_atol, adjoint_options: the backward solve;
            default: the forward's. ``step_size`` and ``max_steps`` apply to both.
        adjoint_params: the tensors whose gradients the adjoint computes (those that require
            grad); default: ``func.parameters()``. Required (``()`` if none) when ``func`` is
            not an ``nn.Module``, since a closure's tensors cannot be found otherwise.
        return_stats: also return an :class:`AdjointStats`: the forward solve's statistics at
            once, and (after ``backward``) the backward solves' in ``stats.backward``.

    Returns:
        ``ys`` of shape ``(len(t), *y0.shape)`` (a tuple for a tuple state); or
        ``(ys, stats)`` with ``return_stats=True``.

    Raises:
        TypeError: ``y0`` not a floating tensor, dtypes differ, or a plain callable without
            ``adjoint_params``.
        ValueError: bad ``t``, tolerances or method (the solver's own checks).
        OutOfScopeError: a torchdiffeq feature the course does not implement (named).
    """
    caller = "odeint_adjoint"
    if adjoint_params is None and not isinstance(func, nn.Module):
        raise TypeError(
            f"odeint_adjoint needs func to be a torch.nn.Module (its parameters get the "
            f"gradients), got {type(func).__name__}; or pass the tensors the dynamics use as "
            "adjoint_params=(...) (adjoint_params=() if none); or wrap the dynamics in an "
            "nn.Module subclass whose forward(t, y) returns dy/dt; or use utils.solvers.odeint "
            "to backpropagate through a plain function"
        )
    tuple_state = _tuple_state(y0)
    if tuple_state is not None:
        y0 = tuple_state.flatten(y0)
    if not isinstance(y0, torch.Tensor) or not y0.is_floating_point():
        kind = f"a {y0.dtype} tensor" if isinstance(y0, torch.Tensor) else type(y0).__name__
        raise TypeError(
            f"odeint_adjoint needs y0 to be a floating-point torch tensor, got {kind}; "
            "e.g. torch.as_tensor(y0, dtype=torch.float64) (utils.solvers.odeint solves NumPy)"
        )
    t = t.to(dtype=y0.dtype, device=y0.device) if isinstance(t, torch.Tensor) else \
        torch.as_tensor(t, dtype=y0.dtype, device=y0.device)
    if adjoint_params is None:
        adjoint_params = func.parameters()
    params = tuple(p for p in adjoint_params if p.requires_grad)
    for p in params:
        if p.dtype != y0.dtype:
            raise TypeError(
                f"func has a {p.dtype} parameter but y0 is {y0.dtype}; make them agree, e.g. "
                f"func.to({y0.dtype}) or y0.to({p.dtype})"
            )
    backward_method = method if adjoint_method is None else adjoint_method
    backward_rtol = rtol if adjoint_rtol is None else adjoint_rtol
    backward_atol = atol if adjoint_atol is None else adjoint_atol
    # One shared check (utils.solvers.resolve_solver_call) for each solve; an option is
    # "not applicable" only if it applies to neither solve (step_size serves both).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        forward = resolve_solver_call(func, method=method, rtol=rtol, atol=atol, options=options,
                                      event_fn=event_fn, step_size=step_size, max_steps=max_steps,
                                      unexpected=unexpected, caller=caller)
        backward = resolve_solver_call(
            func, method=backward_method, rtol=backward_rtol, atol=backward_atol,
            options=options if adjoint_options is None else adjoint_options,
            step_size=step_size, max_steps=max_steps,
            caller="odeint_adjoint, backward solve (adjoint_method, adjoint_rtol, adjoint_atol, "
                   "adjoint_options)",
        )
    # Which options each solve ignores is decided in one place (ignored_solver_options); the
    # adjoint warns, once, about the options neither solve uses and the adjoint_ tolerances the
    # backward solve does not use. (rtol/atol serve the backward solve too unless adjoint_rtol/
    # adjoint_atol replace them.)
    unused_forward = ignored_solver_options(forward["method"], rtol=rtol, atol=atol,
                                            step_size=step_size)
    unused_backward = ignored_solver_options(backward["method"], rtol=backward_rtol,
                                             atol=backward_atol, step_size=step_size)
    ignored = [name for name in unused_forward if name in unused_backward]
    ignored += [f"adjoint_{name}" for name, value in (("rtol", adjoint_rtol),
                                                      ("atol", adjoint_atol))
                if value is not None and name in unused_backward]
    if ignored:
        warnings.warn(
            f"odeint_adjoint: {', '.join(ignored)} ha{'ve' if len(ignored) > 1 else 's'} no effect "
            f"with method={forward['method']!r}, adjoint_method={backward['method']!r}",
            UserWarning,
            stacklevel=2,
        )
    # Without return_stats no statistics are kept: the solver's per-step log (about 64 bytes a
    # step) would otherwise live through the backward pass and grow with the number of steps.
    stats = AdjointStats(method=forward["method"]) if return_stats else None
    ys = _OdeintAdjointFunction.apply(func, tuple_state, _odeint_kwargs(forward),
                                      _odeint_kwargs(backward), stats, t, y0, *params)
    if tuple_state is not None:
        ys = tuple_state.split(ys)
    return (ys, stats) if return_stats else ys


def _odeint_kwargs(settings: dict) -> dict:
    """The keywords of ``odeint`` for settings from :func:`resolve_solver_call`."""
    kwargs = {k: v for k, v in settings.items() if k != "interp"}
    return {**kwargs, "options": {"interp": settings["interp"]}}


def resolve_drift(func: nn.Module, y0: torch.Tensor, t_end: float, *, rtol: float, atol: float):
    """How far the adjoint's backward re-solve of the state lands from where it started.

    Solves ``y0 -> y(t_end)`` forwards, then ``y(t_end) -> y(0)`` backwards (what the backward
    pass of :func:`odeint_adjoint` does to the state), both with ``dopri5`` at ``rtol, atol``.

    Returns:
        ``max|y_back(0) - y0| / max|y0|``, a float: 0 for an exact re-solve. Dissipative dynamics
        (forward contraction) make it large: backwards, every error is amplified.
    """
    t = torch.tensor([0.0, t_end], dtype=y0.dtype)
    with torch.no_grad():
        y_end = odeint(func, y0, t, rtol=rtol, atol=atol)[-1]
        y_back = odeint(func, y_end, t.flip(0), rtol=rtol, atol=atol)[-1]
    return float((y_back - y0).abs().max() / y0.abs().max())


def adjoint_gradient_error(
    func: nn.Module,
    y0: torch.Tensor,
    t_end: float,
    *,
    rtol: float,
    atol: float,
    reference_rtol: float = 1e-11,
    reference_atol: float = 1e-13,
) -> dict:
    """The adjoint's gradient at a tolerance, against two yardsticks that answer two questions.

    Loss ``L = sum(y(t_end)**2) / 2``; every solve is ``dopri5``.

    1. *How accurate is it?* Against the reference, direct backprop through a solve at
       ``reference_rtol, reference_atol`` (the true gradient, up to that tight tolerance). Both
       the adjoint (``gradient_error``) and direct backprop at the *same* ``rtol, atol``
       (``direct_error``) are measured against it, so solver tolerance is compared like for like.
    2. *Is it the gradient of what the solver computed?* Direct backprop differentiates the
       discrete solve exactly (discretise-then-optimise); the adjoint solves the continuous
       adjoint ODE with its own errors and a re-solved state (optimise-then-discretise).
       ``adjoint_vs_direct`` compares the two on the same forward solve (same ``rtol, atol``):
       the part of the adjoint's error that comes from its backward pass, its drift included.

    Returns:
        ``{"gradient_error", "direct_error", "adjoint_vs_direct"}``: max relative errors over
        ``y0`` and every parameter; ``"drift"``: :func:`resolve_drift` at the same tolerance;
        ``"forward_nfe"``, ``"backward_nfe"``: the adjoint's evaluations.
    """
    t = torch.tensor([0.0, t_end], dtype=y0.dtype)

    def gradients(solve, **options):
        func.zero_grad(set_to_none=True)
        y = y0.detach().clone().requires_grad_(True)
        out = solve(func, y, t, **options)
        ys, stats = out if isinstance(out, tuple) else (out, None)
        (ys[-1].pow(2).sum() / 2).backward()
        grads = [y.grad] + [p.grad for p in func.parameters() if p.requires_grad]
        func.zero_grad(set_to_none=True)
        return grads, stats

    def relative(grads, against):
        return max(float((g - r).abs().max() / r.abs().max())
                   for g, r in zip(grads, against, strict=True))

    reference, _ = gradients(odeint, rtol=reference_rtol, atol=reference_atol)
    direct, _ = gradients(odeint, rtol=rtol, atol=atol)
    adjoint, stats = gradients(odeint_adjoint, rtol=rtol, atol=atol, return_stats=True)
    return {
        "gradient_error": relative(adjoint, reference),
        "direct_error": relative(direct, reference),
        "adjoint_vs_direct": relative(adjoint, direct),
        "drift": resolve_drift(func, y0, t_end, rtol=rtol, atol=atol),
        "forward_nfe": stats.n_fevals,
        "backward_nfe": stats.backward_n_fevals,
    }
