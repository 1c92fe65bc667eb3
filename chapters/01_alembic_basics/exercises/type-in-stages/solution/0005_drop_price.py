"""drop price

Revision ID: 0005
Revises: 0004
"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

# The table as this revision sees it (never import app.models in a revision).
product = sa.table('product', sa.column('price', sa.String), sa.column('price_cents', sa.Integer))


def upgrade() -> None:
    # The contract step, deployed once no 0003 release runs or will be rolled back to.
    # While one ran, it wrote price only: its new products have no price_cents, the prices it
    # changed have a stale one. The 0004 release wrote both, so price is right in every row.

    # 4. Catch up: copy every price again, converted as in 0004.
    op.execute(product.update().values(price_cents=sa.cast(sa.func.round(sa.cast(product.c.price, sa.Numeric(10, 2)) * 100), sa.Integer)))

    # 5. Every row has a value: require it, and drop the old column.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.alter_column('price_cents', existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column('price')


def downgrade() -> None:
    # Back to 0004's schema: price again, filled from price_cents; price_cents stays, nullable.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price', sa.String(length=20), nullable=True))
    # Cents back to text with two decimals on MariaDB and PostgreSQL ('12.50'); SQLite writes
    # '12.5'. The division is exact decimal (a real one on SQLite, exact for two decimals).
    op.execute(product.update().values(price=sa.cast(sa.cast(product.c.price_cents / 100, sa.Numeric(12, 2)), sa.String(20))))
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.alter_column('price', existing_type=sa.String(length=20), nullable=False)
        batch_op.alter_column('price_cents', existing_type=sa.Integer(), nullable=True)
