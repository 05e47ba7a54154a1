"""Build the course website: a static book made from the committed, executed notebooks.

    .venv/bin/python scripts/build_site.py [--launch-url URL]      (what `make site` runs)

Nothing is executed again: the pages show the outputs stored in ``notebooks/``. The steps:

1. Find the lessons: every ``notebooks/NN_*.ipynb`` (a new lesson appears by being there).
2. Stage the book's sources in ``site/_build/src`` (never in the repository's own folders, so no
   stray file becomes a page): the landing page (its lesson map read from each notebook's first
   cell: title, objectives, time), a copy of every lesson made fit for a static page (below), the
   instructors' guide, the benchmarks page and the references page.
3. Copy MathJax and its font from ``site/node_modules`` (``npm ci`` in ``site/`` installs the
   versions pinned in ``site/package-lock.json``) into the build's ``_static``: no page asks any
   other host for anything.
4. ``sphinx-build -W`` (every warning is an error) with ``site/conf.py``, into ``site/_build/html``.
5. Make every figure a link to its PNG (click to enlarge), then check every internal link and
   image of the built pages (file and ``#anchor``).

What a lesson's copy changes, and why (the notebooks themselves stay as they are):
- A slider needs a kernel. Its cell shows, instead of a widget box, the figure the slider drew at
  its default setting (stored in the notebook's saved widget state) and the line "open this lesson
  in JupyterLab to move the slider". A progress bar becomes its final line of text.
- Every figure gets alt text: the cell's ``alt`` metadata if the lesson gives one, else the titles
  its code sets (``title=``, ``set_title``, ``suptitle``), else the section it sits in.
- The objectives' "- [ ]" boxes become plain list items (a page can't keep a tick).
- A check cell's output ("not attempted yet") becomes a note on how the check works in JupyterLab.
- Below the title: a "download this notebook" link (the committed notebook, unchanged) and, when a
  launch URL is given, a link that opens the lesson on a JupyterHub or Binder.
"""

from __future__ import annotations

import argparse
import copy
import html
import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat

from utils.course import LESSON_NOTEBOOK_GLOB

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "site"
BUILD = SITE / "_build"
SRC = BUILD / "src"
HTML = BUILD / "html"
DOCTREES = BUILD / "doctrees"
NODE_MODULES = SITE / "node_modules"
LESSON_GLOB = LESSON_NOTEBOOK_GLOB

SLIDER_NOTE = (
    "*This page shows the slider's {what} at its default setting ({settings}). "
    "Open this lesson in JupyterLab (`make lab`) to move the slider.*"
)
CHECK_NOTE = (
    "*Exercise check. In JupyterLab this cell checks your answer as soon as you run it: "
    "passed, not attempted yet, or not yet right with the case that failed.*"
)
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
TASK_ITEM = re.compile(r"^(\s*[-*]\s+)\[[ xX]\]\s+", re.MULTILINE)
CONTROL_MODELS = re.compile(r"(Slider|Dropdown|Checkbox|ToggleButtons|RadioButtons|Text)Model$")


@dataclass
class Lesson:
    path: Path  # notebooks/NN_topic.ipynb
    number: str  # "01"
    title: str  # "ODE basics: what solving an ODE means, ..."
    objectives: list[str] = field(default_factory=list)
    minutes: int | None = None

    @property
    def stem(self) -> str:
        return self.path.stem


# --------------------------------------------------------------------------------------------
# 1. The lessons and what their first cell says about them
# --------------------------------------------------------------------------------------------
def find_lessons(notebooks: Path = ROOT / "notebooks") -> list[Lesson]:
    """Every ``NN_*.ipynb`` in ``notebooks/``, in lesson order, with its title, objectives, time."""
    lessons = []
    for path in sorted(notebooks.glob(LESSON_GLOB)):
        nb = nbformat.read(path, as_version=4)
        intro = next((c.source for c in nb.cells if c.cell_type == "markdown"), "")
        lessons.append(parse_intro(path, intro))
    return lessons


