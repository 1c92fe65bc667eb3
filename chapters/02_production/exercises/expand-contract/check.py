"""expand-contract: username becomes login in three revisions while releases A, B and C serve.

The check plays the app's three releases against the learner's revisions, with models of its
own (never the learner's code): A reads and writes username; B writes both and reads username;
C reads and writes login only. It follows a real rollout, two releases serving at once in each
window, then a rollback, and compares every user's name as each release reads it. It runs the
whole road twice, with different users and ids; the second time with an import of thousands
of users with gaps in their ids, and a backfill made to fail half-way once (what it committed
must stay, a re-run must finish). What the end state cannot show it reads from the statements:
whether 0003 builds its index without blocking writes, from the SQL 0003 renders for each
server; whether every UPDATE of the backfill and of the downgrades ran in batches, each
committed on its own, and whether 0005's and 0003's downgrades build and drop online on the
server the check runs on, from what those steps sent the database (record=True).
"""

from __future__ import annotations

import os
import re

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from course.runtime import errors, warm_python
from course.learner.checks import Fail, compare, describe
from course.i18n import _

# Two datasets: the second arrives after the first went forward and back, so its ids are
# others, and one of its users leaves before the expand step (a gap in the ids). The second
# also has an imported user with an id 1,000 past the others, so the users signed up after
# it fall in a later batch of the backfill than the older ones (whatever the batch size up
# to 1,000): there, a stale name held by a later row meets an earlier row that wants it.
DATASETS = [
    ["alice", "bob", "carol"],
    ["dmitri", "erin", "farid", "gwen", "hugo"],
]

# The second dataset also carries an import of BULK users whose ids leave gaps of BULK_STEP:
# more rows than a few batches (of up to 1,000), and ids far beyond the number of rows, so a
# loop bounded by the row count, or OFFSET paging over rows the backfill itself changes,
# leaves users without a login. Every one of their names is compared, not counted.
BULK, BULK_STEP = 4000, 3

# What the injected failure says, so the check tells it from any other error.
INJECTED = "update refused by the check on purpose"


def injected_failure(run, marker: str) -> tuple[list[str], list[str]]:
    """(create, drop): a trigger that makes any UPDATE setting login to `marker` fail.

    It stands for what stops a real backfill half-way (a lock wait timing out, a killed
    connection): what the backfill had committed before must stay, and a re-run must finish.
    """
    user = run.quote("user")
    if run.ws.engine_name == "postgresql":
        return ([
            "CREATE FUNCTION mip_refuse_update() RETURNS trigger LANGUAGE plpgsql AS "
            f"$$ BEGIN RAISE EXCEPTION '{INJECTED}'; END $$",
            f"CREATE TRIGGER mip_refuse_update BEFORE UPDATE ON {user} FOR EACH ROW "
            f"WHEN (NEW.login = '{marker}') EXECUTE FUNCTION mip_refuse_update()",
        ], [f"DROP TRIGGER IF EXISTS mip_refuse_update ON {user}", "DROP FUNCTION IF EXISTS mip_refuse_update()"])
    if run.ws.engine_name == "mariadb":
        return ([
            f"CREATE TRIGGER mip_refuse_update BEFORE UPDATE ON {user} FOR EACH ROW "
            f"BEGIN IF NEW.login = '{marker}' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = '{INJECTED}'; "
            "END IF; END",
        ], ["DROP TRIGGER IF EXISTS mip_refuse_update"])
    return ([
        f"CREATE TRIGGER mip_refuse_update BEFORE UPDATE OF login ON {user} "
        f"WHEN NEW.login = '{marker}' BEGIN SELECT RAISE(ABORT, '{INJECTED}'); END",
    ], ["DROP TRIGGER IF EXISTS mip_refuse_update"])

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
        said = errors.said(exc).rstrip(".")
        return Fail(_('{when}, {label} cannot {doing}; the database said: {said}. {why}').format(
                        when=when, label=self.label, doing=doing, said=said, why=why).rstrip(". "))

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
                raise Fail(_('{when}, {label} cannot sign {name!r} up: a column it never writes is NOT NULL (the '
                             'database said: {rstrip}). {why}').format(
                               when=when, label=self.label, name=name, rstrip=errors.said(exc).rstrip('.'), why=why)) from None
            raise self._failed(_('sign {name!r} up').format(name=name), exc, when, why) from None

    def rename(self, user_id: int, name: str, when: str, why: str) -> None:
        try:
            with self.run.ws.engine.begin() as connection:
                connection.execute(self.table.update().where(self.table.c.id == user_id)
                                   .values(**{c: name for c in self.writes}))
        except sa.exc.DBAPIError as exc:
            raise self._failed(_('rename user {user_id} to {name!r}').format(user_id=user_id, name=name), exc, when, why) from None

    def names(self, when: str) -> dict[int, str | None]:
        """Every user's name as this release shows it."""
        try:
            with self.run.ws.engine.connect() as connection:
                return dict(connection.execute(sa.select(self.table.c.id, self.table.c[self.reads])).all())
        except sa.exc.DBAPIError as exc:
            raise self._failed(_('read the users'), exc, when, "") from None


