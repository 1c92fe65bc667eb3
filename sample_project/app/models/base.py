"""The declarative base, with a naming convention for every constraint.

Without a convention, `unique=True` gives a constraint each database names its own way, and
SQLite not at all: dropping it later then fails ("Constraint must have a name") unless the
migration names it first (a naming_convention= passed to batch_alter_table). Set before the
first migration, the convention gives every constraint the same name on every engine.
"""

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
