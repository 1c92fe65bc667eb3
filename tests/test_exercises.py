"""The exercise checkers proven: every reference solution passes, every untouched starter and
every stored wrong attempt fails with the message its exercise.toml names, and a check never
touches the learner's files nor leaves the calling process changed.

Checks run on the engine COURSE_DATABASE_URL names (SQLite by default); the *_on_server tests
run every solution on MariaDB and PostgreSQL too (skipped without a server, failed in CI).
"""

import contextlib
import os
import re
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from course import REPO, i18n, syllabus
from course.learner import exercises, progress
from course.runtime import workspace
from course.learner import checks
from course.learner.checks import Fail, compare
from course.settings import ENGINES

ALL = exercises.all_exercises()
IDS = [e.id for e in ALL]


@pytest.fixture(autouse=True)
def learner_area(tmp_path, monkeypatch) -> Path:
    """The learner's files and progress in this test's own directory."""
    monkeypatch.setenv("COURSE_LEARNER_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.json"))
    return tmp_path / "work"


# -- the exercises' definitions --------------------------------------------------------------

def test_there_are_at_least_eight_exercises_with_unique_ids_in_syllabus_order():
    assert len(ALL) >= 8
    assert len(set(IDS)) == len(IDS)
    assert IDS == [e.id for c in syllabus.chapters() for e in c.exercises]
    for chapter in syllabus.chapters():
        numbers = [e.number for e in ALL if e.chapter == chapter.id]
        assert numbers == list(range(1, len(chapter.exercises) + 1)), f"{chapter.id}: numbers {numbers}"


def test_an_exercise_follows_a_notebook_of_its_own_chapter():
    for exercise in ALL:
        assert exercise.notebook in [n.file for n in syllabus.chapter(exercise.chapter).notebooks], exercise.id


@pytest.mark.parametrize("exercise", ALL, ids=IDS)
def test_definition_is_complete(exercise):
    assert re.fullmatch(r"[a-z0-9-]+", exercise.id)
    assert exercise.stage in workspace.STAGES
    assert exercise.notebook_path().is_file(), f"{exercise.notebook} does not exist"
    assert exercise.task and exercise.title
    assert len(exercise.hints) >= 2, "hints come in steps"
    assert (exercise.directory / "check.py").is_file()
    for file in exercise.files:
        assert file.starter.is_file() and file.solution.is_file()
        assert file.starter.read_bytes() != file.solution.read_bytes()
    assert exercise.wrong, "at least one plausible wrong attempt per exercise"
    for attempt in exercise.wrong:
        assert all(p.is_file() for p in attempt.files.values()), attempt.name
        assert attempt.expects["expect"] and attempt.why


def test_the_chapter_readme_names_each_exercise_after_the_notebook_it_follows():
    """Its "What to read" table is written by hand (its notes are not in the syllabus), so it
    is checked here; the exercise table below it is generated (tests/test_syllabus.py)."""
    for chapter in {e.chapter for e in ALL}:
        readme = (REPO / "chapters" / chapter / "README.md").read_text(encoding="utf-8")
        for exercise in (e for e in ALL if e.chapter == chapter):
            row = next(line for line in readme.splitlines() if f"notebooks/{exercise.notebook})" in line)
            assert f"{exercise.number} `{exercise.id}`" in row, f"{exercise.id} not listed after {exercise.notebook}"


def test_wire_env_starter_is_the_sample_env_without_the_models():
    """The starter must follow the sample project's env.py, or the exercise teaches a stale file."""
    sample = (REPO / "sample_project/alembic/env.py").read_text(encoding="utf-8")
    starter = exercises.get("wire-env").files[0].starter.read_text(encoding="utf-8")
    expected = sample.replace(
        "from app.models import Base  # imports every model module, so autogenerate sees every table\n", ""
    ).replace(
        "target_metadata = Base.metadata\n",
        "# add your model's MetaData object here\n# for 'autogenerate' support\n"
        "# from myapp import mymodel\n# target_metadata = mymodel.Base.metadata\ntarget_metadata = None\n",
    )
    assert starter == expected


