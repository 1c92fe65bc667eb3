"""add-email: revision 0002 adds a NOT NULL email to a table that already has users."""

from collections import Counter

from course.learner.checks import Fail, listing, plural
from course.i18n import _

# Two datasets written by the 0001 release: the second one, added after a downgrade, has ids
# that do not start at 1 and a username of the full 50 characters, so a backfill written for
# the first dataset's ids (or one that only fits short names) shows.
FIRST = [
    {"id": 1, "username": "alice", "password_hash": "h1"},
    {"id": 2, "username": "bob", "password_hash": "h2"},
    {"id": 3, "username": "carol", "password_hash": "h3"},
]
SECOND = [
    {"id": 17, "username": "erin", "password_hash": "h17"},
    {"id": 230, "username": "f" * 50, "password_hash": "h230"},
    {"id": 4051, "username": "grace", "password_hash": "h4051"},
]
# Written by the 0002 release (it knows email), without an id as the app inserts.
NEW = {"username": "dave", "password_hash": "h4", "email": "dave@example.com"}


def _expect_users(run, wanted: list[dict], when: str) -> None:
    """Every user of `wanted` is still there with the same name and hash (values, not a count)."""
    found = {r[0]: (r[1], r[2]) for r in run.rows(f"SELECT id, username, password_hash FROM {run.quote('user')}")}
    lost = [u["username"] for u in wanted if found.get(u["id"]) != (u["username"], u["password_hash"])]
    if lost:
        gone = _('the {count_wanted} existing users are gone').format(count_wanted=len(wanted)) if len(lost) == len(wanted) else \
            _('{plural} ({listing}) {value} gone or changed').format(
                plural=plural(len(lost), 'user'), listing=listing(lost), value='is' if len(lost) == 1 else 'are')
        raise Fail(_('{when}, {gone}: a migration must keep the rows it finds').format(when=when, gone=gone))


def _expect_placeholders(run, existing: list[dict], when: str) -> None:
    emails = dict(run.rows(f"SELECT id, email FROM {run.quote('user')}"))
    names = {u["id"]: u["username"] for u in existing}
    empty = [names[i] for i in names if emails.get(i) is None or not str(emails[i]).strip()]
    if empty:
        raise Fail(
            _('{when}, {plural} {value} an empty email ({listing}): give each a placeholder that '
              'says it is one, such as user-<id>@example.invalid').format(
                when=when, plural=plural(len(empty), 'existing user'), value='has' if len(empty) == 1 else 'have', listing=listing(empty))
        )
    shared = [(email, count) for email, count in Counter(emails[i] for i in names).items() if count > 1]
    if shared:
        email, count = shared[0]
        raise Fail(
            _('{when}, {count} existing users share the email {email!r}: a unique index on email '
              'would fail, and nobody can tell whose it is; give each user a placeholder of its '
              'own, such as user-<id>@example.invalid').format(when=when, count=count, email=email)
        )
    real = [(names[i], emails[i]) for i in names if not str(emails[i]).lower().endswith(".invalid")]
    if real:
        name, email = real[0]
        raise Fail(
            _("{when}, {name}'s placeholder {email!r} looks like a real address: put placeholders "
              'on the reserved .invalid domain (such as user-<id>@example.invalid), which no mail '
              'can reach and a later clean-up can find').format(when=when, name=name, email=email)
        )


def _expect_no_default(run, when: str) -> None:
    """The 0002 release always sends an email; one that does not must be refused, not filled in."""
    user = run.quote("user")
    try:
        with run.quiet(_('inserting a user without an email')):
            run.execute(f"INSERT INTO {user} (username, password_hash) VALUES ('nomail', 'x')")
    except Fail:
        return  # refused: the column has no default, as the model says
    stored = run.rows(f"SELECT email FROM {user} WHERE username = 'nomail'")[0][0]
    raise Fail(
        _('{when}, a user inserted without an email is stored with email {stored!r}: user.email'
          ' still has a server default; drop it once the existing rows are filled (the model '
          'has none)').format(when=when, stored=stored)
    )


def check(run):
    user = run.quote("user")
    run.upgrade("0001")
    run.insert("user", FIRST)
    run.upgrade("0002", doing=_('upgrading to 0002 with 3 users in the table'))

    when = _("after upgrading to 0002")
    _expect_users(run, FIRST, when)
    columns = run.columns("user")
    if "email" not in columns:
        raise Fail(_('{when}, there is no column user.email').format(when=when))
    if columns["email"]["nullable"]:
        raise Fail(_('{when}, user.email is still nullable; the model says NOT NULL').format(when=when))
    _expect_placeholders(run, FIRST, when)
    run.expect_matches_models(when)
    _expect_no_default(run, when)

    # The new release inserts without an id: the database must still number rows itself.
    run.insert("user", [NEW])
    if not run.rows(f"SELECT id FROM {user} WHERE username = 'dave'"):
        raise Fail(_("{when}, the app's insert of a new user left no row").format(when=when))

    run.downgrade("0001")
    if "email" in run.columns("user"):
        raise Fail(_('downgrading to 0001 left column user.email behind'))
    _expect_users(run, FIRST, _('after downgrading to 0001'))

    # The 0001 release runs again and writes users with other ids; then 0002 ships again.
    run.insert("user", SECOND)
    run.upgrade("0002", doing=_('upgrading to 0002 again after the 0001 release added users 17, 230 and 4051'))
    when = _("after upgrading to 0002 a second time (users 17, 230 and 4051 added)")
    _expect_users(run, FIRST + SECOND, when)
    _expect_placeholders(run, FIRST + SECOND, when)
    return _("Email added: every user kept and given a placeholder of its own, NOT NULL, no default left, and the downgrade removes it.")
