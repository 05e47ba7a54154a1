"""Per-user sizing figures for a hub: each lesson's peak memory and CPU seconds, measured.

    .venv/bin/python scripts/measure_lesson_resources.py [notebooks/NN_*.ipynb ...]
        [--out bench/lesson_resources.json]

Each lesson runs top to bottom on the course kernel (``grader.execution.CourseClient``, as the
build and ``make bench`` run it), from a copy in a temporary folder, in a child process of its
own. When the kernel has exited, that child reads ``getrusage(RUSAGE_CHILDREN)``: the kernel's
peak resident memory (``ru_maxrss``: what a hub's memory limit must hold; PyTorch's allocations
included, which ``tracemalloc`` cannot see) and its CPU seconds (user + system; with the lesson's
wall time, how many cores it kept busy). The JupyterLab server a hub user also runs is not in
these figures: docs/instructors.md adds it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from utils.course import KERNEL, lesson_notebooks

ROOT = Path(__file__).resolve().parents[1]


def measure_one(path: Path, timeout: float) -> dict:
    """Run one notebook here (the kernel is our child); its peak RSS and CPU seconds."""
    import nbformat

    sys.path.insert(0, str(ROOT))
    from grader.execution import CourseClient

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        nb = nbformat.read(copy, as_version=4)
        start = time.perf_counter()
        error = None
        try:
            CourseClient(nb, kernel_name=KERNEL, timeout=timeout,
                         resources={"metadata": {"path": tmp}}).execute()
        except Exception as exc:  # reported; the figures of what ran are still measured
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
        wall = time.perf_counter() - start
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # the kernel, exited and reaped
    return {"lesson": path.name, "wall_seconds": round(wall, 2),
            "cpu_seconds": round(usage.ru_utime + usage.ru_stime, 2),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: kilobytes
            "error": error}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "lesson_resources.json")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(measure_one(args.one, args.timeout)))
        return 0
    notebooks = args.notebooks or lesson_notebooks(ROOT / "notebooks")
    rows = []
    for path in notebooks:
        done = subprocess.run([sys.executable, __file__, "--one", str(path), "--timeout",
                               str(args.timeout)], capture_output=True, text=True, check=False)
        lines = done.stdout.strip().splitlines()
        row = json.loads(lines[-1]) if lines else {"lesson": path.name,
                                                   "error": done.stderr[-300:]}
        rows.append(row)
        print(f"{row['lesson']}: {row.get('wall_seconds')} s wall, {row.get('cpu_seconds')} s "
              f"CPU, peak {row.get('peak_rss_mib')} MiB" + (f"  ERROR {row['error']}"
                                                            if row.get("error") else ""),
              flush=True)
    result = {"measured": time.strftime("%Y-%m-%d"), "machine": platform.machine(),
              "cpus": os.cpu_count(), "load_at_start": round(os.getloadavg()[0], 2),
              "threads": os.environ.get("OMP_NUM_THREADS", "torch default"), "rows": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    print(f"written: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
