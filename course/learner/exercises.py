"""Exercises: what they are, where the learner's files live, and how they are checked.

An exercise is a folder chapters/<chapter>/exercises/<id>/, listed in syllabus.toml (its order
there is its number), holding
  exercise.toml   id, title, notebook, stage, the learner's file(s), task, hints, expectations,
                  and plausible wrong attempts: edits of the solution (or starter), each
                  failing with the message named beside it
  starter/        the file(s) the learner starts from
  solution/       the reference solution (or a file of the sample project, named in the toml)
  given/          files laid over the workspace before the learner's (a new model, a revision)
  check.py        `check(run)`: the steps, using course.learner.checks

The learner edits copies in the learner area (work/<id>/ in the repository, git-ignored and in
view in JupyterLab's file browser, or
COURSE_LEARNER_DIR), made from the starter the first time they are needed and never
overwritten after that. A check copies them into a throwaway workspace, runs Alembic there
and reports the first thing wrong.

In a notebook: `from course import exercises`, then `exercises.show("add-email")`,
`exercises.check("add-email")` (prints the report, worded as an invitation while the file is
still the starter; returns True or False), `exercises.hint(...)`, `exercises.solution(...)`.
"""

from __future__ import annotations

import atexit
import contextlib
import difflib
import importlib.util
import re
import shutil
import time
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path


from course import REPO, settings, syllabus
from course.i18n import _, english_of
from course.learner import progress
from course.learner.paths import shown

# SQLAlchemy and Alembic come with the modules a check needs (engines, workspace, checks),
# imported where a check or a sandbox is made: `course list`, `show` and `hint` start without them.


class UnknownExercise(LookupError):
    """No exercise (or chapter) by that id; the message lists the valid ones."""


@dataclass(frozen=True)
class LearnerFile:
    path: str          # where it lives in the project ("alembic/versions/0002_add_email_column.py")
    name: str          # its name in the learner area
    starter: Path
    solution: Path


@dataclass(frozen=True)
class Attempt:
    """Files that must fail the check: the untouched starter, or a plausible wrong attempt."""

    name: str
    files: Mapping[str, Path]  # learner-area name -> file
    expects: dict[str, str]  # "expect" (every engine) and "expect_<engine>" overrides
    why: str = ""
    only: tuple[str, ...] = ()  # the engines on which it must fail; empty: all of them

    def applies(self, engine: str | None = None) -> bool:
        """Must it fail on `engine` (default: the configured one)?"""
        from course.runtime import engines

        return not self.only or (engine or engines.engine_name()) in self.only

    def expected(self, engine: str | None = None) -> str:
        """The fragment the failure message must contain on `engine` (default: the configured one)."""
        from course.runtime import engines

        return self.expects.get(f"expect_{engine or engines.engine_name()}", self.expects["expect"])


@dataclass(frozen=True)
class Exercise:
    id: str
    english_title: str  # as exercise.toml has it; `title` is in the language the course speaks
    chapter: str
    notebook: str
    stage: str
    english_task: str
    english_hints: tuple[str, ...]
    files: tuple[LearnerFile, ...]
    directory: Path
    starter: Attempt
    wrong: tuple[Attempt, ...] = field(default=())
    # The engines it is about (exercise.toml `engines`); all of them unless it names some. An
    # exercise about servers is checked on one of them whatever the course runs on (check_server).
    engines: tuple[str, ...] = settings.ENGINES

    @property
    def about_servers(self) -> bool:
        return self.engines != settings.ENGINES

    # In the language the course speaks (course/i18n.py), read at each use: the chapter's
    # catalogue has them as "exercise <id> title|task|hint <n>".
    def _in_language(self, what: str, english: str) -> str:
        from course import i18n

        return i18n.translate(f"chapters/{self.chapter}", f"exercise {self.id} {what}", english)

    @property
    def title(self) -> str:
        return self._in_language("title", self.english_title)

    @property
    def task(self) -> str:
        return self._in_language("task", self.english_task)

    def why_wrong(self, attempt: Attempt) -> str:
        """Why a wrong attempt is wrong, in the language the course speaks."""
        return self._in_language(f"wrong {attempt.name} why", attempt.why)

    @property
    def hints(self) -> tuple[str, ...]:
        return tuple(self._in_language(f"hint {n}", h) for n, h in enumerate(self.english_hints, 1))

    @property
    def number(self) -> int:
        """Its position within its chapter in the syllabus (exercise 3 of chapter 1: "1.3")."""
        return syllabus.current().exercise(self.id).number

    @property
    def label(self) -> str:
        """Chapter and number, "1.3": what `course list` shows and any command accepts."""
        return f"{syllabus.chapter(self.chapter).number}.{self.number}"

    def learner_dir(self) -> Path:
        return learner_root() / self.id

    def learner_path(self, file: LearnerFile) -> Path:
        return self.learner_dir() / file.name

    def learner_paths(self) -> list[Path]:
        return [self.learner_path(f) for f in self.files]

    def solution_files(self) -> dict[str, Path]:
        return {f.name: f.solution for f in self.files}

    def notebook_path(self) -> Path:
        return syllabus.ROOT / syllabus.NOTEBOOKS / self.notebook


