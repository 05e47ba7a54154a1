"""Plausible wrong answers to lesson 09's exercises; each must be reported wrong."""

import torch

from utils.solvers import odeint

# -- Exercise 9.1: the masked backwards encoder ------------------------------------------------


def _encoder(cell, x, mask, t, *, backwards=True, use_mask=True, gap_kind="since_read",
             order=("x", "gap", "t"), h0=0.0):
    """The reference with one thing changed (each wrong answer below picks one)."""
    batch, n_times = x.shape
    h = x.new_full((batch, cell.hidden_size), h0)
    t_before = t[-1].expand(batch)
    steps = reversed(range(n_times)) if backwards else range(n_times)
    for i in steps:
        seen = mask[:, i] if use_mask else torch.ones(batch, dtype=torch.bool)
        if gap_kind == "since_read":
            gap = t_before - t[i]
        elif gap_kind == "negative":
            gap = t[i] - t_before
        else:  # the grid's own spacing, whatever was observed
            gap = (t[min(i + 1, n_times - 1)] - t[i]).expand(batch)
        parts = {"x": x[:, i], "gap": gap, "t": t[i].expand(batch)}
        h_new = cell(torch.stack([parts[k] for k in order], dim=-1), h)
        h = torch.where(seen[:, None], h_new, h)
        t_before = torch.where(seen, t[i], t_before)
    return h


def encoder_forwards_in_time(cell, x, mask, t):
    return _encoder(cell, x, mask, t, backwards=False)


def encoder_ignores_mask(cell, x, mask, t):
    return _encoder(cell, x, mask, t, use_mask=False)


def encoder_gap_is_grid_spacing(cell, x, mask, t):
    return _encoder(cell, x, mask, t, gap_kind="grid")


def encoder_negative_gap(cell, x, mask, t):
    return _encoder(cell, x, mask, t, gap_kind="negative")


def encoder_first_gap_zero(cell, x, mask, t):
    """The first point each series reads gets a gap of 0 (not the time to t[-1])."""
    batch, n_times = x.shape
    h = x.new_zeros(batch, cell.hidden_size)
    t_before = torch.full((batch,), float("nan"), dtype=x.dtype)
    for i in reversed(range(n_times)):
        gap = torch.where(torch.isnan(t_before), torch.zeros_like(t_before), t_before - t[i])
        h_new = cell(torch.stack((x[:, i], gap, t[i].expand(batch)), dim=-1), h)
        h = torch.where(mask[:, i, None], h_new, h)
        t_before = torch.where(mask[:, i], t[i], t_before)
    return h


def encoder_features_swapped(cell, x, mask, t):
    return _encoder(cell, x, mask, t, order=("x", "t", "gap"))


def encoder_starts_from_ones(cell, x, mask, t):
    return _encoder(cell, x, mask, t, h0=1.0)


def encoder_gap_to_previous_grid_point(cell, x, mask, t):
    """Moves t_before at every grid time, observed or not."""
    batch, n_times = x.shape
    h = x.new_zeros(batch, cell.hidden_size)
    t_before = t[-1].expand(batch)
    for i in reversed(range(n_times)):
        gap = t_before - t[i]
        h_new = cell(torch.stack((x[:, i], gap, t[i].expand(batch)), dim=-1), h)
        h = torch.where(mask[:, i, None], h_new, h)
        t_before = t[i].expand(batch)
    return h


def encoder_returns_every_state(cell, x, mask, t):
    batch, n_times = x.shape
    h = x.new_zeros(batch, cell.hidden_size)
    t_before = t[-1].expand(batch)
    states = []
    for i in reversed(range(n_times)):
        h_new = cell(torch.stack((x[:, i], t_before - t[i], t[i].expand(batch)), dim=-1), h)
        h = torch.where(mask[:, i, None], h_new, h)
        t_before = torch.where(mask[:, i], t[i], t_before)
        states.append(h)
    return torch.stack(states, dim=1)


# -- Exercise 9.2: the read-out at any query times ----------------------------------------------


def _readout(func, readout, z0, t_query, step_size, *, method="rk4", fixed=True, prepend="auto",
             transpose=True, squeeze=True, keep_start=False):
    start = prepend == "always" or (prepend == "auto" and bool(t_query[0] != 0))
    t_solve = torch.cat((t_query.new_zeros(1), t_query)) if start else t_query
    options = {"step_size": step_size} if fixed and method == "rk4" else {}
    z = odeint(func, z0, t_solve, method=method, **options)
    if start and not keep_start:
        z = z[1:]
    out = readout(z)
    out = out.squeeze(-1) if squeeze else out
    return out.transpose(0, 1) if transpose else out


def readout_steps_between_queries(func, readout, z0, t_query, step_size):
    """One RK4 step per query interval: the prediction depends on which times are asked."""
    return _readout(func, readout, z0, t_query, step_size, fixed=False)


def readout_adaptive_solver(func, readout, z0, t_query, step_size):
    return _readout(func, readout, z0, t_query, step_size, method="dopri5")


def readout_starts_at_first_query(func, readout, z0, t_query, step_size):
    """Treats z0 as the state at t_query[0] instead of at t = 0."""
    return _readout(func, readout, z0, t_query, step_size, prepend="never")


def readout_always_prepends_zero(func, readout, z0, t_query, step_size):
    return _readout(func, readout, z0, t_query, step_size, prepend="always")


def readout_keeps_the_start(func, readout, z0, t_query, step_size):
    return _readout(func, readout, z0, t_query, step_size, keep_start=True)


def readout_time_first(func, readout, z0, t_query, step_size):
    return _readout(func, readout, z0, t_query, step_size, transpose=False)


def readout_keeps_last_axis(func, readout, z0, t_query, step_size):
    return _readout(func, readout, z0, t_query, step_size, squeeze=False)


def readout_detached(func, readout, z0, t_query, step_size):
    return _readout(func, readout, z0, t_query, step_size).detach()


def encoder_assigns_in_place(cell, x, mask, t):
    """Writes the observed rows into h (h[...] = ...): autograd's saved h is overwritten."""
    batch, n_times = x.shape
    h = x.new_zeros(batch, cell.hidden_size)
    t_before = t[-1].expand(batch).clone()
    for i in reversed(range(n_times)):
        h_new = cell(torch.stack((x[:, i], t_before - t[i], t[i].expand(batch)), dim=-1), h)
        seen = mask[:, i]
        h[seen] = h_new[seen]
        t_before = torch.where(seen, t[i], t_before)
    return h


WRONG = {
    "ex09_encode_backwards": [
        encoder_forwards_in_time,
        encoder_ignores_mask,
        encoder_gap_is_grid_spacing,
        encoder_negative_gap,
        encoder_first_gap_zero,
        encoder_features_swapped,
        encoder_starts_from_ones,
        encoder_gap_to_previous_grid_point,
        encoder_assigns_in_place,
        encoder_returns_every_state,
    ],
    "ex09_latent_readout": [
        readout_steps_between_queries,
        readout_adaptive_solver,
        readout_starts_at_first_query,
        readout_always_prepends_zero,
        readout_keeps_the_start,
        readout_time_first,
        readout_keeps_last_axis,
        readout_detached,
    ],
}
