"""backfill: copy username into login

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The table as these revisions see it, frozen here (never import app.models in a migration).
user = sa.table('user', sa.column('id', sa.Integer), sa.column('username', sa.String),
                sa.column('login', sa.String))

BATCH_SIZE = 1000
in_batch = user.c.id.between(sa.bindparam('first'), sa.bindparam('last'))


def in_batches(statement) -> None:
    """Run `statement` once per range of BATCH_SIZE ids, each run committed on its own."""
    connection = op.get_bind()
    last_id = connection.scalar(sa.select(sa.func.max(user.c.id))) or 0
    for first in range(1, last_id + 1, BATCH_SIZE):
        connection.execute(statement, {'first': first, 'last': first + BATCH_SIZE - 1})


def upgrade() -> None:
    # Runs once release B serves alone: from then on every write keeps login == username.
    # A stale login (release A renamed the user after B wrote both) still holds its name in
    # ix_user_login, and copying username into login could give that name to another row
    # first: a duplicate key, at the same row on every re-run. So two passes. Clearing
    # cannot collide (NULLs never do); after it every login equals its own row's username,
    # usernames are unique, so filling the NULLs cannot collide either.
    with op.get_context().autocommit_block():  # one commit per batch: short row locks
        in_batches(user.update().where(in_batch).where(user.c.login != user.c.username)
                   .values(login=None))
        in_batches(user.update().where(in_batch).where(user.c.login.is_(None))
                   .values(login=user.c.username))


def downgrade() -> None:
    # Runs once release C is rolled back to B: B reads username, C wrote only login, so
    # usernames are stale or empty. The same two passes the other way round: a stale
    # username holds its name in uq_user_username. (B shows a cleared name as empty
    # until the second pass reaches it.)
    with op.get_context().autocommit_block():
        in_batches(user.update().where(in_batch).where(user.c.username != user.c.login)
                   .values(username=None))
        in_batches(user.update().where(in_batch).where(user.c.username.is_(None))
                   .values(username=user.c.login))
