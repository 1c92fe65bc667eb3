"""The migration lock of course/lessons/startup.py (notebook 16): one holder at a time, and a process
that cannot get it gives up after the timeout, the same way on every engine."""

import pytest
import sqlalchemy as sa

from course.lessons import startup
from course.runtime import engines


@pytest.fixture
def engine(engine_url):
    engine = sa.create_engine(engine_url)
    yield engine
    engine.dispose()


def test_a_held_lock_makes_the_next_one_give_up(engine):
    with startup.migration_lock(engine, timeout=1):
        with pytest.raises(startup.LockTimeout, match=r"still held by another process after 1 s"):
            with startup.migration_lock(engine, timeout=1):
                pytest.fail("two processes held the migration lock at once")


def test_the_lock_is_free_again_after_its_holder_and_after_a_timeout(engine):
    with startup.migration_lock(engine, timeout=1):
        with pytest.raises(startup.LockTimeout):
            with startup.migration_lock(engine, timeout=0):
                pass
    # Neither the holder nor the process that gave up left the lock taken.
    with startup.migration_lock(engine, timeout=0):
        pass


def test_a_free_lock_is_taken_at_once_even_with_no_time_to_wait(engine):
    entered = []
    with startup.migration_lock(engine, timeout=0):
        entered.append(True)
    assert entered == [True]


def test_locked_upgrade_gives_up_without_migrating_and_migrates_once_free(project):
    with startup.migration_lock(project.engine, timeout=1):
        with pytest.raises(startup.LockTimeout):
            startup.locked_upgrade(project.config(), project.engine, timeout=1)
        assert project.current() is None  # it gave up before Alembic read or wrote anything
    startup.locked_upgrade(project.config(), project.engine, timeout=1)
    assert project.current() == "0002"


def test_the_default_timeout_is_the_same_on_every_engine():
    import inspect

    default = inspect.signature(startup.migration_lock).parameters["timeout"].default
    assert default == startup.LOCK_TIMEOUT == inspect.signature(startup.locked_upgrade).parameters["timeout"].default
    assert 0 < startup.LOCK_TIMEOUT < float("inf")


def test_a_lock_in_one_database_does_not_hold_up_another(engine, tmp_path):
    # MariaDB's GET_LOCK names are shared by every database on a server; the lock's name
    # carries the database's, so two apps on one server migrate independently.
    if engine.dialect.name == "sqlite":
        other_url = sa.engine.make_url(f"sqlite:///{tmp_path / 'other.db'}")
    else:
        other_url = engines.create_database("t_startup_other", server=engine.url.set(database=None))
    other = sa.create_engine(other_url)
    try:
        with startup.migration_lock(engine, timeout=1):
            with startup.migration_lock(other, timeout=0):
                pass
    finally:
        other.dispose()
        if engine.dialect.name != "sqlite":
            engines.drop_database(other_url, engine.url.set(database=None))
