"""fk-orphans: add post.author_id -> user.id over rows whose author is gone, losing nothing."""

from course.checks import Fail, listing, plural

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


def check(run):
    post, user = run.quote("post"), run.quote("user")
    run.upgrade("0003")
    run.insert("user", USERS)
    run.insert("post", POSTS)
    run.upgrade("0004", doing="upgrading to 0004 with 2 posts whose author no longer exists")

    posts = {r[0]: r[1:] for r in run.rows(f"SELECT id, author_id, title, body FROM {post}")}
    gone = [p["id"] for p in POSTS if p["id"] not in posts]
    if gone:
        raise Fail(
            f"after upgrading to 0004, only {len(posts)} of the 6 posts are left: "
            f"post{'s' if len(gone) > 1 else ''} {listing(gone)} {'is' if len(gone) == 1 else 'are'} gone. "
            "A post whose author was deleted still holds content worth keeping"
        )
    users = {r[0]: r[1] for r in run.rows(f"SELECT id, username FROM {user}")}
    for u in USERS:
        if users.get(u["id"]) != u["username"]:
            raise Fail(f"after upgrading to 0004, user {u['username']} is gone")
    for p in POSTS:
        author, title, body = posts[p["id"]]
        if (title, body) != (p["title"], p["body"]):
            raise Fail(f"after upgrading to 0004, post {p['id']} has different content")
        if p["author_id"] in users and author != p["author_id"]:
            raise Fail(
                f"post {p['id']} lost its author: author_id was {p['author_id']} "
                f"({users[p['author_id']]}), now {author if author is not None else 'NULL'}"
            )
        if p["author_id"] is None and author is not None:
            raise Fail(f"post {p['id']} had no author; now it has author_id {author}")
        if p["author_id"] not in users and author in {u["id"] for u in USERS}:
            raise Fail(f"post {p['id']} now belongs to {users[author]}, who did not write it")
    dangling = [(i, a) for i, (a, _, _) in sorted(posts.items()) if a is not None and a not in users]
    if dangling:
        note = (" (SQLite checks foreign keys only with PRAGMA foreign_keys=ON; MariaDB and "
                "PostgreSQL refuse this migration outright)") if run.ws.dialect == "sqlite" else ""
        pairs = ", ".join(f"post {i} -> user {a}" for i, a in dangling)
        raise Fail(
            f"after upgrading to 0004, {plural(len(dangling), 'post')} still point{'s' if len(dangling) == 1 else ''} "
            f"to users that do not exist ({pairs}): the foreign key holds on paper only{note}"
        )
    if not any(fk["constrained_columns"] == ["author_id"] and fk["referred_table"] == "user"
               for fk in run.foreign_keys("post")):
        raise Fail("after upgrading to 0004, there is no foreign key from post.author_id to user.id")
    run.expect_matches_models("after upgrading to 0004")

    run.downgrade("0003")
    if run.foreign_keys("post"):
        raise Fail("downgrading to 0003 left the foreign key on post.author_id behind")
    count = len(run.rows(f"SELECT id FROM {post}"))
    if count != 6:
        raise Fail(f"downgrading to 0003 kept {count} of the 6 posts")
    run.upgrade("0004", doing="upgrading to 0004 again after the downgrade")
    return "The foreign key is in place; every post kept, orphans no longer point at missing users."
