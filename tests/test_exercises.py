"""Self-tests of every graded exercise in the course, found through the registry.

For each exercise:
- the reference passes (visible and hidden cases); the lesson source's own solution passes; the
  stub the learner starts from is "not attempted";
- the hand-written wrong answers in ``tests/wrong_answers_lessonNN.py`` are "wrong";
- faults generated from the reference are "wrong", with a message that names the fault: changing
  an array/tensor argument in place (then returning the right value), returning a list instead of
  an array, returning None, running under ``torch.no_grad()`` (torch exercises), and memorising
  the visible cases' answers (the hidden cases catch it);
- after every fault, the reference still passes in the same process (no poisoned cases), and
  wrong -> right -> wrong -> right gives the same verdicts as fresh runs.
And the notebooks' nbgrader cells agree with the registry (ids, points, the check-cell form).
"""

from __future__ import annotations

import ast
import copy
import functools
import importlib.util
import math
import random
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from grader.lessons import lesson_sources, read_source
from utils.exercises import NOT_ATTEMPTED, PASSED, WRONG, Exercise, registry, self_check
from utils.exercises.judge import Case, Outcome, Value, describe, judge, run_case
from utils.exercises.seeding import rng_state, seeded, set_rng_state

ROOT = Path(__file__).resolve().parent.parent

EXERCISES = registry()

#: Torch exercises whose answer legitimately runs the same under torch.no_grad() (with reason).
NO_GRAD_HARMLESS = {
    "ex04_augmented_dynamics": "it runs under no_grad by design and opens enable_grad itself",
}


def _wrong_answers() -> dict:
    wrong = {}
    for path in sorted(Path(__file__).parent.glob("wrong_answers_lesson*.py")):
        spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for key, answers in module.WRONG.items():
            wrong.setdefault(key, []).extend(answers)
    return wrong


WRONG_ANSWERS = _wrong_answers()


def _answer_cells() -> dict[str, tuple[Path, str]]:
    """{exercise id: (lesson source, solution cell source)} from every lesson source."""
    found = {}
    for source in lesson_sources():
        for cell in read_source(source).cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id", "")
            if grade_id.endswith("-answer"):
                found[grade_id.removesuffix("-answer")] = (source, cell.source)
    return found


ANSWER_CELLS = _answer_cells()
#: Each lesson's first code cell (its imports): answer cells may use what it imports.
IMPORT_CELLS = {source: next(c.source for c in read_source(source).cells if c.cell_type == "code")
                for source in lesson_sources()}


def _stub(*args, **kwargs):
    raise NotImplementedError()


@pytest.fixture(params=sorted(EXERCISES), ids=str)
def exercise(request) -> Exercise:
    return EXERCISES[request.param]


def test_reference_passes(exercise):
    result = exercise.evaluate(exercise.reference, hidden=True)
    assert result.status == PASSED, result.message
    assert result.points == exercise.points


def test_every_exercise_has_hidden_cases_with_new_inputs(exercise):
    visible = exercise.case_list()
    hidden = exercise.case_list(hidden=True)[len(visible):]
    assert hidden, f"{exercise.id} has no hidden cases"
    for case in hidden:
        assert case.hidden
        assert not any(_same_inputs(case, v) for v in visible), (
            f"{exercise.id}: hidden case '{case.name}' repeats a visible case's inputs")


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
    exec(compile(IMPORT_CELLS[source], str(source), "exec"), namespace)  # the lesson's imports
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
    result = exercise.evaluate(answer, hidden=True)
    assert result.status == WRONG, f"{answer.__name__} was not caught: {result.message}"
    assert result.points == 0
    assert "case" in result.message or "should be" in result.message
    # In the notebook: the check never raises, explains on stderr, falls back to the reference.
    returned = exercise.check(answer)
    assert returned is exercise.reference
    err = capsys.readouterr().err
    assert "[not yet right]" in err and "reference solution" in err
    # ... and the wrong answer poisoned nothing.
    assert exercise.evaluate(exercise.reference, hidden=True).status == PASSED


# -- faults generated from the reference --------------------------------------------------------


def _tensors_or_arrays(x):
    return isinstance(x, (np.ndarray, torch.Tensor))


def _mutate(x) -> bool:
    """Change an array or tensor in place; False if ``x`` is neither."""
    if isinstance(x, np.ndarray) and x.dtype.kind in "fc" and x.flags.writeable:
        x += 1.0
        return True
    if isinstance(x, torch.Tensor) and x.is_floating_point():
        with torch.no_grad():
            x.add_(1.0)
        return True
    if isinstance(x, list) and x and all(isinstance(v, torch.Tensor) for v in x):
        return _mutate(x[0])
    return False