def parse_intro(path: Path, intro: str) -> Lesson:
    """Read title, objectives (the ``- [ ]`` list) and time ("**Time.** About 45 minutes")."""
    number = path.name[:2]
    title_match = re.search(r"^#\s+(.+)$", intro, re.MULTILINE)
    title = title_match[1].strip() if title_match else path.stem
    # "Lesson 01 — ODE basics" -> "ODE basics"
    title = re.sub(r"^Lesson\s+\d+\s*[—–:-]\s*", "", title)
    objectives: list[str] = []
    for line in intro.splitlines():
        item = re.match(r"^\s*[-*]\s+\[[ xX]\]\s+(.*)$", line)
        if item:
            objectives.append(item[1].strip())
        elif objectives and line.startswith("  ") and line.strip():
            objectives[-1] += " " + line.strip()  # a wrapped objective
        elif objectives and not line.strip():
            break
    time_match = re.search(r"\*\*Time[.:]?\*\*[.:]?\s*(?:about\s+)?(\d+)\s*min", intro, re.I)
    minutes = int(time_match[1]) if time_match else None
    return Lesson(path=path, number=number, title=title, objectives=objectives, minutes=minutes)


# --------------------------------------------------------------------------------------------
# 2. A lesson made fit for a static page
# --------------------------------------------------------------------------------------------
def _model_id(ref: str) -> str:
    return ref.removeprefix("IPY_MODEL_")


def _walk_widgets(state: dict, model_id: str):
    """Yield every model of the widget tree under ``model_id`` (depth first, children in order)."""
    model = state.get(model_id)
    if model is None:
        return
    yield model
    for child in model["state"].get("children", []):
        yield from _walk_widgets(state, _model_id(child))


def _format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def static_widget_outputs(output: dict, state: dict) -> tuple[list[dict], str | None]:
    """What a static page shows for one widget-view output, and a slider's settings (or None).

    A slider (``interact``): the outputs its Output widget stored at the default setting, after a
    note. A progress bar: its final text. Anything else: its ``text/plain`` repr is dropped (a
    widget's repr, e.g. ``IntSlider(value=3)``, tells a reader nothing).
    """
    model_id = output["data"][WIDGET_VIEW]["model_id"]
    models = list(_walk_widgets(state, model_id))
    controls = [m["state"] for m in models if CONTROL_MODELS.search(m.get("model_name", ""))]
    stored = [
        o
        for m in models
        if m.get("model_name") == "OutputModel"
        for o in m["state"].get("outputs", [])
    ]
    if controls:
        settings = ", ".join(
            f"{c.get('description') or 'value'} = {_control_value(c)}" for c in controls
        )
        what = "figure" if any("image/png" in o.get("data", {}) for o in stored) else "output"
        note = {
            "output_type": "display_data",
            "metadata": {},
            "data": {"text/markdown": SLIDER_NOTE.format(what=what, settings=settings)},
        }
        return [note, *copy.deepcopy(stored)], settings
    if any(m.get("model_name") in ("FloatProgressModel", "IntProgressModel") for m in models):
        parts = [
            html.unescape(m["state"].get("value", ""))
            for m in models
            if m.get("model_name") == "HTMLModel"
        ]
        text = " ".join(p.replace("\u2007", " ").strip() for p in parts if p.strip())
        return [{"output_type": "stream", "name": "stdout", "text": text + "\n"}], None
    return copy.deepcopy(stored), None


def _control_value(state: dict) -> str:
    """A control's setting: its value, or for a selection (SelectionSlider, ToggleButtons,
    Dropdown) the label of the selected option, which the widget state stores as an index."""
    labels, index = state.get("_options_labels"), state.get("index")
    if labels and isinstance(index, int) and 0 <= index < len(labels):
        return str(labels[index])
    return _format_value(state.get("value"))


_TITLE_CALLS = re.compile(
    r"""(?:\btitle\s*=\s*|set_title\(\s*|suptitle\(\s*|\.title\(\s*)(f?)(["'])(.*?)(?<!\\)\2"""
)


def figure_titles(source: str) -> list[str]:
    """The titles a cell's code gives its figures: ``title="..."``, ``set_title(...)`` etc.

    Parts of an f-string in braces are computed values; they become "…".
    """
    titles = []
    for is_f, _quote, text in _TITLE_CALLS.findall(source):
        if is_f:
            text = re.sub(r"\{[^{}]*\}", "…", text)
        text = text.replace("\\n", " ").strip()
        if text and text not in titles:
            titles.append(text)
    return titles


def alt_text(cell, heading: str, lesson: Lesson, settings: str | None, n_images: int) -> str:
    """One line saying what a cell's figure shows (see the module docstring for the order)."""
    explicit = cell.metadata.get("alt")
    if explicit:
        return str(explicit)
    titles = figure_titles(cell.source)
    if titles:
        what = "; ".join(titles)
        text = (
            f"Figure: {what}" if len(titles) == 1 else f"Figure with {len(titles)} panels: {what}"
        )
    else:
        text = f"Figure of lesson {lesson.number}, section '{heading}'"
    if settings:
        text += f" (the slider's figure at {settings})"
    return text


