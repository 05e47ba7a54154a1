"""What the grader writes: grades.csv, one feedback file and one log per submission; merging.

``grades.csv`` is rewritten after every submission, to a temporary file then renamed over the
old one, so at any moment it is complete and holds every submission graded so far (an
interrupted run keeps them). Rows are in the order of the submissions' names, so a run split in
shards (``--shard K/N``) and merged (:func:`merge`) gives the same file as one run.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import tempfile
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path

from .notebooks import printable

__all__ = ["CSV_COLUMNS", "EXERCISE_STATUS", "NOTEBOOK_ROW", "NOTEBOOK_STATUS", "Report",
           "feedback_text", "merge", "write_atomic"]

CSV_COLUMNS = ("submission", "lesson", "exercise", "points", "max_points", "status", "sandbox",
               "feedback")
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
    "not_graded": "not graded: the grader received no usable results for this exercise",
}
NOTEBOOK_STATUS = {
    "ok": "ran from top to bottom without errors",
    "error": "a cell raised an error (the other cells still ran)",
    "cell_timeout": "a cell, or the cases of an exercise, ran longer than the time limit and "
                    "was stopped",
    "total_timeout": "the notebook ran longer than the total time limit and was stopped",
    "out_of_memory": "a cell ran out of memory",
    "exited": "the notebook called sys.exit() / os._exit() or quit the Python process",
    "kernel_died": "the Python process running the notebook died",
    "kernel_unresponsive": "the kernel ignored the interrupt after a time limit and was stopped",
    "kernel_failed": "the kernel could not be started",
    "output_capped": "the notebook printed more than the output limit; the rest was dropped",
    "unreadable": "the file could not be read as a Jupyter notebook",
    "unknown_lesson": "no lesson of the course matches this notebook",
    "cells_deleted": "graded cells of the lesson are missing",
    "cells_reordered": "graded cells are not in the lesson's order",
    "cells_duplicated": "a graded cell appears more than once (the last copy was graded)",
    "check_cell_edited": "a check cell was edited (the grader ignores check cells anyway)",
    "interfered": "the notebook tampered with the grader inside its sandbox (stopped or killed "
                  "its runner, or broke its channel): nothing of it scores",
    "runner_unresponsive": "the grader's runner inside the sandbox stopped answering and was "
                           "stopped; what it had not reported was not graded",
    "process_limit": "the notebook started more processes or threads than its sandbox allows",
    "grader_error": "the grader itself failed on this notebook (please report it)",
    "skipped": "not graded: a file the grader skips by rule",
}


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text, never runs: control characters and bidirectional
    overrides escaped, and a leading ``'`` before ``= + - @`` (a formula), tab or CR."""
    value = str(value)
    text = printable(value)
    return "'" + text if value.startswith(_FORMULA_START) else text


def _csv_text(rows: Iterable[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items() if k in CSV_COLUMNS}
                     for row in rows)
    return buffer.getvalue()


def _num(x: float) -> str:
    return f"{float(x):g}"


def _sentence(text: str) -> str:
    text = text[:1].upper() + text[1:]
    return text + ("" if text.endswith(".") else ".")


def csv_rows(sub) -> list[dict]:
    """The rows of one graded submission: its ``(notebook)`` row, then one per exercise."""
    sandbox = "yes" if sub.sandboxed else "NO (--no-sandbox)"
    feedback = f"{sub.stem}.txt"
    status = "; ".join(sorted(sub.notebook_status)) or "ok"
    head = {"submission": sub.name, "lesson": sub.lesson or "unknown", "exercise": NOTEBOOK_ROW,
            "points": "0", "max_points": "0", "status": status}
    return [{**row, "sandbox": sandbox, "feedback": feedback} for row in [head] + sub.rows]


def feedback_text(sub) -> str:
    """The feedback file of one submission, in plain words (control characters escaped)."""
    lines = [f"Feedback on {sub.name}"]
    if sub.lesson:
        lines.append(f"Lesson: {sub.lesson}")
    lines.append(f"Score: {_num(sub.points)} of {_num(sub.max_points)} points.")
    if not sub.sandboxed:
        lines.append("Graded WITHOUT the sandbox (--no-sandbox): the notebook's code ran with "
                     "the grader's rights and could reach the course's reference solutions.")
    lines.append("")
    for row in sub.rows:
        lines.append(f"{row['title']} ({row['exercise']}): {row['points']} of "
                     f"{row['max_points']} points.")
        lines.append(f"  {_sentence(EXERCISE_STATUS.get(row['status'], row['status']))}")
        if row["message"] and (row["status"] != "passed"
                               or row["message"].startswith("your answer cell")):
            lines.append(f"  {_sentence(row['message'])}")
        lines.append("")
    lines.append("About the notebook as a whole:")
    for status in sub.notebook_status or ["ok"]:
        lines.append(f"  - {_sentence(NOTEBOOK_STATUS.get(status, status))}")
        lines += [f"    {note}" for note in sub.notes.get(status, [])]
    lines.append("")
    where = "in a sandbox" if sub.sandboxed else "WITHOUT a sandbox"
    if sub.notebook_status != ["skipped"]:
        lines.append(f"The grader ran your notebook {where}, in a fresh kernel, skipped its "
                     "check cells, and checked each answer with the course's cases, including "
                     "hidden ones.")
        if getattr(sub, "ran", ""):
            lines.append(f"It {sub.ran}.")
    return printable("\n".join(lines) + "\n", keep="\n")


