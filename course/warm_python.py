"""Run `python ...` command lines in a pre-warmed interpreter: same output, a third of the time.

A notebook shows Alembic's command line as a reader types it, so each `alembic ...` cell is a
real process run by the kernel's own interpreter, with its exit status checked. Most of such a
process's ~0.6 s is importing SQLAlchemy and Alembic. This module keeps one helper process per
kernel that has imported those libraries once; for each command it forks a child, which sets
the command's directory, environment and argv, runs it as `python` would (`-m module` or
`-c code`), and exits with its status. Nothing of the project (`app`) is imported before the
fork, so each command reads the project's files as they are at that moment.

Where fork does not exist (Windows), or COURSE_COLD_PYTHON=1 is set, commands run as plain
subprocesses. tests/test_warm_python.py checks that both ways print the same thing.
"""

import io
import json
import os
import subprocess
import sys
import threading

PRELOAD = (
    "alembic.config", "alembic.command", "alembic.autogenerate", "alembic.runtime.migration",
    "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects.sqlite", "pydantic", "pydantic_settings",
    "logging.config",
)


def cold(argv: list[str], cwd, env: dict) -> tuple[int, str]:
    """Run `python *argv` as a new process: (exit status, stdout and stderr interleaved)."""
    result = subprocess.run(
        [sys.executable, *argv], cwd=cwd, env={**env, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return result.returncode, result.stdout


class _Server:
    """The parent's handle on the warm helper process."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course.warm_python"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self.lock = threading.Lock()

    def run(self, argv: list[str], cwd, env: dict) -> tuple[int, str]:
        with self.lock:
            self.process.stdin.write(json.dumps({"argv": argv, "cwd": str(cwd), "env": env}) + "\n")
            self.process.stdin.flush()
            reply = json.loads(self.process.stdout.readline())
        return reply["status"], reply["output"]


_server: _Server | None = None


def run(argv: list[str], cwd, env: dict) -> tuple[int, str]:
    """Run `python *argv` in `cwd` with exactly `env`: (exit status, combined output)."""
    global _server
    if not hasattr(os, "fork") or os.environ.get("COURSE_COLD_PYTHON") == "1":
        return cold(argv, cwd, env)
    if _server is None or _server.process.poll() is not None:
        _server = _Server()
    return _server.run(argv, cwd, env)


# -- the helper process ------------------------------------------------------------------------
def _child(argv: list[str], cwd: str, env: dict, output_fd: int) -> None:
    """In the forked child: become `python *argv` and never return."""
    import runpy
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    status = 0
    try:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        # Unbuffered, like PYTHONUNBUFFERED=1: stdout and stderr interleave as on a terminal.
        sys.stdout, sys.stderr = (
            io.TextIOWrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True)
            for fd in (1, 2)
        )
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            sys.path[0] = cwd
            runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        elif argv[0] == "-c":
            sys.argv = ["-c", *argv[2:]]
            sys.path[0] = ""
            exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
        else:
            raise ValueError(f"warm_python runs `-m module` or `-c code`, not {argv[0]!r}")
    except SystemExit as exc:
        code = exc.code
        if code is not None and not isinstance(code, int):
            print(code, file=sys.stderr)
            code = 1
        status = code or 0
    except BaseException:  # what python itself does with an uncaught exception
        import traceback

        traceback.print_exc()
        status = 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def _serve() -> None:
    import importlib
    import signal

    # The kernel's process group gets SIGINT on an interrupt or at shutdown: the helper
    # should just end when its input closes, and each child restores Python's usual handler.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    for name in PRELOAD:
        importlib.import_module(name)
    for line in sys.stdin:
        request = json.loads(line)
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(request["argv"], request["cwd"], request["env"], write_fd)
        os.close(write_fd)
        with os.fdopen(read_fd, "rb") as pipe:
            output = pipe.read().decode("utf-8", errors="backslashreplace")
        _, wait_status = os.waitpid(pid, 0)
        status = os.waitstatus_to_exitcode(wait_status)
        sys.stdout.write(json.dumps({"status": status, "output": output}) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    _serve()
