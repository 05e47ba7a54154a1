"""Exercises of Lesson 09 (irregularly sampled time series): the masked backwards encoder, and the
latent ODE's read-out at any query times."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..models import ODEFunc
from .core import Case, Exercise

__all__ = ["encode_backwards", "latent_readout"]


# -- Exercise 9.1: the encoder ----------------------------------------------------------------


def _encoder_args(*, times, mask_rows, hidden, dtype, seed):
    """(cell, x, mask, t): a seeded GRUCell(3, hidden), values, a bool mask, uneven times."""
    torch.manual_seed(seed)
    cell = nn.GRUCell(3, hidden).to(dtype)
    t = torch.tensor(times, dtype=dtype)
    mask = torch.tensor(mask_rows, dtype=torch.bool)
    x = torch.randn(mask.shape, dtype=dtype)
    return cell, x, mask, t


def _encoder_cases():
    return [
        Case("3 series on 6 uneven times, each observed at different ones (float64)",
             args=_encoder_args(times=[0.0, 0.3, 0.5, 1.2, 1.4, 2.0],
                                mask_rows=[[1, 0, 1, 0, 0, 1], [0, 1, 1, 1, 1, 0],
                                           [1, 1, 0, 0, 1, 0]],
                                hidden=5, dtype=torch.float64, seed=0)),
        Case("one series observed once (not at the last time), one never: its h stays zeros",
             args=_encoder_args(times=[0.0, 0.5, 1.0, 1.5], mask_rows=[[0, 1, 0, 0], [0, 0, 0, 0]],
                                hidden=4, dtype=torch.float64, seed=1)),
        Case("float32, 2 series on 8 times, hidden size 6",
             args=_encoder_args(times=[0.0, 0.2, 0.4, 0.6, 1.0, 1.8, 2.6, 3.0],
                                mask_rows=[[0, 1, 0, 1, 1, 0, 1, 0], [1, 0, 0, 0, 0, 1, 0, 1]],
                                hidden=6, dtype=torch.float32, seed=2),
             rtol=1e-5, atol=1e-6),
    ]


def _encoder_hidden_cases():
    return [
        Case("4 series, times not starting at 0, hidden size 3",
             args=_encoder_args(times=[1.0, 1.1, 1.7, 2.0, 2.9, 3.3, 4.0],
                                mask_rows=[[1, 0, 0, 1, 0, 1, 0], [0, 0, 1, 0, 1, 0, 0],
                                           [1, 1, 1, 1, 1, 1, 1], [0, 0, 0, 0, 0, 0, 1]],
                                hidden=3, dtype=torch.float64, seed=3)),
        Case("float32, every point observed",
             args=_encoder_args(times=[0.0, 0.5, 0.7, 2.0, 2.2], mask_rows=[[1] * 5, [1] * 5],
                                hidden=4, dtype=torch.float32, seed=4),
             rtol=1e-5, atol=1e-6),
    ]


encode_backwards = Exercise(
    id="ex09_encode_backwards",
    withholds=("utils.latent.encode_backwards", "utils.latent.GapGRUEncoder.forward"),
    title="Exercise 9.1: the masked backwards encoder",
    points=3,
    reference="lesson09.encode_backwards",
    cases=_encoder_cases,
    hidden_cases=_encoder_hidden_cases,
    hints=(
        "Read each series from its last time back to its first, and let a series' state "
        'change only at the times it was observed.',
        "Start from a zero state per series and, per series, the 'time read before' at the "
        'last grid time. Going backwards over the grid, the cell reads three features: the '
        'value, the gap from the time read before to this time, and this time. Where the mask '
        "says observed, keep the cell's new state and move that series' time read before to "
        'this time; elsewhere keep both as they were. Select with a tensor operation that '
        'builds new tensors (no assignment into h).',
    ),
)


# -- Exercise 9.2: the read-out at any query times --------------------------------------------


def _rotation_field(omega):
    """dz/dt = z @ [[0, omega], [-omega, 0]]: from (1, 0), z1(t) = cos(omega t)."""
    matrix = torch.tensor([[0.0, omega], [-omega, 0.0]], dtype=torch.float64)

    def rotation(t, z):
        return z @ matrix.to(z.dtype)

    return rotation


def _first_component(dtype=torch.float64):
    readout = nn.Linear(2, 1).to(dtype)
    with torch.no_grad():
        readout.weight.copy_(torch.tensor([[1.0, 0.0]]))
        readout.bias.zero_()
    return readout


def _latent_model(latent_dim, batch, dtype, seed):
    """(func, readout, z0): a seeded ODEFunc latent model like the lesson's."""
    torch.manual_seed(seed)
    func = ODEFunc(latent_dim, hidden=16, layers=2).to(dtype)
    readout = nn.Linear(latent_dim, 1).to(dtype)
    z0 = torch.randn(batch, latent_dim, dtype=dtype)
    return func, readout, z0