def test_model_not_imported_starter_is_the_sample_models_package():
    sample = (REPO / "sample_project/app/models/__init__.py").read_bytes()
    assert exercises.get("model-not-imported").files[0].starter.read_bytes() == sample


# -- solution, starter, wrong attempts --------------------------------------------------------

# That every solution passes and every starter and wrong attempt fails with its message is
# proven by `course verify-all`, run in full in tests/test_cli.py.

def _cases():
    """Every exercise's solution, starter and wrong attempts, on every engine each applies to:
    one test each, so that the test workers share them out."""
    for engine_id in ENGINES:
        for exercise in ALL:
            if engine_id not in exercise.engines:
                continue  # an exercise about servers is proven on them only
            for attempt in (None, exercise.starter, *exercise.wrong):
                if attempt is None or not attempt.only or engine_id in attempt.only:
                    label = "solution" if attempt is None else attempt.name
                    yield pytest.param(exercise, attempt, engine_id, id=f"{exercise.id}-{label}-{engine_id}")


# The proofs on SQLite and PostgreSQL run in Chinese, those on MariaDB in English: a message is
# matched on its English source (Result.english_message, course/i18n.py), so one expectation
# proves it in both languages, and in Chinese it must also be shown translated.
PROOF_LANGUAGE = {"sqlite": "zh", "postgresql": "zh", "mariadb": "en"}


@pytest.mark.parametrize("exercise, attempt, check_engine", list(_cases()), indirect=["check_engine"])
def test_every_checker_is_proven(exercise, attempt, check_engine, monkeypatch):
    """The reference solution passes; the untouched starter and each wrong attempt fail with the
    message named in exercise.toml. (`course verify-all` does the same, one engine at a time.)
    How long a check takes is measured (pytest --durations), never asserted."""
    engine, server = check_engine
    language = PROOF_LANGUAGE[engine]
    monkeypatch.setenv(i18n.VARIABLE, language)
    assert exercise.wrong, f"{exercise.id} has no plausible wrong attempt"
    if attempt is None:
        result = exercises.run_check(exercise, exercise.solution_files(), server=server)
        assert result.ok, f"the solution fails: {result.message}"
        return
    result = exercises.run_check(exercise, attempt.files, server=server)
    assert not result.ok, f"{attempt.name} passes; it should fail: {attempt.why}"
    expected = attempt.expected(engine)
    assert expected in result.english_message, f"{attempt.name} fails, but not with {expected!r}"
    if language != i18n.SOURCE:
        assert result.message != result.english_message, (
            f"{attempt.name}: the message is shown in English, not translated: {result.message!r}")


# fk-orphans on PostgreSQL: the production form, orphans repaired, the constraint added NOT VALID,
# then validated in a transaction of its own, passes as the plain form does.
TWO_STEP_FK = ("""
    with op.batch_alter_table('post', schema=None) as batch_op:
        batch_op.create_foreign_key(batch_op.f('fk_post_author_id_user'), 'user', ['author_id'], ['id'])
""", """
    op.create_foreign_key(op.f('fk_post_author_id_user'), 'post', 'user', ['author_id'], ['id'],
                          postgresql_not_valid=True)
    with op.get_context().autocommit_block():
        op.execute('ALTER TABLE post VALIDATE CONSTRAINT fk_post_author_id_user')
""")


@pytest.mark.parametrize("check_engine", ["postgresql"], indirect=True)
def test_fk_orphans_accepts_repair_then_not_valid_then_validate_on_postgresql(check_engine, tmp_path):
    exercise = exercises.get("fk-orphans")
    [(name, solution)] = exercise.solution_files().items()
    text = solution.read_text(encoding="utf-8")
    assert text.count(TWO_STEP_FK[0]) == 1
    two_step = tmp_path / name
    two_step.write_text(text.replace(*TWO_STEP_FK), encoding="utf-8")
    result = exercises.run_check(exercise, {name: two_step}, server=check_engine[1])
    assert result.ok, result.message


