"""startup-head-check: the app refuses to start when the database is behind its code, starts
with a warning when the database is ahead (a newer release migrated), and only looks."""

import dataclasses

from sqlalchemy.engine import make_url

from course.learner.checks import Fail, Run
from course.i18n import _, as_text

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com", "display_name": "Alice"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com", "display_name": "Bob"},
]

# The next release's revision: an expand step (a nullable column) that the release checked
# here, whose head is 0003, does not know but keeps working with. Its id is random-looking, as
# Alembic makes them, and sorts before 0003: ids say nothing about which revision is newer.
NEWER_ID = "0002f7c1d9ab"
NEWER = f'''"""add user.bio

Revision ID: {NEWER_ID}
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '{NEWER_ID}'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('user', sa.Column('bio', sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('user') as batch_op:
        batch_op.drop_column('bio')
'''

# A second branch on 0003, as when two developers each added a revision (notebook 10).
BRANCH = '''"""add login_event

Revision ID: 0004b
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004b'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_event', sa.Column('id', sa.Integer(), primary_key=True))


def downgrade() -> None:
    op.drop_table('login_event')
'''


def _unreachable(url: str) -> str:
    """The same kind of database, somewhere nothing answers."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.set(database=parsed.database.rsplit("/", 1)[0] + "/no-such-directory/app.db").render_as_string()
    return parsed.set(host="127.0.0.1", port=1).render_as_string(hide_password=False)


def _start(run):
    """Start the app (its lifespan runs); an error while importing app.main is the learner's."""
    try:
        return run.start_app()
    except Fail as failure:
        raise Fail(_("{failure}. app.main must import without a database (tests and tools import it): check in "
                     "the lifespan, which runs when the server starts").format(
                       failure=as_text(failure).rstrip("."))) from None


