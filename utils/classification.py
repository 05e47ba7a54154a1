"""Lesson 07: Neural ODEs as classifiers, and what flows cannot do.

Two parts, both small enough to read:

1. **Digits.** scikit-learn's bundled 8x8 digits (:func:`load_digits_split`, no download) and
   four classifiers that share one downsampling convolutional *stem* and one *head*
   (:func:`build_classifier`): an MLP on the raw pixels; a ResNet (He et al. 2016), six residual
   blocks ``h <- h + f_k(h)``; an RK-Net, one :class:`ODEBlock` solved by RK4 with a fixed number
   of steps, gradients by backpropagating through the solver; and an ODE-Net, the same block
   solved by the adaptive ``dopri5`` (Chen et al. 2018, section 3 and Table 1). The ODE block
   counts the function evaluations (NFE) of every solve. :func:`train_classifier` is a plain
   mini-batch Adam step run by :func:`utils.training.train`; :func:`training_step_workload` is
   a setup for :func:`utils.profiling.peak_memory` (peak memory of one training step, in a child
   process).

2. **Augmented Neural ODEs** (Dupont, Doucet & Teh 2019, arXiv:1904.01681). The trajectories of an
   ODE cannot cross, so a flow in the input's own dimension cannot map ``x -> -x`` in 1-D, nor
   pull an inner disk out of a surrounding ring in 2-D. :class:`FlowModel` solves the flow in
   ``dim + n_extra`` dimensions, starting from the input padded with zeros (:func:`augment`).

References:
    R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
    Equations", NeurIPS 2018, arXiv:1806.07366.
    E. Dupont, A. Doucet, Y. W. Teh, "Augmented Neural ODEs", NeurIPS 2019, arXiv:1904.01681.
    K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
    arXiv:1512.03385.
"""

from __future__ import annotations

import contextlib
import io
import math
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np
import torch
from torch import nn

from .adjoint import odeint_adjoint
from .models import count_parameters
from .solvers import METHODS, SolveStats, odeint
from .tableaus import TABLEAUS
from .training import train

__all__ = [
    "MODEL_KINDS",
    "DigitsSplit",
    "load_digits_split",
    "ConvODEFunc",
    "ODEBlock",
    "ResidualStack",
    "conv_stem",
    "classifier_head",
    "build_classifier",
    "find_ode_block",
    "count_parameters",
    "accuracy",
    "TrainResult",
    "train_classifier",
    "training_step_workload",
    "solver_options",
    "SweepPoint",
    "solver_sweep",
    "misclassified_mosaic",
    "SweepViewer",
    "augment",
    "MLPDynamics",
    "FlowModel",
    "flip_data",
    "disk_and_ring",
    "FlowResult",
    "train_flow",
]

MODEL_KINDS = ("mlp", "resnet", "rknet", "odenet")
N_CLASSES = 10


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------
class DigitsSplit(NamedTuple):
    """The digits, split into training and test sets.

    Images are ``(n, 1, 8, 8)`` tensors with pixel values scaled from 0..16 to [0, 1]; labels are
    ``(n,)`` int64 tensors with values 0..9.
    """

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_split(
    *, test_fraction: float = 0.3, seed: int = 0, dtype: torch.dtype = torch.float32
) -> DigitsSplit:
    """scikit-learn's 1,797 handwritten digits (8x8, read from a file inside the package).

    The split is stratified (each digit in the same proportion in both sets) and fixed by
    ``seed``. With the default ``test_fraction=0.3``: 1,257 training and 540 test images.
    """
    from sklearn.datasets import load_digits  # imported here: only this function needs it
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    digits = load_digits()
    index = np.arange(len(digits.target))
    train, test = train_test_split(
        index, test_size=test_fraction, random_state=seed, stratify=digits.target
    )
    images = torch.as_tensor(digits.images / 16.0, dtype=dtype).unsqueeze(1)
    labels = torch.as_tensor(digits.target, dtype=torch.int64)
    return DigitsSplit(images[train], labels[train], images[test], labels[test])


