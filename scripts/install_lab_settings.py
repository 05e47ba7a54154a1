"""Install the course's learner JupyterLab settings into the running Python's environment.

    .venv/bin/python scripts/install_lab_settings.py        (make lab / make instructor-lab run it)

Copies lab/learner/page_config.json to ``<prefix>/etc/jupyter/labconfig/page_config.json``
(nbgrader's instructor UI off) and lab/learner/overrides.json to
``<prefix>/share/jupyter/lab/settings/overrides.json`` (no news pop-up), where ``<prefix>`` is
``sys.prefix``: the course's own environment, never the user's home. Keys already in those files
that the course does not set are kept. Idempotent. ``make instructor-lab`` switches nbgrader's
tools back on with ``JUPYTER_CONFIG_PATH=lab/instructor`` (lab/README.md).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEARNER = ROOT / "lab" / "learner"


def merge(target: Path, source: Path) -> None:
    """Write ``source``'s settings into ``target`` (one level of nesting merged), keep the rest."""
    wanted = json.loads(source.read_text())
    current = json.loads(target.read_text()) if target.exists() and target.stat().st_size else {}
    for key, value in wanted.items():
        if isinstance(value, dict) and isinstance(current.get(key), dict):
            current[key].update(value)
        else:
            current[key] = value
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(current, indent=2) + "\n")
    print(f"course lab settings: {target}")


def main(prefix: str = sys.prefix) -> None:
    base = Path(prefix)
    labconfig = base / "etc" / "jupyter" / "labconfig"
    app_settings = base / "share" / "jupyter" / "lab" / "settings"
    merge(labconfig / "page_config.json", LEARNER / "page_config.json")
    merge(app_settings / "overrides.json", LEARNER / "overrides.json")


if __name__ == "__main__":
    main(*sys.argv[1:])
