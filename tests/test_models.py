"""Tests of utils.models: ODEFunc (the dynamics network) and NeuralODE (dynamics + solver)."""

from __future__ import annotations

import warnings

import pytest
import torch
import torchdiffeq
from torch import nn

from utils.models import NeuralODE, ODEFunc
from utils.solvers import odeint


def _func(dim=2, *, hidden=8, time_input=False, seed=0):
    torch.manual_seed(seed)
    return ODEFunc(dim, hidden=hidden, time_input=time_input).double()


@pytest.mark.parametrize("shape", [(3,), (5, 3), (4, 2, 3)])
@pytest.mark.parametrize("time_input", [False, True])
def test_odefunc_keeps_the_state_shape(shape, time_input):
    func = _func(3, time_input=time_input)
    h = torch.randn(*shape, dtype=torch.float64)
    assert func(0.5, h).shape == h.shape


def test_odefunc_is_tanh_mlp_with_time_appended_last():
    func = _func(2, hidden=6, time_input=True)
    h = torch.tensor([[0.3, -0.7], [1.0, 2.0]], dtype=torch.float64)
    lin1, lin2 = func.net[0], func.net[2]
    t_col = torch.full((2, 1), 0.8, dtype=torch.float64)
    expected = lin2(torch.tanh(lin1(torch.cat((h, t_col), dim=-1))))
    assert torch.allclose(func(0.8, h), expected)
    assert torch.allclose(func(torch.tensor(0.8, dtype=torch.float64), h), expected)


def test_time_input_makes_dynamics_time_dependent_and_autonomous_ones_not():
    h = torch.tensor([0.3, -0.7], dtype=torch.float64)
    timed, autonomous = _func(time_input=True), _func(time_input=False)
    assert not torch.allclose(timed(0.0, h), timed(1.0, h))
    assert torch.equal(autonomous(0.0, h), autonomous(1.0, h))


def test_odefunc_layers_and_nfe_counter():
    func = ODEFunc(3, hidden=5, layers=2)
    assert [type(m) for m in func.net] == [nn.Linear, nn.Tanh, nn.Linear, nn.Tanh, nn.Linear]
    assert func.nfe == 0
    with torch.no_grad():
        _, stats = odeint(func, torch.zeros(3), torch.tensor([0.0, 1.0]), method="rk4",
                          step_size=0.25, return_stats=True)
    assert func.nfe == stats.n_fevals == 16


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"dim": 0}, ValueError),
        ({"dim": 2, "hidden": 0}, ValueError),
        ({"dim": 2, "layers": 0}, ValueError),
        ({"dim": 2.0}, TypeError),
        ({"dim": 2, "hidden": True}, TypeError),
    ],
)
def test_odefunc_rejects_bad_sizes(kwargs, error):
    dim = kwargs.pop("dim")
    with pytest.raises(error):
        ODEFunc(dim, **kwargs)


def test_odefunc_rejects_wrong_state():
    func = ODEFunc(3)
    with pytest.raises(ValueError, match="dim=3"):
        func(0.0, torch.zeros(2))
    with pytest.raises(TypeError, match="torch tensor"):
        func(0.0, [0.0, 0.0, 0.0])


def test_neural_ode_trajectory_and_final_state_match_odeint():
    func = _func(2, time_input=True)
    t = torch.linspace(0.0, 1.0, 6, dtype=torch.float64)
    h0 = torch.tensor([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.5]], dtype=torch.float64)
    with torch.no_grad():
        direct = odeint(func, h0, t, rtol=1e-8, atol=1e-10)
        traj = NeuralODE(func, t, rtol=1e-8, atol=1e-10)(h0)
        final_model = NeuralODE(func, t, rtol=1e-8, atol=1e-10, trajectory=False)
        final = final_model(h0)
    assert traj.shape == (6, 3, 2) and torch.equal(traj, direct)
    assert final.shape == (3, 2) and torch.equal(final, direct[-1])
    assert final_model.last_stats is not None and final_model.last_stats.n_fevals > 0


def test_neural_ode_fixed_step_is_rk4_with_that_step():
    from utils.exercises.solutions.lesson03 import neural_ode_forward as _neural_ode_forward

    func = _func(3, seed=1)
    t = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
    h0 = torch.randn(4, 3, dtype=torch.float64)
    with torch.no_grad():
        model = NeuralODE(func, t, method="rk4", step_size=0.25)
        assert torch.allclose(model(h0), _neural_ode_forward(func, h0, t, 2), atol=1e-12)
    assert model.last_stats.n_fevals == 4 * 8


