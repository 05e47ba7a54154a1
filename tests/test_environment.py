"""The pip route (pyproject.toml) and the conda route (environment.yml) pin the same versions."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)")


def _normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject_pins():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    specs = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        specs += extra
    pins = {}
    for spec in specs:
        match = PIN.match(spec)
        assert match, f"pyproject.toml: {spec!r} is not pinned with =="
        pins[_normalise(match[1])] = match[2]
    return pins


def environment_pins():
    pins = {}
    for line in (ROOT / "environment.yml").read_text().splitlines():
        match = PIN.match(line)
        if match:
            pins[_normalise(match[1])] = match[2]
    return pins


def test_environment_yml_pins_what_pyproject_pins():
    assert environment_pins() == pyproject_pins()


def test_constraints_agree_with_pyproject():
    constraints = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        match = PIN.match(line)
        if match:
            constraints[_normalise(match[1])] = match[2]
    for name, version in pyproject_pins().items():
        assert constraints.get(name) == version, f"constraints.txt pins {name} differently"


def test_python_version_agrees():
    text = (ROOT / "environment.yml").read_text()
    assert "python=3.11" in text
    assert 'requires-python = ">=3.11,<3.12"' in (ROOT / "pyproject.toml").read_text()
