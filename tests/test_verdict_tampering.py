"""grader.verdicts.verdict against results that do not match the exercise's cases: written from
the outside (the reference's own outcomes, recorded the grader's way, then tampered with)."""

from __future__ import annotations

import json
import types

from grader import kernel_side, verdicts
from utils.exercises import registry


def _recorded(exercise, answer, tmp_path, monkeypatch) -> dict:
    monkeypatch.setattr(kernel_side, "_namespace", lambda: {exercise.answer_name: answer})
    out = tmp_path / "outcomes.json"
    kernel_side.record(exercise.id, exercise.answer_name, str(out))
    return json.loads(out.read_text(encoding="utf-8"))


def _own_copy(ref):
    return types.FunctionType(ref.__code__, ref.__globals__, ref.__name__, ref.__defaults__,
                              ref.__closure__)


def test_results_for_other_cases_or_too_few_are_not_graded(tmp_path, monkeypatch):
    exercise = registry()["ex01_euler_step"]
    expected = verdicts.expected_for(exercise)
    assert len(expected.cases) >= 3
    data = _recorded(exercise, _own_copy(exercise.reference), tmp_path, monkeypatch)
    assert verdicts.verdict(exercise, data, expected)[0] == "passed"
    swapped = dict(data, outcomes=[data["outcomes"][1], data["outcomes"][0],
                                   *data["outcomes"][2:]])
    assert verdicts.verdict(exercise, swapped, expected)[0] == "not_graded"
    fewer = dict(data, outcomes=data["outcomes"][:-1])
    assert verdicts.verdict(exercise, fewer, expected)[0] == "not_graded"


def test_every_case_is_judged(tmp_path, monkeypatch):
    # An answer right on the first case only (it memorised it) must fail: every case counts.
    exercise = registry()["ex01_euler_step"]
    expected = verdicts.expected_for(exercise)
    first = expected.cases[0]
    reference = exercise.reference

    def euler_step(f, t, y, h):
        right = reference(f, t, y, h)
        return right if t == first.args[1] and h == first.args[3] else right * 1.5

    data = _recorded(exercise, euler_step, tmp_path, monkeypatch)
    assert verdicts.verdict(exercise, data, expected)[0] == "wrong"
