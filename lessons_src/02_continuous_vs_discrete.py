# ---
# jupyter:
#   kernelspec:
#     display_name: Neural ODE course (Python 3)
#     language: python
#     name: neural-ode-course
# ---

# %% [markdown]
# # Lesson 02 — Continuous vs. discrete dynamics: from residual networks to ODE flows
#
# **Why this matters.** A residual network updates its hidden state in small increments,
# `h <- h + f(h)`. Read as numerical analysis, that is one step of Euler's method. A Neural ODE
# takes this reading seriously: it replaces the stack of layers by the *exact* flow of an ODE and
# lets a solver decide how many steps to take. This lesson measures what changes when we do that:
# accuracy, stability, cost, invertibility, and one thing a flow can never do.
#
# **Learning objectives.** After this lesson you can:
# - [ ] show, in code, that a residual block is one Euler step and a weight-shared residual stack
#   is Euler's method;
# - [ ] explain with a measurement why a "ResNet" with large steps spirals *outwards* while the flow
#   spirals in;
# - [ ] measure how fast a residual stack approaches the ODE flow as its depth grows;
# - [ ] read an adaptive solver's accepted and rejected steps, and its cost against the tolerance;
# - [ ] run a flow backwards to invert it, and measure how well that works;
# - [ ] state and demonstrate why 1-D ODE flows cannot swap the order of two inputs.
#
# **Prerequisites.** Lesson 01 (Euler, RK4, convergence order, `utils.solvers.odeint`); Python,
# NumPy and basic PyTorch (`nn.Module`, tensors, an optimiser step).
#
# **Time.** About 50 minutes. Each *Exercise* is followed by a check cell that answers at once.
# Stuck? `ex.<name>.hint()` gives a hint, `ex.<name>.solution()` shows a solution.

# %%
import math

import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch
import torchdiffeq
from torch import nn
from tqdm.auto import trange

from utils import plots
from utils.claims import claim
from utils.exercises import lesson02 as ex
from utils.models import ODEFunc
from utils.solvers import SolverError, odeint
from utils.systems import LinearSpiral, LotkaVolterra
from utils.widgets import resnet_spiral_data, show_adaptive_steps, show_resnet_spiral

torch.manual_seed(0)
torch.set_num_threads(1)  # tiny networks: one thread is fastest and gives reproducible sums

# %% [markdown]
# ## 1. A residual block is one Euler step
#
# **Intuition.** A residual block does not compute a new state from scratch; it computes a
# *change* and adds it: `h + f(h)`. An ODE `dh/dt = f(h)` also describes change, continuously.
# Euler's method turns the ODE into discrete updates by following the slope `f(h)` for a time
# `Δt`. With `Δt = 1` the two are the same formula.
#
# **Math.**
#
# $$\text{residual block: } h_{n+1} = h_n + f_\theta(h_n)
# \qquad\qquad
# \text{Euler step of } \tfrac{dh}{dt} = f_\theta(h):\; h(t+\Delta t) \approx h(t) + \Delta t\, f_\theta(h(t)).$$
#
# A stack of $N$ blocks that share the weights $\theta$ and scale their update by $\Delta t = T/N$
# is Euler's method with $N$ steps on $[0, T]$. As $N \to \infty$ it approaches the *flow*
# $\phi_T(h_0)$, the exact solution at time $T$: that limit is a Neural ODE
# (Chen et al. 2018, arXiv:1806.07366).
#
# **Code.** The same small network `f`, used once as a residual block and once as the right-hand
# side of an ODE solved by one Euler step of size 1:

# %%
f = nn.Sequential(nn.Linear(2, 16), nn.Tanh(), nn.Linear(16, 2)).double()


class ResidualBlock(nn.Module):
    """h -> h + dt * f(h): a residual block whose update is scaled by dt."""

    def __init__(self, f, dt=1.0):
        super().__init__()
        self.f, self.dt = f, dt

    def forward(self, h):
        return h + self.dt * self.f(h)


h = torch.tensor([[1.0, -0.5], [0.2, 0.3]], dtype=torch.float64)  # a batch of two states
with torch.no_grad():
    block_out = ResidualBlock(f)(h)
    euler_out = odeint(lambda t, y: f(y), h, torch.tensor([0.0, 1.0], dtype=torch.float64),
                       method="euler")[-1]
print("residual block:", np.round(block_out.numpy(), 4).tolist())
print("Euler step    :", np.round(euler_out.numpy(), 4).tolist())
print("bit-for-bit identical:", torch.equal(block_out, euler_out))

