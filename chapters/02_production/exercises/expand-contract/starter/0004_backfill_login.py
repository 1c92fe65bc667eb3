"""backfill: copy username into login

Revision ID: 0004
Revises: 0003
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # TODO backfill, run once release B (dual write) serves alone: make every login equal
    # its username, in batches, without importing app.models.
    pass


def downgrade() -> None:
    # TODO run once release C is rolled back to B, which reads username.
    pass
