"""Grade a folder of submitted notebooks: fresh kernel, limits, the course's own checks.

    neural-ode-grade SUBMISSIONS [--out grading_results] [--cell-timeout 120] ...
    make grade SUBMISSIONS=<folder>

Every ``*.ipynb`` under ``SUBMISSIONS`` (any file names, any lessons) is graded on its own:

1. Its lesson is found from the notebook itself: the nbgrader ``grade_id`` of its cells, matched
   against the lesson sources in ``lessons_src/`` and :func:`utils.exercises.registry`.
2. Its cells run in a fresh kernel started for it alone, in its own temporary folder, with a time
   limit per cell, a time limit for the whole notebook and a memory cap (``RLIMIT_AS``, set in
   the kernel process before it starts). Printed output kept per notebook is capped.
3. The notebook's own check cells are *not* run. Right after each answer cell the grader runs
   the exercise's cases (the ones learners see, then the hidden ones) on the function the cell
   defined, sends the results out of the kernel as plain data (JSON and ``.npy``, never pickle),
   and compares them in the grading process with the expected values *it* computed. Then, as a
   check cell does, it leaves the learner's function in place if it passed and binds the
   reference if not, so later cells run as they would for the learner.
4. It writes one row per exercise, plus one ``(notebook)`` row, to ``grades.csv``
   (submission, lesson, exercise, points, max_points, status), a feedback file in plain words
   per submission, and a log of what every cell did.

Trust model (more in docs/instructors.md): a notebook cannot earn points by editing or redefining
the check, by printing a fake verdict, or by patching the checking code inside its kernel, since
the comparison happens outside the kernel. It can always reproduce the course's reference
solution (``ex.<name>.solution()`` prints it), so a copied reference passes; the grader flags
answer cells that mention it for review. The kernel runs the learner's code with the
instructor's user rights: this is not a security sandbox (no file system or network isolation).
"""

from __future__ import annotations

import argparse
import base64
import csv
import io
import json
import math
import queue
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CSV_COLUMNS",
    "EXERCISE_STATUS",
    "NOTEBOOK_STATUS",
    "Cell",
    "InvalidNotebook",
    "Lesson",
    "Limits",
    "Step",
    "Submission",
    "feedback_text",
    "find_submissions",
    "grade_folder",
    "grade_notebook",
    "identify_lesson",
    "load_lessons",
    "main",
    "plan",
    "read_cells",
    "structure_problems",
    "write_csv",
]

ROOT = Path(__file__).resolve().parent.parent
CSV_COLUMNS = ("submission", "lesson", "exercise", "points", "max_points", "status")
NOTEBOOK_ROW = "(notebook)"

# What each status means, in the words the feedback files use.
EXERCISE_STATUS = {
    "passed": "passed",
    "wrong": "not right yet: a case gave a different result",
    "nan": "not right yet: a case returned NaN or inf",
    "error": "not right yet: your function raised an error on a case",
    "not_attempted": "not attempted (the function still raises NotImplementedError)",
    "missing": "missing: the answer cell is not in the notebook, or it did not define the function",
    "timeout": "your function did not finish within the time limit",
    "out_of_memory": "your function ran out of memory",
    "crashed": "the Python kernel stopped while running your function",
    "not_run": "not graded: the notebook stopped before this exercise",
    "not_graded": "not graded: the notebook interfered with the grader",
}
NOTEBOOK_STATUS = {
    "ok": "ran from top to bottom without errors",
    "error": "a cell raised an error (the other cells still ran)",
    "cell_timeout": "a cell ran longer than the time limit per cell and was stopped",
    "total_timeout": "the notebook ran longer than the total time limit and was stopped",
    "out_of_memory": "a cell ran out of memory",
    "exited": "the notebook called sys.exit() / os._exit() or quit the Python process",
    "kernel_died": "the Python process running the notebook died",
    "kernel_unresponsive": "the kernel ignored the interrupt after a time limit and was killed",
    "kernel_failed": "the kernel could not be started",
    "output_capped": "the notebook printed more than the output limit; the rest was dropped",
    "invalid_notebook": "the file is not a valid Jupyter notebook",
    "unknown_lesson": "no lesson of the course matches this notebook",
    "cells_deleted": "graded cells of the lesson are missing",
    "cells_reordered": "graded cells are not in the lesson's order",
    "cells_duplicated": "a graded cell appears more than once (the last copy was graded)",
    "check_cell_edited": "a check cell was edited (the grader ignores check cells anyway)",
    "review": "an answer cell refers to the course's reference solution: please review",
    "grader_error": "the grader itself failed on this notebook (please report it)",
}

_MAX_NOTEBOOK_BYTES = 100 * 2**20
_MAX_RESULT_BYTES = 32 * 2**20  # an answer's encoded results, per exercise
_INTERRUPT_GRACE = 10.0  # seconds a timed-out cell gets to stop after the interrupt
_IOPUB_DRAIN = 2.0  # seconds to wait for the last outputs after a cell's reply
_KERNEL_START = 60.0  # seconds a kernel gets to start and import the course (per submission)


