"""The FastAPI application: `uvicorn app.main:app` from the sample_project directory."""

import logging
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
log = logging.getLogger(__name__)


class DatabaseBehind(RuntimeError):
    """The database lacks revisions this code needs."""


def check_database_revision() -> None:
    """Refuse to serve when the database is behind this code; warn when it is ahead.

    Behind (empty, or at a revision of these scripts below their head): the code would use
    tables and columns that are not there yet. Ahead (at a revision these scripts do not
    know): a newer release has migrated, and its expand steps keep this release working,
    so it starts: it is the old release of a rolling update, or a rollback of the code.
    The app only looks: migrating is the deploy's job, done once before the rollout.
    """
    if not ALEMBIC_INI.is_file():
        # Config() reads a missing file as an empty one and fails later with "No
        # 'script_location' key"; name the file instead.
        raise RuntimeError(f"cannot check the database's revision: {ALEMBIC_INI} not found")
    script = ScriptDirectory.from_config(Config(str(ALEMBIC_INI)))
    heads = set(script.get_heads())
    known = {revision.revision for revision in script.walk_revisions()}
    with get_engine().connect() as connection:
        # A set: a database can be at several heads, and an empty one is at none.
        current = set(MigrationContext.configure(connection).get_current_heads())
    unknown = current - known
    if unknown:
        log.warning(
            "the database is at %s, a revision this code does not know: a newer release has "
            "migrated it; starting, because its expand steps keep this release working",
            ", ".join(sorted(unknown)),
        )
    elif current != heads:
        raise DatabaseBehind(
            f"the database is at {', '.join(sorted(current)) or 'no revision (empty)'}, behind this "
            f"code's head {', '.join(sorted(heads))}: run `alembic upgrade head` before starting it"
        )


@asynccontextmanager
async def lifespan(app: FastAPI):
    check_database_revision()
    yield


app = FastAPI(title="Migrations in Practice: sample project", lifespan=lifespan)
app.include_router(users.router)
