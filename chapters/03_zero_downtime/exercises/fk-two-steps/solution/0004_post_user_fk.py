"""post.user_id references user.id: for new rows now, for the rows already there in 0005

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # NOT VALID: checked for every new row at once; the rows already there are not read, so
    # the lock that blocks writes (SHARE ROW EXCLUSIVE, on post and user) lasts a moment.
    op.create_foreign_key(op.f('fk_post_user_id_user'), 'post', 'user', ['user_id'], ['id'],
                          postgresql_not_valid=True)


def downgrade() -> None:
    op.drop_constraint(op.f('fk_post_user_id_user'), 'post', type_='foreignkey')
