"""merge the display name and last login branches

Revision ID: 0004
Revises: 0003a, 0003b
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = ('0003a', '0003b')
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # Make sure both columns exist.
    op.add_column('user', sa.Column('display_name', sa.String(length=100), nullable=True))
    op.add_column('user', sa.Column('last_login_at', sa.DateTime(), nullable=True))


def downgrade() -> None:
    pass
