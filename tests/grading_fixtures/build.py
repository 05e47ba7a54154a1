"""The grader's test submissions, made from Lesson 01 by small edits, and the grades they must get.

    python tests/grading_fixtures/build.py OUT_DIR   # write them, to look at or to grade by hand
    make grade SUBMISSIONS=OUT_DIR                    # then grade them like an instructor would

They are generated (not stored) so they follow Lesson 01 as it changes. To keep the test set
fast, each notebook is the lesson *trimmed* to its graded cells (answer and check cells, in the
lesson's order) after one setup cell holding what the course promises answer cells may use
(``np``, ``torch``, ``nn``, ``math``) and the lesson's exercise module as ``ex``. The lesson's
other cells (figures, sliders, experiments) do not change what is graded.

Two groups:

- *broken* submissions, one per failure mode (crash, hang, memory, exit, output flood, deleted
  and reordered cells), and the correct, partly correct and stub notebooks;
- *hostile* submissions, written as a learner who can read the repository would write them:
  reading expected values, reaching the reference by a built name, patching the grader or the
  import machinery, a ``post_run_cell`` hook, writing outside the working folder, a detached
  child process, reading another submission. Their payloads only ever write *canary* files
  (``CANARY-*``) into folders the test gives them, and start ``sleep``-like children with a
  marker: they never damage anything. The test checks no canary appears and no child survives.

``invalid.json``, ``not_a_notebook.json`` and ``no_lesson.ipynb`` are stored next to this file (the
first two as ``.json``, so that linters of notebooks leave them alone); :func:`write` adds files
that cannot be stored in git portably (a name that is not UTF-8, deeply nested JSON, a symbolic
link) and two names that collided in the old grader's feedback folder.

:func:`submissions` returns {file name: notebook}; :func:`expected_rows` the CSV rows the grader
must write for them.
"""

from __future__ import annotations

import copy
import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

from grader.lessons import learner_notebook, read_source
from grader.notebooks import display_name, file_stem

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
LESSON = ROOT / "lessons_src" / "01_ode_basics.py"
# {submission name: stored file}
STORED = {"invalid.ipynb": "invalid.json", "not_a_notebook.ipynb": "not_a_notebook.json",
          "no_lesson.ipynb": "no_lesson.ipynb"}
NON_UTF8 = b"caf\xe9.ipynb"  # a Latin-1 name: not valid UTF-8
# The test limits: small, so that the hang fixture costs two cell limits, not minutes.
CELL_TIMEOUT = 10.0
MEMORY_GIB = 2.5
OUTPUT_KB = 64.0


def lesson_exercises():
    """The lesson's exercises, in order (from its check cells and the registry)."""
    from utils.exercises import registry

    ids = [c.metadata["nbgrader"]["grade_id"] for c in read_source(LESSON).cells
           if c.metadata.get("nbgrader", {}).get("grade")]
    return [registry()[i] for i in ids if i in registry()]


