"""Tests of utils.flows (lesson 08): the data's density, traces, log_prob, sampling, slider."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from utils import flows
from utils.flows import TwoMoons, VectorField
from utils.solvers import odeint


class Linear(nn.Module):
    """f(t, z) = A z: flow exp(A t), Jacobian A everywhere."""

    def __init__(self, A):
        super().__init__()
        self.A = nn.Parameter(torch.as_tensor(A))

    def forward(self, t, z):
        return z @ self.A.T


def jacobian_traces(field, t, z):
    """The reference: tr of torch.autograd.functional.jacobian, point by point."""
    return torch.stack([torch.trace(torch.autograd.functional.jacobian(
        lambda p: field(t, p[None])[0], point)) for point in z])


# -- the data ----------------------------------------------------------------------------------


def test_two_moons_density_integrates_to_one_and_matches_its_samples():
    moons = TwoMoons()
    x, y = np.linspace(-3, 3, 151), np.linspace(-2.5, 2.5, 126)
    grid = np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2)
    mass = np.exp(moons.log_prob(grid)).sum() * (x[1] - x[0]) * (y[1] - y[0])
    assert mass == pytest.approx(1.0, abs=1e-3)
    samples = moons.sample(5000, seed=0)
    assert samples.shape == (5000, 2)
    assert np.abs(samples.mean(axis=0)).max() < 0.1  # centred near the origin
    # the samples' mean log-density is the entropy's negative; a shifted copy scores worse
    assert moons.log_prob(samples).mean() > moons.log_prob(samples + 0.3).mean() + 0.5


def test_two_moons_is_reproducible_and_checks_its_input():
    moons = TwoMoons()
    np.testing.assert_array_equal(moons.sample(10, seed=3), moons.sample(10, seed=3))
    assert moons.centres.shape == (200, 2)
    with pytest.raises(ValueError, match="noise"):
        TwoMoons(noise=0.0)
    with pytest.raises(ValueError, match="n_per_moon"):
        TwoMoons(n_per_moon=1)
    with pytest.raises(ValueError, match="shape"):
        moons.log_prob(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="n must be"):
        moons.sample(0, seed=0)


# -- the field ----------------------------------------------------------------------------------


def test_vector_field_shapes_parameters_and_errors():
    field = VectorField(2, hidden=64, layers=2)
    assert sum(p.numel() for p in field.parameters()) == 4546
    assert field(0.3, torch.randn(5, 2)).shape == (5, 2)
    with pytest.raises(ValueError, match="shape"):
        field(0.0, torch.randn(5, 3))
    with pytest.raises(ValueError, match=">= 1"):
        VectorField(2, hidden=0)
    with pytest.raises(ValueError, match="multiple of 3"):
        VectorField(2, copies=3)(0.0, torch.randn(4, 2))


def test_copies_are_independent_networks_trained_as_separate_runs():
    torch.manual_seed(0)
    many = VectorField(2, hidden=16, copies=3)
    singles = [many.select(k) for k in range(3)]
    z = torch.randn(4, 2)
    np.testing.assert_allclose(many(0.2, z.repeat(3, 1))[4:8].detach(), singles[1](0.2, z).detach(),
                               atol=1e-6)
    # one Adam step on the sum of the per-copy mean losses == one Adam step on each network alone
    batches = torch.randn(3, 8, 2)
    opt = torch.optim.Adam(many.parameters(), lr=1e-2)
    logp = flows.log_prob(many, batches.reshape(-1, 2), step_size=0.5)
    (-logp.reshape(3, 8).mean(dim=1).sum()).backward()
    opt.step()
    for k, single in enumerate(singles):
        opt_k = torch.optim.Adam(single.parameters(), lr=1e-2)
        (-flows.log_prob(single, batches[k], step_size=0.5).mean()).backward()
        opt_k.step()
        for a, b in zip(many.select(k).parameters(), single.parameters(), strict=True):
            np.testing.assert_allclose(a.detach(), b.detach(), atol=1e-6)
    with pytest.raises(ValueError, match="k must be"):
        many.select(3)


# -- traces -------------------------------------------------------------------------------------


@pytest.mark.parametrize("dim", [2, 3])
def test_exact_trace_matches_the_full_jacobian(dim):
    torch.manual_seed(dim)
    field = VectorField(dim, hidden=16).double()
    z = torch.randn(6, dim, dtype=torch.float64, requires_grad=True)
    trace = flows.exact_trace(field(0.4, z), z, create_graph=True)
    assert trace.shape == (6,) and trace.requires_grad
    np.testing.assert_allclose(trace.detach(), jacobian_traces(field, 0.4, z.detach()), atol=1e-12)


def test_hutchinson_is_exact_on_average_over_all_rademacher_probes():
    torch.manual_seed(1)
    field = VectorField(2, hidden=16).double()
    z = torch.randn(5, 2, dtype=torch.float64, requires_grad=True)
    f = field(0.1, z)
    exact = flows.exact_trace(f, z, create_graph=False)
    estimates = [flows.hutchinson_trace(f, z, torch.tensor(s, dtype=torch.float64).expand(5, 2),
                                        create_graph=False)
                 for s in ((1, 1), (1, -1), (-1, 1), (-1, -1))]
    np.testing.assert_allclose(torch.stack(estimates).mean(0).detach(), exact.detach(), atol=1e-12)
    # each estimate is tr J +- (J12 + J21): the variance formula of the lesson
    jac = torch.stack([torch.autograd.functional.jacobian(lambda p: field(0.1, p[None])[0], q)
                       for q in z.detach()])
    half_gap = (estimates[0] - estimates[1]).detach() / 2
    np.testing.assert_allclose(half_gap, jac[:, 0, 1] + jac[:, 1, 0], atol=1e-12)


# -- log_prob -----------------------------------------------------------------------------------


def test_log_prob_of_a_linear_flow_has_its_closed_form():
    A = torch.tensor([[0.5, 2.0], [-1.0, -1.5]], dtype=torch.float64)
    x = torch.randn(7, 2, dtype=torch.float64)
    z_end = x @ torch.linalg.matrix_exp(A * 0.7).T
    expected = flows.standard_normal_log_prob(z_end) + 0.7 * torch.trace(A)
    got = flows.log_prob(Linear(A), x, t_end=0.7, method="dopri5", rtol=1e-10, atol=1e-12,
                         create_graph=False)
    np.testing.assert_allclose(got.detach(), expected.detach(), atol=1e-8)


def test_log_prob_is_a_normalised_density():
    torch.manual_seed(2)
    field = VectorField(2, hidden=16).double()
    for p in field.parameters():
        p.data.mul_(2.0)  # a field that moves mass a lot, but keeps it inside the grid
    x, y = np.linspace(-7, 7, 71), np.linspace(-7, 7, 71)
    grid = torch.tensor(np.stack(np.meshgrid(x, y), axis=-1).reshape(-1, 2))
    with torch.no_grad():
        logp = flows.log_prob(field, grid, step_size=0.1, create_graph=False)
    mass = logp.exp().sum().item() * (x[1] - x[0]) * (y[1] - y[0])
    assert mass == pytest.approx(1.0, abs=1e-3)


def test_evaluation_mode_gives_the_same_values_and_keeps_no_graph():
    torch.manual_seed(3)
    field = VectorField(2, hidden=16)
    x = torch.randn(10, 2)
    kept = flows.log_prob(field, x)
    free, stats = flows.log_prob(field, x, method="dopri5", create_graph=False, return_stats=True)
    assert kept.requires_grad and kept.grad_fn is not None
    assert free.grad_fn is None and stats.n_fevals > 8
    np.testing.assert_allclose(free, kept.detach(), atol=1e-4)  # rk4 grid vs dopri5


def test_hutchinson_log_prob_is_unbiased():
    torch.manual_seed(4)
    field = VectorField(2, hidden=16)
    x = torch.randn(100, 2)
    g = torch.Generator().manual_seed(0)
    with torch.no_grad():
        exact = flows.log_prob(field, x, step_size=0.5, create_graph=False)
        draws = torch.stack([flows.log_prob(
            field, x, step_size=0.5, trace="hutchinson", create_graph=False,
            noise=torch.randint(0, 2, x.shape, generator=g).float() * 2 - 1) for _ in range(20)])
    error = draws.mean() - exact.mean()
    assert abs(error) < 4 * draws.std() / math.sqrt(draws.numel())
    assert draws.std(dim=0).mean() > 0.01  # but each estimate is noisy


def test_log_prob_checks_its_input():
    field = VectorField(2)
    with pytest.raises(ValueError, match="shape"):
        flows.log_prob(field, torch.zeros(3))
    with pytest.raises(ValueError, match="t_end"):
        flows.log_prob(field, torch.zeros(3, 2), t_end=0.0)
    with pytest.raises(ValueError, match="needs noise"):
        flows.log_prob(field, torch.zeros(3, 2), trace="hutchinson")
    with pytest.raises(ValueError, match="trace must be"):
        flows.log_prob(field, torch.zeros(3, 2), trace="exactly")


# -- sampling and the slider ------------------------------------------------------------------


def test_sample_inverts_the_flow():
    torch.manual_seed(5)
    field = VectorField(2, hidden=16).double()
    g = torch.Generator().manual_seed(0)
    path = flows.sample(field, 50, generator=g, times=[1.0, 0.5, 0.0], dtype=torch.float64,
                        rtol=1e-9, atol=1e-11)
    assert path.shape == (3, 50, 2)
    with torch.no_grad():  # solving forward from the samples returns to the base draws
        back = odeint(field, path[-1], torch.tensor([0.0, 1.0], dtype=torch.float64),
                      rtol=1e-9, atol=1e-11)[-1]
    np.testing.assert_allclose(back, path[0], atol=1e-6)
    with pytest.raises(ValueError, match="times must decrease"):
        flows.sample(field, 5, generator=g, times=[0.0, 1.0])
    with pytest.raises(ValueError, match="n must be"):
        flows.sample(field, 0, generator=g)


def test_morph_frames_run_from_the_base_to_the_learned_density(shown):
    torch.manual_seed(6)
    field = VectorField(2, hidden=16).double()
    frames = flows.morph_frames(field, n_frames=3, grid=10, n_samples=40, steps_per_unit=10)
    assert frames["density"].shape == (3, 10, 10) and frames["samples"].shape == (3, 40, 2)
    np.testing.assert_allclose(frames["times"], [1.0, 0.5, 0.0])
    points = np.stack(np.meshgrid(frames["x"], frames["y"]), axis=-1).reshape(-1, 2)
    base = np.exp(-0.5 * (points**2).sum(1)) / (2 * np.pi)
    np.testing.assert_allclose(frames["density"][0].ravel(), base, rtol=1e-12)
    with torch.no_grad():
        learned = flows.log_prob(field, torch.tensor(points), method="dopri5", rtol=1e-7,
                                 atol=1e-9, create_graph=False).exp()
    np.testing.assert_allclose(frames["density"][-1].ravel(), learned, rtol=1e-4, atol=1e-7)
    view = flows.MorphView(frames, data=np.zeros((5, 2)))
    for k in (0, 2, 0):  # the slider at both ends, and back
        image = view.show(k)
        assert image.data[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"t = {frames['times'][k]:.2f}" in view.live.parts["axes"][1].get_title()
    assert view.live.parts["image"].get_clim()[1] == pytest.approx(frames["density"][0].max())
    assert not shown  # a persistent figure of its own: nothing goes through plt.show
    with pytest.raises(ValueError, match="k must be"):
        view.show(3)
