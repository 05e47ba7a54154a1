# %% [markdown]
# # Lesson 04 — The adjoint method: gradients without storing the solve
#
# **Why this matters.** To train a Neural ODE we need $\partial L/\partial\theta$ through an ODE
# solve. Backpropagating through the solver's operations keeps every intermediate tensor of every
# step: memory grows with the number of steps. The adjoint method of Chen et al. (2018) gets the
# same gradient by solving a second ODE backwards in time, and stores none of the steps. This
# lesson derives it, checks it, **measures** the memory it saves, and measures what it costs.
#
# **Learning objectives**
# - [ ] go from the chain rule to the adjoint $a(t)=\partial L/\partial h(t)$ and its ODE;
# - [ ] compute the gradients of $\dot h=\theta h$ by hand and check them against the adjoint;
# - [ ] write the augmented dynamics (state, adjoint, parameter gradient) yourself;
# - [ ] measure peak memory and function evaluations, direct backprop vs adjoint;
# - [ ] measure when the adjoint's gradient is inaccurate, and choose between the two.
#
# **Prerequisites:** Lessons 01–03 (`odeint`, `ODEFunc`, `NeuralODE`, backpropagating through a
# solver step), the chain rule, PyTorch autograd. **Time:** about 45 minutes.

# %%
import math

import matplotlib.pyplot as plt
import torch
from ipywidgets import FloatLogSlider, interact
from torch import nn

from utils.adjoint import adjoint_gradient_error, odeint_adjoint
from utils.claims import claim, magnitude
from utils.exercises import lesson04 as ex
from utils.models import ODEFunc
from utils.profiling import gradient_workload, peak_memory
from utils.solvers import odeint

_ = torch.manual_seed(0)

