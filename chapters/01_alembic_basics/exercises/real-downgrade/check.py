"""real-downgrade: downgrade() of 0003 restores the schema of 0002 exactly, and never cuts a name."""

import re

from course.learner.checks import Fail, compare
from course.i18n import _

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
    {"id": 3, "username": "carol", "password_hash": "x", "email": "carol@example.com"},
]
# Written by the 0003 release, whose usernames may be 80 characters long. These two still fit
# 0002's 50: exactly 50 characters, and 45 characters that take 57 bytes in UTF-8 (MariaDB's
# LENGTH() counts bytes, CHAR_LENGTH() characters).
FITS = [
    {"username": "d" * 50, "password_hash": "x", "email": "fifty@example.com"},
    {"username": "Éloïse Hélène Bézier-Dérôme Éloïse Hélène Béz", "password_hash": "x", "email": "eloise@example.com"},
]
# This one does not: a downgrade must refuse rather than cut it.
LONG = {"username": "Maximilian Alexander Konstantin von Hohenzollern-Sigmaringen der Dritte",
        "password_hash": "x", "email": "max@example.com"}


DDL = ("ALTER ", "DROP ", "CREATE ", "RENAME ")


def _inject_ddl_error(run) -> tuple[str, str]:
    """Make one DDL step of the downgrade fail for a reason of the database's own. Returns
    what was done, and words the database's error contains."""
    user = run.quote("user")
    if run.ws.engine_name == "sqlite":
        # Batch mode's copy of the table is renamed to user at the end: SQLite then checks the
        # views, and one that reads user.display_name no longer finds it.
        run.execute(f"CREATE VIEW user_names AS SELECT display_name FROM {user}")
        return _("a view reads user.display_name"), "error in view user_names"
    if run.ws.engine_name == "mariadb":
        # MariaDB refuses to ALTER a system-versioned table unless told to (error 4119).
        run.execute(f"ALTER TABLE {user} ADD SYSTEM VERSIONING")
        return _("user is system-versioned, so MariaDB refuses to alter it"), "(4119)"
    # PostgreSQL: a view that reads display_name blocks dropping the column.
    run.execute(f"CREATE VIEW user_names AS SELECT display_name FROM {user}")
    return _("a view reads user.display_name, so PostgreSQL refuses to drop it"), "other objects depend on it"


def _expect_error_surfaces(run) -> None:
    """At 0003 with every name fitting, one DDL step of the downgrade fails: the downgrade must
    fail with the database's own error, not report success with the schema half changed."""
    injected, words = _inject_ddl_error(run)
    doing = _('downgrading to 0002 while {injected}').format(injected=injected)
    try:
        run.downgrade("0002", doing=doing, record=True)
    except Fail as failure:
        said = str(failure)
    else:
        said = None
    refused = [e for e in run.recorded if e["kind"] == "error"]
    first = refused[0] if refused else None
    if said is None:
        what = _('the database refused `{value}` ({first})').format(value=first['sql'][:80], first=first['said']) if first else _("a step failed")
        raise Fail(_('{doing} reported success (the database is at {current}) although {what}: an except '
                     "swallowed the error, and the schema is left half changed; let the database's errors "
                     'stop the downgrade').format(doing=doing, current=run.current(), what=what))
    if words not in said:
        what = _(': the database first refused `{value}` ({first})').format(value=first['sql'][:80], first=first['said']) if first else ""
        raise Fail(_("{doing} failed with {strip!r}, not with the database's own error for that "
                     'step{what}, and an except swallowed it').format(
                       doing=doing, strip=said.split(' failed', 1)[-1].strip(' :;'), what=what))
    if run.current() != "0003":
        raise Fail(_('after the failed downgrade (while {injected}), the database is at {current}, not '
                     '0003').format(injected=injected, current=run.current()))


def _users(run) -> set[tuple]:
    return set(run.rows(f"SELECT username, password_hash, email FROM {run.quote('user')}"))