# --------------------------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------------------------
class ConvODEFunc(nn.Module):
    """``f(t, h) = conv(tanh(conv(h)))`` on feature maps ``h`` of shape ``(batch, C, H, W)``.

    The same function is a residual branch in :class:`ResidualStack` and the dynamics
    ``dh/dt = f(t, h)`` in :class:`ODEBlock`. It does not use ``t`` (autonomous dynamics; Chen et
    al. append ``t`` as an extra channel, which adds little here). 3x3 convolutions with padding
    keep the shape; tanh keeps the dynamics smooth for the adaptive solver. ``nfe`` counts calls.
    """

    def __init__(self, channels: int):
        super().__init__()
        _check_int("channels", channels, minimum=1)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.nfe = 0

    def forward(self, t, h):
        self.nfe += 1
        return self.conv2(torch.tanh(self.conv1(h)))


class ODEBlock(nn.Module):
    """A layer ``x -> h(1)``, where ``dh/dt = func(t, h)`` and ``h(0) = x``.

    Args:
        func: the dynamics, an ``nn.Module`` called as ``func(t, h)``.
        method: ``"dopri5"`` (adaptive) or a fixed-step method (``"euler"``, ``"midpoint"``,
            ``"rk4"``).
        rtol, atol, first_step: options of ``dopri5`` (see :func:`utils.solvers.odeint`).
        step_size: fixed-step methods: the step (``0.25`` is four steps on [0, 1]).
        adjoint: gradients by the adjoint method (:func:`utils.adjoint.odeint_adjoint`: memory
            independent of the number of steps) instead of backpropagating through the solver.

    Options that do not apply to ``method`` are simply not passed. The input is any tensor, here
    ``(batch, C, H, W)``; the output has its shape. After each forward pass ``nfe`` holds the
    number of calls of ``func`` in that solve and ``last_stats`` the solver's
    :class:`~utils.solvers.SolveStats`.
    """

    def __init__(
        self,
        func: nn.Module,
        *,
        method: str = "dopri5",
        rtol: float | None = None,
        atol: float | None = None,
        step_size: float | None = None,
        first_step: float | None = None,
        adjoint: bool = False,
    ):
        super().__init__()
        self.func = func
        self.set_solver(method=method, rtol=rtol, atol=atol, step_size=step_size,
                        first_step=first_step, adjoint=adjoint)
        self.nfe = 0
        self.last_stats: SolveStats | None = None

    def set_solver(self, *, method: str, rtol=None, atol=None, step_size=None, first_step=None,
                   adjoint: bool = False) -> None:
        """Change how the block is solved (used for test-time solver swaps)."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; valid methods are {', '.join(METHODS)}")
        if adjoint and first_step is not None:
            raise ValueError("first_step is not an option of odeint_adjoint; drop it or "
                             "set adjoint=False")
        adaptive = TABLEAUS[method].adaptive  # dopri5, tsit5, ...: tolerances; else a step size
        given = {"rtol": rtol, "atol": atol, "first_step": first_step} if adaptive else {
            "step_size": step_size}
        self.method, self.adjoint = method, adjoint
        self.options = {name: value for name, value in given.items() if value is not None}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        t = torch.tensor([0.0, 1.0], dtype=x.dtype)
        solve = odeint_adjoint if self.adjoint else odeint
        ys, stats = solve(self.func, x, t, method=self.method, return_stats=True, **self.options)
        self.last_stats, self.nfe = stats, stats.n_fevals
        return ys[-1]

    def extra_repr(self) -> str:
        options = ", ".join(f"{k}={v}" for k, v in self.options.items())
        return f"method={self.method!r}, {options}, adjoint={self.adjoint}"


class ResidualStack(nn.Module):
    """``n_blocks`` residual blocks ``h <- h + f_k(h)`` (He et al. 2016), each ``f_k`` a
    :class:`ConvODEFunc` with its own weights. Shape in = shape out = ``(batch, C, H, W)``.
    A ResNet is Euler's method with step 1 on dynamics that change from block to block."""

    def __init__(self, channels: int, n_blocks: int):
        super().__init__()
        _check_int("n_blocks", n_blocks, minimum=1)
        self.blocks = nn.ModuleList(ConvODEFunc(channels) for _ in range(n_blocks))

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        for f in self.blocks:
            h = h + f(None, h)
        return h


