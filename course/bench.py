"""Backfilling a new column on a big table: one UPDATE or batches, and who waits meanwhile.

One run, on one database (an empty one: it makes a table of its own, `bench_item`):

1. create the table and bulk-load `rows` rows (executemany on SQLite, multi-row INSERTs on
   MariaDB, COPY on PostgreSQL), then add the new column `score`, nullable;
2. strategy "single_update": one `UPDATE ... WHERE score IS NULL`, one transaction;
3. reset (the table is dropped and loaded again, so both strategies start from the same state);
4. strategy "batches": `UPDATE ... WHERE id >= :lo AND id < :hi AND score IS NULL`, one
   transaction per batch of `batch_size` ids (key ranges, never OFFSET);
5. `score` is made NOT NULL (Alembic's `alter_column`, in batch mode so SQLite can do it).

During 2, 4 and 5 two *writer* threads, each on a connection of its own, keep doing what the
application does meanwhile: single-row writes, each in its own transaction, one thread an
UPDATE of a random existing row, the other an INSERT of a new row (which sets `score` itself,
as the new release would); both record each write's latency. How long the slowest write
waited is how long the application was blocked. Before step 2 the writers also run alone, as
a baseline.

    run(url_or_sqlite_path, rows, batch_size) -> dict     one engine, any size
    python -m course.bench --rows 1000000 --batch 10000 --out chapters/02_production/bench/
        runs SQLite, MariaDB and PostgreSQL (COURSE_TEST_MYSQL_URL / COURSE_TEST_POSTGRES_URL
        or the local defaults), each in a database of its own that is dropped afterwards, and
        writes results.json, results.md and results.png (the plot needs matplotlib).
    python -m course.bench --render      rewrite results.md and results.png from results.json
"""

import argparse
import itertools
import json
import math
import os
import platform
import random
import sqlite3
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

from course import REPO, engines

TABLE = "bench_item"
COLUMN = "score"
STRATEGIES = ("single_update", "batches")
PHASE_TITLES = {
    "baseline": "writer alone (baseline)",
    "single_update": "single UPDATE",
    "batches": "batches",
    "set_not_null": "SET NOT NULL",
}
ENGINE_KEYS = ("sqlite", "mariadb", "postgresql")
ENGINE_TITLES = {"sqlite": "SQLite", "mariadb": "MariaDB", "mysql": "MySQL", "postgresql": "PostgreSQL"}
DEFAULT_OUT = REPO / "chapters" / "02_production" / "bench"

METADATA = sa.MetaData()
ITEMS = sa.Table(
    TABLE, METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("name", sa.String(40), nullable=False),
    sa.Column("amount", sa.Integer, nullable=False),
)
# The same table with the new column, for statements that use it (no DDL is made from this).
ITEMS_NEW = sa.table(TABLE, sa.column("id"), sa.column("name"), sa.column("amount"), sa.column(COLUMN))
VALUE = ITEMS_NEW.c.amount * 2 + 1  # what the backfill writes: derived from the row itself


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


def engine_key(engine: Engine) -> str:
    with engine.connect():
        pass  # the dialect knows MariaDB from MySQL once it has connected
    if engine.dialect.name == "mysql":
        return "mariadb" if engine.dialect.is_mariadb else "mysql"
    return engine.dialect.name