class Story:
    """The users' real names (id -> the name they chose last), and the checks against it."""

    def __init__(self, run):
        self.run = run
        self.truth: dict[int, str] = {}
        self.a = Release(run, _('release A (username only)'), ("username",), "username")
        self.b = Release(run, _('release B (writes both, reads username)'), ("username", "login"), "username")
        self.c = Release(run, _('release C (login only)'), ("login",), "login")

    def sign_up(self, release: Release, name: str, when: str, why: str) -> int:
        new = release.sign_up(name, when, why)
        if new is None:
            raise Fail(_('{when}, {label} could not sign up {name!r}, a name nobody has').format(when=when, label=release.label, name=name))
        self.truth[new] = name
        return new

    def rename(self, release: Release, user_id: int, name: str, when: str, why: str) -> None:
        release.rename(user_id, name, when, why)
        self.truth[user_id] = name

    def expect_taken(self, release: Release, name: str, holder: int, when: str) -> None:
        if release.sign_up(name, when, "") is not None:
            raise Fail(
                _('{when}, {label} signed up {name!r}, which user {holder} already has as login, and '
                  'the database accepted it. The app learns that a name is taken only from the '
                  'database: login needs a unique index from the expand step on').format(
                    when=when, label=release.label, name=name, holder=holder)
            )

    def expect_names(self, release: Release, when: str, changes: dict[int, str], why: str) -> None:
        """Every user's name as `release` shows it must be the one they chose last."""
        shown = release.names(when)
        missing = sorted(set(self.truth) - set(shown))
        if missing:
            raise Fail(_('{when}, users {join} are gone').format(when=when, join=', '.join(map(str, missing))))
        for user_id in sorted(self.truth):
            if shown[user_id] != self.truth[user_id]:
                what = changes.get(user_id, _('their name is {value!r}').format(value=self.truth[user_id]))
                raise Fail(_('{when}, {label} shows user {user_id} as {shown!r}, but {what}. {why}').format(
                               when=when, label=release.label, user_id=user_id, shown=shown[user_id], what=what, why=why))


def expect_release_b_schema(run, when: str) -> None:
    """The schema must be what release B's model says (login unique as ix_user_login)."""
    with run.ws.engine.connect() as connection:
        found = compare_metadata(MigrationContext.configure(connection), release_b_metadata())
    for diff in found:
        for one in diff if isinstance(diff, list) else [diff]:
            raise Fail(_("{when}, the schema is not release B's model: {describe}").format(when=when, describe=describe(one, run.ws.engine)))


def duplicate_fail(run, exc: Fail, doing: str, what: str, holder: int, taker: int, name: str, mend: str) -> Fail:
    """`exc` from a step that hit a duplicate `what`, explained; any other failure as it was."""
    said = str(exc).lower()
    if "unique" not in said and "duplicate" not in said:
        return exc
    return Fail(
        _('{doing} fails on a duplicate {what}: user {taker} is given {name!r} while user '
          '{holder} still holds it as a stale {what} (copying before every stale {what} is '
          'cleared, in one UPDATE or in batches), and a re-run stops at the same row. {mend} '
          '(the database said: {value})').format(
            doing=doing, what=what, taker=taker, name=name, holder=holder, mend=mend, value=str(exc).splitlines()[0].split('the database said: ')[-1])
    )


