"""lint-clean: revision 0003 indexes user.email, passes squawk in both directions, and works
on every engine (online: upgrade with users in the table, downgrade, upgrade again).

squawk reads SQL, so each direction is rendered offline for PostgreSQL first, as CI does
(course/lessons/lint.py, with the course's squawk.toml)."""

from course.learner.checks import Fail, compare, while_it_waits
from course.lessons import lint
from course.i18n import _

USERS = [
    {"id": 1, "username": "ann", "password_hash": "x", "email": "ann@example.com"},
    {"id": 2, "username": "ben", "password_hash": "x", "email": "family@example.com"},
    {"id": 3, "username": "cleo", "password_hash": "x", "email": "family@example.com"},  # one address, two users
    {"id": 4, "username": "dev", "password_hash": "x", "email": "dev@example.com"},
]


def _lint(run, revisions: str, direction: str, what: str) -> None:
    script = run.offline_sql(revisions, direction=direction)
    if "squawk-ignore" in script:
        raise Fail(_("0003's {what} tells squawk to ignore it (squawk-ignore): a silenced rule still takes"
                     ' its lock in production; change the statement instead').format(what=what))
    report = lint.lint({"0003": script})
    for finding in report.findings:
        raise Fail(_("squawk finds in 0003's {what}: {rule}: {message} (the statement: {statement})").format(
                       what=what, rule=finding.rule, message=finding.message, statement=finding.statement))


def _index_on_email(run) -> str | None:
    import sqlalchemy as sa

    for index in sa.inspect(run.ws.engine).get_indexes("user"):
        if index["column_names"] == ["email"]:
            return index["name"]
    return None


def _first_build_cancelled(run) -> bool:
    """PostgreSQL: upgrade to 0003 while an older transaction keeps a concurrent build waiting,
    and cancel the build there, as a deploy can see one fail half-way. True if it was."""
    engine = run.ws.engine

    def cancel():
        with engine.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                "AND left(query, 12) = 'CREATE INDEX' AND pid <> pg_backend_pid()")
            connection.commit()
        return "cancelled"

    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as older:
        older.exec_driver_sql("SELECT 1")  # its snapshot: a concurrent build waits for it to end
        with while_it_waits(run, "CREATE INDEX", cancel, older.rollback) as seen:
            try:
                run.upgrade("0003", doing=_('upgrading to 0003 (its build cancelled half-way)'))
            except Fail:
                pass  # expected: the build was cancelled
    if seen["waited"] and run.current() != "0002":
        raise Fail(_('after the build was cancelled, the database is at {current}, not 0002').format(current=run.current()))
    return seen["waited"]


def check(run):
    # 1. The lint, as CI runs it: the upgrade and the downgrade, each as PostgreSQL gets it.
    _lint(run, "0002:0003", "upgrade", "upgrade")
    _lint(run, "0003:0002", "downgrade", "downgrade")

    # 2. The revision itself, on this engine, with users in the table.
    run.upgrade("0002")
    run.insert("user", USERS)
    before = run.snapshot()
    cancelled = run.ws.engine_name == "postgresql" and _first_build_cancelled(run)
    again = _(" (again, after a first build was cancelled half-way)") if cancelled else ""
    if cancelled or run.current() != "0003":
        run.upgrade("0003", doing=_('upgrading to 0003 with {count_users} users in the table{again}').format(count_users=len(USERS), again=again))
    if _index_on_email(run) is None:
        raise Fail(_('after upgrading to 0003, user has no index on (email)'))
    run.expect_matches_models(_('after upgrading to 0003'))
    if run.ws.engine_name == "postgresql":
        invalid = run.rows("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                           "WHERE NOT i.indisvalid")
        if invalid:
            where = _("after a first build was cancelled half-way and 0003 ran again") if cancelled else _("after upgrading to 0003")
            raise Fail(_('{where}, PostgreSQL lists an INVALID index: {value} (a failed concurrent build '
                         'leaves it, and IF NOT EXISTS skips it: drop it first, concurrently, then create)').format(where=where, value=invalid[0][0]))
    run.downgrade("0002", doing=_("downgrading 0003 to 0002"))
    for problem in compare(before, run.snapshot(), what=_("downgrading 0003 to 0002")):
        raise Fail(problem)
    run.upgrade("0003", doing=_('upgrading to 0003 again after its downgrade'))
    if sorted(r[0] for r in run.rows(f"SELECT username FROM {run.quote('user')}")) != [u["username"] for u in USERS]:
        raise Fail(_('after upgrading to 0003, the users are not the ones that were there before'))
    return _("0003 indexes user.email without blocking writes on PostgreSQL, and squawk finds nothing in either direction.")
