"""The grader's plan runs only the cells the grades depend on (issue 24), with the same grades.

- The analysis (:mod:`grader.deps`), on small made-up notebooks: what a cell binds and uses, the
  cells an answer needs through other cells, what makes the analysis unsure (then the cell runs
  with everything before it), and hidden state (random generators) behind computed values.
- The shipped lessons: the default plan runs the import cell and the answer cells; no lesson cell
  that is skipped binds or changes a name any answer, solved or stub, reads.
- **Identical grades.** Every grading fixture, the cheats included, gets exactly the plan of
  ``--run-all`` (every one of its cells is the learner's own or graded), so the runner receives
  the same job and the CSV is the same. Every lesson solved, and every lesson with a wrong answer
  in each answer cell, is graded both ways in the sandbox (two at a time): the two grades.csv are
  identical. That test runs every lesson in full under ``--run-all``: about 10 minutes on 2 cores
  at load ~5 (``python -m grader.bench`` graded these 20 and the 10 shipped notebooks both ways in
  762 + 105 s, identical); run it on its own with ``-k identical``.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import pytest
from test_grading import FIXTURES, needs_sandbox

from grader import bench, deps, grading
from grader.notebooks import Cell, read_cells
from grader.plan import plan, select

ROOT = Path(__file__).resolve().parent.parent


class _Lesson:
    """A made-up lesson: one exercise ``ex_a`` (answer name ``answer``)."""

    def __init__(self, sources):
        class Ex:
            id, answer_name, points = "ex_a", "answer", 1

        self.exercises = [Ex]
        self.check_sources = {"ex_a": "answer = ex.answer.check()"}
        self.code_sources = {s.strip() for s in sources}
        self.import_source = sources[0].strip()


def _ran(lesson_cells: list[str], answer: str, *, added: dict[int, str] | None = None
         ) -> list[int]:
    """Which lesson cells run (their positions in ``lesson_cells``) for a notebook of those
    cells, then the answer cell and its check cell, with the learner's ``added`` cells
    inserted before the given positions."""
    lesson = _Lesson(lesson_cells + ["def answer():\n    raise NotImplementedError"])
    sources = [(s, "") for s in lesson_cells] + [(answer, "ex_a-answer"),
                                                 (lesson.check_sources["ex_a"], "ex_a")]
    for pos, source in sorted((added or {}).items(), reverse=True):
        sources.insert(pos, (source, ""))
    cells = [Cell(i, "code", s, g) for i, (s, g) in enumerate(sources)]
    run = select(cells, lesson).run
    return [i for i in sorted(run)]


IMPORTS = "import numpy as np\nimport torch"


def test_only_the_import_and_answer_cells_run_when_the_answer_uses_nothing_else():
    cells = [IMPORTS, "x = np.linspace(0, 1)", "model = torch.nn.Linear(2, 2)\ntrain(model)"]
    assert _ran(cells, "def answer(f, y):\n    return np.asarray(f(y))") == [0, 3]


def test_a_helper_runs_with_what_it_reads_at_call_time():
    cells = [IMPORTS,
             "def helper(y):\n    return SCALE * y",  # reads SCALE when the answer calls it
             "SCALE = 2.0",
             "plot(helper(np.ones(2)))",  # reads helper: changes nothing
             "SCALE = 3.0  # rebinds what helper reads, before the answer",
             "SCALE = 4.0"]
    answer = "def answer(y):\n    return helper(y)"
    assert _ran(cells, answer) == [0, 1, 2, 4, 5, 6]
    # Names local to the answer (parameters, comprehension variables) need nothing.
    assert _ran(["import numpy as np", "y = 1\nt = 2\nh = 3"],
                "def answer(f, t, y, h):\n    return [y + h * f(t, y) for _ in range(2)]") == [0, 2]


def test_a_cell_that_may_change_data_an_answer_reads_runs():
    cells = [IMPORTS, "table = {}", "table['a'] = 1", "fill(table)", "np.seterr(all='ignore')",
             "print(len(x_unrelated))"]
    assert _ran(cells, "def answer():\n    return table['a'] + np.pi") == [0, 1, 2, 3, 6]


def test_the_learners_own_cells_run_with_what_they_read():
    cells = [IMPORTS, "data = load()", "train()"]
    assert _ran(cells, "def answer():\n    return 1", added={3: "print(data)"}) == [0, 1, 3, 4]
    # An edited lesson cell is the learner's own: it runs.
    assert _ran([IMPORTS, "train()"], "def answer():\n    return 1",
                added={2: "train(epochs=1)"}) == [0, 2, 3]


@pytest.mark.parametrize("source", [
    "exec('answer = 1')", "eval('1')", "globals()['answer'] = 1", "from utils.solvers import *",
    "%run other.py", "!ls", "get_ipython().run_line_magic('run', 'x.py')", "x?",
    "vars()['y'] = 2", "import sys\nsys.modules['numpy'].pi = 3", "setattr(np, 'pi', 3)",
    "__import__('os')", "def broken(:\n    pass", "from importlib import import_module as m",
    "from sys import modules",
])
def test_where_the_analysis_cannot_be_sure_the_cell_runs_with_everything_before_it(source):
    assert deps.analyse(source).unsure
    cells = [IMPORTS, "train()", source, "figure()"]
    assert _ran(cells, "def answer():\n    return 1") == [0, 1, 2, 4]


def test_a_cell_that_changes_a_module_runs_with_everything_before_it():
    cells = [IMPORTS, "train()", "from utils import solvers", "solvers.DEFAULT_RTOL = 1.0",
             "plot()"]
    assert _ran(cells, "def answer():\n    return 1") == [0, 1, 2, 3, 5]


def test_values_computed_at_the_top_of_an_answer_cell_see_the_same_random_state():
    cells = [IMPORTS, "torch.manual_seed(0)", "model = make()\ntrain(model)", "plot()"]
    answer = "W = torch.randn(2)\ndef answer(x):\n    return W @ x"
    assert _ran(cells, answer) == [0, 1, 2, 3, 4]
    # A definition only: nothing computed at the top, no hidden state read.
    assert _ran(cells, "def answer(x):\n    return torch.randn(2) @ x") == [0, 4]


def test_the_check_cells_settle_binds_the_answer_for_later_cells():
    # A learner's cell after the check reads the answer: the answer (and its settle) provide it;
    # no lesson cell is needed for it.
    cells = [IMPORTS, "train()"]
    lesson = _Lesson(cells + ["def answer():\n    raise NotImplementedError"])
    sources = [(IMPORTS, ""), ("train()", ""), ("def answer():\n    return 1", "ex_a-answer"),
               ("answer = ex.answer.check()", "ex_a"), ("print(answer())", "")]
    notebook = [Cell(i, "code", s, g) for i, (s, g) in enumerate(sources)]
    assert sorted(select(notebook, lesson).run) == [0, 2, 4]
    assert [s.kind for s in plan(notebook, lesson)] == [
        "cell", "forget", "cell", "record", "settle", "cell"]


@pytest.fixture(scope="module")
def lessons():
    return grading.load_lessons()


@pytest.mark.parametrize("kind", ["shipped", "solved", "wrong"])
def test_every_lesson_runs_its_import_cell_and_answers_and_skips_its_training(
        kind, lessons, tmp_path):
    for path in bench.write_sets(tmp_path, [kind]):
        cells = read_cells(path)
        lesson = grading.identify_lesson(cells, lessons)
        selection = select(cells, lesson)
        code = [c for c in cells if c.cell_type == "code" and c.source.strip()]
        assert code[0].index in selection.run, path.name  # the import cell
        answers = {c.index for c in cells if c.grade_id.endswith("-answer")}
        assert answers <= selection.run
        assert not selection.unsure
        others = selection.run - answers - {code[0].index}
        if kind == "wrong":  # the pasted modules compute at their top level: see the next test
            continue
        assert not others, (path.name, sorted(others))
        assert len(selection.skipped) >= 10, path.name
        assert "the others define nothing your answers use" in selection.summary()


def test_every_fixture_and_cheat_gets_the_run_all_plan(lessons, tmp_path):
    """Same steps, same job for the runner: the fixtures' CSV under the default plan is the one
    under --run-all (tests/test_grading.py checks it row by row against the expected one)."""
    folder, canaries = tmp_path / "submissions", tmp_path / "canaries"
    canaries.mkdir()
    FIXTURES.write(folder, out=tmp_path / "out", canaries=canaries,
                   marker=f"grader-plan-test-{uuid.uuid4().hex}")
    checked = 0
    for path in sorted(folder.rglob("*.ipynb")):
        if path.is_symlink():
            continue
        try:
            cells = read_cells(path)
        except Exception:
            continue  # not a notebook: no plan
        lesson = grading.identify_lesson(cells, lessons)
        if lesson is None:
            continue
        default = plan(cells, lesson)
        every = plan(cells, lesson, selection=select(cells, lesson, run_all=True))
        assert default == every, path.name
        checked += 1
    assert checked >= 25


@pytest.fixture(scope="module")
def graded_both_ways(tmp_path_factory):
    base = tmp_path_factory.mktemp("identical")
    folder = base / "submissions"
    bench.write_sets(folder, ["solved", "wrong"])
    out = {}
    for run_all in (True, False):
        out[run_all] = base / ("run_all" if run_all else "default")
        grading.grade_folder(folder, out[run_all], jobs=2, quiet=True, run_all=run_all)
    return out


@needs_sandbox
def test_identical_grades_with_the_default_plan_and_run_all(graded_both_ways):
    run_all, default = graded_both_ways[True], graded_both_ways[False]
    diff = bench.differences(run_all / "grades.csv", default / "grades.csv")
    assert not diff, "\n".join(diff[:5])
    feedback = sorted((default / "feedback").glob("*.txt"))
    assert len(feedback) == 20
    for path in feedback:
        text = path.read_text(encoding="utf-8")
        assert "code cells; the others define nothing your answers use." in text, path.name
    shutil.rmtree(run_all.parent / "submissions", ignore_errors=True)


def test_the_last_copy_of_a_duplicated_answer_cell_is_graded():
    # A learner copied the answer cell and fixed the copy (a later cell with the same grade_id):
    # the grader's forget/record/settle steps surround the LAST copy (cell 3), the first copy
    # runs as a plain cell before it, and the check cell is not run.
    cells = [IMPORTS]
    lesson = _Lesson(cells + ["def answer():\n    raise NotImplementedError"])
    sources = [(IMPORTS, ""), ("def answer():\n    return 'first, wrong'", "ex_a-answer"),
               ("x = 1", ""), ("def answer():\n    return 'last, right'", "ex_a-answer"),
               ("answer = ex.answer.check()", "ex_a")]
    notebook = [Cell(i, "code", s, g) for i, (s, g) in enumerate(sources)]
    steps = plan(notebook, lesson, selection=select(notebook, lesson, run_all=True))
    graded = [(s.kind, s.cell) for s in steps if s.exercise == "ex_a"]
    assert graded == [("forget", 3), ("cell", 3), ("record", 3), ("settle", 3)]
    assert [s.source for s in steps if s.kind == "cell" and s.exercise == "ex_a"] == [
        "def answer():\n    return 'last, right'"]
    assert ("cell", 1) in [(s.kind, s.cell) for s in steps if not s.exercise]