def _in_place_fault(reference, position):
    """The right result, then argument ``position`` changed in place."""
    touched = []

    @functools.wraps(reference)
    def answer(*args):
        result = reference(*copy.deepcopy(args))
        if position < len(args):
            touched.append(_mutate(args[position]))
        return result

    answer.touched = touched
    return answer


def _as_list(x):
    if isinstance(x, (np.ndarray, torch.Tensor)) and x.ndim > 0:
        return x.tolist()
    return x


def _list_fault(reference):
    @functools.wraps(reference)
    def answer(*args):
        result = reference(*args)
        if isinstance(result, tuple):
            return tuple(_as_list(v) for v in result)
        return _as_list(result)

    return answer


def _none_fault(reference):
    @functools.wraps(reference)
    def answer(*args):
        reference(*args)

    return answer


def _no_grad_fault(reference):
    @functools.wraps(reference)
    def answer(*args):
        with torch.no_grad():
            return reference(*args)

    return answer


def _shifted(x):
    if isinstance(x, (tuple, list)):
        return type(x)(_shifted(v) for v in x)
    if isinstance(x, (np.ndarray, torch.Tensor)) and not isinstance(x, bool):
        return x + 1.0
    if isinstance(x, (int, float)):
        return x + 1.0
    return x


def _equal(a, b) -> bool:
    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return a.shape == b.shape and a.dtype == b.dtype and bool(torch.equal(a.detach(),
                                                                               b.detach()))
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        return a.shape == b.shape and bool(np.array_equal(a, b))
    if isinstance(a, (tuple, list)) and isinstance(b, (tuple, list)):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, tuple) and len(a) == 3 and a[:1] == ("module",):
        return isinstance(b, tuple) and len(b) == 3 and a[1] is b[1] and _equal(a[2], b[2])
    if isinstance(a, nn.Module) and isinstance(b, nn.Module):
        return type(a) is type(b) and _equal(list(a.state_dict().values()),
                                             list(b.state_dict().values()))
    if isinstance(a, (torch.Tensor, np.ndarray)) or isinstance(b, (torch.Tensor, np.ndarray)):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _same_inputs(a: Case, b: Case) -> bool:
    return a.call is b.call and _equal(a.args, b.args)


def _frozen(x, depth: int = 0):
    """A comparable copy of an argument (tensors detached, modules as their state)."""
    if isinstance(x, torch.Tensor):
        return x.detach().clone()
    if isinstance(x, np.ndarray):
        return x.copy()
    if isinstance(x, nn.Module):
        return ("module", type(x), [v.detach().clone() for v in x.state_dict().values()])
    if isinstance(x, (list, tuple)) and depth < 3:
        return type(x)(_frozen(v, depth + 1) for v in x)
    if isinstance(x, (int, float, str, bool, complex)) or x is None:
        return x
    return ("object", type(x))  # an optimizer, a function: same kind is all a table could key on


def _memorising_fault(exercise):
    """Right on every input the visible cases pass it (as if those answers were copied into a
    lookup table), wrong elsewhere: only cases with new inputs can catch it."""
    reference = exercise.reference
    seen = []

    def recording(*args):
        seen.append(_frozen(args))
        return reference(*args)

    for case in exercise.case_list():
        run_case(recording, case)

    @functools.wraps(reference)
    def answer(*args):
        key = _frozen(args)  # before the call: an answer may update a model in place
        result = reference(*args)
        if any(_equal(key, s) for s in seen):
            return result
        return _shifted(result)

    return answer


def _gradient_matters(exercise) -> bool:
    """True if a later cell needs gradients through the answer: some reference result requires
    grad, or a harness (not run under no_grad) may backpropagate through the answer."""
    for case in exercise.case_list(hidden=True):
        if case.call is not None and not case.no_grad:
            return True
        if _requires_grad(run_case(exercise.reference, case).value):
            return True
    return False


def _requires_grad(value) -> bool:
    if value is None:
        return False
    return value.requires_grad or any(_requires_grad(v) for v in value.items)


def _reference_value_kinds(exercise) -> set[str]:
    kinds = set()
    for case in exercise.case_list(hidden=True):
        outcome = run_case(exercise.reference, case)
        value = outcome.last_return if case.call is not None else outcome.value
        items = value.items if value is not None and value.kind in ("tuple", "list") else (value,)
        kinds |= {v.kind for v in items if v is not None}
    return kinds