def conv_stem(channels: int) -> nn.Sequential:
    """Digits ``(batch, 1, 8, 8)`` -> feature maps ``(batch, channels, 4, 4)``: a 3x3 convolution,
    ReLU, and a 4x4 convolution with stride 2 that halves the resolution (downsampling)."""
    _check_int("channels", channels, minimum=1)
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(channels, channels, 4, stride=2, padding=1),
    )


def classifier_head(channels: int) -> nn.Sequential:
    """Feature maps ``(batch, channels, 4, 4)`` -> class scores (logits) ``(batch, 10)``."""
    _check_int("channels", channels, minimum=1)
    return nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(channels * 16, N_CLASSES))


def build_classifier(
    kind: str,
    *,
    channels: int = 8,
    n_blocks: int = 6,
    rk_steps: int = 4,
    rtol: float = 1e-3,
    atol: float = 1e-3,
    adjoint: bool = False,
    mlp_hidden: int = 100,
    seed: int = 0,
) -> nn.Sequential:
    """One of the lesson's four classifiers, with weights initialised from ``seed``.

    Args:
        kind: ``"mlp"`` (pixels -> ``mlp_hidden`` ReLU units -> 10), ``"resnet"`` (stem,
            :class:`ResidualStack` of ``n_blocks``, head), ``"rknet"`` (stem, :class:`ODEBlock`
            solved by RK4 in ``rk_steps`` steps, head) or ``"odenet"`` (stem, :class:`ODEBlock`
            solved by dopri5 at ``rtol``, ``atol``, head; ``adjoint=True`` for adjoint gradients).

    Returns:
        ``nn.Sequential``: images ``(batch, 1, 8, 8)`` -> logits ``(batch, 10)``. For the
        convolutional models, item 1 is the middle part (the stack or the ODE block).
    """
    if kind not in MODEL_KINDS:
        raise ValueError(f"kind must be one of {', '.join(MODEL_KINDS)}, got {kind!r}")
    _check_int("rk_steps", rk_steps, minimum=1)
    with torch.random.fork_rng():  # seed the weights without touching the caller's RNG
        torch.manual_seed(seed)
        if kind == "mlp":
            _check_int("mlp_hidden", mlp_hidden, minimum=1)
            return nn.Sequential(nn.Flatten(), nn.Linear(64, mlp_hidden), nn.ReLU(),
                                 nn.Linear(mlp_hidden, N_CLASSES))
        stem = conv_stem(channels)
        middle: nn.Module
        if kind == "resnet":
            middle = ResidualStack(channels, n_blocks)
        elif kind == "rknet":
            middle = ODEBlock(ConvODEFunc(channels), method="rk4", step_size=1.0 / rk_steps,
                              adjoint=adjoint)
        else:
            middle = ODEBlock(ConvODEFunc(channels), method="dopri5", rtol=rtol, atol=atol,
                              adjoint=adjoint)
        return nn.Sequential(stem, middle, classifier_head(channels))