def _continuity(answer, func, readout, z0, t_full, subset, step_size):
    """The read-out at a few times, minus the same times read from the whole grid: zeros."""
    full = answer(func, readout, z0, t_full, step_size)
    part = answer(func, readout, z0, t_full[subset], step_size)
    return full[:, subset] - part


def _adaptive_readout(func, readout, z0, t_query, step_size):
    """The mistake case 2 guards against: odeint's default adaptive method."""
    from ..solvers import odeint

    t_solve = t_query if bool(t_query[0] == 0) else torch.cat((t_query.new_zeros(1), t_query))
    z = odeint(func, z0, t_solve)
    z = z if bool(t_query[0] == 0) else z[1:]
    return readout(z).squeeze(-1).transpose(0, 1)


def _readout_cases():
    t_rot = torch.tensor([0.3, 0.7, 1.9, 2.5], dtype=torch.float64)
    exact = torch.stack((torch.cos(2 * t_rot), -torch.sin(2 * t_rot)))  # z1 from (1,0), (0,1)
    z0_rot = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    func, readout, z0 = _latent_model(4, 3, torch.float64, seed=0)
    grid = torch.linspace(0.0, 6.0, 31, dtype=torch.float64)
    return [
        Case("a rotation z' = z @ [[0, 2], [-2, 0]], read out z1, queries (0.3, 0.7, 1.9, 2.5), "
             "steps of 0.05: cos(2t) and -sin(2t)",
             args=(_rotation_field(2.0), _first_component(), z0_rot, t_rot, 0.05),
             expected=exact, rtol=0.0, atol=1e-5),
        Case("the lesson's kind of model, 3 series, queries starting at t = 0, steps of 0.5",
             args=(func, readout, z0, torch.tensor([0.0, 0.25, 1.1, 3.0, 4.75, 8.0],
                                                    dtype=torch.float64), 0.5),
             why="that is an adaptive solve (dopri5); the lesson's model reads its latent path "
                 "with fixed RK4 steps of step_size", why_if=_adaptive_readout),
        Case("continuity: 5 of 31 grid times asked alone = the same times read from the whole "
             "grid (difference 0)",
             args=(func, readout, z0, grid, torch.tensor([1, 4, 5, 17, 30]), 0.5),
             call=_continuity, atol=1e-9),
        Case("float32, 2 series, 3 query times, steps of 0.25",
             args=(*_latent_model(3, 2, torch.float32, seed=1),
                   torch.tensor([0.6, 0.65, 2.2]), 0.25),
             rtol=1e-5, atol=1e-6),
    ]


def _readout_hidden_cases():
    func, readout, z0 = _latent_model(2, 4, torch.float64, seed=5)
    return [
        Case("one query time, t = 2.0",
             args=(func, readout, z0, torch.tensor([2.0], dtype=torch.float64), 0.5)),
        Case("continuity on another grid and step",
             args=(*_latent_model(3, 2, torch.float64, seed=6),
                   torch.linspace(0.0, 3.0, 16, dtype=torch.float64), torch.tensor([0, 3, 9, 10]),
                   0.3),
             call=_continuity, atol=1e-9),
        Case("float32 queries starting at 0, latent size 5",
             args=(*_latent_model(5, 3, torch.float32, seed=7),
                   torch.tensor(np.array([0.0, 0.1, 0.9, 1.0, 2.5]), dtype=torch.float32), 0.5),
             rtol=1e-5, atol=1e-6),
    ]


latent_readout = Exercise(
    id="ex09_latent_readout",
    withholds=("utils.latent.latent_readout", "utils.latent.LatentODEDecoder.forward"),
    title="Exercise 9.2: read the latent ODE out at any times",
    points=3,
    reference="lesson09.latent_readout",
    cases=_readout_cases,
    hidden_cases=_readout_hidden_cases,
    hints=(
        'z0 is the state at t = 0, so every solve must start at 0, whatever times are asked.',
        'If the first query time is not 0, solve on the query times with a 0 put in front and '
        'drop that first state afterwards. Use the fixed-step RK4 method with the given step '
        'size (not an adaptive method). Apply the readout to the states, drop its last axis '
        'of size 1, and return (batch, n_query): series first, times second.',
    ),
)
