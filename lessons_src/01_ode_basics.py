# ---
# jupyter:
#   kernelspec:
#     display_name: Neural ODE course (Python 3)
#     language: python
#     name: neural-ode-course
# ---

# %% [markdown]
# # Lesson 01 — ODE basics: what solving an ODE means, and what a solver gets wrong
#
# **Why this matters.** A Neural ODE is a neural network whose layers are replaced by an ODE
# solver. Everything it does — its accuracy, its cost, its gradients — is decided by how that
# solver works. Before we put a network inside an ODE, we build solvers by hand and *measure*
# how they fail.
#
# **Learning objectives.** After this lesson you can:
# - [ ] say what an ordinary differential equation (ODE) and an initial value problem are;
# - [ ] write Euler's method (one step, then a loop) and a Runge–Kutta 4 step;
# - [ ] see Euler's error grow as a drift in a quantity the true solution conserves;
# - [ ] measure a method's convergence order from a log-log plot;
# - [ ] read what an adaptive solver (Dormand–Prince 5(4)) does with its steps, and when it wins.
#
# **Prerequisites.** Python, NumPy, a little calculus (derivatives). No PyTorch yet.
#
# **Time.** About 45 minutes. Exercises are marked *Exercise*; each has a check cell right after
# it that answers at once. Stuck? `ex.<name>.hint()` gives a hint, `ex.<name>.solution()` a solution.

# %%
import time

import ipywidgets as widgets
import matplotlib
import matplotlib.pyplot as plt
import numpy as np

from utils.claims import claim, magnitude
from utils.exercises import lesson01 as ex
from utils.solvers import odeint
from utils.systems import LotkaVolterra
from utils.widgets import show_lotka_volterra_euler

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## 1. What an ODE is
#
# An ordinary differential equation gives the *rate of change* of a state $y(t)$ as a function
# of time and the state itself:
#
# $$\frac{dy}{dt} = f(t, y), \qquad y(t_0) = y_0 .$$
#
# Together with the starting value $y_0$ this is an **initial value problem**. *Solving* it means
# finding the function $y(t)$ for later (or earlier) times. For $f(t, y) = -\tfrac12 y$ the
# solution is known in closed form, $y(t) = y_0 e^{-t/2}$; for most $f$ — and for every Neural
# ODE — it is not, and we compute it step by step.
#
# The picture: $f$ draws an arrow (a slope) at every point $(t, y)$; a solution is a curve that
# follows the arrows everywhere.

# %%
t_grid, y_grid = np.meshgrid(np.linspace(0, 6, 19), np.linspace(-2, 2, 13))
slope = -0.5 * y_grid
norm = np.sqrt(1 + slope**2)

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.quiver(t_grid, y_grid, 1 / norm, slope / norm, angles="xy", color="0.6", width=0.003)
t_fine = np.linspace(0, 6, 200)
for y_start in (-2.0, -1.0, 0.5, 1.5, 2.0):
    ax.plot(t_fine, y_start * np.exp(-0.5 * t_fine), lw=2)
ax.set(xlabel="t", ylabel="y", title="dy/dt = -y/2: slopes (arrows) and exact solutions (curves)")
plt.show()

# %% [markdown]
# ## 2. A system worth solving: predators and prey
#
# The Lotka–Volterra equations (Lotka 1925, Volterra 1926) model a prey population $x$ (hares)
# and a predator population $y$ (lynx):
#
# $$\frac{dx}{dt} = \alpha x - \beta x y, \qquad \frac{dy}{dt} = \delta x y - \gamma y .$$
#
# Prey grow at rate $\alpha$ and are eaten at a rate proportional to encounters $xy$; predators
# grow with those encounters and die at rate $\gamma$. We use $\alpha = 1.0$, $\beta = 0.1$,
# $\gamma = 1.5$, $\delta = 0.075$, start from 10 prey and 5 predators, and follow $t \in [0, 50]$.
#
# `utils.systems.LotkaVolterra` is this $f$, written as `f(t, y)` for a state `y = [x, y]`.
# `utils.solvers.odeint(f, y0, t)` solves it and returns the state at every time in `t`
# (the call shape of `torchdiffeq.odeint`, which later lessons use too). Here we ask for a very
# tight tolerance: this is our **reference solution**, the yardstick for everything below.

