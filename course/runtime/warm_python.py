"""Run `python ...` command lines in a pre-warmed interpreter: same output, a third of the time.

A notebook shows Alembic's command line as a reader types it, so each `alembic ...` cell is a
real process run by the kernel's own interpreter, with its exit status checked. Most of such a
process's ~0.6 s is importing SQLAlchemy and Alembic. This module keeps a helper process that
has imported those libraries once (one per kernel, one for a JupyterLab session, or one for a
whole test run, listening on a Unix socket); for each command it forks a child, which sets
the command's directory, environment and argv, runs it as `python` would (`-m module` or
`-c code`), and exits with its status. Nothing of the project (`app`) is imported before the
fork, so each command reads the project's files as they are at that moment.

A process that has imported those libraries itself (`course check`: its checker uses
SQLAlchemy and Alembic) needs no helper: within `forking_here()`, each command runs in a child
forked from that very process, in the same way. A helper would import the same libraries a
second time (~0.8 s of CPU) while the check waits for it.

Where fork does not exist (Windows), or COURSE_COLD_PYTHON=1 is set, commands run as plain
subprocesses. tests/test_warm_python.py checks that all three ways print the same thing.
"""

import sys


class _CurrentStream:
    """sys.stdout (or sys.stderr) as it is when written to, whoever kept a reference to it.

    A module can keep the stream it found when it was imported: alembic's Config takes
    `stdout=sys.stdout` as a default argument. Imported here, before a fork, that would be the
    helper's stream in every child, not the one the child writes to: in a kernel forked for a
    notebook (course/runtime/warm_kernel.py), `command.check()` would print past the notebook.
    The helper puts these in place before it imports anything, so what a module kept writes
    wherever the process's sys.stdout or sys.stderr is at that moment.
    """

    def __init__(self, name: str, fallback):
        self._name, self._fallback = name, fallback

    def _target(self):
        current = getattr(sys, self._name)
        return self._fallback if current is self else current

    def write(self, text):
        return self._target().write(text)

    def flush(self):
        return self._target().flush()

    def __getattr__(self, attribute):
        return getattr(self._target(), attribute)


if __name__ == "__main__":  # the helper, before its first import
    sys.stdout, sys.stderr = _CurrentStream("stdout", sys.stdout), _CurrentStream("stderr", sys.stderr)

import atexit  # noqa: E402 - after the streams above
import contextlib  # noqa: E402
import importlib.machinery  # noqa: E402
import importlib.util  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import pathlib  # noqa: E402
import shutil  # noqa: E402
import socket  # noqa: E402
import subprocess  # noqa: E402
import threading  # noqa: E402
import types  # noqa: E402

from course import settings  # noqa: E402
from course.runtime import reaper  # noqa: E402

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
# What a kernel imports (ipykernel, IPython, jupyter_client, zmq: ~0.5 s): imported before the
# helper is ready when it is to fork a test run's notebook kernels (course/runtime/warm_kernel.py),
# never otherwise. Not ipykernel.kernelapp: its class reads JPY_PARENT_PID from the environment
# when it is defined, so each kernel defines it with its own environment.
KERNEL_PRELOAD = ("ipykernel.ipkernel", "ipykernel.zmqshell")
# Modules run as `-m module` in every check step, compiled once in the warm process instead
# of once per step: the children of a helper never write bytecode (PYTHONDONTWRITEBYTECODE),
# so each compiled learner_code.py from source, ~15-30 ms a step.
PRECOMPILE = ("course.learner.learner_code",)


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


def start_server(socket_path: str, *, wait: bool = True, kernels: bool = False) -> subprocess.Popen:
    """Start a helper listening on `socket_path`; it ends when its stdin is closed, and then
    removes the socket's folder if it made it (a mip-warm-<pid>-... folder). With
    wait=False it is left starting; ready() waits for it. kernels=True: it also imports what
    a notebook kernel needs, to fork kernels (a test run's)."""
    process = subprocess.Popen(
        [sys.executable, "-m", "course.runtime.warm_python", socket_path, *(["--kernels"] if kernels else [])],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        text=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        # A session of its own: a kernel killed with its process group does not take the
        # helper with it mid-command; the helper sees its stdin close and tidies up.
        start_new_session=True,
    )
    if wait:
        ready(process)
    return process


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """End a helper as its owner's exit would: its stdin closes, it removes its socket's
    folder and goes; killed if it has not within `timeout` seconds."""
    for stream in (process.stdin, process.stdout):
        try:
            stream.close()
        except OSError:
            pass
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def ready(process: subprocess.Popen) -> None:
    """Wait until a helper that start_server(wait=False) started listens."""
    if process.stdout.readline().strip() != "ready":
        raise RuntimeError("the warm python helper did not start")


