"""add email column

Revision ID: 0002
Revises: 0001
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0002'
down_revision: Union[str, Sequence[str], None] = '0001'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The table as this revision sees it, frozen here: importing app.models would give the
# models of today, not of revision 0002.
user = sa.table('user', sa.column('id', sa.Integer), sa.column('email', sa.String))


def upgrade() -> None:
    # 1. Add the column as nullable: existing rows have no email yet.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email', sa.String(length=120), nullable=True, comment='用户邮箱'))

    # 2. Give every existing row a placeholder on the reserved .invalid domain, unique per id.
    placeholder = sa.literal('user-') + sa.cast(user.c.id, sa.String) + sa.literal('@example.invalid')
    op.execute(user.update().where(user.c.email.is_(None)).values(email=placeholder))

    # 3. Only now can the column refuse NULL.
    op.alter_column('user', 'email', existing_type=sa.String(length=120), nullable=False,
                    existing_comment='用户邮箱')


def downgrade() -> None:
    # Drops the column and every address in it: back up first if they matter.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('email')
