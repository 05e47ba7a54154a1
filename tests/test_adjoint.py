"""Gradients of utils.adjoint.odeint_adjoint: against direct backprop and finite differences."""

from __future__ import annotations

import warnings

import pytest
import torch
from torch import nn

from utils.adjoint import AdjointState, _Packer, augmented_dynamics, odeint_adjoint, resolve_drift
from utils.models import ODEFunc
from utils.solvers import OutOfScopeError, ignored_solver_options, odeint

TIGHT = dict(rtol=1e-10, atol=1e-12)


def _model(seed=0, dim=3, **kwargs):
    torch.manual_seed(seed)
    return ODEFunc(dim, hidden=16, **kwargs).double()


def _gradients(solve, func, y0, t, weights, **options):
    """dL/dy0 and dL/dtheta for L = sum(weights * ys), a loss on every output time."""
    func.zero_grad(set_to_none=True)
    y0 = y0.detach().clone().requires_grad_(True)
    ys = solve(func, y0, t, **options)
    (weights * ys).sum().backward()
    return [y0.grad] + [p.grad for p in func.parameters()]


def _relative_error(got, expected):
    return max(float((g - e).norm() / e.norm()) for g, e in zip(got, expected, strict=True))


@pytest.mark.parametrize("layers, time_input", [(1, False), (2, True)])
def test_matches_direct_backprop_dopri5(layers, time_input):
    func = _model(layers=layers, time_input=time_input)
    y0 = torch.randn(5, 3, dtype=torch.float64)  # a batch of 5 states
    t = torch.tensor([0.0, 0.3, 0.7, 1.2], dtype=torch.float64)  # several output times
    weights = torch.randn(len(t), 5, 3, dtype=torch.float64)
    direct = _gradients(odeint, func, y0, t, weights, **TIGHT)
    adjoint = _gradients(odeint_adjoint, func, y0, t, weights, **TIGHT)
    assert _relative_error(adjoint, direct) <= 1e-6


@pytest.mark.parametrize("method", ["euler", "midpoint", "rk4"])
def test_matches_direct_backprop_fixed_step(method):
    func = _model(seed=1)
    y0 = torch.randn(4, 3, dtype=torch.float64)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    weights = torch.randn(len(t), 4, 3, dtype=torch.float64)
    options = dict(method=method, step_size=0.5 / 2000 if method == "euler" else 0.01)
    direct = _gradients(odeint, func, y0, t, weights, **options)
    adjoint = _gradients(odeint_adjoint, func, y0, t, weights, **options)
    # A fixed step differentiates the discrete solver vs. the continuous adjoint: they agree to
    # the method's accuracy, not to round-off.
    tolerance = {"euler": 1e-3, "midpoint": 1e-5, "rk4": 1e-6}[method]
    assert _relative_error(adjoint, direct) <= tolerance


def test_matches_finite_differences():
    func = _model(seed=2, dim=2)
    y0 = torch.tensor([[0.5, -0.3]], dtype=torch.float64)
    t = torch.tensor([0.0, 0.8], dtype=torch.float64)

    def loss(y0_, weight_):
        with torch.no_grad():
            original = func.net[0].weight.clone()
            func.net[0].weight.copy_(weight_)
            value = odeint(func, y0_, t, **TIGHT)[-1].pow(2).sum()
            func.net[0].weight.copy_(original)
        return float(value)

    grads = _gradients(odeint_adjoint, func, y0, t, torch.tensor([0.0, 0.0]).view(2, 1, 1), **TIGHT)
    func.zero_grad(set_to_none=True)
    y0r = y0.clone().requires_grad_(True)
    odeint_adjoint(func, y0r, t, **TIGHT)[-1].pow(2).sum().backward()
    eps = 1e-6
    weight = func.net[0].weight.detach().clone()
    for i in range(2):
        bump = torch.zeros_like(y0)
        bump[0, i] = eps
        fd = (loss(y0 + bump, weight) - loss(y0 - bump, weight)) / (2 * eps)
        assert abs(float(y0r.grad[0, i]) - fd) <= 1e-6 * max(1.0, abs(fd))
    for index in [(0, 0), (3, 1), (7, 0)]:
        bump = torch.zeros_like(weight)
        bump[index] = eps
        fd = (loss(y0, weight + bump) - loss(y0, weight - bump)) / (2 * eps)
        assert abs(float(func.net[0].weight.grad[index]) - fd) <= 1e-6 * max(1.0, abs(fd))
    assert grads[0].abs().sum() == 0  # a zero loss weight gives a zero gradient


