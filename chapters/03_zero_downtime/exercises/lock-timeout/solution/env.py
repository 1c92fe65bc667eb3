"""How Alembic reaches the database and the models.

Three decisions, each for a reason:
- The URL comes from the app's settings (DATABASE_URL), never from alembic.ini: one source of
  truth, and no ConfigParser interpolation to trip over a '%' in a password.
- A caller (a test, a notebook) may hand in an Engine or a Connection through
  config.attributes["connection"]; then this file opens nothing of its own.
- Autogenerate writes batch operations on every engine: SQLite needs them to ALTER, servers
  get plain ALTERs from them, so a revision made against a server also runs on SQLite.
"""

from logging.config import fileConfig

from alembic import context
from alembic.util import CommandError
from sqlalchemy import Connection, Engine, create_engine, pool
from sqlalchemy.exc import NoSuchModuleError, OperationalError

from app.config import SettingsError, get_settings
from app.models import Base  # imports every model module, so autogenerate sees every table

config = context.config

# Programmatic callers set configure_logger=False to keep their own logging untouched.
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name)

target_metadata = Base.metadata


def database_url():
    try:
        return get_settings().url
    except SettingsError as exc:
        raise CommandError(str(exc)) from None


def run_migrations_offline() -> None:
    url = database_url()
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def connect(engine: Engine, where: str = "DATABASE_URL") -> Connection:
    """Open a connection, turning the usual set-up mistakes into one line naming `where`."""
    shown = engine.url.render_as_string(hide_password=True)
    try:
        connection = engine.connect()
    except OperationalError as exc:
        raise CommandError(f"cannot connect to {shown}: {' '.join(str(exc.orig).split())}. Check {where}.") from None
    limit_waits(connection)
    return connection


def run_migrations_online() -> None:
    given = config.attributes.get("connection")
    if isinstance(given, Connection):
        run_migrations(given)
        return
    if isinstance(given, Engine):
        with connect(given, 'the Engine handed in as config.attributes["connection"]') as connection:
            run_migrations(connection)
        return
    url = database_url()
    try:
        engine = create_engine(url, poolclass=pool.NullPool)
    except (NoSuchModuleError, ModuleNotFoundError) as exc:
        raise CommandError(
            f"DATABASE_URL names a driver that is not installed ({exc}); "
            "install it (see requirements.txt) or change DATABASE_URL"
        ) from None
    try:
        with connect(engine) as connection:
            run_migrations(connection)
    finally:
        engine.dispose()


def limit_waits(connection: Connection) -> None:
    """Limits for this migration's session, and for no other.

    A DDL statement waiting for its table joins the table's lock queue: every later query on
    the table waits behind it, so the app stalls for as long as the migration waits (forever
    on PostgreSQL, a day on MariaDB). With a short lock limit the statement gives up, changes
    nothing, and the deploy retries later. Set here, on the connection this file opened: the
    app's own sessions keep the server's defaults.
    """
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET lock_timeout = '1s'")  # waiting for any lock
        # No statement_timeout for the session: it would cancel the long steps that block
        # nobody (CREATE INDEX CONCURRENTLY, VALIDATE CONSTRAINT) and leave an invalid index.
    elif connection.dialect.name in ("mysql", "mariadb"):
        # metadata (table) locks, and InnoDB's row locks (50 s by default)
        connection.exec_driver_sql("SET SESSION lock_wait_timeout = 1, SESSION innodb_lock_wait_timeout = 1")
    connection.commit()  # a session setting outlives this transaction; Alembic's starts clean


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
