"""Submitted files: finding them, naming them, reading them as plain JSON (no code runs).

Nothing here may stop a run: any file name (any bytes) is handled, and any failure to read a
file becomes :class:`Unreadable` with the reason, which the grader turns into a row.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "MAX_NOTEBOOK_BYTES",
    "Cell",
    "Found",
    "Unreadable",
    "display_name",
    "file_stem",
    "find_skipped",
    "find_submissions",
    "printable",
    "read_cells",
]

MAX_NOTEBOOK_BYTES = 100 * 2**20


class Unreadable(ValueError):
    """The file could not be read as a notebook (the message says why, in plain words)."""


@dataclass(frozen=True)
class Cell:
    index: int  # 0-based position in the submission
    cell_type: str
    source: str
    grade_id: str

    @property
    def where(self) -> str:
        first = next((line for line in self.source.splitlines() if line.strip()), "")
        first = first if len(first) <= 60 else first[:57] + "..."
        return f"cell {self.index + 1}" + (f" ({first.strip()!r})" if first else "")


@dataclass(frozen=True)
class Found:
    """A submitted file: its path (bytes, exactly as on disk) and its name for people."""

    path: bytes  # absolute
    relative: bytes  # relative to the submissions folder, '/'-separated

    @property
    def name(self) -> str:
        return display_name(self.relative)


# Characters that reorder or hide text on screen: bidirectional overrides and isolates, marks.
_BIDI = set("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def printable(text: str, *, keep: str = "") -> str:
    """``text`` with control characters and bidirectional overrides shown as escapes
    (``\\x1b``, ``\\u202e``): a name or message can neither move a terminal's cursor nor
    reverse what an instructor reads. ``keep``: control characters left as they are (``"\\n"``
    for multi-line text)."""
    out = []
    for c in str(text):
        code = ord(c)
        if c in keep:
            out.append(c)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif 0x80 <= code < 0xA0:  # not \\xNN: that is how a byte that is not UTF-8 shows
            out.append(f"\\u{code:04x}")
        elif c in _BIDI or 0xD800 <= code < 0xE000 or c in "\u2028\u2029":
            out.append(f"\\u{code:04x}")
        else:
            out.append(c)
    return "".join(out)


def display_name(relative: bytes) -> str:
    """The name in grades.csv: the path as text; bytes that are not UTF-8 appear as ``\\xNN``.

    One-to-one: a backslash of the name itself appears doubled, so ``caf\\xe9.ipynb`` (a byte
    0xE9) and a file literally named ``caf\\xe9.ipynb`` (shown ``caf\\\\xe9.ipynb``) never share
    a row name (an instructor sums points by this column). Control characters and
    bidirectional overrides are shown escaped too (``\\x1b``, ``\\u202e``).
    """
    text = relative.decode("utf-8", "surrogateescape")
    return "".join(f"\\x{ord(c) - 0xDC00:02x}" if "\udc80" <= c <= "\udcff"
                   else "\\\\" if c == "\\" else printable(c) for c in text)


def file_stem(relative: bytes) -> str:
    """A safe, unique file name stem for the feedback and log of a submission.

    Readable part (letters, digits, ``._-``; ``/`` becomes ``__``) plus 10 hex digits of the
    SHA-256 of the exact path bytes, so ``alice/hw1.ipynb`` and ``alice__hw1.ipynb`` (or two
    names differing only in bytes that are not UTF-8) never share a file.
    """
    text = display_name(relative)
    text = text[:-6] if text.endswith(".ipynb") else text
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", text.replace("/", "__")).strip("._")[:80]
    digest = hashlib.sha256(relative).hexdigest()[:10]
    return f"{readable or 'submission'}-{digest}"


def _submitted(name: bytes) -> bool:
    """Whether a file is a submission: every file but hidden ones that are not notebooks
    (``.DS_Store``, ``._x`` resource forks of macOS zips)."""
    return not name.startswith(b".") or name.lower().endswith(b".ipynb")


def find_submissions(folder: Path) -> list[Found]:
    """Every file under ``folder`` (checkpoints excluded), in the order of their names.

    Not only ``*.ipynb``: a notebook uploaded as ``hw1.json`` or ``hw1.ipynb.txt`` is graded, and
    any other file gets an ``unreadable`` row saying why, instead of vanishing. Walks with bytes
    paths, never follows symbolic links (a link to a folder is listed, as ``unreadable``), and
    lists special files too.
    """
    root = os.fsencode(Path(folder).resolve())
    found = []
    for here, dirs, files in os.walk(root, followlinks=False):
        links = [d for d in dirs if os.path.islink(os.path.join(here, d))]
        dirs[:] = sorted(d for d in dirs if d != b".ipynb_checkpoints" and d not in links
                         and d != b"__MACOSX")
        for name in files + links:
            if _submitted(name):
                path = os.path.join(here, name)
                found.append(Found(path, os.path.relpath(path, root).replace(os.sep.encode(),
                                                                              b"/")))
    return sorted(found, key=lambda f: (f.name, f.relative))


_SKIPPED_FOLDERS = {
    b".ipynb_checkpoints": "it is in a .ipynb_checkpoints folder (Jupyter's automatic copies of "
                           "notebooks, not submissions)",
    b"__MACOSX": "it is in a __MACOSX folder (metadata macOS adds to zip files, not a "
                 "submission)",
}


def find_skipped(folder: Path) -> list[tuple[Found, str]]:
    """The files :func:`find_submissions` skips by rule, each with the reason: everything in
    ``.ipynb_checkpoints`` and ``__MACOSX`` folders, and hidden files that are not notebooks
    (``.DS_Store``, ``._name`` resource forks)."""
    root = os.fsencode(Path(folder).resolve())
    skipped = []
    for here, dirs, files in os.walk(root, followlinks=False):
        relative_here = os.path.relpath(here, root).replace(os.sep.encode(), b"/")
        parts = [] if relative_here == b"." else relative_here.split(b"/")
        rule = next((_SKIPPED_FOLDERS[p] for p in parts if p in _SKIPPED_FOLDERS), None)
        dirs[:] = sorted(d for d in dirs if not os.path.islink(os.path.join(here, d)))
        for name in sorted(files):
            why = rule
            if why is None and not _submitted(name):
                why = ("it is a hidden file that is not a notebook (such as .DS_Store, or a "
                       "._name copy macOS makes)")
            if why is not None:
                path = os.path.join(here, name)
                skipped.append((Found(path, os.path.relpath(path, root).replace(
                    os.sep.encode(), b"/")), why))
    return sorted(skipped, key=lambda f: (f[0].name, f[0].relative))


def _read_bytes(path: bytes) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        if os.path.islink(path):
            raise Unreadable("it is a symbolic link, not a file (links are not followed)") from None
        raise Unreadable(f"it could not be opened ({exc.strerror})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable("it is not a regular file")
        if info.st_size > MAX_NOTEBOOK_BYTES:
            raise Unreadable(f"the file is {info.st_size / 2**20:.0f} MB, larger than the "
                             f"{MAX_NOTEBOOK_BYTES / 2**20:.0f} MB a notebook may be")
        chunks, size = [], 0
        while chunk := os.read(fd, 2**20):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_NOTEBOOK_BYTES:
                raise Unreadable("the file grew larger than a notebook may be while read")
        return b"".join(chunks)
    except OSError as exc:
        raise Unreadable(f"it could not be read ({exc.strerror})") from None
    finally:
        os.close(fd)


def read_cells(path: bytes | str | Path) -> list[Cell]:
    """The cells of a notebook file; raises :class:`Unreadable` (never anything else)."""
    try:
        return _read_cells(os.fsencode(path))
    except Unreadable:
        raise
    except RecursionError:
        raise Unreadable("its JSON is nested too deeply to read") from None
    except MemoryError:
        raise Unreadable("reading it ran out of memory") from None
    except Exception as exc:  # whatever else: a row with the reason, never a lost run
        raise Unreadable(f"it could not be read ({type(exc).__name__}: {exc})"[:300]) from None


def _read_cells(path: bytes) -> list[Cell]:
    raw = _read_bytes(path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise Unreadable(f"it is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(f"it is not valid JSON ({exc.msg}, line {exc.lineno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise Unreadable("its JSON has no list of cells (an nbformat 4 notebook has one)")
    cells = []
    for index, cell in enumerate(data["cells"]):
        if not isinstance(cell, dict) or not isinstance(cell.get("cell_type"), str):
            raise Unreadable(f"cell {index + 1} is not a notebook cell")
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(s, str) for s in source):
            source = "".join(source)
        if not isinstance(source, str):
            raise Unreadable(f"cell {index + 1} has a source that is not text")
        meta = cell.get("metadata")
        nbgrader = meta.get("nbgrader") if isinstance(meta, dict) else None
        grade_id = nbgrader.get("grade_id", "") if isinstance(nbgrader, dict) else ""
        cells.append(Cell(index, cell["cell_type"], source,
                          grade_id if isinstance(grade_id, str) else ""))
    return cells
