"""Settings errors reach the operator as one line naming the variable, never as a traceback."""

from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.fixture
def config_module(make_project, tmp_path, monkeypatch):
    """app.config from a fresh copy of the project, its settings cache empty."""
    with make_project(f"sqlite:///{tmp_path / 'app.db'}", "0002", tmp_path) as ws:
        monkeypatch.chdir(ws.path)  # Settings reads .env from the current directory: none here
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


def test_defaults_without_environment(config_module, monkeypatch):
    for name in ("DATABASE_URL", "ARGON2_TIME_COST", "ARGON2_MEMORY_COST"):
        monkeypatch.delenv(name, raising=False)
    settings = config_module.get_settings()
    assert settings.database_url == "sqlite:///./app.db"
    assert settings.url.get_backend_name() == "sqlite"
    assert (settings.argon2_time_cost, settings.argon2_memory_cost) == (3, 65536)


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