@dataclass(frozen=True)
class Limits:
    """The limits one submission runs under.

    Attributes:
        cell_timeout: seconds one cell may run (the cases of one exercise count as one cell).
        total_timeout: seconds the whole notebook may run, kernel start included.
        memory_bytes: the kernel's address-space cap (``RLIMIT_AS``); importing torch and the
            course takes about 1.6 GB of address space, so keep it well above 2 GB.
        output_bytes: printed output (text) kept per submission; the rest is dropped.
        file_bytes: largest file the kernel may write (``RLIMIT_FSIZE``).
    """

    cell_timeout: float = 120.0
    total_timeout: float = 900.0
    memory_bytes: int = 4 * 2**30
    output_bytes: int = 2**20
    file_bytes: int = 256 * 2**20

    def __post_init__(self):
        for name in ("cell_timeout", "total_timeout", "memory_bytes", "output_bytes", "file_bytes"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")
        if self.memory_bytes < 2 * 2**30:
            raise ValueError(
                f"Limits.memory_bytes={self.memory_bytes} is below 2 GiB: the kernel needs about "
                "1.6 GB of address space just to import torch and the course"
            )


# ===========================================================================================
# The lessons: which graded cells each has, in which order, and its exercises
# ===========================================================================================


@dataclass
class Lesson:
    """What the grader knows of one lesson, read from its source in ``lessons_src/``.

    Attributes:
        name: the source's stem, e.g. ``"01_ode_basics"``.
        grade_ids: nbgrader ``grade_id`` of every graded cell, in the lesson's order.
        exercises: the lesson's exercises (check cells whose grade_id is in the registry).
        check_sources: {exercise id: the check cell's source}.
        code_sources: every code cell's source (to recognise a notebook stripped of metadata).
    """

    name: str
    grade_ids: list[str]
    exercises: list  # list[Exercise]
    check_sources: dict[str, str]
    code_sources: set[str] = field(default_factory=set)

    @property
    def max_points(self) -> float:
        return float(sum(ex.points for ex in self.exercises))


def _build_module():
    path = ROOT / "tools" / "build_notebooks.py"
    if not path.exists():
        raise FileNotFoundError(
            f"{path} not found: run the grader from a clone of the course repository"
        )
    import importlib.util

    spec = importlib.util.spec_from_file_location("_course_build_notebooks", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_lessons(sources: Sequence[Path] | None = None) -> list[Lesson]:
    """Read every lesson source (default: ``lessons_src/NN_*.py``) into a :class:`Lesson`.

    A lesson source that cannot be read is skipped with a warning on stderr, so one lesson being
    edited does not stop the grading of the others.
    """
    from .exercises import registry

    build = _build_module()
    exercises = registry()
    lessons = []
    for source in build.lesson_sources(sources):
        try:
            nb = build.read_source(Path(source))
        except Exception as exc:  # a lesson mid-edit: grade the others
            print(f"warning: skipping lesson {Path(source).name}: {exc}", file=sys.stderr)
            continue
        lesson = Lesson(Path(source).stem, [], [], {})
        for cell in nb.cells:
            if cell.cell_type == "code":
                lesson.code_sources.add(cell.source.strip())
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if not grade_id:
                continue
            lesson.grade_ids.append(grade_id)
            if grade_id in exercises and cell.metadata["nbgrader"].get("grade"):
                lesson.exercises.append(exercises[grade_id])
                lesson.check_sources[grade_id] = cell.source
        lessons.append(lesson)
    return lessons


# ===========================================================================================
# A submission: its cells, its lesson, how its structure differs from the lesson's
# ===========================================================================================


class InvalidNotebook(ValueError):
    """The file is not a notebook the grader can read (message says why)."""


@dataclass(frozen=True)
class Cell:
    index: int  # 0-based position in the submission
    cell_type: str
    source: str
    grade_id: str

    @property
    def where(self) -> str:
        first = next((line for line in self.source.splitlines() if line.strip()), "")
        first = first if len(first) <= 60 else first[:57] + "..."
        return f"cell {self.index + 1}" + (f" ({first.strip()!r})" if first else "")


def read_cells(path: Path) -> list[Cell]:
    """The cells of a notebook file, read as plain JSON (no code runs); raises InvalidNotebook."""
    try:
        size = path.stat().st_size
        if size > _MAX_NOTEBOOK_BYTES:
            raise InvalidNotebook(f"the file is {size / 2**20:.0f} MB, larger than a notebook")
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidNotebook(f"not valid notebook JSON ({type(exc).__name__}: {exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise InvalidNotebook("the JSON has no list of cells (an nbformat 4 notebook has one)")
    cells = []
    for index, raw in enumerate(data["cells"]):
        if not isinstance(raw, dict) or not isinstance(raw.get("cell_type"), str):
            raise InvalidNotebook(f"cell {index + 1} is not a notebook cell")
        source = raw.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise InvalidNotebook(f"cell {index + 1} has a source that is not text")
        meta = raw.get("metadata")
        grader = meta.get("nbgrader") if isinstance(meta, dict) else None
        grade_id = grader.get("grade_id", "") if isinstance(grader, dict) else ""
        cells.append(Cell(index, raw["cell_type"], source, grade_id if isinstance(grade_id, str)
                          else ""))
    return cells


def identify_lesson(cells: Sequence[Cell], lessons: Sequence[Lesson]) -> Lesson | None:
    """The lesson whose graded cells the notebook has most of (by grade_id, never file name).

    A notebook whose metadata was stripped is matched by identical code cells instead (at least
    three, and at least a third of the lesson's code cells).
    """
    ids = {c.grade_id for c in cells if c.grade_id}
    scored = [(len(ids & set(lesson.grade_ids)), lesson) for lesson in lessons]
    best = max(scored, key=lambda s: s[0], default=(0, None))
    if best[0] > 0:
        return best[1]
    sources = {c.source.strip() for c in cells if c.cell_type == "code"}
    scored = [(len(sources & lesson.code_sources), lesson) for lesson in lessons]
    count, lesson = max(scored, key=lambda s: s[0], default=(0, None))
    if lesson is not None and count >= 3 and count >= len(lesson.code_sources) / 3:
        return lesson
    return None


def structure_problems(cells: Sequence[Cell], lesson: Lesson) -> list[tuple[str, str]]:
    """[(status, explanation)] for graded cells deleted, reordered, duplicated or edited."""
    problems = []
    seen = [c.grade_id for c in cells if c.grade_id in lesson.grade_ids]
    missing = [g for g in lesson.grade_ids if g not in seen]
    if missing:
        problems.append(("cells_deleted", "missing graded cells: " + ", ".join(missing)))
    twice = sorted({g for g in seen if seen.count(g) > 1})
    if twice:
        problems.append(("cells_duplicated", "graded cells present twice: " + ", ".join(twice)))
    firsts = list(dict.fromkeys(seen))
    expected = [g for g in lesson.grade_ids if g in firsts]
    if firsts != expected:
        problems.append(("cells_reordered", "graded cells in the order " + ", ".join(firsts)
                         + "; the lesson has " + ", ".join(expected)))
    edited = sorted({c.grade_id for c in cells if c.grade_id in lesson.check_sources
                     and c.source.strip() != lesson.check_sources[c.grade_id].strip()})
    if edited:
        problems.append(("check_cell_edited", "edited check cells: " + ", ".join(edited)))
    return problems


_REFERENCE_USE = re.compile(r"\.reference\b|\bsolution\s*\(|utils\.exercises|\blesson\d\d\b")


# ===========================================================================================
# The execution plan: the submission's cells, with the grader's own cells around each answer
# ===========================================================================================


@dataclass(frozen=True)
class Step:
    """One cell the kernel runs: a submission cell or one the grader adds.

    kind: "setup" (imports the grader's hook before any submission cell), "cell" (a cell of the
    submission), "forget" (unbinds the answer's name before its answer cell), "record" (runs
    the exercise's cases on the answer and writes the results), "settle" (what the check cell
    does for later cells: keeps the answer if it passed, else binds the reference; its source
    is filled in once the grader has judged the results).
    """

    kind: str
    source: str
    cell: Cell | None = None
    exercise_id: str = ""


def _hook(call: str) -> str:
    # __import__ binds no name in the learner's namespace, and survives `%reset`.
    return f'__import__("utils.grading").grading.{call}'


def plan(cells: Sequence[Cell], lesson: Lesson, results_dir: Path) -> list[Step]:
    """The cells to run, in order, for a submission of ``lesson``.

    The submission's check cells never run. After an answer cell come the grader's record and
    settle steps; a check cell whose answer cell is missing becomes a settle step (the
    reference), so that the cells after it run as they would for the learner.
    """
    by_answer = {f"{ex.id}-answer": ex for ex in lesson.exercises}
    last_answer = {}
    for cell in cells:
        if cell.cell_type == "code" and cell.grade_id in by_answer:
            last_answer[cell.grade_id] = cell.index
    steps = [Step("setup", _hook("_kernel_setup()"))]
    for cell in cells:
        if cell.cell_type != "code" or not cell.source.strip():
            continue
        if cell.grade_id in lesson.check_sources:
            if f"{cell.grade_id}-answer" not in last_answer:
                steps.append(Step("settle", "", cell, cell.grade_id))
            continue
        exercise = by_answer.get(cell.grade_id)
        if exercise is None or last_answer[cell.grade_id] != cell.index:
            steps.append(Step("cell", cell.source, cell))
            continue
        name = exercise.answer_name
        steps += [
            Step("forget", _hook(f"_kernel_forget({name!r})"), cell, exercise.id),
            Step("cell", cell.source, cell, exercise.id),
            Step("record", _hook(f"_kernel_record({exercise.id!r}, "
                                 f"{str(results_dir / (exercise.id + '.json'))!r})"),
                 cell, exercise.id),
            Step("settle", "", cell, exercise.id),
        ]
    return steps


# ===========================================================================================
# Inside the submission's kernel (these four functions run there, not in the grader)
# ===========================================================================================


def _kernel_setup() -> None:
    """Import the course's checking code before any cell of the submission runs."""
    import utils.exercises  # noqa: F401


def _kernel_forget(name: str) -> None:
    """Unbind ``name``, so that an answer cell that fails cannot leave an older value behind."""
    from IPython import get_ipython

    get_ipython().user_ns.pop(name, None)


def _kernel_settle(exercise_id: str, passed: bool) -> None:
    """What a check cell does for later cells: keep a passing answer, else use the reference."""
    from IPython import get_ipython

    from utils.exercises import registry

    exercise = registry()[exercise_id]
    if not passed:
        get_ipython().user_ns[exercise.answer_name] = exercise.reference


def _kernel_record(exercise_id: str, results_path: str) -> None:
    """Run the cases of ``exercise_id`` on the learner's answer; write the results as JSON.

    Runs in the submission's kernel. Only results leave the kernel, as plain data; whether they
    are right is decided by the grading process (:func:`_verdict`), never here. The random
    number generators are seeded for the cases and restored afterwards.
    """
    from IPython import get_ipython

    from utils.exercises import registry

    exercise = registry()[exercise_id]
    namespace = get_ipython().user_ns
    line: dict[str, Any] = {"exercise": exercise_id, "defined": exercise.answer_name in namespace}
    if line["defined"]:
        answer = namespace[exercise.answer_name]
        line["kind"] = ("none" if answer is None or answer is Ellipsis
                        else "callable" if callable(answer) else type(answer).__name__)
        if line["kind"] == "callable":
            saved = _rng_state()
            try:
                line["results"] = _run_cases(exercise, answer)
            finally:
                _set_rng_state(saved)
    with open(results_path, "w", encoding="utf-8") as out:
        out.write(json.dumps(line))


def _case_lists(exercise):
    """The exercise's cases then its hidden ones, each list built after seeding the RNGs.

    The kernel and the grader build them the same way, so they get the same arguments and
    expected values even when a case draws random numbers.
    """
    import random

    import numpy as np
    import torch

    lists = []
    for make in (exercise.cases, exercise.hidden_cases):
        if make is not None:
            random.seed(0)
            np.random.seed(0)
            torch.manual_seed(0)
            lists.append(list(make()))
        else:
            lists.append([])
    return lists


def _run_cases(exercise, answer) -> list[dict]:
    results = []
    for case in (c for cases in _case_lists(exercise) for c in cases):
        try:
            got = case.run(answer)
        except (Exception, SystemExit) as exc:  # reported, not raised (KeyboardInterrupt is)
            results.append({"raised": type(exc).__name__, "message": str(exc)[:500]})
            break
        results.append({"value": _encode(got)})
    return results


def _rng_state():
    import random

    import numpy as np
    import torch

    return random.getstate(), np.random.get_state(), torch.get_rng_state()


def _set_rng_state(state) -> None:
    import random

    import numpy as np
    import torch

    random.setstate(state[0])
    np.random.set_state(state[1])
    torch.set_rng_state(state[2])


def _encode(x, depth: int = 0) -> dict:
    """A result as plain JSON: numbers, arrays (.npy bytes, no pickle), tensors, tuples, lists."""
    import numpy as np
    import torch

    if isinstance(x, torch.Tensor):
        t = x.detach().cpu()
        if t.is_complex() or t.dtype in (torch.bfloat16,):
            t = t.to(torch.float64)
        return {"type": "tensor", "npy": _npy(t.numpy())}
    if isinstance(x, (np.ndarray, np.generic)):
        return {"type": "array", "npy": _npy(np.asarray(x))}
    if isinstance(x, (bool, int, float)):
        try:
            return {"type": "number", "value": float(x)}
        except OverflowError:
            return {"type": "number", "value": math.copysign(math.inf, x)}
    if x is None:
        return {"type": "none"}
    if isinstance(x, (tuple, list)) and depth < 4 and len(x) <= 10_000:
        return {"type": "list" if isinstance(x, list) else "tuple",
                "items": [_encode(v, depth + 1) for v in x]}
    return {"type": "other", "name": type(x).__name__, "repr": repr(x)[:200]}


def _npy(array) -> str | dict:
    import numpy as np

    if array.dtype == object:
        try:
            array = array.astype(float)
        except (TypeError, ValueError):
            return {"unsupported": "an array of Python objects"}
    if array.nbytes > _MAX_RESULT_BYTES:
        return {"unsupported": f"an array of {array.nbytes / 2**20:.0f} MB"}
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return base64.b64encode(buffer.getvalue()).decode("ascii")


# ===========================================================================================
# Back in the grader: decode the results and compare them with the grader's own cases
# ===========================================================================================


class Unsupported:
    """A result the kernel could not send as data (a dict, a string, a model ...)."""

    def __init__(self, name: str, text: str):
        self.name, self.text = name, text

    def __repr__(self):
        return f"<{self.name}: {self.text}>"


def _decode(data):
    import numpy as np
    import torch

    kind = data.get("type") if isinstance(data, dict) else None
    if kind in ("array", "tensor"):
        npy = data.get("npy")
        if isinstance(npy, dict):
            return Unsupported("unsupported", str(npy.get("unsupported")))
        array = np.load(io.BytesIO(base64.b64decode(npy)), allow_pickle=False)
        return torch.from_numpy(array) if kind == "tensor" else array
    if kind == "number":
        return float(data["value"])
    if kind == "none":
        return None
    if kind in ("tuple", "list"):
        items = [_decode(v) for v in data["items"]]
        return tuple(items) if kind == "tuple" else items
    if kind == "other":
        return Unsupported(str(data.get("name")), str(data.get("repr")))
    raise ValueError(f"unreadable result {str(data)[:100]}")


def _nonfinite(x) -> bool:
    import numpy as np
    import torch

    if isinstance(x, (tuple, list)):
        return any(_nonfinite(v) for v in x)
    if isinstance(x, torch.Tensor):
        x = x.numpy()
    try:
        return not np.isfinite(np.asarray(x, dtype=float)).all()
    except (TypeError, ValueError):
        return False


_OOM = re.compile(r"can't allocate memory|Cannot allocate memory|out of memory", re.IGNORECASE)


def _verdict(exercise, line: dict | None, cases) -> tuple[str, str]:
    """(status, message) for one exercise, from the kernel's results and the grader's cases."""
    from .exercises.core import compare

    public, hidden = cases
    if line is None:
        return "not_graded", "the grader's results are missing"
    if not line.get("defined"):
        return "missing", f"the answer cell did not define '{exercise.answer_name}'."
    if line.get("kind") == "none":
        return "not_attempted", f"'{exercise.answer_name}' is None."
    if line.get("kind") != "callable":
        return "wrong", (f"'{exercise.answer_name}' should be a function (or class), got "
                         f"{line.get('kind')}.")
    results = line.get("results")
    if not isinstance(results, list):
        return "not_graded", "the notebook sent no results"
    labelled = [(f"case '{c.name}'", c) for c in public]
    labelled += [(f"hidden case '{c.name}'", c) for c in hidden]
    for i, (label, case) in enumerate(labelled):
        if i >= len(results):
            return "not_graded", f"the notebook sent {len(results)} results for {len(labelled)}"
        result = results[i]
        if not isinstance(result, dict):
            return "not_graded", "the notebook sent an unreadable result"
        if "raised" in result:
            name, text = str(result["raised"]), str(result.get("message", ""))
            if name == "NotImplementedError":
                return "not_attempted", "replace `raise NotImplementedError()` with your code."
            status = "out_of_memory" if name == "MemoryError" or _OOM.search(text) else "error"
            return status, f"{label} raised {name}: {text}"
        try:
            got = _decode(result.get("value"))
        except Exception as exc:
            return "not_graded", f"{label}: the result could not be read ({exc})"
        if isinstance(got, Unsupported):
            return "wrong", f"{label}: expected a number, array or tensor, got {got.text}"
        problem = compare(got, case.expected, rtol=case.rtol, atol=case.atol)
        if problem:
            status = "nan" if _nonfinite(got) and not _nonfinite(case.expected) else "wrong"
            return status, f"{label}: {problem}"
    shown = f"all {len(public)} cases" + (f" and {len(hidden)} hidden ones" if hidden else "")
    return "passed", f"{shown} match."


# ===========================================================================================
# Running cells in a kernel, with limits
# ===========================================================================================


@dataclass
class CellRun:
    """What one step did: status is ok, error, timeout, died or unresponsive."""

    step: Step
    status: str
    seconds: float
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    output: str = ""


class _Kernel:
    """A fresh IPython kernel in ``workdir``, under ``limits``; stopped by :meth:`close`."""

    def __init__(self, workdir: Path, limits: Limits):
        from jupyter_client import KernelManager
        from jupyter_client.kernelspec import KernelSpecManager

        self.limits = limits
        self.output_left = limits.output_bytes
        self.output_dropped = 0
        spec_dir = workdir / "kernelspec" / "grader"
        spec_dir.mkdir(parents=True)
        # The caps are set in the kernel process itself, before ipykernel (and any cell) starts.
        launcher = (
            "import resource as r; "
            f"r.setrlimit(r.RLIMIT_AS, ({limits.memory_bytes}, {limits.memory_bytes})); "
            f"r.setrlimit(r.RLIMIT_FSIZE, ({limits.file_bytes}, {limits.file_bytes})); "
            "r.setrlimit(r.RLIMIT_CORE, (0, 0)); "
            "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
        )
        (spec_dir / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-c", launcher, "-f", "{connection_file}"],
            "display_name": "grader", "language": "python",
            "env": {"MALLOC_ARENA_MAX": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
        }))
        self.km = KernelManager(
            kernel_name="grader",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(spec_dir.parent)]),
        )
        self.stderr_path = workdir / "kernel-stderr.txt"
        self.run_dir = workdir / "run"
        self.run_dir.mkdir()
        self.kc = None

    def start(self) -> None:
        with open(self.stderr_path, "wb") as stderr:
            self.km.start_kernel(cwd=str(self.run_dir), stdout=stderr, stderr=stderr)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=_KERNEL_START)

    def exit_code(self) -> int | None:
        process = getattr(self.km.provisioner, "process", None)
        return process.poll() if process is not None else None

    def run(self, step: Step, timeout: float) -> CellRun:
        """Run one step; never raises for what the code in it does."""
        start = time.monotonic()
        msg_id = self.kc.execute(step.source, store_history=False, allow_stdin=False,
                                 stop_on_error=False)
        run = CellRun(step, "ok", 0.0)
        parts: list[str] = []
        reply = None
        idle = False
        deadline = start + timeout
        drain_until = None
        timed_out = False
        while not idle:
            now = time.monotonic()
            if reply is not None and drain_until is not None and now > drain_until:
                break
            if reply is None and now > deadline:
                if timed_out:  # the interrupt did not stop it
                    run.status = "unresponsive"
                    break
                timed_out = True
                self.km.interrupt_kernel()
                deadline = now + _INTERRUPT_GRACE
            if reply is None:
                try:
                    msg = self.kc.get_shell_msg(timeout=0)
                    if msg["parent_header"].get("msg_id") == msg_id:
                        reply = msg["content"]
                        drain_until = time.monotonic() + _IOPUB_DRAIN
                except queue.Empty:
                    pass
            try:
                msg = self.kc.get_iopub_msg(timeout=0.2)
            except queue.Empty:
                if reply is None and not self.km.is_alive():
                    run.status = "died"
                    break
                continue
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind, content = msg["msg_type"], msg["content"]
            if kind == "status" and content.get("execution_state") == "idle":
                idle = True
            elif kind == "stream":
                parts.append(self._keep(content.get("text", "")))
            elif kind in ("execute_result", "display_data"):
                parts.append(self._keep(str(content.get("data", {}).get("text/plain", ""))
                                        + "\n"))
            elif kind == "error":
                parts.append(self._keep("\n".join(content.get("traceback", [])) + "\n"))
        if reply is None and run.status == "ok" and idle:
            try:  # the reply comes on the shell channel, usually at once
                msg = self.kc.get_shell_msg(timeout=_IOPUB_DRAIN)
                if msg["parent_header"].get("msg_id") == msg_id:
                    reply = msg["content"]
            except queue.Empty:
                pass
        if timed_out and run.status == "ok":
            run.status = "timeout"
        elif reply is not None and reply.get("status") == "error" and run.status == "ok":
            run.status = "error"
            run.ename = str(reply.get("ename", ""))
            run.evalue = str(reply.get("evalue", ""))[:500]
            run.traceback = _plain("\n".join(reply.get("traceback", [])))[-2000:]
        run.seconds = time.monotonic() - start
        run.output = _plain("".join(parts))
        return run

    def _keep(self, text: str) -> str:
        size = len(text.encode("utf-8", "replace"))
        if size <= self.output_left:
            self.output_left -= size
            return text
        kept = text[: max(self.output_left, 0)]
        self.output_left = 0
        self.output_dropped += size - len(kept)
        return kept

    def close(self) -> None:
        try:
            if self.kc is not None:
                self.kc.stop_channels()
        finally:
            if self.km.has_kernel:
                self.km.shutdown_kernel(now=True)  # kills the kernel's whole process group


