"""``python -m grader``: the same as ``neural-ode-grade``."""

import sys

from .cli import main

sys.exit(main())
