"""The parametrised collections are what we think they are: an empty or shrunken registry, a
missing notebook or a lost list of wrong answers would otherwise make their tests vanish and the
suite pass (a parametrize over nothing collects nothing, silently)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from utils.exercises import registry

TESTS = Path(__file__).resolve().parent
LESSONS = 10  # lessons 01-10, each a notebook and a lesson source
EXERCISES = 24  # at least: grows when an exercise is added, never shrinks unnoticed
WRONG_ANSWERS = 151  # at least: the hand-written wrong answers, over all exercises


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_lesson_notebook_is_collected():
    for name in ("test_checked_outputs", "test_wrong_answer_notebooks"):
        notebooks = _load(name).NOTEBOOKS
        assert len(notebooks) == LESSONS, (name, [p.name for p in notebooks])
        assert [p.name[:2] for p in notebooks] == [f"{i:02d}" for i in range(1, LESSONS + 1)]


def test_the_exercise_registry_is_full():
    exercises = registry()
    assert len(exercises) >= EXERCISES, sorted(exercises)
    lessons = {ex.id[2:4] for ex in exercises.values()}
    assert lessons == {f"{i:02d}" for i in range(1, LESSONS + 1)}, sorted(lessons)


def test_every_exercise_has_wrong_answers_and_none_were_lost():
    wrong = _load("test_exercises").WRONG_ANSWERS
    assert set(wrong) == set(registry())
    assert sum(len(answers) for answers in wrong.values()) >= WRONG_ANSWERS
    assert len(_load("test_check_equals_grader").EXERCISES) >= EXERCISES
