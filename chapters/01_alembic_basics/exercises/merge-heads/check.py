"""merge-heads: revision 0004 joins the two heads 0003a and 0003b into one."""

from course.checks import Fail

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
]


def check(run):
    run.expect_merge("0004", {"0003a", "0003b"})

    # Production already runs Alice's branch; Bob's revision arrives with the merge.
    user = run.quote("user")
    run.upgrade("0003a")
    run.insert("user", USERS)
    run.upgrade("head", doing="upgrading a database at 0003a to head")
    if run.current() != "0004":
        raise Fail(f"after `alembic upgrade head` the database is at {run.current()}, not 0004")
    run.expect_matches_models("after upgrading to head")
    if len(run.rows(f"SELECT id FROM {user}")) != len(USERS):
        raise Fail("upgrading to head lost users")

    run.downgrade("0002", doing="downgrading from the merge to 0002")
    left = {"display_name", "last_login_at"} & set(run.columns("user"))
    if left:
        raise Fail(f"downgrading from the merge to 0002 left column user.{sorted(left)[0]} behind")
    run.upgrade("heads", doing="upgrading a database at 0002 to head")
    run.expect_matches_models("after upgrading from 0002 to head")
    return "One head again: 0004 merges 0003a and 0003b, from any of the branch points."
