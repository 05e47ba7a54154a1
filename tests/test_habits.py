"""The habits of a maintained project stay true: pre-commit runs the course's own checks with
tools that exist, mypy is configured without blanket ignores, each kept ``# type: ignore``
says why, and LICENSE and CHANGELOG.md agree with pyproject.toml."""

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
HOOKS = {
    hook["id"]: hook
    for repo in yaml.safe_load((ROOT / ".pre-commit-config.yaml").read_text())["repos"]
    for hook in repo["hooks"]
}


def _venv_tool(entry_word: str) -> Path:
    """Where a hook's ``.venv/bin/<tool>`` is: the checkout's .venv (what `make` creates), or,
    where the suite runs in another environment with the same pins (the conda route), that one."""
    assert entry_word.startswith(".venv/bin/"), (
        f"hook entry {entry_word!r}: hooks run the course's pinned tools from .venv/bin/")
    if (ROOT / ".venv").is_dir():
        return ROOT / entry_word
    return Path(sys.prefix) / "bin" / entry_word.removeprefix(".venv/bin/")


def _course_pins() -> set[str]:
    names = set()
    for spec in PYPROJECT["project"]["optional-dependencies"]["course"]:
        names.add(re.split(r"[=<>!~\[ ]", spec, maxsplit=1)[0].lower().replace("_", "-"))
    return names


def _make_recipe(target: str) -> list[str]:
    """The commands of a Makefile target, with $(BIN) spelled out as .venv/bin."""
    text = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:[^\n]*\n((?:\t[^\n]*\n)+)", text, re.M)
    assert match, f"the Makefile has no {target!r} target"
    return [line.strip().replace("$(BIN)", ".venv/bin") for line in match[1].splitlines()]


def test_pre_commit_runs_ruff_mypy_and_the_notebook_sync_check():
    assert {"ruff", "mypy", "check-notebooks"} <= set(HOOKS), sorted(HOOKS)
    assert shlex.split(HOOKS["ruff"]["entry"])[1] == "check"
    # Not adopted by the project (it would reformat the codebase): no hook may run it.
    assert not any("format" in shlex.split(h["entry"]) for h in HOOKS.values())


@pytest.mark.parametrize("hook_id", sorted(HOOKS))
def test_each_hook_runs_a_tool_that_exists_and_is_pinned(hook_id):
    hook = HOOKS[hook_id]
    assert hook["language"] == "system", f"{hook_id}: a local hook on the venv downloads nothing"
    words = shlex.split(hook["entry"])
    tool = _venv_tool(words[0])
    assert tool.is_file(), f"{hook_id}: {words[0]} does not exist (run `make` to create .venv)"
    name = tool.name
    if name.startswith("python"):
        script = ROOT / words[1]
        assert script.is_file(), f"{hook_id}: its script {words[1]} is not in the repository"
    else:
        assert name in _course_pins(), (
            f"{hook_id}: {name} is not pinned in pyproject.toml's course extra, which `make` "
            "installs")


def test_the_notebook_hook_runs_what_make_check_notebooks_runs():
    assert HOOKS["check-notebooks"]["entry"] in _make_recipe("check-notebooks")


@pytest.mark.parametrize("hook_id, must_trigger", [
    ("mypy", ["utils/solvers.py", "grader/cli.py", "utils/exercises/lesson01.py"]),
    ("check-notebooks", ["lessons_src/01_ode_basics.py", "notebooks/01_ode_basics.ipynb",
                         "tools/build_notebooks.py", "grader/lessons.py"]),
])
def test_hooks_run_when_their_inputs_change(hook_id, must_trigger):
    pattern = re.compile(HOOKS[hook_id]["files"])
    for path in must_trigger:
        assert (ROOT / path).exists(), f"{path} is gone: update this test's examples"
        assert pattern.search(path), f"{hook_id} would not run when {path} changes"


def test_pre_commit_accepts_the_config():
    result = subprocess.run(
        [sys.executable, "-m", "pre_commit", "validate-config", ".pre-commit-config.yaml"],
        cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_checks_utils_and_grader_without_blanket_ignores():
    mypy = PYPROJECT["tool"]["mypy"]
    assert {"utils", "grader"} <= set(mypy["files"])
    assert mypy["warn_unused_ignores"] is True
    for section in [mypy, *mypy.get("overrides", [])]:
        assert not section.get("ignore_errors"), f"blanket ignore_errors in {section}"
        assert section.get("follow_imports") != "skip", f"follow_imports=skip in {section}"
    assert "ignore_missing_imports" not in mypy, "missing imports are ignored per package only"
    for override in mypy.get("overrides", []):
        modules = override["module"] if isinstance(override["module"], list) else [
            override["module"]]
        for module in modules:
            top = module.split(".")[0]
            assert top not in {"utils", "grader"}, f"the course's own {module} is ignored"


def test_each_type_ignore_names_its_code_and_reason():
    bare = []
    for path in sorted([*ROOT.glob("utils/**/*.py"), *ROOT.glob("grader/**/*.py")]):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "type: ignore" not in line:
                continue
            # `# type: ignore[code]  # why`: an error code, then a comment with the reason.
            if not re.search(r"#\s*type:\s*ignore\[[a-z-]+(,\s*[a-z-]+)*\]\s*#\s*\S", line):
                bare.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert not bare, "type: ignore without [code] and a reason:\n" + "\n".join(bare)


def test_license_is_the_one_pyproject_names():
    license_name = PYPROJECT["project"]["license"]["text"]
    text = (ROOT / "LICENSE").read_text()
    assert license_name == "MIT"
    assert text.splitlines()[0] == "MIT License"
    assert "Permission is hereby granted, free of charge, to any person obtaining a copy" in text
    holder = re.search(r"^Copyright \(c\) (\d{4}) (.+)$", text, re.M)
    assert holder, "LICENSE has no 'Copyright (c) YEAR holder' line"
    assert PYPROJECT["project"]["name"] in holder[2]
    # The website's footer says the same licence.
    assert "MIT" in (ROOT / "site" / "conf.py").read_text()


def test_changelog_has_the_current_version_and_an_unreleased_section():
    text = (ROOT / "CHANGELOG.md").read_text()
    assert "https://keepachangelog.com/" in text
    versions = re.findall(r"^## \[([^\]]+)\]", text, re.M)
    assert versions[0] == "Unreleased", versions
    version = PYPROJECT["project"]["version"]
    assert version in versions, f"CHANGELOG.md has no entry for pyproject.toml's {version}"
    dated = re.findall(r"^## \[([\d.]+)\] - (\d{4}-\d{2}-\d{2})$", text, re.M)
    assert [v for v, _ in dated] == versions[1:], "every released version has a date"
    assert [d for _, d in dated] == sorted((d for _, d in dated), reverse=True), "newest first"


def test_make_lint_runs_ruff_then_mypy_as_the_hooks_do():
    recipe = _make_recipe("lint")
    assert recipe == [".venv/bin/ruff check .", ".venv/bin/mypy"], recipe
    # The hooks run the same tools (ruff on the staged files, mypy on its configured packages).
    assert HOOKS["ruff"]["entry"].startswith(".venv/bin/ruff check")
    assert HOOKS["mypy"]["entry"] == recipe[1]
