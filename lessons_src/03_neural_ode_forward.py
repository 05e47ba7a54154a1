# ---
# jupyter:
#   kernelspec:
#     display_name: Neural ODE course (Python 3)
#     language: python
#     name: neural-ode-course
# ---

# %% [markdown]
# # Lesson 03 — The Neural ODE forward pass
#
# **Why this matters.** Lesson 02 showed that a residual network is Euler's method on
# `dh/dt = f(h)`. A Neural ODE keeps the network `f` and hands the stepping to an ODE solver:
# the forward pass *is* an ODE solve. This lesson builds that forward pass piece by piece, looks
# at what the weights of random dynamics do to the cost, measures what the choice of solver
# costs and buys, and ends by training a first Neural ODE through the solver.
#
# **Learning objectives.** After this lesson you can:
# - [ ] write the dynamics network `f_theta(t, h)` as an `nn.Module` (an MLP with tanh and an
#   optional time input);
# - [ ] write any explicit Runge–Kutta step from its Butcher tableau, for batched torch tensors, and a forward pass that returns the trajectory;
# - [ ] use `utils.models.ODEFunc` and `NeuralODE`, on single states and batches;
# - [ ] measure how the size of the weights sets the speed of the dynamics and the cost (NFE);
# - [ ] read a 2-D Neural ODE's vector field and its trajectories;
# - [ ] choose a solver and tolerance from measured cost (function evaluations) and accuracy;
# - [ ] cross-check our solver against torchdiffeq's `odeint`.
# - [ ] train a small Neural ODE by backpropagating through the solver, and measure what
#   backpropagation stores.
#
# **Prerequisites.** Lessons 01–02; PyTorch basics (`nn.Module`, `nn.Linear`, tensors, batches).
#
# **Time.** About 55 minutes. Each *Exercise* is followed by a check cell that answers at once.
# Stuck? `ex.<name>.hint()` gives a hint, `ex.<name>.solution()` shows a solution.

# %%
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torchdiffeq

from utils import plots
from utils.claims import claim, magnitude
from utils.exercises import lesson03 as ex
from utils.models import NeuralODE, ODEFunc
from utils.solvers import odeint
from utils.tableaus import RK4
from utils.training import train
from utils.widgets import show_solver_cost, solver_cost_data

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny networks: one thread is fastest and gives reproducible sums

# %% [markdown]
# ## 1. The dynamics: a small network `f_theta(t, h)`
#
# **Intuition.** In a Neural ODE the network does not output the next state; it outputs the
# *velocity* of the state, `dh/dt`. Any network mapping a state to a vector of the same size
# will do. A smooth activation (tanh) keeps the dynamics smooth, which adaptive solvers need to
# take large steps. Feeding the time `t` in as an extra input lets the velocity change over time,
# like layers of a ResNet that do not share weights.
#
# **Math.** With one hidden layer of width $m$ and the time appended to the input:
#
# $$f_\theta(t, h) = W_2 \tanh\!\big(W_1 [h;\, t] + b_1\big) + b_2,\qquad
# W_1 \in \mathbb{R}^{m \times (d+1)},\; W_2 \in \mathbb{R}^{d \times m}.$$
#
# **Code.** `utils.models.ODEFunc(dim, hidden=..., time_input=...)` is this network; its
# `net` is an `nn.Sequential` of `Linear`, `Tanh`, `Linear`:

# %%
func = ODEFunc(2, hidden=8, time_input=True)
print(func)
print("parameters:", sum(p.numel() for p in func.parameters()))

# %% [markdown]
# ### Exercise 3.1 — the forward pass of the dynamics network
#
# Write `odefunc_forward(t, h, linear1, linear2)`, the forward pass of `ODEFunc` with
# `time_input=True`: append `t` as the **last** input column (one value per state), apply
# `linear1`, `tanh`, `linear2`. `h` has shape `(..., dim)` (one state or a batch); `t` is a
# number or a 0-d tensor. `ex.odefunc_forward.hint()` gives a hint.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex03_odefunc_forward-answer"}
def odefunc_forward(t, h, linear1, linear2):
    """linear2(tanh(linear1([h, t]))) for h of shape (..., dim); returns shape (..., dim)."""
    ### BEGIN SOLUTION
    t_column = torch.as_tensor(t, dtype=h.dtype).expand(*h.shape[:-1], 1)
    return linear2(torch.tanh(linear1(torch.cat((h, t_column), dim=-1))))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex03_odefunc_forward", "points": 2}
odefunc_forward = ex.odefunc_forward.check()

# %% [markdown]
# **Check.** `odefunc_forward` (yours if it passed, else the reference: the first line says
# which) against `ODEFunc` itself, on a batch of three states at two times:

# %%
h_batch = torch.tensor([[0.5, -1.0], [0.0, 0.3], [2.0, 1.0]])
print("ran:", "your odefunc_forward" if odefunc_forward.__module__ == "__main__"
      else "the reference odefunc_forward (yours has not passed yet)")
gaps_to_odefunc = []
with torch.no_grad():
    for t_now in (0.0, 1.5):
        mine = odefunc_forward(t_now, h_batch, func.net[0], func.net[2])
        gaps_to_odefunc.append((mine - func(t_now, h_batch)).abs().max().item())
        print(f"t = {t_now}: largest difference to ODEFunc {magnitude(gaps_to_odefunc[-1])}")
