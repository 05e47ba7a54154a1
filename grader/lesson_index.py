"""The lesson index: what the grader knows of each lesson, and which lesson a notebook is.

Read from the lesson sources in ``lessons_src/`` (:mod:`grader.lessons`) and the exercise registry
(:func:`utils.exercises.registry`); a submission is matched to its lesson by its graded cells,
never by its file name.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .lessons import lesson_sources, read_source
from .notebooks import Cell

__all__ = ["Lesson", "identify_lesson", "load_lessons"]


@dataclass
class Lesson:
    """What the grader knows of one lesson, read from its source in ``lessons_src/``.

    Attributes:
        name: the source's stem, e.g. ``"01_ode_basics"``.
        grade_ids: nbgrader ``grade_id`` of every graded cell, in the lesson's order.
        exercises: the lesson's exercises (check cells whose grade_id is in the registry).
        check_sources: {exercise id: the check cell's source}.
        code_sources: every code cell's source (to recognise a notebook stripped of metadata;
            a cell of a submission whose source is not one of them was added or edited by the
            learner, and always runs).
        import_source: the lesson's first code cell (its imports), which always runs.
    """

    name: str
    grade_ids: list[str]
    exercises: list
    check_sources: dict[str, str]
    code_sources: set[str] = field(default_factory=set)
    import_source: str | None = None

    @property
    def max_points(self) -> float:
        return float(sum(ex.points for ex in self.exercises))


def load_lessons(sources: Sequence[Path] | None = None, *, folder: Path | None = None
                 ) -> list[Lesson]:
    """Read every lesson source (default: ``lessons_src/NN_*.py``) into a :class:`Lesson`.

    A lesson source that cannot be read is skipped with a warning on stderr, so one lesson being
    edited does not stop the grading of the others.
    """
    from utils.exercises import registry

    exercises = registry()
    paths = lesson_sources(sources, folder=folder)
    if not paths:
        where = folder or "lessons_src/"
        raise FileNotFoundError(f"no lesson sources in {where}: run the grader from a clone of "
                                "the course or pass --lessons")
    lessons = []
    for source in paths:
        try:
            nb = read_source(Path(source))
        except Exception as exc:  # a lesson mid-edit: grade the others
            print(f"warning: skipping lesson {Path(source).name}: {exc}", file=sys.stderr)
            continue
        lesson = Lesson(Path(source).stem, [], [], {})
        for cell in nb.cells:
            if cell.cell_type == "code":
                lesson.code_sources.add(cell.source.strip())
                if lesson.import_source is None and cell.source.strip():
                    lesson.import_source = cell.source.strip()
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if not grade_id:
                continue
            lesson.grade_ids.append(grade_id)
            if grade_id in exercises and cell.metadata["nbgrader"].get("grade"):
                lesson.exercises.append(exercises[grade_id])
                lesson.check_sources[grade_id] = cell.source
        lessons.append(lesson)
    return lessons


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

