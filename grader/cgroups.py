"""Limits for a sandbox as a whole: memory, processes and CPU, by a control group per submission.

Per-process limits (``RLIMIT_AS`` on the kernel) let three children of one notebook use three
times the cap, and ``RLIMIT_NPROC`` is not enforced for root. A control group (cgroup) counts
every process of the sandbox together, its private ``/tmp`` and ``/dev/shm`` included (tmpfs
pages are charged to it). The grader uses the strongest method the machine offers, in order:

1. ``cgroup v2``: a delegated cgroup v2 subtree the grader may write (``/sys/fs/cgroup`` is
   cgroup2, and the grader's own cgroup lets it create children with the ``memory``, ``pids``
   and ``cpu`` controllers: a container's own cgroup namespace, or a systemd ``Delegate=yes``
   service);
2. ``cgroup v2 (systemd-run --scope)``: one transient systemd scope per submission;
3. ``cgroup v1``: the ``memory``, ``pids`` and ``cpu`` hierarchies under ``/sys/fs/cgroup/*``,
   when they are writable (root on a cgroup v1 or hybrid machine);
4. ``rlimits only``: per-process caps (``RLIMIT_AS``, ``RLIMIT_NPROC``, ``RLIMIT_FSIZE``) and
   the wall-clock limits; no cap on the sandbox as a whole.

Which one is in force is printed at the start of every run (and by ``--help``); ``--limits``
forces one. Each submission's group caps: memory (``--memory-gb``, swap not allowed beyond it),
processes and threads (``--max-processes``), CPU (``--cpus`` cores of quota: with the wall-clock
limits, at most ``cpus × time`` of CPU time). An out-of-memory kill inside the group is counted,
so the grader can say "out of memory" instead of blaming the notebook.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Group", "Method", "choose", "describe_methods"]

ROOT = Path("/sys/fs/cgroup")
_PERIOD_US = 100_000
_NAME = "neural-ode-grade"

V2 = "cgroup v2"
SYSTEMD = "cgroup v2 (systemd-run --scope)"
V1 = "cgroup v1"
RLIMITS = "rlimits only"
METHODS = (V2, SYSTEMD, V1, RLIMITS)


def describe_methods() -> str:
    return ("cgroup v2 (a delegated subtree), cgroup v2 through systemd-run --scope, cgroup v1 "
            "(memory, pids, cpu), else per-process rlimits only")


@dataclass
class Group:
    """One submission's control group (or none, for ``rlimits only``)."""

    method: str
    paths: list[Path] = field(default_factory=list)  # cgroup folders (v1: one per hierarchy)
    prefix: list[str] = field(default_factory=list)  # command prefix (systemd-run)
    unit: str = ""

    def procs_files(self) -> list[str]:
        """Files the sandbox's first process writes its pid into (before it execs bwrap)."""
        return [str(p / "cgroup.procs") for p in self.paths]

    def _scope_path(self) -> Path | None:
        if self.method != SYSTEMD or not self.unit:
            return None
        try:
            out = subprocess.run(["systemctl", "show", "-P", "ControlGroup", f"{self.unit}.scope"],
                                 capture_output=True, text=True, timeout=5).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return None
        return ROOT / out.lstrip("/") if out else None

    def oom_kills(self) -> int:
        """How many processes the kernel killed for memory in this group so far."""
        paths = list(self.paths)
        scope = self._scope_path()
        if scope is not None:
            paths.append(scope)
        total = 0
        for path in paths:
            for name, key in (("memory.events", "oom_kill"), ("memory.oom_control", "oom_kill")):
                try:
                    for line in (path / name).read_text().splitlines():
                        parts = line.split()
                        if len(parts) == 2 and parts[0] == key:
                            total += int(parts[1])
                except (OSError, ValueError):
                    continue
        return total

    def pids_exhausted(self) -> bool:
        """Whether a fork or a new thread in this group failed on its process limit."""
        for path in self.paths:
            try:
                for line in (path / "pids.events").read_text().splitlines():
                    parts = line.split()
                    if len(parts) == 2 and parts[0] == "max" and int(parts[1]) > 0:
                        return True
            except (OSError, ValueError):
                continue
        return False

    def kill(self) -> None:
        """SIGKILL every process left in the group."""
        for path in self.paths:
            try:
                (path / "cgroup.kill").write_text("1")
                continue
            except OSError:
                pass
            try:
                pids = (path / "cgroup.procs").read_text().split()
            except OSError:
                continue
            for pid in pids:
                try:
                    os.kill(int(pid), 9)
                except (OSError, ValueError):
                    pass

    def remove(self) -> None:
        for path in self.paths:
            for _ in range(20):
                try:
                    path.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    self.kill()
                    import time

                    time.sleep(0.05)