# %%
lv = LotkaVolterra(alpha=1.0, beta=0.1, gamma=1.5, delta=0.075)
y0 = np.array([10.0, 5.0])
t = np.linspace(0.0, 50.0, 5001)  # output every 0.01
reference = odeint(lv, y0, t, rtol=1e-11, atol=1e-11)

print("shape of the solution:", reference.shape, "(times, [prey, predators])")
print("state at t = 50:", np.round(reference[-1], 3))
print("prey ranges over", np.round([reference[:, 0].min(), reference[:, 0].max()], 2))
print("predators range over", np.round([reference[:, 1].min(), reference[:, 1].max()], 2))

# %%
fig, axes = plt.subplots(1, 2, figsize=(12, 4))
axes[0].plot(t, reference[:, 0], color="tab:green", label="prey x")
axes[0].plot(t, reference[:, 1], color="tab:red", label="predators y")
axes[0].set(xlabel="t", ylabel="population", title="Lotka–Volterra: time series")
axes[0].legend()
axes[1].plot(reference[:, 0], reference[:, 1], color="tab:purple")
axes[1].plot(*y0, "ko", label="start (10, 5)")
axes[1].plot(*lv.equilibrium, "k+", ms=12, label="equilibrium (γ/δ, α/β)")
axes[1].set(xlabel="prey x", ylabel="predators y", title="phase portrait: one closed orbit")
axes[1].legend()
plt.show()

# %% [markdown]
# The orbit is closed: the populations cycle forever with the same amplitude. That is a property
# of the exact solution, and we will use it to catch a solver's errors.
#
# ## 3. Euler's method
#
# **Intuition.** Stand at $(t_n, y_n)$, read the slope $f(t_n, y_n)$, and walk along it for a short
# time $h$. Repeat.
#
# **Math.** With step size $h$ and $t_{n+1} = t_n + h$:
#
# $$y_{n+1} = y_n + h\, f(t_n, y_n).$$
#
# The slope changes during the step, and Euler ignores that: each step makes an error of order
# $h^2$, and over a fixed time span ($1/h$ steps) the errors add up to order $h$.
#
# ### Exercise 1.1 — one Euler step
# Write `euler_step(f, t, y, h)` returning the state after one Euler step. `y` is a NumPy array
# (any shape); `f(t, y)` returns an array of the same shape. `h` may be negative (a step
# backwards in time).

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex01_euler_step-answer"}
def euler_step(f, t, y, h):
    """One Euler step of dy/dt = f(t, y) from (t, y) with step h."""
    ### BEGIN SOLUTION
    return y + h * f(t, y)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01_euler_step", "points": 2}
euler_step = ex.euler_step.check()

# %% [markdown]
# ### Exercise 1.2 — Euler's method on a time grid
# Write `euler_solve(f, y0, t)`: starting from `y0` at `t[0]`, take one `euler_step` from each
# `t[n]` to `t[n+1]`, and return all states stacked: an array of shape `(len(t), *y0.shape)`.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex01_euler_solve-answer"}
def euler_solve(f, y0, t):
    """Euler's method on the grid t: returns ys with ys[n] ~ y(t[n]), shape (len(t), *y0.shape)."""
    ### BEGIN SOLUTION
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        ys.append(euler_step(f, t[n], ys[-1], t[n + 1] - t[n]))
    return np.stack(ys)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01_euler_solve", "points": 2}
euler_solve = ex.euler_solve.check()

# %% [markdown]
# Now Euler on Lotka–Volterra with $h = 0.01$ (5,000 steps), next to the reference:

# %%
euler = euler_solve(lv, y0, t)
print("Euler (h = 0.01) at t = 50:", np.round(euler[-1], 3))
print("reference at t = 50:       ", np.round(reference[-1], 3))
print("largest error over [0, 50]:", np.round(np.abs(euler - reference).max(), 3))