claim(max(gaps_to_odefunc) < 1e-6, "odefunc_forward and ODEFunc agree up to float32 rounding",
      detail=f"largest differences {gaps_to_odefunc}")

# %% [markdown]
# ## 2. One solver step in torch
#
# **Intuition.** The solver only ever calls `f_theta(t, h)` and combines the results with `+` and
# `*`. Written with torch operations, the whole solve is a computation graph, so autograd can
# differentiate the final state with respect to the network's weights (Lesson 04 looks at the
# cost of that, and the adjoint alternative).
#
# **Math.** Lesson 01 wrote RK4 by hand. Every explicit Runge–Kutta method has the same shape;
# only its coefficients differ. With $s$ stages, nodes $c_i$, a strictly lower-triangular matrix
# $a_{ij}$ and weights $b_i$ (the method's *Butcher tableau*):
#
# $$k_i = f\Big(t + c_i\,\Delta t,\; h + \Delta t \sum_{j<i} a_{ij} k_j\Big),\quad i = 1..s,
# \qquad h_{\text{next}} = h + \Delta t \sum_{i} b_i k_i .$$
#
# RK4 is $c = (0, \tfrac12, \tfrac12, 1)$, rows $a = (\,), (\tfrac12), (0, \tfrac12), (0, 0, 1)$ and
# $b = (\tfrac16, \tfrac13, \tfrac13, \tfrac16)$: each stage happens to use only the slope just
# before it. Kutta's third-order method does not: its third stage uses $-k_1 + 2k_2$. The
# course's solver (`utils.solvers`) stores Euler, midpoint, RK4 and Dormand–Prince exactly like
# this (`utils.tableaus`) and runs them all with one loop.
#
# ### Exercise 3.2 — any Runge–Kutta step, from its tableau
#
# Write `tableau_step(func, t, h, dt, tableau)` for a tensor `h` of any shape (e.g. a batch
# `(batch, dim)`): `tableau.c`, `tableau.a` (row `i` holds `i` numbers) and `tableau.b` are
# tuples of floats. Keep it differentiable (new tensors, no in-place updates, no `no_grad`): the
# next cell backpropagates through it. `ex.tableau_step.hint()` gives a hint.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex03_tableau_step-answer"}
def tableau_step(func, t, h, dt, tableau):
    """One explicit Runge-Kutta step of dh/dt = func(t, h) from (t, h) with step dt."""
    ### BEGIN SOLUTION
    slopes = []
    for c_i, a_i in zip(tableau.c, tableau.a, strict=True):
        stage = h
        for a_ij, k_j in zip(a_i, slopes, strict=False):
            stage = stage + dt * a_ij * k_j
        slopes.append(func(t + c_i * dt, stage))
    step = h
    for b_i, k_i in zip(tableau.b, slopes, strict=True):
        step = step + dt * b_i * k_i
    return step
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex03_tableau_step", "points": 2}
tableau_step = ex.tableau_step.check()

# %% [markdown]
# **Check.** Gradients flow through the step: the derivative of a loss on the stepped state with
# respect to the network's weights, by autograd and by a central finite difference on one weight
# (float64, so the two agree to many digits):

# %%
func64 = ODEFunc(2, hidden=8, time_input=True).double()
h_start = torch.tensor([[0.5, -1.0], [1.0, 0.2]], dtype=torch.float64)
weight = func64.net[0].weight


def loss_of_step():
    return tableau_step(func64, 0.0, h_start, 0.5, RK4).pow(2).sum()


loss_of_step().backward()
autograd_value = weight.grad[0, 0].item()
eps = 1e-6
with torch.no_grad():
    weight[0, 0] += eps
    up = loss_of_step().item()
    weight[0, 0] -= 2 * eps
    down = loss_of_step().item()
    weight[0, 0] += eps
finite_difference = (up - down) / (2 * eps)
print(f"d loss / d W1[0, 0]: autograd {autograd_value:.6f}, finite difference "
      f"{finite_difference:.6f}")

# %% [markdown]
# ## 3. The forward pass returns a trajectory
#
# **Intuition.** A ResNet gives you its final layer's output; a Neural ODE can give you the state
# at *any* times you ask for, because the solver passes through them. Asking for the whole
# trajectory is how Neural ODEs fit time series; asking only for `h(T)` makes it a drop-in layer.
#
# ### Exercise 3.3 — a forward pass that returns the trajectory
#
# Write `neural_ode_forward(func, h0, t, n_sub)`: for output times `t` (a 1-D tensor, `t[0]` the
# time of `h0`), return the states at all times stacked into shape `(len(t), *h0.shape)`, the
# first being `h0`. Between consecutive output times take `n_sub` equal RK4 steps with your
# `tableau_step(func, t, h, dt, RK4)` from Exercise 3.2 (`RK4` is imported at the top). The times
# need not be evenly spaced.
# `ex.neural_ode_forward.hint()` gives a hint.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex03_neural_ode_forward-answer"}
def neural_ode_forward(func, h0, t, n_sub):
    """States at the times t, shape (len(t), *h0.shape): n_sub RK4 steps per interval of t."""
    ### BEGIN SOLUTION
    states = [h0]
    h = h0
    for i in range(len(t) - 1):
        dt = (t[i + 1] - t[i]) / n_sub
        for j in range(n_sub):
            h = tableau_step(func, t[i] + j * dt, h, dt, RK4)
        states.append(h)
    return torch.stack(states)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex03_neural_ode_forward", "points": 3}