# %% [markdown]
# ### Exercise 2.1 — a weight-shared residual stack
#
# Write `residual_stack(f, h0, t_end, n_blocks)`: `n_blocks` residual blocks that share the same
# `f`, each adding `dt * f(t, h)` with `dt = t_end / n_blocks`; block `n` (counting from 0) is
# given the time `t = n * dt`. Return the state after the last block. It must work for NumPy
# arrays and torch tensors of any shape. (Real ResNets ignore `t`; passing it makes the stack
# *exactly* Euler's method, also for time-dependent dynamics.)
#
# `ex.residual_stack.hint()` gives a hint.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex02_residual_stack-answer"}
def residual_stack(f, h0, t_end, n_blocks):
    """Apply n_blocks residual updates h <- h + dt * f(n * dt, h), dt = t_end / n_blocks."""
    ### BEGIN SOLUTION
    dt = t_end / n_blocks
    h = h0
    for n in range(n_blocks):
        h = h + dt * f(n * dt, h)
    return h
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex02_residual_stack", "points": 2}
residual_stack = ex.residual_stack.check()

# %% [markdown]
# ## 2. The spiral: the flow against "ResNet" steps
#
# **Intuition.** Take dynamics we can solve exactly: a state that rotates and decays,
#
# $$\frac{dx}{dt} = -0.5\,x - y, \qquad \frac{dy}{dt} = x - 0.5\,y, \qquad (x, y)(0) = (2, 0),
# \quad t \in [0, 10].$$
#
# **Math.** With $z = x + iy$ this is $dz/dt = \lambda z$, $\lambda = -0.5 + i$, so
# $z(t) = e^{\lambda t} z(0)$: the norm decays like $e^{-0.5 t}$ and the state turns once every
# $2\pi$. A residual stack with step $\Delta t$ multiplies $z$ by $1 + \Delta t\,\lambda$ per block
# instead of by $e^{\lambda \Delta t}$. Whether the norm shrinks depends on
# $|1 + \Delta t\,\lambda|$, not on the ODE.
#
# **Code.** The exact solution (from `LinearSpiral.exact`), dopri5's solution (to check the
# solver against it) and residual stacks of step Δt = 0.5, 1 and 2 (20, 10 and 5 blocks):

# %%
spiral = LinearSpiral()  # decay 0.5, frequency 1
y0 = np.array([2.0, 0.0])
T = 10.0
t_fine = np.linspace(0.0, T, 401)
exact = spiral.exact(t_fine, y0)
solved, stats = odeint(spiral, y0, t_fine, method="dopri5", rtol=1e-8, atol=1e-10,
                       return_stats=True)
print(f"dopri5 vs exact: max error {np.abs(solved - exact).max():.1e} "
      f"({stats.n_fevals} function evaluations, {stats.n_accepted} steps)")

resnets = {}
for dt in (0.5, 1.0, 2.0):
    n_blocks = round(T / dt)
    t_grid = np.linspace(0.0, T, n_blocks + 1)
    resnets[dt] = (t_grid, odeint(spiral, y0, t_grid, method="euler"))  # one step per interval
    end = resnets[dt][1][-1]
    print(f"Δt = {dt}: {n_blocks:2d} blocks, |h(10)| = {np.linalg.norm(end):.3g} "
          f"(exact {np.linalg.norm(exact[-1]):.3g}), "
          f"distance to the flow {np.linalg.norm(end - exact[-1]):.3g}")

# %% [markdown]
# **Figure.** Left: the phase plane (the frame is cut at ±5; the Δt = 1 and Δt = 2 stacks leave
# it). Right: the norm over time on a log scale, where exponential decay is a straight line.

# %%
fig, (ax_phase, ax_norm) = plt.subplots(1, 2, figsize=(12, 5))
trajectories = {"exact flow": exact}
styles = {"exact flow": {"color": "black", "lw": 2.5}}
for dt, (_t_grid, ys) in resnets.items():
    trajectories[f"ResNet, Δt = {dt}"] = ys
    styles[f"ResNet, Δt = {dt}"] = {"marker": "o", "ms": 4, "lw": 1}
plots.phase_portrait(trajectories, ax=ax_phase, styles=styles, limits=(-5, 5, -5, 5))
ax_phase.set(xlabel="x", ylabel="y", title="phase plane")
ax_norm.semilogy(t_fine, np.linalg.norm(exact, axis=1), color="black", lw=2.5, label="exact flow")
for dt, (t_grid, ys) in resnets.items():
    ax_norm.semilogy(t_grid, np.linalg.norm(ys, axis=1), "o-", ms=4, label=f"ResNet, Δt = {dt}")
ax_norm.set(xlabel="t", ylabel="|h(t)|", title="state norm")
ax_norm.legend(fontsize="small")
plt.tight_layout()
plt.show()

