"""Settings read from the environment, in one place (the app and Alembic both use them)."""

from functools import lru_cache

from pydantic import ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError


class SettingsError(Exception):
    """A setting has a value the app cannot use; the message names the variable."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # Relative to the directory the app or Alembic is started from, so each copy of the
    # project has its own database file.
    database_url: str = "sqlite:///./app.db"
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
        return value

    @property
    def url(self) -> URL:
        return make_url(self.database_url)


@lru_cache
def get_settings() -> Settings:
    try:
        return Settings()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0]).upper()
        example = (
            "; expected a URL such as sqlite:///./app.db or mysql+pymysql://user:password@host/dbname"
            if name == "DATABASE_URL"
            else ""
        )
        raise SettingsError(f"{name}={_without_password(error['input'])!r} is invalid: {error['msg']}{example}") from None


def _without_password(value: object) -> object:
    """The value to show in an error: a URL's password masked, anything else as it is."""
    try:
        return make_url(str(value)).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):
        return value