_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def _plain(text: str) -> str:
    return _ANSI.sub("", text)


# ===========================================================================================
# One submission
# ===========================================================================================


@dataclass
class Submission:
    """The grading of one notebook: CSV rows, feedback text and a log."""

    name: str
    lesson: str = ""
    rows: list[dict] = field(default_factory=list)
    notebook_status: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add_status(self, status: str, note: str = "") -> None:
        if status not in self.notebook_status:
            self.notebook_status.append(status)
        if note:
            self.notes.setdefault(status, []).append(note)

    @property
    def points(self) -> float:
        return sum(float(r["points"]) for r in self.rows)

    @property
    def max_points(self) -> float:
        return sum(float(r["max_points"]) for r in self.rows)

    def csv_rows(self) -> list[dict]:
        status = "; ".join(sorted(self.notebook_status)) or "ok"
        head = {"submission": self.name, "lesson": self.lesson or "unknown",
                "exercise": NOTEBOOK_ROW, "points": 0, "max_points": 0, "status": status}
        return [head] + self.rows


def _read_results(path: Path) -> dict | None:
    try:
        if path.stat().st_size > 8 * _MAX_RESULT_BYTES:
            return None
        line = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except (OSError, ValueError):
        return None
    return line if isinstance(line, dict) else None


def _execute(cells, lesson: Lesson, limits: Limits, workdir: Path, sub: Submission,
             case_lists: dict):
    """Run the plan in a fresh kernel.

    Returns ({exercise id: results sent by the kernel}, [CellRun], (exit code, stderr tail)).
    """
    start = time.monotonic()
    results_dir = workdir / "grader"
    results_dir.mkdir()
    steps = plan(cells, lesson, results_dir)
    exercises = {ex.id: ex for ex in lesson.exercises}
    lines: dict[str, dict] = {}
    passed: set[str] = set()
    runs: list[CellRun] = []
    kernel = _Kernel(workdir, limits)
    try:
        try:
            kernel.start()
        except Exception as exc:
            sub.add_status("kernel_failed", f"The kernel could not be started: {exc}")
            return {}, runs, None
        for step in steps:
            left = limits.total_timeout - (time.monotonic() - start)
            if left <= 0:
                if "total_timeout" not in sub.notebook_status:
                    sub.add_status("total_timeout", "The notebook reached the total time limit "
                                   f"of {limits.total_timeout:g} s; the cells after that were "
                                   "not run.")
                break
            if step.kind == "settle":
                call = f"_kernel_settle({step.exercise_id!r}, {step.exercise_id in passed})"
                step = Step("settle", _hook(call), step.cell, step.exercise_id)
            limit = max(limits.cell_timeout, _KERNEL_START) if step.kind == "setup" else (
                limits.cell_timeout)
            run = kernel.run(step, min(limit, left))
            runs.append(run)
            if run.status == "timeout" and limit > left:
                run.status = "total_timeout"
            if step.kind == "record" and run.status == "ok":
                line = _read_results(results_dir / f"{step.exercise_id}.json")
                if line is not None and line.get("exercise") == step.exercise_id:
                    lines[step.exercise_id] = line
                    ex = exercises[step.exercise_id]
                    if _verdict(ex, line, case_lists[ex.id])[0] == "passed":
                        passed.add(ex.id)
            if run.status in ("died", "unresponsive"):
                break
        if kernel.output_dropped:
            sub.add_status("output_capped", f"The notebook printed more than "
                           f"{limits.output_bytes / 1024:g} kB; "
                           f"{kernel.output_dropped / 1024:.0f} kB more were dropped.")
        exit_code = kernel.exit_code()
    finally:
        kernel.close()
    stderr_tail = ""
    if kernel.stderr_path.exists():
        with open(kernel.stderr_path, "rb") as f:
            f.seek(max(0, kernel.stderr_path.stat().st_size - 2000))
            stderr_tail = f.read().decode("utf-8", "replace")
    return lines, runs, (exit_code, stderr_tail)


