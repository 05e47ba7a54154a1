"""The in-sandbox runner: ``python -m grader.runner``, started by :mod:`grader.sandbox`.

It reads one job (a JSON line: the plan's steps and the limits), starts a fresh kernel with the
memory and file caps, runs the steps with :class:`grader.execution.CourseClient`, and reports what
happened as JSON lines:

    {"event": "hello"}                          as soon as the runner runs (before the kernel)
    {"event": "started"}
    {"event": "step", "i": 3, "status": "ok" | "error" | "timeout" | "unresponsive" | "died", ...}
    {"event": "outcomes", "exercise": "ex01_euler_step", "data": <what record wrote, or null>}
    {"event": "settle", "exercise": "ex01_euler_step"}   then one JSON line back:
                                                       {"source": <reference source> | null}
    {"event": "failed", "error": "..."}         the kernel could not start
    {"event": "runner_error", "error": "..."}   a bug of the runner (the grader's fault)
    {"event": "done", "output_dropped": 0, "exit_code": null, "stderr_tail": "..."}

**The channel.** Job, events and replies travel on two pipes the grader passes as extra file
descriptors (``python -m grader.runner IN_FD OUT_FD``), never on standard input and output:
bubblewrap's PID 1 closes every extra descriptor it inherits (it keeps only its stdio, which the
grader points at ``/dev/null``), so inside the sandbox only this process holds the channel. It
moves the pipes to new close-on-exec descriptors (the kernel it starts inherits nothing) and
makes itself non-dumpable first, so the learner's code (same user, same sandbox) can open no
``/proc/*/fd`` entry that reaches the channel, nor read this process's memory. What it reads
from the kernel is data the learner's code could have forged; the grader outside treats it as
such.
"""

from __future__ import annotations

import ctypes
import json
import math
import os
import stat
import sys
import time
from pathlib import Path

from .limits import KERNEL_START

_PR_SET_DUMPABLE = 4
_MAX_OUTCOMES_BYTES = 2 * 2**20  # honest outcomes: under 30 kB; the grader's cap: 4 MiB
#: Written to bubblewrap's stderr just before the runner points its streams at /dev/null: bytes
#: after it on that tripwire came from learner code (:mod:`grader.runner_process` watches it).
RUNNER_MARK = b"\0neural-ode-grade runner: streams closed\0"


class _Channel:
    """The two pipes to the grader, on private close-on-exec descriptors."""

    def __init__(self, in_fd: int, out_fd: int):
        self.inp = os.fdopen(os.dup(in_fd), "rb", buffering=0)  # os.dup: not inheritable
        self.out = os.fdopen(os.dup(out_fd), "wb", buffering=0)
        os.close(in_fd)
        os.close(out_fd)
        # Nothing started from here inherits the standard streams' targets: bubblewrap's stdin
        # is /dev/null, its stdout and stderr a tripwire the grader watches (anything written
        # there after this point came from learner code); prints of this process go nowhere.
        try:  # the mark: after it, bytes on the tripwire can only come from learner code
            os.write(2, RUNNER_MARK)
        except OSError:
            pass
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):  # bubblewrap's stdout/stderr is the grader's tripwire
            os.dup2(devnull, fd)
        os.close(devnull)
        self._buffer = b""

    def send(self, **event) -> None:
        self.out.write(json.dumps(event, ensure_ascii=True).encode("ascii") + b"\n")

    def receive(self) -> dict:
        while b"\n" not in self._buffer:
            chunk = self.inp.read(2**16)
            if not chunk:
                raise EOFError("the grader closed the channel")
            self._buffer += chunk
        line, self._buffer = self._buffer.split(b"\n", 1)
        return json.loads(line)


def _whole_seconds(seconds: float) -> int:
    """nbclient's timeout is an Integer trait: a fractional one (``--cell-timeout 10.5``, or the
    time left of the total when it is less than a cell's) raises TraitError."""
    return max(1, math.ceil(seconds))


