"""Which database server the course runs on, what the course calls it, and scratch databases on it.

One setting chooses: COURSE_DATABASE_URL. Unset, every workspace gets its own SQLite file
(nothing to install). Set to a server URL (mysql+pymysql://root@127.0.0.1/test,
postgresql+psycopg://postgres@127.0.0.1/test), every workspace gets a database of its own on
that server, created with a unique name and dropped when the process ends, however it ends
(course/runtime/reaper.py).

The course names its engines "sqlite", "mariadb" and "postgresql", everywhere: in lessons
that branch on engine_name(), exercise.toml (`only`, `expect_<engine>`), test ids, stored
results. SQLAlchemy's own names (`engine.dialect.name`: "mysql" for MariaDB too) stay where
code talks to SQLAlchemy or Alembic, as a reader's own migration would.
"""

import atexit
import os
import secrets

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import NullPool

from course import settings
from course.i18n import _
from course.runtime import errors, reaper
from course.settings import ENGINE_TITLES, ENGINES, CourseSettings  # noqa: F401 - ENGINE_TITLES is read from here too

SETTING = settings.variable(CourseSettings, "database_url")
# A test run sets this; every database made while it is set carries it in its name, so the
# run can drop them all at the end, even those of notebook kernels that were killed.
RUN_SETTING = settings.variable(CourseSettings, "run_id")

SERVER_ENGINES = ENGINES[1:]  # the engines that need a server: mariadb, postgresql

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
    (tests/test_connections.py checks that PyMySQL still needs this.)
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
    raw = settings.current().database_url.strip()
    if not raw or raw.startswith("sqlite"):
        return None
    return _parse(raw, SETTING)


TEMPLATE_DATABASES = ("template0", "template1")


def _refuse_template_database(url: URL, setting: str) -> None:
    """A PostgreSQL server URL must not name a template database. The course keeps a session
    on the URL's database (_admin_session), one per process, and PostgreSQL refuses CREATE
    DATABASE (after waiting 5 s) while any other session is connected to template1, which it
    copies; template0 takes no connections at all."""
    if url.get_backend_name() == "postgresql" and url.database in TEMPLATE_DATABASES:
        raise EngineSetupError(_("{setting} names {database}, one of PostgreSQL's template databases: CREATE DATABASE "
                                 "copies template1 and refuses while another session is connected to it, and template0 "
                                 "takes no connections. Name another database on that server, e.g. postgres").format(
            setting=setting, database=url.database))


def _parse(raw: str, setting: str) -> URL:
    """A server URL read from `setting`, or EngineSetupError saying what to write instead."""
    scheme = raw.partition("://")[0]
    fixed = DRIVERS.get(scheme.split("+")[0])
    if fixed and scheme not in ("mysql+pymysql", "postgresql+psycopg"):
        shown = raw.replace(scheme + "://", fixed + "://", 1)
        try:
            shown = make_url(shown).render_as_string(hide_password=True)
        except (ArgumentError, ValueError):
            pass
        raise EngineSetupError(_("{setting} starts with {scheme}://, a driver the course does not install; write "
                                 "{fixed}:// instead, e.g. {example}").format(
            setting=setting, scheme=scheme, fixed=fixed, example=shown))
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise EngineSetupError(_("{setting} is not a database URL (e.g. {example})").format(
            setting=setting, example="postgresql+psycopg://user@host:5432/db")) from None
    _refuse_template_database(url, setting)  # at once, before anything connects
    if url.get_backend_name() == "mysql":
        share_pymysql_tls_context()  # only where PyMySQL will connect: PostgreSQL never imports it
    return url


# -- the server of one engine: for the lessons and exercises about that engine ----------------
ENGINE_SERVER_FIELDS = {"mariadb": "mariadb_server", "postgresql": "postgresql_server"}
ENGINE_SERVER_SETTINGS = {engine: settings.variable(CourseSettings, field) for engine, field in ENGINE_SERVER_FIELDS.items()}


