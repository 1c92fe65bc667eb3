"""merge-heads: revision 0004 joins the two heads 0003a and 0003b into one."""

from course.learner.checks import Fail
from course.i18n import _

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
]


def _names(run) -> dict:
    return dict(run.rows(f"SELECT username, display_name FROM {run.quote('user')}"))


def check(run):
    run.expect_merge("0004", {"0003a", "0003b"})

    # Production already runs Alice's branch, and its users have display names; Bob's
    # revision arrives with the merge.
    user = run.quote("user")
    run.upgrade("0003a")
    run.insert("user", USERS)
    run.execute(f"UPDATE {user} SET display_name = 'Alice A.' WHERE username = 'alice'")
    names = _names(run)
    run.upgrade("head", doing=_('upgrading a database at 0003a to head'))
    if run.current() != "0004":
        raise Fail(_('after `alembic upgrade head` the database is at {current}, not 0004').format(current=run.current()))
    run.expect_matches_models(_('after upgrading to head'))
    if _names(run) != names:
        raise Fail(_('upgrading a database at 0003a to head changed the users: {names}; they were {names2}').format(names=_names(run), names2=names))

    run.downgrade("0002", doing=_('downgrading from the merge to 0002'))
    left = {"display_name", "last_login_at"} & set(run.columns("user"))
    if left:
        raise Fail(_('downgrading from the merge to 0002 left column user.{value} behind').format(value=sorted(left)[0]))
    # Life goes on after the merge: the next revision follows it, and a database still at
    # the branch point upgrades through both branches, the merge and the new revision.
    run.add_column_revision("0005", follows="0004", table="user", column="bio", length=200)
    run.upgrade("head", doing=_('upgrading a database at 0002 to head, with a revision 0005 added after the merge'))
    if run.current() != "0005":
        raise Fail(_('with revision 0005 added after the merge, `alembic upgrade head` from 0002 ends at '
                     '{current}, not 0005').format(current=run.current()))
    missing = {"display_name", "last_login_at", "bio"} - set(run.columns("user"))
    if missing:
        raise Fail(_('upgrading a database at 0002 to head left out column user.{value}').format(value=sorted(missing)[0]))
    return _("One head again: 0004 merges 0003a and 0003b, from any of the branch points, and the next revision follows it.")