def _kernel_spec(folder: Path, limits: dict) -> None:
    """A kernel spec whose process caps its own memory and file sizes before ipykernel starts."""
    spec = folder / "kernels" / "grader"
    spec.mkdir(parents=True)
    memory, files = int(limits["memory_bytes"]), int(limits["file_bytes"])
    launcher = (
        "import resource as r; "
        f"r.setrlimit(r.RLIMIT_AS, ({memory}, {memory})); "
        f"r.setrlimit(r.RLIMIT_FSIZE, ({files}, {files})); "
        "r.setrlimit(r.RLIMIT_CORE, (0, 0)); "
        "from ipykernel import kernelapp; kernelapp.launch_new_instance()"
    )
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-c", launcher, "-f", "{connection_file}"],
        "display_name": "grader", "language": "python",
        "env": {"MALLOC_ARENA_MAX": "2", "PYDEVD_DISABLE_FILE_VALIDATION": "1"},
    }))


def _client_class():
    from .execution import CourseClient

    class GradingClient(CourseClient):
        """Keeps at most ``output_bytes`` of output in all; counts what it drops."""

        output_left = 0
        output_dropped = 0

        def output(self, outs, msg, display_id, cell_index):
            size = len(json.dumps(msg.get("content", {}), default=str))
            if size > self.output_left:
                self.output_dropped += size
                self.output_left = 0
                return None
            self.output_left -= size
            return super().output(outs, msg, display_id, cell_index)

    return GradingClient


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            parts.append(str(out.get("data", {}).get("text/plain", "")) + "\n")
        elif kind == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}\n")
    return "".join(parts)


def _step_source(step: dict, results: Path, reference: str | None) -> str:
    hook = '__import__("grader.kernel_side", fromlist=["_"])'
    kind = step["kind"]
    if kind == "cell":
        return step["source"]
    if kind == "forget":
        return f"{hook}.forget({step['answer_name']!r})"
    if kind == "record":
        return f"{hook}.record({step['exercise']!r}, {step['answer_name']!r}, {str(results)!r})"
    if kind == "settle":
        return f"{hook}.settle({step['answer_name']!r}, {reference!r})"
    raise ValueError(f"unknown step kind {kind!r}")