def test_neural_ode_follows_the_model_dtype():
    func = ODEFunc(2, hidden=4)
    model = NeuralODE(func, torch.linspace(0.0, 1.0, 3)).double()
    assert model.t.dtype == torch.float64
    out = model(torch.ones(2, dtype=torch.float64))
    assert out.dtype == torch.float64


def test_neural_ode_gradient_matches_finite_difference():
    func = _func(2, hidden=4, seed=3)
    model = NeuralODE(func, torch.tensor([0.0, 1.0], dtype=torch.float64), method="rk4",
                      step_size=0.1, trajectory=False)
    h0 = torch.tensor([[0.5, -0.2]], dtype=torch.float64)
    bias = func.net[2].bias

    def loss():
        return model(h0).pow(2).sum()

    loss().backward()
    eps = 1e-6
    with torch.no_grad():
        bias[0] += eps
        up = loss().item()
        bias[0] -= 2 * eps
        down = loss().item()
        bias[0] += eps
    assert bias.grad[0].item() == pytest.approx((up - down) / (2 * eps), rel=1e-6)
    # one value checked against a finite difference above; here only that every parameter
    # takes part in the loss (a present, non-zero gradient)
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in func.parameters())


@pytest.mark.parametrize(
    "t, error",
    [
        (torch.tensor(1.0), ValueError),
        (torch.tensor([0.0]), ValueError),
        (torch.zeros(2, 2), ValueError),
    ],
)
def test_neural_ode_rejects_bad_times(t, error):
    with pytest.raises(error, match="1-D"):
        NeuralODE(ODEFunc(2), t)


def test_neural_ode_rejects_bad_method_and_func():
    with pytest.raises(ValueError, match="unknown method"):
        NeuralODE(ODEFunc(2), torch.tensor([0.0, 1.0]), method="rk45")
    with pytest.raises(TypeError, match="callable"):
        NeuralODE("not a module", torch.tensor([0.0, 1.0]))


def test_integer_times_become_floats():
    model = NeuralODE(ODEFunc(2), torch.tensor([0, 1]))
    assert model.t.is_floating_point()


@pytest.mark.parametrize("method", ["euler", "midpoint"])
def test_fixed_steps_agree_with_torchdiffeq_to_rounding(method):
    func = _func(2, hidden=16, seed=4)
    t = torch.linspace(0.0, 2.0, 11, dtype=torch.float64)
    h0 = torch.randn(5, 2, dtype=torch.float64)
    with torch.no_grad():
        ours = NeuralODE(func, t, method=method, step_size=0.05)(h0)
        theirs = torchdiffeq.odeint(func, h0, t, method=method, options={"step_size": 0.05})
    assert (ours - theirs).abs().max().item() < 1e-12


def test_dopri5_agrees_with_torchdiffeq_within_tolerance():
    func = _func(2, hidden=16, seed=5)
    t = torch.linspace(0.0, 3.0, 31, dtype=torch.float64)
    h0 = torch.randn(8, 2, dtype=torch.float64)
    rtol, atol = 1e-7, 1e-9
    with torch.no_grad():
        ours = NeuralODE(func, t, rtol=rtol, atol=atol)(h0)
        theirs = torchdiffeq.odeint(func, h0, t, rtol=rtol, atol=atol, method="dopri5")
        exact = torchdiffeq.odeint(func, h0, t, rtol=1e-12, atol=1e-12, method="dopri5")
    scale = atol + rtol * exact.abs().max().item()
    assert (ours - theirs).abs().max().item() < 10 * scale
    assert (ours - exact).abs().max().item() < 10 * scale
    # and a looser solve is measurably further away: the comparison can fail
    with torch.no_grad():
        loose = NeuralODE(func, t, rtol=1e-3, atol=1e-5)(h0)
    assert (loose - exact).abs().max().item() > 10 * scale


def test_neural_ode_warns_once_about_options_its_method_ignores():
    func = ODEFunc(2).double()
    with pytest.warns(UserWarning, match="NeuralODE: rtol has no effect with method='rk4'"):
        model = NeuralODE(func, torch.tensor([0.0, 1.0]), method="rk4", rtol=1e-3, step_size=0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # not again at every forward pass
        model(torch.zeros(3, 2, dtype=torch.float64))
