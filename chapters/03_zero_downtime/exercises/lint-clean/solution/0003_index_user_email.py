"""index user.email

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


def upgrade() -> None:
    # CREATE INDEX CONCURRENTLY lets the app keep writing while PostgreSQL builds the index; it
    # cannot run inside a transaction, so this step runs outside Alembic's (autocommit_block).
    # Re-runnable: a concurrent build that failed half-way leaves an INVALID index under its
    # name, which IF NOT EXISTS alone would skip, so drop any such leftover first (concurrently).
    # Other engines ignore postgresql_concurrently (MariaDB builds the index online by itself).
    postgresql = op.get_context().dialect.name == 'postgresql'
    with op.get_context().autocommit_block():
        if postgresql:
            # No lock limit for the build: its lock queues none of the app's reads or writes, but
            # it waits for older transactions, and env.py's short limit would end that wait and
            # leave an INVALID index. env.py's value kept aside (in plain SQL: --sql renders it).
            op.execute("SELECT set_config('migration.lock_timeout', current_setting('lock_timeout'), false)")
            op.execute("SET lock_timeout = 0")
        op.drop_index(op.f('ix_user_email'), table_name='user', postgresql_concurrently=True, if_exists=True)
        op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=False,
                        postgresql_concurrently=True, if_not_exists=True)
        if postgresql:
            op.execute("SELECT set_config('lock_timeout', current_setting('migration.lock_timeout'), false)")


def downgrade() -> None:
    # A plain DROP INDEX takes an ACCESS EXCLUSIVE lock on the table: drop it concurrently too.
    with op.get_context().autocommit_block():
        op.drop_index(op.f('ix_user_email'), table_name='user', postgresql_concurrently=True, if_exists=True)
