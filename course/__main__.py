"""`python -m course ...`: the same as the `course` command."""

import sys

from course import main

sys.exit(main(prog="python -m course"))
