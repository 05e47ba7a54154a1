# ---
# jupyter:
#   kernelspec:
#     display_name: Neural ODE course (Python 3)
#     language: python
#     name: neural-ode-course
# ---

# %% [markdown]
# # Lesson 08 — Continuous normalizing flows: densities from an ODE
#
# **Why this matters.** A generative model should do two things: *score* a point (how likely is
# this data?) and *sample* new points. A normalizing flow does both with one invertible map from
# a simple base density (a standard normal) to the data. Discrete flows pay for invertibility
# with restricted layers, because the change of variables needs a Jacobian *determinant*. Chen
# et al. (2018) noticed that when the map is the solution of an ODE, the determinant turns into
# a *trace* integrated over time, and any network can be the vector field. Here we derive that,
# train such a flow on two moons by maximum likelihood, and measure it honestly against
# Gaussian mixtures and against the true density.
#
# **Learning objectives.** After this lesson you can:
# - [ ] derive the instantaneous change of variables $\frac{d}{dt}\log p(z(t)) = -\operatorname{tr}\frac{\partial f}{\partial z}$;
# - [ ] compute the exact trace of a Jacobian with autograd, and say what it costs in $D$ dimensions;
# - [ ] solve state and log-density together as one tensor, and score data with it;
# - [ ] train a continuous normalizing flow by maximum likelihood and evaluate it with a tight solve;
# - [ ] compare it fairly with Gaussian mixtures and with the true density's own log-likelihood;
# - [ ] sample by solving backwards in time, and say what a continuous flow cannot do;
# - [ ] use Hutchinson's trace estimator, measure its bias and spread, and say when it pays.
#
# **Prerequisites.** Lessons 01–05 (`odeint`, gradients through a solve, training a Neural ODE);
# a little probability (densities, log-likelihood).
#
# **Time.** About 60 minutes. Running it top to bottom takes about a minute, about half of it
# training. Each exercise has a check cell right after it; `ex.<name>.hint()` gives a hint,
# `ex.<name>.solution()` a solution.

# %%
import inspect
import math
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from ipywidgets import IntSlider, interact
from sklearn.mixture import GaussianMixture
from torch import nn

from utils import flows
from utils.claims import claim, magnitude
from utils.exercises import lesson08 as ex
from utils.flows import TwoMoons, VectorField
from utils.solvers import odeint
from utils.training import train

torch.set_num_threads(1)  # a 4.5k-parameter network: one thread is fastest here, and reproducible
torch.manual_seed(0)
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## 1. From a determinant to a trace
#
# **The change of variables.** If $x = g(z)$ with $g$ invertible and $z \sim p_z$, then
#
# $$\log p_x(x) = \log p_z(z) - \log\left|\det \frac{\partial g}{\partial z}\right| .$$
#
# A determinant of a $D\times D$ matrix costs $O(D^3)$, so discrete flows (Real NVP, Glow) build
# $g$ from special layers whose Jacobians are triangular. That restricts the network.
#
# **The continuous version.** Let $z(t)$ follow $\dot z = f(z, t)$ and let $p(\cdot, t)$ be the
# density of $z(t)$. Over a short step $h$,
#
# $$z(t+h) = z(t) + h\,f(z(t), t) + O(h^2), \qquad
# \frac{\partial z(t+h)}{\partial z(t)} = I + h J + O(h^2), \quad J = \frac{\partial f}{\partial z}(z(t), t).$$
#
# Apply the change of variables to this one step, and use $\det(I + hJ) = 1 + h\operatorname{tr}J + O(h^2)$
# and $\log(1 + u) = u + O(u^2)$:
#
# $$\log p(z(t+h), t+h) = \log p(z(t), t) - h\operatorname{tr}J + O(h^2).$$
#
# Subtract, divide by $h$, let $h \to 0$: the **instantaneous change of variables** (Chen et al.
# 2018, Theorem 1)
#
# $$\boxed{\ \frac{d}{dt}\log p(z(t), t) = -\operatorname{tr}\left(\frac{\partial f}{\partial z}(z(t), t)\right)\ }$$
#
# A trace needs only the diagonal of $J$: $D$ backward passes exactly, or one with Hutchinson's
# estimator (section 8). And $f$ can be *any* smooth network. Where the field spreads points out
# ($\operatorname{tr}J > 0$) the density falls; where it squeezes them, it rises.
#
# The one fact the derivation rests on, measured: $\log\det(I + hJ)$ against $h\operatorname{tr}J$
# for a random $J$. The gap should shrink like $h^2$ (100× per factor 10 in $h$).

# %%
J = torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
lines = []
for h in (1e-1, 1e-2, 1e-3):
    log_det = torch.linalg.slogdet(torch.eye(3, dtype=torch.float64) + h * J).logabsdet
    lines.append(f"h = {h:.0e}:  log det(I + hJ) = {log_det.item():+.6f}   h tr J = "
                 f"{h * torch.trace(J).item():+.6f}   gap = "
                 f"{abs(log_det - h * torch.trace(J)).item():.1e}")
print("\n".join(lines))

# %% [markdown]
# ### Exercise 8.1 — the exact trace (3 points)
# Write `jacobian_trace(f, z)`: `z` has shape `(batch, D)` and requires grad, `f = field(z)` has
# the same shape and row $b$ of `f` depends only on row $b$ of `z`. Return
# $\operatorname{tr}\frac{\partial f_b}{\partial z_b}$ for every row, shape `(batch,)`, with the
# autograd graph kept (`create_graph=True`): training backpropagates *through* the trace.
# Hint: `torch.autograd.grad(f[:, i].sum(), z, ...)` differentiates column $i$ of every row at once.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex08_jacobian_trace-answer"}
def jacobian_trace(f, z):
    """tr(df/dz) for each row: f, z of shape (batch, D) -> (batch,), differentiable."""
    ### BEGIN SOLUTION
    trace = torch.zeros(z.shape[0], dtype=z.dtype)
    for i in range(z.shape[1]):
        (grad,) = torch.autograd.grad(f[:, i].sum(), z, create_graph=True)
        trace = trace + grad[:, i]
    return trace
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex08_jacobian_trace", "points": 3}
jacobian_trace = ex.jacobian_trace.check()

# %% [markdown]
# Cross-check against the full Jacobian from `torch.autograd.functional.jacobian`, on the
# network we are going to train (still untrained): the trace of each point's $2\times 2$ Jacobian.

