"""The warm interpreter prints what a new `python` process prints, with the same exit status."""

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from course.runtime import reaper, warm_python
from helpers import wait_until

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


@pytest.fixture
def forking_here(monkeypatch):
    """warm_python.forking_here() as `course check` has it: no shared helper configured."""
    monkeypatch.delenv(warm_python.SOCKET_SETTING, raising=False)
    with warm_python.forking_here():
        yield


@pytest.mark.long
def test_runs_forked_from_this_process_agree_with_cold_ones(project, tmp_path, forking_here):
    here = _outcomes(warm_python.run, project, f"sqlite:///{tmp_path / 'here.db'}")
    cold = _outcomes(warm_python.cold, project, f"sqlite:///{tmp_path / 'cold.db'}")
    for argv, here_outcome, cold_outcome in zip(COMMANDS, here, cold):
        assert here_outcome == cold_outcome, argv
    assert [status for status, _ in here] == [0, 255, 3, 1]


def test_a_command_forked_from_this_process_leaves_nothing_in_it(project, forking_here):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{project.path / 'app.db'}"}
    before = set(sys.modules)
    status, output = warm_python.run(["-c", "import os, sys, app.models; print(os.getppid(), 'app' in sys.modules)"],
                                     project.path, env)
    assert (status, output.split()) == (0, [str(os.getpid()), "True"])  # a child of this process
    assert not {m for m in set(sys.modules) - before if m == "app" or m.startswith("app.")}
    status, output = warm_python.run(["-c", "import sys; print('app' in sys.modules)"], project.path, env)
    assert (status, output) == (0, "False\n")  # nor in the next command


WARM_UP_PROBE = """
import builtins, json, os, sys
from course.runtime import warm_python
before = (list(sys.path), os.environ.get("DATABASE_URL"), os.getcwd(), builtins.__import__)
done = warm_python.warm_up()
after = (list(sys.path), os.environ.get("DATABASE_URL"), os.getcwd(), builtins.__import__)


def open_databases():
    found = []
    for fd in os.listdir("/proc/self/fd") if os.path.isdir("/proc/self/fd") else []:
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if ".db" in target:  # app.db, or "app.db (deleted)"
            found.append(target)
    return sorted(found)


print(json.dumps({
    "done": done,
    "put_back": before == after,
    "app_modules": [m for m in sys.modules if m == "app" or m.startswith("app.")],
    "first_use_done": "pydantic.v1" in sys.modules,  # what FastAPI imports at an app's first route
    "open_files": open_databases(),
    "pid": os.getpid(),
}))
"""


def test_the_warm_up_runs_a_check_s_steps_and_leaves_nothing_of_the_project(tmp_path):
    """What the helper does once before its forks: the steps ran (the lazy imports they make
    are done), and the process is as it was: no `app` module, the same sys.path, DATABASE_URL,
    working directory and import function, no database file open, and no scratch folder left."""
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    env = {**os.environ, "DATABASE_URL": "sqlite:///unchanged.db", "TMPDIR": str(scratch)}
    found = subprocess.run([sys.executable, "-c", WARM_UP_PROBE], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stderr
    report = json.loads(found.stdout)
    pid = report.pop("pid")
    assert report == {"done": True, "put_back": True, "app_modules": [], "first_use_done": True,
                      "open_files": []}  # no connection to the warm-up's database left for children
    places = [scratch, Path(reaper.fast_scratch_parent() or scratch)]
    assert not [p for place in places for p in place.glob(f"mip-warm-{pid}-*")]


def test_a_shared_helper_that_does_not_answer_is_replaced_by_one_of_this_process(project, tmp_path, monkeypatch):
    """JupyterLab's helper died or was stopped: a notebook's commands still run, in a helper
    the kernel starts for itself, with the same output."""
    monkeypatch.setenv(warm_python.SOCKET_SETTING, str(tmp_path / "gone" / "warm.sock"))
    argv = ["-c", "import sys; print('ran', sys.argv)"]
    assert warm_python.run(argv, project.path, dict(os.environ)) == warm_python.cold(argv, project.path, dict(os.environ))


OWN_HELPER = """
import os, sys
from course.runtime import warm_python
print(warm_python.run(["-c", "print('ran')"], os.getcwd(), dict(os.environ)))
print(warm_python._own_server.pid, warm_python._socket_of(warm_python._own_server))
"""


def test_a_process_s_own_helper_ends_with_it(tmp_path):
    """A kernel's (or any process's) own helper is stopped on the way out: gone, its socket's
    folder removed, by the time the process has ended, and no running Popen left behind."""
    env = {key: value for key, value in os.environ.items() if key != warm_python.SOCKET_SETTING}
    done = subprocess.run([sys.executable, "-W", "always::ResourceWarning", "-c", OWN_HELPER], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    ran, helper = done.stdout.splitlines()
    assert ran == "(0, 'ran\\n')"
    pid, socket_path = helper.split()
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid), 0)
    assert not Path(socket_path).parent.exists()


