"""merge the display name and last login branches

Revision ID: 0004
Revises: 0003a
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
# TODO: this revision must follow both heads, 0003a and 0003b.
down_revision: Union[str, Sequence[str], None] = '0003a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