neural_ode_forward = ex.neural_ode_forward.check()

# %% [markdown]
# **Check.** The course's `NeuralODE` module does the same with `method="rk4"` and a step size;
# with the default `method="dopri5"` it chooses its own steps. Same dynamics (the float64 network
# from the gradient check), same times:

# %%
def difference(a, b):
    """Largest absolute difference of two tensors, as a float."""
    return (a - b).abs().max().item()


t_out = torch.linspace(0.0, 2.0, 5, dtype=torch.float64)
h0_two = torch.tensor([[1.0, 0.0], [-0.5, 0.5]], dtype=torch.float64)
with torch.no_grad():
    mine = neural_ode_forward(func64, h0_two, t_out, 4)
    course_rk4 = NeuralODE(func64, t_out, method="rk4", step_size=0.125)(h0_two)
    course_dopri5 = NeuralODE(func64, t_out, rtol=1e-10, atol=1e-12)(h0_two)
print("trajectory shape:", tuple(mine.shape), "= (len(t), batch, dim)")
# Which functions ran: yours if they passed their checks, else the course's reference solutions.
ran = ("your neural_ode_forward and tableau_step"
       if neural_ode_forward.__module__ == "__main__" and tableau_step.__module__ == "__main__"
       else "the reference solutions (yours have not passed yet)")
print("ran:", ran)
same_rk4 = difference(mine, course_rk4)
print("neural_ode_forward vs NeuralODE(rk4, step 0.125):", magnitude(same_rk4, floor=1e-10))
print("neural_ode_forward vs NeuralODE(dopri5, rtol 1e-10), i.e. RK4's error:",
      f"{difference(mine, course_dopri5):.1e}")
claim(same_rk4 < 1e-10, "neural_ode_forward and NeuralODE with RK4 give the same numbers "
      "up to rounding", detail=f"largest difference {same_rk4:.1e}")

# %% [markdown]
# ## 4. Random dynamics: the weights set the speed, and the cost
#
# **Intuition.** Before training, $f_\theta$ is a random smooth vector field. How fast it varies
# is set by the size of its weights, and an adaptive solver must take small steps where the
# field varies fast. So the cost of a Neural ODE's forward pass is not fixed by its architecture:
# the *weights* decide it, and training, which changes the weights, changes the cost too.
#
# **Math.** For $f(h) = W_2 \tanh(W_1 h + b_1) + b_2$ the Jacobian is
# $\partial f/\partial h = W_2\, \operatorname{diag}(\tanh'(W_1 h + b_1))\, W_1$. Scaling every
# parameter by $s$ scales it by up to $s^2$ (less where tanh saturates). Its largest eigenvalue
# magnitude $\rho$ is the rate at which nearby trajectories separate or merge; an explicit
# solver needs steps of about $1/\rho$ or smaller to follow that, so we expect NFE to grow with
# $\rho$.
#
# **Code.** `ODEFunc(2, hidden=32)` in float64 with every parameter multiplied by
# $s \in \{0.5, 1, 2, 4, 8\}$, three random draws (seeds) per scale; dopri5 at rtol 1e-6 on
# $t \in [0, 5]$ from 16 random starts in one batch. For each: the NFE, and $\rho$, the largest
# eigenvalue magnitude of the Jacobian at the starts (`torch.func.jacrev`). Adaptive step counts
# on fast dynamics differ a little from machine to machine (the last digits of the arithmetic
# decide some accept/reject choices): the figures are yours, the checks after the figure hold
# everywhere.

# %% tags=["nbval-ignore-output", "machine-digits"]
scales = [0.5, 1.0, 2.0, 4.0, 8.0]
t_scale = torch.linspace(0.0, 5.0, 51, dtype=torch.float64)
nfe_by_scale, rho_by_scale, paths_by_scale = {}, {}, {}
for scale in scales:
    nfe_by_scale[scale], rho_by_scale[scale] = [], []
    for seed in range(3):
        torch.manual_seed(seed)
        f_random = ODEFunc(2, hidden=32).double()
        with torch.no_grad():
            for p in f_random.parameters():
                p.mul_(scale)
            starts_random = torch.randn(16, 2, dtype=torch.float64)
            paths, st = odeint(f_random, starts_random, t_scale, rtol=1e-6, atol=1e-8,
                               return_stats=True)
        jacobians = torch.func.vmap(torch.func.jacrev(lambda h, f=f_random: f(0.0, h)))(
            starts_random)
        rho = torch.linalg.eigvals(jacobians).abs().max().item()
        nfe_by_scale[scale].append(st.n_fevals)
        rho_by_scale[scale].append(rho)
        if seed == 0:
            paths_by_scale[scale] = paths.detach()
print("scale s   NFE: mean [min, max] over 3 seeds   largest |eigenvalue| of df/dh: mean")
for scale in scales:
    nfes = nfe_by_scale[scale]
    print(f"{scale:7.1f}   {sum(nfes) / 3:6.0f} [{min(nfes):4d}, {max(nfes):4d}]"
          f"                 {sum(rho_by_scale[scale]) / 3:.2f}")

