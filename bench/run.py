"""The course's benchmarks: ``make bench`` (``.venv/bin/python bench/run.py``).

Three parts, each a table in ``docs/benchmarks.md`` and an entry in ``bench/results.json``:

1. ``solvers``: ``utils.solvers.odeint`` against ``torchdiffeq.odeint``, side by side in one run,
   on the same problems, method (dopri5), tolerances and dtype:

   * ``spiral``: the cubic spiral of torchdiffeq's ``examples/ode_demo.py``,
     ``dy/dt = y**3 @ A`` with ``A = [[-0.1, 2.0], [-2.0, -0.1]]``, ``y0 = [[2, 0]]``, 1000 output
     times on [0, 25], float32, torchdiffeq's default tolerances (rtol=1e-7, atol=1e-9), which the
     demo uses;
   * ``mlp256``: a batch of 256 states of dimension 2 through a 2-layer MLP with 64 hidden units
     (``Linear(2, 64) -> tanh -> Linear(64, 2)``, seeded), 10 output times on [0, 5], float32, at
     the same tolerances and at rtol=1e-5, atol=1e-7; and the same with a backward pass through
     the solver (``fwd+bwd``).

   Wall time is the median of ``--repeats`` solves, the two libraries interleaved (their order
   alternating) so that a slow moment of the machine hits both. Function evaluations (NFE) are
   counted by the same wrapper for both. The error is the largest absolute difference, over all
   output times and states, to a tight float64 reference (torchdiffeq's dopri8 at rtol=1e-12).

2. ``adjoint``: gradients by the adjoint method (``utils.adjoint.odeint_adjoint``) against direct
   backpropagation through ``utils.solvers.odeint``: peak memory and wall time of one forward +
   backward pass against the number of RK4 steps, each measured in a fresh child process
   (``utils.profiling.peak_memory`` on ``utils.profiling.gradient_workload``).

3. ``course``: the execution time of every lesson in ``notebooks/`` (copies, run with nbclient on
   the course kernel, as the build does) and their total.

4. ``seeds``: the seed spread of lessons 05 and 06 (``bench/seed_spread.py``): each lesson's own
   source rerun with other training seeds; test MSE (05) and forecast RMSE per model (06), with
   mean and range. Slow (ten lesson runs): not in the default run; ``--parts seeds``.

5. ``sliders``: per-slider latency in a real browser (``bench/slider_latency.py``): JupyterLab in
   headless Chromium, one arrow-key press on each slider, time until its cell's output changes;
   median and worst per lesson next to the floor of the stack (a trivial two-panel inline
   matplotlib slider). In the default run; alone with ``--parts sliders``.

Torch runs on one thread (``--threads``): on a shared 2-core machine, more threads make tiny
tensor operations slower and the figures erratic. Wall times depend on the machine and on what
else runs on it; compare the figures of one run with each other (the ratios), not across runs.

    python bench/run.py                      # everything, writes docs/benchmarks.md + JSON
    python bench/run.py --parts solvers      # one part (the others keep their last results)
    python bench/run.py --quick              # tiny sizes: checks that the code runs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from utils.course import KERNEL, lesson_notebooks

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling modules of the bench

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
RESULTS = ROOT / "bench" / "results.json"
REPORT = ROOT / "docs" / "benchmarks.md"
PARTS = ("solvers", "adjoint", "course", "grading", "seeds", "sliders")
# "seeds" (slow) runs when named
DEFAULT_PARTS = ("solvers", "adjoint", "course", "grading", "sliders")
COMMAND = "make bench   # = .venv/bin/python bench/run.py"

SPIRAL_A = [[-0.1, 2.0], [-2.0, -0.1]]
SPIRAL_Y0 = [[2.0, 0.0]]
DEMO_TOLERANCES = (1e-7, 1e-9)  # torchdiffeq's defaults; examples/ode_demo.py relies on them
REFERENCE_TOLERANCES = (1e-12, 1e-14)
# Targets of the course (issue 7), at equal tolerance with NFE within 10% of torchdiffeq's.
TARGET_RATIO = {"spiral": 0.5, "mlp256": 0.9}
NFE_SLACK = 0.10


# --- part 1: utils.odeint against torchdiffeq.odeint ---------------------------------------------


class Counted(nn.Module):
    """Wraps the dynamics, counting calls (the same counter for both libraries)."""

    def __init__(self, func):
        super().__init__()
        self.func = func
        self.calls = 0

    def forward(self, t, y):
        self.calls += 1
        return self.func(t, y)


class Spiral(nn.Module):
    """``dy/dt = y**3 @ A``: torchdiffeq's demo dynamics; ``y`` of shape ``(batch, 2)``."""

    def __init__(self, dtype):
        super().__init__()
        self.register_buffer("A", torch.tensor(SPIRAL_A, dtype=dtype))

    def forward(self, t, y):
        return torch.mm(y**3, self.A)