_own_server: subprocess.Popen | None = None
_own_server_ready = False


def prepare(*, even_if_shared: bool = False) -> None:
    """Start this process's helper now, without waiting for it: it imports its libraries on
    the other core while the caller imports its own (a notebook's first command starts it).
    Not where a shared helper is named, unless that one does not answer (`even_if_shared`)."""
    global _own_server, _own_server_ready
    current = settings.current()
    if (current.warm_python_socket and not even_if_shared) or not hasattr(os, "fork") or current.cold_python:
        return
    if _own_server is None or _own_server.poll() is not None:
        _own_server = start_server(os.path.join(reaper.scratch_dir("mip-warm-"), "warm.sock"), wait=False)
        _own_server_ready = False
        # Ended with this process (it would end anyway once its stdin closes): by then, not
        # some moment after, and without a still-running Popen left to the garbage collector.
        atexit.register(stop, _own_server)


def _socket_of(helper: subprocess.Popen) -> str:
    return helper.args[3]  # python -m course.runtime.warm_python SOCKET [--kernels]


def _own_socket_path() -> str:
    global _own_server_ready
    prepare(even_if_shared=True)
    if not _own_server_ready:
        ready(_own_server)
        _own_server_ready = True
    return _socket_of(_own_server)


def _connect() -> socket.socket:
    """A connection to the shared helper (a test run's, JupyterLab's); if that one does not
    answer (Lab's died, or was stopped), to this process's own, started on first use."""
    shared = settings.current().warm_python_socket
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        connection.connect(shared or _own_socket_path())
        return connection
    except OSError:
        connection.close()
        if not shared:
            raise
    connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    connection.connect(_own_socket_path())
    return connection


_fork_here = False


@contextlib.contextmanager
def forking_here():
    """Within: run() forks each command from this process instead of asking a helper (unless
    a shared helper is configured, or COURSE_COLD_PYTHON is set, or there is no fork). For a
    process that has imported what the commands need: `course check`. The commands are as
    isolated as in a helper's children: each runs in a process of its own, which ends with it,
    and this process never imports what they import."""
    global _fork_here
    saved = _fork_here
    current = settings.current()
    _fork_here = hasattr(os, "fork") and not current.cold_python and not current.warm_python_socket
    if _fork_here:
        for name in PRELOAD:  # once here rather than in every child (sqlalchemy.orm: ~70 ms)
            if name not in sys.modules:
                _quietly_import(name)
        for name in PRECOMPILE:
            _compiled(name)
        _find_prctl()
    try:
        yield
    finally:
        _fork_here = saved


def run(argv: list[str], cwd, env: dict) -> tuple[int, str]:
    """Run `python *argv` in `cwd` with exactly `env`: (exit status, combined output)."""
    if not hasattr(os, "fork") or settings.current().cold_python:
        return cold(argv, cwd, env)
    if _fork_here:
        return _run_here(argv, cwd, env)
    with _connect() as connection:
        with connection.makefile("rw", encoding="utf-8") as stream:
            stream.write(json.dumps({"argv": argv, "cwd": str(cwd), "env": env}) + "\n")
            stream.flush()
            reply = json.loads(stream.readline())
    return reply["status"], reply["output"]


