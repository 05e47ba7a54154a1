"""Grading's public names, in one place: each is defined in the module that does its job.

A submission is read outside the sandbox as plain JSON (:mod:`grader.notebooks`), matched to
its lesson (:mod:`grader.lesson_index`), checked (:mod:`grader.structure`), planned
(:mod:`grader.plan`), run by :mod:`grader.runner` inside a bubblewrap container
(:mod:`grader.sandbox`, :mod:`grader.runner_process`, :mod:`grader.session`), and judged outside
(:mod:`grader.verdicts`, :mod:`grader.describe`); :mod:`grader.grade` does one submission,
:mod:`grader.folder` a folder of them (:mod:`grader.shards`, :mod:`grader.preflight`).
The command line and the tests import these names from here.
"""

from __future__ import annotations

from .folder import grade_folder
from .grade import Grader
from .lesson_index import Lesson, identify_lesson, load_lessons
from .limits import Limits
from .preflight import PreflightFailed, preflight
from .runner_process import MAX_EVENT_BYTES
from .session import Interrupted
from .shards import in_shard, parse_shard
from .structure import structure_problems
from .submission import Submission

__all__ = ["MAX_EVENT_BYTES", "Grader", "Interrupted", "Lesson", "Limits", "PreflightFailed",
           "Submission", "grade_folder", "identify_lesson", "in_shard", "load_lessons",
           "parse_shard", "preflight", "structure_problems"]