@dataclass(frozen=True)
class Result:
    exercise: Exercise
    ok: bool
    message: str
    seconds: float
    # The message as its English source renders (course/i18n.py): what exercise.toml's
    # `expect` is matched on, whatever language the message is shown in.
    english_message: str = ""
    # The check could not run at all (the course's database is not usable): not a verdict
    # on the learner's work, and nothing to record as progress.
    setup_problem: bool = False

    def report(self) -> str:
        if self.setup_problem:
            return _("{id}: could not be checked. {message}").format(id=self.exercise.id, message=self.message)
        if self.ok:
            return _("{id}: passed. {message}").format(id=self.exercise.id, message=self.message).rstrip()
        return _("{id}: not yet. {message}").format(id=self.exercise.id, message=self.message)


# -- where things are ---------------------------------------------------------------------

def learner_root() -> Path:
    configured = settings.current().learner_dir
    if configured is not None:
        return configured
    # Before work/, the files were kept in the hidden .course/work/: a learner who has
    # files there keeps them.
    earlier = REPO / ".course" / "work"
    return earlier if earlier.is_dir() and not (REPO / "work").exists() else REPO / "work"


def _load(directory: Path, chapter: str) -> Exercise:
    data = tomllib.loads((directory / "exercise.toml").read_text(encoding="utf-8"))
    files = []
    for entry in data["files"]:
        name = entry.get("name") or Path(entry["path"]).name
        solution = REPO / entry["solution"] if "solution" in entry else directory / "solution" / name
        files.append(LearnerFile(entry["path"], name, directory / "starter" / name, solution))
    about = _engines(data, "engines") or settings.ENGINES
    if "sqlite" in about and about != settings.ENGINES:
        raise ValueError("engines names sqlite among others: an exercise is about every engine (leave engines out) "
                         "or about servers only")
    wrong = []
    for entry in data.get("wrong", []):
        attempt = _edited_attempt(data["id"], chapter, entry, files)
        only = _engines(entry) or (about if about != settings.ENGINES else ())
        if set(only) - set(about):
            raise ValueError(f"wrong attempt {entry['name']!r}: only names {', '.join(sorted(set(only) - set(about)))}, "
                             f"an engine the exercise is not about ({', '.join(about)})")
        wrong.append(Attempt(entry["name"], attempt, _expects(entry), entry.get("why", ""), only))
    if data["id"] != directory.name:
        raise ValueError(f"{directory}: id {data['id']!r} differs from the folder name")
    return Exercise(
        id=data["id"], english_title=data["title"], chapter=chapter,
        notebook=data["notebook"], stage=data["stage"], english_task=data["task"].strip(),
        english_hints=tuple(data["hints"]), files=tuple(files), directory=directory,
        starter=Attempt("starter", {f.name: f.starter for f in files}, _expects(data["starter"]),
                        only=about if about != settings.ENGINES else ()),
        wrong=tuple(wrong), engines=about,
    )


