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

**What runs** (:func:`select`, by the static analysis of :mod:`grader.deps`): the lesson's import
cell, every answer cell, every cell the learner added or edited, and the lesson cells those read
names from, directly or through other cells; where the analysis cannot be sure, the cell runs.
The other cells (training, figures, sliders) define nothing the answers use and are skipped.
``run_all`` runs every code cell, as the grader did before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from utils.course import answer_id

from . import deps
from .notebooks import Cell

__all__ = ["Selection", "Step", "plan", "select"]


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


@dataclass
class Selection:
    """Which code cells of a submission run (indices in the submission) and why the others do
    not: ``considered`` are the cells the grader could run (code cells, check cells and empty
    cells aside)."""

    considered: list[int] = field(default_factory=list)
    run: set[int] = field(default_factory=set)
    unsure: dict[int, str] = field(default_factory=dict)  # cell index -> why it must run
    run_all: bool = False

    @property
    def skipped(self) -> list[int]:
        return [i for i in self.considered if i not in self.run]

    def summary(self) -> str:
        ran, total = len([i for i in self.considered if i in self.run]), len(self.considered)
        if self.run_all:
            return f"ran all {total} code cells (--run-all)"
        if ran == total:
            return f"ran all {total} code cells"
        return (f"ran {ran} of {total} code cells; the others define nothing your answers "
                "use")


def _considered(cells: Sequence[Cell], lesson) -> list[Cell]:
    by_answer = {answer_id(ex.id) for ex in lesson.exercises}
    return [c for c in cells if c.cell_type == "code" and c.grade_id not in lesson.check_sources
            and (c.source.strip() or c.grade_id in by_answer)]


def select(cells: Sequence[Cell], lesson, *, run_all: bool = False) -> Selection:
    """The cells of a submission of ``lesson`` that run (see the module docstring)."""
    considered = _considered(cells, lesson)
    out = Selection(considered=[c.index for c in considered], run_all=run_all)
    if run_all:
        out.run = set(out.considered)
        return out
    by_answer = {answer_id(ex.id) for ex in lesson.exercises}
    lesson_sources: set[str] = getattr(lesson, "code_sources", set())
    import_source = getattr(lesson, "import_source", None)
    names = [deps.analyse(c.source) for c in considered]
    roots, answers = [], []
    for pos, cell in enumerate(considered):
        source = cell.source.strip()
        if cell.grade_id in by_answer:
            answers.append(pos)
            roots.append(pos)
        elif source not in lesson_sources or source == import_source:
            roots.append(pos)  # the import cell, and the learner's own cells
        if names[pos].unsure:
            out.unsure[cell.index] = names[pos].unsure
    # The check cells do not run; their settle binds the answer's name where the answer is.
    for ex in lesson.exercises:
        spots = [p for p, c in enumerate(considered) if c.grade_id == answer_id(ex.id)]
        if spots:
            names[spots[-1]].binds.add(ex.answer_name)
    needed = deps.needed_cells(names, roots, answers)
    out.run = {considered[p].index for p in needed}
    return out


def plan(cells: Sequence[Cell], lesson, *, selection: Selection | None = None) -> list[Step]:
    """The steps for a submission of ``lesson`` (a :class:`grader.lesson_index.Lesson`): the cells
    of ``selection`` (default: :func:`select`) with the grader's steps."""
    selection = select(cells, lesson) if selection is None else selection
    by_answer = {answer_id(ex.id): ex for ex in lesson.exercises}
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
            if answer_id(cell.grade_id) not in last_answer:
                ex = next(e for e in lesson.exercises if e.id == cell.grade_id)
                steps.append(Step("settle", cell=cell.index, exercise=ex.id,
                                  answer_name=ex.answer_name))
            continue
        if cell.index not in selection.run:
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
