"""Self-tests of every graded exercise in the course, found through the registry.

For each exercise: the reference passes; the lesson source's own solution passes; the stub the
learner starts from is "not attempted"; every plausible wrong answer in
``tests/wrong_answers_lessonNN.py`` is "wrong" with a message naming the failed case. And the
notebooks' nbgrader cells agree with the registry (ids, points).
"""

from __future__ import annotations

import importlib.util
import math
import re
import sys
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from utils.exercises import NOT_ATTEMPTED, PASSED, WRONG, Exercise, registry

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))
import build_notebooks  # noqa: E402

EXERCISES = registry()


def _wrong_answers() -> dict:
    wrong = {}
    for path in sorted(Path(__file__).parent.glob("wrong_answers_lesson*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        wrong.update(module.WRONG)
    return wrong


WRONG_ANSWERS = _wrong_answers()


def _answer_cells() -> dict[str, tuple[Path, str]]:
    """{exercise id: (lesson source, solution cell source)} from every lesson source."""
    found = {}
    for source in build_notebooks.lesson_sources():
        for cell in build_notebooks.read_source(source).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if grade_id.endswith("-answer"):
                found[grade_id.removesuffix("-answer")] = (source, cell.source)
    return found


ANSWER_CELLS = _answer_cells()


def _stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.fixture(params=sorted(EXERCISES), ids=str)
def exercise(request) -> Exercise:
    return EXERCISES[request.param]


def test_reference_passes(exercise):
    result = exercise.evaluate(exercise.reference, hidden=True)
    assert result.status == PASSED, result.message
    assert result.points == exercise.points


def test_stub_is_not_attempted(exercise):
    result = exercise.evaluate(_stub, hidden=True)
    assert result.status == NOT_ATTEMPTED
    assert result.points == 0


def test_lesson_solution_passes(exercise):
    assert exercise.id in ANSWER_CELLS, f"no answer cell with grade_id '{exercise.id}-answer'"
    source, cell_source = ANSWER_CELLS[exercise.id]
    lesson = exercise.id.split("_")[0]
    lesson_exercises = [e for e in EXERCISES.values() if e.id.split("_")[0] == lesson]
    namespace = {"np": np, "torch": torch, "nn": nn, "math": math}
    namespace.update({e.answer_name: e.reference for e in lesson_exercises})
    exec(compile(cell_source, str(source), "exec"), namespace)
    result = exercise.evaluate(namespace[exercise.answer_name], hidden=True)
    assert result.status == PASSED, f"{source.name}: {result.message}"


def test_has_plausible_wrong_answers(exercise):
    assert WRONG_ANSWERS.get(exercise.id), (
        f"add at least one plausible wrong answer for {exercise.id} to tests/wrong_answers_*.py"
    )


@pytest.mark.parametrize(
    "exercise_id, index",
    [(key, i) for key, answers in sorted(WRONG_ANSWERS.items()) for i in range(len(answers))],
)
def test_wrong_answer_is_reported_wrong(exercise_id, index, capsys):
    exercise = EXERCISES[exercise_id]
    answer = WRONG_ANSWERS[exercise_id][index]
    result = exercise.evaluate(answer)
    assert result.status == WRONG, f"{answer.__name__} was not caught: {result.message}"
    assert result.points == 0
    assert "case" in result.message or "should be" in result.message
    # In the notebook: the check never raises, explains on stderr, falls back to the reference.
    returned = exercise.check(answer)
    assert returned is exercise.reference
    err = capsys.readouterr().err
    assert "[not yet right]" in err and "reference solution" in err


def test_check_prints_passed_and_returns_the_answer(capsys):
    exercise = EXERCISES["ex01_euler_step"]

    def euler_step(f, t, y, h):
        return y + h * f(t, y)

    assert exercise.check(euler_step) is euler_step
    out = capsys.readouterr()
    assert "[passed]" in out.out and out.err == ""


def test_hint_and_solution_print_something_useful(exercise, capsys):
    exercise.hint()
    exercise.solution()
    out = capsys.readouterr().out
    assert "Hint" in out
    assert f"def {exercise.answer_name}(" in out or f"class {exercise.answer_name}" in out


def test_undefined_and_non_callable_answers_get_feedback():
    exercise = EXERCISES["ex01_euler_step"]
    assert exercise.evaluate(None).status == NOT_ATTEMPTED
    result = exercise.evaluate(3.0)
    assert result.status == WRONG and "should be a function" in result.message


def test_nan_answer_is_wrong():
    exercise = EXERCISES["ex01_euler_step"]
    result = exercise.evaluate(lambda f, t, y, h: y * np.nan)
    assert result.status == WRONG and "NaN" in result.message


def _grade_cells():
    cells = {}
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in nbformat.read(path, 4).cells:
            grader = cell.metadata.get("nbgrader", {})
            if grader.get("grade"):
                cells[grader["grade_id"]] = (path.name, grader, cell.source)
    return cells


def test_notebook_check_cells_match_the_registry():
    cells = _grade_cells()
    assert set(cells) == set(EXERCISES), "every exercise has exactly one check cell"
    for grade_id, (name, grader, source) in cells.items():
        exercise = EXERCISES[grade_id]
        assert grader["points"] == exercise.points, f"{name}: points of {grade_id}"
        assert grader.get("locked") is True
        pattern = rf"\b{exercise.answer_name}\s*=\s*ex\.\w+\.check\({exercise.answer_name}\)"
        assert re.search(pattern, source), f"{name}: check cell of {grade_id} is {source!r}"
