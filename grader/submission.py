"""One submission's grading as the grader records it: CSV rows, statuses, notes and a log."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["Submission", "points_text", "sentence"]


@dataclass
class Submission:
    """The grading of one notebook: CSV rows, feedback text and a log."""

    name: str
    stem: str
    sandboxed: bool = True
    lesson: str = ""
    rows: list[dict] = field(default_factory=list)
    notebook_status: list[str] = field(default_factory=list)
    notes: dict[str, list[str]] = field(default_factory=dict)
    log: list[str] = field(default_factory=list)
    seconds: float = 0.0
    interfered: bool = False
    ran: str = ""  # what ran, for the learner: "ran 14 of 48 code cells; ..."
    own_cells: set[int] = field(default_factory=set)  # cells the learner added or edited

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



def points_text(x: float) -> str:
    """Points as grades.csv and the feedback write them: ``2``, ``0.5``."""
    return f"{float(x):g}"


def sentence(text: str) -> str:
    """``text`` with its first letter upper case."""
    return text[:1].upper() + text[1:]