# %%
fig, (ax_cost, ax_slow, ax_fast) = plt.subplots(1, 3, figsize=(12, 4.3))
means = [sum(nfe_by_scale[s_]) / 3 for s_ in scales]
low = [m - min(nfe_by_scale[s_]) for m, s_ in zip(means, scales, strict=True)]
high = [max(nfe_by_scale[s_]) - m for m, s_ in zip(means, scales, strict=True)]
ax_cost.errorbar(scales, means, yerr=[low, high], fmt="o-", capsize=4,
                 label="mean, bars: min-max of 3 seeds")
ax_cost.set(xscale="log", yscale="log", xlabel="weight scale s", ylabel="NFE (dopri5, rtol 1e-6)",
            title="cost of the forward pass")
ax_cost.set_xticks(scales, labels=[f"{s_:g}" for s_ in scales])
ax_cost.minorticks_off()
ax_cost.legend(fontsize="small", loc="upper left")
for ax, scale in ((ax_slow, 1.0), (ax_fast, 8.0)):
    plots.phase_portrait(paths_by_scale[scale], ax=ax, equal_aspect=False,
                         styles={"": {"color": "tab:purple", "lw": 1}})
    ax.set(xlabel="h[0]", ylabel="h[1]",
           title=f"s = {scale:g} (seed 0): {nfe_by_scale[scale][0]} evaluations")
plt.tight_layout()
plt.show()

# %% [markdown]
# At PyTorch's default scale ($s = 1$) the random field is gentle: trajectories drift slowly and
# the solve is cheap. Larger weights make a faster-varying field, larger Jacobian eigenvalues,
# and a forward pass costing many times as many evaluations (about ten times as many at $s = 8$
# as at $s = 1$) — with a spread between random draws of the same scale (the bars). The same happens during training when the learned
# weights grow; lesson 05 measures NFE as training goes, and regularising the dynamics to keep
# them cheap is an active research topic (Finlay et al. 2020, arXiv:2002.02798).

# %%
rho_means = [sum(rho_by_scale[s_]) / 3 for s_ in scales]
measured = f"mean NFE {means}, mean largest |eigenvalue| {rho_means}, NFE at s = 8 {nfe_by_scale[8.0]}"
claim(all(a < b for a, b in zip(means, means[1:], strict=False)),
      "the mean cost (NFE) grows with every doubling of the weights", detail=measured)
claim(all(a < b for a, b in zip(rho_means, rho_means[1:], strict=False)),
      "so does the largest eigenvalue of the Jacobian", detail=measured)
claim(5 < means[scales.index(8.0)] / means[scales.index(1.0)] < 20,
      "at s = 8 the forward pass costs about ten times as many evaluations as at s = 1",
      detail=measured)
claim(max(nfe_by_scale[8.0]) > 1.25 * min(nfe_by_scale[8.0]),
      "random draws of the same scale differ in cost", detail=measured)
#
# ## 5. Batches of initial states
#
# **Intuition.** Like any layer, a Neural ODE takes a batch: `h0` of shape `(batch, dim)` is
# solved in one call, all members sharing the solver's steps. One caveat, measured below: an
# adaptive solver measures the error over the *whole* batch, so the steps it picks (and therefore
# the results, within tolerance) differ slightly from solving each member on its own. (The
# numbers of evaluations are adaptive step counts: their digits vary between machines; the
# checks after them hold everywhere.)

# %% tags=["nbval-ignore-output", "machine-digits"]
torch.manual_seed(8)
func8 = ODEFunc(8, hidden=8).double()  # an 8-D state; float64: comparisons at the 1e-7 level
t_demo = torch.linspace(0.0, 5.0, 101, dtype=torch.float64)
model8 = NeuralODE(func8, t_demo)  # dopri5, rtol 1e-6, atol 1e-8; returns the trajectory
torch.manual_seed(9)
h0_batch = 0.5 * torch.randn(32, 8, dtype=torch.float64)
with torch.no_grad():
    batched = model8(h0_batch)
    nfe_batch = model8.last_stats.n_fevals
    one_by_one, nfe_single = [], 0
    for member in h0_batch:
        one_by_one.append(model8(member))
        nfe_single += model8.last_stats.n_fevals
    one_by_one = torch.stack(one_by_one, dim=1)
print(f"batched output shape {tuple(batched.shape)} = (len(t), batch, dim)")
print(f"function evaluations: one batched solve {nfe_batch}, 32 separate solves {nfe_single}")
batch_gap = (batched - one_by_one).abs().max().item()
print(f"largest difference batched vs separate: {batch_gap:.0e} (rtol 1e-6: within tolerance)")

# %%
tolerance_scale = 1e-8 + 1e-6 * batched.abs().max().item()  # atol + rtol * (largest |state|)
measured = (f"NFE batched {nfe_batch}, separate {nfe_single}; largest difference {batch_gap:.1e}"
            f" = {batch_gap / tolerance_scale:.2g} x (atol + rtol max|y|)")
claim(5 * nfe_batch < nfe_single, "one batched solve costs a fraction of 32 separate solves",
      detail=measured)
claim(0 < batch_gap < 10 * tolerance_scale,
      "batched and separate solves agree within the tolerance, but not bit for bit", detail=measured)

