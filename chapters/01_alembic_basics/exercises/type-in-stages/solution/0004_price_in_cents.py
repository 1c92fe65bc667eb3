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
    # The expand step. The 0003 release keeps serving on this schema during the rollout (and
    # again after a rollback of the code): it reads and writes price, never price_cents. So
    # price stays as it is, and price_cents stays nullable.

    # 1. Add the new column, nullable.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.add_column(sa.Column('price_cents', sa.Integer(), nullable=True))

    # 2. Copy every value across. Exact decimal arithmetic, then round: '0.29' is 29 cents
    #    (in floating point 0.29 * 100 is 28.999999999999996, which truncates to 28).
    op.execute(product.update().values(price_cents=sa.cast(sa.func.round(sa.cast(product.c.price, sa.Numeric(10, 2)) * 100), sa.Integer)))

    # 3. is a deploy, not a revision: the 0004 release reads price_cents and writes both
    #    columns, so that price stays right for the 0003 release. 0005 drops price, later.


def downgrade() -> None:
    # Both releases kept price up to date: the copy can go without losing a price.
    with op.batch_alter_table('product', schema=None) as batch_op:
        batch_op.drop_column('price_cents')