def _assert_caught(exercise, answer, *words):
    result = exercise.evaluate(answer, hidden=True)
    assert result.status == WRONG, f"{exercise.id}: fault passed: {result.message}"
    text = result.message.lower()
    assert any(w in text for w in words), f"{exercise.id}: message does not name it: {text}"
    again = exercise.evaluate(exercise.reference, hidden=True)
    assert again.status == PASSED, f"{exercise.id}: reference fails after the fault: {again}"


@pytest.mark.parametrize("position", range(5))
def test_in_place_fault_is_caught(exercise, position):
    answer = _in_place_fault(exercise.reference, position)
    exercise.evaluate(answer, hidden=True)
    if not any(answer.touched):
        pytest.skip(f"argument {position} is never an array or tensor this fault can change")
    if any(position in c.may_change for c in exercise.case_list(hidden=True)):
        pytest.skip(f"argument {position} is meant to change (a model an optimizer updates)")
    answer.touched.clear()
    _assert_caught(exercise, answer, "in place")


def test_list_instead_of_array_is_caught(exercise):
    if not _reference_value_kinds(exercise) & {"ndarray", "tensor"}:
        pytest.skip("the reference returns no array or tensor")
    _assert_caught(exercise, _list_fault(exercise.reference), "list", "could not use")


def test_missing_return_is_caught(exercise):
    _assert_caught(exercise, _none_fault(exercise.reference), "return")


def test_no_grad_is_caught(exercise):
    if not _gradient_matters(exercise):
        pytest.skip("no gradient flows through the reference's results")
    if exercise.id in NO_GRAD_HARMLESS:
        pytest.skip(NO_GRAD_HARMLESS[exercise.id])
    _assert_caught(exercise, _no_grad_fault(exercise.reference), "grad")


def test_memorised_visible_answers_are_caught_by_hidden_cases(exercise):
    answer = _memorising_fault(exercise)
    assert exercise.evaluate(answer).status == PASSED, "the memoriser should fool visible cases"
    result = exercise.evaluate(answer, hidden=True)
    assert result.status == WRONG and "hidden case" in result.message, result.message


def test_verdicts_do_not_depend_on_history(exercise):
    """wrong -> right -> wrong -> right in one process gives the same verdicts as fresh runs."""
    wrong = WRONG_ANSWERS[exercise.id][0]
    fresh_wrong = copy.deepcopy(exercise).evaluate(wrong, hidden=True)
    fresh_right = copy.deepcopy(exercise).evaluate(exercise.reference, hidden=True)
    sequence = [exercise.evaluate(a, hidden=True) for a in
                (wrong, exercise.reference, wrong, exercise.reference)]
    assert [(r.status, r.message) for r in sequence] == [
        (fresh_wrong.status, fresh_wrong.message), (fresh_right.status, fresh_right.message)] * 2


# -- the mechanism itself ---------------------------------------------------------------------


def test_check_prints_passed_and_returns_the_answer(capsys):
    exercise = EXERCISES["ex01_euler_step"]

    def euler_step(f, t, y, h):
        return y + h * f(t, y)

    assert exercise.check(euler_step) is euler_step
    out = capsys.readouterr()
    assert "[passed]" in out.out and out.err == ""


def test_check_without_argument_reads_the_callers_definition(capsys):
    exercise = EXERCISES["ex01_euler_step"]
    namespace = {"ex": exercise}
    exec("def euler_step(f, t, y, h):\n    return y + h * f(t, y)\n"
         "result = ex.check()", namespace)
    assert namespace["result"] is namespace["euler_step"]
    exec("del euler_step\nresult = ex.check()", namespace)
    assert namespace["result"] is exercise.reference
    err = capsys.readouterr().err
    assert "not defined yet" in err and "run your answer cell" in err


def test_in_place_answer_message_names_the_argument():
    result = EXERCISES["ex01_euler_step"].evaluate(WRONG_ANSWERS["ex01_euler_step"][-1])
    assert "changed its argument `y` in place" in result.message


def test_exception_is_reported_at_the_learners_line():
    def euler_step(f, t, y, h):
        slope = f(t, y)
        return y + h * slope[5]

    result = EXERCISES["ex01_euler_step"].evaluate(euler_step)
    assert result.status == WRONG
    assert "IndexError" in result.message and "return y + h * slope[5]" in result.message
    for module in ("judge.py", "running.py", "errors.py", "verdict.py", "withholding.py"):
        assert module not in result.message  # the course's own frames are not the learner's


