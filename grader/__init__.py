"""The course's grader: learner notebooks run in a sandbox, verdicts decided outside it.

    neural-ode-grade SUBMISSIONS [--out grading_results] [--jobs N] [--shard K/N]
    neural-ode-grade merge OUT SHARD_OUT [SHARD_OUT ...]
    neural-ode-grade release OUT
    make grade SUBMISSIONS=<folder>

The grader lives here, not in ``utils`` (the learners' library); the course's conventions
(kernel, lesson files, exercise ids, the release variable) come from :mod:`utils.course`.
One job per module, in layers: a module imports only modules of the layers below its own
(``tests/test_conventions.py`` checks the import graph against this list).

1. Plain parts, importing no other module of the grader:

   - :mod:`grader.limits`      the limits one submission runs under; a kernel's start time
   - :mod:`grader.submission`  one submission's record (rows, statuses, notes, log)
   - :mod:`grader.notebooks`   reading a submitted file defensively (any bytes, any name)
   - :mod:`grader.lessons`     reading lesson sources (shared with ``tools/build_notebooks.py``)
   - :mod:`grader.execution`   running cells with nbclient (shared with the build)
   - :mod:`grader.deps`        which cells define what the answers use
   - :mod:`grader.sandbox`     the bubblewrap command line (what the sandbox sees)
   - :mod:`grader.cgroups`     whole-sandbox limits (control groups)
   - :mod:`grader.twins`       library functions that would answer an exercise, withheld
   - :mod:`grader.verdicts`    expected values and verdicts, outside (``utils.exercises.judge``)
   - :mod:`grader.kernel_side` the few lines the runner calls inside the learner's kernel

2. Built on those:

   - :mod:`grader.lesson_index` what the grader knows of each lesson; which lesson a notebook is
   - :mod:`grader.plan`        which cells run, with the grader's steps around each answer
   - :mod:`grader.runner`      the in-sandbox runner (kernel, cells, cases; plain data out)
   - :mod:`grader.report`      grades.csv (incremental, atomic), feedback, logs, merge

3. :mod:`grader.structure`     graded cells deleted, reordered, duplicated or edited;
   :mod:`grader.describe`      the words for what happened (notebook statuses, exercise rows);
   :mod:`grader.runner_process` the runner process seen from outside (pipes, tripwire, /proc);
   :mod:`grader.shards`        which submissions one of N graders grades;
   :mod:`grader.gradebook`     the class's grades over assignments

4. :mod:`grader.session`       one run's events, in the plan's order, with deadlines
5. :mod:`grader.grade`         the Grader: one submission, start to rows
6. :mod:`grader.preflight`     a known-good notebook through the real path before grading
7. :mod:`grader.folder`        a folder of submissions, in threads, rows kept on Ctrl-C
8. :mod:`grader.grading`       grading's public names in one place (no code of its own);
   :mod:`grader.release`       the graded student release;
   :mod:`grader.class_report`  the instructor's report on a class
9. :mod:`grader.cli`           the command line (``__main__`` runs it);
   :mod:`grader.bench`         the grader's throughput measured

docs/instructors.md says what the sandbox protects and what it does not.
"""

#: The layers above, as data: {module: layer}. A module may import only lower layers.
LAYERS = {
    "limits": 1, "submission": 1, "notebooks": 1, "lessons": 1, "execution": 1, "deps": 1,
    "sandbox": 1, "cgroups": 1, "twins": 1, "verdicts": 1, "kernel_side": 1,
    "lesson_index": 2, "plan": 2, "runner": 2, "report": 2,
    "structure": 3, "describe": 3, "runner_process": 3, "shards": 3, "gradebook": 3,
    "session": 4, "grade": 5, "preflight": 6, "folder": 7,
    "grading": 8, "release": 8, "class_report": 8,
    "cli": 9, "bench": 9, "__main__": 10,
}