# The user table at 0005 as the tests below write it (the solution's revisions made it).
EC_USER = sa.table("user", sa.column("id"), sa.column("login"), sa.column("username"),
                   sa.column("email"), sa.column("password_hash"))
UQ_USERNAME_VALID = "SELECT indisvalid FROM pg_index WHERE indexrelid = 'uq_user_username'::regclass"


@contextlib.contextmanager
def expand_contract_at_head(check_engine, tmp_path, logins: dict[int, str], usernames: dict[int, str]):
    """The expand-contract solution at 0005 with users `logins`, then, as a 0005 downgrade that
    stopped half-way leaves it, username back and holding `usernames`."""
    exercise = exercises.get("expand-contract")
    ws = workspace.fresh("ec-rerun", exercise.stage, server=exercises.check_server(exercise, check_engine[1]),
                         root=tmp_path)
    try:
        exercises.lay_out(exercise, ws.path, exercise.solution_files())
        ws.upgrade("head")
        quoted = ws.engine.dialect.identifier_preparer.quote("user")
        with ws.engine.begin() as connection:
            connection.execute(EC_USER.insert(), [{"id": i, "login": name, "email": f"{name}@example.com",
                                                   "password_hash": "x"} for i, name in logins.items()])
            connection.exec_driver_sql(f"ALTER TABLE {quoted} ADD COLUMN username VARCHAR(50)")
            for i, name in usernames.items():
                connection.execute(EC_USER.update().where(EC_USER.c.id == i).values(username=name))
        yield ws, quoted
    finally:
        ws.discard()


def expect_downgraded(ws, names: dict[int, str]) -> None:
    """At 0004, username as release B reads it, and unique again."""
    ws.downgrade("0004")
    assert ws.current() == "0004"
    with ws.engine.connect() as connection:
        assert dict(connection.execute(sa.select(EC_USER.c.id, EC_USER.c.username)).all()) == names
    first, second = sorted(names)
    with pytest.raises(sa.exc.IntegrityError), ws.engine.begin() as connection:
        connection.execute(EC_USER.update().where(EC_USER.c.id == second).values(username=names[first]))
    if ws.dialect == "postgresql":
        with ws.engine.connect() as connection:
            assert connection.exec_driver_sql(UQ_USERNAME_VALID).scalar() is True


@pytest.mark.parametrize("check_engine", ENGINES, indirect=True)
def test_expand_contract_solution_finishes_0005_s_downgrade_where_it_stopped(check_engine, tmp_path):
    """A rollback is when a step gives up (a lock limit, a duplicate): the solution's 0005
    downgrade, stopped half-way, runs again to the end. Half-way here: username back and
    filled, with a duplicate C's renames could leave, and the unique build failed on it
    (PostgreSQL keeps the failed CONCURRENTLY build as an INVALID index)."""
    with expand_contract_at_head(check_engine, tmp_path, {1: "ann", 2: "bob"}, {1: "ann", 2: "ann"}) as (ws, quoted):
        if ws.dialect == "postgresql":
            with ws.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                with pytest.raises(sa.exc.IntegrityError):
                    connection.exec_driver_sql(f"CREATE UNIQUE INDEX CONCURRENTLY uq_user_username ON {quoted} (username)")
                assert connection.exec_driver_sql(UQ_USERNAME_VALID).scalar() is False
        expect_downgraded(ws, {1: "ann", 2: "bob"})


