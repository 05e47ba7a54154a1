"""A lesson whose result changes so that its prose becomes false fails nbval.

The lesson is run by nbval, as `make test` runs it, up to one of its claims, twice: as it is (nbval
passes), and with one cell inserted before the claim that swaps the data the claim is about, as a
changed model or a regression would (nbval fails, naming the claim). This is what makes marking a
cell `machine-digits` safe: its digits are not compared, but what the prose says about them is.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
SANITIZE = ROOT / "tests" / "nbval_sanitize.cfg"

# (notebook, a phrase of the claim, a cell that makes it false by swapping its data)
FLIPS = [
    ("03_neural_ode_forward.ipynb", "every error is larger than every error in it",
     "# the fit got worse where the data went, better where none went: swap the two regions\n"
     "errors = relative_errors['learned']\n"
     "errors['in the ring'], errors['inside it'] = errors['inside it'], errors['in the ring']\n"),
]


def _prefix_with_flip(path: Path, phrase: str, flip: str | None) -> nbformat.NotebookNode:
    """The notebook up to the code cell that states ``phrase``; ``flip`` inserted before it."""
    nb = nbformat.read(path, 4)
    for index, cell in enumerate(nb.cells):  # noqa: B007 (index is used after the loop)
        if cell.cell_type == "code" and "claim(" in cell.source and phrase in cell.source:
            break
    else:
        raise AssertionError(f"{path.name}: no code cell claims {phrase!r}")
    cells = nb.cells[: index + 1]
    if flip is not None:
        cells.insert(index, nbformat.v4.new_code_cell(flip))
    nb.cells = cells
    return nb


def _nbval(notebook: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", str(notebook), "--nbval-sanitize-with",
         str(SANITIZE), "-p", "no:cacheprovider", "-q", "-x"],
        capture_output=True, text=True, timeout=600, cwd=notebook.parent)


@pytest.mark.parametrize(("name", "phrase", "flip"), FLIPS, ids=[f[0] for f in FLIPS])
def test_a_false_claim_fails_nbval(tmp_path, name, phrase, flip):
    path = ROOT / "notebooks" / name
    as_is = tmp_path / f"as_is_{name}"
    flipped = tmp_path / f"flipped_{name}"
    nbformat.write(_prefix_with_flip(path, phrase, None), as_is)
    nbformat.write(_prefix_with_flip(path, phrase, flip), flipped)

    passed = _nbval(as_is)
    assert passed.returncode == 0, passed.stdout[-3000:]
    failed = _nbval(flipped)
    assert failed.returncode == 1, failed.stdout[-3000:]
    assert "ClaimError" in failed.stdout, failed.stdout[-3000:]
    assert "The lesson claims" in failed.stdout, failed.stdout[-3000:]
