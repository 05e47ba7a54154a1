"""Tests of utils.latent (lesson 09): data, encoder, decoders, training, metrics, slider data."""

import math

import numpy as np
import pytest
import torch
from torch import nn

from utils import latent
from utils.latent import (
    GapGRUEncoder,
    GRUDeltaTDecoder,
    LatentODEDecoder,
    encode_backwards,
    encode_forwards,
    irregular_oscillators,
    latent_readout,
    linear_interpolation,
    make_model,
    n_parameters,
    oscillator_position,
    predict,
    random_query_times,
    split_mse,
)

pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


# -- data ------------------------------------------------------------------------------------


def test_oscillator_position_solves_the_ode():
    zeta, omega = 0.05, 2.0
    t = np.linspace(0.0, 3.0, 3001)
    x = oscillator_position(t, np.array([1.3]), np.array([0.4]), zeta=zeta, omega=omega)[0]
    dt = t[1] - t[0]
    v = np.gradient(x, dt)
    a = np.gradient(v, dt)
    residual = a + 2 * zeta * omega * v + omega**2 * x
    assert np.max(np.abs(residual[5:-5])) < 1e-4
    assert x[0] == pytest.approx(1.3 * math.cos(0.4))


def test_irregular_oscillators_shapes_counts_and_noise():
    data = irregular_oscillators(50, fraction=0.3, n_grid=51, seed=3)
    assert data.t.shape == (51,) and data.x.shape == data.mask.shape == data.truth.shape == (50, 51)
    assert data.mask.dtype == bool
    assert (data.mask.sum(axis=1) == round(0.3 * 51)).all()  # every series: the same count
    assert data.n_window == int(np.sum(data.t <= 5.0))
    assert not data.window[:, data.n_window:].any()
    np.testing.assert_allclose(data.truth, data.position(data.t))
    noise = data.x - data.truth
    assert 0.04 < noise.std() < 0.06
    # a different seed gives different series; the same seed, the same
    assert not np.allclose(irregular_oscillators(50, seed=4).truth, data.truth)
    np.testing.assert_array_equal(irregular_oscillators(50, seed=3).x, data.x)


def test_larger_fraction_observes_a_superset_with_the_same_values():
    few = irregular_oscillators(20, fraction=0.1, seed=1)
    many = irregular_oscillators(20, fraction=0.5, seed=1)
    assert (many.mask | few.mask == many.mask).all()
    np.testing.assert_array_equal(few.x, many.x)


@pytest.mark.parametrize("kwargs, message", [
    ({"fraction": 0.0}, "fraction"),
    ({"t_split": 12.0}, "t_split"),
    ({"noise_std": -1.0}, "noise_std"),
    ({"n_grid": 1}, "n_grid"),
    ({"amplitude_range": (1.0, 0.5)}, "amplitude_range"),
])
def test_irregular_oscillators_rejects_bad_input(kwargs, message):
    with pytest.raises(ValueError, match=message):
        irregular_oscillators(5, **kwargs)


def test_random_query_times_sorted_in_range():
    shared = random_query_times(30, seed=2)
    per_series = random_query_times(7, n_series=4, t_end=5.0, seed=2)
    assert shared.shape == (30,) and per_series.shape == (4, 7)
    assert (np.diff(shared) > 0).all() and (np.diff(per_series, axis=1) > 0).all()
    assert shared.min() > 0 and shared.max() <= 10 and per_series.max() <= 5
    with pytest.raises(ValueError, match="n must be"):
        random_query_times(0)


# -- the encoder -----------------------------------------------------------------------------


def _encoder_case(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    cell = nn.GRUCell(3, 5).to(dtype)
    t = torch.tensor([0.0, 0.3, 0.5, 1.2, 1.4, 2.0], dtype=dtype)
    x = torch.randn(3, 6, dtype=dtype)
    mask = torch.tensor([[1, 0, 1, 0, 0, 1], [0, 1, 1, 1, 1, 0], [0, 0, 0, 1, 0, 0]],
                        dtype=torch.bool)
    return cell, x, mask, t


def test_encode_backwards_matches_a_loop_over_each_series_observations():
    cell, x, mask, t = _encoder_case()
    h = encode_backwards(cell, x, mask, t)
    for b in range(3):
        hb = torch.zeros(1, 5, dtype=x.dtype)
        t_before = t[-1]
        for i in reversed(mask[b].nonzero().flatten().tolist()):
            hb = cell(torch.stack((x[b, i], t_before - t[i], t[i]))[None], hb)
            t_before = t[i]
        torch.testing.assert_close(h[b], hb[0])


def test_encode_backwards_ignores_unobserved_values_and_keeps_zeros_without_observations():
    cell, x, mask, t = _encoder_case()
    garbage = torch.where(mask, x, torch.full_like(x, 99.0))
    torch.testing.assert_close(encode_backwards(cell, garbage, mask, t),
                               encode_backwards(cell, x, mask, t))
    empty = torch.zeros_like(mask)
    assert (encode_backwards(cell, x, empty, t) == 0).all()


def test_encoder_gradient_flows_to_the_cell():
    cell, x, mask, t = _encoder_case(dtype=torch.float32)
    encode_backwards(cell, x, mask, t).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in cell.parameters())


