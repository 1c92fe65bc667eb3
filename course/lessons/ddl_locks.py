"""What rewrites, what locks, what is instant: ten schema changes measured on a live table.

Each change is an Alembic operation (the one a revision would contain), run on a fresh copy of
a table of `rows` rows while a writer in another session keeps updating it. For each one, per
engine:

- its time: the wall time of the statement (PostgreSQL: before the commit; MariaDB commits
  DDL by itself);
- the lock it takes, asked of the server:
    PostgreSQL: the change runs in a transaction; after the statement and before the commit,
    `pg_locks` lists the locks its session holds on the table (and on the parent table, for a
    foreign key), pg_class says whether the table got a new file (`relfilenode`: a rewrite),
    and a third session tries a write and a read with `lock_timeout = 200ms`: "goes through"
    or "waits". While the statement runs, `pg_locks` is also polled every 20 ms.
    MariaDB: DDL cannot be held open in a transaction, so the same statement is offered on a
    ten-row twin of the table with ALGORITHM=INSTANT, then NOCOPY, then INPLACE with LOCK=NONE,
    then INPLACE, then COPY: the first one MariaDB accepts is how it runs the change by
    default (it picks the cheapest it can), and its refusals say why. While the statement
    runs on the big table, `information_schema.PROCESSLIST` is polled every 20 ms for the
    ALTER's state and for a writer "Waiting for table metadata lock". (performance_schema,
    which would list metadata locks, is off by default in MariaDB 10.11 and on this server.)
- whether the writer's writes continued: how many it completed while the statement ran, and
  its longest stretch without one.

    measure(url, rows) -> dict                 one engine, any size (the test uses 2,000 rows)
    python -m course.lessons.ddl_locks --rows 1000000 --out chapters/03_zero_downtime/ddl/
        (`make ddl-locks`) measures MariaDB and PostgreSQL (COURSE_TEST_MARIADB_URL /
        COURSE_TEST_POSTGRESQL_URL or the local defaults), each in a database of its own that
        is dropped afterwards, and writes results.json and results.md.
    python -m course.lessons.ddl_locks --render  rewrite results.md from results.json
    python -m course.lessons.ddl_locks --variants-only --rows N
        measures only VARIANTS (MariaDB's RAND() and UUID() defaults, a VARCHAR widened in a latin1
        table; PostgreSQL's random() default: what the new column holds, how the server ran it), on
        a table of N rows, and stores them under "variants" (with their own row count, machine and
        date) beside the ten changes already in results.json, which are kept as they are.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from alembic.migration import MigrationContext
from alembic.operations import Operations
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from course import REPO, settings
from course.lessons import bench
from course.runtime import engines, errors

TABLE, TWIN, SOURCE, PARENT = "ddl_item", "ddl_twin", "ddl_source", "ddl_parent"
PARENTS = 1_000
DEFAULT_ROWS = 1_000_000
DEFAULT_OUT = REPO / "chapters" / "03_zero_downtime" / "ddl"
POLL_SECONDS = 0.02
LEAD_SECONDS = 0.3  # the writer writes alone this long before and after each change
WRITER_PAUSE = 0.002  # between two of the writer's single-row UPDATEs
PROBE_TIMEOUT = "200ms"
# MariaDB's ways of running an ALTER, cheapest first: the first it accepts is its default.
MARIADB_ALGORITHMS = ("ALGORITHM=INSTANT", "ALGORITHM=NOCOPY", "ALGORITHM=INPLACE, LOCK=NONE",
                      "ALGORITHM=INPLACE", "ALGORITHM=COPY")


def _columns(name: str, metadata: sa.MetaData, **options) -> sa.Table:
    return sa.Table(
        name, metadata,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("parent_id", sa.Integer, nullable=False),  # the foreign key's column
        sa.Column("amount", sa.Integer, nullable=True),  # SET NOT NULL, CHECK
        sa.Column("note", sa.String(40), nullable=False),  # widened
        sa.Column("counter", sa.Integer, nullable=False),  # int -> bigint
        sa.Column("dropme", sa.Integer, nullable=True),  # dropped
        sa.Column("oldname", sa.Integer, nullable=True),  # renamed
        sa.Column("hits", sa.Integer, nullable=False, server_default="0"),  # what the writer updates
        **options,
    )


METADATA = sa.MetaData()
sa.Table(PARENT, METADATA, sa.Column("id", sa.Integer, primary_key=True, autoincrement=False))
_columns(SOURCE, METADATA)


@dataclass(frozen=True)
class Change:
    """A schema change as a revision writes it: `code` is the Alembic call, with `t` for the
    table's name and `volatile` for a per-row default (random() on PostgreSQL, RAND() on MariaDB)."""

    key: str
    title: str
    code: str

    def apply(self, op: Operations, table: str, dialect: str) -> None:
        volatile = sa.text("random()" if dialect == "postgresql" else "(RAND())")
        eval(self.code, {"op": op, "sa": sa, "t": table, "volatile": volatile, "PARENT": PARENT})  # noqa: S307 - our own strings

    def shown(self, table: str = TABLE) -> str:
        """The call as a reader writes it in a revision."""
        return (self.code.replace("f'fk_{t}_parent_id'", f"'fk_{table}_parent_id'")
                .replace("f'ck_{t}_amount_positive'", f"'ck_{table}_amount_positive'")
                .replace("(t,", f"('{table}',").replace(", t,", f", '{table}',")
                .replace("PARENT", f"'{PARENT}'").replace("volatile", "sa.text('random()')"))


