"""The FastAPI application: `uvicorn app.main:app` from the sample_project directory."""

from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
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
    """Never behind: bring the database to head before serving."""
    command.upgrade(Config(str(ALEMBIC_INI)), "head")


@asynccontextmanager
async def lifespan(app: FastAPI):
    check_database_at_head()
    yield


app = FastAPI(title="Migrations in Practice: sample project", lifespan=lifespan)
app.include_router(users.router)