fig, ax = plt.subplots(figsize=(6, 5))
ax.plot(reference[:, 0], reference[:, 1], "k", lw=1, label="reference")
ax.plot(euler[:, 0], euler[:, 1], color="tab:orange", lw=1, label="Euler, h = 0.01")
ax.set(xlabel="prey x", ylabel="predators y", title="Euler spirals outwards")
ax.legend()
plt.show()

# %% [markdown]
# Euler's orbit does not close: every lap is a little larger than the last. The outward spiral
# is the accumulated error, not biology.
#
# ## 4. What goes wrong with Euler: a conserved quantity drifts
#
# Along every exact Lotka–Volterra solution the quantity
#
# $$V(x, y) = \delta x - \gamma \ln x + \beta y - \alpha \ln y$$
#
# stays constant (differentiate it along a solution: the terms cancel). That is why the orbits
# close. A numerical solution that changes $V$ has left its orbit. We measure the relative drift
# $(V(t) - V(0))/|V(0)|$ for Euler with several step sizes.

# %%
V0 = lv.invariant(y0)
step_sizes = [0.02, 0.01, 0.005, 0.0025]
fig, ax = plt.subplots(figsize=(8, 4))
print(" h        drift of V at t = 50")
for h in step_sizes:
    ys = odeint(lv, y0, t, method="euler", step_size=h)
    drift = (lv.invariant(ys) - V0) / abs(V0)
    ax.plot(t, drift, label=f"Euler, h = {h}")
    print(f" {h:<8} {drift[-1]:.3g}")
ax.set(xlabel="t", ylabel="(V(t) - V(0)) / |V(0)|", title="Drift of the conserved quantity")
ax.legend()
plt.show()

# %% [markdown]
# Once $h$ is small, halving it roughly halves Euler's drift (compare the last rows): the error
# is proportional to $h$ — Euler is a *first-order* method. At larger steps the drift grows
# faster than $h$, because each lap starts from an already-wrong orbit.
#
# ## 5. Explore: step size and parameters
#
# Drag the sliders. `h` is Euler's step size; the four others are the model's parameters. The
# left panel is the time series (dashed: Euler), the middle the phase portrait, the right the
# drift of $V$ from section 4. Try `h = 0.05`; then make $\alpha$ larger (faster prey) and watch
# Euler fail sooner. With a large step and fast prey, one Euler step can overshoot a population
# below zero: the true solution never does that (a population that starts positive stays
# positive), and past zero the equations describe nothing — $\ln x$ in $V$ is undefined and the
# solution blows up. The figure stops there and says when. The reference (thin lines) is RK4
# with a step of 0.01, within $10^{-5}$ of the populations' size here; section 6 builds RK4.

# %% tags=["nbval-ignore-output", "slider"]
_ = widgets.interact(
    show_lotka_volterra_euler,
    step_size=widgets.FloatLogSlider(value=0.01, base=10, min=-3, max=-1.2, step=0.1,
                                     description="h", continuous_update=False),
    alpha=widgets.FloatSlider(value=1.0, min=0.6, max=1.6, step=0.05, description="α",
                              continuous_update=False),
    beta=widgets.FloatSlider(value=0.1, min=0.06, max=0.15, step=0.005, description="β",
                             continuous_update=False),
    gamma=widgets.FloatSlider(value=1.5, min=1.0, max=2.0, step=0.05, description="γ",
                              continuous_update=False),
    delta=widgets.FloatSlider(value=0.075, min=0.05, max=0.1, step=0.005, description="δ",
                              continuous_update=False),
)