# %%
torch.manual_seed(0)
field = VectorField(2, hidden=64, layers=2)
z_check = torch.randn(5, 2, generator=torch.Generator().manual_seed(1)).requires_grad_(True)
ours = jacobian_trace(field(0.5, z_check), z_check)
full = [torch.trace(torch.autograd.functional.jacobian(lambda p: field(0.5, p[None])[0], z))
        for z in z_check.detach()]
print("jacobian_trace        :", ours.detach().numpy())
print("trace of full Jacobian:", torch.stack(full).numpy())
difference = (ours.detach() - torch.stack(full)).abs().max().item()
print(f"largest difference: {magnitude(difference)}")
claim(difference < 1e-6, "jacobian_trace agrees with the full Jacobian's trace up to float32 rounding",
      detail=f"largest difference {difference:.1e}")

# %% [markdown]
# ## 2. State and log-density in one solve
#
# **Convention** (FFJORD's): the data live at $t = 0$, the base density $\mathcal N(0, I)$ at
# $t = T$ (here $T = 1$). To score a data point $x$, solve forward from $z(0) = x$ and carry the
# change of log-density $\delta(t)$ along:
#
# $$\frac{d}{dt}\begin{pmatrix} z \\ \delta \end{pmatrix} =
# \begin{pmatrix} f(z, t) \\ -\operatorname{tr}\frac{\partial f}{\partial z}(z, t) \end{pmatrix},\qquad
# \begin{pmatrix} z(0) \\ \delta(0) \end{pmatrix} = \begin{pmatrix} x \\ 0 \end{pmatrix}
# \quad\Longrightarrow\quad
# \log p(x) = \log\mathcal N\big(z(T); 0, I\big) - \delta(T).$$
#
# (Integrating the boxed equation from 0 to $T$: $\log p_T(z(T)) = \log p_0(x) + \delta(T)$, and
# $p_T$ is the base.) The course solver takes **one tensor**, so we stack the state and the
# log-density into a tensor of shape `(batch, D + 1)`: columns `:D` are $z$, the last column is
# $\delta$. That is all `flows.CNFDynamics` does:

# %%
print(inspect.getsource(flows.CNFDynamics.forward))

