"""Small helpers shared by test modules (fixtures live in conftest.py)."""

import os
import subprocess
import sys
from pathlib import Path


# -- a throwaway copy of the course ---------------------------------------------------------------
def copy_course(target: Path) -> Path:
    """The course's table of contents and the files it lists (syllabus.toml, README.md,
    chapters/, notebooks/) copied to `target`, for a test that edits them. Point
    course.syllabus.ROOT at it (monkeypatch) to have every list and number read the copy."""
    import shutil

    from course import REPO, syllabus

    target.mkdir(parents=True, exist_ok=True)
    for name in (syllabus.FILE, "README.md"):
        shutil.copyfile(REPO / name, target / name)
    for folder in (syllabus.CHAPTERS, syllabus.NOTEBOOKS):
        shutil.copytree(REPO / folder, target / folder, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    return target


# -- a `course check` stuck in the learner's code ---------------------------------------------
def close_client(client) -> None:
    """Stop a kernel client's channels and close the zmq context it made. Left to the garbage
    collector, the context can be finalized before the client that would close it, and the
    warning then fails whichever test is running (seen once)."""
    client.stop_channels()
    client.context.destroy(linger=0)


def wait_until(condition, what: str, limit: float = 60.0) -> None:
    """Wait for an event, polling; fail only after a generous limit (nothing is timed)."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {limit:g} s for {what}")
        time.sleep(0.1)


class Terminal:
    """`python -m course *argv` with stdin, stdout and stderr on a pseudo-terminal, in a
    session of its own (as a terminal's foreground job): what it writes is collected as it comes."""

    def __init__(self, argv: list[str], env: dict, cwd: Path):
        import pty
        import threading

        master, slave = pty.openpty()
        self.process = subprocess.Popen([sys.executable, "-m", "course", *argv], stdin=slave, stdout=slave,
                                        stderr=slave, env=env, cwd=cwd, start_new_session=True)
        os.close(slave)
        self.chunks: list[bytes] = []

        def drain():
            while True:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the terminal's other side is closed: the process ended
                    break
                if not chunk:
                    break
                self.chunks.append(chunk)
            os.close(master)

        self.reader = threading.Thread(target=drain, daemon=True)
        self.reader.start()

    def finish(self, timeout: float = 120) -> tuple[int, str]:
        """(exit status, everything written, with the terminal's \r\n line ends as \n)."""
        status = self.process.wait(timeout=timeout)
        self.reader.join(timeout)
        return status, b"".join(self.chunks).decode("utf-8").replace("\r\n", "\n")


def stuck_learner_file(tmp_path: Path) -> Path:
    """add-email's learner file, whose revision reports where it runs (in the returned file:
    cwd, the throwaway copy; pid and its parent's; url), then loops for ever."""
    from course.learner import exercises

    exercise = exercises.get("add-email")
    learner = tmp_path / "work" / "add-email" / exercise.files[0].name
    learner.parent.mkdir(parents=True)
    started = tmp_path / "started.json"
    learner.write_text(exercise.files[0].starter.read_text(encoding="utf-8").replace(
        "def upgrade() -> None:\n",
        "def upgrade() -> None:\n    import json, os\n"
        f"    report = {{'cwd': os.getcwd(), 'pid': os.getpid(), 'parent': os.getppid(), 'url': os.environ['DATABASE_URL']}}\n"
        f"    open({str(started) + '.part'!r}, 'w').write(json.dumps(report))\n"
        f"    os.replace({str(started) + '.part'!r}, {str(started)!r})\n"
        "    while True:\n        pass\n",
    ), encoding="utf-8")
    return started


def stuck_check(tmp_path: Path, **env: str) -> tuple[subprocess.Popen, dict]:
    """Start `python -m course check add-email` (in a session of its own, as a terminal's
    foreground job is) whose learner revision reports where it runs, then loops for ever.
    Returns the process and what the revision reported: cwd (the throwaway copy), pid, url."""
    import json

    started = stuck_learner_file(tmp_path)
    environment = {**os.environ, "COURSE_LEARNER_DIR": str(tmp_path / "work"), "NO_COLOR": "1",
                   "COURSE_PROGRESS_FILE": str(tmp_path / "progress.json"), **env}
    check = subprocess.Popen([sys.executable, "-m", "course", "check", "add-email"], env=environment, cwd=tmp_path,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    wait_until(lambda: started.exists() or check.poll() is not None, "the learner's code to start")
    assert started.exists(), check.communicate(timeout=60)
    return check, json.loads(started.read_text())
