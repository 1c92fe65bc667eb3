"""Where a check runs the learner's code: a child process, never the checker's own.

A revision, an env.py, a models module or an app's main.py is code the learner wrote. Run in
the checker's process, it could change the checker (a patched function would then pass
every check, and in a notebook the patch would stay in the kernel), or leave modules, logging
and connections behind. So `course.learner.checks.Run` asks for each step that runs learner code
(`alembic upgrade`, loading the revision files, importing the models, starting the app) to be
done here, in a process of its own, forked from the warm interpreter (course/runtime/warm_python.py),
and reads back one JSON result.

    python -m course.learner.learner_code REQUEST.json

The request names the step (`op`), the project directory, what the step is "doing" (for the
message) and the learner's files (paths in the project -> the learner's own paths, so errors
point at the file the learner edits). The result is {"ok": true, "value": ...} or
{"ok": false, "message": "<one sentence>"}, written to the path in `request["result"]`.
"""

from __future__ import annotations

import builtins
import contextlib
import io
import json
import os
import signal
import sys
import warnings
from pathlib import Path
from course.i18n import Text, _, english_of, to_json

# What a revision sees if it imports the app: the reason, as the learner reads it.
APP_IMPORT_REFUSED = (
    "a revision must not import the app ({name}): the app's code describes today's schema, not "
    "the schema at this revision, so the migration breaks once the models change. Describe the "
    "tables the revision uses with sa.table() and sa.column()"
)


class TimeLimit(BaseException):
    """The learner's code ran past the check's time limit (an endless loop, say)."""


def _refuse_app_imports(versions: Path) -> None:
    """Make `import app...` fail inside revision files, and only there.

    env.py and the app import their own modules as usual; a revision that imports the app
    fails every check at once, not only after the models change months later. Both ways
    of importing are covered: the import statement and importlib.import_module.
    """
    import importlib

    from course.runtime.workspace import is_app_module

    versions = versions.resolve()

    def refuse(name: str, caller_globals) -> None:
        if is_app_module(name):
            source = (caller_globals or {}).get("__file__")
            if source and Path(source).resolve().parent == versions:
                raise ImportError(APP_IMPORT_REFUSED.format(name=name))

    original_import = builtins.__import__
    original_import_module = importlib.import_module

    def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
        if level == 0:
            refuse(name, globals)
        return original_import(name, globals, locals, fromlist, level)

    def guarded_import_module(name, package=None):
        refuse(name, sys._getframe(1).f_globals)
        return original_import_module(name, package)

    builtins.__import__ = guarded_import
    importlib.import_module = guarded_import_module


def _config(project: Path):
    from alembic.config import Config

    config = Config(str(project / "alembic.ini"))
    config.attributes["configure_logger"] = False
    return config


# -- the steps -------------------------------------------------------------------------------

def op_alembic(request: dict, project: Path):
    """An Alembic command (upgrade, downgrade, revision, stamp) through its Python API."""
    from alembic import command

    _refuse_app_imports(project / "alembic" / "versions")
    result = getattr(command, request["command"])(_config(project), *request.get("args", ()), **request.get("kwargs", {}))
    if request["command"] == "revision":
        return str(result.path)
    return None


def op_revisions(request: dict, project: Path) -> dict:
    """Every revision and its parents, with every file loaded (a broken one fails here)."""
    from alembic.script import ScriptDirectory

    _refuse_app_imports(project / "alembic" / "versions")
    script = ScriptDirectory.from_config(_config(project))
    found = {}
    for revision in script.walk_revisions():
        down = revision.down_revision
        found[revision.revision] = list(down) if isinstance(down, (tuple, list)) else ([down] if down else [])
    return found


def op_model_tables(request: dict, project: Path) -> list[str]:
    import importlib

    return sorted(importlib.import_module("app.models").Base.metadata.tables)


def op_differences(request: dict, project: Path) -> list[str]:
    """What autogenerate would write now, and lengths it lets pass, each as a sentence."""
    import importlib

    import sqlalchemy as sa
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy.pool import NullPool

    from course.learner.checks import describe

    metadata = importlib.import_module("app.models").Base.metadata
    engine = sa.create_engine(os.environ["DATABASE_URL"], poolclass=NullPool)
    # One connection for every question: an Inspector on the Engine would open one for each
    # (NullPool), a new server process per table and question on PostgreSQL.
    try:
        with engine.connect() as connection:
            found = compare_metadata(MigrationContext.configure(connection), metadata)
            problems = []
            for diff in found:
                for one in (diff if isinstance(diff, list) else [diff]):
                    problems.append(describe(one, connection))
            # Autogenerate lets VARCHAR pass for VARCHAR(50); a migration should not.
            inspector = sa.inspect(connection)
            existing = set(inspector.get_table_names())
            for table in metadata.sorted_tables:
                if table.name not in existing:
                    continue
                types = {c["name"]: c["type"] for c in inspector.get_columns(table.name)}
                for column in table.columns:
                    wanted = getattr(column.type, "length", None)
                    if wanted is None or column.name not in types:
                        continue
                    if getattr(types[column.name], "length", None) != wanted:
                        dialect = engine.dialect
                        problems.append(
                            _('{name}.{name2} is {compile} in the database, but the model says {compile2}').format(
                                name=table.name, name2=column.name, compile=types[column.name].compile(dialect=dialect), compile2=column.type.compile(dialect=dialect))
                        )
            problems += _what_autogenerate_ignores(metadata, inspector)
            return problems
    finally:
        engine.dispose()


