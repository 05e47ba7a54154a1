"""The learner's lab (``make lab``) and the instructor's (``make instructor-lab``) in Chromium.

Each lab starts as its make target starts it (same options, lab/README.md), on a temporary copy of
notebooks/ and with temporary user config, runtime and workspace folders, so only the settings
the course installs into its own environment (scripts/install_lab_settings.py) play a part:

- the learner's lab opens lesson 01 on the course kernel, has no Formgrader, Course List or
  Create Assignment, and shows no news notification; its Nbgrader menu holds only the
  Assignment List (the student's side of nbgrader's exchange), which the test opens from that
  menu and from the command palette;
- the instructor's lab has nbgrader's menu with Formgrader and Course List, and the Create
  Assignment panel;
- with lesson 01 released into an exchange (``scripts/nbgrader_course.py``, then nbgrader's
  ``release_assignment``) and the student's nbgrader_config.py naming it, the learner's
  Assignment List shows lesson01, its Fetch button fetches it into the learner's folder and
  its Submit button puts it into the exchange's inbound folder.

Run with ``make site-test`` or ``make browser-test``-style ``RUN_BROWSER_TESTS=1``.
"""

from __future__ import annotations

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

pytestmark = pytest.mark.skipif(
    os.environ.get("RUN_BROWSER_TESTS") != "1",
    reason="browser tests run with RUN_BROWSER_TESTS=1 (make site-test)",
)

ROOT = Path(__file__).resolve().parents[2]
JUPYTER = Path(sys.prefix) / "bin" / "jupyter"
TOKEN = "neural-ode-course-lab-modes"
START_TIMEOUT = 120  # s
NBGRADER_PLUGINS = {
    "formgrader": "@jupyter/nbgrader:formgrader",
    "course list": "@jupyter/nbgrader:course-list",
    "create assignment": "@jupyter/nbgrader:create-assignment",
    "menu": "@jupyter/nbgrader:menu",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_lab(tmp: Path, *, instructor: bool, nbgrader_config: str | None = None):
    """``jupyter lab`` with the make target's options; returns (process, base URL, log path)."""
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root)
    if nbgrader_config:  # the student's own config (their home's ~/.jupyter)
        (tmp / "user-config").mkdir(parents=True, exist_ok=True)
        (tmp / "user-config" / "nbgrader_config.py").write_text(nbgrader_config)
    port = _free_port()
    env = dict(
        os.environ,
        JUPYTER_CONFIG_DIR=str(tmp / "user-config"),  # an empty home config: only the course's
        JUPYTER_RUNTIME_DIR=str(tmp / "runtime"),
    )
    env.pop("JUPYTER_CONFIG_PATH", None)
    if instructor:
        env["JUPYTER_CONFIG_PATH"] = str(ROOT / "lab" / "instructor")
    log = tmp / "lab.log"
    process = subprocess.Popen(
        [
            str(JUPYTER), "lab", "--no-browser",
            f"--ServerApp.root_dir={root}", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            "--LabApp.default_url=/lab/tree/01_ode_basics.ipynb",
            f"--IdentityProvider.token={TOKEN}",
            f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
            "--LabApp.expose_app_in_browser=True", "--ServerApp.allow_root=True",
        ],
        cwd=root, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=5):
                return process, base, log
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.5)
    process.terminate()
    raise RuntimeError("JupyterLab did not start:\n" + log.read_text(errors="replace")[-3000:])


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module", autouse=True)
def course_settings_installed():
    """What `make lab` does first: the learner settings into this environment (idempotent)."""
    subprocess.run([sys.executable, str(ROOT / "scripts" / "install_lab_settings.py")], check=True)


def _open(browser, base):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/?token={TOKEN}", wait_until="load")  # redirects to default_url: lesson 01
    page.wait_for_function(
        """() => {
          const app = window.jupyterapp; const w = app && app.shell.currentWidget;
          const s = w && w.sessionContext && w.sessionContext.session;
          return s && s.kernel && w.context.isReady;
        }""",
        timeout=START_TIMEOUT * 1000,
    )
    page.wait_for_timeout(5000)  # time for a news / update notification to appear, if any
    return context, page


