"""The one judge of every exercise, by its public names (a facade over the modules below).

Judging is split in two so that the learner's code and the expected values never need to meet:
:func:`run_case` runs an answer on one :class:`Case` and records an :class:`Outcome` (plain
data, JSON across the sandbox's boundary); :func:`judge` compares those outcomes with the
expected ones (:func:`expected_outcomes`) and returns a :class:`CheckResult`. The work is done in:

- :mod:`.model`: :class:`Case`, :class:`Status`, :class:`CheckResult` and the markers;
- :mod:`.wire`: :class:`Value`, :class:`Outcome`, :func:`describe` and their JSON form;
- :mod:`.running`: :func:`run_case` and :func:`expected_outcomes` (errors worded by
  :mod:`.errors`, random generators seeded by :mod:`.seeding`);
- :mod:`.withholding`: the course functions withheld while an answer's cases run;
- :mod:`.verdict`: :func:`judge` and the wording of every verdict;
- :mod:`.text`: how numbers, kinds of result and long texts are written in a sentence.

This module only re-exports their public names, for the code that imports the judge as one:
the grader (:mod:`grader.verdicts`, and :mod:`grader.kernel_side`, which looks ``run_case`` up
here each time it records, inside the learner's kernel), ``scripts/check_my_work.py`` and the
tests. ``_cap`` and ``_resolve`` are kept under their old private names for the tests that use
them.
"""

from __future__ import annotations

from .model import FROM_REFERENCE, UNDEFINED, WITHHELD, Case, CheckResult, Status
from .running import expected_outcomes, run_case
from .text import cap
from .verdict import case_problem, judge
from .wire import MAX_ARRAY_BYTES, Outcome, Value, describe
from .withholding import WithheldFunction, pin, resolve, withholding

__all__ = [
    "WithheldFunction", "pin", "withholding",
    "Status", "Case", "CheckResult", "Value", "Outcome", "describe", "run_case",
    "expected_outcomes", "judge", "case_problem", "FROM_REFERENCE", "WITHHELD", "UNDEFINED",
    "MAX_ARRAY_BYTES",
]

_cap, _resolve = cap, resolve  # their old private names, which tests import
