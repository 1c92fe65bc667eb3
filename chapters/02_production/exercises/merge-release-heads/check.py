"""merge-release-heads: revision 0004 joins the heads 0003a and 0003b, from every branch point."""

from course.checks import Fail

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
]


def _index_on_email(run) -> bool:
    import sqlalchemy as sa

    return any(i["name"] == "ix_user_email" for i in sa.inspect(run.ws.engine).get_indexes("user"))


def _at_head(run, start: str) -> None:
    run.upgrade("head", doing=f"upgrading a database at {start} to head")
    if run.current() != "0004":
        raise Fail(f"after upgrading a database at {start} to head, it is at {run.current()}, not 0004")
    run.expect_matches_models(f"after upgrading a database at {start} to head")
    if len(run.rows(f"SELECT id FROM {run.quote('user')}")) != len(USERS):
        raise Fail(f"upgrading a database at {start} to head lost users")


def check(run):
    run.expect_merge("0004", {"0003a", "0003b"})

    # Staging: the audit branch ran first.
    run.upgrade("0003a")
    run.insert("user", USERS)
    run.insert("audit_log", [{"id": 1, "user_id": 1, "action": "login"}])
    _at_head(run, "0003a")

    # Back below the merge: both branches are undone.
    run.downgrade("0002", doing="downgrading from the merge to 0002")
    if run.tables() != {"user"} or _index_on_email(run):
        raise Fail("downgrading from the merge to 0002 left a branch's change behind")

    # The hotfix box: only the index branch ran.
    run.upgrade("0003b")
    _at_head(run, "0003b")

    # Production: neither branch yet.
    run.downgrade("0002", doing="downgrading from the merge to 0002")
    _at_head(run, "0002")
    return "One head again: 0004 joins 0003a and 0003b, and every database reaches it."