# %% [markdown]
# ## 1. From the chain rule to the adjoint
#
# **Intuition.** A solver with $N$ steps is a network with $N$ layers. Backprop walks the layers
# backwards carrying $a_n=\partial L/\partial h_n$, and needs every $h_n$ to do it, so it stores
# them all. Let the step shrink to zero and that backward recursion becomes an ODE for $a(t)$,
# solved backwards in time — and $h(t)$, which it needs, can itself be recomputed backwards from
# $h(T)$ instead of being stored.
#
# **The discrete recursion.** Write one step of any one-step solver as
# $h_{n+1} = h_n + \Delta t\,\Phi(h_n, t_n, \theta)$, where $\Phi$ is the solver's *increment
# function*: $\Phi = f$ for Euler, the weighted average $\tfrac16(k_1 + 2k_2 + 2k_3 + k_4)$ of
# the stages for RK4. For a loss $L(h_N)$ the chain rule, one step at a time, gives (row vectors
# $a_n = \partial L/\partial h_n$):
# $$a_N = \frac{\partial L}{\partial h_N},\qquad
# a_n = a_{n+1}\frac{\partial h_{n+1}}{\partial h_n}
#     = a_{n+1}\Big(I + \Delta t\,\frac{\partial \Phi}{\partial h}(h_n)\Big),\qquad
# \frac{dL}{d\theta} = \sum_{n=0}^{N-1} a_{n+1}\,\Delta t\,\frac{\partial \Phi}{\partial \theta}(h_n).$$
# This is exactly what direct backpropagation through the solver computes: the gradient of the
# discrete solve.
#
# **The limit.** Rearranged, $\frac{a_{n+1} - a_n}{\Delta t} = -a_{n+1}\frac{\partial \Phi}
# {\partial h}$. As $\Delta t \to 0$, $\Phi \to f$ (every consistent method) and the recursion
# becomes an ODE, and the sum an integral:
# $$\frac{da}{dt} = -a(t)\,\frac{\partial f}{\partial h}\big(h(t), t, \theta\big),\qquad
# \frac{dL}{d\theta} = \int_{t_0}^{t_1} a(t)\,\frac{\partial f}{\partial \theta}\,dt
#                     = -\int_{t_1}^{t_0} a(t)\,\frac{\partial f}{\partial \theta}\,dt,\qquad
# \frac{dL}{dh(t_0)} = a(t_0).$$
# The integral is written from $t_1$ to $t_0$ (Chen et al. 2018, eqs. 3–5 and Algorithm 1)
# because that is the direction it is computed in: $a$ is only known at the end,
# $a(t_1) = \partial L/\partial h(t_1)$, so everything runs backwards. The running integral
# $g(t) = \int_t^{t_1} a\,\partial f/\partial\theta\,ds$ starts at $g(t_1) = 0$, obeys
# $\dot g = -a\,\partial f/\partial\theta$, and ends at $g(t_0) = dL/d\theta$.
#
# **The augmented state.** $h$, $a$ and $g$ are solved together from $t_1$ back to $t_0$ as one
# state $(h, a, g)$ with $\dot h=f,\ \dot a=-a\,\partial f/\partial h,\ \dot g=-a\,\partial f/
# \partial\theta$, starting from $(h(t_1),\ \partial L/\partial h(t_1),\ 0)$. The products
# $a\,\partial f/\partial h$ are vector–Jacobian products: one reverse-mode pass through $f$,
# never a full Jacobian.
#
# **A loss on several output times.** If $L = L(h(t_1), \dots, h(t_K))$, then between output
# times nothing changes, and at each $t_i$ the loss adds its own direct dependence: on the way
# back, at every output time, $a \leftarrow a + \partial L/\partial h(t_i)$ (a jump), then the
# backward solve continues to $t_{i-1}$. The full check in section 2 uses a loss on three output
# times and relies on these jumps.
#
# **Two routes to a gradient.** Differentiating the discrete solve (direct backprop) is called
# *discretise-then-optimise*: its gradient is exact for the numbers the solver produced.
# Solving the continuous adjoint ODE with its own solver is *optimise-then-discretise*: it
# approximates the gradient of the exact flow, with its own discretisation error, and the two
# gradients differ by about the solvers' errors. Section 5 measures that difference.
#
# ### The case you can check by hand: $\dot h=\theta h$
# Here $h(t)=h_0e^{\theta t}$. Take $L=h(T)$. Then $a(T)=1$, and $\dot a=-\theta a$ gives
# $a(t)=e^{\theta(T-t)}$. So $dL/dh_0=a(0)=e^{\theta T}$ and
# $$\frac{dL}{d\theta}=\int_0^T a(t)\,h(t)\,dt=\int_0^T e^{\theta(T-t)}h_0e^{\theta t}dt
# = T\,h_0\,e^{\theta T},$$
# which is exactly what differentiating $h(T)=h_0e^{\theta T}$ directly gives.

# %% [markdown]
# ### Exercise 4.1 (2 points)
# Write `growth_gradients(theta, h0, T)` returning the tuple `(dL/dh0, dL/dtheta)` for
# $\dot h=\theta h$, $h(0)=h_0$, $L=h(T)$, as plain floats. `ex.growth_gradients.hint()` gives a
# nudge, `ex.growth_gradients.solution()` the answer.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex04_growth_gradients-answer"}
def growth_gradients(theta, h0, T):
    """Closed-form (dL/dh0, dL/dtheta) for dh/dt = theta h, L = h(T)."""
    ### BEGIN SOLUTION
    growth = math.exp(theta * T)
    return growth, T * h0 * growth
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex04_growth_gradients", "points": 2}
growth_gradients = ex.growth_gradients.check()

# %% [markdown]
# **Code.** `utils.adjoint.odeint_adjoint` has the call of `odeint`; its forward solve keeps no
# graph, and `backward()` solves the augmented system. Check it against the closed form:

# %%
class Growth(nn.Module):
    """dh/dt = theta h."""

    def __init__(self, theta):
        super().__init__()
        self.theta = nn.Parameter(torch.tensor(theta, dtype=torch.float64))

    def forward(self, t, h):
        return self.theta * h


growth = Growth(0.7)
h0 = torch.tensor([1.5], dtype=torch.float64, requires_grad=True)
odeint_adjoint(growth, h0, torch.tensor([0.0, 2.0]), rtol=1e-10, atol=1e-12)[-1].sum().backward()
exact_h0, exact_theta = growth_gradients(0.7, 1.5, 2.0)
relative = {"dL/dh0": abs(h0.grad.item() - exact_h0) / abs(exact_h0),
            "dL/dtheta": abs(growth.theta.grad.item() - exact_theta) / abs(exact_theta)}
