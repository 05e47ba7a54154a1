"""``report.html``: where the class struggles, in one offline page.

Written by ``neural-ode-grade report OUT`` (``make grade`` runs it) from ``OUT/grades.csv``,
``OUT/feedback/`` and ``OUT/logs/``. Every figure is drawn with matplotlib and embedded in the
page as a PNG ``data:`` URI; the page loads nothing from anywhere (no scripts, fonts or styles
from outside), so it can be mailed or opened offline.

What it shows:

- the score of each lesson as a histogram (the submission that counts per student: latest wins,
  as in ``gradebook.csv``);
- the pass rate of each exercise (over those counted submissions);
- per exercise, the five most common failure messages with their counts (from the feedback
  files; numbers in the messages are replaced by ``#`` to group alike failures; one example
  is shown as it was written);
- the run time of each notebook as a box plot per lesson: the sum of the times the log gives for
  the kernel's start and each step the grader ran (the grader does not record memory per
  notebook; ``scripts/measure_lesson_resources.py`` measures each lesson's peak memory);
- every run that timed out, ran out of memory, stopped answering or interfered.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections import Counter, defaultdict
from pathlib import Path

from .gradebook import Gradebook, Submission

__all__ = ["failure_messages", "run_seconds", "write_class_report"]

TROUBLE = ("cell_timeout", "total_timeout", "kernel_unresponsive", "runner_unresponsive",
           "out_of_memory", "interfered", "process_limit", "kernel_died", "grader_error")
_SECONDS = re.compile(r"^--- (?:kernel started|.*?: \w+) in ([0-9.]+) s$")
_EXERCISE = re.compile(r"^(?P<title>.*) \((?P<id>[^()]+)\): \S+ of \S+ points\.$")
_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def run_seconds(log: Path) -> float | None:
    """The seconds a notebook's log accounts for (kernel start plus every step), or None."""
    try:
        text = log.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    times = [float(m.group(1)) for line in text.splitlines() if (m := _SECONDS.match(line))]
    return sum(times) if times else None


def failure_messages(feedback: Path) -> dict[str, str]:
    """{exercise id: its first failure line} from one feedback file (passed ones left out)."""
    try:
        lines = feedback.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return {}
    found = {}
    for i, line in enumerate(lines):
        match = _EXERCISE.match(line)
        if not match:
            continue
        block = []
        for follow in lines[i + 1:]:
            if not follow.startswith("  "):
                break
            block.append(follow.strip())
        if not block or block[0] == "Passed.":
            continue
        found[match["id"]] = block[1] if len(block) > 1 else block[0]
    return found


def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _figure(title: str, fig) -> str:
    import matplotlib.pyplot as plt

    uri = _png(fig)
    plt.close(fig)
    return f'<figure><img alt="{html.escape(title)}" src="{uri}"><figcaption>' \
           f"{html.escape(title)}</figcaption></figure>"


def _histograms(book: Gradebook, counted: list[Submission]) -> str:
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    lessons = [lesson for lesson in book.lessons if any(s.lesson == lesson for s in counted)]
    if not lessons:
        return "<p>No graded submissions.</p>"
    cols = min(3, len(lessons))
    rows = -(-len(lessons) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 2.8 * rows), squeeze=False)
    for ax, lesson in zip(axes.flat, lessons, strict=False):
        scores = [s.points for s in counted if s.lesson == lesson]
        top = book.max_points.get(lesson) or max(scores) or 1
        ax.hist(scores, bins=[x - 0.5 for x in range(int(top) + 2)], color="#4472c4",
                edgecolor="white")
        ax.set_title(f"{lesson} (n={len(scores)})", fontsize=10)
        ax.set_xlabel(f"points (of {top:g})")
        ax.set_ylabel("students")
        ax.set_xlim(-0.6, top + 0.6)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    for ax in list(axes.flat)[len(lessons):]:
        ax.axis("off")
    fig.tight_layout()
    return _figure("Score per lesson (the submission that counts per student)", fig)


