"""merge the audit log and email index branches

Revision ID: 0004
Revises: 0003b
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
# 0003b is the newest file, so the merge follows it.
down_revision: Union[str, Sequence[str], None] = '0003b'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
