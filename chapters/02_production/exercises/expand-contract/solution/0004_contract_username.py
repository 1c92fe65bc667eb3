"""contract: drop user.username, login takes over

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
user = sa.table('user', sa.column('username', sa.String), sa.column('login', sa.String))


def upgrade() -> None:
    # Catch up on the rows the old release wrote between the two steps.
    op.execute(user.update().where(user.c.login.is_(None)).values(login=user.c.username))
    # Contract: the new column takes over the old one's rules, then the old one goes.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('login', existing_type=sa.String(length=50), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_user_login'), ['login'])
        batch_op.drop_constraint(op.f('uq_user_username'), type_='unique')
        batch_op.drop_column('username')


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('username', sa.String(length=50), nullable=True))
    op.execute(user.update().values(username=user.c.login))
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('username', existing_type=sa.String(length=50), nullable=False)
        batch_op.create_unique_constraint(op.f('uq_user_username'), ['username'])
        batch_op.drop_constraint(op.f('uq_user_login'), type_='unique')
        batch_op.alter_column('login', existing_type=sa.String(length=50), nullable=True)
