"""Every setting of the course, read from the environment in one place.

Two groups, two classes:

    current()  CourseSettings: what the notebooks, the checks and the `course` command use
    suite()    SuiteSettings: what only the test suite and the maintainers' tools use
               (which servers to test on, which engines, where Chromium is)

They are apart so that a learner's `course check` never fails over a variable that only the
test suite reads. Each field names its variable (`validation_alias`), so grepping for a
variable finds it here; README.md has the table of them, and tests/test_course_settings.py
keeps that table and these classes the same.

Read from the environment as it is at each call: it is changed on purpose while a process
runs (pytest's monkeypatch, the test run's set-up in conftest.py before it starts workers and
kernels), and a cache that had to be reset at each of those places would be stale at the one
that forgot. Building the settings costs about two milliseconds (pydantic-settings inspects
every field's type each time) and the `course` command asks dozens of times, so the result is
kept per value of its variables: an unchanged environment costs a dozen dictionary lookups,
a changed one is read afresh. Nothing ever needs resetting.

A value that cannot be used raises SettingsError, one line naming the variable:
    COURSE_CHECK_TIMEOUT='abc' is invalid: Input should be a valid number, ...
An empty variable counts as unset.
"""

from __future__ import annotations

import functools
import math
import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

ENGINES = ("sqlite", "mariadb", "postgresql")  # the course's names for its engines, everywhere
# How pages and lessons title each engine. "mysql" is a MySQL server, told from MariaDB only
# once connected (engines.connected_name): the course measured none, but data measured on one
# stays readable.
ENGINE_TITLES = {"sqlite": "SQLite", "mariadb": "MariaDB", "mysql": "MySQL", "postgresql": "PostgreSQL"}


class SettingsError(Exception):
    """A setting has a value the course cannot use; the message names the variable."""


class _FromEnvironment(BaseSettings):
    """Read from environment variables only (no .env file, no secrets folder), by their exact
    names."""

    model_config = SettingsConfigDict(
        case_sensitive=True, env_ignore_empty=True, extra="ignore", validate_default=True, frozen=True,
    )

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                   file_secret_settings):
        return (init_settings, env_settings)


class CourseSettings(_FromEnvironment):
    """The course's settings; the defaults need nothing installed or set."""

    database_url: str = Field("", validation_alias="COURSE_DATABASE_URL", description=(
        "The server the notebooks and checks make their databases on: mysql+pymysql://... "
        "(MariaDB) or postgresql+psycopg://...; unset (or a sqlite: URL): a SQLite file per "
        "workspace. Checked when a database is made (course/runtime/engines.py), with a message "
        "saying what to write instead."))
    workdir: Path | None = Field(None, validation_alias="COURSE_WORKDIR", description=(
        "The folder under which the notebooks' working copies go (<folder>/migrations-in-practice); "
        "unset: the system's temp folder. A test run sets its own."))
    learner_dir: Path | None = Field(None, validation_alias="COURSE_LEARNER_DIR", description=(
        "Where your exercise files are; unset: work/ in the repository (.course/work/ if your "
        "files are there from before)."))
    progress_file: Path | None = Field(None, validation_alias="COURSE_PROGRESS_FILE", description=(
        "The JSON file holding your progress; unset: .course/progress.json in the repository."))
    check_timeout: float = Field(20.0, gt=0, validation_alias="COURSE_CHECK_TIMEOUT", description=(
        "Seconds each step of your code may run in a check before it is stopped; a test run "
        "allows 120."))
    run_id: str | None = Field(None, pattern=r"^[a-z0-9]{1,16}$", validation_alias="COURSE_RUN_ID", description=(
        "Set by a test run: every server database made meanwhile carries it in its name, so "
        "the run drops them all at its end."))
    warm_python_socket: str | None = Field(None, validation_alias="COURSE_WARM_PYTHON_SOCKET", description=(
        "Set by `make lab` and by a test run: the socket of the one warm interpreter that "
        "their notebooks, terminals and workers share (course/runtime/warm_python.py); at Lab's "
        "terminal it answers `course check`. Unset, each process starts its own."))
    language: str | None = Field(None, validation_alias="COURSE_LANGUAGE", description=(
        "The language of the `course` command, the checks' messages and `make lab`: en or zh; "
        "unset: the locale's (LC_ALL, LC_MESSAGES, LANG: zh_CN.UTF-8 is zh), else en. "
        "`course --lang zh` sets it for one command."))
    cold_python: bool = Field(False, validation_alias="COURSE_COLD_PYTHON", description=(
        "1: run command-line cells as plain new processes, without the warm interpreter."))
    # The lessons about one server engine (chapter 3) make their workspaces on the server of
    # that engine, whatever COURSE_DATABASE_URL says: these name them (course/runtime/engines.py,
    # server_for). A test run sets them from COURSE_TEST_*_URL unless they are given.
    postgresql_server: str = Field("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                                   validation_alias="COURSE_POSTGRESQL_SERVER", description=(
        "The PostgreSQL server of the notebooks and exercises that are about PostgreSQL, unless "
        "COURSE_DATABASE_URL names a PostgreSQL server (then that one)."))
    mariadb_server: str = Field("mysql+pymysql://root@127.0.0.1:3306", validation_alias="COURSE_MARIADB_SERVER",
                                description=(
        "The MariaDB server of the notebooks and exercises that are about MariaDB, unless "
        "COURSE_DATABASE_URL names a MariaDB server (then that one)."))

    @field_validator("progress_file")
    @classmethod
    def _a_file(cls, value: Path | None) -> Path | None:
        # The progress file is replaced when it is unreadable: a folder named here would be moved
        # away with everything in it.
        if value is not None and value.is_dir():
            raise ValueError(f"{value} is a folder; name a file in it, such as {value / 'progress.json'}")
        return value

    @field_validator("language")
    @classmethod
    def _known_language(cls, value: str | None) -> str | None:
        from course import i18n  # the languages the course has

        if value is None:
            return None
        code = i18n.language_code(value)  # zh, ZH, zh_CN, zh-CN.UTF-8: zh
        if code is None:
            raise ValueError(f"not a language of this course; choose from {', '.join(i18n.LANGUAGES)}")
        return code

    @field_validator("check_timeout")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):  # setitimer() refuses inf and nan
            raise ValueError("must be a number of seconds")
        return value


