"""report.html (``neural-ode-grade report``) in headless Chromium: offline, every figure drawn.

The output folder is the one of tests/test_gradebook.py (the grader's format, written by hand)
unless ``CLASS_REPORT_OUT`` names a real grader output folder (``make grade``'s
``grading_results``), whose report is then rendered afresh. The page is opened from a file with
every network request refused; the test checks that none was attempted, that each image decoded,
and saves a full-page screenshot (``class-report.png`` in the site's screenshot folder) to look
at. Run with ``RUN_BROWSER_TESTS=1``.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from grader.cli import main

pytestmark = pytest.mark.skipif(
    os.environ.get("RUN_BROWSER_TESTS") != "1",
    reason="browser tests run with RUN_BROWSER_TESTS=1 (make site-test)",
)

HERE = Path(__file__).resolve().parent
SCREENSHOTS = Path(os.environ.get("SITE_SCREENSHOTS",
                                  HERE.parents[1] / "site" / "_build" / "screenshots"))


def _graded_by_hand(tmp_path):
    spec = importlib.util.spec_from_file_location("test_gradebook",
                                                  HERE.parent / "test_gradebook.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.write_graded(tmp_path)


def test_class_report_renders_offline(browser, tmp_path):
    real = os.environ.get("CLASS_REPORT_OUT")
    if real:
        out, subs = Path(real), None
    else:
        out, subs = _graded_by_hand(tmp_path)
    args = ["report", str(out)] + (["--submissions", str(subs)] if subs else [])
    assert main(args) == 0
    page_file = out / "report.html"

    context = browser.new_context(viewport={"width": 1200, "height": 900})
    requests = []

    def refuse(route):
        requests.append(route.request.url)
        route.abort()

    context.route("http*://**", refuse)
    page = context.new_page()
    page.goto(page_file.as_uri(), wait_until="load")
    images = page.evaluate(
        "() => [...document.images].map(i => [i.alt, i.complete && i.naturalWidth > 0])")
    headings = page.locator("h2").all_inner_texts()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "class-report.png"
    page.screenshot(path=str(shot), full_page=True)
    context.close()
    assert not requests, f"the report asked the network for {requests}"
    assert len(images) == 3 and all(ok for _, ok in images), images
    assert headings[:3] == ["Scores per lesson", "Pass rate per exercise",
                            "Most common failures per exercise (top 5)"], headings
    assert shot.stat().st_size > 20_000
