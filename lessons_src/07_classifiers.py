# ---
# jupyter:
#   kernelspec:
#     display_name: Neural ODE course (Python 3)
#     language: python
#     name: neural-ode-course
# ---

# %% [markdown]
# # Lesson 07 — Neural ODEs as classifiers, and what flows cannot do
#
# **Why this matters.** Chen et al. (2018) made their case for Neural ODEs on image
# classification: an *ODE-Net*, one ODE block in place of a stack of residual blocks, matched a
# ResNet on MNIST with fewer parameters and with memory that does not grow with depth (their
# Table 1). Here we rebuild that comparison on real handwritten digits, small enough to train
# four models three times each in this notebook, and measure what holds at this scale and what
# does not. Then we look inside: what the adaptive solver does during training and at test time,
# and a limit no amount of training removes — trajectories of an ODE cannot cross — with its fix,
# augmented Neural ODEs (Dupont, Doucet & Teh 2019).
#
# **Learning objectives.** After this lesson you can:
# - [ ] build an ODE block (a layer that solves an ODE) and count its function evaluations (NFE);
# - [ ] compare an MLP, a ResNet, an RK-Net and an ODE-Net over several seeds, reading mean and
#   range, and say which differences the spread supports;
# - [ ] measure parameters, peak training memory and training time, and say what the paper's
#   memory claim was about;
# - [ ] explain why NFE grows during training and where dopri5's NFE floor at loose tolerances
#   comes from (the first step, not the dynamics);
# - [ ] swap the solver of a trained ODE-Net at test time and read what changes;
# - [ ] show that a flow cannot map $x\mapsto -x$ in 1-D, and fix it by augmenting the state.
#
# **Prerequisites.** Lessons 02 (a ResNet is Euler's method; trajectories never cross), 03
# (`ODEFunc`, `odeint`) and 04 (the adjoint). Basic PyTorch: `nn.Conv2d`, cross-entropy.
#
# **Time.** About 50 minutes. Running it top to bottom takes about a minute, mostly training.
# Each exercise has a check cell right after it; `ex.<name>.hint()` gives a hint,
# `ex.<name>.solution()` a solution.

# %%
from concurrent.futures import ThreadPoolExecutor

import matplotlib.pyplot as plt
import numpy as np
import torch
from ipywidgets import IntSlider, interact
from tqdm.auto import tqdm

from utils.claims import claim
from utils.classification import (
    MODEL_KINDS,
    FlowModel,
    SweepViewer,
    build_classifier,
    count_parameters,
    disk_and_ring,
    find_ode_block,
    flip_data,
    load_digits_split,
    solver_options,
    solver_sweep,
    train_classifier,
    train_flow,
    training_step_workload,
)
from utils.exercises import lesson07 as ex
from utils.profiling import peak_memory

torch.set_num_threads(1)  # small convolutions: one thread is fastest here, and reproducible
_ = torch.manual_seed(0)

# %% [markdown]
# ## 1. The data: 1,797 handwritten digits
#
# scikit-learn ships a small digits data set inside the package (no download): 8×8 grey images
# with 17 grey levels, the digits 0–9 in roughly equal numbers. We scale pixels to $[0, 1]$ and
# hold out 30% as a test set, stratified so that every digit keeps its share.

# %%
data = load_digits_split(test_fraction=0.3, seed=0)
print("training images:", tuple(data.x_train.shape), " test images:", tuple(data.x_test.shape))
print("test images per digit:", np.bincount(data.y_test.numpy()))

fig, axes = plt.subplots(1, 10, figsize=(10, 1.4))
for digit, ax in enumerate(axes):
    i = int(np.flatnonzero(data.y_train.numpy() == digit)[0])
    ax.imshow(data.x_train[i, 0], cmap="gray_r", vmin=0, vmax=1)
    ax.set(xticks=[], yticks=[], title=str(digit))
plt.show()

