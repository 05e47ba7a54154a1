"""Figures on the course website are legible where learners read them (issue 23, point 5).

For every figure of every lesson page in headless Chromium (``make site-test``):
- it is a link to its own PNG (click to enlarge; on a phone the browser then lets you zoom);
- its text, rendered, is large enough. A figure's PNG records its dpi, so its width in inches is
  ``natural width / dpi``; matplotlib's tick labels and legends are 10 pt unless a lesson says
  otherwise, so on the page they are ``10 / 72 * rendered width / inches`` CSS pixels tall. At the
  desktop width that must be at least ``MIN_TEXT_PX``. The phone sizes are printed (``-s``): on a
  390 px screen only a narrow figure stays legible without the click to enlarge.
- the PNG is at least ``MIN_DPI`` dpi: not yet true of the stored notebooks (they are rendered
  at matplotlib's inline 100 dpi, slider figures at 72), so that check is an expected failure
  that turns into an error once they are rebuilt at a higher dpi.
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
MIN_TEXT_PX = 8.0  # CSS pixels, at the desktop width
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


def figures(browser, url: str, viewport: dict) -> list[dict]:
    """Each figure of the page: src, its link's href, rendered width, inches and text px."""
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
    finally:
        context.close()
    for figure in found:
        dpi, width = _png_dpi_and_width(figure["src"])
        figure["dpi"] = dpi
        figure["inches"] = width / dpi
        figure["text_px"] = FONT_PT / 72 * figure["rendered"] / figure["inches"]
    return found


@pytest.mark.parametrize("lesson", _lessons(), ids=lambda entry: entry["notebook"])
def test_every_figure_is_clickable_and_legible_on_desktop(browser, site_url, lesson):
    shown = figures(browser, f"{site_url}/{lesson['page']}", DESKTOP)
    phone = figures(browser, f"{site_url}/{lesson['page']}", PHONE)
    assert shown, "no figure on the page"
    small = []
    for i, (desk, narrow) in enumerate(zip(shown, phone, strict=True)):
        assert desk["href"] == desk["src"], f"figure {i} is not a link to its PNG: {desk}"
        print(f"{lesson['page']} figure {i}: {desk['inches']:.1f} in at {desk['dpi']:.0f} dpi, "
              f"desktop {desk['rendered']:.0f} px -> text {desk['text_px']:.1f} px, "
              f"phone {narrow['rendered']:.0f} px -> text {narrow['text_px']:.1f} px")
        if desk["text_px"] < MIN_TEXT_PX:
            small.append(f"figure {i}: {desk['inches']:.1f} in wide, rendered "
                         f"{desk['rendered']:.0f} px, 10-pt text {desk['text_px']:.1f} px")
    assert not small, f"{lesson['page']}: text below {MIN_TEXT_PX} px:\n" + "\n".join(small)


@pytest.mark.xfail(strict=True, reason="notebooks are stored at 72-100 dpi (issue 23, point 5)")
def test_every_figure_is_stored_at_150_dpi_or_more():
    assert _lessons(), "the site was not built"
    low = []
    for png in sorted((HTML / "_images").glob("*.png")):  # every page's figures
        dpi, _ = _png_dpi_and_width(str(png.relative_to(HTML)))
        if dpi < MIN_DPI:
            low.append(f"{png.name}: {dpi:.0f} dpi")
    assert not low, f"{len(low)} figures below {MIN_DPI} dpi, e.g. {low[:3]}"
