"""What lessons 05 and 06 compute behind their sliders, tested without the notebooks."""

import numpy as np
import pytest
import torch
from torch import nn

from utils.datasets import load_lynx_hare
from utils.systems import DampedOscillator, LotkaVolterra
from utils.training import Snapshot, lotka_volterra_curves, snapshot_view


class _Linear2(nn.Module):
    """dy/dt = A y with a learnable 2x2 matrix A (a stand-in for a trained ODEFunc)."""

    def __init__(self):
        super().__init__()
        self.A = nn.Parameter(torch.zeros(2, 2, dtype=torch.float64))

    def forward(self, t, y):
        return y @ self.A.T


def test_snapshot_view_shows_each_snapshot_and_leaves_the_model_alone():
    osc = DampedOscillator()
    true_A = torch.tensor([[0.0, 1.0], [-osc.omega_n**2, -2 * osc.zeta * osc.omega_n]],
                          dtype=torch.float64)
    func = _Linear2()
    snapshots = [Snapshot(0, float("nan"), {"A": torch.zeros(2, 2, dtype=torch.float64)}),
                 Snapshot(100, 1e-6, {"A": true_A.clone()})]
    live = torch.full((2, 2), 7.0, dtype=torch.float64)
    with torch.no_grad():
        func.A.copy_(live)
    t = torch.linspace(0.0, 10.0, 101, dtype=torch.float64)
    y0 = torch.tensor([1.0, 0.0], dtype=torch.float64)

    untrained = snapshot_view(func, snapshots[0], y0, t, n=9, step_size=0.05)
    trained = snapshot_view(func, snapshots[1], y0, t, n=9, step_size=0.05)

    assert untrained.step == 0 and trained.step == 100 and trained.loss == 1e-6
    assert trained.trajectory.shape == (101, 2)
    np.testing.assert_allclose(untrained.trajectory, np.tile([1.0, 0.0], (101, 1)))  # zero field
    np.testing.assert_allclose(trained.trajectory, osc.exact(t.numpy(), y0.numpy()), atol=1e-5)
    X, Y, U, V = trained.field
    assert X.shape == (9, 9)
    np.testing.assert_allclose(np.stack((U, V), -1), osc(0.0, np.stack((X, Y), -1)), atol=1e-12)
    assert np.all(untrained.field[2] == 0)
    torch.testing.assert_close(func.A.detach(), live)  # the slider does not change the model


def test_lotka_volterra_curves_match_the_system_and_the_data_scale():
    data = load_lynx_hare()
    t = data.years - 1900.0
    rates = (0.55, 0.028, 0.8, 0.024)
    curves = lotka_volterra_curves(*rates, state0=(30.0, 4.0), t=t)
    assert curves.shape == (21, 2)
    np.testing.assert_allclose(curves[0], [30.0, 4.0])
    system = LotkaVolterra(*rates)
    invariant = system.invariant(curves)
    assert np.ptp(invariant) < 1e-4 * abs(invariant[0])  # a closed orbit, solved accurately
    # the slider's curves live on the data's scale: same order of magnitude as the pelts
    assert 5 < curves[:, 0].max() < 200 and 1 < curves[:, 1].max() < 200


@pytest.mark.parametrize("bad", [dict(alpha=-0.1), dict(state0=(0.0, 4.0)),
                                 dict(state0=(1.0, 2.0, 3.0))])
def test_lotka_volterra_curves_rejects_bad_input(bad):
    kwargs = dict(alpha=0.5, beta=0.03, gamma=0.8, delta=0.02, state0=(30.0, 4.0),
                  t=np.linspace(0, 1, 3))
    kwargs.update(bad)
    with pytest.raises(ValueError):
        lotka_volterra_curves(kwargs.pop("alpha"), kwargs.pop("beta"), kwargs.pop("gamma"),
                              kwargs.pop("delta"), **kwargs)
