"""Nothing left behind: databases and scratch folders are removed however their process ends.

A process removes what it made when it ends normally (engines' atexit handler, a check's
`finally`). That is not enough: JupyterLab kills a kernel that does not stop in time, a closed
terminal sends SIGHUP, and SIGKILL runs no Python at all. So:

- every server database a process creates is written down in a small registry (one file per
  database under <temp>/migrations-in-practice/owned/, readable only by its user: it holds the
  server URL), and a watcher process, started in a session of its own so that a kernel's process
  group can be killed without it, waits for its owner to end (the end of a pipe) and then drops
  the owner's databases;
- scratch folders carry their owner's process id in their name (mip-warm-<pid>-...);
- and at the next start, whatever a dead process left (its watcher killed too, say) is swept.

    python -m course.runtime.reaper PID     the watcher for process PID (started by watch_me())
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

# Scratch folders named <kind>-<pid>-<random>: swept once <pid> is gone.
SCRATCH_PREFIXES = ("mip-warm-", "mip-record-", "mip-run-", "mip-probes-", "mip-kernels-", "mip-sources-", "mip-attempts-",
                    "course-check-")


def registry() -> Path:
    return Path(tempfile.gettempdir()) / "migrations-in-practice" / "owned"


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive, and not ours to judge
        return True
    return True


# -- scratch folders ---------------------------------------------------------------------------

def scratch_dir(prefix: str, parent: str | None = None) -> str:
    """A new folder <parent>/<prefix><pid>-<random>, which a later sweep removes if this
    process dies without removing it."""
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-", dir=parent)


def _owner(name: str) -> int | None:
    for prefix in SCRATCH_PREFIXES:
        if name.startswith(prefix):
            pid = name[len(prefix):].partition("-")[0]
            return int(pid) if pid.isdigit() else None
    return None


def sweep_scratch(*parents: str | None) -> list[str]:
    """Remove the scratch folders of dead processes; return their paths."""
    removed = []
    for parent in {Path(p or tempfile.gettempdir()) for p in (*parents, None)}:
        try:
            entries = list(parent.iterdir())
        except OSError:
            continue
        for entry in entries:
            pid = _owner(entry.name)
            if pid is not None and not alive(pid) and entry.is_dir() and entry.owner() == _me():
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(str(entry))
    return removed


def _me() -> str:
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


# -- server databases ----------------------------------------------------------------------------

def register(name: str, server_url: str) -> None:
    """Write down that this process made database `name` on `server_url`."""
    folder = registry()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    entry = folder / f"{name}.json"
    descriptor = os.open(entry, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"server": server_url, "owner": os.getpid()}, handle)


def forget(name: str) -> None:
    (registry() / f"{name}.json").unlink(missing_ok=True)


def _entries(owner: int | None = None) -> list[tuple[Path, dict]]:
    found = []
    for path in sorted(registry().glob("*.json")) if registry().is_dir() else []:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            pid = int(data["owner"])
        except (OSError, ValueError, KeyError, TypeError):
            continue  # being written, or not ours to read
        if owner is None or pid == owner:
            found.append((path, data))
    return found


def drop_owned(owner: int | None = None) -> list[str]:
    """Drop the registered databases of process `owner` (default: of every dead process)."""
    from sqlalchemy.engine import make_url

    from course.runtime import engines

    dropped = []
    for path, data in _entries(owner):
        if owner is None and alive(int(data["owner"])):
            continue
        server = make_url(data["server"])
        engines.drop_database(server.set(database=path.stem), server)
        path.unlink(missing_ok=True)
        dropped.append(path.stem)
    return dropped


def sweep() -> None:
    """What dead processes left: their databases and their scratch folders."""
    drop_owned()
    sweep_scratch(fast_scratch_parent())


def fast_scratch_parent() -> str | None:
    """Where throwaway workspaces go: memory-backed /dev/shm where there is one (a check on
    SQLite spends half its time syncing the database file to disk otherwise); None: the
    temp directory."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


# -- the watcher --------------------------------------------------------------------------------

_watched: int | None = None  # the process a watcher was started for (a forked child needs its own)
_pipe: int | None = None  # this process's end of the watcher's stdin: closed when the process ends
_windows_watcher: subprocess.Popen | None = None


def watch_me() -> None:
    """Start, once per process, a watcher that drops this process's databases when it ends.

    Spawned rather than kept as a subprocess.Popen: the watcher outlives its owner on purpose,
    and a Popen still running when the interpreter exits is reported as a ResourceWarning.
    """
    global _watched, _pipe
    if _watched == os.getpid():
        return
    argv = [sys.executable, "-m", "course.runtime.reaper", str(os.getpid())]
    if not hasattr(os, "posix_spawn"):  # Windows: no session of its own, but still a watcher
        global _windows_watcher
        _windows_watcher = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        _windows_watcher.returncode = 0  # never waited for: it ends after this process
        _watched, _pipe = os.getpid(), _windows_watcher.stdin.fileno()
        return
    read_end, write_end = os.pipe()  # both close-on-exec; dup2 makes the watcher's copy its stdin
    try:
        os.posix_spawn(sys.executable, argv, dict(os.environ), file_actions=[
            (os.POSIX_SPAWN_DUP2, read_end, 0),
            (os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0),
            (os.POSIX_SPAWN_OPEN, 2, os.devnull, os.O_WRONLY, 0),
        ], setsid=True)  # a session of its own: not killed with a kernel's process group
    finally:
        os.close(read_end)
    if _pipe is not None:
        os.close(_pipe)  # a forked child's copy of its parent's end: the parent's watcher is not ours
    _watched, _pipe = os.getpid(), write_end


def close_inherited_pipe() -> None:
    """In a forked child: close its copy of the parent's end of the watcher's stdin, so that
    the watcher sees the parent end when it ends, however long the child still runs."""
    global _watched, _pipe
    if _pipe is not None and _watched != os.getpid():
        os.close(_pipe)
        _watched, _pipe = None, None


def _watch(owner: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in the owner's terminal is not for us
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    sys.stdin.buffer.read()  # returns when the owner's end of the pipe closes: it has ended
    drop_owned(owner)


if __name__ == "__main__":
    _watch(int(sys.argv[1]))