def find_ode_block(model: nn.Module) -> ODEBlock | None:
    """The first :class:`ODEBlock` inside ``model``, or None (MLP, ResNet)."""
    return next((m for m in model.modules() if isinstance(m, ODEBlock)), None)


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of ``x`` (``(n, 1, 8, 8)``) whose highest-scoring class equals ``y`` (``(n,)``)."""
    with torch.no_grad():
        return float((model(x).argmax(dim=1) == y).float().mean())


# --------------------------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    """What :func:`train_classifier` did.

    Attributes:
        losses: training cross-entropy of every mini-batch step, in order.
        nfe: forward NFE of the ODE block at every step (empty for models without one).
        seconds: wall time of the training loop.
        test_accuracy: accuracy on the test set after training.
    """

    losses: list[float] = field(default_factory=list)
    nfe: list[int] = field(default_factory=list)
    seconds: float = 0.0
    test_accuracy: float = float("nan")


def train_classifier(
    model: nn.Module,
    data: DigitsSplit,
    *,
    epochs: int,
    batch_size: int = 128,
    lr: float = 1e-2,
    seed: int = 0,
    progress: bool = True,
    desc: str = "training",
) -> TrainResult:
    """Train ``model`` with Adam on mini-batches of ``data.x_train``; cross-entropy loss.

    Every epoch visits the training set once in an order drawn from ``seed``. The learning rate
    decays along a cosine from ``lr`` to ``lr / 100``. The steps run in the project's one
    training loop, :func:`utils.training.train` (progress bar, losses, wall time); this function
    writes only the step and reads the ODE block's NFE. Returns a :class:`TrainResult`, with the
    test accuracy measured after the last step.
    """
    _check_int("epochs", epochs, minimum=1)
    _check_int("batch_size", batch_size, minimum=1)
    n = len(data.y_train)
    steps_per_epoch = math.ceil(n / batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(
        optimizer, T_max=epochs * steps_per_epoch, eta_min=lr / 100
    )
    generator = torch.Generator().manual_seed(seed)
    block = find_ode_block(model)
    nfe: list[int] = []
    order = torch.empty(0, dtype=torch.long)

    def step(i: int) -> float:
        nonlocal order
        if i % steps_per_epoch == 0:  # a new epoch: a new order of the training set
            order = torch.randperm(n, generator=generator)
        start = (i % steps_per_epoch) * batch_size
        batch = order[start : start + batch_size]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(data.x_train[batch]), data.y_train[batch])
        if block is not None:
            nfe.append(block.nfe)  # read before backward (the adjoint's adds more)
        loss.backward()
        optimizer.step()
        schedule.step()
        return loss.item()

    model.train()
    history = train(step, n_steps=epochs * steps_per_epoch, progress=progress, desc=desc)
    model.eval()
    return TrainResult(losses=history.losses, nfe=nfe, seconds=history.seconds,
                       test_accuracy=accuracy(model, data.x_test, data.y_test))


def training_step_workload(kind: str, *, batch_size: int = 128, seed: int = 0, **options):
    """A setup for :func:`utils.profiling.peak_memory`: one training step of a classifier.

    Builds ``build_classifier(kind, seed=seed, **options)`` and a batch of ``batch_size`` random
    images; returns the callable that does one step (forward, loss, backward, parameter update)
    and returns ``{"nfe": forward NFE of the ODE block or 0}``. Random pixels cost the same
    memory as real digits, and the child needs no data files.

    The update is plain SGD written out, not a ``torch.optim`` optimizer: constructing one imports
    ``torch._dynamo``, about a second of CPU in every fresh child process. The peak is the same:
    an optimizer's state (Adam's two averages) is allocated at the warm-up call, before the
    baseline, and is as small as the parameters here.
    """
    model = build_classifier(kind, seed=seed, **options)
    generator = torch.Generator().manual_seed(seed)
    x = torch.rand(batch_size, 1, 8, 8, generator=generator)
    y = torch.randint(0, N_CLASSES, (batch_size,), generator=generator)
    block = find_ode_block(model)

    def run() -> dict:
        model.zero_grad(set_to_none=True)
        loss = nn.functional.cross_entropy(model(x), y)
        nfe = block.nfe if block is not None else 0
        loss.backward()
        with torch.no_grad():
            for p in model.parameters():
                if p.grad is not None:  # a parameter the loss does not reach has no gradient
                    p.add_(p.grad, alpha=-1e-3)
        return {"nfe": nfe}

    return run


# --------------------------------------------------------------------------------------------
# Test-time solver swaps
# --------------------------------------------------------------------------------------------
@contextlib.contextmanager
def solver_options(block: ODEBlock, **options):
    """Solve ``block`` with other options inside a ``with`` block, then restore its own.

    ``options`` are those of :meth:`ODEBlock.set_solver`; ``method`` is required.
    """
    saved = dict(method=block.method, adjoint=block.adjoint, **block.options)
    block.set_solver(**options)
    try:
        yield block
    finally:
        block.set_solver(**saved)


class SweepPoint(NamedTuple):
    """One solver setting of :func:`solver_sweep`: its ``label``, the test ``accuracy``, the
    ``nfe`` of one solve over the whole test batch, and the predicted classes ``(n,)``."""

    label: str
    accuracy: float
    nfe: int
    predictions: np.ndarray


def solver_sweep(model: nn.Sequential, x: torch.Tensor, y: torch.Tensor, settings) -> list:
    """Evaluate a trained ODE-Net (or RK-Net) with each solver setting, without retraining.

    Args:
        model: a classifier from :func:`build_classifier` with an :class:`ODEBlock`.
        x, y: test images ``(n, 1, 8, 8)`` and labels ``(n,)``.
        settings: ``[(label, options), ...]``: ``options`` a dict for
            :meth:`ODEBlock.set_solver`, or ``None`` to skip the ODE block (``h(1) = h(0)``).

    Returns:
        A list of :class:`SweepPoint`, one per setting, in order.
    """
    block = find_ode_block(model)
    if block is None:
        raise ValueError("model has no ODEBlock: build it with kind='rknet' or 'odenet'")
    points = []
    with torch.no_grad():
        for label, options in settings:
            if options is None:
                stem, head = model[0], model[2]
                logits, nfe = head(stem(x)), 0
            else:
                with solver_options(block, **options):
                    logits = model(x)
                    nfe = block.nfe
            predictions = logits.argmax(dim=1)
            points.append(SweepPoint(label, float((predictions == y).float().mean()), nfe,
                                     predictions.numpy()))
    return points


def misclassified_mosaic(images, labels, predictions, *, n_show: int = 8):
    """The first ``n_show`` misclassified images side by side, for a slider to show.

    Args:
        images: ``(n, 1, 8, 8)`` tensor or array; labels, predictions: ``(n,)``.

    Returns:
        ``(mosaic, captions)``: an array ``(8, 9 * n_show - 1)`` (digits separated by a column of
        NaN, which ``imshow`` leaves blank; unused slots are NaN) and one caption
        ``"true>predicted"`` per shown digit (``""`` for an unused slot).
    """
    _check_int("n_show", n_show, minimum=1)
    images = np.asarray(images, dtype=float).reshape(-1, 8, 8)
    labels, predictions = np.asarray(labels), np.asarray(predictions)
    wrong = np.flatnonzero(labels != predictions)[:n_show]
    mosaic = np.full((8, 9 * n_show - 1), np.nan)
    captions = [""] * n_show
    for slot, i in enumerate(wrong):
        mosaic[:, 9 * slot : 9 * slot + 8] = images[i]
        captions[slot] = f"{labels[i]}>{predictions[i]}"
    return mosaic, captions


class SweepViewer:
    """A slider's figure for :func:`solver_sweep` results, built once.

    Left: test accuracy against NFE for every setting, the selected one highlighted. Right: the
    first misclassified test digits under the selected setting. :meth:`show` changes only the
    highlighted point, the titles and the image data, then displays the figure; nothing is
    recomputed (every setting was evaluated in advance), and the figure is drawn once per move.
    """

    def __init__(self, points, images, labels, *, n_show: int = 8):
        import matplotlib.pyplot as plt  # imported here: the models need no plotting

        if not points:
            raise ValueError("points is empty: pass the list solver_sweep returned")
        self.points, self.images, self.labels, self.n_show = points, images, labels, n_show
        self.fig, (self.ax_acc, self.ax_img) = plt.subplots(
            1, 2, figsize=(11, 3.2), gridspec_kw={"width_ratios": [1, 1.6]}
        )
        plt.close(self.fig)  # shown only by show(), not again at the end of the cell
        nfe = [p.nfe for p in points]
        acc = [p.accuracy for p in points]
        self.ax_acc.plot(nfe, acc, "o", color="0.6")
        (self.marker,) = self.ax_acc.plot([nfe[0]], [acc[0]], "o", color="C3", ms=11)
        self.ax_acc.set(xlabel="NFE of one solve", ylabel="test accuracy",
                        ylim=(min(acc) - 0.05, min(1.0, max(acc) + 0.03)))
        self.ax_acc.grid(alpha=0.3)
        mosaic, _ = misclassified_mosaic(images, labels, points[0].predictions, n_show=n_show)
        self.image = self.ax_img.imshow(mosaic, cmap="gray_r", vmin=0, vmax=1)
        self.ax_img.set_yticks([])
        self.ax_img.set_xticks(np.arange(n_show) * 9 + 3.5)
        self._titles(points[0], self._n_wrong(points[0]))  # laid out with its two-line titles,
        self.fig.tight_layout()  # so that no later title is clipped

    def _n_wrong(self, point) -> int:
        return int((np.asarray(self.labels) != point.predictions).sum())

    def _titles(self, point, n_wrong: int) -> None:
        self.ax_acc.set_title(f"{point.label}\naccuracy {point.accuracy:.3f}, NFE {point.nfe}",
                              fontsize=10)
        self.ax_img.set_title(f"{n_wrong} of {len(point.predictions)} test digits wrong;\n"
                              f"the first few (true>predicted)", fontsize=10)

    def show(self, index: int) -> None:
        """Select setting ``index`` and display the figure."""
        from IPython.display import Image, display

        point = self.points[index]
        self.marker.set_data([point.nfe], [point.accuracy])
        mosaic, captions = misclassified_mosaic(self.images, self.labels, point.predictions,
                                                n_show=self.n_show)
        self.image.set_data(mosaic)
        self.ax_img.set_xticklabels(captions)
        self._titles(point, self._n_wrong(point))
        # One drawing pass: a PNG at the layout fixed in __init__ (displaying the figure itself
        # would let the inline backend draw it twice, to find a tight bounding box first).
        buffer = io.BytesIO()
        self.fig.savefig(buffer, format="png")
        display(Image(data=buffer.getvalue(), format="png"))


# --------------------------------------------------------------------------------------------
# Augmented Neural ODEs (Dupont et al. 2019)
# --------------------------------------------------------------------------------------------
def augment(x: torch.Tensor, n_extra: int) -> torch.Tensor:
    """``x`` of shape ``(..., d)`` -> ``(..., d + n_extra)``: ``x`` followed by ``n_extra`` zeros.

    The zeros have ``x``'s dtype, and gradients flow back to ``x``.
    """
    _check_int("n_extra", n_extra, minimum=0)
    zeros = x.new_zeros(*x.shape[:-1], n_extra)
    return torch.cat((x, zeros), dim=-1)


class MLPDynamics(nn.Module):
    """``f(t, h)``: a tanh MLP ``dim -> hidden -> hidden -> dim``, on ``h`` of shape
    ``(batch, dim)``; autonomous (ignores ``t``). ``nfe`` counts calls."""

    def __init__(self, dim: int, *, hidden: int = 32):
        super().__init__()
        _check_int("dim", dim, minimum=1)
        _check_int("hidden", hidden, minimum=1)
        self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, hidden),
                                 nn.Tanh(), nn.Linear(hidden, dim))
        self.nfe = 0

    def forward(self, t, h):
        self.nfe += 1
        return self.net(h)


class FlowModel(nn.Module):
    """A (possibly augmented) Neural ODE on vectors: ``x (batch, dim)`` -> output.

    The flow runs in ``dim + n_extra`` dimensions from ``augment(x, n_extra)`` over t in [0, 1],
    solved by dopri5 at ``rtol``, ``atol``. ``n_extra=0`` is a plain Neural ODE.

    Args:
        head: ``"strip"``: the output is the first ``dim`` coordinates of ``h(1)``, shape
            ``(batch, dim)`` (the flow itself must do the work, as in ``x -> -x``); ``"linear"``:
            a linear layer on all of ``h(1)``, shape ``(batch, 1)`` (a linear classifier on the
            flowed features, Dupont et al.'s setting for the disk and ring).
    """

    def __init__(self, dim: int, *, n_extra: int = 0, hidden: int = 32, head: str = "strip",
                 rtol: float = 1e-3, atol: float = 1e-3):
        super().__init__()
        _check_int("n_extra", n_extra, minimum=0)
        if head not in ("strip", "linear"):
            raise ValueError(f"head must be 'strip' or 'linear', got {head!r}")
        self.dim, self.n_extra, self.head_kind = dim, n_extra, head
        self.func = MLPDynamics(dim + n_extra, hidden=hidden)
        self.head = nn.Linear(dim + n_extra, 1) if head == "linear" else None
        self.rtol, self.atol = rtol, atol
        self.nfe = 0

    def trajectory(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """The augmented state at times ``t``: shape ``(len(t), batch, dim + n_extra)``."""
        ys, stats = odeint(self.func, augment(x, self.n_extra), t.to(x.dtype), method="dopri5",
                           rtol=self.rtol, atol=self.atol, return_stats=True)
        self.nfe = stats.n_fevals
        return ys

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h1 = self.trajectory(x, torch.tensor([0.0, 1.0]))[-1]
        return h1[..., : self.dim] if self.head is None else self.head(h1)


def flip_data(n: int = 20, *, dtype: torch.dtype = torch.float32):
    """The 1-D task ``x -> -x``: inputs ``(n, 1)`` evenly spaced on [-1, 1], targets ``-x``."""
    _check_int("n", n, minimum=2)
    x = torch.linspace(-1.0, 1.0, n, dtype=dtype).unsqueeze(1)
    return x, -x


def disk_and_ring(n: int = 200, *, seed: int = 0, dtype: torch.dtype = torch.float32):
    """Dupont et al.'s 2-D task: points in the disk ``r < 0.5`` (label -1) or in the ring
    ``1 < r < 1.5`` (label +1), half each, with angles and radii uniform.

    Returns ``(x, y)``: points ``(n, 2)`` and labels ``(n, 1)`` in {-1, +1}.
    """
    _check_int("n", n, minimum=2)
    generator = torch.Generator().manual_seed(seed)
    inner = n // 2
    radius = torch.cat((0.5 * torch.rand(inner, generator=generator, dtype=torch.float64),
                        1.0 + 0.5 * torch.rand(n - inner, generator=generator,
                                               dtype=torch.float64)))
    angle = 2 * math.pi * torch.rand(n, generator=generator, dtype=torch.float64)
    x = torch.stack((radius * torch.cos(angle), radius * torch.sin(angle)), dim=1)
    y = torch.cat((-torch.ones(inner), torch.ones(n - inner))).unsqueeze(1)
    return x.to(dtype), y.to(dtype)


@dataclass
class FlowResult:
    """What :func:`train_flow` did: the loss and the forward NFE at every step, the wall time."""

    losses: list[float] = field(default_factory=list)
    nfe: list[int] = field(default_factory=list)
    seconds: float = 0.0


def train_flow(model: FlowModel, x: torch.Tensor, y: torch.Tensor, *, steps: int,
               lr: float = 1e-2, progress: bool = True, desc: str = "training") -> FlowResult:
    """Full-batch Adam on the mean squared error ``mean((model(x) - y)**2)``, ``steps`` times,
    in the project's one training loop (:func:`utils.training.train`)."""
    _check_int("steps", steps, minimum=1)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    nfe: list[int] = []

    def step(i: int) -> float:
        optimizer.zero_grad()
        loss = (model(x) - y).pow(2).mean()
        nfe.append(model.nfe)
        loss.backward()
        optimizer.step()
        return loss.item()

    history = train(step, n_steps=steps, progress=progress, desc=desc)
    return FlowResult(losses=history.losses, nfe=nfe, seconds=history.seconds)


def _check_int(name: str, value, *, minimum: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