def _pass_rates(counted: list[Submission]) -> tuple[str, list[tuple[str, int, int]]]:
    import matplotlib.pyplot as plt

    tally: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    order: list[str] = []
    for sub in counted:
        for row in sub.exercises:
            ex = row["exercise"]
            if ex not in tally:
                order.append(ex)
            tally[ex][0] += row["status"] == "passed"
            tally[ex][1] += 1
    order.sort(key=lambda e: [int(p) if p.isdigit() else p for p in re.split(r"(\d+)", e)])
    if not order:
        return "<p>No exercises graded.</p>", []
    rates = [100 * tally[e][0] / tally[e][1] for e in order]
    fig, ax = plt.subplots(figsize=(8, 0.32 * len(order) + 1.2))
    ax.barh(range(len(order)), rates, color=["#c0504d" if r < 50 else "#4472c4" for r in rates])
    ax.set_yticks(range(len(order)), order, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("% of submissions that passed")
    for i, e in enumerate(order):
        ax.text(min(rates[i] + 1, 88), i, f"{tally[e][0]}/{tally[e][1]}", va="center", fontsize=7)
    fig.tight_layout()
    table = [(e, tally[e][0], tally[e][1]) for e in order]
    return _figure("Pass rate per exercise (red: under half)", fig), table


def _run_times(book: Gradebook, out: Path) -> str:
    import matplotlib.pyplot as plt

    per_lesson: dict[str, list[float]] = defaultdict(list)
    for sub in book.subs:
        if sub.lesson == "unknown" or sub.status == "skipped":
            continue
        seconds = run_seconds(out / "logs" / (sub.feedback.removesuffix(".txt") + ".log"))
        if seconds is not None:
            per_lesson[sub.lesson].append(seconds)
    lessons = [lesson for lesson in book.lessons if per_lesson.get(lesson)]
    if not lessons:
        return "<p>No run times in the logs.</p>"
    fig, ax = plt.subplots(figsize=(max(5, 1.1 * len(lessons) + 2), 3.4))
    ax.boxplot([per_lesson[lesson] for lesson in lessons], tick_labels=lessons)
    ax.set_ylabel("seconds per notebook")
    ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    return _figure("Run time per notebook, by lesson (every graded submission)", fig)


def _failures(counted: list[Submission], out: Path) -> str:
    groups: dict[str, Counter] = defaultdict(Counter)
    example: dict[tuple[str, str], str] = {}
    for sub in counted:
        for ex, message in failure_messages(out / "feedback" / sub.feedback).items():
            key = _NUMBER.sub("#", message)[:240]
            groups[ex][key] += 1
            example.setdefault((ex, key), message[:400])
    if not groups:
        return "<p>No failures.</p>"
    parts = []
    for ex in sorted(groups):
        items = "".join(
            f"<tr><td class=n>{count}</td><td>{html.escape(example[(ex, key)])}</td></tr>"
            for key, count in groups[ex].most_common(5))
        parts.append(f"<h3>{html.escape(ex)}</h3><table><tr><th>count</th><th>message "
                     f"(an example; alike messages differ only in numbers)</th></tr>{items}"
                     "</table>")
    return "".join(parts)


def _trouble(book: Gradebook) -> str:
    rows = []
    for sub in book.subs:
        statuses = [s for s in sub.status.split("; ") if s in TROUBLE]
        timed = [r["exercise"] for r in sub.exercises if r["status"] in ("timeout",
                                                                          "out_of_memory")]
        if statuses or timed:
            rows.append(f"<tr><td>{html.escape(book.owner.get(sub.name, ''))}</td>"
                        f"<td>{html.escape(sub.name)}</td><td>{html.escape(sub.lesson)}</td>"
                        f"<td>{html.escape(', '.join(statuses))}</td>"
                        f"<td>{html.escape(', '.join(timed))}</td></tr>")
    if not rows:
        return "<p>None: no run timed out, ran out of memory, stalled or interfered.</p>"
    return ("<table><tr><th>student</th><th>submission</th><th>lesson</th><th>notebook</th>"
            "<th>exercises timed out / out of memory</th></tr>" + "".join(rows) + "</table>")


_STYLE = """
body { font-family: sans-serif; margin: 2em; max-width: 1100px; color: #222; }
table { border-collapse: collapse; margin: .5em 0 1.2em; font-size: 14px; }
td, th { border: 1px solid #bbb; padding: 3px 8px; text-align: left; vertical-align: top; }
td.n { text-align: right; }
figure { margin: 1em 0; } img { max-width: 100%; }
figcaption { font-size: 13px; color: #555; }
"""


def write_class_report(out: Path, book: Gradebook) -> Path:
    """Write ``out/report.html``; returns its path."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    out = Path(out)
    counted = list(book.counted.values())
    rates_fig, rates = _pass_rates(counted)
    statuses = Counter(s for sub in book.subs for s in (sub.status or "ok").split("; "))
    summary = (f"{len(book.subs)} files graded, {len(counted)} counted (latest per student and "
               f"lesson), {len([s for s in book.students])} students, "
               f"{len(book.replaced)} resubmissions replaced an earlier file. Notebook statuses: "
               + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())) + ".")
    rate_rows = "".join(f"<tr><td>{html.escape(e)}</td><td class=n>{p}</td><td class=n>{n}</td>"
                        f"<td class=n>{100 * p / n:.0f}%</td></tr>" for e, p, n in rates)
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Class report</title>
<style>{_STYLE}</style></head><body>
<h1>Class report</h1>
<p>{html.escape(summary)}</p>
<h2>Scores per lesson</h2>
{_histograms(book, counted)}
<h2>Pass rate per exercise</h2>
{rates_fig}
<table><tr><th>exercise</th><th>passed</th><th>submissions</th><th>rate</th></tr>{rate_rows}
</table>
<h2>Most common failures per exercise (top 5)</h2>
{_failures(counted, out)}
<h2>Run time per notebook</h2>
{_run_times(book, out)}
<p>Memory per notebook is not recorded by the grader; see docs/instructors.md (sizing) for each
lesson's measured peak memory.</p>
<h2>Timeouts, memory, stalls and interference</h2>
{_trouble(book)}
</body></html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
