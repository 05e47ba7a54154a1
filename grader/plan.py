"""The plan: which cells of a submission run, in which order, with the grader's steps.

A plan is plain data (a list of :class:`Step`), made outside the sandbox and sent in. The
submission's check cells never run. Around the last copy of each answer cell come the grader's
steps:

- ``forget``: unbind the answer's name, so a failing answer cell cannot leave an older value;
- the answer cell itself (kind ``cell``);
- ``record``: run the exercise's cases (inputs only) on what the cell defined; the outcomes
  leave the sandbox as plain data and are judged outside;
- ``settle``: what the check cell does for later cells: keep a passing answer, otherwise bind
  the course's reference, which the grader sends in only now, after this exercise's outcomes
  have left the sandbox (so it can never score this exercise).

A check cell whose answer cell is missing becomes a ``settle`` step, so that later cells run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from .notebooks import Cell

__all__ = ["Step", "plan"]


@dataclass(frozen=True)
class Step:
    """One cell the kernel runs: a submission cell (``source`` set) or a grader step."""

    kind: str  # "cell" | "forget" | "record" | "settle"
    source: str = ""
    cell: int = -1  # index of the submission's cell it belongs to (-1: none)
    exercise: str = ""
    answer_name: str = ""

    def to_json(self) -> dict:
        return asdict(self)


def plan(cells: Sequence[Cell], lesson) -> list[Step]:
    """The steps for a submission of ``lesson`` (a :class:`grader.grading.Lesson`)."""
    by_answer = {f"{ex.id}-answer": ex for ex in lesson.exercises}
    last_answer = {}
    for cell in cells:
        if cell.cell_type == "code" and cell.grade_id in by_answer:
            last_answer[cell.grade_id] = cell.index
    steps: list[Step] = []
    for cell in cells:
        if cell.cell_type != "code":
            continue
        if not cell.source.strip() and by_answer.get(cell.grade_id) is None:
            continue  # an empty answer cell is still graded (its function is missing)
        if cell.grade_id in lesson.check_sources:
            if f"{cell.grade_id}-answer" not in last_answer:
                ex = next(e for e in lesson.exercises if e.id == cell.grade_id)
                steps.append(Step("settle", cell=cell.index, exercise=ex.id,
                                  answer_name=ex.answer_name))
            continue
        exercise = by_answer.get(cell.grade_id)
        if exercise is None or last_answer[cell.grade_id] != cell.index:
            steps.append(Step("cell", cell.source, cell.index))
            continue
        common = {"cell": cell.index, "exercise": exercise.id,
                  "answer_name": exercise.answer_name}
        steps += [
            Step("forget", **common),
            Step("cell", cell.source, **common),
            Step("record", **common),
            Step("settle", **common),
        ]
    return steps
