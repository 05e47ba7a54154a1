"""Every lesson, run in JupyterLab in a real (headless) browser, the way a learner runs it.

For each notebook in ``notebooks/`` (found when the tests are collected, so a new lesson is covered
without changing this file): open it in JupyterLab, check that it runs on the course kernel, Run
All, wait until every code cell has run, then check that

1. no cell shows an error (an ``error`` output in a cell, or a traceback inside a widget's output);
2. every widget output renders as a widget: ``.jupyter-widgets`` elements are on the page where a
   cell displays a widget, and no output reads like ``IntSlider(value=...)`` (what a lab without
   ``jupyterlab_widgets`` shows instead of a slider);
3. moving each slider (keyboard: focus its handle, press the arrow keys) changes what its cell
   shows: the figure's image or the text.

The lessons run with their exercise stubs (nothing attempted): the check cells say "not attempted
yet" and the lessons fall back to the reference solutions, which is what a learner sees first.

Run with ``make browser-test`` (``RUN_BROWSER_TESTS=1 pytest tests/browser``); the plain
``pytest tests`` run skips these tests. Screenshots go to ``$BROWSER_SCREENSHOTS`` (or a pytest
temporary folder): one per lesson, and one per slider cell after its slider moved.

A self-test (``test_checks_catch_*``) runs the same checks on small notebooks made here, and on a
lab started without the widget manager, to show that each check can fail.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.skipif(
    os.environ.get("RUN_BROWSER_TESTS") != "1",
    reason="browser test: run it with `make browser-test` (sets RUN_BROWSER_TESTS=1)",
)

# tools/browser_lab.py (the lab, Chromium, the page helpers; shared with bench/slider_latency.py),
# loaded by its path and registered under this name by conftest.py before this module is collected.
import browser_lab as lab  # noqa: E402

KERNEL = lab.KERNEL
NOTEBOOKS = lab.NOTEBOOKS
LESSONS = sorted(NOTEBOOKS.glob("*.ipynb"))
SLIDER_TIMEOUT = 120  # s: the callback after a slider moved may solve or train something
ARROW_PRESSES = 3
IDLE_SETTLE = 3  # s: a kernel idle this long after a slider moved has nothing more to show
WIDGET_AS_TEXT = re.compile(r"\b\w*(Slider|interactive|Dropdown|Checkbox)\(\w+=")

# --- JavaScript run in the page, through the app JupyterLab exposes as window.jupyterapp --------

# The state of every cell from the notebook's model; outputs summarised (no image bytes).
# What a cell shows, apart from the widgets' own controls: images and the text of outputs.
JS_SHOWN = """(index) => {
  const cell = document.querySelector(`[data-test-panel] [data-test-index="${index}"]`);
  const wrapper = cell.querySelector('.jp-Cell-outputWrapper') || cell;
  const images = [...wrapper.querySelectorAll('img')].map(img => img.src);
  const texts = [...wrapper.querySelectorAll('.widget-output, .widget-html-content')]
    .map(el => el.innerText);
  return JSON.stringify({images, texts});
}"""

# Outputs inside widgets (an interact's Output) live in the widget's state, not the cell's model:
# read tracebacks from the page.
JS_WIDGET_ERRORS = """() => [...document.querySelectorAll(
    '[data-test-panel] .widget-output .jp-OutputArea-output')]
  .map(el => el.innerText)
  .filter(text => /Traceback \\(most recent call last\\)|^\\w+(Error|Exception): /m.test(text))"""


def error_problems(page, state) -> list[str]:
    problems = []
    for cell in state["cells"]:
        for out in cell.get("outputs", []):
            if out["type"] == "error":
                problems.append(
                    f"cell {cell['index']}: {out['ename']}: {out['evalue']}\n"
                    + re.sub(r"\x1b\[[0-9;]*m", "", out["traceback"])[-2000:]
                )
        if cell["type"] == "code" and cell["source"].strip() and cell["executionCount"] is None:
            problems.append(f"cell {cell['index']} was not run")
    return problems + widget_error_problems(page)


def widget_error_problems(page) -> list[str]:
    return [f"a widget's output shows an error:\n{text[-2000:]}"
            for text in page.evaluate(JS_WIDGET_ERRORS)]


def widget_problems(page, state) -> list[str]:
    problems = [
        f"an output shows a widget as text (is jupyterlab_widgets installed in the lab's "
        f"environment?): {text[:150]!r}"
        for text in page.locator("[data-test-panel] .jp-OutputArea-output").all_inner_texts()
        if WIDGET_AS_TEXT.search(text)
    ]
    for index in lab.widget_cells(state):
        cell = lab.cell_locator(page, index)
        text = cell.locator(".jp-Cell-outputWrapper").inner_text()
        if "Error displaying widget" in text:
            problems.append(f"cell {index}: {text[:200]!r}")
        if cell.locator(".jupyter-widgets").count() == 0:
            problems.append(f"cell {index} displays a widget but no widget is on the page")
    return problems


def wait_for_change(page, index: int, before: str) -> bool:
    """Wait until the cell shows something else (True), or the kernel stays idle 3 s (False)."""
    deadline = time.monotonic() + SLIDER_TIMEOUT
    idle_since = None
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        if page.evaluate(JS_SHOWN, index) != before:
            return True
        if page.evaluate(lab.JS_STATUS) != "idle":
            idle_since = None
        elif idle_since is None:
            idle_since = time.monotonic()
        elif time.monotonic() - idle_since > IDLE_SETTLE:
            return False
    return False


def move_slider(page, slider, key: str) -> str:
    """Focus the slider's handle, press ``key`` a few times; return the readout afterwards."""
    handle = slider.locator(".noUi-handle").first
    handle.scroll_into_view_if_needed()
    handle.focus()
    for _ in range(ARROW_PRESSES):
        handle.press(key)
    return slider.locator(".widget-readout").first.inner_text()


