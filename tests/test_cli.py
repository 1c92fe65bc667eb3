"""The `course` command: list, show, check, hint, solution, reset, watch, quiz, verify-all.

Most tests call cli.main() in-process (fast); one runs `python -m course` as a learner would.
"""

import io
import json
import os
import shutil
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

import course
from course import REPO, syllabus
from course.learner import cli, exercises, progress
from course.runtime import reaper

ALL = exercises.all_exercises()


@pytest.fixture(autouse=True)
def learner_area(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("COURSE_LEARNER_DIR", str(tmp_path / "work"))
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(tmp_path / "progress.json"))
    monkeypatch.delenv("NO_COLOR", raising=False)
    return tmp_path / "work"


@pytest.fixture
def progress_file(tmp_path) -> Path:
    return tmp_path / "progress.json"


def run(capsys, *argv: str) -> tuple[int, str, str]:
    status = cli.main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def solve(exercise_id: str) -> Path:
    """Put the reference solution where the learner's file goes."""
    exercise = exercises.get(exercise_id)
    [path] = exercises.ensure_learner_files(exercise)
    path.write_bytes(exercise.files[0].solution.read_bytes())
    return path


# -- list, show ---------------------------------------------------------------------------------

def test_list_shows_every_exercise_per_chapter_and_progress(capsys):
    status, out, _ = run(capsys, "list")
    assert status == 0
    assert out.startswith("Chapter 1: Alembic in a FastAPI project  (01_alembic_basics)\n")
    assert "\nChapter 2: Migrations in production  (02_production)\n" in out
    for exercise in ALL:  # numbered CHAPTER.POSITION in syllabus order, as `show 1.3` takes them
        assert f"] {exercise.label}  {exercise.id}" in out
    assert "[    ] 1.3  add-email  " in out and "[    ] 2.1  merge-heads  " in out
    assert f"0/{len(ALL)} done. Next: course show wire-env" in out
    assert "[done]" not in out
    assert "  quiz: not taken yet  (course quiz 1)\n" in out and "  quiz: not taken yet  (course quiz 2)\n" in out

    solve("wire-env")
    assert run(capsys, "check", "wire-env")[0] == 0
    status, out, _ = run(capsys, "list")
    assert "[done] 1.1  wire-env" in out
    assert f"1/{len(ALL)} done. Next: course show init-migration" in out


def test_show_prints_the_task_and_makes_the_learners_file(capsys, learner_area):
    status, out, _ = run(capsys, "show", "add-email")
    assert status == 0
    exercise = exercises.get("add-email")
    path = learner_area / "add-email" / "0002_add_email_column.py"
    assert path.read_bytes() == exercise.files[0].starter.read_bytes()
    assert out.startswith("1.3 Add a NOT NULL column to a table that has rows  [add-email, not done yet]\n")
    assert "Read first: notebooks/06_add_email.ipynb\n" in out
    assert exercise.task in out
    assert f"Your file: {path}  (it is alembic/versions/0002_add_email_column.py in the project)" in out
    assert "Check it: course check add-email" in out


def test_an_exercise_can_be_named_by_its_number(capsys):
    status, out, _ = run(capsys, "show", "1.4")
    assert status == 0 and "[real-downgrade, " in out
    status, out, _ = run(capsys, "show", "2.5")
    assert status == 0 and "[rerunnable, " in out
    status, out, _ = run(capsys, "show", "7")  # only chapter 1 has a 7th
    assert status == 0 and "[type-in-stages, " in out
    status, _, err = run(capsys, "show", "4")
    assert status == 2
    fourth = [f"{c.number}.4 ({c.exercises[3].id})" for c in syllabus.chapters() if len(c.exercises) >= 4]
    assert fourth[0] == "1.4 (real-downgrade)" and len(fourth) > 1
    assert err == f"exercise 4 is ambiguous: say {', '.join(fourth)}\n"


# -- check ----------------------------------------------------------------------------------------

def test_check_fails_on_the_starter_says_why_and_records_it(capsys, progress_file, learner_area):
    status, out, _ = run(capsys, "check", "add-email")
    assert status == 1
    assert out.splitlines()[0] == "add-email: not yet"
    assert "upgrading to 0002 with 3 users in the table failed; the database said:" in out
    assert f"Your file: {learner_area / 'add-email' / '0002_add_email_column.py'}" in out
    assert f"Stuck? course hint add-email  ({len(exercises.get('add-email').hints)} hints left)" in out
    assert json.loads(progress_file.read_text())["exercises"]["add-email"]["done"] is False