@dataclass
class Method:
    """How per-submission groups are made on this machine."""

    name: str
    base: list[Path] = field(default_factory=list)  # parent folders of the groups
    reason: str = ""  # why a stronger method was not used

    def create(self, *, memory_bytes: int, processes: int, cpus: float) -> Group:
        tag = f"{_NAME}-{os.getpid()}-{uuid.uuid4().hex[:10]}"
        if self.name == RLIMITS:
            return Group(RLIMITS)
        if self.name == SYSTEMD:
            prefix = ["systemd-run", "--scope", "--quiet", "--collect", f"--unit={tag}",
                      "-p", f"MemoryMax={memory_bytes}", "-p", "MemorySwapMax=0",
                      "-p", f"TasksMax={processes}", "-p", f"CPUQuota={int(cpus * 100)}%", "--"]
            return Group(SYSTEMD, prefix=prefix, unit=tag)
        paths = []
        try:
            for base in self.base:
                path = base / tag
                path.mkdir()
                paths.append(path)
                _write_limits(path, self.name, memory_bytes=memory_bytes, processes=processes,
                              cpus=cpus)
        except OSError:
            Group(self.name, paths).remove()
            raise
        return Group(self.name, paths)


def _write(path: Path, name: str, value, *, required: bool = True) -> None:
    try:
        (path / name).write_text(str(value))
    except OSError:
        if required:
            raise


def _write_limits(path: Path, method: str, *, memory_bytes: int, processes: int,
                  cpus: float) -> None:
    quota = max(1000, int(cpus * _PERIOD_US))
    if method == V2:
        _write(path, "memory.max", memory_bytes)
        _write(path, "memory.swap.max", 0, required=False)
        _write(path, "pids.max", processes)
        _write(path, "cpu.max", f"{quota} {_PERIOD_US}", required=False)
        return
    kind = path.parent.name if path.parent.parent == ROOT else path.parts[len(ROOT.parts)]
    if kind == "memory":
        _write(path, "memory.limit_in_bytes", memory_bytes)
        _write(path, "memory.memsw.limit_in_bytes", memory_bytes, required=False)
        _write(path, "memory.swappiness", 0, required=False)
    elif kind == "pids":
        _write(path, "pids.max", processes)
    elif kind in ("cpu", "cpu,cpuacct"):
        _write(path, "cpu.cfs_period_us", _PERIOD_US, required=False)
        _write(path, "cpu.cfs_quota_us", quota)


def _own_cgroup_v2() -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return ROOT / line[3:].strip().lstrip("/")
    except OSError:
        pass
    return None


def _is_cgroup2(path: Path) -> bool:
    return (path / "cgroup.controllers").is_file() and not (path / "tasks").exists()


