"""The shared package of the Neural ODE course: solvers, models, systems, data, plots, exercises.

Import what a lesson needs from its module, e.g. ``from utils.solvers import odeint``; the most
used names are also here. Importing ``utils`` changes no global state (no seeds, no rcParams).
"""

from .solvers import SolveStats, odeint
from .tableaus import ButcherTableau

__all__ = ["odeint", "SolveStats", "ButcherTableau"]