@pytest.mark.parametrize("check_engine", ["mariadb", "postgresql"], indirect=True)
def test_expand_contract_solution_re_runs_0005_s_downgrade_with_the_unique_rule_already_built(check_engine, tmp_path):
    """Half-way later: the unique rule was built, then a last step gave up (the ALTER under
    env.py's limit, say), while C's renames crossed two names: user 1 took 'bob', which user
    2000 gave up and still holds as a stale username. Users 1 and 2000 fall in different
    batches, so a copy in one pass gives user 1 'bob' while user 2000 still holds it.
    (SQLite adds the rule in the downgrade's last batch operation, with nothing after it.)"""
    with expand_contract_at_head(check_engine, tmp_path, {1: "bob", 2000: "dan"}, {1: "ann", 2000: "bob"}) as (ws, quoted):
        with ws.engine.begin() as connection:
            connection.exec_driver_sql(f"CREATE UNIQUE INDEX uq_user_username ON {quoted} (username)")
        expect_downgraded(ws, {1: "bob", 2000: "dan"})

# -- the learner's files ------------------------------------------------------------------------

def test_learner_files_come_from_the_starter_once_and_are_never_overwritten(learner_area):
    exercise = exercises.get("add-email")
    [path] = exercises.ensure_learner_files(exercise)
    assert path == learner_area / "add-email" / "0002_add_email_column.py"
    assert path.read_bytes() == exercise.files[0].starter.read_bytes()
    path.write_text("# my work\n", encoding="utf-8")
    exercises.ensure_learner_files(exercise)
    exercises.run_check(exercise)
    assert path.read_text(encoding="utf-8") == "# my work\n"


def test_check_reads_the_learner_file_and_leaves_it_alone(learner_area, capsys):
    exercise = exercises.get("merge-heads")
    path = learner_area / "merge-heads" / "0004_merge.py"
    path.parent.mkdir(parents=True)
    path.write_bytes(exercise.files[0].solution.read_bytes())
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    assert exercises.check("merge-heads") is True
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["0004_merge.py"]
    assert "merge-heads: passed" in capsys.readouterr().out
    assert progress.load()["exercises"]["merge-heads"]["done"] is True


def test_notebook_check_of_the_untouched_starter_says_where_the_exercise_begins(capsys):
    """A practise cell's stored output is this: an invitation, with what the starter lacks."""
    exercise = exercises.get("fk-orphans")
    assert exercises.check("fk-orphans") is False
    out = capsys.readouterr().out
    assert out.startswith("fk-orphans: your turn. Your copy is still the starter, so the check stops, as expected")
    assert exercise.starter.expected() in out and "not yet" not in out
    assert out.rstrip().endswith('exercises.show("fk-orphans") prints the task and where your copy is; '
                                 "edit it, then run this cell again.")
    assert progress.load()["exercises"]["fk-orphans"]["done"] is False


def test_notebook_check_of_an_edited_copy_prints_the_report_returns_false_and_records_it(capsys):
    exercise = exercises.get("fk-orphans")
    [path] = exercises.ensure_learner_files(exercise)
    path.write_text(path.read_text(encoding="utf-8") + "\n# started on it\n", encoding="utf-8")
    assert not exercises.is_untouched(exercise)
    assert exercises.check("fk-orphans") is False
    out = capsys.readouterr().out
    assert out.startswith("fk-orphans: not yet.") and exercise.starter.expected() in out
    assert "(`course show fk-orphans` says where it is)" in out and "your turn" not in out
    assert progress.load()["exercises"]["fk-orphans"]["done"] is False


def test_notebook_show_hint_and_solution(capsys, learner_area):
    exercises.show("type-in-stages")
    out = capsys.readouterr().out
    assert out.startswith("1.7 Change a column's type in stages  [type-in-stages]\n")
    assert f"Your file: {learner_area / 'type-in-stages' / '0004_price_in_cents.py'}" in out
    assert 'exercises.check("type-in-stages")' in out
    exercises.hint("type-in-stages")
    assert capsys.readouterr().out.startswith(f"Hint 1/{len(exercises.get('type-in-stages').hints)}: ")
    exercises.solution("type-in-stages")
    out = capsys.readouterr().out
    assert out.startswith("# alembic/versions/0004_price_in_cents.py\n") and "sa.Numeric(10, 2)" in out


