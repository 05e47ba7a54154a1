"""Tests of utils.classification (lesson 07): data, models, ODE block, training, sweeps, flows."""

import math

import numpy as np
import pytest
import torch

from utils.classification import (
    MODEL_KINDS,
    ConvODEFunc,
    FlowModel,
    ODEBlock,
    SweepViewer,
    accuracy,
    augment,
    build_classifier,
    count_parameters,
    disk_and_ring,
    find_ode_block,
    flip_data,
    load_digits_split,
    misclassified_mosaic,
    solver_options,
    solver_sweep,
    train_classifier,
    train_flow,
    training_step_workload,
)
from utils.solvers import odeint


@pytest.fixture(scope="module")
def data():
    return load_digits_split()


@pytest.fixture(scope="module")
def small_data(data):
    """A quick subset: 256 training and 128 test images."""
    return type(data)(data.x_train[:256], data.y_train[:256], data.x_test[:128],
                      data.y_test[:128])


def test_digits_split_shapes_range_and_stratification(data):
    assert data.x_train.shape == (1257, 1, 8, 8) and data.x_test.shape == (540, 1, 8, 8)
    assert data.y_train.dtype == torch.int64 and data.x_train.dtype == torch.float32
    assert 0.0 <= float(data.x_train.min()) and float(data.x_train.max()) <= 1.0
    counts = np.bincount(data.y_test.numpy(), minlength=10)
    assert counts.min() >= 52 and counts.max() <= 55  # stratified: ~54 of each digit
    again = load_digits_split()
    assert torch.equal(again.x_test, data.x_test)  # the split is fixed by the seed


def test_digits_split_rejects_bad_fraction():
    with pytest.raises(ValueError, match="test_fraction"):
        load_digits_split(test_fraction=1.5)


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_every_classifier_maps_images_to_ten_logits(kind):
    model = build_classifier(kind, rk_steps=2)
    logits = model(torch.rand(5, 1, 8, 8))
    assert logits.shape == (5, 10)


def test_parameter_counts_show_the_shared_weights():
    counts = {kind: count_parameters(build_classifier(kind)) for kind in MODEL_KINDS}
    assert counts["mlp"] == 64 * 100 + 100 + 100 * 10 + 10
    block = count_parameters(ConvODEFunc(8))
    assert block == 2 * (8 * 8 * 9 + 8)
    assert counts["resnet"] - counts["odenet"] == 5 * block  # six copies of f against one
    assert counts["rknet"] == counts["odenet"]


def test_build_classifier_is_seeded_and_leaves_the_global_rng_alone():
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    a, b = build_classifier("resnet", seed=3), build_classifier("resnet", seed=3)
    assert torch.equal(torch.random.get_rng_state(), before)
    for p, q in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.equal(p, q)


def test_build_classifier_validates_its_options():
    with pytest.raises(ValueError, match="kind"):
        build_classifier("transformer")
    with pytest.raises(ValueError, match="rk_steps"):
        build_classifier("rknet", rk_steps=0)
    with pytest.raises(TypeError, match="channels"):
        build_classifier("odenet", channels=2.5)


def test_ode_block_solves_to_one_and_counts_nfe():
    torch.manual_seed(0)
    func = ConvODEFunc(3).double()
    x = torch.randn(2, 3, 4, 4, dtype=torch.float64)
    block = ODEBlock(func, method="dopri5", rtol=1e-3, atol=1e-3)
    out = block(x)
    want = odeint(func, x, torch.tensor([0.0, 1.0], dtype=torch.float64), rtol=1e-3, atol=1e-3)
    assert out.shape == x.shape and torch.allclose(out, want[-1])
    assert block.nfe == block.last_stats.n_fevals > 0


def test_rk4_block_takes_exactly_its_steps():
    block = find_ode_block(build_classifier("rknet", rk_steps=3))
    block(torch.randn(2, 8, 4, 4))
    assert block.nfe == 12 and block.last_stats.n_accepted == 3


def test_adjoint_block_gives_the_same_gradient_approximately():
    torch.manual_seed(0)
    x = torch.rand(2, 1, 8, 8, dtype=torch.float64)
    grads = []
    for adjoint in (False, True):
        model = build_classifier("odenet", adjoint=adjoint, rtol=1e-8, atol=1e-8).double()
        model(x).sum().backward()
        grads.append(model[1].func.conv1.weight.grad)
    assert torch.allclose(grads[0], grads[1], rtol=1e-4, atol=1e-6)


def test_ode_block_rejects_bad_options():
    with pytest.raises(ValueError, match="method"):
        ODEBlock(ConvODEFunc(2), method="rk45")
    with pytest.raises(ValueError, match="first_step"):
        ODEBlock(ConvODEFunc(2), first_step=1.0, adjoint=True)


