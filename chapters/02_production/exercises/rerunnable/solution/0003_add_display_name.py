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


def add_column_once(table: str, column: sa.Column) -> None:
    """ADD COLUMN, or nothing when the table already has a column of that name."""
    if op.get_context().dialect.name == 'sqlite':  # SQLite has no ADD COLUMN IF NOT EXISTS
        if column.name not in {c['name'] for c in sa.inspect(op.get_bind()).get_columns(table)}:
            op.add_column(table, column)
    else:
        op.add_column(table, column, if_not_exists=True)


def upgrade() -> None:
    # On MariaDB and SQLite each DDL statement commits on its own: if this revision failed
    # half-way, the column (and maybe the index) exist while alembic_version still says 0002.
    # Each step skips what is already there, so running the revision again finishes the job;
    # any other error still stops it.
    add_column_once('user', sa.Column('display_name', sa.String(length=100), nullable=True))
    op.create_index(op.f('ix_user_display_name'), 'user', ['display_name'], unique=False, if_not_exists=True)
    # Only the rows not done yet: rows already copied, or changed since, keep their value.
    op.execute(user.update().where(user.c.display_name.is_(None)).values(display_name=user.c.username))


def downgrade() -> None:
    op.drop_index(op.f('ix_user_display_name'), table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_column('display_name')
