"""`python -m course ...`: the same as the `course` command."""

from course import command

command(prog="python -m course")
