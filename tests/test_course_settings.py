"""The course's own settings (course/settings.py), its workspaces' parameters, and a second
project variant: what README.md says is what the code reads, a bad value is one line naming
its variable, and a workspace is made from parameters, not from a changed environment.

(tests/test_settings.py is about the sample project's settings, DATABASE_URL and the rest.)
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from course import REPO, settings
from course.learner import cli, exercises
from course.runtime import engines, errors, evidence, workspace
from course.settings import CourseSettings, SuiteSettings

CLASSES = (CourseSettings, SuiteSettings)
UNREACHABLE = "postgresql+psycopg://nobody@127.0.0.1:9/nothing"  # nothing listens on port 9


# -- README.md documents every setting --------------------------------------------------------
def readme_settings() -> dict[str, tuple[str, str]]:
    """{variable: (default cell, what it does)} from the table under README.md's "## Settings"."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        found = re.fullmatch(r"\| `([A-Z_]+)` \| (.*?) \| (.*) \|", line)
        if found:
            rows[found[1]] = (found[2], found[3])
    return rows


def test_the_readme_table_lists_every_setting_and_nothing_else():
    documented = readme_settings()
    read = {name for cls in CLASSES for name in settings.variables(cls)}
    assert set(documented) == read
    assert len(documented) == sum(len(cls.model_fields) for cls in CLASSES)  # no variable twice


@pytest.mark.parametrize("variable, cls, field", [
    pytest.param(variable, cls, field, id=variable) for cls in CLASSES for variable, field in settings.variables(cls).items()
])
def test_the_readme_states_each_default(variable, cls, field):
    default = cls.model_fields[field].default
    cell, what = readme_settings()[variable]
    assert what.strip(), f"{variable}: say what it does"
    if default in (None, "", False):
        assert cell.startswith("unset"), f"{variable}: the default is to leave it unset, the table says {cell!r}"
    else:
        shown = ",".join(default) if isinstance(default, tuple) else f"{default:g}" if isinstance(default, float) else str(default)
        assert shown in cell, f"{variable}: the default is {shown}, the table says {cell!r}"


def test_every_setting_says_what_it_does():
    for cls in CLASSES:
        for name, info in cls.model_fields.items():
            assert info.description and info.validation_alias, f"{cls.__name__}.{name}"


# -- values -----------------------------------------------------------------------------------
@pytest.mark.parametrize("variable, value, read, reason", [
    ("COURSE_CHECK_TIMEOUT", "abc", settings.current, "valid number"),
    ("COURSE_CHECK_TIMEOUT", "0", settings.current, "greater than 0"),
    ("COURSE_CHECK_TIMEOUT", "inf", settings.current, "a number of seconds"),
    ("COURSE_COLD_PYTHON", "maybe", settings.current, "valid boolean"),
    ("COURSE_RUN_ID", "../x", settings.current, "should match"),
    ("COURSE_TEST_ENGINES", "sqlite,mysql", settings.suite, "unknown mysql (MariaDB is called mariadb)"),
    ("COURSE_TEST_ENGINES", " , ", settings.suite, "names no engine"),
    ("COURSE_REQUIRE_SERVERS", "2", settings.suite, "valid boolean"),
])
def test_a_bad_value_is_one_line_naming_its_variable(monkeypatch, variable, value, read, reason):
    monkeypatch.setenv(variable, value)
    with pytest.raises(settings.SettingsError) as caught:
        read()
    message = str(caught.value)
    assert message.startswith(f"{variable}={value!r} is invalid: ") and reason in message
    assert "\n" not in message


def test_values_are_typed_and_changes_are_seen_at_the_next_call(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "2.5")
    monkeypatch.setenv("COURSE_LEARNER_DIR", str(tmp_path))
    monkeypatch.setenv("COURSE_COLD_PYTHON", "1")
    first = settings.current()
    assert (first.check_timeout, first.learner_dir, first.cold_python) == (2.5, tmp_path, True)
    monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "7")  # kept per value: a change is a new reading
    monkeypatch.setenv("COURSE_COLD_PYTHON", "")  # empty: as if unset
    second = settings.current()
    assert (second.check_timeout, second.cold_python) == (7.0, False)
    monkeypatch.delenv("COURSE_CHECK_TIMEOUT")
    assert settings.current().check_timeout == 20.0


def test_ci_counts_only_a_plain_yes(monkeypatch):
    monkeypatch.delenv("COURSE_REQUIRE_SERVERS", raising=False)
    for value, required in (("true", True), ("1", True), ("woodpecker", False), ("false", False)):
        monkeypatch.setenv("CI", value)
        assert settings.suite().servers_required is required, value


