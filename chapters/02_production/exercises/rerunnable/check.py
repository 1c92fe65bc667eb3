"""rerunnable: 0003 finishes wherever a failed run stopped, changes nothing when run again,
and lets a real error stop it."""

from course.learner.checks import Fail, compare
from course.i18n import _

# Two datasets, so that a revision that only works for ids 1..3 (or for these names) fails.
FIRST = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
    {"id": 3, "username": "carol", "password_hash": "x", "email": "carol@example.com"},
]
SECOND = [
    {"id": 7, "username": "dana", "password_hash": "x", "email": "dana@example.com"},
    {"id": 12, "username": "eve.smith", "password_hash": "x", "email": "eve@example.com"},
    {"id": 40, "username": "Frank", "password_hash": "x", "email": "frank@example.com"},
]
CHOSEN = "Alice Liddell"  # a display_name a user set after 0003 had run


def _expect_names(run, when: str, wanted: dict[str, str]) -> None:
    """Every user's display_name, compared by value."""
    found = dict(run.rows(f"SELECT username, display_name FROM {run.quote('user')}"))
    empty = sorted(name for name in wanted if found.get(name) is None)
    if empty:
        raise Fail(_('{when}, display_name is NULL for {join}: the copy must fill every row still NULL, '
                     'also when the DDL steps were already done').format(when=when, join=', '.join(empty)))
    for name, shown in wanted.items():
        if found[name] != shown:
            extra = _(" (a value set before the upgrade: copy only rows where display_name IS NULL)") if shown == CHOSEN else ""
            raise Fail(_("{when}, {name}'s display_name is {found!r}, not {shown!r}{extra}").format(
                           when=when, name=name, found=found[name], shown=shown, extra=extra))


def _at_0003(run, when: str, wanted: dict[str, str]) -> None:
    if run.current() != "0003":
        raise Fail(_('{when}, the database is at {current}, not 0003').format(when=when, current=run.current()))
    _expect_names(run, when, wanted)
    run.expect_matches_models(when)


def _fresh_0002(run, users: list[dict]) -> None:
    """Back to 0002 through the revision's own downgrade, with `users` in the table."""
    if run.current() != "0002":
        run.downgrade("0002", doing=_("downgrading 0003 to 0002"))
    run.execute(f"DELETE FROM {run.quote('user')}")
    run.insert("user", users)


def _upgrade(run, doing: str) -> None:
    """Upgrade to 0003, watching what the database said on the way: an error the revision
    caught and went on from is an error swallowed, whatever it was (its message filtered or
    not). Skipping what exists never makes the database refuse anything."""
    try:
        recorded = run.upgrade("0003", doing=doing, record=True)
    except Fail as failure:
        refused = [e for e in run.recorded if e["kind"] == "error"]
        if len(refused) > 1 and "current transaction is aborted" in str(failure):
            first = refused[0]
            raise Fail(
                _('{doing} failed: the database refused `{value}` ({first}); your except swallowed that'
                  ' first error and went on, but PostgreSQL had aborted the transaction, so it refused '
                  'every statement after it ("current transaction is aborted"). Skip what is already '
                  'there (if_not_exists=True) instead of catching errors').format(
                    doing=doing, value=first['sql'][:80], first=first['said'])
            ) from None
        raise
    refused = [e for e in recorded if e["kind"] == "error"]
    if refused:
        first = refused[0]
        raise Fail(
            _('{doing} reported success, but on the way the database refused `{value}` ({first}) '
              'and your except swallowed that error: skip what is already there '
              '(if_not_exists=True; on SQLite, ask the inspector first) instead of catching errors,'
              ' which also hides the ones that must stop the migration').format(
                doing=doing, value=first['sql'][:80], first=first['said'])
        )