CHANGES = (
    Change("add_nullable", "add a nullable column",
           "op.add_column(t, sa.Column('extra', sa.Integer(), nullable=True))"),
    Change("add_constant_default", "add a NOT NULL column with a constant default",
           "op.add_column(t, sa.Column('extra', sa.Integer(), nullable=False, server_default='0'))"),
    Change("add_volatile_default", "add a column with a volatile default",
           "op.add_column(t, sa.Column('extra', sa.Float(), nullable=True, server_default=volatile))"),
    Change("set_not_null", "set NOT NULL on a filled column",
           "op.alter_column(t, 'amount', existing_type=sa.Integer(), nullable=False)"),
    Change("widen_varchar", "widen a VARCHAR(40) to VARCHAR(80)",
           "op.alter_column(t, 'note', existing_type=sa.String(40), type_=sa.String(80), existing_nullable=False)"),
    Change("int_to_bigint", "INTEGER to BIGINT",
           "op.alter_column(t, 'counter', existing_type=sa.Integer(), type_=sa.BigInteger(), existing_nullable=False)"),
    Change("add_foreign_key", "add a foreign key",
           "op.create_foreign_key(f'fk_{t}_parent_id', t, PARENT, ['parent_id'], ['id'])"),
    Change("add_check", "add a CHECK constraint",
           "op.create_check_constraint(f'ck_{t}_amount_positive', t, 'amount >= 0')"),
    Change("drop_column", "drop a column",
           "op.drop_column(t, 'dropme')"),
    Change("rename_column", "rename a column",
           "op.alter_column(t, 'oldname', new_column_name='newname', existing_type=sa.Integer(), existing_nullable=True)"),
)
CHANGE_KEYS = tuple(c.key for c in CHANGES)


def rendered_sql(change: Change, dialect: str, table: str = TABLE) -> str:
    """The SQL Alembic emits for the change on `dialect` ("postgresql" or "mysql"), offline."""
    buffer = io.StringIO()
    context = MigrationContext.configure(dialect_name=dialect, opts={"as_sql": True, "output_buffer": buffer})
    change.apply(Operations(context), table, dialect)
    return " ".join(buffer.getvalue().split()).rstrip(";").strip()


# -- the tables ----------------------------------------------------------------------------------
def load(engine: Engine, rows: int) -> None:
    """ddl_parent (1,000 rows) and ddl_source (`rows` rows), generated by the server itself."""
    METADATA.drop_all(engine)
    _drop(engine, TABLE, TWIN)
    METADATA.create_all(engine)
    series = ("generate_series(1, {n}) AS s(n)" if engine.dialect.name == "postgresql" else "seq_1_to_{n} AS s")
    number = "n" if engine.dialect.name == "postgresql" else "seq"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO {PARENT} (id) SELECT {number} FROM {series.format(n=PARENTS)}")
        connection.exec_driver_sql(
            f"INSERT INTO {SOURCE} (id, parent_id, amount, note, counter, dropme, oldname, hits) "
            f"SELECT {number}, MOD({number}, {PARENTS}) + 1, MOD({number}, 100), 'note', {number}, {number}, {number}, 0 "
            f"FROM {series.format(n=rows)}")