def test_check_passes_on_the_solution_records_it_and_leaves_the_file_alone(capsys, progress_file):
    path = solve("add-email")
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    status, out, _ = run(capsys, "check", "add-email")
    assert status == 0
    assert out.startswith("add-email: passed (")
    assert "Next: course show real-downgrade" in out  # the next one not done yet
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert json.loads(progress_file.read_text())["exercises"]["add-email"]["done"] is True


def test_syntax_error_gives_file_and_line_and_exit_1(capsys):
    path = solve("merge-heads")
    path.write_text(path.read_text().replace("down_revision: Union[str, Sequence[str], None] = (",
                                             "down_revision: Union[str, Sequence[str], None] = (("))
    status, out, _ = run(capsys, "check", "merge-heads")
    assert status == 1
    assert f"  {path}:" in out and ": SyntaxError: " in out
    assert "Traceback" not in out


@pytest.mark.parametrize("command", ["show", "check", "hint", "solution", "reset", "watch"])
def test_unknown_exercise_exits_2_and_lists_the_valid_ids(capsys, command):
    status, out, err = run(capsys, command, "no-such-exercise")
    assert status == 2
    assert err.startswith("no exercise 'no-such-exercise'; exercises: wire-env, init-migration")
    assert all(e.id in err for e in ALL)


# -- hints, solution --------------------------------------------------------------------------------

def test_hint_reveals_the_next_hint_each_call_and_remembers(capsys, progress_file):
    exercise = exercises.get("fk-orphans")
    total = len(exercise.hints)
    for number, text in enumerate(exercise.hints, 1):
        status, out, _ = run(capsys, "hint", "fk-orphans")
        assert status == 0
        assert out == f"Hint {number}/{total}: {text}\n"
        assert json.loads(progress_file.read_text())["exercises"]["fk-orphans"]["hints_shown"] == number
    status, out, _ = run(capsys, "hint", "fk-orphans")
    assert out == f"No more hints ({total} shown). The reference solution: course solution fk-orphans\n"
    assert "hints left" not in run(capsys, "check", "fk-orphans")[1]


def test_solution_prints_the_reference_file(capsys):
    status, out, _ = run(capsys, "solution", "init-migration")
    assert status == 0
    reference = (REPO / "sample_project/alembic/versions/0001_init.py").read_text()
    assert out == f"# alembic/versions/0001_init.py  (reference solution of init-migration)\n{reference}"


# -- reset --------------------------------------------------------------------------------------------

def edited(exercise_id: str) -> Path:
    [path] = exercises.ensure_learner_files(exercises.get(exercise_id))
    path.write_text("# my attempt\n")
    return path


def test_reset_asks_and_keeps_the_file_when_told_no(capsys):
    path = edited("fk-orphans")
    asked = []
    status = cli.cmd_reset(cli.parser().parse_args(["reset", "fk-orphans"]), cli.Style(sys.stdout),
                           ask=lambda prompt: asked.append(prompt) or "n")
    out = capsys.readouterr().out
    assert status == 1
    assert asked == [f"Replace {path} with the starter? Your version is kept as a backup. [y/N] "]
    assert "Nothing changed." in out
    assert path.read_text() == "# my attempt\n"
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_reset_without_a_terminal_and_without_yes_changes_nothing(capsys, monkeypatch):
    path = edited("fk-orphans")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # input() meets end of file
    status, out, _ = run(capsys, "reset", "fk-orphans")
    assert status == 1 and "--yes resets without asking" in out
    assert path.read_text() == "# my attempt\n"


def test_reset_after_yes_restores_the_starter_and_keeps_a_backup(capsys, progress_file):
    path = edited("fk-orphans")
    status = cli.cmd_reset(cli.parser().parse_args(["reset", "fk-orphans"]), cli.Style(sys.stdout),
                           ask=lambda prompt: "y")
    out = capsys.readouterr().out
    assert status == 0
    assert path.read_bytes() == exercises.get("fk-orphans").files[0].starter.read_bytes()
    [backup] = [p for p in path.parent.iterdir() if p != path]
    assert backup.name.startswith("0004_post_author_fk.py.") and backup.suffix == ".bak"
    assert backup.read_text() == "# my attempt\n"
    assert f"Kept your version as {backup}" in out