def test_solver_options_swaps_and_restores():
    model = build_classifier("odenet")
    block = find_ode_block(model)
    x = torch.randn(3, 8, 4, 4)
    with solver_options(block, method="rk4", step_size=1.0):
        block(x)
        assert block.nfe == 4
    assert block.method == "dopri5" and block.options == {"rtol": 1e-3, "atol": 1e-3}


def test_first_step_removes_the_warm_up():
    block = find_ode_block(build_classifier("odenet"))
    x = torch.randn(3, 8, 4, 4)
    with torch.no_grad(), solver_options(block, method="dopri5", rtol=0.1, atol=0.1,
                                         first_step=1.0):
        block(x)
    assert block.nfe == 7  # one step of 6 stages (FSAL) plus the first evaluation
    assert block.last_stats.step_sizes == [1.0]


def test_training_records_nfe_per_step(small_data):
    model = build_classifier("odenet", seed=0)
    result = train_classifier(model, small_data, epochs=1, batch_size=128, progress=False)
    assert len(result.losses) == len(result.nfe) == 2
    assert all(n >= 7 for n in result.nfe)
    assert 0.0 <= result.test_accuracy <= 1.0 and result.seconds > 0


def test_training_learns(small_data):
    model = build_classifier("mlp", seed=0)
    before = accuracy(model, small_data.x_test, small_data.y_test)
    result = train_classifier(model, small_data, epochs=5, batch_size=32, progress=False)
    assert result.test_accuracy > max(0.6, before + 0.3)
    assert result.losses[-1] < result.losses[0]


def test_training_is_reproducible(small_data):
    results = [train_classifier(build_classifier("mlp", seed=1), small_data, epochs=1,
                                seed=1, progress=False) for _ in range(2)]
    assert results[0].losses == results[1].losses
    assert results[0].nfe == []  # no ODE block


@pytest.mark.parametrize("kind", ["resnet", "odenet"])
def test_training_step_workload_runs_one_step(kind):
    run = training_step_workload(kind, batch_size=8)
    assert set(run()) == {"nfe"}


def test_solver_sweep_labels_accuracy_and_no_block(small_data):
    model = build_classifier("odenet", seed=0)
    settings = [("rk4 1", dict(method="rk4", step_size=1.0)), ("none", None)]
    points = solver_sweep(model, small_data.x_test, small_data.y_test, settings)
    assert [p.label for p in points] == ["rk4 1", "none"]
    assert points[0].nfe == 4 and points[1].nfe == 0
    assert points[1].predictions.shape == (128,)
    with torch.no_grad():
        plain = model[2](model[0](small_data.x_test)).argmax(1).numpy()
    np.testing.assert_array_equal(points[1].predictions, plain)
    with pytest.raises(ValueError, match="ODEBlock"):
        solver_sweep(build_classifier("mlp"), small_data.x_test, small_data.y_test, settings)


def test_misclassified_mosaic_places_wrong_digits_and_blanks():
    images = np.arange(3 * 64, dtype=float).reshape(3, 1, 8, 8)
    mosaic, captions = misclassified_mosaic(images, [1, 2, 3], np.array([1, 5, 3]), n_show=2)
    assert mosaic.shape == (8, 17)
    np.testing.assert_array_equal(mosaic[:, :8], images[1, 0])
    assert np.isnan(mosaic[:, 8]).all() and np.isnan(mosaic[:, 9:]).all()
    assert captions == ["2>5", ""]


def test_sweep_viewer_updates_only_the_artists(small_data, monkeypatch):
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda fig: shown.append(fig))
    model = build_classifier("odenet", seed=0)
    settings = [("rk4 1", dict(method="rk4", step_size=1.0)), ("none", None)]
    points = solver_sweep(model, small_data.x_test, small_data.y_test, settings)
    viewer = SweepViewer(points, small_data.x_test, small_data.y_test, n_show=4)
    for index in (len(points) - 1, 0):  # both ends of the slider
        viewer.show(index)
        assert viewer.marker.get_xdata()[0] == points[index].nfe
        assert points[index].label in viewer.ax_acc.get_title()
    assert len(shown) == 2 and all(image.format == "png" for image in shown)


def test_augment_pads_zeros_keeps_dtype_and_gradient():
    x = torch.randn(2, 3, 2, dtype=torch.float64, requires_grad=True)
    out = augment(x, 2)
    assert out.shape == (2, 3, 4) and out.dtype == torch.float64
    assert torch.equal(out[..., :2], x) and not out[..., 2:].any()
    out.sum().backward()
    assert torch.equal(x.grad, torch.ones_like(x))
    with pytest.raises(ValueError, match="n_extra"):
        augment(x, -1)