# %% [markdown]
# ## 2. Four classifiers with one stem and one head
#
# Chen et al.'s models share a *downsampling stem* (convolutions that turn the image into
# feature maps) and a *head* (features to class scores); only the middle differs. Ours, sized
# for 8×8 digits:
#
# - **stem**: 3×3 convolution (1 → 8 channels), ReLU, 4×4 convolution with stride 2:
#   $(B, 1, 8, 8) \to (B, 8, 4, 4)$;
# - **head**: ReLU, flatten, linear: $(B, 8, 4, 4) \to (B, 10)$ class scores.
#
# The middle, on feature maps $h$ of shape $(B, 8, 4, 4)$, uses the function
# $f(h) = \mathrm{conv}(\tanh(\mathrm{conv}(h)))$ (`ConvODEFunc`, two 3×3 convolutions):
#
# | model | middle | evaluations of $f$ per forward pass |
# |---|---|---|
# | **ResNet** (He et al. 2016) | six residual blocks $h_{k+1} = h_k + f_k(h_k)$, each $f_k$ with its own weights | 6 |
# | **RK-Net** | one $f$, $\;\dot h = f(h)$ solved on $[0, 1]$ by RK4 in 2 steps; gradients by backpropagating through the solver's operations | 8 |
# | **ODE-Net** | the same, solved by adaptive dopri5 at `rtol = atol = 1e-3` | chosen by the solver |
# | **MLP** | no stem or head: pixels → 100 ReLU units → 10 | — |
#
# Lesson 02 showed that a residual block is one Euler step with step 1. The ODE block replaces
# the six blocks, each with its own weights, by one vector field used over the whole depth:
#
# $$h(1) = h(0) + \int_0^1 f_\theta(h(t))\,dt .$$
#
# ### Exercise 7.1 — the ODE block's forward pass (3 points)
# Write `ode_block_forward(func, x, t_end)`: solve $\dot h = $ `func(t, h)` from $h(0) =$ `x`
# to `t_end` with `utils.solvers.odeint`, method `"dopri5"`, `rtol=1e-3`, `atol=1e-3`, and
# return a pair: the state at `t_end` (same shape and dtype as `x`, with gradients flowing back
# to `x` and to `func`'s parameters) and the number of calls of `func` the solve made (an `int`).
# `odeint(..., return_stats=True)` also returns a `SolveStats`; its fields count what the solve
# did. `func` may depend on `t`.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex07_ode_block-answer"}
def ode_block_forward(func, x, t_end):
    """(h(t_end), nfe): dh/dt = func(t, h), h(0) = x, by dopri5 at rtol = atol = 1e-3."""
    from utils.solvers import odeint

    ### BEGIN SOLUTION
    t = torch.tensor([0.0, t_end], dtype=x.dtype)
    ys, stats = odeint(func, x, t, method="dopri5", rtol=1e-3, atol=1e-3, return_stats=True)
    return ys[-1], stats.n_fevals
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex07_ode_block", "points": 3}
ode_block_forward = ex.ode_block.check()

# %% [markdown]
# `utils.classification.ODEBlock` is this function as a layer (with the solver's options kept
# as attributes, so we can swap them later). Here is your function on the feature maps of a
# fresh ODE-Net, and the parameter counts of the four models:

# %% tags=["nbval-ignore-output", "machine-digits"]
odenet = build_classifier("odenet", seed=0)
features = odenet[0](data.x_train[:5])  # the stem: (5, 1, 8, 8) -> (5, 8, 4, 4)
h1, nfe = ode_block_forward(find_ode_block(odenet).func, features, 1.0)
print(f"the solve took {nfe} evaluations of f")

# %% [markdown]
# How many evaluations the adaptive solver takes depends on float32 arithmetic, so its digits
# may differ on your computer; what does not differ is checked: dopri5 spends 2 evaluations to
# choose its first step and 6 per step after that (section 5 explains why).

# %%
print("feature maps:", tuple(features.shape), "->", tuple(h1.shape))
claim((nfe - 2) % 6 == 0 and nfe >= 8, "the solve took 2 evaluations to start plus 6 per step tried",
      detail=f"NFE {nfe}")
print(odenet)
for kind in MODEL_KINDS:
    print(f"{kind:>7}: {count_parameters(build_classifier(kind, rk_steps=2)):5d} parameters")

# %% [markdown]
# The ResNet has six copies of $f$'s weights (6 × 1,168), the RK-Net and ODE-Net one: the
# parameter saving of Chen et al.'s Table 1, by construction.
#
# ## 3. Table 1, small: accuracy over three seeds
#
# **Budget.** Each model trains for 6 epochs (60 Adam steps on batches of 128, learning rate
# $10^{-2}$ decaying along a cosine), with seeds 0, 1, 2 (the seed fixes the initial weights and
# the batch order). That is the *same number of steps* for every model, not the same time and
# not training to convergence: a short run, so that you can rerun it and change it (the
# ODE-Net step costs most; try `EPOCHS = 20` and see which gaps close). The RK-Net uses 2 RK4
# steps (8 evaluations of $f$), as cheap as a short ODE-Net solve.

# %% tags=["nbval-ignore-output", "progress"]
SEEDS = (0, 1, 2)
EPOCHS = 6
runs = {kind: [] for kind in MODEL_KINDS}
for kind in tqdm(MODEL_KINDS, desc="models (3 seeds each)"):
    for seed in SEEDS:
        model = build_classifier(kind, seed=seed, rk_steps=2)
        result = train_classifier(model, data, epochs=EPOCHS, seed=seed, progress=False)
        runs[kind].append((model, result))

# %% [markdown]
# The accuracies, NFE and times below come from float32 training: your computer may print other
# digits (another CPU rounds differently, and a chaotic training run amplifies that). The cell
# after the table checks what this section says about them.

# %% tags=["nbval-ignore-output", "machine-digits"]
print(f"{'model':>7} {'params':>7}  test accuracy: mean [min, max] over {len(SEEDS)} seeds   "
      f"f-evals per forward (end)")
summary = {}
for kind in MODEL_KINDS:
    acc = np.array([r.test_accuracy for _, r in runs[kind]])
    params = count_parameters(runs[kind][0][0])
    last_nfe = [r.nfe[-1] for _, r in runs[kind] if r.nfe]
    nfe_text = {"mlp": "-", "resnet": "6 blocks"}.get(kind, ", ".join(map(str, last_nfe)))
    summary[kind] = acc
    print(f"{kind:>7} {params:7d}  {acc.mean():.3f} [{acc.min():.3f}, {acc.max():.3f}]"
          f"{'':25s}{nfe_text}")
