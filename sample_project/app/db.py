"""The engine and the per-request session."""

from collections.abc import Iterator
from functools import lru_cache

from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session

from app.config import get_settings


@lru_cache
def get_engine() -> Engine:
    return create_engine(get_settings().url)


def get_session() -> Iterator[Session]:
    with Session(get_engine()) as session:
        yield session
