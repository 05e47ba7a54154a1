"""The grader's three steps inside the learner's kernel (called by :mod:`grader.runner`).

Everything here runs next to the learner's code and may be patched by it; nothing here decides
a grade. ``record`` runs the exercise's cases (inputs only: expected values are never in the
sandbox) and writes the outcomes as plain JSON; whether they are right is decided outside the
sandbox, so patching these functions, the checking code or the import machinery gains nothing.
"""

from __future__ import annotations

import json

__all__ = ["forget", "pin", "record", "settle"]


def _namespace() -> dict:
    from IPython import get_ipython

    return get_ipython().user_ns


def pin(exercise_ids) -> None:
    """Before any learner cell: remember the course functions these exercises withhold while
    their cases run (:func:`utils.exercises.judge.pin`), so a notebook cannot swap them for
    stand-ins and keep the originals to itself."""
    from utils.exercises import registry
    from utils.exercises.judge import pin as pin_functions

    exercises = registry()
    for exercise_id in exercise_ids:
        if exercise_id in exercises:
            pin_functions(exercises[exercise_id].withholds)


def forget(name: str) -> None:
    """Unbind ``name``, so that an answer cell that fails cannot leave an older value behind."""
    _namespace().pop(name, None)


def record(exercise_id: str, answer_name: str, path: str) -> None:
    """Run every case of the exercise (visible, then hidden) on the learner's answer.

    The cases are built with the random generators seeded as the grader seeds them outside
    (:mod:`utils.exercises.seeding`, the same code on both sides, so both get the same inputs),
    and the generators are restored afterwards.
    """
    from utils.exercises import registry
    from utils.exercises.judge import run_case
    from utils.exercises.seeding import seeded

    with seeded(0):
        exercise = registry()[exercise_id]
        cases = [case.without_expected() for case in exercise.case_list(hidden=True)]
        answer = _namespace().get(answer_name)
        outcomes = [run_case(answer, case).to_json() for case in cases]
    with open(path, "w", encoding="utf-8") as out:
        json.dump({"exercise": exercise_id, "outcomes": outcomes}, out)


def settle(answer_name: str, source: str | None) -> None:
    """What a check cell does for later cells: keep a passing answer (``source`` None), or bind
    the course's reference for this exercise, whose source the grader sent in just now."""
    if source is None:
        return
    namespace: dict = {"__name__": f"course_reference_{answer_name}",
                       "__package__": "utils.exercises.solutions"}
    exec(compile(source, f"<course reference for {answer_name}>", "exec"), namespace)
    _namespace()[answer_name] = namespace[answer_name]
