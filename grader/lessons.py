"""Reading lesson sources: the instructor notebook (with solutions) and the learner notebook.

A lesson source is a jupytext percent-format script in ``lessons_src/`` holding the solutions.
The learner notebook is the same cells with each ``### BEGIN SOLUTION`` ... ``### END SOLUTION``
block replaced by a stub that raises ``NotImplementedError`` (what nbgrader's
``generate_assignment`` does), nbgrader metadata completed. ``tools/build_notebooks.py`` builds
``notebooks/`` with these functions; the grader reads which graded cells each lesson has.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from pathlib import Path

import nbformat

from utils import course
from utils.course import KERNEL, KERNELSPEC

__all__ = [
    "KERNEL",
    "KERNELSPEC",
    "LessonSourceError",
    "course_root",
    "learner_notebook",
    "lesson_sources",
    "read_source",
]


_SOLUTION = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_NBGRADER_DEFAULTS = {"grade": False, "solution": False, "locked": False, "schema_version": 3}


class LessonSourceError(ValueError):
    """A lesson source breaks a rule of the build (message names the lesson and cell)."""


def course_root() -> Path:
    """The course's folder: the one holding ``utils/`` and ``grader/`` (a clone, or an
    editable install of one): :data:`utils.course.ROOT`."""
    return course.ROOT


def lesson_sources(paths: Sequence[str | Path] | None = None, *,
                   folder: Path | None = None) -> list[Path]:
    """The given lesson sources, or every ``NN_*.py`` in ``folder`` (default ``lessons_src/``;
    :func:`utils.course.lesson_sources`)."""
    if paths:
        return [Path(p).resolve() for p in paths]
    return course.lesson_sources(folder)


def read_source(path: Path) -> nbformat.NotebookNode:
    """The instructor notebook: the lesson with solutions, nbgrader metadata completed."""
    import jupytext  # only here: the grader's other modules do not need it

    path = Path(path)
    nb = jupytext.read(path)
    nb.metadata = {"kernelspec": dict(KERNELSPEC), "language_info": {"name": "python"}}
    ids = set()
    for index, cell in enumerate(nb.cells):
        cell.id = f"{path.stem[:2]}-{index:03d}"  # stable ids: rebuilding causes no churn
        cell.metadata.pop("lines_to_next_cell", None)
        grader = cell.metadata.get("nbgrader")
        if grader is None:
            continue
        where = f"{path.name}, cell {index}"
        if "grade_id" not in grader:
            raise LessonSourceError(f"{where}: nbgrader metadata needs a grade_id")
        if grader["grade_id"] in ids:
            raise LessonSourceError(f"{where}: grade_id {grader['grade_id']!r} is used twice")
        ids.add(grader["grade_id"])
        if grader.get("grade") and "points" not in grader:
            raise LessonSourceError(f"{where}: a grade cell needs points")
        if grader.get("solution") and not _SOLUTION.search(cell.source):
            raise LessonSourceError(f"{where}: a solution cell needs ### BEGIN/END SOLUTION")
        if grader.get("grade") and not grader.get("solution"):
            grader.setdefault("locked", True)
        cell.metadata["nbgrader"] = {**_NBGRADER_DEFAULTS, **grader}
    return nb


def _stub(match: re.Match) -> str:
    """What nbgrader's generate_assignment puts where a solution was."""
    indent = match["indent"]
    return f"{indent}# YOUR CODE HERE\n{indent}raise NotImplementedError()"


def learner_notebook(path: Path) -> nbformat.NotebookNode:
    """The notebook learners get: solutions replaced by stubs, no outputs."""
    path = Path(path)
    nb = copy.deepcopy(read_source(path))
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = _SOLUTION.sub(_stub, cell.source)
            try:
                compile(cell.source, f"{path.name}:cell{index}", "exec")
            except SyntaxError as exc:
                raise LessonSourceError(
                    f"{path.name}, cell {index}: the stubbed solution cell does not compile ({exc})"
                ) from exc
    nbformat.validate(nb)
    return nb
