"""A private working copy of the sample project, with a database of its own.

Every notebook and every exercise check starts from `fresh(name, stage)`: the copy lives in a
fixed place (so the paths Alembic prints are the same on every run), is rebuilt from scratch
each time (so a notebook runs twice in a row), and is named after its user (so notebooks run
in parallel). The repository's own sample_project is never touched.

The project copied is a `Project`: a source folder stored at its last stage, the names of its
stages, and how an earlier stage is made from a copy of the last. SAMPLE (sample_project/) is
the one the chapters use; another variant of the app (on async drivers, say) is another
Project, and everything here works on it unchanged: `fresh(name, stage, project=ASYNC)`.
"""

import logging
import os
import re
import shlex
import shutil
import sys
import tempfile
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, inspect
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

from course import SAMPLE_PROJECT, settings
from course.runtime import engines, reaper, warm_python


def workspaces_root() -> Path:
    """<temp dir>/migrations-in-practice, or under COURSE_WORKDIR (a test run sets its own)."""
    return (settings.current().workdir or Path(tempfile.gettempdir())) / "migrations-in-practice"


@dataclass(frozen=True)
class Project:
    """A project the workspaces are copies of.

    `source` holds the project at its last stage; `derive(copy, stage)` turns a fresh copy of
    it into an earlier stage, in place (it is not called for the last stage). Files matching
    `ignore` (glob patterns) are not copied: caches, databases, a developer's .env.
    """

    name: str
    source: Path
    stages: tuple[str, ...]
    derive: Callable[[Path, str], None]
    ignore: tuple[str, ...] = ("__pycache__", "*.db", ".env")

    @property
    def last_stage(self) -> str:
        return self.stages[-1]

    def copy_to(self, target: Path, stage: str) -> None:
        """A copy of the project at `stage` in `target` (which must not exist)."""
        if stage not in self.stages:
            raise ValueError(f"unknown stage {stage!r} of {self.name}; choose one of {', '.join(self.stages)}")
        shutil.copytree(self.source, target, ignore=shutil.ignore_patterns(*self.ignore))
        if stage != self.last_stage:
            self.derive(target, stage)


# The sample project is stored at its final state; earlier stages are derived from it.
_ADDED_IN_0002 = "# since revision 0002"
_REVISIONS = {"0001": "0001_init.py", "0002": "0002_add_email_column.py"}


def _sample_at_stage(project: Path, stage: str) -> None:
    """no-alembic: the app alone, before `alembic init`; no-revisions: Alembic wired, no
    migration yet; 0001: models and migrations up to the init revision."""
    user = project / "app" / "models" / "user.py"
    user.write_text(
        "".join(line for line in user.read_text().splitlines(keepends=True) if _ADDED_IN_0002 not in line)
    )
    versions = project / "alembic" / "versions"
    if stage != "0001":
        (versions / _REVISIONS["0001"]).unlink()
    (versions / _REVISIONS["0002"]).unlink()
    if stage == "no-alembic":
        shutil.rmtree(project / "alembic")
        (project / "alembic.ini").unlink()


SAMPLE = Project("sample_project", SAMPLE_PROJECT, ("no-alembic", "no-revisions", "0001", "0002"), _sample_at_stage)
STAGES = SAMPLE.stages


class CommandFailed(Exception):
    """A command exited with a status other than the one the lesson expected."""