print("do the accuracy ranges [min, max] of two models overlap?")
for i, a in enumerate(MODEL_KINDS):
    for b in MODEL_KINDS[i + 1:]:
        overlap = summary[a].min() <= summary[b].max() and summary[b].min() <= summary[a].max()
        print(f"  {a} and {b}: {'overlap' if overlap else 'separate'}")
for kind in MODEL_KINDS:
    seconds = [r.seconds for _, r in runs[kind]]
    print(f"{kind:>7}: training time {np.mean(seconds):5.2f} s per seed "
          f"(range {min(seconds):.2f}-{max(seconds):.2f} s, 1 thread)")

# %%
n_test = len(data.y_test)
print(f"one test image is {1 / n_test:.2%} of the test set")
means = {kind: acc.mean() for kind, acc in summary.items()}
detail = ", ".join(f"{kind} {acc.round(3).tolist()}" for kind, acc in summary.items())
claim(np.concatenate(list(summary.values())) > 0.9,
      "every model scores above 90% test accuracy at every seed", detail=detail)
claim(means["resnet"] > means["mlp"], "averaged over the seeds, the ResNet beats the MLP",
      detail=detail)
conv_means = [means[kind] for kind in ("resnet", "rknet", "odenet")]
claim(max(conv_means) - min(conv_means) < 0.04,
      "the convolutional models' mean accuracies lie within a few points of each other",
      detail=detail)
claim(np.abs(summary["rknet"] - summary["odenet"]) <= 0.01,
      "at each seed the RK-Net and the ODE-Net score within one point of each other", detail=detail)

# %%
fig, ax = plt.subplots(figsize=(7, 3.2))
for i, kind in enumerate(MODEL_KINDS):
    acc = summary[kind]
    ax.plot([i] * len(acc), acc, "o", color="0.5", ms=5, label="one seed" if i == 0 else None)
    ax.errorbar([i + 0.15], [acc.mean()], yerr=[[acc.mean() - acc.min()], [acc.max() - acc.mean()]],
                fmt="s", color="C3", capsize=4, label="mean and range" if i == 0 else None)
ax.set_xticks(range(len(MODEL_KINDS)), MODEL_KINDS)
ax.set(ylabel="test accuracy", title="Four classifiers, three seeds each, same number of steps")
ax.grid(alpha=0.3)
ax.legend(loc="lower right")
plt.tight_layout()
plt.show()

# %% [markdown]
# **What the numbers say.** Read the ranges, not the means: where two models' ranges overlap,
# three seeds cannot tell them apart. All models land above 90% at every seed (checked
# above; about 93% to 97% in the runs we tried). The MLP, with no convolutions at all, trains
# in a fraction of the others' time; on average it is behind the ResNet, but at some seeds it
# scores as well as the RK-Net or the ODE-Net, so *MLP vs. RK-Net* is not decided by three
# seeds. The convolutional models' mean accuracies lie within a few points of each other, of
# the size of the seed spread (see which ranges overlap in your run). So **Chen et al.'s
# Table 1 ranking does not reproduce here**: their ODE-Net matched the ResNet's error and beat
# the RK-Net's on MNIST, with a clear gap to a one-layer MLP; at this scale no such ranking
# survives the spread. A 540-image test set cannot resolve fine differences anyway: one image
# is 0.19%, and the seed-to-seed spread is several images.
#
# Notice also that the RK-Net and the ODE-Net score within a point of each other at each seed
# (often exactly the same). They are the same model (same architecture, same initial weights
# and batches for a seed) solved by two accurate solvers, so they learn nearly the same vector
# field: the solver changes the cost, hardly the result. Not exactly, though: the two solvers'
# small differences feed back through training, and a few test images can come out the other
# way.
#
# Why can't a small problem separate them? The digits are easy: the stem and head alone (a
# two-convolution network) already classify most of them, so the middle part adds only a few
# points (measured in section 5), and all four models have far more capacity than 1,257
# images need. Chen et al.'s claim was not that ODE-Nets are more *accurate*; it was that they
# reach a ResNet's accuracy with **fewer parameters** (one $f$ instead of six: measured above)
# and with **memory that does not grow with depth** when trained with the adjoint. The memory
# part we measure next.
#
# ## 4. Memory: what the adjoint buys, and when
#
# Peak memory of **one training step** (forward, backward, update) on a batch of 128,
# each measured in a fresh child process (`utils.profiling.peak_memory`, as in lesson 04: torch's
# allocations are invisible to Python's own tracing). We train the ODE-Net here by backpropagating
# through dopri5's operations; its adjoint version (`adjoint=True`: gradients by solving the
# adjoint ODE backwards, lesson 04) is measured for one step only (training it would take
# longer: each step adds that backward solve). To see *growth with depth*, the last two rows
# solve the same block with 16 RK4 steps (64 evaluations of $f$), with and without the
# adjoint. The measurements run two child processes at a time (memory is per process; the
# times printed are then only rough).

