"""Nothing is left behind on a server or in a temp folder, however a notebook or a check ends.

A kernel is shut down and restarted the way JupyterLab does it (through a kernel manager),
a check is ended by SIGTERM and by SIGKILL; each time the databases it made must be gone.
Waiting is for an event (the database disappearing), bounded generously; nothing asserts
how long anything took.
"""

import os
import signal
from pathlib import Path

import pytest
from jupyter_client.manager import KernelManager
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from helpers import close_client, stuck_check, wait_until

from course import REPO
from course.runtime import engines, reaper, warm_kernel, warm_python


def databases(server) -> set[str]:
    if server.get_backend_name() == "postgresql":
        query = "SELECT datname FROM pg_database WHERE datname LIKE 'mip\\_%'"
    else:
        query = "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE 'mip\\_%'"
    engine = create_engine(server, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()


@pytest.mark.long
@pytest.mark.parametrize("ending", ["shutdown", "restart", "kill"])
def test_a_kernel_ended_as_jupyterlab_ends_it_leaves_nothing_behind(server_url, tmp_path, ending):
    env = {**os.environ, engines.SETTING: server_url.render_as_string(hide_password=False),
           "COURSE_WORKDIR": str(tmp_path), "TMPDIR": str(tmp_path)}
    env.pop(warm_python.SOCKET_SETTING, None)  # the kernel starts its own, as in JupyterLab
    manager = KernelManager(kernel_name="python3")
    manager.start_kernel(env=env, cwd=str(REPO / "notebooks"))
    # Started as JupyterLab starts it (a new process), not forked as a test run's notebooks
    # are (course/runtime/warm_kernel.py): its environment names no warm interpreter.
    assert not isinstance(manager.provisioner.process, warm_kernel.ForkedKernel)
    kernel_pid = manager.provisioner.pid
    client = manager.client()
    client.start_channels()
    printed: list[str] = []
    try:
        client.wait_for_ready(timeout=60)
        # As a notebook does: a workspace with its database, and a command-line cell (which
        # starts the warm interpreter).
        reply = client.execute_interactive(
            "from course import workspace\n"
            "ws = workspace.fresh('cleanup', '0002')\n"
            "ws.run('alembic upgrade head')\n"
            "print('DB', ws.engine.url.database)\n",
            timeout=120,
            output_hook=lambda msg: printed.append(msg["content"].get("text", "")),
        )
        assert reply["content"]["status"] == "ok", reply["content"]
        name = "".join(printed).split("DB ", 1)[1].split()[0]
        assert name in databases(server_url)
        assert list(tmp_path.glob(f"mip-warm-{kernel_pid}-*"))
        if ending == "shutdown":
            manager.shutdown_kernel(now=False)  # JupyterLab's "Shut Down Kernel"
        elif ending == "restart":
            manager.restart_kernel(now=False)  # "Restart Kernel"
        else:
            manager.shutdown_kernel(now=True)  # a kernel that would not stop: killed
        wait_until(lambda: name not in databases(server_url), f"{name} to be dropped")
        wait_until(lambda: not list(tmp_path.glob(f"mip-warm-{kernel_pid}-*")), "the warm interpreter's folder to go")
    finally:
        close_client(client)
        if manager.is_alive():
            manager.shutdown_kernel(now=True)


@pytest.mark.long
@pytest.mark.parametrize("how", ["SIGTERM", "SIGHUP", "SIGKILL"])
def test_a_check_ended_by_a_signal_leaves_no_database_and_no_scratch(server_url, tmp_path, how):
    from sqlalchemy.engine import make_url

    check, started = stuck_check(tmp_path, **{engines.SETTING: server_url.render_as_string(hide_password=False)})
    copy, name = started["cwd"], make_url(started["url"]).database
    assert name in databases(server_url)
    try:
        os.kill(check.pid, getattr(signal, how))
        check.communicate(timeout=60)
    finally:
        if check.poll() is None:
            os.killpg(check.pid, signal.SIGKILL)
    if how != "SIGKILL":
        assert check.returncode == 128 + getattr(signal, how)
    wait_until(lambda: name not in databases(server_url), f"{name} to be dropped")
    if how == "SIGKILL":  # no Python ran in the check: its scratch copy goes at the next sweep
        reaper.sweep_scratch(str(Path(copy).parents[2]))
    assert not Path(copy).exists()