@dataclass
class Workspace:
    name: str
    path: Path
    url: str
    server: URL | None = None  # the server its database was created on; None for SQLite

    # -- the database ---------------------------------------------------------------
    @cached_property
    def engine(self) -> Engine:
        # NullPool: nothing stays connected between cells, so SQLite files and server
        # databases can be dropped or replaced at any time.
        return create_engine(self.url, poolclass=NullPool)

    def discard(self) -> None:
        """Close the engine and drop the workspace's database from its server, if it has one."""
        if "engine" in self.__dict__:
            self.engine.dispose()
        if self.server is not None:
            engines.drop_database(make_url(self.url), self.server)

    @property
    def dialect(self) -> str:
        """SQLAlchemy's name for the dialect ("mysql" for MariaDB): as a migration sees it."""
        return self.engine.dialect.name

    @property
    def engine_name(self) -> str:
        """The course's name for the engine: 'sqlite', 'mariadb' or 'postgresql'."""
        return engines.name_of(self.url)

    def inspector(self):
        return inspect(self.engine)

    # -- Alembic on the command line, as a reader types it --------------------------------
    def run(self, command_line: str, expect: int = 0, env: dict[str, str] | None = None) -> None:
        """Run `alembic ...` (or `python ...`) in the project, print what a terminal shows.

        The exit status is checked: a command that should succeed and fails raises, and a
        command shown failing on purpose must fail with the status given in `expect`.
        `env` adds or overrides environment variables for this command only (applied last,
        so `env={"DATABASE_URL": ...}` replaces the workspace's database).
        """
        argv = shlex.split(command_line)  # quoting as in a shell: -m "add email column"
        if argv[0] not in ("alembic", "python"):
            raise ValueError(f"run() takes `alembic ...` or `python ...`, not {argv[0]!r}")
        argv = ["-m", "alembic", *argv[1:]] if argv[0] == "alembic" else argv[1:]
        env = {**os.environ, "DATABASE_URL": self.url, "PYTHONDONTWRITEBYTECODE": "1", **(env or {})}
        returncode, output = warm_python.run(argv, self.path, env)
        print(f"$ {command_line}")
        print(output.replace("\r\n", "\n"), end="")
        if returncode != 0:
            print(f"[exit status {returncode}]")
        if returncode != expect:
            raise CommandFailed(f"`{command_line}` exited with {returncode}, expected {expect}")

    # -- Alembic through its Python API: quiet and fast, for the steps around a lesson ---
    def config(self) -> Config:
        forget_app_modules()
        cfg = Config(str(self.path / "alembic.ini"))
        cfg.attributes["configure_logger"] = False
        # env.py uses this engine instead of reading DATABASE_URL: a notebook may keep two
        # workspaces (one per server) and migrate the older one too.
        cfg.attributes["connection"] = self.engine
        return cfg

    def upgrade(self, revision: str = "head") -> None:
        command.upgrade(self.config(), revision)

    def downgrade(self, revision: str) -> None:
        command.downgrade(self.config(), revision)

    def stamp(self, revision: str) -> None:
        command.stamp(self.config(), revision)

    def autogenerate(self, message: str, rev_id: str) -> Path:
        """Write a revision from the models, as `alembic revision --autogenerate` does."""
        return Path(command.revision(self.config(), message=message, autogenerate=True, rev_id=rev_id).path)

    def current(self) -> str | None:
        from alembic.migration import MigrationContext

        with self.engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()

    # -- files ----------------------------------------------------------------------
    def file(self, relative: str) -> Path:
        return self.path / relative

    def revision_files(self) -> list[str]:
        return sorted(p.name for p in (self.path / "alembic" / "versions").glob("*.py"))


@contextmanager
def isolated(logging_too: bool = True):
    """Undo, on leaving, what fresh() does to this process (DATABASE_URL, sys.path, the cached
    `app` modules, bytecode writing) and what env.py's fileConfig does to logging: a notebook's
    own workspace keeps working after a scratch one was made and used inside.

    `logging_too=False` leaves logging alone: for a workspace kept across tests (a pytest
    fixture), whose logging pytest itself changes between them.
    """
    saved_path = sys.path[:]
    saved_url = os.environ.get("DATABASE_URL")
    saved_modules = {m: sys.modules[m] for m in app_modules()}
    saved_bytecode = sys.dont_write_bytecode
    root_logger = logging.getLogger()
    saved_root = (root_logger.level, root_logger.handlers[:])
    saved_loggers = {
        name: (lg.level, lg.handlers[:], lg.propagate, lg.disabled)
        for name, lg in logging.Logger.manager.loggerDict.items() if isinstance(lg, logging.Logger)
    }
    try:
        yield
    finally:
        sys.path[:] = saved_path
        if saved_url is None:
            os.environ.pop("DATABASE_URL", None)
        else:
            os.environ["DATABASE_URL"] = saved_url
        forget_app_modules()
        sys.modules.update(saved_modules)
        sys.dont_write_bytecode = saved_bytecode
        if logging_too:
            root_logger.setLevel(saved_root[0])
            root_logger.handlers[:] = saved_root[1]
            for name, lg in logging.Logger.manager.loggerDict.items():
                if isinstance(lg, logging.Logger):
                    level, handlers, propagate, disabled = saved_loggers.get(name, (logging.NOTSET, [], True, False))
                    lg.setLevel(level)
                    lg.handlers[:] = handlers
                    lg.propagate, lg.disabled = propagate, disabled


APP_PACKAGE = "app"  # the package every variant of the project keeps its code in


def is_app_module(name: str) -> bool:
    """Whether a module name is the project's `app` package or one of its modules."""
    return name == APP_PACKAGE or name.startswith(APP_PACKAGE + ".")


def app_modules() -> list[str]:
    """The names of the `app` modules imported in this process now."""
    return [name for name in list(sys.modules) if is_app_module(name)]


