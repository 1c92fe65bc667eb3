"""fk-orphans: add post.author_id -> user.id over rows whose author is gone, losing nothing."""

from course.learner.checks import Fail, listing, plural
from course.i18n import _

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
]
POSTS = [
    {"id": 1, "author_id": 1, "title": "Hello", "body": "First post."},
    {"id": 2, "author_id": 2, "title": "Migrations", "body": "Read the script."},
    {"id": 3, "author_id": 1, "title": "Downgrades", "body": "Back up first."},
    {"id": 4, "author_id": 7, "title": "Orphan", "body": "Its author was deleted."},
    {"id": 5, "author_id": 9, "title": "Also orphan", "body": "So was this one's."},
    {"id": 6, "author_id": None, "title": "Anonymous", "body": "Never had an author."},
]
# A second dataset, written after a downgrade: other ids, an orphan whose missing author lies
# between living ones (11, with users 5 and 40 alive) and bob deleted while his post stays.
# A fix written for the first dataset's orphans (7 and 9, or "above the highest user id") shows.
MORE_USERS = [
    {"id": 5, "username": "erin", "password_hash": "x", "email": "erin@example.com"},
    {"id": 40, "username": "frank", "password_hash": "x", "email": "frank@example.com"},
]
MORE_POSTS = [
    {"id": 20, "author_id": 40, "title": "Indexes", "body": "Measure first."},
    {"id": 21, "author_id": 11, "title": "Locks", "body": "Its author left."},
    {"id": 22, "author_id": 5, "title": "Batches", "body": "Small ones."},
    {"id": 23, "author_id": 41, "title": "Replicas", "body": "Its author left too."},
]


def _expect_posts(run, users: dict[int, str], posts: list[dict], when: str) -> None:
    """Every post kept with its content; a living author kept; a missing one NULL, nothing else."""
    post = run.quote("post")
    found = {r[0]: r[1:] for r in run.rows(f"SELECT id, author_id, title, body FROM {post}")}
    gone = [p["id"] for p in posts if p["id"] not in found]
    if gone:
        raise Fail(
            _('{when}, only {value} of the {count_posts} posts are left: post{value2} {listing} '
              '{value3} gone. A post whose author was deleted still holds content worth keeping').format(
                when=when, value=len(posts) - len(gone), count_posts=len(posts), value2='s' if len(gone) > 1 else '', listing=listing(gone), value3='is' if len(gone) == 1 else 'are')
        )
    living = {r[0]: r[1] for r in run.rows(f"SELECT id, username FROM {run.quote('user')}")}
    for i, name in users.items():
        if living.get(i) != name:
            raise Fail(_('{when}, user {name} is gone').format(when=when, name=name))
    for p in posts:
        author, title, body = found[p["id"]]
        if (title, body) != (p["title"], p["body"]):
            raise Fail(_('{when}, post {p} has different content').format(when=when, p=p['id']))
        if p["author_id"] in users and author != p["author_id"]:
            raise Fail(
                _('{when}, post {p} lost its author: author_id was {p2} ({users}), now {value}').format(
                    when=when, p=p['id'], p2=p['author_id'], users=users[p['author_id']], value=author if author is not None else 'NULL')
            )
        if p["author_id"] is None and author is not None:
            raise Fail(_('{when}, post {p} had no author; now it has author_id {author}').format(when=when, p=p['id'], author=author))
        if p["author_id"] not in users and author in users:
            raise Fail(_('{when}, post {p} now belongs to {users}, who did not write it').format(when=when, p=p['id'], users=users[author]))
    dangling = [(i, a) for i, (a, _, _) in sorted(found.items()) if a is not None and a not in living]
    if dangling:
        note = (_(" (SQLite checks foreign keys only with PRAGMA foreign_keys=ON; MariaDB and "
                "PostgreSQL refuse this migration outright)")) if run.ws.engine_name == "sqlite" else ""
        pairs = listing(_('post {i} -> user {a}').format(i=i, a=a) for i, a in dangling)
        raise Fail(
            _('{when}, {plural} still point{value} to users that do not exist ({pairs}): the '
              'foreign key holds on paper only{note}').format(
                when=when, plural=plural(len(dangling), 'post'), value='s' if len(dangling) == 1 else '', pairs=pairs, note=note)
        )


def _expect_enforced(run, when: str) -> None:
    """The app inserts a post for a user that does not exist: the database must refuse it.
    SQLite enforces foreign keys only on a connection that turned them on, as the app should."""
    post = run.quote("post")
    refused = False
    with run.ws.engine.connect() as connection:
        if run.ws.engine_name == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")  # outside a transaction, or it does nothing
        try:
            with connection.begin():
                connection.exec_driver_sql(
                    f"INSERT INTO {post} (author_id, title, body) VALUES (999999, 'Ghost', 'No such author.')")
        except Exception:  # the database said no: that is the point
            refused = True
    if not refused:
        raise Fail(_('{when}, the database accepted a post by user 999999, who does not exist: the foreign'
                     ' key from post.author_id to user.id is not enforced').format(when=when))


def _expect_validated(run, when: str) -> None:
    """PostgreSQL: a constraint added NOT VALID (after the repair) must be validated in the end."""
    if run.ws.engine_name != "postgresql":
        return
    unproven = run.rows("SELECT conname FROM pg_constraint WHERE conrelid = 'post'::regclass "
                        "AND contype = 'f' AND NOT convalidated")
    if unproven:
        name = unproven[0][0]
        raise Fail(_('{when}, the foreign key {name} is NOT VALID: PostgreSQL checks new rows against it '
                     'but has never checked the old ones; once the orphans are repaired, run ALTER TABLE '
                     'post VALIDATE CONSTRAINT {name} (in a transaction of its own: '
                     'op.get_context().autocommit_block())').format(when=when, name=name))


def check(run):
    post = run.quote("post")
    run.upgrade("0003")
    run.insert("user", USERS)
    run.insert("post", POSTS)
    run.upgrade("0004", doing=_('upgrading to 0004 with 2 posts whose author no longer exists'))

    when = _("after upgrading to 0004")
    users = {u["id"]: u["username"] for u in USERS}
    _expect_posts(run, users, POSTS, when)
    if not any(fk["constrained_columns"] == ["author_id"] and fk["referred_table"] == "user"
               for fk in run.foreign_keys("post")):
        raise Fail(_('{when}, there is no foreign key from post.author_id to user.id').format(when=when))
    _expect_validated(run, when)
    run.expect_matches_models(when)
    _expect_enforced(run, when)

    run.downgrade("0003")
    if run.foreign_keys("post"):
        raise Fail(_('downgrading to 0003 left the foreign key on post.author_id behind'))
    count = len(run.rows(f"SELECT id FROM {post}"))
    if count != 6:
        raise Fail(_('downgrading to 0003 kept {count} of the 6 posts').format(count=count))

    # Without the constraint the app goes on as before: new users and posts, bob deleted.
    run.insert("user", MORE_USERS)
    run.insert("post", MORE_POSTS)
    run.execute(f"DELETE FROM {run.quote('user')} WHERE id = 2")
    run.upgrade("0004", doing=_('upgrading to 0004 again, with bob deleted and posts by users 11 and 41 who do not '
                                'exist'))
    users = {1: "alice", **{u["id"]: u["username"] for u in MORE_USERS}}
    _expect_posts(run, users, POSTS + MORE_POSTS,
                  _('after upgrading to 0004 again (bob deleted, posts by users 11 and 41 who do not '
                    'exist)'))
    return _("The foreign key is in place and enforced; every post kept, orphans no longer point at missing users.")
