"""Build the learner notebooks in notebooks/ from the lesson sources in lessons_src/.

    python tools/build_notebooks.py            # every lesson: generate, execute, store outputs
    python tools/build_notebooks.py lessons_src/01_ode_basics.py      # just this lesson
    python tools/build_notebooks.py --check    # fail if notebooks/ is out of sync (no execution)

A lesson source is a jupytext percent-format script holding the solutions. The learner notebook
is the same cells with each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block replaced by a
stub that raises ``NotImplementedError`` (what nbgrader's ``generate_assignment`` does), nbgrader
metadata completed, executed top to bottom on the course kernel, outputs stored.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "lessons_src"
OUT = ROOT / "notebooks"
KERNEL = "neural-ode-course"
KERNELSPEC = {"name": KERNEL, "display_name": "Neural ODE course (Python 3)", "language": "python"}
CELL_TIMEOUT = 300  # seconds; a lesson's budget is 60 s, this only stops a hung build

_SOLUTION = re.compile(
    r"^(?P<indent>[ \t]*)### BEGIN SOLUTION[ \t]*\n.*?^[ \t]*### END SOLUTION[ \t]*$",
    re.MULTILINE | re.DOTALL,
)
_NBGRADER_DEFAULTS = {"grade": False, "solution": False, "locked": False, "schema_version": 3}


class LessonSourceError(ValueError):
    """A lesson source breaks a rule of the build (message names the lesson and cell)."""


def lesson_sources(paths=None) -> list[Path]:
    if paths:
        return [Path(p).resolve() for p in paths]
    return sorted(SRC.glob("[0-9][0-9]_*.py"))


def read_source(path: Path) -> nbformat.NotebookNode:
    """The instructor notebook: the lesson with solutions, nbgrader metadata completed."""
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


def notebook_path(source: Path) -> Path:
    return OUT / f"{source.stem}.ipynb"


def execute(nb: nbformat.NotebookNode) -> float:
    """Run every cell on the course kernel in notebooks/; return the wall time in seconds."""
    start = time.perf_counter()
    NotebookClient(
        nb, kernel_name=KERNEL, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(OUT)}}
    ).execute()
    elapsed = time.perf_counter() - start
    for cell in nb.cells:  # keep stored notebooks free of run-to-run noise
        cell.metadata.pop("execution", None)
    return elapsed


def sources_match(built: nbformat.NotebookNode, stored: nbformat.NotebookNode) -> str:
    """'' if the stored notebook has the built one's cells, else where they differ."""
    if len(built.cells) != len(stored.cells):
        return f"{len(stored.cells)} cells stored, {len(built.cells)} in the source"
    for i, (b, s) in enumerate(zip(built.cells, stored.cells, strict=True)):
        if (b.cell_type, b.source, b.metadata) != (s.cell_type, s.source, s.metadata):
            return f"cell {i} differs"
    return ""


def check(paths) -> int:
    problems = []
    sources = lesson_sources(paths)
    for source in sources:
        stored_path = notebook_path(source)
        if not stored_path.exists():
            problems.append(f"{stored_path.name} is missing")
            continue
        difference = sources_match(learner_notebook(source), nbformat.read(stored_path, 4))
        if difference:
            problems.append(f"{stored_path.name} is out of date: {difference}")
    if not paths:
        stems = {s.stem for s in sources}
        problems += [
            f"{nb.name} has no source in lessons_src/"
            for nb in sorted(OUT.glob("*.ipynb"))
            if nb.stem not in stems
        ]
    for problem in problems:
        print(problem, file=sys.stderr)
    if problems:
        print("Run `make notebooks` to rebuild notebooks/ from lessons_src/.", file=sys.stderr)
    return 1 if problems else 0


def build(paths) -> int:
    OUT.mkdir(exist_ok=True)
    total = 0.0
    for source in lesson_sources(paths):
        nb = learner_notebook(source)
        seconds = execute(nb)
        total += seconds
        nbformat.write(nb, notebook_path(source))
        print(f"{notebook_path(source).relative_to(ROOT)}: executed in {seconds:.1f} s")
    print(f"total: {total:.1f} s")
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lessons", nargs="*", help="lesson sources (default: all)")
    parser.add_argument("--check", action="store_true", help="only check notebooks/ is in sync")
    args = parser.parse_args(argv)
    return check(args.lessons) if args.check else build(args.lessons)


if __name__ == "__main__":
    sys.exit(main())