def forget_app_modules() -> None:
    """Drop the cached `app` package so the next import reads the files as they are now."""
    for module in app_modules():
        del sys.modules[module]


def _errors_without_tracebacks() -> None:
    """In a notebook, show a failing cell's error as `Type: message`, without the traceback.

    The error is the lesson; the traceback would print paths of this machine's
    site-packages into the stored outputs, and formatting it costs up to seconds a cell.
    """
    try:
        shell = get_ipython()  # type: ignore[name-defined]  # noqa: F821 - IPython's builtin
    except NameError:
        return
    shell.InteractiveTB.set_mode("Minimal")


_swept = False


def _sweep_once() -> None:
    """Once per process: remove what dead processes left (reaper.sweep), before adding more."""
    global _swept
    if not _swept:
        _swept = True
        reaper.sweep()


class _Configured:
    def __repr__(self) -> str:
        return "the configured server (COURSE_DATABASE_URL)"


CONFIGURED = _Configured()  # fresh()'s default server: whatever the settings say now


def fresh(name: str, stage: str | None = None, *, server: URL | str | None | _Configured = CONFIGURED,
          database: str | None = None, project: Project = SAMPLE, root: Path | None = None) -> Workspace:
    """A new copy of `project` at `stage`, with a new, empty database; made the current one.

    stage     one of project.stages; default the last one. The sample's: "no-alembic" (the
              app alone, before `alembic init`), "no-revisions" (Alembic wired, no migration
              yet), "0001" (models and migrations up to the init revision), "0002" (the
              finished chapter).
    server    where the database is made: a server URL (a database of its own is created
              there, and dropped by discard() or at exit), or None (or a sqlite: URL, or
              "sqlite") for a SQLite file in the copy; or an engine's name, "postgresql" or
              "mariadb", for that engine's server whatever the course runs on (engines.server_for:
              COURSE_DATABASE_URL if it names one, else COURSE_POSTGRESQL_SERVER or
              COURSE_MARIADB_SERVER); default: the configured server (COURSE_DATABASE_URL),
              SQLite if none.
    database  instead: an existing database to use as it is (a test's own); then no
              database is made and `server` is not used.
    root      the folder the copy goes in (<root>/<name>/project); default workspaces_root().

    Made current means: DATABASE_URL in os.environ names its database (what the app's
    settings and env.py read in this process: a notebook's `import app...` and Alembic's
    Python API), its folder is first on sys.path, and `app` modules imported before are
    forgotten. That is this function's job, not a change to undo: isolated() undoes it for a
    workspace made for a moment inside another's process.
    """
    _errors_without_tracebacks()
    stage = project.last_stage if stage is None else stage
    if stage not in project.stages:
        raise ValueError(f"unknown stage {stage!r}; choose one of {', '.join(project.stages)}")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name):
        raise ValueError(f"workspace name {name!r} must be letters, digits, '-' or '_'")
    _sweep_once()
    home = (root or workspaces_root()) / name
    shutil.rmtree(home, ignore_errors=True)
    path = home / "project"
    project.copy_to(path, stage)

    made_on = None  # the server a database was created on, for discard() to drop it
    if database is not None:
        url = database
    else:
        setting = engines.SETTING
        if isinstance(server, _Configured):
            server = engines.server_url()
        elif server == "sqlite":
            server = None
        elif server in engines.SERVER_ENGINES:  # the server of that engine, whatever the course runs on
            setting = engines.setting_for(server)
            server = engines.server_for(server)
        elif isinstance(server, str):
            server = make_url(server)
        if server is None or server.get_backend_name() == "sqlite":
            url = f"sqlite:///{path / 'app.db'}"
        else:
            made_on = server
            url = engines.create_database(name, server, setting).render_as_string(hide_password=False)

    sys.dont_write_bytecode = True  # edited modules must be re-read, never a stale .pyc
    os.environ["DATABASE_URL"] = url  # what the app's settings and env.py read in this process
    forget_app_modules()
    # Exactly one copy of `app` importable: the newest workspace's.
    sys.path[:] = [p for p in sys.path if not p.startswith(str(workspaces_root())) and not p.endswith("/project")]
    sys.path.insert(0, str(path))
    return Workspace(name=name, path=path, url=url, server=made_on)


def import_fresh(module: str = "app.models"):
    """Import a module of the newest workspace's app as its files are now.

    Modules imported earlier (by the notebook or by env.py during an Alembic command) stay
    cached in sys.modules; after editing a model file, this reads the edited version.
    """
    import importlib

    forget_app_modules()
    return importlib.import_module(module)
