"""The sample Zero to JupyterHub config.yaml in docs/instructors.md: valid YAML, sized from data.

The guide's *Sizing a hub* gives each lesson's measured peak memory and CPU seconds
(bench/lesson_resources.json, scripts/measure_lesson_resources.py) and a config.yaml sized from
them. This test lints that block (``yaml.safe_load``, keys where the Helm chart expects them) and
checks that the memory it guarantees holds the heaviest lesson's kernel plus the JupyterLab server,
that the table agrees with the measurement file, and that the start hook it runs is the one
postBuild installs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
GUIDE = (ROOT / "docs" / "instructors.md").read_text(encoding="utf-8")
MEASURED = json.loads((ROOT / "bench" / "lesson_resources.json").read_text())
SERVER_MIB = 137  # the JupyterLab server's VmHWM, as the guide says


def _config() -> dict:
    section = GUIDE[GUIDE.index("### Sizing a hub"):]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block, "no ```yaml block in the guide's Sizing section"
    return yaml.safe_load(block[1])


def _bytes(size: str) -> int:
    number, unit = re.fullmatch(r"([0-9.]+)([KMGT]i?)?", str(size)).groups()
    power = {"K": 1, "M": 2, "G": 3, "T": 4}[unit[0]] if unit else 0
    return int(float(number) * (1024 if unit and unit.endswith("i") else 1000) ** power)


def test_config_yaml_is_valid_and_has_the_charts_keys():
    config = _config()
    single = config["singleuser"]
    assert set(single["image"]) == {"name", "tag"}
    assert set(single["memory"]) == {"guarantee", "limit"}
    assert set(single["cpu"]) == {"guarantee", "limit"}
    assert single["lifecycleHooks"]["postStart"]["exec"]["command"][-1].endswith(
        "share/neural-ode-course/first_start.sh")
    post_build = (ROOT / "postBuild").read_text()
    assert 'SHARE="$PREFIX/share/neural-ode-course"' in post_build
    assert '"$SHARE/first_start.sh"' in post_build


def test_limits_are_sized_from_the_measured_figures():
    single = _config()["singleuser"]
    peak = max(row["peak_rss_mib"] for row in MEASURED["rows"])
    guarantee = _bytes(single["memory"]["guarantee"]) / 2**20
    limit = _bytes(single["memory"]["limit"]) / 2**20
    assert guarantee >= peak + SERVER_MIB, (guarantee, peak)
    assert limit >= 2 * peak + SERVER_MIB  # two lessons' kernels open at once
    assert 0 < single["cpu"]["guarantee"] <= single["cpu"]["limit"]


def test_the_guides_table_is_the_measurement():
    assert len(MEASURED["rows"]) == 10 and not any(r["error"] for r in MEASURED["rows"])
    for row in MEASURED["rows"]:
        number = row["lesson"][:2]
        line = next(x for x in GUIDE.splitlines() if x.startswith(f"| {number} "))
        cells = [c.strip().strip("*") for c in line.strip("|").split("|")]
        assert cells[1] == f"{row['peak_rss_mib']:.0f} MiB", (line, row)
        assert cells[2] == f"{row['cpu_seconds']:.1f}", (line, row)
