"""expand-contract: username becomes login in three revisions while releases A, B and C serve.

The check plays the app's three releases against the learner's revisions, with models of its
own (never the learner's code): A reads and writes username; B writes both and reads username;
C reads and writes login only. It follows a real rollout, two releases serving at once in each
window, then a rollback, and compares every user's name as each release reads it. It runs the
whole road twice, with different users and ids.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from course.checks import Fail, compare, database_message, describe

# Two datasets: the second arrives after the first went forward and back, so its ids are
# others, and one of its users leaves before the expand step (a gap in the ids). The second
# also has an imported user with an id 1,000 past the others, so the users signed up after
# it fall in a later batch of the backfill than the older ones (whatever the batch size up
# to 1,000): there, a stale name held by a later row meets an earlier row that wants it.
DATASETS = [
    ["alice", "bob", "carol"],
    ["dmitri", "erin", "farid", "gwen", "hugo"],
]

# The naming convention of the sample project's models (app/models/base.py).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def release_b_metadata() -> sa.MetaData:
    """Release B's model, the schema of 0003 and 0004: both names nullable, both unique."""
    metadata = sa.MetaData(naming_convention=NAMING)
    sa.Table(
        "user", metadata,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(50), unique=True, nullable=True),
        sa.Column("login", sa.String(50), unique=True, index=True, nullable=True),
        sa.Column("password_hash", sa.String(128), nullable=False),
        sa.Column("email", sa.String(120), nullable=False, comment="用户邮箱"),
    )
    return metadata


class Release:
    """One release of the app, doing what its routes do, with its own idea of the table."""

    def __init__(self, run, label: str, writes: tuple[str, ...], reads: str):
        self.run, self.label, self.writes, self.reads = run, label, writes, reads
        # The columns this release knows, and a primary key, so an insert reports the new id.
        known = dict.fromkeys((*writes, reads, "email", "password_hash"))
        self.table = sa.Table("user", sa.MetaData(), sa.Column("id", sa.Integer, primary_key=True),
                              *(sa.Column(name, sa.String(128)) for name in known))

    def _failed(self, doing: str, exc: sa.exc.DBAPIError, when: str, why: str) -> Fail:
        said = database_message(exc).rstrip(".")
        return Fail(f"{when}, {self.label} cannot {doing}; the database said: {said}. {why}".rstrip(". "))

    def sign_up(self, name: str, when: str, why: str) -> int | None:
        """The new user's id, or None when the database refused the name (the app's 409)."""
        values = {c: name for c in self.writes}
        try:
            with self.run.ws.engine.begin() as connection:
                result = connection.execute(self.table.insert().values(
                    **values, email=f"{name}@example.com", password_hash="x"))
                return int(result.inserted_primary_key[0])
        except sa.exc.DBAPIError as exc:
            said = str(exc.orig).lower()
            if isinstance(exc, sa.exc.IntegrityError) and ("unique" in said or "duplicate" in said):
                return None
            # SQLite, PostgreSQL and MariaDB (1364) each say "this column needs a value" their way.
            if "not null" in said or "not-null" in said or "have a default value" in said:
                raise Fail(f"{when}, {self.label} cannot sign {name!r} up: a column it never writes is NOT "
                           f"NULL (the database said: {database_message(exc).rstrip('.')}). {why}") from None
            raise self._failed(f"sign {name!r} up", exc, when, why) from None

    def rename(self, user_id: int, name: str, when: str, why: str) -> None:
        try:
            with self.run.ws.engine.begin() as connection:
                connection.execute(self.table.update().where(self.table.c.id == user_id)
                                   .values(**{c: name for c in self.writes}))
        except sa.exc.DBAPIError as exc:
            raise self._failed(f"rename user {user_id} to {name!r}", exc, when, why) from None

    def names(self, when: str) -> dict[int, str | None]:
        """Every user's name as this release shows it."""
        try:
            with self.run.ws.engine.connect() as connection:
                return dict(connection.execute(sa.select(self.table.c.id, self.table.c[self.reads])).all())
        except sa.exc.DBAPIError as exc:
            raise self._failed("read the users", exc, when, "") from None


class Story:
    """The users' real names (id -> the name they chose last), and the checks against it."""

    def __init__(self, run):
        self.run = run
        self.truth: dict[int, str] = {}
        self.a = Release(run, "release A (username only)", ("username",), "username")
        self.b = Release(run, "release B (writes both, reads username)", ("username", "login"), "username")
        self.c = Release(run, "release C (login only)", ("login",), "login")

    def sign_up(self, release: Release, name: str, when: str, why: str) -> int:
        new = release.sign_up(name, when, why)
        if new is None:
            raise Fail(f"{when}, {release.label} could not sign up {name!r}, a name nobody has")
        self.truth[new] = name
        return new

    def rename(self, release: Release, user_id: int, name: str, when: str, why: str) -> None:
        release.rename(user_id, name, when, why)
        self.truth[user_id] = name

    def expect_taken(self, release: Release, name: str, holder: int, when: str) -> None:
        if release.sign_up(name, when, "") is not None:
            raise Fail(
                f"{when}, {release.label} signed up {name!r}, which user {holder} already has as login, "
                "and the database accepted it. The app learns that a name is taken only from the "
                "database: login needs a unique index from the expand step on"
            )

    def expect_names(self, release: Release, when: str, changes: dict[int, str], why: str) -> None:
        """Every user's name as `release` shows it must be the one they chose last."""
        shown = release.names(when)
        missing = sorted(set(self.truth) - set(shown))
        if missing:
            raise Fail(f"{when}, users {', '.join(map(str, missing))} are gone")
        for user_id in sorted(self.truth):
            if shown[user_id] != self.truth[user_id]:
                what = changes.get(user_id, f"their name is {self.truth[user_id]!r}")
                raise Fail(f"{when}, {release.label} shows user {user_id} as {shown[user_id]!r}, but {what}. {why}")


def expect_release_b_schema(run, when: str) -> None:
    """The schema must be what release B's model says (login unique as ix_user_login)."""
    with run.ws.engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), release_b_metadata())
    for diff in found:
        for one in diff if isinstance(diff, list) else [diff]:
            raise Fail(f"{when}, the schema is not release B's model: {describe(one, run.ws.engine)}")


def duplicate_fail(run, exc: Fail, doing: str, what: str, holder: int, taker: int, name: str, mend: str) -> Fail:
    """`exc` from a step that hit a duplicate `what`, explained; any other failure as it was."""
    said = str(exc).lower()
    if "unique" not in said and "duplicate" not in said:
        return exc
    return Fail(
        f"{doing} fails on a duplicate {what}: user {holder} still holds {name!r} as a stale {what} "
        f"while user {taker}, in an earlier batch, is given it, and a re-run stops at the same row. {mend} "
        f"(the database said: {str(exc).splitlines()[0].split('the database said: ')[-1]})"
    )


def one_pass(run, story: Story, names: list[str], tag: str) -> None:
    a, b, c = story.a, story.b, story.c
    user = run.quote("user")
    run.upgrade("0002", doing="upgrading to 0002")
    before = run.snapshot()
    run.insert("user", [{"username": n, "email": f"{n}@example.com", "password_hash": "x"} for n in names])
    with run.quiet("reading the users at 0002"):
        ids = dict(run.rows(f"SELECT username, id FROM {user}"))
    leaving = ids[names[0]]
    run.execute(f"DELETE FROM {user} WHERE id = :id", {"id": leaving})  # an account closed
    for n in names[1:]:
        story.truth[ids[n]] = n
    first, second = ids[names[1]], ids[names[2]]
    crossing = tag == "2"  # the dataset whose stale names cross a batch boundary
    if crossing:
        far = max(ids.values()) + 1000
        run.insert("user", [{"id": far, "username": f"zed{tag}", "email": f"zed{tag}@example.com",
                             "password_hash": "x"}])
        story.truth[far] = f"zed{tag}"

    # -- 0003 (expand), while A serves; then A and B together -----------------------------------
    run.upgrade("0003", doing=f"upgrading to 0003 (expand) with {len(story.truth)} users")
    at = "at 0003 (expand), with release A still serving"
    keep_username = "A reads and writes username until release B has replaced it everywhere"
    ann = story.sign_up(a, f"ann{tag}", at, keep_username)
    story.rename(a, first, f"{names[1]}-a{tag}", at, keep_username)
    at = "at 0003, with releases A and B serving together"
    ben = story.sign_up(b, f"ben{tag}", at, "B, deployed after 0003, writes username and login: 0003 adds login")
    story.rename(a, ben, f"ben{tag}-a", at, keep_username)
    renamed_by_a = {
        first: f"release A renamed them {f'{names[1]}-a{tag}'!r} at 0003",
        ben: f"release A renamed them {f'ben{tag}-a'!r} after release B had signed them up as {f'ben{tag}'!r}",
    }
    if crossing:  # A gives an older user the name ben left: free in username, still ben's stale login
        story.rename(a, second, f"ben{tag}", at, keep_username)
        renamed_by_a[second] = f"release A renamed them {f'ben{tag}'!r} at 0003"
    story.expect_names(a, at, renamed_by_a, "")

    # -- 0004 (backfill), once B serves alone ----------------------------------------------------
    doing = "upgrading to 0004 (backfill), release B serving alone"
    try:
        run.upgrade("0004", doing=doing)
    except Fail as exc:
        if not crossing:
            raise
        raise duplicate_fail(run, exc, "0004 (the backfill)", "login", ben, second, f"ben{tag}",
                             "Clear the stale logins first (login = NULL where it differs), then fill "
                             "the NULLs") from None
    at = "after upgrading to 0004 (backfill)"
    with run.quiet(f"reading user.login {at}"):
        logins = dict(run.rows(f"SELECT id, login FROM {user}"))
    for user_id in sorted(story.truth):
        if logins.get(user_id) == story.truth[user_id]:
            continue
        if logins.get(user_id) is None:
            raise Fail(f"{at}, user {user_id} ({story.truth[user_id]}) has no login: the backfill fills "
                       "every row that has none")
        if user_id in renamed_by_a:
            raise Fail(f"{at}, user {user_id}'s login is {logins[user_id]!r}, but {renamed_by_a[user_id]}: "
                       "their rename is lost. The backfill must also mend logins that differ from username")
        raise Fail(f"{at}, user {user_id}'s login is {logins[user_id]!r}, not {story.truth[user_id]!r}")

    # -- B and C together at 0004 ------------------------------------------------------------------
    at = "at 0004, with releases B and C serving together"
    nullable = "The expand step must let username be NULL: C does not write it"
    cleo = story.sign_up(c, f"cleo{tag}", at, nullable)
    story.rename(c, second, f"{names[2]}-c{tag}", at, nullable)
    story.expect_taken(b, f"cleo{tag}", cleo, at)
    story.expect_taken(c, f"cleo{tag}", cleo, at)
    story.expect_taken(c, f"{names[2]}-c{tag}", second, at)
    renamed_by_c = {second: f"release C renamed them {f'{names[2]}-c{tag}'!r} at 0004"}
    story.expect_names(c, at, renamed_by_c, "")
    expect_release_b_schema(run, "at 0004")

    # -- 0005 (contract), once C serves alone --------------------------------------------------------
    run.upgrade("0005", doing="upgrading to 0005 (contract), release C serving alone")
    at = "after upgrading to 0005 (contract)"
    if "username" in run.columns("user"):
        raise Fail(f"{at}, column user.username is still there")
    story.expect_names(c, at, renamed_by_c, "The contract must not copy username over the logins C wrote")
    run.expect_matches_models(at)
    dora = story.sign_up(c, f"dora{tag}", at, "")
    story.expect_taken(c, f"dora{tag}", dora, at)

    # -- rollback: the contract undone, C still serving; B rolled out; C gone; back to A ---------------
    run.downgrade("0004", doing="downgrading to 0004 (undoing the contract, release C still serving)")
    at = "after downgrading to 0004"
    story.expect_names(b, at, {}, "The contract's downgrade must give username back, filled from login, "
                                  "before release B can serve again")
    late = story.sign_up(c, f"late{tag}", at, nullable)
    story.rename(c, dora, f"dora{tag}-c", at, nullable)
    written_by_c = {late: f"release C signed them up after the contract was undone",
                    dora: f"release C renamed them {f'dora{tag}-c'!r} after the contract was undone"}
    if crossing:  # C gives the first user the name dora left: still dora's stale username
        story.rename(c, first, f"dora{tag}", at, nullable)
        written_by_c[first] = f"release C renamed them {f'dora{tag}'!r} after the contract was undone"
    bea = story.sign_up(b, f"bea{tag}", "at 0004, release B serving again", "")
    try:
        run.downgrade("0003", doing="downgrading to 0003 (release C gone, B serving alone)")
    except Fail as exc:
        if not crossing:
            raise
        raise duplicate_fail(run, exc, "downgrading to 0003 (0004's downgrade)", "username", dora, first,
                             f"dora{tag}", "Clear the stale usernames first (username = NULL where it "
                             "differs from login), then fill the NULLs") from None
    at = "after downgrading to 0003 (release C rolled back to B)"
    story.expect_names(b, at, written_by_c, "0004's downgrade must copy login into username wherever "
                                              "they differ: B reads username")
    story.rename(b, bea, f"bea{tag}-b", at, "")
    run.downgrade("0002", doing="downgrading to 0002 (release B rolled back to A)")
    at = "after downgrading to 0002"
    for problem in compare(before, run.snapshot(), what="downgrading to 0002"):
        raise Fail(problem)
    story.expect_names(a, at, {}, "")
    story.sign_up(a, f"abe{tag}", at, "")


def check(run):
    found = run.revisions()
    chain = {"0003": ("0002",), "0004": ("0003",), "0005": ("0004",)}
    for revision, down in chain.items():
        if found.get(revision) != down:
            raise Fail(f"revision {revision} must follow {down[0]} (the chain is 0002 -> 0003 expand -> "
                       f"0004 backfill -> 0005 contract); it follows {found.get(revision, 'nothing: it is missing')}")
    heads = run.heads()
    if heads != ["0005"]:
        raise Fail(f"the head is {', '.join(heads) or 'missing'}, not 0005 (the contract step)")
    story = Story(run)
    for number, names in enumerate(DATASETS, 1):
        one_pass(run, story, names, str(number))
    return ("username became login in three steps while two releases served at once; taken logins "
            "were refused, no rename was lost, and the rollback gave every release its names back.")
