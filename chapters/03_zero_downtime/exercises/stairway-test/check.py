"""stairway-test: the learner's stairway(config, engine) passes a correct chain of revisions and
fails each broken one, each in a database of its own.

Every chain is 0001, 0002 and a revision 0003 that adds user.nickname, widens user.username
to VARCHAR(80) and inserts a `system` user. The correct 0003's downgrade undoes all three;
each broken one forgets or breaks one thing, and each needs another part of the stairway to
be caught (upgrade, downgrade, compare, upgrade again, per revision)."""

import sqlalchemy as sa

from course.learner.checks import Fail
from course.i18n import _

MODULE = "tests/stairway.py"
HEADER = '''"""nickname, a wider username, a system user"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

user = sa.table('user', sa.column('username'), sa.column('password_hash'), sa.column('email'))


def upgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.add_column(sa.Column('nickname', sa.String(30), nullable=True))
        batch_op.alter_column('username', existing_type=sa.String(50), type_=sa.String(80), existing_nullable=False)
    op.execute(user.insert().values(username='system', password_hash='!', email='system@example.invalid'))


def downgrade() -> None:
'''
DELETE_ROW = "    op.execute(user.delete().where(user.c.username == 'system'))\n"
NARROW = ("    with op.batch_alter_table('user') as batch_op:\n"
          "        batch_op.alter_column('username', existing_type=sa.String(80), type_=sa.String(50), existing_nullable=False)\n")
DROP = "    with op.batch_alter_table('user') as batch_op:\n        batch_op.drop_column('{column}')\n"

CORRECT = HEADER + DELETE_ROW + NARROW + DROP.format(column="nickname")
# (what is wrong with it, its 0003): each must make the stairway fail
BROKEN = [
    (_("whose 0003 downgrade leaves column user.nickname behind"), HEADER + DELETE_ROW + NARROW),
    (_("whose 0003 downgrade fails (it drops a column that does not exist, nick_name)"),
     HEADER + DELETE_ROW + NARROW + DROP.format(column="nick_name")),
    (_("whose 0003 downgrade leaves user.username as VARCHAR(80) (it was VARCHAR(50)): only comparing the schema "
     "before the upgrade with the one after the downgrade sees it"), HEADER + DELETE_ROW + DROP.format(column="nickname")),
    (_("whose 0003 downgrade leaves its `system` user behind, so 0003 cannot be upgraded a second time: only "
     "upgrading again after each downgrade sees it"), HEADER + NARROW + DROP.format(column="nickname")),
]


def _empty(run) -> None:
    """A database with nothing in it, not even alembic_version."""
    metadata = sa.MetaData()
    metadata.reflect(run.ws.engine)
    metadata.drop_all(run.ws.engine)


def _chain(run, revision: str) -> None:
    _empty(run)
    (run.ws.path / "alembic" / "versions" / "0003_nickname.py").write_text(revision, encoding="utf-8")


def check(run):
    _chain(run, CORRECT)
    run.call(MODULE, "stairway", doing=_('running your stairway on a correct chain (0001, 0002, 0003)'))
    for what, revision in BROKEN:
        _chain(run, revision)
        try:
            run.call(MODULE, "stairway", doing=_('running your stairway'))
        except Fail:
            continue  # it caught the broken revision
        raise Fail(_('your stairway passes a chain {what}').format(what=what))
    return _("your stairway passes the correct chain and catches every broken downgrade.")
