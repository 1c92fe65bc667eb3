"""init-migration: revision 0001 creates exactly what the models describe, and undoes it."""

from course.checks import Fail


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
    run.downgrade("base")
    if run.tables():
        raise Fail(f"downgrading to base left table {', '.join(sorted(run.tables()))} behind")
    run.upgrade("0001", doing="upgrading to 0001 again after the downgrade")
    return "Revision 0001 creates the user table the models describe, and removes it again."