def _probe(method: Method) -> str:
    """'' if a group can be made and removed with every limit written, else why not."""
    try:
        group = method.create(memory_bytes=2**30, processes=64, cpus=1.0)
    except OSError as exc:
        return f"{exc.strerror or exc}"
    if method.name == SYSTEMD:
        try:
            done = subprocess.run([*group.prefix, "true"], capture_output=True, text=True,
                                  timeout=30, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return str(exc)
        return "" if done.returncode == 0 else (done.stderr.strip()[-200:] or "it failed")
    group.remove()
    return ""


def _v2_method() -> tuple[Method | None, str]:
    if not _is_cgroup2(ROOT):
        return None, "/sys/fs/cgroup is not cgroup v2"
    own = _own_cgroup_v2()
    if own is None or not own.is_dir():
        return None, "the grader's own cgroup v2 is not visible"
    try:
        enabled = set((own / "cgroup.subtree_control").read_text().split())
    except OSError:
        enabled = set()
    wanted = {"memory", "pids"}
    if not wanted <= enabled:
        try:  # allowed where the grader's cgroup holds no process (a delegated subtree)
            (own / "cgroup.subtree_control").write_text(" ".join(f"+{c}" for c in sorted(
                wanted | ({"cpu"} & set((own / "cgroup.controllers").read_text().split())))))
        except OSError as exc:
            return None, (f"cannot enable the memory and pids controllers below the grader's "
                          f"cgroup ({exc.strerror})")
    method = Method(V2, [own])
    problem = _probe(method)
    return (None, problem) if problem else (method, "")


def _systemd_method() -> tuple[Method | None, str]:
    if shutil.which("systemd-run") is None or not _is_cgroup2(ROOT):
        return None, "no systemd-run on a cgroup v2 machine"
    try:
        state = subprocess.run(["systemctl", "is-system-running"], capture_output=True, text=True,
                               timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        state = "offline"
    if state in ("offline", "unknown", ""):
        return None, f"systemd is {state or 'not running'}"
    method = Method(SYSTEMD)
    problem = _probe(method)
    return (None, f"systemd-run --scope failed: {problem}") if problem else (method, "")


def _v1_method() -> tuple[Method | None, str]:
    bases = []
    for kind in ("memory", "pids"):
        if not (ROOT / kind / "cgroup.procs").is_file():
            return None, f"no cgroup v1 {kind} hierarchy"
        bases.append(ROOT / kind)
    for cpu in ("cpu", "cpu,cpuacct"):
        if (ROOT / cpu / "cpu.cfs_quota_us").is_file():
            bases.append(ROOT / cpu)
            break
    if not all(os.access(b, os.W_OK) for b in bases):
        return None, "the cgroup v1 hierarchies are not writable (not root?)"
    method = Method(V1, bases)
    problem = _probe(method)
    return (None, f"cgroup v1: {problem}") if problem else (method, "")


def _remove_stale(bases) -> None:
    """Groups left by a grader that was killed (-9): empty, their grader's pid gone."""
    for base in bases:
        try:
            entries = list(Path(base).glob(f"{_NAME}-*"))
        except OSError:
            continue
        for path in entries:
            try:
                pid = int(path.name.split("-")[3])
            except (IndexError, ValueError):
                continue
            if not Path(f"/proc/{pid}").exists():
                try:
                    path.rmdir()
                except OSError:
                    pass


def choose(forced: str | None = None) -> Method:
    """The strongest method that works here (or ``forced``: one of :data:`METHODS`)."""
    _remove_stale([ROOT / k for k in ("memory", "pids", "cpu", "cpu,cpuacct")]
                  + [p for p in [_own_cgroup_v2()] if p is not None])
    reasons: list[str] = []
    finders = {V2: _v2_method, SYSTEMD: _systemd_method, V1: _v1_method}
    for name in METHODS:
        if forced is not None and name != forced:
            continue
        if name == RLIMITS:
            return Method(RLIMITS, reason="; ".join(reasons))
        method, reason = finders[name]()
        if method is not None:
            method.reason = "; ".join(reasons)
            return method
        reasons.append(f"{name}: {reason}")
        if forced is not None:
            raise OSError(f"cannot use {forced} here: {reason}")
    return Method(RLIMITS, reason="; ".join(reasons))
