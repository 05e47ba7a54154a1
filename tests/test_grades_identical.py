"""The grader's output is byte-identical to the golden ``grades.csv`` taken before a refactor.

``tests/grading_fixtures/golden_grades.csv`` was written by grading the test set of
``tests/grading_fixtures`` (broken, hostile and non-notebook submissions, as
``tests/test_grading.py`` grades them: same limits, two at a time, in the bubblewrap sandbox)
with the grader as it was before ``grader/grading.py`` was split by job (issue 26): commit
e81135d, run in an isolated copy of that commit (its own ``git archive`` and a hard-linked copy
of the environment pointing at it), so no edit in progress in the working tree leaked in. That
file equals ``build.expected_rows()`` row for row. This test grades the same set with the current
grader and compares the two files byte for byte.
``grades.csv`` holds no measured time or memory (its columns are submission, lesson, exercise,
points, max_points, status, sandbox, feedback), so no column is excluded.

When a deliberate change alters the grades (a new fixture, a new status), regenerate the file
and say why in the commit:

    .venv/bin/python tests/test_grades_identical.py
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "grading_fixtures" / "golden_grades.csv"


def _fixtures():
    spec = importlib.util.spec_from_file_location("grading_fixtures_golden",
                                                  HERE / "grading_fixtures" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def grade_test_set(base: Path) -> bytes:
    """Grade the whole test set under ``base`` as tests/test_grading.py does; grades.csv bytes."""
    from grader import grading

    fixtures = _fixtures()
    limits = grading.Limits(cell_timeout=fixtures.CELL_TIMEOUT, total_timeout=120.0,
                            memory_bytes=int(fixtures.MEMORY_GIB * 2**30),
                            output_bytes=int(fixtures.OUTPUT_KB * 1024))
    folder, out, canaries = base / "submissions", base / "grading_results", base / "canaries"
    canaries.mkdir(parents=True)
    fixtures.write(folder, out=out, canaries=canaries,
                   marker=f"grader-test-child-{uuid.uuid4().hex}")
    grading.grade_folder(folder, out, limits=limits, jobs=2, quiet=True)
    return (out / "grades.csv").read_bytes()


@pytest.mark.skipif(shutil.which("bwrap") is None,
                    reason="install bubblewrap (scripts/install_sandbox.sh) to grade sandboxed")
def test_grades_csv_is_byte_identical_to_the_golden_one(tmp_path):
    golden = GOLDEN.read_bytes()
    got = grade_test_set(tmp_path)
    if got != golden:
        (tmp_path / "golden_grades.csv").write_bytes(golden)
        old, new = golden.decode().splitlines(), got.decode().splitlines()
        differ = [f"line {i + 1}:\n  golden {a}\n  now    {b}"
                  for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
        pytest.fail(f"grades.csv differs from {GOLDEN.name} ({len(old)} vs {len(new)} lines; "
                    f"both in {tmp_path}):\n" + "\n".join(differ[:8]))


if __name__ == "__main__":
    sys.path.insert(0, str(HERE.parent))
    with tempfile.TemporaryDirectory(prefix="golden-grades-") as tmp:
        GOLDEN.write_bytes(grade_test_set(Path(tmp)))
    print(f"wrote {GOLDEN}")