class MLP(nn.Module):
    """``dy/dt = W2 tanh(W1 y + b1) + b2``: 2 layers, ``hidden`` units; ``y``: (batch, dim)."""

    def __init__(self, dim: int = 2, hidden: int = 64, *, seed: int = 0):
        super().__init__()
        with torch.random.fork_rng():
            torch.manual_seed(seed)
            self.net = nn.Sequential(nn.Linear(dim, hidden), nn.Tanh(), nn.Linear(hidden, dim))

    def forward(self, t, y):
        return self.net(y)


@dataclass
class Problem:
    """One benchmark problem: dynamics, initial state, output times, tolerances."""

    name: str
    make_func: object  # dtype -> nn.Module
    y0: torch.Tensor  # float64; cast to ``dtype`` for the timed solves
    t: torch.Tensor  # float64
    rtol: float
    atol: float
    dtype: torch.dtype = torch.float32
    backward: bool = False  # time forward + backward (direct backprop through the solver)

    @property
    def label(self) -> str:
        mode = ", fwd+bwd" if self.backward else ""
        return f"{self.name} (rtol={self.rtol:g}, atol={self.atol:g}{mode})"


def problems(quick: bool = False) -> list[Problem]:
    n_times, batch = (20, 8) if quick else (1000, 256)
    spiral_t = torch.linspace(0.0, 1.0 if quick else 25.0, n_times, dtype=torch.float64)
    spiral = Problem(
        "spiral",
        lambda dtype: Spiral(dtype),
        torch.tensor(SPIRAL_Y0, dtype=torch.float64),
        spiral_t,
        *DEMO_TOLERANCES,
    )
    y0 = torch.randn(batch, 2, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    mlp_t = torch.linspace(0.0, 0.5 if quick else 5.0, 10, dtype=torch.float64)

    def mlp(dtype):
        return MLP(2, 64).to(dtype)

    return [
        spiral,
        Problem("mlp256", mlp, y0, mlp_t, *DEMO_TOLERANCES),
        Problem("mlp256", mlp, y0, mlp_t, 1e-5, 1e-7),
        Problem("mlp256", mlp, y0, mlp_t, 1e-5, 1e-7, backward=True),
    ]


def solvers():
    """The two ``odeint`` functions, by name; imported here so ``--help`` stays fast."""
    from torchdiffeq import odeint as torchdiffeq_odeint

    from utils.solvers import odeint as utils_odeint

    return {"utils": utils_odeint, "torchdiffeq": torchdiffeq_odeint}


def reference_solution(problem: Problem) -> torch.Tensor:
    """A tight float64 solve by a different method (torchdiffeq's 8th-order dopri8)."""
    from torchdiffeq import odeint

    func = problem.make_func(torch.float64)
    rtol, atol = REFERENCE_TOLERANCES
    with torch.no_grad():
        return odeint(func, problem.y0, problem.t, method="dopri8", rtol=rtol, atol=atol)


def solve_once(odeint, problem: Problem, func: nn.Module) -> tuple[float, int, torch.Tensor]:
    """One timed solve (+ backward if asked): (seconds, function evaluations, solution)."""
    y0 = problem.y0.to(problem.dtype)
    t = problem.t.to(problem.dtype)
    counted = Counted(func)
    func.zero_grad(set_to_none=True)
    start = time.perf_counter()
    if problem.backward:
        ys = odeint(counted, y0, t, method="dopri5", rtol=problem.rtol, atol=problem.atol)
        ys[-1].pow(2).mean().backward()
    else:
        with torch.no_grad():
            ys = odeint(counted, y0, t, method="dopri5", rtol=problem.rtol, atol=problem.atol)
    seconds = time.perf_counter() - start
    return seconds, counted.calls, ys.detach()


def dynamics_seconds(problem: Problem, func: nn.Module, calls: int) -> float:
    """Wall time of ``calls`` evaluations of the dynamics alone (what no solver can avoid)."""
    y = problem.y0.to(problem.dtype)
    t = problem.t[0].to(problem.dtype)
    with torch.no_grad():
        start = time.perf_counter()
        for _ in range(calls):
            func(t, y)
    return time.perf_counter() - start


def bench_solvers(repeats: int, quick: bool = False, log=print) -> dict:
    libraries = solvers()
    rows = []
    for problem in problems(quick):
        reference = reference_solution(problem).to(torch.float64)
        func = problem.make_func(problem.dtype)
        times = {name: [] for name in libraries}
        nfe, error = {}, {}
        for name, odeint in libraries.items():  # warm-up; also gives NFE and error
            _, nfe[name], ys = solve_once(odeint, problem, func)
            error[name] = float((ys.to(torch.float64) - reference).abs().max())
        order = list(libraries)
        for _ in range(repeats):
            for name in order:
                seconds, _, _ = solve_once(libraries[name], problem, func)
                times[name].append(seconds)
            order.reverse()  # alternate which library goes first
        median = {name: statistics.median(times[name]) for name in libraries}
        dynamics = dynamics_seconds(problem, func, nfe["torchdiffeq"])
        ratio = median["utils"] / median["torchdiffeq"]
        nfe_gap = nfe["utils"] / nfe["torchdiffeq"] - 1.0
        target = TARGET_RATIO.get(problem.name)
        row = {
            "problem": problem.label,
            "name": problem.name,
            "rtol": problem.rtol,
            "atol": problem.atol,
            "backward": problem.backward,
            "dtype": str(problem.dtype).removeprefix("torch."),
            "seconds": median,
            "all_seconds": times,
            "ratio": ratio,
            "nfe": nfe,
            "nfe_gap": nfe_gap,
            "max_error": error,
            "dynamics_seconds": dynamics,
            "torchdiffeq_over_dynamics": median["torchdiffeq"] / dynamics if dynamics else None,
            "target_ratio": None if problem.backward else target,
            "meets_target": None
            if problem.backward or target is None
            else bool(ratio <= target and abs(nfe_gap) <= NFE_SLACK),
        }
        rows.append(row)
        log(
            f"  {problem.label}: utils {median['utils'] * 1e3:.1f} ms, torchdiffeq "
            f"{median['torchdiffeq'] * 1e3:.1f} ms (ratio {ratio:.2f}), NFE {nfe['utils']} vs "
            f"{nfe['torchdiffeq']}, max error {error['utils']:.2g} vs {error['torchdiffeq']:.2g}"
        )
    return {"repeats": repeats, "rows": rows}


# --- part 2: adjoint against direct backpropagation ----------------------------------------------


def adjoint_available() -> str | None:
    """None if utils.adjoint and utils.profiling can be used, else why not."""
    try:
        from utils import adjoint, profiling
    except ImportError as error:
        return f"not measured: {error}"
    for module, name in ((adjoint, "odeint_adjoint"), (profiling, "peak_memory")):
        if not hasattr(module, name):
            return f"not measured: {module.__name__} has no {name}"
    if not hasattr(profiling, "gradient_workload"):
        return "not measured: utils.profiling has no gradient_workload"
    return None


def bench_adjoint(step_counts, repeats: int, batch: int, log=print) -> dict:
    missing = adjoint_available()
    if missing:
        log(f"  {missing}")
        return {"skipped": missing, "rows": []}
    from utils.profiling import gradient_workload, peak_memory

    rows = []
    for n_steps in step_counts:
        row = {"n_steps": n_steps}
        for gradient in ("direct", "adjoint"):
            runs = [
                peak_memory(gradient_workload, gradient, n_steps, batch=batch)
                for _ in range(repeats)
            ]
            row[gradient] = {
                "peak_mb": statistics.median(r.peak_mb for r in runs),
                "seconds": statistics.median(r.seconds for r in runs),
                "forward_nfe": runs[0].result["forward_nfe"],
                "backward_nfe": runs[0].result["backward_nfe"],
            }
        rows.append(row)
        log(
            f"  {n_steps} steps: direct {row['direct']['peak_mb']:.1f} MB "
            f"{row['direct']['seconds'] * 1e3:.0f} ms, adjoint {row['adjoint']['peak_mb']:.1f} MB "
            f"{row['adjoint']['seconds'] * 1e3:.0f} ms"
        )
    return {"batch": batch, "repeats": repeats, "rows": rows}


# --- part 3: the whole course ---------------------------------------------------------------------


def execute_notebook(path: Path, timeout: int) -> dict:
    """Execute a copy of one notebook with the build's client: seconds, error or None.

    ``grader.execution.CourseClient`` polls for each cell's reply, so a widget cell does not
    stall until the cell timeout in a fresh process (nbclient issue #312), as plain nbclient can.
    """
    import nbformat

    from grader.execution import CourseClient

    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / path.name
        shutil.copy(path, copy)
        rc = path.parent / "matplotlibrc"  # the lessons' figure settings (150 dpi), as in make lab
        if rc.is_file():
            shutil.copy(rc, Path(tmp) / rc.name)
        nb = nbformat.read(copy, as_version=4)
        client = CourseClient(
            nb, kernel_name=KERNEL, timeout=timeout, resources={"metadata": {"path": tmp}}
        )
        start = time.perf_counter()
        error = None
        try:
            client.execute()
        except Exception as exc:  # report the lesson as failed; the others still get timed
            error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1][:200]}"
        return {"seconds": time.perf_counter() - start, "error": error}