# -- what the steps sent the database (Run.upgrade/downgrade with record=True) -------------------

BATCH = 1000  # the task's largest batch, in ids
UPDATE_USER = re.compile(r"""^UPDATE\s+[`"]?user[`"]?\s""", re.I)


def id_range(run) -> tuple[int, int]:
    with run.quiet(_('reading the lowest and highest user id')):
        low, high = run.rows(f"SELECT min(id), max(id) FROM {run.quote('user')}")[0]
    return int(low or 0), int(high or 0)


def expect_batched(recorded: list[dict], step: str, what: str, ids: tuple[int, int]) -> None:
    """Every UPDATE of user that `step` sent must have run once per range of at most BATCH ids
    (so at least ceil(span / BATCH) times), each run committed on its own.

    Statements are told apart by their text with numbers left out: a batched UPDATE runs
    the same text with other bounds. Row counts cannot tell: an UPDATE that clears the
    few stale names changes few rows, yet scans and locks across the whole table at once."""
    low, high = ids
    needed = -(-(high - low + 1) // BATCH)
    groups: dict[str, list[dict]] = {}
    for event in recorded:
        if event["kind"] == "execute" and UPDATE_USER.match(event["sql"]):
            groups.setdefault(re.sub(r"\b\d+\b", "?", event["sql"]), []).append(event)
    for text, runs in groups.items():
        shown = text if len(text) <= 90 else text[:87] + "..."
        if len(runs) < needed:
            raise Fail(
                _('{step} runs `{shown}` {value} over ids {low} to {high}: {what} must go in batches of'
                  ' at most 1,000 ids ({needed} UPDATEs or more here), each committed on its own; one '
                  'UPDATE over the whole table holds its row locks until it ends').format(
                    step=step, shown=shown, value='once' if len(runs) == 1 else f'{len(runs)} times', low=low, high=high, what=what, needed=needed)
            )
        if not all(e["autocommit"] for e in runs) and len({e["tx"] for e in runs}) < len(runs):
            raise Fail(
                _('{step} runs its {count_runs} batches of `{shown}` in one transaction, which holds '
                  'every row it updated until the end and keeps nothing if it fails: commit each batch '
                  'on its own (op.get_context().autocommit_block())').format(step=step, count_runs=len(runs), shown=shown)
            )


def expect_online(run, recorded: list[dict], step: str, name: str, doing: str) -> None:
    """On the servers, the statements of `step` that build or drop `name` must do it online:
    PostgreSQL CONCURRENTLY (or ADD CONSTRAINT ... USING INDEX, which reuses a built index),
    MariaDB LOCK=NONE. SQLite copies the table whatever is written: nothing to tell."""
    engine = run.ws.engine_name
    for event in recorded:
        if event["kind"] != "execute" or not re.search(rf"\b{name}\b", event["sql"]):
            continue
        sql = event["sql"]
        if engine == "postgresql" and re.match(r"(CREATE|DROP)\b.*\bINDEX\b|ALTER TABLE\b.*\bADD CONSTRAINT\b", sql, re.I):
            if not re.search(r"\bCONCURRENTLY\b|\bUSING INDEX\b", sql, re.I):
                cost = (_("takes an ACCESS EXCLUSIVE lock on user: it waits behind every open transaction and "
                        "blocks every query meanwhile") if sql.upper().startswith("DROP")
                        else _("blocks every write to user until it ends"))
                raise Fail(_('on PostgreSQL, {step} {doing} with `{sql}`, which {cost}: do it CONCURRENTLY, inside'
                             ' op.get_context().autocommit_block()').format(step=step, doing=doing, sql=sql[:90], cost=cost))
        if engine == "mariadb" and re.search(r"\bADD\b.*\bUNIQUE\b|\bCREATE UNIQUE INDEX\b", sql, re.I):
            if not re.search(r"\bLOCK\s*=\s*NONE\b", sql, re.I):
                raise Fail(_('on MariaDB, {step} {doing} with `{sql}`, without LOCK=NONE: where MariaDB cannot '
                             'build it online it blocks writes to user instead of refusing; add ALGORITHM=INPLACE,'
                             ' LOCK=NONE').format(step=step, doing=doing, sql=sql[:90]))


def one_pass(run, story: Story, names: list[str], tag: str) -> None:
    a, b, c = story.a, story.b, story.c
    user = run.quote("user")
    run.upgrade("0002", doing=_("upgrading to 0002"))
    before = run.snapshot()
    run.insert("user", [{"username": n, "email": f"{n}@example.com", "password_hash": "x"} for n in names])
    with run.quiet(_('reading the users at 0002')):
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
    run.upgrade("0003", doing=_('upgrading to 0003 (expand) with {count_items} users').format(count_items=len(story.truth)))
    at = _("at 0003 (expand), with release A still serving")
    keep_username = _("A reads and writes username until release B has replaced it everywhere")
    ann = story.sign_up(a, f"ann{tag}", at, keep_username)
    story.rename(a, first, f"{names[1]}-a{tag}", at, keep_username)
    at = _("at 0003, with releases A and B serving together")
    ben = story.sign_up(b, f"ben{tag}", at, _('B, deployed after 0003, writes username and login: 0003 adds login'))
    story.rename(a, ben, f"ben{tag}-a", at, keep_username)
    renamed_by_a = {
        first: _('release A renamed them {value!r} at 0003').format(value=f'{names[1]}-a{tag}'),
        ben: _('release A renamed them {value!r} after release B had signed them up as {value2!r}').format(value=f'ben{tag}-a', value2=f'ben{tag}'),
    }
    if crossing:  # A gives an older user the name ben left: free in username, still ben's stale login
        story.rename(a, second, f"ben{tag}", at, keep_username)
        renamed_by_a[second] = _('release A renamed them {value!r} at 0003').format(value=f'ben{tag}')
        # An import, written as release A writes (no login), after everyone above.
        bulk = {ben + 1000 + BULK_STEP * k: f"u{tag}-{k:05d}" for k in range(BULK)}
        with run.quiet(_('importing {bulk} users at 0003').format(bulk=BULK)):
            run.insert("user", [{"id": i, "username": n, "email": f"{n}@example.com", "password_hash": "x"}
                                for i, n in bulk.items()])
        story.truth.update(bulk)
        # The user whose login the injected failure refuses: in the middle, so a backfill
        # that walks the ids either way has batches behind it when it fails.
        marked = sorted(bulk)[BULK // 2]
    story.expect_names(a, at, renamed_by_a, "")

    # -- 0004 (backfill), once B serves alone ----------------------------------------------------
    doing = _("upgrading to 0004 (backfill), release B serving alone")

    def backfill(doing: str) -> None:
        try:
            run.upgrade("0004", doing=doing, record=crossing)
        except Fail as exc:
            if not crossing or INJECTED in str(exc):
                raise
            raise duplicate_fail(run, exc, _('0004 (the backfill)'), "login", ben, second, f"ben{tag}",
                                 _('Clear the stale logins first (login = NULL where it differs), then fill the NULLs')) from None

    at = _("after upgrading to 0004 (backfill)")
    if crossing:
        # The backfill fails half-way: filling user `marked` is refused. A batched backfill
        # that commits each batch keeps the batches before it; one UPDATE, or batches in one
        # transaction, keep none (and held every row they had updated until then).
        create, drop = injected_failure(run, bulk[marked])
        with run.quiet(_("adding the check's trigger that makes one update fail")):
            for statement in create:
                run.execute(statement)
        try:
            backfill(_('{doing}, with the update of user {marked} made to fail').format(doing=doing, marked=marked))
            failed = False
        except Fail as exc:
            if INJECTED not in str(exc):
                raise
            failed = True
        finally:
            with run.quiet(_("dropping the check's trigger")):
                for statement in drop:
                    run.execute(statement)
        if failed:
            with run.quiet(_('reading user.login after the failed backfill')):
                kept = run.rows(f"SELECT count(*) FROM {user} WHERE id >= :low AND login = username",
                                low=min(bulk))[0][0]
            if not kept:
                raise Fail(
                    _('when the backfill failed at user {marked} (the check made that update fail), not one'
                      ' login it had filled before was kept: it runs as one statement or one transaction, '
                      'which holds every row it updated until the end; commit each batch on its own '
                      '(op.get_context().autocommit_block())').format(marked=marked)
                )
            backfill(_('upgrading to 0004 again, after the backfill failed at user {marked} and was fixed').format(marked=marked))
    else:
        backfill(doing)
    backfilled = run.recorded  # the run that finished (after the failed one, if any)
    with run.quiet(_('reading user.login {at}').format(at=at)):
        logins = dict(run.rows(f"SELECT id, login FROM {user}"))
    empty = [i for i in sorted(story.truth) if logins.get(i) is None]
    if empty:
        first_empty = empty[0]
        filled_after = [i for i in story.truth if i > first_empty and logins.get(i) is not None]
        filled_before = [i for i in story.truth if i < first_empty and logins.get(i) is not None]
        who = _("user {id} ({name})").format(id=first_empty, name=story.truth[first_empty])
        if crossing and not failed and logins.get(marked) is None and any(i > marked for i in filled_after):
            raise Fail(_('{at}, user {marked} ({value}) has no login: updating it failed (the check made it '
                         'fail) and the backfill went on as if it had not; let the error stop the migration, '
                         'so that a re-run finishes it').format(at=at, marked=marked, value=story.truth[marked]))
        if filled_before and not filled_after:
            raise Fail(_('{at}, the users from {first_empty} up to the highest id, {max}, have no login, while'
                         ' the table has {count_logins} rows: ids have gaps, so the backfill must run its '
                         'batches up to the highest id, not up to the number of rows').format(
                           at=at, first_empty=first_empty, max=max(story.truth), count_logins=len(logins)))
        if not any(e["kind"] == "execute" and re.match(r"\s*UPDATE\b", e["sql"], re.I) for e in backfilled):
            # only the users release B signed up have a login: 0004 updated nothing (still the starter's pass?)
            raise Fail(_("{at}, {who} has no login, and 0004 updated no row: its upgrade() must fill login from "
                         "username for every user that has none (release B wrote login only for the users it "
                         "signed up)").format(at=at, who=who))
        if filled_after:
            raise Fail(_('{at}, {who} has no login while users after it have one: the batches skipped it '
                         '(paging with OFFSET over the rows still to do skips rows as that set shrinks); walk '
                         'the ids in ranges').format(at=at, who=who))
        raise Fail(_('{at}, {who} has no login: the backfill fills every row that has none').format(at=at, who=who))
    for user_id in sorted(story.truth):
        if logins.get(user_id) == story.truth[user_id]:
            continue
        if user_id in renamed_by_a:
            raise Fail(_("{at}, user {user_id}'s login is {logins!r}, but {renamed_by_a}: their rename is "
                         'lost. The backfill must also mend logins that differ from username').format(
                           at=at, user_id=user_id, logins=logins[user_id], renamed_by_a=renamed_by_a[user_id]))
        raise Fail(_("{at}, user {user_id}'s login is {logins!r}, not {value!r}").format(
                       at=at, user_id=user_id, logins=logins[user_id], value=story.truth[user_id]))
    if crossing:
        expect_batched(backfilled, _('0004 (the backfill)'), _('clearing the stale logins and filling the empty ones'),
                       id_range(run))

    # -- B and C together at 0004 ------------------------------------------------------------------
    at = _("at 0004, with releases B and C serving together")
    nullable = _("The expand step must let username be NULL: C does not write it")
    cleo = story.sign_up(c, f"cleo{tag}", at, nullable)
    story.rename(c, second, f"{names[2]}-c{tag}", at, nullable)
    story.expect_taken(b, f"cleo{tag}", cleo, at)
    story.expect_taken(c, f"cleo{tag}", cleo, at)
    story.expect_taken(c, f"{names[2]}-c{tag}", second, at)
    renamed_by_c = {second: _('release C renamed them {value!r} at 0004').format(value=f'{names[2]}-c{tag}')}
    story.expect_names(c, at, renamed_by_c, "")
    expect_release_b_schema(run, "at 0004")

    # -- 0005 (contract), once C serves alone --------------------------------------------------------
    run.upgrade("0005", doing=_('upgrading to 0005 (contract), release C serving alone'))
    at = _("after upgrading to 0005 (contract)")
    if "username" in run.columns("user"):
        raise Fail(_('{at}, column user.username is still there').format(at=at))
    story.expect_names(c, at, renamed_by_c, _('The contract must not copy username over the logins C wrote'))
    run.expect_matches_models(at)
    dora = story.sign_up(c, f"dora{tag}", at, "")
    story.expect_taken(c, f"dora{tag}", dora, at)

    # -- rollback: the contract undone, C still serving; B rolled out; C gone; back to A ---------------
    ids = id_range(run)
    undone = run.downgrade("0004", doing=_('downgrading to 0004 (undoing the contract, release C still serving)'),
                           record=crossing)
    at = _("after downgrading to 0004")
    story.expect_names(b, at, {}, _("The contract's downgrade must give username back, filled from login, before release "
                                    'B can serve again'))
    if crossing:
        expect_batched(undone, "0005's downgrade", _('filling username from login'), ids)
        expect_online(run, undone, "0005's downgrade", "uq_user_username", _('makes username unique again'))
    late = story.sign_up(c, f"late{tag}", at, nullable)
    story.rename(c, dora, f"dora{tag}-c", at, nullable)
    written_by_c = {late: _('release C signed them up after the contract was undone'),
                    dora: _('release C renamed them {value!r} after the contract was undone').format(value=f'dora{tag}-c')}
    if crossing:  # C gives the first user the name dora left: still dora's stale username
        story.rename(c, first, f"dora{tag}", at, nullable)
        written_by_c[first] = _('release C renamed them {value!r} after the contract was undone').format(value=f'dora{tag}')
    bea = story.sign_up(b, f"bea{tag}", _('at 0004, release B serving again'), "")
    ids = id_range(run)
    try:
        undone = run.downgrade("0003", doing=_('downgrading to 0003 (release C gone, B serving alone)'), record=crossing)
    except Fail as exc:
        if not crossing:
            raise
        raise duplicate_fail(run, exc, _("downgrading to 0003 (0004's downgrade)"), "username", dora, first,
                             f"dora{tag}", _('Clear the stale usernames first (username = NULL where it differs from login), then '
                                             'fill the NULLs')) from None
    at = _("after downgrading to 0003 (release C rolled back to B)")
    story.expect_names(b, at, written_by_c, _("0004's downgrade must copy login into username wherever they differ: B reads "
                                              'username'))
    if crossing:
        expect_batched(undone, "0004's downgrade", _('clearing the stale usernames and filling the empty ones'), ids)
    story.rename(b, bea, f"bea{tag}-b", at, "")
    at = _("after downgrading to 0003, with releases B and A serving together (B rolled back to A)")
    story.sign_up(b, f"bo{tag}", at, "")
    story.sign_up(a, f"amy{tag}", at, _('A never writes login: undone to 0003, login must allow NULL again'))
    expect_release_b_schema(run, _('after downgrading to 0003'))
    undone = run.downgrade("0002", doing=_('downgrading to 0002 (release B rolled back to A)'), record=crossing)
    at = _("after downgrading to 0002")
    for problem in compare(before, run.snapshot(), what=_("downgrading to 0002")):
        raise Fail(problem)
    if crossing:
        expect_online(run, undone, "0003's downgrade", "ix_user_login", _('drops ix_user_login'))
    story.expect_names(a, at, {}, "")
    story.sign_up(a, f"abe{tag}", at, "")


# A database URL of each server's dialect, for rendering SQL only: nothing connects to it.
OFFLINE = {"PostgreSQL": "postgresql+psycopg://check@db.invalid/app",
           "MariaDB": "mysql+pymysql://check@db.invalid/app"}


def rendered_0003(run, server: str) -> list[str]:
    """The statements 0003 sends to `server`, as `alembic upgrade 0002:0003 --sql` prints them.

    Run as a command of its own in a child process (the learner's code never runs here).
    """
    env = {**os.environ, "DATABASE_URL": OFFLINE[server], "PYTHONDONTWRITEBYTECODE": "1"}
    status, output = warm_python.run(["-m", "alembic", "upgrade", "0002:0003", "--sql"], run.ws.path, env)
    if status != 0:
        said = [line for line in output.strip().splitlines() if line.strip()]
        raise Fail(_('rendering 0003 as SQL for {server} (alembic upgrade 0002:0003 --sql) failed: {value}').format(
                       server=server, value=said[-1].strip() if said else _('exit status {status}').format(status=status)))
    # Alembic's log lines are mixed in; statements end with ';' at the end of a line.
    text = "\n".join(line for line in output.splitlines() if not line.startswith(("INFO ", "WARNI", "--")))
    return [" ".join(part.split()) for part in re.split(r";\s*(?:\n|$)", text) if part.strip()]


def expect_online_index(run) -> None:
    """0003 must build ix_user_login without blocking writes, on each server.

    Once built, a blocking index and an online one leave the same schema, and on a small
    table both finish before anything could notice: only the statement 0003 sends tells
    them apart. So the check reads the SQL that 0003 renders for each server's dialect,
    whichever engine it runs on.
    """
    statements = rendered_0003(run, "PostgreSQL")
    index = [i for i, s in enumerate(statements) if re.search(r"\bCREATE UNIQUE INDEX\b.*\bix_user_login\b", s, re.I)]
    if not index or not re.search(r"\bCONCURRENTLY\b", statements[index[0]], re.I):
        raise Fail(_('on PostgreSQL, 0003 builds ix_user_login with a plain CREATE UNIQUE INDEX, which '
                     'blocks every write to user until it ends: build it CONCURRENTLY, inside '
                     'op.get_context().autocommit_block()'))
    before = [s.upper() for s in statements[:index[0]] if s.upper() in ("BEGIN", "COMMIT")]
    if before and before[-1] == "BEGIN":
        raise Fail(_('on PostgreSQL, 0003 sends CREATE UNIQUE INDEX CONCURRENTLY inside a transaction, '
                     'which PostgreSQL refuses: run it inside op.get_context().autocommit_block()'))
    statements = rendered_0003(run, "MariaDB")
    if not any(re.search(r"\bix_user_login\b", s) and re.search(r"\bLOCK\s*=\s*NONE\b", s, re.I)
               for s in statements):
        raise Fail(_('on MariaDB, 0003 adds ix_user_login without LOCK=NONE, so wherever MariaDB cannot '
                     'build it online it silently blocks writes to user instead of refusing: add it with '
                     'ALGORITHM=INPLACE, LOCK=NONE'))


def check(run):
    found = run.revisions()
    chain = {"0003": ("0002",), "0004": ("0003",), "0005": ("0004",)}
    for revision, down in chain.items():
        if found.get(revision) != down:
            raise Fail(_('revision {revision} must follow {down} (the chain is 0002 -> 0003 expand -> 0004 '
                         'backfill -> 0005 contract); it follows {get}').format(
                           revision=revision, down=down[0], get=found.get(revision, _('nothing: it is missing'))))
    heads = run.heads()
    if heads != ["0005"]:
        raise Fail(_('the head is {value}, not 0005 (the contract step)').format(value=', '.join(heads) or 'missing'))
    story = Story(run)
    for number, names in enumerate(DATASETS, 1):
        one_pass(run, story, names, str(number))
    expect_online_index(run)
    return (_("username became login in three steps while two releases served at once; taken logins "
            "were refused, no rename was lost, and the rollback gave every release its names back."))