# %% [markdown]
# ## 6. A 2-D Neural ODE: its vector field and its trajectories
#
# **Intuition.** In two dimensions we can draw the whole field $f_\theta(h)$ at once as a stream
# plot. For autonomous dynamics (no time input) the streamlines are the trajectories, and
# trajectories of the solver must follow them. Random weights, untrained.

# %%
torch.manual_seed(4)
func2 = ODEFunc(2, hidden=32).double()
with torch.no_grad():
    for p in func2.parameters():
        p.mul_(2.0)  # larger weights: a more varied field than PyTorch's default scale
grid = torch.linspace(-2.0, 2.0, 5, dtype=torch.float64)
starts2 = torch.cartesian_prod(grid, grid)  # 25 initial states, shape (25, 2)
t2 = torch.linspace(0.0, 3.0, 61, dtype=torch.float64)
with torch.no_grad():
    traj2 = odeint(func2, starts2, t2, rtol=1e-6, atol=1e-8)
print(f"25 trajectories in one batched solve: states of shape {tuple(traj2.shape)} "
      "= (len(t), 25 starts, 2)")

# %%
fig, ax = plt.subplots(figsize=(6.5, 6.5))
plots.vector_field(func2, xlim=(-3, 3), ylim=(-3, 3), ax=ax, density=1.3)
plots.phase_portrait({"trajectories, t in [0, 3]": traj2}, ax=ax,
                     styles={"trajectories, t in [0, 3]": {"color": "tab:red", "lw": 1.2}},
                     limits=(-3, 3, -3, 3))
ax.set_title("a random 2-D Neural ODE: field (blue) and solver trajectories (red)")
plt.show()

# %% [markdown]
# ## 7. Solver choice and tolerance: cost against accuracy
#
# **Intuition.** Every call of $f_\theta$ is a forward pass of the network, so the number of
# function evaluations (NFE) is the cost of a Neural ODE's forward pass (and of its backward pass
# too). Fixed-step methods cost a known number of evaluations per step (Euler 1, midpoint 2, RK4
# 4); dopri5 costs about 6 per accepted step and chooses the number of steps from the tolerance.
#
# **Code.** The 25 trajectories of the 2-D model above at the times 0, 0.5, ..., 3 (output times
# every 0.5), for each method at several step sizes or tolerances, against a reference that
# must be clearly more accurate than anything measured (lesson 01, section 7): dopri5 at
# rtol 1e-13, checked against an independent method, RK4 with 600 steps of 0.005. `solver_cost_data` (from `utils.widgets`, it also drives the slider below) solves
# with one method and setting and returns the states, the NFE and the largest error:

# %%
t_cost = torch.linspace(0.0, 3.0, 7, dtype=torch.float64)
with torch.no_grad():
    reference2 = odeint(func2, starts2, t_cost, rtol=1e-13, atol=1e-15)
    check2 = odeint(func2, starts2, t_cost, method="rk4", step_size=0.005)
reference_gap = difference(reference2, check2)
print("reference (dopri5 at the tightest tolerance) vs RK4 (step 0.005):",
      magnitude(reference_gap, floor=1e-10))
claim(reference_gap < 1e-10, "the reference and the independent RK4 solve agree to 10 digits",
      detail=f"largest difference {reference_gap:.1e}")
settings = {
    "euler": [0.5, 0.25, 0.1, 0.05, 0.025],
    "midpoint": [0.5, 0.25, 0.1, 0.05, 0.025],
    "rk4": [0.5, 0.25, 0.1, 0.05, 0.025],
    "dopri5": [1e-3, 1e-5, 1e-7, 1e-9],
}
results = {}


def cost_table(method):
    """Solve with every setting of one method; print and keep NFE and error."""
    option = "rtol" if method == "dopri5" else "step_size"
    values = settings[method]
    results[method] = [solver_cost_data(func2, starts2, t_cost, reference2, method=method,
                                        **{option: v}) for v in values]
    for value, r in zip(values, results[method], strict=True):
        what = f"rtol {value:.0e}" if method == "dopri5" else f"step {value:g}"
        print(f"{method:8s} {what:11s}: NFE {r['nfe']:4d}, error {r['error']:.1e}")


for method in ("euler", "midpoint", "rk4"):  # fixed steps: the counts are exact
    cost_table(method)

# %% [markdown]
# dopri5 picks its own steps, so its counts (and errors) may differ a little on your machine:

# %% tags=["nbval-ignore-output", "machine-digits"]
cost_table("dopri5")

# %%
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for method in settings:
    nfe = [r["nfe"] for r in results[method]]
    err = [r["error"] for r in results[method]]
    _, slope = plots.loglog_slope(nfe, err, ax=ax, label=method)
ax.set(xlabel="function evaluations (NFE)", ylabel="largest error",
       title="error against cost (slope = -order for fixed steps)")
plt.show()

# %% [markdown]
# On this smooth field the higher-order methods win by orders of magnitude at equal cost, and
# for fixed steps the slope of each line is close to minus the method's order (error ~ h^p and
# NFE ~ 1/h). dopri5 additionally chooses where to spend its evaluations.

# %%
fixed_slopes = {method: np.polyfit(np.log([r["nfe"] for r in results[method]]),
                                   np.log([r["error"] for r in results[method]]), 1)[0]
                for method in ("euler", "midpoint", "rk4")}
