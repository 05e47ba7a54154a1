"""The limits one submission runs under, and how long a kernel gets to start.

The lowest layer of the grader outside the sandbox: plain values, no imports of the grader's
other modules. :mod:`grader.runner` (inside the sandbox) reads :data:`KERNEL_START` from here too.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["KERNEL_START", "Limits"]

#: Seconds a kernel gets to start and import the course, on top of the total time limit.
KERNEL_START = 120.0


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