def trimmed(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The notebook's graded cells only, after one setup cell (see the module docstring)."""
    aliases = set()
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            aliases.update(re.findall(r"(\w+)\.\w+\.check\(", cell.source))
    setup = ["import math", "", "import numpy as np", "import torch", "from torch import nn", ""]
    setup += [f"from utils.exercises import lesson01 as {alias}" for alias in sorted(aliases)]
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


def _replace(nb, exercise, source: str) -> None:
    """Replace the answer cell's source (the learner wrote this instead of the solution)."""
    nb.cells[_find(nb, f"{exercise.id}-answer")].source = source


def broken() -> dict[str, nbformat.NotebookNode]:
    """{file name: notebook}: correct, partly correct, stubs, and one per failure mode."""
    solved = trimmed(read_source(LESSON))
    stubs = trimmed(learner_notebook(LESSON))
    ex = lesson_exercises()
    if len(ex) < 4:
        raise ValueError(f"the grading fixtures need 4 exercises in Lesson 01, it has {len(ex)}")
    out = {"correct.ipynb": solved, "stubs.ipynb": stubs}

    # Partly right: exercise 1 is right on the cases learners see, wrong on the hidden ones
    # (it counts its calls); exercise 2 returns NaN; the rest are right.
    nb = copy.deepcopy(solved)
    n_public = len(ex[0].case_list())
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

    # An answer that ignores the interrupt (it catches KeyboardInterrupt and loops on): the
    # kernel is stopped; the exercise reads `timeout`, the notebook not "without errors".
    nb = copy.deepcopy(solved)
    _wrap(nb, ex[1], "import time\nwhile True:\n    try:\n        time.sleep(0.05)\n"
                     "    except KeyboardInterrupt:\n        pass")
    out["stubborn.ipynb"] = nb

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

    # Exercise 1's answer cell left empty, its function defined in a plain cell above: the
    # answer cell is graded (missing), not skipped as "the notebook stopped before it".
    nb = copy.deepcopy(solved)
    answer = nb.cells[_find(nb, f"{ex[0].id}-answer")]
    nb.cells.insert(1, _code(answer.source))
    answer.source = ""
    out["empty_answer.ipynb"] = nb

    # Exercise 1's check cell moved above its answer cell.
    nb = copy.deepcopy(solved)
    check = nb.cells.pop(_find(nb, ex[0].id))
    nb.cells.insert(_find(nb, f"{ex[0].id}-answer"), check)
    out["reordered.ipynb"] = nb
    return out


# -- hostile submissions ------------------------------------------------------------------------

# An answer that looks for expected values anywhere in the kernel's memory: cases, outcomes,
# frames of its callers; it returns the first expected-looking value it finds whose shape fits.
_READS_EXPECTED = '''
import gc
import sys

def _stolen(args):
    found = []
    for obj in gc.get_objects():
        for attr in ("expected", "_expected", "want"):
            try:
                value = getattr(obj, attr, None)
            except Exception:
                continue
            if isinstance(value, np.ndarray):
                found.append(value)
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, (list, tuple)):
                found += [v for v in value if isinstance(v, np.ndarray)]
        frame = frame.f_back
    y = args[2] if len(args) > 2 else args[1]
    for value in found:
        if getattr(value, "shape", None) == np.shape(y):
            return value
    return np.zeros_like(y)


def {name}(*args):
    return _stolen(args)
'''

# The reference reached through names the old review scan could not see.
_BUILT_NAME = '''
import importlib

def {name}(*args):
    tried = []
    for module in ("utils.exercises." + "solu" + "tions.lesson01",
                   "utils.exercises.solutions." + "lesson" + "01"):
        try:
            return getattr(importlib.import_module(module), "{name}")(*args)
        except Exception as exc:
            tried.append(exc)
    try:
        return vars(ex)["{attr}"].reference(*args)
    except Exception as exc:
        tried.append(exc)
    raise RuntimeError(f"no reference reachable: {{tried}}")
'''

# A plain cell that patches the grader's in-kernel code, the judge, and the import machinery.
_PATCHES_GRADER = '''
import builtins
import json

import utils.exercises.judge as judge
from utils.exercises.judge import Outcome, describe

_real_import = builtins.__import__


def _import(name, *args, **kwargs):
    module = _real_import(name, *args, **kwargs)
    if name.startswith("grader"):
        try:
            module.kernel_side.record = _forged_record
        except AttributeError:
            pass
    return module


def _forged_record(exercise_id, answer_name, path):
    from utils.exercises import registry

    cases = registry()[exercise_id].case_list(hidden=True)
    outcomes = [Outcome(c.name, "returned", describe(np.zeros(2))).to_json() for c in cases]
    with open(path, "w") as f:
        json.dump({{"exercise": exercise_id, "outcomes": outcomes}}, f)


judge.run_case = lambda answer, case: Outcome(case.name, "returned", describe(np.zeros(2)))
builtins.__import__ = _import
try:
    import grader.kernel_side as _side
    _side.record = _forged_record
except Exception:
    pass
'''

# An IPython post_run_cell hook that rewrites every JSON file the grader might read.
_POST_RUN_HOOK = '''
import glob
import json
import os

from IPython import get_ipython


def _rewrite(result):
    for path in glob.glob(os.path.join(os.getcwd(), "**", "*.json"), recursive=True) + glob.glob(
            os.path.join(os.getcwd(), ".*.json")):
        try:
            with open(path) as f:
                data = json.load(f)
            for outcome in data.get("outcomes", []):
                outcome.update(status="returned", error="")
            with open(path, "w") as f:
                json.dump(data, f)
        except Exception:
            pass


get_ipython().events.register("post_run_cell", _rewrite)
'''

# Writes canary files wherever it can outside its working folder.
_ESCAPE = '''
import os

targets = {targets!r}
for folder in targets:
    try:
        with open(os.path.join(folder, "CANARY-escape.txt"), "w") as f:
            f.write("written from inside a graded notebook")
    except OSError as exc:
        print("blocked:", folder, type(exc).__name__)
'''

# A child in its own session, and a double-forked daemon, both meant to outlive grading; they
# would write a canary into the output folder after a while.
_DETACHED = '''
import subprocess
import sys

code = ("import time, pathlib; time.sleep(20); "
        "pathlib.Path({canary!r}).write_text('the child outlived grading')  # {marker}")
subprocess.Popen([sys.executable, "-c", code], start_new_session=True,
                 stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
import os
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv(sys.executable, [sys.executable, "-c", code])
    os._exit(0)
'''

# An answer that finds the submissions folder (from /proc, its environment, or the path it was
# told) and runs another student's answer cell as its own.
_READS_OTHER = '''
import glob
import json
import os

def _other_answer(name):
    places = [{folder!r}]
    for cmdline in glob.glob("/proc/*/cmdline"):
        try:
            places += [p for p in open(cmdline, "rb").read().decode(errors="ignore").split("\\0")
                       if os.path.isdir(p)]
        except OSError:
            pass
    for place in places:
        for path in glob.glob(os.path.join(place, "correct.ipynb")) + glob.glob(
                os.path.join(place, "*", "correct.ipynb")):
            try:
                cells = json.load(open(path))["cells"]
            except Exception:
                continue
            for cell in cells:
                source = "".join(cell["source"])
                if source.lstrip().startswith("def " + name):
                    namespace = {{"np": np}}
                    exec(source, namespace)
                    return namespace[name]
    return None


def {name}(*args):
    other = _other_answer("{name}")
    if other is None:
        raise NotImplementedError()
    return other(*args)
'''


_ENDLESS_FILES = '''
import os

import grader.kernel_side as side


def _endless(path):
    for place in (path, os.path.join(os.environ.get("GRADER_PRIVATE", "/tmp/.grader"),
                                     "kernel-stderr.txt")):
        try:
            os.unlink(place)
        except OSError:
            pass
        os.symlink("/dev/zero", place)


side.record = lambda exercise_id, answer_name, path: _endless(path)
'''


# -- the second red team (issue 21) ---------------------------------------------------------------

# Steals the references: every /proc/*/fd/* entry it can open (bubblewrap's PID 1 held the
# runner's stdin and stdout) gets a forged settle for each exercise; whatever comes back that
# looks like a reference is exec'd, and the answers call what was stolen.
_STEALS_CHANNEL = '''
import glob
import json
import os

_stolen = {}
_ids = __IDS__
for _path in sorted(glob.glob("/proc/*/fd/*")):
    try:
        _fd = os.open(_path, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        try:
            _fd = os.open(_path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            continue
    try:
        for _id in _ids:
            os.write(_fd, (json.dumps({"event": "settle", "exercise": _id}) + "\\n").encode())
    except OSError:
        pass
    finally:
        os.close(_fd)
    try:
        _fd = os.open(_path, os.O_RDONLY | os.O_NONBLOCK)
        _data = os.read(_fd, 2**20)
        os.close(_fd)
    except OSError:
        continue
    for _line in _data.splitlines():
        try:
            _source = json.loads(_line).get("source")
            exec(_source, _stolen)
        except Exception:
            pass
'''

# Hangs the grader: stops its runner, then forges thousands of settles into PID 1's stdout
# without reading anything back (the grader once blocked in a write with no deadline).
_HANGS_GRADER = '''
import json
import os
import signal

os.kill(os.getppid(), signal.SIGSTOP)
try:
    _fd = os.open("/proc/1/fd/1", os.O_WRONLY | os.O_NONBLOCK)
    for _ in range(3000):
        os.write(_fd, (json.dumps({"event": "settle", "exercise": __FIRST__}) + "\\n").encode())
except OSError:
    pass
'''

# Floods: 20 forged step events of 10 MB each into PID 1's stdout and stderr, a 10 MB outcomes
# file for the runner to read back, and 20 MB of printed output.
_FLOODS = '''
import json
import os

_big = "x" * (10 * 2**20)
for _where in ("/proc/1/fd/1", "/proc/1/fd/2"):
    try:
        _fd = os.open(_where, os.O_WRONLY)
        for _i in range(20):
            os.write(_fd, (json.dumps({"event": "step", "i": _i, "status": "ok",
                                        "output": _big}) + "\\n").encode())
        os.close(_fd)
    except OSError as exc:
        print("flood blocked:", exc)
for _ in range(20):
    print(_big[: 2**20])
'''

# Answers that call the course library (or torchdiffeq) under their own names.
_LIBRARY_ANSWERS = {
    "euler_step": '''
from utils.solvers import rk_step as _step
from utils.tableaus import EULER


def euler_step(f, t, y, h):
    return _step(f, t, y, h, EULER)[0]
''',
    "euler_solve": '''
import utils.solvers as _s


def euler_solve(f, y0, t):
    return _s.odeint(f, y0, t, method="euler")
''',
    "rk4_step": '''
import functools

from utils import solvers, tableaus

_rk4 = functools.partial(solvers.rk_step, tableau=tableaus.RK4)


def rk4_step(f, t, y, h):
    return _rk4(f, t, y, h)[0]
''',
    "convergence_order": '''
import importlib


def convergence_order(step_sizes, errors):
    plots = importlib.import_module("utils.plots")
    return plots.loglog_slope(step_sizes, errors)
''',
}


def hostile(folder: Path, out: Path, canaries: Path, marker: str
            ) -> dict[str, nbformat.NotebookNode]:
    """{file name: notebook} of the hostile submissions.

    ``folder`` is where the submissions are written, ``out`` the grader's output folder,
    ``canaries`` a folder for canary files, ``marker`` a string in every child process started.
    """
    solved = trimmed(read_source(LESSON))
    ex = lesson_exercises()
    out_nbs = {}

    # Exercises 1-2 read expected values; exercises 3-4 reach the reference by built names.
    nb = copy.deepcopy(solved)
    for e in ex[:2]:
        _replace(nb, e, _READS_EXPECTED.format(name=e.answer_name))
    for e in ex[2:]:
        _replace(nb, e, _BUILT_NAME.format(name=e.answer_name, attr=e.answer_name))
    out_nbs["reaches_answers.ipynb"] = nb

    # The answers are wrong; the patches try to make them look right.
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code(_PATCHES_GRADER.format()))
    for e in ex[:2]:
        _wrap(nb, e, "return _right(*args, **kwargs) * 1.5 + 0.1")
    out_nbs["patches_grader.ipynb"] = nb

    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code(_POST_RUN_HOOK))
    for e in ex[:2]:
        _wrap(nb, e, "return _right(*args, **kwargs) * 1.5 + 0.1")
    out_nbs["post_run_hook.ipynb"] = nb

    targets = [str(folder), str(out), str(canaries), str(ROOT), str(ROOT / "utils"),
               str(Path.home()), "/tmp/..", os.path.dirname(str(folder))]
    # Writes outside its working folder, and starts children meant to outlive grading.
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code(_ESCAPE.format(targets=targets)))
    nb.cells.insert(2, _code(_DETACHED.format(canary=str(out / "CANARY-child.txt"),
                                              marker=marker)))
    out_nbs["escape.ipynb"] = nb

    nb = copy.deepcopy(solved)
    for e in ex[:2]:
        _replace(nb, e, _READS_OTHER.format(folder=str(folder), name=e.answer_name))
    out_nbs["reads_other.ipynb"] = nb

    # Exercise 1 answered after exercise 2's check, exercise 2 failed on purpose: exercise 2's
    # fallback reference calls exercise 1's, which it would bring along as a helper.
    nb = copy.deepcopy(solved)
    answer = nb.cells.pop(_find(nb, f"{ex[0].id}-answer"))
    check = nb.cells.pop(_find(nb, ex[0].id))
    _replace(nb, ex[1], f"def {ex[1].answer_name}(*args):\n    return None")
    answer.source = (f"def {ex[0].answer_name}(*args):\n"
                     f"    return {ex[1].answer_name}.__globals__[{ex[0].answer_name!r}](*args)")
    after = _find(nb, ex[1].id) + 1
    nb.cells[after:after] = [answer, check]
    out_nbs["fallback_helper.ipynb"] = nb

    # Turns the files the runner reads back into endless or blocking ones: the outcomes file a
    # link to /dev/zero, the kernel's stderr log too (a runner reading them whole never ends).
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code(_ENDLESS_FILES))
    out_nbs["endless_files.ipynb"] = nb

    # Kills the process that runs it (in the sandbox: the grader's runner, nothing else).
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code("import os\nimport signal\n\nos.kill(os.getppid(), signal.SIGKILL)"))
    out_nbs["kills_runner.ipynb"] = nb

    # Stops the process that runs it: the grader must not wait for the total time limit.
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code("import os\nimport signal\n\nos.kill(os.getppid(), signal.SIGSTOP)"))
    out_nbs["stops_runner.ipynb"] = nb
    out_nbs.update(second_red_team(solved, ex))
    return out_nbs