def test_a_check_leaves_the_calling_process_as_it_was(tmp_path):
    """A notebook runs a check between its own cells: its workspace must keep working."""
    with workspace.isolated():  # this test is the notebook: its own workspace goes afterwards
        ws = workspace.fresh("calling-notebook", "0002", root=tmp_path)
        import app.models  # noqa: F401 - the notebook's own models

        url, path, models = os.environ["DATABASE_URL"], list(sys.path), sys.modules["app.models"]
        exercises.check("add-email")
        assert os.environ["DATABASE_URL"] == url == ws.url
        assert sys.path == path
        assert sys.modules["app.models"] is models
        ws.upgrade("head")
        assert ws.current() == "0002"
        ws.discard()


def test_syntax_error_is_reported_as_file_and_line(learner_area):
    exercise = exercises.get("add-email")
    [path] = exercises.ensure_learner_files(exercise)
    text = path.read_text(encoding="utf-8").replace("def upgrade() -> None:", "def upgrade() -> None")
    path.write_text(text, encoding="utf-8")  # the colon forgotten
    line = text.splitlines().index("def upgrade() -> None") + 1
    result = exercises.run_check(exercise)
    assert not result.ok
    assert result.message.startswith(f"{path}:{line}: SyntaxError: ")
    assert result.message.endswith("\n    def upgrade() -> None")


def test_an_error_raised_in_the_learners_code_names_its_line(learner_area):
    exercise = exercises.get("add-email")
    [path] = exercises.ensure_learner_files(exercise)
    text = path.read_text(encoding="utf-8").replace(
        "sa.Column('email', sa.String(length=120)", "sa.Column('email', String(120)"
    )  # the article's NameError: a revision imports only `sa`
    path.write_text(text, encoding="utf-8")
    line = next(i for i, l in enumerate(text.splitlines(), 1) if "String(120)" in l)
    result = exercises.run_check(exercise)
    assert not result.ok
    assert f"0002_add_email_column.py:{line}: NameError: name 'String' is not defined" in result.message
    assert "Traceback" not in result.message


def test_a_bug_in_a_check_is_one_line_not_a_traceback(monkeypatch):
    exercise = exercises.get("wire-env")

    def broken(run):
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(exercises, "_load_checker", lambda e: broken)
    result = exercises.run_check(exercise, exercise.solution_files())
    assert not result.ok
    assert result.message.startswith("the check itself failed (ZeroDivisionError")


def test_unknown_exercise_lists_the_valid_ids():
    with pytest.raises(exercises.UnknownExercise) as raised:
        exercises.get("nope")
    assert all(i in str(raised.value) for i in IDS)


def test_hints_come_one_at_a_time_and_then_stop():
    exercise = exercises.get("wire-env")
    total = len(exercise.hints)
    for number in range(1, total + 1):
        assert exercises.next_hint(exercise).startswith(f"Hint {number}/{total}: ")
    assert exercises.next_hint(exercise).startswith(f"No more hints ({total} shown)")
    assert progress.load()["exercises"]["wire-env"]["hints_shown"] == total


def test_verify_finds_a_solution_that_fails_and_a_starter_that_passes():
    import dataclasses

    exercise = exercises.get("init-migration")
    [file] = exercise.files
    swapped = dataclasses.replace(
        exercise,
        files=(dataclasses.replace(file, solution=file.starter),),
        starter=dataclasses.replace(exercise.starter, files={file.name: file.solution}),
        wrong=(),
    )
    problems = exercises.verify(swapped)
    assert problems[0].startswith("the solution fails: after upgrading to 0001, there is no table user")
    assert problems[1] == "the untouched starter passes"