def test_reset_yes_does_not_ask_and_still_keeps_a_backup(capsys, monkeypatch, progress_file):
    solve("wire-env")
    run(capsys, "check", "wire-env")
    path = edited("wire-env")
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("asked although --yes"))
    status, out, _ = run(capsys, "reset", "wire-env", "--yes")
    assert status == 0
    assert path.read_bytes() == exercises.get("wire-env").files[0].starter.read_bytes()
    assert [p.read_text() for p in path.parent.iterdir() if p != path] == ["# my attempt\n"]
    assert json.loads(progress_file.read_text())["exercises"]["wire-env"]["done"] is False
    # A second reset of an untouched file has nothing to back up.
    status, out, _ = run(capsys, "reset", "wire-env", "--yes")
    assert status == 0 and "Kept your version" not in out
    assert len(list(path.parent.iterdir())) == 2


# -- watch --------------------------------------------------------------------------------------------

def test_watch_rechecks_when_the_file_is_saved(capsys, monkeypatch):
    exercise = exercises.get("add-email")
    [path] = exercises.ensure_learner_files(exercise)
    saves = iter([exercise.files[0].solution.read_bytes()])

    def sleep(seconds):  # the learner saves their fix while watch waits
        for content in saves:
            path.write_bytes(content)
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))

    monkeypatch.setattr(cli.time, "sleep", sleep)
    status, out, _ = run(capsys, "watch", "add-email", "--max-iterations", "3", "--interval", "0")
    assert status == 0
    assert out.count("add-email: not yet") == 1
    assert out.count("add-email: passed") == 1  # checked again once, not on every look


def test_watch_once_checks_the_first_unfinished_exercise(capsys):
    status, out, _ = run(capsys, "watch", "--once")
    assert status == 1
    assert out.startswith(
        "wire-env: the first exercise not done yet (course watch ID for another)\n"
        "== 1.1 Let autogenerate see the models (wire-env)\n"
    )
    assert "wire-env: not yet" in out


@pytest.mark.parametrize("command", [["check"], ["watch", "--once"]])
def test_check_and_watch_default_to_the_exercise_last_worked_on(capsys, command):
    run(capsys, "show", "fk-orphans")
    status, out, _ = run(capsys, *command)
    assert status == 1
    assert out.startswith(f"fk-orphans: the exercise you last worked on (course {command[0]} ID for another)\n")
    assert "fk-orphans: not yet" in out
    run(capsys, "hint", "type-in-stages")
    assert run(capsys, *command)[1].startswith("type-in-stages: the exercise you last worked on")
    run(capsys, "check", "add-email")
    assert run(capsys, *command)[1].startswith("add-email: the exercise you last worked on")


def test_watch_moves_on_to_the_next_exercise_after_a_pass(capsys, monkeypatch):
    solve("wire-env")
    monkeypatch.setattr(cli.time, "sleep", lambda seconds: None)
    status, out, _ = run(capsys, "watch", "--max-iterations", "2")
    assert status == 1
    assert "wire-env: passed" in out
    assert "== 1.2 Write the first revision (init-migration)" in out
    assert out.count("init-migration: not yet") == 1


def test_watch_stops_cleanly_on_ctrl_c(capsys, monkeypatch):
    def interrupt(seconds):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.time, "sleep", interrupt)
    status, out, _ = run(capsys, "watch", "merge-heads")
    assert status == 0 and out.endswith("Stopped watching.\n")


# -- sandbox ----------------------------------------------------------------------------------------

def test_sandbox_is_a_project_copy_with_the_learners_file_where_alembic_runs(capsys, learner_area, tmp_path):
    [path] = exercises.ensure_learner_files(exercises.get("fk-orphans"))
    path.write_text(path.read_text() + "# mine\n")
    status, out, _ = run(capsys, "sandbox", "fk-orphans")
    assert status == 0
    project = learner_area / "fk-orphans" / "sandbox" / "project"
    assert f"  cd {project}\n" in out
    assert (project / "alembic/versions/0004_post_author_fk.py").read_text().endswith("# mine\n")
    assert (project / "alembic/versions/0003_add_post_table.py").is_file()  # the exercise's given files
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "COURSE_DATABASE_URL")}
    upgraded = subprocess.run([sys.executable, "-m", "alembic", "upgrade", "0003"], cwd=project, env=env,
                              capture_output=True, text=True, timeout=60)
    assert upgraded.returncode == 0, upgraded.stderr
    assert "Running upgrade 0002 -> 0003, add post table" in upgraded.stderr
    assert (project / "app.db").is_file()
    assert path.read_text().endswith("# mine\n")  # the learner's own file untouched


