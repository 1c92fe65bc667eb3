"""contract: drop user.username, login takes over

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The table as these revisions see it, frozen here (never import app.models in a migration).
user = sa.table('user', sa.column('username', sa.String), sa.column('login', sa.String))


def upgrade() -> None:
    # Runs once release C serves alone. No copy from username: since the backfill every
    # release writes login, and C's renames changed login only. ix_user_login stays.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('login', existing_type=sa.String(length=50), nullable=False)
        batch_op.drop_constraint(op.f('uq_user_username'), type_='unique')
        batch_op.drop_column('username')


def downgrade() -> None:
    # Back to the schema of 0004, with username complete for release B.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=50), nullable=True))
    op.execute(user.update().values(username=user.c.login))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_unique_constraint(op.f('uq_user_username'), ['username'])
        batch_op.alter_column('login', existing_type=sa.String(length=50), nullable=True)
