"""Running a notebook's cells on a kernel: nbclient, with one fix, shared by the build and grader.

The fix: nbclient 0.11 waits for a cell's reply with one ``get_msg(timeout=cell_timeout)`` on the
shell channel. In a fresh client process this sometimes misses the wake-up: a cell that creates
an ipywidgets ``interact`` then blocks until the cell timeout and only then finishes, with correct
outputs (measured here: 4 of 6 first runs under load; upstream jupyter/nbclient#312, PR #311
still open). :class:`CourseClient` polls the shell channel in short slices (0.25 s) until the
cell's deadline instead, which did not stall in 31 runs.

It also gives a timed-out cell a grace period after the interrupt: if the kernel stops, the cell
ends with the ``KeyboardInterrupt`` error and :attr:`CourseClient.timed_out` names it; if the
kernel ignores the interrupt, :class:`~nbclient.exceptions.CellTimeoutError` is raised and the
caller decides (the grader kills the kernel).
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from queue import Empty

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError
from nbclient.util import ensure_async
from traitlets import Float

__all__ = ["CourseClient", "execute_notebook"]


class CourseClient(NotebookClient):
    """An nbclient ``NotebookClient`` that polls for each cell's reply in short slices."""

    poll_interval = Float(0.25, help="seconds per wait on the shell channel").tag(config=True)
    interrupt_grace = Float(
        10.0, help="seconds a timed-out cell gets to stop after the interrupt"
    ).tag(config=True)

    def __init__(self, nb, km=None, **kw):
        super().__init__(nb, km=km, **kw)
        self.timed_out: set[int] = set()  # ids of cells stopped by the interrupt

    async def _async_poll_for_reply(self, msg_id, cell, timeout, task_poll_output_msg,
                                    task_poll_kernel_alive):
        assert self.kc is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        interrupted = False
        while True:
            wait = self.poll_interval
            if deadline is not None:
                wait = max(0.0, min(wait, deadline - time.monotonic()))
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=wait))
            except Empty:
                if deadline is None or time.monotonic() < deadline:
                    continue
                task_poll_kernel_alive.cancel()
                await self._async_check_alive()  # DeadKernelError if it died
                if self.interrupt_on_timeout and not interrupted:
                    self.log.error("Timeout waiting for execute reply (%ss): interrupting", timeout)
                    interrupted = True
                    self.timed_out.add(id(cell))
                    await ensure_async(self.km.interrupt_kernel())
                    deadline = time.monotonic() + self.interrupt_grace
                    continue
                task_poll_output_msg.cancel()
                raise CellTimeoutError.error_from_timeout_and_cell(
                    "Cell execution timed out", timeout, cell
                ) from None
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            try:
                await asyncio.wait_for(task_poll_output_msg, self.iopub_timeout)
            except (TimeoutError, Empty):
                if self.raise_on_iopub_timeout:
                    task_poll_kernel_alive.cancel()
                    raise CellTimeoutError.error_from_timeout_and_cell(
                        "Timeout waiting for IOPub output", self.iopub_timeout, cell
                    ) from None
                self.log.warning("Timeout waiting for IOPub output")
            task_poll_kernel_alive.cancel()
            return msg


def execute_notebook(nb: nbformat.NotebookNode, *, cwd: Path, kernel_name: str,
                     timeout: float) -> float:
    """Run every cell of ``nb`` in place (outputs stored) in ``cwd``; return the wall time (s).

    Raises on the first cell error, like ``NotebookClient.execute``.
    """
    start = time.perf_counter()
    CourseClient(nb, kernel_name=kernel_name, timeout=timeout,
                 resources={"metadata": {"path": str(cwd)}}).execute()
    return time.perf_counter() - start
