"""The random generators seeded for a block of code, then put back as they were.

Checking an answer must give the same inputs and the same random draws every time, in the
learner's kernel, in the grader's sandbox and outside it; and it must never change the random
stream of the lesson around it (a cell after a check draws what it would have drawn without the
check). So every place that builds cases or runs an answer seeds Python's ``random``, NumPy's
global generator and PyTorch's CPU generator together, and restores all three afterwards::

    with seeded(0):
        cases = exercise.case_list()

Used by :func:`utils.exercises.running.run_case`, :meth:`utils.exercises.core.Exercise.case_list`
and the grader's kernel side (:func:`grader.kernel_side.record`), so all three seed alike.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

__all__ = ["RngState", "rng_state", "seed_all", "seeded", "set_rng_state"]

#: The state of the three generators: (``random.getstate()``, ``np.random.get_state()``,
#: ``torch.get_rng_state()``).
RngState = tuple[Any, Any, torch.Tensor]


def rng_state() -> RngState:
    """The current state of Python's, NumPy's and PyTorch's (CPU) global generators."""
    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def set_rng_state(state: RngState) -> None:
    """Put the three generators back to ``state`` (as :func:`rng_state` returned it)."""
    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.set_rng_state(state[2])


def seed_all(seed: int = 0) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators with the same ``seed``."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def seeded(seed: int = 0) -> Iterator[None]:
    """Run the block with the three generators seeded, then restore them (even on error)."""
    saved = rng_state()
    seed_all(seed)
    try:
        yield
    finally:
        set_rng_state(saved)
