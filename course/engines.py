"""Which database server the course runs on, and scratch databases on it.

One setting chooses: COURSE_DATABASE_URL. Unset, every workspace gets its own SQLite file
(nothing to install). Set to a server URL (mysql+pymysql://root@127.0.0.1/test,
postgresql+psycopg://postgres@127.0.0.1/test), every workspace gets a database of its own on
that server, created with a unique name and dropped when the process ends, however it ends
(course/reaper.py).
"""

import atexit
import os
import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

from course import reaper

SETTING = "COURSE_DATABASE_URL"
# A test run sets this; every database made while it is set carries it in its name, so the
# run can drop them all at the end, even those of notebook kernels that were killed.
RUN_SETTING = "COURSE_RUN_ID"

# The servers the test suite runs on: id -> (environment variable, default URL).
TEST_SERVERS = {
    "mariadb": ("COURSE_TEST_MYSQL_URL", "mysql+pymysql://root@127.0.0.1:3306/test"),
    "postgresql": ("COURSE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
}

_pending: dict[str, URL] = {}  # databases this process made and has not dropped: name -> server


class EngineSetupError(Exception):
    """The configured server cannot be used; the message says what to change."""


# The drivers the course installs, per backend: a URL without one (mysql://, postgres://)
# would ask SQLAlchemy for another driver, which is not installed.
DRIVERS = {"mysql": "mysql+pymysql", "mariadb": "mysql+pymysql", "postgresql": "postgresql+psycopg",
           "postgres": "postgresql+psycopg"}


def share_pymysql_tls_context(*, build_now: bool = False) -> None:
    """Give every PyMySQL connection of this process one TLS context instead of a new one each.

    PyMySQL 1.2 tries TLS on every connection that names no TLS options (PREFERRED mode, as the
    mysql client does) and builds a new SSLContext for it each time, which reads the system's CA
    certificates: ~30 ms on an idle machine, ~100 ms on a loaded two-core one, for each of the
    hundred connections a check opens. A context serves any number of connections, so the
    default one is built once; TLS is tried exactly as before. `build_now` builds it at once:
    the warm interpreter does, so that its forked children inherit it ready.
    (tests/test_settings.py checks that PyMySQL still needs this.)
    """
    try:
        from pymysql import connections
    except ImportError:
        return
    create = connections.Connection._create_ssl_ctx
    if getattr(create, "shared_default", None) is not None:
        return
    shared: list = []

    def create_once(self, options):
        if options != {}:  # explicit TLS options (a CA, a certificate): PyMySQL's own way
            return create(self, options)
        if not shared:
            shared.append(create(self, options))
        return shared[0]

    create_once.shared_default = shared
    connections.Connection._create_ssl_ctx = create_once
    if build_now:
        shared.append(create(None, {}))  # PyMySQL's method does not use the connection


def server_url() -> URL | None:
    """The configured server, or None for SQLite files."""
    raw = os.environ.get(SETTING, "").strip()
    if not raw or raw.startswith("sqlite"):
        return None
    share_pymysql_tls_context()
    scheme = raw.partition("://")[0]
    fixed = DRIVERS.get(scheme.split("+")[0])
    if fixed and scheme not in ("mysql+pymysql", "postgresql+psycopg"):
        shown = raw.replace(scheme + "://", fixed + "://", 1)
        try:
            shown = make_url(shown).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            pass
        raise EngineSetupError(
            f"{SETTING} starts with {scheme}://, a driver the course does not install; "
            f"write {fixed}:// instead, e.g. {shown}"
        )
    try:
        return make_url(raw)
    except (ArgumentError, ValueError):
        raise EngineSetupError(f"{SETTING} is not a database URL (e.g. postgresql+psycopg://user@host:5432/db)") from None


def engine_name() -> str:
    """'sqlite', 'mysql' (MariaDB too) or 'postgresql': what lessons branch on."""
    url = server_url()
    return "sqlite" if url is None else url.get_backend_name()


def _admin_engine(url: URL):
    try:
        return create_engine(url, isolation_level="AUTOCOMMIT")
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise EngineSetupError(f"{SETTING} needs a driver that is not installed: {exc}") from None


def _run_admin(url: URL, statement: str) -> None:
    engine = _admin_engine(url)
    shown = url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            connection.execute(text(statement))
    except OperationalError as exc:
        reason = " ".join(str(exc.orig).split())  # psycopg's message spans lines
        raise EngineSetupError(f"cannot reach {shown} ({reason}); check {SETTING}") from None
    finally:
        engine.dispose()


def _quote(server: URL, name: str) -> str:
    return f"`{name}`" if server.get_backend_name() == "mysql" else f'"{name}"'


def create_database(prefix: str, server: URL | None = None) -> URL:
    """A new empty database on `server` (default: the configured one); dropped at exit."""
    server = server or server_url()
    if server is None:
        raise EngineSetupError(f"{SETTING} does not name a server")
    run = os.environ.get(RUN_SETTING, "")
    name = "_".join(filter(None, ("mip", run, prefix.lower()[:40], secrets.token_hex(4))))
    _run_admin(server, f"CREATE DATABASE {_quote(server, name)}")
    _pending[name] = server
    # Dropped at exit below; and if this process is killed first, by its watcher.
    reaper.register(name, server.render_as_string(hide_password=False))
    reaper.watch_me()
    url = server.set(database=name)
    if server.get_backend_name() == "mysql":
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def drop_database(url: URL, server: URL) -> None:
    _pending.pop(url.database, None)
    reaper.forget(url.database)
    statement = f"DROP DATABASE IF EXISTS {_quote(server, url.database)}"
    if server.get_backend_name() == "postgresql":
        statement += " WITH (FORCE)"  # a notebook's kernel may still hold a connection
    try:
        _run_admin(server, statement)
    except EngineSetupError:
        pass  # the server went away first: nothing is left on it to clean


@atexit.register
def _drop_pending() -> None:
    for name, server in list(_pending.items()):
        drop_database(server.set(database=name), server)


def sweep(server: URL, run: str) -> list[str]:
    """Drop every database that the run `run` made on `server`; return their names."""
    pattern = f"mip\\_{run}\\_%"
    if server.get_backend_name() == "postgresql":
        query = "SELECT datname FROM pg_database WHERE datname LIKE :pattern"
    else:
        query = "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :pattern"
    try:
        engine = _admin_engine(server)
        with engine.connect() as connection:
            names = list(connection.execute(text(query), {"pattern": pattern}).scalars())
        engine.dispose()
    except (EngineSetupError, OperationalError):
        return []
    for name in names:
        drop_database(server.set(database=name), server)
    return names
