"""Grading a folder: find the submissions, grade them in threads, write each row as it finishes.

The one entry point the command line uses (:func:`grade_folder`): limits checked, the sandbox and
its control groups chosen, the preflight run, then the submissions of this shard graded by a
pool of :class:`~grader.grade.Grader` threads, Ctrl-C handled so that finished rows are kept.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from pathlib import Path

from . import sandbox
from .grade import Grader
from .lesson_index import Lesson, identify_lesson, load_lessons
from .limits import Limits
from .notebooks import Unreadable, printable, read_cells
from .preflight import preflight
from .session import Interrupted
from .shards import in_shard
from .submission import Submission, points_text

__all__ = ["grade_folder"]


def grade_folder(folder: Path, out: Path, *, limits: Limits | None = None, jobs: int = 1,
                 lessons: Sequence[Lesson] | None = None, use_sandbox: bool = True,
                 shard: tuple[int, int] | None = None, quiet: bool = False,
                 resume: bool = False, cgroup: str | None = "auto", run_all: bool = False,
                 _after_start=None) -> list[Submission]:
    """Grade every notebook under ``folder`` (or one shard of them) into ``out``.

    Rows are written as each notebook finishes (``grades.csv`` replaced atomically), so an
    interrupt, a crash or ``kill -9`` of the grader keeps every finished grade. Ctrl-C stops
    the run within seconds (runners killed, pending notebooks cancelled) and says what was
    kept; ``resume`` grades only the submissions ``out/grades.csv`` does not hold yet.
    ``cgroup``: "auto" (the strongest method, :mod:`grader.cgroups`), one of its method names,
    or None (per-process limits only). ``run_all``: run every code cell of every submission
    (the default runs only the cells the grades depend on, :func:`grader.plan.select`).
    Returns the submissions graded in this run, in the order
    of grades.csv.
    """
    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    from . import cgroups
    from .notebooks import file_stem, find_skipped, find_submissions
    from .report import Report

    folder, out = Path(folder), Path(out)
    limits = Limits() if limits is None else limits
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder of submissions")
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    out_resolved, folder_resolved = out.resolve(), folder.resolve()
    if out_resolved == folder_resolved or folder_resolved in out_resolved.parents:
        raise ValueError(f"the output folder {out} must not be inside the submissions folder")
    if use_sandbox:
        sandbox.check_sandbox()
    method = None
    if cgroup is not None:
        method = cgroups.choose(None if cgroup == "auto" else cgroup)
        if method.name == cgroups.RLIMITS:
            method = None
    lessons = load_lessons() if lessons is None else lessons
    found = [f for f in find_submissions(folder) if in_shard(f, shard)]
    skipped = [(f, why) for f, why in find_skipped(folder) if in_shard(f, shard)]
    stems = {f.relative: file_stem(f.relative) for f in found + [f for f, _ in skipped]}
    found.sort(key=lambda f: (f.name, stems[f.relative]))
    order = {stems[f.relative]: (f.name, stems[f.relative]) for f in found}
    order.update({stems[f.relative]: (f.name, stems[f.relative]) for f, _ in skipped})
    report = Report(out, sorted(order, key=lambda s: order[s]), resume=resume,
                    log_bytes=limits.log_bytes)
    kept_before = len(report.done)
    todo = [f for f in found if stems[f.relative] not in report.done]
    needed = set()
    for f in todo:  # which lessons were submitted: expected values only for those
        try:
            lesson = identify_lesson(read_cells(f.path), lessons)
        except Unreadable:
            continue
        if lesson is not None:
            needed.add(lesson.name)
    grader = Grader(lessons, limits, use_sandbox=use_sandbox, needed=needed,
                    cgroup_method=method, run_all=run_all)
    if not quiet:
        how = method.name if method is not None else "rlimits only"
        print(f"limits per sandbox: {how} (memory {limits.memory_bytes / 2**30:g} GiB, "
              f"{limits.max_processes} processes, {limits.cpus:g} CPU)", flush=True)
    if needed:
        done_pre = preflight(grader)
        if not quiet:
            print(f"preflight: {done_pre}", flush=True)
    for f, why in skipped:
        if stems[f.relative] in report.done:
            continue
        sub = Submission(f.name, stems[f.relative], sandboxed=use_sandbox)
        sub.add_status("skipped", why)
        report.add(sub)
    start = time.monotonic()
    done: list[Submission] = []

    def finish(sub: Submission) -> None:
        report.add(sub)
        done.append(sub)
        if not quiet:
            print(f"{printable(sub.name)}: {sub.lesson or '?'} {points_text(sub.points)}/"
                  f"{points_text(sub.max_points)} ({'; '.join(sub.notebook_status) or 'ok'}) in "
                  f"{sub.seconds:.1f} s", flush=True)

    pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="grade")
    futures = {pool.submit(grader.grade, f, stems[f.relative]): f for f in todo}
    pending = set(futures)
    try:
        if _after_start is not None:
            _after_start()
        while pending:
            finished, pending = wait(pending, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    finish(future.result())
                except Interrupted:
                    pass
    except KeyboardInterrupt:
        grader.stop()
        for future in pending:
            future.cancel()
        pool.shutdown(wait=False, cancel_futures=True)
        deadline = time.monotonic() + 20
        for future in pending:
            if future.cancelled():
                continue
            try:
                future.result(timeout=max(0.1, deadline - time.monotonic()))
            except BaseException:
                pass
        kept = len(report.done)
        missing = len(found) + len(skipped) - kept
        print(f"\nInterrupted: {out / 'grades.csv'} keeps {kept} graded submission"
              f"{'s' if kept != 1 else ''} ({len(done)} finished in this run); {missing} not "
              f"graded. Run again with --resume to grade only those.", file=sys.stderr,
              flush=True)
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if not quiet:
        minutes = (time.monotonic() - start) / 60
        rate = f", {len(done) / minutes:.1f} per minute" if done and minutes > 0 else ""
        again = f" ({kept_before} kept from before)" if kept_before else ""
        print(f"graded {len(done)} notebooks in {minutes * 60:.1f} s{rate}{again}: "
              f"{out / 'grades.csv'}")
    position = {stem: i for i, stem in enumerate(report.order)}
    return sorted(done, key=lambda s: position[s.stem])
