"""Every lesson still runs to the end when every answer is wrong, and a broken answer cell gets a
sentence from its check cell, not a NameError.

Each answer cell of the learner notebook is replaced by a plausible wrong answer from
``tests/wrong_answers_lessonNN.py`` (the last listed: the learner-style ones, in-place updates
among them); the notebook is executed on the course kernel; no cell may produce an error, and
every check cell must say "not yet right" on stderr and fall back to the reference.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import nbformat
import pytest

from grader.execution import CourseClient
from utils.exercises import registry

ROOT = Path(__file__).resolve().parent.parent
TESTS = Path(__file__).resolve().parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
KERNEL = "neural-ode-course"


def _run(nb, cwd: Path, *, timeout: float) -> None:
    """Execute every cell, errors included (they are what the tests look for)."""
    CourseClient(nb, kernel_name=KERNEL, timeout=timeout, allow_errors=True,
                 resources={"metadata": {"path": str(cwd)}}).execute()


def _wrong_answer_names() -> dict[str, tuple[str, str]]:
    """{exercise id: (module name, function name)} of the last wrong answer listed for each."""
    found = {}
    for path in sorted(TESTS.glob("wrong_answers_lesson*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for exercise_id, answers in module.WRONG.items():
            found[exercise_id] = (path.stem, answers[-1].__name__)
    return found


def _with_wrong_answers(path: Path) -> tuple[nbformat.NotebookNode, list[str]]:
    nb = nbformat.read(path, 4)
    wrong = _wrong_answer_names()
    exercises = registry()
    replaced = []
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.cell_type == "code" and grade_id.endswith("-answer"):
            exercise_id = grade_id.removesuffix("-answer")
            module, function = wrong[exercise_id]
            name = exercises[exercise_id].answer_name
            cell.source = (f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
                           f"from {module} import {function} as {name}")
            replaced.append(exercise_id)
    return nb, replaced


def _only_what_the_answers_touch(nb: nbformat.NotebookNode) -> int:
    """Drop the code cells whose run cannot depend on the answers; return how many.

    The cells kept: the import cell, the answer and check cells, every cell that reads an
    answer's name or a name bound by a cell that does (training that calls the answer, a figure
    of its result: the cells a wrong answer could break), and what those need
    (grader.deps.needed_cells, the grader's own analysis; a cell it cannot be sure about runs
    with everything before it). A dropped cell runs the same whatever the answers: nbval runs
    it, with every answer a stub that falls back to the reference, as here.
    """
    from grader import deps

    answer_names = {ex.answer_name for ex in registry().values()}
    code = [(i, c) for i, c in enumerate(nb.cells) if c.cell_type == "code" and c.source.strip()]
    checks = {pos for pos, (_, c) in enumerate(code)
              if c.metadata.get("nbgrader", {}).get("grade")}
    names = [deps.analyse(c.source) for _, c in code]
    answers = [pos for pos, (_, c) in enumerate(code)
               if c.metadata.get("nbgrader", {}).get("grade_id", "").endswith("-answer")]
    tainted, roots = set(answer_names), {0, *answers, *checks}
    for _ in range(2):  # twice: a function defined before the answer it calls
        for pos, cell_names in enumerate(names):
            if cell_names.uses & tainted:
                roots.add(pos)
                tainted |= cell_names.binds
    keep = deps.needed_cells(names, sorted(roots), answers) | checks
    dropped = {code[pos][0] for pos in range(len(code)) if pos not in keep}
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in dropped]
    return len(dropped)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_lesson_runs_to_the_end_with_every_answer_wrong(path, tmp_path):
    nb, replaced = _with_wrong_answers(path)
    if not replaced:
        pytest.skip("no exercises")
    _only_what_the_answers_touch(nb)
    _run(nb, path.parent, timeout=300)
    errors = [(i, o.get("ename"), o.get("evalue")) for i, cell in enumerate(nb.cells)
              for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"cells raised with wrong answers: {errors}"
    verdicts = {}
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
        if cell.metadata.get("nbgrader", {}).get("grade"):
            verdicts[grade_id] = "".join(o.get("text", "") for o in cell.get("outputs", [])
                                         if o.get("name") == "stderr")
    for exercise_id in replaced:
        assert "[not yet right]" in verdicts[exercise_id], (exercise_id, verdicts[exercise_id])
        assert "reference solution" in verdicts[exercise_id]


def test_a_broken_answer_cell_gets_a_sentence_not_a_name_error():
    """A syntax error, then an answer that raises while defined, then a fixed answer."""
    cells = [
        "from utils.exercises import lesson01 as ex\nimport numpy as np",
        "def euler_step(f, t, y, h):\n    slope = f(t, y\n    return y + h * slope",  # SyntaxError
        "euler_step = ex.euler_step.check()",
        "def euler_step(f, t, y, h):\n    y += h * f(t, y)\n    return y",  # in place
        "euler_step = ex.euler_step.check()",
        "def euler_step(f, t, y, h):\n    return y + h * f(t, y)",  # right
        "euler_step = ex.euler_step.check()",
        "def euler_step(f, t, y, h):\n    y += h * f(t, y)\n    return y",  # wrong again
        "euler_step = ex.euler_step.check()",
        "def euler_step(f, t, y, h):\n    return y + h * f(t, y)",  # right again
        "euler_step = ex.euler_step.check()",
        "def euler_step(f, t, y, h):\n    return y + h * f(t, y",  # broken again ...
        "print('another cell in between')",  # ... then something else
        "euler_step = ex.euler_step.check()",
        "euler_step = ex.euler_step.check()",  # and the check run twice
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    _run(nb, ROOT, timeout=120)

    def text(i, stream):
        return "".join(o.get("text", "") for o in nb.cells[i].outputs if o.get("name") == stream)

    errors = [(i, o.get("ename")) for i, c in enumerate(nb.cells) for o in c.outputs
              if o.get("output_type") == "error"]
    assert errors == [(1, "SyntaxError"), (11, "SyntaxError")], errors  # the broken cells only
    assert "your answer cell did not run: SyntaxError on line 2" in text(2, "stderr")
    assert "changed its argument `y` in place" in text(4, "stderr")
    assert "[passed]" in text(6, "stdout")
    assert text(8, "stderr") == text(4, "stderr")  # same verdict as the first time
    assert "[passed]" in text(10, "stdout")
    for i in (13, 14):  # not a pass of the earlier definition, nor of the reference
        assert "[passed]" not in text(i, "stdout")
        assert "your answer cell did not run: SyntaxError" in text(i, "stderr")