def test_encode_forwards_matches_a_loop_over_each_series_observations():
    cell, x, mask, t = _encoder_case()
    h = encode_forwards(cell, x, mask, t)
    for b in range(3):
        hb = torch.zeros(1, 5, dtype=x.dtype)
        t_before = t[0]
        for i in mask[b].nonzero().flatten().tolist():  # earliest first
            hb = cell(torch.stack((x[b, i], t[i] - t_before, t[i]))[None], hb)
            t_before = t[i]
        torch.testing.assert_close(h[b], hb[0])


def test_encode_forwards_is_encode_backwards_on_the_mirrored_series_when_time_is_ignored():
    """An independent check of the direction: with the cell blind to the time input, reading
    forwards is reading the time-mirrored series (t -> t[0] + t[-1] - t) backwards; the gaps are
    the same numbers. Reading the unmirrored series backwards is not."""
    cell, x, mask, t = _encoder_case()
    with torch.no_grad():
        cell.weight_ih[:, 2] = 0.0  # the third input, the time, no longer reaches the cell
    mirrored_t = (t[0] + t[-1] - t).flip(0)
    forwards = encode_forwards(cell, x, mask, t)
    mirrored = encode_backwards(cell, x.flip(1), mask.flip(1), mirrored_t)
    torch.testing.assert_close(forwards, mirrored)
    assert (forwards - encode_backwards(cell, x, mask, t)).abs().max() > 1e-3


def test_encode_forwards_ignores_unobserved_values_and_passes_the_gradient():
    cell, x, mask, t = _encoder_case(dtype=torch.float32)
    garbage = torch.where(mask, x, torch.full_like(x, 99.0))
    torch.testing.assert_close(encode_forwards(cell, garbage, mask, t),
                               encode_forwards(cell, x, mask, t))
    assert (encode_forwards(cell, x, torch.zeros_like(mask), t) == 0).all()
    encode_forwards(cell, x, mask, t).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in cell.parameters())


@pytest.mark.parametrize("direction, reference", [("backwards", encode_backwards),
                                                  ("forwards", encode_forwards)])
def test_encoder_equals_the_grid_loop_with_its_gradient(direction, reference):
    """The models' encoder loops over observed points only; it must give what the readable grid
    loops give, and the same gradient: on the hand-made case plus a series with no observation,
    and on lesson-09-like data."""
    torch.manual_seed(5)
    encoder = GapGRUEncoder(3, 5, direction=direction).double()
    _, x, mask, t = _encoder_case()
    x, mask = torch.cat((x, x[:1])), torch.cat((mask, torch.zeros_like(mask[:1])))
    data = irregular_oscillators(40, fraction=0.3, seed=6)
    n = data.n_window
    cases = [(x, mask, t), (torch.tensor(data.x[:, :n]), torch.tensor(data.window[:, :n]),
                            torch.tensor(data.t[:n]))]
    parameters = list(encoder.parameters())
    for x, mask, t in cases:
        fast = encoder(x, mask, t)
        slow = encoder.to_z0(reference(encoder.cell, x, mask, t))
        torch.testing.assert_close(fast, slow, rtol=0, atol=1e-12)
        weights = torch.randn_like(fast)
        grad_fast = torch.autograd.grad((fast * weights).sum(), parameters)
        grad_slow = torch.autograd.grad((slow * weights).sum(), parameters)
        for a, b in zip(grad_fast, grad_slow, strict=True):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-12)
    empty = encoder(x, torch.zeros_like(mask), t)
    torch.testing.assert_close(empty, encoder.to_z0.bias.expand_as(empty))  # h stayed zero