def _state(page) -> dict:
    return page.evaluate(
        """(plugins) => {
          const app = window.jupyterapp; const w = app.shell.currentWidget;
          const menus = [...document.querySelectorAll('#jp-MainMenu .lm-MenuBar-itemLabel')]
            .map(e => e.textContent.trim());
          const tabs = [...document.querySelectorAll('.lm-TabBar-tab')]
            .map(e => (e.getAttribute('title') || '') + ' ' + e.textContent);
          const toasts = [...document.querySelectorAll('.Toastify__toast')]
            .map(e => e.textContent);
          const active = {};
          for (const [name, id] of Object.entries(plugins)) active[name] = app.hasPlugin(id);
          return {
            path: w.context.path, kernel: w.sessionContext.session.kernel.name,
            menus, tabs, toasts, active,
            formgraderCommand: app.commands.hasCommand('nbgrader:open-formgrader'),
            courseListCommand: app.commands.hasCommand('nbgrader:open-course-list'),
            assignmentListCommand: app.commands.hasCommand('nbgrader:open-assignment-list'),
            studentTools: ['assignment-list', 'validate-assignment']
              .map(name => app.isPluginActivated('@jupyter/nbgrader:' + name)),
          };
        }""",
        NBGRADER_PLUGINS,
    )


def _assignments_tab_open(page) -> bool:
    return page.evaluate(
        """() => [...window.jupyterapp.shell.widgets('main')]
                 .some(w => w.id === 'nbgrader-assignment-list' && w.isVisible)"""
    )


def _close_assignments(page) -> None:
    page.evaluate(
        """() => { for (const w of [...window.jupyterapp.shell.widgets('main')])
                     if (w.id === 'nbgrader-assignment-list') w.close(); }"""
    )
    page.wait_for_timeout(500)


def test_learner_lab_opens_lesson_01_without_instructor_tools_or_news(browser, tmp_path):
    process, base, log = _start_lab(tmp_path, instructor=False)
    try:
        context, page = _open(browser, base)
        state = _state(page)
        page.screenshot(path=str(tmp_path / "learner-lab.png"))
        # The Assignment List from the menu: Nbgrader -> Assignment List (nothing else there).
        page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        menu_items = [t.strip() for t in page.locator(".lm-Menu-itemLabel").all_inner_texts()
                      if t.strip()]
        page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
        page.wait_for_timeout(1500)
        from_menu = _assignments_tab_open(page)
        page.screenshot(path=str(tmp_path / "learner-assignments-from-menu.png"))
        _close_assignments(page)
        # ... and from the command palette (View -> Activate Command Palette), searching
        # "Assignment", clicking the hit.
        page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="View").click()
        page.locator(".lm-Menu-itemLabel", has_text="Activate Command Palette").click()
        page.locator(".lm-CommandPalette-input:visible").fill("Assignment")
        page.wait_for_timeout(500)
        hits = page.locator(".lm-CommandPalette-item:visible .lm-CommandPalette-itemLabel")
        palette_hits = [t.strip() for t in hits.all_inner_texts()]
        hits.filter(has_text="Assignment List").first.click()
        page.wait_for_timeout(1500)
        from_palette = _assignments_tab_open(page)
        panel_text = page.locator("#nbgrader-assignment-list").inner_text()
        page.screenshot(path=str(tmp_path / "learner-assignments-from-palette.png"))
        context.close()
    finally:
        _stop(process)
    assert state["path"] == "01_ode_basics.ipynb"
    assert state["kernel"] == "neural-ode-course"
    instructor = {k: v for k, v in state["active"].items() if k != "menu"}
    assert not any(instructor.values()), state["active"]
    assert not state["formgraderCommand"] and not state["courseListCommand"]
    # nbgrader's student side stays: Assignment List and the Validate button
    assert state["studentTools"] == [True, True] and state["assignmentListCommand"]
    assert "Nbgrader" in state["menus"], state["menus"]
    assert menu_items == ["Assignment List"], menu_items
    assert from_menu, "the Assignment List did not open from the Nbgrader menu"
    assert "Assignment List" in palette_hits, palette_hits
    assert from_palette, "the Assignment List did not open from the command palette"
    assert "Released assignments" in panel_text or "assignments" in panel_text.lower()
    assert not any("Create Assignment" in tab for tab in state["tabs"]), state["tabs"]
    assert not state["toasts"], f"a notification popped up: {state['toasts']}"


