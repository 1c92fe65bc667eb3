"""fk-two-steps: 0004 adds post.user_id's foreign key NOT VALID, 0005 keeps the orphan posts
without their author and validates it in a transaction of its own, so that writes go on
even when one `alembic upgrade head` runs both (PostgreSQL).

Two steps run under env.py's lock limit set short (MIGRATION_LOCK_TIMEOUT = LIMIT) and hold a
lock the migration needs for longer than that limit, measured by the server from the moment the
migration began to wait (pg_locks.waitstart, the start of its lock_timeout): 0004, whose lock
queues the app's writes, must give up with lock_timeout and succeed on the retry; 0005's VALIDATE,
whose lock queues nobody, must wait it out and finish. Nothing is decided by how long a sleep
lasted: a statement under lock_timeout = LIMIT has had its timer expire before the lock is let
go, and PostgreSQL then reports the lock timeout even if the lock was granted meanwhile."""

import time

import sqlalchemy as sa

from course.learner.checks import Fail, compare, while_it_waits
from course.i18n import _

FK = "fk_post_user_id_user"
LIMIT = 1  # s: the migration's lock_timeout (env.py's MIGRATION_LOCK_TIMEOUT) in steps 0 and 4
SHORT_LIMIT = {"MIGRATION_LOCK_TIMEOUT": str(LIMIT)}  # the migration's process gets it (Run.upgrade)
PAST = 0.5  # s: the lock is held until the migration has waited LIMIT + PAST (server clock)
BOUND = 60  # s: the longest the check holds a lock in any case
USERS = [{"id": n, "username": f"user{n}", "password_hash": "x", "email": f"user{n}@example.com"} for n in range(1, 6)]
# Posts 9 and 10 belong to users deleted long ago; post 8 has no author.
POSTS = ([{"id": n, "user_id": n % 5 + 1, "title": f"post {n}"} for n in range(1, 8)]
         + [{"id": 8, "user_id": None, "title": "anonymous"},
            {"id": 9, "user_id": 77, "title": "by a deleted user"},
            {"id": 10, "user_id": 78, "title": "by another deleted user"}])
EXPECTED = {p["id"]: (None if p["id"] in (9, 10) else p["user_id"], p["title"]) for p in POSTS}


def _state(run) -> str:
    found = run.rows("SELECT convalidated FROM pg_constraint WHERE conname = :name", name=FK)
    return "absent" if not found else "validated" if found[0][0] else "NOT VALID"


def _posts(run) -> dict:
    return {id_: (user_id, title) for id_, user_id, title in run.rows("SELECT id, user_id, title FROM post ORDER BY id")}


def _restore_orphans(run) -> None:
    run.execute("UPDATE post SET user_id = 77 WHERE id = 9")
    run.execute("UPDATE post SET user_id = 78 WHERE id = 10")


def _app_inserts_a_post(run, post_id: int = 100, title: str = "written meanwhile") -> str:
    with run.ws.engine.connect() as app:
        app.exec_driver_sql("SET lock_timeout = '300ms'")
        try:
            app.execute(sa.text("INSERT INTO post (id, user_id, title) VALUES (:id, 1, :title)"),
                        {"id": post_id, "title": title})
            app.commit()
            return "inserted"
        except sa.exc.OperationalError as exc:
            return str(exc.orig).splitlines()[0]


def _hold_past_the_limit(run) -> None:
    """Return once the migration's ALTER TABLE has waited LIMIT + PAST seconds for its lock by the
    server's clock (pg_locks.waitstart is when its lock_timeout started), or waits no more.
    (waitstart can be NULL for a moment after the wait began: then it is asked again.)"""
    deadline = time.monotonic() + BOUND
    with run.ws.engine.connect() as watcher:
        while time.monotonic() < deadline:
            waiters, waited = watcher.execute(sa.text(
                "SELECT count(*), min(extract(epoch FROM clock_timestamp() - l.waitstart)) FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid WHERE NOT l.granted AND a.datname = current_database() "
                "AND ltrim(a.query, E' \\t\\r\\n') LIKE 'ALTER TABLE%'")).one()
            watcher.rollback()
            if not waiters or (waited is not None and waited >= LIMIT + PAST):
                return
            time.sleep(0.02)