def second_red_team(solved, ex) -> dict[str, nbformat.NotebookNode]:
    """The attacks of issue 21 (they need no canary folder)."""
    out_nbs = {}
    # Forges settles into every descriptor it can open, execs what comes back, and answers
    # with it: the channel must be out of reach (0 points, 'interfered', a line in the log).
    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code(_STEALS_CHANNEL.replace("__IDS__", repr([e.id for e in ex]))))
    for e in ex:
        _replace(nb, e, f"def {e.answer_name}(*args):\n"
                        f"    return _stolen[{e.answer_name!r}](*args)\n")
    out_nbs["steals_channel.ipynb"] = nb

    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code(_HANGS_GRADER.replace("__FIRST__", repr(ex[0].id))))
    out_nbs["hangs_grader.ipynb"] = nb

    nb = copy.deepcopy(solved)
    nb.cells.insert(1, _code(_FLOODS))
    out_nbs["floods.ipynb"] = nb

    nb = copy.deepcopy(solved)
    for e in ex:
        _replace(nb, e, _LIBRARY_ANSWERS[e.answer_name])
    out_nbs["library_calls.ipynb"] = nb
    return out_nbs


def _deeply_nested() -> bytes:
    depth = 100_000
    return b'{"cells": ' + b"[" * depth + b"]" * depth + b', "nbformat": 4}'