def test_flow_model_shapes():
    x = torch.randn(5, 2)
    assert FlowModel(2, n_extra=1).trajectory(x, torch.linspace(0, 1, 4)).shape == (4, 5, 3)
    assert FlowModel(2, n_extra=1)(x).shape == (5, 2)
    assert FlowModel(2, n_extra=1, head="linear")(x).shape == (5, 1)
    with pytest.raises(ValueError, match="head"):
        FlowModel(2, head="mlp")


def test_tasks():
    x, y = flip_data(10)
    assert x.shape == y.shape == (10, 1) and torch.equal(y, -x)
    points, labels = disk_and_ring(100, seed=0)
    r = points.norm(dim=1)
    inner = labels[:, 0] < 0
    assert inner.sum() == 50
    assert (r[inner] < 0.5).all() and ((r[~inner] > 1.0) & (r[~inner] < 1.5)).all()


def test_plain_flow_cannot_flip_but_augmented_can():
    """Trajectories of a 1-D flow keep their order, so the loss of x -> -x stays >= mean(x^2)
    minus what squeezing to a point saves; one extra dimension lets the points turn round."""
    x, y = flip_data(6)
    bound = float((y**2).mean())
    losses = {}
    for n_extra in (0, 1):
        torch.manual_seed(0)
        model = FlowModel(1, n_extra=n_extra, hidden=16)
        result = train_flow(model, x, y, steps=60, lr=0.05, progress=False)
        losses[n_extra] = result.losses[-1]
        assert len(result.nfe) == 60
        if n_extra == 0:
            with torch.no_grad():
                out = model(x)[:, 0]
            assert (out.diff() > 0).all()  # order kept: the flow cannot swap two points
    assert losses[0] > 0.9 * bound
    assert losses[1] < 0.1 * bound
    assert math.isfinite(losses[1])


# -- the two training functions are the one training loop (utils.training.train) plus the
#    classifier's own step: the same numbers as the loop written out by hand ---------------------

def _adam_epochs_by_hand(model, data, *, epochs, batch_size=128, lr=1e-2, seed=0):
    """Lesson 07's classifier training written out (the loop ``train_classifier`` had before it
    used ``utils.training.train``): losses and forward NFE of every step."""
    n = len(data.y_train)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs * math.ceil(n / batch_size), eta_min=lr / 100)
    generator = torch.Generator().manual_seed(seed)
    block = find_ode_block(model)
    losses, nfe = [], []
    model.train()
    for _ in range(epochs):
        order = torch.randperm(n, generator=generator)
        for i in range(0, n, batch_size):
            batch = order[i : i + batch_size]
            optimizer.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(data.x_train[batch]),
                                                     data.y_train[batch])
            if block is not None:
                nfe.append(block.nfe)
            loss.backward()
            optimizer.step()
            schedule.step()
            losses.append(loss.item())
    model.eval()
    return losses, nfe, accuracy(model, data.x_test, data.y_test)


@pytest.mark.parametrize(("kind", "epochs"), [("mlp", 2), ("odenet", 1)])
def test_train_classifier_gives_the_hand_written_loops_numbers_bit_for_bit(data, kind, epochs):
    """Lesson 07's settings (all 1,257 images, batches of 128, lr 1e-2, rk_steps=2), but 1 or 2
    epochs of its 6 to keep the test short; the float32 losses must be equal, not only close."""
    by_hand = _adam_epochs_by_hand(build_classifier(kind, seed=1, rk_steps=2), data,
                                   epochs=epochs, seed=1)
    model = build_classifier(kind, seed=1, rk_steps=2)
    result = train_classifier(model, data, epochs=epochs, seed=1, progress=False)
    assert len(result.losses) == epochs * math.ceil(len(data.y_train) / 128)
    assert (result.losses, result.nfe, result.test_accuracy) == by_hand


def test_train_flow_gives_the_hand_written_loops_numbers_bit_for_bit():
    """Lesson 07's flip task (20 points, 100 full-batch Adam steps at lr 0.03)."""
    x, y = flip_data(20)

    def model():
        torch.manual_seed(2)
        return FlowModel(1, n_extra=1, hidden=32)

    hand = model()
    optimizer = torch.optim.Adam(hand.parameters(), lr=0.03)
    losses, nfe = [], []
    for _ in range(100):
        optimizer.zero_grad()
        loss = (hand(x) - y).pow(2).mean()
        nfe.append(hand.nfe)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    result = train_flow(model(), x, y, steps=100, lr=0.03, progress=False)
    assert (result.losses, result.nfe) == (losses, nfe)


def test_count_parameters_counts_trainable_numbers_only():
    layer = torch.nn.Linear(3, 2)  # 3 * 2 weights + 2 biases
    assert count_parameters(layer) == 8
    layer.bias.requires_grad_(False)
    assert count_parameters(layer) == 6
