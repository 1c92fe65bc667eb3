"""Notebook kernels forked from the warm interpreter: what a test run's notebooks run in.

A test run executes about 70 notebooks, each in a new kernel. A new `python -m
ipykernel_launcher` imports ipykernel and jupyter_client, then the notebook's first cell
imports SQLAlchemy, Alembic and the course's runtime: about 1.3 s of CPU a kernel, some 90 s
of a run on two cores. The run's warm interpreter (course/runtime/warm_python.py) has imported
all of that already, so `WarmKernelProvisioner` has it fork each kernel instead. The kernel
runs the same command (`python -m ipykernel_launcher -f <connection file>`) in the directory
and with the environment the kernel manager gives, in a session of its own, as jupyter_client's
launcher starts one; only its imports are done already.

Everything else is jupyter_client's LocalProvisioner: connection file, interrupt (to the
kernel's process group), kill, wait. But these kernels listen on Unix sockets (jupyter's "ipc"
transport), not on TCP ports: a port that jupyter_client found free can be taken before the
kernel binds it (by another worker's kernel, or by one of the run's thousands of database
connections, which take their local ports from the same range), and the kernel then dies at
start ("Address already in use", seen once in a full run). `ForkedKernel` stands in for the Popen it would hold: the
kernel's pid, and its exit status when the helper reports it. If the test process goes away,
its connection to the helper closes and the helper kills the kernel.

conftest.py makes this the default provisioner of a test run's processes
(jupyter_client's KernelProvisionerFactory); a kernel whose environment names no warm
interpreter, or that runs another Python than this one, is started as usual (so
tests/test_cleanup.py still ends kernels started as JupyterLab starts them). `make lab` and
Jupyter elsewhere are not affected: their kernels are started as usual.
"""

import atexit
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import threading

from jupyter_client.provisioning import LocalProvisioner

NAME = "course-warm-kernel"  # its entry point (pyproject.toml, jupyter_client.kernel_provisioners)


class ForkedKernel:
    """A kernel forked by the warm interpreter, with what LocalProvisioner uses of a Popen."""

    stdin = stdout = stderr = None

    def __init__(self, socket_path: str, argv: list[str], cwd: str, env: dict):
        self._connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._connection.connect(socket_path)
        stream = self._connection.makefile("rw", encoding="utf-8")
        stream.write(json.dumps({"argv": argv, "cwd": cwd, "env": env, "stream": True, "session": True}) + "\n")
        stream.flush()
        self.pid = json.loads(stream.readline())["pid"]  # sent once the kernel leads its own group
        self.returncode: int | None = None
        self._ended = threading.Event()
        threading.Thread(target=self._follow, args=(stream,), name=f"kernel-{self.pid}", daemon=True).start()

    def _follow(self, stream) -> None:
        """Pass on what the kernel writes (where a Popen'd kernel's output goes: this process's
        stderr), until the helper reports its exit status."""
        try:
            for line in stream:
                reply = json.loads(line)
                if reply.get("output"):
                    os.write(2, reply["output"].encode("utf-8", "backslashreplace"))
                if "status" in reply:
                    self.returncode = reply["status"]
                    break
        except (OSError, ValueError):
            pass
        finally:
            if self.returncode is None:  # the helper went away (killed): end its kernel here
                try:
                    if os.getpgid(self.pid) == self.pid:  # still the kernel's own group
                        os.killpg(self.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
                self.returncode = -signal.SIGKILL
            stream.close()
            self._connection.close()
            self._ended.set()

    def poll(self) -> int | None:
        return self.returncode if self._ended.is_set() else None

    def wait(self, timeout: float | None = None) -> int:
        if not self._ended.wait(timeout):
            raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if not self._ended.is_set():
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass  # it has just ended

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _same_python(program: str) -> bool:
    found = shutil.which(program)
    return found is not None and os.path.realpath(found) == os.path.realpath(sys.executable)


def _warm_socket(env: dict | None) -> str:
    from course.runtime.warm_python import SOCKET_SETTING

    return ((env if env is not None else os.environ).get(SOCKET_SETTING) or "").strip()


_ipc_folder: list[str] = []  # this process's folder for its kernels' sockets, made on first use
UNIX_PATH_MAX = 100  # a socket's path must fit in sockaddr_un (108 bytes on Linux)


def _ipc_prefix(kernel_id: str) -> str | None:
    """Where a kernel's sockets go (<folder>/<id>-1 ... -5), or None if the path is too long."""
    from course.runtime import reaper

    if not _ipc_folder:
        # Removed when this process ends (its kernels end with it), or by a later sweep if it is killed.
        _ipc_folder.append(reaper.scratch_dir("mip-kernels-"))
        atexit.register(shutil.rmtree, _ipc_folder[0], ignore_errors=True)
    prefix = os.path.join(_ipc_folder[0], kernel_id)
    return prefix if len(prefix) + 3 <= UNIX_PATH_MAX else None


class WarmKernelProvisioner(LocalProvisioner):
    """LocalProvisioner, with the kernel forked from the warm interpreter that the kernel's
    environment names (COURSE_WARM_PYTHON_SOCKET) when it runs this Python; else as usual."""

    async def pre_launch(self, **kwargs):
        km = self.parent
        if km is not None and _warm_socket(kwargs.get("env")) and km.transport == "tcp" and not km.connection_file:
            prefix = _ipc_prefix(self.kernel_id)
            if prefix is not None:
                km.transport, km.ip = "ipc", prefix
                km.cache_ports = False  # no TCP ports to find
        return await super().pre_launch(**kwargs)

    async def launch_kernel(self, cmd: list[str], **kwargs):
        env = dict(kwargs.get("env") or os.environ)
        socket_path = _warm_socket(env)
        if not socket_path or not cmd or not _same_python(cmd[0]) or not hasattr(os, "fork"):
            return await super().launch_kernel(cmd, **kwargs)
        # What jupyter_client's launcher adds: the kernel then knows it has a parent (and does
        # not print the banner of a kernel started by hand, `ipython kernel`).
        env["JPY_PARENT_PID"] = str(os.getpid())
        cwd = str(kwargs.get("cwd") or pathlib.Path.cwd())
        self.process = ForkedKernel(socket_path, cmd[1:], cwd, env)
        self.pid = self.pgid = self.process.pid  # the leader of its own process group
        self.cwd = cwd
        return self.connection_info
