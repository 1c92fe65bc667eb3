"""rerunnable: 0003 finishes on a database where it failed half-way, and works on a clean one."""

from course.checks import Fail, compare

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
    {"id": 3, "username": "carol", "password_hash": "x", "email": "carol@example.com"},
]


def _copied(run, when: str) -> None:
    rows = dict(run.rows(f"SELECT username, display_name FROM {run.quote('user')}"))
    empty = [name for name, shown in rows.items() if shown is None]
    if empty:
        raise Fail(f"{when}, display_name is NULL for {len(empty)} of the {len(USERS)} users: "
                   "the copy must still run when the DDL steps are already done")
    for u in USERS:
        if rows.get(u["username"]) != u["username"]:
            raise Fail(f"{when}, {u['username']}'s display_name is {rows.get(u['username'])!r}")


def check(run):
    user = run.quote("user")
    clean = "after upgrading a clean database to 0003"
    run.upgrade("0002")
    before = run.snapshot()
    run.insert("user", USERS)
    run.upgrade("0003", doing="upgrading a clean database with 3 users to 0003")
    _copied(run, clean)
    run.expect_matches_models(clean)
    run.downgrade("0002", doing="downgrading to 0002")
    for problem in compare(before, run.snapshot(), what="downgrading to 0002"):
        raise Fail(problem)

    # What a failed run left behind on MariaDB: the DDL committed, the copy and the version did not.
    run.execute(f"ALTER TABLE {user} ADD COLUMN display_name VARCHAR(100)")
    run.execute(f"CREATE INDEX ix_user_display_name ON {user} (display_name)")
    half = "on a database where its first steps already ran"
    run.upgrade("0003", doing=f"upgrading to 0003 {half} (column and index there, nothing copied)")
    if run.current() != "0003":
        raise Fail(f"after upgrading to 0003 {half}, the database is at {run.current()}")
    _copied(run, f"after upgrading to 0003 {half}")
    run.expect_matches_models(f"after upgrading to 0003 {half}")
    return "0003 looks before each step: it finishes a half-applied run and works on a clean database."
