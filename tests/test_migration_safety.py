"""Tests every project with migrations should have (chapter 3, notebook 22), on the sample project,
on SQLite, MariaDB and PostgreSQL:

- the stairway: each revision upgraded, downgraded and upgraded again, the schema after each
  downgrade compared with the one before its upgrade;
- pytest-alembic's built-in tests (single head, upgrade, model definitions match the DDL, up/down
  consistency), through the project's real env.py;
- rows survive: data written at each revision is still there, unchanged, at head.
"""

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from pytest_alembic.tests import (  # noqa: F401 - collected here as tests of this module
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)

from course.learner.checks import Run, compare

USER_0001 = sa.table("user", sa.column("id"), sa.column("username"), sa.column("password_hash"))
USER_0002 = sa.table("user", sa.column("id"), sa.column("username"), sa.column("password_hash"), sa.column("email"))


def snapshot(ws) -> dict:
    """The schema as the database reports it (checks.Run's reading, used by every exercise)."""
    return Run(ws, {}).snapshot()


def chain(ws) -> list[tuple[str, str]]:
    """(revision, what it follows: 'base' for the first), oldest first."""
    script = ScriptDirectory.from_config(ws.config())
    return [(r.revision, r.down_revision or "base") for r in reversed(list(script.walk_revisions()))]


# -- the stairway ---------------------------------------------------------------------------------
def test_stairway(project):
    """Each step: upgrade, downgrade, upgrade. A downgrade that forgets part of its upgrade
    leaves the schema different from before the upgrade; one that fails, or an upgrade that
    cannot run twice (an object its downgrade left behind), stops the stairway."""
    steps = chain(project)
    assert [rev for rev, _ in steps] == ["0001", "0002"]
    for revision, down in steps:
        before = snapshot(project)
        project.upgrade(revision)
        after = snapshot(project)
        project.downgrade(down)
        assert list(compare(before, snapshot(project), what=f"downgrading {revision} to {down}")) == []
        project.upgrade(revision)
        assert snapshot(project) == after, f"{revision} upgraded again differs from its first upgrade"
        assert project.current() == revision


def test_the_stairway_catches_a_downgrade_that_forgets(project):
    """The negative control: 0002 whose downgrade() does nothing fails the stairway's comparison."""
    revision = project.file("alembic/versions/0002_add_email_column.py")
    text = revision.read_text(encoding="utf-8")
    head, _, _ = text.partition("def downgrade() -> None:")
    revision.write_text(head + "def downgrade() -> None:\n    pass\n", encoding="utf-8")
    project.upgrade("0001")
    before = snapshot(project)
    project.upgrade("0002")
    project.downgrade("0001")
    assert list(compare(before, snapshot(project), what="downgrading 0002 to 0001")) == [
        "downgrading 0002 to 0001 left column user.email behind"]
    with pytest.raises(sa.exc.DBAPIError):  # and the second upgrade fails: the column is there
        project.upgrade("0002")


# -- pytest-alembic's built-in tests, on each engine ---------------------------------------------------
@pytest.fixture
def alembic_config(project):
    """The project's own alembic.ini: its env.py takes the engine pytest-alembic hands in."""
    config = project.config()
    config.attributes["configure_logger"] = False
    return config


@pytest.fixture
def alembic_engine(project):
    return project.engine


# -- rows survive ---------------------------------------------------------------------------------------
def test_rows_written_at_each_revision_survive_to_head(project):
    """Rows written by the release of 0001 and by the release of 0002 are all there at head,
    each with its own values (emails given keep theirs; the others get 0002's placeholder)."""
    project.upgrade("0001")
    with project.engine.begin() as connection:
        connection.execute(USER_0001.insert(), [{"id": 1, "username": "ada", "password_hash": "h1"},
                                                {"id": 2, "username": "bob", "password_hash": "h2"}])
    project.upgrade("0002")
    with project.engine.begin() as connection:
        connection.execute(USER_0002.insert(), [{"id": 3, "username": "cy", "password_hash": "h3",
                                                 "email": "cy@example.com"}])
    project.downgrade("0001")  # and back up: a stairway with data in it
    project.upgrade("head")
    with project.engine.connect() as connection:
        rows = connection.execute(sa.select(USER_0002).order_by(USER_0002.c.id)).all()
    assert [tuple(r) for r in rows] == [
        (1, "ada", "h1", "user-1@example.invalid"),
        (2, "bob", "h2", "user-2@example.invalid"),
        (3, "cy", "h3", "user-3@example.invalid"),  # the downgrade dropped cy's own address: data loss
    ]
