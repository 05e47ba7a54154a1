"""Per-slider latency of the lessons, measured in a real browser.

JupyterLab (the course's own, on a temporary copy of ``notebooks/``) in headless Chromium, with
the set-up ``tests/browser`` uses too: its server, browser and page helpers live in
``tools/browser_lab.py``, which both load. For each lesson: open
it, Run All, then for every slider of every widget cell press one arrow key on the slider's
handle and measure, in the page, the time from the ``keydown`` event to the moment the cell
shows something else (the figure's image or the text of its output), polled on every animation
frame. Each slider is moved ``presses`` times (right, left, right, ...), waiting for the kernel
to go idle in between.

The floor of the stack is measured the same way on a trivial notebook: one slider redrawing a
two-panel inline matplotlib figure (two lines, ``plt.show()``), in the same folder as the lessons,
so at the course's dpi (``notebooks/matplotlibrc``: 150). The report gives, per lesson, the
median and the worst of all its presses next to that floor, and every slider's median.

    python bench/run.py --parts sliders           # into docs/benchmarks.md
    python bench/slider_latency.py [notebooks...] # prints the table

Needs Debian's ``chromium`` and Playwright (as ``make browser-test``).
"""

from __future__ import annotations

import importlib.util
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def load_browser_lab():
    """``tools/browser_lab.py`` (the lab server, Chromium, the page helpers ``tests/browser``
    uses too), loaded by its path: ``tools/`` is no package."""
    if "browser_lab" not in sys.modules:
        spec = importlib.util.spec_from_file_location("browser_lab",
                                                      ROOT / "tools" / "browser_lab.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["browser_lab"] = module
        spec.loader.exec_module(module)
    return sys.modules["browser_lab"]


GOAL_RATIO = 1.3  # every slider within 1.3x the floor measured next to it
GOAL_MS = 250.0  # about 1.3x the floor on a quiet 2-core machine
SLIDER_APPEAR_MS = 20_000  # how long a widget cell may take to show its sliders after Run All

FLOOR_CELL = (
    "import ipywidgets as widgets\n"
    "import matplotlib.pyplot as plt\n"
    "import numpy as np\n\n"
    "x = np.linspace(0, 1, 200)\n\n"
    "def draw(freq=2):\n"
    "    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 3.5))\n"
    "    a.plot(x, np.sin(freq * x))\n"
    "    b.plot(x, np.cos(freq * x))\n"
    "    plt.show()\n\n"
    "_ = widgets.interact(draw, freq=widgets.IntSlider(value=2, min=1, max=30, "
    "continuous_update=False))"
)

# Arm a measurement: the promise resolves with the milliseconds from the next keydown to the first
# animation frame at which the cell shows something else (-1 after 60 s).
JS_ARM = """(index) => {
  const cell = document.querySelector(`[data-test-panel] [data-test-index="${index}"]`);
  const wrapper = cell.querySelector('.jp-Cell-outputWrapper') || cell;
  const shown = () => JSON.stringify({
    images: [...wrapper.querySelectorAll('img')].map(img => img.src),
    texts: [...wrapper.querySelectorAll('.widget-output, .widget-html-content')]
      .map(el => el.innerText)});
  const before = shown();
  let start = null;
  document.addEventListener('keydown', () => { start = performance.now(); },
                            {capture: true, once: true});
  window.__sliderLatency = new Promise(resolve => {
    const tick = () => {
      if (start !== null) {
        if (shown() !== before) { resolve(performance.now() - start); return; }
        if (performance.now() - start > 60000) { resolve(-1); return; }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return true;
}"""


def _slider_latencies(page, checks, state, presses: int) -> list[dict]:
    rows = []
    for index in checks.widget_cells(state):
        cell = checks.cell_locator(page, index)
        sliders = cell.locator(".widget-slider")
        try:  # on a loaded machine the widget may render a moment after the kernel went idle
            sliders.first.wait_for(state="attached", timeout=SLIDER_APPEAR_MS)
        except Exception:  # noqa: BLE001 (playwright's TimeoutError): a cell without sliders
            pass
        for k in range(sliders.count()):
            slider = sliders.nth(k)
            label = slider.locator(".widget-label").first.inner_text().strip() or f"#{k}"
            handle = slider.locator(".noUi-handle").first
            handle.scroll_into_view_if_needed()
            times = []
            for n in range(presses):
                key = "ArrowRight" if n % 2 == 0 else "ArrowLeft"
                readout = slider.locator(".widget-readout").first.inner_text()
                handle.focus()
                page.evaluate(JS_ARM, index)
                handle.press(key)
                if slider.locator(".widget-readout").first.inner_text() == readout:
                    # at an end of its range: this press moved nothing; go the other way
                    page.evaluate("() => window.__sliderLatency = null")
                    handle.focus()
                    page.evaluate(JS_ARM, index)
                    handle.press("ArrowLeft" if key == "ArrowRight" else "ArrowRight")
                ms = page.evaluate("() => window.__sliderLatency")
                checks.wait_idle(page, 120)
                if ms is not None and ms >= 0:
                    times.append(ms)
            rows.append({"cell": index, "slider": label, "ms": times})
    return rows


def _measure_notebook(page, server, checks, name: str, presses: int) -> dict:
    checks.open_notebook(page, server, name)
    try:
        state = checks.run_all(page, name)
        errors = [f"cell {c['index']}: {o['ename']}: {o['evalue']}" for c in state["cells"]
                  for o in c.get("outputs", []) if o["type"] == "error"]
        # A failed cell stops Run All: the sliders after it were never built. Say so.
        sliders = [] if errors else _slider_latencies(page, checks, state, presses)
    finally:
        page.evaluate(checks.JS_SHUTDOWN)
    if errors:
        print(f"  {name}: not measured, a cell failed in Run All: {errors}", flush=True)
    every = [ms for row in sliders for ms in row["ms"]]
    return {
        "lesson": name,
        "errors": errors,
        "sliders": sliders,
        "median_ms": statistics.median(every) if every else None,
        "worst_ms": max(every) if every else None,
        "worst_slider_median_ms": max((statistics.median(r["ms"]) for r in sliders if r["ms"]),
                                      default=None),
    }


def measure(notebooks=None, presses: int = 8) -> dict:
    """Measure the floor and every lesson's sliders; returns a JSON-ready dict."""
    import nbformat
    from playwright.sync_api import sync_playwright

    checks = load_browser_lab()
    notebooks = [Path(p) for p in (notebooks or sorted(checks.NOTEBOOKS.glob("*.ipynb")))]
    with tempfile.TemporaryDirectory() as tmp:
        root, work = Path(tmp) / "lab", Path(tmp) / "server"
        root.mkdir()
        work.mkdir()
        for path in notebooks:
            (root / path.name).write_bytes(path.read_bytes())
        # The lessons' figure settings (150 dpi): the floor is drawn as the lessons' figures are.
        shutil.copy(checks.NOTEBOOKS / "matplotlibrc", root / "matplotlibrc")
        floor = nbformat.v4.new_notebook()
        floor.metadata["kernelspec"] = {"name": checks.KERNEL, "display_name": "course",
                                        "language": "python"}
        floor.cells = [nbformat.v4.new_code_cell(FLOOR_CELL)]
        nbformat.write(floor, root / "floor.ipynb")
        server = checks.LabServer(root, work)
        try:
            with sync_playwright() as playwright:
                browser = checks.launch_chromium(playwright)
                context = browser.new_context(viewport={"width": 1400, "height": 1000})
                page = context.new_page()
                start = time.monotonic()
                results = {"floor": _measure_notebook(page, server, checks, "floor.ipynb",
                                                      presses)}
                print(f"  floor: median {results['floor']['median_ms']:.0f} ms", flush=True)
                results["lessons"] = []
                for path in notebooks:
                    # The floor again, right before this lesson: on a shared machine the load
                    # drifts, so each lesson is compared with the floor measured next to it.
                    local = _measure_notebook(page, server, checks, "floor.ipynb", presses)
                    row = _measure_notebook(page, server, checks, path.name, presses)
                    row["floor_ms"] = local["median_ms"]
                    results["lessons"].append(row)
                    if row["median_ms"] is not None:
                        print(f"  {path.name}: median {row['median_ms']:.0f} ms, worst "
                              f"{row['worst_ms']:.0f} ms (floor just before: "
                              f"{local['median_ms']:.0f} ms)", flush=True)
                results["seconds"] = time.monotonic() - start
                context.close()
                browser.close()
        finally:
            server.stop()
    results["presses"] = presses
    results["goal_ms"] = GOAL_MS
    return results


def report(result: dict) -> list[str]:
    """Markdown: the method, the per-lesson table and the per-slider table."""
    floor = result["floor"]["median_ms"]
    lines = [
        "`python bench/run.py --parts sliders`: JupyterLab in headless Chromium (the set-up of "
        "`tests/browser`, from `tools/browser_lab.py`), each lesson Run All, then every slider "
        "moved by one arrow-key press "
        f"{result['presses']} times (right, left, ...); latency = time from the `keydown` to "
        "the first animation frame at which the slider's cell shows a different image or text. "
        "Floor: the same on a trivial slider redrawing a two-panel inline matplotlib figure "
        "at the lessons' 150 dpi (`notebooks/matplotlibrc`), "
        "measured again right before each lesson (the load of a shared machine drifts); the "
        "ratios compare each lesson with the floor next to it. "
        f"Goal: every slider within {GOAL_RATIO} x the floor measured next to it. "
        "Measured on the machine and load stated at the top: compare with the floor of the same "
        "run.",
        "",
        "| lesson | sliders | median (ms) | worst press (ms) | slowest slider's median (ms) | "
        "floor just before (ms) | median / floor | slowest slider / floor |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| floor (trivial two-panel slider) | 1 | {floor:.0f} | "
        f"{result['floor']['worst_ms']:.0f} | {floor:.0f} | {floor:.0f} | 1.00 | 1.00 |",
    ]
    failed = []
    for row in result["lessons"]:
        if row["median_ms"] is None:
            lines.append(f"| {row['lesson']} | 0 | - | - | - | - | - | - |")
            if row.get("errors"):
                failed.append(f"{row['lesson']} ({'; '.join(row['errors'])[:200]})")
            continue
        local = row.get("floor_ms") or floor
        lines.append(
            f"| {row['lesson']} | {len(row['sliders'])} | {row['median_ms']:.0f} | "
            f"{row['worst_ms']:.0f} | {row['worst_slider_median_ms']:.0f} | {local:.0f} | "
            f"{row['median_ms'] / local:.2f} | {row['worst_slider_median_ms'] / local:.2f} |")
    if failed:
        lines += ["", "Not measured, a cell failed in Run All: " + ", ".join(failed) + "."]
    lines += ["", "Per slider (median of its presses, ms, and its ratio to the floor measured "
              "right before its lesson):", "",
              "| lesson | cell | slider | median (ms) | / floor |", "|---|---:|---|---:|---:|"]
    over = []
    for row in result["lessons"]:
        local = row.get("floor_ms") or floor
        for s in row["sliders"]:
            if s["ms"]:
                median = statistics.median(s["ms"])
                lines.append(f"| {row['lesson']} | {s['cell']} | {s['slider']} | "
                             f"{median:.0f} | {median / local:.2f} |")
                if median / local > GOAL_RATIO:
                    over.append(f"{row['lesson']} {s['slider']} ({median / local:.2f})")
    lines += ["", f"Sliders over {GOAL_RATIO} x the floor: "
              + (", ".join(over) if over else "none") + "."]
    return lines


if __name__ == "__main__":
    out = measure(sys.argv[1:] or None)
    print("\n".join(report(out)))
