"""The gradebook, the LMS file, the feedback zip and report.html, from a grader's output folder.

The output folder is written here by hand in the grader's format (grades.csv, feedback/,
logs/), so these tests take a second; tests/test_nbgrader_exchange.py runs the same report on
the grader's real output.
"""

from __future__ import annotations

import csv
import os
import re
import zipfile
from pathlib import Path

import pytest

from grader.cli import main
from grader.report import CSV_COLUMNS

L1, L2 = "01_ode_basics", "02_continuous_vs_discrete"
EX1 = [("ex01_euler_step", 2), ("ex01_rk4_step", 3)]
EX2 = [("ex02_resnet", 4)]


def _submission(out: Path, subs: Path, name: str, lesson: str, statuses: list[str], *,
                notebook: str = "ok", mtime: float = 1e9, seconds=(2.0, 1.5, 3.25),
                message: str = "case 'hidden 3' gave 1.25, expected 2.5") -> list[dict]:
    stem = re.sub(r"[^A-Za-z0-9]+", "_", name)
    exercises = EX1 if lesson == L1 else EX2
    rows = [{"submission": name, "lesson": lesson, "exercise": "(notebook)", "points": "0",
             "max_points": "0", "status": notebook, "sandbox": "yes", "feedback": f"{stem}.txt"}]
    lines = [f"Feedback on {name}", f"Lesson: {lesson}", ""]
    for (ex, points), status in zip(exercises, statuses, strict=True):
        got = points if status == "passed" else 0
        rows.append({**rows[0], "exercise": ex, "points": str(got), "max_points": str(points),
                     "status": status})
        lines += [f"Exercise {ex} ({ex}): {got} of {points} points.",
                  "  Passed." if status == "passed" else "  Not right yet: a case gave a "
                  "different result."]
        if status != "passed":
            lines.append(f"  {message}.")
        lines.append("")
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(parents=True, exist_ok=True)
    (out / "feedback" / f"{stem}.txt").write_text("\n".join(lines) + "\n")
    log = [f"--- kernel started in {seconds[0]} s"]
    log += [f"--- cell (cell {i + 2}): ok in {s} s" for i, s in enumerate(seconds[1:])]
    (out / "logs" / f"{stem}.log").write_text("\n".join(log) + "\n")
    path = subs / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{}")
    os.utime(path, (mtime, mtime))
    return rows


@pytest.fixture
def graded(tmp_path):
    return write_graded(tmp_path)


def write_graded(tmp_path: Path) -> tuple[Path, Path]:
    """A grader's output folder and its submissions folder, written by hand."""
    out, subs = tmp_path / "out", tmp_path / "subs"
    rows = []
    rows += _submission(out, subs, "alice/first.ipynb", L1, ["passed", "wrong"], mtime=1e9 + 10)
    # alice's resubmission sorts before her first file by name but is newer: it counts
    rows += _submission(out, subs, "alice/again.ipynb", L1, ["passed", "passed"], mtime=1e9 + 99)
    rows += _submission(out, subs, "alice/l2.ipynb", L2, ["wrong"],
                        message="case 'visible 1' gave 3, expected 4")
    rows += _submission(out, subs, "bob/hw1.ipynb", L1, ["wrong", "timeout"],
                        notebook="cell_timeout", seconds=(2.0, 120.5))
    rows += _submission(out, subs, "=cmd|calc.ipynb", L1, ["passed", "passed"])
    rows += _submission(out, subs, "mallory/x.ipynb", L2, ["not_run"], notebook="interfered")
    with open(out / "grades.csv", "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows({**r, "submission": ("'" + r["submission"]) if r["submission"][0] == "="
                          else r["submission"]} for r in rows)
    return out, subs


def _read(path: Path) -> list[list[str]]:
    with open(path, newline="") as f:
        return list(csv.reader(f))


def test_gradebook_one_row_per_student_latest_wins(graded, capsys):
    out, subs = graded
    assert main(["report", str(out), "--submissions", str(subs)]) == 0
    said = capsys.readouterr().out
    assert "alice, 01_ode_basics: alice/again.ipynb counts (latest), replacing alice/first" in said
    book = _read(out / "gradebook.csv")
    assert book[0] == ["student_id", L1, L2, "total", "max_total"]
    rows = {r[0]: r[1:] for r in book[1:]}
    assert rows["alice"] == ["5", "0", "5", "9"]
    assert rows["bob"] == ["0", "missing", "0", "9"]
    assert rows["mallory"] == ["missing", "0", "0", "9"]
    assert rows["'=cmd|calc"] == ["5", "missing", "5", "9"]  # a formula made inert
    assert _read(out / "resubmissions.csv")[1:] == [["alice", L1, "alice/again.ipynb",
                                                     "alice/first.ipynb"]]


def test_roster_maps_files_to_ids_and_lists_students_without_submissions(graded, tmp_path):
    out, subs = graded
    roster = tmp_path / "roster.csv"
    roster.write_text("pattern,student_id,name,sis_id,login,section\n"
                      "alice/*,s001,Alice A,1001,alice,A\n"
                      "bob/*,s002,Bob B,1002,bob,A\n"
                      "zoe/*,s003,Zoe Z,1003,zoe,B\n")
    assert main(["report", str(out), "--submissions", str(subs), "--roster", str(roster)]) == 0
    rows = {r[0]: r[1:] for r in _read(out / "gradebook.csv")[1:]}
    assert rows["s001"][:3] == ["5", "0", "5"] and rows["s003"][:2] == ["missing", "missing"]
    assert "(unmatched) mallory/x.ipynb" in rows  # never lost
    lms = _read(out / "gradebook_lms.csv")
    assert lms[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                      f"Lesson {L1}", f"Lesson {L2}"]
    assert lms[1] == ["Points Possible", "", "", "", "", "5", "4"]
    by_id = {r[1]: r for r in lms[2:]}
    assert set(by_id) == {"s001", "s002", "s003"}  # unmatched files are no LMS users
    assert by_id["s001"] == ["Alice A", "s001", "1001", "alice", "A", "5", "0"]
    assert by_id["s003"][5:] == ["", ""]  # no submission: no grade entered


def test_feedback_zip_holds_each_students_folder(graded):
    out, subs = graded
    assert main(["report", str(out), "--submissions", str(subs)]) == 0
    names = zipfile.ZipFile(out / "feedback_by_student.zip").namelist()
    assert "alice/summary.txt" in names and "bob/summary.txt" in names
    assert sum(n.startswith("alice/") for n in names) == 4  # summary + three feedback files
    summary = (out / "feedback_by_student" / "alice" / "summary.txt").read_text()
    assert "01_ode_basics: 5 of 5 points (alice/again.ipynb)" in summary
    assert "it replaced alice/first.ipynb" in summary and "Total: 5 of 9 points." in summary


def test_report_html_is_offline_and_shows_where_the_class_struggles(graded):
    out, subs = graded
    assert main(["report", str(out), "--submissions", str(subs)]) == 0
    page = (out / "report.html").read_text()
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page)
    assert "<script" not in page and "@import" not in page
    assert page.count('src="data:image/png;base64,') == 3  # histograms, pass rates, run times
    assert "ex01_rk4_step" in page and "ex02_resnet" in page
    # top failures, counted: "wrong" on ex01_euler_step once (bob); alice's first file replaced
    assert "case &#x27;hidden 3&#x27; gave 1.25, expected 2.5." in page
    assert "cell_timeout" in page and "interfered" in page and "mallory/x.ipynb" in page