def test_test_engines_are_a_tuple_of_course_names(monkeypatch):
    monkeypatch.setenv("COURSE_TEST_ENGINES", " postgresql , sqlite")
    assert settings.suite().test_engines == ("postgresql", "sqlite")


@pytest.mark.parametrize("old, new", list(settings.RETIRED.items()))
def test_a_retired_name_is_refused_with_the_new_one(monkeypatch, old, new):
    monkeypatch.setenv(old, "mysql+pymysql://root@db/test")
    with pytest.raises(settings.SettingsError, match=rf"^{old} was renamed {new}: "):
        settings.suite()
    settings.current()  # the learner's settings do not care


def test_the_cli_stops_on_a_bad_setting_with_exit_3_and_one_line(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("COURSE_LEARNER_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.json"))
    monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "abc")
    for argv in (["list"], ["check", "add-email"]):
        assert cli.main(argv) == cli.SETUP_PROBLEM
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == "COURSE_CHECK_TIMEOUT='abc' is invalid: Input should be a valid number, unable to parse string as a number\n"
    assert not (tmp_path / "progress.json").exists()  # nothing was done


def test_a_bad_setting_from_a_shell_is_one_line_too(tmp_path):
    env = {**os.environ, "COURSE_COLD_PYTHON": "sometimes", "COURSE_LEARNER_DIR": str(tmp_path / "work"),
           "COURSE_PROGRESS_FILE": str(tmp_path / "progress.json")}
    listed = subprocess.run([sys.executable, "-m", "course", "list"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == cli.SETUP_PROBLEM and listed.stdout == ""
    assert listed.stderr.splitlines() == [
        "COURSE_COLD_PYTHON='sometimes' is invalid: Input should be a valid boolean, unable to interpret input"]


def test_a_check_run_from_a_notebook_reports_a_bad_setting_as_a_setup_problem(monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "-1")
    result = exercises.run_check(exercises.get("add-email"))
    assert result.setup_problem and not result.ok
    assert result.message.startswith("COURSE_CHECK_TIMEOUT='-1' is invalid: ")


# -- one engine vocabulary ------------------------------------------------------------------
@pytest.mark.parametrize("url, name", [
    (None, "sqlite"), ("sqlite:///x.db", "sqlite"), ("mysql+pymysql://root@db/test", "mariadb"),
    ("postgresql+psycopg://postgres@db/test", "postgresql"),
])
def test_engine_names_are_the_courses(url, name):
    assert engines.name_of(url) == name
    assert name in engines.ENGINE_TITLES


def test_engine_name_says_mariadb_for_a_mariadb_url(monkeypatch):
    monkeypatch.setenv("COURSE_DATABASE_URL", "mysql+pymysql://root@127.0.0.1:3306/test")
    assert engines.engine_name() == "mariadb"
    monkeypatch.delenv("COURSE_DATABASE_URL")
    assert engines.engine_name() == "sqlite"


# -- one way to word a database error ---------------------------------------------------------
def test_the_wordings_of_one_reading():
    import psycopg.errors
    import pymysql.err
    from sqlalchemy.exc import DBAPIError

    def wrapped(orig):
        return DBAPIError("UPDATE x SET y = 1", {}, orig)

    lock = wrapped(pymysql.err.OperationalError(1205, "Lock wait timeout exceeded; try restarting transaction"))
    assert errors.short(lock) == "error 1205: Lock wait timeout exceeded"
    assert errors.reason(lock) == "1205: Lock wait timeout exceeded"
    assert errors.said(lock) == "(1205) Lock wait timeout exceeded; try restarting transaction"
    assert errors.typed(lock) == "OperationalError: (1205, 'Lock wait timeout exceeded; try restarting transaction')"
    assert errors.error_text(lock) == "(1205) Lock wait timeout exceeded; try restarting transaction"
    orphan = wrapped(pymysql.err.IntegrityError(1452, "Cannot add or update a child row: a foreign key constraint "
                                                      "fails (`mip_x`.`post`, CONSTRAINT ...)"))
    assert errors.error_text(orphan) == "(1452) Cannot add or update a child row: a foreign key constraint fails"
    null = wrapped(psycopg.errors.NotNullViolation('null value in column "email"\nDETAIL:  Failing row contains (1).'))
    assert (errors.short(null), errors.reason(null)) == ("error: NotNullViolation", "NotNullViolation")
    assert errors.said(null) == 'null value in column "email" DETAIL:  Failing row contains (1).'
    assert errors.error_text(null) == 'NotNullViolation: null value in column "email" DETAIL: Failing row contains (1).'
    assert evidence.error_text is errors.error_text  # the name the notebooks call
    assert errors.one_line("cannot\n   reach  it") == "cannot reach it"


# -- workspaces from parameters ----------------------------------------------------------------
def test_fresh_takes_its_server_as_a_parameter(monkeypatch, tmp_path):
    """server=None is SQLite whatever COURSE_DATABASE_URL says; nothing connects to that server."""
    monkeypatch.setenv("COURSE_DATABASE_URL", UNREACHABLE)
    with workspace.isolated():
        ws = workspace.fresh("on-sqlite", "0001", server=None, root=tmp_path)
        assert ws.url == f"sqlite:///{ws.path / 'app.db'}" and ws.server is None
        assert os.environ["DATABASE_URL"] == ws.url  # fresh()'s documented job
        ws.upgrade("head")
        assert ws.current() == "0001"
        ws.discard()
    assert os.environ["COURSE_DATABASE_URL"] == UNREACHABLE  # never changed on the way


def test_the_sandbox_is_sqlite_without_touching_the_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_LEARNER_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("COURSE_DATABASE_URL", UNREACHABLE)
    environment = dict(os.environ)
    project = exercises.make_sandbox(exercises.get("add-email"))
    assert (project / "alembic.ini").is_file()
    assert dict(os.environ) == environment


# -- a second variant of the project -----------------------------------------------------------
MINIMAL_ENV_PY = '''import os

from alembic import context
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from app import models

with create_engine(os.environ["DATABASE_URL"], poolclass=NullPool).connect() as connection:
    context.configure(connection=connection, target_metadata=models.metadata)
    with context.begin_transaction():
        context.run_migrations()
'''
MINIMAL_REVISION = '''"""note table"""
from alembic import op
import sqlalchemy as sa

revision = "n1"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("note", sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.String(200)))


def downgrade() -> None:
    op.drop_table("note")
'''


def minimal_project(folder: Path) -> workspace.Project:
    """A throwaway project of its own: an `app` with one model, Alembic, one revision; two
    stages, "bare" (no revision yet) and "noted"."""
    (folder / "app").mkdir(parents=True)
    (folder / "app" / "__init__.py").write_text('VARIANT = "minimal"\n')
    (folder / "app" / "models.py").write_text(
        "import sqlalchemy as sa\n\nmetadata = sa.MetaData()\n"
        'note = sa.Table("note", metadata, sa.Column("id", sa.Integer, primary_key=True), sa.Column("text", sa.String(200)))\n'
    )
    (folder / "alembic" / "versions").mkdir(parents=True)
    (folder / "alembic" / "env.py").write_text(MINIMAL_ENV_PY)
    (folder / "alembic" / "versions" / "n1_note.py").write_text(MINIMAL_REVISION)
    (folder / "alembic.ini").write_text("[alembic]\nscript_location = %(here)s/alembic\npath_separator = os\n")
    (folder / "stale.db").write_text("not copied")

    def derive(copy: Path, stage: str) -> None:
        (copy / "alembic" / "versions" / "n1_note.py").unlink()

    return workspace.Project("minimal", folder, ("bare", "noted"), derive)


def test_a_second_project_variant_gets_working_workspaces(engine_url, tmp_path):
    variant = minimal_project(tmp_path / "source")
    with workspace.isolated():
        bare = workspace.fresh("variant", "bare", project=variant, server=None, root=tmp_path / "copies")
        assert bare.revision_files() == [] and not (bare.path / "stale.db").exists()
        ws = workspace.fresh("variant", project=variant, database=engine_url, root=tmp_path / "copies")
        assert ws.revision_files() == ["n1_note.py"]  # its last stage by default
        assert workspace.import_fresh("app").VARIANT == "minimal"  # the variant's app, not the sample's
        ws.upgrade("head")
        assert ws.current() == "n1"
        assert "note" in ws.inspector().get_table_names()
        with ws.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO note (text) VALUES ('kept')"))
        ws.engine.dispose()
        with pytest.raises(ValueError, match=r"unknown stage '0001'; choose one of bare, noted"):
            workspace.fresh("variant", "0001", project=variant, root=tmp_path / "copies")
    assert (tmp_path / "source" / "alembic" / "versions" / "n1_note.py").is_file()  # the source untouched


def test_notebooks_call_fresh_positionally():
    with workspace.isolated():
        ws = workspace.fresh("positional", "0001")
        assert ws.path.name == "project" and ws.revision_files() == ["0001_init.py"]
        ws.discard()