def test_schema_comparison_words():
    before = {"user": {"columns": {"username": {"type": "VARCHAR(50)", "nullable": False, "comment": None}},
                       "indexes": {}, "uniques": {}, "foreign_keys": {}}}
    after = {"user": {"columns": {"username": {"type": "VARCHAR(80)", "nullable": True, "comment": None},
                                  "display_name": {"type": "VARCHAR(100)", "nullable": True, "comment": None}},
                      "indexes": {"ix_user_email": (("email",), True)}, "uniques": {}, "foreign_keys": {}}}
    assert list(compare(before, after, what="downgrading to 0002")) == [
        "downgrading to 0002 left column user.display_name behind",
        "after downgrading to 0002, user.username is VARCHAR(80); it was VARCHAR(50)",
        "after downgrading to 0002, user.username allows NULL; it was NOT NULL",
        "downgrading to 0002 left index ix_user_email on user behind",
    ]
    assert issubclass(Fail, Exception)


def test_an_endless_loop_in_the_learners_code_is_stopped_with_a_message(learner_area, monkeypatch):
    monkeypatch.setenv("COURSE_CHECK_TIMEOUT", "1")
    exercise = exercises.get("add-email")
    exercises.ensure_learner_files(exercise)
    [path] = exercise.learner_paths()
    path.write_text(path.read_text().replace("def upgrade() -> None:\n", "def upgrade() -> None:\n    while True:\n        pass\n"))
    result = exercises.run_check(exercise)
    assert not result.ok
    assert result.message == (
        "upgrading to 0002 with 3 users in the table did not finish within 1 s: is there an endless loop in your code?"
    )


def test_a_revision_that_imports_the_app_fails_with_the_reason(learner_area):
    """Learner code runs in a child process where `import app` inside a revision is refused."""
    exercise = exercises.get("add-email")
    [path] = exercises.ensure_learner_files(exercise)
    path.write_bytes(exercise.files[0].solution.read_bytes())
    text = path.read_text(encoding="utf-8").replace("def upgrade() -> None:\n", "def upgrade() -> None:\n    from app.models import User\n", 1)
    path.write_text(text, encoding="utf-8")
    line = text.splitlines().index("    from app.models import User") + 1
    result = exercises.run_check(exercise)
    assert not result.ok
    assert f"0002_add_email_column.py:{line}: ImportError: a revision must not import the app (app.models)" in result.message


def test_learner_code_cannot_change_the_checker(learner_area):
    """A revision that patches the checker's module patches a copy in another process."""
    exercise = exercises.get("add-email")
    [path] = exercises.ensure_learner_files(exercise)  # the starter: it fails the check
    text = path.read_text(encoding="utf-8") + (
        "\nimport course.learner.checks\ncourse.checks.Run.columns = lambda self, table: "
        "{'email': {'nullable': False}, 'username': {}}\n"
    )
    path.write_text(text, encoding="utf-8")
    before = checks.Run.columns
    result = exercises.run_check(exercise)
    assert not result.ok
    assert checks.Run.columns is before


def test_a_long_check_says_it_is_still_running(learner_area, monkeypatch, tmp_path):
    """The learner's code waits until the note has been given: no race with a clock."""
    monkeypatch.setattr(exercises, "STILL_RUNNING_AFTER", 0.1)
    heard = tmp_path / "heard"
    exercise = exercises.get("add-email")
    [path] = exercises.ensure_learner_files(exercise)
    path.write_text(path.read_text().replace(
        "def upgrade() -> None:\n",
        f"def upgrade() -> None:\n    import os\n    while not os.path.exists({str(heard)!r}):\n        pass\n",
    ))
    notes = []

    def still_running(seconds):
        notes.append(seconds)
        heard.touch()

    result = exercises.run_check(exercise, still_running=still_running)
    assert notes == [0.1]
    assert not result.ok and "the database said" in result.message  # the starter's own failure, after the wait


