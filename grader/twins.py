"""The course library's twins of exercise answers, withheld inside the sandbox.

Some of the course's library functions compute exactly what an exercise asks the learner to
write (``utils.latent.encode_backwards`` is the answer to exercise 9.1: later lessons' models
use it). Inside the sandbox such a *twin* would be the reference by another name. So the
sandbox gets, over each library module that holds one, a copy of the module in which every
twin's body is replaced by a *stand-in* (the original code is nowhere in the sandbox, neither
as source nor as ``.pyc``):

- the stand-in calls the learner's own function of that name (what the notebook's check cell
  left bound: the learner's passing answer, or the course's reference sent in after the
  exercise was recorded), so the library's models in later cells run as in the lesson;
- an answer that is, or calls, the library's twin meets the stand-in calling itself: it raises
  "withheld", and the exercise scores zero.

Twins are found by name, then checked: a top-level function of a ``utils`` module (not
``utils.exercises``) named as an exercise's answer that passes that exercise. A learner who
pastes the library's code into the answer cell is not stopped (that is a copied answer; see
docs/instructors.md).
"""

from __future__ import annotations

import ast
import contextlib
import threading
from pathlib import Path

__all__ = ["TwinWithheld", "busy", "find_twins", "message", "target", "withheld_source"]

MARK = "__course_twin_withheld__"


class TwinWithheld(RuntimeError):
    """The course library's version of an exercise's answer is not available while grading."""


_busy = threading.local()


def target(name: str):
    """The notebook's own ``name`` for a stand-in to call, or None if that would lead back to
    the stand-in (it is the stand-in, or calls it: a stand-in is already running for it)."""
    from IPython import get_ipython

    shell = get_ipython()
    found = shell.user_ns.get(name) if shell is not None else None
    if found is None or getattr(found, MARK, False) or name in _busy_names():
        return None
    return found


def message(name: str) -> str:
    return (f"the course library's `{name}` is withheld while the notebook is graded (it is "
            "an exercise's answer): write your own")


def _busy_names() -> set:
    names = getattr(_busy, "names", None)
    if names is None:
        names = _busy.names = set()
    return names


@contextlib.contextmanager
def busy(name: str):
    """Marks a stand-in as running for ``name`` (calls back into it are withheld)."""
    _busy_names().add(name)
    try:
        yield
    finally:
        _busy_names().discard(name)


def _library_modules(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*.py")
                  if "exercises" not in p.relative_to(root).parts[:1])


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    parts = parts[:-1] if parts[-1] == "__init__" else parts
    return ".".join((package, *parts))


def _passes(exercise, module: str, name: str) -> bool:
    """Whether the library function passes the exercise (visible and hidden cases)."""
    import importlib

    try:
        function = getattr(importlib.import_module(module), name)
        return bool(exercise.evaluate(function, hidden=True, withhold=False).passed)
    except Exception:  # a library function of the same name that does something else
        return False


def find_twins(exercises, root: Path, *, package: str = "utils", verify: bool = True
               ) -> dict[Path, set[str]]:
    """{library module file: names of its top-level functions that are exercise answers}.

    A candidate is a top-level function named as an exercise's answer; with ``verify`` (the
    default) it is a twin only if it passes that exercise, run here, outside the sandbox
    (``utils.adjoint.augmented_dynamics`` shares exercise 4.2's name, not its contract, and
    the adjoint method uses it: it stays).
    """
    root = Path(root)
    by_name = {ex.answer_name: ex for ex in exercises}
    found: dict[Path, set[str]] = {}
    for path in _library_modules(root):
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"))
        except (OSError, SyntaxError, ValueError):
            continue
        twins = {node.name for node in tree.body
                 if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                 and node.name in by_name}
        if verify:
            module = _module_name(path, root, package)
            twins = {name for name in twins if _passes(by_name[name], module, name)}
        if twins:
            found[path] = twins
    return found


def withheld_source(path: Path, names: set[str]) -> str:
    """The module's source with each named top-level function replaced by its stand-in."""
    source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    tree = ast.parse(source)
    spans = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name in names:
            first = min([node.lineno] + [d.lineno for d in node.decorator_list])
            spans.append((first, node.end_lineno, node.name))
    for first, last, name in sorted(spans, reverse=True):
        stand_in = [  # raises in this frame, so the learner's message names their own line
            f"def {name}(*args, **kwargs):",
            "    from grader import twins as _twins",
            "",
            f"    _target = _twins.target({name!r})",
            "    if _target is None:",
            f"        raise _twins.TwinWithheld(_twins.message({name!r}))",
            f"    with _twins.busy({name!r}):",
            "        return _target(*args, **kwargs)",
            "",
            "",
            f"{name}.{MARK} = True",
        ]
        lines[first - 1:last] = stand_in
    return "\n".join(lines) + "\n"