def _describe_runs(runs: list[CellRun], limits: Limits, exit_info, sub: Submission) -> None:
    """Notebook statuses and plain-words notes from what the cells did."""
    for run in runs:
        step = run.step
        where = step.cell.where if step.cell is not None else "the grader's setup"
        sub.log.append(f"--- {step.kind} {where}: {run.status} in {run.seconds:.1f} s")
        if run.output:
            sub.log.append(run.output.rstrip("\n"))
        if step.kind not in ("cell", "setup"):
            continue  # the grader's own cells: their outcome shows in the exercise rows
        if run.status == "error":
            if run.ename == "SystemExit":
                sub.add_status("exited", f"{_upper(where)} called sys.exit(); the grader "
                               "kept going with the next cell.")
            elif run.ename == "MemoryError" or _OOM.search(run.evalue):
                sub.add_status("out_of_memory", f"{_upper(where)} ran out of memory (the "
                               f"limit is {limits.memory_bytes / 2**30:g} GiB).")
            else:
                sub.add_status("error", f"{_upper(where)} raised {run.ename}: "
                               f"{run.evalue[:300]}")
        elif run.status == "timeout":
            sub.add_status("cell_timeout", f"{_upper(where)} ran longer than "
                           f"{limits.cell_timeout:g} s and was stopped.")
        elif run.status == "total_timeout":
            sub.add_status("total_timeout", f"{_upper(where)} was running when the "
                           f"notebook reached the total time limit of "
                           f"{limits.total_timeout:g} s.")
    last = runs[-1] if runs else None
    if last is not None and last.status == "unresponsive":
        where = last.step.cell.where if last.step.cell is not None else "the grader's setup"
        sub.add_status("kernel_unresponsive", f"{_upper(where)} reached its time limit and the "
                       "kernel did not stop when interrupted, so it was killed; the cells after "
                       "it were not run.")
    if last is not None and last.status == "died":
        where = last.step.cell.where if last.step.cell is not None else "the grader's setup"
        code, stderr_tail = exit_info or (None, "")
        if code is not None and code >= 0:
            sub.add_status("exited", f"The Python process exited (code {code}) during {where}, "
                           "e.g. through os._exit() or quit(); the cells after it were not run.")
        else:
            signal = f" (signal {-code})" if code is not None else ""
            sub.add_status("kernel_died", f"The Python process died{signal} during {where}; the "
                           "cells after it were not run. Its last words: "
                           + (stderr_tail.strip()[-300:] or "none"))


