"""add-email: revision 0002 adds a NOT NULL email to a table that already has users."""

from course.checks import Fail, listing, plural

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x"},
    {"id": 2, "username": "bob", "password_hash": "x"},
    {"id": 3, "username": "carol", "password_hash": "x"},
]


def check(run):
    user = run.quote("user")
    run.upgrade("0001")
    run.insert("user", USERS)
    run.upgrade("0002", doing="upgrading to 0002 with 3 users in the table")

    rows = run.rows(f"SELECT id, username FROM {user} ORDER BY id")
    kept = {username for _, username in rows}
    lost = [u["username"] for u in USERS if u["username"] not in kept]
    if lost:
        gone = "the 3 existing users are gone" if len(lost) == 3 else f"{plural(len(lost), 'user')} ({listing(lost)}) are gone"
        raise Fail(f"after upgrading to 0002, {gone}: a migration must keep the rows it finds")
    columns = run.columns("user")
    if "email" not in columns:
        raise Fail("after upgrading to 0002, there is no column user.email")
    if columns["email"]["nullable"]:
        raise Fail("after upgrading to 0002, user.email is still nullable; the model says NOT NULL")
    empty = [name for name, email in run.rows(f"SELECT username, email FROM {user} ORDER BY id")
             if email is None or not str(email).strip()]
    if empty:
        raise Fail(
            f"after upgrading to 0002, {plural(len(empty), 'existing user')} {'has' if len(empty) == 1 else 'have'} "
            f"an empty email ({listing(empty)}): give each a placeholder that says it is one, "
            "such as user-<id>@example.invalid"
        )
    run.expect_matches_models("after upgrading to 0002")
    run.insert("user", [{"id": 4, "username": "dave", "password_hash": "x", "email": "dave@example.com"}])

    run.downgrade("0001")
    if "email" in run.columns("user"):
        raise Fail("downgrading to 0001 left column user.email behind")
    count = len(run.rows(f"SELECT id FROM {user}"))
    if count != 4:
        raise Fail(f"downgrading to 0001 kept {count} of the 4 users")
    run.upgrade("0002", doing="upgrading to 0002 again after the downgrade")
    return "Email added: existing users kept, every row filled, NOT NULL, and the downgrade removes it."