# %%
MEMORY_RUNS = {
    "mlp": dict(kind="mlp"),
    "resnet (6 blocks)": dict(kind="resnet"),
    "rknet (2 rk4 steps)": dict(kind="rknet", rk_steps=2),
    "odenet (direct)": dict(kind="odenet"),
    "odenet (adjoint)": dict(kind="odenet", adjoint=True),
    "rknet, 16 rk4 steps (direct)": dict(kind="rknet", rk_steps=16),
    "rknet, 16 rk4 steps (adjoint)": dict(kind="rknet", rk_steps=16, adjoint=True),
}
with ThreadPoolExecutor(max_workers=2) as pool:  # each call waits for its own child process
    measured = pool.map(lambda options: peak_memory(training_step_workload, **options),
                        MEMORY_RUNS.values())
    memory = dict(zip(MEMORY_RUNS, measured, strict=True))

# %% tags=["nbval-ignore-output", "machine-digits"]
print(f"{'one training step, batch 128':>30}  peak memory   time   f-evals (forward)")
for name, m in memory.items():
    print(f"{name:>30}  {m.peak_mb:7.2f} MB  {1000 * m.seconds:5.0f} ms  {m.result['nfe']}")

# %%
deep_direct = memory["rknet, 16 rk4 steps (direct)"].peak_mb
deep_adjoint = memory["rknet, 16 rk4 steps (adjoint)"].peak_mb
direct, adjoint = memory["odenet (direct)"].peak_mb, memory["odenet (adjoint)"].peak_mb
megabytes = f"direct {direct:.2f} / adjoint {adjoint:.2f} MB; 16 RK4 steps: " \
            f"direct {deep_direct:.2f} / adjoint {deep_adjoint:.2f} MB"
claim(deep_direct > 2 * deep_adjoint,
      "with 64 evaluations of f, direct backprop needs more than twice the adjoint's memory",
      detail=megabytes)
claim(abs(direct - adjoint) < 0.25 * max(direct, adjoint),
      "for the ODE-Net at rtol 1e-3, direct backprop and the adjoint need about the same memory "
      "(within 25%)", detail=megabytes)

# %% [markdown]
# Direct backpropagation stores every intermediate of every evaluation of $f$, so its memory
# grows with the number of evaluations (depth); the adjoint stores none of them and stays flat
# (compare the two 16-step rows of the table). At this scale, though, the ODE-Net needs only
# about 14–20 evaluations, and the adjoint's fixed cost (its backward solve carries the state,
# the adjoint and the solver's stages) is about as large as what it saves: compare the two
# `odenet` rows. The memory advantage is real where the paper claimed it — deep solves, large feature
# maps — and absent in a model this small. The adjoint also costs time: its backward pass
# solves a second ODE, each evaluation with a vector–Jacobian product through $f$.
#
# ## 5. What the solver does inside a classifier
#
# ### NFE during training
# The ODE block's cost is not fixed: dopri5 takes as many steps as the tolerance demands for
# the *current* dynamics. As training makes $f$ stronger, the solver needs more evaluations.

# %% tags=["nbval-ignore-output", "machine-digits"]
for seed, (_, result) in zip(SEEDS, runs["odenet"], strict=True):
    print(f"seed {seed}: NFE at the first step {result.nfe[0]}, at the last {result.nfe[-1]}, "
          f"largest {max(result.nfe)}")

# %%
nfe_runs = [np.array(result.nfe) for _, result in runs["odenet"]]
nfe_detail = "; ".join(f"seed {s}: first {n[0]}, last {n[-1]}, largest {n.max()}"
                       for s, n in zip(SEEDS, nfe_runs, strict=True))
claim([n.max() > n[0] for n in nfe_runs],
      "at every seed the solver needed more evaluations at some point of training than at "
      "its start", detail=nfe_detail)
claim(np.concatenate(nfe_runs) % 6 == 2,
      "every NFE is 2 to start plus 6 per step tried", detail=nfe_detail)
fig, ax = plt.subplots(figsize=(7, 3))
for seed, (_, result) in zip(SEEDS, runs["odenet"], strict=True):
    ax.plot(result.nfe, drawstyle="steps-post", label=f"seed {seed}")
ax.set(xlabel="training step", ylabel="NFE per forward pass",
       title="ODE-Net: dopri5 evaluations grow as f is trained (rtol = atol = 1e-3)")
ax.grid(alpha=0.3)
ax.legend()
plt.tight_layout()
plt.show()

# %% [markdown]
# Each dopri5 step costs 6 evaluations (7 stages, the last reused by the next step), plus one
# or two to choose the first step, so NFE moves in jumps of 6: one more step each time the
# dynamics get harder to follow. In big models this growth is what makes ODE-Nets slow to train
# (Chen et al. report it; later work regularises the dynamics to keep NFE down).
#
# ### Test-time solver swaps
# A trained ODE-Net is a vector field; nothing ties it to the solver it was trained with. Below
# we evaluate the three trained ODE-Nets (one per seed) on the test set with other solvers,
# without retraining:
# dopri5 at tolerances from $10^{-1}$ to $10^{-5}$, dopri5 at $10^{-1}$ started with
# `first_step=1.0`, RK4 and Euler with one step, and no ODE block at all ($h(1) = h(0)$).

