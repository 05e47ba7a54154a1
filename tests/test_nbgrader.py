"""nbgrader works on the course's notebooks: its own generate_assignment and autograde.

In a temporary nbgrader course directory, Lesson 01's instructor notebook (the lesson source
with solutions, from grader.lessons.read_source) is the assignment's source notebook.
nbgrader's ``generate_assignment`` must produce the same stubs as our build, and its
``autograde`` must give the reference solution full points and the stubs zero. Check cells
print a verdict other than "passed" on stderr, which nbgrader scores as zero: that is what
makes the course's check cells work as nbgrader tests.

Autograde runs the submissions trimmed to their graded cells (tests/grading_fixtures/build.py
explains the trimming): nbgrader needs every graded cell, not the lesson's experiments, and
this keeps the test fast.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import nbformat
import pytest

from grader.lessons import learner_notebook, read_source

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

nbgrader_api = pytest.importorskip("nbgrader.apps.api")
from nbgrader.api import Gradebook  # noqa: E402
from traitlets.config import Config  # noqa: E402

ASSIGNMENT = "lesson01"
# nbgrader's own database code warns about its session handling; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore::sqlalchemy.exc.SAWarning")


def _fixtures():
    spec = importlib.util.spec_from_file_location("grading_fixtures",
                                                  HERE / "grading_fixtures" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURES = _fixtures()
LESSON = FIXTURES.LESSON


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """An nbgrader course: the assignment generated, two submissions autograded."""
    root = tmp_path_factory.mktemp("nbgrader_course")
    # nbgrader runs the `alembic` script of its environment by name: put it on PATH.
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{path}"
    try:
        yield _make_course(root)
    finally:
        os.environ["PATH"] = path


def _make_course(root):
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.Exchange.root = str(root / "exchange")
    config.Execute.timeout = 120
    api = nbgrader_api.NbGraderAPI(config=config)

    source = root / "source" / ASSIGNMENT / f"{LESSON.stem}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(read_source(LESSON), source)
    result = api.generate_assignment(ASSIGNMENT)
    assert result["success"], result.get("error", "") + result.get("log", "")
    release = nbformat.read(root / "release" / ASSIGNMENT / source.name, 4)

    submissions = {
        "solution": FIXTURES.trimmed(read_source(LESSON)),
        "stubs": FIXTURES.trimmed(release),
    }
    for student, nb in submissions.items():
        path = root / "submitted" / student / ASSIGNMENT / source.name
        path.parent.mkdir(parents=True)
        nbformat.write(nb, path)
        result = api.autograde(ASSIGNMENT, student)
        assert result["success"], result.get("error", "") + result.get("log", "")
    return root, release, config.CourseDirectory.db_url


def test_generate_assignment_makes_the_same_stubs_as_our_build(course):
    _, release, _ = course
    ours = learner_notebook(LESSON)
    theirs = {c.metadata["nbgrader"]["grade_id"]: c.source for c in release.cells
              if c.metadata.get("nbgrader", {}).get("solution")}
    mine = {c.metadata["nbgrader"]["grade_id"]: c.source for c in ours.cells
            if c.metadata.get("nbgrader", {}).get("solution")}
    assert theirs and theirs == mine


def _scores(db_url, student):
    with Gradebook(db_url) as gb:
        notebook = gb.find_submission_notebook(LESSON.stem, ASSIGNMENT, student)
        cells = {g.name: (g.auto_score, g.max_score) for g in notebook.grades}
        return gb.find_submission(ASSIGNMENT, student).score, cells


def test_autograde_gives_the_reference_solution_full_points(course):
    _, _, db_url = course
    exercises = FIXTURES.lesson_exercises()
    score, cells = _scores(db_url, "solution")
    assert cells == {ex.id: (ex.points, ex.points) for ex in exercises}
    assert score == sum(ex.points for ex in exercises)


def test_autograde_gives_the_stubs_zero(course):
    _, _, db_url = course
    exercises = FIXTURES.lesson_exercises()
    score, cells = _scores(db_url, "stubs")
    assert cells == {ex.id: (0, ex.points) for ex in exercises}
    assert score == 0
