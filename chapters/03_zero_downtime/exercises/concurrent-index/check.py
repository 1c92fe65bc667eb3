"""concurrent-index: 0003 builds ix_user_email while the app goes on writing, leaves a valid
index, and its downgrade drops it the same way (PostgreSQL)."""

import time

import sqlalchemy as sa

from course.learner.checks import Fail, compare, while_it_waits
from course.i18n import _

LIMIT = 1  # s: the migration's lock_timeout (MIGRATION_LOCK_TIMEOUT) during the upgrade
HOLD = LIMIT + 0.5  # s: the older transaction stays open at least this long after the build waits
USERS = [{"id": n, "username": f"user{n}", "password_hash": "x", "email": f"user{n}@example.com"} for n in range(1, 201)]


def _app_inserts(run, name: str) -> str:
    """One insert as the app makes it, giving up after half a second: 'inserted' or the reason."""
    with run.ws.engine.connect() as app:
        app.exec_driver_sql("SET lock_timeout = '500ms'")
        try:
            app.execute(sa.text(f"INSERT INTO {run.quote('user')} (username, password_hash, email) "
                                "VALUES (:name, 'x', :name)"), {"name": name})
            app.commit()
            return "inserted"
        except sa.exc.OperationalError as exc:
            return str(exc.orig).splitlines()[0]


def _with_the_app_writing(run, step, statement: str, doing: str, name: str, hold: float = 0) -> None:
    """Run `step` while a transaction that wrote to user stays open (an index build, plain or
    concurrent, waits for it), have the app insert a row meanwhile, and keep that transaction
    open `hold` seconds after the statement was seen waiting."""
    engine = run.ws.engine

    def meanwhile():
        started = time.monotonic()
        inserted = _app_inserts(run, name)
        time.sleep(max(0.0, hold - (time.monotonic() - started)))
        return inserted

    failed = None
    with engine.connect() as open_tx:
        open_tx.execute(sa.text(f"UPDATE {run.quote('user')} SET password_hash = 'y' WHERE id = 1"))
        with while_it_waits(run, statement, meanwhile, open_tx.rollback) as seen:
            try:
                step()
            except Fail as exc:
                failed = exc
    if failed is not None and (not seen["waited"] or seen["then"] == "inserted"):
        if "lock timeout" in str(failed):
            raise Fail(_('{failed}: the build waited for a transaction older than it longer than the '
                         "migration's lock_timeout ({limit} s) and gave up, leaving ix_user_email INVALID. Its"
                         " SHARE UPDATE EXCLUSIVE lock queues none of the app's reads or writes: inside the "
                         'autocommit block, SET lock_timeout = 0 before the concurrent build (and set it back '
                         'after)').format(failed=failed, limit=LIMIT))
        raise failed
    if not seen["waited"]:
        raise Fail(_('{doing}: the check saw no {statement} statement waiting for the transaction it held '
                     'open; is the index built at all?').format(doing=doing, statement=statement))
    if seen["then"] != "inserted":
        raise Fail(_('{doing}, the app could not insert a row into user ({seen}): that statement locks the'
                     ' table against writes. Build (and drop) the index with postgresql_concurrently=True,'
                     ' inside op.get_context().autocommit_block()').format(doing=doing, seen=seen['then']))
    if failed is not None:
        raise failed


def _index_state(run) -> str:
    valid = run.rows("SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
                     "WHERE c.relname = 'ix_user_email'")
    return "absent" if not valid else "valid" if valid[0][0] else "invalid"


def check(run):
    run.upgrade("0002")
    run.insert("user", USERS)
    before = run.snapshot()

    doing = _("while 0003 built the index")
    short_limit = {"MIGRATION_LOCK_TIMEOUT": str(LIMIT)}  # env.py's short limit, as in production
    _with_the_app_writing(run, lambda: run.upgrade("0003", doing=_('upgrading to 0003 with 200 users'), environment=short_limit),
                          "CREATE INDEX", doing, "during-the-build", hold=HOLD)
    if run.current() != "0003":
        raise Fail(_('after upgrading, the database is at {current}, not 0003').format(current=run.current()))
    state = _index_state(run)
    if state != "valid":
        raise Fail(_('after upgrading to 0003, ix_user_email is {state} (pg_index.indisvalid): queries '
                     'cannot use it').format(state=state))
    run.expect_matches_models(_('after upgrading to 0003'))

    doing = _("while 0003's downgrade dropped the index")
    _with_the_app_writing(run, lambda: run.downgrade("0002", doing=_("downgrading to 0002")), "DROP INDEX", doing, "during-the-drop")
    after = run.snapshot()
    for problem in compare(before, after, what=_("downgrading to 0002")):
        raise Fail(problem)
    return _("the index was built and dropped while the app inserted rows, and it was valid.")
