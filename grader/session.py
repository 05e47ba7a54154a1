"""The grader's side of one run: the plan's events expected in order, with deadlines.

:class:`Session` reads the events of one :class:`~grader.runner_process.RunnerProcess`, answers
its settles, hands steps and outcomes to the grader (:class:`grader.grade.Grader`), and decides
from evidence why a run ended early: a time limit, a silent runner, a kernel that did not start,
memory, processes, or interference with the channel.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import time

from . import describe
from .limits import KERNEL_START
from .notebooks import printable
from .runner_process import SEND_TIMEOUT, ChannelError

__all__ = ["INTERRUPTED", "Interrupted", "Session"]

_STOPPED_CHECK = 2.0  # seconds between checks that the runner has not been stopped
_HELLO_TIMEOUT = 60.0  # seconds the runner gets to say hello (Python, no kernel yet)
_CELL_MARGIN = 60.0  # on top of the time per cell: the interrupt's grace, a kernel's shutdown


INTERRUPTED = "the grading was interrupted"
_STEP_STATUSES = {"ok", "error", "timeout", "unresponsive", "died", "total_timeout"}


class Interrupted(Exception):
    """The grading was interrupted (Ctrl-C) while this submission ran: it is not kept."""


def _summary(event) -> str:
    """A short, printable description of an event, for the instructor's log."""
    if not isinstance(event, dict):
        return repr(event)[:120]
    parts = [f"{k}={str(v)[:60]!r}" for k, v in list(event.items())[:4]]
    return "{" + ", ".join(parts) + "}"


class Session:
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
        total = start + limits.total_timeout + KERNEL_START + 60
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
                quiet_for = KERNEL_START + 60
                try:
                    runner.send(timeout=SEND_TIMEOUT + len(json.dumps(job)) / 2**20, **job)
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
                source = None if passed else self.grader.fallback(ex, self.exercises,
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
                describe.step_report(self.sub, self.limits, step, event)
                if step.exercise:
                    self.runs.setdefault(step.exercise, {})[step.kind] = event
                if step.kind == "record" and event["status"] in ("ok", "error"):
                    self.pending = step.exercise
            elif kind == "outcomes" and self.pending and event.get("exercise") == self.pending:
                ex = self.exercises[self.pending]
                self.pending = ""
                self.results[ex.id] = self.grader.verdict(ex, event.get("data"))
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
                describe.run_end(self.sub, self.limits, self.last_step, event,
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

