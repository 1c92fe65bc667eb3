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
    # TODO expand, run while release A serves: add user.login (A never writes it), let
    # username be NULL (release C will not write it), and make login unique from the start,
    # built online.
    pass


def downgrade() -> None:
    pass