def test_instructor_lab_has_nbgrader_tools(browser, tmp_path):
    process, base, log = _start_lab(tmp_path, instructor=True)
    try:
        context, page = _open(browser, base)
        state = _state(page)
        page.get_by_text("Nbgrader", exact=True).first.click()
        items = page.locator(".lm-Menu-itemLabel").all_inner_texts()
        context.close()
    finally:
        _stop(process)
    assert state["path"] == "01_ode_basics.ipynb"
    assert all(state["active"].values()), state["active"]
    assert state["formgraderCommand"] and state["courseListCommand"]
    assert "Nbgrader" in state["menus"], state["menus"]
    assert "Formgrader" in items and "Course List" in items, items
    assert any("Create Assignment" in tab for tab in state["tabs"]), state["tabs"]
    assert not state["toasts"], f"a notification popped up: {state['toasts']}"


def test_learner_fetches_a_released_lesson_from_the_assignment_list(browser, tmp_path):
    import importlib.util

    spec = importlib.util.spec_from_file_location("nbgrader_course",
                                                  ROOT / "scripts" / "nbgrader_course.py")
    course_script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(course_script)
    course, exchange = tmp_path / "course", tmp_path / "exchange"
    course_script.write_course(course, exchange=exchange, course_id="neural-ode-course",
                               lessons=[ROOT / "lessons_src" / "01_ode_basics.py"])
    env = dict(os.environ, PATH=f"{JUPYTER.parent}{os.pathsep}{os.environ.get('PATH', '')}",
               JUPYTER_CONFIG_DIR=str(tmp_path / "instructor-config"))
    subprocess.run([str(JUPYTER.parent / "nbgrader"), "release_assignment", "lesson01"],
                   cwd=course, env=env, check=True, capture_output=True)
    config = (f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\n"
              "c.CourseDirectory.course_id = 'neural-ode-course'\n")
    process, base, log = _start_lab(tmp_path, instructor=False, nbgrader_config=config)
    try:
        context, page = _open(browser, base)
        page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        page.locator(".lm-Menu-itemLabel", has_text="Assignment List").click()
        released = page.locator("#released_assignments_list")
        released.get_by_text("lesson01").wait_for(timeout=30_000)
        page.screenshot(path=str(tmp_path / "learner-released.png"))
        released.get_by_role("button", name="Fetch").click()
        page.locator("#fetched_assignments_list").get_by_text("lesson01").wait_for(
            timeout=30_000)
        page.screenshot(path=str(tmp_path / "learner-fetched.png"))
        page.locator("#fetched_assignments_list").get_by_role("button", name="Submit").click()
        page.locator("#submitted_assignments_list").get_by_text("lesson01").first.wait_for(
            timeout=30_000)
        page.screenshot(path=str(tmp_path / "learner-submitted.png"))
        context.close()
    finally:
        _stop(process)
    fetched = tmp_path / "notebooks" / "lesson01" / "01_ode_basics.ipynb"
    assert fetched.is_file(), sorted(p.name for p in (tmp_path / "notebooks").iterdir())
    assert "### BEGIN SOLUTION" not in fetched.read_text()
    inbound = list((exchange / "neural-ode-course" / "inbound").iterdir())
    assert len(inbound) == 1 and "+lesson01+" in inbound[0].name, inbound
    assert (inbound[0] / "01_ode_basics.ipynb").is_file()
