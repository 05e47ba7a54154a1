"""The course's conventions, defined once: the kernel, the lesson files, exercise ids, the release.

Everything that needs one of these names imports it from here: the build
(``tools/build_notebooks.py`` through :mod:`grader.lessons`), the grader, the learners'
self-check (``scripts/check_my_work.py``), the benchmarks (``bench/run.py``), the graded release
(:mod:`grader.release`) and the exercises (:mod:`utils.exercises.core`).
``tests/test_conventions.py`` fails, naming file and line, when a second definition appears.
The Makefile cannot import Python: that test checks its ``KERNEL :=`` against :data:`KERNEL`.

- **The kernel** the lessons run on: :data:`KERNEL` (``make install`` registers it).
- **The lessons**: ``lessons_src/NN_topic.py`` (the sources, with solutions) and
  ``notebooks/NN_topic.ipynb`` (built from them); :func:`lesson_sources` and
  :func:`lesson_notebooks` find them, in lesson order.
- **Exercise ids**: an exercise's id is ``exNN_name`` (NN its lesson), the nbgrader
  ``grade_id`` of its check cell; its answer cell's ``grade_id`` is ``exNN_name-answer``
  (:func:`answer_id`, :func:`exercise_of_answer`, :func:`lesson_of_grade_id`).
- **The graded release** sets :data:`WITHHOLD_ENV`: ``ex.<name>.solution()`` is withheld.
- **The verdicts' names** for learners (:data:`VERDICT_LABELS`): passed, not attempted, not yet
  right.
- **The registry of exercises** and their metadata (title, points, cases, reference) is
  :func:`utils.exercises.registry`; :func:`exercises` returns it (imported only when called).

Importing this module imports nothing but the standard library's ``re`` and ``pathlib`` (no
torch, no numpy): the grader and the self-check read it before any lesson runs.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "ANSWER_SUFFIX", "EXERCISE_ID", "KERNEL", "KERNELSPEC", "LESSON_NOTEBOOK_GLOB",
    "LESSON_SOURCE_GLOB", "NAME", "ROOT", "VERDICT_LABELS", "WITHHOLD_ENV", "answer_id",
    "exercise_of_answer", "exercises", "lesson_notebooks", "lesson_of_grade_id", "lesson_sources",
]

#: The course's short name: its Python distribution, its nbgrader course id, its kernel.
NAME = "neural-ode-course"
#: The Jupyter kernel the lessons run on (``make install`` registers it under this name).
KERNEL = NAME
KERNELSPEC = {"name": KERNEL, "display_name": "Neural ODE course (Python 3)",
              "language": "python"}

#: The course's folder: the one holding ``utils/`` (a clone, or an editable install of one).
ROOT = Path(__file__).resolve().parent.parent
#: A lesson source, ``lessons_src/NN_topic.py``, and the learner notebook built from it.
LESSON_SOURCE_GLOB = "[0-9][0-9]_*.py"
LESSON_NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"

#: An exercise id, ``exNN_name``: the nbgrader ``grade_id`` of its check cell; group 1 is NN.
EXERCISE_ID = re.compile(r"ex(\d\d)_\w+")
#: What an answer cell's ``grade_id`` adds to its exercise's id.
ANSWER_SUFFIX = "-answer"

#: Set (to anything) in the graded release: ``ex.<name>.solution()`` is withheld.
WITHHOLD_ENV = "NEURAL_ODE_COURSE_GRADED"

#: How the self-check and ``make check-my-work`` name each verdict, by the judge's status value
#: (:class:`utils.exercises.Status`).
VERDICT_LABELS = {"passed": "passed", "not attempted": "not attempted", "wrong": "not yet right"}


def lesson_sources(folder: Path | None = None) -> list[Path]:
    """Every lesson source ``NN_*.py`` in ``folder`` (default ``lessons_src/``), in lesson order."""
    folder = ROOT / "lessons_src" if folder is None else Path(folder)
    return sorted(folder.glob(LESSON_SOURCE_GLOB))


def lesson_notebooks(folder: Path | None = None) -> list[Path]:
    """Every lesson notebook ``NN_*.ipynb`` in ``folder`` (default ``notebooks/``), in order."""
    folder = ROOT / "notebooks" if folder is None else Path(folder)
    return sorted(folder.glob(LESSON_NOTEBOOK_GLOB))


def answer_id(exercise_id: str) -> str:
    """The ``grade_id`` of an exercise's answer cell: ``"ex01_euler_step-answer"``."""
    return exercise_id + ANSWER_SUFFIX


def exercise_of_answer(grade_id: str) -> str | None:
    """The exercise id of an answer cell's ``grade_id``, None for any other ``grade_id``."""
    if not grade_id.endswith(ANSWER_SUFFIX):
        return None
    return grade_id.removesuffix(ANSWER_SUFFIX)


def lesson_of_grade_id(grade_id: str) -> str | None:
    """The lesson (``"01"``) of an exercise's check or answer cell ``grade_id``, else None."""
    match = EXERCISE_ID.fullmatch(exercise_of_answer(grade_id) or grade_id)
    return match[1] if match else None


def exercises() -> dict:
    """The registry of exercises by id (:func:`utils.exercises.registry`; imports torch)."""
    from utils.exercises import registry

    return registry()