def _clean_heading(line: str) -> str:
    text = line.lstrip("#").strip()
    return re.sub(r"[*`$]", "", text)


def static_lesson(nb, lesson: Lesson, *, launch_url: str | None = None):
    """A copy of a lesson's notebook for a static page (see the module docstring)."""
    nb = copy.deepcopy(nb)
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    nb.metadata.pop("widgets", None)  # no widget manager on the page: nothing left to render
    heading = lesson.title
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            # "- [ ] objective": a checkbox a page can't keep, and unlabelled for screen readers
            cell.source = TASK_ITEM.sub(r"\1", cell.source)
            headings = [ln for ln in cell.source.splitlines() if re.match(r"#{1,6}\s", ln)]
            if headings:
                heading = _clean_heading(headings[-1])
            continue
        if cell.cell_type != "code":
            continue
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("grade") and not grading.get("solution"):
            note = {
                "output_type": "display_data",
                "metadata": {},
                "data": {"text/markdown": CHECK_NOTE},
            }
            cell.outputs = [nbformat.from_dict(note)]
            continue
        outputs, settings = [], None
        for output in cell.get("outputs", []):
            if WIDGET_VIEW in output.get("data", {}):
                replaced, slider = static_widget_outputs(output, state)
                outputs += replaced
                settings = settings or slider
            else:
                outputs.append(output)
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        n_images = sum("image/png" in o.get("data", {}) for o in outputs)
        if n_images:
            alt = alt_text(cell, heading, lesson, settings, n_images)
            cell.metadata.setdefault("mystnb", {})["image"] = {"alt": alt}
    links = [f"{{download}}`Download this notebook <downloads/{lesson.path.name}>`"]
    if launch_url:
        target = launch_url.replace("{path}", f"notebooks/{lesson.path.name}")
        links.append(f"[Launch this lesson]({target})")
    links.append("Run it and move its sliders in JupyterLab: `make lab`.")
    first_md = next((i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"), -1)
    nb.cells.insert(first_md + 1, nbformat.v4.new_markdown_cell(" · ".join(links)))
    nb.cells.append(
        nbformat.v4.new_markdown_cell(
            "All the course's references, with links: [References](references.md)."
        )
    )
    for cell in nb.cells:
        cell.pop("id", None)  # inserted cells: ids are not needed on a page
    nb.nbformat_minor = 4
    return nb


# --------------------------------------------------------------------------------------------
# The landing page and the other pages
# --------------------------------------------------------------------------------------------
def lesson_map(lessons: list[Lesson]) -> str:
    lines = []
    for lesson in lessons:
        minutes = f"about {lesson.minutes} minutes" if lesson.minutes else "time not given"
        lines.append(f"### {lesson.number} · [{lesson.title}]({lesson.stem}.ipynb)\n")
        lines.append(f"*{minutes}* · notebook `notebooks/{lesson.path.name}`\n")
        if lesson.objectives:
            lines.append("You will be able to:\n")
            lines += [f"- {objective}" for objective in lesson.objectives]
            lines.append("")
    return "\n".join(lines)


def stage(lessons: list[Lesson], *, launch_url: str | None) -> None:
    """Write the book's sources into ``site/_build/src``."""
    if SRC.exists():
        shutil.rmtree(SRC)
    (SRC / "downloads").mkdir(parents=True)
    total = sum(lesson.minutes or 0 for lesson in lessons)
    index = (SITE / "index.md").read_text()
    index = index.replace("{{ lesson_map }}", lesson_map(lessons))
    index = index.replace("{{ n_lessons }}", str(len(lessons)))
    index = index.replace("{{ hours }}", f"{total / 60:.0f}" if total else "a few")
    toctree = "\n".join(lesson.stem for lesson in lessons)
    index = index.replace("{{ lesson_toctree }}", toctree)
    (SRC / "index.md").write_text(index)
    shutil.copy(SITE / "references.md", SRC / "references.md")
    for name in ("instructors.md", "benchmarks.md"):
        (SRC / name).write_text((ROOT / "docs" / name).read_text())
    for lesson in lessons:
        nb = nbformat.read(lesson.path, as_version=4)
        nbformat.write(static_lesson(nb, lesson, launch_url=launch_url), SRC / lesson.path.name)
        shutil.copy(lesson.path, SRC / "downloads" / lesson.path.name)


def vendor_assets() -> None:
    """MathJax and its font into ``src/_vendor`` (conf.py adds it to ``html_static_path``)."""
    if not (NODE_MODULES / "mathjax").is_dir() or not (NODE_MODULES / "axe-core").is_dir():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SITE, check=True)
    target = SRC / "_vendor" / "mathjax"
    source = NODE_MODULES / "mathjax"
    target.mkdir(parents=True)
    for item in source.iterdir():
        if item.is_dir():
            shutil.copytree(item, target / item.name)
        elif item.suffix == ".js" and not item.name.startswith("node-main"):
            shutil.copy(item, target / item.name)
    shutil.copy(source / "LICENSE", target / "LICENSE")
    font = NODE_MODULES / "@mathjax" / "mathjax-newcm-font"
    font_target = target / "fonts" / "mathjax-newcm-font"
    font_target.mkdir(parents=True)
    shutil.copy(font / "chtml.js", font_target / "chtml.js")
    shutil.copytree(font / "chtml", font_target / "chtml")


# --------------------------------------------------------------------------------------------
# 5. Internal links
# --------------------------------------------------------------------------------------------
class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id", "name"):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            value = attrs.get(key)
            if value and not (tag == "link" and attrs.get("rel") == "preconnect"):
                self.refs.append(value)


def broken_links(html_dir: Path = HTML) -> list[str]:
    """Every link or image of the built pages that points to a missing file or anchor."""
    pages = {}
    for page in html_dir.rglob("*.html"):
        if "_static" in page.relative_to(html_dir).parts:
            continue  # the theme's and MathJax's own files (templates, not pages)
        parser = _Links()
        parser.feed(page.read_text(errors="replace"))
        pages[page.resolve()] = parser
    problems = []
    for page, parser in pages.items():
        for ref in parser.refs:
            parts = urlsplit(ref)
            if parts.scheme or ref.startswith(("//", "mailto:", "javascript:", "data:")):
                continue
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if target.is_dir():
                target = target / "index.html"
            if not target.exists():
                problems.append(f"{page.relative_to(html_dir.resolve())}: {ref} (no such file)")
            elif parts.fragment and target in pages and parts.fragment not in pages[target].ids:
                problems.append(f"{page.relative_to(html_dir.resolve())}: {ref} (no such anchor)")
    return problems


_FIGURE = re.compile(r'(<img\b[^>]*?\bsrc="(_images/[^"]+\.png)"[^>]*>)')


def link_figures(html_dir: Path = HTML) -> int:
    """Make every stored figure of the built pages clickable: a link to the PNG itself, which the
    browser shows at full size (and a phone lets you zoom). Returns how many were linked."""
    linked = 0
    for page in html_dir.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        new, n = _FIGURE.subn(
            r'<a class="figure-zoom" href="\2" title="Open the figure at full size">\1</a>', text
        )
        if n:
            page.write_text(new, encoding="utf-8")
            linked += n
    return linked


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--launch-url",
        default="",
        help="a JupyterHub or Binder URL; '{path}' in it becomes the lesson's path in the "
        "repository (e.g. notebooks/01_ode_basics.ipynb). Without it, no launch link.",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    lessons = find_lessons()
    if not lessons:
        print("no notebooks/NN_*.ipynb found", file=sys.stderr)
        return 1
    stage(lessons, launch_url=args.launch_url or None)
    vendor_assets()
    if HTML.exists():
        shutil.rmtree(HTML)
    command = [
        sys.executable,
        "-m",
        "sphinx",
        "-W",
        "--keep-going",
        "-q",
        "-b",
        "html",
        "-c",
        str(SITE),
        "-d",
        str(DOCTREES),
        str(SRC),
        str(HTML),
    ]
    result = subprocess.run(command, cwd=ROOT)
    if result.returncode:
        print("sphinx-build failed (warnings are errors): see above", file=sys.stderr)
        return result.returncode
    link_figures()
    problems = broken_links()
    if problems:
        print("broken internal links:\n  " + "\n  ".join(problems), file=sys.stderr)
        return 1
    (HTML / "lessons.json").write_text(
        json.dumps(
            [{"page": f"{lesson.stem}.html", "notebook": lesson.path.name} for lesson in lessons]
        )
    )
    elapsed = time.perf_counter() - started
    print(f"site built in {elapsed:.1f} s: {len(lessons)} lessons, open {HTML / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
