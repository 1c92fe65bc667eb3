"""A test run's notebook kernels, forked from its warm interpreter (course/runtime/warm_kernel.py),
behave as kernels that jupyter_client starts: they run code in the directory and environment
given, lead a session of their own, stop a running cell on an interrupt, and end on shutdown
and on kill. (Every notebook of the run runs in one, compared with its stored outputs.)
"""

import os
import stat

import pytest
from jupyter_client.manager import KernelManager
from helpers import close_client, wait_until

from course.runtime import reaper, warm_kernel, warm_python

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the warm interpreter forks")


@pytest.fixture
def kernel(tmp_path):
    """A kernel as nbval starts one in a test run (the run's default provisioner)."""
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env={**os.environ, "PROBE": "given"}, cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    client.wait_for_ready(timeout=60)
    yield manager, client
    close_client(client)
    if manager.has_kernel:
        manager.shutdown_kernel(now=True)
    else:  # killed by the test: its manager's control socket and zmq context are still open
        manager.cleanup_resources()


def _run(client, code: str) -> tuple[str, dict]:
    printed = []
    reply = client.execute_interactive(code, timeout=120, output_hook=lambda msg: printed.append(
        msg["content"].get("text", "") if msg["msg_type"] == "stream" else ""))
    return "".join(printed), reply["content"]


def test_a_kernel_is_forked_from_the_warm_interpreter_and_runs_as_one_started_anew(kernel, tmp_path):
    manager, client = kernel
    assert isinstance(manager.provisioner, warm_kernel.WarmKernelProvisioner)
    assert isinstance(manager.provisioner.process, warm_kernel.ForkedKernel)
    pid = manager.provisioner.pid
    out, _ = _run(client, "import os, sys\nprint(os.getpid(), os.getsid(0), os.getcwd(), os.environ['PROBE'], "
                          "'sqlalchemy' in sys.modules)")
    kernel_pid, session, cwd, probe, preloaded = out.split()
    assert int(kernel_pid) == pid and int(session) == pid  # leads its own session, as with Popen
    assert (cwd, probe) == (str(tmp_path), "given")
    assert preloaded == "True"  # forked from the helper, imports done
    assert os.getppid() != pid and reaper.alive(pid)


def test_a_forked_kernel_listens_on_unix_sockets_removed_when_it_ends(tmp_path):
    """No TCP port for another process to take between jupyter_client's choice and the
    kernel's bind: the kernel's five channels are Unix sockets, gone after its shutdown."""
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=dict(os.environ), cwd=str(tmp_path))
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        info = manager.get_connection_info()
        assert info["transport"] == "ipc"
        sockets = [f"{info['ip']}-{info[name]}" for name in ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")]
        assert all(stat.S_ISSOCK(os.stat(path).st_mode) for path in sockets)
        out, content = _run(client, "print(6 * 7)")
        assert (out, content["status"]) == ("42\n", "ok")
    finally:
        close_client(client)
        manager.shutdown_kernel(now=True)
    assert not [path for path in sockets if os.path.exists(path)]


def test_a_kernel_whose_helper_is_killed_is_ended_by_its_manager(tmp_path):
    """The helper that forked a kernel is killed (nothing relays or watches the kernel then):
    the kernel's manager sees it ended, and it ends. (ipykernel ends a kernel whose parent is
    gone by itself; ForkedKernel also kills the kernel's group, for where it would not notice.)"""
    helper = warm_python.start_server(str(tmp_path / "warm.sock"), kernels=True)
    manager = KernelManager(kernel_name="python3")
    try:
        manager.start_kernel(env={**os.environ, warm_python.SOCKET_SETTING: str(tmp_path / "warm.sock")},
                             cwd=str(tmp_path))
        assert isinstance(manager.provisioner.process, warm_kernel.ForkedKernel)
        pid = manager.provisioner.pid
        helper.kill()
        helper.wait()
        assert manager.provisioner.process.wait(timeout=120) == -9
        wait_until(lambda: not reaper.alive(pid), "the kernel to end")
    finally:
        warm_python.stop(helper)
        manager.cleanup_resources()


def test_what_a_library_imported_before_the_fork_prints_reaches_the_notebook(kernel):
    """alembic's Config keeps sys.stdout as it was at import, which was in the helper: the text
    must still arrive as the cell's output, as in a kernel started anew (`command.check`)."""
    manager, client = kernel
    out, content = _run(client, "from alembic.config import Config\nConfig().print_stdout('to the notebook')")
    assert content["status"] == "ok" and out == "to the notebook\n"


def test_an_interrupt_stops_the_running_cell_and_the_kernel_goes_on(kernel):
    manager, client = kernel
    # stop_on_error=False: by default ipykernel, after sending a failed cell's reply, aborts the
    # execute requests that reach it until its own "stop aborting" message comes round; a request
    # sent the moment that reply arrives can win the race and come back "aborted" (seen in CI).
    # That is ipykernel's queue policy, the same in any kernel; this test is about the kernel
    # going on after an interrupt.
    client.execute("import time\nprint('looping', flush=True)\nwhile True:\n    time.sleep(0.01)\n",
                   stop_on_error=False)
    wait_until(lambda: _printed(client, "looping"), "the cell's code to run")
    manager.interrupt_kernel()
    reply = client.get_shell_msg(timeout=120)
    assert reply["content"]["status"] == "error" and reply["content"]["ename"] == "KeyboardInterrupt"
    # The kernel goes on: it computes what it is asked, read from the execute reply itself.
    reply = client.execute_interactive("answer = 6 * 7", user_expressions={"answer": "answer"}, timeout=120)
    assert reply["content"]["status"] == "ok"
    assert reply["content"]["user_expressions"]["answer"]["data"]["text/plain"] == "42"


def _printed(client, text: str) -> bool:
    """Whether the next message the kernel publishes is `text` printed (the cell's code runs:
    an interrupt then reaches it, not the kernel's own code around it)."""
    try:
        message = client.get_iopub_msg(timeout=0.2)
    except Exception:  # noqa: BLE001 - queue.Empty: nothing yet
        return False
    return message["msg_type"] == "stream" and text in message["content"]["text"]


@pytest.mark.parametrize("ending", ["shutdown", "kill"])
def test_a_kernel_ends_when_its_manager_ends_it(kernel, ending):
    manager, client = kernel
    pid = manager.provisioner.pid
    if ending == "shutdown":
        manager.shutdown_kernel(now=False)
    else:
        manager._kill_kernel()  # what "shutdown now" and a dead kernel come to: SIGKILL
    wait_until(lambda: not reaper.alive(pid), "the kernel to end")


def test_a_kernel_whose_environment_names_no_warm_interpreter_is_started_as_usual(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != warm_python.SOCKET_SETTING}
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(tmp_path))
    try:
        assert not isinstance(manager.provisioner.process, warm_kernel.ForkedKernel)
        assert manager.provisioner.pgid == os.getpgid(manager.provisioner.pid)
    finally:
        manager.shutdown_kernel(now=True)
