"""Claims: what a lesson's prose says about a computed result, checked on the learner's machine.

Why. Float32 training, adaptive step counts and timings are not bit-reproducible across CPUs and
math libraries: the same lesson prints 0.174 on one machine and 0.026 on another. Comparing those
digits checks the machine, not the lesson; comparing nothing would hide real regressions. So a
lesson prints such results in a cell whose digits are not compared (tagged ``machine-digits``,
see below), and right after it states what the text says about them as a *claim*:

    >>> claim(aug_loss < plain_loss, "the augmented flow ends with a lower loss than the plain one",
    ...       detail=f"augmented {aug_loss:.3g}, plain {plain_loss:.3g}")
    ✓ the augmented flow ends with a lower loss than the plain one

A claim that holds prints one line, ``✓`` and the text, with no digits: that line is the same on
every machine, so nbval compares it strictly. A claim that fails raises :class:`ClaimError`,
naming the claim and the measured values (``detail``), so the notebook, and nbval with it, stops
where the lesson would otherwise mislead its reader. Claims use tolerances that hold across seeds
and machines, not the margins of one stored run.

Rounding noise is never printed as digits: :func:`magnitude` turns ``8.4e-09`` into
``"< 1e-06"`` (or whatever floor the lesson states), which every machine prints alike.

How the notebooks' cells are marked (``tests/test_checked_outputs.py`` enforces it): a code cell
whose output nbval does not compare carries ``nbval-ignore-output`` and exactly one reason tag,

- ``machine-digits``: it prints results of float32 training, adaptive step counts or timings;
  a claim must follow it (in the cell itself or within the next two code cells);
- ``progress``: a training loop with a progress bar; its results are printed by a later cell,
  which claims must follow, as for ``machine-digits``;
- ``slider``: an ``ipywidgets.interact`` cell (nbval cannot compare widget output); what the
  slider computes is tested in ``tests/``.

Every other code cell is compared digit for digit: exact maths and float64 numerics printed far
above their rounding.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["ClaimError", "claim", "magnitude"]

CHECK_MARK = "✓"


class ClaimError(AssertionError):
    """A claim the lesson makes about its own results did not hold in this run."""


def claim(condition, text: str, *, detail: str | None = None) -> None:
    """Check what the lesson says about a result; print ``✓ text`` or raise :class:`ClaimError`.

    Args:
        condition: a bool, or anything whose every element must be true (a NumPy or torch
            boolean array: "at every seed"). An empty array is refused: a claim about nothing
            cannot be checked.
        text: the claim, in the lesson's words (printed as it is; no digits, so it is the same
            on every machine).
        detail: the measured values behind the claim, shown only when it fails.

    Raises:
        TypeError: ``text`` is not a non-empty string.
        ValueError: ``condition`` is an empty array.
        ClaimError: the claim is false in this run.
    """
    if not isinstance(text, str) or not text.strip():
        raise TypeError(f"claim(condition, text): text must be a non-empty string, got {text!r}")
    holds = _all_true(condition)
    if not holds:
        message = f"The lesson claims: {text!r}, but this run disagrees"
        message += f" ({detail})." if detail else "."
        message += (" The text above is wrong for this run: if you changed the lesson's code or"
                    " its settings, that is why; otherwise please report it.")
        raise ClaimError(message)
    print(f"{CHECK_MARK} {text}")


def _all_true(condition) -> bool:
    if hasattr(condition, "detach"):  # a torch tensor: no torch import needed to read it
        condition = condition.detach().cpu().numpy()
    array = np.asarray(condition)
    if array.dtype == object:
        raise TypeError(f"claim(condition, ...): condition must be a bool or an array of bools, "
                        f"got {type(condition).__name__}")
    if array.size == 0:
        raise ValueError("claim(condition, ...): condition is empty; a claim about no values "
                         "cannot be checked")
    return bool(array.all())


def magnitude(value: float, *, floor: float = 1e-6) -> str:
    """A small error, printed so that every machine prints the same: ``"< floor"`` below ``floor``.

    Rounding noise (``8.4e-09`` here, ``1.7e-08`` there) is below ``floor``; above it, the value
    is given to one significant digit, as a power-of-ten bound ("~ 3e-04"). Use it for
    differences that should be zero up to rounding, and check the bound with :func:`claim`.

    Args:
        value: a non-negative float (an error or a difference; its absolute value is used).
        floor: the bound below which the value is rounding noise (positive).
    """
    if not floor > 0:
        raise ValueError(f"magnitude(..., floor={floor!r}): floor must be positive")
    value = abs(float(value))
    if math.isnan(value):
        return "nan"
    if value < floor:
        return f"< {floor:.0e}"
    return f"~ {value:.0e}"
