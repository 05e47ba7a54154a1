"""utils.hamiltonian: the pendulum, its data, the three models, training, integrator comparison."""

import numpy as np
import pytest
import torch

from utils.hamiltonian import (
    MODELS,
    HamiltonianNN,
    NeuralODEField,
    Pendulum,
    SeparableHNN,
    compare_integrators,
    count_parameters,
    hamiltonian_field,
    pendulum_dataset,
    relative_energy_error,
    rollout,
    train_model,
)

PENDULUM = Pendulum(omega=2.0)



def test_pendulum_field_is_the_symplectic_gradient_of_its_energy():
    y = torch.tensor(np.random.default_rng(0).uniform(-2, 2, (6, 2)))
    np.testing.assert_allclose(hamiltonian_field(PENDULUM.energy, y).detach(), PENDULUM(0.0, y),
                               rtol=1e-12)
    np.testing.assert_allclose(PENDULUM(0.0, y.numpy()), PENDULUM(0.0, y).numpy(), rtol=1e-12)


def test_pendulum_solution_keeps_its_energy_and_small_swings_have_period_2pi_over_omega():
    t = np.linspace(0, 20, 201)
    ys = PENDULUM.solve(np.array([[1.0, 0.5], [0.01, 0.0]]), t)
    energy = PENDULUM.energy(ys)
    assert relative_energy_error(energy).max() < 1e-7
    small = ys[:, 1, 0]
    period = 2 * np.pi / PENDULUM.omega
    at_period = PENDULUM.solve(np.array([0.01, 0.0]), [0.0, period])[-1]
    np.testing.assert_allclose(at_period, [0.01, 0.0], atol=1e-6)
    assert small.max() <= 0.01 + 1e-9


def test_sample_states_stay_below_the_separatrix():
    y = PENDULUM.sample_states(200, np.random.default_rng(0))
    assert y.shape == (200, 2)
    assert PENDULUM.energy(y).max() <= 6.0
    assert np.abs(y[:, 0]).max() <= 2.0 and np.abs(y[:, 1]).max() <= 3.0


def test_dataset_shapes_noise_and_reproducibility():
    data = pendulum_dataset(n_trajectories=25, t_end=3.0, dt=0.1, noise_std=0.05, seed=0)
    assert data.t.shape == (31,) and data.y.shape == data.clean.shape == (31, 25, 2)
    np.testing.assert_allclose(data.t[-1], 3.0)
    np.testing.assert_allclose(data.clean[0], data.y0)
    assert 0.045 < np.std(data.y - data.clean) < 0.055
    again = pendulum_dataset(n_trajectories=25, seed=0)
    np.testing.assert_array_equal(data.y, again.y)
    clean = pendulum_dataset(n_trajectories=3, noise_std=0.0, seed=1)
    np.testing.assert_array_equal(clean.y, clean.clean)


@pytest.mark.parametrize("kwargs", [{"n_trajectories": 0}, {"dt": 0.0}, {"dt": 5.0},
                                    {"noise_std": -0.1}])
def test_dataset_bad_input_raises(kwargs):
    with pytest.raises(ValueError):
        pendulum_dataset(**kwargs)


def test_hamiltonian_field_keeps_the_graph_and_leaves_the_callers_tensor_alone():
    model = HamiltonianNN(hidden=8).double()
    y = torch.randn(5, 2, dtype=torch.float64)
    field = hamiltonian_field(model.hamiltonian, y)
    assert field.requires_grad and not y.requires_grad
    field.sum().backward()
    assert model.net[0].weight.grad is not None


@pytest.mark.parametrize("model_class", [HamiltonianNN, SeparableHNN])
def test_models_evaluate_under_no_grad(model_class):
    # Rollouts run under torch.no_grad(); the Hamiltonian models still need autograd inside.
    model = model_class().double()
    y = torch.randn(5, 2, dtype=torch.float64)
    training = model(0.0, y)
    with torch.no_grad():
        evaluated = model(0.0, y)
    assert training.requires_grad and not evaluated.requires_grad
    np.testing.assert_allclose(evaluated, training.detach(), rtol=1e-12)


def test_hamiltonian_field_keeps_the_gradient_through_states():
    # Inside a rollout, y depends on the parameters: the field must not cut that path.
    model = HamiltonianNN(hidden=8).double()
    y0 = torch.randn(3, 2, dtype=torch.float64)
    y1 = y0 + 0.1 * model(0.0, y0)
    (through_state,) = torch.autograd.grad(model(0.0, y1).sum(), model.net[0].bias)
    y1_cut = y1.detach()
    (direct_only,) = torch.autograd.grad(model(0.0, y1_cut).sum(), model.net[0].bias)
    assert not torch.allclose(through_state, direct_only)


@pytest.mark.parametrize("name", list(MODELS))
def test_models_map_states_to_fields(name):
    torch.manual_seed(0)
    model = MODELS[name]()
    y = torch.randn(4, 3, 2)
    assert model(0.0, y).shape == (4, 3, 2)
    assert 1100 <= count_parameters(model) <= 1250  # about equal budgets


