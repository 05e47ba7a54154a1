"""The grader's throughput: the same notebooks graded with the default plan and with ``--run-all``.

    python -m grader.bench [--out DIR] [--jobs 2] [--sets shipped,solved]

Writes the sets of notebooks (``shipped``: the ten learner notebooks as handed out, stubs
unanswered; ``solved``: each lesson with its reference answers, made from the lesson sources
outside the shipped tree; ``wrong``: each lesson with a plausible wrong answer in every answer
cell, from ``tests/wrong_answers_lessonNN.py``), grades them with ``--run-all`` and then with the
default plan, in one run, and prints notebooks per minute for each, the ratio, the load average,
and whether the two ``grades.csv`` are identical (they must be: the default plan runs every cell
the grades depend on).
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import time
from pathlib import Path

import nbformat

from utils import course

from .lessons import course_root, read_source

__all__ = ["differences", "measure", "write_sets"]

SETS = ("shipped", "solved", "wrong")


def _lessons(root: Path) -> list[Path]:
    return course.lesson_sources(root / "lessons_src")


def write_shipped(folder: Path, root: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for path in course.lesson_notebooks(root / "notebooks"):
        target = folder / f"shipped_{path.name}"
        shutil.copyfile(path, target)
        out.append(target)
    return out


def write_solved(folder: Path, root: Path) -> list[Path]:
    """Each lesson with its own solutions in the answer cells (the instructor's version)."""
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for source in _lessons(root):
        target = folder / f"solved_{source.stem}.ipynb"
        nbformat.write(read_source(source), str(target))
        out.append(target)
    return out


def write_wrong(folder: Path, root: Path) -> list[Path]:
    """Each learner notebook with the last wrong answer listed for each exercise in
    ``tests/wrong_answers_lessonNN.py``, its module's source pasted into the answer cell (the
    sandbox does not show ``tests/``)."""
    import importlib.util

    from utils.exercises import registry

    folder.mkdir(parents=True, exist_ok=True)
    wrong = {}
    for path in sorted((root / "tests").glob("wrong_answers_lesson*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for exercise_id, answers in module.WRONG.items():
            wrong[exercise_id] = (path.read_text(encoding="utf-8"), answers[-1].__name__)
    exercises = registry()
    out = []
    for path in course.lesson_notebooks(root / "notebooks"):
        nb = nbformat.read(str(path), 4)
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            exercise_id = course.exercise_of_answer(grade_id)
            if cell.cell_type == "code" and exercise_id is not None:
                source, function = wrong[exercise_id]
                name = exercises[exercise_id].answer_name
                cell.source = f"{source}\n\n{name} = {function}\n"
        target = folder / f"wrong_{path.name}"
        nbformat.write(nb, str(target))
        out.append(target)
    return out


def write_sets(folder: Path, sets=("shipped", "solved"), root: Path | None = None
               ) -> list[Path]:
    root = course_root() if root is None else root
    writers = {"shipped": write_shipped, "solved": write_solved, "wrong": write_wrong}
    return [p for name in sets for p in writers[name](folder, root)]


def _rows(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


# Columns that may differ between two runs of the same notebooks (none today: grades.csv holds
# no times; kept so that a time column added later is compared as it should be).
TIME_COLUMNS = frozenset({"seconds", "time"})


def differences(csv_a: Path, csv_b: Path) -> list[str]:
    """The rows of two grades.csv that differ (time columns aside)."""
    a, b = _rows(csv_a), _rows(csv_b)
    out = []
    for row_a, row_b in zip(a, b, strict=False):
        keep_a = {k: v for k, v in row_a.items() if k not in TIME_COLUMNS}
        keep_b = {k: v for k, v in row_b.items() if k not in TIME_COLUMNS}
        if keep_a != keep_b:
            out.append(f"{keep_a}\n  vs {keep_b}")
    if len(a) != len(b):
        out.append(f"{len(a)} rows vs {len(b)} rows")
    return out


def _load() -> str:
    try:
        return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "load average unknown"


def measure(sets=("shipped", "solved"), *, jobs: int = 2, out: Path = Path("/tmp/grader-bench"),
            use_sandbox: bool = True, log=print) -> dict:
    """Grade the sets with ``--run-all``, then with the default plan, in one run; the figures.

    Returns ``{"sets", "jobs", "notebooks", "runs": {label: {"seconds", "per_minute",
    "per_notebook": [min, max], "load_start", "load_end"}}, "ratio", "identical", "differences"}``.
    """
    from .grading import Limits, grade_folder

    if out.exists():
        shutil.rmtree(out)
    folder = out / "submissions"
    paths = write_sets(folder, sets)
    runs: dict[str, dict] = {}
    for label, run_all in (("--run-all", True), ("default plan", False)):
        target = out / ("run_all" if run_all else "default")
        load = _load()
        start = time.monotonic()
        subs = grade_folder(folder, target, limits=Limits(), jobs=jobs, quiet=True,
                            run_all=run_all, use_sandbox=use_sandbox)
        seconds = time.monotonic() - start
        per_nb = sorted(s.seconds for s in subs)
        runs[label] = {"seconds": seconds, "per_minute": len(subs) / seconds * 60,
                       "per_notebook": [per_nb[0], per_nb[-1]], "load_start": load,
                       "load_end": _load()}
        log(f"{label:>13}: {len(subs)} notebooks in {seconds:.1f} s = "
            f"{runs[label]['per_minute']:.1f} per minute (--jobs {jobs}; per notebook "
            f"{per_nb[0]:.1f}-{per_nb[-1]:.1f} s; {load} at the start, {_load()} at the end)")
    diff = differences(out / "run_all" / "grades.csv", out / "default" / "grades.csv")
    return {"sets": list(sets), "jobs": jobs, "notebooks": len(paths), "runs": runs,
            "ratio": runs["--run-all"]["seconds"] / runs["default plan"]["seconds"],
            "identical": not diff, "differences": diff[:10]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.bench", description=__doc__.split(
        "\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("/tmp/grader-bench"))
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--sets", default="shipped,solved",
                        help=f"comma-separated, of {', '.join(SETS)}")
    parser.add_argument("--no-sandbox", action="store_true")
    args = parser.parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    result = measure(sets, jobs=args.jobs, out=args.out, use_sandbox=not args.no_sandbox,
                     log=lambda line: print(line, flush=True))
    print(f"ratio: {result['ratio']:.1f}x ({result['notebooks']} notebooks: {', '.join(sets)})")
    print("grades.csv identical" if result["identical"]
          else "grades.csv DIFFER:\n" + "\n".join(result["differences"]))
    return 0 if result["identical"] else 1


if __name__ == "__main__":
    sys.exit(main())
