"""The course website in headless Chromium, as a reader meets it (``make site-test``).

Every page of the built site, served from 127.0.0.1: it loads with no failed request and no
request to any other host (checked in the browser's own network log), its math is typeset by the
local MathJax, its headings go down one level at a time, and axe-core finds nothing serious or
critical. Every lesson page shows as many figures as its notebook stores (slider figures
included), each with alt text, no widget box and a working "download this notebook" link.
Searching "adjoint" finds lesson 04. Screenshots at desktop and phone widths go to
site/_build/screenshots (or $SITE_SCREENSHOTS).
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "site" / "_build" / "html"

pytestmark = pytest.mark.skipif(
    os.environ.get("RUN_BROWSER_TESTS") != "1",
    reason="browser tests run with RUN_BROWSER_TESTS=1 (make site-test)",
)

AXE = ROOT / "site" / "node_modules" / "axe-core" / "axe.min.js"
DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}


def _build_site_module():
    spec = importlib.util.spec_from_file_location("build_site", ROOT / "scripts" / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["build_site"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _pages() -> list[str]:
    if not HTML.exists():
        return []
    return sorted(p.name for p in HTML.glob("*.html"))


def _lessons() -> list[dict]:
    path = HTML / "lessons.json"
    return json.loads(path.read_text()) if path.exists() else []


def open_page(browser, url: str, viewport=DESKTOP):
    """A page at ``url`` and the list of problems its requests had (external, failed, 4xx/5xx)."""
    context = browser.new_context(viewport=viewport)
    page = context.new_page()
    base = url.split("/", 3)[:3]
    origin = "/".join(base)
    problems: list[str] = []
    page.on(
        "request",
        lambda r: (
            None
            if r.url.startswith((origin, "data:", "blob:", "about:"))
            else problems.append(f"external request: {r.url}")
        ),
    )
    page.on("requestfailed", lambda r: problems.append(f"failed: {r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    page.goto(url, wait_until="load")
    page.wait_for_load_state("networkidle")
    return context, page, problems


def wait_for_math(page) -> int:
    """Wait for MathJax (if the page loads it) to finish; return the number of typeset formulas."""
    has_mathjax = page.evaluate("() => !!document.querySelector('script[src*=\"mathjax\"]')")
    if not has_mathjax:
        return 0
    page.wait_for_function(
        "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000
    )
    page.evaluate("() => MathJax.startup.promise")
    page.wait_for_load_state("networkidle")
    return page.evaluate("() => document.querySelectorAll('mjx-container').length")


def axe_findings(page) -> list[str]:
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    findings = []
    for violation in result["violations"]:
        if violation["impact"] in ("serious", "critical"):
            targets = [node["target"] for node in violation["nodes"][:3]]
            findings.append(
                f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}"
            )
    return findings


def heading_levels(page) -> list[int]:
    return page.evaluate(
        "() => [...document.querySelectorAll('main :is(h1, h2, h3, h4, h5, h6)')]"
        ".filter(h => h.checkVisibility()).map(h => Number(h.tagName[1]))"
    )


def test_the_site_was_built():
    assert (HTML / "index.html").exists(), "run `make site` first"
    lessons = _lessons()
    notebooks = sorted(p.name for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert [entry["notebook"] for entry in lessons] == notebooks, "the site lists every lesson"


@pytest.mark.parametrize("name", _pages())
def test_page_loads_offline_with_math_headings_and_no_serious_axe_finding(browser, site_url, name):
    context, page, problems = open_page(browser, f"{site_url}/{name}")
    try:
        typeset = wait_for_math(page)
        source = (HTML / name).read_text()
        if 'class="math' in source:
            assert typeset > 0, f"{name}: math on the page but nothing typeset"
        assert page.locator("text=Loading widget").count() == 0
        levels = heading_levels(page)
        if levels:
            assert levels[0] == 1 and levels.count(1) == 1, f"{name}: one h1 first, got {levels}"
            jumps = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
            assert not jumps, f"{name}: headings skip a level: {jumps}"
        findings = axe_findings(page)
        assert not findings, f"{name}: axe-core found\n" + "\n".join(findings)
        assert not problems, f"{name}: " + "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("lesson", _lessons(), ids=lambda entry: entry["notebook"])
def test_lesson_page_shows_every_figure_with_alt_text_and_no_widget_box(browser, site_url, lesson):
    build_site = _build_site_module()
    path = ROOT / "notebooks" / lesson["notebook"]
    nb = nbformat.read(path, as_version=4)
    info = build_site.parse_intro(path, nb.cells[0].source)
    static = build_site.static_lesson(nb, info)
    expected = sum(
        "image/png" in output.get("data", {})
        for cell in static.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    stored = sum(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.outputs
    )
    assert expected >= stored  # the slider figures come on top of the stored figures
    context, page, problems = open_page(browser, f"{site_url}/{lesson['page']}")
    try:
        images = page.locator("main .cell_output img")
        assert images.count() == expected, (
            f"{images.count()} figures on the page, {expected} stored"
        )
        for i in range(images.count()):
            image = images.nth(i)
            alt = image.get_attribute("alt") or ""
            assert len(alt) > 10 and not alt.endswith(".png"), f"figure {i}: alt text {alt!r}"
            image.scroll_into_view_if_needed()
            assert image.evaluate("img => img.complete && img.naturalWidth > 0"), f"figure {i}"
        assert page.locator(".jupyter-widgets, .widget-interact").count() == 0
        body = page.inner_text("main")
        shown = "\n".join(page.locator("main .cell_output").all_inner_texts())
        for leftover in ("IntSlider(", "FloatSlider(", "interactive(children", "Loading widget"):
            assert leftover not in shown
        n_sliders = sum(
            "Open this lesson in JupyterLab" in output.get("data", {}).get("text/markdown", "")
            for cell in static.cells
            if cell.cell_type == "code"
            for output in cell.outputs
        )
        assert body.count("Open this lesson in JupyterLab") == n_sliders
        link = page.get_by_role("link", name="Download this notebook")
        assert link.count() == 1
        href = link.get_attribute("href")
        response = page.request.get(f"{site_url}/{href}")
        assert response.ok and json.loads(response.body())["cells"], "the notebook downloads"
        assert page.get_by_role("link", name="Launch this lesson").count() == 0
        assert not problems, "\n".join(problems)
    finally:
        context.close()


def test_search_for_adjoint_finds_lesson_04(browser, site_url):
    context, page, problems = open_page(browser, f"{site_url}/search.html?q=adjoint")
    try:
        page.wait_for_selector("#search-results li", timeout=30_000)
        links = page.eval_on_selector_all("#search-results li a", "els => els.map(a => a.href)")
        assert any("04_adjoint.html" in href for href in links), links
        assert not problems, "\n".join(problems)
    finally:
        context.close()


@pytest.mark.parametrize("viewport_name", ["desktop", "phone"])
def test_screenshots(browser, site_url, screenshot_dir, viewport_name):
    viewport = DESKTOP if viewport_name == "desktop" else PHONE
    shots = {"index": "index.html", "lesson01": "01_ode_basics.html", "lesson04": "04_adjoint.html",
             "lesson07": "07_classifiers.html", "lesson08": "08_normalizing_flows.html",
             "lesson10": "10_hamiltonian.html"}
    for label, name in shots.items():
        context, page, problems = open_page(browser, f"{site_url}/{name}", viewport)
        try:
            wait_for_math(page)
            out = screenshot_dir / f"{label}-{viewport_name}.png"
            page.screenshot(path=str(out))
            assert out.stat().st_size > 10_000
            # A slider's page section, scrolled into view: its static figure and the note
            note = page.locator("text=Open this lesson in JupyterLab").first
            if label == "lesson01" and note.count():
                note.scroll_into_view_if_needed()
                page.screenshot(path=str(screenshot_dir / f"{label}-slider-{viewport_name}.png"))
            # Every figure of lessons 07, 08 and 10, one screenshot each (to look at, issue 23)
            if label in ("lesson07", "lesson08", "lesson10"):
                figures = page.locator("main .cell_output img")
                for i in range(figures.count()):
                    figures.nth(i).scroll_into_view_if_needed()
                    page.screenshot(
                        path=str(screenshot_dir / f"{label}-figure{i:02d}-{viewport_name}.png")
                    )
            assert not problems, "\n".join(problems)
        finally:
            context.close()
