"""The engines table (chapters/01_alembic_basics/ENGINES.md) is true: every probe, re-run on
every engine, gives the outcome stored in engines.json, and ENGINES.md shows exactly that file."""

import pytest

from course.lessons import engine_probes as ep
from course.runtime import engines

STORED = ep.load()


@pytest.mark.parametrize("probe", ep.PROBES, ids=lambda p: p.key)
def test_probe_gives_the_stored_outcome(probe, engine_url, make_project, tmp_path):
    with make_project(engine_url, "0002", tmp_path) as ws:
        engine = engines.connected_name(ws.engine)
        if engine not in STORED["results"]:
            pytest.skip(f"engines.json has no {engine} column (measured: {', '.join(STORED['results'])})")
        assert probe.run(ws) == STORED["results"][engine][probe.key]


def test_every_engine_has_every_probe():
    assert list(STORED["results"]) == list(ep.ENGINE_KEYS)
    for outcomes in STORED["results"].values():
        assert list(outcomes) == [p.key for p in ep.PROBES]
    assert set(STORED["versions"]) == set(ep.ENGINE_KEYS)


def test_engines_md_shows_the_stored_table():
    assert ep.table_in() == ep.markdown_block(STORED)


def test_markdown_table_layout():
    results = {
        "postgresql": {p.key: "b|c" for p in ep.PROBES},
        "sqlite": {p.key: "FROM `user`" for p in ep.PROBES},
    }
    lines = ep.markdown_table(results).splitlines()
    assert lines[0] == "| behaviour | SQLite | PostgreSQL |"
    assert lines[1] == "|---|---|---|"
    assert len(lines) == 2 + len(ep.PROBES)
    assert lines[2] == f"| {ep.PROBES[0].title} | `` FROM `user` `` | b\\|c |"


class _FakeDriverError(Exception):
    pass


def test_describe_error_is_short_and_stable():
    import sqlite3

    import psycopg.errors
    import pymysql.err
    from sqlalchemy.exc import DBAPIError

    def wrapped(orig):
        return DBAPIError("statement", {}, orig)

    assert ep.describe_error(wrapped(psycopg.errors.NotNullViolation("null value in column"))) == "error: NotNullViolation"
    mysql = pymysql.err.IntegrityError(1452, "Cannot add or update a child row: a foreign key constraint fails (`db_1`.`x`)")
    assert ep.describe_error(wrapped(mysql)) == "error 1452: Cannot add or update a child row"
    mysql = pymysql.err.IntegrityError(1062, "Duplicate entry 'alice' for key 'uq_user_username'")
    assert ep.describe_error(wrapped(mysql)) == "error 1062: Duplicate entry"
    assert ep.describe_error(wrapped(sqlite3.OperationalError("duplicate column name: nickname"))) == (
        "error: duplicate column name"
    )
    assert ep.describe_error(wrapped(sqlite3.OperationalError('near "ALTER": syntax error'))) == (
        'error: near "ALTER": syntax error'
    )
    assert ep.describe_error(_FakeDriverError("x")) == "error: _FakeDriverError"


def test_transaction_per_migration_needs_the_online_configure_line(make_project, tmp_path):
    with make_project(f"sqlite:///{tmp_path / 'test.db'}", "0002", tmp_path) as ws:
        ep.transaction_per_migration(ws)
        assert ws.file("alembic/env.py").read_text().count("transaction_per_migration=True,") == 1
        with pytest.raises(RuntimeError, match="connection=connection"):
            env_py = ws.file("alembic/env.py")
            env_py.write_text(env_py.read_text().replace("connection=connection,", "connection=given,"))
            ep.transaction_per_migration(ws)


def test_pages_name_mariadb_where_only_mariadb_was_measured():
    assert "mysql" not in STORED["results"] and "mysql" not in STORED["versions"]
    text = ep.TABLE_FILE.read_text(encoding="utf-8")
    for vague in ("MySQL/MariaDB", "MySQL or MariaDB", "MySQL and MariaDB"):
        assert vague not in text


def test_code_of_prints_a_helper_once_then_trusts_it():
    shown = set()
    first = ep.code_of("failed_migration", shown)
    assert first.startswith("def failed_migration(") and "def fail_half_way(" in first and "def add_users(" in first
    again = ep.code_of("failed_migration_with_begin", shown)
    assert again.startswith("def failed_migration_with_begin(") and "def fail_half_way(" not in again
    assert "def _through_engine_that_begins(" in again and "failed_migration" in shown