dopri5_nfe = [r["nfe"] for r in results["dopri5"]]
dopri5_error = [r["error"] for r in results["dopri5"]]
rk4_below = min(r["nfe"] for r in results["rk4"] if r["error"] < 1e-8)
measured = (f"slopes {fixed_slopes}; dopri5 NFE {dopri5_nfe}, errors {dopri5_error}; "
            f"RK4 needs {rk4_below} evaluations for an error below 1e-8")
claim(all(abs(fixed_slopes[m] + p) < 0.3 for m, p in (("euler", 1), ("midpoint", 2), ("rk4", 4))),
      "for fixed steps the slope is close to minus the method's order (1, 2, 4)", detail=measured)
claim(all(a < b for a, b in zip(dopri5_nfe, dopri5_nfe[1:], strict=False))
      and all(a > b for a, b in zip(dopri5_error, dopri5_error[1:], strict=False)),
      "tightening dopri5's tolerance costs more evaluations and buys a smaller error",
      detail=measured)
claim(any(r["error"] < 1e-8 and r["nfe"] < rk4_below for r in results["dopri5"]),
      "dopri5 gets below 1e-8 with fewer evaluations than RK4 needs for it", detail=measured)
#
# **Slider.** Pick a method, then log10 of its step size (fixed-step methods) or of its
# tolerance rtol (dopri5; atol = rtol / 100). A step that does not land on the output times every 0.5 still
# works: the solver interpolates the states in between (cubic Hermite). Small fixed steps take a
# few seconds to redraw, so the figure updates when you release the slider.

# %% tags=["nbval-ignore-output", "slider"]
_ = widgets.interact(
    show_solver_cost,
    func=widgets.fixed(func2), h0=widgets.fixed(starts2), t=widgets.fixed(t_cost),
    reference=widgets.fixed(reference2),  # the problem stays fixed; the sliders pick the solver
    method=["euler", "midpoint", "rk4", "dopri5"],
    log10_step_size=widgets.FloatSlider(value=-1.0, min=-3.0, max=-0.3, step=0.1,
                                        continuous_update=False, description="log10 step"),
    log10_rtol=widgets.FloatSlider(value=-4.0, min=-10.0, max=-1.0, step=0.5,
                                   continuous_update=False, description="log10 rtol"),
)

# %% [markdown]
# ## 8. Cross-check against torchdiffeq
#
# torchdiffeq (Chen et al.'s library, github.com/rtqichen/torchdiffeq) has the same call,
# `odeint(func, y0, t, rtol=..., atol=..., method=...)`. Two independent implementations that
# agree are good evidence that both are right. Same dynamics, same times, same tolerances:
#
# - dopri5: both control the local error to rtol 1e-7, atol 1e-9, but pick their first steps and
#   step-size factors differently, so they should agree to about the tolerance, not to the last bit;
# - Euler and midpoint with the same fixed step: the same arithmetic, so they should agree to
#   rounding error. (torchdiffeq's `rk4` uses the 3/8-rule variant of RK4, not the classical one,
#   so we do not compare it.)

# The dopri5 digits depend on each solver's adaptive steps (they vary a little between machines);
# the fixed-step comparisons and the checks below do not.

# %% tags=["nbval-ignore-output", "machine-digits"]
with torch.no_grad():
    reference_t2 = odeint(func2, starts2, t2, rtol=1e-10, atol=1e-12)
    ours = odeint(func2, starts2, t2, rtol=1e-7, atol=1e-9)
    theirs = torchdiffeq.odeint(func2, starts2, t2, rtol=1e-7, atol=1e-9, method="dopri5")
gap = difference(ours, theirs)
scale = 1e-9 + 1e-7 * ours.abs().max().item()  # atol + rtol * (largest |state|)
errors_t2 = {"ours": difference(ours, reference_t2), "torchdiffeq": difference(theirs, reference_t2)}
print(f"dopri5: largest difference ours vs torchdiffeq {gap:.1e} "
      f"= {gap / scale:.2g} x (atol + rtol * max|y|)")
print(f"        errors against the rtol-1e-10 reference: ours {errors_t2['ours']:.1e}, "
      f"torchdiffeq {errors_t2['torchdiffeq']:.1e}")

# %%
fixed_gaps = {}
with torch.no_grad():
    for method in ("euler", "midpoint"):
        ours_fixed = odeint(func2, starts2, t2, method=method, step_size=0.05)
        theirs_fixed = torchdiffeq.odeint(func2, starts2, t2, method=method,
                                          options={"step_size": 0.05})
        fixed_gaps[method] = difference(ours_fixed, theirs_fixed)
        print(f"{method:8s} step 0.05: largest difference",
              magnitude(fixed_gaps[method], floor=1e-10))
measured = (f"dopri5 gap {gap:.1e} = {gap / scale:.2g} x tolerance scale; errors {errors_t2}; "
            f"fixed-step gaps {fixed_gaps}")
claim(gap < 10 * scale, "dopri5: ours and torchdiffeq agree within 10 x the tolerance scale",
      detail=measured)
claim(max(errors_t2.values()) < 10 * scale,
      "both are within 10 x the tolerance scale of the tighter reference", detail=measured)
claim(max(fixed_gaps.values()) < 1e-10, "Euler and midpoint agree to rounding error",
      detail=measured)

