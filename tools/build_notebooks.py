"""Build the learner notebooks in notebooks/ from the lesson sources in lessons_src/.

    python tools/build_notebooks.py            # every lesson: generate, execute, store outputs
    python tools/build_notebooks.py lessons_src/01_ode_basics.py      # just this lesson
    python tools/build_notebooks.py --check    # fail if notebooks/ is out of sync (no execution)

A lesson source is a jupytext percent-format script holding the solutions. The learner notebook
is the same cells with each ``### BEGIN SOLUTION`` ... ``### END SOLUTION`` block replaced by a
stub that raises ``NotImplementedError`` (what nbgrader's ``generate_assignment`` does), nbgrader
metadata completed, executed top to bottom on the course kernel, outputs stored. The reading is
``grader.lessons`` and the execution ``grader.execution`` (shared with the grader).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from grader.execution import execute_notebook
from grader.lessons import (  # noqa: F401  (re-exported: the build's public names)
    KERNEL,
    KERNELSPEC,
    LessonSourceError,
    learner_notebook,
    read_source,
)
from grader.lessons import lesson_sources as _lesson_sources

ROOT = Path(__file__).resolve().parent.parent
SRC = ROOT / "lessons_src"
OUT = ROOT / "notebooks"
CELL_TIMEOUT = 300  # seconds; a lesson's budget is 60 s, this only stops a hung build


def lesson_sources(paths=None) -> list[Path]:
    return _lesson_sources(paths, folder=SRC)


def notebook_path(source: Path) -> Path:
    return OUT / f"{source.stem}.ipynb"


def execute(nb: nbformat.NotebookNode) -> float:
    """Run every cell on the course kernel in notebooks/; return the wall time in seconds.

    grader.execution's client: it polls for each cell's reply, so a widget cell does not stall
    until the cell timeout in a fresh process (nbclient issue #312).
    """
    elapsed = execute_notebook(nb, cwd=OUT, kernel_name=KERNEL, timeout=CELL_TIMEOUT)
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
