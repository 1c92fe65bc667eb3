"""Sessions that hold, wait for and queue behind table locks, for chapter 3's lessons.

The lessons keep several connections busy at once (a reader's open transaction, a migration,
a writer inserting rows) and then ask the server who waits for whom. The threads live here,
so that a notebook cell says what happens rather than how threads are joined; every wait is
bounded and every thread is joined however a cell ends, so nothing can hang a test run.

    with locks.Writer(ws.engine, "user") as writer:      # inserts a row per transaction
        ...                                              # writer.writes: how many so far
    job = locks.background(ws.upgrade, "0003")           # a call in a thread
    locks.wait_for(lambda: ..., what="...")              # polls, bounded
    locks.sessions(ws.engine, names)                     # each session: state, waits for whom

Sessions are told apart by name: `locks.name(connection, "reader")` records the server's id
of a connection (PostgreSQL's backend pid, MariaDB's connection id). A session opened
elsewhere (Alembic's, inside env.py) is recognised by the statement it runs.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import sqlalchemy as sa

BOUND = 10.0  # seconds: the longest any helper here waits for anything, then it gives up loudly
_writers = itertools.count(1)  # each Writer's usernames are its own: username is unique


def server_id(connection: sa.Connection) -> int:
    """The server's id of a connection's session."""
    if connection.dialect.name == "postgresql":
        return connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    return connection.exec_driver_sql("SELECT connection_id()").scalar()


def name(connection: sa.Connection, label: str, names: dict[int, str]) -> sa.Connection:
    """Record `label` for the connection's session in `names` (server id -> label)."""
    names[server_id(connection)] = label
    return connection


def wait_for(condition: Callable[[], object], what: str, bound: float = BOUND) -> object:
    """Poll `condition` every 20 ms until it returns something true; give up after `bound`
    seconds with an error naming `what` (a broken set-up, never a measurement)."""
    deadline = time.monotonic() + bound
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {bound:g} s waiting for {what}")
        time.sleep(0.02)


@dataclass
class Job:
    """A call running in a thread: `result()` joins it (bounded) and returns or raises."""

    thread: threading.Thread
    outcome: dict = field(default_factory=dict)

    def result(self, bound: float = BOUND):
        self.thread.join(bound)
        if self.thread.is_alive():
            raise TimeoutError(f"the background call did not finish within {bound:g} s")
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome.get("value")

    def error(self, bound: float = BOUND) -> BaseException | None:
        """Join it and return what it raised (None if it returned)."""
        try:
            self.result(bound)
        except Exception as exc:  # noqa: BLE001 - the caller looks at it
            return exc
        return None


