"""Tests of utils.training: the loop's record, time windows, metrics, snapshots.

(Lesson 05's snapshot slider, which uses the snapshots, is tested in test_lessons_05_06.py.)
"""

import numpy as np
import pytest
import torch
from torch import nn

from utils.solvers import odeint
from utils.training import (
    Snapshot,
    restored,
    rmse,
    sample_windows,
    train,
)


def _linear_problem():
    """Fit dy/dt = a y to data from a = -0.5: one parameter, a known answer."""
    model = nn.Linear(1, 1, bias=False).double()
    nn.init.constant_(model.weight, 0.0)
    t = torch.linspace(0.0, 2.0, 11, dtype=torch.float64)
    y0 = torch.ones(3, 1, dtype=torch.float64)
    target = torch.exp(-0.5 * t)[:, None, None] * y0

    def func(t, y):
        return model(y)

    optimizer = torch.optim.Adam(model.parameters(), lr=0.05)

    def step(i):
        optimizer.zero_grad()
        loss = (odeint(func, y0, t, method="rk4") - target).pow(2).mean()
        loss.backward()
        optimizer.step()
        return loss.item()

    return model, step


def test_train_records_losses_and_learns():
    model, step = _linear_problem()
    history = train(step, n_steps=200, progress=False)
    assert len(history.losses) == 200
    assert history.losses[-1] < 1e-3 * history.losses[0]
    assert abs(model.weight.item() + 0.5) < 0.02
    assert history.seconds > 0
    assert history.snapshots == []


def test_train_snapshots_are_copies_at_the_right_steps():
    model, step = _linear_problem()
    history = train(step, n_steps=25, model=model, snapshot_every=10, progress=False)
    assert [s.step for s in history.snapshots] == [0, 10, 20, 25]
    assert np.isnan(history.snapshots[0].loss)
    assert history.snapshots[1].loss == history.losses[9]
    weights = [s.state["weight"].item() for s in history.snapshots]
    assert weights[0] == 0.0 and weights[-1] == model.weight.item()
    assert len(set(weights)) == 4  # deep copies, not references to the live parameter


@pytest.mark.parametrize("kwargs, error", [
    ({"n_steps": 0}, ValueError),
    ({"n_steps": 5, "snapshot_every": 2}, ValueError),  # no model to snapshot
    ({"n_steps": 5, "snapshot_every": -1}, ValueError),
])
def test_train_rejects_bad_input(kwargs, error):
    with pytest.raises(error):
        train(lambda i: 0.0, progress=False, **kwargs)
    with pytest.raises(TypeError):
        train(3, n_steps=1, progress=False)


def test_sample_windows_cuts_consecutive_samples():
    t = torch.linspace(0.0, 9.0, 10, dtype=torch.float64)
    # y[k, n] = (k, 100 n): a window's rows must be consecutive k of one trajectory n
    k = torch.arange(10.0)[:, None].expand(10, 3)
    n = torch.arange(3.0)[None, :].expand(10, 3) * 100
    y = torch.stack((k, n), dim=-1).double()
    g = torch.Generator().manual_seed(0)
    t_w, y0_w, y_w = sample_windows(t, y, length=4, batch_size=50, generator=g)
    assert t_w.tolist() == [0.0, 1.0, 2.0, 3.0]
    assert y0_w.shape == (50, 2) and y_w.shape == (4, 50, 2)
    torch.testing.assert_close(y_w[0], y0_w)
    torch.testing.assert_close(torch.diff(y_w[..., 0], dim=0), torch.ones(3, 50, dtype=y.dtype))
    assert (y_w[..., 1] == y_w[:1, :, 1]).all()  # one trajectory per window
    assert set(y_w[0, :, 1].tolist()) == {0.0, 100.0, 200.0}  # all trajectories get drawn
    assert y_w[0, :, 0].max() <= 6  # the last possible start leaves room for 4 samples


def test_sample_windows_is_reproducible_and_validates():
    t = torch.linspace(0.0, 1.0, 8)
    y = torch.randn(8, 2, 2)
    a = sample_windows(t, y, length=3, batch_size=5, generator=torch.Generator().manual_seed(1))
    b = sample_windows(t, y, length=3, batch_size=5, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(a[2], b[2])
    g = torch.Generator()
    with pytest.raises(ValueError, match="length"):
        sample_windows(t, y, length=9, batch_size=5, generator=g)
    with pytest.raises(ValueError, match="evenly spaced"):
        sample_windows(t ** 2, y, length=3, batch_size=5, generator=g)
    with pytest.raises(ValueError, match="shape"):
        sample_windows(t, y[0], length=3, batch_size=5, generator=g)
    with pytest.raises(TypeError):
        sample_windows(t.numpy(), y, length=3, batch_size=5, generator=g)


def test_rmse():
    assert rmse(np.array([1.0, 2.0]), np.array([1.0, 4.0])) == pytest.approx(np.sqrt(2.0))
    assert rmse(torch.tensor([3.0]), torch.tensor([0.0])) == pytest.approx(3.0)
    with pytest.raises(ValueError):
        rmse(np.zeros(3), np.zeros(4))


def test_restored_puts_the_parameters_back():
    model = nn.Linear(2, 2)
    snap = Snapshot(3, 0.1, {k: torch.zeros_like(v) for k, v in model.state_dict().items()})
    before = model.weight.detach().clone()
    with restored(model, snap):
        assert (model.weight == 0).all()
    torch.testing.assert_close(model.weight.detach(), before)
    with pytest.raises(TypeError):
        restored(model, {"weight": before})
