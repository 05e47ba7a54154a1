"""Grading: the lessons the grader knows, one submission, and a folder of them.

A submission is read outside the sandbox as plain JSON (:mod:`grader.notebooks`), matched to
its lesson, planned (:mod:`grader.plan`), run by :mod:`grader.runner` inside a bubblewrap
container (:mod:`grader.sandbox`), and judged outside (:mod:`grader.verdicts`).
"""

from __future__ import annotations

import json
import os
import queue
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from . import sandbox, twins, verdicts
from .lessons import lesson_sources, read_source
from .notebooks import Cell, Found, Unreadable, read_cells
from .plan import plan

__all__ = ["Lesson", "Limits", "Submission", "Grader", "identify_lesson", "load_lessons",
           "structure_problems"]

_MAX_EVENT_BYTES = 80 * 2**20  # one line from the runner (outcomes of one exercise)
_KERNEL_START = 120.0  # seconds a kernel gets to start, on top of the total time limit
_STOPPED_CHECK = 5.0  # seconds between checks that the runner has not been stopped
_OOM = re.compile(r"can't allocate memory|Cannot allocate memory|out of memory|MemoryError",
                  re.IGNORECASE)


@dataclass(frozen=True)
class Limits:
    """The limits one submission runs under.

    Attributes:
        cell_timeout: seconds one cell may run (the cases of one exercise count as one cell).
        total_timeout: seconds the whole notebook may run, kernel start not included.
        memory_bytes: the kernel's address-space cap (``RLIMIT_AS``); importing torch and the
            course takes about 1.6 GB of address space, so keep it well above 2 GB.
        output_bytes: printed output kept per submission; the rest is dropped.
        file_bytes: largest file the kernel may write (``RLIMIT_FSIZE``), and the size of the
            sandbox's private temporary file system.
    """

    cell_timeout: float = 120.0
    total_timeout: float = 900.0
    memory_bytes: int = 4 * 2**30
    output_bytes: int = 2**20
    file_bytes: int = 256 * 2**20

    def __post_init__(self):
        for name in ("cell_timeout", "total_timeout", "memory_bytes", "output_bytes", "file_bytes"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"Limits.{name} must be a positive number, got {value!r}")
        if self.memory_bytes < 2 * 2**30:
            raise ValueError(
                f"Limits.memory_bytes={self.memory_bytes} is below 2 GiB: the kernel needs about "
                "1.6 GB of address space just to import torch and the course"
            )

    def to_json(self) -> dict:
        return {"cell_timeout": self.cell_timeout, "total_timeout": self.total_timeout,
                "memory_bytes": self.memory_bytes, "output_bytes": self.output_bytes,
                "file_bytes": self.file_bytes}


# -- the lessons --------------------------------------------------------------------------------


@dataclass
class Lesson:
    """What the grader knows of one lesson, read from its source in ``lessons_src/``.

    Attributes:
        name: the source's stem, e.g. ``"01_ode_basics"``.
        grade_ids: nbgrader ``grade_id`` of every graded cell, in the lesson's order.
        exercises: the lesson's exercises (check cells whose grade_id is in the registry).
        check_sources: {exercise id: the check cell's source}.
        code_sources: every code cell's source (to recognise a notebook stripped of metadata).
    """

    name: str
    grade_ids: list[str]
    exercises: list
    check_sources: dict[str, str]
    code_sources: set[str] = field(default_factory=set)

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


# -- one submission -----------------------------------------------------------------------------


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


