"""The runner process, seen from the grader: started, spoken to on private pipes, watched, killed.

One :class:`RunnerProcess` per submission: ``python -m grader.runner`` (inside bubblewrap, or
not), its control group joined before it runs, its events read line by line with caps on size
and number, bubblewrap's own output watched as a tripwire, and a scan of ``/proc`` that tells
whether learner code stopped it (SIGSTOP). What the events mean is :mod:`grader.session`'s job.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import threading
import time
from pathlib import Path

from .runner import RUNNER_MARK

__all__ = ["MAX_EVENT_BYTES", "SEND_TIMEOUT", "ChannelError", "RunnerProcess", "child_setup"]

MAX_EVENT_BYTES = 4 * 2**20  # one line from the runner (honest outcomes are under 30 kB)
SEND_TIMEOUT = 30.0  # seconds the runner gets to take what the grader sends

_LIBC = None


def child_setup(procs_fds: list[int]):
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


class RunnerProcess:
    """One runner process (in a container, or not), spoken to on two private pipes.

    The pipes are extra descriptors of the runner (``pass_fds``); bubblewrap's stdio is
    ``/dev/null`` and its PID 1 closes extra descriptors, so nothing inside the sandbox but the
    runner holds them. Every read and write has a deadline; events are capped in size and count.
    """

    def __init__(self, cmd_for, *, sandboxed: bool, workdir: Path | None, group=None,
                 max_events: int = 10_000):
        env = None
        if not sandboxed:
            if workdir is None:
                raise ValueError("a runner outside the sandbox needs a working folder")
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
                env=env, start_new_session=True, preexec_fn=child_setup(procs))
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

    def send(self, timeout: float = SEND_TIMEOUT, **message) -> None:
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
        """Kill the runner, its container and its control group; ``why`` (kept from the first
        kill only) says the grader did it. Idempotent: :meth:`close` calls it again as the
        guarantee that nothing outlives the run, and then finds nothing alive."""
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

