"""The FastAPI application: `uvicorn app.main:app` from the sample_project directory."""

from contextlib import asynccontextmanager
from pathlib import Path

from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from fastapi import FastAPI

from app.config import SettingsError, get_settings
from app.db import get_engine
from app.routes import users

try:
    get_settings()
except SettingsError as exc:
    # One line for the operator instead of a traceback from deep inside pydantic.
    raise SystemExit(f"error: {exc}") from None

ALEMBIC_INI = Path(__file__).resolve().parent.parent / "alembic.ini"


def check_database_at_head() -> None:
    """Refuse to serve against a schema the code was not written for.

    The app only looks: migrating is the deploy's job, done once before any worker starts
    (`alembic upgrade head` in a release step), never by every worker at start-up.
    """
    heads = set(ScriptDirectory.from_config(Config(str(ALEMBIC_INI))).get_heads())
    with get_engine().connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    if current != heads:
        raise RuntimeError(
            f"database is at revision {', '.join(sorted(current)) or 'none (empty database)'}, "
            f"but this release needs head {', '.join(sorted(heads))}: run `alembic upgrade head` first"
        )


@asynccontextmanager
async def lifespan(app: FastAPI):
    check_database_at_head()
    yield


app = FastAPI(title="Migrations in Practice: sample project", lifespan=lifespan)
app.include_router(users.router)