# %% [markdown]
# The exact flow decays to $2e^{-5} \approx 0.013$. The stack with Δt = 0.5 also decays, but too
# slowly; with Δt = 1 and Δt = 2 the norm *grows*: the "network" is unstable although the ODE is
# perfectly stable. Euler's method (and hence a residual stack) is only stable when
# $|1 + \Delta t\,\lambda| < 1$.
#
# **Slider.** Change the depth: the stack has `n_blocks` blocks of step Δt = 10 / `n_blocks`.
# Watch where the spiral stops growing, and how the distance to the flow shrinks as blocks are
# added. (The slider needs a running kernel; what it computes is `resnet_spiral_data` in
# `utils.widgets`, which the check after Exercise 2.2 uses too.)

# %% tags=["nbval-ignore-output", "slider"]
_ = widgets.interact(show_resnet_spiral,
                     n_blocks=widgets.IntSlider(value=10, min=3, max=100, description="n_blocks"))

# %% [markdown]
# ### Exercise 2.2 — how much one Euler step grows the spiral
#
# Write `euler_growth(dt, decay, frequency)`: the factor by which one Euler step of size `dt`
# multiplies the norm of the spiral `dx/dt = -decay x - frequency y`,
# `dy/dt = frequency x - decay y`. Use the complex form from the math above (Python's `complex`
# and `abs` are enough). `ex.euler_growth.hint()` gives a hint.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex02_euler_growth-answer"}
def euler_growth(dt, decay, frequency):
    """The factor (a float) by which one Euler step of size dt multiplies the spiral's norm."""
    ### BEGIN SOLUTION
    return abs(1 + dt * complex(-decay, frequency))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex02_euler_growth", "points": 1}
euler_growth = ex.euler_growth.check()

# %% [markdown]
# **Check.** The formula against the growth measured on the residual stacks above, and the step
# where Euler on the spiral turns from decaying to growing ($|1 + \Delta t\lambda| = 1$, i.e.
# $\Delta t = 2 \cdot 0.5 / (0.5^2 + 1^2) = 0.8$):

# %%
for dt in (0.5, 0.8, 1.0, 2.0):
    measured = resnet_spiral_data(n_blocks=10, t_end=10 * dt)["growth"]  # 10 blocks of step dt
    print(f"Δt = {dt}: predicted {euler_growth(dt, 0.5, 1.0):.4f}, measured {measured:.4f}, "
          f"exact flow {math.exp(-0.5 * dt):.4f}")

# %% [markdown]
# ## 3. The continuous limit, measured
#
# **Intuition.** More, smaller blocks follow the flow more closely. How much more closely? Euler
# has global error $O(\Delta t)$, so the gap between an $N$-block stack and the flow should shrink
# like $1/N$: a line of slope $-1$ on log-log axes.
#
# **Code.** A small random network as the dynamics (`ODEFunc`, 2 → 16 → 2 with tanh, float64),
# the flow at $T = 2$ from a tight dopri5 solve, and weight-shared stacks of 4 to 1024 blocks:

# %%
torch.manual_seed(1)
f_net = ODEFunc(2, hidden=16).double()
h0 = torch.tensor([[1.0, -0.5], [-1.0, 0.8]], dtype=torch.float64)
T_net = 2.0
with torch.no_grad():
    flow = odeint(f_net, h0, torch.tensor([0.0, T_net], dtype=torch.float64),
                  rtol=1e-11, atol=1e-12)[-1]
    depths = [4, 8, 16, 32, 64, 128, 256, 512, 1024]
    gaps = [float((residual_stack(f_net, h0, T_net, n) - flow).norm()) for n in depths]
for n, g in zip(depths, gaps, strict=True):
    print(f"{n:5d} blocks: gap {g:.3g}")

# %%
fig, ax = plt.subplots(figsize=(5.5, 4))
ax, slope = plots.loglog_slope(depths, gaps, ax=ax, label="residual stack vs. flow")
ax.loglog(depths, gaps[0] * depths[0] / np.array(depths), "k--", lw=1, label="1/N")
ax.set(xlabel="number of blocks N", ylabel="|stack(h0) - flow(h0)|",
       title="the continuous limit")
ax.legend(fontsize="small")
plt.show()
print(f"measured slope: {slope:.3f} (Euler's order predicts -1)")

# %% [markdown]
# The gap closes like $1/N$: a residual stack *is* a first-order solver. A Neural ODE does not fix
# $N$ in advance; its solver chooses the steps to meet a tolerance, which the next section shows.