def write(folder: Path, *, out: Path | None = None, canaries: Path | None = None,
          marker: str = "neural-ode-grader-test-child") -> None:
    """Write every test submission into ``folder`` (hostile ones only if ``out`` is given)."""
    folder.mkdir(parents=True, exist_ok=True)
    notebooks = broken()
    if out is not None:
        notebooks.update(hostile(folder, out, canaries or folder, marker))
    for name, nb in notebooks.items():
        nbformat.write(nb, folder / name)
    for name, stored in STORED.items():
        shutil.copy(HERE / stored, folder / name)
    # Names the old grader mapped to one feedback file: both must get their own. (Notebooks
    # of no lesson: they need no kernel, which keeps the test fast.)
    (folder / "alice").mkdir(exist_ok=True)
    shutil.copy(HERE / "no_lesson.ipynb", folder / "alice" / "hw1.ipynb")
    shutil.copy(HERE / "no_lesson.ipynb", folder / "alice__hw1.ipynb")
    # A name that is not UTF-8 (a correct notebook), bytes that are not UTF-8, deep JSON, a link.
    nbformat_bytes = (folder / "correct.ipynb").read_bytes()
    with open(os.path.join(os.fsencode(folder), NON_UTF8), "wb") as f:
        f.write(nbformat_bytes)
    (folder / "latin1.ipynb").write_bytes(b'{"cells": [], "note": "caf\xe9"}')
    (folder / "nested.ipynb").write_bytes(_deeply_nested())
    link = folder / "link.ipynb"
    if not link.is_symlink():
        link.symlink_to(HERE / "no_lesson.ipynb")