for name, exact_value in (("dL/dh0", exact_h0), ("dL/dtheta", exact_theta)):
    print(f"{name + ':':10s} closed form {exact_value:.8f}, adjoint's relative difference "
          f"{magnitude(relative[name], floor=1e-8)}")
claim(max(relative.values()) < 1e-8, "the adjoint gives the closed form to 8 digits",
      detail=str(relative))

# %% [markdown]
# ## 2. The general case: the augmented dynamics
# For an MLP $f_\theta$ nothing changes but the vector–Jacobian products, which autograd computes:
# `torch.autograd.grad(f, (h, *params), grad_outputs=a)` returns $a^\top\partial f/\partial h$ and
# $a^\top\partial f/\partial\theta$ in one pass.
#
# ### Exercise 4.2 (3 points)
# Write `augmented_dynamics(func, t, h, a, params)` returning `(dh/dt, da/dt, dg/dt)`, where
# `dg/dt` is a list with one tensor per parameter. The check runs a backward RK4 solve with your
# function under `torch.no_grad()`, as `odeint_adjoint`'s backward pass does, and compares the
# gradients it yields with the reference's. Hints: `ex.augmented_dynamics.hint()`,
# `ex.augmented_dynamics.solution()`.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex04_augmented_dynamics-answer"}
def augmented_dynamics(func, t, h, a, params):
    """(dh/dt, da/dt, [dg_i/dt]) = (f, -a^T df/dh, [-a^T df/dtheta_i])."""
    ### BEGIN SOLUTION
    with torch.enable_grad():
        h = h.detach().requires_grad_(True)
        f = func(t, h)
        vjp_h, *vjp_params = torch.autograd.grad(
            f, (h, *params), grad_outputs=a, allow_unused=True
        )
    dg = [torch.zeros_like(p) if v is None else -v for p, v in zip(params, vjp_params, strict=True)]
    return f.detach(), -vjp_h, dg
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex04_augmented_dynamics", "points": 3}
augmented_dynamics = ex.augmented_dynamics.check()

# %% [markdown]
# Now put `augmented_dynamics` to work (yours if it passed, else the reference): a backward RK4
# solve of the augmented system, under `torch.no_grad()` as in a real backward pass, gives the
# gradients of $L = \tfrac12\lVert h(1)\rVert^2$ for a small MLP. Direct backpropagation through
# the forward RK4 solve gives them too; the two agree up to the solver's discretisation error.

# %%
torch.manual_seed(0)
small = ODEFunc(2, hidden=8).double()
start = torch.tensor([[0.5, -1.0]], dtype=torch.float64)
with torch.no_grad():
    by_adjoint = ex.adjoint_gradients(augmented_dynamics, small, start, 1.0, n_steps=50)
small.zero_grad(set_to_none=True)
leaf = start.clone().requires_grad_(True)
end = odeint(small, leaf, torch.tensor([0.0, 1.0], dtype=torch.float64), method="rk4", step_size=0.02)
(end[-1].pow(2).sum() / 2).backward()
by_backprop = [leaf.grad] + [p.grad for p in small.parameters()]
gap = max(float((a - b).abs().max()) for a, b in zip(by_adjoint, by_backprop, strict=True))
whose = "your" if augmented_dynamics.__module__ == "__main__" else "the reference"
print(f"augmented_dynamics used: {whose}")
print(f"dL/dh0 by the adjoint dynamics: {by_adjoint[0].numpy().round(6)}")
print(f"dL/dh0 by direct backprop:      {by_backprop[0].numpy().round(6)}")
print(f"largest difference over all {len(by_adjoint)} gradient tensors: "
      f"{magnitude(gap, floor=1e-8)}")
claim(gap < 1e-8, "the adjoint dynamics and direct backprop give the same gradients to 8 digits",
      detail=f"largest difference {gap:.1e}")

