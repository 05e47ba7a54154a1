"""Check your work before you hand it in: what the instructor's grader will say, said now.

    make check-my-work                      # every lesson notebook in notebooks/
    make check-my-work DIR=path/to/folder   # or the notebooks in another folder
    .venv/bin/python scripts/check_my_work.py notebooks/01_ode_basics.ipynb ...

Each notebook runs top to bottom in a fresh kernel (the course kernel), the way "Restart and Run
All" would, and carries on past a cell that fails. When each check cell runs (right after your
answer cell) it notes what your answer cell defined; at the end it judges those definitions with
the same judge the grader uses (``utils.exercises.self_check``, visible and hidden cases). It
then prints, per lesson, each exercise as *passed*, *not attempted* or *not yet right* with the
first case that failed. A hidden case is only named, never shown. Your notebook files are not
changed.

Why the answers are noted right after their cells: a check cell hands the later cells the course's
reference when your answer does not pass, so at the end of a run the name holds the reference,
not your answer. The grader judges what your answer cell defined; so does this.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `grader` (the notebook runner) lives at the repository's root
    sys.path.insert(0, str(ROOT))

from utils import course  # noqa: E402 (the course's conventions: kernel, exercise ids)

CELL_TIMEOUT = 300  # s: a lesson runs in about a minute; one cell gets this long at most
MARKER = "@@check-my-work@@"
ANSWERS = "_check_my_work_answers"


@dataclass
class Report:
    """One notebook's run: the judge's results (``self_check``'s, as JSON) and what else broke."""

    notebook: Path
    lesson: str | None  # "01"
    results: list[dict] = field(default_factory=list)  # id, title, status, message, points, max
    answer_errors: dict[str, str] = field(default_factory=dict)  # exercise id -> error line
    cell_errors: list[str] = field(default_factory=list)  # "cell 14: NameError: ..."
    problem: str = ""  # the run itself failed (kernel died, no exercises ...)
    seconds: float = 0.0


def lesson_of(nb) -> str | None:
    """The lesson a notebook belongs to, from its graded cells' ids (``ex01_...``)."""
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        lesson = course.lesson_of_grade_id(grade_id)
        if lesson is not None:
            return lesson
    return None


def _capture(name: str) -> str:
    return (
        f"globals().setdefault({ANSWERS!r}, {{}})[{name!r}] = globals().get({name!r}, "
        "__import__('utils.exercises.judge', fromlist=['UNDEFINED']).UNDEFINED)"
    )


def instrument(nb, answer_names: dict[str, str], lesson: str):
    """A copy of ``nb`` that notes each answer's definition and judges them all at the end.

    The note is one line put first in the exercise's check cell (the answer cell has just run;
    the check still sees the answer cell as the cell run before it, as it expects), or, when
    the learner deleted the check cell, at the end of the answer cell. No cell is added or
    moved, so cell numbers stay the learner's. Returns the copy and {answer cell index: id}.
    """
    nb = copy.deepcopy(nb)
    ids = [cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "") for cell in nb.cells]
    answer_cells = {}
    for index, (cell, grade_id) in enumerate(zip(nb.cells, ids, strict=True)):
        if cell.cell_type != "code":
            continue
        answer = course.exercise_of_answer(grade_id)
        if answer in answer_names:
            answer_cells[index] = answer
            if answer not in ids:  # no check cell: note the answer at the end of its cell
                cell.source = cell.source.rstrip("\n") + "\n" + _capture(answer_names[answer])
        elif grade_id in answer_names and course.answer_id(grade_id) in ids:
            # (no answer cell: nothing noted, so "not attempted", as the grader, which grades
            # the answer cell only, not a definition elsewhere)
            cell.source = _capture(answer_names[grade_id]) + "\n" + cell.source
    nb.cells.append(
        nbformat.v4.new_code_cell(
            "import json as _json\n"
            "from utils.exercises import self_check as _self_check\n"
            f"_results = _self_check({'lesson' + lesson!r}, globals().get({ANSWERS!r}, {{}}), "
            "quiet=True)\n"
            f"print({MARKER!r} + _json.dumps([{{'id': r.exercise_id, "
            "'status': str(r.status.value), 'message': r.message, 'points': r.points, "
            "'max_points': r.max_points} for r in _results]))"
        )
    )
    for cell in nb.cells:
        cell.pop("id", None)
    nb.nbformat_minor = 4
    return nb, answer_cells


def _error_line(cell) -> str | None:
    for output in cell.get("outputs", []):
        if output.get("output_type") == "error":
            value = str(output.get("evalue", "")).strip().splitlines()
            return f"{output.get('ename', 'Error')}: {value[0] if value else ''}".rstrip(": ")
    return None