def _drop(engine: Engine, *names: str) -> None:
    with engine.begin() as connection:
        for name in names:
            connection.exec_driver_sql(f"DROP TABLE IF EXISTS {name}")


def fresh_copy(engine: Engine, name: str = TABLE, rows: int | None = None, charset: str | None = None) -> None:
    """`name` as a new copy of ddl_source (its first `rows` rows), statistics fresh and, on
    PostgreSQL, vacuumed: a table in service, not one just loaded. `charset`: MariaDB's
    character set for the table (the server's default, utf8mb4, otherwise)."""
    _drop(engine, name)
    table = _columns(name, sa.MetaData(), **({"mysql_charset": charset} if charset else {}))
    table.create(engine)
    limit = "" if rows is None else f" WHERE id <= {rows}"
    with engine.begin() as connection:
        connection.exec_driver_sql(f"INSERT INTO {name} SELECT * FROM {SOURCE}{limit}")
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql(f"VACUUM ANALYZE {name}")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ANALYZE TABLE {name}").all()


# -- the writer and the observer ----------------------------------------------------------------
class Writer(threading.Thread):
    """Single-row UPDATEs of ddl_item.hits, each committed, one after the other, in a session of its own."""

    def __init__(self, engine: Engine, rows: int):
        super().__init__(daemon=True)
        self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.session_id = _session_id(self.connection)
        self.rows, self.done, self.errors = rows, [], []
        self.stopping = threading.Event()

    def run(self) -> None:
        statement = sa.text(f"UPDATE {TABLE} SET hits = hits + 1 WHERE id = :id")
        k = 0
        while not self.stopping.is_set():
            k += 1
            try:
                self.connection.execute(statement, {"id": k * 7919 % self.rows + 1})
                self.done.append(time.monotonic())
            except DBAPIError as exc:
                self.errors.append(errors.reason(exc))
            self.stopping.wait(WRITER_PAUSE)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=120)
        self.connection.close()

    def during(self, began: float, ended: float) -> dict:
        done = [t for t in self.done if began <= t <= ended]
        edges = [began, *done, ended]
        before = [t for t in self.done if began - LEAD_SECONDS <= t < began]
        return {"done": len(done), "stall_ms": round(max(b - a for a, b in zip(edges, edges[1:])) * 1000, 1),
                "done_alone_per_s": round(len(before) / LEAD_SECONDS, 1), "errors": sorted(set(self.errors))}


def _session_id(connection) -> int:
    query = "SELECT pg_backend_pid()" if connection.dialect.name == "postgresql" else "SELECT CONNECTION_ID()"
    return int(connection.exec_driver_sql(query).scalar())


