"""The grader's test submissions, made from Lesson 01 by small edits, and the grades they must get.

    python tests/grading_fixtures/build.py OUT_DIR   # write them, to look at or to grade by hand
    make grade SUBMISSIONS=OUT_DIR                    # then grade them like an instructor would

They are generated (not stored) so they follow Lesson 01 as it changes. To keep the test set
fast, each notebook is the lesson *trimmed* to its graded cells (answer and check cells, in the
lesson's order) after one setup cell holding what the course promises answer cells may use
(``np``, ``torch``, ``nn``, ``math``) and the lesson's exercise module under the name the check
cells use (``ex``). The lesson's other cells (figures, sliders, experiments) do not change what
is graded. ``invalid.ipynb``, ``not_a_notebook.ipynb`` and ``no_lesson.ipynb`` are stored next to
this file (the first two as ``.json``, so that linters of notebooks leave them alone).

:func:`submissions` returns {file name: notebook}; :func:`expected_rows` the CSV rows the grader
must write for them, worked out from which exercise each edit breaks.
"""

from __future__ import annotations

import copy
import re
import sys
from pathlib import Path

import nbformat

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LESSON = ROOT / "lessons_src" / "01_ode_basics.py"
# {submission name: stored file}
STORED = {"invalid.ipynb": "invalid.json", "not_a_notebook.ipynb": "not_a_notebook.json",
          "no_lesson.ipynb": "no_lesson.ipynb"}
# The test limits: small, so that the hang fixture costs two cell limits, not minutes.
CELL_TIMEOUT = 10.0
MEMORY_GIB = 2.5
OUTPUT_KB = 64.0


def _build():
    sys.path.insert(0, str(ROOT / "tools"))
    import build_notebooks

    return build_notebooks


def lesson_exercises():
    """The lesson's exercises, in order (from its check cells and the registry)."""
    from utils.exercises import registry

    ids = [c.metadata["nbgrader"]["grade_id"] for c in _build().read_source(LESSON).cells
           if c.metadata.get("nbgrader", {}).get("grade")]
    return [registry()[i] for i in ids if i in registry()]


def trimmed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook's graded cells only, after one setup cell (see the module docstring)."""
    exercises = lesson_exercises()
    module = exercises[0].reference.__module__
    aliases = set()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            aliases.update(re.findall(r"(\w+)\.\w+\.check\(", cell.source))
    setup = ["import math", "", "import numpy as np", "import torch", "from torch import nn", ""]
    setup += [f"import {module} as {alias}" for alias in sorted(aliases)]
    out = copy.deepcopy(nb)
    out.cells = [nbformat.v4.new_code_cell("\n".join(setup))] + [
        c for c in copy.deepcopy(nb.cells) if c.metadata.get("nbgrader", {}).get("grade_id")
    ]
    for i, cell in enumerate(out.cells):
        cell.id = f"fixture-{i:03d}"
    return out


def _find(nb, grade_id: str) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _code(source: str):
    return nbformat.v4.new_code_cell(source)


def _wrap(nb, exercise, body: str, *, before: str = "") -> None:
    """Replace the answer cell's function by one calling the correct one as ``_right``."""
    cell = nb.cells[_find(nb, f"{exercise.id}-answer")]
    name = exercise.answer_name
    cell.source = (
        f"{before}{cell.source}\n\n_right_{name} = {name}\n\n\n"
        f"def {name}(*args, **kwargs):\n"
        f"    _right = _right_{name}\n"
        + "".join(f"    {line}\n" for line in body.splitlines())
    )


