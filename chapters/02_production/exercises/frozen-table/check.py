"""frozen-table: the data migration 0003 works whatever the models say when it runs."""

import ast

from course.checks import Fail

USERS = [
    {"id": 1, "username": "alice", "password_hash": "x", "email": "alice@example.com"},
    {"id": 2, "username": "bob", "password_hash": "x", "email": "bob@example.com"},
    {"id": 3, "username": "carol", "password_hash": "x", "email": "carol@example.com"},
]

# The User model of a later release: username became login (see the expand-contract exercise).
LATER_USER = '''from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base


class User(Base):
    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(50), unique=True)
    password_hash: Mapped[str] = mapped_column(String(128))
    email: Mapped[str] = mapped_column(String(120), comment="用户邮箱")
    display_name: Mapped[str | None] = mapped_column(String(100))
'''


def _backfilled(run, when: str) -> None:
    rows = dict(run.rows(f"SELECT username, display_name FROM {run.quote('user')}"))
    for u in USERS:
        if rows.get(u["username"]) != u["username"]:
            raise Fail(f"{when}, {u['username']}'s display_name is {rows.get(u['username'])!r}, "
                       f"not {u['username']!r}")


def _imports_app(path) -> int | None:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else (
            [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if any(n == "app" or n.startswith("app.") for n in names):
            return node.lineno
    return None


def check(run):
    run.upgrade("0002")
    run.insert("user", USERS)
    run.upgrade("0003", doing="upgrading to 0003 with 3 users")
    _backfilled(run, "after upgrading to 0003")
    run.expect_matches_models("after upgrading to 0003")

    # Months later: a fresh database, with the models of that day.
    run.downgrade("base", doing="downgrading to base")
    (run.ws.path / "app" / "models" / "user.py").write_text(LATER_USER, encoding="utf-8")
    run.upgrade("0002", doing="upgrading a fresh database to 0002 with the models of a later release")
    run.insert("user", USERS)
    run.upgrade("0003", doing="upgrading a fresh database to 0003 with the models of a later release "
                              "(username renamed to login)")
    _backfilled(run, "after upgrading a fresh database to 0003 with the models of a later release")

    [revision] = [p for p in run.learner_files if p.name == "0003_add_display_name.py"]
    line = _imports_app(revision)
    if line is not None:
        raise Fail(f"0003 still imports app.models (line {line}): it passes today only because the "
                   "parts it uses have not changed yet. Describe the table with sa.table instead")
    return "0003 describes its own table: it runs the same with any release's models."
