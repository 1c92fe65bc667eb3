"""lock-timeout: env.py gives the migration's session (and no other) short lock limits, and the
migration gives up instead of queueing the app behind it."""

import json
import time

import sqlalchemy as sa

from course.learner.checks import Fail, listing, while_it_waits
from course.lessons.locks import waiting
from course.i18n import _

USERS = [{"id": n, "username": f"user{n}", "password_hash": "x", "email": f"user{n}@example.com"} for n in (1, 2, 3)]
MOST = 2  # seconds: the longest the migration may wait for a lock
HOLD = 4  # seconds the other transaction holds on while the migration still waits, then lets go


def _plain_session(run) -> dict:
    """What a session the app opens gets: the server's limits, and on PostgreSQL where they come from."""
    if run.ws.engine_name == "postgresql":
        rows = run.rows("SELECT name, setting, source FROM pg_settings WHERE name IN ('lock_timeout', 'statement_timeout')")
        return {name: (setting, source) for name, setting, source in rows}
    return {"lock_wait_timeout": run.rows("SELECT @@SESSION.lock_wait_timeout")[0][0]}


def _the_migrations_limits(run) -> None:
    note = run.ws.path / "migration_session.json"
    limits = json.loads(note.read_text(encoding="utf-8"))
    note.unlink()
    where = _("the migration's own session (the connection env.py opens)")
    if run.ws.engine_name == "postgresql":
        lock, statement = limits["lock_timeout"], limits["statement_timeout"]
        if lock == 0:
            raise Fail(_("{where} has lock_timeout 0, PostgreSQL's default: an ALTER TABLE waits for its lock "
                         'forever, and every query on the table waits behind it. SET lock_timeout on that '
                         'connection').format(where=where))
        if lock > MOST * 1000:
            raise Fail(_('{where} has lock_timeout {lock} ms, longer than the {most} s the app can wait behind'
                         ' it').format(where=where, lock=lock, most=MOST))
        if statement != 0:
            raise Fail(_('{where} has statement_timeout {statement} ms for the whole session: it cancels the '
                         'long steps that block nobody (CREATE INDEX CONCURRENTLY waiting for an older '
                         'transaction, VALIDATE CONSTRAINT) and leaves an INVALID index. Cap a blocking '
                         'statement only: set statement_timeout in its revision before it and back after '
                         'it').format(where=where, statement=statement))
        return
    lock = limits["lock_wait_timeout"]
    if lock > MOST:
        raise Fail(_("{where} has lock_wait_timeout {lock} s (MariaDB's metadata-lock wait), longer than "
                     'the {most} s the app can wait behind it (innodb_lock_wait_timeout is for row locks '
                     'only)').format(where=where, lock=lock, most=MOST))


def _upgrade_behind_a_reader(run) -> tuple[str | None, bool]:
    """Upgrade to 0003 while another transaction has read `user` and stays open. Returns (the
    failure message or None, whether the migration was still waiting after HOLD seconds)."""
    engine = run.ws.engine

    def hold_on():
        # The migration waits: the reader holds on until it stops waiting, or HOLD seconds.
        deadline = time.monotonic() + HOLD
        with engine.connect() as watcher:
            while waiting(watcher, "ALTER TABLE"):
                if time.monotonic() > deadline:
                    return True
                time.sleep(0.02)
        return False

    with engine.connect() as reader:
        reader.execute(sa.text(f"SELECT count(*) FROM {run.quote('user')}"))  # its transaction stays open
        with while_it_waits(run, "ALTER TABLE", hold_on, reader.rollback) as seen:
            try:
                run.upgrade("0003", doing=_('upgrading to 0003 while another transaction had read user'))
                failure = None
            except Fail as exc:
                failure = str(exc)
    return failure, bool(seen.get("then"))


def check(run):
    app_before = _plain_session(run)  # before env.py has run at all
    run.upgrade("0002")
    run.insert("user", USERS)

    # 1. The limits reach the migration's session...
    run.upgrade("0003", doing=_("upgrading to 0003"))
    _the_migrations_limits(run)
    # 2. ...and no other: a session opened as the app opens one still has the server's.
    app_after = _plain_session(run)
    if app_after != app_before:
        changed = listing(_('{name} {app_after} (before the migration: {app_before})').format(
                                name=name, app_after=app_after[name], app_before=app_before[name])
                            for name in app_after if app_after[name] != app_before.get(name))
        raise Fail(_("after the migration, the app's sessions get {changed}: the limits must be set on the"
                     " migration's connection only (SET ... on it), not for every session of the database "
                     'or the server').format(changed=changed))
    run.downgrade("0002", doing=_("downgrading to 0002"))

    # 3. Behind a reader's open transaction, the migration gives up within its limit.
    failure, still_waiting = _upgrade_behind_a_reader(run)
    if still_waiting or failure is None:
        raise Fail(_('upgrading to 0003 while another transaction had read user: the migration was still '
                     'waiting for its lock after {hold} s (it went on only when that transaction ended), '
                     'and every query on user waited behind it').format(hold=HOLD))
    words = "lock timeout" if run.ws.engine_name == "postgresql" else "Lock wait timeout exceeded"
    if words not in failure:
        raise Fail(_("{failure} (expected the server's lock-timeout error, {words!r})").format(failure=failure, words=words))
    if run.current() != "0002":
        raise Fail(_('after the migration gave up, the database is at {current}, not 0002').format(current=run.current()))
    # 4. Once the reader has gone, the same upgrade (the retry) goes through.
    run.upgrade("0003", doing=_('upgrading to 0003 again, the other transaction over'))
    if run.current() != "0003":
        raise Fail(_('after the retry, the database is at {current}, not 0003').format(current=run.current()))
    return (_("behind an open transaction the migration gave up within its limit, with the server's "
            "lock-timeout error; the app's sessions kept the server's defaults."))
