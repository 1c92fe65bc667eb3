"""The stairway: every revision, oldest first, upgraded, downgraded and upgraded again.

A downgrade that forgets part of its upgrade shows twice: the schema after it differs from the
one before the upgrade, and the second upgrade may fail on what was left (a column, a row).
"""

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory


def schema(engine) -> dict:
    """Every table but alembic_version: its columns (type, nullable), indexes, unique constraints,
    foreign keys. Read through one connection: one view of the schema, and one session instead
    of one per question (an Inspector on an Engine connects for each)."""
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        return {
            table: {
                "columns": [(c["name"], str(c["type"].compile(dialect=engine.dialect)), c["nullable"])
                            for c in inspector.get_columns(table)],
                "indexes": sorted((i["name"], tuple(i["column_names"]), bool(i["unique"])) for i in inspector.get_indexes(table)),
                "uniques": sorted((u["name"] or "", tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
                "foreign keys": sorted((f["name"] or "", tuple(f["constrained_columns"]), f["referred_table"])
                                       for f in inspector.get_foreign_keys(table)),
            }
            for table in sorted(inspector.get_table_names()) if table != "alembic_version"
        }


def stairway(config, engine) -> None:
    revisions = reversed(list(ScriptDirectory.from_config(config).walk_revisions()))
    for revision in revisions:
        down = revision.down_revision or "base"
        before = schema(engine)
        command.upgrade(config, revision.revision)
        command.downgrade(config, down)
        after = schema(engine)
        assert after == before, f"downgrading {revision.revision} to {down} left the schema changed: {after} != {before}"
        command.upgrade(config, revision.revision)  # fails if the downgrade left something behind