# %% tags=["nbval-ignore-output", "machine-digits"]
SETTINGS = [(f"dopri5 rtol {rtol:.0e}", dict(method="dopri5", rtol=rtol, atol=rtol))
            for rtol in (1e-1, 1e-2, 1e-3, 1e-4, 1e-5)]
SETTINGS += [
    ("dopri5 rtol 1e-01, first_step 1", dict(method="dopri5", rtol=0.1, atol=0.1, first_step=1.0)),
    ("rk4, 4 steps", dict(method="rk4", step_size=0.25)),
    ("rk4, 1 step", dict(method="rk4", step_size=1.0)),
    ("euler, 1 step", dict(method="euler", step_size=1.0)),
    ("no ODE block", None),
]
sweeps = [solver_sweep(model, data.x_test, data.y_test, SETTINGS) for model, _ in runs["odenet"]]
sweep_acc = np.array([[point.accuracy for point in sweep] for sweep in sweeps])  # (seed, setting)
sweep_nfe = np.array([[point.nfe for point in sweep] for sweep in sweeps])
print(f"{'setting':>32}  test accuracy: mean [min, max]   NFE per seed")
for j, (label, _) in enumerate(SETTINGS):
    acc = sweep_acc[:, j]
    print(f"{label:>32}  {acc.mean():.3f} [{acc.min():.3f}, {acc.max():.3f}]"
          f"{'':14s}{', '.join(map(str, sweep_nfe[:, j]))}")

# %%
column = {label: j for j, (label, _) in enumerate(SETTINGS)}
reference = sweep_acc[:, column["dopri5 rtol 1e-05"]]  # the most accurate solve, per seed
accurate = [column[label] for label, options in SETTINGS
            if options is not None and options["method"] != "euler"]
sweep_detail = "; ".join(f"seed {s}: " + ", ".join(f"{a:.3f}" for a in row)
                         for s, row in zip(SEEDS, sweep_acc, strict=True))
claim(np.abs(sweep_acc[:, accurate] - reference[:, None]) <= 0.01,
      "every dopri5 and RK4 setting, down to one RK4 step, scores within one point of the "
      "tightest solve, at every seed", detail=sweep_detail)
claim(np.abs(sweep_acc[:, column["euler, 1 step"]] - reference) <= 0.04,
      "one Euler step comes within a few points of it", detail=sweep_detail)
claim(reference - sweep_acc[:, column["no ODE block"]] >= 0.01,
      "dropping the block costs accuracy at every seed", detail=sweep_detail)
nfe_detail = "; ".join(f"seed {s}: " + ", ".join(map(str, row))
                       for s, row in zip(SEEDS, sweep_nfe, strict=True))
claim(sweep_nfe[:, column["dopri5 rtol 1e-01"]] == sweep_nfe[:, column["dopri5 rtol 1e-02"]],
      "loosening dopri5's tolerance from 1e-2 to 1e-1 saves no evaluations", detail=nfe_detail)
claim(sweep_nfe[:, column["dopri5 rtol 1e-01, first_step 1"]] == 7,
      "started with first_step=1, dopri5 needs 7 evaluations: one step", detail=nfe_detail)

# %% [markdown]
# Three things to read here:
#
# - **Accuracy barely depends on the solver**, down to a single RK4 step: the learned $f$ is
#   smooth, and the classification only needs $h(1)$ roughly right. Even one Euler step (a
#   ResNet block) comes within a few points. Dropping the block costs accuracy at every seed
#   (from about one point to several, depending on the seed): the block does work, but the
#   stem and head already do most of it (section 3).
# - **Loose tolerances stop saving evaluations** below some NFE floor. That floor is not the
#   dynamics: it is the **step-size warm-up**. With no `first_step`, dopri5 picks its first
#   step by a heuristic (Hairer, Nørsett & Wanner II.4) that looks only at $f$ near $h(0)$,
#   costs an evaluation, and is cautious by design: it may only grow the step 10× at a time
#   afterwards. So even when one step over $[0, 1]$ would be accurate enough, the solver takes
#   more. Told to start with the whole interval (`first_step=1.0`), it does it in one accepted
#   step.
# - The steps themselves show it:

# %% tags=["nbval-ignore-output", "machine-digits"]
trained = runs["odenet"][0][0]  # seed 0's ODE-Net
block = find_ode_block(trained)
steps_taken = {}
with torch.no_grad():
    features = trained[0](data.x_test)
    for first_step in (None, 1.0):
        with solver_options(block, method="dopri5", rtol=0.1, atol=0.1, first_step=first_step):
            block(features)
        steps_taken[first_step] = stats = block.last_stats
        print(f"first_step={first_step}: accepted step sizes "
              f"{[round(h, 3) for h in stats.step_sizes]}, rejected {stats.n_rejected}, "
              f"NFE {stats.n_fevals}")

