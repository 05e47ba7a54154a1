"""Figures on the course website are legible where learners read them (issue 23, point 5).

For every figure of every lesson page in headless Chromium (``make site-test``):
- it is a link to its own PNG (click to enlarge; on a phone the browser then lets you zoom);
- its text, rendered, is large enough, on a desktop (1400 px) and on a phone (390 px) screen.
  A figure's PNG records its dpi, so its width in inches is ``natural width / dpi``;
  matplotlib's tick labels and legends are 10 pt unless a lesson says otherwise, so on the page
  they are ``10 / 72 * rendered width / inches`` CSS pixels tall: at least ``MIN_TEXT_PX`` at
  both widths. On a phone a wide figure keeps that size (site/conf.py and course.css give it a
  minimum width) and its output box scrolls sideways: the page itself must not.
- the PNG is at least ``MIN_DPI`` dpi (notebooks/matplotlibrc, utils.plots.FIGURE_DPI).
"""

from __future__ import annotations

import base64
import io
import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "site" / "_build" / "html"

pytestmark = pytest.mark.skipif(
    os.environ.get("RUN_BROWSER_TESTS") != "1",
    reason="browser tests run with RUN_BROWSER_TESTS=1 (make site-test)",
)

DESKTOP = {"width": 1400, "height": 900}
PHONE = {"width": 390, "height": 844}
FONT_PT = 10.0  # matplotlib's default size for tick labels and legends
MIN_TEXT_PX = 8.0  # CSS pixels, at both widths
ROUNDING = 0.05  # px: the minimum width is whole CSS pixels, the rendered width a float
MIN_DPI = 150


def _lessons() -> list[dict]:
    path = HTML / "lessons.json"
    return json.loads(path.read_text()) if path.exists() else []


def _png_dpi_and_width(src: str) -> tuple[float, int]:
    from PIL import Image

    if src.startswith("data:"):
        data = base64.b64decode(src.split(",", 1)[1])
    else:
        data = (HTML / src).read_bytes()
    with Image.open(io.BytesIO(data)) as image:
        dpi = image.info.get("dpi", (72.0, 72.0))[0]
        return float(dpi), image.width


def figures(browser, url: str, viewport: dict) -> tuple[list[dict], int]:
    """Each figure of the page (src, its link's href, rendered width, inches, text px) and how
    wide the page's content is (``scrollWidth``: more than the viewport means it scrolls)."""
    context = browser.new_context(viewport=viewport)
    try:
        page = context.new_page()
        page.goto(url, wait_until="load")
        page.wait_for_load_state("networkidle")
        found = page.eval_on_selector_all(
            "main .cell_output img",
            """imgs => imgs.map(img => ({
                src: img.getAttribute('src'),
                href: img.closest('a') ? img.closest('a').getAttribute('href') : null,
                rendered: img.getBoundingClientRect().width,
                natural: img.naturalWidth,
            }))""",
        )
        page_width = page.evaluate("() => document.documentElement.scrollWidth")
    finally:
        context.close()
    for figure in found:
        dpi, width = _png_dpi_and_width(figure["src"])
        figure["dpi"] = dpi
        figure["inches"] = width / dpi
        figure["text_px"] = FONT_PT / 72 * figure["rendered"] / figure["inches"]
    return found, page_width


@pytest.mark.parametrize("lesson", _lessons(), ids=lambda entry: entry["notebook"])
def test_every_figure_is_clickable_and_legible_on_desktop_and_phone(browser, site_url, lesson):
    shown, _ = figures(browser, f"{site_url}/{lesson['page']}", DESKTOP)
    phone, phone_page_width = figures(browser, f"{site_url}/{lesson['page']}", PHONE)
    assert shown, "no figure on the page"
    small = []
    for i, (desk, narrow) in enumerate(zip(shown, phone, strict=True)):
        assert desk["href"] == desk["src"], f"figure {i} is not a link to its PNG: {desk}"
        print(f"{lesson['page']} figure {i}: {desk['inches']:.1f} in at {desk['dpi']:.0f} dpi, "
              f"desktop {desk['rendered']:.0f} px -> text {desk['text_px']:.1f} px, "
              f"phone {narrow['rendered']:.0f} px -> text {narrow['text_px']:.1f} px")
        for where, seen in (("desktop", desk), ("phone", narrow)):
            if seen["text_px"] < MIN_TEXT_PX - ROUNDING:
                small.append(f"figure {i} on a {where}: {seen['inches']:.1f} in wide, rendered "
                             f"{seen['rendered']:.0f} px, 10-pt text {seen['text_px']:.1f} px")
    assert not small, f"{lesson['page']}: text below {MIN_TEXT_PX} px:\n" + "\n".join(small)
    assert phone_page_width <= PHONE["width"], (
        f"{lesson['page']}: the page is {phone_page_width} px wide on a {PHONE['width']} px "
        "phone: a wide figure must scroll inside its output box, not the page")


def test_every_figure_is_stored_at_150_dpi_or_more():
    assert _lessons(), "the site was not built"
    low = []
    for png in sorted((HTML / "_images").glob("*.png")):  # every page's figures
        dpi, _ = _png_dpi_and_width(str(png.relative_to(HTML)))
        if dpi < MIN_DPI:
            low.append(f"{png.name}: {dpi:.0f} dpi")
    assert not low, f"{len(low)} figures below {MIN_DPI} dpi, e.g. {low[:3]}"
