"""Tests of the instructor grader, utils/grading.py.

The main test grades the whole test set (tests/grading_fixtures: a correct submission, a partly
correct one, the stubs, and one bad submission per failure mode) in one run, as an instructor
would, and checks the CSV row by row against the expected one. The other tests check the
pieces on their own, without a kernel.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from utils import grading
from utils.exercises import registry

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _load_fixtures():
    spec = importlib.util.spec_from_file_location("grading_fixtures", HERE / "grading_fixtures"
                                                  / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIXTURES = _load_fixtures()
LIMITS = grading.Limits(
    cell_timeout=FIXTURES.CELL_TIMEOUT,
    total_timeout=120.0,
    memory_bytes=int(FIXTURES.MEMORY_GIB * 2**30),
    output_bytes=int(FIXTURES.OUTPUT_KB * 1024),
)
# Grading the 14 test submissions, two at a time, took 94 s on the 2 shared cores while other
# jobs loaded them (about 37 s of CPU). The bound leaves room for a slower machine.
TIME_BOUND = 240.0


@pytest.fixture(scope="module")
def lesson():
    (lesson,) = grading.load_lessons([FIXTURES.LESSON])
    return lesson


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("grading_results")
    FIXTURES.write(folder)
    start = time.monotonic()
    subs = grading.grade_folder(folder, out, limits=LIMITS, jobs=2, quiet=True)
    seconds = time.monotonic() - start
    print(f"\ngraded {len(subs)} test submissions in {seconds:.1f} s")
    return out, {s.name: s for s in subs}, seconds


# -- the whole test set, graded in one run ------------------------------------------------------


def test_grades_csv_is_the_expected_one(graded):
    out, _, _ = graded
    with open(out / "grades.csv", newline="", encoding="utf-8") as f:
        got = list(csv.DictReader(f))
    expected = FIXTURES.expected_rows()
    with open(out / "expected.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=grading.CSV_COLUMNS)
        writer.writeheader()
        writer.writerows(expected)
    assert list(got[0]) == list(grading.CSV_COLUMNS)
    differ = [f"got {g}\nexpected {e}" for g, e in zip(got, expected, strict=False) if g != e]
    assert not differ, "\n".join(differ[:5]) + f"\n(see {out})"
    assert len(got) == len(expected)


def test_grading_the_test_set_takes_less_than_the_stated_time(graded):
    _, _, seconds = graded
    assert seconds < TIME_BOUND


def test_every_submission_gets_feedback_in_plain_words(graded):
    out, subs, _ = graded
    for name, sub in subs.items():
        text = (out / "feedback" / f"{Path(name).stem}.txt").read_text(encoding="utf-8")
        score = f"Score: {grading._num(sub.points)} of {grading._num(sub.max_points)} points."
        assert score in text
        assert (out / "logs" / f"{Path(name).stem}.log").exists()
    crash = (out / "feedback" / "crash.txt").read_text(encoding="utf-8")
    assert "raised RuntimeError: a bug in a plain cell" in crash
    assert "did not define 'rk4_step'" in crash
    partly = (out / "feedback" / "partly.txt").read_text(encoding="utf-8")
    assert "Hidden case" in partly and "NaN" in partly
    memory = (out / "feedback" / "memory.txt").read_text(encoding="utf-8")
    assert f"the limit is {FIXTURES.MEMORY_GIB:g} GiB" in memory
    exit_ = (out / "feedback" / "exit.txt").read_text(encoding="utf-8")
    assert "called sys.exit()" in exit_ and "exited (code 3)" in exit_


def test_printed_output_is_capped(graded):
    out, _, _ = graded
    log = out / "logs" / "megabytes.log"
    assert log.stat().st_size < LIMITS.output_bytes + 16 * 1024  # 2 MB were printed


def test_the_cheats_checks_and_prints_were_ignored(graded):
    _, subs, _ = graded
    rows = {r["exercise"]: r for r in subs["cheat.ipynb"].rows}
    ex = FIXTURES.lesson_exercises()
    assert [rows[e.id]["status"] for e in ex[:3]] == ["wrong"] * 3
    assert "expected" in rows[ex[0].id]["message"]


# -- the pieces, without a kernel ---------------------------------------------------------------


def _write(tmp_path, name, nb):
    import nbformat

    path = tmp_path / name
    nbformat.write(nb, path)
    return path


def test_the_lesson_comes_from_the_cells_not_the_file_name(tmp_path, lesson):
    other = grading.Lesson("02_other", ["ex02_x-answer", "ex02_x"], [], {})
    nb = FIXTURES.submissions()["correct.ipynb"]
    path = _write(tmp_path, "02_other.ipynb", nb)
    assert grading.identify_lesson(grading.read_cells(path), [other, lesson]) is lesson
    for cell in nb.cells:  # metadata stripped: recognised by its code cells
        cell.metadata = {}
    path = _write(tmp_path, "homework.ipynb", nb)
    assert grading.identify_lesson(grading.read_cells(path), [other, lesson]) is lesson
    path = HERE / "grading_fixtures" / "no_lesson.ipynb"
    assert grading.identify_lesson(grading.read_cells(path), [other, lesson]) is None


@pytest.mark.parametrize("name", ["invalid.json", "not_a_notebook.json"])
def test_invalid_notebooks_are_reported(name):
    with pytest.raises(grading.InvalidNotebook):
        grading.read_cells(HERE / "grading_fixtures" / name)


def _cells(*grade_ids, sources=None):
    sources = sources or {}
    return [grading.Cell(i, "code", sources.get(g, f"# {g}"), g) for i, g in enumerate(grade_ids)]


def test_structure_problems(lesson):
    ids = lesson.grade_ids
    sources = dict(lesson.check_sources)
    assert grading.structure_problems(_cells(*ids, sources=sources), lesson) == []
    statuses = [s for s, _ in grading.structure_problems(_cells(*ids[1:], sources=sources),
                                                         lesson)]
    assert statuses == ["cells_deleted"]
    swapped = [ids[1], ids[0], *ids[2:]]
    statuses = [s for s, _ in grading.structure_problems(_cells(*swapped, sources=sources),
                                                         lesson)]
    assert statuses == ["cells_reordered"]
    statuses = [s for s, _ in grading.structure_problems(_cells(*ids, ids[0], sources=sources),
                                                         lesson)]
    assert statuses == ["cells_duplicated"]
    statuses = [s for s, _ in grading.structure_problems(_cells(*ids), lesson)]
    assert statuses == ["check_cell_edited"]


def test_the_plan_never_runs_the_submissions_check_cells(lesson, tmp_path):
    first = lesson.exercises[0]
    cells = _cells(*lesson.grade_ids)
    steps = grading.plan(cells, lesson, tmp_path)
    check_cells = {c.index for c in cells if c.grade_id in lesson.check_sources}
    ran = [s for s in steps if s.kind == "cell"]
    assert not {s.cell.index for s in ran} & check_cells
    kinds = [s.kind for s in steps if s.exercise_id == first.id]
    assert kinds == ["forget", "cell", "record", "settle"]
    # No answer cell: its check cell's place gets the reference, so later cells still work.
    cells = [c for c in cells if c.grade_id != f"{first.id}-answer"]
    kinds = [s.kind for s in grading.plan(cells, lesson, tmp_path) if s.exercise_id == first.id]
    assert kinds == ["settle"]


def test_results_cross_the_kernel_boundary_as_plain_data():
    values = [
        np.arange(6.0).reshape(2, 3),
        torch.tensor([1.0, float("nan")]),
        np.float32(2.5),
        3,
        True,
        (np.ones(2), [1.0, 2.0]),
        None,
    ]
    for value in values:
        data = json.loads(json.dumps(grading._encode(value)))
        back = grading._decode(data)
        assert type(back) is type(value) or isinstance(value, (np.generic, bool, int))
        if isinstance(value, (np.ndarray, torch.Tensor)):
            np.testing.assert_array_equal(np.asarray(back), np.asarray(value))
    back = grading._decode(grading._encode({"a": 1}))
    assert isinstance(back, grading.Unsupported) and "dict" in repr(back)
    back = grading._decode(grading._encode(np.array([object()], dtype=object)))
    assert isinstance(back, grading.Unsupported)


def _line(exercise, answer):
    return json.loads(json.dumps({"exercise": exercise.id, "defined": True, "kind": "callable",
                                  "results": grading._run_cases(exercise, answer)}))


def test_verdicts():
    ex = registry()["ex01_euler_step"]
    cases = grading._case_lists(ex)

    def verdict(line):
        return grading._verdict(ex, line, cases)[0]

    assert verdict(_line(ex, ex.reference)) == "passed"
    assert verdict(_line(ex, lambda f, t, y, h: y + h * f(t, y) * 1.01)) == "wrong"
    assert verdict(_line(ex, lambda f, t, y, h: y * math.nan)) == "nan"
    assert verdict(_line(ex, lambda f, t, y, h: 1 / 0)) == "error"

    def stub(f, t, y, h):
        raise NotImplementedError()

    def hog(f, t, y, h):
        raise MemoryError()

    assert verdict(_line(ex, stub)) == "not_attempted"
    assert verdict(_line(ex, hog)) == "out_of_memory"
    assert verdict({"exercise": ex.id, "defined": False}) == "missing"
    assert verdict({"exercise": ex.id, "defined": True, "kind": "none"}) == "not_attempted"
    assert verdict({"exercise": ex.id, "defined": True, "kind": "int"}) == "wrong"
    short = _line(ex, ex.reference)
    short["results"] = short["results"][:-1]  # one result missing: never a pass
    assert verdict(short) == "not_graded"
    forged = _line(ex, ex.reference)
    forged["results"][-1] = {"value": {"type": "array", "npy": "not base64 .npy"}}
    assert verdict(forged) == "not_graded"


_OTHER_PROCESS = """
import json, sys
from utils import grading
from utils.exercises import registry