def _inject_ddl_error(run) -> tuple[str, str]:
    """Make one DDL step of 0003 fail for a reason other than 'it is already there'.
    Returns what was done, and the words the database's error must contain."""
    user = run.quote("user")
    if run.ws.engine_name == "sqlite":
        # SQLite's index names share one namespace with tables.
        run.execute(f"ALTER TABLE {user} ADD COLUMN display_name VARCHAR(100)")
        run.execute("CREATE TABLE ix_user_display_name (id INTEGER)")
        return _("a table named ix_user_display_name blocks the index"), "already a table named"
    if run.ws.engine_name == "mariadb":
        # MariaDB refuses to ALTER a system-versioned table unless told to (error 4119).
        run.execute(f"ALTER TABLE {user} ADD SYSTEM VERSIONING")
        return _("user is system-versioned, so MariaDB refuses to add the column"), "(4119)"
    # PostgreSQL: a child table whose display_name has another type blocks ADD COLUMN on its parent.
    run.execute(f"CREATE TABLE user_archive (display_name INTEGER) INHERITS ({user})")
    return _("a child table with an INTEGER display_name blocks adding the column"), "different type"


def check(run):
    user = run.quote("user")
    first = {u["username"]: u["username"] for u in FIRST}
    second = {u["username"]: u["username"] for u in SECOND}

    # 1. A clean database.
    clean = _("after upgrading a clean database to 0003")
    run.upgrade("0002")
    before = run.snapshot()
    run.insert("user", FIRST)
    _upgrade(run, _('upgrading a clean database with 3 users to 0003'))
    _at_0003(run, clean, first)
    run.downgrade("0002", doing=_("downgrading to 0002"))
    for problem in compare(before, run.snapshot(), what=_("downgrading to 0002")):
        raise Fail(problem)

    # 2. A failed run stopped after its first step: the column is there, no index, nothing copied.
    _fresh_0002(run, SECOND)
    run.execute(f"ALTER TABLE {user} ADD COLUMN display_name VARCHAR(100)")
    half = _("on a database where 0003 stopped after adding the column (no index, nothing copied)")
    _upgrade(run, _('upgrading to 0003 {half}').format(half=half))
    _at_0003(run, _('after upgrading to 0003 {half}').format(half=half), second)

    # 3. A batched copy stopped between two batches (one UPDATE is all or nothing): column and
    #    index there, 2 of the 3 users copied.
    _fresh_0002(run, FIRST)
    run.execute(f"ALTER TABLE {user} ADD COLUMN display_name VARCHAR(100)")
    run.execute(f"CREATE INDEX ix_user_display_name ON {user} (display_name)")
    run.execute(f"UPDATE {user} SET display_name = username WHERE id IN (1, 2)")
    half = _("on a database where 0003 stopped between two batches of its copy (column and index there, 2 of the 3 users copied)")
    _upgrade(run, _('upgrading to 0003 {half}').format(half=half))
    _at_0003(run, _('after upgrading to 0003 {half}').format(half=half), first)

    # 4. Run again where it had already run completely, after a user chose a display_name:
    #    nothing may change.
    run.execute(f"UPDATE {user} SET display_name = :chosen WHERE id = 1", {"chosen": CHOSEN})
    run.stamp("0002", doing=_("stamping 0002"))
    again = _('on a database where 0003 had already run and alice had set her display_name to '
              '{chosen!r}').format(chosen=CHOSEN)
    _upgrade(run, _('upgrading to 0003 again {again}').format(again=again))
    _at_0003(run, _('after upgrading to 0003 again {again}').format(again=again), {**first, "alice": CHOSEN})

    # 5. An error that is not "already there" must stop the migration, with the database's words.
    _fresh_0002(run, SECOND)
    injected, words = _inject_ddl_error(run)
    doing = _('upgrading to 0003 while {injected}').format(injected=injected)
    try:
        run.upgrade("0003", doing=doing)
    except Fail as failure:
        if words not in str(failure):
            raise Fail(_("{doing} failed with {strip!r}, not with the database's own error for that step "
                         '({words!r}): catching the error hid the real cause').format(
                           doing=doing, strip=str(failure).split(' failed', 1)[-1].strip(' :;'), words=words)) from None
    else:
        raise Fail(_('{doing} did not fail (the database is at {current}): a step that fails for any other'
                     " reason than 'already there' must stop the migration, and an except clause that "
                     'carries on hides it').format(doing=doing, current=run.current()))
    if run.current() != "0002":
        raise Fail(_('after the failed upgrade (while {injected}), the database is at {current}, not 0002').format(injected=injected, current=run.current()))
    return (_("0003 finishes wherever a failed run stopped, changes nothing when run again, "
            "and stops on a real error."))
