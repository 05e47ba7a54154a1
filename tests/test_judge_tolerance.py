"""The judge's tolerance, from outside: an answer off by a relative 1e-4 fails ex01_euler_step
(whose cases allow rtol <= 1e-5), an answer off by 1e-9 passes. Written independently of the
cases' expected values: both answers are the hand formula y + h f(t, y), scaled."""

from __future__ import annotations

from utils.exercises import registry
from utils.exercises.judge import Status


def _scaled(factor):
    def euler_step(f, t, y, h):
        return (y + h * f(t, y)) * factor
    return euler_step


def test_an_answer_off_by_1e_4_is_wrong_and_one_off_by_1e_9_passes():
    exercise = registry()["ex01_euler_step"]
    assert exercise.evaluate(_scaled(1 + 1e-4), hidden=True).status == Status.WRONG
    assert exercise.evaluate(_scaled(1 + 1e-9), hidden=True).status == Status.PASSED
