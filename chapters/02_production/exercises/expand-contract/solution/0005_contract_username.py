"""contract: drop user.username, login takes over

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

# The table as these revisions see it, frozen here (never import app.models in a migration).
user = sa.table('user', sa.column('id', sa.Integer), sa.column('username', sa.String),
                sa.column('login', sa.String))

BATCH_SIZE = 1000


def upgrade() -> None:
    # Runs once release C serves alone. No copy from username: since the backfill every
    # release writes login, and C's renames changed login only. ix_user_login stays.
    # Cost: SET NOT NULL reads the whole table under PostgreSQL's ACCESS EXCLUSIVE lock,
    # and MariaDB rebuilds the table for it. Fine for these rows; on a big PostgreSQL table
    # prove it first with CHECK (login IS NOT NULL) NOT VALID + VALIDATE (notebook 12).
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.alter_column('login', existing_type=sa.String(length=50), nullable=False)
        batch_op.drop_constraint(op.f('uq_user_username'), type_='unique')
        batch_op.drop_column('username')


def downgrade() -> None:
    # Back to the schema of 0004, with username complete for release B; runs while C still
    # serves. Copy first, in batches, then the unique rule. A run that stopped half-way (a
    # lock limit ran out, say) is run again as it is: each step skips what is done.
    if 'username' not in {c['name'] for c in sa.inspect(op.get_bind()).get_columns('user')}:
        with op.batch_alter_table('user', schema=None) as batch_op:
            batch_op.add_column(sa.Column('username', sa.String(length=50), nullable=True))
    # The copy in two passes, as in 0004's downgrade: stale usernames to NULL (NULLs never
    # collide), then the NULLs from login (which is unique). One pass could give a row a name
    # that a row after it still holds, once a stopped run has left the unique rule in place.
    # C, the only release serving, never reads username.
    in_range = user.c.id.between(sa.bindparam('first'), sa.bindparam('last'))
    passes = [user.update().where(in_range).where(user.c.username != user.c.login).values(username=None),
              user.update().where(in_range).where(user.c.username.is_(None)).values(username=user.c.login)]
    dialect = op.get_bind().dialect.name
    with op.get_context().autocommit_block():  # one commit per batch; reads go on
        connection = op.get_bind()
        last_id = connection.scalar(sa.select(sa.func.max(user.c.id))) or 0
        for copy in passes:
            for first in range(1, last_id + 1, BATCH_SIZE):
                connection.execute(copy, {'first': first, 'last': first + BATCH_SIZE - 1})
        # Then the unique rule, built online as in 0003.
        if dialect == 'postgresql':
            valid = connection.scalar(sa.text(
                "SELECT indisvalid FROM pg_index WHERE indexrelid = to_regclass('uq_user_username')"))
            if not valid:  # no lock bound for the build (it waits for older transactions); env.py's after it
                op.execute("SELECT set_config('migration.lock_timeout', current_setting('lock_timeout'), false)")
                op.execute("SET lock_timeout = 0")
                if valid is False:  # left INVALID by a run that stopped during the build
                    op.drop_index(op.f('uq_user_username'), table_name='user', postgresql_concurrently=True)
                op.create_index(op.f('uq_user_username'), 'user', ['username'], unique=True,
                                postgresql_concurrently=True)
                op.execute("SELECT set_config('lock_timeout', current_setting('migration.lock_timeout'), false)")
            # A short ACCESS EXCLUSIVE lock, under env.py's bound again.
            if not connection.scalar(sa.text("SELECT count(*) FROM pg_constraint WHERE conname = 'uq_user_username'")):
                op.execute('ALTER TABLE "user" ADD CONSTRAINT uq_user_username '
                           'UNIQUE USING INDEX uq_user_username')
        elif dialect == 'mysql':
            op.execute('ALTER TABLE `user` ADD UNIQUE INDEX IF NOT EXISTS uq_user_username (username), '
                       'ALGORITHM=INPLACE, LOCK=NONE')
    with op.batch_alter_table('user', schema=None) as batch_op:
        if dialect == 'sqlite':  # SQLite keeps a unique constraint in the table: batch copies it
            batch_op.create_unique_constraint(op.f('uq_user_username'), ['username'])
        batch_op.alter_column('login', existing_type=sa.String(length=50), nullable=True)