def bench_course(notebooks: list[Path], timeout: int = 600, log=print) -> dict:
    """Time every notebook, each in a child process of its own (a hung lesson is killed and
    reported; nothing one lesson leaves behind slows the next)."""
    rows = []
    for path in notebooks:
        command = [sys.executable, __file__, "--execute-one", str(path), "--timeout", str(timeout)]
        try:
            done = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout + 120, check=False
            )
            lines = done.stdout.strip().splitlines()
            row = json.loads(lines[-1]) if lines else None
            if row is None:
                row = {"seconds": float("nan"), "error": f"child failed: {done.stderr[-300:]}"}
        except subprocess.TimeoutExpired:
            row = {"seconds": float(timeout + 120), "error": "timed out"}
        rows.append({"lesson": path.name, **row})
        error = row["error"]
        log(f"  {path.name}: {row['seconds']:.1f} s" + (f" FAILED {error}" if error else ""))
    total = sum(r["seconds"] for r in rows)
    return {"rows": rows, "total_seconds": total, "budget_seconds_per_lesson": 60}


# --- the report ---------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def solvers_table(result: dict) -> list[str]:
    lines = [
        "| problem | utils (ms) | torchdiffeq (ms) | ratio utils/torchdiffeq | target | NFE utils "
        "| NFE torchdiffeq | max error utils | max error torchdiffeq |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        target = row["target_ratio"]
        verdict = ""
        if target is not None and abs(row["nfe_gap"]) > NFE_SLACK:
            verdict = f"<= {target:g} (n/a: NFE differ by {row['nfe_gap']:+.0%})"
        elif target is not None:
            verdict = f"<= {target:g} ({'met' if row['meets_target'] else 'NOT met'})"
        lines.append(
            f"| {row['problem']} | {_ms(row['seconds']['utils'])} "
            f"| {_ms(row['seconds']['torchdiffeq'])} | {row['ratio']:.2f} | {verdict} "
            f"| {row['nfe']['utils']} | {row['nfe']['torchdiffeq']} "
            f"| {row['max_error']['utils']:.2g} | {row['max_error']['torchdiffeq']:.2g} |"
        )
    spiral = next((r for r in result["rows"] if r["name"] == "spiral"), None)
    if spiral and spiral["torchdiffeq_over_dynamics"]:
        lines += [
            "",
            f"On the spiral, the dynamics alone ({spiral['nfe']['torchdiffeq']} calls) take "
            f"{_ms(spiral['dynamics_seconds'])} ms: torchdiffeq's solve takes "
            f"{spiral['torchdiffeq_over_dynamics']:.0f}x that, utils' "
            f"{spiral['seconds']['utils'] / spiral['dynamics_seconds']:.0f}x; the rest is solver "
            "overhead.",
        ]
    return lines


def adjoint_table(result: dict) -> list[str]:
    if result.get("skipped"):
        return [result["skipped"]]
    lines = [
        "| RK4 steps | direct: peak memory (MB) | adjoint: peak memory (MB) | direct: time (ms) "
        "| adjoint: time (ms) | adjoint: backward NFE |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        d, a = row["direct"], row["adjoint"]
        lines.append(
            f"| {row['n_steps']} | {d['peak_mb']:.1f} | {a['peak_mb']:.1f} "
            f"| {_ms(d['seconds'])} | {_ms(a['seconds'])} | {a['backward_nfe']} |"
        )
    return lines


def course_table(result: dict) -> list[str]:
    lines = ["| lesson | execution time (s) |", "|---|---:|"]
    for row in result["rows"]:
        note = f" (FAILED: {row['error']})" if row["error"] else ""
        note += f" ({row['note']})" if row.get("note") else ""
        lines.append(f"| {row['lesson']} | {row['seconds']:.1f}{note} |")
    lines.append(f"| **total** | **{result['total_seconds']:.1f}** |")
    return lines


def grading_table(result: dict) -> list[str]:
    runs = result["runs"]
    lines = [
        f"`python -m grader.bench` grades the same {result['notebooks']} notebooks "
        f"({' and '.join(result['sets'])}: the ten learner notebooks as handed out, and each "
        "lesson with its reference answers) in the bubblewrap sandbox with "
        f"`--jobs {result['jobs']}`, "
        "first running every cell (`--run-all`), then the default plan (only the cells the "
        "grades depend on), one after the other in one run.",
        "",
        "| plan | seconds | notebooks per minute | per notebook (s) | load average at the start |",
        "|---|---:|---:|---:|---|",
    ]
    for label, run in runs.items():
        low, high = run["per_notebook"]
        lines.append(f"| {label} | {run['seconds']:.0f} | {run['per_minute']:.1f} | "
                     f"{low:.0f}-{high:.0f} | {run['load_start'].removeprefix('load average ')} |")
    lines += ["", f"Ratio: {result['ratio']:.1f}x; `grades.csv` "
              f"{'identical in both runs' if result['identical'] else 'DIFFERS between the runs'}."]
    return lines


def render(results: dict) -> str:
    env = results.get("environment", {})
    lines = [
        "# Benchmarks",
        "",
        "Reproduce (about 15-20 minutes with the sliders; writes this file and "
        "`bench/results.json`):",
        "",
        "```",
        COMMAND,
        "```",
        "",
        "Each part also runs alone and keeps the others' last results: "
        "`.venv/bin/python bench/run.py --parts sliders` (every slider in headless Chromium, "
        "about 10 minutes; `--notebooks notebooks/0[1-6]_*.ipynb` to limit it) and "
        "`--parts seeds` (not in the default run: lessons 05-06 rerun with other seeds, "
        "about 10 lesson runs).",
        "",
        f"Last run {env.get('date', '?')} on {env.get('machine', '?')} "
        f"({env.get('cpus', '?')} CPUs, load average {env.get('load', '?')} at the start; each "
        "section says when it was measured), "
        f"torch {env.get('torch', '?')} on {env.get('threads', '?')} thread(s), "
        f"torchdiffeq {env.get('torchdiffeq', '?')}. Wall times depend on the machine and on "
        "what else runs on it: compare the figures of one run with each other, not across runs.",
        "",
    ]

    def heading(title: str, part: str) -> list[str]:
        """A section's title, then when (and under what load) its part was measured."""
        measured = results[part].get("measured")
        return [title, "", f"Measured {measured}."] if measured else [title]

    if "solvers" in results:
        s = results["solvers"]
        lines += [
            *heading("## `utils.odeint` against `torchdiffeq.odeint`", "solvers"),
            "",
            f"dopri5 in both, same tolerances, float32; median wall time of {s['repeats']} solves "
            "each, the two interleaved in one run; NFE = calls of the dynamics; error = largest "
            "absolute difference to a float64 dopri8 solve at rtol=1e-12. Target (issue 7): at "
            "NFE within 10% of torchdiffeq's, at most 0.5x its time on the spiral and 0.9x on "
            "the MLP batch. Problems: the cubic spiral of torchdiffeq's `examples/ode_demo.py` "
            "(1000 output times on [0, 25]); 256 states through `Linear(2, 64)-tanh-Linear(64, "
            "2)` (10 output times on [0, 5]), without and with a backward pass.",
            "",
            *solvers_table(s),
            "",
        ]
    if "adjoint" in results:
        a = results["adjoint"]
        lines += [
            *heading("## Adjoint against direct backpropagation", "adjoint"),
            "",
            "One forward + backward pass of a Neural ODE (`ODEFunc(2, hidden=64)`, batch "
            f"{a.get('batch', '?')}, RK4 with a fixed number of steps on [0, 1]); peak resident "
            "memory above the baseline and wall time of the pass, each measured in a fresh child "
            "process on one thread (`utils.profiling.peak_memory`), median of "
            f"{a.get('repeats', '?')}.",
            "",
            *adjoint_table(a),
            "",
        ]
    if "course" in results:
        c = results["course"]
        lines += [
            *heading("## The whole course", "course"),
            "",
            "Each lesson of `notebooks/` executed top to bottom on the course kernel (nbclient, "
            "as the build does, exercise stubs in place), one after the other; the budget is "
            f"{c['budget_seconds_per_lesson']} s per lesson on 2 CPU cores.",
            "",
            *course_table(c),
            "",
        ]
    if "grading" in results:
        lines += [*heading("## Grading throughput", "grading"), "",
                  *grading_table(results["grading"]), ""]
    if "seeds" in results:
        import seed_spread

        lines += [
            *heading("## Seed spread of lessons 05 and 06", "seeds"),
            "",
            "`python bench/run.py --parts seeds` (or `python bench/seed_spread.py`): each "
            "lesson's source executed as a script with its training seeds "
            "(`torch.manual_seed`, `torch.Generator().manual_seed`) set to the seed shown; the "
            "data stay the same. Lesson 05: test MSE of the rollout from (1, 0) over [0, 10]. "
            "Lesson 06: forecast RMSE 1916-1920 in thousands of pelts, per model.",
            "",
        ]
        for lesson, result in results["seeds"].items():
            if isinstance(result, dict):  # skip "measured"
                lines += [f"Lesson {lesson}:", "", *seed_spread.table(result), ""]
    if "mutation" in results:
        m = results["mutation"]
        lines += [
            *heading("## Mutation run", "mutation"),
            "",
            "`make mutation` (`tools/mutation.py`, not part of `bench/run.py`'s parts nor of "
            "CI): one deliberate bug at a time in a copy of the project (grader, exercises, "
            "references, the adjoint), then the tests meant to catch it. Killed = those tests "
            f"failed. Score: **{m['killed']}/{m['total']} killed** "
            f"({m.get('seconds', 0):.0f} s in all).",
            "",
            "| mutation | file | killed | seconds |",
            "|---|---|---|---:|",
            *[f"| {r['name']} | `{r['path']}` | {'yes' if r['killed'] else '**no**'} | "
              f"{r['seconds']:.0f} |" for r in m["mutations"]],
            "",
        ]
    if "sliders" in results:
        import slider_latency

        lines += [*heading("## Slider latency in the browser", "sliders"), "",
                  *slider_latency.report(results["sliders"]), ""]
    return "\n".join(lines)


def environment(threads: int) -> dict:
    import torchdiffeq

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.system()} {platform.machine()}",
        "cpus": os.cpu_count(),
        "load": f"{load:.1f}",
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchdiffeq": torchdiffeq.__version__,
        "threads": threads,
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--parts", default=",".join(DEFAULT_PARTS),
                        help=f"comma-separated, from {PARTS}; default {DEFAULT_PARTS}")
    parser.add_argument("--repeats", type=int, default=7, help="timed solves per library")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check that it runs")
    parser.add_argument("--steps", default="25,50,100,200,400", help="adjoint: RK4 step counts")
    parser.add_argument("--batch", type=int, default=512, help="adjoint: batch size")
    parser.add_argument(
        "--adjoint-repeats", type=int, default=2, help="adjoint: measurements per point"
    )
    parser.add_argument("--notebooks", nargs="*", type=Path, help="course: default notebooks/*")
    parser.add_argument("--json", type=Path, default=RESULTS, help="results (JSON)")
    parser.add_argument("--report", type=Path, default=REPORT, help="results (markdown)")
    parser.add_argument("--timeout", type=int, default=600, help="course: seconds per cell")
    parser.add_argument("--execute-one", type=Path, help=argparse.SUPPRESS)  # bench_course's child
    args = parser.parse_args(argv)
    if args.execute_one:
        print(json.dumps(execute_notebook(args.execute_one, args.timeout)))
        return 0
    parts = [p.strip() for p in args.parts.split(",") if p.strip()]
    unknown = sorted(set(parts) - set(PARTS))
    if unknown:
        parser.error(f"unknown parts {unknown}; valid: {', '.join(PARTS)}")
    steps = [int(s) for s in args.steps.split(",")]

    torch.set_num_threads(args.threads)
    results = json.loads(args.json.read_text()) if args.json.exists() else {}
    results["environment"] = environment(args.threads)
    start = time.perf_counter()
    if "solvers" in parts:
        print("solvers: utils.odeint vs torchdiffeq.odeint", flush=True)
        results["solvers"] = bench_solvers(args.repeats, args.quick)
    if "adjoint" in parts:
        print("adjoint vs direct backprop", flush=True)
        results["adjoint"] = bench_adjoint(steps, args.adjoint_repeats, args.batch)
    if "course" in parts:
        notebooks = args.notebooks or lesson_notebooks(NOTEBOOKS)
        print(f"course: {len(notebooks)} lessons", flush=True)
        results["course"] = bench_course(notebooks, args.timeout)
    if "grading" in parts:
        from grader.bench import measure

        print("grading: the shipped and solved notebooks, --run-all vs the default plan",
              flush=True)
        results["grading"] = measure(("shipped", "solved"), jobs=2,
                                     log=lambda line: print("  " + line, flush=True))
    if "seeds" in parts:
        import seed_spread

        print("seeds: lessons 05 and 06 rerun with other training seeds", flush=True)
        results["seeds"] = {lesson: seed_spread.spread(lesson) for lesson in ("05", "06")}
    if "sliders" in parts:
        import slider_latency

        print("sliders: latency in headless Chromium", flush=True)
        try:
            results["sliders"] = slider_latency.measure(args.notebooks or None)
        except Exception as exc:  # no Chromium or Playwright here: say so, keep the rest
            print(f"  sliders not measured: {type(exc).__name__}: {exc}", flush=True)
    for part in parts:  # each part says when and under what load it was measured
        if isinstance(results.get(part), dict):
            env = results["environment"]
            results[part]["measured"] = f"{env['date']}, load average {env['load']} at the start"
    results["environment"]["bench_seconds"] = time.perf_counter() - start
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=1) + "\n")
    args.report.parent.mkdir(parents=True, exist_ok=True)
    args.report.write_text(render(results))
    print(f"wrote {args.report} and {args.json} in {time.perf_counter() - start:.0f} s")
    failed = [r["lesson"] for r in results.get("course", {}).get("rows", []) if r["error"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