def _behind_a_lock(run, lock_sql: str, step, meanwhile=None) -> tuple[str | None, dict]:
    """Run `step` (a migration) while another session holds the lock `lock_sql` takes, in a
    transaction it lets go once the migration has waited past LIMIT; `meanwhile()` runs while
    it waits. Returns (the migration's failure or None, what was seen)."""
    def when_waiting():
        then = meanwhile() if meanwhile else None
        _hold_past_the_limit(run)
        return then

    failure = None
    with run.ws.engine.connect() as holder:
        holder.execute(sa.text(lock_sql))
        with while_it_waits(run, "ALTER TABLE", when_waiting, holder.rollback, bound=BOUND) as seen:
            try:
                step()
            except Fail as exc:
                failure = str(exc)
    return failure, seen


def check(run):
    run.upgrade("0003")
    run.insert("user", USERS)
    run.insert("post", POSTS)
    at_0003 = run.snapshot()

    # 0. Step one behind an app transaction that wrote to post and stays open: ADD CONSTRAINT's
    #    lock (SHARE ROW EXCLUSIVE) would queue every write on post behind it, so under env.py's
    #    limit it gives up, with nothing left behind; step 1 is the retry.
    doing = _("upgrading to 0004 while a transaction that wrote to post stayed open")
    failure, seen = _behind_a_lock(run, "UPDATE post SET title = title WHERE id = 1",
                                   lambda: run.upgrade("0004", doing=doing, environment=SHORT_LIMIT))
    if failure is None and seen["waited"]:
        raise Fail(_("{doing}, 0004 waited for its lock longer than the migration's lock_timeout ({limit} "
                     's) and went on only when that transaction ended: meanwhile every write on post '
                     "queued behind it. Keep env.py's limit for ADD CONSTRAINT (no SET lock_timeout = 0 in"
                     ' 0004): it gives up, and the deploy is retried').format(doing=doing, limit=LIMIT))
    if failure is not None:
        if "lock timeout" not in failure:
            raise Fail(failure)
        if run.current() != "0003" or _state(run) != "absent":
            raise Fail(_('after 0004 gave up (lock timeout), the database is at {current} and {fk} is {state}:'
                         ' a revision that fails must leave nothing behind').format(current=run.current(), fk=FK, state=_state(run)))

    # 1. Step one, deployed on its own (the retry): in force for new rows, the old ones unread.
    run.upgrade("0004", doing=_('upgrading to 0004 with 2 posts by deleted users in the table'))
    state = _state(run)
    if state == "absent":
        raise Fail(_('after upgrading to 0004 there is no foreign key {fk} on post').format(fk=FK))
    if state == "validated":
        raise Fail(_('after upgrading to 0004 alone, {fk} is already validated: 0004 read every post under'
                     ' a lock that blocks writes. Add it NOT VALID (postgresql_not_valid=True) and '
                     'validate it in 0005').format(fk=FK))
    try:
        run.execute("INSERT INTO post (id, user_id, title) VALUES (99, 79, 'by nobody')")
    except Exception:  # noqa: BLE001 - refused, as it must be
        pass
    else:
        raise Fail(_('after upgrading to 0004, a new post by user 79, who does not exist, was accepted: '
                     '{fk} must check new rows at once (NOT VALID still does)').format(fk=FK))

    # 2. Step two: orphans kept without their author, the constraint validated.
    run.upgrade("0005", doing=_('upgrading to 0005 with 2 posts by deleted users in the table'))
    found = _posts(run)
    lost = sorted(set(EXPECTED) - set(found))
    if lost:
        raise Fail(_('after upgrading to 0005, posts {join} are gone: keep the posts of deleted users, '
                     'without their author (user_id NULL)').format(join=', '.join(map(str, lost))))
    for post_id, (user_id, title) in EXPECTED.items():
        if found[post_id] != (user_id, title):
            raise Fail(_('after upgrading to 0005, post {post_id} has user_id {value!r} and title {value2!r}; '
                         'expected {user_id!r} and {title!r}').format(
                           post_id=post_id, value=found[post_id][0], value2=found[post_id][1], user_id=user_id, title=title))
    state = _state(run)
    if state != "validated":
        raise Fail(_('after upgrading to 0005, {fk} is {state}, not validated (ALTER TABLE post VALIDATE '
                     'CONSTRAINT ...)').format(fk=FK, state=state))
    run.expect_matches_models(_('after upgrading to 0005'))
    run.downgrade("0003", doing=_("downgrading to 0003"))
    for problem in compare(at_0003, run.snapshot(), what=_("downgrading to 0003")):
        raise Fail(problem)

    # 3. One `alembic upgrade head` for both, as a deploy runs it: the check holds a lock on
    #    one orphan post, so the orphans' update waits; the app inserts a post meanwhile.
    _restore_orphans(run)
    with run.ws.engine.connect() as holder:
        holder.execute(sa.text("SELECT id FROM post WHERE id = 9 FOR UPDATE"))
        with while_it_waits(run, "UPDATE", lambda: _app_inserts_a_post(run), holder.rollback) as seen:
            run.upgrade("head", doing=_('upgrading from 0003 to head in one command'))
    if seen["waited"] and seen["then"] != "inserted":
        raise Fail(_('with 0004 and 0005 in one `alembic upgrade head`, the app could not insert a post '
                     "while 0005 ran ({seen}): 0004's lock (SHARE ROW EXCLUSIVE) is still held, because "
                     "PostgreSQL runs both revisions in one transaction. Run 0005's steps inside "
                     'op.get_context().autocommit_block()').format(seen=seen['then']))
    if _state(run) != "validated" or run.current() != "0005":
        raise Fail(_('after upgrading from 0003 to head, the database is at {current} and {fk} is {state}').format(current=run.current(), fk=FK, state=_state(run)))

    # 4. VALIDATE behind a lock that queues nobody, held past env.py's limit: another session
    #    holds SHARE UPDATE EXCLUSIVE on post, as a VACUUM, an ANALYZE or a CREATE INDEX
    #    CONCURRENTLY of post does. VALIDATE waits it out (the app writes meanwhile) and finishes.
    run.downgrade("0003", doing=_('downgrading to 0003 again'))
    _restore_orphans(run)
    run.upgrade("0004", doing=_('upgrading to 0004 again'), environment=SHORT_LIMIT)
    doing = _("upgrading to 0005 while another session held SHARE UPDATE EXCLUSIVE on post (as VACUUM does)")
    failure, seen = _behind_a_lock(run, "LOCK TABLE post IN SHARE UPDATE EXCLUSIVE MODE",
                                   lambda: run.upgrade("0005", doing=doing, environment=SHORT_LIMIT),
                                   meanwhile=lambda: _app_inserts_a_post(run, 101, "written while 0005 waited"))
    if failure is not None and "lock timeout" in failure:
        raise Fail(_("{failure}: VALIDATE waited longer than the migration's lock_timeout ({limit} s) and "
                     'gave up, leaving {fk} NOT VALID, behind a lock (SHARE UPDATE EXCLUSIVE) that held up'
                     " none of the app's reads or writes, nor does VALIDATE's own. Inside the autocommit "
                     'block, SET lock_timeout = 0 before VALIDATE (and set it back after)').format(failure=failure, limit=LIMIT, fk=FK))
    if failure is not None:
        raise Fail(failure)
    if not seen["waited"]:
        raise Fail(_('{doing}: the check saw no ALTER TABLE ... VALIDATE waiting for that lock; is {fk} '
                     'validated in 0005?').format(doing=doing, fk=FK))
    if seen["then"] != "inserted":
        raise Fail(_('{doing}, the app could not insert a post while VALIDATE waited ({seen})').format(doing=doing, seen=seen['then']))
    expected = EXPECTED | {100: (1, "written meanwhile"), 101: (1, "written while 0005 waited")}
    if _state(run) != "validated" or run.current() != "0005" or _posts(run) != expected:
        raise Fail(_('{doing}: once that lock was let go, the database is at {current}, {fk} is {state}, '
                     'and the posts are {posts}; expected 0005, validated, and {expected}').format(
                       doing=doing, current=run.current(), fk=FK, state=_state(run), posts=_posts(run), expected=expected))
    return (_("the foreign key was added NOT VALID (giving up behind an open transaction, then retried), the orphans "
            "kept, and validated while the app inserted a post, waiting out a lock held past the migration's limit."))