def slider_problems(page, state, name: str, shots: Path | None) -> tuple[list[str], int]:
    """Move every slider; each move must change what its cell shows. Returns (problems, count)."""
    problems = []
    count = 0
    for index in lab.widget_cells(state):
        cell = lab.cell_locator(page, index)
        sliders = cell.locator(".widget-slider")
        for k in range(sliders.count()):
            slider = sliders.nth(k)
            label = slider.locator(".widget-label").first.inner_text().strip() or f"#{k}"
            readout = slider.locator(".widget-readout").first.inner_text()
            before = page.evaluate(JS_SHOWN, index)
            after_readout = move_slider(page, slider, "ArrowRight")
            if after_readout == readout:  # at its maximum: move it down instead
                after_readout = move_slider(page, slider, "ArrowLeft")
            count += 1
            if after_readout == readout:
                problems.append(f"cell {index}, slider {label}: the keys did not move it")
                continue
            changed = wait_for_change(page, index, before)
            lab.wait_idle(page, SLIDER_TIMEOUT)
            if not changed or page.evaluate(JS_SHOWN, index) == before:
                problems.append(
                    f"cell {index}, slider {label} moved {readout} -> {after_readout} but the "
                    "cell shows the same figure and text"
                )
        if shots is not None and sliders.count():
            cell.screenshot(path=str(shots / f"{Path(name).stem}_cell{index:03d}.png"))
    return problems, count