# %% [markdown]
# ## 4. Adaptive stepping: what the controller does
#
# Lesson 01 (section 8) showed dopri5 at work: it estimates each step's error from the
# difference of a 5th- and a 4th-order solution, accepts the step when that estimate is within
# the tolerance, and puts small steps where the dynamics are fast. Here we look inside: how it
# picks the next step, what that predicts for its cost, and how the prediction holds up.
#
# **Math: the step-size rule.** The error estimate of a step of size $h$ is the difference
# between the two solutions; it is dominated by the *local* error of the lower-order one, the
# embedded 4th-order solution, which is $O(h^5)$ (a method of order $p$ makes an error
# $O(h^{p+1})$ per step). So $	ext{err} pprox C h^5$, and the step that would have hit the
# tolerance exactly is $h_	ext{new} = h \cdot (1/	ext{ratio})^{1/5}$, where ratio is the
# scaled error of lesson 01's acceptance test. With a safety factor and limits:
# $h_	ext{new} = h \cdot 0.9 \cdot 	ext{ratio}^{-1/5}$, clipped to $[0.2h, 10h]$
# (Hairer, Nørsett & Wanner, II.4; `utils.solvers.next_step_factor`). The 5 is the exponent of
# the *estimate's* local error ($p + 1$ with $p = 4$), not the order of the solution kept (5).
#
# **Prediction.** If each step's error is held near the tolerance, $h \propto
# 	ext{tol}^{1/5}$, so the number of steps, and the cost (NFE), grows like
# $	ext{tol}^{-1/5}$: ten times tighter costs $10^{1/5} pprox 1.58$ times more.
#
# **Code.** Lotka–Volterra from (10, 5) on $[0, 15]$ at rtol 1e-4: accepted and rejected steps
# and where they fall.

# %%
lv = LotkaVolterra()
t_lv = np.linspace(0.0, 15.0, 601)
ys_lv, stats_lv = odeint(lv, np.array([10.0, 5.0]), t_lv, rtol=1e-4, atol=1e-6, return_stats=True)
sizes = np.abs(stats_lv.step_sizes)
print(f"rtol 1e-4: {stats_lv.n_accepted} accepted, {stats_lv.n_rejected} rejected steps, "
      f"{stats_lv.n_fevals} function evaluations")
print(f"first step {sizes[0]:.3g} (the opening guess); "
      f"after it, step sizes from {sizes[1:].min():.3g} to {sizes[1:].max():.3g}")

# %%
starts = np.asarray(stats_lv.step_starts)
at_starts = odeint(lv, np.array([10.0, 5.0]), np.append(starts, 15.0), rtol=1e-8, atol=1e-8)
fig, (ax_phase, ax_steps) = plt.subplots(1, 2, figsize=(12, 4.2))
plots.phase_portrait({"dopri5 (dense output)": ys_lv}, ax=ax_phase, equal_aspect=False)
ax_phase.plot(at_starts[:, 0], at_starts[:, 1], "o", ms=4, color="tab:orange",
              label="accepted step boundaries")
ax_phase.set(xlabel="prey", ylabel="predators", title="where dopri5 stepped")
ax_phase.legend(fontsize="small")
plots.step_sizes(stats_lv, ax=ax_steps)
ax_twin = ax_steps.twinx()
ax_twin.plot(t_lv, ys_lv[:, 0], color="0.7", lw=1)
ax_twin.set_ylabel("prey (grey)")
ax_steps.set_title("step size along the trajectory")
plt.tight_layout()
plt.show()

# %% [markdown]
# The steps bunch up where the populations change fast (the prey peaks, grey) and stretch where
# little happens. Rejections (red crosses) come where the dynamics speed up faster than the last
# step predicted.
#
# **Cost against tolerance.** On the spiral, whose exact solution we know, tighter tolerances
# cost more function evaluations (NFE) and buy smaller errors (measured relative to the size of
# the exact state at $t = 10$, as rtol is relative). We test the prediction
# NFE $\propto$ rtol$^{-1/5}$:

# %%
rtols = [1e-2, 1e-3, 1e-4, 1e-5, 1e-6, 1e-7, 1e-8, 1e-9, 1e-10]
nfes, errors = [], []
for rtol in rtols:
    ys, st = odeint(spiral, y0, [0.0, T], rtol=rtol, atol=rtol * 1e-2, return_stats=True)
    nfes.append(st.n_fevals)
    errors.append(float(np.linalg.norm(ys[-1] - exact[-1]) / np.linalg.norm(exact[-1])))
    print(f"rtol {rtol:.0e}: NFE {st.n_fevals:4d} ({st.n_accepted:3d} accepted, "
          f"{st.n_rejected} rejected), relative error at t=10 {errors[-1]:.2g}")

