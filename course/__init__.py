"""Helpers shared by the notebooks, the `course` command and the tests of the course.

The package has one home per audience:

    course/runtime/     what the notebooks run on: private project copies (workspace), the
                        database server (engines), printing (show), clean-up (reaper), the
                        warm interpreter, reading database errors
    course/learner/     the learner's tool: the `course` command, exercises and their checks,
                        progress, quizzes, `make lab`
    course/lessons/     code the lessons show and readers read: engine probes, the backfill
                        benchmark, the start-up lock
    course/maintainer/  tools for whoever maintains the course (`make record`)
    settings.py         every setting the course reads from the environment, read in one place
    syllabus.py         the table of contents (syllabus.toml)
    i18n.py             the language the course speaks, and its translations (locale/)

The notebooks import from `course` itself (`from course import show, workspace`), and the
names they use stay valid wherever a module lives: `MOVED` maps each one to its home, both
as an attribute of `course` and as a module path (`from course.quiz import answer`,
`python -m course.engine_probes --record`).
"""

import importlib
import importlib.abc
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SAMPLE_PROJECT = REPO / "sample_project"

MOVED = {
    **{name: f"course.runtime.{name}" for name in ("workspace", "engines", "show", "reaper", "warm_python", "errors", "evidence")},
    **{name: f"course.learner.{name}" for name in ("cli", "exercises", "checks", "learner_code", "progress", "quiz", "lab")},
    **{name: f"course.lessons.{name}" for name in ("engine_probes", "bench", "startup", "locks", "ddl_locks", "lint")},
    "record": "course.maintainer.record",
}



def main(argv: list[str] | None = None, prog: str = "course") -> int:
    """The `course` command (pyproject.toml). Ctrl-C while its modules are still loading ends it as
    Ctrl-C does later, with one line and status 130, instead of an import's traceback."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    try:
        # At JupyterLab's terminal, `course check` is answered by Lab's warm interpreter
        # (course/learner/forwarding.py), before the libraries are imported here.
        from course.learner import forwarding

        helper = forwarding.helper_for(arguments)
        if helper is not None:
            status = forwarding.forward(arguments, prog, helper)
            if status is not None:
                return status
        from course.learner import cli
    except KeyboardInterrupt:
        sys.stderr.write("\nInterrupted.\n")
        return 130
    return cli.main(arguments, prog)

def command(prog: str = "course") -> None:
    """The `course` command as a process (pyproject.toml, `python -m course`): main(), the exit
    handlers (a check's scratch databases are dropped there), then the process ends at once.

    Python's own shutdown would first take apart every module a check imported (SQLAlchemy,
    Alembic, pydantic): about 0.1 s of a 0.6 s `course check`, spent on nothing the learner
    sees. Where a thread other than daemons still runs, Python's shutdown waits for it as usual.
    """
    import atexit
    import os
    import threading

    status = main(prog=prog)
    if (any(t.is_alive() and not t.daemon for t in threading.enumerate() if t is not threading.main_thread())
            or sys.gettrace() is not None or sys.getprofile() is not None):  # coverage, cProfile: they write at exit
        sys.exit(status)
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is not None:
                stream.flush()
        except (OSError, ValueError):  # the reader left, the disk is full, the stream is closed
            status = status or 120  # as Python itself ends when it cannot flush at exit
    os._exit(status)


def __getattr__(name: str):
    """`from course import workspace`: imported on first use, so `course` alone stays cheap."""
    if name in MOVED:
        module = importlib.import_module(MOVED[name])
        globals()[name] = module
        return module
    raise AttributeError(f"module 'course' has no attribute {name!r}")


class _MovedModules(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """`course.quiz` is `course.learner.quiz`: the same module object, not a copy, so state and
    monkeypatching are shared; and `python -m course.quiz` runs the module at its new home."""

    def __init__(self):
        self._own_specs = {}  # alias -> the module's own spec, between create and exec

    def find_spec(self, fullname, path=None, target=None):
        if fullname.startswith("course.") and fullname[len("course."):] in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        module = importlib.import_module(MOVED[spec.name[len("course."):]])
        self._own_specs[spec.name] = module.__spec__  # the import system sets the alias's next
        return module

    def exec_module(self, module):
        alias = module.__spec__.name
        module.__spec__ = self._own_specs.pop(alias)

    def get_code(self, fullname):  # what runpy asks for, for `python -m course.<old name>`
        home = importlib.util.find_spec(MOVED[fullname[len("course."):]])
        return home.loader.get_code(home.name)


sys.meta_path.append(_MovedModules())