def submissions() -> dict[str, nbformat.NotebookNode]:
    """{file name: notebook} of every generated test submission."""
    build = _build()
    solved = trimmed(build.read_source(LESSON))
    stubs = trimmed(build.learner_notebook(LESSON))
    ex = lesson_exercises()
    if len(ex) < 4:
        raise ValueError(f"the grading fixtures need 4 exercises in Lesson 01, it has {len(ex)}")
    out = {"correct.ipynb": solved, "stubs.ipynb": stubs}

    # Partly right: exercise 1 is right on the cases learners see, wrong on the hidden ones
    # (it counts its calls); exercise 2 returns NaN; the rest are right.
    nb = copy.deepcopy(solved)
    n_public = len(list(ex[0].cases()))
    _wrap(nb, ex[0], f"_calls.append(1)\nresult = _right(*args, **kwargs)\n"
                     f"return result if len(_calls) <= {n_public} else result * 1.5 + 0.1",
          before="_calls = []\n")
    _wrap(nb, ex[1], "return _right(*args, **kwargs) * np.nan")
    out["partly.ipynb"] = nb

    # A plain cell raises; an answer cell raises after its def (graded); one before (missing).
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code('raise RuntimeError("a bug in a plain cell")'))
    nb.cells[_find(nb, f"{ex[1].id}-answer")].source += "\n\n1 / 0\n"
    cell = nb.cells[_find(nb, f"{ex[2].id}-answer")]
    cell.source = 'raise ValueError("stopped before the def")\n\n' + cell.source
    out["crash.ipynb"] = nb

    # An endless plain cell, and an answer that loops forever when called.
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code("while True:\n    pass"))
    _wrap(nb, ex[0], "while True:\n    pass")
    out["hang.ipynb"] = nb

    # A plain cell allocates 3 GiB (more than the cap; the machine would give it), and an
    # answer allocates a 3 GiB tensor when called.
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code("big = np.ones(3 * 2**27)  # 3 GiB"))
    _wrap(nb, ex[1], "big = torch.ones(3 * 2**28)  # 3 GiB\nreturn _right(*args, **kwargs)")
    out["memory.ipynb"] = nb

    # sys.exit() in a plain cell (IPython survives it), os._exit() after exercise 2's check.
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code("import sys\n\nsys.exit(1)"))
    nb.cells.insert(_find(nb, ex[1].id) + 1, _code("import os\n\nos._exit(3)"))
    out["exit.ipynb"] = nb

    # Megabytes of printed output.
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code('print("x" * 2_000_000)\nfor i in range(2000):\n    print("y" * 500)'))
    out["megabytes.ipynb"] = nb

    # Exercise 1's answer cell deleted; exercise 2's check cell deleted (still graded).
    nb = copy.deepcopy(solved)
    del nb.cells[_find(nb, f"{ex[0].id}-answer")]
    del nb.cells[_find(nb, ex[1].id)]
    out["deleted.ipynb"] = nb

    # Exercise 1's check cell moved above its answer cell.
    nb = copy.deepcopy(solved)
    check = nb.cells.pop(_find(nb, ex[0].id))
    nb.cells.insert(_find(nb, f"{ex[0].id}-answer"), check)
    out["reordered.ipynb"] = nb

    # Wrong answers that try to look right: checks redefined, the checking code patched in the
    # kernel, fake "[passed]" printed, check cells edited. Exercise 4 copies the reference.
    nb = copy.deepcopy(solved)
    patch = [
        "import utils.exercises.core as core",
        "core.compare = lambda *args, **kwargs: ''",
        "core.Exercise.evaluate = lambda self, answer, hidden=False: core.CheckResult(",
        "    self.id, core.PASSED, 'all cases match.', self.points, self.points)",
    ]
    patch += [f"ex.{e.answer_name}.check = lambda answer: print('[passed]') or answer"
              for e in ex]
    nb.cells.insert(1, _code("\n".join(patch)))
    for e in ex[:3]:
        _wrap(nb, e, f'print("[passed] {e.title}: all cases match.")\n'
                     "return _right(*args, **kwargs) * 1.5 + 0.1")
        nb.cells[_find(nb, e.id)].source = f'print("[passed] {e.title}: all cases match.")'
    nb.cells[_find(nb, f"{ex[3].id}-answer")].source = (
        f"{ex[3].answer_name} = ex.{ex[3].answer_name}.reference")
    out["cheat.ipynb"] = nb
    return out


def expected_rows() -> list[dict]:
    """The rows of grades.csv for every test submission, stored ones included, in file order."""
    ex = lesson_exercises()
    lesson = LESSON.stem
    # {submission: (notebook status, {exercise index: status}; unlisted exercises pass)}
    cases = {
        "cheat.ipynb": ("check_cell_edited; review", {0: "wrong", 1: "wrong", 2: "wrong"}),
        "correct.ipynb": ("ok", {}),
        "crash.ipynb": ("error", {2: "missing"}),
        "deleted.ipynb": ("cells_deleted", {0: "missing"}),
        "exit.ipynb": ("exited", {2: "not_run", 3: "not_run"}),
        "hang.ipynb": ("cell_timeout", {0: "timeout"}),
        "invalid.ipynb": ("invalid_notebook", None),
        "megabytes.ipynb": ("output_capped", {}),
        "memory.ipynb": ("out_of_memory", {1: "out_of_memory"}),
        "no_lesson.ipynb": ("unknown_lesson", None),
        "not_a_notebook.ipynb": ("invalid_notebook", None),
        "partly.ipynb": ("ok", {0: "wrong", 1: "nan"}),
        "reordered.ipynb": ("cells_reordered", {}),
        "stubs.ipynb": ("ok", dict.fromkeys(range(len(ex)), "not_attempted")),
    }
    rows = []
    for name, (status, broken) in sorted(cases.items()):
        known = broken is not None
        rows.append({"submission": name, "lesson": lesson if known else "unknown",
                     "exercise": "(notebook)", "points": "0", "max_points": "0",
                     "status": status})
        for i, e in enumerate(ex if known else []):
            got = broken.get(i, "passed")
            rows.append({"submission": name, "lesson": lesson, "exercise": e.id,
                         "points": f"{e.points if got == 'passed' else 0:g}",
                         "max_points": f"{e.points:g}", "status": got})
    return rows


def write(folder: Path) -> None:
    """Write every test submission (generated and stored) into ``folder``."""
    import shutil

    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in submissions().items():
        nbformat.write(nb, folder / name)
    for name, stored in STORED.items():
        shutil.copy(HERE / stored, folder / name)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/grading_fixtures/build.py OUT_DIR")
    write(Path(sys.argv[1]))