# %% [markdown]
# ## 9. A first fit: gradients flow through the solver
#
# **Intuition.** Every solver step above is a handful of torch operations, so `loss.backward()`
# differentiates through the whole solve, exactly as through the layers of a ResNet. That is all
# it takes to train a Neural ODE. Below, a fresh `ODEFunc` learns a damped rotation,
# $\dot h = A h$ with $A = \begin{pmatrix} -0.1 & 2 \\ -2 & -0.1 \end{pmatrix}$, from 16
# trajectories (starts on a circle of radius 1.5, 21 times on $[0, 2]$): RK4 with step 0.1, mean
# squared error over times, starts and components, Adam, 300 updates. The network never sees
# $A$, only the trajectories; the exact solution $h(t) = e^{At} h_0$ gives the data.

# %%
A_true = torch.tensor([[-0.1, 2.0], [-2.0, -0.1]])
t_fit = torch.linspace(0.0, 2.0, 21)


def rotation_data(starts):
    """Exact trajectories of dh/dt = A_true h: shape (len(t_fit), batch, 2)."""
    return torch.stack([starts @ torch.linalg.matrix_exp(A_true * s).T for s in t_fit])


angles = torch.linspace(0.0, 2 * torch.pi, 17)[:-1]
train_starts = 1.5 * torch.stack([angles.cos(), angles.sin()], dim=1)  # (16, 2)
train_paths = rotation_data(train_starts)
torch.manual_seed(0)
learner = ODEFunc(2, hidden=32)
fit_model = NeuralODE(learner, t_fit, method="rk4", step_size=0.1)
optimizer = torch.optim.Adam(learner.parameters(), lr=1e-2)


def fit_step(update):
    """One update: solve, compare with the data, backpropagate through the solver, step."""
    optimizer.zero_grad()
    loss = ((fit_model(train_starts) - train_paths) ** 2).mean()
    loss.backward()  # through 20 RK4 steps: 80 evaluations of the network
    optimizer.step()
    return loss.item()


fit_history = train(fit_step, n_steps=300, progress=False)  # utils.training: the loop, timed

# %% [markdown]
# The training run's figures (float32 training: the digits vary from machine to machine), then
# what the text says about them, checked:

# %% tags=["nbval-ignore-output", "machine-digits"]
for update in (1, 10, 100, 300):
    print(f"update {update:3d}: training MSE {fit_history.losses[update - 1]:.1e}")
print(f"300 updates took {fit_history.seconds:.1f} s of wall time")

# %%
first_mse, last_mse = fit_history.losses[0], fit_history.losses[-1]
claim(last_mse < first_mse / 1000,
      "300 updates cut the training MSE by over three orders of magnitude",
      detail=f"training MSE {first_mse:.2g} -> {last_mse:.2g}")

# %% [markdown]
# Fitting the 16 training trajectories says little on its own. The data only visit a ring: the
# starts lie at radius 1.5 and the damping brings them in a little by $t = 2$. New starts, some in
# that ring and some inside it where no training trajectory went, test whether the network
# learned the field or just the curves (relative error = root-mean-square error over the
# trajectory divided by the start's distance from the origin):

# %%
train_radii = train_paths.norm(dim=-1)
print(f"training trajectories sweep radii {train_radii.min():.2f} to {train_radii.max():.2f}")

# %% tags=["nbval-ignore-output", "machine-digits"]
new_starts = {"in the ring": torch.tensor([[1.4, 0.0], [0.0, -1.3], [-1.0, -1.0]]),
              "inside it": torch.tensor([[0.9, 0.4], [0.5, -0.8], [-0.3, 0.2]])}
torch.manual_seed(1)
untrained = NeuralODE(ODEFunc(2, hidden=32), t_fit, method="rk4", step_size=0.1)
learned_paths, relative_errors = {}, {"learned": {}, "untrained": {}}
print("start         where        radius   relative error: learned   untrained")
with torch.no_grad():
    for group, starts in new_starts.items():
        exact = rotation_data(starts)
        learned_paths[group] = (exact, fit_model(starts))
        for k, h0 in enumerate(starts):
            errors = [((model_paths[:, k] - exact[:, k]) ** 2).mean().sqrt() / h0.norm()
                      for model_paths in (learned_paths[group][1], untrained(starts))]
            relative_errors["learned"].setdefault(group, []).append(errors[0].item())
            relative_errors["untrained"].setdefault(group, []).append(errors[1].item())
            print(f"({h0[0]:4.1f}, {h0[1]:4.1f})  {group:11s}  {h0.norm():6.2f}"
                  f"   {errors[0]:23.3f}   {errors[1]:9.2f}")

# %%
fig, axes = plt.subplots(1, 2, figsize=(11, 5.2))
ring = torch.linspace(0.0, 2 * torch.pi, 200)
for ax, (group, (exact, learned)) in zip(axes, learned_paths.items(), strict=True):
    for radius in (train_radii.min(), train_radii.max()):
        ax.plot(radius * ring.cos(), radius * ring.sin(), color="tab:blue", lw=0.8, ls=":")
    plots.phase_portrait({"exact": exact, "learned Neural ODE": learned}, ax=ax,
                         styles={"exact": {"color": "black", "lw": 3, "alpha": 0.35},
                                 "learned Neural ODE": {"color": "tab:orange", "ls": "--"}},
                         limits=(-1.6, 1.6, -1.6, 1.6))
    ax.set_title(f"new starts {group}")