# %% [markdown]
# ## 6. Runge–Kutta 4
#
# **Intuition.** Instead of trusting the slope at the start of the step, sample it four times —
# at the start, twice at the midpoint, at the end — and average, weighting the midpoint twice.
#
# **Math.**
#
# $$\begin{aligned}
# k_1 &= f(t, y), & k_2 &= f\!\left(t + \tfrac h2,\; y + \tfrac h2 k_1\right),\\
# k_3 &= f\!\left(t + \tfrac h2,\; y + \tfrac h2 k_2\right), & k_4 &= f(t + h,\; y + h k_3),
# \end{aligned}
# \qquad y_{n+1} = y_n + \tfrac h6 (k_1 + 2k_2 + 2k_3 + k_4).$$
#
# Four evaluations of $f$ per step instead of one, for an error of order $h^4$ instead of $h$.
#
# ### Exercise 1.3 — one RK4 step
# Write `rk4_step(f, t, y, h)`.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex01_rk4_step-answer"}
def rk4_step(f, t, y, h):
    """One classical Runge–Kutta 4 step of dy/dt = f(t, y) from (t, y) with step h."""
    ### BEGIN SOLUTION
    k1 = f(t, y)
    k2 = f(t + h / 2, y + h / 2 * k1)
    k3 = f(t + h / 2, y + h / 2 * k2)
    k4 = f(t + h, y + h * k3)
    return y + h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01_rk4_step", "points": 3}
rk4_step = ex.rk4_step.check()

# %% [markdown]
# Your `rk4_step` (or, until it passes, the reference's: the printout says which) and the
# library's `"rk4"` method are the same numbers (the library drives a
# table of coefficients, a *Butcher tableau*, through one loop; see `utils/tableaus.py`):

# %%
h = 0.05
y_mine = y0.copy()
for n in range(20):  # 20 steps of 0.05: from t = 0 to t = 1
    y_mine = rk4_step(lv, n * h, y_mine, h)
y_library = odeint(lv, y0, np.array([0.0, 1.0]), method="rk4", step_size=h)[-1]
whose = "your" if rk4_step.__module__ == "__main__" else "reference"  # yours once it passed
print(f"{whose + ' rk4_step at t = 1:':<26}", np.round(y_mine, 8))
print("odeint(method='rk4'):     ", np.round(y_library, 8))
largest_difference = np.abs(y_mine - y_library).max()
print("largest difference:", magnitude(largest_difference, floor=1e-10))
claim(largest_difference < 1e-10, "the two are the same numbers up to rounding",
      detail=f"largest difference {largest_difference:.1e}")

# %% [markdown]
# Back to the drift of section 4, now with RK4 at a step eight times larger than Euler's
# smallest:

# %%
ys = odeint(lv, y0, t, method="rk4", step_size=0.02)
drift_rk4 = (lv.invariant(ys) - V0) / abs(V0)
print(f"drift of V at t = 50: RK4 (h = 0.02) {drift_rk4[-1]:.2g}, "
      f"Euler (h = 0.0025) {drift[-1]:.3g}")

# %% [markdown]
# RK4 keeps $V$ constant to many more digits with eight times fewer steps (and half Euler's
# evaluations: four per step against Euler's one, on an eighth of the steps).

# %% [markdown]
# ## 7. Measuring the order of a method
#
# If a method's error at a fixed time behaves like $E(h) \approx C h^p$, then
# $\log E = \log C + p \log h$: on a log-log plot, a straight line whose **slope is the order
# $p$**. We measure it: solve to $t = 10$ with several step sizes, compare with the reference,
# and fit the slope.
#
# ### Exercise 1.4 — the convergence order
# Write `convergence_order(step_sizes, errors)` returning the slope of the least-squares line
# through the points $(\log h, \log E)$.

# %% nbgrader={"grade": false, "solution": true, "grade_id": "ex01_convergence_order-answer"}
def convergence_order(step_sizes, errors):
    """Empirical order p of a method from errors ~ C h^p: the slope in log-log coordinates."""
    ### BEGIN SOLUTION
    slope, _ = np.polyfit(np.log(step_sizes), np.log(errors), 1)
    return slope
    ### END SOLUTION


# %% nbgrader={"grade": true, "grade_id": "ex01_convergence_order", "points": 2}
convergence_order = ex.convergence_order.check()