def test_closed_form_scalar_growth():
    class Growth(nn.Module):
        def __init__(self):
            super().__init__()
            self.theta = nn.Parameter(torch.tensor(0.7, dtype=torch.float64))

        def forward(self, t, h):
            return self.theta * h

    func = Growth()
    h0 = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
    odeint_adjoint(func, h0, torch.tensor([0.0, 2.0]), **TIGHT)[-1].sum().backward()
    exact = torch.exp(torch.tensor(0.7 * 2.0, dtype=torch.float64))
    assert torch.allclose(h0.grad, exact, rtol=1e-8)
    assert torch.allclose(func.theta.grad, 2.0 * 1.5 * exact, rtol=1e-8)


def test_unused_parameters_get_zero_not_none():
    class WithSpare(nn.Module):
        def __init__(self):
            super().__init__()
            self.used = nn.Linear(2, 2).double()
            self.spare = nn.Parameter(torch.ones(3, dtype=torch.float64))

        def forward(self, t, h):
            return torch.tanh(self.used(h))

    func = WithSpare()
    y0 = torch.randn(2, 2, dtype=torch.float64)
    odeint_adjoint(func, y0, torch.tensor([0.0, 1.0])).sum().backward()
    assert func.spare.grad is not None and torch.equal(func.spare.grad, torch.zeros(3).double())
    assert func.used.weight.grad.abs().sum() > 0


def test_frozen_parameters_get_no_gradient_and_y0_without_grad_works():
    func = _model()
    func.net[0].weight.requires_grad_(False)
    y0 = torch.randn(2, 3, dtype=torch.float64)
    odeint_adjoint(func, y0, torch.tensor([0.0, 1.0])).sum().backward()
    assert func.net[0].weight.grad is None
    # the point here is which parameters get a gradient (the values are checked against direct
    # backprop and finite differences above): a present, non-zero one is enough
    assert func.net[0].bias.grad is not None and func.net[0].bias.grad.abs().sum() > 0


