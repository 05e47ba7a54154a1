"""The scale-out examples in docs/scale-out/ are real: the Kubernetes manifests are valid YAML with
a consistent shard count, and the Slurm script and the Jobs' commands, run here with the task index
set as Slurm and Kubernetes set it, give the same grades.csv as one run of the grader.

The examples use 8 shards; run here, the shard count is lowered to 2 (each grader run checks its
sandbox on a known-good notebook first, about 10 s), which is the only change made to them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs" / "scale-out"
GRADE = Path(sys.executable).parent / "neural-ode-grade"
SHARDS_HERE = 2

needs_sandbox = pytest.mark.skipif(shutil.which("bwrap") is None,
                                   reason="install bubblewrap (scripts/install_sandbox.sh) to run "
                                          "the sandboxed grading tests")


def _jobs():
    return {name: yaml.safe_load((DOCS / f"grade-k8s-{name}.yaml").read_text())
            for name in ("shards", "merge")}


def _command(job) -> str:
    (container,) = job["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["bash", "-c"]
    (script,) = container["args"]
    return script


def test_manifests_are_consistent_indexed_jobs():
    jobs = _jobs()
    shards = jobs["shards"]
    assert shards["apiVersion"] == "batch/v1" and shards["kind"] == "Job"
    spec = shards["spec"]
    assert spec["completionMode"] == "Indexed"
    n = spec["completions"]
    assert spec["parallelism"] == n
    command = _command(shards)
    assert f"--shard $((JOB_COMPLETION_INDEX + 1))/{n}" in command
    assert "--out /data/results/shard-$((JOB_COMPLETION_INDEX + 1))" in command
    assert jobs["merge"]["kind"] == "Job"
    assert "merge /data/grading_results /data/results/shard-*" in _command(jobs["merge"])
    for job in jobs.values():
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


def test_slurm_script_matches_its_array():
    text = (DOCS / "grade-slurm.sh").read_text()
    array = re.search(r"#SBATCH --array=1-(\d+)", text).group(1)
    assert re.search(rf'SHARDS="\$\{{SHARDS:-{array}\}}"', text)


def _submissions(folder: Path) -> Path:
    folder.mkdir()
    (folder / "notes.txt").write_text("not a notebook")
    (folder / "broken.ipynb").write_bytes(b"\x00\x01 not json")
    (folder / "empty.ipynb").write_text("{}")
    (folder / "alice_01.ipynb").write_text('{"cells": [], "metadata": {}, "nbformat": 4, '
                                           '"nbformat_minor": 5}')
    return folder


def _run(args, env=None):
    done = subprocess.run(args, capture_output=True, text=True, timeout=600,
                          env={**os.environ, **(env or {})})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return done


@needs_sandbox
def test_slurm_and_kubernetes_shards_merge_to_one_run(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    submissions = _submissions(data / "submissions")
    _run([str(GRADE), str(submissions), "--out", str(tmp_path / "single")])
    single = (tmp_path / "single" / "grades.csv").read_text()

    # Slurm: every array task runs the script with its SLURM_ARRAY_TASK_ID.
    for task in range(1, SHARDS_HERE + 1):
        _run(["bash", str(DOCS / "grade-slurm.sh")],
             env={"SLURM_ARRAY_TASK_ID": str(task), "SHARDS": str(SHARDS_HERE),
                  "SUBMISSIONS": str(submissions), "OUT": str(tmp_path / "slurm"),
                  "GRADE": str(GRADE)})
    shards = sorted(str(p) for p in (tmp_path / "slurm").glob("shard-*"))
    assert len(shards) == SHARDS_HERE
    _run([str(GRADE), "merge", str(tmp_path / "slurm_merged"), *shards])
    assert (tmp_path / "slurm_merged" / "grades.csv").read_text() == single

    # Kubernetes: every pod runs the container's command with its JOB_COMPLETION_INDEX.
    jobs = _jobs()
    n = jobs["shards"]["spec"]["completions"]

    def local(command: str) -> str:
        command = command.replace(f"/{n} ", f"/{SHARDS_HERE} ")
        return command.replace("/data", str(data)).replace("neural-ode-grade", str(GRADE), 1)

    for index in range(SHARDS_HERE):
        _run(["bash", "-c", local(_command(jobs["shards"]))],
             env={"JOB_COMPLETION_INDEX": str(index)})
    _run(["bash", "-c", local(_command(jobs["merge"]))])
    assert (data / "grading_results" / "grades.csv").read_text() == single
