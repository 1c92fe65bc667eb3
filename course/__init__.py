"""Helpers shared by the notebooks, the exercise checkers and the tests of the course."""

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT = REPO / "sample_project"
