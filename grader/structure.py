"""Structure checks: graded cells of a submission deleted, reordered, duplicated or edited."""

from __future__ import annotations

from collections.abc import Sequence

from .lesson_index import Lesson
from .notebooks import Cell

__all__ = ["structure_problems"]


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
