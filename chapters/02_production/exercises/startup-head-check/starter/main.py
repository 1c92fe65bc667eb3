"""The FastAPI application: `uvicorn app.main:app` from the sample_project directory."""

from fastapi import FastAPI

from app.config import SettingsError, get_settings
from app.routes import users

try:
    get_settings()
except SettingsError as exc:
    # One line for the operator instead of a traceback from deep inside pydantic.
    raise SystemExit(f"error: {exc}") from None

app = FastAPI(title="Migrations in Practice: sample project")
app.include_router(users.router)