def test_encoder_direction_same_seed_same_weights_different_reading():
    backwards = make_model("latent_ode", seed=4)
    forwards = make_model("latent_ode", seed=4, direction="forwards")
    assert backwards.encoder.direction == "backwards" and forwards.encoder.direction == "forwards"
    for (name, a), (_, b) in zip(backwards.state_dict().items(), forwards.state_dict().items(),
                                 strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0, msg=name)
    cell, x, mask, t = _encoder_case(dtype=torch.float32)
    cell = forwards.encoder.cell
    x, mask = x[:, :5], mask[:, :5]
    t = t[:5]
    torch.testing.assert_close(forwards.encoder(x, mask, t),
                               forwards.encoder.to_z0(encode_forwards(cell, x, mask, t)))
    torch.testing.assert_close(backwards.encoder(x, mask, t),
                               backwards.encoder.to_z0(encode_backwards(cell, x, mask, t)))
    assert (forwards.encoder(x, mask, t) - backwards.encoder(x, mask, t)).abs().max() > 1e-4
    assert "direction='forwards'" in repr(forwards.encoder)


def test_encoder_direction_rejects_unknown_values():
    with pytest.raises(ValueError, match="direction must be one of"):
        GapGRUEncoder(4, 8, direction="sideways")
    with pytest.raises(ValueError, match="direction must be one of"):
        make_model("latent_ode", seed=0, direction="backward")


# -- decoder A: the latent ODE ---------------------------------------------------------------


def _rotation(omega=2.0, dtype=torch.float64):
    matrix = torch.tensor([[0.0, omega], [-omega, 0.0]], dtype=dtype)  # z' = z @ matrix

    def func(t, z):
        return z @ matrix

    readout = nn.Linear(2, 1).to(dtype)
    with torch.no_grad():
        readout.weight.copy_(torch.tensor([[1.0, 0.0]]))
        readout.bias.zero_()
    return func, readout


def test_latent_readout_is_exact_on_a_rotation():
    func, readout = _rotation()
    z0 = torch.tensor([[1.0, 0.0], [0.0, 1.0]], dtype=torch.float64)
    t = torch.tensor([0.3, 0.7, 1.9, 2.5], dtype=torch.float64)
    out = latent_readout(func, readout, z0, t, 0.01)
    exact = torch.stack((torch.cos(2 * t), -torch.sin(2 * t)))  # z1(t) from (1,0), from (0,1)
    assert out.shape == (2, 4)
    torch.testing.assert_close(out, exact, atol=1e-7, rtol=0)


def test_latent_readout_does_not_depend_on_the_other_query_times():
    torch.manual_seed(0)
    decoder = LatentODEDecoder(3, 16, step_size=0.5).double()
    z0 = torch.randn(4, 3, dtype=torch.float64)
    t_full = torch.linspace(0.0, 6.0, 61, dtype=torch.float64)
    subset = torch.tensor([3, 10, 11, 47, 60])
    full = latent_readout(decoder.func, decoder.readout, z0, t_full, 0.5)
    part = latent_readout(decoder.func, decoder.readout, z0, t_full[subset], 0.5)
    torch.testing.assert_close(full[:, subset], part, rtol=0, atol=1e-12)


def test_latent_decoder_per_series_times_equal_row_by_row():
    torch.manual_seed(1)
    decoder = LatentODEDecoder(4, 8).double()
    z0 = torch.randn(3, 4, dtype=torch.float64)
    t = torch.tensor(random_query_times(5, n_series=3, seed=1))
    out = decoder(z0, t)
    for b in range(3):
        torch.testing.assert_close(out[b], decoder(z0[b:b + 1], t[b])[0])


# -- decoder B: GRU-dt -----------------------------------------------------------------------


def test_gru_decoder_shapes_and_per_series_times():
    torch.manual_seed(2)
    decoder = GRUDeltaTDecoder(4, 7).double()
    z0 = torch.randn(3, 4, dtype=torch.float64)
    t = torch.tensor(random_query_times(6, n_series=3, seed=2))
    out = decoder(z0, t)
    assert out.shape == (3, 6)
    for b in range(3):
        torch.testing.assert_close(out[b], decoder(z0[b:b + 1], t[b])[0])


def test_gru_decoder_counts_steps_two_half_gaps_differ_from_one_gap():
    """What the lesson shows: a GRU's output at a time depends on how many queries came before."""
    torch.manual_seed(3)
    decoder = GRUDeltaTDecoder(4, 7).double()
    z0 = torch.randn(2, 4, dtype=torch.float64)
    one = decoder(z0, torch.tensor([1.0], dtype=torch.float64))[:, -1]
    two = decoder(z0, torch.tensor([0.5, 1.0], dtype=torch.float64))[:, -1]
    assert (one - two).abs().max() > 1e-3


