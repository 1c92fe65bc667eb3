"""Run `python ...` command lines in a pre-warmed interpreter: same output, a third of the time.

A notebook shows Alembic's command line as a reader types it, so each `alembic ...` cell is a
real process run by the kernel's own interpreter, with its exit status checked. Most of such a
process's ~0.6 s is importing SQLAlchemy and Alembic. This module keeps a helper process that
has imported those libraries once (one per kernel, or one for a whole test run, listening on a
Unix socket); for each command it forks a child, which sets
the command's directory, environment and argv, runs it as `python` would (`-m module` or
`-c code`), and exits with its status. Nothing of the project (`app`) is imported before the
fork, so each command reads the project's files as they are at that moment.

Where fork does not exist (Windows), or COURSE_COLD_PYTHON=1 is set, commands run as plain
subprocesses. tests/test_warm_python.py checks that both ways print the same thing.
"""

import io
import json
import os
import shutil
import socket
import subprocess
import sys

from course import settings
from course.runtime import reaper

# Imported before the helper says it is ready: what every Alembic command and check step needs.
PRELOAD = (
    "alembic.config", "alembic.command", "alembic.autogenerate", "alembic.runtime.migration",
    "sqlalchemy", "sqlalchemy.orm", "sqlalchemy.dialects.sqlite",
    "pydantic", "pydantic_settings",
    "logging.config",
    # the course's own modules that each check step imports (not course.learner.learner_code
    # itself: runpy warns when the module it runs is imported already)
    "course.runtime.workspace", "course.learner.checks",
)
# Imported after it is ready, one module at a time while no command runs: a command that
# comes first imports what it needs itself. The servers' drivers and dialects (psycopg
# alone takes ~170 ms to import, in every step) and what checks need to start the app
# (course/learner/learner_code.py). A one-off `course check` on SQLite so starts its first
# step ~0.4 s sooner; a notebook or a test run has them all loaded by its second command.
PRELOAD_LATER = (
    "sqlalchemy.dialects.mysql.pymysql", "pymysql", "encodings.idna",
    "sqlalchemy.dialects.postgresql.psycopg", "psycopg",
    "fastapi", "fastapi.testclient", "pwdlib", "email_validator",
)


