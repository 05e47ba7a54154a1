"""Each message names the mistake the answer made (issue 22), tested with the wrong answer that
provokes it; the structural mistakes fail in the open (a visible case); hints come in steps and
none holds the answer's code."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import torch

from utils.exercises import WRONG, registry  # WRONG: the status
from utils.exercises.judge import _cap

TESTS = Path(__file__).resolve().parent
EXERCISES = registry()


def _wrong(lesson: str) -> dict:
    path = TESTS / f"wrong_answers_lesson{lesson}.py"
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {f.__name__: f for answers in module.WRONG.values() for f in answers}


W = {**_wrong("07"), **_wrong("08"), **_wrong("09"), **_wrong("10")}


def _verdict(exercise_id, answer):
    result = EXERCISES[exercise_id].evaluate(answer, hidden=True)
    assert result.status == WRONG, result.message
    return result.message


# -- the three answers that passed their check cell before ----------------------------------


@pytest.mark.parametrize("exercise_id, name, words", [
    ("ex08_linear_flow_log_prob", "linear_constant_for_two_dimensions", "(D / 2) log(2 pi)"),
    ("ex08_linear_flow_log_prob", "linear_in_float64", "expected dtype float32, got float64"),
    ("ex10_hamiltonian_field", "field_always_detaching", "already requires grad"),
])
def test_structural_mistakes_fail_on_a_visible_case(exercise_id, name, words):
    exercise = EXERCISES[exercise_id]
    visible = exercise.evaluate(W[name])  # the visible cases alone catch it
    assert visible.status == WRONG and visible.message.startswith("case '"), visible.message
    assert words in visible.message
    assert _verdict(exercise_id, W[name]) == visible.message


# -- the order of causes ------------------------------------------------------------------------


@pytest.mark.parametrize("exercise_id, name", [
    ("ex08_jacobian_trace", "trace_without_create_graph"),
    ("ex08_hutchinson_estimate", "hutchinson_without_create_graph"),
    ("ex10_hamiltonian_field", "field_without_create_graph"),
])
def test_missing_create_graph_is_named(exercise_id, name):
    message = _verdict(exercise_id, W[name])
    assert "without create_graph=True" in message
    assert ".detach()" not in message and "NumPy" not in message


def test_requires_grad_on_the_callers_tensor_is_a_changed_argument():
    message = _verdict("ex10_hamiltonian_field", W["field_switching_on_the_callers_grad"])
    assert "requires_grad of the caller's tensor `y`" in message
    assert "no gradient flows" not in message and "create_graph" not in message


def test_create_graph_comes_before_a_changed_argument():
    def field(H, y):
        y.requires_grad_(True)
        (dH,) = torch.autograd.grad(H(y).sum(), y)
        return torch.stack((dH[..., 1], -dH[..., 0]), dim=-1)

    assert "without create_graph=True" in _verdict("ex10_hamiltonian_field", field)


def test_a_changed_argument_comes_before_dtype_shape_and_values():
    def augment(x, n_extra):
        x.mul_(2.0)
        return torch.cat((x.double(), torch.zeros(*x.shape[:-1], n_extra + 1)), dim=-1)

    assert "changed its argument `x` in place" in _verdict("ex07_augment", augment)


def test_dtype_comes_before_shape():
    def augment(x, n_extra):
        return torch.cat((x, torch.zeros(*x.shape[:-1], n_extra + 1, dtype=x.dtype)),
                         dim=-1).double()

    message = _verdict("ex07_augment", augment)
    assert "expected dtype float32, got float64" in message and "shape" not in message


# -- a case's reason only where its cause applies ------------------------------------------------


def test_7_1_reason_only_for_its_own_mistake():
    assert "not to 1" in _verdict("ex07_ode_block", W["block_always_to_one"])
    for name in ("block_without_gradient", "block_ignores_time"):
        message = _verdict("ex07_ode_block", W[name])
        assert "not to 1" not in message, (name, message)
    assert "no gradient flows" in _verdict("ex07_ode_block", W["block_without_gradient"])


def test_9_2_adaptive_solver_is_named_not_float32():
    message = _verdict("ex09_latent_readout", W["readout_adaptive_solver"])
    assert "adaptive" in message and "RK4" in message and "float32" not in message


def test_9_1_in_place_message_is_whole_and_names_it():
    message = _verdict("ex09_encode_backwards", W["encoder_assigns_in_place"])
    assert "changed in place" in message and "torc " not in message + " "
    assert not message.endswith(("torc", "with"))


def test_10_2_results_by_their_names_and_drift_kick_drift_named():
    message = _verdict("ex10_leapfrog_step", W["returns_p_then_q"])
    assert "q_new:" in message and "result 1 of 2" not in message
    message = _verdict("ex10_leapfrog_step", W["drift_kick_drift"])
    assert "drift-kick-drift" in message and "kick-drift-kick" in message


def test_messages_are_capped_at_a_whole_word():
    text = "word " * 200
    capped = _cap(text, 101)
    assert len(capped) <= 101 and capped.endswith(" …") and capped[:-2].endswith("word")

    def euler_step(f, t, y, h):
        raise ValueError("abcdefghij " * 100)

    message = EXERCISES["ex01_euler_step"].evaluate(euler_step).message
    assert re.search(r"abcdefghij …", message) and "abcdefghij abcde " not in message[-40:]


# -- hints in steps -----------------------------------------------------------------------------


@pytest.fixture(params=sorted(EXERCISES), ids=str)
def exercise(request):
    return EXERCISES[request.param]


def test_hints_come_in_two_steps(exercise, capsys):
    exercise.hint()
    first = capsys.readouterr().out
    exercise.hint(2)
    second = capsys.readouterr().out
    assert "Hint for" in first and "(1 of 2)" in first and "hint(2)" in first
    assert "(2 of 2)" in second and "solution()" in second
    assert exercise.hints[0] != exercise.hints[1]


def _code_lines(exercise) -> list[str]:
    import ast
    import inspect
    import textwrap

    source = textwrap.dedent(inspect.getsource(exercise.reference))
    body = ast.parse(source).body[0].body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]  # the docstring: prose, not code
    lines = []
    for line in "\n".join(ast.get_source_segment(source, node) for node in body).splitlines():
        code = line.split("#", 1)[0].strip()
        if not code or code.startswith(("def ", "from ", "import ", '"""', "return h")):
            continue
        squeezed = re.sub(r"\s+", "", code)
        if len(squeezed) >= 14:
            lines.append(squeezed)
    return lines


def test_no_hint_holds_the_answers_code(exercise):
    for level, hint in enumerate(exercise.hints, 1):
        squeezed = re.sub(r"\s+", "", hint)
        for line in _code_lines(exercise):
            assert line not in squeezed, f"hint({level}) of {exercise.id} holds `{line}`"
        # no long run of the answer's code either (a call with its arguments)
        code = "".join(_code_lines(exercise))
        for start in range(0, max(len(squeezed) - 28, 0)):
            piece = squeezed[start:start + 28]
            assert piece not in code, f"hint({level}) of {exercise.id} holds code: {piece!r}"
