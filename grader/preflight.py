"""The preflight: before grading anyone, one known-good notebook through the real runner path."""

from __future__ import annotations

import subprocess
from typing import TYPE_CHECKING

from .lesson_index import Lesson
from .plan import Step
from .submission import Submission

if TYPE_CHECKING:
    from .grade import Grader

__all__ = ["PreflightFailed", "preflight"]


class PreflightFailed(RuntimeError):
    """The grader's own run of a known-good notebook failed: grading would blame students."""


def preflight(grader: Grader) -> str:
    """Run the real runner path (sandbox, runner, kernel, a case run, a settle) on a known-good
    notebook: the reference of one exercise as its answer. Returns what ran; raises
    :class:`PreflightFailed` naming the cause when it did not pass."""
    found = next(((lesson, ex, parts) for lesson in grader.lessons for ex in lesson.exercises
                  if ex.id in grader.expected and (parts := grader.references.get(ex.id))), None)
    if found is None:
        return "no exercise to run"
    lesson, ex, (source, _) = found
    common = {"cell": 0, "exercise": ex.id, "answer_name": ex.answer_name}
    steps = [Step("forget", **common), Step("cell", source, **common), Step("record", **common),
             Step("settle", **common)]
    sub = Submission("(preflight)", "preflight", sandboxed=grader.use_sandbox)
    fake = Lesson(lesson.name, [], [ex], {})
    try:
        results, _ = grader.run_steps(sub, fake, steps)
    except (OSError, subprocess.SubprocessError) as exc:
        raise PreflightFailed(f"the sandbox could not be started: {exc}") from None
    verdict = results.get(ex.id, ("no result", ""))
    if verdict[0] == "passed" and not sub.notebook_status:
        return f"{ex.id} passed in a {'sandboxed ' if grader.use_sandbox else ''}runner"
    causes = [f"{status}: {' '.join(sub.notes.get(status, []))}" for status in
              sub.notebook_status] or [f"the known-good answer came out {verdict[0]}: {verdict[1]}"]
    tail = "\n".join(sub.log)[-1500:]
    raise PreflightFailed(
        "the grader's own check failed before grading anyone: a known-good notebook (the "
        f"reference of {ex.id}) did not pass in the {'sandbox' if grader.use_sandbox else 'runner'}"
        f". Cause: {'; '.join(causes)[:1500]}" + (f"\nIts log:\n{tail}" if tail.strip() else "")
        + "\nNothing was graded. (A course environment that cannot import itself inside the "
        "sandbox, e.g. after 'pip install -e' of another checkout into the same environment, "
        "does this: use one environment per checkout.)")
