"""index user.email, without blocking writes (PostgreSQL)

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # CREATE INDEX CONCURRENTLY lets the app write meanwhile, and cannot run inside a
    # transaction: the block commits Alembic's and runs this in autocommit mode.
    with op.get_context().autocommit_block():
        # env.py's short lock_timeout is for locks that queue the app. This build's SHARE UPDATE
        # EXCLUSIVE lock queues none of its reads or writes, but the build waits for every older
        # transaction, a lock wait too: under that limit it would give up, leaving an INVALID index.
        bind = op.get_bind()
        limit = bind.exec_driver_sql("SHOW lock_timeout").scalar()
        bind.exec_driver_sql("SET lock_timeout = 0")
        op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=False, postgresql_concurrently=True)
        bind.exec_driver_sql(f"SET lock_timeout = '{limit}'")  # the limit again, for what follows


def downgrade() -> None:
    # A plain DROP INDEX locks the whole table (ACCESS EXCLUSIVE): drop it concurrently too.
    with op.get_context().autocommit_block():
        op.drop_index(op.f('ix_user_email'), table_name='user', postgresql_concurrently=True)
