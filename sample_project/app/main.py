"""The FastAPI application: `uvicorn app.main:app` from the sample_project directory."""

from fastapi import FastAPI

from app import docs
from app.config import SettingsError, get_settings
from app.routes import users

try:
    get_settings()
except SettingsError as exc:
    # One line for the operator instead of a traceback from deep inside pydantic.
    raise SystemExit(f"error: {exc}") from None

# /docs and /redoc from local files, not a CDN (app/docs.py)
app = FastAPI(title="Migrations in Practice: sample project", docs_url=None, redoc_url=None)
docs.serve_offline(app)
app.include_router(users.router)
