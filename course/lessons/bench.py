"""Backfilling a new column on a big table: one UPDATE or batches, and who waits meanwhile.

The question is what a backfill does to the application that keeps running during it, so the
benchmark plays that application in a separate process and measures what it got done.

One run, on one database (an empty one: it makes tables of its own):

1. `bench_source` is bulk-loaded once with `rows` rows (executemany on SQLite, multi-row INSERTs
   on MariaDB, COPY on PostgreSQL); `bench_other` gets 100 rows.
2. Before every backfill, `bench_item` is dropped and copied from `bench_source`, and the new
   column `score` is added, nullable: every backfill starts from the same state.
3. The backfill is one of the variants: "single_update" (one `UPDATE ... WHERE score IS NULL`,
   one transaction) or "batches_N" (the same UPDATE on one range of N ids at a time, committed
   after each range, all on one connection, key ranges, never OFFSET).
4. One UPDATE and the main batch size run in each of `repetitions` repetitions, the other batch
   sizes in the first `sweep_repetitions`, in an order rotated from one repetition to the next;
   in the first `control_repetitions` one UPDATE and the main batch size also run without the
   writers (the control: what the backfill costs with nobody else there, and what the writers
   cost it).
5. After each repetition: the writers alone on the table (the baseline), then `score` is made
   NOT NULL (Alembic's `alter_column`, in batch mode so SQLite can do it) while they write.

The writers are a separate process (`python -m course.lessons.bench --writer`) with one thread and one
connection per kind of write: "insert" (a new row of bench_item, with its score, as the new
release writes it), "update" (an existing row of bench_item, so a row the backfill is filling)
and "other" (a row of bench_other, a table the backfill never touches). Each thread is
open-loop: it plans `rate` writes a second on a fixed schedule, whatever happens to them, and
measures each write's latency from the moment it was planned, so a write stuck behind a lock
delays every write planned after it, as requests queue up in an application. What a phase
reports per kind: the writes planned while it ran, how many completed while it ran (the
throughput: a blocked writer shows as lost writes, not as one slow sample), p50/p99/max latency,
the longest stretch without a completed write, failures, and completions per 0.1 s.

    run(url_or_sqlite_path, rows, ...) -> dict       one engine, any size
    lock_probe(url_or_sqlite_path) -> dict           who blocks whom, from the engines' own answers
    python -m course.lessons.bench --out chapters/02_production/bench/
        runs SQLite (rollback journal and WAL), MariaDB and PostgreSQL (COURSE_TEST_MARIADB_URL /
        COURSE_TEST_POSTGRESQL_URL or the local defaults), each in a database of its own that is
        dropped afterwards, and writes results.json, results.md and results.png (needs matplotlib).
    python -m course.lessons.bench --render      rewrite results.md and results.png from results.json
"""

import argparse
import itertools
import json
import math
import os
import platform
import random
import select
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from course import REPO, settings
from course.runtime import engines, errors

TABLE, SOURCE, OTHER = "bench_item", "bench_source", "bench_other"
COLUMN = "score"
OTHER_ROWS = 100
# The engines, and SQLite once more in WAL mode: a column of its own in every result.
ENGINE_KEYS = ("sqlite", "sqlite_wal", "mariadb", "postgresql")
ENGINE_TITLES = {**engines.ENGINE_TITLES, "sqlite_wal": "SQLite (WAL)"}
KINDS = ("insert", "update", "other")
KIND_TITLES = {"insert": "INSERT of a new row", "update": "UPDATE of a row being backfilled",
               "other": "UPDATE of another table"}
KIND_SHORT = {"insert": "INSERT", "update": "UPDATE", "other": "other table"}
DEFAULTS = {  # what `make bench` measures; the tests and the notebook pass smaller values
    # Half a million rows: the whole plan below took about 15 minutes on a million rows on the
    # shared two-core machine (extrapolated from runs at 100,000 and 1,000,000 rows); `make bench`
    # must stay under ten.
    "rows": 500_000,
    "batch_sizes": (1_000, 10_000, 100_000),
    "main_batch": 10_000,  # compared with one UPDATE in every repetition
    "repetitions": 5,  # one UPDATE, the main batch size, the writers alone, SET NOT NULL
    "sweep_repetitions": 2,  # the other batch sizes (the first repetitions)
    "control_repetitions": 1,  # one UPDATE and the main batch size also without the writers
    # Writes a second planned per kind. Three connections at 10 a second each is what SQLite's
    # rollback journal kept up with on this machine's disk (about 10 ms per commit when busy);
    # at 50 a second one of three writers got nothing done even with no backfill running.
    "rate": 10.0,
    "lead_seconds": 0.2,  # the writers write alone this long before and after each phase
    "baseline_seconds": 1.0,
}
BIN_SECONDS = 0.1  # completed writes are counted per interval of this length
DRAIN_SECONDS = 10.0  # after a phase, writes planned during it may finish for this long
DEFAULT_OUT = REPO / "chapters" / "02_production" / "bench"

METADATA = sa.MetaData()
sa.Table(SOURCE, METADATA, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
         sa.Column("name", sa.String(40), nullable=False), sa.Column("amount", sa.Integer, nullable=False))
sa.Table(OTHER, METADATA, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
         sa.Column("hits", sa.Integer, nullable=False))
ITEMS = sa.Table(TABLE, sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("name", sa.String(40), nullable=False), sa.Column("amount", sa.Integer, nullable=False))
# The same table with the new column, for statements that use it (no DDL is made from this).
ITEMS_NEW = sa.table(TABLE, sa.column("id"), sa.column("name"), sa.column("amount"), sa.column(COLUMN))
VALUE = ITEMS_NEW.c.amount * 2 + 1  # what the backfill writes: derived from the row itself


def variant_name(batch_size: int | None) -> str:
    return "single_update" if batch_size is None else f"batches_{batch_size}"


def variant_title(name: str) -> str:
    if name == "single_update":
        return "one UPDATE"
    return f"batches of {int(name.rpartition('_')[2]):,}"


# -- engines ----------------------------------------------------------------------------------
def to_url(url_or_sqlite_path: str | URL | Path) -> URL:
    """A database URL, or a path to a SQLite file (made if missing)."""
    text = str(url_or_sqlite_path) if isinstance(url_or_sqlite_path, Path) else url_or_sqlite_path
    if isinstance(text, str) and "://" not in text:
        return make_url(f"sqlite:///{Path(text).resolve()}")
    return make_url(text)


def make_engine(url: URL) -> Engine:
    # Default settings, as a project would have them; NullPool: each thread its own connection.
    return sa.create_engine(url, poolclass=NullPool)


def set_journal_mode(engine: Engine, journal_mode: str | None) -> None:
    """SQLite only: the journal mode is stored in the file, so every later connection has it."""
    if journal_mode is None:
        return
    if engine.dialect.name != "sqlite":
        raise ValueError("journal_mode applies to SQLite only")
    with engine.connect() as connection:
        got = connection.exec_driver_sql(f"PRAGMA journal_mode={journal_mode}").scalar()
    if got.lower() != journal_mode.lower():
        raise RuntimeError(f"SQLite kept journal_mode={got}, not {journal_mode}")


