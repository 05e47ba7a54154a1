"""notebooks/ is what tools/build_notebooks.py makes from lessons_src/ (no hand edits, no drift)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
# The build is a script (tools/ is no package): load it by its path, without touching sys.path.
_spec = importlib.util.spec_from_file_location("build_notebooks",
                                               ROOT / "tools" / "build_notebooks.py")
build_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build_notebooks)


def test_every_notebook_matches_its_source():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "build_notebooks.py"), "--check"],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert result.returncode == 0, result.stderr


def test_every_notebook_has_stored_outputs_and_the_course_kernel():
    for source in build_notebooks.lesson_sources():
        nb = nbformat.read(build_notebooks.notebook_path(source), 4)
        assert nb.metadata["kernelspec"]["name"] == build_notebooks.KERNEL
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count is not None for c in code), f"{source.stem}: unexecuted cells"
        assert any(c.outputs for c in code), f"{source.stem}: no stored outputs"


def test_learner_notebooks_hold_no_solutions():
    for source in build_notebooks.lesson_sources():
        text = build_notebooks.notebook_path(source).read_text()
        assert "### BEGIN SOLUTION" not in text, f"{source.stem} leaks a solution"


def test_check_detects_a_stale_notebook(tmp_path, monkeypatch):
    source = build_notebooks.lesson_sources()[0]
    stale = build_notebooks.learner_notebook(source)
    stale.cells[0].source += "\nedited by hand"
    monkeypatch.setattr(build_notebooks, "OUT", tmp_path)
    nbformat.write(stale, tmp_path / f"{source.stem}.ipynb")
    assert build_notebooks.check([source]) == 1