@pytest.mark.parametrize("model_class", [HamiltonianNN, SeparableHNN])
def test_hamiltonian_models_conserve_their_own_energy(model_class):
    torch.manual_seed(0)
    model = model_class().double()
    y = torch.randn(50, 2, dtype=torch.float64, requires_grad=True)
    (grad_h,) = torch.autograd.grad(model.hamiltonian(y).sum(), y)
    dh_dt = (grad_h * model(0.0, y)).sum(-1)  # grad H . field = 0 exactly
    assert dh_dt.abs().max() < 1e-12


def test_separable_parts_match_its_field():
    torch.manual_seed(0)
    model = SeparableHNN().double()
    y = torch.randn(7, 2, dtype=torch.float64)
    field = model(0.0, y)
    np.testing.assert_allclose(field[:, 0].detach(), model.dT(y[:, 1]).detach(), rtol=1e-12)
    np.testing.assert_allclose(field[:, 1].detach(), -model.dV(y[:, 0]).detach(), rtol=1e-12)
    np.testing.assert_allclose(model.hamiltonian(y).detach(),
                               (model.T(y[:, 1]) + model.V(y[:, 0])).detach(), rtol=1e-12)


def test_neural_ode_field_is_not_constrained():
    torch.manual_seed(0)
    model = NeuralODEField()
    assert isinstance(model(0.0, torch.zeros(2)), torch.Tensor)


@pytest.mark.parametrize("name", list(MODELS))
def test_training_lowers_the_loss(name, one_thread):
    data = pendulum_dataset(n_trajectories=5, seed=0)
    torch.manual_seed(0)
    model = MODELS[name]()
    history = train_model(model, data, n_steps=25, batch_size=16, progress=False)
    assert len(history.losses) == 25
    assert np.mean(history.losses[-5:]) < 0.5 * np.mean(history.losses[:5])


def test_rollout_shapes_and_no_gradients():
    torch.manual_seed(0)
    model = SeparableHNN().double()
    ys = rollout(model, np.zeros((3, 2)) + 0.5, np.linspace(0, 1, 11))
    assert isinstance(ys, np.ndarray) and ys.shape == (11, 3, 2) and ys.dtype == np.float64


def test_relative_energy_error_is_measured_from_rest():
    energy = np.array([[3.0, 5.0], [3.3, 4.0]])
    np.testing.assert_allclose(relative_energy_error(energy, rest=1.0), [[0, 0], [0.15, 0.25]])
    np.testing.assert_allclose(relative_energy_error(energy)[1], [0.1, 0.2])


def test_compare_integrators_on_the_pendulum():
    run = compare_integrators(PENDULUM, np.array([[1.0, 0.0], [2.0, 0.0]]), step_size=0.3,
                              t_end=150.0)
    assert run["t"].shape == (501,) and run["rk4"].shape == run["leapfrog"].shape == (501, 2)
    assert run["rk4"][0].max() == run["leapfrog"][0].max() == 0.0
    # Coarse step, long run: RK4 has drifted further than leapfrog's whole band.
    assert (run["rk4"][-1] > 1.5 * run["leapfrog"].max(0)).all()
    fine = compare_integrators(PENDULUM, np.array([[1.0, 0.0]]), step_size=0.1, t_end=30.0)
    assert fine["rk4"].max() < 0.1 * fine["leapfrog"].max()  # at a fine step RK4 is better


def test_slider_ends_mean_something():
    # The lesson's slider spans h = 0.1 .. 0.5 on the true pendulum over 600 s: at the fine end
    # RK4 is better over the whole run, at the coarse end it has lost most of the energy while
    # leapfrog's error stays in a band well below 1 (still swinging, not over the top).
    starts = np.array([[1.0, 0.0], [2.0, 0.0]])
    fine = compare_integrators(PENDULUM, starts, step_size=0.1, t_end=600.0)
    assert fine["rk4"].max() < fine["leapfrog"].max() < 0.02
    coarse = compare_integrators(PENDULUM, starts, step_size=0.5, t_end=600.0)
    assert coarse["rk4"][-1].min() > 0.9 and coarse["leapfrog"].max() < 0.3


def test_compare_integrators_on_a_learned_separable_energy():
    torch.manual_seed(0)
    model = SeparableHNN().double()
    run = compare_integrators(model, np.array([[0.5, 0.0]]), step_size=0.1, t_end=2.0)
    assert run["t"].shape == (21,) and run["leapfrog"].shape == (21, 1)
    assert np.isfinite(run["rk4"]).all() and np.isfinite(run["leapfrog"]).all()


@pytest.mark.parametrize("kwargs", [{"step_size": 0.0, "t_end": 1.0},
                                    {"step_size": 2.0, "t_end": 1.0}])
def test_compare_integrators_bad_input(kwargs):
    with pytest.raises(ValueError):
        compare_integrators(PENDULUM, np.zeros((1, 2)) + 0.5, **kwargs)


def test_a_field_that_always_detaches_fails_in_the_open():
    """Exercise 10.1's visible rollout case (a y that already requires grad) catches an answer that
    always detaches y, in the check cell itself, not only at grading (issue 22)."""
    from utils.exercises import lesson10

    def always_detaching(H, y):
        y = y.detach().requires_grad_(True)
        (dH,) = torch.autograd.grad(H(y).sum(), y, create_graph=True)
        return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)

    result = lesson10.hamiltonian_field.evaluate(always_detaching)
    assert not result.passed
    assert "already require grad" in result.message and "hidden case" not in result.message
    assert not lesson10.hamiltonian_field.evaluate(always_detaching, hidden=True).passed
