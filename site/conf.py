"""Sphinx configuration of the course website (used by scripts/build_site.py; `make site`).

The sources are staged by scripts/build_site.py into site/_build/src, so only the pages listed
there are built (no stray README or test fixture under -W). Nothing is executed: myst-nb shows the
notebooks' stored outputs. Every script, style and font is served from the site itself.
"""

import math
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE / "_build" / "src"

project = "Neural ODEs, measured"
author = "the course's authors"
copyright = "the course's authors, MIT licence"
html_title = "Neural ODEs, measured"

extensions = ["myst_nb"]
exclude_patterns = ["downloads", "_vendor", "**.ipynb_checkpoints"]

# Notebooks: the committed outputs as they are, never re-executed.
nb_execution_mode = "off"
nb_merge_streams = True  # a loop's prints in one box, not one box per print
nb_ipywidgets_js = {}  # sliders are shown as static figures (build_site.py): no widget manager
nb_render_markdown_format = "myst"

# $...$ and $$...$$ math and \begin{align} (build_site.py turns "- [ ]" items into plain ones).
myst_enable_extensions = ["dollarmath", "amsmath"]
myst_heading_anchors = 3

# MathJax 4 from the site's own _static (copied from npm by build_site.py), with its font.
html_static_path = [str(SRC / "_vendor"), str(HERE / "_static")]
html_css_files = ["course.css"]
html_favicon = str(HERE / "_static" / "favicon.svg")  # served by the site: no /favicon.ico 404
mathjax_path = "mathjax/tex-mml-chtml.js"
mathjax4_config = {"loader": {"paths": {"fonts": "[mathjax]/fonts"}}}

html_theme = "sphinx_book_theme"
html_theme_options = {
    "home_page_in_toc": True,
    "show_navbar_depth": 1,
    # its .ipynb would be the page's copy: each lesson links the real one instead
    "use_download_button": False,
    "use_fullscreen_button": False,
    "use_repository_button": False,
    "use_source_button": False,
    "use_issues_button": False,
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "navbar_persistent": [],  # one search field (in the sidebar), not a second one in a top bar
}
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
templates_path = [str(HERE / "_templates")]  # one accessibility fix to the theme's search field


# --------------------------------------------------------------------------------------------
# Figures legible on a phone (issue 23, point 5). Matplotlib's tick labels and legends are 10 pt
# on a figure of W inches; shown W_css CSS pixels wide, that text is 10/72 * W_css / W px tall.
# For at least 8 px a figure needs W_css >= 57.6 * W. Each figure's <img> gets that width as
# --legible-width (from its PNG's own size and dpi); course.css applies it as a minimum width on
# narrow screens, where the figure's output box then scrolls sideways (and a tap opens the PNG).
# --------------------------------------------------------------------------------------------
LEGIBLE_PX_PER_INCH = 8 * 72 / 10  # CSS px per figure inch for 10-pt text at 8 px

_IMG = re.compile(r'<img\b([^>]*?)\bsrc="(_images/[^"]+\.png)"([^>]*?)\s*/?>')


def legible_width(png: Path) -> int:
    """The CSS width (px) at which the figure's 10-pt text is 8 px tall: 57.6 px per inch."""
    from PIL import Image

    with Image.open(png) as image:
        dpi = float(image.info.get("dpi", (72.0, 72.0))[0]) or 72.0
        return math.ceil(image.width / dpi * LEGIBLE_PX_PER_INCH)


def _legible_figures(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")

        def styled(match):
            before, src, after = match.groups()
            if "--legible-width" in match.group(0):
                return match.group(0)
            width = legible_width(out / src)
            return f'<img{before}src="{src}"{after} style="--legible-width: {width}px" />'

        new = _IMG.sub(styled, text)
        if new != text:
            page.write_text(new, encoding="utf-8")


def setup(app):
    app.connect("build-finished", _legible_figures)
