"""post author foreign key

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

# The tables as this revision sees them (never import app.models in a revision).
post = sa.table('post', sa.column('id', sa.Integer), sa.column('author_id', sa.Integer))
user = sa.table('user', sa.column('id', sa.Integer))


def upgrade() -> None:
    op.execute(post.update().values(author_id=None))
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_post_author_id_user'), 'user', ['author_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_post_author_id_user'), type_='foreignkey')
