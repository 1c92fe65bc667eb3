"""The stairway: every revision, oldest first, upgraded, downgraded and upgraded again.

`stairway(config, engine)` gets the project's Alembic Config (command.upgrade(config, "0001")
works with it) and an Engine on an empty database. It must raise (an AssertionError, or the
error of the step that failed) when a revision's downgrade does not undo its upgrade, and
return quietly when every revision does.
"""

import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory


def stairway(config, engine) -> None:
    # ScriptDirectory.from_config(config).walk_revisions() gives the revisions, newest first;
    # each has .revision and .down_revision (None for the first).
    pass