# %%
t_short = np.array([0.0, 10.0])
y_true = odeint(lv, y0, t_short, rtol=1e-12, atol=1e-12)[-1]
hs = np.array([0.04, 0.02, 0.01, 0.005, 0.0025])
fig, ax = plt.subplots(figsize=(6.5, 4.5))
print("method    measured order")
for method, marker in (("euler", "o"), ("midpoint", "s"), ("rk4", "^")):
    errors = np.array([
        np.abs(odeint(lv, y0, t_short, method=method, step_size=h)[-1] - y_true).max() for h in hs
    ])
    order = convergence_order(hs, errors)
    ax.loglog(hs, errors, marker + "-", label=f"{method}: slope {order:.1f}")
    print(f"{method:<9} {order:.1f}")
ax.set_xticks(hs, labels=[f"{h:g}" for h in hs])
ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())  # no overlapping minor labels
ax.set(xlabel="step size h", ylabel="max error at t = 10", title="Error against step size")
ax.legend()
plt.show()

# %% [markdown]
# The slopes are close to 1, 2 and 4: halving the step divides Euler's error by 2 and RK4's by
# 16.
#
# **How low can RK4 go?** Keep halving RK4's step below 0.0025 and its measured error stops
# falling. Two things can set that floor: the *reference's* own error (here dopri5 at
# rtol 1e-12 — we cannot measure an error smaller than the yardstick's), and rounding: every
# step adds a few units of the last digit (about $10^{-16}$ relative, on numbers near 10), and
# thousands of steps add them up. We measure both: RK4 against the rtol 1e-12 reference and
# against a tighter one (rtol 1e-14), and the two references against each other. Errors this
# small sit close to rounding, whose last digits differ from machine to machine: the table's
# digits are yours, and the checks after it state what holds on every machine.

# %% tags=["nbval-ignore-output", "machine-digits"]
y_tighter = odeint(lv, y0, t_short, rtol=1e-14, atol=1e-14)[-1]
reference_gap = np.abs(y_true - y_tighter).max()
print(f"reference (rtol 1e-12) vs tighter reference (rtol 1e-14): {reference_gap:.0e}")
print("   h          steps   error vs rtol 1e-12   error vs rtol 1e-14")
errors_loose, errors_tight = [], []
for h in (0.0025, 0.00125, 0.000625):
    y_rk4 = odeint(lv, y0, t_short, method="rk4", step_size=h)[-1]
    errors_loose.append(np.abs(y_rk4 - y_true).max())
    errors_tight.append(np.abs(y_rk4 - y_tighter).max())
    print(f"   {h:<10g} {round(10 / h):>6}   {errors_loose[-1]:.0e}"
          f"                {errors_tight[-1]:.0e}")

# %%
measured = (f"reference gap {reference_gap:.2g}; errors vs rtol 1e-12 "
            f"{np.array(errors_loose)}, vs rtol 1e-14 {np.array(errors_tight)}")
claim(1e-12 < reference_gap < 1e-11, "the looser reference is itself off by a few units of 10^-12",
      detail=measured)
claim(abs(errors_loose[-1] - reference_gap) < 0.5 * reference_gap,
      "against it, RK4's error stops falling at the reference's own error", detail=measured)
claim(10 < errors_tight[0] / errors_tight[1] < 25,
      "against the tighter reference, halving h divides RK4's error by about 16",
      detail=measured)
claim(errors_tight[-1] < 1e-12,
      "with 16,000 steps, RK4 and the tighter reference agree to better than 10^-12",
      detail=measured)

# %% [markdown]
# Against the rtol 1e-12 reference RK4 flattens at a few $10^{-12}$: that is the reference's
# own error (the first line), not RK4's. Against the tighter reference RK4 keeps its fourth
# order: a halving of $h$ divides the error by about 16, down to below $10^{-12}$, where RK4
# with 16,000 steps and dopri5 at rtol 1e-14 agree. So the floor of the log-log plot is set by
# the yardstick: **an error can only be measured against a reference that is clearly more
# accurate than the thing measured** (a rule the later lessons follow). Rounding does set a
# floor too, but lower here: each step adds a few units of the last digit (about $10^{-16}$
# relative, on numbers near 10), and only over many more steps do those add up to the errors
# we measured.
#
# ## 8. Adaptive step size: Dormand–Prince 5(4)
#
# A fixed step must be small enough for the *hardest* part of the trajectory, and is then wasted
# where nothing happens. An **adaptive** solver estimates its own error on every step and
# chooses the next step size to keep that error near a tolerance. `odeint`'s default method,
# `"dopri5"` (Dormand & Prince 1980; the default of torchdiffeq and of scipy's `RK45` too),
# computes a 5th-order and a 4th-order solution from the same 7 stages; their difference
# estimates the error. A step is accepted when
#
# $$\operatorname{rms}\!\left(\frac{\text{err}}{\text{atol} + \text{rtol}\cdot\max(|y_n|, |y_{n+1}|)}\right) \le 1,$$
#
# and otherwise rejected and retried with a smaller step. Output times between steps are filled
# in by interpolating with the step's own stages (*dense output*), so asking for many output
# times does not force small steps. Here is where it steps on Lotka–Volterra with `rtol = 1e-6`:

