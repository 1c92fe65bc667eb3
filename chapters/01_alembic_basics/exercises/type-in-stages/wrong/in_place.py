"""price in cents

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
    # Rename and convert in one step: the data stays where it is.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.alter_column('price', new_column_name='price_cents', existing_type=sa.String(length=20),
                              type_=sa.Integer(), existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.alter_column('price_cents', new_column_name='price', existing_type=sa.Integer(),
                              type_=sa.String(length=20), existing_nullable=False)