def server_version(engine: Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    numbers = ".".join(str(n) for n in engine.dialect.server_version_info[:3])
    return f"{ENGINE_TITLES[engine_key(engine)]} {numbers}"


def settings(engine: Engine) -> dict:
    """The server settings that decide who waits for whom (all defaults, as measured)."""
    name = engine.dialect.name
    with engine.connect() as connection:
        if name == "sqlite":
            return {
                "journal_mode": connection.exec_driver_sql("PRAGMA journal_mode").scalar(),
                "busy_timeout_s": 5.0,  # Python's sqlite3.connect(timeout=5.0), SQLAlchemy keeps it
            }
        if name == "mysql":
            names = ("transaction_isolation", "tx_isolation", "innodb_lock_wait_timeout",
                     "innodb_buffer_pool_size", "innodb_flush_log_at_trx_commit", "log_bin")
            rows = connection.exec_driver_sql(
                "SHOW VARIABLES WHERE Variable_name IN (" + ", ".join(f"'{n}'" for n in names) + ")"
            ).all()
            found = dict(rows)
            if "transaction_isolation" in found:  # MariaDB 11.1+ renamed tx_isolation
                found.pop("tx_isolation", None)
            return dict(sorted(found.items()))
        names = ("default_transaction_isolation", "lock_timeout", "shared_buffers", "synchronous_commit", "wal_level")
        return {n: connection.exec_driver_sql(f"SHOW {n}").scalar() for n in names}


# -- the table ----------------------------------------------------------------------------------
def _rows(count: int):
    return ((i, f"item-{i}", i % 1000) for i in range(1, count + 1))


def load(engine: Engine, rows: int) -> None:
    """Drop and create the table, then bulk-load `rows` rows, the fastest way each driver has."""
    METADATA.drop_all(engine)
    METADATA.create_all(engine)
    raw = engine.raw_connection()
    try:
        driver = raw.driver_connection
        name = engine.dialect.name
        if name == "postgresql":
            with driver.cursor() as cursor:
                with cursor.copy(f"COPY {TABLE} (id, name, amount) FROM STDIN") as copy:
                    for row in _rows(rows):
                        copy.write_row(row)
        else:
            marker = "?" if name == "sqlite" else "%s"
            statement = f"INSERT INTO {TABLE} (id, name, amount) VALUES ({marker}, {marker}, {marker})"
            cursor = driver.cursor()
            generator = _rows(rows)
            # PyMySQL turns executemany of an INSERT ... VALUES into multi-row INSERTs.
            while chunk := list(itertools.islice(generator, 50_000)):
                cursor.executemany(statement, chunk)
            cursor.close()
        driver.commit()
    finally:
        raw.close()


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


def single_update(engine: Engine, batch_size: int) -> dict:
    with engine.begin() as connection:
        updated = connection.execute(sa.update(ITEMS_NEW).where(ITEMS_NEW.c[COLUMN].is_(None)).values({COLUMN: VALUE})).rowcount
    return {"rows_updated": updated, "transactions": 1}


def batches(engine: Engine, batch_size: int) -> dict:
    with engine.connect() as connection:
        low, high = connection.execute(sa.select(sa.func.min(ITEMS_NEW.c.id), sa.func.max(ITEMS_NEW.c.id))).one()
    updated = transactions = 0
    longest = 0.0
    for start in range(low, high + 1, batch_size):
        began = time.perf_counter()
        with engine.begin() as connection:  # commit per batch: locks are held one batch long
            updated += connection.execute(
                sa.update(ITEMS_NEW)
                .where(ITEMS_NEW.c.id >= start, ITEMS_NEW.c.id < start + batch_size, ITEMS_NEW.c[COLUMN].is_(None))
                .values({COLUMN: VALUE})
            ).rowcount
        transactions += 1
        longest = max(longest, time.perf_counter() - began)
    return {"rows_updated": updated, "transactions": transactions, "longest_transaction_s": round(longest, 4)}


def count_nulls(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).where(ITEMS_NEW.c[COLUMN].is_(None))).scalar_one()


def count_wrong(engine: Engine) -> int:
    with engine.connect() as connection:
        return connection.execute(sa.select(sa.func.count()).where(ITEMS_NEW.c[COLUMN] != VALUE)).scalar_one()


def column_nullable(engine: Engine) -> bool:
    column = next(c for c in sa.inspect(engine).get_columns(TABLE) if c["name"] == COLUMN)
    return bool(column["nullable"])


# -- the concurrent writer ------------------------------------------------------------------------
def describe_error(exc: BaseException) -> str:
    orig = getattr(exc, "orig", exc)
    args = getattr(orig, "args", ())
    if args and isinstance(args[0], int):  # PyMySQL: (errno, message)
        return f"{args[0]}: {str(args[1]).split(';')[0] if len(args) > 1 else ''}".strip()
    if type(orig).__module__.startswith("psycopg"):
        return type(orig).__name__
    return str(orig).splitlines()[0][:60]