# %%
ys_adaptive, stats = odeint(lv, y0, t, method="dopri5", rtol=1e-6, atol=1e-6, return_stats=True)
error_adaptive = np.abs(ys_adaptive - reference).max()
print(f"accepted steps: {stats.n_accepted}, rejected: {stats.n_rejected}, "
      f"function evaluations: {stats.n_fevals}")
print(f"first step: {stats.step_sizes[0]:.3f} (the solver's opening guess, from f at y0)")
print(f"after it, step sizes from {min(stats.step_sizes[1:]):.3f} "
      f"to {max(stats.step_sizes[1:]):.3f}")
print(f"largest error over [0, 50]: {error_adaptive:.1e}")

fig, ax1 = plt.subplots(figsize=(11, 4))
ax1.plot(t, reference[:, 0], color="tab:green", lw=1, label="prey")
ax1.plot(t, reference[:, 1], color="tab:red", lw=1, label="predators")
ax1.set(xlabel="t", ylabel="population")
ax2 = ax1.twinx()
ax2.plot(stats.step_starts, stats.step_sizes, "k.-", ms=4, lw=0.8, label="step size")
ax2.plot(stats.rejected_starts, np.full(len(stats.rejected_starts), min(stats.step_sizes) / 2),
         "x", color="tab:blue", label="rejected step")
ax2.set_ylabel("step size h")
handles = ax1.get_legend_handles_labels()[0] + ax2.get_legend_handles_labels()[0]
ax2.legend(handles=handles, loc="upper right", fontsize=8, ncol=4, framealpha=0.9)
ax2.set_ylim(0, 1.3 * max(stats.step_sizes))  # room for the legend inside the axes
ax1.set_title("dopri5 takes small steps where the populations change fast")
plt.show()

# %% [markdown]
# The step size shrinks each time the prey population crashes and the predators peak — where
# $f$ changes fastest — and grows in the quiet stretches between. (The very first step is not
# chosen by the error control: the solver has no error estimate yet and opens with a guess
# computed from $f(y_0)$ and the tolerance (Hairer, Nørsett & Wanner II.4); from the second
# step on, the controller sets the size.)
#
# Note that `rtol` bounds the error of each *step*; over 50 time units and hundreds of steps
# the errors add up, so the final error is larger than `rtol`.
#
# **Against fixed steps of the same accuracy.** What fixed RK4 step reaches the same largest
# error, and what does it cost in function evaluations? We try ever smaller steps until RK4 is at
# least as accurate as dopri5 was.

# %%
print("   h         max error   function evaluations")
for h in 0.2 * 0.8 ** np.arange(30):
    ys_rk4, stats_rk4 = odeint(lv, y0, t, method="rk4", step_size=h, return_stats=True)
    error_rk4 = np.abs(ys_rk4 - reference).max()
    print(f"   {h:<9.4f} {error_rk4:.1e}     {stats_rk4.n_fevals}")
    if error_rk4 <= error_adaptive:
        h_equal = h
        break
print(f"dopri5 (rtol 1e-6):  {error_adaptive:.1e}     {stats.n_fevals}")
print(f"RK4 needs {stats_rk4.n_fevals / stats.n_fevals:.1f}x the evaluations of dopri5 "
      "for the same accuracy")

