"""The `course` command (also `python -m course`): exercises, hints, progress, quizzes.

    course list                 every exercise, done or not, per chapter
    course show ID              the task, and the file you edit
    course check [ID]           check your file (exit 0: passed, 1: not yet); default: the last one
    course hint ID              the next hint
    course solution ID          the reference solution
    course reset ID [--yes]     start the exercise again (your file is kept as a backup)
    course watch [ID]           check again whenever you save; default: the last one
    course sandbox ID           a copy of the project with your file in it, to run Alembic by hand
    course quiz CHAPTER         the chapter's quiz
    course verify-all [ID...]   maintainers: solutions pass, starters fail (on copies)

Exit status 2: an unknown exercise or chapter (the message lists the valid ones); 3: a
setting has a value the course cannot use, or the course's database (COURSE_DATABASE_URL) is
not usable, so nothing was checked; 4: the course itself is broken (an exercise's definition,
or syllabus.toml); 130: Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from collections.abc import Callable
from pathlib import Path

from course import i18n, settings, syllabus
from course.i18n import _
from course.learner import exercises, progress
from course.learner.paths import shown
from course.learner.exercises import Exercise, UnknownExercise

USAGE_ERROR = 2
SETUP_PROBLEM = 3  # a setting or the course's database is not usable: nothing was checked
BROKEN = 4  # an exercise's definition or the syllabus cannot be loaded: a bug in the course
INTERRUPTED = 130  # what a shell reports for a command stopped by Ctrl-C


_PROG = ["course"]  # how the learner called us, for the commands we suggest


def _prog() -> str:
    return _PROG[0]


# -- output ----------------------------------------------------------------------------------

class Style:
    """ANSI colour only for a terminal, and never when NO_COLOR is set (no-color.org)."""

    CODES = {"green": "32", "red": "31", "yellow": "33", "bold": "1", "dim": "2"}

    def __init__(self, stream) -> None:
        self.enabled = bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("NO_COLOR")

    def __call__(self, text: str, style: str) -> str:
        return f"\033[{self.CODES[style]}m{text}\033[0m" if self.enabled else text


def _out(text: str = "") -> None:
    print(text, flush=True)


def _err(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def chapter_heading(chapter: syllabus.Chapter) -> str:
    """"Chapter 2: Migrations in production", in the language the course speaks."""
    title = i18n.translate(f"chapters/{chapter.id}", "chapter title", chapter.title)
    return _("Chapter {number}: {title}").format(number=chapter.number, title=title)


def _exercise(name: str) -> Exercise:
    """An exercise by id, by CHAPTER.NUMBER ("2.4", as `course list` shows it), or by its
    number when only one chapter has that many exercises. Numbers are syllabus positions."""
    try:
        return exercises.get(name)
    except UnknownExercise:
        chapter, dot, number = name.rpartition(".")
        if dot and chapter.isdigit() and number.isdigit():
            try:
                entries = syllabus.chapter(chapter).exercises
            except syllabus.UnknownChapter:
                entries = ()
            if 1 <= int(number) <= len(entries):
                return exercises.get(entries[int(number) - 1].id)
        if name.isdigit():
            matches = [c for c in syllabus.chapters() if 1 <= int(name) <= len(c.exercises)]
            if len(matches) == 1:
                return exercises.get(matches[0].exercises[int(name) - 1].id)
            if matches:
                choices = ", ".join(f"{c.number}.{name} ({c.exercises[int(name) - 1].id})" for c in matches)
                raise UnknownExercise(_("exercise {name} is ambiguous: say {choices}").format(name=name, choices=choices)) from None
        raise


# -- commands -------------------------------------------------------------------------------

def cmd_list(args, style: Style) -> int:
    data = progress.load()
    all_ = exercises.all_exercises()
    done = 0
    for chapter in syllabus.chapters():
        members = [e for e in all_ if e.chapter == chapter.id]
        _out(style(chapter_heading(chapter), "bold") + f"  ({chapter.id})")
        width = max((len(e.id) for e in members), default=0)
        label_width = max((len(e.label) for e in members), default=0)
        for e in members:
            finished = exercises.is_done(e.id, data)
            done += finished
            mark = style(_("[done]"), "green") if finished else "[    ]"
            elsewhere = "" if finished else ", ".join(settings.ENGINE_TITLES[n] for n in exercises.passed_on(e.id, data))
            note = _("  (passed on {engines})").format(engines=elsewhere) if elsewhere else ""
            _out(f"  {mark} {e.label:<{label_width}}  {e.id:<{width}}  {e.title}{note}")
        if chapter.quiz:
            _out(_("  quiz: {summary}").format(summary=_quiz_summary(chapter, data)))
        _out()
    for exercise_id, why in exercises.broken_exercises().items():
        _out(style(f"  [broken] {exercise_id}: {why}", "red"))
    following = exercises.next_unfinished()
    summary = _("{done}/{total} done.").format(done=done, total=len(all_))
    if following is not None:
        summary += _(" Next: {command}").format(command=f"{_prog()} show {following.id}")
    _out(summary)
    return 0


def _quiz_summary(chapter: syllabus.Chapter, data: dict) -> str:
    number = chapter.number
    taken = data["quizzes"].get(chapter.id, {})
    command = f"{_prog()} quiz {number}"
    if "best" in taken:
        return _("best score {best}/{total}  ({command} to take it again)").format(
            best=taken["best"], total=taken.get("total", "?"), command=command)
    if taken.get("answered"):
        return _("stopped after {answered} of {total} questions  ({command} goes on)").format(
            answered=taken["answered"], total=taken.get("total", "?"), command=command)
    return _("not taken yet  ({command})").format(command=command)


def _describe_files(exercise: Exercise) -> list[str]:
    return [
        _("Your file: {file}  (it is {path} in the project)").format(file=shown(exercise.learner_path(f)), path=f.path)
        for f in exercise.files
    ]


def _current(args) -> Exercise | None:
    """The exercise a command is about: the one named, else the one last shown, hinted or
    checked, else the first not done. Says which when it was not named."""
    if args.id:
        exercise = _exercise(args.id)
    else:
        last = progress.load()["last_exercise"]
        try:
            exercise = exercises.get(last) if last else None
            why = _("the exercise you last worked on")
        except UnknownExercise:  # renamed since, or edited by hand
            exercise = None
        if exercise is None:
            exercise = exercises.next_unfinished()
            why = _("the first exercise not done yet")
        if exercise is not None:
            _out(_("{id}: {why} ({command} ID for another)").format(
                id=exercise.id, why=why, command=f"{_prog()} {args.command}"))
    if exercise is not None:
        progress.remember_exercise(exercise.id)
    return exercise


def cmd_show(args, style: Style) -> int:
    exercise = _current(args)
    if exercise is None:
        _out(_("Every exercise is done."))
        return 0
    exercises.ensure_learner_files(exercise)
    status = style(_("done"), "green") if exercises.is_done(exercise.id) else _("not done yet")
    _out(style(f"{exercise.label} {exercise.title}", "bold") + f"  [{exercise.id}, {status}]")
    _out(_("Read first: {notebook}").format(notebook=exercises.notebook_to_read(exercise)))
    _out()
    _out(exercise.task)
    _out()
    for line in _describe_files(exercise):
        _out(line)
    if exercise.about_servers:
        _out(exercises.server_note(exercise))
    _out(_("Check it: {check}    Stuck? {hint}").format(check=f"{_prog()} check {exercise.id}",
                                                        hint=f"{_prog()} hint {exercise.id}"))
    return 0


def _label(exercise: Exercise) -> str:
    """"add-email: " before a verdict (a full-width colon in Chinese)."""
    return _("{id}: ").format(id=exercise.id)


def _print_result(result: exercises.Result, style: Style) -> None:
    exercise = result.exercise
    if result.setup_problem:
        _err(_label(exercise) + style(_("could not be checked"), "yellow") + _(" (your work was not looked at)"))
        _err(f"  {result.message}")
        if not exercise.about_servers:  # an exercise about servers is never checked on SQLite
            database_url = settings.variable(settings.CourseSettings, "database_url")
            _err(_("  Unset {variable} to check on SQLite files, which need nothing set up.").format(variable=database_url))
        return
    if result.ok:
        _out(_label(exercise) + style(_("passed"), "green") + f" ({result.seconds:.1f} s)")
        if result.message:
            _out(f"  {result.message}")
        following = exercises.next_unfinished(after=exercise)
        if following is None:
            _out("  " + _("Every exercise is done."))
        else:
            _out("  " + _("Next: {command}").format(command=f"{_prog()} show {following.id}"))
        return
    _out(_label(exercise) + style(_("not yet"), "red"))
    for line in result.message.splitlines():
        _out(f"  {line}")
    for path in exercise.learner_paths():
        _out("  " + _("Your file: {file}").format(file=shown(path)))
    shown_hints = int(progress.load()["exercises"].get(exercise.id, {}).get("hints_shown", 0))
    if shown_hints < len(exercise.hints):
        _out("  " + _("Stuck? {command}  ({left} hints left)").format(
            command=f"{_prog()} hint {exercise.id}", left=len(exercise.hints) - shown_hints))


def _check_and_report(exercise: Exercise, style: Style) -> exercises.Result:
    from course.runtime import warm_python

    def still_running(seconds: float) -> None:
        _out(style("  " + _("still checking after {seconds} s (each step may take up to {limit} s; Ctrl-C stops)").format(
            seconds=f"{seconds:g}", limit=f"{settings.current().check_timeout:g}"), "dim"))

    # Each step that runs the learner's code is a child forked from this process, which has
    # imported SQLAlchemy and Alembic for the checker anyway: no helper importing them again.
    with warm_python.forking_here():
        result = exercises.run_check(exercise, still_running=still_running)
    exercises.record(result)
    _print_result(result, style)
    return result


def cmd_check(args, style: Style) -> int:
    exercise = _current(args)
    if exercise is None:
        _out(_("Every exercise is done."))
        return 0
    result = _check_and_report(exercise, style)
    return SETUP_PROBLEM if result.setup_problem else (0 if result.ok else 1)


def cmd_hint(args, style: Style) -> int:
    exercise = _current(args)
    if exercise is None:
        _out(_("Every exercise is done."))
        return 0
    _out(exercises.next_hint(exercise).replace("course solution", f"{_prog()} solution"))
    return 0


def cmd_solution(args, style: Style) -> int:
    exercise = _current(args)
    if exercise is None:
        _out(_("Every exercise is done."))
        return 0
    progress.update("exercises", exercise.id, {"solution_seen": True})
    for file in exercise.files:
        _out(style("# " + _("{path}  (reference solution of {id})").format(path=file.path, id=exercise.id), "bold"))
        _out(exercises.solution_text(exercise, file).rstrip("\n"))
    return 0


def _backup_name(path: Path) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    candidate = path.with_name(f"{path.name}.{stamp}.bak")
    counter = 1
    while candidate.exists():
        candidate = path.with_name(f"{path.name}.{stamp}-{counter}.bak")
        counter += 1
    return candidate


def cmd_reset(args, style: Style, ask: Callable[[str], str] = input) -> int:
    exercise = _exercise(args.id)
    changed = [
        (f, exercise.learner_path(f)) for f in exercise.files
        if exercise.learner_path(f).exists()
        and exercise.learner_path(f).read_bytes() != f.starter.read_bytes()
    ]
    if changed and not args.yes:
        names = ", ".join(shown(p) for _, p in changed)
        try:
            answer = ask(_("Replace {files} with the starter? Your version is kept as a backup. [y/N] ").format(files=names))
        except EOFError:
            answer = ""
        if not sys.stdin.isatty():
            _out()  # the answer came from a pipe: end the prompt's line
        if answer.strip().lower() not in ("y", "yes", "是"):
            _out(_("Nothing changed. ({command} resets without asking.)").format(command=f"{_prog()} reset {exercise.id} --yes"))
            return 1
    for file, path in changed:
        backup = _backup_name(path)
        shutil.copyfile(path, backup)
        _out(_("Kept your version as {file}").format(file=shown(backup)))
    for file in exercise.files:
        path = exercise.learner_path(file)
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(file.starter, path)
    progress.update("exercises", exercise.id, {"done": False, "passed_on": []})
    _out(_("{id}: back to the starter in {files}").format(
        id=exercise.id, files=", ".join(shown(p) for p in exercise.learner_paths())))
    return 0


def cmd_sandbox(args, style: Style) -> int:
    exercise = _exercise(args.id)
    project = exercises.make_sandbox(exercise)
    python = sys.executable
    _out(_("A copy of the project at this exercise's stage, your file included, with a SQLite database of its own:"))
    _out(f"  {shown(project)}")
    _out(_("Try Alembic there, for example:"))
    _out(f"  cd {shown(project)}")
    _out(f"  {python} -m alembic upgrade head")
    _out(f"  {python} -m alembic revision --autogenerate -m try --rev-id try")
    for file in exercise.files:
        _out(_("It holds a copy of your {name} as {path}: edit your own file, then run `{command}` again for a "
               "fresh copy.").format(name=exercise.learner_path(file).name, path=file.path,
                                     command=f"{_prog()} sandbox {exercise.id}"))
    return 0


def _mtimes(exercise: Exercise) -> tuple:
    stamps = []
    for path in exercise.learner_paths():
        try:
            info = path.stat()
            stamps.append((info.st_mtime_ns, info.st_size))
        except FileNotFoundError:
            stamps.append(None)
    return tuple(stamps)


def cmd_watch(args, style: Style) -> int:
    follow = args.id is None  # without an id, move on to the next unfinished exercise
    exercise = _current(args)
    if exercise is None:
        _out(_("Every exercise is done."))
        return 0
    limit = 0 if args.once else args.max_iterations
    polls = 0
    try:
        while True:
            exercises.ensure_learner_files(exercise)
            _out(style(f"== {exercise.label} {exercise.title} ({exercise.id})", "bold"))
            _out(_("Watching {files}: save to check again. Ctrl-C stops.").format(
                files=", ".join(shown(p) for p in exercise.learner_paths())))
            stamps = _mtimes(exercise)
            result = _check_and_report(exercise, style)
            if result.setup_problem:
                return SETUP_PROBLEM
            while not (result.ok and follow):
                if limit is not None and polls >= limit:
                    return 0 if result.ok else 1
                time.sleep(args.interval)
                polls += 1
                now = _mtimes(exercise)
                if now != stamps:
                    stamps = now
                    _out()
                    result = _check_and_report(exercise, style)
            following = exercises.next_unfinished(after=exercise)
            if following is None:
                _out(_("Every exercise is done."))
                return 0
            exercise = following
            progress.remember_exercise(exercise.id)
            _out()
    except KeyboardInterrupt:
        _out("\n" + _("Stopped watching."))
        return 0


def cmd_quiz(args, style: Style) -> int:
    from course import quiz  # imported here: every other command starts without it

    chapter = exercises.find_chapter(args.chapter)
    return int(quiz.run(chapter, restart=args.restart) or 0)


def cmd_verify_all(args, style: Style) -> int:
    from course.runtime import warm_python

    chosen = [_exercise(i) for i in args.ids] if args.ids else exercises.all_exercises()
    failures = 0
    with warm_python.forking_here():  # as in _check_and_report
        for exercise in chosen:
            failures += _verify_one(exercise, style)
    _out(f"{len(chosen) - failures}/{len(chosen)} exercises verified.")
    return 1 if failures else 0


def _verify_one(exercise: Exercise, style: Style) -> int:
    """Verify one exercise and say how it went: 1 if it failed, else 0."""
    started = time.perf_counter()
    problems = _structure_problems(exercise) or exercises.verify(exercise)
    seconds = time.perf_counter() - started
    if problems:
        _out(f"{style('FAIL', 'red')} {exercise.id} ({seconds:.1f} s)")
        for problem in problems:
            _out(f"  {problem}")
        return 1
    engine = exercises.check_engine(exercise)  # an exercise about servers: its own
    tried = 2 + sum(1 for a in exercise.wrong if a.applies(engine))
    _out(f"{style('ok', 'green')}   {exercise.id} ({seconds:.1f} s, {tried} versions checked)")
    return 0


def _structure_problems(exercise: Exercise) -> list[str]:
    problems = []
    for file in exercise.files:
        for label, path in (("starter", file.starter), ("solution", file.solution)):
            if not path.is_file():
                problems.append(f"{label} file missing: {path}")
    for attempt in exercise.wrong:
        problems += [f"wrong attempt file missing: {p}" for p in attempt.files.values() if not p.is_file()]
    if not exercise.hints:
        problems.append("no hints")
    if not (exercise.directory / "check.py").is_file():
        problems.append("no check.py")
    return problems


# -- entry point ---------------------------------------------------------------------------------

def N_(message: str) -> str:
    """Marks a message for the catalogue without translating it here (gettext's name)."""
    return message


# argparse's own words ("usage:", "error:", a missing ID, an unknown command), which it looks up
# through its module's gettext `_`: listed here so that the catalogue has them, and said through
# the course's catalogue (_argparse_speaks) in the language the course speaks.
ARGPARSE_WORDS = (
    N_("usage: "), N_("positional arguments"), N_("options"), N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"), N_("the following arguments are required: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"), N_("unrecognized arguments: %s"),
    N_("expected one argument"), N_("argument %(argument_name)s: %(message)s"),
    N_("invalid %(type)s value: %(value)r"),
)


def _argparse_speaks() -> None:
    argparse._ = lambda message: i18n.translate("messages", None, message)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog=_prog(), description=_("Exercises of Migrations in Practice: check, hints, progress."),
    )
    top.add_argument("--lang", metavar="LANGUAGE", choices=list(i18n.LANGUAGES), help=_(
        "the language to speak: en or zh (default: COURSE_LANGUAGE, else the locale, LANG=zh_CN.UTF-8 is zh)"))
    commands = top.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True
    commands.add_parser("list", help=_("every exercise, done or not")).set_defaults(run=cmd_list)
    check = commands.add_parser("check", help=_("check your file (exit 0: passed, 1: not yet)"))
    check.add_argument("id", metavar="ID", nargs="?", help=_("default: the exercise you last worked on"))
    check.set_defaults(run=cmd_check)
    for name, run, text in (
        ("show", cmd_show, _("the task, and the file you edit")),
        ("hint", cmd_hint, _("the next hint")),
        ("solution", cmd_solution, _("the reference solution")),
    ):
        command = commands.add_parser(name, help=text)
        command.add_argument("id", metavar="ID", nargs="?", help=_("default: the exercise you last worked on"))
        command.set_defaults(run=run)
    reset = commands.add_parser("reset", help=_("start an exercise again; your file is kept as a backup"))
    reset.add_argument("id", metavar="ID")
    reset.add_argument("--yes", "-y", action="store_true", help=_("do not ask"))
    reset.set_defaults(run=cmd_reset)
    sandbox = commands.add_parser("sandbox", help=_("a copy of the project with your file in it, to try Alembic by hand"))
    sandbox.add_argument("id", metavar="ID")
    sandbox.set_defaults(run=cmd_sandbox)
    watch = commands.add_parser("watch", help=_("check again whenever you save"))
    watch.add_argument("id", metavar="ID", nargs="?", help=_("default: the exercise you last worked on"))
    watch.add_argument("--interval", type=float, default=0.5, help=_("seconds between looks (default 0.5)"))
    watch.add_argument("--max-iterations", type=int, default=None, metavar="N", help=_("stop after N looks"))
    watch.add_argument("--once", action="store_true", help=_("check once and stop"))
    watch.set_defaults(run=cmd_watch)
    quiz = commands.add_parser("quiz", help=_("a chapter's quiz"))
    quiz.add_argument("chapter", metavar="CHAPTER", help=_("the chapter's number, as `list` shows it"))
    quiz.add_argument("--restart", action="store_true", help=_("start again at question 1"))
    quiz.set_defaults(run=cmd_quiz)
    verify = commands.add_parser("verify-all", help=_("maintainers: every solution passes, every starter fails"))
    verify.add_argument("ids", metavar="ID", nargs="*")
    verify.set_defaults(run=cmd_verify_all)
    return top


