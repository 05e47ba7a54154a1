"""JupyterLab in headless Chromium: what the browser tests and the slider benchmark share.

``tests/browser`` (``make browser-test``) runs every lesson in JupyterLab and moves its sliders;
``bench/slider_latency.py`` (``bench/run.py --parts sliders``) times those sliders. Both need the
same set-up and the same page helpers, so both import them from here; neither imports the other.

- :class:`LabServer`: the course's own ``jupyter lab`` on 127.0.0.1, a free port, a fixed token,
  its root a folder the caller chose (a temporary copy of ``notebooks/``), every config and
  settings folder temporary, so the machine's own Jupyter settings play no part.
- :func:`launch_chromium`: Debian's ``/usr/bin/chromium`` (``$CHROMIUM``) through Playwright with
  the flags that work here (Playwright's own browser download does not).
- Page helpers, through the app JupyterLab exposes as ``window.jupyterapp``:
  :func:`open_notebook`, :func:`run_all`, :func:`widget_cells`, :func:`cell_locator`,
  :func:`wait_idle`, and the scripts ``JS_*`` they run in the page.

``tools/`` is not a package (as for ``tools/build_notebooks.py``): each caller loads this file
by its path with ``importlib`` and registers it as ``sys.modules["browser_lab"]``, so a test
module and its conftest share one copy. Nothing here touches ``sys.path``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from utils.course import KERNEL

__all__ = [
    "CHROMIUM", "CHROMIUM_ARGS", "KERNEL", "NOTEBOOKS", "TOKEN", "LabServer", "cell_locator",
    "free_port", "launch_chromium", "open_notebook", "run_all", "wait_idle", "widget_cells",
    "JS_READY", "JS_RUN_ALL", "JS_SHUTDOWN", "JS_STATE", "JS_STATUS",
]

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
JUPYTER = Path(sys.prefix) / "bin" / "jupyter"
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TOKEN = "course-browser-test"
SERVER_START_TIMEOUT = 120  # s
PAGE_LOAD_TIMEOUT = 120  # s: the page, the kernel start
RUN_ALL_TIMEOUT = 600  # s: a lesson's budget is 60 s on 2 cores; the browser adds its overhead
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"

# User settings the server starts with: every cell attached to the page (so a test sees every
# output, not only the cells in view), and no news or update checks (no network, no pop-ups).
USER_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
    },
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def launch_chromium(playwright):
    """Headless Chromium (Debian's) through a started ``sync_playwright()``."""
    if not Path(CHROMIUM).exists():
        raise FileNotFoundError(
            f"{CHROMIUM} not found: run scripts/install_browser.sh (Debian's chromium)")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


class LabServer:
    """A running ``jupyter lab``; ``url(path)`` gives a page's address with the token."""

    def __init__(self, root_dir: Path, work_dir: Path, *, disabled_extensions=()):
        self.root_dir = root_dir
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        config_dir = work_dir / "config"
        settings_dir = work_dir / "user-settings"
        for rel, value in USER_SETTINGS.items():
            path = settings_dir / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        if disabled_extensions:  # only the self-test uses this: a lab without the widget manager
            labconfig = config_dir / "labconfig"
            labconfig.mkdir(parents=True, exist_ok=True)
            page_config = {"disabledExtensions": {name: True for name in disabled_extensions}}
            (labconfig / "page_config.json").write_text(json.dumps(page_config))
        config_dir.mkdir(parents=True, exist_ok=True)
        env = dict(
            os.environ,
            JUPYTER_CONFIG_DIR=str(config_dir),
            JUPYTER_RUNTIME_DIR=str(work_dir / "runtime"),
        )
        self.log_path = work_dir / "jupyterlab.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [
                str(JUPYTER), "lab", "--no-browser",
                "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0", f"--IdentityProvider.token={TOKEN}",
                f"--ServerApp.root_dir={root_dir}",
                f"--LabApp.user_settings_dir={settings_dir}",
                f"--LabApp.workspaces_dir={work_dir / 'workspaces'}",
                "--LabApp.expose_app_in_browser=True", "--LabApp.news_url=None",
                "--ServerApp.allow_root=True",  # CI containers often run as root
            ],
            cwd=root_dir, env=env, stdout=self._log, stderr=subprocess.STDOUT,
        )
        self._wait_ready()

    def _wait_ready(self):
        deadline = time.monotonic() + SERVER_START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with urllib.request.urlopen(self.api("status"), timeout=5) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(
            f"JupyterLab did not start within {SERVER_START_TIMEOUT} s; its log:\n"
            + self.log_path.read_text(errors="replace")[-4000:]
        )

    def api(self, path: str) -> str:
        return f"{self.base}/api/{path}?token={TOKEN}"

    def url(self, notebook: str) -> str:
        # ?reset: a fresh workspace, so no tab of an earlier page is restored next to it
        return f"{self.base}/lab/tree/{notebook}?reset&token={TOKEN}"

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


