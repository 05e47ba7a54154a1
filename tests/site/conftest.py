"""Fixtures of the website test: the built site served from 127.0.0.1, and headless Chromium.

The site is built by ``make site`` (scripts/build_site.py) into site/_build/html; ``make site-test``
builds it and then runs these tests. They run only when ``RUN_BROWSER_TESTS=1`` is set, as the
JupyterLab browser test does; Chromium is Debian's ``/usr/bin/chromium``, driven by Playwright.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import sys
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "site" / "_build" / "html"
SCREENSHOTS = Path(os.environ.get("SITE_SCREENSHOTS", ROOT / "site" / "_build" / "screenshots"))


def load_browser_lab():
    """``tools/browser_lab.py`` (Chromium's launch, shared with tests/browser and the slider
    benchmark), loaded by its path: ``tools/`` is no package."""
    if "browser_lab" not in sys.modules:
        spec = importlib.util.spec_from_file_location("browser_lab",
                                                      ROOT / "tools" / "browser_lab.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules["browser_lab"] = module
        spec.loader.exec_module(module)
    return sys.modules["browser_lab"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no access log on the test's output
        pass


@pytest.fixture(scope="session")
def site_url():
    """The base URL of a static file server on 127.0.0.1 serving site/_build/html."""
    if not (HTML / "index.html").exists():
        pytest.fail("site/_build/html/index.html is missing: run `make site` first")
    handler = functools.partial(_QuietHandler, directory=str(HTML))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        try:
            chromium = load_browser_lab().launch_chromium(playwright)
        except FileNotFoundError as exc:
            pytest.fail(str(exc))
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