# %% [markdown]
# Two details in it matter later. The trace is taken with `create_graph=True` while training, so
# the loss can be differentiated through it. For *evaluation* the dynamics detach the state at
# every call (`create_graph=False`): otherwise every solver step's graph would hang on to the
# previous one's and memory would grow with the number of steps (section 5 measures it).
#
# ### Exercise 8.2 — a flow you can solve by hand (2 points)
# For a linear field $f(z) = Az$ the flow is $z(T) = e^{AT}x$ and the Jacobian is $A$ everywhere.
# Write `linear_flow_log_prob(A, x, t_end)` returning $\log p(x)$ under this flow (data at
# $t=0$, standard normal at $t = $ `t_end`) for each row of `x` (shape `(batch, D)`), as a
# tensor of shape `(batch,)`. Mind the sign of the trace term. `torch.linalg.matrix_exp` gives
# $e^{AT}$.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex08_linear_flow_log_prob-answer"}
def linear_flow_log_prob(A, x, t_end):
    """log p(x) under dz/dt = A z with N(0, I) at t = t_end; A (D, D), x (batch, D) -> (batch,)."""
    ### BEGIN SOLUTION
    z_end = x @ torch.linalg.matrix_exp(A * t_end).T
    log_base = -0.5 * (z_end**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
    return log_base + t_end * torch.trace(A)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex08_linear_flow_log_prob", "points": 2}
linear_flow_log_prob = ex.linear_flow_log_prob.check()

# %% [markdown]
# Now the same number the long way: `flows.log_prob` solves the stacked system with the
# adaptive `dopri5` and the exact trace. The two must agree up to the solver's tolerance.

# %%
class LinearField(nn.Module):
    """f(t, z) = A z for each row of z."""

    def __init__(self, A):
        super().__init__()
        self.A = A

    def forward(self, t, z):
        return z @ self.A.T


A = torch.tensor([[0.5, 2.0], [-1.0, -1.5]], dtype=torch.float64)
x_lin = torch.randn(6, 2, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
by_hand = linear_flow_log_prob(A, x_lin, 1.0)
by_solver = flows.log_prob(LinearField(A), x_lin, t_end=1.0, method="dopri5", rtol=1e-10,
                           atol=1e-12, create_graph=False)
print("closed form:", by_hand.detach().numpy())
print("ODE solve  :", by_solver.detach().numpy())
difference = (by_hand - by_solver).abs().max().item()
print(f"largest difference: {magnitude(difference, floor=1e-8)}")
claim(difference < 1e-8, "the solve agrees with the closed form within the solver's tolerance",
      detail=f"largest difference {difference:.1e}")

# %% [markdown]
# ### Your turn: assemble $[z, \delta]$ and solve it
# `flows.log_prob` hides three steps. Write them yourself in the cell below before reading ours
# (it is not graded; the checks after it tell you if it works): **(1)** the initial state, $x$
# with a zero column appended for $\delta(0) = 0$, shape `(batch, D + 1)`; **(2)** the augmented
# dynamics, which split the state into $z$ and $\delta$, evaluate $f$ and return
# $[f, -\operatorname{tr}\,\partial f/\partial z]$ as one tensor (use your `jacobian_trace`; the
# state must require grad for it); **(3)** one `odeint` call from $t = 0$ to $T$, then
# $\log p(x) = \log\mathcal N(z(T)) - \delta(T)$. The checks run your function on the linear
# field (against your closed form from exercise 8.2) and on the untrained network (against
# `flows.log_prob` with the same solver).

# %%
def my_log_prob(field, x, t_end=1.0, **solver):
    """log p(x) by solving [z, delta] from [x, 0] at t = 0 to t_end; x (batch, D) -> (batch,)."""
    state0 = torch.cat([x, torch.zeros(x.shape[0], 1, dtype=x.dtype)], dim=1)  # (1)

    def augmented(t, state):  # (2)
        with torch.enable_grad():
            z = state[:, :-1].detach().requires_grad_(True)
            f = field(t, z)
            trace = jacobian_trace(f, z)
        return torch.cat([f, -trace[:, None]], dim=1).detach()

    t = torch.tensor([0.0, t_end], dtype=x.dtype)  # (3)
    state_end = odeint(augmented, state0, t, **solver)[-1]
    z_end, delta_end = state_end[:, :-1], state_end[:, -1]
    log_base = -0.5 * (z_end**2).sum(dim=1) - 0.5 * x.shape[1] * math.log(2 * math.pi)
    return log_base - delta_end


mine_linear = my_log_prob(LinearField(A), x_lin, method="dopri5", rtol=1e-10, atol=1e-12)
gap_linear = (mine_linear - by_hand).abs().max().item()
print(f"linear field, against the closed form: largest difference {magnitude(gap_linear, floor=1e-8)}")
claim(gap_linear < 1e-8, "your [z, delta] solve gives the closed-form log-density of the linear flow")
x_net = torch.randn(8, 2, generator=torch.Generator().manual_seed(3))
mine_net = my_log_prob(field, x_net, method="rk4", step_size=0.25)
theirs_net = flows.log_prob(field, x_net, method="rk4", step_size=0.25, create_graph=False)
gap_net = (mine_net - theirs_net).abs().max().item()
print(f"untrained network, against flows.log_prob: largest difference {magnitude(gap_net, floor=1e-5)}")
claim(gap_net < 1e-5, "and the network's log-density agrees with flows.log_prob, same solver and steps")

# %% [markdown]
# Two things to try: drop the minus sign in front of the trace, or append the zero column as
# ones; both checks then fail, and the first shows by how much. (Here the dynamics detach their
# output, so this version can evaluate but not train; `flows.CNFDynamics` keeps the graph with
# `create_graph=True` for training.)

# %% [markdown]
# ## 3. The data, with a density we know
#
# Two moons, as in scikit-learn's `make_moons`: two interleaved half circles blurred by noise.
# To measure a model against the *truth*, we need the data's density, and `make_moons` does not
# give one. So we define the data as a distribution whose density is computable:
# `flows.TwoMoons` is an equal-weight mixture of 200 Gaussians (std 0.1) whose centres are
# evenly spaced along the two half circles (centred near the origin). Neighbouring centres are
# 0.03 apart, far closer than the noise, so the density is a smooth band, the same picture as
# `make_moons(noise=0.1)`; and because it *is* a finite mixture, its log-density is an exact
# log-sum-exp and sampling from it is exact. Its average log-likelihood on test data is the
# **ceiling**: no model can beat the true density on average (up to the test sample's noise).
#
# 2,000 training points, 4,000 test points, drawn independently.

# %%
moons = TwoMoons(noise=0.1, n_per_moon=100)
x_train_np = moons.sample(2000, seed=1)
x_test_np = moons.sample(4000, seed=2)
x_train = torch.tensor(x_train_np, dtype=torch.float32)
x_test = torch.tensor(x_test_np, dtype=torch.float32)
true_test = moons.log_prob(x_test_np)
print(f"true density, mean test log-likelihood: {true_test.mean():.3f} nats "
      f"(standard error of that mean: {true_test.std() / math.sqrt(len(true_test)):.3f})")

# %%
LIM = (-2.0, 2.0, -1.5, 1.5)
gx, gy = np.linspace(LIM[0], LIM[1], 120), np.linspace(LIM[2], LIM[3], 90)
grid_points = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
true_density = np.exp(moons.log_prob(grid_points)).reshape(len(gy), len(gx))

fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
axes[0].scatter(x_train_np[:, 0], x_train_np[:, 1], s=2, c="0.3")
axes[0].set(title="2,000 training points", xlim=LIM[:2], ylim=LIM[2:])
axes[1].imshow(true_density, origin="lower", extent=LIM, aspect="auto", cmap="viridis")
axes[1].set(title="the true density (known exactly)")
for ax in axes:
    ax.set(xlabel="$x_1$", ylabel="$x_2$")
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 4. Training by maximum likelihood
#
# **The model.** `VectorField`: an MLP on $(z, t)$, $3 \to 64 \to 64 \to 2$, with softplus
# activations (4,546 parameters). Softplus and not ReLU: the trace involves the network's
# derivative, and ReLU's derivative is a step, which would make the density jump and its
# gradient in $\theta$ useless.
#
# **The loss** is the negative mean log-likelihood of a mini-batch,
# $L(\theta) = -\frac1B\sum_b \log p_\theta(x_b)$, computed through the stacked solve and
# backpropagated through it (lesson 05). Maximising likelihood is minimising the KL divergence
# from the data to the model.
#
# **The solver during training:** fixed-step RK4 with two steps on $[0, 1]$ (8 evaluations of
# the dynamics per solve), the exact trace. A fixed grid makes every step cost the same however
# wild the half-trained field is; section 5 checks what that coarse grid costs in accuracy.
#
# **The training run.** A short one: the flow gets `N_STEPS` Adam steps, batch
# `BATCH`, learning rate $10^{-2}$ decaying on a cosine to $10^{-4}$. We train **three seeds at
# once**: `VectorField(copies=3)` holds three independently initialised networks, each fed its own
# stream of batches, in one batched pass (see its docstring: with the loss a sum of the three mean
# losses, each network is trained exactly as in a run of its own, for less than three times the time
# of one run). That is still a small budget for a flow; keep it in mind when reading the comparison
# in section 6.

# %%
T_END = 1.0
STEP = 0.5  # RK4 step during training: 2 steps on [0, 1], 8 evaluations of the dynamics
N_STEPS = 1000
BATCH = 128
SEEDS = 3

torch.manual_seed(0)
trainee = VectorField(2, hidden=64, layers=2, copies=SEEDS)
optimizer = torch.optim.Adam(trainee.parameters(), lr=1e-2)
schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=N_STEPS, eta_min=1e-4)
generator = torch.Generator().manual_seed(0)


def step(i):
    """One Adam step of all three networks: each on its own batch of BATCH training points."""
    batch = x_train[torch.randint(len(x_train), (SEEDS * BATCH,), generator=generator)]
    logp = flows.log_prob(trainee, batch, t_end=T_END, method="rk4", step_size=STEP)
    loss = -logp.reshape(SEEDS, BATCH).mean(dim=1).sum()  # sum of the three mean losses
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
    schedule.step()
    return loss.item() / SEEDS


print("parameters of one network:", sum(p.numel() for p in VectorField(2).parameters()))

# %% tags=["nbval-ignore-output", "progress"]
history = train(step, n_steps=N_STEPS, desc="three flows")
print(f"training time: {history.seconds:.1f} s for {N_STEPS} steps of three networks "
      f"({1000 * history.seconds / N_STEPS:.0f} ms per step)")

# %% tags=["nbval-ignore-output", "machine-digits"]
fields = [trainee.select(k) for k in range(SEEDS)]
field = fields[0]  # the flow we look at in detail
losses = np.array(history.losses)
print(f"mean batch loss of the three: first step {losses[0]:.2f}, mean of the last 50 steps "
      f"{losses[-50:].mean():.2f} nats (true density on the test set: {-true_test.mean():.2f})")

# %%
claim(losses[-50:].mean() < losses[0] - 0.5, "training lowered the loss by more than half a nat",
      detail=f"first {losses[0]:.3f}, last 50 {losses[-50:].mean():.3f}")
claim(losses[-50:].mean() > -true_test.mean(),
      "the flows' loss stays above the true density's (no model beats the truth on average)",
      detail=f"last 50 {losses[-50:].mean():.3f}, true {-true_test.mean():.3f}")
fig, ax = plt.subplots(figsize=(7, 3.2))
smooth = np.convolve(losses, np.ones(25) / 25, mode="valid")
ax.plot(np.arange(12, 12 + len(smooth)), smooth, label="three flows' mean batch loss")
ax.axhline(-true_test.mean(), color="k", ls="--", label="true density (test)")
ax.set(xlabel="training step", ylabel="negative log-likelihood (nats)",
       title="Training loss (running mean of 25 steps)")
ax.legend()
ax.grid(alpha=0.3)
plt.tight_layout()
plt.show()

# %% [markdown]
# ## 5. Evaluation done right
#
# The training grid (2 RK4 steps) is a discretisation, and the network was trained *through*
# it: it may have learned to exploit the grid's error. The model we claim to have is the ODE, so
# we score it with a tight adaptive solve (`dopri5`, $\text{rtol} = 10^{-5}$), and check that
# one against a float64 solve at $\text{rtol} = 10^{-8}$. All three score the same 4,000 test
# points, with `create_graph=False` (no graph kept, see below).

# %% tags=["nbval-ignore-output", "machine-digits"]
def test_log_likelihood(field, x, **solver):
    """Mean test log-likelihood (nats) and the number of evaluations of the dynamics."""
    with torch.no_grad():
        logp, stats = flows.log_prob(field, x, t_end=T_END, create_graph=False,
                                     return_stats=True, **solver)
    return logp.mean().item(), stats.n_fevals


field64 = trainee.select(0).double()  # the same network in float64
on_grid, nfe_grid = test_log_likelihood(field, x_test, method="rk4", step_size=STEP)
tight, nfe_tight = test_log_likelihood(field, x_test, method="dopri5", rtol=1e-5, atol=1e-7)
reference, nfe_ref = test_log_likelihood(field64, x_test.double(), method="dopri5", rtol=1e-8,
                                         atol=1e-10)
print(f"training grid (rk4, 2 steps)   : {on_grid:.3f} nats  ({nfe_grid} evaluations)")
print(f"dopri5, rtol 1e-5, float32     : {tight:.3f} nats  ({nfe_tight} evaluations)")
print(f"dopri5, rtol 1e-8, float64     : {reference:.3f} nats  ({nfe_ref} evaluations)")
print(f"the training grid {'overstates' if on_grid > reference else 'understates'} this model's "
      f"test log-likelihood by {abs(on_grid - reference):.3f} nats")

# %%
claim(abs(tight - reference) < 1e-3,
      "the tight float32 solve agrees with the float64 reference within a thousandth of a nat",
      detail=f"float32 {tight:.5f}, float64 {reference:.5f}")
claim(abs(on_grid - reference) < 0.05,
      "the training grid's score is off the model's by less than 0.05 nats, either way",
      detail=f"grid {on_grid:.4f}, reference {reference:.4f}")

# %% [markdown]
# The grid's score is not the model's. The network was trained *through* the grid's error, so
# the two can differ either way; when the grid overstates the model, the error quietly flatters
# it. Compare the difference with the gaps in the table of section 6: here it is small (the
# claim above bounds it), but nothing guarantees that, and a tight solve is cheap at test time.
# The tight float32 solve agrees with the float64 reference far below anything we compare, so
# the tables below use it. (The number of evaluations an adaptive solver takes depends on the
# field it meets, down to the last bits of float32 arithmetic: it differs between machines.)
#
# **Why `create_graph=False` when evaluating.** With `create_graph=True` each evaluation of the
# dynamics builds a graph of the trace's own backward pass, and the next solver step's input
# depends on it, so the result holds on to *every* step's graph until it is freed. We count the
# autograd nodes the result of a solve keeps alive, on 500 test points:

# %%
def graph_nodes(tensor):
    """How many autograd nodes the tensor's graph holds (0 if it has none)."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or node in seen:
            continue
        seen.add(node)
        stack.extend(next_node for next_node, _ in node.next_functions)
    return len(seen)


nodes = {}  # (create_graph, method) -> (evaluations, graph nodes kept)
for keep_graph in (True, False):
    for solver in (dict(method="rk4", step_size=STEP), dict(method="dopri5", rtol=1e-5, atol=1e-7)):
        logp, stats = flows.log_prob(field, x_test[:500], create_graph=keep_graph,
                                     return_stats=True, **solver)
        nodes[keep_graph, solver["method"]] = (stats.n_fevals, graph_nodes(logp))
        del logp


def node_line(keep_graph, method):
    evaluations, kept = nodes[keep_graph, method]
    return (f"create_graph={keep_graph!s:5}  {method:6}  {evaluations:3d} evaluations -> "
            f"{kept:6d} graph nodes kept")


print(node_line(True, "rk4"))  # a fixed grid: the same count on every machine
print(node_line(False, "rk4"))

# %% tags=["nbval-ignore-output", "machine-digits"]
print(node_line(True, "dopri5"))  # adaptive: its number of steps varies between machines
print(node_line(False, "dopri5"))

# %%
(rk4_evals, rk4_nodes), (dopri_evals, dopri_nodes) = nodes[True, "rk4"], nodes[True, "dopri5"]
claim(dopri_evals > rk4_evals and dopri_nodes > rk4_nodes,
      "with the graph kept, the adaptive solve's more evaluations keep more nodes",
      detail=f"rk4 {rk4_evals} / {rk4_nodes}, dopri5 {dopri_evals} / {dopri_nodes}")
claim(abs((dopri_nodes / dopri_evals) / (rk4_nodes / rk4_evals) - 1) < 0.2,
      "the nodes kept grow in proportion to the evaluations",
      detail=f"per evaluation: rk4 {rk4_nodes / rk4_evals:.1f}, dopri5 {dopri_nodes / dopri_evals:.1f}")
claim(nodes[False, "rk4"][1] == 0 and nodes[False, "dopri5"][1] == 0,
      "without the graph no node is kept, whatever the number of steps")

# %% [markdown]
# With the graph kept, the count grows with every evaluation (and each node holds tensors of
# the batch's size); without it, nothing is kept, whatever the number of steps. Training needs
# the graph (for 8 evaluations); evaluation does not.
#
# ## 6. Honest baselines
#
# A flow is one density model among many. On the same 2,000 training points, in the same table:
#
# - a **single Gaussian** (its maximum-likelihood mean and covariance);
# - **Gaussian mixtures** with 4, 8 and 16 components (scikit-learn's `GaussianMixture`, EM,
#   three seeds each);
# - the flow, three seeds, scored with the tight solve;
# - the **true density**, the ceiling.
#
# All score the same 4,000 test points. Mean test log-likelihood in nats (higher is better);
# "range" is the spread over the three seeds.

# %% tags=["nbval-ignore-output", "machine-digits"]
def describe(scores):
    scores = np.asarray(scores)
    return scores.mean(), scores.min(), scores.max()


rows = [("single Gaussian", 5, describe([GaussianMixture(1).fit(x_train_np).score(x_test_np)]))]
for k in (4, 8, 16):
    scores = [GaussianMixture(k, random_state=seed).fit(x_train_np).score(x_test_np)
              for seed in range(SEEDS)]
    rows.append((f"Gaussian mixture, {k} components", 6 * k - 1, describe(scores)))
flow_scores = [test_log_likelihood(f, x_test, method="dopri5", rtol=1e-5, atol=1e-7)[0]
               for f in fields]
rows.append((f"CNF ({N_STEPS} steps, batch {BATCH})", 4546, describe(flow_scores)))
rows.append(("true density (ceiling)", 0, describe([true_test.mean()])))

lines = [f"{'model':34} {'parameters':>10} {'test LL':>8} {'seed range':>17} {'gap to true':>12}"]
for name, n_params, (mean, low, high) in rows:
    spread = f"[{low:.3f}, {high:.3f}]" if high > low else "-"
    lines.append(f"{name:34} {n_params:>10} {mean:>8.3f} {spread:>17} "
                 f"{true_test.mean() - mean:>12.3f}")
print("\n".join(lines))

# %%
flow_mean, flow_low, flow_high = rows[-2][2]
mixtures = {k: row[2] for k, row in zip((4, 8, 16), rows[1:4], strict=True)}  # k: (mean, low, high)
claim(mixtures[4][2] < flow_low, "the 4-component mixture loses to the flow at every seed",
      detail=f"mixture's best {mixtures[4][2]:.3f}, flow's worst {flow_low:.3f}")
claim(min(mixtures[8][1], mixtures[16][1]) > flow_high,
      "the 8- and 16-component mixtures beat the flow at every seed",
      detail=f"mixtures' worst {mixtures[8][1]:.3f} / {mixtures[16][1]:.3f}, "
             f"flow's best {flow_high:.3f}")
claim(true_test.mean() - mixtures[16][1] < 0.05,
      "the 16-component mixture sits within 0.05 nats of the true density",
      detail=f"gap {true_test.mean() - mixtures[16][1]:.3f}")
claim(flow_high < true_test.mean(), "no flow beats the true density",
      detail=f"flow's best {flow_high:.3f}, true {true_test.mean():.3f}")

# %% [markdown]
# **Reading the table.** The orderings that survive the seed spread are checked above. All models
# score the *same* test points, so the test sample's own noise (the standard error of 0.012 printed
# in section 3) shifts every row alike and does not reorder them. At this budget (1,000 Adam steps
# on batches of 128, the time printed in section 4), EM on a Gaussian mixture is hard to beat in two
# dimensions: it is fast, and a 16-component mixture already sits within a few hundredths of a nat
# of the ceiling, with far fewer parameters than the flow. Where a mixture beats the flow here, that
# is the honest result at this budget, not a failure of the measurement. (How far does the gap close
# with more training? Set `N_STEPS = 2000`, rerun, and see; it doubles the training time.)
#
# **When is a flow worth it, then?** When the data are high-dimensional (a mixture needs a
# number of components that grows quickly with the dimension, and each full covariance has
# $D(D+1)/2$ entries), when the data lie near a smooth curved manifold that one smooth invertible
# map can unfold, and when you need *both* exact densities and fast sampling from one model, with
# a free-form network. FFJORD (Grathwohl et al. 2019) trains such flows on images.
#
# ## 7. Sampling: solve backwards
#
# To sample, draw $z(T) \sim \mathcal N(0, I)$ and solve $\dot z = f(z, t)$ **backwards** from
# $T$ to 0 (`flows.sample`; no trace needed, since a sample needs no density). The same solve
# with output at intermediate times gives the slider below.

# %%
seed_samples = [flows.sample(f, 2000, generator=torch.Generator().manual_seed(3), t_end=T_END).numpy()
                for f in fields]  # 2,000 samples of each of the three flows
samples = seed_samples[0]
frames = flows.morph_frames(field, t_end=T_END, n_frames=11, grid=60, lim=LIM, n_samples=1000)

# %%
fig, axes = plt.subplots(1, 3, figsize=(12, 3.8))
axes[0].scatter(x_test_np[:2000, 0], x_test_np[:2000, 1], s=2, c="0.3")
axes[0].set(title="2,000 test points (true data)")
axes[1].scatter(samples[:, 0], samples[:, 1], s=2, c="C3")
axes[1].set(title="2,000 samples of the flow")
axes[2].imshow(frames["density"][-1], origin="lower", extent=LIM, aspect="auto", cmap="viridis")
axes[2].set(title="the flow's density")
for ax in axes:
    ax.set(xlim=LIM[:2], ylim=LIM[2:], xlabel="$x_1$", ylabel="$x_2$")
plt.tight_layout()
plt.show()

# %% [markdown]
# **Between the moons.** The flow does not leave the gap between the moons empty: a broad smear
# of faint density (and of samples) fills it and joins the two moons, and the moons themselves
# are blurrier than the data's. Two causes are mixed in that picture.
#
# - **Topology.** The flow is a continuous, invertible map of the plane (a homeomorphism); it
#   turns the one connected blob of the Gaussian into the data, and a continuous map cannot tear
#   one connected piece into two disconnected ones. It can only stretch the connection thin,
#   which takes a large, fast-changing field. This is the same fact as lesson 02's "trajectories
#   never cross" (section 6), seen on densities; Dupont et al. (2019) discuss it for Neural ODEs
#   in general. So *some* density between the moons is unavoidable for any flow.
# - **Underfitting.** How *much* is another matter: at this budget the flow is far from the
#   truth everywhere (section 6's table), and a blurry fit also puts mass off the moons.
#
# A model without the topological constraint tells them apart: a 16-component Gaussian mixture
# is a sum of separate bumps, free to leave the gap empty. We measure the share of points farther
# than 0.3 (three noise widths) from every centre of the true mixture, for the test data, for
# samples of the mixtures of section 6, and for samples of each of the three flows.

# %% tags=["nbval-ignore-output", "machine-digits"]
centres = moons.centres


def far_share(points):
    distance = np.sqrt(((points[:, None, :] - centres[None, :, :]) ** 2).sum(-1)).min(axis=1)
    return (distance > 0.3).mean()


mixture_far = [far_share(GaussianMixture(16, random_state=seed).fit(x_train_np).sample(2000)[0])
               for seed in range(SEEDS)]
flow_far = [far_share(points) for points in seed_samples]
data_far = far_share(x_test_np[:2000])
print(f"far from both moons: true data {100 * data_far:.1f} %, 16-component mixtures "
      f"{', '.join(f'{100 * x:.1f}' for x in mixture_far)} %, flows "
      f"{', '.join(f'{100 * x:.1f}' for x in flow_far)} % (seeds 0, 1, 2)")

# %%
claim(min(flow_far) > 2 * max(mixture_far + [data_far]),
      "every flow puts more than twice as many samples far from the moons as the data and the "
      "mixtures do", detail=f"flows {flow_far}, mixtures {mixture_far}, data {data_far}")

# %% [markdown]
# The mixtures put about as few samples far from the moons as the data themselves: a good fit
# without the topological constraint leaves the gap nearly empty. Every flow puts several times
# more there. That excess is topology and underfitting together, and this experiment does not
# split it: a flow trained for longer would show how much of it training removes (set
# `N_STEPS = 2000` and measure again), but no amount of training makes it zero.

# %% [markdown]
# ### Slider: from the Gaussian to the moons
# Drag $k$ from 0 to 10. Frame $k$ is time $t_k = T(1 - k/10)$: at $k = 0$ the base density and
# 1,000 draws from it at $t = T$; at $k = 10$ the learned density and the samples at $t = 0$ (grey:
# training data). All frames were computed above (`flows.morph_frames`: one solve per frame for
# the density, one backward solve with 11 output times for the samples), so the slider only
# redraws (`flows.MorphView`: one persistent figure, only the image and the points change).

# %% tags=["nbval-ignore-output", "slider"]
_ = interact(flows.MorphView(frames, data=x_train_np[:1000]).show,
             k=IntSlider(value=10, min=0, max=10, description="frame k"))

# %% [markdown]
# ## 8. Hutchinson's trace estimator
#
# The exact trace needs one backward pass per dimension: $D$ of them in $D$ dimensions, at every
# evaluation of the dynamics. For images ($D$ in the thousands) that is out of reach. FFJORD
# (Grathwohl et al. 2019) replaces it by **Hutchinson's estimator** (Hutchinson 1989): for a
# random vector $\varepsilon$ with $\mathbb E[\varepsilon] = 0$ and
# $\mathbb E[\varepsilon\varepsilon^\top] = I$ (Rademacher $\pm1$ entries, or standard normal),
#
# $$\operatorname{tr}J = \mathbb E\left[\varepsilon^\top J \varepsilon\right],$$
#
# and $\varepsilon^\top J$ is **one** vector-Jacobian product, whatever $D$. It is unbiased but
# noisy. In 2-D with Rademacher probes, $\varepsilon^\top J\varepsilon = \operatorname{tr}J +
# \varepsilon_1\varepsilon_2(J_{12} + J_{21})$, so the estimate is
# $\operatorname{tr}J \pm (J_{12} + J_{21})$, each with probability ½: its variance is
# $(J_{12} + J_{21})^2$. With Gaussian probes it is larger, $2J_{11}^2 + 2J_{22}^2 + (J_{12} + J_{21})^2$.
#
# ### Exercise 8.3 — Hutchinson's estimator (3 points)
# Write `hutchinson_estimate(f, z, noise)`: `f`, `z` as in Exercise 8.1, `noise` of shape
# `(batch, D)` holding one probe $\varepsilon_b$ per row. Return $\varepsilon_b^\top
# \frac{\partial f_b}{\partial z_b}\varepsilon_b$ for every row, shape `(batch,)`, with a single
# call of `torch.autograd.grad` and the graph kept (`create_graph=True`).

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex08_hutchinson_estimate-answer"}
def hutchinson_estimate(f, z, noise):
    """eps^T (df/dz) eps for each row; f, z, noise of shape (batch, D) -> (batch,)."""
    ### BEGIN SOLUTION
    (eps_jacobian,) = torch.autograd.grad(f, z, noise, create_graph=True)
    return (eps_jacobian * noise).sum(dim=1)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex08_hutchinson_estimate", "points": 3}
hutchinson_estimate = ex.hutchinson_estimate.check()

# %% [markdown]
# **Unbiased? Measured.** On 100 test points, at $t = 0.5$, with the trained field: 1,000 probes
# per point. The mean of the estimates should approach the exact trace within its standard
# error, and the spread of one estimate should be $|J_{12} + J_{21}|$ (Rademacher).

# %% tags=["nbval-ignore-output", "machine-digits"]
N_POINTS, N_PROBES = 100, 1000
points = x_test[:N_POINTS]
z_rep = points.repeat(N_PROBES, 1).requires_grad_(True)  # (N_PROBES * N_POINTS, 2)
probe_gen = torch.Generator().manual_seed(4)
results = {}
for kind in ("rademacher", "gaussian"):
    if kind == "rademacher":
        noise = torch.randint(0, 2, z_rep.shape, generator=probe_gen).float() * 2 - 1
    else:
        noise = torch.randn(z_rep.shape, generator=probe_gen)
    estimates = hutchinson_estimate(field(0.5, z_rep), z_rep, noise).detach()
    results[kind] = estimates.reshape(N_PROBES, N_POINTS)

z_pts = points.clone().requires_grad_(True)
exact = jacobian_trace(field(0.5, z_pts), z_pts).detach()
jacobians = torch.stack([torch.autograd.functional.jacobian(lambda p: field(0.5, p[None])[0], z)
                         for z in points])  # (N_POINTS, 2, 2)
j11, j12, j21, j22 = jacobians[:, 0, 0], jacobians[:, 0, 1], jacobians[:, 1, 0], jacobians[:, 1, 1]
predicted_std = {"rademacher": (j12 + j21).abs(),
                 "gaussian": (2 * j11**2 + 2 * j22**2 + (j12 + j21) ** 2).sqrt()}
lines, within, spreads = [], {}, {}
for kind, est in results.items():
    bias = est.mean(dim=0) - exact  # per point, from 1,000 probes
    standard_error = est.std(dim=0) / math.sqrt(N_PROBES)
    z_scores = (bias / standard_error.clamp_min(1e-12)).numpy()
    spread = est.std(dim=0)
    within[kind], spreads[kind] = (np.abs(z_scores) < 3).mean(), spread
    lines.append(f"{kind:10}: mean estimate minus exact trace, averaged over the points "
                 f"{bias.mean().item():+.4f} (exact traces average {exact.mean().item():+.2f}); "
                 f"points within 3 standard errors: {(np.abs(z_scores) < 3).mean():.0%}")
    lines.append(f"{'':10}  spread of one estimate: median {spread.median().item():.2f}, "
                 f"largest {spread.max().item():.2f};  formula: median "
                 f"{predicted_std[kind].median().item():.2f}, "
                 f"largest {predicted_std[kind].max().item():.2f}")
print("\n".join(lines))

# %%
claim(min(within.values()) >= 0.95,
      "for both kinds of probe, the mean estimate is within 3 standard errors of the exact trace "
      "at 95 % of the points or more", detail=f"{within}")
for kind, spread in spreads.items():
    for stat in (torch.median, torch.max):
        measured, formula = stat(spread).item(), stat(predicted_std[kind]).item()
        claim(abs(measured / formula - 1) < 0.1,
              f"{kind}: the measured spread matches the formula ({stat.__name__}, within 10 %)",
              detail=f"measured {measured:.3f}, formula {formula:.3f}")
claim(spreads["gaussian"].median() > spreads["rademacher"].median(),
      "Gaussian probes are noisier than Rademacher ones",
      detail=f"medians {spreads['gaussian'].median():.3f}, {spreads['rademacher'].median():.3f}")
ratio = spreads["rademacher"].median().item() / exact.abs().median().item()
claim(0.1 < ratio < 10, "one estimate's spread is of the same order as the trace itself",
      detail=f"median spread / median |trace| = {ratio:.2f}")

# %% [markdown]
# The estimator is unbiased (the means agree with the exact traces within their standard
# errors), and the measured spread matches the formulas. The spread of *one* estimate is of the
# same order as the trace itself, and Gaussian probes are noisier than Rademacher ones, as the
# formulas say. That noise enters the log-density.
#
# **Per-point spread of the log-density.** In a solve, FFJORD draws one probe per point and
# keeps it for the whole solve. We score 500 test points 20 times with fresh probes (on the
# training grid, against the exact trace on the same grid):

# %% tags=["nbval-ignore-output", "machine-digits"]
x_500 = x_test[:500]
with torch.no_grad():
    exact_logp = flows.log_prob(field, x_500, method="rk4", step_size=STEP, create_graph=False)
    draws = []
    for _ in range(20):
        noise = torch.randint(0, 2, x_500.shape, generator=probe_gen).float() * 2 - 1
        draws.append(flows.log_prob(field, x_500, method="rk4", step_size=STEP, trace="hutchinson",
                                    noise=noise, create_graph=False))
draws = torch.stack(draws)  # (20, 500)
per_point_std = draws.std(dim=0)
print(f"mean log-likelihood: exact trace {exact_logp.mean().item():.3f}, Hutchinson (average of "
      f"20 x 500 estimates) {draws.mean().item():.3f} ± {draws.std().item() / math.sqrt(draws.numel()):.3f}")
print(f"spread of one point's Hutchinson log-density: median {per_point_std.median().item():.2f} "
      f"nats, largest {per_point_std.max().item():.2f} nats")

# %%
standard_error = draws.std().item() / math.sqrt(draws.numel())
claim(abs(draws.mean().item() - exact_logp.mean().item()) < 3 * standard_error,
      "on average Hutchinson gives the exact trace's log-likelihood (within 3 standard errors)",
      detail=f"exact {exact_logp.mean().item():.4f}, Hutchinson {draws.mean().item():.4f} "
             f"± {standard_error:.4f}")
claim(per_point_std.median().item() > flow_high - flow_low and
      per_point_std.median().item() > mixtures[16][0] - flow_mean,
      "one point's Hutchinson log-density scatters by more than the flow's seed range and its "
      "gap to the 16-component mixture",
      detail=f"median spread {per_point_std.median().item():.3f}")

# %% [markdown]
# On average Hutchinson gives the right log-likelihood, so a mini-batch loss built from it is an
# unbiased estimate of the exact one and training still works. But one point's estimated
# log-density scatters by the spread printed above (compare it with the gaps between the models
# in section 6!), so for *scoring* individual points (anomaly detection, say) use the exact
# trace, or average many probes.
#
# **What does it save?** Time per training step, the two traces side by side (the same batch
# of 128 points, one network, 2 RK4 steps; ten steps each, interleaved):

# %%
def time_training_step(trace, repeats=10):
    net = VectorField(2, hidden=64, layers=2)
    batch = x_train[:128]
    noise = torch.randint(0, 2, batch.shape, generator=probe_gen).float() * 2 - 1
    start = time.perf_counter()
    for _ in range(repeats):
        logp = flows.log_prob(net, batch, method="rk4", step_size=STEP, trace=trace,
                              noise=noise if trace == "hutchinson" else None)
        (-logp.mean()).backward()
    return (time.perf_counter() - start) / repeats


seconds = {"exact": [], "hutchinson": []}
for _ in range(3):
    for trace in seconds:
        seconds[trace].append(time_training_step(trace))

# %% tags=["nbval-ignore-output", "machine-digits"]
exact_ms, hutch_ms = 1000 * min(seconds["exact"]), 1000 * min(seconds["hutchinson"])
print(f"one training step: exact trace {exact_ms:.1f} ms, Hutchinson {hutch_ms:.1f} ms "
      f"(exact / Hutchinson = {exact_ms / hutch_ms:.2f})")

# %%
claim(exact_ms / hutch_ms < 2.5,
      "in 2-D Hutchinson saves less than a factor 2.5 per training step",
      detail=f"exact {exact_ms:.2f} ms, Hutchinson {hutch_ms:.2f} ms")

# %% [markdown]
# In 2-D the exact trace needs only two backward passes, Hutchinson one, and the rest of the step
# (the network, the solver, the backward pass of the loss) is the same: the saving is modest
# (the ratio printed above), bought with a noisy loss.
#
# In $D$ dimensions the exact trace needs $D$ backward passes and Hutchinson still one. Measured
# on one evaluation of the dynamics (`VectorField(D)`, 128 points, no graph kept), as $D$ grows:

# %%
def time_trace(dim, trace, repeats=5):
    """Best wall time of one field evaluation plus its trace, exact or Hutchinson."""
    torch.manual_seed(0)
    net = VectorField(dim, hidden=64, layers=2)
    z = torch.randn(128, dim, requires_grad=True)
    noise = torch.randint(0, 2, z.shape, generator=probe_gen).float() * 2 - 1
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        f = net(0.5, z)
        if trace == "exact":
            flows.exact_trace(f, z, create_graph=False)
        else:
            flows.hutchinson_trace(f, z, noise, create_graph=False)
        best = min(best, time.perf_counter() - start)
    return best


trace_seconds = {dim: (time_trace(dim, "exact"), time_trace(dim, "hutchinson"))
                 for dim in (2, 8, 32, 128)}

# %% tags=["nbval-ignore-output", "machine-digits"]
for dim, (exact_s, hutch_s) in trace_seconds.items():
    print(f"D = {dim:3d}: exact trace {1000 * exact_s:6.2f} ms, Hutchinson {1000 * hutch_s:5.2f} ms "
          f"(exact / Hutchinson = {exact_s / hutch_s:5.1f})")

# %%
(exact_2, hutch_2), (exact_128, hutch_128) = trace_seconds[2], trace_seconds[128]
claim(exact_128 > 8 * exact_2, "the exact trace's cost grows with D",
      detail=f"D = 2: {1000 * exact_2:.2f} ms, D = 128: {1000 * exact_128:.2f} ms")
claim(hutch_128 < 4 * hutch_2, "Hutchinson's hardly does",
      detail=f"D = 2: {1000 * hutch_2:.2f} ms, D = 128: {1000 * hutch_128:.2f} ms")
claim(exact_128 > 8 * hutch_128, "at D = 128 Hutchinson is many times cheaper",
      detail=f"exact {1000 * exact_128:.2f} ms, Hutchinson {1000 * hutch_128:.2f} ms")

# %% [markdown]
# The exact trace's cost grows with $D$, Hutchinson's hardly does: for a 28×28 image
# ($D = 784$) it would be 784 backward passes against one. That is where Hutchinson pays, despite
# its noise; in two dimensions, use the exact trace.
#
# ## 9. Check yourself
#
# 1. The field of a flow is $f(z) = -z$ (everything contracts towards 0). Does the density of
#    $z(t)$ rise or fall along a trajectory, and at what rate? *(Rises: $\operatorname{tr}J =
#    -D$, so $\frac{d}{dt}\log p = +D$.)*
# 2. Why score the test set with a tight adaptive solve, when training used two RK4 steps?
#    *(The model is the ODE; the grid's error is the solver's, and the network may have learned
#    to exploit it. Section 5 measured the difference.)*
# 3. A 16-component mixture has 95 parameters, the flow 4,546. If the mixture won in your
#    table, name two settings in which you would still pick the flow.
# 4. Why can't the flow put exactly zero density between the moons? And why can a mixture?

# %% [markdown]
# ## Before you hand in
# The cell below judges every exercise of this lesson on the answers you wrote, as the
# instructor's grader will: the cases your check cells ran and the hidden ones (named, never
# shown). `make check-my-work` does the same for all your notebooks from a terminal.

# %%
from utils.exercises import self_check

self_check("lesson08")

# %% [markdown]
# ## Key takeaways
# - For $\dot z = f(z, t)$ the log-density changes at rate $-\operatorname{tr}\partial f/\partial z$:
#   a trace, not a determinant, so the field can be any smooth network.
# - Solve state and log-density together, stacked in one tensor $[z, \delta]$; score data by
#   solving to the base, sample by solving back from it.
# - Train on a cheap fixed grid with the graph kept; evaluate with a tight adaptive solve and no
#   graph (`create_graph=False`), and report what the grid overstated.
# - Compare with honest baselines and the true density's ceiling, over seeds: in 2-D and at a
#   small budget, Gaussian mixtures are strong (see the table for where the flow landed).
# - A continuous flow cannot disconnect mass: it always leaves some density between the moons
#   (how much also depends on how well it fits).
# - Hutchinson's estimator is unbiased with one vector-Jacobian product; its per-point noise is
#   large, and it pays only when $D$ is large.
#
# ## Further reading
# - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
#   Equations", NeurIPS 2018, arXiv:1806.07366 — section 4 and Theorem 1: continuous
#   normalizing flows.
# - W. Grathwohl, R. T. Q. Chen, J. Bettencourt, I. Sutskever, D. Duvenaud, "FFJORD: Free-form
#   Continuous Dynamics for Scalable Reversible Generative Models", ICLR 2019, arXiv:1810.01367 —
#   Hutchinson's estimator in a CNF, and flows on images.
# - M. F. Hutchinson, "A stochastic estimator of the trace of the influence matrix for Laplacian
#   smoothing splines", Communications in Statistics — Simulation and Computation 18(3), 1989.
# - L. Dinh, J. Sohl-Dickstein, S. Bengio, "Density estimation using Real NVP", ICLR 2017,
#   arXiv:1605.08803 — a discrete flow with triangular Jacobians.
# - G. Papamakarios, E. Nalisnick, D. J. Rezende, S. Mohamed, B. Lakshminarayanan, "Normalizing
#   Flows for Probabilistic Modeling and Inference", JMLR 22(57), 2021, arXiv:1912.02762 — a
#   review of flows, discrete and continuous.
# - E. Dupont, A. Doucet, Y. W. Teh, "Augmented Neural ODEs", NeurIPS 2019, arXiv:1904.01681 —
#   what ODE flows cannot represent, and why.
# - F. Pedregosa et al., "Scikit-learn: Machine Learning in Python", JMLR 12, 2011 — the
#   `GaussianMixture` baseline.