def _what_autogenerate_ignores(metadata, inspector) -> list[str]:
    """Two differences autogenerate does not report, each a real trap.

    A server default the model does not have (compare_server_default is off): every insert
    that leaves the column out gets that value. A foreign key named otherwise than the model
    names it (autogenerate compares keys by their columns): a later revision's
    drop_constraint(op.f(...)) does not find it.
    """
    problems = []
    existing = set(inspector.get_table_names())
    for table in metadata.sorted_tables:
        if table.name not in existing:
            continue
        for found in inspector.get_columns(table.name):
            column = table.columns.get(found["name"])
            default = found.get("default")
            if column is None or default is None or column.server_default is not None or column.primary_key:
                continue
            problems.append(
                _('{name}.{found} has server default {default} in the database, which the model does '
                  'not have: every insert that leaves the column out gets that value').format(
                    name=table.name, found=found['name'], default=default)
            )
        named = {tuple(fk["constrained_columns"]): fk["name"] for fk in inspector.get_foreign_keys(table.name)}
        for constraint in table.foreign_key_constraints:
            columns = tuple(c.name for c in constraint.columns)
            wanted = str(constraint.name) if constraint.name else None
            if wanted and columns in named and named[columns] != wanted:
                problems.append(
                    _('the foreign key on {name}({join}) is named {named!r} in the database; the naming '
                      'convention calls it {wanted!r} (use op.f({wanted!r}), or later revisions cannot find'
                      ' it to drop it)').format(
                        name=table.name, join=', '.join(columns), named=named[columns], wanted=wanted)
                )
    return problems


def op_start_app(request: dict, project: Path) -> dict:
    """Start app.main:app as uvicorn would (its lifespan runs), then GET one path."""
    import importlib
    import logging

    from fastapi.testclient import TestClient

    # What the app logs at start-up is part of its behaviour: warnings and worse, as an
    # operator's default logging shows them (an INFO line nobody sees is no warning).
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    # A process manager starts the server from wherever it likes: nothing may depend on the
    # working directory being the project.
    os.chdir(project.parent)
    main = importlib.import_module("app.main")
    client = TestClient(main.app)
    try:
        client.__enter__()  # start-up: the lifespan runs up to its yield
    except (Exception, SystemExit) as exc:
        from course.runtime.errors import one_line

        return {"started": False, "error": one_line(exc) or type(exc).__name__,
                "status": None, "log": log.getvalue()}
    try:
        status = client.get(request.get("path", "/users")).status_code
    except Exception:  # the request failed inside the app (a missing column, say)
        status = 500
    client.__exit__(None, None, None)
    return {"started": True, "error": "", "status": status, "log": log.getvalue()}


def op_offline_sql(request: dict, project: Path) -> str:
    """`alembic upgrade|downgrade <range> --sql` rendered for a dialect (no database is reached):
    the script, as a reviewer or a linter reads it."""
    from alembic import command

    _refuse_app_imports(project / "alembic" / "versions")
    os.environ["DATABASE_URL"] = request["url"]  # env.py reads it; offline, only its dialect counts
    config = _config(project)
    config.output_buffer = io.StringIO()
    getattr(command, request["direction"])(config, request["range"], sql=True)
    return config.output_buffer.getvalue()


def op_call(request: dict, project: Path) -> None:
    """Call function `name` of the learner's module `module` (a path in the project) with the
    project's Alembic config and an engine on the check's database: a test the learner wrote."""
    import importlib.util

    import sqlalchemy as sa
    from sqlalchemy.pool import NullPool

    _refuse_app_imports(project / "alembic" / "versions")
    spec = importlib.util.spec_from_file_location("learner_module", project / request["module"])
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    function = getattr(module, request["name"], None)
    if not callable(function):
        raise AttributeError(_('{request} defines no function {request2}()').format(
                                 request=request['module'], request2=request['name']))
    engine = sa.create_engine(os.environ["DATABASE_URL"], poolclass=NullPool)
    try:
        function(_config(project), engine)
    finally:
        engine.dispose()


