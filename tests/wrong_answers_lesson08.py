"""Plausible wrong answers to lesson 08's exercises; each must be reported wrong."""

import math

import torch

# -- Exercise 8.1: jacobian_trace(f, z) ----------------------------------------------------------


def trace_summing_the_whole_jacobian(f, z):
    """Sums every entry of the Jacobian (off-diagonal ones too): grad of f.sum()."""
    (grad,) = torch.autograd.grad(f.sum(), z, create_graph=True)
    return grad.sum(dim=1)


def trace_without_create_graph(f, z):
    """Right numbers, but the graph is dropped: training could not backpropagate through it."""
    trace = torch.zeros(z.shape[0], dtype=z.dtype)
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, retain_graph=True)
        trace = trace + grad[:, i]
    return trace


def trace_with_the_wrong_sign(f, z):
    """Returns d delta / dt = -tr J instead of tr J."""
    trace = torch.zeros(z.shape[0], dtype=z.dtype)
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=True)
        trace = trace - grad[:, i]
    return trace


def trace_returning_the_diagonal(f, z):
    """The diagonal entries, shape (batch, D), not their sum."""
    columns = []
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=True)
        columns.append(grad[:, i])
    return torch.stack(columns, dim=1)


def trace_summed_over_the_batch(f, z):
    """One number for the whole batch instead of one per row."""
    total = 0.0
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=True)
        total = total + grad[:, i].sum()
    return total


def trace_of_two_dimensions_only(f, z):
    """Hard-codes D = 2: wrong in 3-D."""
    (g0,) = torch.autograd.grad(f[:, 0].sum(), z, create_graph=True)
    (g1,) = torch.autograd.grad(f[:, 1].sum(), z, create_graph=True)
    return g0[:, 0] + g1[:, 1]


def trace_in_float32(f, z):
    """Accumulates in a float32 tensor and converts: float64 input comes back as float32."""
    trace = torch.zeros(z.shape[0])
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=True)
        trace = trace + grad[:, i].float()
    return trace


# -- Exercise 8.2: linear_flow_log_prob(A, x, t_end) ---------------------------------------------


def _log_normal(z):
    return -0.5 * (z**2).sum(dim=1) - 0.5 * z.shape[1] * math.log(2 * math.pi)


def linear_with_the_wrong_sign(A, x, t_end):
    """Subtracts the trace term: confuses delta(T) = -T tr A with +T tr A."""
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    return _log_normal(z_end) - t_end * torch.trace(A)


def linear_flowing_the_wrong_way(A, x, t_end):
    """Maps x with exp(-A T), as if the data sat at t = T."""
    z_end = x @ torch.linalg.matrix_exp(-A * t_end).T
    return _log_normal(z_end) + t_end * torch.trace(A)


def linear_without_the_volume_term(A, x, t_end):
    """Forgets the change of volume: only the base density at z(T)."""
    return _log_normal(x @ torch.linalg.matrix_exp(A * t_end).T)


def linear_without_the_time(A, x, t_end):
    """Trace term without its factor t_end."""
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    return _log_normal(z_end) + torch.trace(A)


def linear_with_exp_A_times_x_unrotated(A, x, t_end):
    """Multiplies the rows by exp(AT) from the wrong side (x @ exp(AT) instead of its transpose)."""
    z_end = x @ torch.linalg.matrix_exp(A * t_end)
    return _log_normal(z_end) + t_end * torch.trace(A)


def linear_without_normalising_constant(A, x, t_end):
    """Drops -(D/2) log(2 pi) from the standard normal's log-density."""
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    return -0.5 * (z_end**2).sum(dim=1) + t_end * torch.trace(A)


def linear_with_sum_of_entries(A, x, t_end):
    """Uses the sum of all entries of A instead of its trace."""
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    return _log_normal(z_end) + t_end * A.sum()


def linear_through_numpy(A, x, t_end):
    """Right numbers through NumPy/SciPy: a detached tensor, no gradient with respect to A."""
    import numpy as np
    from scipy.linalg import expm

    a, xs = A.detach().numpy(), x.detach().numpy()
    z_end = xs @ expm(a * t_end).T
    logp = (-0.5 * (z_end**2).sum(axis=1) - 0.5 * xs.shape[1] * np.log(2 * np.pi)
            + t_end * np.trace(a))
    return torch.as_tensor(logp, dtype=x.dtype)


# -- Exercise 8.3: hutchinson_estimate(f, z, noise) -----------------------------------------------


def hutchinson_without_jacobian(f, z, noise):
    """eps . f instead of eps^T J eps."""
    return (noise * f).sum(dim=1)


def hutchinson_forgetting_the_second_noise(f, z, noise):
    """Sums eps^T J over its entries: eps^T J 1 instead of eps^T J eps."""
    (eps_jacobian,) = torch.autograd.grad(f, z, noise, create_graph=True)
    return eps_jacobian.sum(dim=1)


def hutchinson_returning_the_exact_trace(f, z, noise):
    """Ignores the probes: the exact trace is what the estimator estimates, not the estimate."""
    trace = torch.zeros(z.shape[0], dtype=z.dtype)
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=True)
        trace = trace + grad[:, i]
    return trace


def hutchinson_without_create_graph(f, z, noise):
    """Right numbers, but no graph: a loss built from it could not be trained."""
    (eps_jacobian,) = torch.autograd.grad(f, z, noise)
    return (eps_jacobian * noise).sum(dim=1)


def hutchinson_with_unit_vector(f, z, noise):
    """Differentiates f.sum() (a probe of ones), then multiplies by the noise."""
    (grad,) = torch.autograd.grad(f.sum(), z, create_graph=True)
    return (grad * noise).sum(dim=1)


def hutchinson_summed_over_the_batch(f, z, noise):
    """One number for the whole batch."""
    (eps_jacobian,) = torch.autograd.grad(f, z, noise, create_graph=True)
    return (eps_jacobian * noise).sum()


def linear_constant_for_two_dimensions(A, x, t_end):
    """The normalising constant hard-coded for D = 2: log(2 pi)."""
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    return -0.5 * (z_end**2).sum(dim=1) - math.log(2 * math.pi) + t_end * torch.trace(A)


def linear_in_float64(A, x, t_end):
    """Computes in float64 whatever the input: float64 out for float32 in."""
    A, x = A.double(), x.double()
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    return (-0.5 * (z_end**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
            + t_end * torch.trace(A))


WRONG = {
    "ex08_jacobian_trace": [
        trace_summing_the_whole_jacobian,
        trace_without_create_graph,
        trace_with_the_wrong_sign,
        trace_returning_the_diagonal,
        trace_summed_over_the_batch,
        trace_of_two_dimensions_only,
        trace_in_float32,
    ],
    "ex08_linear_flow_log_prob": [
        linear_with_the_wrong_sign,
        linear_flowing_the_wrong_way,
        linear_without_the_volume_term,
        linear_without_the_time,
        linear_with_exp_A_times_x_unrotated,
        linear_without_normalising_constant,
        linear_with_sum_of_entries,
        linear_constant_for_two_dimensions,
        linear_in_float64,
        linear_through_numpy,
    ],
    "ex08_hutchinson_estimate": [
        hutchinson_without_jacobian,
        hutchinson_forgetting_the_second_noise,
        hutchinson_returning_the_exact_trace,
        hutchinson_without_create_graph,
        hutchinson_with_unit_vector,
        hutchinson_summed_over_the_batch,
    ],
}