def test_stats_forward_and_backward():
    func = _model()
    y0 = torch.randn(2, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    ys, stats = odeint_adjoint(func, y0, t, method="rk4", step_size=0.1, return_stats=True)
    assert ys.shape == (3, 2, 3)
    assert stats.n_fevals == 40 and stats.n_accepted == 10 and stats.backward == []
    ys.sum().backward()
    assert len(stats.backward) == 2  # one backward solve per interval
    assert stats.backward_n_fevals == 40 and stats.backward_n_steps == 10


def test_packer_round_trip():
    state = AdjointState(
        h=torch.randn(4, 3), a=torch.randn(4, 3), g=(torch.randn(5, 3), torch.randn(5))
    )
    packer = _Packer(state)
    flat = packer.pack(state)
    assert flat.shape == (12 + 12 + 15 + 5,)
    back = packer.unpack(flat)
    assert torch.equal(back.h, state.h) and torch.equal(back.a, state.a)
    assert all(torch.equal(x, y) for x, y in zip(back.g, state.g, strict=True))


def test_augmented_dynamics_signs():
    func = _model(dim=2)
    h, a = torch.randn(3, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)
    params = tuple(func.parameters())
    state = AdjointState(h, a, tuple(torch.zeros_like(p) for p in params))
    d = augmented_dynamics(func, torch.tensor(0.0), state, params)
    jac = torch.autograd.functional.jacobian(lambda x: func(0.0, x), h)  # (3, 2, 3, 2)
    expected_da = -torch.einsum("bi,bijk->jk", a, jac)
    assert torch.allclose(d.a, expected_da)
    assert torch.allclose(d.h, func(0.0, h))


def test_bad_inputs_give_clear_errors():
    y0 = torch.zeros(2, dtype=torch.float64)
    t = torch.tensor([0.0, 1.0])
    with pytest.raises(TypeError, match="nn.Module.*adjoint_params"):
        odeint_adjoint(lambda t, y: -y, y0, t)
    with pytest.raises(TypeError, match="floating-point torch tensor"):
        odeint_adjoint(_model(dim=2), [0.0, 1.0], t)
    with pytest.raises(TypeError, match="func.to"):
        odeint_adjoint(ODEFunc(2), y0, t)  # float32 parameters, float64 state
    with pytest.raises(ValueError, match="adjoint_method"):
        odeint_adjoint(_model(dim=2), y0, t, adjoint_method="rk45")
    with pytest.raises(ValueError, match="adjoint_rtol"):
        odeint_adjoint(_model(dim=2), y0, t, adjoint_rtol=-1.0)
    with pytest.raises(ValueError, match="increasing"):
        odeint_adjoint(_model(dim=2), y0, torch.tensor([0.0, 1.0, 0.5]))


def test_resolve_drift_is_large_for_dissipative_dynamics():
    class Damped(nn.Module):
        def __init__(self, k):
            super().__init__()
            self.k = k

        def forward(self, t, h):
            return -self.k * h

    y0 = torch.ones(2, dtype=torch.float64)
    gentle = resolve_drift(Damped(0.1), y0, 2.0, rtol=1e-6, atol=1e-8)
    strong = resolve_drift(Damped(8.0), y0, 2.0, rtol=1e-6, atol=1e-8)
    assert gentle < 1e-5
    assert strong > 100 * gentle


def test_options_that_apply_to_neither_solve_warn():
    y0, t = torch.tensor([[1.0, 0.5]], dtype=torch.float64), torch.tensor([0.0, 1.0])
    with pytest.warns(UserWarning, match="step_size has no effect"):
        odeint_adjoint(_model(dim=2), y0, t, step_size=0.1)
    with pytest.warns(UserWarning, match="rtol has no effect"):
        odeint_adjoint(_model(dim=2), y0, t, method="rk4", rtol=1e-3)
    with warnings.catch_warnings():  # step_size serves an rk4 backward solve: no warning
        warnings.simplefilter("error")
        odeint_adjoint(_model(dim=2), y0, t, step_size=0.1, adjoint_method="rk4")
        odeint_adjoint(_model(dim=2), y0, t, method="rk4", step_size=0.1)


@pytest.mark.parametrize(("method", "adjoint_method", "options", "named"), [
    ("dopri5", None, {"step_size": 0.1}, "step_size has"),
    ("rk4", None, {"rtol": 1e-3, "atol": 1e-6}, "rtol, atol have"),
    ("rk4", "dopri5", {"rtol": 1e-3}, None),  # rtol serves the adaptive backward solve
    ("dopri5", "rk4", {"step_size": 0.1}, None),  # step_size serves the rk4 backward solve
    ("rk4", "rk4", {"adjoint_rtol": 1e-3}, "adjoint_rtol has"),
    ("rk4", "rk4", {"rtol": 1e-3, "adjoint_atol": 1e-6}, "rtol, adjoint_atol have"),
    ("dopri5", "rk4", {"adjoint_rtol": 1e-3}, "adjoint_rtol has"),
    ("rk4", "dopri5", {"adjoint_rtol": 1e-3, "step_size": 0.1}, None),
    ("dopri5", "dopri5", {"step_size": 0.1, "adjoint_rtol": 1e-3}, "step_size has"),
])
def test_the_adjoint_warns_once_about_exactly_the_options_neither_solve_uses(
        method, adjoint_method, options, named):
    """Expected by hand, per solve: rtol/atol/first_step serve adaptive methods, step_size fixed
    ones; an option shared by both solves is ignored only if both ignore it."""
    y0, t = torch.tensor([[1.0, 0.5]], dtype=torch.float64), torch.tensor([0.0, 1.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        odeint_adjoint(_model(dim=2), y0, t, method=method, adjoint_method=adjoint_method,
                       **options)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    backward = adjoint_method or method
    expected = [] if named is None else [
        f"odeint_adjoint: {named} no effect with method={method!r}, "
        f"adjoint_method={backward!r}"]
    assert messages == expected


def test_one_rule_decides_which_options_a_method_ignores():
    assert ignored_solver_options("rk4", rtol=1e-3, first_step=0.1, step_size=0.1) == [
        "rtol", "first_step"]
    assert ignored_solver_options("dopri5", rtol=1e-3, step_size=0.1) == ["step_size"]
    assert ignored_solver_options("euler") == []
    with pytest.raises(ValueError, match="unknown method 'rk5'"):
        ignored_solver_options("rk5", rtol=1e-3)


class _Damped(nn.Module):
    def __init__(self, k):
        super().__init__()
        torch.manual_seed(0)
        self.k, self.lin = k, nn.Linear(2, 2).double()

    def forward(self, t, h):
        return -self.k * h + torch.tanh(self.lin(h))


def test_adjoint_gradient_error_keeps_tolerance_and_drift_apart():
    from utils.adjoint import adjoint_gradient_error

    y = torch.tensor([[1.0, -0.5], [0.3, 0.8]], dtype=torch.float64)
    mild = adjoint_gradient_error(_Damped(0.0), y, 2.0, rtol=1e-5, atol=1e-7)
    stiff = adjoint_gradient_error(_Damped(5.0), y, 2.0, rtol=1e-5, atol=1e-7)
    for r in (mild, stiff):
        assert set(r) >= {"gradient_error", "direct_error", "adjoint_vs_direct", "drift"}
        # The adjoint-vs-direct gap is bounded by the two errors against the truth.
        assert r["adjoint_vs_direct"] <= 1.01 * (r["gradient_error"] + r["direct_error"])
    # Contracting dynamics: the adjoint disagrees with the solver's own gradient far more.
    assert stiff["adjoint_vs_direct"] > 30 * mild["adjoint_vs_direct"]
    assert stiff["drift"] > 30 * mild["drift"]
    tight = adjoint_gradient_error(_Damped(5.0), y, 2.0, rtol=1e-8, atol=1e-10)
    assert tight["gradient_error"] < stiff["gradient_error"] / 10


# --- torchdiffeq's conventions: adjoint_params, plain callables, t-only dynamics, t gradients ----


def test_plain_callable_with_adjoint_params_matches_direct_backprop():
    """A closure over tensors: the adjoint differentiates with respect to the tensors given."""
    torch.manual_seed(3)
    weight = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    bias = torch.randn(2, dtype=torch.float64, requires_grad=True)

    def func(t, y):
        return torch.tanh(y @ weight.T + bias)

    y0 = torch.tensor([[0.4, -0.2]], dtype=torch.float64)
    t = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    odeint(func, y0, t, **TIGHT).pow(2).sum().backward()
    direct = [weight.grad.clone(), bias.grad.clone()]
    weight.grad, bias.grad = None, None
    odeint_adjoint(func, y0, t, adjoint_params=(weight, bias), **TIGHT).pow(2).sum().backward()
    assert _relative_error([weight.grad, bias.grad], direct) <= 1e-6


def test_adjoint_params_restricts_the_gradients_to_the_tensors_given():
    func = _model(dim=2)
    y0 = torch.randn(3, 2, dtype=torch.float64)
    first = func.net[0].weight
    odeint_adjoint(func, y0, torch.tensor([0.0, 1.0]), adjoint_params=[first]).sum().backward()
    assert first.grad is not None and first.grad.abs().sum() > 0
    assert func.net[0].bias.grad is None


def test_dynamics_of_t_only():
    """dy/dt = cos(theta t): f depends on neither y nor (here) anything but t and theta."""
    theta = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    y0 = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 2.0], dtype=torch.float64)
    odeint_adjoint(lambda s, y: torch.cos(theta * s).expand_as(y), y0, t,
                   adjoint_params=(theta,), **TIGHT)[-1].sum().backward()
    assert torch.allclose(y0.grad, torch.ones(1, dtype=torch.float64))
    # y(2) = y0 + sin(2 theta) / theta: d/dtheta = 2 cos(2 theta)/theta - sin(2 theta)/theta^2
    exact = 2 * torch.cos(2 * theta) / theta - torch.sin(2 * theta) / theta**2
    assert torch.allclose(theta.grad, exact.detach(), rtol=1e-7)
    # And with y0 the only input: no parameters at all.
    y1 = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    odeint_adjoint(lambda s, y: torch.cos(s) + 0 * y.detach(), y1, t,
                   adjoint_params=())[-1].sum().backward()
    assert torch.allclose(y1.grad, torch.ones(1, dtype=torch.float64))


def test_gradients_with_respect_to_t_match_direct_backprop():
    func = _model(seed=4, dim=2, time_input=True)
    y0 = torch.randn(3, 2, dtype=torch.float64)
    weights = torch.randn(4, 3, 2, dtype=torch.float64)
    grads = []
    for solve in (odeint, odeint_adjoint):
        t = torch.tensor([0.1, 0.4, 0.9, 1.5], dtype=torch.float64, requires_grad=True)
        (weights * solve(func, y0, t, **TIGHT)).sum().backward()
        grads.append(t.grad)
    assert torch.all(grads[0].abs() > 1e-3)
    assert torch.allclose(grads[1], grads[0], rtol=1e-6, atol=1e-9)


def test_tuple_state_in_the_adjoint():
    func = _model(seed=5, dim=2)
    a = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, 1, dtype=torch.float64, requires_grad=True)

    def split_func(t, state):
        out = func(t, torch.cat(state, dim=-1))
        return out[:, :1], out[:, 1:]

    t = torch.tensor([0.0, 0.7], dtype=torch.float64)
    ya, yb = odeint_adjoint(split_func, (a, b), t, adjoint_params=tuple(func.parameters()),
                            **TIGHT)
    (ya[-1].sum() + 2 * yb[-1].sum()).backward()
    adjoint = [a.grad.clone(), b.grad.clone()]
    a.grad, b.grad = None, None
    ya, yb = odeint(split_func, (a, b), t, **TIGHT)
    (ya[-1].sum() + 2 * yb[-1].sum()).backward()
    assert _relative_error(adjoint, [a.grad, b.grad]) <= 1e-6


