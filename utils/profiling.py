"""Measure what a computation costs: peak memory (in a fresh child process) and wall time.

Why a child process and resident memory (RSS)? Torch allocates CPU tensors with ``malloc``
directly, so Python's ``tracemalloc`` never sees them; and the torch profiler's memory events
are costly to collect and, on CPU, incomplete (on torch 2.13 we saw the frees but not the
allocations). The operating system sees every byte a process touches: its resident set size.
Measuring in a *fresh* process keeps the figure clean of what earlier work left behind (the
C allocator keeps freed memory and would hide part of a second measurement).

How: :func:`peak_memory` starts a child process, which

0. makes the C allocator map every block of 64 kB or more on its own and return it on free
   (``mallopt(M_MMAP_THRESHOLD)``), so the heap's fragmentation does not blur the figure;
1. calls ``setup(*args)`` to build the inputs (model, data) and get the zero-argument callable
   to measure, and runs that callable once as a warm-up: torch initialises some things on first
   use, and the interpreter's object pools grow once to what the computation needs (about
   0.5 MB for a 1000-step solve); neither is the cost of one more training step;
2. hands freed memory back to the system (glibc ``malloc_trim``), reads its RSS as the baseline,
   and resets the kernel's peak-RSS counter (``VmHWM``, by writing 5 to ``/proc/self/clear_refs``,
   Linux >= 4.0);
3. runs the callable once, timed, and reports ``peak RSS - baseline``.

Where ``clear_refs`` is unavailable (macOS, Windows), the kernel's peak counter cannot be reset,
and ``ru_maxrss`` would still hold the warm-up's peak (every figure would come out near 0). There
a thread samples the resident memory (``psutil``, every 0.2 ms) while the call runs and reports
the largest sample above the baseline: ``exact_peak`` is then False, and a peak shorter than the
sampling gap can be missed (an underestimate). Children come from a ``forkserver`` (which
imports torch once), so each measurement costs a fork, not a fresh interpreter; the callable runs
on one thread (``torch.set_num_threads(1)``) so the figures repeat from run to run. A
measurement resolves about 0.1 MB: compare figures well above that.
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import statistics
import sys
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

__all__ = ["MemoryMeasurement", "peak_memory", "time_call", "gradient_workload"]

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


@dataclass(frozen=True)
class MemoryMeasurement:
    """What :func:`peak_memory` measured.

    Attributes:
        peak_bytes: peak resident memory during the call, above the baseline just before it.
        baseline_bytes: resident memory of the child just before the call (interpreter, torch,
            the inputs ``setup`` built).
        seconds: wall time of the call.
        result: what the measured callable returned (must be picklable, e.g. a dict of numbers).
        exact_peak: True if the kernel's peak counter was reset before the call (Linux);
            False if the sampled fallback was used (no ``clear_refs``: macOS, Windows).
    """

    peak_bytes: int
    baseline_bytes: int
    seconds: float
    result: object
    exact_peak: bool

    @property
    def peak_mb(self) -> float:
        """``peak_bytes`` in megabytes (1e6 bytes)."""
        return self.peak_bytes / 1e6


def _status_kb(key: str) -> int | None:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM), or None where there is no /proc."""
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _release_free_memory() -> None:
    """Ask glibc to return freed heap memory to the system (no-op elsewhere)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


_M_MMAP_THRESHOLD = -3  # mallopt parameter number (glibc malloc.h)


def _map_large_blocks(threshold: int = 64 * 1024) -> None:
    """Make glibc serve every block >= ``threshold`` bytes by mmap, returned to the system on free.

    By default glibc raises this threshold when a large block is freed, after which large tensors
    come from the heap, whose fragmentation makes peak RSS depend on the history of allocations
    (we saw it grow with the number of alloc/free cycles). A fixed threshold makes RSS follow the
    memory the tensors hold. No-op where glibc is absent.
    """
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").mallopt(_M_MMAP_THRESHOLD, threshold)


def _reset_peak() -> bool:
    """Reset the kernel's peak-RSS counter to the current RSS; False where that is impossible."""
    try:
        _CLEAR_REFS.write_text("5")
    except OSError:
        return False
    return _status_kb("VmHWM") is not None


def _sampled_call(run):
    """(baseline RSS, largest sampled RSS, seconds, result) of ``run()``: the fallback where the
    kernel's peak counter cannot be reset. A thread reads the resident memory every 0.2 ms."""
    import psutil  # ipykernel's dependency; needed only here

    process = psutil.Process()
    baseline = process.memory_info().rss
    peak = [baseline]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], process.memory_info().rss)
            done.wait(0.0002)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-4)  # let the sampler in often while the call holds the GIL
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        start = time.perf_counter()
        result = run()
        seconds = time.perf_counter() - start
    finally:
        done.set()
        sampler.join()
        sys.setswitchinterval(interval)
    peak[0] = max(peak[0], process.memory_info().rss)
    return baseline, peak[0], seconds, result


def _child(connection, setup, args, kwargs, threads, warmup):
    try:
        torch.set_num_threads(threads)
        _map_large_blocks()
        run = setup(*args, **kwargs)
        if not callable(run):
            raise TypeError(
                f"setup must return the zero-argument callable to measure, got "
                f"{type(run).__name__}"
            )
        if warmup:
            run()
        gc.collect()
        _release_free_memory()
        exact = _reset_peak()
        if exact:
            baseline = _status_kb("VmRSS") * 1024
            start = time.perf_counter()
            result = run()
            seconds = time.perf_counter() - start
            peak = _status_kb("VmHWM") * 1024
        else:
            baseline, peak, seconds, result = _sampled_call(run)
        connection.send(
            ("ok", MemoryMeasurement(max(0, peak - baseline), baseline, seconds, result, exact))
        )
    except BaseException:  # report any failure to the parent instead of dying silently
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


