"""What nbval checks in each lesson, counted: cells compared digit for digit, cells whose digits
vary across machines (marked), and the claims that check those cells' results instead.

The rules (explained in utils/claims.py and CONTRIBUTING.md):
- a code cell nbval does not compare carries ``nbval-ignore-output`` and exactly one reason tag:
  ``machine-digits``, ``progress`` or ``slider``; no reason tag appears without
  ``nbval-ignore-output``;
- after a ``machine-digits`` or ``progress`` cell a claim follows: ``claim(`` in the cell itself
  or in one of the next two code cells; and that claim sits in a strictly compared cell whose
  stored output shows its "✓" line, so nbval notices a claim that is no longer made;
- a ``slider`` cell creates a widget (``interact``);
- a strictly compared output never shows rounding noise (a number below 1e-12 in scientific
  notation).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from utils.claims import CHECK_MARK

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IGNORE = "nbval-ignore-output"
REASONS = ("machine-digits", "progress", "slider")
NEEDS_CLAIM = ("machine-digits", "progress")
CLAIM_CALL = re.compile(r"(?<![\w.])claim\(")
LOOKAHEAD = 2  # code cells after a marked cell in which its claim may stand


def test_every_lesson_is_counted():
    assert len(NOTEBOOKS) == 10, [p.name for p in NOTEBOOKS]


def _code_cells(path):
    return [c for c in nbformat.read(path, 4).cells if c.cell_type == "code"]


def _tags(cell):
    return set(cell.metadata.get("tags", []))


def _output_text(cell):
    parts = []
    for out in cell.get("outputs", []):
        if "text" in out:
            parts.append(out["text"])
        elif "data" in out:
            parts.append(out["data"].get("text/plain", ""))
    return "".join(parts)


def counts(path):
    """(strict, marked by reason, claims) for one notebook."""
    cells = _code_cells(path)
    strict = sum(IGNORE not in _tags(c) for c in cells)
    marked = {reason: sum(reason in _tags(c) for c in cells) for reason in REASONS}
    claims = sum(len(CLAIM_CALL.findall(c.source)) for c in cells)
    return strict, marked, claims


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_marked_cells_say_why(path):
    for i, cell in enumerate(_code_cells(path)):
        tags = _tags(cell)
        reasons = tags & set(REASONS)
        if IGNORE in tags:
            assert len(reasons) == 1, (
                f"{path.name} code cell {i}: tagged {IGNORE} with reason tags {sorted(reasons)}; "
                f"give exactly one of {REASONS} (utils/claims.py says which)")
        else:
            assert not reasons, (f"{path.name} code cell {i}: reason tag {sorted(reasons)} "
                                 f"without {IGNORE}")
        if "slider" in tags:
            assert "interact" in cell.source, f"{path.name} code cell {i}: 'slider', no widget"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_marked_result_is_followed_by_a_claim(path):
    cells = _code_cells(path)
    for i, cell in enumerate(cells):
        if not _tags(cell) & set(NEEDS_CLAIM):
            continue
        window = cells[i:i + 1 + LOOKAHEAD]
        claimed = [c for c in window if CLAIM_CALL.search(c.source)]
        assert claimed, (f"{path.name} code cell {i} is marked {sorted(_tags(cell) & set(REASONS))}"
                         f" but no claim() follows within {LOOKAHEAD} code cells:\n{cell.source}")
        assert any(IGNORE not in _tags(c) for c in claimed), (
            f"{path.name} code cell {i}: its claims stand only in cells nbval does not compare; "
            f"put them in a strictly compared cell")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_claims_show_their_check_mark(path):
    for i, cell in enumerate(_code_cells(path)):
        if CLAIM_CALL.search(cell.source) and IGNORE not in _tags(cell):
            assert CHECK_MARK in _output_text(cell), (
                f"{path.name} code cell {i} makes a claim but its stored output has no "
                f"'{CHECK_MARK}' line: rebuild the notebook (make notebooks)")


# a number below 1e-12 in scientific notation, unless stated as a bound ("< 1e-13")
NOISE = re.compile(r"(?<![\w.])(?<!< )\d(?:\.\d+)?e-(1[2-9]|[2-9]\d)\b")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_strict_outputs_show_no_rounding_noise(path):
    for i, cell in enumerate(_code_cells(path)):
        if IGNORE in _tags(cell):
            continue
        text = _output_text(cell)
        noise = NOISE.search(text)
        assert not noise, (f"{path.name} code cell {i} prints rounding noise {noise.group()!r} "
                           f"under strict nbval: print utils.claims.magnitude(x) instead")


def test_count_table(capsys):
    """The counts, printed (pytest -s shows them) and sane: every lesson makes claims."""
    rows = []
    for path in NOTEBOOKS:
        strict, marked, claims = counts(path)
        rows.append((path.stem, strict, marked, claims))
        needing = marked["machine-digits"] + marked["progress"]
        assert strict > 0, path.name
        if needing:
            assert claims > 0, f"{path.name}: {needing} marked result cells and no claim"
    with capsys.disabled():
        print(f"\n{'lesson':32s} {'strict':>6s} {'digits':>6s} {'progr.':>6s} {'slider':>6s} "
              f"{'claims':>6s}")
        for stem, strict, marked, claims in rows:
            print(f"{stem:32s} {strict:6d} {marked['machine-digits']:6d} "
                  f"{marked['progress']:6d} {marked['slider']:6d} {claims:6d}")
