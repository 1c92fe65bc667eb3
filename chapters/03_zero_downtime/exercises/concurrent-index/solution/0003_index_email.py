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
        op.create_index(op.f('ix_user_email'), 'user', ['email'], unique=False, postgresql_concurrently=True)


def downgrade() -> None:
    # A plain DROP INDEX locks the whole table (ACCESS EXCLUSIVE): drop it concurrently too.
    with op.get_context().autocommit_block():
        op.drop_index(op.f('ix_user_email'), table_name='user', postgresql_concurrently=True)
