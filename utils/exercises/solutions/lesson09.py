"""Reference solutions of Lesson 09's exercises (irregularly sampled time series)."""

import torch

from utils.solvers import odeint


def encode_backwards(cell, x, mask, t):
    """Run a GRU cell over each series' observed points, latest first, fed (value, gap, time)."""
    batch, n_times = x.shape
    h = x.new_zeros(batch, cell.hidden_size)  # (batch, hidden): nothing read yet
    t_before = t[-1].expand(batch)  # time of the observation read before, per series
    for i in reversed(range(n_times)):  # backwards in time
        gap = t_before - t[i]  # (batch,): time to the observation read before (>= 0)
        inputs = torch.stack((x[:, i], gap, t[i].expand(batch)), dim=-1)  # (batch, 3)
        h_new = cell(inputs, h)
        seen = mask[:, i]  # (batch,) bool
        h = torch.where(seen[:, None], h_new, h)  # a new tensor: only observed series update
        t_before = torch.where(seen, t[i], t_before)
    return h


def latent_readout(func, readout, z0, t_query, step_size):
    """Solve the latent ODE from z0 at t = 0 and read the position out at the query times."""
    starts_at_zero = bool(t_query[0] == 0)
    t_solve = t_query if starts_at_zero else torch.cat((t_query.new_zeros(1), t_query))
    # Fixed steps from t = 0, whatever the query times: the prediction at a time does not
    # depend on which other times are asked for.
    z = odeint(func, z0, t_solve, method="rk4", step_size=step_size)  # (n, batch, latent)
    if not starts_at_zero:
        z = z[1:]  # t = 0 was only the start
    return readout(z).squeeze(-1).transpose(0, 1)  # (batch, n_query)