# %% [markdown]
# On this problem the adaptive solver reaches the same accuracy with fewer evaluations, because
# it spends small steps only where they are needed. The gap grows with the contrast between
# fast and slow phases of a trajectory and shrinks for dynamics that are equally busy
# everywhere; an adaptive solver also pays for its rejected steps.
#
# Wall time is a separate question from evaluations: each adaptive step does more bookkeeping
# (the error estimate, the step-size choice, the dense output). The same two solves, at equal
# accuracy, timed in this run (the best of three runs each; timings vary from run to run and
# machine to machine; the ratio is what to read):

# %% tags=["nbval-ignore-output", "machine-digits"]
timings = {}
for name, kwargs in ((f"rk4, h = {h_equal:.4f}", dict(method="rk4", step_size=h_equal)),
                     ("dopri5, rtol = 1e-6", dict(method="dopri5", rtol=1e-6, atol=1e-6))):
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        odeint(lv, y0, t, **kwargs)
        runs.append(time.perf_counter() - start)
    timings[name] = min(runs)
    print(f"{name}: {timings[name] * 1000:.0f} ms per solve")
rk4_time, dopri5_time = timings.values()
print(f"RK4 takes {rk4_time / dopri5_time:.1f}x dopri5's wall time at equal accuracy")

# %% [markdown]
# Read the ratio with its cause in mind. Here $f$ is a few multiplications on two numbers, so
# one evaluation costs less than the adaptive solver's per-step bookkeeping: per evaluation,
# dopri5 spends more wall time than RK4 (checked below), and fixed-step RK4 can win on wall time
# despite its extra evaluations. When $f$ is expensive — a neural network, from lesson 03 on —
# the evaluations dominate the cost, and the count above is what decides.

# %%
claim(dopri5_time / stats.n_fevals > rk4_time / stats_rk4.n_fevals,
      "per function evaluation, dopri5 spends more wall time than RK4 (its per-step bookkeeping)",
      detail=f"dopri5 {dopri5_time * 1e3:.0f} ms / {stats.n_fevals} evaluations, "
             f"RK4 {rk4_time * 1e3:.0f} ms / {stats_rk4.n_fevals} evaluations")

# %% [markdown]
# ## Before you hand in
# The cell below judges every exercise of this lesson on the answers you wrote, as the
# instructor's grader will: the cases your check cells ran and the hidden ones (named, never
# shown). `make check-my-work` does the same for all your notebooks from a terminal.

# %%
from utils.exercises import self_check

self_check("lesson01")

# %% [markdown]
# ## Key takeaways
# - An ODE gives a state's rate of change; solving it means stepping from $y_0$ along $f$.
# - Euler is one line and first order: its error shrinks only in proportion to $h$, and on
#   Lotka–Volterra it shows as a steady drift of a quantity the true solution conserves.
# - RK4 spends four evaluations per step for fourth-order accuracy; the measured log-log slopes
#   (≈1, ≈2, ≈4) are how you *check* a method's order, not just believe it.
# - Adaptive solvers control an error estimate, put small steps where the dynamics are fast, and
#   interpolate output times: the same machinery runs inside every Neural ODE in this course.
#
# **Next:** Lesson 02 shows that a residual network is Euler's method in disguise.
#
# ## Further reading
# - E. Hairer, S. P. Nørsett, G. Wanner, *Solving Ordinary Differential Equations I: Nonstiff
#   Problems*, 2nd ed., Springer, 1993 — Runge–Kutta methods (II.1), step-size control (II.4),
#   dense output (II.6).
# - J. R. Dormand, P. J. Prince, "A family of embedded Runge–Kutta formulae", *Journal of
#   Computational and Applied Mathematics* 6(1), 19–26, 1980.
# - A. J. Lotka, *Elements of Physical Biology*, 1925; V. Volterra, "Fluctuations in the
#   abundance of a species considered mathematically", *Nature* 118, 558–560, 1926.
# - R. T. Q. Chen, Y. Rubanova, J. Bettencourt, D. Duvenaud, "Neural Ordinary Differential
#   Equations", NeurIPS 2018, arXiv:1806.07366.
