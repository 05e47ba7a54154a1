"""The graded release: what to hand to learners when the exercises count for a grade.

``neural-ode-grade release OUT`` (``make release``) writes a copy of the course for learners:
the learner notebooks (stubs, outputs stored), the ``utils`` package and what installs it
(``pyproject.toml``, ``constraints.txt``, ``environment.yml``, ``Makefile``, ``README.md``).
Left out: the lesson sources (they hold the solutions), the tests, the tools, the grader, the
benchmarks and the instructors' guide. In it, ``ex.<name>.solution()`` is withheld (``utils``
sets ``NEURAL_ODE_COURSE_GRADED`` when imported, which :mod:`utils.exercises.core` reads);
hints stay.

By default the reference solutions stay installed, because a check cell falls back to the
reference when an answer fails, so that the cells after it still run: a learner who opens
``utils/exercises/solutions/`` can still read them. ``--without-references`` leaves them out
too; its check cells then judge the visible cases against the references' outcomes stored when
the copy is built (``utils/exercises/expected_outcomes.json``,
:mod:`utils.exercises.stored_expected`), leave the hidden cases to the grader, and a failed
check keeps the learner's own function (later cells that use it may fail).
docs/instructors.md compares the two.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from utils import course

from .lessons import course_root

__all__ = ["RELEASE_FILES", "make_release"]

RELEASE_FILES = ("README.md", "Makefile", "pyproject.toml", "constraints.txt", "environment.yml",
                 "jupytext.toml")
_ENV = course.WITHHOLD_ENV
_MARK = f'''

# --- added by `make release` (the graded release) ---------------------------------------------
# In this copy of the course, ex.<name>.solution() is withheld (utils.exercises.core reads this).
import os as _os

_os.environ.setdefault("{_ENV}", "1")
del _os
'''


def _ignore(folder, names):
    return [n for n in names if n in ("__pycache__", ".ipynb_checkpoints") or n.endswith(".pyc")]


def make_release(out: Path, *, without_references: bool = False,
                 root: Path | None = None) -> Path:
    """Write the graded release into ``out`` (which must not exist); returns ``out``."""
    root = course_root() if root is None else Path(root)
    out = Path(out)
    if out.exists():
        raise ValueError(f"{out} already exists: choose a new folder")
    notebooks = course.lesson_notebooks(root / "notebooks")
    if not notebooks:
        raise ValueError(f"no learner notebooks in {root / 'notebooks'}: run `make notebooks`")
    for nb in notebooks:
        if "### BEGIN SOLUTION" in nb.read_text(encoding="utf-8"):
            raise ValueError(f"{nb.name} holds a solution: rebuild it with `make notebooks`")
    out.mkdir(parents=True)
    for name in RELEASE_FILES:
        if (root / name).is_file():
            shutil.copy2(root / name, out / name)
    (out / "notebooks").mkdir()
    for nb in notebooks:
        shutil.copy2(nb, out / "notebooks" / nb.name)
    if (root / "notebooks" / "matplotlibrc").is_file():  # figures' dpi, read from the kernel's cwd
        shutil.copy2(root / "notebooks" / "matplotlibrc", out / "notebooks" / "matplotlibrc")
    shutil.copytree(root / "utils", out / "utils", ignore=_ignore)
    init = out / "utils" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + _MARK, encoding="utf-8")
    if without_references:
        shutil.rmtree(out / "utils" / "exercises" / "solutions")
        _store_expected(root, out / "utils" / "exercises")
    (out / "RELEASE.txt").write_text(
        "Graded release of the Neural ODE course: `make lab` opens the lessons.\n"
        "Solutions are withheld (ex.<name>.solution()); hints stay (ex.<name>.hint()).\n"
        + ("The reference solutions are not included: check cells judge the visible cases\n"
           "against outcomes stored when this copy was built, the hidden cases run when your\n"
           "work is graded, and a failed check keeps your own function.\n"
           if without_references else ""),
        encoding="utf-8")
    return out


def _store_expected(root: Path, exercises_dir: Path) -> None:
    """Store the references' outcomes on the visible cases (utils.exercises.stored_expected),
    computed by the course package of ``root`` in a child process (the references must be
    installed there; this process may have another ``utils`` imported, or none)."""
    target = exercises_dir / "expected_outcomes.json"
    code = ("import sys\n"
            "from utils.exercises import registry, stored_expected\n"
            "stored_expected.write(registry().values(), sys.argv[1])\n")
    env = dict(os.environ, PYTHONPATH=str(root), PYTHONHASHSEED="0")
    env.pop(_ENV, None)
    done = subprocess.run([sys.executable, "-c", code, str(target)], cwd=root, env=env,
                          capture_output=True, text=True)
    if done.returncode != 0 or not target.is_file():
        raise RuntimeError("storing the expected outcomes of the visible cases failed:\n"
                           + done.stderr[-2000:])