def grade_notebook(path: Path, *, name: str, lessons: Sequence[Lesson], limits: Limits,
                   case_lists: dict | None = None) -> Submission:
    """Grade one notebook file; never raises for what the notebook contains or does."""
    sub = Submission(name)
    start = time.monotonic()
    try:
        _grade_into(sub, Path(path), lessons, limits, {} if case_lists is None else case_lists)
    except Exception as exc:  # a bug of the grader: say so, zero, and go on with the others
        import traceback

        sub.add_status("grader_error", f"The grader failed: {type(exc).__name__}: {exc}")
        sub.log.append(traceback.format_exc())
        sub.rows = [dict(r, points=0, status="not_graded") for r in sub.rows]
    sub.seconds = time.monotonic() - start
    return sub


def _grade_into(sub: Submission, path: Path, lessons, limits, case_lists) -> None:
    try:
        cells = read_cells(path)
    except InvalidNotebook as exc:
        sub.add_status("invalid_notebook", f"The file could not be read as a notebook: {exc}")
        return
    lesson = identify_lesson(cells, lessons)
    if lesson is None:
        sub.add_status("unknown_lesson", "No lesson of the course has these graded cells.")
        return
    sub.lesson = lesson.name
    for status, text in structure_problems(cells, lesson):
        sub.add_status(status, text[0].upper() + text[1:] + ".")
    answers = {}
    for cell in cells:
        if cell.cell_type == "code" and cell.grade_id.endswith("-answer"):
            answers[cell.grade_id.removesuffix("-answer")] = cell
    for ex in lesson.exercises:
        cell = answers.get(ex.id)
        if cell is not None and _REFERENCE_USE.search(cell.source):
            sub.add_status("review", f"The answer cell of {ex.id} mentions the course's "
                           "exercise module or reference solution: check it by hand.")
    for ex in lesson.exercises:
        if ex.id not in case_lists:
            case_lists[ex.id] = _case_lists(ex)
    workdir = Path(tempfile.mkdtemp(prefix="neural-ode-grade-"))
    try:
        lines, runs, exit_info = _execute(cells, lesson, limits, workdir, sub, case_lists)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _describe_runs(runs, limits, exit_info, sub)
    by_exercise: dict[str, dict[str, CellRun]] = {}
    for run in runs:
        if run.step.exercise_id:
            by_exercise.setdefault(run.step.exercise_id, {})[run.step.kind] = run
    for ex in lesson.exercises:
        status, message = _exercise_status(ex, answers.get(ex.id), by_exercise.get(ex.id, {}),
                                           lines.get(ex.id), case_lists[ex.id], limits)
        sub.rows.append({"submission": sub.name, "lesson": lesson.name, "exercise": ex.id,
                         "points": _num(ex.points if status == "passed" else 0),
                         "max_points": _num(ex.points), "status": status, "message": message,
                         "title": ex.title})


def _exercise_status(ex, answer_cell, runs: dict, line, cases, limits) -> tuple[str, str]:
    if answer_cell is None:
        return "missing", f"the answer cell (grade_id '{ex.id}-answer') is not in the notebook."
    record = runs.get("record")
    if record is None:
        return "not_run", ("the notebook stopped before this exercise's answer cell was graded "
                           "(see 'About the notebook as a whole').")
    prefix = ""
    answer_run = runs.get("cell")
    if answer_run is not None and answer_run.status == "error":
        prefix = (f"your answer cell raised {answer_run.ename}: {answer_run.evalue[:200]}; "
                  "graded what it defined: ")
    if record.status in ("timeout", "total_timeout"):
        return "timeout", (f"running the cases took longer than {limits.cell_timeout:g} s "
                           "(an endless loop?).")
    if record.status in ("died", "unresponsive"):
        return "crashed", "the kernel stopped while your function ran."
    if record.status == "error":
        if record.ename == "MemoryError" or _OOM.search(record.evalue):
            return "out_of_memory", "your function ran out of memory."
        return "not_graded", f"the grader's cell failed: {record.ename}: {record.evalue[:200]}"
    status, message = _verdict(ex, line, cases)
    return status, prefix + message


def _num(x: float) -> str:
    return f"{float(x):g}"


