"""`course check` at JupyterLab's terminal, answered by Lab's warm interpreter
(course/learner/forwarding.py): the same output and exit status as a check run in its own
process, Ctrl-C as at home, and the command run here whenever the helper cannot take it.

The test run's shared helper (COURSE_WARM_PYTHON_SOCKET, conftest.py) stands for Lab's.
"""

import io
import json
import os
import re
import shutil
import signal
import sys
from pathlib import Path

import pytest
from helpers import Terminal, stuck_learner_file, wait_until

from course import settings
from course.learner import exercises, forwarding
from course.runtime import reaper, warm_python

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm interpreter forks")


def test_the_socket_is_read_under_the_setting_s_own_name():
    assert forwarding.SOCKET_VARIABLE == settings.variable(settings.CourseSettings, "warm_python_socket")
    assert forwarding.COLD_VARIABLE == settings.variable(settings.CourseSettings, "cold_python")


@pytest.mark.parametrize("value, forwarded", [
    ("1", False), ("true", False), ("YES", False), ("maybe", False), (" 0", False),  # not a boolean: said here
    ("0", True), ("false", True), ("", True),
])
def test_cold_python_typed_in_lab_s_terminal_runs_the_check_here(value, forwarded, monkeypatch):
    """As the setting reads it: a value pydantic takes for False forwards, any other does not."""
    monkeypatch.setattr(forwarding, "at_a_terminal", lambda: True)
    monkeypatch.setenv(forwarding.COLD_VARIABLE, value)
    parsed = None
    try:
        parsed = settings.CourseSettings().cold_python
    except Exception:  # noqa: BLE001 - pydantic's error: not a boolean
        pass
    assert (parsed is False) == forwarded
    assert (forwarding.helper_for(["check"]) is not None) == forwarded


@pytest.fixture
def learner(tmp_path) -> dict:
    """The environment of a learner whose files and progress are in tmp_path."""
    return {**os.environ, "COURSE_LEARNER_DIR": str(tmp_path / "work"),
            "COURSE_PROGRESS_FILE": str(tmp_path / "progress.json")}


def _with_solution(tmp_path: Path, exercise_id: str) -> None:
    exercise = exercises.get(exercise_id)
    for file in exercise.files:
        target = tmp_path / "work" / exercise_id / file.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file.solution, target)


@pytest.mark.parametrize("argv, solved", [
    (["check", "wire-env"], False),  # the starter: not yet
    (["check", "merge-heads"], True),  # the reference solution: passed
    (["--lang", "zh", "check", "add-email"], False),  # in Chinese
], ids=["not-yet", "passed", "zh"])
def test_a_check_at_a_terminal_prints_what_it_prints_in_its_own_process(argv, solved, learner, tmp_path):
    """Colours, line ends, the learner's paths, the exit status: byte for byte the same."""
    if solved:
        _with_solution(tmp_path, argv[-1])
    answered = Terminal(argv, learner, tmp_path).finish()
    own = {key: value for key, value in learner.items() if key != forwarding.SOCKET_VARIABLE}
    alone = Terminal(argv, own, tmp_path).finish()
    took = re.compile(r"\(\d+(\.\d+)? s\)")  # how long the check took: "(0.3 s)"
    assert (answered[0], took.sub("(? s)", answered[1])) == (alone[0], took.sub("(? s)", alone[1]))
    assert answered[0] == (0 if solved else 1)
    assert "\x1b[" in answered[1]  # coloured: the command knew it writes to a terminal


def test_the_helper_runs_the_command_and_streams_its_output(learner, tmp_path, monkeypatch):
    for key, value in learner.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.chdir(tmp_path)
    output = io.StringIO()
    status = forwarding.forward(["check", "wire-env"], "course", os.environ[forwarding.SOCKET_VARIABLE], output)
    assert status == 1
    assert output.getvalue().startswith("wire-env: not yet\n")
    assert "Your file: work/wire-env/env.py" in output.getvalue()  # the terminal's directory


def test_a_helper_of_another_environment_refuses_and_nothing_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "another-venv"))
    output = io.StringIO()
    assert forwarding.forward(["check", "wire-env"], "course", os.environ[forwarding.SOCKET_VARIABLE], output) is None
    assert output.getvalue() == ""


