"""A small scripted mutation run over the grader and the exercises (``make mutation``).

Each mutation is one deliberate bug: a file, an exact piece of its text and what replaces it, and
the targeted tests that should catch it. The run copies the project's tracked files into a
temporary folder, applies one mutation at a time to the COPY (the checkout is never modified, so
nothing has to be reverted and other processes never see a mutant), runs the targeted tests
there, and restores the copy's file from the original bytes before the next mutation. A mutation
is *killed* when its tests fail, *survived* when they pass. The score is killed / total.

    python tools/mutation.py            # all mutations
    python tools/mutation.py -k plan    # those whose name contains "plan"

Not run by CI: it costs a few minutes. Record the score in docs/benchmarks.md (section
"Mutation run").
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Mutation:
    name: str
    path: str
    old: str
    new: str
    tests: tuple[str, ...]  # pytest arguments, relative to the project


MUTATIONS = [
    Mutation("points sum max_points", "grader/submission.py",
             'return sum(float(r["points"]) for r in self.rows)',
             'return sum(float(r["max_points"]) for r in self.rows)',
             ("tests/test_grading.py::test_a_submissions_points_are_the_sum_of_its_passed_"
              "exercises_points",)),
    Mutation("plan grades the first copy of an answer cell", "grader/plan.py",
             "            last_answer[cell.grade_id] = cell.index",
             "            last_answer.setdefault(cell.grade_id, cell.index)",
             ("tests/test_grading_plan.py", "-k", "duplicated")),
    Mutation("plan drops the settle step", "grader/plan.py",
             '            Step("settle", **common),\n        ]',
             "        ]",
             ("tests/test_grading_plan.py", "-k", "settle or duplicated")),
    Mutation("adjoint carries the step size over intervals", "utils/adjoint.py",
             "            flat, back_stats = odeint(\n"
             "                dynamics, packer.pack(state), span, return_stats=True, "
             "**ctx.adjoint_options\n            )",
             "            carried = dict(ctx.adjoint_options)\n"
             "            if stats is not None and stats.backward and "
             "stats.backward[-1].step_sizes:\n"
             "                carried['options'] = {'first_step': "
             "abs(stats.backward[-1].step_sizes[-1])}\n"
             "            flat, back_stats = odeint(\n"
             "                dynamics, packer.pack(state), span, return_stats=True, **carried\n"
             "            )",
             ("tests/test_adjoint.py", "-k", "afresh")),
    Mutation("judge's tolerance 100x looser", "utils/exercises/verdict.py",
             "np.allclose(got_arr, want_arr, rtol=case.rtol, atol=case.atol, equal_nan=True)",
             "np.allclose(got_arr, want_arr, rtol=100 * case.rtol, atol=100 * case.atol, "
             "equal_nan=True)",
             ("tests/test_judge_tolerance.py",)),
    Mutation("judge ignores the shape", "utils/exercises/verdict.py",
             "    if got_arr.shape != want_arr.shape:\n        if want_arr.shape == ():",
             "    if False:\n        if want_arr.shape == ():",
             ("tests/test_exercises.py", "-k", "wrong_answer_is_reported_wrong", "-x")),
    Mutation("verdict accepts results for other cases", "grader/verdicts.py",
             "        if outcome.case != case.name[:300]:",
             "        if False:",
             ("tests/test_verdict_tampering.py",)),
    Mutation("verdict accepts fewer results than cases", "grader/verdicts.py",
             "len(raw) != len(expected.cases)",
             "len(raw) > len(expected.cases)",
             ("tests/test_verdict_tampering.py",)),
    Mutation("a wrong answer scores full points", "utils/exercises/verdict.py",
             "points = exercise.points if status == Status.PASSED else 0.0",
             "points = exercise.points",
             ("tests/test_exercises.py", "-k", "wrong_answer_is_reported_wrong", "-x")),
    Mutation("dependency analysis ignores unsure cells", "grader/deps.py",
             "    unsure = [i for i, c in enumerate(cells) if c.unsure]",
             "    unsure = []",
             ("tests/test_grading_plan.py", "-k", "cannot_be_sure or changes_a_module")),
    Mutation("reference rk4_step weighs k2 once", "utils/exercises/solutions/lesson01.py",
             "(k1 + 2 * k2 + 2 * k3 + k4)", "(k1 + k2 + 3 * k3 + k4)",
             ("tests/test_references_independent.py",)),
    Mutation("reference growth gradient misses h0", "utils/exercises/solutions/lesson04.py",
             "return growth, T * h0 * growth", "return growth, T * growth",
             ("tests/test_references_independent.py",)),
    Mutation("expected outcomes from the first case only", "grader/verdicts.py",
             "    cases = exercise.case_list(hidden=True)\n",
             "    cases = exercise.case_list(hidden=True)[:1]\n",
             ("tests/test_verdict_tampering.py",)),
]


def _copy_project(into: Path) -> None:
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, check=True, capture_output=True).stdout.split(b"\0")
    for raw in files:
        if not raw:
            continue
        rel = raw.decode()
        source = ROOT / rel
        if source.is_file():
            (into / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / rel)


def _pytest(copy: Path, args: tuple[str, ...], timeout: float) -> tuple[int, float]:
    start = time.monotonic()
    try:
        rc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                             "-o", "addopts=", *args], cwd=copy, capture_output=True,
                            timeout=timeout).returncode
    except subprocess.TimeoutExpired:
        rc = -1  # a mutant that hangs its tests counts as killed (the suite would not pass)
    return rc, time.monotonic() - start


def _record(rows: list[dict], killed: int, seconds: float) -> None:
    """The score as the "mutation" part of bench/results.json, rendered into
    docs/benchmarks.md by bench/run.py's render (so re-rendering the benchmarks keeps it)."""
    import datetime
    import json
    import os

    sys.path.insert(0, str(ROOT / "bench"))
    import run as bench_run

    results = json.loads(bench_run.RESULTS.read_text()) if bench_run.RESULTS.exists() else {}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    date = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    results["mutation"] = {"killed": killed, "total": len(rows), "seconds": round(seconds),
                           "mutations": rows,
                           "measured": f"{date}, load average {load:.2f} at the end"}
    bench_run.RESULTS.write_text(json.dumps(results, indent=1) + "\n")
    bench_run.REPORT.write_text(bench_run.render(results))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", default="", help="only mutations whose name contains this")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per mutation")
    parser.add_argument("--record", action="store_true",
                        help="write the score into bench/results.json and docs/benchmarks.md")
    options = parser.parse_args(argv)
    began, rows = time.monotonic(), []
    chosen = [m for m in MUTATIONS if options.k in m.name]
    with tempfile.TemporaryDirectory(prefix="mutation-") as folder:
        copy = Path(folder)
        _copy_project(copy)
        where = subprocess.run([sys.executable, "-c", "import grader, utils; "
                                "print(grader.__file__); print(utils.__file__)"],
                               cwd=copy, capture_output=True, text=True, check=True).stdout
        if any(not line.startswith(str(copy)) for line in where.split()):
            raise SystemExit(f"the copy's packages are not the ones imported there:\n{where}")
        killed = 0
        for m in chosen:
            target = copy / m.path
            original = target.read_bytes()
            text = original.decode()
            if text.count(m.old) != 1:
                raise SystemExit(f"{m.name}: the text to mutate occurs {text.count(m.old)} "
                                 f"times in {m.path} (update tools/mutation.py)")
            target.write_text(text.replace(m.old, m.new), encoding="utf-8")
            try:
                rc, seconds = _pytest(copy, m.tests, options.timeout)
            finally:
                target.write_bytes(original)
            caught = rc != 0
            killed += caught
            rows.append({"name": m.name, "path": m.path, "tests": " ".join(m.tests),
                         "killed": caught, "seconds": round(seconds, 1)})
            print(f"{'killed  ' if caught else 'SURVIVED'} {m.name} ({m.path}; "
                  f"{' '.join(m.tests)}; {seconds:.0f} s)", flush=True)
        # the unmutated copy passes the same tests: a kill is the mutation's doing
        baseline = [tests for tests in dict.fromkeys(m.tests for m in chosen)
                    if _pytest(copy, tests, options.timeout)[0] != 0]
        for tests in baseline:
            print(f"BASELINE FAILS: {' '.join(tests)} fails without a mutation")
    print(f"mutation score: {killed}/{len(chosen)} killed")
    if options.record and len(chosen) == len(MUTATIONS):
        _record(rows, killed, time.monotonic() - began)
    return 0 if killed == len(chosen) and not baseline else 1


if __name__ == "__main__":
    raise SystemExit(main())