class Writer(threading.Thread):
    """Single-row writes of one kind ("update" an existing row, "insert" a new one) in a loop,
    on a connection of its own, until stop() is called.

    Every write is (start, end, kind, error or None), times from time.perf_counter().
    """

    def __init__(self, url: URL, kind: str, existing_rows: int, next_id: int, pause: float, seed: int):
        super().__init__(name=f"bench-{kind}", daemon=True)
        self.url, self.kind, self.existing_rows, self.next_id, self.pause = url, kind, existing_rows, next_id, pause
        self.random = random.Random(seed)
        self.writes: list[tuple[float, float, str, str | None]] = []
        self.ready = threading.Event()
        self._halt = threading.Event()
        self.crash: BaseException | None = None

    def _statement(self):
        if self.kind == "insert":  # the new release writes the new column itself
            new_id, self.next_id = self.next_id, self.next_id + 1
            return sa.insert(ITEMS_NEW).values(id=new_id, name=f"new-{new_id}", amount=new_id % 1000, **{COLUMN: (new_id % 1000) * 2 + 1})
        row = self.random.randint(1, self.existing_rows)
        return sa.update(ITEMS_NEW).where(ITEMS_NEW.c.id == row).values(name=f"renamed-{row}")

    def run(self) -> None:
        engine = make_engine(self.url)
        try:
            with engine.connect() as connection:
                while not self._halt.is_set():
                    statement = self._statement()
                    error = None
                    began = time.perf_counter()
                    try:
                        with connection.begin():
                            connection.execute(statement)
                    except DBAPIError as exc:
                        error = describe_error(exc)
                    self.writes.append((began, time.perf_counter(), self.kind, error))
                    self.ready.set()
                    time.sleep(self.pause)
        except BaseException as exc:  # noqa: BLE001 - reported by stop()
            self.crash = exc
            self.ready.set()
        finally:
            engine.dispose()

    def stop(self) -> None:
        self._halt.set()
        self.join()
        if self.crash is not None:
            raise RuntimeError(f"the {self.kind} writer failed: {self.crash!r}") from self.crash


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty list."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)]