# %%
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 4))
_, slope_nfe = plots.loglog_slope(rtols, nfes, ax=ax1, label="NFE")
ax1.set(xlabel="rtol", ylabel="function evaluations", title="cost against tolerance")
ax1.invert_xaxis()
_, slope_err = plots.loglog_slope(nfes, errors, ax=ax2, label="dopri5 on the spiral")
ax2.set(xlabel="function evaluations", ylabel="relative error at t = 10",
        title="error against cost")
plt.tight_layout()
plt.show()
accepted = [st.n_accepted for st in [odeint(spiral, y0, [0.0, T], rtol=r, atol=r * 1e-2,
                                            return_stats=True)[1] for r in rtols]]
slope_tight = np.polyfit(np.log(rtols[4:]), np.log(accepted[4:]), 1)[0]
print(f"NFE ~ rtol^{slope_nfe:.3f} over all tolerances (predicted: -1/5 = -0.2)")
print(f"accepted steps ~ rtol^{slope_tight:.3f} over rtol 1e-6 ... 1e-10")
slope_err_tight = np.polyfit(np.log(nfes[4:]), np.log(errors[4:]), 1)[0]
print(f"error ~ NFE^{slope_err:.2f} over all tolerances, NFE^{slope_err_tight:.2f} over "
      "rtol 1e-6 ... 1e-10 (a fifth-order method predicts NFE^-5)")

# %% [markdown]
# The measured NFE slope is flatter than $-1/5$. The prediction counts only the steps the
# error control asks for; the cost also has parts that do not shrink with the tolerance: the
# opening guess and the warm-up from a small first step (at most 10x growth per step), a few
# rejected steps, a minimum of about a dozen steps to cover $[0, 10]$ at all. They weigh most at
# loose tolerances, where the whole solve is a few dozen evaluations, and flatten the fit. At
# tight tolerances, where the steps are many, the count of accepted steps follows the
# prediction closely (the second line).
#
# The same overhead explains the error-against-cost slope, steeper than the $-5$ of a
# fifth-order method: dopri5 keeps the 5th-order solution, whose error over the run scales like
# $h^5 \propto$ tol, while the cost grows more slowly than tol$^{-1/5}$ at loose tolerances; so
# each extra evaluation buys more than $N^{-5}$ predicts there. Over the tight tolerances alone
# the slope comes closer to $-5$.
#
# **Slider.** Pick the tolerance and watch the steps on Lotka–Volterra (from (10, 5) on
# $[0, 15]$, atol = rtol / 100; the data comes from `utils.widgets.adaptive_steps_data`). The
# range stops at rtol = 10^-1.5: past it, the solution no longer means anything (next cell).

# %% tags=["nbval-ignore-output", "slider"]
_ = widgets.interact(show_adaptive_steps,
                     log10_rtol=widgets.FloatSlider(value=-4, min=-10, max=-1.5, step=0.5,
                                                    description="log10 rtol"))

# %% [markdown]
# **Too loose a tolerance leaves the physical region.** At rtol = 0.1 a step may make a 10%
# error, and one such step through a prey crash can push a population below zero. Past zero,
# Lotka–Volterra has no meaning and blows up ($x$ and $y$ of opposite signs feed each other's
# growth). Which way the solve then goes is decided by details, e.g. the opening step guess
# (and, once the solution blows up, by details down to the last digits, so the figures printed
# here differ between machines):

# %% tags=["nbval-ignore-output", "machine-digits"]
loose_runs = {}  # run -> (NFE, lowest population); (None, -inf) if the solver gave up
for first_step in (None, 0.2):
    run = f"utils.odeint, rtol 0.1, first step {first_step or 'guessed'}"
    try:
        ys_loose, st = odeint(lv, np.array([10.0, 5.0]), t_lv, rtol=0.1, atol=1e-3,
                              first_step=first_step, return_stats=True)
        outcome = (f"NFE {st.n_fevals}, lowest prey {ys_loose[:, 0].min():.3g}, "
                   f"lowest predators {ys_loose[:, 1].min():.3g}")
        loose_runs[run] = (st.n_fevals, ys_loose.min())
    except SolverError as exc:
        outcome = f"failed: {type(exc).__name__}"
        loose_runs[run] = (None, -math.inf)
    print(f"{run}: {outcome}")
calls = []
ys_tdq = torchdiffeq.odeint(lambda t, y: calls.append(1) or torch.as_tensor(lv(t, y)),
                            torch.tensor([10.0, 5.0], dtype=torch.float64),
                            torch.as_tensor(t_lv), rtol=0.1, atol=1e-3, method="dopri5")
