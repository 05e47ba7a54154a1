"""A gradebook and feedback to hand back, from the grader's output folder.

    neural-ode-grade report OUT [--roster roster.csv] [--submissions DIR]   (make grade runs it)

Reads ``OUT/grades.csv`` and ``OUT/feedback/`` (what a run of the grader wrote, or a merge of
shards) and writes next to them:

- ``gradebook.csv``: one row per student, one column per lesson (the points of the submission
  that counts, or ``missing``) plus ``total`` and ``max_total``;
- ``gradebook_lms.csv``: the same points in the layout of a Canvas gradebook import (``Student,
  ID, SIS User ID, SIS Login ID, Section``, one column per lesson, a ``Points Possible`` row);
  Moodle's "Import grades from CSV" takes the same file (map ``SIS Login ID`` or ``ID`` to the
  user's username or ID number, each lesson column to a grade item);
- ``resubmissions.csv``: for every student and lesson with several submissions, which one counts
  and which it replaced (latest wins, below);
- ``feedback_by_student/<student>/``: the student's feedback files and a ``summary.txt``, and
  ``feedback_by_student.zip`` holding them all, for bulk return.

**Who is who.** With ``--roster``, a CSV with a ``pattern`` column (a shell pattern matched
against the submission's path in the folder, e.g. ``alice/*`` or ``*_s1234567_*``) and a
``student_id`` column; optional ``name``, ``sis_id``, ``login`` and ``section`` columns go into
the LMS file. The first matching row wins; every roster student gets a gradebook row, even with
no submission (all ``missing``). A submission no pattern matches goes to a row
``(unmatched) <path>`` of gradebook.csv so that it is never lost (not into the LMS file, whose
rows must be the LMS's users; the command says how many there are). Without a roster, a
submission in a sub-folder belongs to the folder's name (``alice/lesson-2.ipynb`` ->
``alice``), one at the top level to its file name without ``.ipynb``.

**Latest wins.** When a student has several submissions of one lesson, the one with the newest
modification time in the submissions folder counts (``--submissions``; without it, or on equal
times, the one whose path sorts last). A resubmission is a new file: put it into the folder
and grade with ``--resume``, which grades only the files ``grades.csv`` does not hold yet; this
report then counts the newer file and lists the replaced one in ``resubmissions.csv``.
"""

from __future__ import annotations

import csv
import fnmatch
import io
import os
import re
import shutil
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from .report import NOTEBOOK_ROW, csv_cell, write_atomic

__all__ = ["Gradebook", "Submission", "build_gradebook", "read_grades", "read_roster",
           "write_gradebook"]

MISSING = "missing"
UNMATCHED = "(unmatched) "


@dataclass
class Submission:
    """One graded file: its lesson, points and the rows of grades.csv it came from."""

    name: str
    lesson: str
    feedback: str
    status: str = ""
    points: float = 0.0
    max_points: float = 0.0
    exercises: list[dict] = field(default_factory=list)
    mtime: float = 0.0


@dataclass
class Gradebook:
    lessons: list[str]
    max_points: dict[str, float]
    students: dict[str, dict]  # id -> roster fields (name, sis_id, login, section)
    counted: dict[tuple[str, str], Submission]  # (student, lesson) -> the submission that counts
    replaced: list[tuple[str, str, Submission, list[Submission]]]
    owner: dict[str, str]  # submission name -> student id
    subs: list[Submission] = field(default_factory=list)  # every row group of grades.csv


def _unescape_csv_cell(value: str) -> str:
    return value[1:] if value.startswith("'") and value[1:2] in "=+-@\t\r" else value