def background(call: Callable, *args, **kwargs) -> Job:
    """Start `call(*args, **kwargs)` in a daemon thread."""
    outcome: dict = {}

    def run():
        try:
            outcome["value"] = call(*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller by Job.result
            outcome["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    job = Job(thread, outcome)
    thread.start()
    return job


class Writer:
    """The app, writing: a thread that inserts one user per transaction into `user`, as fast as
    the table lets it, until the block ends. `writes` counts the committed inserts.

    Its session gives up on a lock after `lock_wait` seconds (whole seconds on MariaDB), so a
    writer can never outlive the lesson; an insert that gave up is counted in `gave_up`."""

    def __init__(self, engine: sa.Engine, names: dict[int, str] | None = None, label: str = "writer",
                 lock_wait: int = 5):
        self.engine, self.names, self.label, self.lock_wait = engine, names, label, lock_wait
        self.writes = 0
        self.gave_up: list[str] = []
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def _run(self) -> None:
        user = sa.table("user", sa.column("username"), sa.column("password_hash"), sa.column("email"))
        try:
            with self.engine.connect() as connection:
                if connection.dialect.name == "postgresql":
                    connection.exec_driver_sql(f"SET lock_timeout = '{self.lock_wait}s'")
                else:
                    connection.exec_driver_sql(f"SET SESSION lock_wait_timeout = {self.lock_wait}")
                if self.names is not None:
                    name(connection, self.label, self.names)
                connection.commit()
                self._ready.set()
                number, prefix = 0, f"{self.label}{next(_writers)}"
                while not self._stop.is_set():
                    number += 1
                    try:
                        connection.execute(user.insert().values(
                            username=f"{prefix}-{number}", password_hash="-", email=f"{prefix}-{number}@example.com"))
                        connection.commit()
                        self.writes += 1
                    except sa.exc.OperationalError as exc:
                        connection.rollback()
                        self.gave_up.append(str(exc.orig))
                    self._stop.wait(0.005)
        except BaseException as exc:  # noqa: BLE001 - raised again when the block ends
            self._error = exc
            self._ready.set()

    def __enter__(self) -> "Writer":
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(BOUND)
        wait_for(lambda: self.writes > 0 or self._error, "the writer's first insert")
        return self

    def __exit__(self, *exc_info) -> None:
        self._stop.set()
        self._thread.join(BOUND + self.lock_wait)
        if self._thread.is_alive():
            raise TimeoutError("the writer did not stop")
        if self._error is not None and exc_info[0] is None:
            raise self._error

    def goes_on(self, bound: float = BOUND) -> bool:
        """Whether the writer commits one more insert within `bound` seconds (it returns as
        soon as it does: a fact that does not depend on how fast this machine is)."""
        before = self.writes
        deadline = time.monotonic() + bound
        while self.writes == before and time.monotonic() < deadline:
            time.sleep(0.005)
        return self.writes > before

    def writes_during(self, seconds: float) -> int:
        """How many inserts the writer commits in the next `seconds`."""
        before = self.writes
        time.sleep(seconds)
        return self.writes - before


def sessions(engine: sa.Engine, names: dict[int, str], statements: dict[str, str] | None = None) -> list[tuple]:
    """Every other session on the database: (who, what the server says it is doing, whom it
    waits for). `names` maps server ids to labels; `statements` labels sessions by the start of
    the statement they run (a migration's ALTER TABLE, say). PostgreSQL says whom a session
    waits for (pg_blocking_pids); MariaDB's process list says only that it waits."""
    statements = statements or {}

    def who(ident: int, query: str | None) -> str:
        if ident in names:
            return names[ident]
        return next((label for start, label in statements.items() if (query or "").lstrip().startswith(start)), f"session {ident}")

    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            rows = connection.exec_driver_sql(
                "SELECT pid, query, state, wait_event_type, wait_event, pg_blocking_pids(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid() ORDER BY backend_start").all()
            found = []
            labels = {pid: who(pid, query) for pid, query, *_ in rows}
            for pid, query, state, wait_type, wait_event, blockers in rows:
                doing = f"{state}, waiting for a {wait_event} lock" if wait_type == "Lock" else state
                found.append((labels[pid], doing, ", ".join(labels.get(b, str(b)) for b in blockers) or "-"))
            return found
        rows = connection.exec_driver_sql(
            "SELECT id, info, command, state FROM information_schema.processlist "
            "WHERE db = database() AND id <> connection_id() ORDER BY id").all()
        return [(who(ident, info), f"{command}: {state}" if state else command, "(not in the process list)")
                for ident, info, command, state in rows]


def waiting(bind: sa.Engine | sa.Connection, statement_start: str) -> int:
    """How many sessions running a statement that starts with `statement_start` (after any
    leading white space: Alembic starts some with a line break) wait for a lock. `bind`: an
    engine (a new session asks), or the connection of a watcher that asks again and again (a
    new session for each question would cost a server process on PostgreSQL); its transaction
    is ended after each question, because PostgreSQL reads pg_stat_activity once per transaction."""
    if isinstance(bind, sa.Engine):
        with bind.connect() as connection:
            return waiting(connection, statement_start)
    if bind.dialect.name == "postgresql":
        query = ("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                 "AND wait_event_type = 'Lock' AND ltrim(query, E' \\t\\r\\n') LIKE :start")
    else:
        query = ("SELECT count(*) FROM information_schema.processlist WHERE db = database() "
                 "AND state LIKE 'Waiting for%lock' AND TRIM(LEADING '\\n' FROM TRIM(info)) LIKE :start")
    try:
        return bind.execute(sa.text(query), {"start": statement_start + "%"}).scalar()
    finally:
        bind.rollback()


def table_locks(engine: sa.Engine, table: str, names: dict[int, str], statements: dict[str, str] | None = None) -> list[tuple]:
    """PostgreSQL: the locks other sessions hold or wait for on `table`, as (who, mode, granted)."""
    statements = statements or {}
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT l.pid, a.query, l.mode, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE c.relname = :table AND l.pid <> pg_backend_pid() "
            "ORDER BY a.backend_start, l.mode"), {"table": table}).all()
    found = []
    for pid, query, mode, granted in rows:
        who = names.get(pid) or next((label for start, label in statements.items() if (query or "").lstrip().startswith(start)),
                                     f"session {pid}")
        found.append((who, mode, "held" if granted else "waiting"))
    return found