# %% [markdown]
# The library version (`utils.adjoint.augmented_dynamics`) is the same computation on a named
# tuple `AdjointState(h, a, g)`. Now the full check on random MLP dynamics, a batch of states and
# a loss on several output times, in float64 at tight tolerances:

# %%
torch.manual_seed(1)
func = ODEFunc(3, hidden=16, layers=2).double()
y0 = torch.randn(8, 3, dtype=torch.float64)
t = torch.tensor([0.0, 0.4, 1.0], dtype=torch.float64)
weights = torch.randn(len(t), 8, 3, dtype=torch.float64)


def all_gradients(solve):
    func.zero_grad(set_to_none=True)
    y = y0.clone().requires_grad_(True)
    (weights * solve(func, y, t, rtol=1e-10, atol=1e-12)).sum().backward()
    return [y.grad] + [p.grad for p in func.parameters()]


direct, adjoint = all_gradients(odeint), all_gradients(odeint_adjoint)
worst = max(float((a - d).norm() / d.norm()) for a, d in zip(adjoint, direct, strict=True))
print(f"{len(direct)} gradient tensors; largest relative difference adjoint vs direct: "
      f"{magnitude(worst)}")
claim(worst < 1e-6, "at tight tolerances the adjoint and direct gradients agree to 6 digits",
      detail=f"largest relative difference {worst:.1e}")

# %% [markdown]
# ## 3. Memory, measured
# **What we measure.** One forward + backward pass of a Neural ODE (`ODEFunc(2, hidden=64)`, a
# batch of 1024 states, float32) solved with fixed-step Euler (one evaluation a step, so the step
# count is exactly what we choose, and the lesson stays fast): 10, 100, 1000 steps. `utils.profiling.peak_memory` runs each pass in a fresh child process and reads the
# peak resident memory above the baseline (torch's allocations are invisible to `tracemalloc`;
# see the module's docstring for why and how). Figures vary a little from run to run and from
# machine to machine; the checks after the figure hold everywhere.

# %% tags=["nbval-ignore-output", "machine-digits"]
step_counts = [10, 100, 1000]
measured = {
    gradient: [peak_memory(gradient_workload, gradient, n, batch=1024, method="euler") for n in step_counts]
    for gradient in ("direct", "adjoint")
}
for gradient, runs in measured.items():
    for n, m in zip(step_counts, runs, strict=True):
        print(f"{gradient:8s} {n:5d} steps: peak {m.peak_mb:8.2f} MB   {m.seconds:6.2f} s")
direct_mb = [m.peak_mb for m in measured["direct"]]
adjoint_mb = [m.peak_mb for m in measured["adjoint"]]
print(f"1000 vs 10 steps: direct x{direct_mb[-1] / direct_mb[0]:.0f}, "
      f"adjoint x{adjoint_mb[-1] / adjoint_mb[0]:.2f}")

# %%
fig, ax = plt.subplots(figsize=(6, 4))
ax.loglog(step_counts, direct_mb, "o-", label="direct backprop through the solver")
ax.loglog(step_counts, adjoint_mb, "s-", label="adjoint (odeint_adjoint)")
ax.set_xlabel("Euler steps")
ax.set_ylabel("peak memory above baseline (MB)")
ax.set_title("Memory of one forward + backward pass (measured)")
ax.legend()
plt.show()

# %% [markdown]
# Direct backprop grows in proportion to the steps (each step's activations stay in the graph
# until `backward`); the adjoint's line is flat: it holds one function evaluation's activations at
# a time. (What remains step-dependent is bookkeeping, e.g. the solver's log of step sizes when
# `return_stats=True`: tens of bytes a step, against hundreds of kilobytes for direct backprop.)

# %%
direct_kb_per_step = (direct_mb[-1] - direct_mb[1]) * 1e3 / (step_counts[-1] - step_counts[1])
memory_detail = (f"direct {direct_mb} MB, adjoint {adjoint_mb} MB; direct "
            f"{direct_kb_per_step:.0f} kB a step")
claim(5 < direct_mb[-1] / direct_mb[1] < 20,
      "direct backprop's memory grows in proportion to the steps (10x the steps, ~10x the memory)",
      detail=memory_detail)
