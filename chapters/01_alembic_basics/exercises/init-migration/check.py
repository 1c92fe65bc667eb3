"""init-migration: revision 0001 creates exactly what the models describe, and undoes it."""

from course.learner.checks import Fail
from course.i18n import _, english_of


def _expect_app_inserts(run, when: str) -> None:
    """The app inserts users without an id, and the database numbers them.

    Autogenerate compares columns, types, indexes and constraints, but not the primary key
    or autoincrement: only inserting shows them."""
    user = run.quote("user")
    for name in ("alice", "bob"):
        try:
            with run.quiet(_('inserting user {name} without an id, as the app does').format(name=name)):
                run.execute(f"INSERT INTO {user} (username, password_hash) VALUES (:name, 'x')", {"name": name})
        except Fail as exc:
            said = str(english_of(exc.args[0])).partition("the database said: ")[2] or str(exc)  # the server's own words
            raise Fail(
                _('{when}, the app cannot insert a user without an id (the database said: {said}): '
                  'user.id must be the primary key, numbered by the database').format(when=when, said=said)
            ) from None
    ids = [i for (i,) in run.rows(f"SELECT id FROM {user} ORDER BY id")]
    if len(ids) != 2 or None in ids or ids[0] == ids[1]:
        raise Fail(_('{when}, two users inserted without an id got the ids {ids}: user.id must be the '
                     'primary key').format(when=when, ids=ids))


# A teammate's next revision: it drops the unique constraint by the name the naming
# convention (app/models/base.py) gives it, as autogenerate writes such a revision.
DROPS_UNIQUE = '''"""username no longer unique (a teammate's revision, written after 0001)"""
from alembic import op

revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.drop_constraint('uq_user_username', type_='unique')


def downgrade() -> None:
    with op.batch_alter_table('user', schema=None) as batch_op:
        batch_op.create_unique_constraint('uq_user_username', ['username'])
'''


def _expect_convention_names(run, when: str) -> None:
    """The constraints must carry the names the naming convention gives them: a later revision
    finds them by those names. Autogenerate matches a unique constraint by its columns, so
    one named otherwise can pass it, and it never compares primary keys. (An unnamed one is
    named by the convention: op.create_table applies target_metadata's naming_convention.)"""
    with run.inspector() as inspector:
        found = {tuple(u["column_names"]): u["name"] for u in inspector.get_unique_constraints("user")}
        primary = inspector.get_pk_constraint("user")
    name = found.get(("username",), "uq_user_username")
    if name != "uq_user_username":
        called = _('is named {name}').format(name=name) if name else _("has no name")
        raise Fail(_('{when}, the unique constraint on user(username) {called}; the naming convention in '
                     'app/models/base.py calls it uq_user_username, and later revisions drop it by that '
                     "name: sa.UniqueConstraint('username', name=op.f('uq_user_username'))").format(when=when, called=called))
    if run.ws.engine_name != "mariadb":  # MariaDB calls every primary key PRIMARY
        primary = primary.get("name") if primary.get("constrained_columns") else "pk_user"
        if primary != "pk_user":
            called = _('is named {primary}').format(primary=primary) if primary else _("has no name")
            raise Fail(_('{when}, the primary key of user {called}; the naming convention in '
                         "app/models/base.py calls it pk_user: sa.PrimaryKeyConstraint('id', "
                         "name=op.f('pk_user'))").format(when=when, called=called))


def _expect_later_drop(run) -> None:
    """Run the teammate's revision that drops uq_user_username: it must find it."""
    (run.ws.path / "alembic" / "versions" / "0002_username_not_unique.py").write_text(DROPS_UNIQUE, encoding="utf-8")
    try:
        run.upgrade("0002", doing=_('running a later revision that drops uq_user_username by its name'))
    except Fail as failure:
        raise Fail(_('{failure}: 0001 must name the constraint as the naming convention does '
                     "(name=op.f('uq_user_username'))").format(failure=failure)) from None


def check(run):
    heads = run.heads()
    if heads != ["0001"]:
        raise Fail(
            _("the revision's id is {value}; this exercise expects 0001 (`revision = '0001'`, "
              '`down_revision = None`; `alembic revision --rev-id 0001` writes that)').format(value=', '.join(heads) or 'missing')
        )
    run.upgrade("0001")
    if "user" not in run.tables():
        raise Fail(_('after upgrading to 0001, there is no table user: upgrade() does not create it yet'))
    run.expect_matches_models(_('after upgrading to 0001'))
    _expect_app_inserts(run, _('after upgrading to 0001'))
    _expect_convention_names(run, _('after upgrading to 0001'))
    run.downgrade("base")
    if run.tables():
        raise Fail(_('downgrading to base left table {join} behind').format(join=', '.join(sorted(run.tables()))))
    run.upgrade("0001", doing=_('upgrading to 0001 again after the downgrade'))
    _expect_later_drop(run)
    return _("Revision 0001 creates the user table the models describe, and removes it again.")
