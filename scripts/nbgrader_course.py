"""Make an nbgrader course of all ten lessons: ``nbgrader_config.py`` and its source/release layout.

    .venv/bin/python scripts/nbgrader_course.py COURSE_DIR [--exchange PATH] [--course-id ID]
        [--no-generate]                                  (make nbgrader-course)

Writes into COURSE_DIR (created if missing; existing source notebooks are replaced, nothing
else is touched):

- ``nbgrader_config.py``: the course directory, the exchange root (``--exchange``, the folder
  every student and instructor can reach; default ``COURSE_DIR/exchange``), the course id, the
  gradebook database, a cell timeout long enough for the lessons' training cells, and the
  students' side of the same settings (copy the ``c.Exchange``/``c.CourseDirectory.course_id``
  lines into the students' ``nbgrader_config.py``, e.g. ``<env>/etc/jupyter/nbgrader_config.py``
  in a hub image);
- ``source/lessonNN/NN_topic.ipynb``: each lesson's instructor notebook (the lesson source with
  its solutions, ``grader.lessons.read_source``);
- unless ``--no-generate``: ``release/lessonNN/``, by ``nbgrader generate_assignment`` (the same
  stubs as ``notebooks/``).

Then, in COURSE_DIR, as usual: ``nbgrader release_assignment lesson01``; students ``nbgrader
fetch_assignment lesson01 --course <id>`` (or the Assignment List in ``make lab``) and submit;
``nbgrader collect lesson01``, ``nbgrader autograde lesson01``. Run nbgrader from the course's
environment (``.venv/bin``), so its kernel finds ``utils`` and nbgrader finds ``alembic``.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.lessons import lesson_sources, read_source  # noqa: E402
from utils import course  # noqa: E402

CONFIG = '''\
# nbgrader course of the Neural ODE course: written by scripts/nbgrader_course.py
# (make nbgrader-course). docs/instructors.md, "Or use nbgrader".
c = get_config()  # noqa: F821 (nbgrader's config loader defines get_config)

c.CourseDirectory.root = {root!r}
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.db_url = {db_url!r}
# The exchange: release and submissions travel through this folder. Students need the same
# two lines (Exchange.root, course_id) in their own nbgrader_config.py.
c.Exchange.root = {exchange!r}
# The lessons train small models: give a cell up to 10 minutes under autograde.
c.Execute.timeout = 600
# Assignments: one per lesson, named lessonNN after the lesson's number.
{assignments}
'''


def assignment_name(source: Path) -> str:
    return f"lesson{source.stem[:2]}"


def write_course(course: Path, *, exchange: Path, course_id: str,
                 generate: bool = True, lessons=None) -> list[str]:
    """Write the config and every lesson's source notebook; returns the assignment names."""
    course = Path(course).resolve()
    exchange = Path(exchange).resolve()
    course.mkdir(parents=True, exist_ok=True)
    sources = lesson_sources(lessons) if lessons else lesson_sources()
    names = []
    for source in sources:
        name = assignment_name(source)
        target = course / "source" / name / f"{source.stem}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(read_source(source), target)
        names.append(name)
    assignments = "# " + ", ".join(names)
    (course / "nbgrader_config.py").write_text(CONFIG.format(
        root=str(course), course_id=course_id, db_url=f"sqlite:///{course / 'gradebook.db'}",
        exchange=str(exchange), assignments=assignments), encoding="utf-8")
    exchange.mkdir(parents=True, exist_ok=True)
    try:
        exchange.chmod(0o777)  # students write their submissions into it
    except OSError:
        pass
    if generate:
        generate_all(course, exchange=exchange, course_id=course_id, names=names)
    return names


def generate_all(course: Path, *, exchange: Path, course_id: str, names: list[str]) -> None:
    """``nbgrader generate_assignment`` for every lesson, in this process (nbgrader's API)."""
    from nbgrader.apps.api import NbGraderAPI
    from traitlets.config import Config

    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = course_id
    config.CourseDirectory.db_url = f"sqlite:///{course / 'gradebook.db'}"
    config.Exchange.root = str(exchange)
    path = os.environ.get("PATH", "")
    os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{path}"  # its alembic
    try:
        api = NbGraderAPI(config=config)
        for name in names:
            result = api.generate_assignment(name, force=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n"
                                   + result.get("error", "") + result.get("log", ""))
    finally:
        os.environ["PATH"] = path


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("course", type=Path, help="the nbgrader course directory to write")
    parser.add_argument("--exchange", type=Path, default=None,
                        help="the exchange folder (default: COURSE/exchange)")
    parser.add_argument("--course-id", default=course.NAME)
    parser.add_argument("--no-generate", action="store_true",
                        help="write the sources only (no nbgrader generate_assignment)")
    args = parser.parse_args(argv)
    exchange = args.exchange or args.course / "exchange"
    names = write_course(args.course, exchange=exchange, course_id=args.course_id,
                         generate=not args.no_generate)
    print(f"nbgrader course in {args.course.resolve()}: {len(names)} assignments "
          f"({', '.join(names)}), exchange {Path(exchange).resolve()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