OPS = {
    "alembic": op_alembic,
    "call": op_call,
    "offline_sql": op_offline_sql,
    "revisions": op_revisions,
    "model_tables": op_model_tables,
    "differences": op_differences,
    "start_app": op_start_app,
}


# -- running one step ------------------------------------------------------------------------

def _explain(exc: BaseException, request: dict, seen: list) -> str:
    from course.learner.checks import explain

    doing = request["doing"]  # a Text (main() made it one)
    # Alembic warns "Revision X referenced from Y is not present", then fails with a bare
    # KeyError: the warning is the useful half.
    missing = [str(w.message) for w in seen if "is not present" in str(w.message)]
    if missing:
        return _("{doing} failed: {warning}").format(doing=doing, warning=" ".join(missing[0].split()))
    learner = {Path(k): Path(v) for k, v in request.get("learner_files", [])}
    text = explain(exc, doing, learner)
    # Paths inside the throwaway copy mean nothing to the learner: say them from its root;
    # the learner's own files, from the directory the check was started in.
    project = Path(request["project"])
    for root in {str(project), str(project.resolve()), request["cwd"]}:
        text = text.replace(root + os.sep, "")  # a Text stays one (course/i18n.py)
    return text


def _record_statements(log: list) -> None:
    """Append to `log` what every connection of this process sends the database, in order:
    {"kind": "execute", "sql", "autocommit", "rows", "tx"}, {"kind": "commit"|"rollback"},
    {"kind": "error", "sql", "said"}. A check reads from it what no end state shows: whether
    a backfill ran in batches each committed on its own, whether an index was built online,
    whether a guard ran before the first DDL statement, whether an error was swallowed.
    `tx` counts the commits and rollbacks before a statement: two statements with the same
    `tx`, neither in autocommit mode, ran in one transaction."""
    import sqlalchemy as sa

    from course.runtime.errors import said

    state = {"tx": 0}

    def before(conn, cursor, statement, parameters, context, executemany):
        level = conn.get_execution_options().get("isolation_level")
        log.append({"kind": "execute", "sql": " ".join(statement.split()), "autocommit": level == "AUTOCOMMIT",
                    "rows": None, "tx": state["tx"]})

    def after(conn, cursor, statement, parameters, context, executemany):
        if log and log[-1]["kind"] == "execute":
            log[-1]["rows"] = getattr(cursor, "rowcount", None)

    def ended(kind):
        def note(conn, *args):
            state["tx"] += 1
            log.append({"kind": kind})
        return note

    def error(context):
        log.append({"kind": "error", "sql": " ".join((context.statement or "").split()),
                    "said": said(context.sqlalchemy_exception or context.original_exception)})

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", before)
    sa.event.listen(sa.engine.Engine, "after_cursor_execute", after)
    sa.event.listen(sa.engine.Engine, "commit", ended("commit"))
    sa.event.listen(sa.engine.Engine, "rollback", ended("rollback"))
    sa.event.listen(sa.engine.Engine, "handle_error", error)


def run(request: dict) -> dict:
    project = Path(request["project"])
    statements: list = []
    if request.get("record"):
        _record_statements(statements)
    seconds = float(request.get("time_limit") or 0)

    def stop(signum, frame):
        raise TimeLimit()

    if seconds and hasattr(signal, "setitimer"):
        signal.signal(signal.SIGALRM, stop)
        signal.setitimer(signal.ITIMER_REAL, seconds)
    output = io.StringIO()
    with warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        try:
            with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
                value = OPS[request["op"]](request, project)
            return {"ok": True, "value": to_json(value), "output": output.getvalue(), "statements": statements}
        except TimeLimit:
            message = _("{doing} did not finish within {seconds} s: is there an endless loop in your code?").format(
                doing=request["doing"], seconds=f"{seconds:g}")
            return {"ok": False, "message": str(message), "english": str(english_of(message)), "output": output.getvalue()}
        except KeyboardInterrupt:
            return {"ok": False, "message": "interrupted", "interrupted": True}
        except (Exception, SystemExit) as exc:  # anything from Alembic, the database or the learner's code
            message = _explain(exc, request, seen)
            return {"ok": False, "message": str(message), "english": str(english_of(message)),
                    "output": output.getvalue(), "statements": statements}
        finally:
            if hasattr(signal, "setitimer"):
                signal.setitimer(signal.ITIMER_REAL, 0)


def main(argv: list[str]) -> int:
    request_path = Path(argv[0])
    request = json.loads(request_path.read_text(encoding="utf-8"))
    # what the step is doing, as shown and in English (a message built on it keeps both)
    request["doing"] = Text(request["doing"], request.get("doing_english", request["doing"]))
    sys.path.insert(0, request["project"])
    result = run(request)
    scratch = Path(request["result"] + ".part")
    scratch.write_text(json.dumps(result, default=str), encoding="utf-8")
    scratch.replace(request["result"])  # whole or absent: the checker never reads half a result
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
