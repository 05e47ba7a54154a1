"""Graded exercises that answer at once, and never crash the notebook.

A lesson defines each exercise once, in ``utils/exercises/lessonNN.py``; its reference solution
lives apart, in ``utils/exercises/solutions/lessonNN.py`` (so a grading sandbox can leave the
solutions out)::

    euler_step = Exercise(
        id="ex01_euler_step", title="Exercise 1.1: one Euler step", points=2,
        reference="lesson01.euler_step",     # utils.exercises.solutions.lesson01.euler_step
        cases=_step_cases,                   # () -> list[Case]: the learner's check runs these
        hidden_cases=_hidden_step_cases,     # () -> list[Case]: only the grader runs these
        hints=("Euler follows the slope ...", "y_{n+1} = y_n + h f(t_n, y_n)"),
    )

and the notebook uses it in two cells: the learner's answer (an nbgrader solution cell), then
the check (a locked nbgrader grade cell), which also picks the function later cells use::

    euler_step = ex.euler_step.check()   # prints the verdict; returns the function to use

:meth:`Exercise.check` reads the learner's ``euler_step`` from the notebook itself (so an answer
cell that failed to run gets a sentence, not a ``NameError``) and prints one of three verdicts:
passed; not attempted yet (the stub still raises ``NotImplementedError``); or not yet right,
naming the failed case with expected vs. got. It never raises. A wrong or unfinished answer is
replaced by the reference, and the message says so, so later cells always run. Verdicts other than
"passed" go to stderr: nbgrader's autograde gives a grade cell zero points when it writes to
stderr, so the same cells grade under nbgrader.

The verdict itself comes from :mod:`.judge`, shared with the instructors' grader.
"""

from __future__ import annotations

import importlib
import inspect
import re
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import replace

from ..course import WITHHOLD_ENV, lesson_of_grade_id  # WITHHOLD_ENV: solution() withheld
from . import stored_expected
from .model import FROM_REFERENCE, UNDEFINED, Case, CheckResult, Status
from .running import expected_outcomes, run_case
from .seeding import seeded
from .verdict import judge
from .wire import Outcome

__all__ = ["Case", "CheckResult", "Exercise", "ReferenceWithheld", "Status"]

#: Course functions that would answer the solver exercises (a step, a grid of steps): the
#: exercises that ask for one withhold these while the learner's answer runs on their cases.
SOLVERS = ("utils.solvers.rk_step", "utils.solvers._axpy", "utils.solvers.odeint",
           "torchdiffeq.odeint", "torchdiffeq.odeint_adjoint")



#: Tolerances of a check against outcomes stored at build time (:mod:`.stored_expected`), at least.
STORED_RTOL, STORED_ATOL = 2e-4, 1e-6


class ReferenceWithheld(RuntimeError):
    """The reference solutions are not installed here (the grading sandbox)."""