def test_harness_failure_is_not_presented_as_the_learners_error():
    wrong = {f.__name__: f for f in WRONG_ANSWERS["ex04_augmented_dynamics"]}
    result = EXERCISES["ex04_augmented_dynamics"].evaluate(wrong["dynamics_pass"])
    assert "returned None" in result.message and "unpack" not in result.message
    exercise = EXERCISES["ex04_augmented_dynamics"]
    case = exercise.case_list()[1]  # ODEFunc: several parameters, so one tensor cannot stand in
    result = judge(exercise, [case], [run_case(wrong["dynamics_dg_as_one_tensor"], case)],
                   [run_case(exercise.reference, case)])
    assert "could not use what your function returned" in result.message
    assert "zip()" not in result.message
    result = EXERCISES["ex04_augmented_dynamics"].evaluate(wrong["dynamics_without_enable_grad"])
    assert "torch.no_grad()" in result.message and "enable_grad" in result.message


def test_missing_return_message_comes_first_for_every_result_type():
    for exercise_id in ("ex01_euler_step", "ex01_convergence_order", "ex04_growth_gradients",
                        "ex06_lotka_volterra_log"):
        exercise = EXERCISES[exercise_id]
        result = exercise.evaluate(_none_fault(exercise.reference))
        assert "forget to `return`" in result.message, (exercise_id, result.message)


def test_hidden_case_messages_show_no_values():
    exercise = EXERCISES["ex01_convergence_order"]
    result = exercise.evaluate(_memorising_fault(exercise), hidden=True)
    assert "hidden case" in result.message
    assert "expected" not in result.message and re.search(r"\d\.\d", result.message) is None


def test_list_answer_message_explains_why_an_array_is_needed():
    wrong = {f.__name__: f for f in WRONG_ANSWERS["ex01_euler_solve"]}
    result = EXERCISES["ex01_euler_solve"].evaluate(wrong["euler_solve_returns_list"])
    assert "a NumPy array" in result.message and "got a list" in result.message


def test_undefined_and_non_callable_answers_get_feedback():
    exercise = EXERCISES["ex01_euler_step"]
    assert exercise.evaluate(None).status == NOT_ATTEMPTED
    result = exercise.evaluate(3.0)
    assert result.status == WRONG and "should be a function" in result.message


def test_nan_answer_is_wrong():
    exercise = EXERCISES["ex01_euler_step"]
    result = exercise.evaluate(lambda f, t, y, h: y * np.nan)
    assert result.status == WRONG and "NaN" in result.message


def test_checking_leaves_the_random_streams_alone():
    torch.manual_seed(5)
    np.random.seed(5)
    expected = torch.rand(3), np.random.rand(3)
    torch.manual_seed(5)
    np.random.seed(5)
    EXERCISES["ex05_training_step"].evaluate(EXERCISES["ex05_training_step"].reference)
    got = torch.rand(3), np.random.rand(3)
    assert torch.equal(expected[0], got[0]) and np.array_equal(expected[1], got[1])


def test_outcomes_cross_a_boundary_as_plain_json():
    import json

    exercise = EXERCISES["ex04_augmented_dynamics"]
    case = exercise.case_list()[1]
    outcome = run_case(exercise.reference, case)
    back = Outcome.from_json(json.loads(json.dumps(outcome.to_json())))
    assert back.status == outcome.status
    assert np.array_equal(back.value.items[0].data, outcome.value.items[0].data)
    for bad in ({"status": "returned", "value": {"kind": "tensor", "npy": "!!"}},
                {"status": "hacked"}, [], {"status": "returned", "mutated": "x"}):
        with pytest.raises(ValueError):
            Outcome.from_json(bad)


