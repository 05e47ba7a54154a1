"""The command line: ``neural-ode-grade`` (also ``python -m grader``).

    neural-ode-grade SUBMISSIONS [--out grading_results] [--jobs N] [--shard K/N] [--run-all]
                     [--no-sandbox]
    neural-ode-grade merge OUT SHARD_OUT [SHARD_OUT ...]
    neural-ode-grade release OUT [--without-references]
    neural-ode-grade report OUT [--roster CSV] [--submissions DIR]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]

_NO_SANDBOX_HELP = (
    "run learner code WITHOUT the bubblewrap sandbox: it then runs with your user's rights, sees "
    "your files and the network, and can reach the course's reference solutions. Written into "
    "grades.csv and every feedback file."
)


def _in_force() -> str:
    """Which whole-sandbox limits this machine offers (for --help)."""
    from . import cgroups

    try:
        method = cgroups.choose()
    except Exception as exc:  # --help must work anyway
        return f"could not be determined ({type(exc).__name__})"
    why = f" ({method.reason})" if method.name == cgroups.RLIMITS and method.reason else ""
    return method.name + why


def _grade_parser() -> argparse.ArgumentParser:
    from . import cgroups
    from .grading import MAX_EVENT_BYTES, Limits

    defaults = Limits()
    parser = argparse.ArgumentParser(
        prog="neural-ode-grade",
        description="Grade every notebook in a folder, each in a bubblewrap sandbox: "
                    "grades.csv, feedback/ and logs/. Rows are written as each notebook "
                    "finishes; Ctrl-C keeps them (then --resume). Before grading, one "
                    "known-good notebook runs through the sandbox: if it fails, nothing is "
                    "graded. Other commands: 'neural-ode-grade merge -h', "
                    "'neural-ode-grade release -h'.",
        epilog="Whole-sandbox limits (memory, processes, CPU) use the strongest of: "
               f"{cgroups.describe_methods()}. On this machine: {_in_force()}. "
               f"Each message from the sandbox is capped at {MAX_EVENT_BYTES // 2**20} MiB "
               "and their number at 4 per step of the plan; a run that breaks these is "
               "'interfered'.")
    parser.add_argument("submissions", type=Path, help="folder of submitted .ipynb files")
    parser.add_argument("--out", type=Path, default=Path("grading_results"),
                        help="where to write grades.csv, feedback/ and logs/ "
                             "(default: grading_results)")
    parser.add_argument("--lessons", type=Path, default=None,
                        help="folder of lesson sources (default: the course's lessons_src/)")
    parser.add_argument("--cell-timeout", type=float, default=defaults.cell_timeout,
                        help=f"seconds per cell (default {defaults.cell_timeout:g})")
    parser.add_argument("--total-timeout", type=float, default=defaults.total_timeout,
                        help=f"seconds per notebook (default {defaults.total_timeout:g})")
    parser.add_argument("--memory-gb", type=float, default=defaults.memory_bytes / 2**30,
                        help=f"memory cap in GiB for the whole sandbox (its control group) "
                             f"and for the kernel's address space (default "
                             f"{defaults.memory_bytes / 2**30:g})")
    parser.add_argument("--max-processes", type=int, default=defaults.max_processes,
                        help=f"processes and threads of the whole sandbox (control group; "
                             f"default {defaults.max_processes})")
    parser.add_argument("--cpus", type=float, default=defaults.cpus,
                        help=f"CPU cores the whole sandbox may use (control group quota; "
                             f"default {defaults.cpus:g})")
    parser.add_argument("--limits", default="auto",
                        choices=["auto", *cgroups.METHODS],
                        help="how whole-sandbox limits are enforced (default auto: the "
                             "strongest available; 'rlimits only' turns control groups off)")
    parser.add_argument("--output-kb", type=float, default=defaults.output_bytes / 1024,
                        help=f"printed output kept per notebook in kB (default "
                             f"{defaults.output_bytes / 1024:g})")
    parser.add_argument("--log-kb", type=float, default=defaults.log_bytes / 1024,
                        help=f"cap of each submission's log in logs/, in kB (default "
                             f"{defaults.log_bytes / 1024:g})")
    parser.add_argument("--resume", action="store_true",
                        help="keep the rows of OUT/grades.csv and grade only the submissions "
                             "it does not hold yet (after an interrupted run)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="notebooks graded at the same time (default 1; time limits are "
                             "wall-clock, so keep this at most the number of CPU cores)")
    parser.add_argument("--shard", default=None, metavar="K/N",
                        help="grade only shard K of N (e.g. a Slurm array task); put each "
                             "shard's --out apart, then 'neural-ode-grade merge'")
    parser.add_argument("--run-all", action="store_true",
                        help="run every code cell of every submission (training and figures "
                             "included), as the grader did before; by default only the cells "
                             "the grades depend on run (same grades, much faster)")
    parser.add_argument("--no-sandbox", action="store_true", help=_NO_SANDBOX_HELP)
    return parser


def _grade(argv: Sequence[str]) -> int:
    from . import cgroups
    from .grading import Limits, PreflightFailed, grade_folder, load_lessons, parse_shard
    from .sandbox import SandboxUnavailable

    args = _grade_parser().parse_args(argv)
    try:
        limits = Limits(cell_timeout=args.cell_timeout, total_timeout=args.total_timeout,
                        memory_bytes=int(args.memory_gb * 2**30),
                        output_bytes=int(args.output_kb * 1024),
                        max_processes=args.max_processes, cpus=args.cpus,
                        log_bytes=int(args.log_kb * 1024))
        shard = parse_shard(args.shard)
        lessons = load_lessons(folder=args.lessons) if args.lessons else None
        if args.no_sandbox:
            print("neural-ode-grade: grading WITHOUT the sandbox (--no-sandbox): learner code "
                  "runs with your rights and can reach the reference solutions.", file=sys.stderr)
        method = None if args.limits == cgroups.RLIMITS else args.limits
        grade_folder(args.submissions, args.out, limits=limits, jobs=args.jobs, shard=shard,
                     lessons=lessons, use_sandbox=not args.no_sandbox, resume=args.resume,
                     cgroup=method, run_all=args.run_all)
    except KeyboardInterrupt:
        return 130
    except PreflightFailed as exc:
        print(f"neural-ode-grade: refusing to grade: {exc}", file=sys.stderr)
        return 4
    except SandboxUnavailable as exc:
        print(f"neural-ode-grade: cannot grade in a sandbox: {exc}.\n"
              "Install bubblewrap (scripts/install_sandbox.sh, or your package manager's "
              "'bubblewrap'), or, knowing what it means, grade with --no-sandbox "
              "(docs/instructors.md).", file=sys.stderr)
        return 3
    except (ValueError, OSError) as exc:
        print(f"neural-ode-grade: {exc}", file=sys.stderr)
        return 2
    return 0


def _merge(argv: Sequence[str]) -> int:
    from .report import merge

    parser = argparse.ArgumentParser(
        prog="neural-ode-grade merge",
        description="Merge the output folders of shards (--shard K/N) into one: the same "
                    "grades.csv as a single run, feedback/ and logs/ copied.")
    parser.add_argument("out", type=Path, help="the merged output folder")
    parser.add_argument("parts", type=Path, nargs="+", help="the shards' output folders")
    args = parser.parse_args(argv)
    try:
        count = merge(args.out, args.parts)
    except (ValueError, OSError) as exc:
        print(f"neural-ode-grade merge: {exc}", file=sys.stderr)
        return 2
    print(f"merged {count} submissions from {len(args.parts)} shards: {args.out / 'grades.csv'}")
    return 0


def _release(argv: Sequence[str]) -> int:
    from .release import make_release

    parser = argparse.ArgumentParser(
        prog="neural-ode-grade release",
        description="Make the graded student release of the course: the learner notebooks and "
                    "the course package, with ex.<name>.solution() withheld (hints stay).")
    parser.add_argument("out", type=Path, help="folder to create (must not exist)")
    parser.add_argument("--without-references", action="store_true",
                        help="also leave the reference solutions out: a failed check then "
                             "cannot fall back to the reference, and later cells use the "
                             "learner's own function")
    args = parser.parse_args(argv)
    try:
        make_release(args.out, without_references=args.without_references)
    except (ValueError, OSError) as exc:
        print(f"neural-ode-grade release: {exc}", file=sys.stderr)
        return 2
    print(f"graded release written to {args.out}")
    return 0


def _report(argv: Sequence[str]) -> int:
    from .class_report import write_class_report
    from .gradebook import build_gradebook, read_grades, read_roster, write_gradebook

    parser = argparse.ArgumentParser(
        prog="neural-ode-grade report",
        description="From OUT/grades.csv, feedback/ and logs/: gradebook.csv (one row per "
                    "student), gradebook_lms.csv (Canvas/Moodle import), resubmissions.csv, "
                    "feedback_by_student.zip and report.html (docs/instructors.md).")
    parser.add_argument("out", type=Path, help="the grader's output folder")
    parser.add_argument("--roster", type=Path, default=None,
                        help="CSV with columns pattern,student_id (optional name, sis_id, "
                             "login, section); default: a sub-folder's name, else the file's")
    parser.add_argument("--submissions", type=Path, default=None,
                        help="the submissions folder: the newest file of a student's lesson "
                             "counts (latest wins); without it, the last name")
    args = parser.parse_args(argv)
    try:
        roster = read_roster(args.roster) if args.roster else None
        book = build_gradebook(read_grades(args.out), roster=roster,
                               submissions_dir=args.submissions)
        written = write_gradebook(args.out, book)
        report = write_class_report(args.out, book)
    except (ValueError, OSError, KeyError) as exc:
        print(f"neural-ode-grade report: {exc}", file=sys.stderr)
        return 2
    for student, lesson, kept, older in book.replaced:
        print(f"{student}, {lesson}: {kept.name} counts (latest), replacing "
              + ", ".join(o.name for o in older))
    unmatched = [s for s in book.students if s.startswith("(unmatched) ")]
    if unmatched:
        print(f"warning: {len(unmatched)} submissions match no roster pattern: rows "
              "'(unmatched) <path>' in gradebook.csv, left out of gradebook_lms.csv",
              file=sys.stderr)
    print(f"{len(book.students)} students: {written['gradebook']}, {written['lms']}, "
          f"{written['feedback_zip']}, {report}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "merge":
        return _merge(argv[1:])
    if argv and argv[0] == "release":
        return _release(argv[1:])
    if argv and argv[0] == "report":
        return _report(argv[1:])
    if argv and argv[0] == "grade":
        argv = argv[1:]
    return _grade(argv)


if __name__ == "__main__":
    sys.exit(main())
