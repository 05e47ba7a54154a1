"""The shared package of the Neural ODE course.

Modules, by what they are:
    solvers     odeint (torchdiffeq's call): fixed-step and adaptive Runge–Kutta solvers
    tableaus    the Runge–Kutta methods as Butcher tableaus (torchdiffeq's explicit ones, tsit5)
    adjoint     odeint_adjoint: gradients by the adjoint method (constant memory)
    models      ODEFunc (learned dynamics) and NeuralODE (dynamics + solver)
    systems     example dynamics: Lotka–Volterra, a linear spiral, a damped oscillator
    datasets    the lynx–hare data and synthetic training sets
    training    a readable training loop
    arrays      small computing helpers (to_numpy, field_on_grid); no drawing
    plots, widgets   figures and what the lessons' sliders compute
    profiling   peak memory and timing measurements
    classification  lesson 07: digit classifiers with ODE blocks, augmented flows
    flows       lesson 08: continuous normalizing flows
    latent      lesson 09: latent ODEs and GRUs for irregularly sampled series
    hamiltonian, symplectic   lesson 10: Hamiltonian models; leapfrog and other splitting methods
    exercises   graded exercises: cases, the judge, references (solutions/), self_check
(The instructors' grader is a package of its own, ``grader``.)

The most used names are importable from here. Importing ``utils`` changes no global state
(no seeds, no rcParams).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .adjoint import odeint_adjoint
    from .models import NeuralODE, ODEFunc
    from .solvers import SolveStats, odeint
    from .tableaus import ButcherTableau

__all__ = ["odeint", "odeint_adjoint", "SolveStats", "ButcherTableau", "ODEFunc", "NeuralODE"]

# Imported when first used, so that ``utils.course`` (the course's conventions, read by the
# grader and the self-check) imports without torch.
_WHERE = {"odeint": "solvers", "SolveStats": "solvers", "odeint_adjoint": "adjoint",
          "ODEFunc": "models", "NeuralODE": "models", "ButcherTableau": "tableaus"}


def __getattr__(name: str):
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
