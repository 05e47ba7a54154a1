"""The words for what happened: notebook statuses from the runner's steps, and each exercise's row.

Plain functions of a :class:`~grader.submission.Submission`, the :class:`~grader.limits.Limits`
and the events the runner sent (already checked by :mod:`grader.session`); nothing here runs
anything.
"""

from __future__ import annotations

from utils.course import answer_id

from .limits import Limits
from .submission import Submission, sentence
from .verdicts import OUT_OF_MEMORY

__all__ = ["exercise_status", "run_end", "step_report"]


def step_report(sub: Submission, limits: Limits, step, event: dict) -> None:
    """Log one step's report, and add the notebook statuses it shows (an error, a timeout)."""
    status = str(event.get("status"))
    where = f"cell {step.cell + 1}" if step.cell >= 0 else "the grader's setup"
    if step.kind == "cell" and step.cell in sub.own_cells:
        where = f"your own cell {step.cell + 1}"
    label = step.kind if step.kind == "cell" else f"grader's {step.kind}"
    sub.log.append(f"--- {label} ({where}): {status} in {event.get('seconds')} s")
    output = str(event.get("output") or "")
    if output:
        sub.log.append(output.rstrip("\n"))
    ename, evalue = str(event.get("ename", "")), str(event.get("evalue", ""))
    if step.kind == "record" and status in ("timeout", "unresponsive", "total_timeout"):
        sub.add_status("cell_timeout", f"The cases of {step.exercise} ran longer than "
                       f"{limits.cell_timeout:g} s (an endless loop?) and were stopped.")
    if step.kind != "cell":
        return
    if status == "error":
        if ename == "SystemExit":
            sub.add_status("exited", f"{sentence(where)} called sys.exit(); the grader "
                           "kept going with the next cell.")
        elif ename == "MemoryError" or OUT_OF_MEMORY.search(evalue):
            sub.add_status("out_of_memory", f"{sentence(where)} ran out of memory (the "
                           f"limit is {limits.memory_bytes / 2**30:g} GiB).")
        else:
            sub.add_status("error", f"{sentence(where)} raised {ename}: {evalue[:300]}")
    elif status in ("timeout", "unresponsive"):
        sub.add_status("cell_timeout", f"{sentence(where)} ran longer than "
                       f"{limits.cell_timeout:g} s and was stopped.")
    elif status == "total_timeout":
        sub.add_status("total_timeout", f"{sentence(where)} was running when the notebook "
                       f"reached the total time limit of {limits.total_timeout:g} s.")


def run_end(sub: Submission, limits: Limits, last_step, event: dict, *, oom: bool = False) -> None:
    """The runner's last event: output dropped, and why the last step ended the run, if it did.

    ``oom``: the sandbox's control group counted an out-of-memory kill. When the last step died of
    memory (that, or the kernel's last words say so), its event is marked ``died_of_memory`` for
    :func:`exercise_status` (the step is an exercise's ``record``: its row says out_of_memory).
    """
    dropped = event.get("output_dropped") or 0
    if isinstance(dropped, (int, float)) and dropped > 0:
        sub.add_status("output_capped", f"The notebook printed more than "
                       f"{limits.output_bytes / 1024:g} kB; {dropped / 1024:.0f} kB more "
                       "were dropped.")
    if last_step is None:
        return
    step, info = last_step
    where = f"cell {step.cell + 1}" if step.cell >= 0 else "the grader's setup"
    status = info.get("status")
    if status == "unresponsive":
        sub.add_status("kernel_unresponsive", f"{sentence(where)} reached its time limit and "
                       "did not stop when interrupted, so the kernel was stopped; the cells "
                       "after it were not run.")
    elif status == "total_timeout":
        sub.add_status("total_timeout", "The notebook reached the total time limit of "
                       f"{limits.total_timeout:g} s; the cells after that were not run.")
    elif status == "died":
        code = event.get("exit_code")
        tail = str(event.get("stderr_tail") or "")
        if isinstance(code, int) and code >= 0:
            sub.add_status("exited", f"The Python process exited (code {code}) during "
                           f"{where}, e.g. through os._exit() or quit(); the cells after it "
                           "were not run.")
        elif oom or OUT_OF_MEMORY.search(tail):
            info["died_of_memory"] = True
            sub.add_status("out_of_memory", f"The Python process ran out of memory during "
                           f"{where}; the cells after it were not run.")
        else:
            signal_text = f" (signal {-code})" if isinstance(code, int) else ""
            sub.add_status("kernel_died", f"The Python process died{signal_text} during "
                           f"{where}; the cells after it were not run. Its last words: "
                           + (tail.strip()[-300:] or "none"))


def exercise_status(ex, answer_cell, results, runs, limits: Limits) -> tuple[str, str]:
    """(status, message) of one exercise's row, from its answer cell, its runs and its verdict."""
    if answer_cell is None:
        return "missing", (f"the answer cell (grade_id '{answer_id(ex.id)}') is not in the "
                           "notebook.")
    mine = runs.get(ex.id, {})
    record = mine.get("record")
    if record is None:
        return "not_run", ("the notebook stopped before this exercise's answer was graded "
                           "(see 'About the notebook as a whole').")
    status = record.get("status")
    if status in ("timeout", "unresponsive", "total_timeout"):
        return "timeout", (f"running the cases took longer than {limits.cell_timeout:g}"
                           " s (an endless loop, or a function that ignores the interrupt?).")
    if status == "died" and record.get("died_of_memory"):  # marked by run_end
        return "out_of_memory", ("the kernel ran out of memory while your function ran (the "
                                 f"limit is {limits.memory_bytes / 2**30:g} GiB).")
    if status == "died":
        return "crashed", "the kernel stopped while your function ran."
    prefix = ""
    answer_run = mine.get("cell")
    if answer_run is not None and answer_run.get("status") == "error":
        prefix = (f"your answer cell raised {answer_run.get('ename')}: "
                  f"{str(answer_run.get('evalue'))[:200]}; graded what it defined: ")
    if ex.id not in results:
        return "not_graded", "the grader received no results for this exercise."
    status, message = results[ex.id]
    if status == "not_attempted" and "not defined" in message:
        return "missing", prefix + f"your answer cell did not define '{ex.answer_name}'."
    return status, prefix + message

