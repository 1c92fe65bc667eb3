"""init-migration: revision 0001 creates exactly what the models describe, and undoes it."""

from course.learner.checks import Fail


def _expect_app_inserts(run, when: str) -> None:
    """The app inserts users without an id, and the database numbers them.

    Autogenerate compares columns, types, indexes and constraints, but not the primary key
    or autoincrement: only inserting shows them."""
    user = run.quote("user")
    for name in ("alice", "bob"):
        try:
            with run.quiet(f"inserting user {name} without an id, as the app does"):
                run.execute(f"INSERT INTO {user} (username, password_hash) VALUES (:name, 'x')", {"name": name})
        except Fail as exc:
            said = str(exc).partition("the database said: ")[2] or str(exc)
            raise Fail(
                f"{when}, the app cannot insert a user without an id (the database said: {said}): "
                "user.id must be the primary key, numbered by the database"
            ) from None
    ids = [i for (i,) in run.rows(f"SELECT id FROM {user} ORDER BY id")]
    if len(ids) != 2 or None in ids or ids[0] == ids[1]:
        raise Fail(f"{when}, two users inserted without an id got the ids {ids}: user.id must be the primary key")


def check(run):
    heads = run.heads()
    if heads != ["0001"]:
        raise Fail(
            f"the revision's id is {', '.join(heads) or 'missing'}; this exercise expects 0001 "
            "(`revision = '0001'`, `down_revision = None`; `alembic revision --rev-id 0001` writes that)"
        )
    run.upgrade("0001")
    if "user" not in run.tables():
        raise Fail("after upgrading to 0001, there is no table user: upgrade() does not create it yet")
    run.expect_matches_models("after upgrading to 0001")
    _expect_app_inserts(run, "after upgrading to 0001")
    run.downgrade("base")
    if run.tables():
        raise Fail(f"downgrading to base left table {', '.join(sorted(run.tables()))} behind")
    run.upgrade("0001", doing="upgrading to 0001 again after the downgrade")
    return "Revision 0001 creates the user table the models describe, and removes it again."