SOURCES = """
import pathlib, sys, warnings
from course.runtime import warm_python, workspace
warnings.simplefilter("always")
root = pathlib.Path(sys.argv[1])
warns = root / "warns.py"
warns.write_text('PATTERN = "\\\\d"\\n')  # an invalid escape: Python warns when it compiles it
warm_python.remember_sources()
warm_python.remember_sources([warns])
compiled = []
original = warm_python._compile_source
def counted(self, data, path, *, _optimize=-1):
    compiled.append(pathlib.Path(path).name)
    return original(self, data, path, _optimize=_optimize)
warm_python._compile_source = counted
ws = workspace.fresh("sources", "0002", server="sqlite", root=root)
config = ws.path / "app" / "config.py"
config.write_text(config.read_text() + "\\nEDITED = True\\n")
import app.config, app.db, app.main
print(app.config.EDITED, app.db.get_engine.__wrapped__.__code__.co_filename == str(ws.path / "app" / "db.py"))
sys.path.insert(0, str(root))
import warns
print(sorted(compiled))
"""


def test_a_child_reuses_the_course_s_own_sources_compiled_once(tmp_path):
    """The helper compiles the sample project (every stage) and the exercises' files once; a
    child importing a file with the same bytes takes that code, named after its own file. An
    edited file is compiled anew (the edit is seen), and so is one whose compiling warns."""
    done = subprocess.run([sys.executable, "-c", SOURCES, str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    seen, compiled = done.stdout.splitlines()
    assert seen == "True True"  # the edit is there; the reused code names the copy's file
    assert compiled == "['config.py', 'warns.py']"  # the edited file and the one that warns; the rest reused
    assert "invalid escape sequence" in done.stderr  # and its warning was seen


def test_the_helper_s_last_warm_up_steps_leave_it_no_session_and_survive_a_failing_source_cache(monkeypatch):
    """remember_sources is an optimisation: if it fails (no room for its scratch copies, say),
    the warm-up still ends. And a session the warm-up opened to create or drop a database (its
    sweep of a dead run's leftovers) is closed: no forked child inherits it."""
    from course.runtime import engines

    disposed = []

    class Session:  # what engines keeps for CREATE and DROP DATABASE
        def dispose(self, close=True):
            disposed.append(close)

    def warm_up():
        engines._admin_engines["postgresql+psycopg://swept@127.0.0.1/test"] = Session()
        return True

    def fails(paths=None):
        raise OSError("No space left on device")

    monkeypatch.setattr(warm_python, "warm_up", warm_up)
    monkeypatch.setattr(warm_python, "remember_sources", fails)
    monkeypatch.setattr(engines, "_admin_engines", {})
    warm_python._finish_warming()  # no OSError
    assert disposed == [True] and engines._admin_engines == {}


def test_the_learner_code_runner_is_compiled_once_and_again_when_edited(tmp_path, monkeypatch):
    module = tmp_path / "runner_probe.py"
    module.write_text("print('one')\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(warm_python, "PRECOMPILE", ("runner_probe",))
    monkeypatch.delenv(warm_python.SOCKET_SETTING, raising=False)
    with warm_python.forking_here():
        first = warm_python._code["runner_probe"][2]
        assert warm_python.run(["-m", "runner_probe"], tmp_path, dict(os.environ)) == (0, "one\n")
        assert warm_python._code["runner_probe"][2] is first  # not compiled again
        module.write_text("print('two, edited')\n", encoding="utf-8")
        os.utime(module, ns=(time.time_ns() + 10**9,) * 2)  # a newer file, whatever the clock's resolution
        assert warm_python.run(["-m", "runner_probe"], tmp_path, dict(os.environ)) == (0, "two, edited\n")
    warm_python._code.pop("runner_probe", None)


def test_an_interrupted_wait_kills_the_forked_command(project, tmp_path, forking_here):
    pid_file = tmp_path / "pid"
    code = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, 1.0)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            warm_python.run(["-c", code], project.path, dict(os.environ))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - started < 30
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(int(pid_file.read_text()), 0)


def _gone(pid: int) -> bool:
    """Whether process `pid` has ended (a zombie nobody reaped yet counts as ended)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True


FD_AUDIT = """
import os, stat
kept = []
for name in os.listdir("/proc/self/fd"):
    fd = int(name)
    try:
        found = os.fstat(fd)
    except OSError:
        continue  # the listing's own descriptor, closed by now
    if fd > 2 and not stat.S_ISDIR(found.st_mode):  # the directory: the listing's own
        kept.append((fd, stat.filemode(found.st_mode)))
print("kept:", kept)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/fd")
def test_a_helper_s_child_keeps_no_other_request_s_descriptors(tmp_path, monkeypatch):
    """The helper serves each request in a thread and forks the command from there, while
    other requests' pipes and connections are open in it. A child that kept one (a kernel
    keeps running for hours) would keep that request from ever seeing its command end: each
    child has only its standard streams."""
    helper = warm_python.start_server(str(tmp_path / "warm.sock"))
    monkeypatch.setenv(warm_python.SOCKET_SETTING, str(tmp_path / "warm.sock"))
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    waiting = {}
    held = threading.Thread(target=lambda: waiting.update(result=warm_python.run(
        ["-c", f"print(open({str(fifo)!r}).read())"], tmp_path, dict(os.environ))))
    held.start()  # in flight in the helper, its command blocked until the fifo is written
    try:
        status, output = warm_python.run(["-c", FD_AUDIT], tmp_path, dict(os.environ))
        assert (status, output) == (0, "kept: []\n")
    finally:
        with open(fifo, "w") as release:
            release.write("released")
        held.join(timeout=120)
        warm_python.stop(helper)
    assert waiting["result"] == (0, "released\n")


@pytest.fixture
def helper(tmp_path, monkeypatch):
    """A helper of this test's own, named where run() looks for one."""
    process = warm_python.start_server(str(tmp_path / "warm.sock"))
    monkeypatch.setenv(warm_python.SOCKET_SETTING, str(tmp_path / "warm.sock"))
    yield process
    warm_python.stop(process)


def _in_flight(tmp_path, code: str) -> tuple[threading.Thread, dict]:
    """run(code) in a thread; returns once its command has started (it writes `started`)."""
    started = tmp_path / "started"
    result: dict = {}
    command = f"open({str(started)!r}, 'w').close()\n{code}"
    thread = threading.Thread(target=lambda: result.update(reply=warm_python.run(["-c", command], tmp_path, dict(os.environ))))
    thread.start()
    wait_until(started.exists, "the command to start")
    return thread, result


def test_a_helper_told_to_end_still_answers_the_request_in_flight(helper, tmp_path):
    """When its owner ends (Lab stops, a run finishes) while a command runs, the command's
    caller still gets its output and status, and only then does the helper go."""
    fifo = tmp_path / "go"
    os.mkfifo(fifo)
    thread, result = _in_flight(tmp_path, f"print(open({str(fifo)!r}).read())")
    try:
        helper.stdin.close()  # told to end
        wait_until(lambda: not (tmp_path / "warm.sock").exists(), "the helper to stop listening")
        try:  # a helper that did not wait for the request would be gone by now (or soon: a loaded
            helper.wait(timeout=3)  # machine can only make this test pass, never fail, wrongly)
        except subprocess.TimeoutExpired:
            pass
        assert helper.poll() is None, "the helper ended with a request in flight"
    finally:  # the command goes on (and ends) whatever the test found
        _release(fifo, "released")
    thread.join(timeout=120)
    assert result["reply"] == (0, "released\n")
    assert helper.wait(timeout=120) == 0


def _release(fifo, text: str = "") -> None:
    """Write to `fifo` if a command waits to read it (a writer that finds no reader fails at once)."""
    try:
        handle = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    with os.fdopen(handle, "w") as release:
        release.write(text)


def test_a_command_whose_ending_fails_still_ends_at_once(helper, tmp_path):
    """Something raising on the way out of a command (here: flushing a stdout it closed) ends
    its process there and then, even while a thread of its own still runs: the helper's code
    never goes on in the child, and the caller is answered."""
    fifo = tmp_path / "never"
    os.mkfifo(fifo)
    thread, result = _in_flight(tmp_path, (
        "import sys, threading\n"
        f"threading.Thread(target=lambda: open({str(fifo)!r}).read()).start()  # blocks until released\n"
        "print('hi')\nsys.stdout.close()\n"))
    thread.join(timeout=120)
    try:
        assert not thread.is_alive(), "the command's process was kept alive by its thread"
        assert result["reply"] == (1, "hi\n")
    finally:
        _release(fifo)


def _reaped(pid: int) -> bool:
    """Ended and reaped: no /proc entry left (a zombie keeps one)."""
    return not Path(f"/proc/{pid}").exists()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_a_kernel_whose_caller_hangs_up_leaves_no_process_and_no_descriptor(helper, tmp_path):
    """A caller that starts a kernel and goes (a test process killed): the kernel is stopped
    and reaped, and the helper keeps no descriptor of it."""
    import socket as sockets

    assert warm_python.run(["-c", "pass"], tmp_path, dict(os.environ)) == (0, "")  # serving
    # What the helper has open now (perhaps a file it reads while it warms up, just then).
    descriptors = set(os.listdir(f"/proc/{helper.pid}/fd"))
    kernels = []
    for _ in range(3):
        with sockets.socket(sockets.AF_UNIX, sockets.SOCK_STREAM) as caller:
            caller.connect(str(tmp_path / "warm.sock"))
            caller.sendall((json.dumps({"argv": ["-c", "import time; time.sleep(600)"], "cwd": str(tmp_path),
                                        "env": dict(os.environ), "stream": True, "session": True}) + "\n").encode())
            with caller.makefile("r", encoding="utf-8") as replies:
                kernels.append(json.loads(replies.readline())["pid"])  # it runs; then the caller goes
    wait_until(lambda: all(_reaped(pid) for pid in kernels), "the kernels to be stopped and reaped")
    wait_until(lambda: set(os.listdir(f"/proc/{helper.pid}/fd")) <= descriptors, "the helper's descriptors to close")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_forked_command_ends_when_its_checker_is_killed(tmp_path):
    pid_file = tmp_path / "pid"
    command = f"import os, time; open({str(pid_file)!r}, 'w').write(str(os.getpid())); time.sleep(60)"
    script = (f"import os\nos.environ.pop({warm_python.SOCKET_SETTING!r}, None)\n"
              "from course.runtime import warm_python\n"
              "with warm_python.forking_here():\n"
              f"    warm_python.run(['-c', {command!r}], {str(tmp_path)!r}, dict(os.environ))\n")
    checker = subprocess.Popen([sys.executable, "-c", script])
    try:
        deadline = time.monotonic() + 30
        while not (pid_file.exists() and pid_file.read_text()) and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pid_file.read_text())
    finally:
        checker.kill()
        checker.wait()
    deadline = time.monotonic() + 10
    while not _gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _gone(child)