# -- models, training, metrics ---------------------------------------------------------------


def test_parameter_counts_are_similar():
    ode, gru = make_model("latent_ode", seed=0), make_model("gru_dt", seed=0)
    assert n_parameters(ode.encoder) == n_parameters(gru.encoder)
    a, b = n_parameters(ode.decoder), n_parameters(gru.decoder)
    assert abs(a - b) / a < 0.05
    with pytest.raises(ValueError, match="kind"):
        make_model("lstm", seed=0)


@pytest.mark.parametrize("kind, direction", [("latent_ode", "backwards"), ("gru_dt", "backwards"),
                                             ("latent_ode", "forwards")])
def test_training_lowers_the_loss_and_is_reproducible(kind, direction):
    data = irregular_oscillators(32, seed=0)
    losses = []
    for _ in range(2):
        model = make_model(kind, seed=0, encoder_hidden=8, ode_hidden=8, gru_hidden=8,
                           direction=direction)
        history = latent.train_model(model, data, n_steps=12, batch_size=16, lr=3e-2,
                                     warmup=0.0, seed=0, progress=False)
        losses.append(history.losses)
    assert losses[0] == losses[1]
    assert np.mean(losses[0][-3:]) < np.mean(losses[0][:3])
    tq = random_query_times(9, n_series=32, seed=0)
    assert predict(model, data, tq).shape == (32, 9)
    assert predict(model, data, tq[0]).shape == (32, 9)


def test_train_model_rejects_bad_input():
    data = irregular_oscillators(4)
    with pytest.raises(TypeError, match="SeriesModel"):
        latent.train_model(nn.Linear(2, 2), data, n_steps=1)
    with pytest.raises(ValueError, match="n_queries"):
        latent.train_model(make_model("gru_dt", seed=0), data, n_queries=100)


def test_linear_interpolation_and_split_mse():
    data = irregular_oscillators(3, seed=5)
    obs_t = [data.t[w] for w in data.window]
    out = linear_interpolation(data, data.t)
    for b in range(3):  # exact at the observed times, constant after the last
        np.testing.assert_allclose(out[b, data.window[b]], data.x[b, data.window[b]])
        assert np.all(out[b, data.t > obs_t[b][-1]] == data.x[b, data.window[b]][-1])
    t = np.array([1.0, 4.0, 6.0, 9.0])
    pred, truth = np.zeros((2, 4)), np.array([[1.0, 1.0, 2.0, 2.0], [3.0, 3.0, 0.0, 0.0]])
    assert split_mse(pred, truth, t, 5.0) == pytest.approx((5.0, 2.0))
    with pytest.raises(ValueError, match="shape"):
        split_mse(pred, truth[:1], t, 5.0)


def test_prediction_sweep_covers_every_setting():
    models = {"A": make_model("latent_ode", seed=0), "B": make_model("gru_dt", seed=0)}
    sweep = latent.prediction_sweep(models, fractions=(0.2, 0.5), counts=(3, 12), n_series=6,
                                    n_shown=2)
    assert set(sweep["cases"]) == {(0.2, 3), (0.2, 12), (0.5, 3), (0.5, 12)}
    assert sweep["truth_fine"].shape == (2, len(sweep["t_fine"]))
    case = sweep["cases"][0.5, 12]
    assert case["t_query"].shape == (2, 12)
    assert set(case["predictions"]) == {"A", "B"} and case["predictions"]["A"].shape == (2, 12)
    assert all(np.isfinite(v).all() for v in case["mse"].values())
    # more observed: a superset of the same series' points
    few, many = sweep["cases"][0.2, 3], sweep["cases"][0.5, 3]
    for t_few, t_many in zip(few["observed_t"], many["observed_t"], strict=True):
        assert set(t_few) <= set(t_many)
    with pytest.raises(ValueError, match="models"):
        latent.prediction_sweep({}, fractions=(0.3,), counts=(5,))


def test_linear_interpolation_of_a_series_without_observations_is_zero():
    data = irregular_oscillators(60, fraction=0.1, seed=2)
    empty = ~data.window.any(axis=1)
    assert empty.any()  # this seed has one: the case is really tested
    out = linear_interpolation(data, random_query_times(5))
    assert (out[empty] == 0).all() and np.isfinite(out).all()
