"""An exception from the learner's code, in a sentence that points at the learner's own line.

``ValueError: operands could not be broadcast ... (line 3 of your `euler_step`: return y + h *
f(t))``: the frames of the course (``utils``) and of the libraries (NumPy, torch, the standard
library) are skipped, so the line shown is the last one the learner wrote. Torch's debugging
advice is dropped, and autograd's in-place error says what to change. Used by
:func:`.running.run_case` (an answer that raised) and :mod:`.core` (an answer cell that failed).
"""

from __future__ import annotations

import linecache
import os
import traceback

import numpy as np
import torch

from .text import cap

__all__ = ["error_words", "explain_error"]


def _folder(module) -> str:
    """The folder of a module's file (os, NumPy and torch are always files, never built in)."""
    return os.path.dirname(os.path.abspath(module.__file__))


_PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # .../utils
_LIBRARY_DIRS = tuple({_folder(m) for m in (os, np, torch)} | {os.path.dirname(_folder(np))})


def _learner_frames(tb) -> list[traceback.FrameSummary]:
    """The frames of a traceback that are the learner's code (not the course's, not libraries)."""
    frames = traceback.extract_tb(tb)
    return [f for f in frames
            if not os.path.abspath(f.filename).startswith(_PACKAGE_DIR + os.sep)
            and not os.path.abspath(f.filename).startswith(_LIBRARY_DIRS)
            and "site-packages" not in f.filename and not f.filename.startswith("<frozen")]


def error_words(exc: BaseException, limit: int) -> str:
    """'RuntimeError: ...', without torch's debugging advice, capped at a whole word; an
    autograd in-place error says what that means for the learner's code."""
    text = f"{type(exc).__name__}: {exc}".strip()
    if "Hint: enable anomaly detection" in text:  # torch's advice, for a debugger, not here
        text = text.split("Hint: enable anomaly detection")[0].strip()
    if "inplace operation" in text or "in-place operation" in text:
        text = (f"{type(exc).__name__}: a tensor autograd needs was changed in place "
                "(`h[...] = ...`, `h += ...` or a method ending in `_`); build a new tensor "
                "instead (torch.where, torch.cat)")
    return cap(text, limit)


def explain_error(exc: BaseException) -> str:
    """'ValueError: ... (line 3 of your `euler_step`: return y + h * f(t))'."""
    text = error_words(exc, 400)
    frames = _learner_frames(exc.__traceback__)
    if frames:
        last = frames[-1]
        code = (last.line or linecache.getline(last.filename, last.lineno or 0) or "").strip()
        where = f"line {last.lineno} of your `{last.name}`" if last.name != "<module>" else (
            f"line {last.lineno} of your cell")
        text += f" ({where}: {code})" if code else f" ({where})"
    return text