# %%
claim(len(steps_taken[None].step_sizes) >= 2 and steps_taken[None].step_sizes[0] < 1.0,
      "left to itself, dopri5 starts with a step shorter than the interval and needs more than "
      "one", detail=f"steps {steps_taken[None].step_sizes}")
claim(list(steps_taken[1.0].step_sizes) == [1.0] and steps_taken[1.0].n_rejected == 0,
      "told first_step=1, it covers [0, 1] in one accepted step",
      detail=f"steps {steps_taken[1.0].step_sizes}, rejected {steps_taken[1.0].n_rejected}")

# %% [markdown]
# ### Slider: browse the solver settings
# Every setting above was evaluated once; the slider picks one for seed 0's ODE-Net and
# redraws the highlighted point and the misclassified test digits (true > predicted). Watch which digits
# go wrong when the block is dropped, and that the mistakes hardly change between the accurate
# solves.

# %% tags=["nbval-ignore-output", "slider"]
viewer = SweepViewer(sweeps[0], data.x_test, data.y_test, n_show=10)
_ = interact(viewer.show, index=IntSlider(value=0, min=0, max=len(sweeps[0]) - 1,
                                          description="setting"))

# %% [markdown]
# ## 6. What flows cannot do
#
# Lesson 02 showed why: two solutions of $\dot h = f(t, h)$ never meet, so in 1-D a flow keeps
# the order of its inputs. The map $x \mapsto -x$ reverses it; **no Neural ODE on the line can
# represent it**, however long we train. The best order-preserving fit to $-x$ on $[-1, 1]$
# sends every point near 0, with mean squared error $\overline{x^2}$.
#
# **Augmented Neural ODEs** (Dupont, Doucet & Teh 2019) solve the flow in a bigger space:
# append $p$ zeros to the input, $h(0) = (x, 0, \dots, 0) \in \mathbb R^{d+p}$, solve, and
# read the output from $h(1)$. In 2-D, the points can go *around* each other: a half-turn
# through the extra dimension maps $(x, 0)$ to $(-x, 0)$.
#
# ### Exercise 7.2 — augment (2 points)
# Write `augment(x, n_extra)`: for a tensor `x` of shape `(..., d)` return a tensor of shape
# `(..., d + n_extra)`, `x` followed by `n_extra` zeros along the last dimension, with `x`'s
# dtype, and with gradients flowing back to `x`. `n_extra` may be 0.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex07_augment-answer"}
def augment(x, n_extra):
    """x (..., d) -> (..., d + n_extra): x followed by n_extra zeros."""
    ### BEGIN SOLUTION
    zeros = torch.zeros(*x.shape[:-1], n_extra, dtype=x.dtype)
    return torch.cat((x, zeros), dim=-1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex07_augment", "points": 2}
augment = ex.augment.check()

# %% [markdown]
# `FlowModel(dim, n_extra=p)` is a Neural ODE on vectors built on the same padding
# (`utils.classification.augment`): dynamics a small tanh MLP in $d + p$ dimensions, solved by
# dopri5 at `rtol = atol = 1e-3`; with `head="strip"` the output is the first $d$ coordinates
# of $h(1)$, so the flow alone must do the work. We train a plain one ($p = 0$) and an
# augmented one ($p = 1$) on 20 points of $x \mapsto -x$, 100 full-batch Adam steps each, from
# three seeds' initial weights (0, 1, 2).

# %%
print("augment a batch of three 1-D inputs:", augment(torch.tensor([[1.0], [2.0], [3.0]]), 1).tolist())
x_flip, y_flip = flip_data(20)
bound = float((y_flip**2).mean())
print(f"best possible for any 1-D flow (map everything to 0): MSE {bound:.3f}")
FLOW_SEEDS = (0, 1, 2)
FLOW_NAMES = {0: "plain", 1: "augmented"}


def new_flows(dim, **options):
    """{n_extra: [a FlowModel per seed]} for the plain (0) and the augmented (1) flow."""
    flows = {}
    for n_extra in (0, 1):
        flows[n_extra] = []
        for seed in FLOW_SEEDS:
            torch.manual_seed(seed)
            flows[n_extra].append(FlowModel(dim, n_extra=n_extra, hidden=32, **options))
    return flows


flip_models = new_flows(1)

# %% tags=["nbval-ignore-output", "progress"]
flip_results = {n_extra: [train_flow(model, x_flip, y_flip, steps=100, lr=0.03,
                                     desc=f"x -> -x, {n_extra} extra, seed {seed}")
                          for seed, model in zip(FLOW_SEEDS, models, strict=True)]
                for n_extra, models in flip_models.items()}

# %% tags=["nbval-ignore-output", "machine-digits"]
flip_mse = {n: np.array([r.losses[-1] for r in results]) for n, results in flip_results.items()}
print(f"final MSE over seeds {FLOW_SEEDS}: mean [min, max]; NFE per forward at the last step")
for n_extra, results in flip_results.items():
    mse = flip_mse[n_extra]
    print(f"{FLOW_NAMES[n_extra]:>10}: {mse.mean():.3g} [{mse.min():.3g}, {mse.max():.3g}]   "
          f"NFE {', '.join(str(r.nfe[-1]) for r in results)}")

# %%
flip_detail = f"bound {bound:.4f}; plain {flip_mse[0].tolist()}, augmented {flip_mse[1].tolist()}"
claim((flip_mse[0] > 0.98 * bound) & (flip_mse[0] < 1.05 * bound),
      "at every seed the plain flow's loss stays at the bound", detail=flip_detail)
claim(flip_mse[1] < 0.01 * bound,
      "at every seed the augmented flow drives the loss to nearly zero", detail=flip_detail)

# %%
t_draw = torch.linspace(0.0, 1.0, 41)
with torch.no_grad():
    paths = {n_extra: models[0].trajectory(x_flip, t_draw).numpy()  # seed 0
             for n_extra, models in flip_models.items()}
colors = plt.cm.coolwarm(np.linspace(0, 1, len(x_flip)))
fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
for i, c in enumerate(colors):
    axes[0].plot(t_draw, paths[0][:, i, 0], color=c)
    axes[1].plot(t_draw, paths[1][:, i, 0], color=c)
    axes[2].plot(paths[1][:, i, 0], paths[1][:, i, 1], color=c)
    axes[2].plot(paths[1][-1, i, 0], paths[1][-1, i, 1], "o", color=c, ms=4)
axes[0].set(xlabel="t", ylabel="h(t)", title="plain (seed 0): order kept, all squeezed to 0")
axes[1].set(xlabel="t", ylabel="first coordinate of h(t)", title="augmented: they cross in x ...")
axes[2].set(xlabel="first coordinate (x)", ylabel="extra coordinate",
            title="... by going round in the extra dimension")
for ax in axes:
    ax.grid(alpha=0.3)
plt.tight_layout()
plt.show()

# %% [markdown]
# The plain flow does what it can: it squeezes every trajectory towards 0, never letting two
# pass each other, and its loss stays at the bound. The augmented flow's paths cross *in the
# first coordinate*, but in the plane they are nested arcs that never meet: the points turn
# through the extra dimension.
#
# ### The disk and the ring
# Dupont et al.'s 2-D example: points in the disk $r < 0.5$ (class −1) and the ring
# $1 < r < 1.5$ (class +1). A linear head after the flow needs the two classes on opposite
# sides of a line; a continuous, invertible map of the plane cannot pull the disk out through
# the ring. A plain Neural ODE can only *squeeze* through gaps between the training points,
# which needs sharp, costly dynamics; with one extra dimension the disk can simply be lifted.
# Both use `head="linear"` and the mean squared error to the labels ±1, 100 Adam steps on 200
# points, from the same three seeds; accuracy is measured on 1,000 fresh points. How well the
# plain flow squeezes through depends a lot on its initial weights: read the spread.

# %%
x_ring, y_ring = disk_and_ring(200, seed=0)
x_ring_test, y_ring_test = disk_and_ring(1000, seed=1)
ring_models = new_flows(2, head="linear")

# %% tags=["nbval-ignore-output", "progress"]
ring_results = {n_extra: [train_flow(model, x_ring, y_ring, steps=100, lr=0.03,
                                     desc=f"disk and ring, {n_extra} extra, seed {seed}")
                          for seed, model in zip(FLOW_SEEDS, models, strict=True)]
                for n_extra, models in ring_models.items()}

# %% tags=["nbval-ignore-output", "machine-digits"]
ring = {}  # per flow: final training MSE, test accuracy, mean NFE per forward; one entry per seed
for n_extra, models in ring_models.items():
    with torch.no_grad():
        accuracy = [float((torch.sign(m(x_ring_test)) == y_ring_test).float().mean())
                    for m in models]
    results = ring_results[n_extra]
    ring[n_extra] = {"training MSE": np.array([r.losses[-1] for r in results]),
                     "test accuracy": np.array(accuracy),
                     "mean NFE": np.array([np.mean(r.nfe) for r in results])}
print(f"over seeds {FLOW_SEEDS}: mean [min, max]")
for n_extra, rows in ring.items():
    name = "plain (2-D)" if n_extra == 0 else "augmented (2+1-D)"
    print(name)
    for quantity, values in rows.items():
        digits = 0 if quantity == "mean NFE" else 3
        print(f"  {quantity:>14}: {values.mean():.{digits}f} "
              f"[{values.min():.{digits}f}, {values.max():.{digits}f}]")

# %%
ring_detail = "; ".join(f"{FLOW_NAMES[n]}: " + ", ".join(f"{q} {v.round(3).tolist()}"
                                                        for q, v in rows.items())
                        for n, rows in ring.items())
claim((ring[1]["training MSE"] < 0.01) & (ring[1]["test accuracy"] >= 0.99),
      "at every seed the augmented flow fits (training MSE below 0.01) and classifies at least "
      "99% of the test points", detail=ring_detail)
claim(ring[0]["mean NFE"].mean() > ring[1]["mean NFE"].mean(),
      "averaged over the seeds, the plain flow needs more evaluations per forward pass",
      detail=ring_detail)

# %%
fig = plt.figure(figsize=(13, 3.8))
ax_nfe = fig.add_subplot(1, 3, 1)
for n_extra, results in ring_results.items():
    for seed, result in zip(FLOW_SEEDS, results, strict=True):
        ax_nfe.plot(result.nfe, drawstyle="steps-post", color=f"C{n_extra}",
                    ls=("-", "--", ":")[seed], label=f"{FLOW_NAMES[n_extra]}, seed {seed}")
ax_nfe.set(xlabel="training step", ylabel="NFE per forward", title="cost of the flow during training")
ax_nfe.grid(alpha=0.3)
ax_nfe.legend(fontsize=8)
inner = y_ring_test[:, 0] < 0
with torch.no_grad():
    end_plain = ring_models[0][0].trajectory(x_ring_test, torch.tensor([0.0, 1.0]))[-1].numpy()
    end_aug = ring_models[1][0].trajectory(x_ring_test, torch.tensor([0.0, 1.0]))[-1].numpy()
ax_plain = fig.add_subplot(1, 3, 2)
ax_plain.plot(*end_plain[~inner].T, ".", ms=2, color="C0", label="ring (+1)")
ax_plain.plot(*end_plain[inner].T, ".", ms=2, color="C3", label="disk (-1)")
ax_plain.set(xlabel="h1", ylabel="h2", title="plain (seed 0): h(1)")
ax_plain.legend(markerscale=4, fontsize=8)
ax_aug = fig.add_subplot(1, 3, 3, projection="3d")
ax_aug.plot(*end_aug[~inner].T, ".", ms=2, color="C0")
ax_aug.plot(*end_aug[inner].T, ".", ms=2, color="C3")
ax_aug.set(xlabel="h1", ylabel="h2", zlabel="extra", title="augmented (seed 0): h(1), disk lifted")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the printed numbers with the figure. On 200 training points the plain flow can reach a
# good accuracy too — finite data leave gaps to squeeze through — but whether it does is
# down to luck: its training MSE can differ by orders of magnitude from one seed to the next
# (it is a chaotic fit: even the same seed lands elsewhere on another computer), it needs
# stronger dynamics and, on average, more evaluations per forward pass, and its picture of
# $h(1)$ is torn and stretched. The augmented flow fits at every seed, separating the classes
# with a gentle lift, at lower cost. Dupont et al. report the same pattern on this task: lower
# loss, fewer evaluations, and better generalisation with augmentation.
#
# ## 7. Check yourself
#
# 1. A colleague's ODE-Net beats their ResNet by 0.4 points on this test set with one seed each.
#    What do you answer? *(One image is 0.19%; the seed spread measured above is larger. Run
#    several seeds and compare ranges.)*
# 2. Why does loosening dopri5's tolerance from $10^{-2}$ to $10^{-1}$ not reduce NFE, and how
#    do you get below that floor? *(The first-step warm-up; pass `first_step`.)*
# 3. When would you train with the adjoint? *(When the solve needs many evaluations on large
#    states, so that storing every intermediate would not fit; here, it does not pay.)*
# 4. Could a plain 2-D Neural ODE followed by an MLP head (not linear) solve the disk and ring
#    easily? *(Yes: the head could do the nonlinear work. The limit is on what the flow itself
#    can represent.)*

# %% [markdown]
# ## Before you hand in
# The cell below judges every exercise of this lesson on the answers you wrote, as the
# instructor's grader will: the cases your check cells ran and the hidden ones (named, never
# shown). `make check-my-work` does the same for all your notebooks from a terminal.

# %%
from utils.exercises import self_check

self_check("lesson07")

# %% [markdown]
# ## Key takeaways
# - An ODE block is `odeint` from $h(0) = x$ to $t = 1$; one vector field replaces a stack of
#   residual blocks, so the parameter count does not grow with depth.
# - On a small, easy problem, the MLP, ResNet, RK-Net and ODE-Net are all within a few points
#   of each other and the convolutional ones within seed noise: Table 1's ranking does not
#   reproduce at this scale. Compare models over seeds, with ranges, at an equal budget.
# - The adjoint's memory stays flat in the number of evaluations; direct backpropagation grows
#   with it. At ~14–20 evaluations on tiny feature maps the two are about equal.
# - NFE is a property of the learned dynamics *and* of the controller: it grows during training,
#   and at loose tolerance its floor is the first-step warm-up.
# - Trajectories of an ODE cannot cross: a plain flow cannot map $x \mapsto -x$ in 1-D.
#   Augmenting the state with zeros lifts that limit, and made the disk-and-ring fit reliable at
#   every seed and, on average, cheaper.
#
# ## Further reading
# - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
#   Equations", NeurIPS 2018, arXiv:1806.07366 — section 3 and Table 1 (ResNet, RK-Net,
#   ODE-Net on MNIST).
# - E. Dupont, A. Doucet, Y. W. Teh, "Augmented Neural ODEs", NeurIPS 2019, arXiv:1904.01681 —
#   what flows cannot represent, and the augmented fix.
# - K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
#   arXiv:1512.03385 — residual networks.
# - E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I*, Springer
#   1993, section II.4 — step-size control and the choice of the first step.