fig.suptitle("exact (grey) and learned (dashed) trajectories; dotted: the ring the 16 training "
             "trajectories swept")
plt.show()

# %% [markdown]
# The learned field is accurate where the data went and degrades away from it: the network
# interpolates between the training trajectories, it does not discover $A$. Lesson 05 measures
# this on a harder system, and asks how far the learned dynamics can be trusted outside the data.

# %%
learned = relative_errors["learned"]
all_learned = learned["in the ring"] + learned["inside it"]
all_untrained = relative_errors["untrained"]["in the ring"] + relative_errors["untrained"]["inside it"]
claim(max(learned["in the ring"]) < 0.1,
      "in the ring the data swept, the learned trajectories are within 10% (relative error)",
      detail=str(relative_errors))
claim(min(learned["inside it"]) > max(learned["in the ring"]),
      "inside the ring, where no data went, every error is larger than every error in it",
      detail=str(relative_errors))
claim(max(all_learned) < min(all_untrained),
      "everywhere, the learned field beats the untrained one", detail=str(relative_errors))

# %% [markdown]
# **What did `backward()` need?** Autograd keeps, for every operation of the forward pass, the
# tensors its derivative needs: every stage of every step. PyTorch's
# `torch.autograd.graph.saved_tensors_hooks` lets us see them; below, the bytes of the distinct
# tensors saved for one forward pass of the same model at four step sizes (tensors that happen
# to share memory count once, so the figures can move a little from run to run):

# %% tags=["nbval-ignore-output", "machine-digits"]
def saved_for_backward(model, starts):
    """Number and kilobytes of the distinct tensors autograd saves for one backward pass."""
    storages = {}

    def keep(tensor):
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(keep, lambda tensor: tensor):
        ((model(starts) - train_paths) ** 2).mean().backward()  # uses what was saved
    return len(storages), sum(storages.values()) / 1e3


saved_kb = []
print("RK4 steps   saved tensors   saved (kB)")
for step_size in (0.2, 0.1, 0.05, 0.025):
    model_at_step = NeuralODE(learner, t_fit, method="rk4", step_size=step_size)
    count, kilobytes = saved_for_backward(model_at_step, train_starts)
    saved_kb.append(kilobytes)
    print(f"{round(2.0 / step_size):9d}   {count:13d}   {kilobytes:10.0f}")

# %%
claim(all(1.7 < b / a < 2.3 for a, b in zip(saved_kb, saved_kb[1:], strict=False)),
      "twice the steps, about twice the memory autograd saves",
      detail=f"saved kB at 10/20/40/80 steps: {saved_kb}")

# %% [markdown]
# Twice the steps, twice the memory: backpropagating through the solver stores the whole solve.
# For 16 two-dimensional states that is nothing; for a batch of images solved with hundreds of
# adaptive steps it is what runs out first. **Lesson 04** computes the same gradient by solving a
# second ODE backwards and stores none of the steps (the adjoint method); **lesson 05** trains on
# noisy data and asks how far the learned dynamics can be trusted beyond the training window.

# %% [markdown]
# ## Before you hand in
# The cell below judges every exercise of this lesson on the answers you wrote, as the
# instructor's grader will: the cases your check cells ran and the hidden ones (named, never
# shown). `make check-my-work` does the same for all your notebooks from a terminal.

# %%
from utils.exercises import self_check

self_check("lesson03")

# %% [markdown]
# ## Key takeaways
# - A Neural ODE's forward pass is an ODE solve: a network `f_theta(t, h)` gives the velocity, a
#   solver turns it into states at the requested times, one batch at a time.
# - Written in torch, every solver step is differentiable: autograd agrees with finite differences.
# - The cost of the forward pass is the number of function evaluations; higher-order and adaptive
#   solvers reach a given accuracy with far fewer of them on smooth dynamics.
# - The weights decide the cost: larger weights make a faster-varying field (larger Jacobian
#   eigenvalues) and an adaptive forward pass with many more evaluations.
# - Batched adaptive solves share one step sequence: cheaper than separate solves, equal within
#   tolerance, not bit for bit.
# - Our `odeint` agrees with torchdiffeq to within the tolerance (dopri5) or to rounding error
#   (fixed steps).
# - Training is backpropagation through the solve: it works (a damped rotation learned from 16
#   trajectories in 300 updates), and it stores every step, so its memory grows with the
#   number of steps. Lesson 04 removes that cost.
#
# ## Further reading
# - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
#   Equations", NeurIPS 2018, arXiv:1806.07366.
# - K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
#   arXiv:1512.03385.
# - E. Dupont, A. Doucet, Y. W. Teh, "Augmented Neural ODEs", NeurIPS 2019, arXiv:1904.01681.
# - E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I: Nonstiff
#   Problems*, 2nd ed., Springer 1993.
# - C. Finlay, J.-H. Jacobsen, L. Nurbekyan, A. M. Oberman, "How to train your neural ODE: the
#   world of Jacobian and kinetic regularization", ICML 2020, arXiv:2002.02798.
# - torchdiffeq: https://github.com/rtqichen/torchdiffeq
