"""`make check-my-work` (scripts/check_my_work.py) on lesson 01, shipped and attempted.

One run over two notebooks (one kernel start each, about a minute on a quiet 2-core machine):
the shipped notebook (every answer still a stub: all "not attempted") and a copy with one right
answer, one wrong answer, one answer cell deleted and one that does not compile. The report must
say exactly that, show the wrong answer's failing case, and leave the notebooks unchanged.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
LESSON = ROOT / "notebooks" / "01_ode_basics.ipynb"

RIGHT_EULER_STEP = '''def euler_step(f, t, y, h):
    """One Euler step."""
    return y + h * f(t, y)
'''
# Plausible and wrong: one step size for the whole grid (right only on an even grid).
WRONG_EULER_SOLVE = '''def euler_solve(f, y0, t):
    """Euler's method with the first step size everywhere."""
    h = t[1] - t[0]
    ys = [np.asarray(y0, dtype=float)]
    for n in range(len(t) - 1):
        ys.append(ys[-1] + h * f(t[n], ys[-1]))
    return np.stack(ys)
'''


def _module():
    spec = importlib.util.spec_from_file_location(
        "check_my_work", ROOT / "scripts" / "check_my_work.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules["check_my_work"] = module
    spec.loader.exec_module(module)
    return module


def _learner_copy(path: Path) -> None:
    nb = nbformat.read(LESSON, as_version=4)
    kept = []
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")
        if grade_id == "ex01_euler_step-answer":
            cell.source = RIGHT_EULER_STEP
        elif grade_id == "ex01_euler_solve-answer":
            cell.source = WRONG_EULER_SOLVE
        elif grade_id == "ex01_rk4_step-answer":
            continue  # the learner deleted this answer cell
        elif grade_id == "ex01_convergence_order-answer":
            cell.source = "def convergence_order(step_sizes, errors)\n    return 1.0\n"  # no colon
        kept.append(cell)
    nb.cells = kept
    nbformat.write(nb, path)


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    shutil.copy(LESSON, folder / "01_ode_basics.ipynb")
    _learner_copy(folder / "01_my_attempt.ipynb")
    before = {p.name: p.read_bytes() for p in folder.glob("*.ipynb")}
    out = folder / "report.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_my_work.py"), str(folder),
         "--json", str(out)],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    after = {p.name: p.read_bytes() for p in folder.glob("*.ipynb")}
    assert after == before, "check-my-work must not change the learner's notebooks"
    data = {Path(r["notebook"]).name: r for r in json.loads(out.read_text())}
    return data, run.stdout


def _statuses(report):
    return {r["id"]: r["status"] for r in report["results"]}


def test_shipped_notebook_is_all_not_attempted(reports):
    data, _ = reports
    shipped = data["01_ode_basics.ipynb"]
    assert shipped["lesson"] == "01" and not shipped["problem"]
    assert set(_statuses(shipped).values()) == {"not attempted"}
    assert len(shipped["results"]) >= 4


def test_one_right_one_wrong_one_missing_reported_exactly(reports):
    data, stdout = reports
    attempt = data["01_my_attempt.ipynb"]
    statuses = _statuses(attempt)
    assert statuses["ex01_euler_step"] == "passed"
    assert statuses["ex01_euler_solve"] == "wrong"
    assert statuses["ex01_rk4_step"] == "not attempted"  # its answer cell is gone
    # an answer cell that stops with an error defined nothing: "not yet right", with the error
    assert statuses["ex01_convergence_order"] == "wrong"
    broken = next(r for r in attempt["results"] if r["id"] == "ex01_convergence_order")
    assert "SyntaxError" in broken["message"]
    wrong = next(r for r in attempt["results"] if r["id"] == "ex01_euler_solve")
    assert wrong["points"] == 0 and len(wrong["message"]) > 20  # names the failing case
    # the printed report says the same, one line per exercise
    section = stdout.split("Lesson 01 (01_my_attempt.ipynb)")[1]
    assert "passed         Exercise 1.1" in section
    assert "not yet right  Exercise 1.2" in section
    assert "not attempted  Exercise 1.3" in section


def test_lesson_is_read_from_the_graded_cells():
    module = _module()
    nb = nbformat.read(LESSON, as_version=4)
    assert module.lesson_of(nb) == "01"
    nb.cells = [c for c in nb.cells if "nbgrader" not in c.get("metadata", {})]
    assert module.lesson_of(nb) is None


def test_report_for_a_notebook_without_exercises(tmp_path):
    module = _module()
    path = tmp_path / "notes.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), path)
    report = module.check_notebook(path)
    assert "nothing to check" in module.format_report(report)
    (tmp_path / "broken.ipynb").write_text("{not json")
    report = module.check_notebook(tmp_path / "broken.ipynb")
    assert "cannot read it" in module.format_report(report)
