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

# The table as this revision sees it (never import app.models in a revision).
product = sa.table('product', sa.column('price', sa.String), sa.column('price_cents', sa.Integer))


def upgrade() -> None:
    # 1. Add the new column, nullable while it is still empty.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_cents', sa.Integer(), nullable=True))

    # 2. Copy every value across. Exact decimal arithmetic, then round: '0.29' is 29 cents
    #    (in floating point 0.29 * 100 is 28.999999999999996, which truncates to 28).
    op.execute(product.update().values(price_cents=sa.cast(sa.func.round(sa.cast(product.c.price, sa.Numeric(10, 2)) * 100), sa.Integer)))

    # 3. Switch: every row has a value, so the column can refuse NULL; 4. drop the old one.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.alter_column('price_cents', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('price')


def downgrade() -> None:
    # The same stages backwards: new (old) column, copy, drop.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price', sa.String(length=20), nullable=True))
    # Cents back to text with two decimals on MariaDB and PostgreSQL ('12.50'); SQLite writes
    # '12.5'. The division is exact decimal (a real one on SQLite, exact for two decimals).
    op.execute(product.update().values(price=sa.cast(sa.cast(product.c.price_cents / 100, sa.Numeric(12, 2)), sa.String(20))))
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.alter_column('price', existing_type=sa.String(length=20), nullable=False)
        batch_op.drop_column('price_cents')
