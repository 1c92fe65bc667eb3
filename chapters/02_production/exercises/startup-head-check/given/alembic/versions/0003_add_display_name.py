"""add user.display_name, filled from username

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

# The table as this revision sees it, frozen here: app.models describes the schema of
# whatever release is checked out when the migration runs, not the schema of revision 0003.
user = sa.table(
    'user',
    sa.column('username', sa.String),
    sa.column('display_name', sa.String),
)


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=100), nullable=True))
    # Everyone starts with their username as display name.
    op.execute(user.update().values(display_name=user.c.username))


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('display_name')
