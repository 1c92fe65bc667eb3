"""Scratch databases that a process reuses (PostgreSQL) are as empty as new ones.

course/runtime/engines.py keeps a dropped PostgreSQL database as an emptied spare and renames it
for the next create_database, because CREATE DATABASE costs about 0.5 s there. A lesson or a
check must not be able to tell the difference: every catalog fact a migration could meet is
compared with a database made by CREATE DATABASE.
"""

import subprocess
import sys

from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from course.runtime import engines

# What a new PostgreSQL database holds outside the system schemas, and its own settings.
SNAPSHOT = {
    "schemas": "SELECT string_agg(nspname || ' ' || pg_get_userbyid(nspowner) || ' ' || coalesce(nspacl::text, '-') "
               "|| ' ' || coalesce(obj_description(oid, 'pg_namespace'), '-'), '; ' ORDER BY nspname) "
               "FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'",
    "relations": "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                 "WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'",
    "types": "SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
             "WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'",
    "functions": "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
                 "WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema'",
    "extensions": "SELECT string_agg(extname, ',' ORDER BY extname) FROM pg_extension",
    "settings": "SELECT count(*) FROM pg_db_role_setting s JOIN pg_database d ON d.oid = s.setdatabase "
                "WHERE d.datname = current_database()",
    "lock_timeout": "SHOW lock_timeout",
}


def snapshot(url) -> dict:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            return {name: connection.execute(text(query)).scalar() for name, query in SNAPSHOT.items()}
    finally:
        engine.dispose()


def clutter(url) -> None:
    """What a lesson leaves behind: tables, an index, an enum, a function, another schema, a
    database-wide setting."""
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (id int PRIMARY KEY, name text UNIQUE)"))
            connection.execute(text("CREATE TYPE mood AS ENUM ('ok')"))
            connection.execute(text("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'"))
            connection.execute(text("CREATE SCHEMA other"))
            connection.execute(text("CREATE TABLE other.x (id int)"))
            connection.execute(text(f'ALTER DATABASE "{url.database}" SET lock_timeout = 1000'))
    finally:
        engine.dispose()


def test_a_reused_postgresql_database_is_as_empty_as_a_new_one(server_url):
    postgresql = engines.name_of(server_url) == "postgresql"
    reference = engines.create_database("t_spare_reference", server_url)
    engines._spares.clear()
    try:
        expected = snapshot(reference) if postgresql else None
        first = engines.create_database("t_spare_first", server_url)
        if postgresql:
            clutter(first)
        engines.drop_database(first, server_url)
        kept = sum(len(names) for names in engines._spares.values())
        second = engines.create_database("t_spare_second", server_url)
        try:
            if postgresql:
                assert snapshot(second) == expected
        finally:
            engines.drop_database(second, server_url)
    finally:
        engines._spares.clear()
        engines._closing, closing = True, engines._closing  # really drop the reference
        try:
            engines.drop_database(reference, server_url)
        finally:
            engines._closing = closing
    # Only PostgreSQL keeps a spare; MariaDB makes and drops its databases in ~0.02 s.
    assert kept == (1 if postgresql else 0)
    assert second.database.startswith(f"mip_{engines.settings.current().run_id}_t_spare_second_")


EXITS = """
import sys
from sqlalchemy import make_url
from course.runtime import engines
server = make_url(sys.argv[1])
url = engines.create_database("t_spare_exit", server)
engines.drop_database(url, server)
print(*[name for names in engines._spares.values() for name in names])
"""


def test_spares_are_dropped_when_the_process_ends(server_url):
    shown = server_url.render_as_string(hide_password=False)
    kept = subprocess.run([sys.executable, "-c", EXITS, shown], capture_output=True, text=True, check=True).stdout.split()
    assert len(kept) == (1 if engines.name_of(server_url) == "postgresql" else 0)
    engine = create_engine(server_url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            if engines.name_of(server_url) == "postgresql":
                query = "SELECT datname FROM pg_database"
            else:
                query = "SELECT schema_name FROM information_schema.schemata"
            names = set(connection.execute(text(query)).scalars())
    finally:
        engine.dispose()
    assert not names & set(kept), "a spare database outlived its process"
