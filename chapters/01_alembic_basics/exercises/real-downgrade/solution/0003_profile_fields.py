"""profile fields

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

# The table as this revision sees it (never import app.models in a revision).
user = sa.table('user', sa.column('id', sa.Integer), sa.column('username', sa.String))


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('display_name', sa.String(length=100), nullable=True))
        batch_op.alter_column('username', existing_type=sa.String(length=50), type_=sa.String(length=80),
                              existing_nullable=False)
        batch_op.create_index(batch_op.f('ix_user_email'), ['email'], unique=True)


def downgrade() -> None:
    # 0002 holds 50 characters, 0003 allowed 80. Refuse before the first change rather than
    # cut names (or, on MariaDB and SQLite, stop half-way): char_length counts characters on
    # every engine, where MariaDB's length() counts bytes.
    too_long = op.get_bind().execute(
        sa.select(user.c.id).where(sa.func.char_length(user.c.username) > 50).order_by(user.c.id)
    ).scalars().all()
    if too_long:
        raise RuntimeError(
            f"cannot downgrade to 0002: the usernames of users {', '.join(map(str, too_long))} are "
            "longer than 50 characters; shorten them first"
        )

    # Undo upgrade() step by step, in reverse order.
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_email'))
        batch_op.alter_column('username', existing_type=sa.String(length=80), type_=sa.String(length=50),
                              existing_nullable=False)
        batch_op.drop_column('display_name')