class Exercise:
    """A graded exercise: its cases, its reference solution, a hint.

    Args:
        id: unique id, also the nbgrader ``grade_id`` of its check cell (``exNN_name``).
        title: shown in every verdict.
        points: points for a passing answer (all or nothing).
        reference: ``"lessonNN.function"`` in :mod:`utils.exercises.solutions`, loaded when first
            needed; the function later cells use while the learner's answer is not right yet.
        cases: returns the :class:`Case` list the learner's check runs (built with the random
            generators seeded, so building twice gives the same cases).
        hints: the hints in steps, without the answer's code: ``hint()`` prints the first (a
            nudge toward the idea), ``hint(2)`` the second (the structure, in words and maths);
            ``solution()`` is the code.
        hidden_cases: more cases the check cell runs too (as the grader does), reported by name
            and by the mistake they guard against, never by their inputs or expected values.
        result_names: the names of the results, for an answer that returns several
            (``("q_new", "p_new")``); messages say "q_new: ..." rather than "result 1 of 2".
        answer_name: the name of the learner's function in the notebook (default: the
            reference's name).
        withholds: the course functions that would answer the exercise (dotted names, e.g.
            ``"utils.solvers.rk_step"``): while the learner's answer runs on the cases (in the
            check cell, the self-check and the grader), each raises "Exercise 1.1 asks you to
            write this yourself"; the rest of the lesson uses them as usual.
    """

    def __init__(self, *, id: str, title: str, points: float, reference: str,
                 cases: Callable[[], Sequence[Case]], hints: Sequence[str],
                 hidden_cases: Callable[[], Sequence[Case]] | None = None,
                 answer_name: str = "", withholds: Sequence[str] = (),
                 result_names: Sequence[str] = ()):
        if not isinstance(reference, str) or "." not in reference:
            raise TypeError(f"reference must be 'lessonNN.function', got {reference!r}")
        if isinstance(hints, str) or len(hints) != 2:
            raise TypeError(f"{id}: hints must be (a nudge, the structure)")
        self.id, self.title, self.points = id, title, points
        self.reference_path = reference
        self.cases, self.hidden_cases = cases, hidden_cases
        self.hints = tuple(textwrap.dedent(h).strip() for h in hints)
        self.result_names = tuple(result_names)
        self.answer_name = answer_name or reference.rsplit(".", 1)[1]
        self.withholds = tuple(withholds)
        self._cache: dict = {}
        self.last_answer = UNDEFINED  # the learner's answer as the last check() read it

    def __repr__(self) -> str:
        return f"Exercise({self.id!r}, {self.title!r})"

    @property
    def reference(self):
        """The reference solution (raises :class:`ReferenceWithheld` where it isn't installed)."""
        module_name, function = self.reference_path.rsplit(".", 1)
        try:
            module = importlib.import_module(f"{__package__}.solutions.{module_name}")
        except ImportError as exc:
            raise ReferenceWithheld(
                f"the reference solution of {self.id} is not available here") from exc
        return getattr(module, function)

    # -- what the notebook calls ----------------------------------------------------------------

    def check(self, answer=UNDEFINED):
        """Print the verdict on the learner's answer; return it if it passed, else the reference.

        Without an argument, the answer is the learner's definition of ``answer_name`` in the
        calling notebook. Never raises: a wrong or unfinished answer gets a message, and later
        cells run on.
        """
        problem = ""
        if answer is UNDEFINED:
            namespace = sys._getframe(1).f_globals
            answer = namespace.get(self.answer_name, UNDEFINED)
            if not self._is_reference(answer):
                self.last_answer = answer  # what self_check judges, once the name is replaced
            problem = _answer_cell_problem(self.answer_name)
            if not problem and answer is not UNDEFINED and self._is_reference(answer):
                problem = (f"'{self.answer_name}' is still the course's reference, put in place "
                           "when your answer did not pass. Run your answer cell again (it must "
                           f"define `{self.answer_name}`), then this check.")
            _watch_answer_cells()
        unjudged = 0
        if problem:
            result = CheckResult(self.id, Status.WRONG, problem, 0.0, self.points)
        else:
            try:  # passed here = passed at grading (unless hidden cases are left to the grader)
                result, unjudged = self._evaluate(answer, hidden=True)
            except ReferenceWithheld as exc:
                print(f"[cannot check here] {self.title}: {exc}, and no expected outcomes are "
                      "stored in this copy of the course; rebuild it with `make student-dist` "
                      "or `make release`.", file=sys.stderr)
                return answer
        if result.passed:
            label = "[passed the visible cases]" if unjudged else "[passed]"
            print(f"{label} {self.title}: {result.message}")
            return answer
        label = ("[not attempted yet]" if result.status == Status.NOT_ATTEMPTED
                 else "[not yet right]")
        print(f"{label} {self.title}: {result.message}", file=sys.stderr)
        try:
            fallback = self.reference
        except ReferenceWithheld:
            print(f"  This copy of the course has no reference solution to stand in for "
                  f"'{self.answer_name}': the cells below use your function as it is, and may "
                  "fail until it passes.", file=sys.stderr)
            return answer
        print(f"  The cells below use the course's reference solution for '{self.answer_name}' "
              "until yours passes.", file=sys.stderr)
        return fallback

    def _is_reference(self, answer) -> bool:
        try:
            return answer is self.reference
        except ReferenceWithheld:
            return False

    def hint(self, level: int = 1) -> None:
        """Print a hint: ``hint()`` a nudge toward the idea, ``hint(2)`` the structure."""
        try:
            level = min(max(int(level), 1), len(self.hints))
        except (TypeError, ValueError):
            level = 1
        text = textwrap.fill(self.hints[level - 1], 92, break_long_words=False,
                             break_on_hyphens=False)
        more = (f"\n  More: ex.{_attribute_name(self)}.hint({level + 1})."
                if level < len(self.hints) else
                f"\n  Still stuck? ex.{_attribute_name(self)}.solution() shows a solution.")
        print(f"Hint for '{self.title}' ({level} of {len(self.hints)}):\n"
              f"{textwrap.indent(text, '  ')}{more}")

    def solution(self) -> None:
        """Print the reference solution's source code (withheld in the graded release)."""
        import os

        if os.environ.get(WITHHOLD_ENV):
            print(f"The solution of '{self.title}' is withheld in this graded release; "
                  f"ex.{_attribute_name(self)}.hint() still gives a hint.")
            return
        try:
            reference = self.reference
        except ReferenceWithheld as exc:
            print(f"{exc}.")
            return
        print(textwrap.dedent(inspect.getsource(reference)))

    # -- the verdict ----------------------------------------------------------------------------

    def case_list(self, *, hidden: bool = False) -> list[Case]:
        """The visible cases, then (if ``hidden``) the hidden ones, marked ``hidden=True``."""
        cases = list(self._cases("cases", self.cases))
        if hidden and self.hidden_cases is not None:
            cases += [_hidden(c) for c in self._cases("hidden", self.hidden_cases)]
        return cases

    def evaluate(self, answer, *, hidden: bool = False, withhold: bool = True) -> CheckResult:
        """Judge ``answer`` on the cases (and the hidden ones if ``hidden``); never raises.

        Cases run one at a time and stop at the first failure; expected outcomes of the
        reference are computed once per process. ``withhold=False`` leaves the course functions
        of :attr:`withholds` usable (the grader asks whether a library function answers).
        Where the references are not installed (``make student-dist``), the visible cases are
        judged against the outcomes stored when that copy was built (:mod:`.stored_expected`)
        and the hidden cases whose expected value needs the reference are left to the grader
        (:meth:`unjudged_hidden` counts them).
        """
        return self._evaluate(answer, hidden=hidden, withhold=withhold)[0]

    def unjudged_hidden(self) -> int:
        """How many hidden cases this copy of the course cannot judge: those whose expected
        value comes from the reference, where the references are not installed (0 otherwise)."""
        if self.hidden_cases is None or self._has_references():
            return 0
        return sum(1 for c in self.case_list(hidden=True)
                   if c.hidden and c.expected is FROM_REFERENCE)

    def _evaluate(self, answer, *, hidden: bool, withhold: bool = True
                  ) -> tuple[CheckResult, int]:
        cases = self.case_list(hidden=hidden)
        unjudged = 0
        if not self._has_references():
            # Judged against outcomes stored on the build machine: float32 digits of another
            # CPU differ (measured against this machine's AVX-512 build, under PyTorch's
            # portable kernels: up to 1.4e-5 relative in values, 4.1e-5 in a convolution's
            # gradients), so the tolerances get room; the grader keeps the case's own.
            cases = [replace(c, rtol=max(c.rtol, STORED_RTOL), atol=max(c.atol, STORED_ATOL))
                     for c in cases if not (c.hidden and c.expected is FROM_REFERENCE)]
            unjudged = self.unjudged_hidden() if hidden else 0
        if not withhold:
            cases = [replace(c, withheld=()) for c in cases]
        outcomes = (run_case(answer, case) for case in cases)
        expected = (self._expected(case) for case in cases)
        result = judge(self, cases, outcomes, expected)
        if unjudged and result.passed:
            result = replace(result, message=(
                f"{result.message.rstrip('.')}; {unjudged} hidden "
                f"case{'' if unjudged == 1 else 's'} will run when your work is graded (this copy "
                "of the course does not hold their expected values)."))
        return result, unjudged

    def _has_references(self) -> bool:
        try:
            return self.reference is not None
        except ReferenceWithheld:
            return False

    def _expected(self, case: Case) -> Outcome:
        key = ("expected", case.hidden, case.name)
        if key not in self._cache:
            try:
                self._cache[key] = expected_outcomes(self, [case])[0]
            except ReferenceWithheld:
                stored = None if case.hidden else stored_expected.load(self.id, case.name)
                if stored is None:
                    raise
                self._cache[key] = stored
        return self._cache[key]

    def _cases(self, key, make):
        if key not in self._cache:
            with seeded(0):  # the same cases every time, the lesson's random stream untouched
                built = tuple(make())
            names = [c.name for c in built]
            if len(set(names)) != len(names):
                raise ValueError(f"{self.id}: two {key} share a name: {names}")
            asked_by = self.title.split(":", 1)[0]
            self._cache[key] = tuple(
                replace(c, withheld=self.withholds, asked_by=asked_by,
                        result_names=c.result_names or self.result_names)
                for c in built)
        return self._cache[key]