def read_grades(out: Path) -> list[Submission]:
    """The submissions of ``out/grades.csv``, in its order."""
    subs: dict[str, Submission] = {}
    with open(Path(out) / "grades.csv", newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            key = row["feedback"]
            sub = subs.get(key)
            if sub is None:
                sub = subs[key] = Submission(name=_unescape_csv_cell(row["submission"]),
                                             lesson=row["lesson"], feedback=key)
            if row["exercise"] == NOTEBOOK_ROW:
                sub.status = row["status"]
                continue
            sub.exercises.append(row)
            sub.points += float(row["points"] or 0)
            sub.max_points += float(row["max_points"] or 0)
    return list(subs.values())


def read_roster(path: Path) -> list[dict]:
    """Rows of a roster CSV (``pattern``, ``student_id`` and optional LMS columns)."""
    with open(path, newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        missing = {"pattern", "student_id"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: a roster needs the columns pattern and student_id "
                             f"(missing: {', '.join(sorted(missing))})")
        rows = [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]
    for i, row in enumerate(rows, start=2):
        if not row["pattern"] or not row["student_id"]:
            raise ValueError(f"{path}, line {i}: empty pattern or student_id")
    return rows


def _student_of(name: str, roster: list[dict] | None) -> str:
    if roster is not None:
        for row in roster:
            if fnmatch.fnmatchcase(name, row["pattern"]):
                return row["student_id"]
        return UNMATCHED + name
    head, sep, _ = name.partition("/")
    if sep:
        return head
    return name[:-6] if name.endswith(".ipynb") else name


def _lesson_key(lesson: str) -> tuple:
    match = re.match(r"(\d+)", lesson)
    return (int(match.group(1)) if match else 10**6, lesson)


def build_gradebook(subs: list[Submission], *, roster: list[dict] | None = None,
                    submissions_dir: Path | None = None,
                    lessons: list[str] | None = None) -> Gradebook:
    """Who submitted what, which submission counts (latest wins), each lesson's maximum."""
    graded = [s for s in subs if s.lesson != "unknown" and s.status != "skipped"]
    for sub in graded:
        if submissions_dir is not None:
            try:
                sub.mtime = os.stat(Path(submissions_dir) / sub.name).st_mtime
            except (OSError, ValueError):  # a name shown escaped, or a file since removed
                sub.mtime = 0.0
    found = sorted({s.lesson for s in graded} | set(lessons or ()), key=_lesson_key)
    max_points = {}
    for lesson in found:
        maxima = [s.max_points for s in graded if s.lesson == lesson and s.max_points]
        max_points[lesson] = max(maxima) if maxima else 0.0
    students: dict[str, dict] = {}
    for row in roster or ():
        students.setdefault(row["student_id"], row)
    owner = {s.name: _student_of(s.name, roster) for s in subs}
    by_key: dict[tuple[str, str], list[Submission]] = {}
    for sub in graded:
        student = owner[sub.name]
        students.setdefault(student, {"student_id": student})
        by_key.setdefault((student, sub.lesson), []).append(sub)
    for sub in subs:  # unreadable or unknown files still name their student
        students.setdefault(owner[sub.name], {"student_id": owner[sub.name]})
    counted, replaced = {}, []
    for key, group in by_key.items():
        group.sort(key=lambda s: (s.mtime, s.name))
        counted[key] = group[-1]
        if len(group) > 1:
            replaced.append((key[0], key[1], group[-1], group[:-1]))
    replaced.sort(key=lambda r: (r[0], _lesson_key(r[1])))
    return Gradebook(lessons=found, max_points=max_points, students=students, counted=counted,
                     replaced=replaced, owner=owner, subs=list(subs))


def _num(x: float) -> str:
    return f"{x:g}"


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows([[csv_cell(c) for c in row] for row in rows])
    return buffer.getvalue()


def _student_order(book: Gradebook) -> list[str]:
    return sorted(book.students, key=lambda s: (s.startswith(UNMATCHED), s))


def gradebook_rows(book: Gradebook) -> list[list]:
    rows = [["student_id", *book.lessons, "total", "max_total"]]
    max_total = sum(book.max_points.values())
    for student in _student_order(book):
        cells, total = [], 0.0
        for lesson in book.lessons:
            sub = book.counted.get((student, lesson))
            if sub is None:
                cells.append(MISSING)
            else:
                cells.append(_num(sub.points))
                total += sub.points
        rows.append([student, *cells, _num(total), _num(max_total)])
    return rows


def lms_rows(book: Gradebook) -> list[list]:
    """Canvas's gradebook import layout (Moodle's CSV import maps the same columns)."""
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
              *[f"Lesson {lesson}" for lesson in book.lessons]]
    rows = [header, ["Points Possible", "", "", "", "",
                     *[_num(book.max_points[lesson]) for lesson in book.lessons]]]
    for student in _student_order(book):
        if student.startswith(UNMATCHED):  # not a user of the LMS: gradebook.csv has it
            continue
        info = book.students[student]
        cells = []
        for lesson in book.lessons:
            sub = book.counted.get((student, lesson))
            cells.append("" if sub is None else _num(sub.points))  # blank: no grade entered
        rows.append([info.get("name") or student, student, info.get("sis_id", ""),
                     info.get("login", ""), info.get("section", ""), *cells])
    return rows


def _safe_folder(student: str) -> str:
    return re.sub(r"[^A-Za-z0-9._@-]+", "_", student).strip("._")[:80] or "student"


def write_gradebook(out: Path, book: Gradebook) -> dict[str, Path]:
    """Write the gradebook files into ``out``; returns {what: path}."""
    out = Path(out)
    written = {"gradebook": out / "gradebook.csv", "lms": out / "gradebook_lms.csv",
               "resubmissions": out / "resubmissions.csv",
               "feedback_zip": out / "feedback_by_student.zip"}
    write_atomic(written["gradebook"], _csv(gradebook_rows(book)))
    write_atomic(written["lms"], _csv(lms_rows(book)))
    resub = [["student_id", "lesson", "counted", "replaced"]]
    for student, lesson, kept, older in book.replaced:
        resub += [[student, lesson, kept.name, old.name] for old in older]
    write_atomic(written["resubmissions"], _csv(resub))

    folder = out / "feedback_by_student"
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir()
    header, *rows = gradebook_rows(book)
    by_student = {row[0]: row for row in rows}
    used: dict[str, str] = {}
    for student in _student_order(book):
        name = _safe_folder(student)
        while name in used:  # two ids that make the same folder name
            name += "_"
        used[name] = student
        mine = folder / name
        mine.mkdir()
        lines = [f"Student: {student}", ""]
        for lesson, cell in zip(header[1:-2], by_student[student][1:-2], strict=True):
            sub = book.counted.get((student, lesson))
            if sub is None:
                lines.append(f"{lesson}: missing (no submission)")
            else:
                lines.append(f"{lesson}: {cell} of {_num(book.max_points[lesson])} points "
                             f"({sub.name})")
        lines += ["", f"Total: {by_student[student][-2]} of {by_student[student][-1]} points."]
        replaced = [r for r in book.replaced if r[0] == student]
        for _, lesson, kept, older in replaced:
            lines.append(f"{lesson}: {kept.name} counts (latest); it replaced "
                         + ", ".join(o.name for o in older) + ".")
        (mine / "summary.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
        for sub in book.subs:
            src = out / "feedback" / sub.feedback
            if book.owner[sub.name] == student and src.is_file():
                shutil.copyfile(src, mine / sub.feedback)
    tmp = written["feedback_zip"].with_suffix(".zip.tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    os.replace(tmp, written["feedback_zip"])
    written["feedback_folder"] = folder
    return written

