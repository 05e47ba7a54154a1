"""What one run of an answer produced, as plain data, and its JSON wire format.

The learner's answer runs in the learner's kernel or in the grader's sandbox; the expected values
never go there. So a run's result is turned into plain data first (:func:`describe` makes a
:class:`Value`: kind, dtype, shape, a NumPy copy of the numbers, whether it requires grad), and
one run on one case becomes an :class:`Outcome`. No learner object survives in either, so they
can cross the sandbox's boundary as JSON (``to_json``) and be read back outside
(``from_json``), defensively: only these fields, only numeric arrays (``np.save`` format in
base64, never pickle), sizes capped (:data:`MAX_ARRAY_BYTES`, depth and item counts), and
anything else raises ``ValueError``.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from .text import KIND_WORDS, cap, fmt

__all__ = ["MAX_ARRAY_BYTES", "Outcome", "Value", "describe"]

MAX_ARRAY_BYTES = 16 * 2**20  # a result array larger than this is not checked (nor sent out)
_MAX_DEPTH = 6
_MAX_ITEMS = 1000
_KINDS = {"ndarray", "tensor", "number", "bool", "list", "tuple", "dict", "none", "other"}


@dataclass(frozen=True)
class Value:
    """A description of one result, as plain data (no learner objects survive in it).

    ``kind`` is one of ndarray, tensor, number, bool, list, tuple, dict, none, other; arrays and
    tensors keep ``dtype`` (e.g. ``float32``), ``shape``, ``data`` (a NumPy copy) and
    ``requires_grad``; lists and tuples keep ``items``; ``text`` says what an "other" was.
    """

    kind: str
    dtype: str = ""
    shape: tuple = ()
    data: np.ndarray | None = None
    requires_grad: bool = False
    items: tuple = ()
    text: str = ""

    @property
    def words(self) -> str:
        """'a torch tensor of shape (3, 2), float32', 'a list of 2 items', 'None' ..."""
        if self.kind in ("ndarray", "tensor"):
            return f"{KIND_WORDS[self.kind]} of shape {self.shape}, {self.dtype}"
        if self.kind in ("list", "tuple"):
            return f"{KIND_WORDS[self.kind]} of {len(self.items)} items"
        if self.kind == "number":
            return f"the number {fmt(self.data)}"
        if self.kind == "other":
            return self.text
        return KIND_WORDS[self.kind]

    # JSON, for values that cross a process or sandbox boundary
    def to_json(self) -> dict:
        out: dict[str, Any] = {"kind": self.kind}
        if self.kind in ("ndarray", "tensor", "number", "bool"):
            out.update(dtype=self.dtype, shape=list(self.shape), requires_grad=self.requires_grad)
            if self.data is not None:
                buffer = io.BytesIO()
                np.save(buffer, self.data, allow_pickle=False)
                out["npy"] = base64.b64encode(buffer.getvalue()).decode("ascii")
        if self.kind in ("list", "tuple"):
            out["items"] = [v.to_json() for v in self.items]
        if self.text:
            out["text"] = cap(self.text, 300)
        return out

    @classmethod
    def from_json(cls, data, depth: int = 0) -> Value:
        """Parse what :meth:`to_json` wrote; raises ValueError on anything else (no pickle)."""
        if not isinstance(data, dict) or data.get("kind") not in _KINDS or depth > _MAX_DEPTH:
            raise ValueError(f"not a result description: {str(data)[:100]}")
        kind = data["kind"]
        text = str(data.get("text", ""))[:300]
        if kind in ("list", "tuple"):
            items = data.get("items")
            if not isinstance(items, list) or len(items) > _MAX_ITEMS:
                raise ValueError("a list result without a valid 'items' list")
            return cls(kind, items=tuple(cls.from_json(v, depth + 1) for v in items), text=text)
        if kind in ("ndarray", "tensor", "number", "bool"):
            array = None
            if "npy" in data:
                raw = data["npy"]
                if not isinstance(raw, str) or len(raw) > MAX_ARRAY_BYTES * 4 // 3 + 1024:
                    raise ValueError("an array result that is not base64 text of a sane size")
                try:
                    array = np.load(io.BytesIO(base64.b64decode(raw, validate=True)),
                                    allow_pickle=False)
                except (ValueError, OSError, binascii.Error) as exc:
                    raise ValueError(f"an unreadable array result ({exc})") from None
                if array.dtype.kind not in "biufc":
                    raise ValueError(f"an array result of dtype {array.dtype}")
            shape = data.get("shape", [])
            if not isinstance(shape, list) or not all(isinstance(n, int) for n in shape):
                raise ValueError("an array result with a bad shape")
            return cls(kind, dtype=str(data.get("dtype", ""))[:40], shape=tuple(shape), data=array,
                       requires_grad=bool(data.get("requires_grad", False)), text=text)
        return cls(kind, text=text)


def describe(x, depth: int = 0) -> Value:
    """A plain-data :class:`Value` for any result (the learner's or the reference's)."""
    if x is None:
        return Value("none")
    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        dtype = str(t.dtype).removeprefix("torch.")
        if t.element_size() * t.nelement() > MAX_ARRAY_BYTES:
            return Value("other", text=f"a tensor of {t.nelement()} numbers (too big to check)")
        if t.dtype in (torch.bfloat16, torch.float16):
            t = t.to(torch.float32)
        return Value("tensor", dtype=dtype, shape=tuple(t.shape), data=t.numpy().copy(),
                     requires_grad=bool(x.requires_grad))
    if isinstance(x, (bool, np.bool_)):
        return Value("bool", dtype="bool", data=np.asarray(bool(x)))
    if isinstance(x, (int, float, np.integer, np.floating)):
        try:
            data = np.asarray(float(x))
        except OverflowError:
            data = np.asarray(math.copysign(math.inf, x))
        return Value("number", dtype=type(x).__name__, data=data)
    if isinstance(x, np.ndarray):
        if x.dtype.kind not in "biufc":
            return Value("other", text=f"a NumPy array of dtype {x.dtype} (not numbers)")
        if x.nbytes > MAX_ARRAY_BYTES:
            return Value("other", text=f"an array of {x.nbytes / 2**20:.0f} MB (too big to check)")
        return Value("ndarray", dtype=str(x.dtype), shape=x.shape, data=x.copy())
    if isinstance(x, (list, tuple)):
        kind = "list" if isinstance(x, list) else "tuple"
        if depth >= _MAX_DEPTH or len(x) > _MAX_ITEMS:
            return Value("other", text=f"{KIND_WORDS[kind]} too long or deep to check")
        return Value(kind, items=tuple(describe(v, depth + 1) for v in x))
    if isinstance(x, dict):
        return Value("dict", text="a dict")
    name = type(x).__name__
    try:
        shown = repr(x)
    except Exception:  # a learner's object whose repr fails
        shown = "?"
    return Value("other", text=f"an object of type {name} ({shown[:80]})")


@dataclass(frozen=True)
class Outcome:
    """What one run of an answer on one case produced, as plain data.

    ``status`` is ``returned`` (``value`` holds the result), ``raised`` (``error`` says what, at
    the learner's own line), ``not attempted`` (the stub's ``NotImplementedError``), ``undefined``,
    ``not callable`` or ``checker failed`` (the harness could not use what the answer returned:
    ``last_return`` says what that was). ``mutated`` names the arguments changed in place.
    """

    case: str
    status: str
    value: Value | None = None
    error: str = ""
    mutated: tuple[str, ...] = ()
    last_return: Value | None = None
    gradient: Value | None = None
    flags: tuple[str, ...] = ()  # "no_create_graph", "requires_grad_changed:y": what the run saw
    mistake: Value | None = None  # on expected outcomes: what the case's ``why_if`` mistake gives

    _STATUSES = ("returned", "raised", "not attempted", "undefined", "not callable",
                 "checker failed")

    def to_json(self) -> dict:
        return {
            "case": self.case[:300], "status": self.status, "error": cap(self.error, 2000),
            "mutated": list(self.mutated)[:20],
            "value": None if self.value is None else self.value.to_json(),
            "last_return": None if self.last_return is None else self.last_return.to_json(),
            "gradient": None if self.gradient is None else self.gradient.to_json(),
            "flags": [cap(f, 80) for f in self.flags[:20]],
        }

    @classmethod
    def from_json(cls, data) -> Outcome:
        """Parse what :meth:`to_json` wrote, defensively: ValueError on anything else."""
        if not isinstance(data, dict) or data.get("status") not in cls._STATUSES:
            raise ValueError(f"not an outcome: {str(data)[:100]}")
        mutated = data.get("mutated", [])
        if not isinstance(mutated, list):
            raise ValueError("an outcome whose 'mutated' is not a list")

        def value(key):
            raw = data.get(key)
            return None if raw is None else Value.from_json(raw)

        flags = data.get("flags", [])
        if not isinstance(flags, list):
            raise ValueError("an outcome whose 'flags' is not a list")
        return cls(str(data.get("case", ""))[:300], data["status"], value("value"),
                   str(data.get("error", ""))[:2000], tuple(str(m)[:50] for m in mutated[:20]),
                   value("last_return"), value("gradient"),
                   tuple(str(f)[:80] for f in flags[:20]))
