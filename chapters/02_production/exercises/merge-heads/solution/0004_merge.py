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
    # A merge only joins the two branches: both have already changed the schema.
    pass


def downgrade() -> None:
    pass
