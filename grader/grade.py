"""The Grader: one submission read, matched, planned, run in its sandbox and turned into rows.

Expected values are computed once, when the :class:`Grader` is made; :meth:`Grader.grade` may
then run in several threads. The words for what happened are :mod:`grader.describe`'s; the run
itself is :mod:`grader.session`'s.
"""

from __future__ import annotations

import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from utils.course import exercise_of_answer

from . import describe, sandbox, twins, verdicts
from .lesson_index import Lesson, identify_lesson
from .limits import Limits
from .notebooks import Found, Unreadable, read_cells
from .plan import plan
from .plan import select as select_cells
from .runner_process import RunnerProcess
from .session import INTERRUPTED, Interrupted, Session
from .structure import structure_problems
from .submission import Submission, points_text, sentence

__all__ = ["Grader"]


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
        self._live: set[RunnerProcess] = set()
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
            runner.kill(INTERRUPTED)

    def _start_runner(self, workdir: Path | None, *, max_events: int) -> RunnerProcess:
        if self.stopping.is_set():
            raise Interrupted()
        group = None
        if self.cgroup_method is not None:
            group = self.cgroup_method.create(
                memory_bytes=self.limits.memory_bytes, processes=self.limits.max_processes,
                cpus=self.limits.cpus)
        try:
            runner = RunnerProcess(self.command, sandboxed=self.use_sandbox, workdir=workdir,
                             group=group, max_events=max_events)
        except BaseException:
            if group is not None:
                group.remove()
            raise
        with self._live_lock:
            self._live.add(runner)
        if self.stopping.is_set():
            runner.kill(INTERRUPTED)
        return runner

    def _end_runner(self, runner: RunnerProcess) -> None:
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
            sub.add_status(status, sentence(text) + ".")
        answers = {exercise_of_answer(c.grade_id): c for c in cells
                   if c.cell_type == "code" and exercise_of_answer(c.grade_id) is not None}
        selection = select_cells(cells, lesson, run_all=self.run_all)
        steps = plan(cells, lesson, selection=selection)
        sub.ran = selection.summary()
        sub.own_cells = {c.index for c in cells if c.cell_type == "code" and c.source.strip()
                         and c.source.strip() not in lesson.code_sources
                         and exercise_of_answer(c.grade_id) is None}
        sub.log.append(f"--- plan: {sub.ran}")
        if selection.skipped:
            sub.log.append("--- skipped (define nothing the answers use): cells "
                           + ", ".join(str(i + 1) for i in selection.skipped))
        for index, why in sorted(selection.unsure.items()):
            sub.log.append(f"--- cell {index + 1} runs because the analysis cannot be sure "
                           f"about it: {why}")
        results, runs = self.run_steps(sub, lesson, steps)
        for ex in lesson.exercises:
            status, message = describe.exercise_status(ex, answers.get(ex.id), results, runs,
                                                      self.limits)
            if sub.interfered and status not in ("not_run", "missing"):
                status, message = "not_graded", ("the notebook tampered with the grader's "
                                                 "channel, so none of its results count")
            sub.rows.append({"submission": sub.name, "lesson": lesson.name, "exercise": ex.id,
                             "points": points_text(ex.points if status == "passed" else 0),
                             "max_points": points_text(ex.points), "status": status,
                             "message": message, "title": ex.title})

    # -- running the plan ---------------------------------------------------------------------

    def run_steps(self, sub: Submission, lesson: Lesson, steps):
        """Run the steps in a runner; returns ({exercise: verdict}, {exercise: {kind: status}})."""
        exercises = {ex.id: ex for ex in lesson.exercises}
        results: dict[str, tuple[str, str]] = {}
        runs: dict[str, dict[str, dict]] = {}
        job = {"steps": [s.to_json() for s in steps], "limits": self.limits.to_json()}
        with tempfile.TemporaryDirectory(prefix="neural-ode-grade-") as tmp:
            workdir = None if self.use_sandbox else Path(tmp)
            runner = self._start_runner(workdir, max_events=4 * len(steps) + 16)
            try:
                Session(self, sub, runner, steps, exercises, results, runs).run(job)
            finally:
                self._end_runner(runner)
            if runner.killed_by_grader == INTERRUPTED:
                raise Interrupted()
        return results, runs

    def fallback(self, ex, exercises, results) -> str | None:
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

    def verdict(self, ex, data) -> tuple[str, str]:
        if ex.id not in self.expected and ex.id not in self.expected_errors:
            return "not_graded", "the grader computed no expected values for this lesson"
        if ex.id in self.expected_errors:
            return "not_graded", ("the course's expected values could not be computed: "
                                  + self.expected_errors[ex.id])
        return verdicts.verdict(ex, data, self.expected[ex.id])