def check_notebook(path: Path, *, cell_timeout: float = CELL_TIMEOUT) -> Report:
    """Run one notebook in a fresh kernel and judge its answers (see the module docstring)."""
    from grader.execution import CourseClient  # nbclient, without its first-run stall
    from utils.exercises import lesson_exercises

    report = Report(notebook=path, lesson=None)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # any unreadable file is reported, not raised
        report.problem = f"cannot read it as a notebook ({exc})"
        return report
    report.lesson = lesson_of(nb)
    if report.lesson is None:
        report.problem = "no graded exercise cells in it (nothing to check)"
        return report
    try:
        exercises = lesson_exercises(report.lesson)
    except ValueError as exc:
        report.problem = str(exc)
        return report
    titles = {e.id: e.title for e in exercises}
    run, answer_cells = instrument(nb, {e.id: e.answer_name for e in exercises}, report.lesson)
    client = CourseClient(
        run, kernel_name=course.KERNEL, timeout=cell_timeout, allow_errors=True,
        interrupt_on_timeout=True, resources={"metadata": {"path": str(path.parent.resolve())}},
    )  # fmt: skip
    start = time.perf_counter()
    try:
        client.execute()
    except Exception as exc:  # the kernel died or ignored an interrupt: say so, judge nothing
        report.problem = f"the run stopped: {type(exc).__name__}: {exc}"
    report.seconds = time.perf_counter() - start
    for index, cell in enumerate(run.cells[:-1]):
        error = _error_line(cell)
        if error and index in answer_cells:
            report.answer_errors[answer_cells[index]] = error
        elif error:
            report.cell_errors.append(f"cell {index + 1}: {error}")
    text = "".join(o.get("text", "") for o in run.cells[-1].get("outputs", []))
    found = [line for line in text.splitlines() if line.startswith(MARKER)]
    if found:
        for result in json.loads(found[-1][len(MARKER) :]):
            result["title"] = titles.get(result["id"], result["id"])
            error = report.answer_errors.get(result["id"])
            if error and result["status"] == "not attempted":
                # the answer cell failed, so it defined nothing: its check cell says "not yet
                # right" with the error, and so does this report
                result["status"] = "wrong"
                result["message"] = f"your answer cell stopped with {error}; fix it and run it."
            report.results.append(result)
    elif not report.problem:
        report.problem = "the final check did not run: " + (
            _error_line(run.cells[-1]) or "no output"
        )
    return report


def format_report(report: Report) -> str:
    name = report.notebook.name
    if report.problem and not report.results:
        return f"{name}: {report.problem}"
    got = sum(r["points"] for r in report.results)
    total = sum(r["max_points"] for r in report.results)
    lines = [f"Lesson {report.lesson} ({name}): {got:g} of {total:g} points"]
    width = max(len(label) for label in course.VERDICT_LABELS.values())
    for r in report.results:
        label = course.VERDICT_LABELS.get(r["status"], r["status"])
        line = f"  {label:<{width}}  {r['title']}"
        if r["status"] != "passed":
            pad = " " * (width + 4)
            line += "\n" + "\n".join(pad + part for part in r["message"].splitlines())
            if r["id"] in report.answer_errors and "answer cell stopped" not in r["message"]:
                error = report.answer_errors[r["id"]]
                line += f"\n{pad}(your answer cell stopped with {error})"
        lines.append(line)
    if report.cell_errors:
        more = f" (and {len(report.cell_errors) - 1} more)" if len(report.cell_errors) > 1 else ""
        lines.append(f"  other cells that stopped with an error: {report.cell_errors[0]}{more}")
    if report.problem:
        lines.append(f"  note: {report.problem}")
    return "\n".join(lines)


def find_notebooks(paths: list[str]) -> list[Path]:
    found = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found += sorted(p for p in path.glob("*.ipynb") if not p.name.startswith("."))
        elif path.suffix == ".ipynb":
            found.append(path)
        else:
            raise SystemExit(f"not a notebook or a folder: {item}")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "paths",
        nargs="*",
        default=["notebooks"],
        help="notebooks or folders of notebooks (default: notebooks/)",
    )
    parser.add_argument("--cell-timeout", type=float, default=CELL_TIMEOUT)
    parser.add_argument("--json", type=Path, help="also write the results to this JSON file")
    args = parser.parse_args(argv)
    notebooks = find_notebooks(args.paths)
    if not notebooks:
        print(f"no notebooks in {' '.join(args.paths)}", file=sys.stderr)
        return 1
    reports = []
    for path in notebooks:
        print(f"running {path} ...", flush=True)
        report = check_notebook(path, cell_timeout=args.cell_timeout)
        reports.append(report)
        print(format_report(report) + "\n", flush=True)
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "notebook": str(r.notebook),
                        "lesson": r.lesson,
                        "results": r.results,
                        "answer_errors": r.answer_errors,
                        "cell_errors": r.cell_errors,
                        "problem": r.problem,
                    }
                    for r in reports
                ],
                indent=1,
            )
        )
    results = [r for report in reports for r in report.results]
    labels = course.VERDICT_LABELS
    counts = {label: sum(labels[r["status"]] == label for r in results)
              for label in labels.values()}
    print(
        "Summary: "
        + ", ".join(f"{n} {label}" for label, n in counts.items())
        + f" ({len(results)} exercises in {len(reports)} notebooks)"
    )
    print(
        "This is what the grader will check (with the same hidden cases); "
        "your notebooks were not changed."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