def _latency(writes) -> dict:
    latencies = [(end - start) * 1000 for start, end, _, _ in writes]
    if not latencies:
        return {}
    return {
        "max_ms": round(max(latencies), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "median_ms": round(percentile(latencies, 50), 2),
    }


def writer_stats(writes, began: float, ended: float) -> dict:
    """The writes that overlapped [began, ended]: count, failures, latency (ms), also per kind."""
    during = [w for w in writes if w[0] < ended and w[1] > began]
    errors: dict[str, int] = {}
    for *_, error in during:
        if error:
            errors[error] = errors.get(error, 0) + 1
    stats = {"writes": len(during), "failed": sum(errors.values()), "errors": errors, **_latency(during)}
    for kind in ("update", "insert"):
        mine = [w for w in during if w[2] == kind]
        stats[kind] = {"writes": len(mine), **_latency(mine)}
    return stats


class _Ids:
    """Ids for the INSERTs: after the loaded rows, never reused until the next load."""

    def __init__(self, rows: int):
        self.next = rows + 1


def with_writers(url: URL, rows: int, ids: _Ids, work, pause: float, seed: int) -> tuple[float, dict, object]:
    """Run work() while two writers (one UPDATEs, one INSERTs) write; (wall s, stats, work's result)."""
    writers = [Writer(url, "update", rows, 0, pause, seed), Writer(url, "insert", rows, ids.next, pause, seed)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.ready.wait(30)  # connected and one write done: the writers are really running
    began = time.perf_counter()
    try:
        outcome = work()
    finally:
        ended = time.perf_counter()
        for writer in writers:
            writer.stop()
        ids.next = writers[1].next_id
    writes = [w for writer in writers for w in writer.writes]
    return ended - began, writer_stats(writes, began, ended), outcome


# -- one engine ------------------------------------------------------------------------------------
def run(url_or_sqlite_path: str | URL | Path, rows: int, batch_size: int, *,
        writer_pause: float = 0.002, baseline_seconds: float = 0.5, seed: int = 2) -> dict:
    """The whole sequence on one database; every number in the result was measured."""
    url = to_url(url_or_sqlite_path)
    engine = make_engine(url)
    try:
        result: dict = {
            "engine": engine_key(engine),
            "server": server_version(engine),
            "rows": rows,
            "batch_size": batch_size,
            "settings": settings(engine),
        }
        began = time.perf_counter()
        load(engine, rows)
        result["load_s"] = round(time.perf_counter() - began, 3)
        add_column(engine)
        ids = _Ids(rows)

        wall, stats, _ = with_writers(url, rows, ids, lambda: time.sleep(baseline_seconds), writer_pause, seed)
        result["baseline"] = {"seconds": round(wall, 3), "writer": stats}

        checks: dict = {}
        result["strategies"] = {}
        for number, (key, strategy) in enumerate((("single_update", single_update), ("batches", batches))):
            if number:  # the same starting point for each strategy: a freshly loaded table
                load(engine, rows)
                add_column(engine)
                ids = _Ids(rows)
            wall, stats, outcome = with_writers(url, rows, ids, lambda s=strategy: s(engine, batch_size), writer_pause, seed + 1 + number)
            result["strategies"][key] = {"wall_s": round(wall, 4), **outcome, "writer": stats}
            checks[f"nulls_after_{key}"] = count_nulls(engine)
            checks[f"wrong_values_after_{key}"] = count_wrong(engine)

        checks["nullable_before_set_not_null"] = column_nullable(engine)
        wall, stats, _ = with_writers(url, rows, ids, lambda: set_not_null(engine), writer_pause, seed + 9)
        result["set_not_null"] = {"wall_s": round(wall, 4), "writer": stats}
        checks["nullable_after_set_not_null"] = column_nullable(engine)
        with engine.connect() as connection:
            checks["rows_at_end"] = connection.execute(sa.select(sa.func.count()).select_from(ITEMS_NEW)).scalar_one()
        checks["nulls_at_end"] = count_nulls(engine)
        result["checks"] = checks
        METADATA.drop_all(engine)
        return result
    finally:
        engine.dispose()


# -- the report ----------------------------------------------------------------------------------------
def _package(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


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
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
        # other work on the machine at the start (the servers and CPUs are shared)
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
    }


def _ms(stats: dict, key: str) -> str:
    return f"{stats[key]:,.1f}" if key in stats else "-"


def markdown(data: dict) -> str:
    """results.md: one row per engine and phase (the same text the notebook shows)."""
    lines = [
        "| engine | phase | wall time (s) | transactions | writes (failed) | max wait (ms) | p99 (ms) "
        "| max wait, UPDATE (ms) | max wait, INSERT (ms) |",
        "|---|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for key, result in data["results"].items():
        title = ENGINE_TITLES.get(key, key)
        phases = [("baseline", result["baseline"])]
        phases += [(k, result["strategies"][k]) for k in STRATEGIES] + [("set_not_null", result["set_not_null"])]
        for phase, values in phases:
            stats = values["writer"]
            wall = "-" if phase == "baseline" else f"{values['wall_s']:,.2f}"
            transactions = "-" if phase == "baseline" else f"{values.get('transactions', 1):,}"
            writes = f"{stats['writes']:,}" + (f" ({stats['failed']:,})" if stats["failed"] else "")
            cells = [title, PHASE_TITLES[phase], wall, transactions, writes, _ms(stats, "max_ms"), _ms(stats, "p99_ms"),
                     _ms(stats["update"], "max_ms"), _ms(stats["insert"], "max_ms")]
            lines.append("| " + " | ".join(cells) + " |")
    params = data["parameters"]
    m = data["machine"]
    servers = ", ".join(r["server"] for r in data["results"].values())
    errors = sorted({f"{ENGINE_TITLES.get(k, k)}: {e}" for k, r in data["results"].items()
                     for v in [*r["strategies"].values(), r["set_not_null"]] for e in v["writer"]["errors"]})
    notes = [
        "",
        f"{params['rows']:,} rows, batches of {params['batch_size']:,} rows (one commit per batch). "
        "Meanwhile two writers, each on a connection of its own, do single-row writes in a loop "
        f"({params['writer_pause_ms']:g} ms apart): one UPDATEs a random existing row, the other "
        "INSERTs a new row. \"max wait\" is the slowest of their writes while the phase ran: how "
        "long the application was blocked.",
        "",
        f"Measured {m['date']} on {servers}; {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB, "
        f"load average {m.get('load_average_1min')} at the start, {m['os']}, "
        f"Python {m['python']}, " + ", ".join(f"{n} {v}" for n, v in m["packages"].items() if v) + ". "
        "Default server settings: " + "; ".join(
            f"{ENGINE_TITLES.get(k, k)} " + ", ".join(f"{n}={v}" for n, v in r["settings"].items())
            for k, r in data["results"].items()) + ".",
    ]
    if errors:
        notes += ["", "Failed writes: " + "; ".join(errors) + "."]
    return "\n".join(lines + notes) + "\n"


def plot(data: dict, path: Path) -> None:
    """results.png: wall time and the writer's longest wait, per engine and strategy."""
    import matplotlib  # only here: the benchmark's own requirement, not the course's

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    engines_ = list(data["results"])
    phases = [*STRATEGIES, "set_not_null"]
    figure, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    width = 0.8 / len(phases)
    panels = (
        ("wall time (s)", lambda r, p: (r["strategies"].get(p) or r[p])["wall_s"]),
        ("writers' longest wait (s)", lambda r, p: (r["strategies"].get(p) or r[p])["writer"].get("max_ms", 0) / 1000),
    )
    for axis, (label, value) in zip(axes, panels):
        for i, phase in enumerate(phases):
            xs = [e + (i - (len(phases) - 1) / 2) * width for e in range(len(engines_))]
            ys = [value(data["results"][k], phase) for k in engines_]
            bars = axis.bar(xs, ys, width, label=PHASE_TITLES[phase])
            axis.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
        axis.set_xticks(range(len(engines_)), [data["results"][k]["server"] for k in engines_], fontsize=8)
        axis.set_ylabel(label)
        axis.grid(axis="y", alpha=0.3)
    axes[0].legend(fontsize=8)
    params = data["parameters"]
    figure.suptitle(f"Backfilling {params['rows']:,} rows: one UPDATE vs batches of {params['batch_size']:,}", fontsize=11)
    figure.tight_layout()
    figure.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(figure)


def servers_from_environment() -> dict[str, URL]:
    return {key: make_url(os.environ.get(variable, "").strip() or default)
            for key, (variable, default) in engines.TEST_SERVERS.items()}


def run_engine(key: str, rows: int, batch_size: int, **options) -> dict:
    """run() on a database of its own: a temporary SQLite file, or one made on the server and dropped."""
    if key == "sqlite":
        with tempfile.TemporaryDirectory(prefix="mip-bench-") as directory:
            return run(Path(directory) / "bench.db", rows, batch_size, **options)
    server = servers_from_environment()[key]
    url = engines.create_database("bench", server=server)
    try:
        return run(url, rows, batch_size, **options)
    finally:
        engines.drop_database(url, server)


def record(out: Path, rows: int, batch_size: int, engine_keys=ENGINE_KEYS, draw: bool = True, **options) -> dict:
    data = {
        "parameters": {"rows": rows, "batch_size": batch_size,
                       "writer_pause_ms": options.get("writer_pause", 0.002) * 1000},
        "machine": machine(),
        "results": {},
    }
    for key in engine_keys:
        began = time.perf_counter()
        data["results"][key] = run_engine(key, rows, batch_size, **options)
        print(f"{key}: done in {time.perf_counter() - began:.1f} s", file=sys.stderr, flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (out / "results.md").write_text(markdown(data), encoding="utf-8")
    if draw:
        plot(data, out / "results.png")
    return data


def load_results(out: Path = DEFAULT_OUT) -> dict:
    return json.loads((out / "results.json").read_text(encoding="utf-8"))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m course.bench", description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--engines", default=",".join(ENGINE_KEYS), help="comma-separated: sqlite,mariadb,postgresql")
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
        parser.error(f"unknown engines: {', '.join(sorted(unknown))}")
    data = record(args.out, args.rows, args.batch, keys, draw=not args.no_plot)
    print(markdown(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