def _expect_refused(run, at_0002: dict, at_0003: dict, users: set[tuple]) -> None:
    """With a username longer than 50 characters, the downgrade must fail and change nothing."""
    name, size = LONG["username"], len(LONG["username"])
    [user_id] = [r[0] for r in run.rows(f"SELECT id FROM {run.quote('user')} WHERE username = :name", name=name)]
    try:
        run.downgrade("0002", doing=_('downgrading to 0002 with a username of {size} characters').format(size=size), record=True)
    except Fail as failure:
        refused, said = True, str(failure)
    else:
        refused, said = False, ""
    kept = {u[0] for u in _users(run)}
    if name not in kept:
        cut = next((k for k in kept if name.startswith(k) and k != name), None)
        raise Fail(
            _('downgrading to 0002 cut the username {name!r} ({size} characters) to {cut!r}: a '
              'downgrade must refuse while a value does not fit the older column, never shorten it').format(name=name, size=size, cut=cut)
            if cut else _('downgrading to 0002 lost the user {name!r}').format(name=name)
        )
    if not refused:
        for problem in compare(at_0002, run.snapshot(), what=_("downgrading to 0002")):
            raise Fail(_("{problem}, yet the downgrade reported success: do not catch the database's errors, "
                         'check the lengths first and refuse').format(problem=problem))
        raise Fail(
            _('downgrading to 0002 went through with the username {name!r} ({size} characters) in a'
              ' column that 0002 says holds 50: check the lengths first and refuse the downgrade '
              '(raise an error that names the users) before changing anything').format(name=name, size=size)
        )
    if run.current() != "0003":
        raise Fail(_('after the refused downgrade, the database is at {current}, not 0003').format(current=run.current()))
    before = [e["sql"] for e in run.recorded if e["kind"] == "execute" and e["sql"].upper().startswith(DDL)]
    if before:
        raise Fail(_('the downgrade refused only after it had run `{value}`: the guard must run before the'
                     ' first DDL statement (SQLite and MariaDB keep every step done before an error, '
                     'leaving the database half downgraded; only PostgreSQL rolls it back)').format(value=before[0][:80]))
    # The error itself, without where it was raised: the file's path and line hold digits too.
    message = re.sub(r"\S+\.py:\d+: ", "", said.partition("failed: ")[2] or said)
    if not re.search(rf"\b{user_id}\b", message) and name not in message:
        raise Fail(_('the downgrade refused, but its error ({value!r}) does not name the user whose name '
                     'is too long (id {user_id}): the operator must know which rows to fix').format(
                       value=said.partition('failed: ')[2] or said, user_id=user_id))
    for problem in compare(at_0003, run.snapshot(), what=_('the refused downgrade')):
        raise Fail(_('{problem}: the database is half downgraded; check the lengths before the first '
                     'change').format(problem=problem))
    if _users(run) != users:
        raise Fail(_('the refused downgrade changed the users'))


def check(run):
    user = run.quote("user")
    run.upgrade("0002")
    run.insert("user", USERS)
    at_0002 = run.snapshot()
    run.upgrade("0003")
    run.expect_matches_models(_('after upgrading to 0003 (change only downgrade())'))

    # The 0003 release at work: new users whose names fit 0002, a display name set.
    run.insert("user", FITS)
    run.execute(f"UPDATE {user} SET display_name = 'Alice A.' WHERE username = 'alice'")
    users = _users(run)
    run.downgrade("0002", doing=_('downgrading to 0002 with every username within 50 characters'))
    for problem in compare(at_0002, run.snapshot(), what=_("downgrading to 0002")):
        raise Fail(problem)
    if _users(run) != users:
        changed = sorted(str(u[0]) for u in users ^ _users(run))
        raise Fail(_('downgrading to 0002 changed the users ({join})').format(join=', '.join(changed)))
    run.upgrade("0003", doing=_('upgrading to 0003 again after the downgrade'))

    # A name that 0003 allows and 0002 cannot hold: the downgrade must refuse, whole.
    run.insert("user", [LONG])
    users = _users(run)
    _expect_refused(run, at_0002, run.snapshot(), users)

    # Once the name is shortened, the same downgrade goes through.
    run.execute(f"UPDATE {user} SET username = 'max' WHERE username = :name", {"name": LONG["username"]})
    run.downgrade("0002", doing=_('downgrading to 0002 after the long username was shortened'))
    for problem in compare(at_0002, run.snapshot(), what=_("downgrading to 0002")):
        raise Fail(problem)

    # A DDL step that fails for a reason of the database's own must stop the downgrade.
    run.upgrade("0003", doing=_('upgrading to 0003 again after the downgrade'))
    _expect_error_surfaces(run)
    return _("The downgrade restores the 0002 schema exactly, keeps every user, and refuses to cut a name.")