def log_text(sub, limit: int) -> str:
    """The instructor's log of one submission: control characters escaped, at most ``limit``
    bytes (its beginning and its end, with what was cut said in between)."""
    text = printable("\n".join(sub.log) + "\n", keep="\n\t")
    data = text.encode("utf-8", "backslashreplace")
    if len(data) <= limit:
        return text
    half = max(1, limit // 2 - 200)
    cut = len(data) - 2 * half
    return (data[:half].decode("utf-8", "ignore")
            + f"\n[... {cut} bytes of this log cut: each log is capped at {limit // 1024} kB ...]\n"
            + data[-half:].decode("utf-8", "ignore"))


class Report:
    """The output folder of one run: ``grades.csv``, ``feedback/``, ``logs/``.

    With ``resume``, the rows of an earlier ``grades.csv`` in ``out`` are kept (for the
    submissions still in ``order``) and :attr:`done` says which need no grading again.
    """

    def __init__(self, out: Path, order: Sequence[str], *, resume: bool = False,
                 log_bytes: int = 2 * 2**20):
        self.out = Path(out)
        (self.out / "feedback").mkdir(parents=True, exist_ok=True)
        (self.out / "logs").mkdir(parents=True, exist_ok=True)
        self.order = list(order)  # the submissions' file stems, in the order of the CSV
        self.log_bytes = log_bytes
        self.done: dict[str, list[dict]] = {}
        self._lock = threading.Lock()
        if resume and (self.out / "grades.csv").is_file():
            wanted = set(self.order)
            for row in _read_csv(self.out / "grades.csv"):
                stem = row["feedback"].removesuffix(".txt")
                if stem in wanted:
                    self.done.setdefault(stem, []).append(row)
        self._write_csv()

    def _write_csv(self) -> None:
        rows = [row for stem in self.order if stem in self.done for row in self.done[stem]]
        write_atomic(self.out / "grades.csv", _raw_csv_text(rows))

    def add(self, sub) -> None:
        write_atomic(self.out / "feedback" / f"{sub.stem}.txt", feedback_text(sub))
        write_atomic(self.out / "logs" / f"{sub.stem}.log", log_text(sub, self.log_bytes))
        with self._lock:
            self.done[sub.stem] = [{k: csv_cell(v) for k, v in row.items() if k in CSV_COLUMNS}
                                   for row in csv_rows(sub)]
            self._write_csv()


def _raw_csv_text(rows: Iterable[dict]) -> str:
    """Rows already made safe (:func:`csv_cell`), or read back from a grades.csv."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _read_csv(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        if tuple(reader.fieldnames or ()) != CSV_COLUMNS:
            raise ValueError(f"{path} is not a grades.csv of this grader (columns "
                             f"{reader.fieldnames})")
        return list(reader)


def merge(out: Path, parts: Sequence[Path]) -> int:
    """Merge the output folders of shards into ``out``; returns the number of submissions.

    The merged grades.csv is the one a single run would have written: rows grouped by
    submission, in the order of (name, feedback file), feedback and logs copied.
    """
    out = Path(out)
    groups: dict[str, list[dict]] = {}
    sources: dict[str, Path] = {}
    for part in map(Path, parts):
        if not (part / "grades.csv").is_file():
            raise ValueError(f"{part} holds no grades.csv")
        for row in _read_csv(part / "grades.csv"):
            key = row["feedback"]
            if key in groups and sources[key] != part:
                raise ValueError(f"{row['submission']} was graded in both {sources[key]} and "
                                 f"{part}: were the shards of one split (--shard K/N, same N)?")
            groups.setdefault(key, []).append(row)
            sources[key] = part
    modes = {row["sandbox"] for rows in groups.values() for row in rows}
    if len(modes) > 1:
        print(f"warning: the shards were graded in different modes: {sorted(modes)}")
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    for key, part in sources.items():
        stem = key.removesuffix(".txt")
        for folder, name in (("feedback", f"{stem}.txt"), ("logs", f"{stem}.log")):
            if (part / folder / name).is_file() and part.resolve() != out.resolve():
                shutil.copyfile(part / folder / name, out / folder / name)
    ordered = sorted(groups, key=lambda k: (groups[k][0]["submission"], k.removesuffix(".txt")))
    write_atomic(out / "grades.csv", _raw_csv_text(row for key in ordered
                                                   for row in groups[key]))
    return len(ordered)
