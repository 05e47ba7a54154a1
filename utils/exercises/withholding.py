"""Course functions withheld while an answer's cases run.

An exercise that asks for a solver step must not be answered by calling the course's own
``utils.solvers.rk_step``. While the cases run, :class:`withholding` swaps the code of the named
course functions for code that raises :class:`WithheldFunction` ("Exercise 1.1 asks you to write
this yourself ..."), and puts the code back afterwards. Swapping the code object (not the name)
reaches the function however the answer got hold of it: imported under another name, inside a
``functools.partial``, a method, a list of functions. :func:`pin` remembers the originals before
any learner cell runs (the grader calls it), so a notebook that swaps in a stand-in under the
library's name still meets the withheld original.

Used by :mod:`.running` around every call of an answer.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

__all__ = ["WithheldFunction", "pin", "resolve", "withholding"]


class WithheldFunction(RuntimeError):
    """A course function that answers the exercise being checked was called by the answer."""


# id(function) -> (function, its own code, the code that raises in its place)
_SWAPPED: dict[int, tuple[Callable, Any, Any]] = {}


def resolve(dotted: str) -> Any:
    """The object named ``package.module.attr[.attr]``, or None if it is not there."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        for name in parts[i:]:
            obj = getattr(obj, name, None)
        return obj
    return None


def _withheld_code(function, message: str):
    """A code object for ``function`` that raises :class:`WithheldFunction` with ``message``.

    It replaces the function's own code while the answer runs, so every way of reaching the
    function object (imported under another name, ``functools.partial``, a method of a class,
    a list of functions) meets it. It takes any arguments and needs no closure.
    """
    def template(*args, **kwargs):
        raise __import__("utils.exercises.withholding", fromlist=["_"]).WithheldFunction("MESSAGE")

    code = template.__code__
    consts = tuple(message if c == "MESSAGE" else c for c in code.co_consts)
    return code.replace(co_consts=consts, co_name=function.__code__.co_name,
                        co_qualname=function.__code__.co_qualname)


_PINNED: dict[str, Any] = {}  # dotted name -> the course function first found under it


def pin(names) -> None:
    """Remember the course functions under ``names`` now (the grader does this before any
    learner cell runs), so that a notebook that later puts something else under the same name
    and keeps the original for itself still meets the withheld original."""
    for dotted in names:
        if dotted not in _PINNED:
            function = resolve(dotted)
            if getattr(function, "__code__", None) is not None:
                _PINNED[dotted] = function


class withholding:  # noqa: N801 (a context manager, used like a function)
    """While active, the named course functions raise "Exercise 1.1 asks you to write this
    yourself": their code is swapped for one that raises, and restored afterwards (the rest of
    the lesson uses them as usual). Functions whose code cannot be swapped (with a closure, or
    not written in Python) are left as they are; the exercises name only plain functions."""

    def __init__(self, names, asked_by: str = ""):
        self.names, self.asked_by = tuple(names), asked_by or "This exercise"
        self.swapped: list[int] = []

    def __enter__(self):
        pin(self.names)
        for dotted in self.names:
            message = (f"{self.asked_by} asks you to write this yourself: the course's "
                       f"{dotted} is withheld while the exercise's cases run")
            for function in (_PINNED.get(dotted), resolve(dotted)):
                code = getattr(function, "__code__", None)
                if code is None or code.co_freevars or id(function) in _SWAPPED:
                    continue
                stub = _withheld_code(function, message)
                _SWAPPED[id(function)] = (function, code, stub)
                self.swapped.append(id(function))
                function.__code__ = stub
        return self

    def __exit__(self, *exc):
        tampered = []
        for key in reversed(self.swapped):
            function, code, stub = _SWAPPED.pop(key)
            if function.__code__ is not stub:
                tampered.append(function.__qualname__)
            function.__code__ = code
        self.swapped = []
        if tampered and exc[0] is None:
            raise WithheldFunction(f"{self.asked_by} asks you to write this yourself: your "
                                   f"code put back the withheld {', '.join(tampered)}")
        return False