claim(100 < direct_kb_per_step < 1000, "direct backprop keeps hundreds of kilobytes a step",
      detail=memory_detail)
claim(max(adjoint_mb) - min(adjoint_mb) < 1.0,
      "the adjoint's memory stays flat: within 1 MB from 10 to 1000 steps", detail=memory_detail)
claim(adjoint_mb[-1] < direct_mb[-1] / 10,
      "at 1000 steps the adjoint needs less than a tenth of direct backprop's memory",
      detail=memory_detail)
#
# ## 4. Cost, measured
# The price: the backward pass solves an ODE too, and each of its evaluations is a forward pass of
# $f$ **plus** a vector–Jacobian product. Direct backprop calls $f$ only in the forward solve;
# its backward pass is autograd replaying the recorded graph, one vector–Jacobian product per
# recorded evaluation (no new calls of $f$). The counts below are exact (fixed steps):

# %%
for gradient, runs in measured.items():
    nfe = runs[-1].result
    if gradient == "direct":
        backward = (f"no new calls of f; autograd replays {nfe['forward_nfe']} "
                    "vector-Jacobian products")
    else:
        backward = (f"{nfe['backward_nfe']} calls of f, each with a vector-Jacobian product "
                    "(the backward ODE solve)")
    print(f"{gradient:8s} 1000 steps: forward {nfe['forward_nfe']} calls of f; backward: {backward}")

# **Wall time** of one forward + backward pass, the same runs as the memory measurement (each in
# its own child process; timings vary from run to run, so read the ratio):

# %% tags=["nbval-ignore-output", "machine-digits"]
for n, d, a in zip(step_counts, measured["direct"], measured["adjoint"], strict=True):
    print(f"{n:5d} steps: direct {d.seconds:.2f} s, adjoint {a.seconds:.2f} s "
          f"(adjoint / direct = {a.seconds / d.seconds:.1f})")

# %% [markdown]
# The adjoint calls $f$ as often backwards as forwards (here: the same fixed steps; with
# `dopri5` the backward solve picks its own steps, often more), and each backward call adds a
# vector–Jacobian product. Direct backprop does the same number of vector–Jacobian products but
# no second round of forward evaluations. So the adjoint's forward + backward pass takes longer:
# the ratio printed above is the measurement on this machine for this model; it grows when the
# backward solve needs more steps than the forward one.

# %%
direct_seconds = sum(m.seconds for m in measured["direct"])
adjoint_seconds = sum(m.seconds for m in measured["adjoint"])
claim(adjoint_seconds > direct_seconds,
      "the adjoint's forward + backward pass takes longer than direct backprop's",
      detail=f"adjoint {adjoint_seconds:.2f} s, direct {direct_seconds:.2f} s over the three runs")
#
# ## 5. The honest caveat: the state is re-solved backwards
# The adjoint never stores $h(t)$: it re-solves it from $h(T)$ backwards. For **dissipative**
# dynamics (trajectories contract forwards) the backward solve *expands*, so every local error is
# amplified, and the gradient inherits it (Gholami, Keutzer & Biros 2019). We measure it on
# $\dot h=-k h+\tanh(Wh+b)$ with $T=2$: $k=0$ (mild) vs $k=5$ (strongly contracting), at three
# tolerances, and keep two questions apart:
#
# 1. **How accurate is each gradient?** Against the true gradient (direct backprop through a
#    solve at rtol 1e-11), both the adjoint and direct backprop at the *same* tolerance: that
#    compares like with like.
# 2. **Is the adjoint the gradient of what the solver computed?** The adjoint against direct
#    backprop on the *same* forward solve (optimise-then-discretise against
#    discretise-then-optimise, section 1). Their disagreement is the adjoint's own backward
#    error; "drift" is how far the backward re-solve of the state lands from $h(0)$.

# %%
class Damped(nn.Module):
    """dh/dt = -k h + tanh(W h + b): contracting for large k."""

    def __init__(self, k, seed=0):
        super().__init__()
        torch.manual_seed(seed)
        self.k = k
        self.lin = nn.Linear(2, 2).double()

    def forward(self, t, h):
        return -self.k * h + torch.tanh(self.lin(h))


