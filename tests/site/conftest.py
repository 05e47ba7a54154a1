"""Fixtures of the website test: the built site served from 127.0.0.1, and headless Chromium.

The site is built by ``make site`` (scripts/build_site.py) into site/_build/html; ``make site-test``
builds it and then runs these tests. They run only when ``RUN_BROWSER_TESTS=1`` is set, as the
JupyterLab browser test does; Chromium is Debian's ``/usr/bin/chromium``, driven by Playwright.
"""

from __future__ import annotations

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "site" / "_build" / "html"
SCREENSHOTS = Path(os.environ.get("SITE_SCREENSHOTS", ROOT / "site" / "_build" / "screenshots"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


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

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} not found: run scripts/install_browser.sh (Debian's chromium)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def screenshot_dir() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS
