"""expand-contract: rename user.username to user.login in two revisions, losing no login."""

from course.checks import Fail, compare, listing

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
    {"id": 3, "username": "carol", "password_hash": "x", "email": "carol@example.com"},
]
# Written by the release still running between the two steps: it knows only `username`.
LATE = {"id": 4, "username": "dave", "password_hash": "x", "email": "dave@example.com"}
NAMES = {u["id"]: u["username"] for u in [*USERS, LATE]}


def check(run):
    heads = run.heads()
    if heads != ["0004"]:
        raise Fail(f"the head is {listing(heads) or 'missing'}, not 0004 (the contract step)")
    script = run.script()
    if script.get_revision("0004").down_revision != "0003" or script.get_revision("0003").down_revision != "0002":
        raise Fail("the chain must be 0002 -> 0003 (expand) -> 0004 (contract)")

    user = run.quote("user")
    run.upgrade("0002")
    before = run.snapshot()
    run.insert("user", USERS)

    expand = "after upgrading to 0003 (expand)"
    run.upgrade("0003", doing="upgrading to 0003 (expand) with 3 users")
    columns = run.columns("user")
    if "username" not in columns:
        raise Fail(f"{expand}, column user.username is gone: the release still running reads and "
                   "writes it until the contract step")
    if "login" not in columns:
        raise Fail(f"{expand}, there is no column user.login")
    logins = dict(run.rows(f"SELECT id, login FROM {user}"))
    empty = [i for i, v in logins.items() if v is None]
    if empty:
        raise Fail(f"{expand}, user.login is NULL for {len(empty)} of the {len(USERS)} users: the expand "
                   "step copies every username into login")
    for i, value in sorted(logins.items()):
        if value != NAMES[i]:
            raise Fail(f"{expand}, user {i}'s login is {value!r}; its username is {NAMES[i]!r}")
    try:
        with run.quiet("inserting"):
            run.insert("user", [LATE])
    except Fail as exc:
        said = str(exc).partition("the database said: ")[2] or str(exc)
        raise Fail(f"{expand}, the release still running (it knows only username) cannot insert a user; "
                   f"the database said: {said}. Keep login nullable until the contract step") from None

    contract = "after upgrading to 0004 (contract)"
    run.upgrade("0004", doing="upgrading to 0004 (contract) with a user the old release wrote after 0003")
    if "username" in run.columns("user"):
        raise Fail(f"{contract}, column user.username is still there")
    logins = dict(run.rows(f"SELECT id, login FROM {user}"))
    missing = sorted(set(NAMES) - set(logins))
    if missing:
        raise Fail(f"{contract}, users {listing(missing)} are gone")
    for i, value in sorted(logins.items()):
        if value != NAMES[i]:
            late = ", written by the old release after 0003," if i == LATE["id"] else ""
            raise Fail(f"{contract}, user {i} ({NAMES[i]}){late} has login {value!r}, not {NAMES[i]!r}")
    run.expect_matches_models(contract)

    run.downgrade("0002", doing="downgrading from 0004 to 0002")
    for problem in compare(before, run.snapshot(), what="downgrading to 0002"):
        raise Fail(problem)
    names = dict(run.rows(f"SELECT id, username FROM {user}"))
    if names != NAMES:
        raise Fail(f"after downgrading to 0002, the usernames are {names}, not {NAMES}")
    return "username became login in two steps; the old release kept working in between, no login lost."
