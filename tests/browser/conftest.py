"""Fixtures of the browser test: a JupyterLab server on a copy of notebooks/, and headless Chromium.

These tests run only when ``RUN_BROWSER_TESTS=1`` is set (``make browser-test`` sets it); the
plain ``pytest tests`` run skips them (``pytestmark`` in the test module). When they are skipped,
no server or browser starts: the fixtures are only created by the tests that use them.

The server is the course's own ``.venv/bin/jupyter lab``: on 127.0.0.1, a free port, a fixed
token, no browser, its root a temporary copy of ``notebooks/`` (running cells never touches the
committed notebooks), and its config, runtime, settings and workspace folders temporary too, so the
machine's own Jupyter settings play no part. Chromium is Debian's ``/usr/bin/chromium``
(``scripts/install_browser.sh`` installs it); Playwright's own browser download is not used.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
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
TOKEN = "neural-ode-course-browser-test"
SERVER_START_TIMEOUT = 120  # seconds

# User settings the server starts with: every cell attached to the page (so the test sees every
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
        # ?reset: a fresh workspace, so no tab of an earlier test is restored next to it
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


@pytest.fixture(scope="session")
def lab_root(tmp_path_factory) -> Path:
    """A temporary copy of notebooks/: the lab runs there; the committed ones stay untouched."""
    root = tmp_path_factory.mktemp("lab-root")
    shutil.copytree(NOTEBOOKS, root, dirs_exist_ok=True)
    return root


@pytest.fixture(scope="session")
def lab_server(lab_root, tmp_path_factory):
    server = LabServer(lab_root, tmp_path_factory.mktemp("lab-server"))
    yield server
    server.stop()


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
    return LabServer