# ===========================================================================================
# Feedback and the folder
# ===========================================================================================


def feedback_text(sub: Submission) -> str:
    """The feedback file of one submission, in plain words."""
    lines = [f"Feedback on {sub.name}"]
    if sub.lesson:
        lines.append(f"Lesson: {sub.lesson}")
    lines.append(f"Score: {_num(sub.points)} of {_num(sub.max_points)} points.")
    lines.append("")
    for row in sub.rows:
        lines.append(f"{row['title']} ({row['exercise']}): {row['points']} of "
                     f"{row['max_points']} points.")
        lines.append(f"  {_sentence(EXERCISE_STATUS.get(row['status'], row['status']))}")
        if row["status"] != "passed" or row["message"].startswith("your answer cell"):
            lines.append(f"  {_sentence(row['message'])}")
        lines.append("")
    lines.append("About the notebook as a whole:")
    statuses = sub.notebook_status or ["ok"]
    for status in statuses:
        lines.append(f"  - {_sentence(NOTEBOOK_STATUS.get(status, status))}")
        lines += [f"    {note}" for note in sub.notes.get(status, [])]
    lines.append("")
    lines.append("The grader ran your notebook in a fresh kernel, skipped its check cells, and "
                 "checked each answer with the course's cases, including hidden ones.")
    return "\n".join(lines) + "\n"


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


