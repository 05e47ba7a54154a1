"""Seed spread of lessons 05 and 06: the lessons' own code, rerun with other training seeds.

A lesson shows one training run (seed 0); its budget (60 s) does not allow several. Here each
lesson source (``lessons_src/NN_*.py``) is executed top to bottom as a script, once per seed, with
only its *training* seeds changed: every ``torch.manual_seed(0)`` and ``Generator().manual_seed(0)``
in the source becomes ``manual_seed(seed)``. The data (generated with their own ``seed=0``
argument, or loaded from the package) stay the same. Each run is a child process
(``python bench/seed_spread.py --run LESSON --seed N`` prints one JSON line).

What is read from each run:

* lesson 05: ``mse``, the test MSE of the rollout from (1, 0) over [0, 10] (lesson 05's
  convention: mean over times and components of the squared difference);
* lesson 06: the forecast RMSE (1916-1920, thousands of pelts) of each model in ``predictions``.

    python bench/seed_spread.py                 # both lessons, prints the table
    python bench/run.py --parts seeds           # the same, into docs/benchmarks.md
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = {"05": "05_learning_dynamics.py", "06": "06_lynx_hare.py"}
SEEDS = {"05": (0, 1, 2, 3), "06": (0, 1, 2, 3, 4, 5)}
SEED_CALL = re.compile(r"manual_seed\(0\)")


def seeded_source(lesson: str, seed: int) -> str:
    """The lesson's source with its training seeds replaced by ``seed``."""
    source = (ROOT / "lessons_src" / SOURCES[lesson]).read_text()
    replaced, count = SEED_CALL.subn(f"manual_seed({int(seed)})", source)
    if count == 0:
        raise ValueError(f"lesson {lesson}: no manual_seed(0) to replace; update this script")
    return replaced


def run_one(lesson: str, seed: int) -> dict:
    """Execute the seeded lesson in this process (matplotlib off-screen) and read its results."""
    import matplotlib

    matplotlib.use("Agg")
    os.environ.setdefault("TQDM_DISABLE", "1")
    namespace = {"__name__": "__main__"}
    code = compile(seeded_source(lesson, seed), f"lessons_src/{SOURCES[lesson]}", "exec")
    exec(code, namespace)  # noqa: S102 - the course's own lesson source
    if lesson == "05":
        return {"lesson": lesson, "seed": seed, "test_mse": float(namespace["mse"])}
    from utils.training import rmse

    counts, part = namespace["counts"], namespace["test_part"]
    return {"lesson": lesson, "seed": seed,
            "forecast_rmse": {name: rmse(pred[part], counts[part])
                              for name, pred in namespace["predictions"].items()}}


def spread(lesson: str, seeds=None, timeout: int = 900, log=print) -> dict:
    """Run ``lesson`` once per seed, each in a child process; returns rows and a summary."""
    rows = []
    for seed in seeds or SEEDS[lesson]:
        done = subprocess.run(
            [sys.executable, __file__, "--run", lesson, "--seed", str(seed)],
            capture_output=True, text=True, timeout=timeout, check=False, cwd=ROOT,
        )
        lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
        if done.returncode != 0 or not lines:
            raise RuntimeError(f"lesson {lesson} seed {seed} failed:\n{done.stderr[-2000:]}")
        rows.append(json.loads(lines[-1]))
        log(f"  lesson {lesson}, seed {seed}: {rows[-1]}")
    return {"rows": rows, "summary": summarise(rows)}


def summarise(rows: list[dict]) -> dict:
    """{quantity: {"mean", "min", "max", "values"}} over the seeds; for lesson 06, which model
    has the lowest forecast RMSE at each seed."""
    if "test_mse" in rows[0]:
        values = [r["test_mse"] for r in rows]
        return {"test_mse": _stats(values)}
    names = list(rows[0]["forecast_rmse"])
    summary = {name: _stats([r["forecast_rmse"][name] for r in rows]) for name in names}
    summary["best_per_seed"] = [min(r["forecast_rmse"], key=r["forecast_rmse"].get) for r in rows]
    return summary


def _stats(values: list[float]) -> dict:
    return {"mean": sum(values) / len(values), "min": min(values), "max": max(values),
            "values": values}


def table(result: dict) -> list[str]:
    """Markdown rows: one line per quantity, values per seed, mean and range."""
    rows, summary = result["rows"], result["summary"]
    seeds = [r["seed"] for r in rows]
    head = "| quantity | " + " | ".join(f"seed {s}" for s in seeds) + " | mean | range |"
    lines = [head, "|---|" + "---:|" * (len(seeds) + 2)]
    for name, stats in summary.items():
        if name == "best_per_seed":
            continue
        fmt = "{:.2g}" if name == "test_mse" else "{:.1f}"
        cells = " | ".join(fmt.format(v) for v in stats["values"])
        lines.append(f"| {name} | {cells} | {fmt.format(stats['mean'])} | "
                     f"{fmt.format(stats['min'])}-{fmt.format(stats['max'])} |")
    if "best_per_seed" in summary:
        lines.append("| lowest forecast RMSE | " + " | ".join(summary["best_per_seed"]) + " | | |")
    return lines


def main(argv=None) -> int:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", choices=sorted(SOURCES), help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--lessons", default="05,06")
    args = parser.parse_args(argv)
    if args.run:
        import torch

        torch.set_num_threads(1)
        print(json.dumps(run_one(args.run, args.seed)))
        return 0
    for lesson in args.lessons.split(","):
        print("\n".join(table(spread(lesson))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
