"""Exercises of Lesson 08 (continuous normalizing flows): the exact trace of a Jacobian, the
log-density of a linear flow in closed form, and Hutchinson's trace estimator.

Each trace exercise is checked where the lesson uses it: the harness builds ``f = field(z)`` from
a fresh ``z`` that requires grad and hands both to the answer, as :class:`utils.flows.CNFDynamics`
does inside a solve. The fields have parameters, so the reference's result requires grad (it is
trained through): an answer computed without ``create_graph=True`` fails.
"""

from __future__ import annotations

import torch
from torch import nn

from .core import Case, Exercise

__all__ = ["jacobian_trace", "linear_flow_log_prob", "hutchinson_estimate"]


# -- inputs -----------------------------------------------------------------------------------


def _field(dim: int, seed: int, dtype=torch.float64) -> nn.Module:
    """A small tanh MLP R^dim -> R^dim with a non-symmetric, non-diagonal Jacobian."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(dim, 8), nn.Tanh(), nn.Linear(8, dim)).to(dtype)


def _points(batch: int, dim: int, seed: int, dtype=torch.float64) -> torch.Tensor:
    return torch.randn(batch, dim, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _rademacher(batch: int, dim: int, seed: int, dtype=torch.float64) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.randint(0, 2, (batch, dim), generator=g) * 2 - 1).to(dtype)


class _Linear(nn.Module):
    """f(z) = z A^T (a linear field: its Jacobian is A everywhere), A a parameter."""

    def __init__(self, A):
        super().__init__()
        self.A = nn.Parameter(torch.as_tensor(A, dtype=torch.float64))

    def forward(self, z):
        return z @ self.A.T


def _on_field(answer, field, z0):
    """As inside a CNF's dynamics: f = field(z) for a z that requires grad; answer(f, z)."""
    z = z0.clone().requires_grad_(True)
    return answer(field(z), z)


def _on_field_with_noise(answer, field, z0, noise):
    z = z0.clone().requires_grad_(True)
    return answer(field(z), z, noise)


def _all_four_probes(answer, field, z0):
    """Average of the estimate over the four +-1 probes in 2-D (the same for every row)."""
    z = z0.clone().requires_grad_(True)
    f = field(z)
    estimates = []
    for signs in ((1, 1), (1, -1), (-1, 1), (-1, -1)):
        noise = torch.tensor(signs, dtype=z.dtype).expand_as(z).clone()
        estimates.append(answer(f, z, noise))
    return torch.stack(estimates).mean(dim=0)


# -- Exercise 8.1: the exact trace --------------------------------------------------------------

_A = [[0.5, 2.0], [-1.0, -1.5]]  # trace -1, off-diagonal entries that do not cancel


def _trace_cases():
    return [
        Case("linear field f(z) = A z, A = [[0.5, 2], [-1, -1.5]] (trace -1), 4 points",
             args=(_Linear(_A), _points(4, 2, 0)), call=_on_field,
             expected=torch.full((4,), -1.0, dtype=torch.float64), atol=1e-10),
        Case("tanh MLP field in 2-D, 5 points (float64)",
             args=(_field(2, 1), _points(5, 2, 1)), call=_on_field, atol=1e-10),
        Case("tanh MLP field in 3-D, 3 points (float64)",
             args=(_field(3, 2), _points(3, 3, 2)), call=_on_field, atol=1e-10),
    ]


def _trace_hidden_cases():
    return [
        Case("tanh MLP field in 2-D, 7 points (float32)",
             args=(_field(2, 11, torch.float32), _points(7, 2, 11, torch.float32)),
             call=_on_field, rtol=1e-4, atol=1e-5),
        Case("tanh MLP field in 4-D, one point",
             args=(_field(4, 12), _points(1, 4, 12)), call=_on_field, atol=1e-10),
        Case("linear field in 3-D with trace 2.5, 6 points",
             args=(_Linear([[1.0, 3.0, 0.0], [0.5, 2.0, -1.0], [2.0, 0.0, -0.5]]),
                   _points(6, 3, 13)),
             call=_on_field, expected=torch.full((6,), 2.5, dtype=torch.float64), atol=1e-10),
    ]


jacobian_trace = Exercise(
    id="ex08_jacobian_trace",
    withholds=("utils.flows.exact_trace", "utils.flows.hutchinson_trace"),
    title="Exercise 8.1: the exact trace of the Jacobian",
    points=3,
    reference="lesson08.jacobian_trace",
    cases=_trace_cases,
    hidden_cases=_trace_hidden_cases,
    hints=(
        'The trace is the sum of the diagonal entries d f_i / d z_i; autograd gives one row '
        'of the Jacobian per backward pass.',
        'For each dimension i, differentiate the sum over the batch of output column i with '
        'respect to z: rows do not mix, so that gives d f_i / dz for every row at once; keep '
        'its column i and add the D results up. Training backpropagates through the trace, so '
        "each gradient must keep its own graph (autograd's create_graph option).",
    ),
)


# -- Exercise 8.2: a linear flow in closed form ---------------------------------------------


def _leaf(matrix, dtype=torch.float64):
    return torch.tensor(matrix, dtype=dtype, requires_grad=True)


def _log_prob_for_2d_only(A, x, t_end):
    """The mistake the 3-D case guards against: the normalising constant of D = 2."""
    import math

    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    return -0.5 * (z_end**2).sum(dim=1) - math.log(2 * math.pi) + t_end * torch.trace(A)