def test_the_learner_area_is_work_in_the_repository_unless_files_are_in_the_old_place(monkeypatch, tmp_path):
    monkeypatch.delenv("COURSE_LEARNER_DIR", raising=False)
    monkeypatch.setattr(exercises, "REPO", tmp_path)
    assert exercises.learner_root() == tmp_path / "work"  # in view in JupyterLab's file browser
    (tmp_path / ".course" / "work").mkdir(parents=True)
    assert exercises.learner_root() == tmp_path / ".course" / "work"  # a learner's earlier files stay found
    (tmp_path / "work").mkdir()
    assert exercises.learner_root() == tmp_path / "work"


def test_every_exercise_loads():
    assert exercises.broken_exercises() == {}


def test_a_broken_exercise_does_not_take_the_others_with_it(monkeypatch, tmp_path, capsys):
    from course.learner import cli
    from helpers import copy_course

    root = copy_course(tmp_path / "course")
    toml = root / "chapters" / "01_alembic_basics" / "exercises" / "add-email" / "exercise.toml"
    # a wrong attempt whose passage is not in the solution (edited since, say)
    toml.write_text(toml.read_text() + "\n[[wrong]]\nname = 'x'\nexpect = 'y'\nedits = [{ find = 'no such passage', replace = '' }]\n")
    monkeypatch.setattr(syllabus, "ROOT", root)
    assert "add-email" in exercises.broken_exercises()
    assert "wire-env" in [e.id for e in exercises.all_exercises()]
    assert cli.main(["check", "add-email"]) == cli.BROKEN
    assert "cannot be loaded (a course bug" in capsys.readouterr().err
    assert cli.main(["list"]) == 0
    assert "[broken] add-email: chapters/01_alembic_basics/exercises/add-email/exercise.toml" in capsys.readouterr().out


def test_an_engine_name_the_course_does_not_use_breaks_the_exercise(monkeypatch, tmp_path):
    """`only = ["mysql"]` would make an attempt apply nowhere without a word: it is refused."""
    from course import syllabus
    from helpers import copy_course

    root = copy_course(tmp_path / "course")
    chapters = root / "chapters"
    toml = chapters / "01_alembic_basics" / "exercises" / "fk-orphans" / "exercise.toml"
    text = toml.read_text()
    assert 'only = ["mariadb"]' in text
    toml.write_text(text.replace('only = ["mariadb"]', 'only = ["mysql"]', 1))
    other = chapters / "01_alembic_basics" / "exercises" / "add-email" / "exercise.toml"
    other.write_text(other.read_text().replace("expect_mariadb = ", "expect_mysql = ", 1))
    monkeypatch.setattr(syllabus, "ROOT", root)
    broken = exercises.broken_exercises()
    assert "only names mysql; the engines are sqlite, mariadb, postgresql" in broken["fk-orphans"]
    assert "expect_<engine> names mysql; the engines are sqlite, mariadb, postgresql" in broken["add-email"]


def test_a_full_width_character_in_the_learners_file_is_named_as_one(tmp_path):
    """Pasting with a Chinese input method in full-width mode leaves ；or （ in the code."""
    path = tmp_path / "env.py"
    path.write_text("target_metadata = None；\n", encoding="utf-8")
    message = exercises.syntax_error({"env.py": path})
    assert "(U+FF1B) (a full-width character: type code with the input method in English, half-width mode)\n" in message


def test_real_downgrade_reads_the_user_s_id_in_the_error_not_in_the_file_s_path(tmp_path):
    """A refusal that names nobody fails wherever its file lives, even in a folder whose name
    holds every small number (the check once took the digits of the file's path, which its
    message quotes, for the id of the user with the long name)."""
    exercise = exercises.get("real-downgrade")
    vague = next(a for a in exercise.wrong if a.name == "vague_refusal")
    folder = tmp_path / "users-1-2-3-4-5-6-7-8-9-10-11-12"
    folder.mkdir()
    files = {}
    for name, source in vague.files.items():
        files[name] = folder / name
        files[name].write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    result = exercises.run_check(exercise, files, server="sqlite")
    assert not result.ok and "does not name the user whose name is too long" in result.english_message, result.message
