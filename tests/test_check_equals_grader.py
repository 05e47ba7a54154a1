"""A check cell that says "passed" means the grader awards the points (issue 22).

For every exercise, on the reference, on every hand-written wrong answer
(``tests/wrong_answers_lessonNN.py``) and on every fault generated from the reference (in place on
each argument, a list, None, ``torch.no_grad()``, memorised visible answers):

- the check cell's verdict and message equal the grader's: the check cell is run as the notebook
  runs it (``x = ex.<name>.check()`` reading the answer from its namespace); the grader's verdict
  comes through the grader's own path: ``grader.kernel_side.record`` runs the cases without
  their expected values and writes JSON, which ``grader.verdicts.verdict`` parses and judges
  against ``grader.verdicts.expected_for``;
- nothing the check cell prints shows a traceback or a frame of the course's code (the learner's
  own line is all an error names).

The faults run through the check mechanism directly (not by re-executing each notebook per
fault): the same ``check()`` the check cell calls, in a namespace like the notebook's.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import re
import types
from pathlib import Path

import pytest

from grader import kernel_side, verdicts
from utils.exercises import registry

TESTS = Path(__file__).resolve().parent
EXERCISES = registry()


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


SELF_TESTS = _load("test_exercises")  # its wrong answers and its fault generators
WRONG = SELF_TESTS.WRONG_ANSWERS


def _answers(exercise) -> list[tuple[str, object]]:
    """(label, answer): the reference, the hand-written wrong answers, the generated faults."""
    ref = exercise.reference
    # The reference's code as a learner's own function (the check cell rightly refuses the
    # reference object itself: that is the fallback it put in place).
    answers = [("reference", types.FunctionType(ref.__code__, ref.__globals__, ref.__name__,
                                                ref.__defaults__, ref.__closure__))]
    answers += [(f"wrong:{a.__name__}", a) for a in WRONG.get(exercise.id, [])]
    answers += [(f"fault:in_place[{i}]", SELF_TESTS._in_place_fault(ref, i)) for i in range(5)]
    answers += [("fault:list", SELF_TESTS._list_fault(ref)),
                ("fault:none", SELF_TESTS._none_fault(ref)),
                ("fault:no_grad", SELF_TESTS._no_grad_fault(ref)),
                ("fault:memorised", SELF_TESTS._memorising_fault(exercise)),
                ("fault:stub", SELF_TESTS._stub)]
    return answers


def _grader_verdict(exercise, answer, expected, tmp_path, monkeypatch) -> tuple[str, str]:
    """(status, message) through the grader's own record -> JSON -> verdict path."""
    monkeypatch.setattr(kernel_side, "_namespace", lambda: {exercise.answer_name: answer})
    out = tmp_path / "outcomes.json"
    kernel_side.record(exercise.id, exercise.answer_name, str(out))
    data = json.loads(out.read_text(encoding="utf-8"))
    return verdicts.verdict(exercise, data, expected)


def _check_cell(exercise, answer) -> tuple[str, str, str, object]:
    """What the check cell does in the notebook: (stdout, stderr, the returned function)."""
    namespace = {"ex": exercise, exercise.answer_name: answer}
    stdout, stderr = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
        exec(f"{exercise.answer_name} = ex.check()", namespace)  # noqa: S102 (the check cell)
    return stdout.getvalue(), stderr.getvalue(), namespace[exercise.answer_name]


_GRADER_STATUS = {"passed": "passed", "not_attempted": "not attempted"}
_COURSE_CODE = re.compile(r"Traceback|File \"|utils[/\\]|grader[/\\]|judge\.py|core\.py|"
                          r"lesson\d\d\.py|site-packages")


@pytest.mark.parametrize("exercise_id", sorted(EXERCISES))
def test_check_cell_verdict_equals_the_graders(exercise_id, tmp_path, monkeypatch):
    exercise = EXERCISES[exercise_id]
    expected = verdicts.expected_for(exercise)
    answers = _answers(exercise)
    assert len(answers) >= 12
    mismatches, leaks = [], []
    for label, answer in answers:
        status, message = _grader_verdict(exercise, answer, expected, tmp_path, monkeypatch)
        grader = _GRADER_STATUS.get(status, "wrong")
        out, err, returned = _check_cell(exercise, answer)
        check = ("passed" if out.startswith("[passed]") else
                 "not attempted" if err.startswith("[not attempted yet]") else
                 "wrong" if err.startswith("[not yet right]") else f"?{out}{err}")
        if check != grader or message not in out + err:
            mismatches.append(f"{label}: check cell {check!r}, grader {status!r} ({message})\n"
                              f"  check cell printed: {out}{err}")
        if (returned is answer) != (check == "passed"):
            mismatches.append(f"{label}: the check cell returned the wrong function")
        if _COURSE_CODE.search(out + err):
            leaks.append(f"{label}: {out}{err}")
        if label == "reference":
            assert grader == "passed", message
    assert not mismatches, "\n".join(mismatches)
    assert not leaks, "course-internal frames in check-cell output:\n" + "\n".join(leaks)


def test_every_generated_fault_and_wrong_answer_is_counted():
    """The size of the equality test: exercises x answers (printed with -s)."""
    total = sum(len(_answers(e)) for e in EXERCISES.values())
    print(f"\n{len(EXERCISES)} exercises, {total} answers checked for equal verdicts")
    assert len(EXERCISES) >= 24 and total >= 24 * 12
