"""How the judge writes results in a sentence: numbers, kinds of result, long texts cut short.

Shared by the wire format (:mod:`.wire` caps the texts it sends), the runner (:mod:`.running`
words an error) and the verdicts (:mod:`.verdict`), so all of them write alike.
"""

from __future__ import annotations

import numpy as np

__all__ = ["KIND_WORDS", "cap", "fmt", "relative_difference"]

#: How a message names each kind of result (see :class:`utils.exercises.wire.Value`).
KIND_WORDS = {
    "ndarray": "a NumPy array", "tensor": "a torch tensor", "number": "a number",
    "bool": "a bool", "list": "a list", "tuple": "a tuple", "dict": "a dict", "none": "None",
}


def cap(text: str, limit: int) -> str:
    """``text`` cut to at most ``limit`` characters at a word boundary, with an ellipsis."""
    text = str(text)
    if len(text) <= limit:
        return text
    cut = text[: max(limit - 2, 1)]
    if " " in cut[limit // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:(") + " …"


def fmt(x) -> str:
    """A number as ``0.123457``; a small array in full; a large one as its shape and first items."""
    arr = np.asarray(x)
    if arr.ndim == 0:
        return f"{arr.item():.6g}" if arr.dtype.kind in "biuf" else str(arr.item())
    if arr.size > 6:
        flat = np.array2string(arr.ravel()[:6], precision=4, separator=", ")
        return f"an array of shape {arr.shape} starting {flat[:-1]}, ...]"
    return np.array2string(arr, precision=6, separator=", ")


def relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    """The largest ``|got - want| / |want|`` (NaN ignored; 0 for empty arrays)."""
    scale = np.maximum(np.abs(want), 1e-300)
    return float(np.nanmax(np.abs(got - want) / scale)) if got.size else 0.0