def _edited_attempt(exercise_id: str, chapter: str, entry: dict, files: list[LearnerFile]) -> Mapping[str, Path]:
    """A wrong attempt written as edits of the solution (or the starter): one copy of the
    file to maintain, and the toml shows exactly what the attempt gets wrong.

    Each edit replaces one exact, unique passage (`find`) of a file with `replace`. The
    result is written, on first use, to a scratch folder, so checks and messages see a real file.
    """
    base = entry.get("base", "solution")
    texts = {f.name: getattr(f, base).read_text(encoding="utf-8") for f in files}
    for edit in entry["edits"]:
        name = edit.get("file") or files[0].name
        count = texts[name].count(edit["find"])
        if count != 1:
            raise ValueError(
                f"{exercise_id}: wrong attempt {entry['name']!r}: the passage to replace occurs {count} times "
                f"in the {base} {name} (it must occur once):\n{edit['find']}"
            )
        texts[name] = texts[name].replace(edit["find"], edit["replace"])
    return _AttemptFiles(Path(chapter, exercise_id, entry["name"]), texts)


class _AttemptFiles(Mapping):
    """A wrong attempt's files (learner-area name -> file), written on first use to this
    process's scratch folder, which goes when the process ends: loading the exercises (every
    `course` command does) writes nothing, and a test run leaves nothing behind."""

    def __init__(self, relative: Path, texts: dict[str, str]):
        self._relative, self._texts, self._paths = relative, texts, None

    def _written(self) -> dict[str, Path]:
        if self._paths is None:
            folder = _attempts_folder() / self._relative
            folder.mkdir(parents=True, exist_ok=True)
            for name, text in self._texts.items():
                (folder / name).write_text(text, encoding="utf-8")
            self._paths = {name: folder / name for name in self._texts}
        return self._paths

    def __getitem__(self, name: str) -> Path:
        return self._written()[name]

    def __iter__(self):
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)


@cache
def _attempts_folder() -> Path:
    from course.runtime import reaper

    folder = Path(reaper.scratch_dir("mip-attempts-"))  # swept if this process is killed
    atexit.register(shutil.rmtree, folder, True)
    return folder


def _expects(entry: dict) -> dict[str, str]:
    expects = {k: v for k, v in entry.items() if k == "expect" or k.startswith("expect_")}
    _known_engines([k.removeprefix("expect_") for k in expects if k != "expect"], entry, "expect_<engine>")
    return expects


def _engines(entry: dict, key: str = "only") -> tuple[str, ...]:
    only = tuple(entry.get(key, ()))
    _known_engines(only, entry, key)
    return only


def _known_engines(names, entry: dict, key: str) -> None:
    """An engine name the course does not use would make an attempt apply nowhere, or an
    expectation never be read, without a word: refuse it (the exercise is reported broken)."""
    unknown = [n for n in names if n not in settings.ENGINES]
    if unknown:
        raise ValueError(f"{entry.get('name', 'starter')!r}: {key} names {', '.join(unknown)}; "
                         f"the engines are {', '.join(settings.ENGINES)}")


class BrokenExercise(LookupError):
    """An exercise whose definition cannot be loaded (a course bug); the message says why."""


@cache
def _catalogue(course: syllabus.Syllabus) -> tuple[tuple[Exercise, ...], dict[str, str]]:
    """(the exercises in syllabus order, {id: why it cannot be loaded}): one broken definition
    (a wrong attempt's passage no longer in the solution, say) must not take the others with it.
    Cached per syllabus, so a test that reads a throwaway course gets that course's exercises."""
    found, broken = [], {}
    for chapter in course.chapters:
        for entry in chapter.exercises:
            toml = chapter.folder / "exercises" / entry.id / "exercise.toml"
            try:
                found.append(_load(toml.parent, chapter.id))
            except (OSError, ValueError, KeyError, TypeError) as exc:  # TOMLDecodeError is a ValueError
                broken[entry.id] = f"{toml.relative_to(course.root)}: {' '.join(str(exc).split())}"
    return tuple(found), broken


def catalogue(course: syllabus.Syllabus) -> tuple[tuple[Exercise, ...], dict[str, str]]:
    """A course's exercises in syllabus order, and {id: why it cannot be loaded} (the website
    reads any course's, course/maintainer/site.py)."""
    return _catalogue(course)


def _all() -> tuple[Exercise, ...]:
    return _catalogue(syllabus.current())[0]


def broken_exercises() -> dict[str, str]:
    """Exercises that cannot be loaded, with the reason: empty unless the course has a bug."""
    return dict(_catalogue(syllabus.current())[1])


def all_exercises() -> list[Exercise]:
    return list(_all())