def stub(*args, **kwargs):
    raise NotImplementedError()

out = {}
for ex in registry().values():
    out[ex.id] = [grading._run_cases(ex, ex.reference), grading._run_cases(ex, stub)]
json.dump(out, sys.stdout)
"""


@pytest.fixture(scope="module")
def results_from_another_process():
    done = subprocess.run([sys.executable, "-c", _OTHER_PROCESS], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, check=True)
    return json.loads(done.stdout)


@pytest.mark.parametrize("exercise_id", sorted(registry()))
def test_every_exercise_grades_its_reference_computed_in_another_process(
        exercise_id, results_from_another_process):
    """The grader's cases and the kernel's agree: expected values are reproducible."""
    ex = registry()[exercise_id]
    reference, stub = results_from_another_process[exercise_id]
    line = {"exercise": ex.id, "defined": True, "kind": "callable"}
    cases = grading._case_lists(ex)
    status, message = grading._verdict(ex, {**line, "results": reference}, cases)
    assert status == "passed", message
    assert grading._verdict(ex, {**line, "results": stub}, cases)[0] == "not_attempted"


def test_limits_and_command_line_reject_bad_input(tmp_path, capsys):
    with pytest.raises(ValueError, match="cell_timeout"):
        grading.Limits(cell_timeout=0)
    with pytest.raises(ValueError, match="2 GiB"):
        grading.Limits(memory_bytes=2**30)
    assert grading.main([str(tmp_path / "absent")]) == 2
    assert "not a folder" in capsys.readouterr().err