# -- quiz ---------------------------------------------------------------------------------------------

def test_quiz_calls_the_quiz_module_with_the_chapter(capsys, monkeypatch):
    calls = []
    fake = types.ModuleType("course.learner.quiz")
    fake.run = lambda chapter, ask=input, out=print, restart=False: calls.append((chapter, restart)) or 0
    monkeypatch.setitem(sys.modules, "course.learner.quiz", fake)
    monkeypatch.setattr(course, "quiz", fake, raising=False)
    assert run(capsys, "quiz", "1")[0] == 0
    assert run(capsys, "quiz", "alembic_basics")[0] == 0
    assert run(capsys, "quiz", "2", "--restart")[0] == 0
    assert calls == [("01_alembic_basics", False), ("01_alembic_basics", False), ("02_production", True)]


def test_list_shows_quiz_scores_and_a_stopped_quiz(capsys, progress_file):
    from course.learner import progress

    progress.update("quizzes", "01_alembic_basics", {"best": 11, "total": 13, "answered": 13, "finished": True})
    progress.update("quizzes", "02_production", {"total": 12, "answered": 4, "finished": False})
    out = run(capsys, "list")[1]
    assert "  quiz: best score 11/13  (course quiz 1 to take it again)\n" in out
    assert "  quiz: stopped after 4 of 12 questions  (course quiz 2 goes on)\n" in out


def test_unknown_chapter_exits_2_and_lists_the_chapters(capsys):
    status, _, err = run(capsys, "quiz", "99")
    assert status == 2
    listing = ", ".join(f"{c.number} ({c.id})" for c in syllabus.chapters())
    assert listing.startswith("1 (01_alembic_basics), 2 (02_production)")
    assert err == f"no chapter '99'; chapters: {listing}\n"


# -- colour ---------------------------------------------------------------------------------------------

class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_and_never_with_no_color(monkeypatch):
    assert cli.Style(FakeTerminal())("passed", "green") == "\033[32mpassed\033[0m"
    assert cli.Style(io.StringIO())("passed", "green") == "passed"
    monkeypatch.setenv("NO_COLOR", "1")
    assert cli.Style(FakeTerminal())("passed", "green") == "passed"


@pytest.mark.parametrize("no_color", [None, "1"])
def test_check_output_on_a_terminal(monkeypatch, no_color):
    if no_color:
        monkeypatch.setenv("NO_COLOR", no_color)
    terminal = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", terminal)
    assert cli.main(["check", "wire-env"]) == 1
    assert ("\033[31mnot yet\033[0m" in terminal.getvalue()) is (no_color is None)
    assert ("\033[" in terminal.getvalue()) is (no_color is None)


# -- verify-all ---------------------------------------------------------------------------------------

@pytest.mark.long
def test_verify_all_proves_the_exercises_it_is_given(capsys, learner_area, progress_file):
    # Every exercise on every engine is proven in tests/test_exercises.py, one attempt per test;
    # here the command itself, on two exercises.
    status, out, _ = run(capsys, "verify-all", "wire-env", "merge-heads")
    assert status == 0, out
    assert out.splitlines()[-1] == "2/2 exercises verified."
    assert "ok   wire-env (" in out and "ok   merge-heads (" in out
    assert not learner_area.exists() and not progress_file.exists()  # copies only


def test_verify_all_fails_for_a_broken_exercise(capsys, monkeypatch):
    import dataclasses

    exercise = exercises.get("real-downgrade")
    [file] = exercise.files
    broken = dataclasses.replace(exercise, files=(dataclasses.replace(file, solution=file.starter),))
    monkeypatch.setattr(exercises, "all_exercises", lambda: [broken])
    status, out, _ = run(capsys, "verify-all")
    assert status == 1
    assert "FAIL real-downgrade" in out
    assert "the solution fails: downgrading to 0002 left column user.display_name behind" in out
    assert out.splitlines()[-1] == "0/1 exercises verified."