def setting_for(engine: str) -> str:
    """The variable that names the server of `engine` now: COURSE_DATABASE_URL when it names a
    server of that engine, else COURSE_<ENGINE>_SERVER."""
    _known_server_engine(engine)
    configured = settings.current().database_url.strip()
    if configured and not configured.startswith("sqlite") and _backend_of(configured) == engine:
        return SETTING
    return ENGINE_SERVER_SETTINGS[engine]


def server_for(engine: str) -> URL:
    """The server of `engine` ('mariadb' or 'postgresql'): what a notebook or an exercise about
    that engine makes its databases on, whatever engine the rest of the course runs on."""
    setting = setting_for(engine)
    raw = settings.current().database_url if setting == SETTING else getattr(
        settings.current(), ENGINE_SERVER_FIELDS[engine])
    url = _parse(raw.strip(), setting)
    if name_of(url) != engine:
        raise EngineSetupError(_("{setting} names a {engine} server; it must name a {wanted} one").format(
            setting=setting, engine=ENGINE_TITLES.get(name_of(url), name_of(url)), wanted=ENGINE_TITLES[engine]))
    return url


def _backend_of(raw: str) -> str | None:
    """The course's name for the engine a URL's scheme names (mysql://, postgres+psycopg2://),
    whatever its driver; None for a scheme the course has no driver for."""
    driver = DRIVERS.get(raw.partition("://")[0].split("+")[0])
    return _course_name(driver.split("+")[0]) if driver else None


def _known_server_engine(engine: str) -> None:
    if engine not in SERVER_ENGINES:
        raise ValueError(f"{engine!r} is not a server engine; choose from {', '.join(SERVER_ENGINES)}")


def unreachable(url: URL, timeout: int = 2) -> str | None:
    """Why the server at `url` does not answer within about `timeout` seconds, in one line;
    None when it answers."""
    shown = url.render_as_string(hide_password=True)
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args={"connect_timeout": timeout})
    except Exception as exc:  # noqa: BLE001 - e.g. the driver is not installed
        return f"cannot use {shown} ({errors.one_line(exc)})"
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - every reason is reported, not raised
        return f"{shown} does not answer ({errors.one_line(errors.driver_error(exc))})"
    finally:
        engine.dispose()
    return None


def engine_name() -> str:
    """'sqlite', 'mariadb' or 'postgresql': the configured engine, what lessons branch on."""
    return name_of(server_url())


def name_of(url: URL | str | None) -> str:
    """The course's name for the engine of a URL (None: SQLite). A mysql+pymysql:// URL is
    MariaDB: the course runs on MariaDB, and a URL cannot tell MySQL apart."""
    if url is None:
        return "sqlite"
    return _course_name(make_url(url).get_backend_name())


def _course_name(backend: str) -> str:
    """The course's name for SQLAlchemy's backend name ("mysql" is MariaDB)."""
    return {"mysql": "mariadb", "postgres": "postgresql"}.get(backend, backend)


def connected_name(engine: Engine) -> str:
    """'sqlite', 'mariadb', 'mysql' or 'postgresql': the engine's server as it says once
    connected (only then does SQLAlchemy know MariaDB from MySQL)."""
    with engine.connect():
        pass
    if engine.dialect.name == "mysql":
        return "mariadb" if engine.dialect.is_mariadb else "mysql"
    return engine.dialect.name


def _admin_engine(url: URL, setting: str = SETTING, **options):
    try:
        return create_engine(url, isolation_level="AUTOCOMMIT", **options)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise EngineSetupError(_("{setting} needs a driver that is not installed: {error}").format(
            setting=setting, error=exc)) from None