def check_notebook(page, server, name: str, shots: Path | None = None) -> dict:
    """Open, run and check one notebook; return a report (problems, timings, counts)."""
    ready = lab.open_notebook(page, server, name)
    try:
        report = {"kernel": ready["kernel"], "problems": []}
        if ready["kernel"] != KERNEL:
            report["problems"].append(f"runs on kernel {ready['kernel']!r}, not {KERNEL!r}")
        state = lab.run_all(page, name)
        report["run_all_seconds"] = state["seconds"]
        report["problems"] += error_problems(page, state)
        report["problems"] += widget_problems(page, state)
        if shots is not None:
            page.screenshot(path=str(shots / f"{Path(name).stem}.png"))
        moved, report["sliders"] = slider_problems(page, state, name, shots)
        report["problems"] += moved
        late_errors = widget_error_problems(page)
        report["problems"] += ["after moving the sliders: " + p for p in late_errors]
        report["widget_cells"] = lab.widget_cells(state)
    finally:
        page.evaluate(lab.JS_SHUTDOWN)  # the next lesson gets the CPU and memory
    return report


def test_there_are_lessons():
    assert LESSONS, f"no notebooks found in {NOTEBOOKS}"


@pytest.mark.parametrize("notebook", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_jupyterlab(notebook, page, lab_server, screenshot_dir):
    name = notebook.name
    report = check_notebook(page, lab_server, name, screenshot_dir)
    print(
        f"{name}: Run All {report['run_all_seconds']:.1f} s on kernel {report['kernel']}, "
        f"{len(report['widget_cells'])} widget cells, {report['sliders']} sliders moved; "
        f"screenshots in {screenshot_dir}"
    )
    assert not report["problems"], f"{name}:\n" + "\n".join(report["problems"])


# --- self-test: the checks above can fail --------------------------------------------------------

CANARY_CELLS = {
    "figure": (
        "import ipywidgets as widgets\n"
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n\n"
        "def draw(freq=2):\n"
        "    x = np.linspace(0, 1, 200)\n"
        "    plt.plot(x, np.sin(freq * x))\n"
        "    plt.show()\n\n"
        "widgets.interact(draw, freq=widgets.IntSlider(value=2, min=1, max=10));"
    ),
    "text": (
        "import ipywidgets as widgets\n\n"
        "@widgets.interact(a=widgets.FloatSlider(value=1.0, min=0.0, max=2.0, step=0.1))\n"
        "def show(a):\n"
        "    print(f'a squared = {a * a:.2f}')"
    ),
    "frozen": (
        "import ipywidgets as widgets\n\n"
        "@widgets.interact(n=widgets.IntSlider(value=3, min=0, max=9))\n"
        "def same(n):\n"
        "    print('this never changes')"
    ),
    "error": "1 / 0",
}


def write_canary(root: Path, name: str, kinds: list[str]) -> str:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": KERNEL, "display_name": "course", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(CANARY_CELLS[k]) for k in kinds]
    (root / "selftest").mkdir(exist_ok=True)
    nbformat.write(nb, root / "selftest" / name)
    return f"selftest/{name}"


def test_checks_pass_a_good_notebook(page, lab_server, lab_root, screenshot_dir):
    name = write_canary(lab_root, "good.ipynb", ["figure", "text"])
    report = check_notebook(page, lab_server, name, screenshot_dir)
    assert report["problems"] == []
    assert report["sliders"] == 2


def test_checks_catch_errors_and_frozen_sliders(page, lab_server, lab_root):
    name = write_canary(lab_root, "bad.ipynb", ["frozen", "error"])
    problems = check_notebook(page, lab_server, name)["problems"]
    assert any("ZeroDivisionError" in p for p in problems), problems
    assert any("shows the same figure and text" in p for p in problems), problems


def test_checks_catch_sliders_shown_as_text(page, lab_root, tmp_path, lab_server_class):
    """A lab whose widget manager is missing shows `interactive(children=(IntSlider(...` text."""
    name = write_canary(lab_root, "text_widgets.ipynb", ["figure"])
    server = lab_server_class(
        lab_root, tmp_path, disabled_extensions=["@jupyter-widgets/jupyterlab-manager"]
    )
    try:
        problems = check_notebook(page, server, name)["problems"]
    finally:
        server.stop()
    assert any("shows a widget as text" in p for p in problems), problems
    assert any("no widget is on the page" in p for p in problems), problems
