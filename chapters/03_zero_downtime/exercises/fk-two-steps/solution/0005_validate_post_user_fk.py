"""validate post.user_id's foreign key, orphans kept without their author

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

user = sa.table('user', sa.column('id'))
post = sa.table('post', sa.column('user_id'))


def upgrade() -> None:
    # Transactions of its own: whatever ran before in this upgrade (0004's ADD CONSTRAINT, when
    # one `upgrade head` runs both) is committed first, and its lock released before the scan.
    with op.get_context().autocommit_block():
        # Posts by users deleted long ago keep their text and lose their author.
        op.execute(post.update().where(~sa.exists().where(user.c.id == post.c.user_id)).values(user_id=None))
        # Reads every row, under SHARE UPDATE EXCLUSIVE: writes go on, and none of the app's
        # reads or writes queue behind it. So no lock limit for it: env.py's short one would
        # end a wait that blocks the app in nothing (behind a VACUUM, say). Set back after.
        limit = op.get_bind().exec_driver_sql("SHOW lock_timeout").scalar()
        op.execute("SET lock_timeout = 0")
        op.execute('ALTER TABLE post VALIDATE CONSTRAINT fk_post_user_id_user')
        op.execute(f"SET lock_timeout = '{limit}'")


def downgrade() -> None:
    pass  # a validated constraint is the same constraint: 0004's downgrade drops it
