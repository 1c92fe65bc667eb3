"""Several app processes starting at once against one database (chapter 2, notebook 16).

`race(function, workers)` starts `workers` processes that wait at a barrier and then call
`function()` at the same moment, like the workers of `uvicorn --workers N` that each run
`alembic upgrade head` at import. Each reports "ok" or its error in one line.

`locked_upgrade(config, engine)` is the fix for when the upgrade has to run from the app: one
process at a time takes a lock, upgrades (or finds nothing to do), and lets the next one in.
A process that waits longer than the timeout (60 s unless told) stops with LockTimeout.
The lock is advisory: only processes that call locked_upgrade take it, so a plain
`alembic upgrade head` (an operator, a CI job) runs beside it (notebook 16 runs that). Its
connection sits idle while the migration runs, and a server that ends idle sessions
(PostgreSQL's idle_session_timeout, MariaDB's wait_timeout) releases it with the session.
"""

import contextlib
import fcntl
import multiprocessing
import time
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from course.runtime import errors


def _worker(function: Callable[[], object], barrier, results, index: int) -> None:
    barrier.wait()
    started = time.perf_counter()
    try:
        function()
        outcome = "ok"
    except BaseException as exc:  # noqa: BLE001 - the outcome is the lesson
        outcome = errors.typed(exc)  # `Type: first line`, without SQLAlchemy's SQL and links
    results.put((index, outcome, time.perf_counter() - started))


def race(function: Callable[[], object], workers: int = 2) -> list[str]:
    """Call `function()` in `workers` forked processes at once; their outcomes, in order.

    Fork (not spawn): the children start in milliseconds with everything already imported,
    so they really reach the database together.
    """
    context = multiprocessing.get_context("fork")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [context.Process(target=_worker, args=(function, barrier, results, i)) for i in range(workers)]
    for process in processes:
        process.start()
    outcomes = dict((index, outcome) for index, outcome, _ in (results.get(timeout=60) for _ in processes))
    for process in processes:
        process.join()
    return [outcomes[i] for i in range(workers)]


LOCK_TIMEOUT = 60.0  # seconds a process waits for the lock, on every engine, before giving up


class LockTimeout(TimeoutError):
    """Another process held the migration lock for longer than the timeout."""


def lock_name(engine: sa.Engine) -> str:
    # MariaDB's GET_LOCK names are shared by every database on the server: with the
    # database's name in it, two apps on one server do not wait for each other.
    return f"alembic-upgrade:{engine.url.database}"


def _wait_for(try_lock: Callable[[], bool], timeout: float, what: str) -> None:
    """Call `try_lock()` until it takes the lock; raise LockTimeout after `timeout` seconds.

    Every engine is asked without waiting and asked again, so the limit is the same on all
    three (PostgreSQL's pg_advisory_lock would wait until the session's lock_timeout, off by
    default, stops it; MariaDB's GET_LOCK as long as its own timeout argument says).
    """
    deadline = time.monotonic() + timeout
    while not try_lock():
        if time.monotonic() >= deadline:
            raise LockTimeout(
                f"{what} is still held by another process after {timeout:g} s: a migration is "
                "running or hung there; find it before starting another"
            )
        time.sleep(0.1)


def _try_flock(handle) -> bool:
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def migration_lock(engine: sa.Engine, timeout: float = LOCK_TIMEOUT,
                   sqlite_lock_file: Path | None = None) -> Iterator[None]:
    """Hold a lock that only one migrating process can have at a time, on any engine.

    PostgreSQL and MariaDB have named locks held by a session: a connection of its own
    keeps the lock while Alembic works on another one (a direct connection: behind a
    transaction-pooling proxy the session is not the client's; on a MariaDB Galera cluster
    GET_LOCK is refused). SQLite has none; a lock on a file next to the database does the
    same for processes on one machine (the only place an SQLite file can be shared anyway).
    """
    dialect = engine.dialect.name
    if dialect == "sqlite":
        path = sqlite_lock_file or Path(engine.url.database + ".migrate-lock")
        with open(path, "w") as handle:
            _wait_for(lambda: _try_flock(handle), timeout, f"the lock file {path.name}")
            yield  # closing the file releases the lock
        return
    name = lock_name(engine)
    if dialect == "postgresql":
        key = zlib.crc32(name.encode())  # advisory locks take a number
        take = sa.text("SELECT pg_try_advisory_lock(:key)").bindparams(key=key)
        release = sa.text("SELECT pg_advisory_unlock(:key)").bindparams(key=key)
    elif dialect == "mysql":
        take = sa.text("SELECT GET_LOCK(:name, 0) = 1").bindparams(name=name)
        release = sa.text("SELECT RELEASE_LOCK(:name)").bindparams(name=name)
    else:
        raise NotImplementedError(f"no migration lock for {dialect}")
    with engine.connect() as connection:
        _wait_for(lambda: bool(connection.execute(take).scalar()), timeout, f"the lock {name!r}")
        connection.commit()  # the lock belongs to the session, not to this transaction
        try:
            yield
        finally:
            connection.execute(release)
            connection.commit()


def locked_upgrade(config: Config, engine: sa.Engine, revision: str = "head",
                   timeout: float = LOCK_TIMEOUT) -> None:
    """`alembic upgrade` that any number of processes may call at once: one at a time."""
    with migration_lock(engine, timeout):
        command.upgrade(config, revision)