def expected_rows(*, hostile: bool = True, sandbox: str = "yes") -> list[dict]:
    """The rows of grades.csv for every test submission, in the grader's order."""
    ex = lesson_exercises()
    lesson = LESSON.stem
    unreadable = ("unreadable", None)
    # {submission: (notebook status, {exercise index: status}; unlisted exercises pass)}
    cases = {
        "alice/hw1.ipynb": ("unknown_lesson", None),
        "alice__hw1.ipynb": ("unknown_lesson", None),
        display_name(NON_UTF8): ("ok", {}),
        "correct.ipynb": ("ok", {}),
        "crash.ipynb": ("error", {2: "missing"}),
        "deleted.ipynb": ("cells_deleted", {0: "missing"}),
        "empty_answer.ipynb": ("ok", {0: "missing"}),
        "exit.ipynb": ("exited", {2: "not_run", 3: "not_run"}),
        "hang.ipynb": ("cell_timeout", {0: "timeout"}),
        "invalid.ipynb": unreadable,
        "latin1.ipynb": unreadable,
        "link.ipynb": unreadable,
        "megabytes.ipynb": ("output_capped", {}),
        "memory.ipynb": ("out_of_memory", {1: "out_of_memory"}),
        "nested.ipynb": unreadable,
        "no_lesson.ipynb": ("unknown_lesson", None),
        "not_a_notebook.ipynb": unreadable,
        "partly.ipynb": ("ok", {0: "wrong", 1: "nan"}),
        "reordered.ipynb": ("cells_reordered", {}),
        "stubborn.ipynb": ("cell_timeout; kernel_unresponsive",
                           {1: "timeout", 2: "not_run", 3: "not_run"}),
        "stubs.ipynb": ("ok", dict.fromkeys(range(len(ex)), "not_attempted")),
    }
    if hostile:
        cases.update({
            "endless_files.ipynb": ("ok", dict.fromkeys(range(len(ex)), "not_graded")),
            "escape.ipynb": ("ok", {}),
            "fallback_helper.ipynb": ("cells_reordered", {0: "error", 1: "wrong"}),
            "kills_runner.ipynb": ("interfered", dict.fromkeys(range(len(ex)), "not_run")),
            "stops_runner.ipynb": ("interfered", dict.fromkeys(range(len(ex)), "not_run")),
            # Issue 21: the channel out of reach, every run ends, floods capped, the library
            # withheld from the answers that would call it.
            "steals_channel.ipynb": ("interfered", dict.fromkeys(range(len(ex)), "not_run")),
            "hangs_grader.ipynb": ("interfered", dict.fromkeys(range(len(ex)), "not_run")),
            "floods.ipynb": ("interfered", dict.fromkeys(range(len(ex)), "not_run")),
            "library_calls.ipynb": ("ok", dict.fromkeys(range(len(ex)), "error")),
            # The patches forge every later exercise's outcomes: all score zero.
            "patches_grader.ipynb": ("ok", dict.fromkeys(range(len(ex)), "wrong")),
            "post_run_hook.ipynb": ("ok", {0: "wrong", 1: "wrong"}),
            "reaches_answers.ipynb": ("ok", {0: "wrong", 1: "wrong", 2: "error", 3: "error"}),
            "reads_other.ipynb": ("ok", {0: "not_attempted", 1: "not_attempted"}),
        })
    names = {name: file_stem(os.fsencode(name) if name != display_name(NON_UTF8) else NON_UTF8)
             for name in cases}
    rows = []
    for name in sorted(cases, key=lambda n: (n, names[n])):
        status, broken_ = cases[name]
        known = broken_ is not None
        common = {"sandbox": sandbox, "feedback": f"{names[name]}.txt"}
        rows.append({"submission": name, "lesson": lesson if known else "unknown",
                     "exercise": "(notebook)", "points": "0", "max_points": "0",
                     "status": status, **common})
        for i, e in enumerate(ex if known else []):
            got = broken_.get(i, "passed")
            rows.append({"submission": name, "lesson": lesson, "exercise": e.id,
                         "points": f"{e.points if got == 'passed' else 0:g}",
                         "max_points": f"{e.points:g}", "status": got, **common})
    return rows


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python tests/grading_fixtures/build.py OUT_DIR")
    write(Path(sys.argv[1]))
