"""Grading: the lessons the grader knows, one submission, and a folder of them.

A submission is read outside the sandbox as plain JSON (:mod:`grader.notebooks`), matched to
its lesson, planned (:mod:`grader.plan`), run by :mod:`grader.runner` inside a bubblewrap
container (:mod:`grader.sandbox`), and judged outside (:mod:`grader.verdicts`).
"""

from __future__ import annotations

import json
import math
import os
import queue
import re
import select
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
from .notebooks import Cell, Found, Unreadable, printable, read_cells
from .plan import plan
from .plan import select as select_cells

__all__ = ["Lesson", "Limits", "Submission", "Grader", "identify_lesson", "load_lessons",
           "structure_problems"]

RUNNER_MARK = b"\0neural-ode-grade runner: streams closed\0"  # see grader.runner
MAX_EVENT_BYTES = 4 * 2**20  # one line from the runner (honest outcomes are under 30 kB)
_KERNEL_START = 120.0  # seconds a kernel gets to start, on top of the total time limit
_STOPPED_CHECK = 2.0  # seconds between checks that the runner has not been stopped
_HELLO_TIMEOUT = 60.0  # seconds the runner gets to say hello (Python, no kernel yet)
_SEND_TIMEOUT = 30.0  # seconds the runner gets to take what the grader sends
_CELL_MARGIN = 60.0  # on top of the time per cell: the interrupt's grace, a kernel's shutdown
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
        max_processes: processes and threads of the whole sandbox (its control group's
            ``pids.max``; where no control group can be made, ``RLIMIT_NPROC`` of the kernel).
        cpus: CPU cores the whole sandbox may use (its control group's CPU quota).
        log_bytes: the instructor's log of one submission is cut to this size.
    """

    cell_timeout: float = 120.0
    total_timeout: float = 900.0
    memory_bytes: int = 4 * 2**30
    output_bytes: int = 2**20
    file_bytes: int = 256 * 2**20
    max_processes: int = 256
    cpus: float = 1.0
    log_bytes: int = 2 * 2**20

    def __post_init__(self):
        for name in ("cell_timeout", "total_timeout", "memory_bytes", "output_bytes", "file_bytes",
                     "max_processes", "cpus", "log_bytes"):
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
                "file_bytes": self.file_bytes, "max_processes": self.max_processes}


# -- the lessons --------------------------------------------------------------------------------


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


def _num(x: float) -> str:
    return f"{float(x):g}"


def _upper(text: str) -> str:
    return text[:1].upper() + text[1:]


_LIBC = None


def _child_setup(procs_fds: list[int]):
    """What the sandbox's first process does between fork and exec: join its control group (so
    every process of the sandbox is counted from the start) and die with the grader (a grader
    killed with -9 leaves no sandbox behind). Only async-signal-safe work: no imports, no locks."""
    libc = _LIBC

    def setup():
        pid = str(os.getpid()).encode()  # the child's: this runs after the fork
        for fd in procs_fds:
            os.write(fd, pid)
        if libc is not None:
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG

    return setup


def _load_libc():
    global _LIBC
    if _LIBC is None:
        import ctypes

        try:
            _LIBC = ctypes.CDLL(None, use_errno=True)
        except OSError:
            _LIBC = None


class ChannelError(RuntimeError):
    """The runner did not take what the grader sent within its deadline."""


class _Runner:
    """One runner process (in a container, or not), spoken to on two private pipes.

    The pipes are extra descriptors of the runner (``pass_fds``); bubblewrap's stdio is
    ``/dev/null`` and its PID 1 closes extra descriptors, so nothing inside the sandbox but the
    runner holds them. Every read and write has a deadline; events are capped in size and count.
    """

    def __init__(self, cmd_for, *, sandboxed: bool, workdir: Path | None, group=None,
                 max_events: int = 10_000, capture_stderr: bool = True):
        env = None
        if not sandboxed:
            env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
            env.update(HOME=str(workdir), GRADER_PRIVATE=str(workdir / ".grader"),
                       MPLBACKEND="Agg", PYTHONDONTWRITEBYTECODE="1")
        to_runner_r, self._to_runner = os.pipe()
        self._from_runner, from_runner_w = os.pipe()
        # The tripwire: bubblewrap's stdout and stderr, write-only for everyone (the pipe's
        # mode), so learner code that opens /proc/1/fd/1 can write into it but never read its
        # own bytes back before the grader sees them.
        self._tripwire, tripwire_w = os.pipe()
        os.fchmod(tripwire_w, 0o200)
        self.group = group
        procs = []
        _load_libc()
        try:
            for name in (group.procs_files() if group is not None else []):
                procs.append(os.open(name, os.O_WRONLY | os.O_CLOEXEC))
            cmd = cmd_for((to_runner_r, from_runner_w))
            if group is not None and group.prefix:
                cmd = [*group.prefix, *cmd]
            self.proc = subprocess.Popen(
                cmd, stdin=subprocess.DEVNULL, stdout=tripwire_w, stderr=tripwire_w,
                pass_fds=(to_runner_r, from_runner_w), cwd=str(workdir) if workdir else None,
                env=env, start_new_session=True, preexec_fn=_child_setup(procs))
        except BaseException:
            for fd in (self._to_runner, self._from_runner, self._tripwire):
                os.close(fd)
            raise
        finally:
            for fd in [to_runner_r, from_runner_w, tripwire_w, *procs]:
                os.close(fd)
        os.set_blocking(self._to_runner, False)
        self.events: queue.Queue = queue.Queue()
        self.max_events = max_events
        self.stderr = b""  # bubblewrap's and Python's own output before the runner's hello
        self.tripped = b""  # what learner code wrote there afterwards
        self.killed_by_grader = ""  # why the grader killed it, if it did
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._read_tripwire, daemon=True).start()

    def _read(self) -> None:
        buffer, count = b"", 0
        try:
            while chunk := os.read(self._from_runner, 2**16):
                buffer += chunk
                while b"\n" in buffer:
                    line, buffer = buffer.split(b"\n", 1)
                    count += 1
                    if count > self.max_events:
                        self.events.put({"event": "garbled",
                                         "why": f"more than {self.max_events} events"})
                        return
                    try:
                        event = json.loads(line)
                    except (ValueError, RecursionError):
                        event = {"event": "garbled", "why": "a line that is not JSON"}
                    if not isinstance(event, dict):
                        event = {"event": "garbled", "why": "a line that is not a JSON object"}
                    self.events.put(event)
                if len(buffer) > MAX_EVENT_BYTES:
                    self.events.put({"event": "garbled", "why": "an event larger than "
                                     f"{MAX_EVENT_BYTES // 2**20} MiB"})
                    return  # read no more: the run ends
        except OSError:
            pass
        finally:
            self.events.put(None)
            os.close(self._from_runner)

    def _read_tripwire(self) -> None:
        """bubblewrap's stdout and stderr: a tripwire. Only bubblewrap's own start-up errors
        (and Python's) belong there, up to the mark the runner writes just before it points its
        own streams at /dev/null. Bytes after the mark come from learner code writing to
        ``/proc/1/fd/1`` or ``/2`` (the sandbox's PID 1): the first 4 kB are kept, the rest
        read and dropped, so no flood reaches memory or disk."""
        told, marked = False, False
        while True:
            try:
                chunk = os.read(self._tripwire, 2**16)
            except OSError:
                break
            if not chunk:
                break
            if not marked:
                self.stderr += chunk
                if RUNNER_MARK not in self.stderr:
                    self.stderr = self.stderr[-8000:]
                    continue
                self.stderr, _, chunk = self.stderr.partition(RUNNER_MARK)
                marked = True
                if not chunk:
                    continue
            if len(self.tripped) < 4000:
                self.tripped = (self.tripped + chunk)[:4000]
            if not told:
                told = True
                self.events.put({"event": "_tripwire"})
        os.close(self._tripwire)

    def send(self, timeout: float = _SEND_TIMEOUT, **message) -> None:
        """Write one JSON line; ChannelError if the runner does not take it within ``timeout``."""
        data = json.dumps(message).encode() + b"\n"
        deadline = time.monotonic() + timeout
        view = memoryview(data)
        while view:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ChannelError(f"the runner took no input for {timeout:g} s")
            try:
                _, ready, _ = select.select([], [self._to_runner], [], min(left, 1.0))
            except (OSError, ValueError) as exc:
                raise ChannelError(f"the channel to the runner is closed ({exc})") from None
            if not ready:
                continue
            try:
                view = view[os.write(self._to_runner, view):]
            except BlockingIOError:
                continue
            except OSError as exc:
                raise ChannelError(f"the channel to the runner is closed ({exc})") from None

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

    def kill(self, why: str = "") -> None:
        if why and not self.killed_by_grader and self.proc.poll() is None:
            self.killed_by_grader = why
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)  # bwrap, and (its PID namespace) all
            except (ProcessLookupError, PermissionError):
                pass
        if self.group is not None:
            self.group.kill()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def close(self) -> None:
        self.kill()
        try:
            os.close(self._to_runner)
        except OSError:
            pass
        if self.group is not None:
            self.group.remove()


_INTERRUPTED = "the grading was interrupted"
_STEP_STATUSES = {"ok", "error", "timeout", "unresponsive", "died", "total_timeout"}


class Interrupted(Exception):
    """The grading was interrupted (Ctrl-C) while this submission ran: it is not kept."""


def _summary(event) -> str:
    """A short, printable description of an event, for the instructor's log."""
    if not isinstance(event, dict):
        return repr(event)[:120]
    parts = [f"{k}={str(v)[:60]!r}" for k, v in list(event.items())[:4]]
    return "{" + ", ".join(parts) + "}"


class _Session:
    """The grader's side of one run: the plan's events expected in order, with deadlines.

    The runner reports every step in order; a ``settle`` is answered only when the plan expects
    that exercise's settle next (the reference goes in once, after the exercise's outcomes came
    out). Any other event, an event too large, too many events, or a broken line ends the run
    as ``interfered``, with a line for the instructor saying what arrived.
    """

    def __init__(self, grader, sub, runner, steps, exercises, results, runs):
        self.grader, self.sub, self.runner = grader, sub, runner
        self.steps, self.exercises, self.results, self.runs = steps, exercises, results, runs
        self.limits = grader.limits
        self.hello = self.started = self.failed = False
        self.next_step = 0
        self.settled: int | None = None  # the settle step answered, not yet reported
        self.pending: str = ""  # exercise whose outcomes come next
        self.last_step = None

    def interfered(self, what: str) -> None:
        self.runner.kill("interference")
        self.sub.interfered = True
        self.sub.add_status("interfered", f"The grader's channel was tampered with: {what}. "
                            "The run was ended there; nothing of this notebook scores.")
        self.sub.log.append(f"--- INTERFERENCE: {what}")

    def run(self, job: dict) -> None:
        runner, limits = self.runner, self.limits
        start = time.monotonic()
        total = start + limits.total_timeout + _KERNEL_START + 60
        quiet_for = _HELLO_TIMEOUT
        last = start
        sent_job = False
        while True:
            now = time.monotonic()
            silent = last + quiet_for
            event = runner.next(min(total, silent, now + _STOPPED_CHECK))
            now = time.monotonic()
            if event == "timeout":
                if runner.runner_stopped():
                    self.interfered("the runner inside the sandbox was stopped (SIGSTOP)")
                    return
                if now >= total:
                    runner.kill("the total time limit")
                    self.sub.add_status("total_timeout", "The notebook reached the total time "
                                        f"limit of {limits.total_timeout:g} s and was stopped.")
                    return
                if now >= silent:
                    self._silent(now - last)
                    return
                continue
            if event is None:
                self._ended()
                return
            last = now
            kind = event.get("event")
            if kind == "hello" and not self.hello:
                self.hello = True
                if runner.stderr.strip():
                    self.sub.log.append("--- the sandbox's start-up output: " + printable(
                        runner.stderr[-500:].decode("utf-8", "replace")))
                quiet_for = _KERNEL_START + 60
                try:
                    runner.send(timeout=_SEND_TIMEOUT + len(json.dumps(job)) / 2**20, **job)
                except ChannelError as exc:
                    self._channel_failed(str(exc))
                    return
                sent_job = True
            elif kind == "_tripwire":
                if self.hello:
                    time.sleep(0.2)  # a little more of what was written, for the log
                    text = runner.tripped[:300].decode("utf-8", "replace")
                    self.interfered("the notebook wrote into the output of the sandbox's PID 1 "
                                    "(/proc/1/fd/1 or /proc/1/fd/2: the old channel to the "
                                    f"grader): '{printable(text)}'")
                    return
                continue  # before the runner ran: bubblewrap's or Python's own error
            elif not sent_job:
                self.interfered(f"an event before the runner started: {_summary(event)}")
                return
            elif kind == "started" and not self.started and not self.failed:
                self.started = True
                quiet_for = limits.cell_timeout + _CELL_MARGIN
                self.sub.log.append(f"--- kernel started in {_float(event.get('seconds'))} s")
            elif kind == "settle" and self._settle_expected(event):
                ex = self.exercises[event["exercise"]]
                passed = self.results.get(ex.id, ("",))[0] == "passed"
                source = None if passed else self.grader._fallback(ex, self.exercises,
                                                                   self.results)
                self.settled = self.next_step
                try:
                    runner.send(source=source)
                except ChannelError as exc:
                    self._channel_failed(str(exc))
                    return
            elif kind == "step" and self._step_expected(event):
                step = self.steps[self.next_step]
                self.next_step += 1
                self.settled = None
                event = {"status": event["status"], "seconds": _float(event.get("seconds")),
                         "output": str(event.get("output") or "")[-20000:],
                         "ename": str(event.get("ename") or "")[:200],
                         "evalue": str(event.get("evalue") or "")[:500]}
                self.last_step = (step, event)
                self.grader._describe_step(self.sub, step, event)
                if step.exercise:
                    self.runs.setdefault(step.exercise, {})[step.kind] = event
                if step.kind == "record" and event["status"] in ("ok", "error"):
                    self.pending = step.exercise
            elif kind == "outcomes" and self.pending and event.get("exercise") == self.pending:
                ex = self.exercises[self.pending]
                self.pending = ""
                self.results[ex.id] = self.grader._verdict(ex, event.get("data"))
            elif kind == "failed" and not self.failed:
                self.failed = True
                self.sub.add_status("kernel_failed", "The kernel could not be started: "
                                    f"{str(event.get('error'))[:300]}")
            elif kind == "runner_error":
                runner.kill("the runner failed")
                if runner.group is not None and runner.group.pids_exhausted():
                    self._process_limit()
                    return
                self.sub.add_status("grader_error", "The grader's runner failed: "
                                    f"{str(event.get('error'))[:300]}")
                self.sub.log.append(str(event.get("traceback", ""))[-2000:])
                return
            elif kind == "done" and not self.pending and self.settled is None:
                group = runner.group
                self.grader._describe_end(self.sub, self.last_step, event,
                                          oom=group is not None and group.oom_kills() > 0)
                if group is not None and group.pids_exhausted():
                    self._process_limit()
                try:
                    runner.proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    runner.kill("it did not exit after its last event")
                return
            elif kind == "garbled":
                self.interfered(f"the channel carried {event.get('why', 'a broken line')}")
                return
            else:
                self.interfered(f"the channel carried an event the plan did not expect at step "
                                f"{self.next_step + 1} of {len(self.steps)}: {_summary(event)}")
                return

    def _settle_expected(self, event) -> bool:
        i = self.next_step
        return (self.started and not self.pending and self.settled is None
                and i < len(self.steps) and self.steps[i].kind == "settle"
                and event.get("exercise") == self.steps[i].exercise
                and self.steps[i].exercise in self.exercises)

    def _step_expected(self, event) -> bool:
        i = self.next_step
        if not (self.started and not self.pending and event.get("i") == i < len(self.steps)
                and event.get("status") in _STEP_STATUSES):
            return False
        if self.steps[i].kind == "settle" and self.settled != i:
            return event.get("status") == "total_timeout"  # the time ran out before it
        return True

    def _process_limit(self) -> None:
        self.sub.add_status("process_limit", "The notebook started more processes or threads "
                            f"than the {self.limits.max_processes} its sandbox allows; what "
                            "failed for that was not graded.")

    def _channel_failed(self, why: str) -> None:
        if self.runner.runner_stopped():
            self.interfered("the runner inside the sandbox was stopped (SIGSTOP)")
            return
        self.runner.kill("the channel failed")
        self.sub.add_status("runner_unresponsive", f"The grader's runner stopped taking input "
                            f"({why}) and was stopped; what it had not reported was not graded.")

    def _silent(self, seconds: float) -> None:
        self.runner.kill("it was silent past its deadline")
        if not self.hello:
            self.sub.add_status("grader_error", "The grader's runner did not start in its "
                                f"sandbox within {seconds:.0f} s.")
        elif not self.started:
            self.sub.add_status("kernel_failed", "The kernel did not start within "
                                f"{seconds:.0f} s.")
        else:
            self.sub.add_status("runner_unresponsive", "The grader's runner sent nothing for "
                                f"{seconds:.0f} s (the time per cell plus {_CELL_MARGIN:g} s) "
                                "and was stopped; what it had not reported was not graded.")

    def _ended(self) -> None:
        """The channel closed before the runner's last event: find out why, blame with evidence."""
        runner = self.runner
        try:
            code = runner.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            runner.kill("its channel closed but it did not exit")
            code = runner.proc.returncode
        if runner.killed_by_grader:
            return
        group = runner.group
        if group is not None and group.oom_kills() > 0:
            self.sub.add_status("out_of_memory", "The sandbox as a whole ran out of memory (the "
                                f"limit is {self.limits.memory_bytes / 2**30:g} GiB for all its "
                                "processes); what was not reported was not graded.")
            return
        if group is not None and group.pids_exhausted() and self.started:
            self._process_limit()
            return
        if not self.started:
            self.sub.add_status("grader_error", "The grader's runner ended before the kernel "
                                f"started (exit code {code}): the grader's fault, not the "
                                "notebook's. " + runner.stderr.decode("utf-8", "replace")[-300:])
            return
        signum = code - 128 if isinstance(code, int) and code > 128 else (
            -code if isinstance(code, int) and code < 0 else None)
        if signum is not None:
            try:
                name = signal.Signals(signum).name
            except ValueError:
                name = f"signal {signum}"
            self.interfered(f"the runner inside the sandbox was killed by {name}, which only "
                            "the notebook's code could send")
            return
        self.sub.add_status("grader_error", f"The grader's runner ended (exit code {code}) "
                            "before its last report; what it had not reported was not graded.")


def _float(value) -> float:
    ok = isinstance(value, (int, float)) and math.isfinite(value)
    return round(float(value), 2) if ok else 0.0


class Grader:
    """Grades submissions one by one (thread-safe: :meth:`grade` may run in several threads).

    Expected outcomes of every exercise are computed here, once, before any submission runs.
    """

    def __init__(self, lessons: Sequence[Lesson], limits: Limits, *, use_sandbox: bool = True,
                 needed: set[str] | None = None, cgroup_method=None, run_all: bool = False):
        self.lessons = list(lessons)
        self.run_all = run_all  # run every code cell (the plan before issue 24)
        self.limits = limits
        self.use_sandbox = use_sandbox
        self.cgroup_method = cgroup_method  # grader.cgroups.Method, or None: rlimits only
        self.stopping = threading.Event()  # set on Ctrl-C: no new runner, live ones killed
        self._live: set[_Runner] = set()
        self._live_lock = threading.Lock()
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

    def command(self, channel: tuple[int, int]) -> list[str]:
        if self.use_sandbox:
            return sandbox.bwrap_command(tmp_bytes=self.limits.file_bytes + 64 * 2**20,
                                         overlays=self.overlays, channel=channel)
        return [sys.executable, "-I", "-m", "grader.runner", *map(str, channel)]

    @property
    def limits_in_force(self) -> str:
        return self.cgroup_method.name if self.cgroup_method is not None else "rlimits only"

    def stop(self) -> None:
        """Ctrl-C: start no more runners, kill the live ones (their submissions are not kept)."""
        self.stopping.set()
        with self._live_lock:
            live = list(self._live)
        for runner in live:
            runner.kill(_INTERRUPTED)

    def _start_runner(self, workdir: Path | None, *, max_events: int,
                      capture_stderr: bool = False) -> _Runner:
        if self.stopping.is_set():
            raise Interrupted()
        group = None
        if self.cgroup_method is not None:
            group = self.cgroup_method.create(
                memory_bytes=self.limits.memory_bytes, processes=self.limits.max_processes,
                cpus=self.limits.cpus)
        try:
            runner = _Runner(self.command, sandboxed=self.use_sandbox, workdir=workdir,
                             group=group, max_events=max_events, capture_stderr=capture_stderr)
        except BaseException:
            if group is not None:
                group.remove()
            raise
        with self._live_lock:
            self._live.add(runner)
        if self.stopping.is_set():
            runner.kill(_INTERRUPTED)
        return runner

    def _end_runner(self, runner: _Runner) -> None:
        runner.close()
        with self._live_lock:
            self._live.discard(runner)

    def grade(self, found: Found, stem: str) -> Submission:
        """Grade one file; never raises for what the file contains or does."""
        sub = Submission(found.name, stem, sandboxed=self.use_sandbox)
        start = time.monotonic()
        try:
            self._grade_into(sub, found)
        except Interrupted:
            raise
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
        selection = select_cells(cells, lesson, run_all=self.run_all)
        steps = plan(cells, lesson, selection=selection)
        sub.ran = selection.summary()
        sub.own_cells = {c.index for c in cells if c.cell_type == "code" and c.source.strip()
                         and c.source.strip() not in lesson.code_sources
                         and not c.grade_id.endswith("-answer")}
        sub.log.append(f"--- plan: {sub.ran}")
        if selection.skipped:
            sub.log.append("--- skipped (define nothing the answers use): cells "
                           + ", ".join(str(i + 1) for i in selection.skipped))
        for index, why in sorted(selection.unsure.items()):
            sub.log.append(f"--- cell {index + 1} runs because the analysis cannot be sure "
                           f"about it: {why}")
        results, runs = self._run(sub, lesson, steps)
        for ex in lesson.exercises:
            status, message = self._exercise_status(ex, answers.get(ex.id), results, runs)
            if sub.interfered and status not in ("not_run", "missing"):
                status, message = "not_graded", ("the notebook tampered with the grader's "
                                                 "channel, so none of its results count")
            sub.rows.append({"submission": sub.name, "lesson": lesson.name, "exercise": ex.id,
                             "points": _num(ex.points if status == "passed" else 0),
                             "max_points": _num(ex.points), "status": status,
                             "message": message, "title": ex.title})

    # -- running the plan ---------------------------------------------------------------------

    def _run(self, sub: Submission, lesson: Lesson, steps, *, capture_stderr: bool = False):
        """Run the steps in a runner; returns ({exercise: verdict}, {exercise: {kind: status}})."""
        exercises = {ex.id: ex for ex in lesson.exercises}
        results: dict[str, tuple[str, str]] = {}
        runs: dict[str, dict[str, dict]] = {}
        job = {"steps": [s.to_json() for s in steps], "limits": self.limits.to_json()}
        with tempfile.TemporaryDirectory(prefix="neural-ode-grade-") as tmp:
            workdir = None if self.use_sandbox else Path(tmp)
            runner = self._start_runner(workdir, max_events=4 * len(steps) + 16,
                                        capture_stderr=capture_stderr)
            try:
                _Session(self, sub, runner, steps, exercises, results, runs).run(job)
            finally:
                self._end_runner(runner)
            if runner.killed_by_grader == _INTERRUPTED:
                raise Interrupted()
        return results, runs

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
        if step.kind == "cell" and step.cell in sub.own_cells:
            where = f"your own cell {step.cell + 1}"
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

    def _describe_end(self, sub: Submission, last_step, event: dict, *, oom: bool = False
                      ) -> None:
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
            elif oom or _OOM.search(tail):
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


class PreflightFailed(RuntimeError):
    """The grader's own run of a known-good notebook failed: grading would blame students."""


def preflight(grader: Grader) -> str:
    """Run the real runner path (sandbox, runner, kernel, a case run, a settle) on a known-good
    notebook: the reference of one exercise as its answer. Returns what ran; raises
    :class:`PreflightFailed` naming the cause when it did not pass."""
    from .plan import Step

    ex = next((ex for lesson in grader.lessons for ex in lesson.exercises
               if ex.id in grader.expected and grader.references.get(ex.id)), None)
    if ex is None:
        return "no exercise to run"
    lesson = next(lesson for lesson in grader.lessons if ex in lesson.exercises)
    source = grader.references[ex.id][0]
    common = {"cell": 0, "exercise": ex.id, "answer_name": ex.answer_name}
    steps = [Step("forget", **common), Step("cell", source, **common), Step("record", **common),
             Step("settle", **common)]
    sub = Submission("(preflight)", "preflight", sandboxed=grader.use_sandbox)
    fake = Lesson(lesson.name, [], [ex], {})
    try:
        results, _ = grader._run(sub, fake, steps, capture_stderr=True)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PreflightFailed(f"the sandbox could not be started: {exc}") from None
    verdict = results.get(ex.id, ("no result", ""))
    if verdict[0] == "passed" and not sub.notebook_status:
        return f"{ex.id} passed in a {'sandboxed ' if grader.use_sandbox else ''}runner"
    causes = [f"{status}: {' '.join(sub.notes.get(status, []))}" for status in
              sub.notebook_status] or [f"the known-good answer came out {verdict[0]}: {verdict[1]}"]
    tail = "\n".join(sub.log)[-1500:]
    raise PreflightFailed(
        "the grader's own check failed before grading anyone: a known-good notebook (the "
        f"reference of {ex.id}) did not pass in the {'sandbox' if grader.use_sandbox else 'runner'}"
        f". Cause: {'; '.join(causes)[:1500]}" + (f"\nIts log:\n{tail}" if tail.strip() else "")
        + "\nNothing was graded. (A course environment that cannot import itself inside the "
        "sandbox, e.g. after 'pip install -e' of another checkout into the same environment, "
        "does this: use one environment per checkout.)")


def grade_folder(folder: Path, out: Path, *, limits: Limits | None = None, jobs: int = 1,
                 lessons: Sequence[Lesson] | None = None, use_sandbox: bool = True,
                 shard: tuple[int, int] | None = None, quiet: bool = False,
                 resume: bool = False, cgroup: str | None = "auto", run_all: bool = False,
                 _after_start=None) -> list[Submission]:
    """Grade every notebook under ``folder`` (or one shard of them) into ``out``.

    Rows are written as each notebook finishes (``grades.csv`` replaced atomically), so an
    interrupt, a crash or ``kill -9`` of the grader keeps every finished grade. Ctrl-C stops
    the run within seconds (runners killed, pending notebooks cancelled) and says what was
    kept; ``resume`` grades only the submissions ``out/grades.csv`` does not hold yet.
    ``cgroup``: "auto" (the strongest method, :mod:`grader.cgroups`), one of its method names,
    or None (per-process limits only). ``run_all``: run every code cell of every submission
    (the default runs only the cells the grades depend on, :func:`grader.plan.select`).
    Returns the submissions graded in this run, in the order
    of grades.csv.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from . import cgroups
    from .notebooks import file_stem, find_skipped, find_submissions
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
    method = None
    if cgroup is not None:
        method = cgroups.choose(None if cgroup == "auto" else cgroup)
        if method.name == cgroups.RLIMITS:
            method = None
    lessons = load_lessons() if lessons is None else lessons
    found = [f for f in find_submissions(folder) if in_shard(f, shard)]
    skipped = [(f, why) for f, why in find_skipped(folder) if in_shard(f, shard)]
    stems = {f.relative: file_stem(f.relative) for f in found + [f for f, _ in skipped]}
    found.sort(key=lambda f: (f.name, stems[f.relative]))
    order = {stems[f.relative]: (f.name, stems[f.relative]) for f in found}
    order.update({stems[f.relative]: (f.name, stems[f.relative]) for f, _ in skipped})
    report = Report(out, sorted(order, key=lambda s: order[s]), resume=resume,
                    log_bytes=limits.log_bytes)
    kept_before = len(report.done)
    todo = [f for f in found if stems[f.relative] not in report.done]
    needed = set()
    for f in todo:  # which lessons were submitted: expected values only for those
        try:
            lesson = identify_lesson(read_cells(f.path), lessons)
        except Unreadable:
            continue
        if lesson is not None:
            needed.add(lesson.name)
    grader = Grader(lessons, limits, use_sandbox=use_sandbox, needed=needed,
                    cgroup_method=method, run_all=run_all)
    if not quiet:
        how = method.name if method is not None else "rlimits only"
        print(f"limits per sandbox: {how} (memory {limits.memory_bytes / 2**30:g} GiB, "
              f"{limits.max_processes} processes, {limits.cpus:g} CPU)", flush=True)
    if needed:
        done_pre = preflight(grader)
        if not quiet:
            print(f"preflight: {done_pre}", flush=True)
    for f, why in skipped:
        if stems[f.relative] in report.done:
            continue
        sub = Submission(f.name, stems[f.relative], sandboxed=use_sandbox)
        sub.add_status("skipped", why)
        report.add(sub)
    start = time.monotonic()
    done: list[Submission] = []

    def finish(sub: Submission) -> None:
        report.add(sub)
        done.append(sub)
        if not quiet:
            print(f"{_printable(sub.name)}: {sub.lesson or '?'} {_num(sub.points)}/"
                  f"{_num(sub.max_points)} ({'; '.join(sub.notebook_status) or 'ok'}) in "
                  f"{sub.seconds:.1f} s", flush=True)

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    futures = {pool.submit(grader.grade, f, stems[f.relative]): f for f in todo}
    pending = set(futures)
    try:
        if _after_start is not None:
            _after_start()
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    finish(future.result())
                except Interrupted:
                    pass
    except KeyboardInterrupt:
        grader.stop()
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + 20
        for future in pending:
            if future.cancelled():
                continue
            try:
                future.result(timeout=max(0.1, deadline - time.monotonic()))
            except BaseException:
                pass
        kept = len(report.done)
        missing = len(found) + len(skipped) - kept
        print(f"\nInterrupted: {out / 'grades.csv'} keeps {kept} graded submission"
              f"{'s' if kept != 1 else ''} ({len(done)} finished in this run); {missing} not "
              f"graded. Run again with --resume to grade only those.", file=sys.stderr,
              flush=True)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if not quiet:
        minutes = (time.monotonic() - start) / 60
        rate = f", {len(done) / minutes:.1f} per minute" if done and minutes > 0 else ""
        again = f" ({kept_before} kept from before)" if kept_before else ""
        print(f"graded {len(done)} notebooks in {minutes * 60:.1f} s{rate}{again}: "
              f"{out / 'grades.csv'}")
    position = {stem: i for i, stem in enumerate(report.order)}
    return sorted(done, key=lambda s: position[s.stem])


def _printable(text: str) -> str:
    from .report import printable

    return printable(text)
