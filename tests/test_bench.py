"""Smoke test of the benchmark code (bench/run.py) on tiny sizes: it runs, and reports honestly."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import nbformat
import pytest
import torch

ROOT = Path(__file__).resolve().parent.parent


def _load_bench():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load_bench()


pytestmark = pytest.mark.usefixtures("one_thread")  # tests/conftest.py


def test_problems_match_the_demo():
    spiral = bench.problems()[0]
    assert spiral.name == "spiral"
    assert spiral.t.shape == (1000,) and float(spiral.t[-1]) == 25.0
    assert (spiral.rtol, spiral.atol) == (1e-7, 1e-9)
    y = torch.tensor([[1.0, 2.0]])
    expected = torch.tensor([[-0.1 - 16.0, 2.0 - 0.8]])  # y**3 @ A by hand
    assert torch.allclose(bench.Spiral(torch.float32)(0.0, y), expected)


def test_mlp_is_seeded_and_the_same_in_both_dtypes():
    a, b = bench.MLP(), bench.MLP()
    y = torch.randn(4, 2, dtype=torch.float64)
    assert torch.equal(a(0.0, y.float()), b(0.0, y.float()))
    assert torch.allclose(a.double()(0.0, y), b(0.0, y.float()).double(), atol=1e-6)


def test_solver_benchmark_measures_both_libraries():
    result = bench.bench_solvers(repeats=1, quick=True, log=lambda *_: None)
    assert len(result["rows"]) == 4
    for row in result["rows"]:
        assert row["nfe"]["utils"] > 0 and row["nfe"]["torchdiffeq"] > 0
        assert row["seconds"]["utils"] > 0 and row["seconds"]["torchdiffeq"] > 0
        # both solve the problem: dopri5 at these tolerances is close to the reference
        assert row["max_error"]["utils"] < 1e-3 and row["max_error"]["torchdiffeq"] < 1e-3
    table = "\n".join(bench.solvers_table(result))
    assert table.count("\n| spiral") == 1 and "ratio utils/torchdiffeq" in table


def test_error_is_measured_against_the_reference():
    """A solver that returns a wrong answer shows a large error: the error column can fail."""
    problem = bench.problems(quick=True)[0]
    reference = bench.reference_solution(problem)
    wrong = lambda func, y0, t, **kw: bench.solvers()["torchdiffeq"](  # noqa: E731
        func, y0 * 1.1, t, **kw
    )
    _, _, ys = bench.solve_once(wrong, problem, problem.make_func(problem.dtype))
    assert float((ys.double() - reference).abs().max()) > 0.05


def test_adjoint_benchmark_runs_or_says_why_not():
    result = bench.bench_adjoint([2, 4], repeats=1, batch=4, log=lambda *_: None)
    if result.get("skipped"):
        assert "not measured" in result["skipped"]
        return
    rows = result["rows"]
    assert [r["n_steps"] for r in rows] == [2, 4]
    assert rows[1]["direct"]["forward_nfe"] == 2 * rows[0]["direct"]["forward_nfe"]
    assert rows[0]["adjoint"]["backward_nfe"] > 0
    assert "| 4 |" in "\n".join(bench.adjoint_table(result))


def _notebook(path: Path, source: str) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": bench.KERNEL, "display_name": "c", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source)]
    nbformat.write(nb, path)
    return path


def test_course_benchmark_times_lessons_and_reports_failures(tmp_path):
    good = _notebook(tmp_path / "01_good.ipynb", "x = sum(range(10))")
    bad = _notebook(tmp_path / "02_bad.ipynb", "1 / 0")
    result = bench.bench_course([good, bad], timeout=120, log=lambda *_: None)
    rows = {r["lesson"]: r for r in result["rows"]}
    assert rows["01_good.ipynb"]["error"] is None
    assert "ZeroDivisionError" in rows["02_bad.ipynb"]["error"]
    assert result["total_seconds"] == pytest.approx(sum(r["seconds"] for r in rows.values()))
    assert "FAILED" in "\n".join(bench.course_table(result))
    assert nbformat.read(bad, as_version=4).cells[0].outputs == []  # copies ran, not the originals


def test_main_writes_the_report_and_json(tmp_path):
    report, results = tmp_path / "benchmarks.md", tmp_path / "results.json"
    code = bench.main(
        ["--quick", "--parts", "solvers", "--repeats", "1", "--json", str(results),
         "--report", str(report)]
    )
    assert code == 0
    data = json.loads(results.read_text())
    assert set(data) == {"environment", "solvers"}
    text = report.read_text()
    assert "make bench" in text and "| spiral" in text
    with pytest.raises(SystemExit):
        bench.main(["--parts", "nonsense"])


# --- the seed-spread and slider-latency parts (their slow runs are not part of the tests) --------


def _load(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_seed_spread_changes_only_the_training_seeds():
    seeds = _load("seed_spread")
    for lesson in ("05", "06"):
        original = (ROOT / "lessons_src" / seeds.SOURCES[lesson]).read_text()
        seeded = seeds.seeded_source(lesson, 3)
        assert "manual_seed(0)" in original and "manual_seed(0)" not in seeded
        assert seeded.replace("manual_seed(3)", "manual_seed(0)") == original
        assert "seed=0" in seeded or lesson == "06"  # the data keep their own seed


def test_seed_spread_summary_and_table():
    seeds = _load("seed_spread")
    rows = [{"lesson": "06", "seed": s, "forecast_rmse": {"A": a, "B": b}}
            for s, a, b in ((0, 3.0, 4.0), (1, 5.0, 4.0), (2, 3.5, 4.5))]
    summary = seeds.summarise(rows)
    assert summary["A"]["mean"] == pytest.approx(3.8333, abs=1e-3)
    assert (summary["A"]["min"], summary["A"]["max"]) == (3.0, 5.0)
    assert summary["best_per_seed"] == ["A", "B", "A"]
    lines = seeds.table({"rows": rows, "summary": summary})
    assert lines[2] == "| A | 3.0 | 5.0 | 3.5 | 3.8 | 3.0-5.0 |"
    assert lines[-1].startswith("| lowest forecast RMSE | A | B | A |")


def test_slider_latency_report_relates_every_lesson_to_the_floor():
    latency = _load("slider_latency")
    result = {
        "presses": 4, "goal_ms": 250.0,
        "floor": {"median_ms": 200.0, "worst_ms": 220.0},
        "lessons": [
            {"lesson": "01.ipynb", "median_ms": 240.0, "worst_ms": 300.0,
             "worst_slider_median_ms": 260.0,
             "sliders": [{"cell": 3, "slider": "h", "ms": [230.0, 250.0, 260.0]}]},
            {"lesson": "02.ipynb", "median_ms": None, "worst_ms": None,
             "worst_slider_median_ms": None, "sliders": []},
        ],
    }
    text = "\n".join(latency.report(result))
    assert "| floor (trivial two-panel slider) | 1 | 200 | 220 | 200 | 200 | 1.00 | 1.00 |" in text
    assert "| 01.ipynb | 1 | 240 | 300 | 260 | 200 | 1.20 | 1.30 |" in text
    assert "| 02.ipynb | 0 | - | - | - | - | - | - |" in text
    result["lessons"][0]["floor_ms"] = 240.0  # the floor measured next to the lesson counts
    assert "| 01.ipynb | 1 | 240 | 300 | 260 | 240 | 1.00 | 1.08 |" in "\n".join(
        latency.report(result))
    assert "| 01.ipynb | 3 | h | 250 |" in text


def test_grading_table_reports_rates_ratio_and_identity():
    result = {"sets": ["shipped", "solved"], "jobs": 2, "notebooks": 20, "ratio": 6.0,
              "identical": True, "differences": [],
              "runs": {"--run-all": {"seconds": 600.0, "per_minute": 2.0, "per_notebook": [10, 90],
                                     "load_start": "load average 0.5 0.4 0.3",
                                     "load_end": "load average 2.0 1.0 0.5"},
                       "default plan": {"seconds": 100.0, "per_minute": 12.0,
                                        "per_notebook": [4, 9],
                                        "load_start": "load average 1.0 1.0 0.5",
                                        "load_end": "load average 2.0 1.0 0.5"}}}
    text = "\n".join(bench.grading_table(result))
    assert "| --run-all | 600 | 2.0 | 10-90 | 0.5 0.4 0.3 |" in text
    assert "| default plan | 100 | 12.0 | 4-9 |" in text
    assert "Ratio: 6.0x" in text and "identical in both runs" in text
