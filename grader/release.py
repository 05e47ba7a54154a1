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
too; then a failed check keeps the learner's own function and later cells that use it may fail.
docs/instructors.md compares the two.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .lessons import course_root

__all__ = ["RELEASE_FILES", "make_release"]

RELEASE_FILES = ("README.md", "Makefile", "pyproject.toml", "constraints.txt", "environment.yml",
                 "jupytext.toml")
_ENV = "NEURAL_ODE_COURSE_GRADED"
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
    notebooks = sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))
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
    shutil.copytree(root / "utils", out / "utils", ignore=_ignore)
    init = out / "utils" / "__init__.py"
    init.write_text(init.read_text(encoding="utf-8") + _MARK, encoding="utf-8")
    if without_references:
        shutil.rmtree(out / "utils" / "exercises" / "solutions")
    (out / "RELEASE.txt").write_text(
        "Graded release of the Neural ODE course: `make lab` opens the lessons.\n"
        "Solutions are withheld (ex.<name>.solution()); hints stay (ex.<name>.hint()).\n"
        + ("The reference solutions are not included: a failed check keeps your own function.\n"
           if without_references else ""),
        encoding="utf-8")
    return out