def engine_key(engine: Engine) -> str:
    """engines.connected_name(), with SQLite in WAL mode told apart: 'sqlite_wal'."""
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        return "sqlite_wal" if mode.lower() == "wal" else "sqlite"
    return engines.connected_name(engine)


def server_version(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    numbers = ".".join(str(n) for n in engine.dialect.server_version_info[:3])
    return f"{ENGINE_TITLES[engine_key(engine)]} {numbers}"


def settings(engine: Engine) -> dict:
    """The settings that decide who waits for whom and what a commit costs, as the server reports them."""
    name = engine.dialect.name
    with engine.connect() as connection:
        if name == "sqlite":
            return {n: connection.exec_driver_sql(f"PRAGMA {n}").scalar()
                    for n in ("journal_mode", "synchronous", "busy_timeout")}
        if name == "mysql":
            names = ("transaction_isolation", "tx_isolation", "innodb_lock_wait_timeout", "innodb_buffer_pool_size",
                     "innodb_flush_log_at_trx_commit", "log_bin", "innodb_purge_threads")
            found = dict(connection.exec_driver_sql(
                "SHOW VARIABLES WHERE Variable_name IN (" + ", ".join(f"'{n}'" for n in names) + ")"
            ).all())
            if "transaction_isolation" in found:  # MariaDB 11.1+ renamed tx_isolation
                found.pop("tx_isolation", None)
            return dict(sorted(found.items()))
        names = ("default_transaction_isolation", "lock_timeout", "shared_buffers", "synchronous_commit",
                 "wal_level", "wal_buffers", "max_wal_size", "autovacuum")
        return {n: connection.exec_driver_sql(f"SHOW {n}").scalar() for n in names}


# -- the tables ----------------------------------------------------------------------------------
def _rows(count: int):
    return ((i, f"item-{i}", i % 1000) for i in range(1, count + 1))


def load_source(engine: Engine, rows: int) -> None:
    """Drop and create the source tables, then bulk-load `rows` rows, the fastest way each driver has."""
    METADATA.drop_all(engine)
    ITEMS.drop(engine, checkfirst=True)
    METADATA.create_all(engine)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        name = engine.dialect.name
        if name == "postgresql":
            with driver.cursor() as cursor:
                with cursor.copy(f"COPY {SOURCE} (id, name, amount) FROM STDIN") as copy:
                    for row in _rows(rows):
                        copy.write_row(row)
        else:
            marker = "?" if name == "sqlite" else "%s"
            cursor = driver.cursor()
            generator = _rows(rows)
            # PyMySQL turns executemany of an INSERT ... VALUES into multi-row INSERTs.
            while chunk := [row for _, row in zip(range(50_000), generator)]:
                cursor.executemany(f"INSERT INTO {SOURCE} (id, name, amount) VALUES ({marker}, {marker}, {marker})", chunk)
            cursor.close()
        driver.commit()
    finally:
        raw.close()
    with engine.begin() as connection:
        connection.execute(sa.text(f"INSERT INTO {OTHER} (id, hits) VALUES (:id, 0)"),
                           [{"id": i} for i in range(1, OTHER_ROWS + 1)])


def reset(engine: Engine) -> None:
    """bench_item as before a backfill: a copy of bench_source plus the new column, nullable."""
    with engine.begin() as connection:
        ITEMS.drop(connection, checkfirst=True)
        ITEMS.create(connection)
        connection.execute(sa.text(f"INSERT INTO {TABLE} (id, name, amount) SELECT id, name, amount FROM {SOURCE}"))
    # Fresh statistics, as a table in service has: the batches' range plan is then the same
    # every time, not whatever the server's background statistics happen to have reached.
    if engine.dialect.name == "mysql":
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ANALYZE TABLE {TABLE}").all()  # it answers with a result set
    elif engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ANALYZE {TABLE}")
    add_column(engine)


def add_column(engine: Engine) -> None:
    with engine.begin() as connection:
        Operations(MigrationContext.configure(connection)).add_column(TABLE, sa.Column(COLUMN, sa.Integer, nullable=True))


def set_not_null(engine: Engine) -> None:
    """What the migration after the backfill does. SQLite cannot ALTER a column: batch mode
    copies the table; MariaDB and PostgreSQL get a plain ALTER TABLE."""
    with engine.begin() as connection:
        op = Operations(MigrationContext.configure(connection))
        with op.batch_alter_table(TABLE) as batch:
            batch.alter_column(COLUMN, existing_type=sa.Integer(), nullable=False)


def single_update(engine: Engine) -> dict:
    with engine.begin() as connection:
        updated = connection.execute(sa.update(ITEMS_NEW).where(ITEMS_NEW.c[COLUMN].is_(None)).values({COLUMN: VALUE})).rowcount
    return {"rows_updated": updated, "transactions": 1}


def batches(engine: Engine, batch_size: int) -> dict:
    """Fill `score` one range of ids at a time, each range committed; one connection throughout."""
    with engine.connect() as connection:
        low, high = connection.execute(sa.select(sa.func.min(ITEMS_NEW.c.id), sa.func.max(ITEMS_NEW.c.id))).one()
        connection.commit()
        updated = transactions = 0
        longest = 0.0
        for start in range(low, high + 1, batch_size):
            began = time.monotonic()
            with connection.begin():  # commit per batch: locks are held one batch long
                updated += connection.execute(
                    sa.update(ITEMS_NEW)
                    .where(ITEMS_NEW.c.id >= start, ITEMS_NEW.c.id < start + batch_size, ITEMS_NEW.c[COLUMN].is_(None))
                    .values({COLUMN: VALUE})
                ).rowcount
            transactions += 1
            longest = max(longest, time.monotonic() - began)
    return {"rows_updated": updated, "transactions": transactions, "longest_transaction_s": round(longest, 4)}


def backfill(engine: Engine, batch_size: int | None) -> dict:
    return single_update(engine) if batch_size is None else batches(engine, batch_size)


def verify(engine: Engine) -> dict:
    """NULLs left and wrong values, over the whole table (the writers' own rows included)."""
    with engine.connect() as connection:
        nulls, wrong = connection.execute(sa.select(  # one pass; MariaDB has no FILTER clause
            sa.func.sum(sa.case((ITEMS_NEW.c[COLUMN].is_(None), 1), else_=0)),
            sa.func.sum(sa.case((ITEMS_NEW.c[COLUMN] != VALUE, 1), else_=0)),
        )).one()
    return {"nulls": int(nulls), "wrong_values": int(wrong)}


def column_nullable(engine: Engine) -> bool:
    column = next(c for c in sa.inspect(engine).get_columns(TABLE) if c["name"] == COLUMN)
    return bool(column["nullable"])


def wal_position(engine: Engine) -> str | None:
    """PostgreSQL's current WAL position (None elsewhere): what a standby streams."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        return connection.exec_driver_sql("SELECT pg_current_wal_insert_lsn()::text").scalar()


def wal_bytes_since(engine: Engine, start: str | None) -> int | None:
    """WAL written since `start` (the writers' few rows included: small next to a backfill)."""
    if start is None:
        return None
    with engine.connect() as connection:
        return int(connection.exec_driver_sql(
            f"SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '{start}'::pg_lsn)").scalar())


# What a refused write or ALTER said: "1205: Lock wait timeout exceeded", "LockNotAvailable".
describe_error = errors.reason


# -- the writers' process ---------------------------------------------------------------------------
_STATEMENTS = {
    "insert": f"INSERT INTO {TABLE} (id, name, amount, {COLUMN}) VALUES (:id, :name, :amount, :score)",
    "update": f"UPDATE {TABLE} SET name = :name WHERE id = :id",
    "other": f"UPDATE {OTHER} SET hits = hits + 1 WHERE id = :id",
}


class _Session:
    """One phase of writing: a thread per kind, each on a connection of its own, open-loop."""

    def __init__(self, url: str, kinds, rate: float, rows: int, next_id: int, seed: int, drain: float = DRAIN_SECONDS):
        self.kinds, self.rate, self.rows, self.next_id, self.drain = list(kinds), rate, rows, next_id, drain
        self.random = {kind: random.Random(seed * 31 + i) for i, kind in enumerate(self.kinds)}
        self.records: dict[str, list] = {kind: [] for kind in self.kinds}
        self.stop_at = math.inf
        self.stopping = threading.Event()
        self.crash: str | None = None
        self.engine = make_engine(make_url(url))
        self.connections = {kind: self.engine.connect() for kind in self.kinds}
        self.t0 = time.monotonic()
        self.threads = [threading.Thread(target=self._loop, args=(i, kind), daemon=True) for i, kind in enumerate(self.kinds)]
        for thread in self.threads:
            thread.start()

    def _params(self, kind: str) -> dict:
        if kind == "insert":  # the new release writes the new column itself
            new_id, self.next_id = self.next_id, self.next_id + 1
            return {"id": new_id, "name": f"new-{new_id}", "amount": new_id % 1000, "score": (new_id % 1000) * 2 + 1}
        if kind == "update":
            row = self.random[kind].randint(1, self.rows)
            return {"id": row, "name": f"renamed-{row}"}
        return {"id": self.random[kind].randint(1, OTHER_ROWS)}

    def _loop(self, index: int, kind: str) -> None:
        period = 1.0 / self.rate
        offset = index * period / len(self.kinds)  # the kinds take turns, not all at the same instant
        statement = sa.text(_STATEMENTS[kind])
        connection, records = self.connections[kind], self.records[kind]
        try:
            for k in range(10**9):
                planned = self.t0 + offset + k * period
                if planned > self.stop_at:
                    return
                now = time.monotonic()
                if now < planned:
                    self.stopping.wait(planned - now)
                    if planned > self.stop_at:
                        return
                elif now > self.stop_at + self.drain:
                    # Planned during the phase but never started: counted, not dropped.
                    while planned <= self.stop_at:
                        records.append((planned, None, None, "not done"))
                        k += 1
                        planned = self.t0 + offset + k * period
                    return
                started = time.monotonic()
                error = None
                try:
                    with connection.begin():
                        connection.execute(statement, self._params(kind))
                except DBAPIError as exc:
                    error = describe_error(exc)
                records.append((planned, started, time.monotonic(), error))
        except BaseException as exc:  # noqa: BLE001 - reported to the main process
            self.crash = f"{kind} writer: {exc!r}"

    def finish(self, stop_at: float) -> dict:
        self.stop_at = stop_at
        self.stopping.set()
        for thread in self.threads:
            thread.join()
        for connection in self.connections.values():
            connection.close()
        self.engine.dispose()
        return {"records": self.records, "next_id": self.next_id, "crash": self.crash}


def writer_main(stdin=sys.stdin, stdout=sys.stdout) -> int:
    """The writers' process: JSON commands on stdin, one JSON answer per command on stdout."""
    session = None
    for line in stdin:
        command = json.loads(line)
        try:
            if command["cmd"] == "begin":
                session = _Session(command["url"], command["kinds"], command["rate"], command["rows"],
                                   command["next_id"], command["seed"], command.get("drain", DRAIN_SECONDS))
                answer = {"ready": True}
            elif command["cmd"] == "end":
                answer, session = session.finish(command["at"]), None
            else:
                return 0
        except Exception as exc:  # noqa: BLE001 - the main process raises it with this text
            answer = {"crash": f"{type(exc).__name__}: {exc}"}
        stdout.write(json.dumps(answer) + "\n")
        stdout.flush()
    return 0


class Writers:
    """The main process's handle on the writers' process: begin() a phase, end() it."""

    def __init__(self, url: URL, rows: int, rate: float, kinds=KINDS, drain: float = DRAIN_SECONDS):
        self.url, self.rows, self.rate, self.kinds = url.render_as_string(hide_password=False), rows, rate, list(kinds)
        self.drain = drain
        self._log = tempfile.TemporaryFile(mode="w+")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "course.lessons.bench", "--writer"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self._log, text=True, env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )

    def _ask(self, command: dict, timeout: float = 120.0) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        ready, _, _ = select.select([self.process.stdout], [], [], timeout)
        line = self.process.stdout.readline() if ready else ""
        answer = json.loads(line) if line else {"crash": "no answer from the writers' process"}
        if answer.get("crash"):
            self._log.seek(0)
            raise RuntimeError(f"the writers failed: {answer['crash']}\n{self._log.read()[-2000:]}")
        return answer

    def begin(self, next_id: int, seed: int) -> None:
        self._ask({"cmd": "begin", "url": self.url, "kinds": self.kinds, "rate": self.rate, "rows": self.rows,
                   "next_id": next_id, "seed": seed, "drain": self.drain})

    def end(self) -> dict:
        return self._ask({"cmd": "end", "at": time.monotonic()}, timeout=self.drain + 120)

    def close(self) -> None:
        try:
            self.process.stdin.close()
            self.process.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self._log.close()


# -- what the writers saw ----------------------------------------------------------------------------
def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def kind_stats(records, began: float, ended: float, rate: float, lead: float) -> dict:
    """One kind of write during [began, ended): see the module's docstring for each number."""
    during = [r for r in records if began <= r[0] < ended]
    succeeded = [r[2] for r in records if r[2] is not None and r[3] is None]  # a failed write is not throughput
    done = sorted(t for t in succeeded if began <= t < ended)
    last = max([r[2] for r in records if r[2] is not None] + [ended])
    # a write that never finished counts as waiting until the writers stopped: a lower bound
    latencies = [((r[2] if r[2] is not None else last) - r[0]) * 1000 for r in during]
    errors: dict[str, int] = {}
    for r in during:
        if r[3]:
            errors[r[3]] = errors.get(r[3], 0) + 1
    edges = [began, *done, ended]
    expected = rate * (ended - began)
    low = began - lead
    bins = [0] * max(1, math.ceil((ended + lead - low) / BIN_SECONDS))
    for t in succeeded:
        if low <= t < low + len(bins) * BIN_SECONDS:
            bins[int((t - low) / BIN_SECONDS)] += 1
    stats = {
        "planned": len(during),
        "done": len(done),
        "done_pct": round(100 * len(done) / expected, 1) if expected else None,
        "failed": sum(errors.values()),
        "errors": errors,
        "stall_ms": round(max(b - a for a, b in zip(edges, edges[1:])) * 1000, 1),
        "bins": bins,
    }
    if latencies:
        stats |= {"p50_ms": round(percentile(latencies, 50), 2), "p99_ms": round(percentile(latencies, 99), 2),
                  "max_ms": round(max(latencies), 2)}
    return stats


def writer_stats(answer: dict, began: float, ended: float, rate: float, lead: float) -> dict:
    return {kind: kind_stats(records, began, ended, rate, lead) for kind, records in answer["records"].items()}


def measure(work, writers: Writers | None, state: dict, seed: int, lead: float, rate: float) -> tuple[float, object, dict | None]:
    """work() while the writers write (from `lead` s before it to `lead` s after): (wall s, its result, stats).

    `state` carries the next id for the INSERTs and, per kind, how many writes succeeded, so the
    run can compare the writers' own count with what the tables hold.
    """
    if writers is None:
        began = time.monotonic()
        outcome = work()
        return time.monotonic() - began, outcome, None
    writers.begin(state["next_id"], seed)
    try:
        time.sleep(lead)  # the writers are in their stride when the work starts
        began = time.monotonic()
        outcome = work()
        ended = time.monotonic()
        time.sleep(lead)
    finally:
        answer = writers.end()
    state["next_id"] = answer["next_id"]
    for kind, records in answer["records"].items():
        state[kind] = state.get(kind, 0) + sum(1 for r in records if r[2] is not None and r[3] is None)
    return ended - began, outcome, writer_stats(answer, began, ended, rate, lead)


# -- one engine ------------------------------------------------------------------------------------
def spread(values: list[float]) -> dict:
    """Median and range of a list of measurements (None where nothing was measured)."""
    values = [v for v in values if v is not None]
    if not values:
        return {"n": 0}
    return {"median": round(statistics.median(values), 4), "min": round(min(values), 4), "max": round(max(values), 4),
            "n": len(values)}


def _writer_summary(phases: list[dict]) -> dict:
    summary = {}
    for kind in KINDS:
        mine = [p[kind] for p in phases if p and kind in p]
        if mine:
            summary[kind] = {key: spread([m.get(key) for m in mine]) for key in ("p99_ms", "done_pct", "stall_ms")}
            summary[kind]["failed"] = sum(m["failed"] for m in mine)
            summary[kind]["planned"] = sum(m["planned"] for m in mine)
    return summary


def summarize(result: dict) -> dict:
    """Per variant (and baseline, SET NOT NULL): median and range over the repetitions."""
    summary = {}
    for name in result["variants"]:
        mine = [r for r in result["runs"] if r["variant"] == name]
        loaded = [r for r in mine if r["writers"]]
        summary[name] = {
            "transactions": max(r["transactions"] for r in mine),
            "wall_s": spread([r["wall_s"] for r in loaded]),
            "control_wall_s": spread([r["wall_s"] for r in mine if not r["writers"]]),
            "longest_transaction_s": spread([r.get("longest_transaction_s", r["wall_s"]) for r in loaded]),
            "wal_mb": spread([r["wal_bytes"] / 1e6 if r.get("wal_bytes") is not None else None for r in mine]),
            "writer": _writer_summary([r["writer"] for r in loaded]),
        }
    summary["baseline"] = {"writer": _writer_summary([b["writer"] for b in result["baseline"]])}
    summary["set_not_null"] = {"wall_s": spread([s["wall_s"] for s in result["set_not_null"]]),
                               "writer": _writer_summary([s["writer"] for s in result["set_not_null"]])}
    return summary


def choose_main_batch(batch_sizes, main_batch: int | None = None) -> int:
    """The batch size compared with one UPDATE in every repetition: the one asked for, else the
    default if it is among the sizes, else the middle size."""
    if main_batch is None:
        return DEFAULTS["main_batch"] if DEFAULTS["main_batch"] in batch_sizes else sorted(batch_sizes)[len(batch_sizes) // 2]
    return main_batch


def plan(repetitions: int, batch_sizes, main_batch: int, sweep_repetitions: int, control_repetitions: int):
    """The backfills of each repetition, in order: (variant's batch size or None, with writers?).

    One UPDATE and the main batch size run in every repetition, which of the two goes first
    alternating; the other batch sizes run in the first `sweep_repetitions`, between and after
    them, rotated; the runs of the first two without writers in the first `control_repetitions`,
    before or after the run with writers, alternating. So no variant profits from always running
    first or last.
    """
    if main_batch not in batch_sizes:
        raise ValueError(f"main_batch {main_batch} is not one of the batch sizes {list(batch_sizes)}")
    steps = []
    for rep in range(repetitions):
        pair = [None, main_batch] if rep % 2 == 0 else [main_batch, None]
        others = [b for b in batch_sizes if b != main_batch] if rep < sweep_repetitions else []
        shift = rep % len(others) if others else 0
        others = others[shift:] + others[:shift]
        order = [pair[0], *others[:1], pair[1], *others[1:]]
        mine = []
        controlled = 0
        for batch_size in order:
            if rep < control_repetitions and batch_size in pair:
                with_first = (rep + controlled) % 2 == 0
                mine += [(batch_size, with_first), (batch_size, not with_first)]
                controlled += 1
            else:
                mine.append((batch_size, True))
        steps.append(mine)
    return steps


def run(url_or_sqlite_path: str | URL | Path, rows: int, *, batch_sizes=DEFAULTS["batch_sizes"],
        main_batch: int | None = None, repetitions: int = DEFAULTS["repetitions"],
        sweep_repetitions: int = DEFAULTS["sweep_repetitions"], control_repetitions: int = DEFAULTS["control_repetitions"],
        rate: float = DEFAULTS["rate"], lead_seconds: float = DEFAULTS["lead_seconds"],
        baseline_seconds: float = DEFAULTS["baseline_seconds"], journal_mode: str | None = None, seed: int = 2,
        progress=None) -> dict:
    """The whole sequence on one database; every number in the result was measured."""
    url = to_url(url_or_sqlite_path)
    engine = make_engine(url)
    batch_sizes = tuple(batch_sizes)
    main_batch = choose_main_batch(batch_sizes, main_batch)
    steps = plan(repetitions, batch_sizes, main_batch, sweep_repetitions, control_repetitions)
    began_run = time.monotonic()
    try:
        set_journal_mode(engine, journal_mode)
        result: dict = {
            "engine": engine_key(engine), "server": server_version(engine), "rows": rows,
            "settings": settings(engine), "variants": [variant_name(v) for v in (None, *batch_sizes)],
            "main_variant": variant_name(main_batch), "load_average_before": _load_average(),
        }
        began = time.monotonic()
        load_source(engine, rows)
        result["load_s"] = round(time.monotonic() - began, 3)
        runs, baseline, not_null, resets = [], [], [], []
        state = {"next_id": rows + 1, "other": 0}
        writers = Writers(url, rows, rate)
        try:
            for rep, mine in enumerate(steps):
                for position, (batch_size, loaded) in enumerate(mine):
                    began = time.monotonic()
                    reset(engine)
                    resets.append(time.monotonic() - began)
                    # a fresh table: new ids start after the copied ones; bench_other is never reset
                    state = {"next_id": rows + 1, "other": state["other"]}
                    wal = wal_position(engine)
                    wall, outcome, stats = measure(lambda b=batch_size: backfill(engine, b), writers if loaded else None,
                                                   state, seed + len(runs), lead_seconds, rate)
                    runs.append({"rep": rep, "position": position, "variant": variant_name(batch_size),
                                 "writers": loaded, "wall_s": round(wall, 4), **outcome, "check": verify(engine),
                                 "wal_bytes": wal_bytes_since(engine, wal), "writer": stats})
                    if progress:
                        progress(f"{result['engine']}: repetition {rep + 1}/{repetitions}, "
                                 f"{variant_title(variant_name(batch_size))}, {'with' if loaded else 'without'} "
                                 f"writers: {wall:.2f} s")
                # bench_item is now backfilled: the writers alone on it, then the contract step
                wall, _, stats = measure(lambda: time.sleep(baseline_seconds), writers, state, seed + 1000 + rep,
                                         lead_seconds, rate)
                baseline.append({"rep": rep, "seconds": round(wall, 3), "writer": stats})
                nullable_before = column_nullable(engine)
                wall, _, stats = measure(lambda: set_not_null(engine), writers, state, seed + 2000 + rep, lead_seconds, rate)
                not_null.append({"rep": rep, "wall_s": round(wall, 4), "writer": stats,
                                 "nullable_before": nullable_before, "nullable_after": column_nullable(engine)})
        finally:
            writers.close()
        with engine.connect() as connection:
            result["writes_check"] = {  # what the writers say they did, and what the tables hold
                "inserts_since_last_copy": state.get("insert", 0),
                "new_rows_in_table": connection.execute(
                    sa.select(sa.func.count()).select_from(ITEMS_NEW).where(ITEMS_NEW.c.id > rows)).scalar_one(),
                "other_table_writes": state["other"],
                "other_table_hits": int(connection.execute(sa.text(f"SELECT SUM(hits) FROM {OTHER}")).scalar_one()),
            }
        result |= {"runs": runs, "baseline": baseline, "set_not_null": not_null,
                   "reset_s": spread(resets), "load_average_after": _load_average(),
                   "duration_s": round(time.monotonic() - began_run, 1)}
        result["summary"] = summarize(result)
        METADATA.drop_all(engine)
        ITEMS.drop(engine, checkfirst=True)
        return result
    finally:
        engine.dispose()


# -- who blocks whom, asked of the engines directly ------------------------------------------------------
PROBE_ROWS = 2_000


def _try(connection, statement: str) -> str:
    """'done', or the engine's reason for refusing (a lock wait that hit its timeout)."""
    try:
        with connection.begin():
            outcome = connection.exec_driver_sql(statement)
            if outcome.returns_rows:
                outcome.all()
        return "done"
    except DBAPIError as exc:
        return describe_error(exc)


def bloat_probe(url: str, rows: int = 20_000, batch: int = 2_000) -> dict:
    """PostgreSQL: the dead row versions a backfill leaves, as one UPDATE and in batches.

    Two scratch tables of `rows` rows each get a column filled; each table's dead rows are read
    from pg_stat_user_tables once the backfill's connection has closed (a closing backend
    reports its counts), and its size after against its size before. The tables are dropped.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    tables = {"one UPDATE": "bloat_one", f"batches of {batch:,}": "bloat_batched"}
    try:
        sizes = {}
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            for table in tables.values():
                connection.exec_driver_sql(f"DROP TABLE IF EXISTS {table}")
                connection.exec_driver_sql(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, score INTEGER)")
                connection.exec_driver_sql(f"INSERT INTO {table} SELECT g, NULL FROM generate_series(1, {rows}) g")
                sizes[table] = [connection.exec_driver_sql(f"SELECT pg_relation_size('{table}')").scalar()]
            connection.exec_driver_sql("UPDATE bloat_one SET score = id")
            for first in range(1, rows + 1, batch):
                connection.exec_driver_sql(
                    f"UPDATE bloat_batched SET score = id WHERE id BETWEEN {first} AND {first + batch - 1}")
            for table in tables.values():
                sizes[table].append(connection.exec_driver_sql(f"SELECT pg_relation_size('{table}')").scalar())
        with engine.connect() as connection:
            found = {}
            for label, table in tables.items():
                live, dead = connection.exec_driver_sql(
                    f"SELECT n_live_tup, n_dead_tup FROM pg_stat_user_tables WHERE relname = '{table}'").one()
                before, after = sizes[table]
                found[label] = {"rows": live, "dead rows": dead, "size": f"{after / before:.1f}x"}
            for table in tables.values():
                connection.exec_driver_sql(f"DROP TABLE {table}")
            connection.commit()
        return found
    finally:
        engine.dispose()


def _probe_connection(engine: Engine):
    """A connection that gives up on a lock at once (SQLite) or after a short wait (1 s MariaDB, 100 ms PostgreSQL)."""
    name = engine.dialect.name
    if name == "sqlite":
        connection = engine.connect()
        connection.exec_driver_sql("PRAGMA busy_timeout = 0")
        connection.commit()
        return connection
    connection = engine.connect()
    with connection.begin():
        if name == "mysql":
            # 1 s: short, though not the shortest (MariaDB 10.11 accepts 0 too; only fractions
            # are refused, with error 1232).
            connection.exec_driver_sql("SET SESSION innodb_lock_wait_timeout = 1")
        else:
            connection.exec_driver_sql("SET lock_timeout = '100ms'")
    return connection


def lock_probe(url_or_sqlite_path: str | URL | Path, journal_mode: str | None = None) -> dict:
    """Hold a backfill's transaction open and ask a second connection to write: what goes through.

    No timing is involved: the first transaction stays open until every question is answered,
    so a write that needs one of its locks is refused (after a lock timeout) every time, and a
    write that needs none goes through every time.
    """
    url = to_url(url_or_sqlite_path)
    engine = make_engine(url)
    name = engine.dialect.name
    writes = {
        "insert": f"INSERT INTO {TABLE} (id, name, amount, {COLUMN}) VALUES ({PROBE_ROWS + 1}, 'new', 1, 3)",
        "update": f"UPDATE {TABLE} SET name = 'renamed' WHERE id = {PROBE_ROWS // 2}",
        "other": f"UPDATE {OTHER} SET hits = hits + 1 WHERE id = 1",
        "read": f"SELECT count(*) FROM {TABLE}",
    }
    try:
        set_journal_mode(engine, journal_mode)
        result: dict = {"engine": engine_key(engine), "server": server_version(engine)}
        load_source(engine, PROBE_ROWS)
        reset(engine)
        backfill_connection, other = engine.connect(), _probe_connection(engine)
        try:
            if name == "postgresql":
                with other.begin():
                    wal_before = other.exec_driver_sql("SELECT pg_current_wal_insert_lsn()").scalar()
            transaction = backfill_connection.begin()
            result["rows_updated"] = backfill_connection.execute(
                sa.update(ITEMS_NEW).where(ITEMS_NEW.c[COLUMN].is_(None)).values({COLUMN: VALUE})).rowcount
            # The UPDATE is done and not committed: its locks are all held now.
            if name == "postgresql":
                result["table_locks"] = _pg_locks(other, backfill_connection)
                with other.begin():
                    result["wal_bytes_before_commit"] = int(other.exec_driver_sql(
                        f"SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '{wal_before}')").scalar())
            if name == "mysql":
                with other.begin():
                    locked = other.exec_driver_sql(
                        "SELECT trx_rows_locked, trx_tables_locked FROM information_schema.INNODB_TRX "
                        "WHERE trx_mysql_thread_id = %s" % backfill_connection.exec_driver_sql("SELECT CONNECTION_ID()").scalar()
                    ).one()
                result["rows_locked"], result["tables_locked"] = int(locked[0]), int(locked[1])
            result["during_update"] = {kind: _try(other, statement) for kind, statement in writes.items()}
            if name == "postgresql":
                # Any other commit flushes the WAL before it, the open UPDATE's records included:
                # a standby streaming this WAL receives them before the UPDATE commits.
                with other.begin():
                    end = other.exec_driver_sql("SELECT pg_current_wal_insert_lsn()").scalar()
                    other.exec_driver_sql(f"UPDATE {OTHER} SET hits = hits + 1 WHERE id = 2")
                with other.begin():
                    result["wal_flushed_before_commit"] = bool(other.exec_driver_sql(
                        f"SELECT pg_current_wal_flush_lsn() >= '{end}'").scalar())
            transaction.commit()
            result["during_set_not_null"] = _probe_set_not_null(engine, backfill_connection, other, writes)
        finally:
            other.close()
            backfill_connection.close()
        METADATA.drop_all(engine)
        ITEMS.drop(engine, checkfirst=True)
        return result
    finally:
        engine.dispose()


def _pg_locks(observer, holder) -> list[str]:
    pid = holder.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with observer.begin():
        return sorted(observer.exec_driver_sql(
            f"SELECT l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            f"WHERE l.pid = {pid} AND c.relname = '{TABLE}'").scalars())


def _probe_set_not_null(engine: Engine, holder, other, writes: dict) -> dict:
    """The contract step's own locks: held open on PostgreSQL; MariaDB asked whether it can run it online."""
    name = engine.dialect.name
    if name == "postgresql":
        transaction = holder.begin()
        Operations(MigrationContext.configure(holder)).alter_column(TABLE, COLUMN, existing_type=sa.Integer(),
                                                                    nullable=False)
        found = {"table_locks": _pg_locks(other, holder),
                 **{kind: _try(other, statement) for kind, statement in writes.items() if kind != "update"}}
        transaction.rollback()
        return found
    if name == "mysql":
        # DDL commits at once on MariaDB, so it cannot be held open; but LOCK=NONE makes MariaDB
        # refuse (error 1846) any ALTER that it cannot run while other sessions write. A change
        # of column type, for contrast, is one it cannot.
        found = {}
        for name, statement in (("not_null", f"ALTER TABLE {TABLE} MODIFY {COLUMN} INTEGER NOT NULL, LOCK=NONE"),
                                ("type_change", f"ALTER TABLE {TABLE} MODIFY amount BIGINT NOT NULL, LOCK=NONE")):
            try:
                holder.exec_driver_sql(statement)
                found[name] = "accepted"
            except DBAPIError as exc:
                found[name] = describe_error(exc)
        return {"lock_none": found}
    return {}


# -- the report ----------------------------------------------------------------------------------------
def _package(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _load_average() -> list[float] | None:
    return [round(v, 2) for v in os.getloadavg()] if hasattr(os, "getloadavg") else None


def machine() -> dict:
    cpu = "unknown"
    memory_gb = None
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gb = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "memory_gb": memory_gb,
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "packages": {n: _package(n) for n in ("SQLAlchemy", "alembic", "PyMySQL", "psycopg")},
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        # other work on the machine when the run began (1, 5, 15 minutes): the CPUs are shared
        "load_average": _load_average(),
    }


def fmt_spread(stat: dict, digits: int = 2, scale: float = 1.0) -> str:
    """'median (min–max)' of a spread(); '-' when nothing was measured."""
    if not stat or not stat.get("n"):
        return "-"
    low, mid, high = (stat[k] * scale for k in ("min", "median", "max"))
    if stat["n"] == 1:
        return f"{mid:,.{digits}f}"
    return f"{mid:,.{digits}f} ({low:,.{digits}f}–{high:,.{digits}f})"


# The PostgreSQL server of the stored run has autovacuum off. Checked on it, not assumed:
# pg_settings says boot_val 'on', source 'configuration file' (a conf.d file of that server).
AUTOVACUUM_OFF = (
    "PostgreSQL's autovacuum=off above is not PostgreSQL's default (on): the configuration file of "
    "this server turns it off. Every UPDATE on PostgreSQL leaves the old version of each row it "
    "changes behind as a dead row, in one statement or in batches alike, so a backfill of every "
    "row leaves as many dead rows as the table has rows (the table grows, and VACUUM, or "
    "autovacuum where it is on, has to clear them); none of that was measured here."
)


def markdown(data: dict) -> str:
    """results.md, every number taken from results.json."""
    params = data["parameters"]
    lines = [
        "### The backfill",
        "",
        "| engine | strategy | transactions | runs | wall time with writers (s) | runs | wall time, no writers (s) "
        "| longest transaction (s) | WAL written (MB) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for key, result in data["results"].items():
        for name in result["variants"]:
            s = result["summary"][name]
            lines.append(f"| {ENGINE_TITLES.get(key, key)} | {variant_title(name)} | {s['transactions']:,} | "
                         f"{s['wall_s']['n']} | {fmt_spread(s['wall_s'])} | {s['control_wall_s']['n']} | "
                         f"{fmt_spread(s['control_wall_s'])} | {fmt_spread(s['longest_transaction_s'], 3)} | "
                         f"{fmt_spread(s.get('wal_mb'), 1)} |")
    lines += [
        "",
        "### The application meanwhile",
        "",
        "| engine | phase | " + " | ".join(f"{KIND_SHORT[k]}: p99 (ms) | {KIND_SHORT[k]}: done (%) | "
                                          f"{KIND_SHORT[k]}: longest stall (ms)" for k in KINDS) + " |",
        "|---|---|" + "--:|" * (3 * len(KINDS)),
    ]
    for key, result in data["results"].items():
        phases = [("baseline", "writers alone")] + [(n, variant_title(n)) for n in result["variants"]]
        phases.append(("set_not_null", "SET NOT NULL"))
        for phase, title in phases:
            writer = result["summary"][phase]["writer"]
            cells = []
            for kind in KINDS:
                w = writer.get(kind, {})
                cells += [fmt_spread(w.get("p99_ms"), 1), fmt_spread(w.get("done_pct"), 0), fmt_spread(w.get("stall_ms"), 0)]
            lines.append(f"| {ENGINE_TITLES.get(key, key)} | {title} | " + " | ".join(cells) + " |")
    m, finished = data["machine"], data.get("finished", {})
    servers = ", ".join(dict.fromkeys(r["server"] for r in data["results"].values()))
    failures = sorted({f"{ENGINE_TITLES.get(k, k)}, {phase}, {KIND_SHORT[kind]}: {count} × {error}"
                       for k, r in data["results"].items()
                       for phase, items in (("backfills", [x["writer"] for x in r["runs"] if x["writer"]]),
                                            ("SET NOT NULL", [x["writer"] for x in r["set_not_null"]]),
                                            ("writers alone", [x["writer"] for x in r["baseline"]]))
                       for kind in KINDS
                       for error, count in _errors(items, kind).items()})
    notes = [
        "",
        f"{params['rows']:,} rows. Each figure is the median (and in brackets the range) over the runs counted: "
        f"one UPDATE and batches of {params['main_batch']:,} in each of {params['repetitions']} repetitions, the "
        f"other batch sizes in the first {params['sweep_repetitions']}, the order rotated from one repetition to the "
        f"next; in the first {params['control_repetitions']}, one UPDATE and batches of {params['main_batch']:,} "
        "also ran without the writers (the control). Every backfill starts from a fresh copy of the table; the "
        "batches run on one connection, one commit per batch. The writers alone and SET NOT NULL: once per "
        "repetition, on the backfilled table. \"WAL written\" (PostgreSQL only) is how far the write-ahead log "
        "moved during the backfill: what a streaming standby receives.",
        "",
        f"The writers are a separate process, one connection per kind of write, each planning {params['rate']:g} "
        "single-row writes a second on a fixed schedule, each in its own transaction: INSERT of a new row; UPDATE of a "
        "random existing row (a row the backfill fills); UPDATE of a row of another table. Latency counts from the "
        "moment a write was planned, so writes queued behind a blocked one count their wait. \"done\" is the writes "
        "completed while the phase ran, as a percentage of those planned (above 100 when writes queued before the "
        "phase were done during it); \"longest stall\" the longest time without a completed write. The writers "
        f"run alone (\"writers alone\", {params['baseline_seconds']:g} s) and during the contract step (SET NOT NULL) "
        "once per repetition.",
        "",
        f"Measured {m['date']} on {servers}; {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, "
        f"Python {m['python']}, " + ", ".join(f"{n} {v}" for n, v in m["packages"].items() if v) + ". "
        f"Load average (1, 5, 15 min) {_loads(m.get('load_average'))} at the start, "
        f"{_loads(finished.get('load_average'))} at the end; the whole run took "
        f"{finished.get('duration_s', 0) / 60:.1f} min. Per engine, load average before → after: "
        + "; ".join(f"{ENGINE_TITLES.get(k, k)} {_loads(r.get('load_average_before'))} → "
                    f"{_loads(r.get('load_average_after'))}" for k, r in data["results"].items()) + ".",
        "",
        "Settings, as each engine reported them (not tuned for this benchmark): " + "; ".join(
            f"{ENGINE_TITLES.get(k, k)} " + ", ".join(f"{n}={v}" for n, v in r["settings"].items())
            for k, r in data["results"].items()) + ".",
    ]
    if data["results"].get("postgresql", {}).get("settings", {}).get("autovacuum") == "off":
        notes += ["", AUTOVACUUM_OFF]
    notes += ["", "Failed writes: " + ("; ".join(failures) if failures else "none") + "."]
    return "\n".join(lines + notes) + "\n"


def _loads(values) -> str:
    return "/".join(f"{v:.2f}" for v in values) if values else "unknown"


def _errors(phases: list[dict], kind: str) -> dict[str, int]:
    found: dict[str, int] = {}
    for phase in phases:
        for error, count in phase.get(kind, {}).get("errors", {}).items():
            found[error] = found.get(error, 0) + count
    return found


def representative(result: dict, variant: str) -> dict:
    """The repetition (with writers) whose wall time is the median one, for the plot."""
    mine = sorted((r for r in result["runs"] if r["variant"] == variant and r["writers"]), key=lambda r: r["wall_s"])
    return mine[(len(mine) - 1) // 2]


def plot(data: dict, path: Path) -> None:
    """results.png per engine: wall times, the writers' p99, and the UPDATE writer's progress
    during the median run of one UPDATE and of the main batch size."""
    import matplotlib  # only here: the benchmark's own requirement, not the course's

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = list(data["results"])
    figure, axes = plt.subplots(3, len(keys), figsize=(4.2 * len(keys), 10.5), squeeze=False)
    params = data["parameters"]
    for column, key in enumerate(keys):
        result = data["results"][key]
        names = result["variants"]
        titles = [variant_title(n).replace("batches of ", "batch ") for n in names]
        xs = range(len(names))
        axis = axes[0][column]
        for shift, field, label, style in ((-0.2, "wall_s", "with writers", {}),
                                           (0.2, "control_wall_s", "no writers", {"hatch": "//", "fill": False})):
            stats = [result["summary"][n][field] for n in names]
            if not any(s.get("n") for s in stats):
                continue
            mids = [s.get("median", 0) for s in stats]
            errs = [[m - s.get("min", m) for m, s in zip(mids, stats)], [s.get("max", m) - m for m, s in zip(mids, stats)]]
            axis.bar([x + shift for x in xs], mids, 0.4, yerr=errs, capsize=3, label=label, **style)
        axis.set_xticks(list(xs), titles, fontsize=7)
        axis.set_title(ENGINE_TITLES.get(key, key), fontsize=10)
        axis.set_ylabel("backfill wall time (s)" if column == 0 else "")
        axis.legend(fontsize=7)
        axis = axes[1][column]
        phases = ["baseline", *names, "set_not_null"]
        for offset, kind in zip((-0.25, 0, 0.25), KINDS):
            stats = [result["summary"][p]["writer"].get(kind, {}).get("p99_ms", {}) for p in phases]
            mids = [s.get("median", math.nan) for s in stats]
            errs = [[m - s.get("min", m) for m, s in zip(mids, stats)], [s.get("max", m) - m for m, s in zip(mids, stats)]]
            axis.errorbar([i + offset for i in range(len(phases))], mids, yerr=errs, fmt="o", capsize=2, ms=4,
                          label=KIND_SHORT[kind])
        axis.set_yscale("log")
        axis.set_xticks(range(len(phases)), ["alone", *titles, "NOT NULL"], fontsize=7, rotation=30)
        axis.set_ylabel("writers' p99 latency (ms)" if column == 0 else "")
        axis.legend(fontsize=7)
        axis = axes[2][column]
        # Cumulative writes done: a stall is a flat stretch, the catch-up after it a steep one, and
        # the distance below the planned line is the throughput lost so far.
        for name in ("single_update", result["main_variant"]):
            chosen = representative(result, name)
            bins = chosen["writer"]["update"]["bins"]
            times = [(i + 1) * BIN_SECONDS - params["lead_seconds"] for i in range(len(bins))]
            line, = axis.plot(times, list(itertools.accumulate(bins)), lw=1.2, label=variant_title(name))
            axis.axvline(chosen["wall_s"], color=line.get_color(), ls=":", lw=1)
        end = max(axis.get_xlim()[1], 0)
        axis.plot([-params["lead_seconds"], end], [0, params["rate"] * (end + params["lead_seconds"])], color="grey",
                  lw=0.8, ls="--", label="planned")
        axis.set_xlabel("seconds from the backfill's start (dotted: its end)", fontsize=8)
        axis.set_ylabel("UPDATE writer: writes done so far" if column == 0 else "")
        axis.legend(fontsize=7)
    for row in axes:
        for axis in row:
            axis.grid(alpha=0.3)
            axis.tick_params(labelsize=7)
    figure.suptitle(f"Backfilling {params['rows']:,} rows: medians and ranges of {params['repetitions']} repetitions",
                    fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=100, metadata={"Software": None})
    plt.close(figure)


def servers_from_environment() -> dict[str, URL]:
    """The servers to measure: COURSE_TEST_MARIADB_URL and COURSE_TEST_POSTGRESQL_URL, or their defaults."""
    suite = settings.suite()
    return {key: make_url(suite.server_url(key).strip()) for key in engines.SERVER_ENGINES}


def run_engine(key: str, rows: int, **options) -> dict:
    """run() on a database of its own: a temporary SQLite file, or one made on the server and dropped."""
    if key in ("sqlite", "sqlite_wal"):
        with tempfile.TemporaryDirectory(prefix="mip-bench-") as directory:
            return run(Path(directory) / "bench.db", rows, journal_mode="wal" if key == "sqlite_wal" else None, **options)
    server = servers_from_environment()[key]
    url = engines.create_database("bench", server=server)
    try:
        return run(url, rows, **options)
    finally:
        engines.drop_database(url, server)


def record(out: Path, rows: int, engine_keys=ENGINE_KEYS, draw: bool = True, progress=None, **options) -> dict:
    asked_main = options.pop("main_batch", None)
    options = {**{k: v for k, v in DEFAULTS.items() if k != "rows"}, **options}
    options["batch_sizes"] = tuple(options["batch_sizes"])
    options["main_batch"] = choose_main_batch(options["batch_sizes"], asked_main)
    data = {"parameters": {"rows": rows, **options, "batch_sizes": list(options["batch_sizes"]), "kinds": list(KINDS),
                           "bin_seconds": BIN_SECONDS},
            "machine": machine(), "results": {}}
    began = time.monotonic()
    for key in engine_keys:
        data["results"][key] = run_engine(key, rows, progress=progress, **options)
    data["finished"] = {"load_average": _load_average(), "duration_s": round(time.monotonic() - began, 1)}
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    (out / "results.md").write_text(markdown(data), encoding="utf-8")
    if draw:
        plot(data, out / "results.png")
    return data


def load_results(out: Path = DEFAULT_OUT) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    if argv == ["--writer"]:
        return writer_main()
    parser = argparse.ArgumentParser(prog="python -m course.lessons.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULTS["rows"])
    parser.add_argument("--batches", default=",".join(str(b) for b in DEFAULTS["batch_sizes"]),
                        help="batch sizes, comma-separated")
    parser.add_argument("--main-batch", type=int, default=DEFAULTS["main_batch"],
                        help="the batch size run in every repetition (one of --batches)")
    parser.add_argument("--repetitions", type=int, default=DEFAULTS["repetitions"])
    parser.add_argument("--sweep-repetitions", type=int, default=DEFAULTS["sweep_repetitions"],
                        help="repetitions that also run the other batch sizes")
    parser.add_argument("--control-repetitions", type=int, default=DEFAULTS["control_repetitions"],
                        help="repetitions that also run each backfill without the writers")
    parser.add_argument("--rate", type=float, default=DEFAULTS["rate"], help="writes a second planned per kind")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--engines", default=",".join(ENGINE_KEYS), help="comma-separated: " + ",".join(ENGINE_KEYS))
    parser.add_argument("--no-plot", action="store_true", help="skip results.png (needs matplotlib)")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: rewrite results.md (and results.png) from the stored results.json")
    args = parser.parse_args(argv)
    if args.render:
        data = load_results(args.out)
        (args.out / "results.md").write_text(markdown(data), encoding="utf-8")
        if not args.no_plot:
            plot(data, args.out / "results.png")
        print(markdown(data))
        return 0
    keys = [k.strip() for k in args.engines.split(",") if k.strip()]
    unknown = set(keys) - set(ENGINE_KEYS)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}; choose from {', '.join(ENGINE_KEYS)}")
    try:
        sizes = tuple(int(b) for b in args.batches.split(",") if b.strip())
    except ValueError:
        parser.error(f"--batches takes whole numbers separated by commas, not {args.batches!r}")
    if args.rows < 1 or args.repetitions < 1 or args.rate <= 0 or not sizes or min(sizes) < 1:
        parser.error("--rows, --repetitions, --rate and every batch size must be positive")
    if args.main_batch not in sizes:
        parser.error(f"--main-batch {args.main_batch} must be one of --batches {args.batches}")
    if min(args.sweep_repetitions, args.control_repetitions) < 0:
        parser.error("--sweep-repetitions and --control-repetitions cannot be negative")
    if set(keys) & set(engines.SERVER_ENGINES):
        try:
            servers_from_environment()  # a bad setting stops the run before anything is measured
        except settings.SettingsError as exc:
            parser.exit(3, f"error: {exc}\n")  # the settings, not the arguments: 3 as `course` says it
    data = record(args.out, args.rows, keys, draw=not args.no_plot, batch_sizes=sizes, main_batch=args.main_batch,
                  repetitions=args.repetitions, sweep_repetitions=args.sweep_repetitions,
                  control_repetitions=args.control_repetitions, rate=args.rate,
                  progress=lambda line: print(line, file=sys.stderr, flush=True))
    print(markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
