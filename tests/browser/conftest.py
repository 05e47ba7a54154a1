"""Fixtures of the browser test: a JupyterLab server on a copy of notebooks/, and headless Chromium.

These tests run only when ``RUN_BROWSER_TESTS=1`` is set (``make browser-test`` sets it); the
plain ``pytest tests`` run skips them (``pytestmark`` in the test module). When they are skipped,
no server or browser starts: the fixtures are only created by the tests that use them.

The server and the browser come from ``tools/browser_lab.py`` (shared with the slider benchmark,
``bench/slider_latency.py``). The server is the course's own ``.venv/bin/jupyter lab``: on
127.0.0.1, a free port, a fixed token, no browser, its root a temporary copy of ``notebooks/``
(running cells never touches the committed notebooks), and its config, runtime, settings and
workspace folders temporary too, so the machine's own Jupyter settings play no part. Chromium is
Debian's ``/usr/bin/chromium`` (``scripts/install_browser.sh`` installs it); Playwright's own
browser download is not used.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def load_browser_lab():
    """``tools/browser_lab.py`` (the lab server, Chromium, the page helpers the slider benchmark
    shares), loaded by its path: ``tools/`` is no package."""
    if "browser_lab" not in sys.modules:
        spec = importlib.util.spec_from_file_location("browser_lab",
                                                      ROOT / "tools" / "browser_lab.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["browser_lab"] = module
        spec.loader.exec_module(module)
    return sys.modules["browser_lab"]


lab = load_browser_lab()
NOTEBOOKS = lab.NOTEBOOKS


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """A temporary copy of notebooks/: the lab runs there; the committed ones stay untouched."""
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copytree(NOTEBOOKS, root, dirs_exist_ok=True)
    return root


@pytest.fixture(scope="session")
def lab_server(lab_root, tmp_path_factory):
    server = lab.LabServer(lab_root, tmp_path_factory.mktemp("lab-server"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = lab.launch_chromium(playwright)
        except FileNotFoundError as exc:
            pytest.fail(str(exc))
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    """Where each lesson's screenshots go: $BROWSER_SCREENSHOTS, or a pytest temporary folder."""
    chosen = os.environ.get("BROWSER_SCREENSHOTS")
    path = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def lab_server_class():
    """The class, for a test that starts a lab of its own (e.g. without the widget manager)."""
    return lab.LabServer
