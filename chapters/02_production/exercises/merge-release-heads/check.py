"""merge-release-heads: revision 0004 joins the heads 0003a and 0003b, from every branch point."""

from course.learner.checks import Fail, compare
from course.i18n import _

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
]
AUDIT = [
    {"id": 1, "user_id": 1, "action": "login"},
    {"id": 2, "user_id": 2, "action": "password reset"},
]


def _data(run) -> tuple[set, set]:
    users = set(run.rows(f"SELECT id, username, email FROM {run.quote('user')}"))
    audit = set(run.rows("SELECT id, user_id, action FROM audit_log")) if "audit_log" in run.tables() else set()
    return users, audit


def _index_on_email(run) -> bool:
    import sqlalchemy as sa

    return any(i["name"] == "ix_user_email" for i in sa.inspect(run.ws.engine).get_indexes("user"))


def _at_head(run, start: str, head: str = "0004") -> None:
    data = _data(run)
    run.upgrade("head", doing=_('upgrading a database at {start} to head').format(start=start))
    if run.current() != head:
        raise Fail(_('after upgrading a database at {start} to head, it is at {current}, not {head}').format(start=start, current=run.current(), head=head))
    after = _data(run)
    if after[0] != data[0] or (data[1] and after[1] != data[1]):
        raise Fail(_('upgrading a database at {start} to head changed the users or the audit log').format(start=start))


def check(run):
    run.expect_merge("0004", {"0003a", "0003b"})

    # Staging: the audit branch ran first, and has written to its table.
    run.upgrade("0003a")
    run.insert("user", USERS)
    run.insert("audit_log", AUDIT)
    _at_head(run, "0003a")
    run.expect_matches_models(_('after upgrading a database at 0003a to head'))
    at_head = run.snapshot()

    # Back below the merge: both branches are undone.
    run.downgrade("0002", doing=_('downgrading from the merge to 0002'))
    if run.tables() != {"user"} or _index_on_email(run):
        raise Fail(_("downgrading from the merge to 0002 left a branch's change behind"))

    # The hotfix box: only the index branch ran. Every path ends at the same schema.
    run.upgrade("0003b")
    _at_head(run, "0003b")
    for problem in compare(at_head, run.snapshot(), what=_('upgrading a database at 0003b to head')):
        raise Fail(problem)

    # Production: neither branch yet, and by the time it upgrades, the next revision exists.
    run.downgrade("0002", doing=_('downgrading from the merge to 0002'))
    run.add_column_revision("0005", follows="0004", table="user", column="locale", length=10)
    _at_head(run, _('0002 (with a revision 0005 added after the merge)'), head="0005")
    if not _index_on_email(run) or "audit_log" not in run.tables():
        raise Fail(_("upgrading a database at 0002 to head left out a branch's change"))
    return _("One head again: 0004 joins 0003a and 0003b, every database reaches it, and the next revision follows.")