def _num(x: float) -> str:
    return f"{float(x):g}"


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Runner:
    """One runner process (in a container, or not): JSON lines both ways, with deadlines."""

    def __init__(self, cmd: list[str], *, sandboxed: bool, workdir: Path | None):
        env = None
        if not sandboxed:
            env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
            env.update(HOME=str(workdir), GRADER_PRIVATE=str(workdir / ".grader"),
                       MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        self.proc = subprocess.Popen(
            cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            cwd=str(workdir) if workdir else None, env=env, start_new_session=True)
        self.events: queue.Queue = queue.Queue()
        self.stderr = b""
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()

    def _read(self) -> None:
        buffer = b""
        try:
            while chunk := self.proc.stdout.read1(2**16):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    try:
                        event = json.loads(line)
                    except (ValueError, RecursionError):
                        event = {"event": "garbled"}
                    self.events.put(event if isinstance(event, dict) else {"event": "garbled"})
                if len(buffer) > _MAX_EVENT_BYTES:
                    self.events.put({"event": "garbled"})
                    buffer = b""
        finally:
            self.events.put(None)

    def _read_stderr(self) -> None:
        while chunk := self.proc.stderr.read1(2**16):
            self.stderr = (self.stderr + chunk)[-4000:]

    def send(self, **message) -> None:
        try:
            self.proc.stdin.write(json.dumps(message).encode() + b"\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass

    def next(self, deadline: float):
        """The next event, None when the runner has ended, "timeout" past the deadline."""
        try:
            return self.events.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            return "timeout"

    def runner_stopped(self) -> bool:
        """Whether the in-sandbox runner is stopped (SIGSTOP from the notebook, same user): it
        would never answer, and the grader would wait for the whole time limit."""
        children: dict[int, list[int]] = {}
        states: dict[int, bytes] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                fields = Path(entry.path, "stat").read_bytes().rsplit(b")", 1)[1].split()
                children.setdefault(int(fields[1]), []).append(int(entry.name))
                states[int(entry.name)] = fields[0]
            except (OSError, ValueError, IndexError):
                continue
        todo, seen = [self.proc.pid], set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            if states.get(pid) in (b"T", b"t"):
                try:
                    if b"grader.runner" in Path(f"/proc/{pid}/cmdline").read_bytes():
                        return True
                except OSError:
                    pass
            todo += children.get(pid, [])
        return False

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap, and (its PID namespace) all
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            pass


class Grader:
    """Grades submissions one by one (thread-safe: :meth:`grade` may run in several threads).

    Expected outcomes of every exercise are computed here, once, before any submission runs.
    """

    def __init__(self, lessons: Sequence[Lesson], limits: Limits, *, use_sandbox: bool = True,
                 needed: set[str] | None = None):
        self.lessons = list(lessons)
        self.limits = limits
        self.use_sandbox = use_sandbox
        self.expected: dict[str, verdicts.Expected] = {}
        self.references: dict[str, tuple[str, set[str]] | None] = {}
        self.expected_errors: dict[str, str] = {}
        for lesson in self.lessons:
            if needed is not None and lesson.name not in needed:
                continue  # no submission of this lesson: nothing to compute
            for ex in lesson.exercises:
                try:
                    self.expected[ex.id] = verdicts.expected_for(ex)
                    self.references[ex.id] = verdicts.reference_parts(ex)
                except Exception as exc:  # a broken exercise: its rows say so, others go on
                    self.expected_errors[ex.id] = f"{type(exc).__name__}: {exc}"[:300]
        self._withheld = tempfile.TemporaryDirectory(prefix="neural-ode-grade-twins-")
        self.overlays = self._withhold_twins(Path(self._withheld.name)) if use_sandbox else {}

    def _withhold_twins(self, folder: Path) -> dict[str, str]:
        """Copies of the library modules holding twins of exercise answers, twins withheld."""
        exercises = [ex for lesson in self.lessons for ex in lesson.exercises
                     if ex.id in self.expected]  # the lessons submitted, computable
        overlays = {}
        for i, (path, names) in enumerate(sorted(twins.find_twins(
                exercises, sandbox.library_folder()).items())):
            copy = folder / f"{i:02d}_{path.name}"
            copy.write_text(twins.withheld_source(path, names), encoding="utf-8")
            overlays[str(path)] = str(copy)
        return overlays

    def command(self) -> list[str]:
        if self.use_sandbox:
            return sandbox.bwrap_command(tmp_bytes=self.limits.file_bytes + 64 * 2**20,
                                         overlays=self.overlays)
        return [sys.executable, "-I", "-m", "grader.runner"]

    def grade(self, found: Found, stem: str) -> Submission:
        """Grade one file; never raises for what the file contains or does."""
        sub = Submission(found.name, stem, sandboxed=self.use_sandbox)
        start = time.monotonic()
        try:
            self._grade_into(sub, found)
        except Exception as exc:  # a bug of the grader: say so, zero, and go on with the others
            import traceback

            sub.add_status("grader_error", f"The grader failed: {type(exc).__name__}: {exc}")
            sub.log.append(traceback.format_exc())
            sub.rows = [dict(r, points="0", status="not_graded") for r in sub.rows]
        sub.seconds = time.monotonic() - start
        return sub

    def _grade_into(self, sub: Submission, found: Found) -> None:
        try:
            cells = read_cells(found.path)
        except Unreadable as exc:
            sub.add_status("unreadable", f"The file could not be read as a notebook: {exc}.")
            return
        lesson = identify_lesson(cells, self.lessons)
        if lesson is None:
            sub.add_status("unknown_lesson", "No lesson of the course has these graded cells.")
            return
        sub.lesson = lesson.name
        for status, text in structure_problems(cells, lesson):
            sub.add_status(status, _upper(text) + ".")
        answers = {c.grade_id.removesuffix("-answer"): c for c in cells
                   if c.cell_type == "code" and c.grade_id.endswith("-answer")}
        steps = plan(cells, lesson)
        results, runs = self._run(sub, lesson, steps)
        for ex in lesson.exercises:
            status, message = self._exercise_status(ex, answers.get(ex.id), results, runs)
            sub.rows.append({"submission": sub.name, "lesson": lesson.name, "exercise": ex.id,
                             "points": _num(ex.points if status == "passed" else 0),
                             "max_points": _num(ex.points), "status": status,
                             "message": message, "title": ex.title})

    # -- running the plan ---------------------------------------------------------------------

    def _run(self, sub: Submission, lesson: Lesson, steps):
        """Run the steps in a runner; returns ({exercise: verdict}, {exercise: {kind: status}})."""
        limits = self.limits
        exercises = {ex.id: ex for ex in lesson.exercises}
        results: dict[str, tuple[str, str]] = {}
        runs: dict[str, dict[str, dict]] = {}
        job = {"steps": [s.to_json() for s in steps], "limits": limits.to_json()}
        with tempfile.TemporaryDirectory(prefix="neural-ode-grade-") as tmp:
            workdir = None if self.use_sandbox else Path(tmp)
            runner = _Runner(self.command(), sandboxed=self.use_sandbox, workdir=workdir)
            try:
                runner.send(**job)
                deadline = time.monotonic() + limits.total_timeout + _KERNEL_START + 30
                done = self._events(sub, runner, steps, exercises, results, runs, deadline)
                if not done:
                    runner.kill()
            finally:
                runner.kill()
            if runner.stderr.strip():
                sub.log.append("--- runner stderr (tail):\n"
                               + runner.stderr.decode("utf-8", "replace")[-2000:])
        return results, runs

    def _events(self, sub, runner, steps, exercises, results, runs, deadline) -> bool:
        limits = self.limits
        last_step = None
        while True:
            event = runner.next(min(deadline, time.monotonic() + _STOPPED_CHECK))
            if event == "timeout" and time.monotonic() < deadline:
                if runner.runner_stopped():
                    sub.add_status("interfered", "The notebook stopped the grader's runner "
                                   "inside its sandbox (SIGSTOP); what it had not reported was "
                                   "not graded.")
                    return False
                continue
            if event == "timeout":
                sub.add_status("total_timeout", "The notebook reached the total time limit of "
                               f"{limits.total_timeout:g} s and was stopped.")
                return False
            if event is None:
                sub.add_status("interfered", "The grader's runner inside the sandbox stopped "
                               "before the end (killed by the notebook?); what it had not "
                               "reported was not graded. Its last words: "
                               + (runner.stderr.decode("utf-8", "replace")[-300:] or "none"))
                return False
            kind = event.get("event")
            if kind == "started":
                sub.log.append(f"--- kernel started in {event.get('seconds')} s")
            elif kind == "step":
                i = event.get("i")
                if not isinstance(i, int) or not 0 <= i < len(steps):
                    continue
                last_step = (steps[i], event)
                self._describe_step(sub, steps[i], event)
                if steps[i].exercise:
                    runs.setdefault(steps[i].exercise, {})[steps[i].kind] = event
            elif kind == "outcomes":
                ex = exercises.get(event.get("exercise"))
                if ex is not None and ex.id not in results:
                    results[ex.id] = self._verdict(ex, event.get("data"))
            elif kind == "settle":
                ex = exercises.get(event.get("exercise"))
                passed = ex is not None and results.get(ex.id, ("",))[0] == "passed"
                source = None if passed or ex is None else self._fallback(ex, exercises, results)
                runner.send(source=source)
            elif kind == "failed":
                sub.add_status("kernel_failed", "The kernel could not be started: "
                               f"{str(event.get('error'))[:300]}")
            elif kind == "done":
                self._describe_end(sub, last_step, event)
                return True
            elif kind == "garbled":
                sub.add_status("grader_error", "The runner sent something unreadable.")

    def _fallback(self, ex, exercises, results) -> str | None:
        """The reference to bind for later cells, unless it carries (as a helper) the reference
        of an exercise not graded yet: then none (cells reordered so that, e.g., euler_step is
        answered after euler_solve's check could otherwise take euler_step from it)."""
        parts = self.references.get(ex.id)
        if parts is None:
            return None
        source, names = parts
        module = ex.reference_path.rsplit(".", 1)[0]
        for other in exercises.values():
            other_module, other_name = other.reference_path.rsplit(".", 1)
            if (other.id != ex.id and other.id not in results and other_module == module
                    and other_name in names):
                return None
        return source

    def _verdict(self, ex, data) -> tuple[str, str]:
        if ex.id not in self.expected and ex.id not in self.expected_errors:
            return "not_graded", "the grader computed no expected values for this lesson"
        if ex.id in self.expected_errors:
            return "not_graded", ("the course's expected values could not be computed: "
                                  + self.expected_errors[ex.id])
        return verdicts.verdict(ex, data, self.expected[ex.id])

    def _describe_step(self, sub: Submission, step, event: dict) -> None:
        status = str(event.get("status"))
        where = f"cell {step.cell + 1}" if step.cell >= 0 else "the grader's setup"
        label = step.kind if step.kind == "cell" else f"grader's {step.kind}"
        sub.log.append(f"--- {label} ({where}): {status} in {event.get('seconds')} s")
        output = str(event.get("output") or "")
        if output:
            sub.log.append(output.rstrip("\n"))
        limits = self.limits
        ename, evalue = str(event.get("ename", "")), str(event.get("evalue", ""))
        if step.kind == "record" and status in ("timeout", "unresponsive", "total_timeout"):
            sub.add_status("cell_timeout", f"The cases of {step.exercise} ran longer than "
                           f"{limits.cell_timeout:g} s (an endless loop?) and were stopped.")
        if step.kind != "cell":
            return
        if status == "error":
            if ename == "SystemExit":
                sub.add_status("exited", f"{_upper(where)} called sys.exit(); the grader "
                               "kept going with the next cell.")
            elif ename == "MemoryError" or _OOM.search(evalue):
                sub.add_status("out_of_memory", f"{_upper(where)} ran out of memory (the "
                               f"limit is {limits.memory_bytes / 2**30:g} GiB).")
            else:
                sub.add_status("error", f"{_upper(where)} raised {ename}: {evalue[:300]}")
        elif status in ("timeout", "unresponsive"):
            sub.add_status("cell_timeout", f"{_upper(where)} ran longer than "
                           f"{limits.cell_timeout:g} s and was stopped.")
        elif status == "total_timeout":
            sub.add_status("total_timeout", f"{_upper(where)} was running when the notebook "
                           f"reached the total time limit of {limits.total_timeout:g} s.")

    def _describe_end(self, sub: Submission, last_step, event: dict) -> None:
        limits = self.limits
        dropped = event.get("output_dropped") or 0
        if isinstance(dropped, (int, float)) and dropped > 0:
            sub.add_status("output_capped", f"The notebook printed more than "
                           f"{limits.output_bytes / 1024:g} kB; {dropped / 1024:.0f} kB more "
                           "were dropped.")
        if last_step is None:
            return
        step, info = last_step
        where = f"cell {step.cell + 1}" if step.cell >= 0 else "the grader's setup"
        status = info.get("status")
        if status == "unresponsive":
            sub.add_status("kernel_unresponsive", f"{_upper(where)} reached its time limit and "
                           "did not stop when interrupted, so the kernel was stopped; the cells "
                           "after it were not run.")
        elif status == "total_timeout":
            sub.add_status("total_timeout", "The notebook reached the total time limit of "
                           f"{limits.total_timeout:g} s; the cells after that were not run.")
        elif status == "died":
            code = event.get("exit_code")
            tail = str(event.get("stderr_tail") or "")
            if isinstance(code, int) and code >= 0:
                sub.add_status("exited", f"The Python process exited (code {code}) during "
                               f"{where}, e.g. through os._exit() or quit(); the cells after it "
                               "were not run.")
            elif _OOM.search(tail):
                sub.add_status("out_of_memory", f"The Python process ran out of memory during "
                               f"{where}; the cells after it were not run.")
            else:
                signal_text = f" (signal {-code})" if isinstance(code, int) else ""
                sub.add_status("kernel_died", f"The Python process died{signal_text} during "
                               f"{where}; the cells after it were not run. Its last words: "
                               + (tail.strip()[-300:] or "none"))

    def _exercise_status(self, ex, answer_cell, results, runs) -> tuple[str, str]:
        if answer_cell is None:
            return "missing", f"the answer cell (grade_id '{ex.id}-answer') is not in the notebook."
        mine = runs.get(ex.id, {})
        record = mine.get("record")
        if record is None:
            return "not_run", ("the notebook stopped before this exercise's answer was graded "
                               "(see 'About the notebook as a whole').")
        status = record.get("status")
        if status in ("timeout", "unresponsive", "total_timeout"):
            return "timeout", (f"running the cases took longer than {self.limits.cell_timeout:g}"
                               " s (an endless loop, or a function that ignores the interrupt?).")
        if status == "died":
            tail = ""
            return ("out_of_memory" if _OOM.search(tail) else "crashed",
                    "the kernel stopped while your function ran.")
        prefix = ""
        answer_run = mine.get("cell")
        if answer_run is not None and answer_run.get("status") == "error":
            prefix = (f"your answer cell raised {answer_run.get('ename')}: "
                      f"{str(answer_run.get('evalue'))[:200]}; graded what it defined: ")
        if ex.id not in results:
            return "not_graded", "the grader received no results for this exercise."
        status, message = results[ex.id]
        if status == "not_attempted" and "not defined" in message:
            return "missing", prefix + f"your answer cell did not define '{ex.answer_name}'."
        return status, prefix + message


# -- a folder -------------------------------------------------------------------------------------


def parse_shard(text: str | None) -> tuple[int, int] | None:
    """``"K/N"`` -> (K, N) with 1 <= K <= N; ValueError otherwise."""
    if text is None:
        return None
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    if not match or not 1 <= int(match[1]) <= int(match[2]):
        raise ValueError(f"--shard must be K/N with 1 <= K <= N (e.g. 2/8), got {text!r}")
    return int(match[1]), int(match[2])


def in_shard(found: Found, shard: tuple[int, int] | None) -> bool:
    """Whether this submission belongs to shard K of N (by a hash of its path: stable)."""
    if shard is None:
        return True
    import hashlib

    k, n = shard
    return int.from_bytes(hashlib.sha256(found.relative).digest()[:8], "big") % n == k - 1


def grade_folder(folder: Path, out: Path, *, limits: Limits | None = None, jobs: int = 1,
                 lessons: Sequence[Lesson] | None = None, use_sandbox: bool = True,
                 shard: tuple[int, int] | None = None, quiet: bool = False
                 ) -> list[Submission]:
    """Grade every notebook under ``folder`` (or one shard of them) into ``out``.

    Returns the submissions in the order of grades.csv.
    """
    from concurrent.futures import ThreadPoolExecutor

    from .notebooks import file_stem, find_submissions
    from .report import Report

    folder, out = Path(folder), Path(out)
    limits = Limits() if limits is None else limits
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submissions")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    out_resolved, folder_resolved = out.resolve(), folder.resolve()
    if out_resolved == folder_resolved or folder_resolved in out_resolved.parents:
        raise ValueError(f"the output folder {out} must not be inside the submissions folder")
    if use_sandbox:
        sandbox.check_sandbox()
    lessons = load_lessons() if lessons is None else lessons
    found = [f for f in find_submissions(folder) if in_shard(f, shard)]
    stems = {f.relative: file_stem(f.relative) for f in found}
    found.sort(key=lambda f: (f.name, stems[f.relative]))
    needed = set()
    for f in found:  # which lessons were submitted: expected values only for those
        try:
            lesson = identify_lesson(read_cells(f.path), lessons)
        except Unreadable:
            continue
        if lesson is not None:
            needed.add(lesson.name)
    grader = Grader(lessons, limits, use_sandbox=use_sandbox, needed=needed)
    report = Report(out, [stems[f.relative] for f in found])
    start = time.monotonic()
    done: list[Submission] = []

    def finish(sub: Submission) -> None:
        report.add(sub)
        done.append(sub)
        if not quiet:
            print(f"{sub.name}: {sub.lesson or '?'} {_num(sub.points)}/{_num(sub.max_points)} "
                  f"({'; '.join(sub.notebook_status) or 'ok'}) in {sub.seconds:.1f} s",
                  flush=True)

    if jobs == 1:
        for f in found:
            finish(grader.grade(f, stems[f.relative]))
    else:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(grader.grade, f, stems[f.relative]) for f in found]
            for future in futures:
                finish(future.result())
    if not quiet:
        minutes = (time.monotonic() - start) / 60
        rate = f", {len(found) / minutes:.1f} per minute" if found and minutes > 0 else ""
        print(f"graded {len(found)} notebooks in {minutes * 60:.1f} s{rate}: "
              f"{out / 'grades.csv'}")
    order = {stems[f.relative]: i for i, f in enumerate(found)}
    return sorted(done, key=lambda s: order[s.stem])
