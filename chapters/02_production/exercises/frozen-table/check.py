"""frozen-table: the data migration 0003 works whatever the models say when it runs.

Every upgrade in a check refuses `import app...` inside a revision (course/learner/learner_code.py),
so a revision that imports the models fails at once. This check also runs 0003 with the models
of a later release in place, which catches a revision that reaches the models another way
(importlib, sys.modules), and scans the file for an import that never ran.
"""

import ast

from course.learner.checks import Fail, compare
from course.runtime.workspace import is_app_module
from course.i18n import _

# Two datasets with different names and ids; the second has gaps in its ids and a quote in a
# name, and is migrated with the models of a later release in place.
FIRST = [{"username": n, "password_hash": "x", "email": f"{n}@example.com"} for n in ("alice", "bob", "carol")]
SECOND = [
    {"id": i, "username": n, "password_hash": "x", "email": f"user{i}@example.com"}
    for i, n in ((7, "dmitri"), (8, "o'neil"), (12, "erin"), (30, "farid"), (31, "gwen"))
]

# The User model of a later release: username became login (see the expand-contract exercise).
LATER_USER = '''from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(50), unique=True, index=True)
    password_hash: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(120), comment="用户邮箱")
    display_name: Mapped[str | None] = mapped_column(String(100))
'''


def _backfilled(run, users: list[dict], when: str) -> None:
    """Every user's display_name is their username, and their username is unchanged."""
    found = {name: shown for name, shown in run.rows(f"SELECT username, display_name FROM {run.quote('user')}")}
    for u in users:
        name = u["username"]
        if name not in found:
            raise Fail(_('{when}, user {name!r} is gone').format(when=when, name=name))
        if found[name] != name:
            raise Fail(_("{when}, {name}'s display_name is {found!r}, not {name!r}").format(when=when, name=name, found=found[name]))


def _imports_app(path) -> int | None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(is_app_module(n) for n in names):
            return node.lineno
    return None


def check(run):
    found = run.revisions()
    if found.get("0003") != ("0002",) or run.heads() != ["0003"]:
        raise Fail(_('revision 0003 must follow 0002 and be the head'))
    user = run.quote("user")

    run.upgrade("0002")
    before = run.snapshot()
    run.insert("user", FIRST)
    run.upgrade("0003", doing=_('upgrading to 0003 with {count_first} users').format(count_first=len(FIRST)))
    _backfilled(run, FIRST, _('after upgrading to 0003'))
    run.expect_matches_models(_('after upgrading to 0003'))
    run.downgrade("0002", doing=_("downgrading to 0002"))
    for problem in compare(before, run.snapshot(), what=_("downgrading to 0002")):
        raise Fail(problem)
    names = sorted(n for (n,) in run.rows(f"SELECT username FROM {user}"))
    if names != sorted(u["username"] for u in FIRST):
        raise Fail(_('after downgrading to 0002, the usernames are {names}').format(names=names))

    # Months later: a fresh database, other users, and the models of that day.
    run.downgrade("base", doing=_('downgrading to base'))
    (run.ws.path / "app" / "models" / "user.py").write_text(LATER_USER, encoding="utf-8")
    run.upgrade("0002", doing=_('upgrading a fresh database to 0002 with the models of a later release'))
    run.insert("user", SECOND)
    run.upgrade("0003", doing=_('upgrading a fresh database with {count_second} users to 0003 with the models of a '
                                'later release (username renamed to login)').format(count_second=len(SECOND)))
    _backfilled(run, SECOND, _('after upgrading a fresh database to 0003 with the models of a later release'))

    [revision] = [p for p in run.learner_files if p.name == "0003_add_display_name.py"]
    line = _imports_app(revision)
    if line is not None:
        raise Fail(_('0003 still imports app.models (line {line}), though the check never ran that line: '
                     'the day it runs, the migration depends on the models of that day. Describe the table'
                     ' with sa.table instead').format(line=line))
    return _("0003 describes its own table: it runs the same with any release's models.")