y_damped = torch.tensor([[1.0, -0.5], [0.3, 0.8]], dtype=torch.float64)
tolerances = [1e-3, 1e-5, 1e-7]
caveat = {
    k: [
        adjoint_gradient_error(Damped(k), y_damped, 2.0, rtol=tol, atol=tol * 1e-2)
        for tol in tolerances
    ]
    for k in (0.0, 5.0)
}
print("                    vs the true gradient       adjoint vs direct")
print("  k  rtol      direct     adjoint          (same solve)     drift")
for k, rows in caveat.items():
    for tol, r in zip(tolerances, rows, strict=True):
        print(f"  {k:.0f}  {tol:.0e}   {r['direct_error']:.1e}    {r['gradient_error']:.1e}"
              f"          {r['adjoint_vs_direct']:.1e}          {r['drift']:.1e}")

# %%
fig, (ax_true, ax_same) = plt.subplots(1, 2, figsize=(12, 4.2))
for k, rows in caveat.items():
    ax_true.loglog(tolerances, [r["direct_error"] for r in rows], "o-",
                   label=f"direct backprop, k={k:.0f}")
    ax_true.loglog(tolerances, [r["gradient_error"] for r in rows], "s--",
                   label=f"adjoint, k={k:.0f}")
    ax_same.loglog(tolerances, [r["adjoint_vs_direct"] for r in rows], "o-",
                   label=f"adjoint vs direct, k={k:.0f}")
    ax_same.loglog(tolerances, [r["drift"] for r in rows], "x:", label=f"re-solve drift, k={k:.0f}")
for ax in (ax_true, ax_same):
    ax.set_xlabel("rtol of every solve")
    ax.set_ylabel("relative error")
    ax.legend(fontsize="small")
ax_true.set_title("against the true gradient, same tolerance")
ax_same.set_title("adjoint vs the solver's own gradient: tracks the drift")
plt.tight_layout()
plt.show()

# %% [markdown]
# Read the two panels separately. **Left:** at the same tolerance, neither gradient is
# systematically closer to the gradient of the *true* flow: in the table each is the closer one
# in some rows (which rows depends on the tolerance and on the network's random weights), and
# both are more accurate at the tightest tolerance than at the loosest. **Right:** the adjoint
# and direct backprop on the same solve disagree, and for the contracting system ($k = 5$) the
# disagreement is about the size of the drift, and more than an order of magnitude above the
# mild one's at every tolerance. That matters in training: an
# optimiser that gets the adjoint's gradient is not descending the loss the solver computed
# exactly, and near a minimum (where gradients are small) that mismatch can dominate. Tighten
# the backward tolerance, or use direct backprop, when it matters.

# %%
def column(k, key):
    return [r[key] for r in caveat[k]]


caveat_detail = str({k: {key: column(k, key) for key in ("direct_error", "gradient_error",
                                                         "adjoint_vs_direct", "drift")}
                     for k in caveat})
adjoint_closer = [a < d for k in caveat
                  for a, d in zip(column(k, "gradient_error"), column(k, "direct_error"),
                                  strict=True)]
claim(any(adjoint_closer) and not all(adjoint_closer),
      "neither gradient is always the closer one to the true gradient", detail=caveat_detail)
claim(all(column(k, key)[-1] < column(k, key)[0]
          for k in caveat for key in ("direct_error", "gradient_error")),
      "both are more accurate at the tightest tolerance than at the loosest",
      detail=caveat_detail)
claim(all(1 / 3 < m / d < 3
          for m, d in zip(column(5.0, "adjoint_vs_direct"), column(5.0, "drift"), strict=True)),
      "for k = 5, adjoint vs direct on the same solve is about the size of the drift",
      detail=caveat_detail)
claim(all(strong > 10 * mild for strong, mild in zip(column(5.0, "adjoint_vs_direct"),
                                                     column(0.0, "adjoint_vs_direct"),
                                                     strict=True)),
      "and more than an order of magnitude above the mild system's", detail=caveat_detail)