loose_runs["torchdiffeq"] = (len(calls), ys_tdq.min().item())
print(f"torchdiffeq, rtol 0.1, its own first step: NFE {len(calls)}, "
      f"lowest prey {ys_tdq[:, 0].min():.3g}, lowest predators {ys_tdq[:, 1].min():.3g}")

# %% [markdown]
# Every run leaves the physical region (a negative population); what follows differs: a run
# may chase the blow-up with thousands of tiny steps or happen to stay small, and which one
# does depends on the opening step, not on which library runs. Nothing is wrong with either
# solver: the tolerance promised a 10% error per step, and on this problem that is enough to
# lose the solution altogether. A solution is only as meaningful as its tolerance allows —
# check it against a tighter one before you trust it.

# %%
claim(all(lowest < 0 for _nfe, lowest in loose_runs.values()),
      "every run at rtol 0.1 leaves the physical region (a negative population)",
      detail=str(loose_runs))
nfe_counts = [nfe for nfe, _lowest in loose_runs.values() if nfe is not None]
claim(len(nfe_counts) < len(loose_runs) or max(nfe_counts) > 10 * min(nfe_counts),
      "what follows differs: one run gives up or takes over ten times the evaluations of another",
      detail=str(loose_runs))

# %% [markdown]
# ## 5. Invertibility: run the flow backwards
#
# **Intuition.** An ODE flow can be undone: solve from $T$ back to $0$, starting at $h(T)$, and
# you return to $h(0)$. A Neural ODE is therefore invertible by construction, a property
# normalising flows rely on. In floating point, two things spoil it: the solver's own error on
# each leg, and the flow's *conditioning*. The spiral contracts by $e^{-0.5\cdot 10} \approx 1/148$
# forwards, so running it backwards magnifies every error made on the way by about 148.
#
# **Math.** $\phi_{-T}(\phi_T(h_0)) = h_0$ exactly; the reconstruction error
# $\|\hat\phi_{-T}(\hat\phi_T(h_0)) - h_0\|$ of the numerical flows $\hat\phi$ measures the rest.
#
# ### Exercise 2.3 — the reconstruction error
#
# Write `reconstruction_error(func, y0, t_end, method, step_size)`: solve `dy/dt = func(t, y)`
# from `t = 0` to `t_end` with `odeint(..., method=method, step_size=step_size)`, then from
# `t_end` back to `0` starting at the result, and return the Euclidean norm of the difference to
# `y0` as a float. Import what you need inside the cell. `ex.reconstruction_error.hint()` helps.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex02_reconstruction_error-answer"}
def reconstruction_error(func, y0, t_end, method, step_size):
    """||y_back - y0||: solve 0 -> t_end, then t_end -> 0, with the same method and step."""
    ### BEGIN SOLUTION
    from utils.solvers import odeint

    y_end = odeint(func, y0, [0.0, t_end], method=method, step_size=step_size)[-1]
    y_back = odeint(func, y_end, [t_end, 0.0], method=method, step_size=step_size)[-1]
    return float(np.linalg.norm(y_back - y0))
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex02_reconstruction_error", "points": 2}
reconstruction_error = ex.reconstruction_error.check()

# %% [markdown]
# **Check.** The reconstruction error on the spiral for fixed-step methods and for dopri5 at
# several tolerances (dopri5 ignores `step_size`; its tolerance is passed directly):

# %%
for method, step in (("euler", 0.01), ("midpoint", 0.05), ("rk4", 0.1), ("rk4", 0.5)):
    print(f"{method:8s} step {step:<4}: reconstruction error "
          f"{reconstruction_error(spiral, y0, T, method, step):.2g}")
for rtol in (1e-4, 1e-7, 1e-10):
    y_end = odeint(spiral, y0, [0.0, T], rtol=rtol, atol=rtol * 1e-2)[-1]
    y_back = odeint(spiral, y_end, [T, 0.0], rtol=rtol, atol=rtol * 1e-2)[-1]
    print(f"dopri5 rtol {rtol:.0e}: reconstruction error {np.linalg.norm(y_back - y0):.2g}")

# %%
fwd = odeint(spiral, y0, np.linspace(0, T, 201), method="euler", step_size=0.05)
back = odeint(spiral, fwd[-1], np.linspace(T, 0, 201), method="euler", step_size=0.05)
fig, ax = plt.subplots(figsize=(5, 5))
plots.phase_portrait({"forward (Euler, step 0.05)": fwd, "backward from the end": back}, ax=ax,
                     styles={"backward from the end": {"ls": "--"}})
ax.set(xlabel="x", ylabel="y")
ax.set_title(f"Euler there and back: misses (2, 0) by {np.linalg.norm(back[-1] - y0):.2g}")
plt.show()

