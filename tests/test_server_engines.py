"""Notebooks and exercises about one server engine (chapter 3): which server they use, what a
learner sees when it does not answer, and how the test run treats them.

A notebook declares `"course": {"engines": [...]}` in its metadata and makes its workspaces with
`workspace.fresh(name, server="postgresql")`; an exercise declares `engines = [...]` in its
exercise.toml. See chapters/03_zero_downtime/README.md, "For maintainers".
"""

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from course import REPO, syllabus
from course.learner import exercises, lab
from course.runtime import engines, workspace

UNREACHABLE = {"postgresql": "postgresql+psycopg://nobody@127.0.0.1:9/nothing",
               "mariadb": "mysql+pymysql://nobody@127.0.0.1:9/nothing"}  # nothing listens on port 9
ABOUT_SERVERS = [path for path in syllabus.current().notebook_paths() if syllabus.notebook_engines(path)]


@pytest.fixture
def clean_settings(monkeypatch):
    for variable in ("COURSE_DATABASE_URL", "COURSE_POSTGRESQL_SERVER", "COURSE_MARIADB_SERVER"):
        monkeypatch.delenv(variable, raising=False)
    return monkeypatch


# -- which server ------------------------------------------------------------------------------

def test_an_engine_is_its_own_setting_unless_the_course_runs_on_that_engine(clean_settings):
    monkeypatch = clean_settings
    assert engines.setting_for("postgresql") == "COURSE_POSTGRESQL_SERVER"
    assert engines.server_for("postgresql") == make_url("postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    assert engines.server_for("mariadb") == make_url("mysql+pymysql://root@127.0.0.1:3306")
    monkeypatch.setenv("COURSE_DATABASE_URL", "mysql+pymysql://me@db.example/test")
    assert engines.setting_for("mariadb") == "COURSE_DATABASE_URL"
    assert engines.server_for("mariadb") == make_url("mysql+pymysql://me@db.example/test")
    assert engines.setting_for("postgresql") == "COURSE_POSTGRESQL_SERVER"  # the course runs on MariaDB
    monkeypatch.setenv("COURSE_POSTGRESQL_SERVER", "postgresql+psycopg://me@pg.example/x")
    assert engines.server_for("postgresql") == make_url("postgresql+psycopg://me@pg.example/x")


@pytest.mark.parametrize("value, message", [
    ("mysql+pymysql://root@127.0.0.1/test", "COURSE_POSTGRESQL_SERVER names a MariaDB server; it must name a PostgreSQL one"),
    ("postgres://me@db/x", "COURSE_POSTGRESQL_SERVER starts with postgres://, a driver the course does not install; "
                           "write postgresql+psycopg:// instead"),
    ("not a url", "COURSE_POSTGRESQL_SERVER is not a database URL"),
])
def test_a_server_setting_that_cannot_be_used_is_one_line_naming_it(clean_settings, value, message):
    clean_settings.setenv("COURSE_POSTGRESQL_SERVER", value)
    with pytest.raises(engines.EngineSetupError) as raised:
        engines.server_for("postgresql")
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)


def test_a_workspace_on_a_server_that_does_not_answer_names_the_variable(clean_settings, tmp_path):
    clean_settings.setenv("COURSE_MARIADB_SERVER", UNREACHABLE["mariadb"])
    with workspace.isolated(), pytest.raises(engines.EngineSetupError) as raised:
        workspace.fresh("unreachable", "0002", server="mariadb", root=tmp_path)
    message = str(raised.value)
    assert message.startswith("cannot reach mysql+pymysql://nobody@127.0.0.1:9/nothing (")
    assert message.endswith("; check COURSE_MARIADB_SERVER") and "\n" not in message


def test_each_workspace_migrates_its_own_database(tmp_path):
    """A notebook keeps one workspace per server: Alembic commands of the older one must not
    run on the newer one's database (DATABASE_URL names the newest)."""
    with workspace.isolated():
        first = workspace.fresh("first", "0002", server="sqlite", root=tmp_path)
        second = workspace.fresh("second", "0002", server="sqlite", root=tmp_path)
        first.upgrade("head")
        assert (first.current(), second.current()) == ("0002", None)
        assert os.environ["DATABASE_URL"] == second.url
        first.discard(), second.discard()


# -- notebooks ---------------------------------------------------------------------------------

def test_the_chapter_3_lessons_of_this_branch_declare_both_servers():
    declared = {path.name: syllabus.notebook_engines(path) for path in ABOUT_SERVERS}
    for name in ("17_lock_queue.ipynb", "18_online_indexes.ipynb", "20_constraints_in_two_steps.ipynb"):
        assert declared[name] == ("postgresql", "mariadb")
    assert syllabus.notebook_engines(REPO / "notebooks" / "15_transactions.ipynb") == ()


def test_a_declaration_the_course_cannot_use_is_one_line(tmp_path):
    notebook = tmp_path / "99_x.ipynb"
    notebook.write_text(json.dumps({"cells": [], "metadata": {"course": {"engines": ["mysql"]}}}))
    with pytest.raises(syllabus.SyllabusError, match=r"metadata course.engines must be a non-empty list of "
                                                     r"mariadb and postgresql, not \['mysql'\]$"):
        syllabus.notebook_engines(notebook)


def test_a_notebook_about_servers_makes_its_workspaces_on_them():
    for path in ABOUT_SERVERS:
        sources = "".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "code")
        assert 'server=engine' in sources or 'server="postgresql"' in sources, path.name