@pytest.mark.parametrize("argv, terminal, forwarded", [
    (["check"], True, True),
    (["check", "add-email"], True, True),
    (["--lang", "zh", "check"], True, True),
    (["list"], True, False),  # other commands run here
    (["quiz", "1"], True, False),
    (["check", "add-email"], False, False),  # output redirected: run here
])
def test_what_is_forwarded(argv, terminal, forwarded, monkeypatch):
    monkeypatch.setattr(forwarding, "at_a_terminal", lambda: terminal)
    expected = os.environ[forwarding.SOCKET_VARIABLE] if forwarded else None
    assert forwarding.helper_for(argv) == expected


def test_without_a_listening_helper_the_command_runs_here(tmp_path, monkeypatch, learner):
    monkeypatch.setattr(forwarding, "at_a_terminal", lambda: True)
    monkeypatch.setenv(forwarding.SOCKET_VARIABLE, str(tmp_path / "gone.sock"))
    assert forwarding.helper_for(["check"]) is None  # no such socket (Lab stopped)
    (tmp_path / "stale.sock").touch()  # a file nobody listens on
    assert forwarding.forward(["check"], "course", str(tmp_path / "stale.sock")) is None
    env = {**learner, forwarding.SOCKET_VARIABLE: str(tmp_path / "gone.sock")}
    status, output = Terminal(["check", "wire-env"], env, tmp_path).finish()
    assert status == 1 and output.startswith("wire-env: ")


def _checked_by_the_helper(pid: int) -> bool:
    """Whether the `course` process `pid` left its check to the helper: it never loaded the
    libraries a check needs (pydantic's compiled core is one), which a check run in it would."""
    maps = Path(f"/proc/{pid}/maps")
    if not maps.exists():
        pytest.skip("needs /proc to see what a process loaded")
    return "pydantic_core" not in maps.read_text()


@pytest.mark.parametrize("signum, status, said", [
    (signal.SIGINT, 130, "Interrupted."),  # Ctrl-C: passed on, the check says so
    (signal.SIGHUP, 128 + signal.SIGHUP, ""),  # the terminal closed: the check stops as at home
], ids=["ctrl-c", "terminal-closed"])
def test_a_forwarded_check_stops_as_one_at_home(tmp_path, learner, signum, status, said):
    """The signal reaches the terminal's foreground job, `course`; the check stops, removes its
    throwaway copy, and the learner's endless loop is killed."""
    started = stuck_learner_file(tmp_path)
    terminal = Terminal(["check", "add-email"], {**learner, "NO_COLOR": "1"}, tmp_path)
    try:
        wait_until(lambda: started.exists() or terminal.process.poll() is not None, "the learner's code to start")
        assert started.exists(), terminal.finish()
        report = json.loads(started.read_text())
        assert _checked_by_the_helper(terminal.process.pid)
        os.killpg(terminal.process.pid, signum)
        ended, output = terminal.finish()
    finally:
        if terminal.process.poll() is None:
            os.killpg(terminal.process.pid, signal.SIGKILL)
    assert ended == status and "Traceback" not in output
    assert output.strip().endswith(said)
    wait_until(lambda: not Path(report["cwd"]).exists(), "the check to remove its throwaway copy")
    wait_until(lambda: not reaper.alive(report["pid"]), "the learner's endless loop to be killed")


def test_lab_starts_one_helper_for_kernels_and_terminals(monkeypatch):
    from course.learner import lab

    monkeypatch.delenv(warm_python.SOCKET_SETTING, raising=False)
    helper = lab.start_warm_python()
    try:
        warm_python.ready(helper)
        path = os.environ[warm_python.SOCKET_SETTING]
        assert path == helper.args[-1] and os.path.exists(path)  # no --kernels: Lab forks no kernels
    finally:
        helper.stdin.close()  # as when Lab ends: the helper tidies up and goes
        helper.wait(timeout=60)
        helper.stdout.close()
    wait_until(lambda: not os.path.exists(os.path.dirname(path)), "the helper's folder to be removed")