def chapters() -> list[str]:
    """The chapters' ids, in syllabus order."""
    return [c.id for c in syllabus.chapters()]


def chapter_title(chapter: str) -> str:
    return syllabus.chapter(chapter).heading


def find_chapter(name: str) -> str:
    """A chapter's id, given its number ("1", "01"), its id or its short name (see syllabus.Chapter)."""
    try:
        return syllabus.chapter(name).id
    except syllabus.UnknownChapter as exc:
        raise UnknownExercise(str(exc)) from None


def get(exercise_id: str) -> Exercise:
    for exercise in _all():
        if exercise.id == exercise_id:
            return exercise
    if exercise_id in broken_exercises():
        raise BrokenExercise(f"exercise {exercise_id!r} cannot be loaded (a course bug, please report it): "
                             f"{broken_exercises()[exercise_id]}")
    ids = ", ".join(e.id for e in _all())
    close = difflib.get_close_matches(exercise_id, [e.id for e in _all()], n=1)
    if close:
        raise UnknownExercise(_("no exercise {id} (did you mean {guess}?); exercises: {ids}").format(
            id=repr(exercise_id), guess=repr(close[0]), ids=ids))
    raise UnknownExercise(_("no exercise {id}; exercises: {ids}").format(id=repr(exercise_id), ids=ids))


# -- the learner's files --------------------------------------------------------------------

def ensure_learner_files(exercise: Exercise) -> list[Path]:
    """The learner's copies, made from the starter where missing; existing ones are left alone."""
    paths = []
    for file in exercise.files:
        target = exercise.learner_path(file)
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(file.starter, target)
        paths.append(target)
    return paths


def make_sandbox(exercise: Exercise) -> Path:
    """A copy of the project at the exercise's stage, with the learner's file(s) in it, to try
    Alembic by hand (`alembic upgrade head`, `alembic revision --autogenerate`).

    It lives beside the learner's files (<learner area>/<id>/sandbox/project), uses a SQLite file
    of its own (app.db, the app's default) whatever COURSE_DATABASE_URL says, and is made
    afresh each time. The learner's own files are copied in, never linked or changed.
    """
    from course.runtime import workspace

    ensure_learner_files(exercise)
    with workspace.isolated():
        ws = workspace.fresh("sandbox", exercise.stage, server=None, root=exercise.learner_dir())
    lay_out(exercise, ws.path, {f.name: exercise.learner_path(f) for f in exercise.files})
    (ws.path / "app.db").unlink(missing_ok=True)
    return ws.path


# -- checking ---------------------------------------------------------------------------------

