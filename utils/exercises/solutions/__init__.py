"""The reference solutions of the graded exercises, one module per lesson.

``ex.<name>.solution()`` prints them; a check cell falls back to them while the learner's answer
is not right yet, so later cells always run. They live apart from the exercises' cases
(``utils/exercises/lessonNN.py``) so that the grader's sandbox can run learner code without them.
"""
