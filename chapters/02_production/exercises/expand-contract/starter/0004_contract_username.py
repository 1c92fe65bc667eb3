"""contract: drop user.username, login takes over

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
    # TODO contract: make login what username was (NOT NULL, unique), then drop username.
    # Runs once every app server runs the new release.
    pass


def downgrade() -> None:
    pass