def _run_here(argv: list[str], cwd, env: dict) -> tuple[int, str]:
    """run() in a child forked from this process; if this process is interrupted while it waits
    (Ctrl-C, a time limit), the child is killed."""
    import signal
    import warnings

    if argv[0] == "-m" and argv[1] in PRECOMPILE:
        _compiled(argv[1])  # compiled here once, not in every child
    read_fd, write_fd = os.pipe()
    parent = os.getpid()
    with warnings.catch_warnings():  # Python 3.12+ warns of fork() beside a thread (a check's "still running" timer)
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:
        try:
            os.close(read_fd)
            reaper.close_inherited_pipe()  # this process's watcher must see it end, not wait for the child
            _die_with(parent)
            _child(argv, str(cwd), env, write_fd)
        finally:  # whatever escapes _child ends this process, never the caller's code
            os._exit(1)
    os.close(write_fd)
    chunks = []
    try:
        while chunk := os.read(read_fd, 65536):
            chunks.append(chunk)
        _, wait_status = os.waitpid(pid, 0)
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    finally:
        os.close(read_fd)
    return os.waitstatus_to_exitcode(wait_status), b"".join(chunks).decode("utf-8", errors="backslashreplace")


def _die_with(parent: int) -> None:
    """In a child forked by _run_here: be killed if `parent` ends first (killed, say), as a
    helper kills a command whose caller hung up. Linux only (prctl); elsewhere the child's own
    time limit (learner_code.py) ends it."""
    if _prctl:
        _prctl[0](1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    if os.getppid() != parent:  # it ended before prctl
        os._exit(1)


_prctl: list = []  # [libc's prctl] on Linux, found by forking_here() before the first fork


def _find_prctl() -> None:
    if _prctl or not sys.platform.startswith("linux"):
        return
    try:
        import ctypes

        _prctl.append(ctypes.CDLL(None, use_errno=True).prctl)
    except (ImportError, OSError, AttributeError):
        pass
_code: dict[str, tuple] = {}  # module name -> (its spec, its source's mtime, its code)


def _compiled(name: str):
    """(spec, code) of module `name`, compiled once per version of its source file."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or not hasattr(spec.loader, "get_code"):
        return None
    try:
        stamp = os.stat(spec.origin).st_mtime_ns
    except OSError:
        return None
    known = _code.get(name)
    if known is None or known[1] != stamp:
        known = _code[name] = (spec, stamp, spec.loader.get_code(name))
    return known[0], known[2]


def _run_module(name: str) -> None:
    """`python -m name`: as runpy.run_module(name, run_name="__main__", alter_sys=True), from
    code compiled in the warm process when it is still that of the file."""
    import runpy

    found = name in PRECOMPILE and _code.get(name) and _compiled(name)
    if not found:
        runpy.run_module(name, run_name="__main__", alter_sys=True)
        return
    spec, code = found
    main = types.ModuleType("__main__")
    main.__dict__.update(__file__=spec.origin, __cached__=spec.cached, __loader__=spec.loader,
                         __package__=spec.parent, __spec__=spec)
    sys.modules["__main__"] = main
    sys.argv[0] = spec.origin
    exec(code, main.__dict__)


# -- the helper process ------------------------------------------------------------------------
class _Terminal(io.TextIOWrapper):
    """The output of a command whose caller writes it to a terminal (course/learner/forwarding.py):
    it says it is one, so that the command colours it as it would there."""

    def isatty(self) -> bool:
        return True


def _child(argv: list[str], cwd: str, env: dict, output_fd: int, terminal: bool = False, session: bool = False) -> None:
    """In the forked child: become `python *argv` and never return."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.current_thread().name = "MainThread"  # forked from a helper's request thread: as python names it
    if session:
        os.setsid()  # as jupyter_client starts a kernel (start_new_session): signals go to its group
    status = 0
    try:
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(env)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(output_fd, 1)
        os.dup2(output_fd, 2)
        os.close(null)
        if output_fd > 2:
            os.close(output_fd)
        # Unbuffered, like PYTHONUNBUFFERED=1: stdout and stderr interleave as on a terminal.
        wrapper = _Terminal if terminal else io.TextIOWrapper
        sys.stdout, sys.stderr = (
            wrapper(io.FileIO(fd, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True)
            for fd in (1, 2)
        )
        if argv[0] == "-m":
            sys.argv = [argv[1], *argv[2:]]
            sys.path[0] = cwd
            _run_module(argv[1])
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


def _stop(pid: int, session: bool, graceful: bool) -> None:
    """End the child of a caller that went away, and reap it. A command forwarded from a
    terminal or a kernel (`graceful`) first gets SIGTERM, as when its terminal closes, and up to
    5 s to tidy up (`course check` removes its scratch copy and databases); a step or a
    notebook's command is killed at once. A kernel's whole process group goes with it."""
    import signal
    import time

    def send(signum):
        try:
            os.killpg(pid, signum) if session else os.kill(pid, signum)
        except (ProcessLookupError, PermissionError):
            pass

    if graceful:
        send(signal.SIGTERM)
        for _ in range(500):
            if os.waitpid(pid, os.WNOHANG)[0]:
                return
            time.sleep(0.01)
    send(signal.SIGKILL)
    os.waitpid(pid, 0)


def _wait_for_own_group(pid: int) -> None:
    """Until the child `pid` leads its own process group (its first act), or has ended: a
    signal to its group never reaches this helper's."""
    import time

    for _ in range(10_000):  # a bound, for a child that never gets to run: 10 s
        try:
            if os.getpgid(pid) == pid:
                return
        except ProcessLookupError:
            return
        time.sleep(0.001)


# Held while this helper forks, and while its main thread imports a module or warms up: a
# child is never forked in the middle of an import (it would inherit the module's lock, held
# for good by a thread it does not have) nor while the warm-up has the sample project current.
_forking = threading.Lock()


def _fork_alone(keep: int) -> int:
    """os.fork() in a thread of the helper; in the child, every descriptor but 0-2 and `keep`
    is closed first. Other requests' pipes and connections are open in the helper while it
    forks: a child that kept one (a kernel, for hours) would keep that request from ever
    seeing its command end."""
    import warnings

    with _forking, warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python 3.12+: fork() beside threads
        pid = os.fork()
    if pid == 0:
        os.closerange(3, keep)
        os.closerange(keep + 1, _MAX_FD)
    return pid


_MAX_FD = max(os.sysconf("SC_OPEN_MAX") if hasattr(os, "sysconf") else 0, 1 << 16)  # -1: no limit set


def _handle(connection: socket.socket) -> None:
    """In a thread of the helper: read one request, run it in a child of its own, reply.

    If the caller goes away first (Ctrl-C, a kernel interrupted or killed), the child is
    killed: nothing keeps running for a caller that no longer waits.

    A request with "stream" (a `course` command forwarded from a terminal, a kernel) gets the
    output as it is written, one {"output": ...} line at a time, then {"status": ...}; a line
    "interrupt" from its caller is passed on to the child as SIGINT (Ctrl-C), which then stops
    as it would at a terminal. With "session" (a kernel, course/runtime/warm_kernel.py), the
    child leads a session and process group of its own, as jupyter_client starts a kernel, and
    the first line is {"pid": ...}, sent once that is so: its caller signals it directly. A request naming another environment
    ("prefix", a caller's sys.prefix) is refused: the child would run other versions of the
    libraries.
    """
    import codecs
    import select
    import signal

    with connection, connection.makefile("rw", encoding="utf-8") as stream:
        request = json.loads(stream.readline())
        if request.get("prefix", sys.prefix) != sys.prefix:
            stream.write(json.dumps({"refused": f"this helper runs in {sys.prefix}"}) + "\n")
            return
        streaming = bool(request.get("stream"))
        session = bool(request.get("session"))
        read_fd, write_fd = os.pipe()
        try:
            pid = _fork_alone(keep=write_fd)
        except OSError:  # no process to be had (EAGAIN): the caller sees the connection close
            os.close(read_fd)
            os.close(write_fd)
            raise
        if pid == 0:
            try:
                _child(request["argv"], request["cwd"], request["env"], write_fd,
                       terminal=bool(request.get("terminal")), session=session)
            finally:  # whatever escapes _child ends this process, never the helper's code
                os._exit(1)
        os.close(write_fd)
        reaped = False
        try:
            if session:
                _wait_for_own_group(pid)
                stream.write(json.dumps({"pid": pid}) + "\n")
                stream.flush()
            decoder = codecs.getincrementaldecoder("utf-8")(errors="backslashreplace")  # a character may span chunks
            chunks = []
            while True:
                readable, _, _ = select.select([read_fd, connection], [], [])
                if connection in readable:
                    said = connection.recv(64)
                    if not said:  # the caller hung up
                        raise ConnectionResetError
                    if streaming and b"interrupt" in said:
                        os.kill(pid, signal.SIGINT)
                if read_fd in readable:
                    chunk = os.read(read_fd, 65536)
                    if not chunk:
                        break
                    if streaming:
                        stream.write(json.dumps({"output": decoder.decode(chunk)}) + "\n")
                        stream.flush()  # a caller gone raises here (BrokenPipeError) as well
                    else:
                        chunks.append(chunk)
            output = decoder.decode(b"".join(chunks), final=True)
            _, wait_status = os.waitpid(pid, 0)
            reaped = True
            stream.write(json.dumps({"status": os.waitstatus_to_exitcode(wait_status), "output": output}) + "\n")
        except OSError:  # the caller hung up (or went away while we wrote to it)
            pass
        finally:
            os.close(read_fd)
            if not reaped:  # its caller is gone, or this thread failed: nobody waits for it
                _stop(pid, session, graceful=streaming)


def _quietly_import(name: str) -> None:
    import importlib
    import warnings

    with warnings.catch_warnings():  # a library's import-time warning is not a command's output
        warnings.simplefilter("ignore")
        importlib.import_module(name)


# The steps a check runs most, done once by warm_up(): what the libraries do on first use is
# then done before the forks, not again in every child.
WARM_UP_STEPS = (
    {"op": "alembic", "command": "upgrade", "args": ["head"]},
    {"op": "start_app"},  # FastAPI imports pydantic.v1 at an app's first route (~45 ms a step)
    {"op": "differences"},  # autogenerate's comparison
    {"op": "alembic", "command": "downgrade", "args": ["base"]},
)


def _engines() -> set:
    """Every SQLAlchemy Engine this process holds now."""
    import gc

    from sqlalchemy.engine import Engine

    return {o for o in gc.get_objects() if isinstance(o, Engine)}


def warm_up() -> bool:
    """Run WARM_UP_STEPS here, once, on a throwaway copy of the sample project on SQLite.

    A child forked from a process that has only imported the libraries still pays, in every
    step, for what they do on first use: FastAPI imports pydantic.v1 at an app's first route,
    SQLAlchemy and Alembic compile regular expressions and fill memoized attributes. Done here
    once, every child inherits it done (a check's app start-up takes ~65 ms instead of ~105).
    Everything the sample project left in this process is put back afterwards: its `app`
    modules, sys.path, DATABASE_URL and logging (workspace.isolated()), the guard against
    importing the app that the steps install, the working directory. So children still
    import the project's files as they are when they run. False if it could not be done (the
    helper then serves as it would without it).
    """
    import builtins
    import importlib

    from course.runtime import workspace

    compiled = _compiled("course.learner.learner_code")
    if compiled is None:
        return False
    # The steps' own code, run from a namespace of its own: imported as a module here, it
    # would make runpy warn in every child that runs it with -m.
    steps = {"__name__": "course.learner.learner_code.warm_up", "__file__": compiled[0].origin}
    saved = builtins.__import__, importlib.import_module, os.getcwd()
    swept = workspace._swept  # fresh()'s first sweep is still to come in the children
    folder = reaper.scratch_dir("mip-warm-", reaper.fast_scratch_parent())
    try:
        exec(compiled[1], steps)
        engines_before = _engines()
        with workspace.isolated(), contextlib.redirect_stdout(io.StringIO()):
            ws = workspace.fresh("warm-up", server="sqlite", root=pathlib.Path(folder))
            try:
                for step in WARM_UP_STEPS:
                    result = steps["run"]({"doing": "warming up", "project": str(ws.path), **step})
                    builtins.__import__, importlib.import_module = saved[:2]
                    workspace.forget_app_modules()
                    if not result["ok"]:
                        return False
            finally:
                ws.discard()
                # The app's own engine outlives its modules (functools caches keep its
                # get_engine reachable): closed here, no child inherits a connection to it.
                for engine in _engines() - engines_before:
                    engine.dispose()
        return True
    except Exception:  # noqa: BLE001 - an optimisation only: never a reason for the helper to fail
        return False
    finally:
        builtins.__import__, importlib.import_module = saved[:2]
        workspace._swept = swept
        os.chdir(saved[2])
        shutil.rmtree(folder, ignore_errors=True)


# -- the course's own sources, compiled once -------------------------------------------------
# Each step imports the copy of the project it runs in from source (no bytecode is written
# there: an edited file must never be read from a stale .pyc), about a dozen files, ~3 ms of
# compiling a step. Most of them are byte for byte the course's own files: the sample project
# at each stage, an exercise's starter, solution and given files (not the wrong attempts:
# exercise.toml's edits, one file each, compiled where they run). The helper
# compiles those once (remember_sources); a child importing a file with the same bytes takes
# that code, named after the file it imports. Any other file, an edited one included, is
# compiled as before, and so is one whose compiling warned (its warning must still be seen).
_compiled_sources: dict[bytes, types.CodeType] = {}


def _renamed(code: types.CodeType, filename: str) -> types.CodeType:
    """`code`, and every function and class body in it, as compiled from `filename`."""
    if code.co_filename == filename:
        return code
    consts = tuple(_renamed(c, filename) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return code.replace(co_filename=filename, co_consts=consts)


def _source_to_code(self, data, path, *, _optimize=-1):
    known = _compiled_sources.get(data) if _optimize == -1 and isinstance(data, bytes) else None
    if known is None:
        return _compile_source(self, data, path, _optimize=_optimize)
    return _renamed(known, str(path))


_compile_source = importlib.machinery.SourceFileLoader.source_to_code


def remember_sources(paths=None) -> int:
    """Compile `paths` here (default: the course's own project and exercise files), for every
    child to reuse, and have imports look them up; how many sources are known."""
    from course import REPO
    from course.runtime import workspace

    folder = reaper.scratch_dir("mip-sources-")  # swept if this process dies meanwhile
    try:
        if paths is None:
            for stage in workspace.SAMPLE.stages:
                workspace.SAMPLE.copy_to(pathlib.Path(folder) / stage, stage)
            paths = [*pathlib.Path(folder).rglob("*.py"), *sorted((REPO / "chapters").glob("*/exercises/**/*.py"))]
        for path in paths:
            if path.name != "check.py":  # a checker runs in the caller, not in a child
                _remember(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    importlib.machinery.SourceFileLoader.source_to_code = _source_to_code
    return len(_compiled_sources)


def _remember(path: pathlib.Path) -> None:
    import warnings

    try:
        data = path.read_bytes()
    except OSError:
        return
    if data in _compiled_sources:
        return
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            code = compile(data, str(path), "exec", dont_inherit=True)
        except (SyntaxError, ValueError):  # a wrong attempt may be broken on purpose
            return
    if not seen:
        _compiled_sources[data] = code


def _serve_one(connection: socket.socket) -> None:
    try:
        _handle(connection)
    except Exception:  # noqa: BLE001 - a malformed request, a caller gone: that request only
        connection.close()


def _finish_warming() -> None:
    """Once everything is imported: what makes each child cheaper. Optimisations only: if one
    fails, the helper serves as it would without it (and its children compile as usual)."""
    from course.runtime.engines import close_admin_sessions, share_pymysql_tls_context

    # every child's connections then share one TLS context (PyMySQL builds one per connection otherwise)
    share_pymysql_tls_context(build_now=True)
    warm_up()
    close_admin_sessions()  # the warm-up's sweep may have opened one: no child inherits a session
    try:
        remember_sources()
    except Exception:  # noqa: BLE001 - as warm_up(), which reports failure with False
        pass


def _serve(socket_path: str, kernels: bool = False) -> None:
    import select
    import signal

    # The kernel's process group gets SIGINT on an interrupt or at shutdown: the helper
    # ends when its stdin closes instead, and each child restores Python's usual handler.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for name in PRELOAD + (KERNEL_PRELOAD if kernels else ()):
        _quietly_import(name)
    for name in PRECOMPILE:
        _compiled(name)
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
                with _forking:
                    _quietly_import(later.pop(0))
                    if not later:
                        _finish_warming()
                continue
            if sys.stdin in readable and not sys.stdin.readline():
                return  # whoever started us is gone
            if listener in readable:
                connection, _ = listener.accept()
                # A thread, not a forked handler: each request then costs one fork of this
                # large process (its child), not two (~5 ms of CPU a command, measured). Not a
                # daemon: when the helper is told to end, a request in flight is still
                # answered (and a kernel still looked after) before the process goes.
                threading.Thread(target=_serve_one, args=(connection,)).start()
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
    _serve(sys.argv[1], kernels="--kernels" in sys.argv[2:])
