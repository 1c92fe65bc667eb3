"""fk-two-steps: 0004 adds post.user_id's foreign key NOT VALID, 0005 keeps the orphan posts
without their author and validates it in a transaction of its own, so that writes go on
even when one `alembic upgrade head` runs both (PostgreSQL)."""

import sqlalchemy as sa

from course.learner.checks import Fail, compare, while_it_waits

FK = "fk_post_user_id_user"
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


def _app_inserts_a_post(run) -> str:
    with run.ws.engine.connect() as app:
        app.exec_driver_sql("SET lock_timeout = '300ms'")
        try:
            app.exec_driver_sql("INSERT INTO post (id, user_id, title) VALUES (100, 1, 'written meanwhile')")
            app.commit()
            return "inserted"
        except sa.exc.OperationalError as exc:
            return str(exc.orig).splitlines()[0]


def check(run):
    run.upgrade("0003")
    run.insert("user", USERS)
    run.insert("post", POSTS)
    at_0003 = run.snapshot()

    # 1. Step one, deployed on its own: in force for new rows, the old ones unread.
    run.upgrade("0004", doing="upgrading to 0004 with 2 posts by deleted users in the table")
    state = _state(run)
    if state == "absent":
        raise Fail(f"after upgrading to 0004 there is no foreign key {FK} on post")
    if state == "validated":
        raise Fail(f"after upgrading to 0004 alone, {FK} is already validated: 0004 read every post under a "
                   "lock that blocks writes. Add it NOT VALID (postgresql_not_valid=True) and validate it in 0005")
    try:
        run.execute("INSERT INTO post (id, user_id, title) VALUES (99, 79, 'by nobody')")
    except Exception:  # noqa: BLE001 - refused, as it must be
        pass
    else:
        raise Fail(f"after upgrading to 0004, a new post by user 79, who does not exist, was accepted: {FK} must "
                   "check new rows at once (NOT VALID still does)")

    # 2. Step two: orphans kept without their author, the constraint validated.
    run.upgrade("0005", doing="upgrading to 0005 with 2 posts by deleted users in the table")
    found = _posts(run)
    lost = sorted(set(EXPECTED) - set(found))
    if lost:
        raise Fail(f"after upgrading to 0005, posts {', '.join(map(str, lost))} are gone: keep the posts of deleted "
                   "users, without their author (user_id NULL)")
    for post_id, (user_id, title) in EXPECTED.items():
        if found[post_id] != (user_id, title):
            raise Fail(f"after upgrading to 0005, post {post_id} has user_id {found[post_id][0]!r} and title "
                       f"{found[post_id][1]!r}; expected {user_id!r} and {title!r}")
    state = _state(run)
    if state != "validated":
        raise Fail(f"after upgrading to 0005, {FK} is {state}, not validated (ALTER TABLE post VALIDATE CONSTRAINT ...)")
    run.expect_matches_models("after upgrading to 0005")
    run.downgrade("0003", doing="downgrading to 0003")
    for problem in compare(at_0003, run.snapshot(), what="downgrading to 0003"):
        raise Fail(problem)

    # 3. One `alembic upgrade head` for both, as a deploy runs it: the check holds a lock on
    #    one orphan post, so the orphans' update waits; the app inserts a post meanwhile.
    _restore_orphans(run)
    with run.ws.engine.connect() as holder:
        holder.execute(sa.text("SELECT id FROM post WHERE id = 9 FOR UPDATE"))
        with while_it_waits(run, "UPDATE", lambda: _app_inserts_a_post(run), holder.rollback) as seen:
            run.upgrade("head", doing="upgrading from 0003 to head in one command")
    if seen["waited"] and seen["then"] != "inserted":
        raise Fail(f"with 0004 and 0005 in one `alembic upgrade head`, the app could not insert a post while 0005 ran "
                   f"({seen['then']}): 0004's lock (SHARE ROW EXCLUSIVE) is still held, because PostgreSQL runs both "
                   "revisions in one transaction. Run 0005's steps inside op.get_context().autocommit_block()")
    if _state(run) != "validated" or run.current() != "0005":
        raise Fail(f"after upgrading from 0003 to head, the database is at {run.current()} and {FK} is {_state(run)}")
    return "the foreign key was added NOT VALID, the orphans kept, and validated while the app inserted a post."