def check(run):
    versions = run.ws.path / "alembic" / "versions"

    # Behind: the release step did not run.
    run.upgrade("0002")
    run.insert("user", [{k: v for k, v in u.items() if k != "display_name"} for u in USERS])
    app = _start(run)
    if app.started:
        if run.current() != "0002":
            raise Fail(
                _('the app upgraded the database itself at start-up (0002 -> {current}): with several '
                  'workers or replicas, each one races to run the same migrations. Migrate once, in the'
                  ' deploy, before any worker starts; the app only checks').format(current=run.current())
            )
        raise Fail(_('the app started with the database at 0002 while the head is 0003: it serves requests'
                     ' against a schema without user.display_name, and GET /users fails one request at a '
                     'time'))
    if "0002" not in app.error or "0003" not in app.error:
        raise Fail(_("the app refused to start, but its message ({error!r}) does not say the database's "
                     'revision (0002) and the head (0003): the operator needs both to know what to run').format(error=app.error))

    run.downgrade("base", doing=_('downgrading to base'))
    app = _start(run)
    if app.started:
        raise Fail(_('the app started on an empty database (no revision at all) while the head is 0003'))
    if "0003" not in app.error:
        raise Fail(_('on an empty database the app refused to start, but its message ({error!r}) does not '
                     'name the head (0003)').format(error=app.error))

    # At head.
    run.upgrade("head", doing=_('upgrading to head'))
    run.insert("user", USERS)
    app = _start(run)
    if not app.started:
        raise Fail(_('the app refused to start with the database at head (0003): {error}').format(error=app.error))
    if app.status != 200:
        raise Fail(_('at head the app started, but GET /users answered {status}').format(status=app.status))
    if run.current() != "0003":
        raise Fail(_('starting the app moved the database from 0003 to {current}').format(current=run.current()))

    # Ahead: the next release migrated first (its expand step), and this release restarts.
    newer = versions / "0004_add_bio.py"
    newer.write_text(NEWER, encoding="utf-8")
    run.upgrade(NEWER_ID, doing=_("upgrading to the next release's {newer_id}").format(newer_id=NEWER_ID))
    newer.unlink()
    app = _start(run)
    if not app.started:
        raise Fail(
            _('the app refused to start with the database at {newer_id}, a revision a newer release'
              ' applied: {error!r}. In a rollout that migrates first, every process of the running '
              'release that restarts then stays down, and a rollback of the code cannot start at '
              'all; the expand step keeps this release working, so start and log a warning').format(newer_id=NEWER_ID, error=app.error)
        )
    if app.status != 200:
        raise Fail(_('with the database ahead at {newer_id} the app started, but GET /users answered '
                     '{status}').format(newer_id=NEWER_ID, status=app.status))
    if not any(NEWER_ID in l and l.startswith("WARNING") for l in app.log.splitlines()):
        raise Fail(_('the app started with the database ahead at {newer_id}, a revision it does not know, '
                     'without logging a warning that names it: log one '
                     '(logging.getLogger(__name__).warning), so the operator sees that an older release is'
                     ' serving a newer schema').format(newer_id=NEWER_ID))

    # The code gets the newer revision as well: a database at 0003 is now behind.
    newer.write_text(NEWER, encoding="utf-8")
    run.downgrade("0003", doing=_("downgrading to 0003"))
    app = _start(run)
    if app.started:
        raise Fail(_('the app started with the database at 0003 after a new revision {newer_id} was added '
                     'to the scripts: is the head written into your code? Read it from the revision '
                     'scripts (ScriptDirectory.get_heads()), which move with every release').format(newer_id=NEWER_ID))
    if NEWER_ID not in app.error:
        raise Fail(_("with the scripts' head at {newer_id} and the database at 0003 the app refused to "
                     'start, but its message ({error!r}) does not name the head {newer_id}').format(newer_id=NEWER_ID, error=app.error))
    run.upgrade(NEWER_ID, doing=_('upgrading to {newer_id}').format(newer_id=NEWER_ID))
    app = _start(run)
    if not app.started:
        raise Fail(_('the app refused to start with the database at the new head {newer_id}: {error}').format(newer_id=NEWER_ID, error=app.error))

    # Two heads: the database must be at both.
    (versions / "0004b_add_login_event.py").write_text(BRANCH, encoding="utf-8")
    app = _start(run)
    if app.started:
        raise Fail(_('the app started with the database at {newer_id} while the scripts have two heads, '
                     '{newer_id} and 0004b: the database lacks 0004b. Compare the sets of revisions, not '
                     'one of them').format(newer_id=NEWER_ID))
    run.upgrade("heads", doing=_('upgrading to both heads'))
    app = _start(run)
    if not app.started:
        raise Fail(_('the app refused to start with the database at both heads ({newer_id} and 0004b): '
                     '{rstrip}. get_current_revision() and get_current_head() fail when there are two; use'
                     ' get_current_heads() and get_heads(), as sets').format(newer_id=NEWER_ID, rstrip=app.error.rstrip('.')))

    # The check cannot run: it must stop the app, not let it serve unchecked.
    ini = run.ws.path / "alembic.ini"
    ini.rename(ini.with_name("alembic.ini.hidden"))
    try:
        app = _start(run)
    finally:
        ini.with_name("alembic.ini.hidden").rename(ini)
    if app.started:
        raise Fail(_('the app started although alembic.ini was missing, so it could not know the head: a '
                     'check that cannot run must stop the app, or it serves against a schema nobody '
                     'checked'))
    if "alembic.ini" not in app.error:
        raise Fail(_('with alembic.ini missing the app refused to start, but its message ({error!r}) does '
                     'not name the missing file: Config() reads a missing file as an empty one, so check '
                     'that it exists').format(error=app.error))

    elsewhere = Run(dataclasses.replace(run.ws, url=_unreachable(run.ws.url)), run.learner_files)
    app = _start(elsewhere)
    if app.started:
        raise Fail(_('the app started although its database could not be reached, so it never read the '
                     "database's revision: a check that cannot run must stop the app, not let it serve "
                     'unchecked'))
    return _("The app refuses to start behind its head, starts with a warning ahead of it, and only looks.")