# CREATE, DROP and RENAME DATABASE go through one session per server and process, kept open:
# a new session costs a server process on PostgreSQL and SQLAlchemy's four first-connect
# queries, ~25 ms of CPU between client and server, and a check makes and drops several
# databases (four such statements per workspace on PostgreSQL). The session is on the server
# URL's own database, never on one it creates, renames or drops. pool_pre_ping: a session the
# server ended (a restart) is replaced instead of failing the next statement.
_admin_engines: dict[str, Engine] = {}
# A forked child's inherited pools, kept referenced for the child's life: collected, their
# connections would close descriptor numbers that the child may have closed and reused by then
# (the warm interpreter's children close every inherited descriptor first), and psycopg would
# warn about them in the child's output.
_inherited_pools: list = []


def _admin_session(url: URL, setting: str = SETTING) -> Engine:
    _refuse_template_database(url, setting)  # a URL that did not come through _parse (the test run's, say)
    key = url.render_as_string(hide_password=False)
    engine = _admin_engines.get(key)
    if engine is None:  # no connection yet: a second one made by a racing thread costs nothing
        engine = _admin_engines.setdefault(key, _admin_engine(url, setting, pool_size=1, pool_pre_ping=True))
    return engine


def close_admin_sessions() -> None:
    """End this process's sessions for CREATE, RENAME and DROP DATABASE (at exit; and in a
    process that forks others, such as the warm interpreter, before it does)."""
    _forget_admin_sessions(close=True)


def _forget_admin_sessions(*, close: bool) -> None:
    """close=False in a forked child: the sessions are its parent's; the child sets them aside
    without a word to the server (SQLAlchemy's dispose(close=False)) and opens its own when it
    needs one."""
    for engine in _admin_engines.values():
        if not close:
            _inherited_pools.append(engine.pool)
        engine.dispose(close=close)
    _admin_engines.clear()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: _forget_admin_sessions(close=False))


def _run_admin(url: URL, statement: str, setting: str = SETTING) -> None:
    shown = url.render_as_string(hide_password=True)
    try:
        with _admin_session(url, setting).connect() as connection:
            connection.execute(text(statement))
    except OperationalError as exc:
        reason = errors.one_line(errors.driver_error(exc))  # psycopg's message spans lines
        raise EngineSetupError(_("cannot reach {server} ({reason}); check {setting}").format(
            server=shown, reason=reason, setting=setting)) from None


def _quote(server: URL, name: str) -> str:
    return f"`{name}`" if name_of(server) == "mariadb" else f'"{name}"'


def create_database(prefix: str, server: URL | None = None, setting: str = SETTING) -> URL:
    """A new empty database on `server` (default: the configured one); dropped at exit.
    `setting` is the variable that named the server, for the message if it does not answer."""
    server = server or server_url()
    if server is None:
        raise EngineSetupError(_("{setting} does not name a server").format(setting=SETTING))
    name = _new_name(prefix.lower()[:40])
    if not _reuse_spare(server, name):
        _run_admin(server, f"CREATE DATABASE {_quote(server, name)}", setting)
    _pending[name] = server
    # Dropped at exit below; and if this process is killed first, by its watcher.
    reaper.register(name, server.render_as_string(hide_password=False))
    reaper.watch_me()
    url = server.set(database=name)
    if name_of(server) == "mariadb":
        url = url.update_query_dict({"charset": "utf8mb4"})
    return url


def _new_name(label: str) -> str:
    """mip_<run>_<label>_<8 hex digits>: a new database's name (a workspace's or a spare's),
    which sweep() finds by its run."""
    return "_".join(filter(None, ("mip", settings.current().run_id or "", label, secrets.token_hex(4))))


def _forget(name: str) -> None:
    _pending.pop(name, None)
    reaper.forget(name)


def drop_database(url: URL, server: URL) -> None:
    """Drop a database create_database made; on PostgreSQL, keep it emptied as a spare instead."""
    if _keep_as_spare(url, server):
        return
    _forget(url.database)
    statement = f"DROP DATABASE IF EXISTS {_quote(server, url.database)}"
    if name_of(server) == "postgresql":
        statement += " WITH (FORCE)"  # a notebook's kernel may still hold a connection
    try:
        _run_admin(server, statement)
    except EngineSetupError:
        pass  # the server went away first: nothing is left on it to clean


