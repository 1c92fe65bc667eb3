"""`course check` at JupyterLab's terminal, answered by Lab's warm interpreter.

A new `course` process spends about half a second importing pydantic, SQLAlchemy and Alembic
before its check begins. `make lab` starts one warm interpreter for the whole session
(course/runtime/warm_python.py: those libraries imported, a check's commonest steps run once)
and names its socket in COURSE_WARM_PYTHON_SOCKET, which Lab's terminals and kernels inherit.
There, `course check ...` sends its command line to that interpreter: a child forked from it
runs the very same command (`course.learner.cli.main`), in the terminal's directory with the
terminal's environment, and its output comes back as it is written. Ctrl-C is passed on, so
the check stops and cleans up as it does at a terminal; a second Ctrl-C hangs up, and then
the helper stops the child as SIGTERM does (it tidies up), and kills it after 5 s.

Only `check`, and only when stdin, stdout and stderr are all a terminal: there the output is
the same (colours included; stderr's lines arrive on the terminal as they would). Redirected
output, other commands, no helper, a helper that does not answer or that runs in another
environment (another virtualenv's `course`): the command runs in this process as usual.

This module imports nothing heavy: it decides before anything else is loaded. So it reads
two settings itself, the helper's socket and COURSE_COLD_PYTHON (settings.CourseSettings's
warm_python_socket and cold_python; a test keeps the names the same): COURSE_COLD_PYTHON=1,
typed in Lab's terminal, runs the check here, as it does outside Lab. The forwarded command
reads every setting as usual.
"""

import json
import os
import shutil
import socket
import sys

FORWARDED = ("check",)
SOCKET_VARIABLE = "COURSE_WARM_PYTHON_SOCKET"
COLD_VARIABLE = "COURSE_COLD_PYTHON"
# What pydantic reads as False; any other value keeps the command here, where the settings
# are read (and a value that is not a boolean is reported).
FALSE_WORDS = ("", "0", "off", "f", "false", "n", "no")
# The forwarded command: course.learner.cli.main itself, not course.main (which would forward again).
COMMAND = "import sys; from course.learner import cli; sys.exit(cli.main(sys.argv[2:], prog=sys.argv[1]))"


def command_of(argv: list[str]) -> str | None:
    """The subcommand on a `course` command line (`--lang zh` may come first)."""
    words = iter(argv)
    for word in words:
        if word == "--lang":
            next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def at_a_terminal() -> bool:
    try:
        return all(stream.isatty() for stream in (sys.stdin, sys.stdout, sys.stderr))
    except (AttributeError, ValueError):  # a stream replaced or closed
        return False


def helper_for(argv: list[str]) -> str | None:
    """The helper's socket if this command line is to be forwarded to it, else None."""
    path = os.environ.get(SOCKET_VARIABLE, "").strip()
    cold = os.environ.get(COLD_VARIABLE, "").lower() not in FALSE_WORDS  # " 0" is not a boolean to pydantic
    if not path or cold or command_of(argv) not in FORWARDED or not hasattr(os, "fork") or not at_a_terminal():
        return None
    return path if os.path.exists(path) else None


class _Ended(Exception):
    """SIGTERM or SIGHUP (the terminal closed) while the command ran."""


def forward(argv: list[str], prog: str, path: str, output=None) -> int | None:
    """Run `prog argv` in the helper at `path`, writing its output to `output` (default this
    process's stdout) as it comes: its exit status, or None if the helper did not take it
    (then nothing was run and nothing written)."""
    import signal

    output = output or sys.stdout
    try:
        cwd = os.getcwd()
    except OSError:  # the terminal's directory was removed: let the command say so itself
        return None
    env = dict(os.environ)
    size = shutil.get_terminal_size()  # the child writes to a pipe: tell it this terminal's width
    env.setdefault("COLUMNS", str(size.columns))
    env.setdefault("LINES", str(size.lines))
    request = {"argv": ["-c", COMMAND, prog, *argv], "cwd": cwd, "env": env,
               "stream": True, "terminal": True, "prefix": sys.prefix}
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(path)
    except OSError:  # gone (Lab stopped) or not listening: run here
        connection.close()
        return None

    def ended(signum, frame):
        raise _Ended(signum)

    # Closed by SIGTERM or its terminal (SIGHUP): hang up, and the helper stops the command as
    # those signals stop it at home (it tidies up first); the status is 128 + the signal's.
    previous = {number: signal.signal(number, ended) for number in (signal.SIGTERM, signal.SIGHUP)}
    try:
        with connection, connection.makefile("rw", encoding="utf-8") as stream:
            try:
                stream.write(json.dumps(request) + "\n")
                stream.flush()
            except OSError:
                return None
            return _follow(stream, connection, output)
    except _Ended as stop:
        return 128 + stop.args[0]
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _follow(stream, connection, output) -> int | None:
    """Write the command's output as it comes; its exit status (as a shell reports it: 128 + n
    for a command ended by signal n)."""
    interrupted = False
    while True:
        try:
            line = stream.readline()
            try:
                reply = json.loads(line) if line else None
            except ValueError:  # a line cut short by Ctrl-C: the command is ending
                reply = None
            if reply is None and interrupted:  # stopped on Ctrl-C before it could say so
                print("\nInterrupted.", file=sys.stderr)
                return 130
            if reply is None:  # the helper ended mid-command (Lab stopped)
                print("\nthe warm interpreter of JupyterLab stopped during the command; run it again",
                      file=sys.stderr)
                return 1
            if "refused" in reply:
                return None
            if reply.get("output"):
                output.write(reply["output"])
                output.flush()
            if "status" in reply:
                status = reply["status"]
                return 128 - status if status < 0 else status
        except KeyboardInterrupt:
            if interrupted:  # a second Ctrl-C: hang up, and the helper stops the command
                print("\nInterrupted.", file=sys.stderr)
                return 130
            interrupted = True
            try:
                connection.sendall(b"interrupt\n")  # the command stops as at a terminal, and says so
            except OSError:  # it has just ended
                print("\nInterrupted.", file=sys.stderr)
                return 130