def _linear_cases():
    return [
        Case("A = [[0.5, 2], [-1, -1.5]], t_end = 1, 4 points",
             args=(_leaf(_A), _points(4, 2, 3), 1.0)),
        Case("A = [[-0.3, 1], [0, 0.8]], t_end = 0.5, 5 points",
             args=(_leaf([[-0.3, 1.0], [0.0, 0.8]]), _points(5, 2, 4), 0.5)),
        Case("A = 0 (no flow): log p is the standard normal's",
             args=(_leaf([[0.0, 0.0], [0.0, 0.0]]), _points(3, 2, 5), 2.0)),
        Case("3-D, A = [[0.5, 0, 0.2], [0, -1, 0], [0.1, 0.3, 0]], t_end = 1, 3 points",
             args=(_leaf([[0.5, 0.0, 0.2], [0.0, -1.0, 0.0], [0.1, 0.3, 0.0]]),
                   _points(3, 3, 7), 1.0),
             why="the normalising constant is (D / 2) log(2 pi) with D the dimension of x, here 3",
             why_if=_log_prob_for_2d_only),
        Case("float32 in, float32 out: A = [[0.5, 2], [-1, -1.5]], t_end = 1, 4 points",
             args=(_leaf(_A, torch.float32), _points(4, 2, 8, torch.float32), 1.0),
             rtol=1e-4, atol=1e-5, why="a float32 input gives a float32 result",
             why_on=("dtype",)),
    ]


def _linear_hidden_cases():
    return [
        Case("3-D, t_end = 1.5",
             args=(_leaf([[0.2, -0.5, 0.1], [0.4, 0.3, 0.0], [0.0, 0.6, -0.9]]),
                   _points(4, 3, 14), 1.5)),
        Case("2-D, float32, t_end = 2",
             args=(_leaf([[0.1, 0.7], [-0.2, 0.4]], torch.float32),
                   _points(6, 2, 15, torch.float32), 2.0), rtol=1e-4, atol=1e-5),
        Case("2-D, one point, t_end = 0.25",
             args=(_leaf([[1.0, 0.0], [2.0, -0.25]]), _points(1, 2, 16), 0.25)),
    ]


linear_flow_log_prob = Exercise(
    id="ex08_linear_flow_log_prob",
    withholds=("utils.flows.log_prob",),
    title="Exercise 8.2: the log-density of a linear flow",
    points=2,
    reference="lesson08.linear_flow_log_prob",
    cases=_linear_cases,
    hidden_cases=_linear_hidden_cases,
    hints=(
        "For a linear field the flow is a matrix exponential and the Jacobian's trace is "
        'constant: everything has a closed form.',
        'A data point x at t = 0 is carried to z(T) = exp(A T) x (rows of x: multiply by the '
        'transpose). The log-density change is the integral of tr(A), so log p(x) is the '
        "standard normal's log-density at z(T) plus T tr(A). In D dimensions that log-density "
        'is -|z|^2 / 2 - (D / 2) log(2 pi): take D from the input, and build every new tensor '
        "in the input's dtype.",
    ),
)


# -- Exercise 8.3: Hutchinson's estimator ---------------------------------------------------


def _hutchinson_cases():
    return [
        Case("tanh MLP in 2-D, 5 points, fixed +-1 probes",
             args=(_field(2, 1), _points(5, 2, 1), _rademacher(5, 2, 1)),
             call=_on_field_with_noise, atol=1e-10),
        Case("the same field: averaged over the four +-1 probes of 2-D, the estimate is the "
             "exact trace", args=(_field(2, 1), _points(5, 2, 1)), call=_all_four_probes,
             atol=1e-10),
        Case("linear field A = [[0.5, 2], [-1, -1.5]], probes (1, 1) and (1, -1): "
             "tr A +- (A_12 + A_21) = 0 and -2",
             args=(_Linear(_A), _points(2, 2, 6), torch.tensor([[1.0, 1.0], [1.0, -1.0]],
                                                              dtype=torch.float64)),
             call=_on_field_with_noise, expected=torch.tensor([0.0, -2.0], dtype=torch.float64),
             atol=1e-10),
    ]


def _hutchinson_hidden_cases():
    return [
        Case("tanh MLP in 3-D, Gaussian probes, 4 points",
             args=(_field(3, 21), _points(4, 3, 21), _points(4, 3, 22)),
             call=_on_field_with_noise, atol=1e-10),
        Case("tanh MLP in 2-D, float32, 6 points",
             args=(_field(2, 23, torch.float32), _points(6, 2, 23, torch.float32),
                   _rademacher(6, 2, 23, torch.float32)),
             call=_on_field_with_noise, rtol=1e-4, atol=1e-5),
        Case("another 2-D field, averaged over the four +-1 probes",
             args=(_field(2, 24), _points(3, 2, 24)), call=_all_four_probes, atol=1e-10),
    ]


hutchinson_estimate = Exercise(
    id="ex08_hutchinson_estimate",
    withholds=("utils.flows.hutchinson_trace", "utils.flows.exact_trace"),
    title="Exercise 8.3: Hutchinson's trace estimator",
    points=3,
    reference="lesson08.hutchinson_estimate",
    cases=_hutchinson_cases,
    hidden_cases=_hutchinson_hidden_cases,
    hints=(
        'eps^T J eps is an unbiased estimate of tr(J) when eps has zero mean and identity '
        'covariance; you never need J itself.',
        'One vector-Jacobian product gives eps^T J for every row at once: ask autograd for '
        'the gradient of f with respect to z with the noise as the vector to multiply by, '
        'keeping the graph (training differentiates the estimate). Multiply that by the noise '
        'again and sum over the last axis.',
    ),
)
