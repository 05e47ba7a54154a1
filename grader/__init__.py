"""The course's grader: learner notebooks run in a sandbox, verdicts decided outside it.

    neural-ode-grade SUBMISSIONS [--out grading_results] [--jobs N] [--shard K/N]
    neural-ode-grade merge OUT SHARD_OUT [SHARD_OUT ...]
    neural-ode-grade release OUT
    make grade SUBMISSIONS=<folder>

The grader lives here, not in ``utils`` (the learners' library). One job per module:

- :mod:`grader.lessons`    reading lesson sources (shared with ``tools/build_notebooks.py``)
- :mod:`grader.execution`  running cells with nbclient (shared with the build)
- :mod:`grader.notebooks`  reading a submitted file defensively (any bytes, any name)
- :mod:`grader.plan`       which cells run, with the grader's steps around each answer
- :mod:`grader.sandbox`    the bubblewrap command line (what the sandbox sees)
- :mod:`grader.runner`     the in-sandbox runner (kernel, cells, cases; plain data out)
- :mod:`grader.kernel_side` the few lines the runner calls inside the learner's kernel
- :mod:`grader.verdicts`   expected values and verdicts, outside (``utils.exercises.judge``)
- :mod:`grader.grading`    one submission and a folder of them
- :mod:`grader.report`     grades.csv (incremental, atomic), feedback, logs, merge
- :mod:`grader.release`    the graded student release
- :mod:`grader.cli`        the command line

docs/instructors.md says what the sandbox protects and what it does not.
"""
