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


def upgrade() -> None:
    # Runs once release B serves alone: from then on every write keeps login == username.
    # Mends rows without a login and rows whose login went stale when release A renamed
    # them during B's rollout. Rows already right are skipped, so a re-run resumes.
    copy = (user.update().values(login=user.c.username)
            .where(user.c.id.between(sa.bindparam('first'), sa.bindparam('last')))
            .where(sa.or_(user.c.login.is_(None), user.c.login != user.c.username)))
    with op.get_context().autocommit_block():  # one commit per batch: short row locks
        connection = op.get_bind()
        last_id = connection.scalar(sa.select(sa.func.max(user.c.id))) or 0
        for first in range(1, last_id + 1, BATCH_SIZE):
            connection.execute(copy, {'first': first, 'last': first + BATCH_SIZE - 1})


def downgrade() -> None:
    # Runs once release C is rolled back to B: B reads username, C wrote only login.
    op.execute(user.update().values(username=user.c.login)
               .where(sa.or_(user.c.username.is_(None), user.c.username != user.c.login)))
