"""Settings read from the environment, in one place (the app and Alembic both use them)."""

from functools import lru_cache
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(Exception):
    """A setting has a value the app cannot use; the message names the variable."""


# The directory holding app/ and alembic.ini. Relative paths are taken from here, not from
# wherever a command happens to be started, so the app and Alembic open the same SQLite file
# and read the same .env from any directory.
PROJECT_DIR = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=PROJECT_DIR / ".env", extra="ignore", validate_default=True)

    database_url: str = "sqlite:///./app.db"  # PROJECT_DIR/app.db, see _must_parse
    # Argon2 costs. The defaults are pwdlib's (about 0.2 s a hash); tests lower them.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536

    @field_validator("database_url")
    @classmethod
    def _must_parse(cls, value: str) -> str:
        try:
            url = make_url(value)
        except (ArgumentError, ValueError):
            raise ValueError("not a database URL") from None
        if url.get_backend_name() == "postgres":  # the scheme many hosting providers hand out
            raise ValueError("SQLAlchemy names this database postgresql, as in postgresql+psycopg://")
        if url.get_backend_name() == "sqlite" and _relative_file(url.database):
            return url.set(database=str(PROJECT_DIR / url.database)).render_as_string(hide_password=False)
        return value

    @property
    def url(self) -> URL:
        return make_url(self.database_url)


class MigrationSettings(BaseSettings):
    """Settings for env.py alone (apart, so it needs no DATABASE_URL when handed a database).

    MIGRATION_LOCK_TIMEOUT: whole seconds (default 10) a statement of a migration may wait for
    a lock before PostgreSQL or MariaDB cancels it; env.py sets it on the migration's session.
    An ALTER TABLE waiting for its table joins the table's lock queue, and every later query
    on that table waits behind it, so the app stalls for as long as the migration waits. Ten
    seconds lets ordinary short transactions finish and keeps the stall short; when it fires,
    the statement that waited changed nothing: retry the deploy later. Whole seconds, because
    MariaDB's lock_wait_timeout takes no fractions; 0 is refused, because it would mean "do
    not wait" on MariaDB and "wait forever" on PostgreSQL.
    """

    model_config = Settings.model_config

    migration_lock_timeout: int = Field(default=10, ge=1)


@lru_cache
def get_settings() -> Settings:
    return _load(Settings)


def get_migration_settings() -> MigrationSettings:
    return _load(MigrationSettings)


def _load(settings_class: type[BaseSettings]):
    """Read the settings; a bad value becomes one SettingsError line naming its variable."""
    try:
        return settings_class()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper()
        example = (
            "; expected a URL such as sqlite:///./app.db or mysql+pymysql://user:password@host/dbname"
            if name == "DATABASE_URL"
            else ""
        )
        raise SettingsError(f"{name}={_without_password(error['input'])!r} is invalid: {error['msg']}{example}") from None


def _relative_file(database: str | None) -> bool:
    """A SQLite file path relative to the current directory (not :memory:, not a file: URI)."""
    return bool(database) and database != ":memory:" and not database.startswith("file:") and not Path(database).is_absolute()


def _without_password(value: object) -> object:
    """The value to show in an error: a URL's password masked, anything else as it is."""
    try:
        return make_url(str(value)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return value