class Observer(threading.Thread):
    """Polls the server every 20 ms: the ALTER's locks or state, and whether the writer waits."""

    def __init__(self, engine: Engine, ddl_session: int, writer_session: int):
        super().__init__(daemon=True)
        self.connection = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        self.dialect = engine.dialect.name
        self.ddl, self.writer = ddl_session, writer_session
        self.ddl_seen: list[str] = []
        self.writer_waited = False
        self.stopping = threading.Event()

    def look(self) -> None:
        if self.dialect == "postgresql":
            found = self.connection.exec_driver_sql(
                "SELECT l.pid, c.relname, l.mode, l.granted FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                f"WHERE c.relname IN ('{TABLE}', '{PARENT}') AND l.pid IN ({self.ddl}, {self.writer})").all()
            for pid, relation, mode, granted in found:
                if pid == self.ddl and granted:
                    seen = f"{relation}: {mode}"
                    if seen not in self.ddl_seen:
                        self.ddl_seen.append(seen)
                if pid == self.writer and not granted:
                    self.writer_waited = True
        else:
            found = self.connection.exec_driver_sql(
                "SELECT ID, STATE FROM information_schema.PROCESSLIST "
                f"WHERE ID IN ({self.ddl}, {self.writer})").all()
            for session, state in found:
                if session == self.ddl and state and state not in self.ddl_seen:
                    self.ddl_seen.append(state)
                if session == self.writer and state == "Waiting for table metadata lock":
                    self.writer_waited = True

    def run(self) -> None:
        while not self.stopping.is_set():
            self.look()
            self.stopping.wait(POLL_SECONDS)

    def stop(self) -> None:
        self.stopping.set()
        if self.is_alive():
            self.join(timeout=30)


# -- one change ------------------------------------------------------------------------------------
def _try(connection, statement: str) -> str:
    try:
        with connection.begin():
            connection.exec_driver_sql(statement).all()
        return "goes through"
    except DBAPIError as exc:
        if "lock timeout" in str(exc.orig):
            return "waits"
        return errors.reason(exc)


def _pg_held(engine: Engine, holder, change: Change) -> dict:
    """While the change's transaction is open: its locks, whether it rewrote, who gets through."""
    pid = _session_id(holder)
    with engine.connect() as other:
        with other.begin():
            other.exec_driver_sql(f"SET lock_timeout = '{PROBE_TIMEOUT}'")
            locks = other.exec_driver_sql(
                "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                f"WHERE l.pid = {pid} AND l.granted AND c.relname IN ('{TABLE}', '{PARENT}') "
                "ORDER BY c.relname, l.mode").all()
        held: dict[str, list[str]] = {}
        for relation, mode in locks:
            held.setdefault(relation, []).append(mode)
        other.commit()
        with other.begin():
            other.exec_driver_sql(f"SET lock_timeout = '{PROBE_TIMEOUT}'")
        other.commit()
        others = {
            "write": _try(other, f"UPDATE {TABLE} SET hits = hits + 1 WHERE id = 1 RETURNING id"),
            "read": _try(other, f"SELECT hits FROM {TABLE} WHERE id = 1"),
        }
    return {"locks": held, "while_held": others}


def _relfilenode(connection) -> int:
    return int(connection.exec_driver_sql(f"SELECT relfilenode FROM pg_class WHERE relname = '{TABLE}'").scalar())


def _mariadb_algorithm(engine: Engine, change: Change) -> dict:
    """Offer the change on a ten-row twin with each ALGORITHM, cheapest first: the first accepted
    is what MariaDB does by default; the refusals before it say why it cannot do better."""
    refused = {}
    for clause in MARIADB_ALGORITHMS:
        fresh_copy(engine, TWIN, rows=10)
        statement = f"{rendered_sql(change, 'mysql', TWIN)}, {clause}"
        try:
            with engine.begin() as connection:
                connection.exec_driver_sql(statement)
        except DBAPIError as exc:
            refused[clause] = errors.reason(exc)
            continue
        _drop(engine, TWIN)
        return {"algorithm": clause, "refused": refused}
    _drop(engine, TWIN)
    return {"algorithm": None, "refused": refused}


def measure_change(engine: Engine, change: Change, rows: int) -> dict:
    dialect = engine.dialect.name
    result: dict = {"key": change.key, "title": change.title, "sql": rendered_sql(change, dialect)}
    if dialect == "mysql":
        result |= _mariadb_algorithm(engine, change)
    fresh_copy(engine)
    writer = Writer(engine, rows)
    ddl = engine.connect()
    observer = Observer(engine, _session_id(ddl), writer.session_id)
    try:
        ddl.commit()
        writer.start()
        time.sleep(LEAD_SECONDS)
        observer.start()
        transaction = ddl.begin()
        if dialect == "postgresql":
            before = _relfilenode(ddl)
        began = time.monotonic()
        change.apply(Operations(MigrationContext.configure(ddl)), TABLE, dialect)
        ended = time.monotonic()
        observer.stop()  # what follows (the probe's own wait) is not the change's doing
        observer.look()  # a last look while the statement's locks are still held
        if dialect == "postgresql":
            result["rewrote"] = _relfilenode(ddl) != before
            result |= _pg_held(engine, ddl, change)
        transaction.commit()
        committed = time.monotonic()
        time.sleep(LEAD_SECONDS)
    finally:
        writer.stop()
        observer.stop()
        observer.connection.close()
        ddl.close()
    result |= {"seconds": round(ended - began, 4), "commit_seconds": round(committed - ended, 4),
               "observed": {"ddl": observer.ddl_seen, "writer_waited": observer.writer_waited},
               "writer": writer.during(began, ended)}
    return result


def measure(url_or_engine: str | URL, rows: int, changes=CHANGE_KEYS, progress=None) -> dict:
    """Every change on a fresh copy of a `rows`-row table, on one (empty) server database."""
    return _on_a_loaded_table(
        url_or_engine, rows, "changes", progress, with_settings=True,
        chosen=lambda engine, name: [c for c in CHANGES if c.key in changes],
        measure_one=lambda engine, change: measure_change(engine, change, rows))


def _on_a_loaded_table(url_or_engine, rows: int, kind: str, progress, chosen, measure_one,
                       with_settings: bool = False) -> dict:
    """Load the `rows`-row table into a (empty) server database, measure each item `chosen`
    returns (a change, a variant) with `measure_one`, and drop the tables again."""
    engine = sa.create_engine(make_url(url_or_engine), poolclass=NullPool)
    try:
        name = engines.connected_name(engine)
        if name not in ("postgresql", "mariadb"):
            raise ValueError(f"the DDL measurement is for MariaDB and PostgreSQL, not {name}")
        result: dict = {"engine": name, "server": bench.server_version(engine), "rows": rows}
        if with_settings:
            result["settings"] = bench.settings(engine)
        began = time.monotonic()
        load(engine, rows)
        result["load_s"] = round(time.monotonic() - began, 2)
        result[kind] = {}
        for item in chosen(engine, name):
            result[kind][item.key] = measure_one(engine, item)
            if progress:
                progress(f"{name}: {item.title}: {result[kind][item.key]['seconds']:.3f} s")
        METADATA.drop_all(engine)
        _drop(engine, TABLE, TWIN)
        result["duration_s"] = round(time.monotonic() - began, 1)
        return result
    finally:
        engine.dispose()


# -- variants: what decides a change's cost on MariaDB, besides the change ------------------------
@dataclass(frozen=True)
class Variant:
    """A change measured once, on one engine, for what it does to the rows: `change` names one
    of CHANGES (its SQL is Alembic's), or `sql` gives the statement ({t}: the table); `column`
    is the column it adds, whose distinct values are counted; `charset` the table's (MariaDB)."""

    key: str
    engine: str
    title: str
    change: str | None = None
    sql: str | None = None
    column: str | None = None
    charset: str | None = None

    def statement(self, table: str = TABLE) -> str:
        if self.change:
            dialect = "postgresql" if self.engine == "postgresql" else "mysql"
            return rendered_sql(CHANGES[CHANGE_KEYS.index(self.change)], dialect, table)
        return self.sql.format(t=table)


VARIANTS = (
    Variant("rand_default", "mariadb", "add a column with DEFAULT (RAND())", change="add_volatile_default", column="extra"),
    Variant("uuid_default", "mariadb", "add a column with DEFAULT (UUID())",
            sql="ALTER TABLE {t} ADD COLUMN u CHAR(36) DEFAULT (UUID())", column="u"),
    Variant("widen_varchar_latin1", "mariadb", "widen a VARCHAR(40) to VARCHAR(80), table in latin1",
            change="widen_varchar", charset="latin1"),
    Variant("random_default", "postgresql", "add a column with DEFAULT random()", change="add_volatile_default",
            column="extra"),
)


def _offer(engine: Engine, statement: str, charset: str | None) -> dict:
    """_mariadb_algorithm for a statement of its own: each ALGORITHM on a ten-row twin."""
    refused = {}
    try:
        for clause in MARIADB_ALGORITHMS:
            fresh_copy(engine, TWIN, rows=10, charset=charset)
            try:
                with engine.begin() as connection:
                    connection.exec_driver_sql(f"{statement}, {clause}")
            except DBAPIError as exc:
                refused[clause] = errors.reason(exc)
                continue
            return {"algorithm": clause, "refused": refused}
        return {"algorithm": None, "refused": refused}
    finally:
        _drop(engine, TWIN)


def measure_variant(engine: Engine, variant: Variant) -> dict:
    """The variant on a fresh copy of ddl_source, alone (no writer): the ALGORITHM MariaDB picks
    (offered on a ten-row twin first), or whether PostgreSQL rewrote the table; the statement's
    time; the table's character set; the new column's distinct values among the rows."""
    dialect = engine.dialect.name
    statement = variant.statement()
    result: dict = {"key": variant.key, "title": variant.title, "sql": statement}
    if dialect == "mysql":
        result |= _offer(engine, variant.statement(TWIN), variant.charset)
    fresh_copy(engine, charset=variant.charset)
    with engine.connect() as connection:
        if dialect == "mysql":
            result["table_collation"] = connection.exec_driver_sql(
                "SELECT TABLE_COLLATION FROM information_schema.TABLES "
                f"WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '{TABLE}'").scalar()
        else:
            before = _relfilenode(connection)
        connection.commit()
        began = time.monotonic()
        with connection.begin():
            connection.exec_driver_sql(statement)
        result["seconds"] = round(time.monotonic() - began, 4)
        if dialect == "postgresql":
            result["rewrote"] = _relfilenode(connection) != before
        if variant.column:
            distinct, rows = connection.exec_driver_sql(
                f"SELECT COUNT(DISTINCT {variant.column}), COUNT(*) FROM {TABLE}").one()
            result["distinct"], result["rows"] = int(distinct), int(rows)
        connection.commit()
    _drop(engine, TABLE)
    return result


def measure_variants(url_or_engine: str | URL, rows: int, progress=None) -> dict:
    """Every variant of this engine on a fresh copy of a `rows`-row table, on one (empty) server database."""
    return _on_a_loaded_table(
        url_or_engine, rows, "variants", progress,
        chosen=lambda engine, name: [v for v in VARIANTS if v.engine == name],
        measure_one=measure_variant)


def variant_cells(row: dict) -> tuple[str, str]:
    """How the server ran a variant (MariaDB's ALGORITHM and the refusals before it, or
    PostgreSQL's rewrite), and what the new column holds."""
    if "algorithm" in row:
        how = (row["algorithm"] or "none accepted").replace("ALGORITHM=", "")
        if row["refused"]:  # the first refusal's reason, and which others followed
            (first, reason), *others = row["refused"].items()
            how += f" ({first.replace('ALGORITHM=', '')} refused: {reason}"
            how += "; then " + ", ".join(f"`{a.replace('ALGORITHM=', '')}`" for a, _ in others) + " too)" if others else ")"
    else:
        how = "table rewritten" if row["rewrote"] else "no rewrite"
    holds = (f"{row['distinct']:,} distinct {'value' if row['distinct'] == 1 else 'values'} in {row['rows']:,} rows"
             if "distinct" in row else "-")
    return how, holds


# -- what a row of the table says ---------------------------------------------------------------------
# PostgreSQL's table lock modes, weakest first (each conflicts with more modes than the one before)
PG_MODES = ("AccessShareLock", "RowShareLock", "RowExclusiveLock", "ShareUpdateExclusiveLock", "ShareLock",
            "ShareRowExclusiveLock", "ExclusiveLock", "AccessExclusiveLock")


def strongest(modes: list[str]) -> str:
    return max(modes, key=PG_MODES.index)


def verdict(engine: str, row: dict) -> dict:
    """The table's reading of one measured change: lock, rewrite, other sessions' writes."""
    if engine == "postgresql":
        locks = strongest(row["locks"][TABLE]) + "".join(
            f" (and {strongest(modes)} on {rel})" for rel, modes in sorted(row["locks"].items()) if rel != TABLE)
        writes = row["while_held"]["write"]
        reads = row["while_held"]["read"]
        return {"lock": locks, "rewrite": "yes" if row["rewrote"] else "no",
                "writes": "blocked" if writes == "waits" else "continue",
                "reads": "blocked" if reads == "waits" else "continue"}
    algorithm = row["algorithm"] or "none accepted"
    online = algorithm in ("ALGORITHM=INSTANT", "ALGORITHM=NOCOPY", "ALGORITHM=INPLACE, LOCK=NONE")
    rewrite = {"ALGORITHM=INSTANT": "no", "ALGORITHM=NOCOPY": "no"}.get(algorithm, "yes")
    return {"lock": algorithm.replace("ALGORITHM=", ""), "rewrite": rewrite,
            "writes": "continue" if online else "blocked", "reads": "continue"}


# -- the report ----------------------------------------------------------------------------------
def markdown(data: dict) -> str:
    params, m = data["parameters"], data["machine"]
    lines = [f"Each change on a fresh copy of a table of {params['rows']:,} rows, while another session "
             "updates single rows of it, each in its own transaction, one after the other.", ""]
    for key, result in data["results"].items():
        title = bench.ENGINE_TITLES.get(key, key)
        if key == "postgresql":
            lines += [f"### {result['server']}", "",
                      "| change | time (s) | strongest lock on the table (pg_locks) | table rewritten | another session's write | "
                      "its read | writer during the change |",
                      "|---|--:|---|---|---|---|---|"]
        else:
            lines += [f"### {result['server']}", "",
                      "| change | time (s) | how MariaDB runs it (first ALGORITHM accepted) | table rebuilt | "
                      "another session's write (expected from the ALGORITHM, not probed) | ALTER's states seen (PROCESSLIST) | "
                      "writer during the change |",
                      "|---|--:|---|---|---|---|---|"]
        for change in CHANGES:
            row = result["changes"].get(change.key)
            if row is None:
                continue
            v = verdict(key, row)
            w = row["writer"]
            waited = "; seen waiting for a lock" if row["observed"]["writer_waited"] else ""
            writer = f"{w['done']} {'write' if w['done'] == 1 else 'writes'}, longest stall {w['stall_ms']:,.0f} ms{waited}"
            if key == "postgresql":
                cells = [v["lock"], v["rewrite"], v["writes"], v["reads"], writer]
            else:
                cells = [v["lock"], v["rewrite"], v["writes"], "; ".join(row["observed"]["ddl"]) or "-", writer]
            lines.append(f"| {change.title} | {row['seconds']:,.3f} | " + " | ".join(cells) + " |")
        lines.append("")
    servers = ", ".join(r["server"] for r in data["results"].values())
    lines += [
        "PostgreSQL: each change runs in a transaction; after its statement and before its commit, `pg_locks` "
        "gives the locks its session holds, `pg_class.relfilenode` whether the table got a new file, and a third "
        f"session with `lock_timeout = '{PROBE_TIMEOUT}'` tries `UPDATE ... WHERE id = 1` and `SELECT ... WHERE id = 1`. "
        "MariaDB commits DDL at once: the same statement is offered on a ten-row twin of the table with "
        + ", ".join(f"`{a}`" for a in MARIADB_ALGORITHMS) + " in turn, and the first one accepted is what "
        "MariaDB does by default (a rebuild for INPLACE and COPY; LOCK=NONE lets other sessions write during "
        "it). MariaDB's \"another session's write\" is read from that algorithm (INSTANT, NOCOPY and INPLACE with "
        "LOCK=NONE: continue; otherwise blocked), not probed as on PostgreSQL; the writer's own column is what it "
        "saw. The tables are `utf8mb4`: the VARCHAR(40) to VARCHAR(80) result depends on it (80 characters may "
        "exceed 255 bytes, so the length prefix grows); the same widening in a `latin1` table is among the "
        "variants below. `information_schema.PROCESSLIST` is polled every 20 ms while the change "
        "runs. \"writer during the "
        "change\": the writes the other session completed while the statement ran, the longest time without one, "
        "and whether it was seen waiting for a lock.",
        "",
        f"Measured {m['date']} on {servers}; {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, {m['os']}, "
        f"Python {m['python']}, " + ", ".join(f"{n} {v}" for n, v in m["packages"].items() if v)
        + f". The whole run took {data['finished']['duration_s'] / 60:.1f} min; load average at the start "
        f"{'/'.join(str(x) for x in m['load_average'] or [])}.",
    ]
    if "variants" in data:
        lines += [""] + variants_markdown(data["variants"])
    return "\n".join(lines) + "\n"


def variants_markdown(variants: dict) -> list[str]:
    params, m = variants["parameters"], variants["machine"]
    servers = ", ".join(r["server"] for r in variants["results"].values())
    lines = ["### Variants: volatile defaults, and the character set of a widened VARCHAR", "",
             f"A run of its own (`--variants-only`), not the run above: each variant on a fresh copy of a table of "
             f"{params['rows']:,} rows, with no other session writing; MariaDB's ALGORITHM found as above, on a "
             "ten-row twin of the table in the same character set.", "",
             "| engine | change | SQL | table's collation | how the server ran it | time (s) | the new column |",
             "|---|---|---|---|---|--:|---|"]
    for key, result in variants["results"].items():
        for row in result["variants"].values():
            how, holds = variant_cells(row)
            lines.append(f"| {result['server']} | {row['title']} | `{row['sql']}` | {row.get('table_collation', '-')} | "
                         f"{how} | {row['seconds']:,.3f} | {holds} |")
    lines += ["", f"Measured {m['date']} on {servers}, {params['rows']:,} rows; {m['cpu']}, {m['cores']} cores, "
              f"{m['os']}. The run took {variants['finished']['duration_s']:.0f} s; load average at the start "
              f"{'/'.join(str(x) for x in m['load_average'] or [])}."]
    return lines


def servers_from_environment() -> dict[str, URL]:
    suite = settings.suite()
    return {key: make_url(suite.server_url(key).strip()) for key in engines.SERVER_ENGINES}


def record_variants(rows: int, engine_keys=engines.SERVER_ENGINES, progress=None) -> dict:
    """The variants, measured in a run of their own: stored under "variants", with their own
    row count, machine and date."""
    variants = {"parameters": {"rows": rows, "variants": [v.key for v in VARIANTS if v.engine in engine_keys]},
                "machine": bench.machine(), "results": {}}
    _measure_on_each_server(variants, measure_variants, rows, engine_keys, progress)
    return variants


def _measure_on_each_server(data: dict, measure_one, rows: int, engine_keys, progress) -> None:
    """data["results"][engine] = measure_one(a fresh database on that server, ...), and the time taken."""
    began = time.monotonic()
    servers = servers_from_environment()
    for key in engine_keys:
        url = engines.create_database("ddl", server=servers[key])
        try:
            data["results"][key] = measure_one(url, rows, progress=progress)
        finally:
            engines.drop_database(url, servers[key])
    data["finished"] = {"duration_s": round(time.monotonic() - began, 1)}


def record(out: Path, rows: int, engine_keys=engines.SERVER_ENGINES, progress=None, variants_only: bool = False) -> dict:
    """Measure and write results.json and results.md. variants_only: measure the variants only and
    store them beside the ten changes already in results.json, which are kept as they are."""
    if variants_only:
        data = load_results(out)
        data["variants"] = record_variants(rows, engine_keys, progress)
        _write(out, data)
        return data
    data = {"parameters": {"rows": rows, "changes": list(CHANGE_KEYS), "writer_pause_s": WRITER_PAUSE,
                           "poll_s": POLL_SECONDS, "probe_lock_timeout": PROBE_TIMEOUT},
            "machine": bench.machine(), "results": {}}
    _measure_on_each_server(data, measure, rows, engine_keys, progress)
    data["variants"] = record_variants(rows, engine_keys, progress)
    _write(out, data)
    return data


def _write(out: Path, data: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    (out / "results.md").write_text(markdown(data), encoding="utf-8")


def load_results(out: Path = DEFAULT_OUT) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.lessons.ddl_locks", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=DEFAULT_ROWS)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--engines", default=",".join(engines.SERVER_ENGINES))
    parser.add_argument("--render", action="store_true", help="measure nothing: rewrite results.md from results.json")
    parser.add_argument("--variants-only", action="store_true",
                        help="measure the variants only (volatile defaults, latin1), kept beside the stored ten changes")
    args = parser.parse_args(argv)
    if args.render:
        data = load_results(args.out)
        (args.out / "results.md").write_text(markdown(data), encoding="utf-8")
        print(markdown(data))
        return 0
    keys = [k.strip() for k in args.engines.split(",") if k.strip()]
    unknown = set(keys) - set(engines.SERVER_ENGINES)
    if unknown:
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}; choose from {', '.join(engines.SERVER_ENGINES)}")
    if args.rows < PARENTS:
        parser.error(f"--rows must be at least {PARENTS}")
    try:
        servers_from_environment()
    except settings.SettingsError as exc:
        parser.exit(3, f"error: {exc}\n")
    if args.variants_only and not (args.out / "results.json").is_file():
        parser.exit(3, f"error: --variants-only adds to {args.out / 'results.json'}, which does not exist\n")
    data = record(args.out, args.rows, keys, progress=lambda line: print(line, file=sys.stderr, flush=True),
                  variants_only=args.variants_only)
    print(markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