def _language_option(argv: list[str]) -> str | None:
    """--lang X (or --lang=X) anywhere on the line, taken out of argv; None if not given."""
    for index, word in enumerate(argv):
        if word == "--":
            return None
        if word == "--lang" or word.startswith("--lang="):
            value = word.partition("=")[2] if "=" in word else (argv[index + 1] if index + 1 < len(argv) else "")
            del argv[index:index + (1 if "=" in word else 2)]
            return i18n.check_language(value, "--lang")
    return None


class Stopped(BaseException):
    """SIGTERM or SIGHUP (a closed terminal): unwind, so every `finally` tidies up."""

    def __init__(self, signum: int) -> None:
        self.signum = signum


def _stop(signum, frame):
    raise Stopped(signum)


def main(argv: list[str] | None = None, prog: str = "course") -> int:
    import signal

    _PROG[0] = prog
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        chosen = _language_option(argv)
    except i18n.LanguageError as exc:
        _err(str(exc))
        return USAGE_ERROR
    if chosen:  # for this process and the check steps it starts
        os.environ[i18n.VARIABLE] = chosen
    try:
        i18n.language()
    except settings.SettingsError as exc:  # COURSE_LANGUAGE is not a language of the course
        _err(str(exc))
        return SETUP_PROBLEM
    _argparse_speaks()
    args = parser().parse_args(argv)
    style = Style(sys.stdout)
    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), _stop)
    try:
        settings.current()  # a setting the course cannot use stops every command, before it starts
        return args.run(args, style)
    except settings.SettingsError as exc:
        _err(str(exc))
        return SETUP_PROBLEM
    except Stopped as stopped:  # the scratch copy and its database were removed on the way out
        return 128 + stopped.signum
    except (UnknownExercise, syllabus.UnknownChapter) as exc:
        _err(str(exc))
        return USAGE_ERROR
    except exercises.BrokenExercise as exc:
        _err(str(exc))
        return BROKEN
    except syllabus.SyllabusError as exc:
        _err(f"the course's syllabus is broken (a course bug, please report it): {exc}")
        return BROKEN
    except KeyboardInterrupt:  # Ctrl-C: the check's scratch copy and database are gone already
        _err("\nInterrupted.")
        return INTERRUPTED
    except BrokenPipeError:  # `course list | head`: the reader left; stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1


if __name__ == "__main__":
    sys.exit(main())