def _read_capped(path: Path, limit: int, *, tail: bool = False) -> bytes | None:
    """At most ``limit`` bytes of a regular file (its last ones if ``tail``), else None.

    The learner's code can replace any file under ``/tmp`` before the runner reads it: with a
    symbolic link (to ``/dev/zero``, which never ends), a FIFO (which blocks), or a huge file.
    So: no links followed, no blocking open, regular files only, never more than ``limit``.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        if tail:
            os.lseek(fd, max(0, info.st_size - limit), os.SEEK_SET)
        elif info.st_size > limit:
            return None
        chunks, size = [], 0
        while size < limit and (chunk := os.read(fd, min(2**20, limit - size))):
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks)
    except OSError:
        return None
    finally:
        os.close(fd)


def _read_outcomes(path: Path):
    raw = _read_capped(path, _MAX_OUTCOMES_BYTES)
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8", errors="replace"))
    except (ValueError, RecursionError):
        return None


def run(channel: _Channel, job: dict) -> None:
    import nbformat
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    limits = job["limits"]
    work = Path.cwd()
    private = Path(os.environ.get("GRADER_PRIVATE", "/tmp/.grader"))
    private.mkdir(parents=True, exist_ok=True)
    _kernel_spec(private, limits)
    os.environ["JUPYTER_PATH"] = str(private)
    results = work / ".grader-outcomes.json"
    steps = job["steps"]
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("") for _ in steps]
    # Imported before the learner's first cell, so that the time limit per cell does not
    # count the course's imports (torch takes seconds on a loaded machine).
    exercises = sorted({step["exercise"] for step in steps if step.get("exercise")})
    warm_up = nbformat.v4.new_code_cell(
        "import numpy, torch, utils.exercises, utils.exercises.judge, grader.kernel_side\n"
        f"grader.kernel_side.pin({exercises!r})")
    nb.cells.append(warm_up)
    replies: dict[int, dict] = {}

    def on_executed(cell, cell_index, execute_reply):
        replies[cell_index] = execute_reply.get("content", {}) if execute_reply else {}

    client = _client_class()(
        nb, kernel_name="grader", timeout=_whole_seconds(limits["cell_timeout"]),
        interrupt_on_timeout=True,
        allow_errors=True, shutdown_kernel="immediate", startup_timeout=KERNEL_START,
        resources={"metadata": {"path": str(work)}}, on_cell_executed=on_executed,
        record_timing=False, iopub_timeout=2,
    )
    client.output_left = int(limits["output_bytes"])
    start = time.monotonic()
    stderr_path = private / "kernel-stderr.txt"
    exit_code = None
    with open(stderr_path, "wb") as stderr:
        try:
            with client.setup_kernel(stdin=open(os.devnull, "rb"), stdout=stderr, stderr=stderr):
                client.timeout = _whole_seconds(KERNEL_START)
                client.execute_cell(warm_up, len(steps), store_history=False)
                replies.pop(len(steps), None)
                channel.send(event="started", seconds=round(time.monotonic() - start, 2))
                start = time.monotonic()
                for i, step in enumerate(steps):
                    left = limits["total_timeout"] - (time.monotonic() - start)
                    if left <= 0:
                        channel.send(event="step", i=i, status="total_timeout", seconds=0)
                        break
                    reference = None
                    if step["kind"] == "settle":
                        channel.send(event="settle", exercise=step["exercise"])
                        reference = channel.receive().get("source")
                    if step["kind"] == "record":
                        results.unlink(missing_ok=True)
                    cell = nb.cells[i]
                    cell.source = _step_source(step, results, reference)
                    budget = min(limits["cell_timeout"], left)
                    client.timeout = _whole_seconds(budget)
                    began = time.monotonic()
                    status, info = "ok", {}
                    try:
                        client.execute_cell(cell, i, store_history=False)
                        reply = replies.get(i, {})
                        if id(cell) in client.timed_out:
                            status = "timeout" if budget >= limits["cell_timeout"] else (
                                "total_timeout")
                        elif reply.get("status") == "error":
                            status = "error"
                            info = {"ename": str(reply.get("ename", ""))[:200],
                                    "evalue": str(reply.get("evalue", ""))[:500]}
                    except CellTimeoutError:
                        status = "unresponsive"
                    except DeadKernelError:
                        status = "died"
                    channel.send(event="step", i=i, status=status,
                                 seconds=round(time.monotonic() - began, 2),
                                 output=_text(cell.get("outputs", []))[-20000:], **info)
                    if step["kind"] == "record" and status in ("ok", "error"):
                        data = _read_outcomes(results)
                        if len(json.dumps(data, ensure_ascii=True)) > _MAX_OUTCOMES_BYTES:
                            data = None  # escaped text grows: keep under the grader's cap
                        channel.send(event="outcomes", exercise=step["exercise"], data=data)
                    if status in ("unresponsive", "died"):
                        break
                process = getattr(client.km.provisioner, "process", None)
                exit_code = process.poll() if process is not None else None
        except Exception as exc:  # the kernel could not start, or the client failed
            if not isinstance(exc, (CellTimeoutError, DeadKernelError)):
                channel.send(event="failed", error=f"{type(exc).__name__}: {exc}"[:500])
    tail = (_read_capped(stderr_path, 2000, tail=True) or b"").decode("utf-8", "replace")
    channel.send(event="done", output_dropped=client.output_dropped, exit_code=exit_code,
                 stderr_tail=tail)


def main(argv: list[str] | None = None) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        return 3
    argv = sys.argv[1:] if argv is None else argv
    try:
        in_fd, out_fd = int(argv[0]), int(argv[1])
    except (IndexError, ValueError):
        return 4
    channel = _Channel(in_fd, out_fd)
    try:
        channel.send(event="hello")
        job = channel.receive()
        run(channel, job)
    except Exception as exc:  # a bug of the runner: say so on the channel, never on stderr
        import traceback

        try:
            channel.send(event="runner_error",
                         error=f"{type(exc).__name__}: {exc}"[:300],
                         traceback=traceback.format_exc()[-2000:])
        except OSError:
            pass
        return 5
    return 0


if __name__ == "__main__":
    sys.exit(main())