# %% [markdown]
# **Slider.** Move the tolerance and watch the strongly damped system ($k=5$): accuracy and the
# number of evaluations trade off. (The slider's computation is
# `utils.adjoint.adjoint_gradient_error`, tested in `tests/test_adjoint.py`.)

# %% tags=["nbval-ignore-output", "slider"]
# The slider browses six tolerances: measure them once, here, so that moving it only looks up.
by_exponent = {e: adjoint_gradient_error(Damped(5.0), y_damped, 2.0, rtol=10.0**e,
                                         atol=10.0**e * 1e-2) for e in range(-8, -2)}


def show_tolerance(rtol=1e-4):
    r = by_exponent[round(math.log10(rtol))]
    print(f"rtol={rtol:.0e}, k=5\n"
          f"  vs the true gradient:   direct {r['direct_error']:.1e}, adjoint {r['gradient_error']:.1e}\n"
          f"  adjoint vs direct (same solve): {r['adjoint_vs_direct']:.1e}, drift {r['drift']:.1e}\n"
          f"  adjoint's evaluations: forward {r['forward_nfe']}, backward {r['backward_nfe']}")


_ = interact(show_tolerance, rtol=FloatLogSlider(value=1e-4, base=10, min=-8, max=-3, step=1))

# %% [markdown]
# ## 6. When to use which, and the middle ground
# - **Direct backprop** (`odeint`): exact gradient of what the solver computed, fastest; memory
#   grows with steps × batch × width. Use it while that fits.
# - **Adjoint** (`odeint_adjoint`): memory flat in the number of steps; more compute (a second
#   round of evaluations backwards: section 4's measured ratio); its gradient differs from the
#   gradient of what the solver computed by about the backward drift, a lot for dissipative or
#   chaotic dynamics unless the backward tolerance is tight. Use it when direct backprop does not fit in memory.
# - **Checkpointing**, the middle ground: store the state only at a few checkpoints during the
#   forward solve; in backward, recompute each segment forwards *with* a graph and backprop through
#   it. Memory ~ one segment's graph + the checkpoints, cost ~ one extra forward solve, and the
#   gradient is the exact one of the discrete solve (no backward re-solve, so no drift). ANODE
#   (Gholami et al. 2019) builds on this; in PyTorch, `torch.utils.checkpoint` does it per segment.

# %% [markdown]
# ## Before you hand in
# The cell below judges every exercise of this lesson on the answers you wrote, as the
# instructor's grader will: the cases your check cells ran and the hidden ones (named, never
# shown). `make check-my-work` does the same for all your notebooks from a terminal.

# %%
from utils.exercises import self_check

self_check("lesson04")

# %% [markdown]
# ## Key takeaways
# - The adjoint $a(t)=\partial L/\partial h(t)$ obeys $\dot a=-a^\top\partial f/\partial h$,
#   solved backwards with $h$ and the parameter-gradient integral as one augmented state.
# - Measured here: direct backprop's memory grows with the number of steps, the adjoint's stays
#   flat; the adjoint costs more evaluations and more time per step.
# - Direct backprop is discretise-then-optimise (the exact gradient of the discrete solve); the
#   adjoint is optimise-then-discretise. At equal tolerance neither is more accurate as a
#   gradient of the true flow, but the adjoint differs from the solver's own gradient by about
#   its backward drift, large for dissipative dynamics. Tighten the tolerance, or use direct
#   backprop or checkpointing.
#
# ## Further reading
# - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
#   Equations", NeurIPS 2018, arXiv:1806.07366 (section 2, Algorithm 1, Appendix B).
# - L. S. Pontryagin, V. G. Boltyanskii, R. V. Gamkrelidze, E. F. Mishchenko, *The Mathematical
#   Theory of Optimal Processes*, 1962 (the adjoint equations' origin).
# - A. Gholami, K. Keutzer, G. Biros, "ANODE: Unconditionally Accurate Memory-Efficient Gradients
#   for Neural ODEs", 2019, arXiv:1902.10298 (when the adjoint's gradient is wrong; checkpointing).
# - P. Kidger, "On Neural Differential Equations", PhD thesis, 2022, arXiv:2202.02435
#   (chapter 5: backpropagation through ODEs, adjoints and their variants).