def _sentence(text: str) -> str:
    return _upper(text) + ("" if text.endswith(".") else ".")


def _safe_name(name: str) -> str:
    stem = name[:-6] if name.endswith(".ipynb") else name
    return re.sub(r"[^A-Za-z0-9._-]+", "_", stem.replace("/", "__")) or "submission"


def find_submissions(folder: Path) -> list[Path]:
    """Every notebook under ``folder`` (checkpoints excluded), sorted."""
    return sorted(
        p for p in folder.rglob("*.ipynb")
        if ".ipynb_checkpoints" not in p.parts and p.is_file()
    )


def write_csv(path: Path, subs: Sequence[Submission]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, extrasaction="ignore")
        writer.writeheader()
        for sub in subs:
            writer.writerows(sub.csv_rows())


def grade_folder(folder: Path, out: Path, *, limits: Limits | None = None, jobs: int = 1,
                 lessons: Sequence[Lesson] | None = None, quiet: bool = False
                 ) -> list[Submission]:
    """Grade every notebook under ``folder``; write ``out/grades.csv``, feedback and logs.

    The CSV is rewritten after every submission, so it holds every submission graded so far
    even if the run is stopped. Returns the submissions in file-name order.
    """
    folder, out = Path(folder), Path(out)
    limits = Limits() if limits is None else limits
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submissions")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    lessons = load_lessons() if lessons is None else lessons
    paths = find_submissions(folder)
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    # The grader's cases of the lessons submitted, built once, here (not in worker threads).
    case_lists = {}
    for path in paths:
        try:
            lesson = identify_lesson(read_cells(path), lessons)
        except InvalidNotebook:
            continue
        for ex in lesson.exercises if lesson is not None else []:
            if ex.id not in case_lists:
                case_lists[ex.id] = _case_lists(ex)
    names = [p.relative_to(folder).as_posix() for p in paths]
    done: dict[str, Submission] = {}
    start = time.monotonic()

    def finish(sub: Submission) -> None:
        done[sub.name] = sub
        stem = _safe_name(sub.name)
        (out / "feedback" / f"{stem}.txt").write_text(feedback_text(sub), encoding="utf-8")
        (out / "logs" / f"{stem}.log").write_text("\n".join(sub.log) + "\n", encoding="utf-8")
        write_csv(out / "grades.csv", [done[n] for n in names if n in done])
        if not quiet:
            print(f"{sub.name}: {sub.lesson or '?'} {_num(sub.points)}/{_num(sub.max_points)} "
                  f"({'; '.join(sub.notebook_status) or 'ok'}) in {sub.seconds:.1f} s",
                  flush=True)

    write_csv(out / "grades.csv", [])
    if jobs == 1:
        for path, name in zip(paths, names, strict=True):
            finish(grade_notebook(path, name=name, lessons=lessons, limits=limits,
                                  case_lists=case_lists))
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(grade_notebook, path, name=name, lessons=lessons,
                                   limits=limits, case_lists=case_lists)
                       for path, name in zip(paths, names, strict=True)]
            for future in futures:
                finish(future.result())
    if not quiet:
        print(f"graded {len(paths)} notebooks in {time.monotonic() - start:.1f} s: "
              f"{out / 'grades.csv'}")
    return [done[n] for n in names]


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: ``neural-ode-grade SUBMISSIONS [options]``."""
    defaults = Limits()
    parser = argparse.ArgumentParser(
        prog="neural-ode-grade",
        description="Grade every notebook in a folder: grades.csv, feedback/ and logs/.",
    )
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grading_results"),
                        help="where to write grades.csv, feedback/ and logs/ "
                             "(default: grading_results)")
    parser.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout,
                        help=f"seconds per cell (default {defaults.cell_timeout:g})")
    parser.add_argument("--total-timeout", type=float, default=defaults.total_timeout,
                        help=f"seconds per notebook (default {defaults.total_timeout:g})")
    parser.add_argument("--memory-gb", type=float, default=defaults.memory_bytes / 2**30,
                        help=f"memory cap per kernel in GiB (default "
                             f"{defaults.memory_bytes / 2**30:g})")
    parser.add_argument("--output-kb", type=float, default=defaults.output_bytes / 1024,
                        help=f"printed output kept per notebook in kB (default "
                             f"{defaults.output_bytes / 1024:g})")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks graded at the same time (default 1; time limits are "
                             "wall-clock, so keep this at most the number of CPU cores)")
    args = parser.parse_args(argv)
    try:
        limits = Limits(cell_timeout=args.cell_timeout, total_timeout=args.total_timeout,
                        memory_bytes=int(args.memory_gb * 2**30),
                        output_bytes=int(args.output_kb * 1024))
        grade_folder(args.submissions, args.out, limits=limits, jobs=args.jobs)
    except (ValueError, FileNotFoundError) as exc:
        print(f"neural-ode-grade: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
