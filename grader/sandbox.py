"""The sandbox: one bubblewrap (``bwrap``) container per submission.

What the learner's code sees inside (everything else of the machine does not exist there):

- the system's ``/usr`` and ``/etc``, read-only; the Python installation and the course's
  environment (``sys.prefix``), read-only;
- the course packages ``utils`` and ``grader``, read-only, with ``utils/exercises/solutions/``
  (the reference solutions) replaced by an empty folder;
- nothing else writable (the container's root is read-only): a private, size-capped
  temporary file system at ``/tmp``, holding its working folder
  ``/tmp/work`` (also ``HOME``): gone when the container ends;
- its own process tree (PID namespace: every process it starts dies with the container), its
  own network namespace with only loopback (no network), no capabilities, user ``nobody``.

Not there: lesson sources (they hold the solutions), the course's git history, the tests, the
submissions folder, other submissions, the grader's output folder, the grader's process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

__all__ = ["SandboxUnavailable", "bwrap_command", "check_sandbox", "library_folder",
           "solutions_folder"]

WORKDIR = "/tmp/work"
_SYSTEM = ("/usr", "/etc")
_MERGED_USR = ("/bin", "/lib", "/lib64", "/sbin")  # symlinks into /usr on Debian


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create a container here (message says what to do)."""


def solutions_folder() -> Path:
    """Where the reference solutions live (masked inside the sandbox)."""
    import utils.exercises

    return Path(utils.exercises.__file__).resolve().parent / "solutions"


def library_folder() -> Path:
    """The course library's package folder (``utils``), as the sandbox binds it."""
    return _package_folder("utils")


def _package_folder(name: str) -> Path:
    import importlib.util

    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SandboxUnavailable(f"the package {name!r} is not importable")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def _read_only_paths() -> list[Path]:
    """The Python installation, the environment and the course packages (deduplicated)."""
    paths = [Path(sys.base_prefix).resolve(), Path(sys.prefix).resolve(),
             Path(sys.executable).resolve().parent.parent,
             _package_folder("utils"), _package_folder("grader")]
    kept: list[Path] = []
    for path in sorted(set(paths), key=lambda p: len(p.parts)):
        if any(path == k or k in path.parents for k in kept):
            continue
        kept.append(path)
    return kept


def bwrap_command(*, tmp_bytes: int, python: str | None = None,
                  overlays: dict[str, str] | None = None,
                  channel: tuple[int, int] | None = None) -> list[str]:
    """The command that starts :mod:`grader.runner` in a fresh container.

    ``overlays`` maps files of the course to replacements bound read-only over them (the
    library modules with their twins of exercise answers withheld: :mod:`grader.twins`); the
    ``__pycache__`` folder next to each is hidden, so no compiled copy of the original remains.
    ``channel`` is the pair of descriptors (runner's input, runner's output) the grader passes
    (``pass_fds``); bubblewrap's PID 1 closes them, so only the runner holds them inside.
    """
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable("bubblewrap (bwrap) is not installed")
    cmd = [bwrap, "--unshare-all", "--unshare-user", "--uid", "65534", "--gid", "65534",
           "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--hostname", "sandbox",
           # /proc, /dev and the private /tmp first: binds made after them land on top, so a
           # course that lives under /tmp (a CI clone, say) is still visible inside.
           "--proc", "/proc", "--dev", "/dev",
           "--size", str(64 * 2**20), "--tmpfs", "/dev/shm", "--remount-ro", "/dev",
           "--size", str(int(tmp_bytes)), "--tmpfs", "/tmp"]
    for path in _SYSTEM:
        cmd += ["--ro-bind", path, path]
    for path in _MERGED_USR:
        if os.path.islink(path):
            cmd += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            cmd += ["--ro-bind", path, path]
    for folder in _read_only_paths():
        cmd += ["--ro-bind", str(folder), str(folder)]
    for original, replacement in sorted((overlays or {}).items()):
        cmd += ["--ro-bind", str(replacement), str(original)]
        cache = Path(original).parent / "__pycache__"
        if cache.is_dir():
            cmd += ["--tmpfs", str(cache), "--remount-ro", str(cache)]
    solutions = solutions_folder()
    if solutions.exists():
        cmd += ["--tmpfs", str(solutions), "--remount-ro", str(solutions)]
    cmd += ["--dir", WORKDIR, "--remount-ro", "/", "--chdir", WORKDIR,
            "--clearenv",
            "--setenv", "HOME", WORKDIR,
            "--setenv", "PATH", f"{Path(sys.executable).parent}:/usr/bin:/bin",
            "--setenv", "LANG", "C.UTF-8",
            "--setenv", "MPLBACKEND", "Agg",
            "--setenv", "MPLCONFIGDIR", f"{WORKDIR}/.matplotlib",
            "--setenv", "PYTHONDONTWRITEBYTECODE", "1",
            "--setenv", "GRADER_PRIVATE", "/tmp/.grader",
            "--",
            python or sys.executable, "-I", "-m", "grader.runner"]
    if channel is not None:
        cmd += [str(channel[0]), str(channel[1])]
    return cmd


def check_sandbox() -> None:
    """Raise :class:`SandboxUnavailable` unless a container starts and hides what it should."""
    cmd = bwrap_command(tmp_bytes=16 * 2**20)
    probe = (
        "import os, sys; from pathlib import Path; "
        f"s = Path({str(solutions_folder())!r}); "
        "sys.exit(0 if not (s.exists() and any(s.iterdir())) and os.getuid() == 65534 else 5)"
    )
    cmd = cmd[: cmd.index("-m")] + ["-c", probe]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap could not start a container: {exc}") from None
    if done.returncode != 0:
        raise SandboxUnavailable(
            "bubblewrap could not start a container here (exit code "
            f"{done.returncode}): {done.stderr.strip()[-500:] or 'no message'}. Unprivileged "
            "user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone) or the "
            "container runtime forbids them"
        )