# %% [markdown]
# With an accurate solver the start comes back to many digits; with Euler it does not. Euler
# forwards decays too slowly ($|1 + \Delta t\lambda| > e^{-0.5\Delta t}$) and Euler backwards
# grows too fast ($|1 - \Delta t\lambda| > e^{0.5\Delta t}$): the two errors add up instead of
# cancelling, and the backward leg magnifies whatever the forward leg got wrong.
# Invertibility is a property of the exact flow; how well we can use it is a property of the solver.
#
# ## 6. What a flow cannot do: 1-D trajectories never cross
#
# **Intuition.** Two solutions of the same ODE `dh/dt = f(t, h)` (with $f$ Lipschitz) can never
# meet: if they did, both would continue from the same point, so they would have been the same
# solution all along (uniqueness). In one dimension that is a strong restriction: if
# $h_a(0) < h_b(0)$ then $h_a(T) < h_b(T)$ for every $T$. A flow can stretch and squeeze the
# line, but it cannot swap two points. The map $x \mapsto -x$ is out of reach.
#
# A single residual block has no such restriction: $h + f(h)$ with $f(h) = -2h$ gives exactly
# $h \mapsto -h$. Dupont, Doucet & Teh (2019, arXiv:1904.01681) pointed this out and lift the
# flow into extra dimensions ("augmented Neural ODEs"); lesson 07 (`07_classifiers.ipynb`)
# trains them.
#
# **Code, part 1: random 1-D flows preserve order.** Twenty random 1-D networks, nine sorted
# inputs each; we count pairs whose order the flow swaps, and do the same for one residual block
# built from the same network, with its update scaled up by 5:

# %%
torch.manual_seed(2)
inputs = torch.linspace(-2.0, 2.0, 9, dtype=torch.float64).reshape(-1, 1)
swapped_flow = swapped_block = 0
with torch.no_grad():
    for _ in range(20):
        g = ODEFunc(1, hidden=16).double()
        for p in g.parameters():
            p.mul_(3.0)  # larger weights: more dramatic dynamics
        out_flow = odeint(g, inputs, torch.tensor([0.0, 1.0], dtype=torch.float64),
                          rtol=1e-6, atol=1e-8)[-1]
        out_block = inputs + 5.0 * g(0.0, inputs)
        swapped_flow += int((out_flow.diff(dim=0) <= 0).sum())
        swapped_block += int((out_block.diff(dim=0) <= 0).sum())
print(f"neighbouring pairs swapped: flow {swapped_flow} of 160, residual block {swapped_block} of 160")

# %% [markdown]
# **Code, part 2: try to learn $x \mapsto -x$.** Two inputs, $-1 \to 1$ and $1 \to -1$. We train
# a 1-D Neural ODE (RK4, 5 steps on $[0, 1]$) and a single residual block with the same network
# size, both by Adam on the mean squared error. Any order-preserving map sends $-1$ and $1$ to
# $a < b$, and the best such choice is $a = b = 0$, so the ODE's loss can approach but never go
# below $\tfrac12(1^2 + 1^2) = 1$.

# %%
x_train = torch.tensor([[-1.0], [1.0]])
y_train = -x_train
t_01 = torch.linspace(0.0, 1.0, 6)  # 5 RK4 steps
torch.manual_seed(3)
ode_f = ODEFunc(1, hidden=16)
block_f = ODEFunc(1, hidden=16)
models = {
    "Neural ODE": (ode_f, lambda x: odeint(ode_f, x, t_01, method="rk4")[-1]),
    "residual block": (block_f, lambda x: x + block_f(0.0, x)),
}
losses = {name: [] for name in models}

# %% tags=["nbval-ignore-output", "progress"]
for name, (module, model) in models.items():
    opt = torch.optim.Adam(module.parameters(), lr=0.02)
    for _ in trange(150, desc=name):
        opt.zero_grad()
        loss = ((model(x_train) - y_train) ** 2).mean()
        loss.backward()
        opt.step()
        losses[name].append(loss.item())

# %% [markdown]
# The results of float32 training (their last digits differ from machine to machine), then what
# the text says about them, checked:

# %% tags=["nbval-ignore-output", "machine-digits"]
def rounded(x, digits=2):
    """Round, and turn -0.0 into 0.0 so the printed sign does not depend on the CPU."""
    return round(float(x), digits) + 0.0