def cold(argv: list[str], cwd, env: dict) -> tuple[int, str]:
    """Run `python *argv` as a new process: (exit status, stdout and stderr interleaved)."""
    result = subprocess.run(
        [sys.executable, *argv], cwd=cwd, env={**env, "PYTHONUNBUFFERED": "1"}, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    return result.returncode, result.stdout


# A test run starts one helper for all its notebooks and workers and names its socket here;
# elsewhere (a notebook in Jupyter) each process starts its own on first use.
SOCKET_SETTING = settings.variable(settings.CourseSettings, "warm_python_socket")


def start_server(socket_path: str, *, wait: bool = True) -> subprocess.Popen:
    """Start a helper listening on `socket_path`; it ends when its stdin is closed, and then
    removes the socket's folder if it made it (a mip-warm-<pid>-... folder). With
    wait=False it is left starting; _ready() waits for it."""
    process = subprocess.Popen(
        [sys.executable, "-m", "course.runtime.warm_python", socket_path], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        # A session of its own: a kernel killed with its process group does not take the
        # helper with it mid-command; the helper sees its stdin close and tidies up.
        start_new_session=True,
    )
    if wait:
        _ready(process)
    return process


def _ready(process: subprocess.Popen) -> None:
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the warm python helper did not start")


_own_server: subprocess.Popen | None = None
_own_server_ready = False


def prepare() -> None:
    """Start this process's helper now, without waiting for it: it imports its libraries on
    the other core while the caller imports its own (`course check` starts it first thing)."""
    global _own_server, _own_server_ready
    if settings.current().warm_python_socket or not hasattr(os, "fork") or settings.current().cold_python:
        return
    if _own_server is None or _own_server.poll() is not None:
        _own_server = start_server(os.path.join(reaper.scratch_dir("mip-warm-"), "warm.sock"), wait=False)
        _own_server_ready = False


def _socket_path() -> str:
    global _own_server_ready
    shared = settings.current().warm_python_socket
    if shared:
        return shared
    prepare()
    if not _own_server_ready:
        _ready(_own_server)
        _own_server_ready = True
    return _own_server.args[-1]


def run(argv: list[str], cwd, env: dict) -> tuple[int, str]:
    """Run `python *argv` in `cwd` with exactly `env`: (exit status, combined output)."""
    if not hasattr(os, "fork") or settings.current().cold_python:
        return cold(argv, cwd, env)
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        connection.connect(_socket_path())
        with connection.makefile("rw", encoding="utf-8") as stream:
            stream.write(json.dumps({"argv": argv, "cwd": str(cwd), "env": env}) + "\n")
            stream.flush()
            reply = json.loads(stream.readline())
    return reply["status"], reply["output"]


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


def _handle(connection: socket.socket) -> None:
    """In a forked handler: read one request, run it in a child of its own, reply.

    If the caller goes away first (Ctrl-C, a kernel interrupted or killed), the child is
    killed: nothing keeps running for a caller that no longer waits.
    """
    import select
    import signal

    with connection, connection.makefile("rw", encoding="utf-8") as stream:
        request = json.loads(stream.readline())
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read_fd)
            _child(request["argv"], request["cwd"], request["env"], write_fd)
        os.close(write_fd)
        chunks = []
        while True:
            readable, _, _ = select.select([read_fd, connection], [], [])
            if connection in readable and not connection.recv(1, socket.MSG_PEEK):
                os.kill(pid, signal.SIGKILL)  # the caller hung up
                os.waitpid(pid, 0)
                os.close(read_fd)
                return
            if read_fd in readable:
                chunk = os.read(read_fd, 65536)
                if not chunk:
                    break
                chunks.append(chunk)
        os.close(read_fd)
        output = b"".join(chunks).decode("utf-8", errors="backslashreplace")
        _, wait_status = os.waitpid(pid, 0)
        stream.write(json.dumps({"status": os.waitstatus_to_exitcode(wait_status), "output": output}) + "\n")


def _quietly_import(name: str) -> None:
    import importlib
    import warnings

    with warnings.catch_warnings():  # a library's import-time warning is not a command's output
        warnings.simplefilter("ignore")
        importlib.import_module(name)


def _serve(socket_path: str) -> None:
    import select
    import signal

    # The kernel's process group gets SIGINT on an interrupt or at shutdown: the helper
    # ends when its stdin closes instead, and each child restores Python's usual handler.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in PRELOAD:
        _quietly_import(name)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    try:
        print("ready", flush=True)
        started = True
    except BrokenPipeError:
        started = False  # whoever started us is gone already (a check that stopped at once, say)
    later = list(PRELOAD_LATER)
    try:
        while started:
            readable, _, _ = select.select([listener, sys.stdin], [], [], 0 if later else 1.0)
            if not readable and later:
                _quietly_import(later.pop(0))
                if not later:
                    from course.runtime.engines import share_pymysql_tls_context

                    # every child's connections then share one TLS context (PyMySQL builds
                    # one per connection otherwise)
                    share_pymysql_tls_context(build_now=True)
                continue
            if sys.stdin in readable and not sys.stdin.readline():
                return  # whoever started us is gone
            if listener in readable:
                connection, _ = listener.accept()
                if os.fork() == 0:
                    listener.close()
                    try:
                        _handle(connection)
                    finally:
                        os._exit(0)
                connection.close()
            while True:  # reap finished handlers
                try:
                    if os.waitpid(-1, os.WNOHANG)[0] == 0:
                        break
                except ChildProcessError:
                    break
    finally:
        listener.close()
        try:
            os.unlink(socket_path)
        except FileNotFoundError:
            pass  # its folder went first (a check interrupted with Ctrl-C removes its scratch folder)
        folder = os.path.dirname(socket_path)
        if os.path.basename(folder).startswith("mip-warm-"):
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    _serve(sys.argv[1])