def _hidden(case: Case) -> Case:
    from dataclasses import replace

    return replace(case, hidden=True)


def _attribute_name(exercise: Exercise) -> str:
    module = sys.modules.get(f"{__package__}.lesson{lesson_of_grade_id(exercise.id)}")
    for name, value in vars(module or object()).items():
        if value is exercise:
            return name
    return exercise.answer_name


_CELLS_DEFINING: dict[str, str] = {}  # name -> why the last cell defining it failed ('' if not)
_WATCHED: set[int] = set()
_DEFINES = re.compile(r"^\s*(?:def|class)\s+([A-Za-z_]\w*)", re.M)


def _cell_failure(result) -> str:
    """Why a cell run failed, in a sentence ('' if it ran)."""
    if result.error_before_exec is not None:
        error = result.error_before_exec
        where = f" on line {error.lineno}" if getattr(error, "lineno", None) else ""
        detail = getattr(error, "msg", None) or str(error)
        return f"your answer cell did not run: {type(error).__name__}{where} ({detail})"
    if result.error_in_exec is not None:
        from .errors import explain_error as _explain

        return f"your answer cell stopped with an error: {_explain(result.error_in_exec)}"
    return ""


def _record_cell(result) -> None:
    raw = getattr(result.info, "raw_cell", "") or ""
    for name in _DEFINES.findall(raw):
        _CELLS_DEFINING[name] = _cell_failure(result)


def _watch_answer_cells() -> None:
    """Remember, for every function a cell defines, whether that cell last ran cleanly.

    Registered on the first check of a notebook (never at import): from then on a check knows
    that the cell defining its answer failed even when other cells ran in between.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or id(shell) in _WATCHED:
        return
    shell.events.register("post_run_cell", _record_cell)
    _WATCHED.add(id(shell))


def _answer_cell_problem(answer_name: str) -> str:
    """Why the learner's answer cell did not run, if the cell that last defined it failed.

    The cell run just before this check is looked at first (IPython's
    ``last_execution_result`` is the previous cell's while this one runs); after the first
    check, every cell's outcome is also recorded by :func:`_watch_answer_cells`.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return ""
    shell = get_ipython()
    last = getattr(shell, "last_execution_result", None)
    failure = ""
    if last is not None and last.info is not None and last.info.raw_cell and re.search(
            rf"^\s*(def|class)\s+{re.escape(answer_name)}\b", last.info.raw_cell, re.M):
        failure = _cell_failure(last)
    elif id(shell) in _WATCHED:
        failure = _CELLS_DEFINING.get(answer_name, "")
    if failure:
        return f"{failure}. Fix it and run it again, then this check."
    return ""