def _pytest(notebook: Path, **env: str) -> subprocess.CompletedProcess:
    """A test run of one notebook, in a process of its own (its own conftest set-up)."""
    variables = {k: v for k, v in os.environ.items()
                 if not k.startswith(("COURSE_RUN_ID", "COURSE_WORKDIR", "COURSE_WARM", "PYTEST_", "COURSE_POSTGRESQL_SERVER",
                                      "COURSE_MARIADB_SERVER", "COURSE_REQUIRE", "COURSE_TEST_ENGINES", "CI"))}
    return subprocess.run([sys.executable, "-m", "pytest", "-n", "0", "-q", "-rs", str(notebook)],
                          cwd=REPO, env={**variables, **env}, capture_output=True, text=True, timeout=300)


@pytest.mark.long
def test_a_notebook_whose_server_does_not_answer_is_skipped_with_one_line_and_fails_in_ci():
    notebook = REPO / "notebooks" / "17_lock_queue.ipynb"
    # Three runs of their own, side by side: each spends most of its time starting pytest.
    with ThreadPoolExecutor(3) as pool:
        skipped, required, deselected = pool.map(lambda env: _pytest(notebook, **env), [
            {"COURSE_TEST_POSTGRESQL_URL": UNREACHABLE["postgresql"]},
            {"COURSE_TEST_POSTGRESQL_URL": UNREACHABLE["postgresql"], "COURSE_REQUIRE_SERVERS": "1"},
            {"COURSE_TEST_ENGINES": "sqlite,postgresql"},
        ])
    assert skipped.returncode == 0, skipped.stdout[-2000:]
    line = next(line for line in skipped.stdout.splitlines() if line.startswith("SKIPPED"))
    assert "17_lock_queue.ipynb is about PostgreSQL and MariaDB; postgresql+psycopg://nobody@127.0.0.1:9/nothing " \
           "does not answer (" in line
    assert line.endswith("): start it, or set COURSE_TEST_POSTGRESQL_URL to a PostgreSQL server")
    assert "Kernel" not in skipped.stdout  # no kernel was started

    assert required.returncode == 1 and "(servers are required: CI or COURSE_REQUIRE_SERVERS is set)" in required.stdout

    assert deselected.returncode == 5 and "deselected" in deselected.stdout  # MariaDB left out: nothing ran


# -- exercises ---------------------------------------------------------------------------------

ABOUT = [e for e in exercises.all_exercises() if e.about_servers]


def test_an_exercise_about_servers_is_checked_on_its_server_whatever_the_course_runs_on(clean_settings):
    for exercise in ABOUT:
        assert exercises.check_server(exercise) == exercise.engines[0]  # SQLite configured
        assert exercises.check_engine(exercise) == exercise.engines[0]
        assert all(attempt.only and set(attempt.only) <= set(exercise.engines)
                   for attempt in (exercise.starter, *exercise.wrong)), exercise.id
    clean_settings.setenv("COURSE_DATABASE_URL", "mysql+pymysql://root@127.0.0.1/test")
    lock_timeout = exercises.get("lock-timeout")
    assert exercises.check_engine(lock_timeout) == "mariadb"  # the configured server, one of its engines
    assert exercises.check_engine(exercises.get("concurrent-index")) == "postgresql"


def test_checking_an_exercise_about_servers_on_sqlite_is_refused_in_one_line():
    exercise = exercises.get("concurrent-index")
    result = exercises.run_check(exercise, exercise.solution_files(), server="sqlite")
    assert result.setup_problem and not result.ok
    assert result.message == "concurrent-index is about PostgreSQL: it is not checked on SQLite"


def test_a_check_whose_server_does_not_answer_says_which_variable_to_set(clean_settings, tmp_path):
    clean_settings.setenv("COURSE_POSTGRESQL_SERVER", UNREACHABLE["postgresql"])
    clean_settings.setenv("COURSE_LEARNER_DIR", str(tmp_path / "work"))
    result = exercises.run_check(exercises.get("fk-two-steps"))
    assert result.setup_problem and "\n" not in result.message
    assert result.message.startswith("fk-two-steps is about PostgreSQL: cannot reach postgresql+psycopg://nobody@127.0.0.1:9/nothing (")
    assert result.message.endswith("; check COURSE_POSTGRESQL_SERVER")


def test_course_show_says_where_an_exercise_about_servers_is_checked(capsys, clean_settings, tmp_path):
    from course.learner import cli

    clean_settings.setenv("COURSE_LEARNER_DIR", str(tmp_path / "work"))
    clean_settings.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.json"))
    assert cli.main(["show", "lock-timeout"]) == 0
    assert ("It is about PostgreSQL and MariaDB: a check runs on the server COURSE_DATABASE_URL names if it is one of "
            "them, else on the PostgreSQL server COURSE_POSTGRESQL_SERVER names (README.md, Settings).") in capsys.readouterr().out


# -- make lab ----------------------------------------------------------------------------------

def test_make_lab_says_which_notebooks_need_which_server_and_whether_it_answers(clean_settings):
    clean_settings.setenv("COURSE_MARIADB_SERVER", UNREACHABLE["mariadb"])
    clean_settings.setattr(engines, "unreachable", lambda url, timeout=2: (
        f"{url.render_as_string(hide_password=True)} does not answer (refused)" if url.port == 9 else None))
    notes = lab.server_notes()
    labels = ", ".join(syllabus.Notebook(p.name, "", "", 1, 0, "").label for p in ABOUT_SERVERS)
    assert notes == [
        "Notebooks about one server make their databases on it (the others: COURSE_DATABASE_URL, SQLite files when unset):",
        f"  MariaDB (notebooks {labels}): mysql+pymysql://nobody@127.0.0.1:9/nothing does not answer (refused): "
        "start it, or set COURSE_MARIADB_SERVER to a MariaDB server URL",
        f"  PostgreSQL (notebooks {labels}): postgresql+psycopg://postgres@127.0.0.1:5432/postgres answers",
    ]