def test_pickled_arrays_cannot_come_back():
    import base64
    import io

    buffer = io.BytesIO()
    np.save(buffer, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    data = {"kind": "ndarray", "dtype": "object", "shape": [1],
            "npy": base64.b64encode(buffer.getvalue()).decode()}
    with pytest.raises(ValueError):
        Value.from_json(data)


def test_describe_keeps_type_dtype_shape_and_grad():
    value = describe(torch.ones(2, 3, requires_grad=True) * 2)
    assert (value.kind, value.dtype, value.shape, value.requires_grad) == (
        "tensor", "float32", (2, 3), True)
    assert describe([1.0, 2.0]).kind == "list"
    assert describe(None).kind == "none"


def test_self_check_reports_hidden_cases_without_values(capsys):
    namespace = {"euler_step": _memorising_fault(EXERCISES["ex01_euler_step"])}
    results = self_check("lesson01", namespace)
    out = capsys.readouterr().out
    assert results[0].status == WRONG and "hidden case" in results[0].message
    assert "not attempted" in out and "Self-check of lesson01" in out


def test_hint_and_solution_print_something_useful(exercise, capsys):
    exercise.hint()
    exercise.solution()
    out = capsys.readouterr().out
    assert "Hint" in out
    assert f"def {exercise.answer_name}(" in out or f"class {exercise.answer_name}" in out


def test_solution_is_withheld_in_the_graded_release(monkeypatch, capsys):
    monkeypatch.setenv("NEURAL_ODE_COURSE_GRADED", "1")
    EXERCISES["ex01_euler_step"].solution()
    out = capsys.readouterr().out
    assert "withheld" in out and "return y" not in out


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
        pattern = rf"\b{exercise.answer_name}\s*=\s*ex\.\w+\.check\(\)"
        assert re.search(pattern, source), f"{name}: check cell of {grade_id} is {source!r}"


def test_rerunning_a_check_after_the_fallback_does_not_pass_the_reference(capsys):
    """After a wrong answer the name holds the reference: checking again must not say passed."""
    exercise = EXERCISES["ex01_euler_step"]
    namespace = {"ex": exercise, "euler_step": exercise.reference}
    exec("result = ex.check()", namespace)
    out = capsys.readouterr()
    assert "[passed]" not in out.out
    assert "still the course's reference" in out.err
    assert "run your answer cell again" in out.err.lower()


def test_a_partial_graph_cut_is_caught_by_the_gradients():
    wrong = {f.__name__: f for f in WRONG_ANSWERS["ex03_tableau_step"]}
    result = EXERCISES["ex03_tableau_step"].evaluate(wrong["tableau_detached_first_slope"])
    assert result.status == WRONG and "gradients through your result are not" in result.message


def test_self_check_judges_what_the_learner_wrote_not_the_fallback(capsys):
    """A check cell replaces a failing answer by the reference; the self-check sees through it."""
    exercise = EXERCISES["ex01_euler_solve"]
    namespace = {"ex": exercise, "euler_solve": _stub}
    exec("euler_solve = ex.check()", namespace)
    assert namespace["euler_solve"] is exercise.reference
    results = {r.exercise_id: r for r in self_check("lesson01", namespace, quiet=True)}
    assert results["ex01_euler_solve"].status == NOT_ATTEMPTED
    capsys.readouterr()


def _draws() -> tuple:
    return random.random(), float(np.random.rand()), float(torch.rand(()))


def test_seeded_draws_as_seeding_by_hand_and_restores_the_generators():
    """One seeding for the check cells, the judge and the grader's kernel side."""
    random.seed(0)
    np.random.seed(0)
    torch.manual_seed(0)
    by_hand = _draws()
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)
    before = rng_state()
    with seeded(0):
        inside = _draws()
    outside = _draws()
    set_rng_state(before)
    assert inside == by_hand
    assert outside == _draws()  # the outer stream goes on as if the block had not run
    set_rng_state(before)
    with pytest.raises(RuntimeError), seeded(0):
        _draws()
        raise RuntimeError("an answer failed")
    after_error = _draws()
    set_rng_state(before)
    assert after_error == _draws()


def test_checking_an_answer_does_not_move_the_lessons_random_stream():
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)
    EXERCISES["ex01_euler_step"].evaluate(EXERCISES["ex01_euler_step"].reference)
    assert torch.equal(torch.rand(3), expected)


def test_the_grader_kernel_side_seeds_with_the_judges_seeding():
    """No second copy of the seeding in the grader's kernel side (it imports utils anyway)."""
    source = (ROOT / "grader" / "kernel_side.py").read_text()
    assert "from utils.exercises.seeding import seeded" in source
    for own in ("random.seed(", "np.random.seed(", "torch.manual_seed(", "set_rng_state("):
        assert own not in source, own


#: The judge's modules, bottom up: each may import only modules listed before it.
JUDGE_LAYERS = ("text", "model", "seeding", "withholding", "wire", "errors", "running", "verdict",
                "judge")


def test_the_judges_modules_import_only_modules_below_them():
    folder = ROOT / "utils" / "exercises"
    for i, name in enumerate(JUDGE_LAYERS):
        tree = ast.parse((folder / f"{name}.py").read_text())
        imported = {node.module.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module}
        assert imported <= set(JUDGE_LAYERS[:i]), (name, imported - set(JUDGE_LAYERS[:i]))