# -- as a learner types it ------------------------------------------------------------------------------

def test_python_dash_m_course(tmp_path):
    env = {**os.environ, "COURSE_LEARNER_DIR": str(tmp_path / "work"),
           "COURSE_PROGRESS_FILE": str(tmp_path / "progress.json"), "NO_COLOR": "1"}
    env.pop("COURSE_WARM_PYTHON_SOCKET", None)  # a learner's: each step forked from the check itself
    listed = subprocess.run([sys.executable, "-m", "course", "list"], env=env, cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0 and listed.stderr == ""
    assert "Next: python -m course show wire-env" in listed.stdout
    checked = subprocess.run([sys.executable, "-m", "course", "check", "wire-env"], env=env, cwd=tmp_path,
                             capture_output=True, text=True, timeout=60)
    assert checked.returncode == 1 and checked.stderr == ""
    assert checked.stdout.startswith("wire-env: not yet\n")
    assert "Your file: work/wire-env/env.py" in checked.stdout  # short, relative to where you are
    # An unknown id (exit 2) is covered in-process above: one interpreter start less.


def test_the_course_console_script(tmp_path):
    script = shutil.which("course", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.skip("the `course` script is not installed: pip install -e . (pyproject's [project.scripts])")
    env = {**os.environ, "COURSE_LEARNER_DIR": str(tmp_path / "work"),
           "COURSE_PROGRESS_FILE": str(tmp_path / "progress.json")}
    shown = subprocess.run([script, "show", "wire-env"], env=env, cwd=tmp_path,
                           capture_output=True, text=True, timeout=60)
    assert shown.returncode == 0 and "Check it: course check wire-env" in shown.stdout


def test_ctrl_c_during_a_check_prints_one_line_and_leaves_nothing_behind(tmp_path):
    """Ctrl-C reaches the whole foreground process group, the learner's code included."""
    import signal

    from helpers import stuck_check, wait_until

    check, started = stuck_check(tmp_path)
    try:
        os.killpg(check.pid, signal.SIGINT)
        out, err = check.communicate(timeout=60)
    finally:
        if check.poll() is None:
            os.killpg(check.pid, signal.SIGKILL)
    assert check.returncode == cli.INTERRUPTED
    assert err.strip() == "Interrupted." and "Traceback" not in out + err
    assert not Path(started["cwd"]).exists()  # the throwaway copy, its SQLite database inside
    wait_until(lambda: not reaper.alive(started["pid"]), "the learner's endless loop to be killed")


@pytest.mark.parametrize("url, fix", [
    ("mysql://root@127.0.0.1:3306/test", "write mysql+pymysql:// instead, e.g. mysql+pymysql://root@127.0.0.1:3306/test"),
    ("postgres://u:secret@db/x", "write postgresql+psycopg:// instead, e.g. postgresql+psycopg://u:***@db/x"),
    ("postgresql+psycopg2://u@db/x", "write postgresql+psycopg:// instead"),
    ("not a url", "COURSE_DATABASE_URL is not a database URL"),
    ("postgresql+psycopg://postgres@127.0.0.1:9/x", "cannot reach postgresql+psycopg://postgres@127.0.0.1:9/x"),
    # Not reached: refused before anything connects (the port is closed).
    ("postgresql+psycopg://postgres@127.0.0.1:9/template1", "COURSE_DATABASE_URL names template1, one of PostgreSQL's template databases"),
])
def test_a_setup_problem_is_not_a_wrong_answer(capsys, monkeypatch, progress_file, url, fix):
    monkeypatch.setenv("COURSE_DATABASE_URL", url)
    status, out, err = run(capsys, "check", "add-email")
    assert status == cli.SETUP_PROBLEM
    assert out == "" and err.startswith("add-email: could not be checked (your work was not looked at)\n")
    assert fix in err and "secret" not in err
    assert "hint" not in err and "Your file" not in err
    assert not progress_file.exists() or "add-email" not in json.loads(progress_file.read_text())["exercises"]


INTERRUPTED_WHILE_LOADING = """
import sys
class Interrupt:  # Ctrl-C arriving while the command's modules load
    def find_spec(self, name, path=None, target=None):
        if name == "course.learner.cli":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
import course
sys.exit(course.main(["list"]))
"""


def test_ctrl_c_while_the_command_is_still_loading_prints_one_line():
    done = subprocess.run([sys.executable, "-c", INTERRUPTED_WHILE_LOADING], capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (130, "", "\nInterrupted.\n")


ENDS_AFTER = """
import atexit, sys, threading, time
import course

class Module:
    def __del__(self):  # Python's own shutdown tears module globals down, and this prints
        print("torn down", flush=True)

kept = Module()
atexit.register(lambda: print("exit handler ran", flush=True))
if "--thread" in sys.argv:
    def late():
        time.sleep(0.2)
        print("thread finished", flush=True)
    threading.Thread(target=late).start()
sys.argv = ["course", "list"]
course.command()
"""


def test_the_command_runs_its_exit_handlers_then_ends_without_tearing_python_down(tmp_path):
    """`course` (course.command): the exit handlers run (where a check's databases are dropped),
    the output is all there, and the process ends without Python's shutdown, ~0.1 s of a
    check; but never before a thread of its own (not a daemon) has finished."""
    done = subprocess.run([sys.executable, "-c", ENDS_AFTER], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert "wire-env" in done.stdout and done.stdout.endswith("exit handler ran\n")
    assert "torn down" not in done.stdout
    waited = subprocess.run([sys.executable, "-c", ENDS_AFTER, "--thread"], capture_output=True, text=True, timeout=60, cwd=REPO)
    assert waited.returncode == 0, waited.stderr
    assert "thread finished" in waited.stdout and "exit handler ran" in waited.stdout
    # Under a profiler (or coverage), Python's own exit runs, where they write what they measured.
    profile = tmp_path / "profile.out"
    profiled = subprocess.run([sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "course", "list"],
                              capture_output=True, text=True, timeout=120, cwd=REPO)
    assert profiled.returncode == 0 and profile.stat().st_size > 0, profiled.stderr[-2000:]
    # Started with no stdout at all (`course list >&-`): it ends as Python would, no traceback.
    closed = subprocess.run(["sh", "-c", f"{sys.executable} -m course list >&-"], capture_output=True, text=True,
                            timeout=60, cwd=REPO)
    assert "Traceback" not in closed.stderr


def test_progress_is_kept_per_engine(capsys, progress_file, monkeypatch):
    """A pass on SQLite stays a pass on SQLite after a failing check on PostgreSQL: `course list`
    shows it done where it passed, and says where it passed elsewhere. An older file, with
    "done" and no engines, keeps its verdict."""
    exercise = exercises.get("add-email")
    monkeypatch.delenv("COURSE_DATABASE_URL", raising=False)  # SQLite
    exercises.record(exercises.Result(exercise, True, "", 0.1))
    monkeypatch.setenv("COURSE_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    exercises.record(exercises.Result(exercise, False, "not yet", 0.1))
    entry = json.loads(progress_file.read_text())["exercises"]["add-email"]
    assert entry["done"] is False and entry["passed_on"] == ["sqlite"]
    assert not exercises.is_done("add-email")
    [line] = [l for l in run(capsys, "list")[1].splitlines() if " add-email " in l]
    assert "[    ]" in line and line.endswith("(passed on SQLite)")

    monkeypatch.delenv("COURSE_DATABASE_URL")
    assert exercises.is_done("add-email")
    [line] = [l for l in run(capsys, "list")[1].splitlines() if " add-email " in l]
    assert "[done]" in line and "passed on" not in line

    exercises.record(exercises.Result(exercise, False, "not yet", 0.1))  # now it fails on SQLite too
    assert json.loads(progress_file.read_text())["exercises"]["add-email"]["passed_on"] == []
    assert not exercises.is_done("add-email")

    progress_file.write_text(json.dumps({"exercises": {"add-email": {"done": True}}}), encoding="utf-8")
    assert exercises.is_done("add-email")
    progress_file.write_text(json.dumps({"exercises": {"add-email": {"passed_on": "sqlite"}}}), encoding="utf-8")
    assert not exercises.is_done("add-email")  # kept aside as of the wrong kind, as any malformed entry
    assert "had entries of the wrong kind" in capsys.readouterr().err


UPDATER = """
import sys
from course.learner import progress
for n in range(int(sys.argv[2])):
    progress.update("exercises", f"ex-{sys.argv[1]}-{n}", {"done": True})
"""


def test_processes_updating_the_progress_at_once_keep_every_change(tmp_path):
    """Two notebooks' checks, or a notebook and the terminal, may record at the same moment:
    none of them fails, and no change is lost (each update holds the file's lock from read to
    write, and writes through a temporary file of its own)."""
    progress_file = tmp_path / "progress" / "progress.json"
    env = {**os.environ, "COURSE_PROGRESS_FILE": str(progress_file)}
    writers = [subprocess.Popen([sys.executable, "-c", UPDATER, str(w), "25"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for w in range(4)]
    results = [(w.wait(timeout=120), w.communicate()) for w in writers]
    assert [(status, err) for status, (_, err) in results] == [(0, "")] * 4
    kept = json.loads(progress_file.read_text(encoding="utf-8"))["exercises"]
    assert sorted(kept) == sorted(f"ex-{w}-{n}" for w in range(4) for n in range(25))
    assert [p.name for p in progress_file.parent.iterdir()] == [progress_file.name]  # no temporary file left
    umask = os.umask(0o022)
    os.umask(umask)
    assert progress_file.stat().st_mode & 0o777 == 0o666 & ~umask  # as open() makes a file


def test_a_save_killed_before_its_rename_leaves_nothing_behind_the_next_save(progress_file, monkeypatch):
    """A save killed between writing its temporary file and renaming it (a closed terminal, a
    kernel restarted) leaves progress.json.<pid>-<hex>.tmp; a later save removes it once its
    process has ended and it has not been written to for progress.STALE_AFTER seconds. A
    temporary of a process still running, or a recent one (a save under way, perhaps in a
    container whose pids this process cannot see), is left alone; a name that holds no pid
    never makes a save fail."""
    ended = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = int(ended.stdout)
    running = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        progress_file.parent.mkdir(parents=True, exist_ok=True)
        named = lambda middle: progress_file.with_name(f"{progress_file.name}.{middle}.tmp")  # noqa: E731
        stale, recent, underway = named(f"{gone}-0badc0de"), named(f"{gone}-5ecen7"), named(f"{running.pid}-5afe5afe")
        odd = [named("99999999999999999999-ab"), named("\u00b2-ab"), named("x-ab")]  # no pid a process can have
        other = progress_file.with_name("notes.1-2.tmp")  # not the progress file's
        for file in (stale, recent, underway, other, *odd):
            file.write_text("{", encoding="utf-8")
        old = time.time() - progress.STALE_AFTER - 60
        for file in (stale, underway, other, *odd):
            os.utime(file, (old, old))
        progress.update("exercises", "add-email", {"done": True})
        assert not stale.exists()
        assert all(f.exists() for f in (recent, underway, other, *odd))
        assert json.loads(progress_file.read_text())["exercises"]["add-email"]["done"] is True
    finally:
        running.kill()
        running.wait()


# -- a learner's first hour (found by a learner's trial, in Chinese) ---------------------------------

def test_a_progress_file_that_names_a_folder_is_refused_and_the_folder_stays(capsys, monkeypatch, tmp_path):
    folder = tmp_path / "mine"
    (folder / "work").mkdir(parents=True)
    (folder / "work" / "env.py").write_text("kept\n")
    monkeypatch.setenv("COURSE_PROGRESS_FILE", str(folder))
    status, out, err = run(capsys, "list")
    assert status == 3
    assert err.strip() == (f"COURSE_PROGRESS_FILE='{folder}' is invalid: {folder} is a folder; name a file in it, "
                           f"such as {folder / 'progress.json'}")
    assert (folder / "work" / "env.py").read_text() == "kept\n"


@pytest.mark.parametrize("command", ["hint", "show", "solution"])
def test_hint_show_and_solution_without_an_id_take_the_last_exercise(capsys, command):
    run(capsys, "show", "add-email")
    status, out, err = run(capsys, command)
    assert status == 0, err
    assert out.startswith("add-email: the exercise you last worked on (course " + command + " ID for another)")


def test_argparse_speaks_the_language_of_the_course(capsys, monkeypatch):
    monkeypatch.setenv("COURSE_LANGUAGE", "zh_CN.UTF-8")  # a locale's spelling is understood
    with pytest.raises(SystemExit) as stopped:
        cli.main(["shwo", "1.1"])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("用法：") and "无效的选择：'shwo'" in err
