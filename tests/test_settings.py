"""Settings errors reach the operator as one line naming the variable, never as a traceback;
a relative SQLite path means the project's file, wherever a command is started."""

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from course.runtime.workspace import SAMPLE


@pytest.fixture
def config_module(make_project, tmp_path, monkeypatch):
    """app.config from a fresh copy of the project, its settings cache empty."""
    with make_project(f"sqlite:///{tmp_path / 'app.db'}", "0002", tmp_path) as ws:
        monkeypatch.chdir(ws.path)  # Settings reads the project's .env: copies have none
        import app.config

        app.config.get_settings.cache_clear()
        yield app.config
        app.config.get_settings.cache_clear()


@pytest.mark.parametrize("bad", ["not a url", "localhost/app", ""], ids=["words", "no-scheme", "empty"])
def test_a_malformed_database_url_is_one_line_naming_it(config_module, monkeypatch, bad):
    monkeypatch.setenv("DATABASE_URL", bad)
    with pytest.raises(config_module.SettingsError) as caught:
        config_module.get_settings()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"DATABASE_URL={bad!r} is invalid: ")
    assert "expected a URL such as sqlite:///./app.db" in message


def test_a_bad_argon2_cost_is_named_too(config_module, monkeypatch):
    monkeypatch.setenv("ARGON2_TIME_COST", "fast")
    with pytest.raises(config_module.SettingsError, match=r"^ARGON2_TIME_COST='fast' is invalid: [^\n]*$"):
        config_module.get_settings()



@pytest.mark.parametrize("bad", ["0", "2.5", "soon"])
def test_a_bad_migration_lock_timeout_is_named(config_module, monkeypatch, bad):
    # Whole seconds from 1 up: MariaDB's lock_wait_timeout takes no fractions, and 0 would
    # mean "do not wait at all" there but "wait forever" on PostgreSQL.
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", bad)
    with pytest.raises(config_module.SettingsError, match=rf"^MIGRATION_LOCK_TIMEOUT='{bad}' is invalid: [^\n]*$"):
        config_module.get_migration_settings()


def test_migration_settings_need_no_database_url(config_module, monkeypatch):
    # env.py reads them even when a caller hands it a database and DATABASE_URL is unusable.
    monkeypatch.setenv("DATABASE_URL", "not a url")
    monkeypatch.setenv("MIGRATION_LOCK_TIMEOUT", "3")
    assert config_module.get_migration_settings().migration_lock_timeout == 3

def test_defaults_without_environment(config_module, monkeypatch):
    for name in ("DATABASE_URL", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST", "MIGRATION_LOCK_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    settings = config_module.get_settings()
    assert settings.database_url == f"sqlite:///{config_module.PROJECT_DIR / 'app.db'}"
    assert config_module.PROJECT_DIR == Path(config_module.__file__).parent.parent
    assert settings.url.get_backend_name() == "sqlite"
    assert (settings.argon2_time_cost, settings.argon2_memory_cost) == (3, 65536)
    assert config_module.get_migration_settings().migration_lock_timeout == 10


def test_starting_the_app_with_a_bad_url_prints_one_line(project_copy, run_python, tmp_path):
    with ThreadPoolExecutor(2) as pool:  # two interpreter starts side by side
        bad = pool.submit(run_python, project_copy, "-c", "import app.main", database_url="not a url")
        good = pool.submit(run_python, project_copy, "-c", "import app.main", database_url=f"sqlite:///{tmp_path / 'x.db'}")
        bad, good = bad.result(), good.result()

    assert good.returncode == 0, good.stderr  # the same command starts with a usable URL
    assert bad.returncode != 0
    assert bad.stdout == ""
    assert "Traceback" not in bad.stderr
    assert len(bad.stderr.splitlines()) == 1, bad.stderr
    assert bad.stderr.startswith("error: DATABASE_URL='not a url' is invalid: ")


def test_a_postgres_scheme_is_named_and_the_password_is_masked(config_module, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://app:s3cret@db.example/app")
    with pytest.raises(config_module.SettingsError) as caught:
        config_module.get_settings()
    message = str(caught.value)
    assert message.startswith("DATABASE_URL='postgres://app:***@db.example/app' is invalid: ")
    assert "SQLAlchemy names this database postgresql" in message
    assert "s3cret" not in message


# -- a relative SQLite path is the project's, wherever a command starts ------------------------
@pytest.mark.parametrize("given", ["sqlite:///./app.db", "sqlite:///app.db", None], ids=["dot", "bare", "default"])
def test_a_relative_sqlite_path_is_taken_from_the_project_directory(config_module, monkeypatch, tmp_path, given):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    if given is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", given)
    assert config_module.get_settings().url.database == str(config_module.PROJECT_DIR / "app.db")


@pytest.mark.parametrize("given", ["sqlite://", "sqlite:///:memory:", "sqlite:////srv/data/app.db",
                                   "sqlite:///file:app.db?mode=ro&uri=true", "postgresql+psycopg://app@db/app"])
def test_other_urls_are_kept_as_given(config_module, monkeypatch, given):
    monkeypatch.setenv("DATABASE_URL", given)
    assert config_module.get_settings().database_url == given


def _alembic(project: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    """`python -m alembic -c <project>/alembic.ini ...` started in `cwd`, DATABASE_URL unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "ARGON2_"))}
    env.update(PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run(
        [sys.executable, "-m", "alembic", "-c", str(project / "alembic.ini"), *args], cwd=cwd, env=env,
        stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60,
    )


@pytest.mark.long
def test_alembic_started_anywhere_migrates_the_projects_database(tmp_path):
    """The trap the anchored default closes: `./app.db` from another directory was a new, empty
    database, migrated without a word while the project's own stayed behind."""
    project = tmp_path / "project"
    SAMPLE.copy_to(project, SAMPLE.last_stage)
    here, there = tmp_path / "here", tmp_path / "there"
    here.mkdir()
    there.mkdir()

    upgraded = _alembic(project, here, "upgrade", "head")
    assert upgraded.returncode == 0, upgraded.stderr
    with ThreadPoolExecutor(2) as pool:  # two readers from two other directories
        current = [pool.submit(_alembic, project, where, "current") for where in (there, project)]
        current = [future.result() for future in current]
    for result in current:
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "0002 (head)"
    assert (project / "app.db").is_file()
    assert list(here.iterdir()) == [] and list(there.iterdir()) == []  # no stray app.db