def test_torchdiffeq_keywords_of_the_adjoint():
    func = _model(dim=2)
    y0 = torch.randn(2, 2, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0.0, 1.0], dtype=torch.float64)
    ys, stats = odeint_adjoint(func, y0, t, method="rk4", options={"step_size": 0.1},
                               adjoint_method="rk4", adjoint_options={"step_size": 0.05},
                               return_stats=True)
    ys.sum().backward()
    assert stats.n_accepted == 10 and stats.backward[0].n_accepted == 20
    with pytest.raises(OutOfScopeError, match="event_fn"):
        odeint_adjoint(func, y0, t, event_fn=lambda t, y: y.sum())
    with pytest.raises(OutOfScopeError, match="adjoint_options\\['norm'\\]|options\\['norm'\\]"):
        odeint_adjoint(func, y0, t, adjoint_options={"norm": "seminorm"})


def test_each_backward_interval_starts_afresh():
    """Each interval's backward solve chooses its own first step, as a fresh solve would: its
    work equals that of a one-interval adjoint solve over the same interval from the same state.

    The dynamics f(t, y) = cos(3t) (no parameters, no dependence on y) keep the adjoint a = 1
    on every interval for the loss sum(y(T)), so interval i's backward problem is exactly the
    one-interval problem over [t_{i-1}, t_i] with the loss sum(y(t_i)). A step size carried over
    from the previous interval would change the count of evaluations.
    """
    def func(t, y):
        return torch.cos(3 * t) * torch.ones_like(y)

    t = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0], dtype=torch.float64)
    options = dict(rtol=1e-7, atol=1e-9)
    y0 = torch.zeros(1, 2, dtype=torch.float64, requires_grad=True)
    ys, stats = odeint_adjoint(func, y0, t, adjoint_params=(), return_stats=True, **options)
    ys[-1].sum().backward()
    assert len(stats.backward) == 4
    fresh = []
    for i in range(4, 0, -1):  # the order in which the backward pass meets the intervals
        start = ys[i - 1].detach().clone().requires_grad_(True)
        _, one = odeint_adjoint(func, start, t[i - 1:i + 1], adjoint_params=(),
                                return_stats=True, **options)
        _[-1].sum().backward()
        fresh.append(one.backward[0].n_fevals)
    assert [s.n_fevals for s in stats.backward] == fresh
    assert all(n > 6 for n in fresh)  # a real adaptive solve, not a single step