# -- spare databases (PostgreSQL) ---------------------------------------------------------------
# CREATE DATABASE copies a template and DROP DATABASE removes its files: about 0.5 s together
# on PostgreSQL 15 here, against 0.03 s on MariaDB. A process that makes one workspace after
# another (a test worker proving checkers, a notebook's kernel) keeps each dropped database
# instead, emptied to the state CREATE DATABASE gives on PostgreSQL 15 and later (one public
# schema owned by pg_database_owner, no per-database settings), and renames it for the next
# create_database: about 0.1 s. Spares stay this process's own databases (registered with the
# reaper under their new names) and are dropped at exit like any other.
_spares: dict[str, list[str]] = {}  # server URL -> names of emptied databases ready for reuse
_SPARES_MAX = 2
_closing = False  # set at exit: then every database is dropped, spares too
_EMPTY_PUBLIC_SCHEMA = (
    "CREATE SCHEMA public AUTHORIZATION pg_database_owner; "
    "GRANT USAGE ON SCHEMA public TO PUBLIC; "
    "COMMENT ON SCHEMA public IS 'standard public schema'"
)


def _server_key(server: URL) -> str:
    return server.set(database=None).render_as_string(hide_password=False)


def _reuse_spare(server: URL, name: str) -> bool:
    """Rename a spare to `name`, if this process has one that nobody is connected to."""
    spares = _spares.get(_server_key(server))
    while spares:
        spare = spares.pop()
        try:
            _run_admin(server, f'ALTER DATABASE "{spare}" RENAME TO "{name}"')
        except EngineSetupError:  # in use (autovacuum, say) or gone: drop it, make a new one
            drop_database(server.set(database=spare), server)
            continue
        _forget(spare)
        return True
    return False


def _keep_as_spare(url: URL, server: URL) -> bool:
    if _closing or name_of(server) != "postgresql" or url.database not in _pending:
        return False
    spares = _spares.setdefault(_server_key(server), [])
    if len(spares) >= _SPARES_MAX:
        return False
    spare = _new_name("spare")
    engine = _admin_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.server_version_info < (15,):
                return False  # older servers give a new database's public schema other rights
            connection.execute(text(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            ))  # what DROP DATABASE ... WITH (FORCE) would do to a kernel's leftover connection
            schemas = connection.execute(text(
                "SELECT quote_ident(nspname) FROM pg_namespace "
                "WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'"
            )).scalars().all()
            if schemas:
                connection.execute(text(f"DROP SCHEMA {', '.join(schemas)} CASCADE"))
            connection.execute(text(_EMPTY_PUBLIC_SCHEMA))
    except Exception:  # noqa: BLE001 - any doubt: drop it the usual way
        return False
    finally:
        engine.dispose()  # RENAME waits while any session, this one too, is connected
    try:
        _run_admin(server, f'ALTER DATABASE "{url.database}" RESET ALL')
        _run_admin(server, f'ALTER DATABASE "{url.database}" RENAME TO "{spare}"')
    except EngineSetupError:
        return False
    _forget(url.database)
    _pending[spare] = server
    reaper.register(spare, server.render_as_string(hide_password=False))
    spares.append(spare)
    return True


@atexit.register
def _drop_pending() -> None:
    global _closing
    _closing = True
    for name, server in list(_pending.items()):
        drop_database(server.set(database=name), server)
    close_admin_sessions()


def sweep(server: URL, run: str) -> list[str]:
    """Drop every database that the run `run` made on `server`; return their names."""
    pattern = f"mip\\_{run}\\_%"
    if name_of(server) == "postgresql":
        query = "SELECT datname FROM pg_database WHERE datname LIKE :pattern"
    else:
        query = "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE :pattern"
    try:
        with _admin_session(server).connect() as connection:
            names = list(connection.execute(text(query), {"pattern": pattern}).scalars())
    except (EngineSetupError, OperationalError):
        return []
    for name in names:
        drop_database(server.set(database=name), server)
    return names