# --- JavaScript run in the page, through the app JupyterLab exposes as window.jupyterapp --------

JS_READY = """() => {
  const app = window.jupyterapp;
  const panel = app && app.shell.currentWidget;
  if (!panel || !panel.sessionContext || !panel.content) return null;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!panel.context.isReady || !kernel) return null;
  panel.node.dataset.testPanel = 'current';
  return {kernel: kernel.name, status: kernel.status, path: panel.context.path};
}"""

# The state of every cell from the notebook's model; outputs summarised (no image bytes).
JS_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  const cells = panel.content.widgets.map((cell, index) => {
    cell.node.dataset.testIndex = String(index);
    const model = cell.model;
    const info = {index, type: model.type, source: model.sharedModel.getSource()};
    if (model.type === 'code') {
      info.executionCount = model.executionCount;
      info.outputs = model.outputs.toJSON().map(out => {
        const data = out.data || {};
        return {
          type: out.output_type, mimes: Object.keys(data),
          text: String(data['text/plain'] || out.text || ''),
          ename: out.ename || null, evalue: out.evalue || null,
          traceback: (out.traceback || []).join('\\n'),
        };
      });
    }
    return info;
  });
  return {status: kernel ? kernel.status : 'dead', cells};
}"""

JS_STATUS = """() => {
  const session = window.jupyterapp.shell.currentWidget.sessionContext.session;
  return session && session.kernel ? session.kernel.status : 'dead';
}"""

JS_SHUTDOWN = """async () => {
  await window.jupyterapp.shell.currentWidget.sessionContext.shutdown();
}"""

JS_RUN_ALL = """async () => {
  await window.jupyterapp.commands.execute('notebook:run-all-cells');
}"""


def cell_locator(page, index):
    return page.locator(f'[data-test-panel] [data-test-index="{index}"]')


def open_notebook(page, server, name: str) -> dict:
    """Open ``name`` in the lab; wait until its kernel is idle; return the kernel's name etc."""
    page.goto(server.url(name), timeout=PAGE_LOAD_TIMEOUT * 1000)
    deadline = time.monotonic() + PAGE_LOAD_TIMEOUT
    ready = None
    while time.monotonic() < deadline:
        ready = page.evaluate(JS_READY)
        if ready and ready["path"] == name and ready["status"] == "idle":
            return ready
        page.wait_for_timeout(250)
    dialog = page.locator(".jp-Dialog").all_inner_texts()
    raise AssertionError(
        f"{name}: the notebook and an idle kernel were not ready after {PAGE_LOAD_TIMEOUT} s "
        f"(last state {ready}; dialogs on the page: {dialog})"
    )


def run_all(page, name: str, timeout: float = RUN_ALL_TIMEOUT) -> dict:
    """Run All; wait until every non-empty code cell has an execution count and the kernel idles.

    Stops waiting early when a cell shows an error (Run All then stops at that cell).
    Returns the last state (see JS_STATE) and the seconds it took.
    """
    start = time.monotonic()
    page.evaluate(JS_RUN_ALL)
    state = None
    while time.monotonic() - start < timeout:
        page.wait_for_timeout(500)
        state = page.evaluate(JS_STATE)
        code = [c for c in state["cells"] if c["type"] == "code" and c["source"].strip()]
        done = all(c["executionCount"] is not None for c in code)
        failed = any(o["type"] == "error" for c in code for o in c["outputs"])
        if state["status"] == "idle" and (done or failed):
            # Idle can flicker between two cells: confirm it a moment later.
            page.wait_for_timeout(1000)
            state = page.evaluate(JS_STATE)
            if state["status"] == "idle":
                state["seconds"] = time.monotonic() - start
                return state
    pending = [
        c["index"]
        for c in (state or {"cells": []})["cells"]
        if c["type"] == "code" and c["source"].strip() and c["executionCount"] is None
    ]
    raise AssertionError(f"{name}: Run All did not finish in {timeout} s; cells not run: {pending}")


def widget_cells(state) -> list[int]:
    """Cells that display a widget (their model holds a widget view) or build sliders."""
    cells = []
    for cell in state["cells"]:
        if cell["type"] != "code":
            continue
        shows_widget = any(WIDGET_MIME in out["mimes"] for out in cell["outputs"])
        # A call that builds widgets, not an import that names them.
        if shows_widget or re.search(r"\binteract(ive)?\s*\(|Slider\(", cell["source"]):
            cells.append(cell["index"])
    return cells


def wait_idle(page, timeout: float) -> bool:
    """Wait until the kernel is idle (confirmed 0.7 s later); False after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        page.wait_for_timeout(300)
        if page.evaluate(JS_STATUS) == "idle":
            page.wait_for_timeout(700)  # confirm: idle between two messages is not the end
            if page.evaluate(JS_STATUS) == "idle":
                return True
    return False
