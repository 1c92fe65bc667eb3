"""real-downgrade: downgrade() of 0003 restores the schema of 0002 exactly, rows included."""

from course.checks import Fail, compare

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
    {"id": 3, "username": "carol", "password_hash": "x", "email": "carol@example.com"},
]


def check(run):
    user = run.quote("user")
    run.upgrade("0002")
    run.insert("user", USERS)
    before = run.snapshot()
    run.upgrade("0003")
    run.expect_matches_models("after upgrading to 0003 (change only downgrade())")
    run.downgrade("0002")
    for problem in compare(before, run.snapshot(), what="downgrading to 0002"):
        raise Fail(problem)
    rows = run.rows(f"SELECT id, username, email FROM {user} ORDER BY id")
    if rows != [(u["id"], u["username"], u["email"]) for u in USERS]:
        raise Fail(f"downgrading to 0002 changed the users: {rows}")
    run.upgrade("0003", doing="upgrading to 0003 again after the downgrade")
    return "The downgrade restores the 0002 schema exactly; upgrading again works."