class SuiteSettings(_FromEnvironment):
    """The settings of the test suite and the maintainers' tools (course.lessons.bench,
    course.lessons.engine_probes --record)."""

    test_mariadb_url: str = Field("mysql+pymysql://root@127.0.0.1:3306/test", validation_alias="COURSE_TEST_MARIADB_URL",
                                  description="The MariaDB server the tests, the engines table and the benchmark run on.")
    test_postgresql_url: str = Field("postgresql+psycopg://postgres@127.0.0.1:5432/test",
                                     validation_alias="COURSE_TEST_POSTGRESQL_URL", description=(
        "The PostgreSQL server the tests, the engines table and the benchmark run on."))
    test_engines: Annotated[tuple[str, ...], NoDecode] = Field(ENGINES, validation_alias="COURSE_TEST_ENGINES", description=(
        "The engines the tests run on, comma-separated (the others' tests are deselected)."))
    require_servers: bool = Field(False, validation_alias="COURSE_REQUIRE_SERVERS", description=(
        "1: a server that does not answer fails its tests instead of skipping them."))
    ci: bool = Field(False, validation_alias="CI", description=(
        "Set by CI services; true (1, true, yes) acts as COURSE_REQUIRE_SERVERS=1, and the "
        "browser tests (JupyterLab, the website) then fail rather than skip without their browser."))
    chromium: str | None = Field(None, validation_alias="COURSE_CHROMIUM", description=(
        "The Chromium the browser tests drive (a name on PATH or a path); unset: "
        "chromium or chromium-browser."))

    @field_validator("test_engines", mode="before")
    @classmethod
    def _engine_list(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        names = tuple(name.strip() for name in value.split(",") if name.strip())
        unknown = [name for name in names if name not in ENGINES]
        if unknown:
            renamed = " (MariaDB is called mariadb)" if "mysql" in unknown else ""
            raise ValueError(f"unknown {', '.join(unknown)}{renamed}; choose from {', '.join(ENGINES)}")
        if not names:
            raise ValueError(f"names no engine; choose from {', '.join(ENGINES)}")
        return names

    @field_validator("ci", mode="before")
    @classmethod
    def _ci_flag(cls, value: object) -> object:
        # CI services set CI to "true", some to "1" or to their own name: anything but a plain
        # yes counts as no, never as an error that stops the run.
        if isinstance(value, str):
            return value.strip().lower() in {"1", "true", "yes"}
        return value

    @property
    def servers_required(self) -> bool:
        return self.require_servers or self.ci

    def server_url(self, engine: str) -> str:
        """The URL set (or the default) for 'mariadb' or 'postgresql', as written."""
        return {"mariadb": self.test_mariadb_url, "postgresql": self.test_postgresql_url}[engine]


# Names an earlier version read. Refused with the new name rather than ignored: a server URL
# set under an old name would otherwise be replaced by the default without a word.
RETIRED = {
    "COURSE_TEST_MYSQL_URL": "COURSE_TEST_MARIADB_URL",
    "COURSE_TEST_POSTGRES_URL": "COURSE_TEST_POSTGRESQL_URL",
    "COURSE_MARIADB_URL": "COURSE_TEST_MARIADB_URL",
    "COURSE_POSTGRESQL_URL": "COURSE_TEST_POSTGRESQL_URL",
}


def variable(settings_class: type[BaseSettings], field: str) -> str:
    """The environment variable a field is read from."""
    return settings_class.model_fields[field].validation_alias


@functools.cache
def variables(settings_class: type[BaseSettings]) -> dict[str, str]:
    """{environment variable: field name} for every field of the class."""
    return {variable(settings_class, name): name for name in settings_class.model_fields}


@functools.lru_cache(maxsize=16)
def _load_for(settings_class: type[BaseSettings], values: tuple):
    """_load(), kept per value of the class's variables; an error is not kept (lru_cache
    keeps only results), so it is raised at every call."""
    return _load(settings_class)


def _load(settings_class: type[BaseSettings]):
    try:
        return settings_class()
    except ValidationError as exc:
        error = exc.errors()[0]
        name = str(error["loc"][0])  # the variable: every field is read by its alias
        message = error["msg"].removeprefix("Value error, ")
        raise SettingsError(f"{name}={error['input']!r} is invalid: {message}") from None


def _values(settings_class: type[BaseSettings]) -> tuple:
    return tuple(os.environ.get(name) for name in variables(settings_class))


def current() -> CourseSettings:
    """The course's settings, as the environment says now."""
    return _load_for(CourseSettings, _values(CourseSettings))


def suite() -> SuiteSettings:
    """The test suite's settings, as the environment says now."""
    for old, new in RETIRED.items():
        if os.environ.get(old, "").strip():
            raise SettingsError(f"{old} was renamed {new}: set that instead (and unset {old})")
    return _load_for(SuiteSettings, _values(SuiteSettings))
