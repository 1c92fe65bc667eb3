"""expand: add user.login beside user.username

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
    with op.batch_alter_table('user', schema=None) as batch_op:
        # Nullable: release A, still serving, never writes it.
        batch_op.add_column(sa.Column('login', sa.String(length=50), nullable=True))
        # Release C writes only login while username still exists.
        batch_op.alter_column('username', existing_type=sa.String(length=50), nullable=True)
    # Unique from the first login written: the app learns "taken" only from the database.
    # Built online, each engine its own way: writes go on while the index is built (on
    # MariaDB once the ALTER holds the table's metadata lock, which waits for open transactions).
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        with op.get_context().autocommit_block():  # CONCURRENTLY refuses a transaction
            # It waits for every older transaction, on any table (a report, pg_dump): env.py's
            # lock_timeout would cancel it and leave an INVALID index. No bound for this build
            # only; env.py's bound again after it.
            op.execute("SELECT set_config('migration.lock_timeout', current_setting('lock_timeout'), false)")
            op.execute("SET lock_timeout = 0")
            op.create_index(op.f('ix_user_login'), 'user', ['login'], unique=True,
                            postgresql_concurrently=True)
            op.execute("SELECT set_config('lock_timeout', current_setting('migration.lock_timeout'), false)")
    elif dialect == 'mysql':
        op.execute('ALTER TABLE `user` ADD UNIQUE INDEX ix_user_login (login), '
                   'ALGORITHM=INPLACE, LOCK=NONE')
    else:
        op.create_index(op.f('ix_user_login'), 'user', ['login'], unique=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        with op.get_context().autocommit_block():
            op.drop_index(op.f('ix_user_login'), table_name='user', postgresql_concurrently=True)
    else:
        op.drop_index(op.f('ix_user_login'), table_name='user')
    with op.batch_alter_table('user', schema=None) as batch_op:
        # Every row has a username again: 0004's downgrade copied them back from login.
        batch_op.alter_column('username', existing_type=sa.String(length=50), nullable=False)
        batch_op.drop_column('login')