predictions = {}
for name, (_module, model) in models.items():
    with torch.no_grad():
        predictions[name] = pred = model(x_train).flatten()
    loss = losses[name][-1]
    loss_text = f"{loss:.3g}" if loss > 1e-6 else "below 1e-6"
    print(f"{name:14s}: final loss {loss_text}, "
          f"maps -1 -> {rounded(pred[0]):.2f} and 1 -> {rounded(pred[1]):.2f}")

# %%
ode_pred, block_pred = predictions["Neural ODE"], predictions["residual block"]
measured = (f"Neural ODE: lowest loss {min(losses['Neural ODE']):.4g}, maps to "
            f"{ode_pred.tolist()}; residual block: final loss {losses['residual block'][-1]:.3g}, "
            f"maps to {block_pred.tolist()}")
claim(min(losses["Neural ODE"]) > 1 - 1e-3,
      "the Neural ODE's loss never goes below 1 (up to float32 rounding)", detail=measured)
claim(ode_pred[0] < ode_pred[1], "the Neural ODE keeps the order: -1 still lands below 1",
      detail=measured)
claim(ode_pred.abs().max() < 0.05, "the Neural ODE squeezes both points towards 0",
      detail=measured)
claim((block_pred[0] > 0.9) & (block_pred[1] < -0.9) & (losses["residual block"][-1] < 1e-4),
      "the residual block swaps them: -1 -> about 1, 1 -> about -1, loss nearly 0",
      detail=measured)

# %%
starts_1d = torch.linspace(-1.5, 1.5, 7).reshape(-1, 1)
t_paths = torch.linspace(0.0, 1.0, 51)
with torch.no_grad():
    paths = odeint(ode_f, starts_1d, t_paths, method="rk4", step_size=0.02)  # finer steps, to draw smooth paths
    block_out = (starts_1d + block_f(0.0, starts_1d)).flatten()
fig, (ax_l, ax_ode, ax_res) = plt.subplots(1, 3, figsize=(12, 3.8))
for name in models:
    ax_l.semilogy(losses[name], label=name)
ax_l.axhline(1.0, color="k", ls=":", lw=1, label="best order-preserving loss")
ax_l.set(xlabel="Adam step", ylabel="MSE", title="training")
ax_l.legend(fontsize="small")
ax_ode.plot(t_paths, paths[:, :, 0], color="tab:blue")
ax_ode.set(xlabel="t", ylabel="h(t)", title="Neural ODE: paths never cross")
for a, b in zip(starts_1d.flatten(), block_out, strict=True):
    ax_res.plot([0, 1], [a, b], "o-", color="tab:orange")
ax_res.set(xlabel="input (left) -> output (right)", title="residual block: lines cross")
ax_res.set_xticks([0, 1])
plt.tight_layout()
plt.show()

# %% [markdown]
# The Neural ODE squeezes both points towards 0, the best an order-preserving map can do; the
# residual block swaps them. (The block can do this because its one big step is not a flow:
# Euler steps that large need not be invertible or order-preserving.)

# %% [markdown]
# ## Before you hand in
# The cell below judges every exercise of this lesson on the answers you wrote, as the
# instructor's grader will: the cases your check cells ran and the hidden ones (named, never
# shown). `make check-my-work` does the same for all your notebooks from a terminal.

# %%
from utils.exercises import self_check

self_check("lesson02")

# %% [markdown]
# ## Key takeaways
# - A residual block `h + Δt f(h)` is one Euler step; a weight-shared stack of $N$ blocks is
#   Euler's method, and it approaches the ODE flow with a gap $\propto 1/N$ (measured slope above).
# - Large steps do not just lose accuracy: Euler on the spiral is unstable for Δt > 0.8 although
#   the ODE decays. The growth per step is $|1 + \Delta t\lambda|$.
# - An adaptive solver picks its own steps from an error estimate, rejects steps that miss the
#   tolerance, and spends more evaluations for tighter tolerances.
# - Flows are invertible (run them backwards); numerically the recovery is as good as the solver
#   and the conditioning of the flow allow.
# - Trajectories of an ODE never cross: a 1-D flow cannot swap two inputs, a ResNet block can.
#
# ## Further reading
# - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
#   Equations", NeurIPS 2018, arXiv:1806.07366.
# - K. He, X. Zhang, S. Ren, J. Sun, "Deep Residual Learning for Image Recognition", CVPR 2016,
#   arXiv:1512.03385.
# - E. Dupont, A. Doucet, Y. W. Teh, "Augmented Neural ODEs", NeurIPS 2019, arXiv:1904.01681.
# - E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I: Nonstiff
#   Problems*, 2nd ed., Springer 1993 (II.4 step-size control, II.5 Dormand–Prince).
# - torchdiffeq, the reference PyTorch implementation of Neural ODE solvers:
#   https://github.com/rtqichen/torchdiffeq
