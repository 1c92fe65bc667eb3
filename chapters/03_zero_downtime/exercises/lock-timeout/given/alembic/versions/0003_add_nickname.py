"""add user.nickname (and note the limits of the migration's session, for the check)

Revision ID: 0003
Revises: 0002
"""
import json
from pathlib import Path

from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

# The check reads what the migration's own session was given, from this file: on PostgreSQL a
# row written by the migration would be rolled back with it when the ALTER gives up.
NOTE = Path(__file__).resolve().parents[2] / "migration_session.json"
LIMITS = {
    'postgresql': "SELECT name, setting FROM pg_settings WHERE name IN ('lock_timeout', 'statement_timeout')",
    'mysql': "SELECT 'lock_wait_timeout', @@SESSION.lock_wait_timeout",
}


def upgrade() -> None:
    limits = op.get_bind().exec_driver_sql(LIMITS[op.get_context().dialect.name]).all()
    NOTE.write_text(json.dumps({name: int(value) for name, value in limits}))
    op.add_column('user', sa.Column('nickname', sa.String(length=50), nullable=True))


def downgrade() -> None:
    op.drop_column('user', 'nickname')
