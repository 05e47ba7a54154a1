"""scripts/build_site.py without Sphinx or a browser: what each lesson's static copy shows.

These run in the plain ``pytest tests`` (fast: no build); ``make site-test`` checks the built
pages in Chromium.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


@pytest.fixture(scope="module")
def build_site():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_site"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _static(build_site, path, **kwargs):
    nb = nbformat.read(path, as_version=4)
    lesson = build_site.parse_intro(path, nb.cells[0].source)
    return nb, lesson, build_site.static_lesson(nb, lesson, **kwargs)


def _outputs(nb):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]


def test_lessons_are_found_by_their_file_names(build_site, tmp_path):
    for path in NOTEBOOKS[:2]:
        shutil.copy(path, tmp_path / path.name)
    # a lesson being written now appears as soon as its notebook exists
    shutil.copy(NOTEBOOKS[0], tmp_path / "07_classifiers.ipynb")
    (tmp_path / "scratch.ipynb").write_text("{}")  # not a lesson: no NN_ prefix
    found = [lesson.path.name for lesson in build_site.find_lessons(tmp_path)]
    assert found == [NOTEBOOKS[0].name, NOTEBOOKS[1].name, "07_classifiers.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_lesson_states_objectives_and_time(build_site, path):
    nb = nbformat.read(path, as_version=4)
    lesson = build_site.parse_intro(path, nb.cells[0].source)
    assert lesson.number == path.name[:2]
    assert lesson.title and not lesson.title.startswith("Lesson")
    assert len(lesson.objectives) >= 3, "the landing page lists each lesson's objectives"
    assert all(not o.startswith("[") for o in lesson.objectives)
    assert lesson.minutes and 10 <= lesson.minutes <= 180


def test_intro_formats_the_lessons_use():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_site"] = module
    spec.loader.exec_module(module)
    intro = (
        "# Lesson 09 — Irregular time series\n\n**Learning objectives**\n"
        "- [ ] fit a latent ODE\n  to irregular samples\n- [ ] compare with a GRU\n\n"
        "**Prerequisites:** lesson 05. **Time:** about 50 minutes.\n"
    )
    lesson = module.parse_intro(Path("09_irregular_time_series.ipynb"), intro)
    assert lesson.title == "Irregular time series"
    assert lesson.objectives == ["fit a latent ODE to irregular samples", "compare with a GRU"]
    assert lesson.minutes == 50
    assert module.parse_intro(Path("10_x.ipynb"), "# Ten\n").minutes is None


def test_figure_titles_read_from_code(build_site):
    source = (
        'ax.set(xlabel="t", title="Euler spirals outwards")\n'
        "ax2.set_title(f\"misses by {err:.2g}\")\nfig.suptitle('two panels')\n"
    )
    assert build_site.figure_titles(source) == [
        "Euler spirals outwards",
        "misses by …",
        "two panels",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_static_copy_has_no_widget_and_a_figure_per_slider(build_site, path):
    nb, _lesson, static = _static(build_site, path)
    assert "widgets" not in static.metadata
    assert not any(WIDGET_VIEW in o.get("data", {}) for o in _outputs(static))
    sliders = [
        o
        for c in nb.cells
        if c.cell_type == "code" and "interact" in c.source
        for o in c.get("outputs", [])
        if WIDGET_VIEW in o.get("data", {})
    ]
    notes = [
        o
        for o in _outputs(static)
        if "Open this lesson in JupyterLab" in o.get("data", {}).get("text/markdown", "")
    ]
    assert len(notes) == len(sliders)
    for cell in static.cells:  # each slider shows what it drew at its default setting
        texts = [o.get("data", {}).get("text/markdown", "") for o in cell.get("outputs", [])]
        if any("Open this lesson in JupyterLab" in text for text in texts):
            assert len(cell.outputs) >= 2
    stored = sum("image/png" in o.get("data", {}) for o in _outputs(nb))
    shown = sum("image/png" in o.get("data", {}) for o in _outputs(static))
    assert shown >= stored
    for cell in static.cells:
        if cell.cell_type == "code" and any("image/png" in o.get("data", {}) for o in cell.outputs):
            alt = cell.metadata["mystnb"]["image"]["alt"]
            assert len(alt) > 15 and "\n" not in alt
    text = json.dumps([o for o in _outputs(static)])
    assert "[not attempted yet]" not in text, "check cells show a note, not the stub's verdict"
    assert "- [ ]" not in "\n".join(c.source for c in static.cells if c.cell_type == "markdown")


def test_download_link_always_and_launch_link_only_when_asked(build_site):
    path = NOTEBOOKS[0]
    _nb, _lesson, plain = _static(build_site, path)
    markdown = "\n".join(c.source for c in plain.cells if c.cell_type == "markdown")
    assert f"Download this notebook <downloads/{path.name}>" in markdown
    assert "Launch this lesson" not in markdown
    url = "https://hub.example.org/hub/user-redirect/lab/tree/{path}"
    _nb, _lesson, launched = _static(build_site, path, launch_url=url)
    markdown = "\n".join(c.source for c in launched.cells if c.cell_type == "markdown")
    expected = f"https://hub.example.org/hub/user-redirect/lab/tree/notebooks/{path.name}"
    assert f"[Launch this lesson]({expected})" in markdown


def test_alt_text_prefers_the_cells_own_alt(build_site):
    cell = nbformat.v4.new_code_cell(
        'ax.set(title="x")', metadata={"alt": "Two orbits, one drifting"}
    )
    lesson = build_site.Lesson(path=Path("01_a.ipynb"), number="01", title="A")
    assert build_site.alt_text(cell, "h", lesson, None, 1) == "Two orbits, one drifting"
    cell = nbformat.v4.new_code_cell("plt.plot(x)")
    assert "section 'Euler'" in build_site.alt_text(cell, "Euler", lesson, "h = 0.1", 1)


def test_broken_internal_links_are_found(build_site, tmp_path):
    (tmp_path / "a.html").write_text(
        '<h1 id="top">A</h1><a href="b.html#there">b</a><a href="b.html#nowhere">x</a>'
        '<a href="missing.html">m</a><a href="https://example.org">e</a><img src="_images/i.png">'
    )
    (tmp_path / "b.html").write_text('<p id="there">B</p><a href="a.html#top">a</a>')
    problems = build_site.broken_links(tmp_path)
    assert len(problems) == 3
    assert any("#nowhere" in p for p in problems) and any("missing.html" in p for p in problems)


def test_slider_settings_read_from_the_widget_state(build_site):
    assert build_site._control_value({"value": 0.01}) == "0.01"
    selection = {"value": None, "index": 2, "_options_labels": ["0.1", "0.15", "0.2"]}
    assert build_site._control_value(selection) == "0.2"
    for path in NOTEBOOKS:
        _nb, _lesson, static = _static(build_site, path)
        for output in _outputs(static):
            note = output.get("data", {}).get("text/markdown", "")
            assert "= None" not in note, f"{path.name}: {note}"