def _load_checker(exercise: Exercise):
    name = f"course_exercise_check_{exercise.id.replace('-', '_')}"
    spec = importlib.util.spec_from_file_location(name, exercise.directory / "check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.check


def syntax_error(paths: dict[str, Path]) -> str | None:
    """file:line for the first Python file that does not compile, else None."""
    for path in paths.values():
        if path.suffix != ".py":
            continue
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            return _("{file}: not UTF-8 text ({reason})").format(file=shown(path), reason=exc.reason)
        try:
            compile(source, str(path), "exec")
        except SyntaxError as exc:
            text = f"{shown(path)}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
            if re.search(r"invalid character '[\u3000-\u303f\uff00-\uffef]'", exc.msg or ""):
                text += _(" (a full-width character: type code with the input method in English, half-width mode)")
            if exc.text and exc.text.strip():
                text += f"\n    {exc.text.rstrip()}"
            return text
    return None


def run_check(exercise: Exercise, files: dict[str, Path] | None = None, still_running=None, *,
              server=None) -> Result:
    """Check `files` (learner-area name -> file; default: the learner's own copies).

    Nothing the learner owns is changed: the files are copied into a throwaway workspace.
    `still_running(seconds)`, if given, is called once when the check takes a while.
    `server`: the database server to check on (a URL; "sqlite" for SQLite files); default
    the configured one (COURSE_DATABASE_URL).
    """
    from course.learner.checks import Fail, Run
    from course.runtime import engines, reaper, workspace

    started = time.perf_counter()
    try:
        settings.current()
        server = check_server(exercise, server)
    except (settings.SettingsError, engines.EngineSetupError) as exc:
        return Result(exercise, False, str(exc), time.perf_counter() - started, str(exc), setup_problem=True)
    if files is None:
        ensure_learner_files(exercise)
        files = {f.name: exercise.learner_path(f) for f in exercise.files}
    problem = syntax_error(files)
    if problem is not None:
        return Result(exercise, False, problem, time.perf_counter() - started, str(english_of(problem)))
    # Named after this process: if it is killed, the next check's sweep removes the folder.
    temporary = reaper.scratch_dir("course-check-", reaper.fast_scratch_parent())
    with _removed(temporary), workspace.isolated():
        ws = None
        setup_problem = False
        english = None
        try:
            try:
                ws = workspace.fresh(exercise.id, exercise.stage, server=server, root=Path(temporary))
            except engines.EngineSetupError as exc:
                if exercise.about_servers:  # the message names the variable: say what the server is for
                    raise engines.EngineSetupError(f"{_about(exercise)}: {exc}") from None
                raise
            mapping = lay_out(exercise, ws.path, files)
            checker = _load_checker(exercise)
            with _time_limit(), _still_running(still_running):
                message = checker(Run(ws, mapping)) or ""
            ok = True
        except Fail as failure:
            ok, message = False, str(failure)
            english = str(english_of(failure.args[0])) if failure.args else message
        except engines.EngineSetupError as exc:
            ok, message, setup_problem = False, str(exc), True
        except Exception as exc:  # a bug in the check itself: still one line, never a traceback
            ok = False
            message = _("the check itself failed ({error}); please report this as a course bug").format(
                error=f"{type(exc).__name__}: {exc}")
        finally:
            if ws is not None:
                ws.discard()
    english = english if english is not None else str(english_of(message))
    return Result(exercise, ok, message, time.perf_counter() - started, english, setup_problem)


def lay_out(exercise: Exercise, project: Path, files: Mapping[str, Path]) -> dict[Path, Path]:
    """Put the exercise's given files and `files` (learner-area name -> file) into the project
    copy at `project`, as a check sees it; returns each copied file's path there -> its source."""
    given = exercise.directory / "given"
    if given.is_dir():
        shutil.copytree(given, project, dirs_exist_ok=True)
    mapping = {}
    for file in exercise.files:
        target = project / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(files[file.name], target)
        mapping[target] = files[file.name]
    return mapping


def check_server(exercise: Exercise, server=None):
    """Where to check `exercise`, as workspace.fresh(server=...) takes it: `server` if given (a
    URL, or "sqlite" for SQLite), else the configured one (COURSE_DATABASE_URL). An exercise
    about servers is checked on the configured server when it is one of its engines, else on
    the server of its first engine ("postgresql": COURSE_POSTGRESQL_SERVER, and so on): a
    learner on SQLite needs only that server running. A server given explicitly that the
    exercise is not about is refused (EngineSetupError): nothing would be checked."""
    from course.runtime import engines

    given = server is not None
    server = (None if server == "sqlite" else server) if given else engines.server_url()
    engine = engines.name_of(server)
    if engine in exercise.engines:
        return server
    if given:
        raise engines.EngineSetupError(_("{about}: it is not checked on {engine}").format(
            about=_about(exercise), engine=engines.ENGINE_TITLES[engine]))
    return exercise.engines[0]


def check_engine(exercise: Exercise) -> str:
    """The engine `course check` would check `exercise` on now (settings as they are)."""
    from course.runtime import engines

    server = check_server(exercise)
    return server if server in engines.SERVER_ENGINES else engines.name_of(server)


def _about(exercise: Exercise) -> str:
    return _("{id} is about {engines}").format(
        id=exercise.id, engines=_(" and ").join(settings.ENGINE_TITLES[e] for e in exercise.engines))


@contextlib.contextmanager
def _removed(folder: str):
    try:
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


STILL_RUNNING_AFTER = 5.0  # seconds before a terminal hears that a check is still running


@contextlib.contextmanager
def _still_running(note, after: float | None = None):
    """Call `note(seconds)` once if the check is still running after `after` seconds, so a
    terminal is not silent while an endless loop waits for its time limit."""
    import threading

    if note is None:
        yield
        return
    after = STILL_RUNNING_AFTER if after is None else after
    timer = threading.Timer(after, note, args=(after,))
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()


@contextlib.contextmanager
def _time_limit():
    """A backstop for a check that never finishes.

    Each step that runs the learner's code has its own limit, COURSE_CHECK_TIMEOUT seconds
    (course/learner/learner_code.py), and says which step ran too long. This one covers the whole
    check, at four times that plus ten seconds, in case a step hangs outside Python (a lock
    held by the database, say). SIGALRM exists only on Unix and only the main thread
    receives it; elsewhere checks run without this backstop.
    """
    import signal

    from course.learner.checks import Fail, step_time_limit
    import threading

    step = step_time_limit()
    seconds = 4 * step + 10
    if not hasattr(signal, "setitimer") or threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise Fail(_("the check did not finish within {seconds} s: is a step of your code waiting for something?").format(
            seconds=f"{seconds:g}"))

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _engine_now(exercise_id: str) -> str | None:
    """The engine a check of `exercise_id` runs on with today's settings, or None if unknown."""
    from course.runtime import engines

    try:
        return check_engine(get(exercise_id))
    except (LookupError, settings.SettingsError, engines.EngineSetupError):
        return None


def record(result: Result) -> None:
    """Keep the verdict per engine: a pass on SQLite stays a pass on SQLite after a failing
    check on PostgreSQL (each engine has its own traps)."""
    if result.setup_problem:
        return
    exercise_id = result.exercise.id
    engine = _engine_now(exercise_id)
    passed = set(passed_on(exercise_id))
    if engine is not None:
        (passed.add if result.ok else passed.discard)(engine)
    progress.update("exercises", exercise_id, {
        "done": result.ok,
        "checked_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "passed_on": [e for e in settings.ENGINES if e in passed],
    })


def passed_on(exercise_id: str, data: dict | None = None) -> list[str]:
    """The engines on which the last check of `exercise_id` passed (none known in a file
    written before engines were recorded)."""
    data = data if data is not None else progress.load()
    found = data["exercises"].get(exercise_id, {}).get("passed_on") or []
    return [e for e in found if isinstance(e, str) and e in settings.ENGINES]


def is_done(exercise_id: str, data: dict | None = None) -> bool:
    """Passed on the engine a check would run on now; in a file without engines, its last check passed."""
    data = data if data is not None else progress.load()
    entry = data["exercises"].get(exercise_id, {})
    if "passed_on" not in entry:
        return bool(entry.get("done"))
    passed = passed_on(exercise_id, data)
    engine = _engine_now(exercise_id)
    return engine in passed if engine is not None else bool(passed)


def next_unfinished(after: Exercise | None = None) -> Exercise | None:
    data = progress.load()
    ordered = all_exercises()
    if after is not None:
        index = ordered.index(after)
        ordered = ordered[index + 1:] + ordered[:index + 1]
    for exercise in ordered:
        if not is_done(exercise.id, data):
            return exercise
    return None


# -- for notebooks ------------------------------------------------------------------------------

def check(exercise_id: str) -> bool:
    """Check the learner's files for an exercise, print the report, record progress.

    A notebook's practise cell runs this, and its stored output is what the untouched
    starter gets: so that output reads as the exercise's starting point, not as the reader's
    failure. No path is printed: it differs per machine, and this output is stored.
    """
    exercise = get(exercise_id)
    result = run_check(exercise)
    record(result)
    if result.ok or result.setup_problem:
        print(result.report())
    elif is_untouched(exercise):
        print(_starting_point(result))
    else:
        print(result.report())
        print(_("Edit your copy (`{command}` says where it is), then check again.").format(
            command=f"course show {exercise.id}"))
    return result.ok


def is_untouched(exercise: Exercise) -> bool:
    """Every learner file of the exercise exists and is still the starter, byte for byte."""
    return all(
        exercise.learner_path(f).is_file() and exercise.learner_path(f).read_bytes() == f.starter.read_bytes()
        for f in exercise.files
    )


def _starting_point(result: Result) -> str:
    exercise = result.exercise
    several = len(exercise.files) > 1
    found = "\n".join(f"  {line}" for line in result.message.splitlines())
    show_call = f'exercises.show("{exercise.id}")'
    if several:
        text = _("{id}: your turn. Your copies are still the starters, so the check stops, as expected, where the "
                 "exercise begins:\n{found}\n{show} prints the task and where your copies are; edit them, then run "
                 "this cell again.")
    else:
        text = _("{id}: your turn. Your copy is still the starter, so the check stops, as expected, where the "
                 "exercise begins:\n{found}\n{show} prints the task and where your copy is; edit it, then run this "
                 "cell again.")
    return text.format(id=exercise.id, found=found, show=show_call)


def show(exercise_id: str) -> None:
    """Print the task and where the learner's file is (notebook form of `course show`)."""
    exercise = get(exercise_id)
    ensure_learner_files(exercise)
    print(f"{exercise.label} {exercise.title}  [{exercise.id}]\n")
    print(exercise.task + "\n")
    for file in exercise.files:
        print(_("Your file: {file}  (it is {path} in the project)").format(
            file=shown(exercise.learner_path(file)), path=file.path))
    if exercise.about_servers:
        print(server_note(exercise))
    print(_("Check it here with {call}, or in a terminal: {command}").format(
        call=f'exercises.check("{exercise.id}")', command=f"course check {exercise.id}"))


def notebook_to_read(exercise: Exercise) -> str:
    """The notebook that teaches the exercise, in the language the course speaks if it has that
    edition (notebooks/zh/...), as a path from the repository's root."""
    read = syllabus.notebook_to_read(exercise.notebook)
    return read if exercise.notebook_path().exists() else read + _(" (not written yet)")


def server_note(exercise: Exercise) -> str:
    """For an exercise about servers: which server a check uses, named by its setting."""
    titles = _(" and ").join(settings.ENGINE_TITLES[e] for e in exercise.engines)
    first = exercise.engines[0]
    variable = settings.variable(settings.CourseSettings, f"{first}_server")
    return _("It is about {engines}: a check runs on the server COURSE_DATABASE_URL names if it is one of them, "
             "else on the {engine} server {variable} names (README.md, Settings).").format(
        engines=titles, engine=settings.ENGINE_TITLES[first], variable=variable)


def hint(exercise_id: str) -> None:
    """Print the next hint (notebook form of `course hint`)."""
    exercise = get(exercise_id)
    print(next_hint(exercise))


def next_hint(exercise: Exercise) -> str:
    data = progress.load()
    shown_before = int(data["exercises"].get(exercise.id, {}).get("hints_shown", 0))
    total = len(exercise.hints)
    if shown_before >= total:
        return _("No more hints ({total} shown). The reference solution: {command}").format(
            total=total, command=f"course solution {exercise.id}")
    progress.update("exercises", exercise.id, {"hints_shown": shown_before + 1})
    return _("Hint {number}/{total}: {hint}").format(number=shown_before + 1, total=total, hint=exercise.hints[shown_before])


def solution(exercise_id: str) -> None:
    """Print the reference solution."""
    exercise = get(exercise_id)
    for file in exercise.files:
        print(f"# {file.path}")
        print(solution_text(exercise, file))


def solution_text(exercise: Exercise, file: LearnerFile) -> str:
    """A reference solution as shown: its comments in the language the course speaks."""
    from course import i18n

    return i18n.with_comments_translated(file.solution.read_text(encoding="utf-8"), f"chapters/{exercise.chapter}",
                                         f"solution {exercise.id} {file.name}")


# -- for maintainers ----------------------------------------------------------------------------

def verify(exercise: Exercise) -> list[str]:
    """Problems with an exercise: the solution must pass; the starter and each wrong attempt
    must fail with the message the toml names for them."""
    problems = []
    result = run_check(exercise, exercise.solution_files())
    if not result.ok:
        problems.append(f"the solution fails: {result.message}")
    if result.setup_problem:
        return problems  # nothing could be checked
    engine = check_engine(exercise)
    for attempt in (exercise.starter, *exercise.wrong):
        if not attempt.applies(engine):
            continue
        result = run_check(exercise, attempt.files)
        label = "the untouched starter" if attempt.name == "starter" else f"wrong attempt {attempt.name!r}"
        if result.ok:
            problems.append(f"{label} passes")
        elif attempt.expected(engine) not in result.english_message:
            # matched on the message's English source: the same proof holds in every language
            problems.append(f"{label} fails with {result.english_message!r}, expected {attempt.expected(engine)!r}")
    return problems