def _context():
    methods = multiprocessing.get_all_start_methods()
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["torch", "utils.profiling"])
        return context
    return multiprocessing.get_context("spawn")


def peak_memory(
    setup: Callable[..., Callable[[], object]],
    *args,
    threads: int = 1,
    warmup: bool = True,
    timeout: float = 600.0,
    **kwargs,
) -> MemoryMeasurement:
    """Peak resident memory and wall time of one call, measured in a fresh child process.

    Args:
        setup: a function importable by name (defined in a module, not in a notebook cell),
            called in the child as ``setup(*args, **kwargs)``; it builds the inputs and returns
            the zero-argument callable to measure. Memory that ``setup`` allocates and keeps is
            in the baseline, not in the peak.
        *args, **kwargs: passed to ``setup``; must be picklable.
        threads: torch threads in the child (1 makes the figures repeatable).
        warmup: run the callable once before the measured call (steady state; doubles the
            time).
        timeout: seconds to wait for the child.

    Returns:
        A :class:`MemoryMeasurement`.

    Raises:
        TypeError: ``setup`` is not a module-level function (the child could not import it).
        RuntimeError: the child failed (its traceback is in the message) or timed out.
    """
    name = getattr(setup, "__qualname__", "")
    if not callable(setup) or "<" in name or getattr(setup, "__module__", "") == "__main__":
        raise TypeError(
            f"setup must be a function defined at the top level of an importable module "
            f"(the child process imports it by name), got {setup!r}; move it into a .py file"
        )
    if not (isinstance(threads, int) and threads >= 1):
        raise ValueError(f"threads must be an int >= 1, got {threads!r}")
    context = _context()
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(
        target=_child, args=(sender, setup, args, kwargs, threads, warmup), daemon=True
    )
    process.start()
    sender.close()
    try:
        if not receiver.poll(timeout):
            raise RuntimeError(f"the measured call did not finish within {timeout} s")
        status, payload = receiver.recv()
    except EOFError:
        status, payload = "error", f"the child process died (exit code {process.exitcode})"
    finally:
        receiver.close()
        process.join(timeout=5)
        if process.is_alive():
            process.kill()
            process.join()
    if status != "ok":
        raise RuntimeError(f"measuring {name} failed in the child process:\n{payload}")
    return payload


def time_call(fn: Callable[[], object], *, repeat: int = 3) -> float:
    """Median wall time in seconds of ``repeat`` calls of ``fn()`` in this process.

    The median ignores a call slowed by another process; still, on a shared machine compare
    times measured together, never against figures from another run.
    """
    if not (isinstance(repeat, int) and repeat >= 1):
        raise ValueError(f"repeat must be an int >= 1, got {repeat!r}")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def gradient_workload(
    gradient: str,
    n_steps: int,
    *,
    batch: int = 256,
    dim: int = 2,
    hidden: int = 64,
    t_end: float = 1.0,
    method: str = "rk4",
    seed: int = 0,
    dtype: torch.dtype = torch.float32,
) -> Callable[[], dict]:
    """A setup for :func:`peak_memory`: one forward + backward pass of a Neural ODE.

    Builds a seeded ``ODEFunc(dim, hidden=hidden)``, a batch of states of shape ``(batch, dim)``
    and a loss ``mean(y(t_end)**2)``, solved with a fixed-step ``method`` (default RK4, four
    function evaluations a step) and ``n_steps`` steps, so the step count is exactly what we
    choose. Measure it with ``warmup=True`` (the default of :func:`peak_memory`).

    Args:
        gradient: ``"direct"`` (backpropagate through the solver's operations) or ``"adjoint"``
            (:func:`utils.adjoint.odeint_adjoint`).
        n_steps: number of steps from 0 to ``t_end``.
        method: a fixed-step method of ``odeint``: ``"euler"``, ``"midpoint"`` or ``"rk4"``.

    Returns:
        The callable to measure; it returns ``{"forward_nfe": ..., "backward_nfe": ...}``:
        calls of the dynamics in the forward solve and in the backward pass (the adjoint's
        augmented dynamics call it once per evaluation; direct backprop calls it 0 times).
    """
    from .adjoint import odeint_adjoint  # imported here: adjoint imports nothing from profiling
    from .models import ODEFunc
    from .solvers import odeint

    if gradient not in ("direct", "adjoint"):
        raise ValueError(f"gradient must be 'direct' or 'adjoint', got {gradient!r}")
    if not (isinstance(n_steps, int) and n_steps >= 1):
        raise ValueError(f"n_steps must be an int >= 1, got {n_steps!r}")
    generator = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        func = ODEFunc(dim, hidden=hidden).to(dtype)
    y0 = torch.randn(batch, dim, generator=generator, dtype=dtype)
    t = torch.tensor([0.0, t_end], dtype=dtype)
    solve = odeint_adjoint if gradient == "adjoint" else odeint

    def run() -> dict:
        func.zero_grad(set_to_none=True)
        func.nfe = 0
        ys = solve(func, y0, t, method=method, step_size=t_end / n_steps)
        forward_nfe = func.nfe
        ys[-1].pow(2).mean().backward()
        return {"forward_nfe": forward_nfe, "backward_nfe": func.nfe - forward_nfe}

    return run
