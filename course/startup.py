"""Several app processes starting at once against one database (chapter 2, notebook 16).

`race(function, workers)` starts `workers` processes that wait at a barrier and then call
`function()` at the same moment, like the workers of `uvicorn --workers N` that each run
`alembic upgrade head` at import. Each reports "ok" or its error in one line.

`locked_upgrade(config)` is the fix for when the upgrade has to run from the app: one
process at a time takes a lock, upgrades (or finds nothing to do), and lets the next one in.
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

LOCK_NAME = "alembic-upgrade"
LOCK_KEY = zlib.crc32(LOCK_NAME.encode())  # pg_advisory_lock takes a number


def one_line(exc: BaseException) -> str:
    """An error as `Type: first line of its message`, without SQLAlchemy's SQL and links."""
    origin = getattr(exc, "orig", None) or exc  # the driver's error inside SQLAlchemy's
    message = str(origin).strip().splitlines()[0] if str(origin).strip() else ""
    return f"{type(origin).__name__}: {message}"


def _worker(function: Callable[[], object], barrier, results, index: int) -> None:
    barrier.wait()
    started = time.perf_counter()
    try:
        function()
        outcome = "ok"
    except BaseException as exc:  # noqa: BLE001 - the outcome is the lesson
        outcome = one_line(exc)
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


@contextlib.contextmanager
def migration_lock(engine: sa.Engine, sqlite_lock_file: Path | None = None) -> Iterator[None]:
    """Hold a lock that only one migrating process can have at a time, on any engine.

    PostgreSQL and MySQL/MariaDB have named locks held by a session: a connection of its
    own keeps the lock while Alembic works on another one. SQLite has none; a lock on a
    file next to the database does the same for processes on one machine (the only place
    an SQLite file can be shared anyway).
    """
    dialect = engine.dialect.name
    if dialect == "sqlite":
        path = sqlite_lock_file or Path(engine.url.database + ".migrate-lock")
        with open(path, "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)  # waits for the holder; released on close
            yield
        return
    with engine.connect() as connection:
        if dialect == "postgresql":
            connection.execute(sa.text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            unlock = sa.text("SELECT pg_advisory_unlock(:key)").bindparams(key=LOCK_KEY)
        elif dialect == "mysql":
            got = connection.execute(sa.text("SELECT GET_LOCK(:name, 60)"), {"name": LOCK_NAME}).scalar()
            if got != 1:
                raise TimeoutError(f"could not take the MySQL lock {LOCK_NAME!r} within 60 s")
            unlock = sa.text("SELECT RELEASE_LOCK(:name)").bindparams(name=LOCK_NAME)
        else:
            raise NotImplementedError(f"no migration lock for {dialect}")
        connection.commit()  # the lock belongs to the session, not to this transaction
        try:
            yield
        finally:
            connection.execute(unlock)
            connection.commit()


def locked_upgrade(config: Config, engine: sa.Engine, revision: str = "head") -> None:
    """`alembic upgrade` that any number of processes may call at once: one at a time."""
    with migration_lock(engine):
        command.upgrade(config, revision)
