"""Fixtures for the sample project's tests: one database per engine, one copy of the project.

Every database test runs on SQLite, MariaDB and PostgreSQL (ids "sqlite", "mariadb",
"postgresql"). The servers come from COURSE_TEST_MARIADB_URL and COURSE_TEST_POSTGRESQL_URL
(defaults: the local servers the course is written against). A server that cannot be reached
skips its tests with one line saying which variable to set; under CI=true or
COURSE_REQUIRE_SERVERS=1 it fails them instead, because there they must run.
"""

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import URL, make_url

from course import settings
from course.runtime import engines, workspace
from course.runtime.errors import one_line
from course.settings import ENGINES, SuiteSettings
from course.runtime.workspace import Workspace

SERVERS = engines.SERVER_ENGINES
engines.share_pymysql_tls_context()  # the tests open thousands of connections to MariaDB


def _suite() -> SuiteSettings:
    try:
        return settings.suite()
    except settings.SettingsError as exc:  # reported once, as the run's usage error
        raise pytest.UsageError(str(exc)) from None


# -- servers ------------------------------------------------------------------------------
def servers_required() -> bool:
    return _suite().servers_required


def _probe(raw: str) -> tuple[URL | None, str | None]:
    """(server URL, None) if the server answers within ~2 s, else (None, the reason)."""
    try:
        url = make_url(raw)
    except Exception as exc:  # noqa: BLE001 - any reason is reported, not raised
        return None, f"{raw!r} is not a database URL ({one_line(exc)})"
    reason = engines.unreachable(url)
    return (None, reason) if reason else (url, None)


_probed: dict[str, tuple[URL | None, str | None]] = {}  # once per session (per xdist worker)


def _unavailable(engine_id: str, reason: str) -> None:
    variable = settings.variable(SuiteSettings, f"test_{engine_id}_url")
    message = f"{engine_id} tests need a server: {reason}; set {variable} to a server URL"
    if servers_required():
        pytest.fail(f"{message} (servers are required: CI or COURSE_REQUIRE_SERVERS is set)", pytrace=False)
    pytest.skip(message)


def server(engine_id: str) -> URL:
    """The reachable server for `engine_id`, or skip (fail in CI) with one line."""
    if engine_id not in _probed:
        _probed[engine_id] = _probe(_suite().server_url(engine_id).strip())
    url, reason = _probed[engine_id]
    if url is None:
        _unavailable(engine_id, reason)
    return url


def _engine_params(item) -> set[str]:
    params = getattr(getattr(item, "callspec", None), "params", {})
    return {params[name] for name in ("engine_url", "module_engine_url", "server_url", "check_engine") if name in params}


def pytest_collection_modifyitems(config, items):
    # COURSE_TEST_ENGINES=sqlite runs the quick SQLite suite only (the others are deselected,
    # not skipped: nothing was meant to run there).
    wanted = set(_suite().test_engines)
    selected, deselected = [], []
    for item in items:
        (deselected if _engine_params(item) - wanted else selected).append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = selected


def pytest_runtest_setup(item):
    # Checked here rather than only in the fixtures: a skip raised from a fixture is reported
    # at each test's own line, one summary line per test; raised here, every skipped test of
    # a server folds into a single `SKIPPED [n] tests/conftest.py:...` line.
    for engine_id in _engine_params(item) & set(SERVERS):
        server(engine_id)


@contextmanager
def scratch_database(engine_id: str, directory: Path, label: str) -> Iterator[str]:
    """A new, empty database (a SQLite file in `directory`, or one on the server), dropped after."""
    if engine_id == "sqlite":
        yield f"sqlite:///{directory / 'test.db'}"
        return
    host = server(engine_id)
    prefix = "t_" + re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30]
    try:
        url = engines.create_database(prefix, server=host)
    except engines.EngineSetupError as exc:
        _unavailable(engine_id, one_line(exc))
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        engines.drop_database(url, host)


@pytest.fixture(params=ENGINES)
def engine_url(request, tmp_path) -> Iterator[str]:
    """A database of the test's own on each engine."""
    with scratch_database(request.param, tmp_path, request.node.name) as url:
        yield url


@pytest.fixture(scope="module", params=ENGINES)
def module_engine_url(request, tmp_path_factory) -> Iterator[str]:
    """One database per engine shared by a module's tests (where they need no isolation)."""
    directory = tmp_path_factory.mktemp(f"db-{request.param}")
    with scratch_database(request.param, directory, request.module.__name__.rpartition(".")[2]) as url:
        yield url


@pytest.fixture
def check_engine(request) -> tuple[str, URL | str]:
    """The engine a test is parametrized with (indirect) and what run_check(server=...) takes
    for it: "sqlite", or the reachable server."""
    engine_id = request.param
    return engine_id, ("sqlite" if engine_id == "sqlite" else server(engine_id))


@pytest.fixture(params=SERVERS)
def server_url(request) -> URL:
    """A reachable server (MariaDB, PostgreSQL) to make scratch databases on."""
    return server(request.param)


# -- the sample project -------------------------------------------------------------------
@contextmanager
def project_at(url: str, stage: str, root: Path, name: str = "sample") -> Iterator[Workspace]:
    """A fresh copy of the sample project at `stage`, importable as `app`, using database `url`.

    Everything course.runtime.workspace.fresh() changes in the process (DATABASE_URL, sys.path,
    sys.dont_write_bytecode, cached `app` modules) is put back afterwards by
    workspace.isolated(), so copies made for one engine or stage never leak into the next
    test. Logging is left to pytest, which changes it between the tests a fixture spans.
    """
    with workspace.isolated(logging_too=False):
        ws = workspace.fresh(name, stage, database=url, root=root)
        try:
            yield ws
        finally:
            if "engine" in ws.__dict__:
                ws.engine.dispose()


@pytest.fixture(scope="session")
def make_project():
    """`make_project(url, stage, root)`: the project_at() context manager, for any fixture scope."""
    return project_at


@pytest.fixture
def project(engine_url, tmp_path) -> Iterator[Workspace]:
    """A copy of the finished sample project (head = 0002) with an empty database of its own."""
    with project_at(engine_url, "0002", tmp_path) as ws:
        yield ws


@pytest.fixture(scope="session")
def project_copy(tmp_path_factory) -> Path:
    """A read-only copy of sample_project for subprocesses (the repository's stays untouched)."""
    path = tmp_path_factory.mktemp("cli") / "project"
    workspace.SAMPLE.copy_to(path, workspace.SAMPLE.last_stage)
    return path


def _run_python(cwd: Path, *args: str, database_url: str) -> subprocess.CompletedProcess:
    """Run `python *args` in `cwd` as a reader would, with DATABASE_URL set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "ARGON2_"))}
    env.update(DATABASE_URL=database_url, PYTHONDONTWRITEBYTECODE="1", PYTHONUNBUFFERED="1")
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, text=True, timeout=60,
    )


@pytest.fixture(scope="session")
def run_python():
    """`run_python(cwd, *args, database_url=...)` -> CompletedProcess (stdout, stderr apart)."""
    return _run_python

