"""The warm interpreter prints what a new `python` process prints, with the same exit status."""

import os

import pytest

from course.runtime import warm_python

COMMANDS = [
    ["-m", "alembic", "upgrade", "head"],
    ["-m", "alembic", "upgrade", "0003"],  # no such revision: FAILED, exit 255
    ["-c", "import sys; print(sys.argv, flush=True); print('to stderr', file=sys.stderr); raise SystemExit(3)"],
    ["-c", "import app.main"],  # with a bad DATABASE_URL below: one line, exit 1
]


@pytest.fixture
def project(make_project, tmp_path):
    with make_project(f"sqlite:///{tmp_path / 'unused.db'}", "0002", tmp_path) as ws:
        yield ws


def _outcomes(runner, project, database: str) -> list[tuple[int, str]]:
    """Every command in turn, as `runner` runs it, on a database of its own."""
    env = {**os.environ, "DATABASE_URL": database, "PYTHONDONTWRITEBYTECODE": "1"}
    outcomes = []
    for argv in COMMANDS:
        if argv[-1] == "import app.main":
            env = {**env, "DATABASE_URL": "not a url"}
        outcomes.append(runner(argv, project.path, env))
    return outcomes


@pytest.mark.long
def test_warm_and_cold_runs_agree(project, tmp_path):
    warm = _outcomes(warm_python.run, project, f"sqlite:///{tmp_path / 'warm.db'}")
    cold = _outcomes(warm_python.cold, project, f"sqlite:///{tmp_path / 'cold.db'}")
    for argv, warm_outcome, cold_outcome in zip(COMMANDS, warm, cold):
        assert warm_outcome == cold_outcome, argv
    assert [status for status, _ in warm] == [0, 255, 3, 1]


def test_an_uncaught_exception_exits_1_with_its_message(project):
    argv = ["-c", "raise RuntimeError('boom')"]
    status, output = warm_python.run(argv, project.path, dict(os.environ))
    assert status == 1
    assert output.splitlines()[-1] == "RuntimeError: boom"
    cold_status, cold_output = warm_python.cold(argv, project.path, dict(os.environ))
    assert (cold_status, cold_output.splitlines()[-1]) == (status, output.splitlines()[-1])
