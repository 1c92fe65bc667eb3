"""Reusable steps for exercise checks: run Alembic in a throwaway copy, describe what is wrong.

The learner's code (revisions, env.py, models, the app) never runs in the checker's process:
each step that runs it is done in a child process (course/learner/learner_code.py), so it cannot
change the checker, and nothing it does outlives the step. Inside revisions, `import app...`
fails: a migration must not depend on the models of the day it runs.

Every step either succeeds or raises `Fail` with one sentence a learner understands
("after upgrading to 0002, the 3 existing users are gone"). Errors from Alembic, the database
or the learner's own code are turned into such sentences here, so a check never shows a
traceback. A check (chapters/<chapter>/exercises/<id>/check.py) receives a `Run`:

    def check(run):
        run.upgrade("0001")
        run.insert("user", [...])
        run.upgrade("0002", doing="upgrading to 0002 with 3 users in the table")
        if run.columns("user")["email"]["nullable"]:
            raise Fail("after upgrading to 0002, user.email is still nullable")
        ...
"""

from __future__ import annotations

import contextlib
import io
import os
import json
import shutil
import tempfile
import traceback
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic.util import CommandError

from course import settings
from course.runtime import errors, warm_python
from course.runtime.workspace import Workspace
from course.learner.paths import shown
from course import i18n
from course.i18n import Text, _, english_of, from_json
from course.i18n import _


class Fail(Exception):
    """The first thing wrong, in words for the learner."""


def step_time_limit() -> float:
    """How long one step of the learner's code may run: COURSE_CHECK_TIMEOUT, default 20 s
    (every step of every reference solution takes well under 2)."""
    return settings.current().check_timeout


@dataclass(frozen=True)
class AppStart:
    """What happened when a check started the app: did it start, why not, the status of one
    request, and what it logged (a warning at start-up, say)."""

    started: bool
    error: str
    status: int | None
    log: str


@dataclass
class Run:
    """One check of one exercise in a throwaway workspace.

    `learner_files` maps the files' paths inside the workspace to where the learner keeps
    them, so errors point at the file the learner edits.
    """

    ws: Workspace
    learner_files: Mapping[Path, Path]
    # What the last step run with record=True sent the database, in order (learner_code.py,
    # _record_statements): kept also when the step failed.
    recorded: list[dict] = field(default_factory=list)

    # -- the learner's code, run in a child process (course/learner/learner_code.py) ---------------
    def _child(self, op: str, doing: str, environment: Mapping[str, str] | None = None, **request: Any) -> Any:
        """Run one step that executes learner code in a process of its own; its value, or Fail.
        `environment`: variables that process gets besides the checker's own."""
        folder = Path(tempfile.mkdtemp(prefix="step-", dir=self.ws.path.parent))
        try:
            request.update(
                op=op, doing=str(doing), doing_english=str(english_of(doing)), project=str(self.ws.path), cwd=os.getcwd(), result=str(folder / "result.json"),
                learner_files=[[str(k), str(v)] for k, v in self.learner_files.items()],
                time_limit=step_time_limit(),
            )
            (folder / "request.json").write_text(json.dumps(request), encoding="utf-8")
            env = {**os.environ, **(environment or {}), "DATABASE_URL": self.ws.url, "PYTHONDONTWRITEBYTECODE": "1"}
            status, output = warm_python.run(["-m", "course.learner.learner_code", str(folder / "request.json")], self.ws.path, env)
            try:
                result = json.loads((folder / "result.json").read_text(encoding="utf-8"))
            except FileNotFoundError:
                lines = output.strip().splitlines()
                last = lines[-1].strip() if lines else ""  # the last line that is not blank
                raise Fail(_('{doing} failed: the process running your code ended without a result (exit status '
                             '{status}){value}').format(
                               doing=doing, status=status, value=': ' + last if last else '')) from None
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        if request.get("record"):
            self.recorded = result.get("statements") or []
        if result.get("interrupted"):
            raise KeyboardInterrupt
        if not result["ok"]:
            raise Fail(Text(result["message"], result.get("english", result["message"])))
        return from_json(result["value"])  # a Text keeps its English (course/i18n.py)

    def _alembic(self, doing: str, name: str, *args: Any, record: bool = False,
                 environment: Mapping[str, str] | None = None, **kwargs: Any) -> Any:
        return self._child("alembic", doing, environment, command=name, args=list(args), kwargs=kwargs, record=record)

    @contextlib.contextmanager
    def quiet(self, doing: str):
        """Run a step of the checker's own silently; anything it raises becomes a Fail saying
        what went wrong (a database error while inserting rows, say)."""
        buffer = io.StringIO()
        try:
            with contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
                yield
        except Fail:
            raise
        except Exception as exc:
            raise Fail(self.explain(exc, doing)) from None

    def upgrade(self, revision: str = "head", *, doing: str | None = None, record: bool = False,
                environment: Mapping[str, str] | None = None) -> list[dict]:
        """Upgrade; with record=True, what the step sent the database (also in self.recorded,
        kept when the step fails). `environment`: what the migration's process gets besides
        the checker's own variables (env.py's MIGRATION_LOCK_TIMEOUT, say)."""
        self._alembic(doing or _('upgrading to {revision}').format(revision=revision), "upgrade", revision,
                      record=record, environment=environment)
        return self.recorded if record else []

    def downgrade(self, revision: str, *, doing: str | None = None, record: bool = False,
                  environment: Mapping[str, str] | None = None) -> list[dict]:
        self._alembic(doing or _('downgrading to {revision}').format(revision=revision), "downgrade", revision,
                      record=record, environment=environment)
        return self.recorded if record else []

    def stamp(self, revision: str, *, doing: str | None = None) -> None:
        self._alembic(doing or f"stamping {revision}", "stamp", revision)

    def autogenerate(self, rev_id: str, message: str = "autogenerated") -> Path:
        return Path(self._alembic(
            _('running `alembic revision --autogenerate`'), "revision",
            message=message, autogenerate=True, rev_id=rev_id,
        ))

    def offline_sql(self, revisions: str, *, direction: str = "upgrade",
                    url: str = "postgresql+psycopg://reviewer@db.invalid/app", doing: str | None = None) -> str:
        """The script `alembic <direction> <revisions> --sql` writes for `url`'s dialect
        (PostgreSQL by default; nothing connects): what a linter or a DBA reads."""
        return self._child("offline_sql", doing or _('rendering `alembic {direction} {revisions} --sql`').format(direction=direction, revisions=revisions),
                           direction=direction, range=revisions, url=url)

    def call(self, module: str, name: str, *, doing: str) -> None:
        """Call the learner's `name(config, engine)` from `module` (a path in the project), in a
        child process: the project's Alembic Config, and an Engine on this check's database."""
        self._child("call", doing, module=module, name=name)

    def revisions(self) -> dict[str, tuple[str, ...]]:
        """Every revision id -> the ids it follows (its down_revision), all files loaded."""
        found = self._child("revisions", _('reading the revision files'))
        return {revision: tuple(down) for revision, down in found.items()}

    def heads(self) -> list[str]:
        return _heads(self.revisions())

    def expect_merge(self, merge: str, parents: set[str]) -> None:
        """Fail unless revision `merge` is the one head and joins exactly `parents`."""
        found = self.revisions()
        heads = _heads(found)
        if len(heads) > 1:
            raise Fail(
                _('there are still {count_heads} heads ({listing}): `alembic upgrade head` refuses to '
                  'choose between them. A merge revision names every head in down_revision').format(count_heads=len(heads), listing=listing(heads))
            )
        if heads != [merge]:
            raise Fail(_('the head is {value}, not your revision {merge}').format(value=listing(heads) or 'missing', merge=merge))
        down = found[merge]
        if set(down) != parents:
            shown_down = down[0] if len(down) == 1 else (down or None)
            raise Fail(_("{merge}'s down_revision is {shown_down!r}; a merge of the heads names them all: "
                         '{tuple!r}').format(
                           merge=merge, shown_down=shown_down, tuple=tuple(sorted(parents))))

    def start_app(self, path: str = "/users") -> AppStart:
        """Start the workspace's app (app.main:app, lifespan included) and GET `path`."""
        found = self._child("start_app", _('starting the app'), path=path)
        return AppStart(found["started"], found["error"], found["status"], found["log"])

    def add_column_revision(self, revision: str, follows: str, table: str, column: str, length: int) -> None:
        """Write the revision a teammate writes next: one nullable VARCHAR column on `table`,
        following `follows` (a check then sees whether the learner's history still leads there)."""
        text = f'''"""add {table}.{column} (written after {follows})"""
from alembic import op
import sqlalchemy as sa

revision = '{revision}'
down_revision = '{follows}'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('{table}', schema=None) as batch_op:
        batch_op.add_column(sa.Column('{column}', sa.String(length={length}), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('{table}', schema=None) as batch_op:
        batch_op.drop_column('{column}')
'''
        (self.ws.path / "alembic" / "versions" / f"{revision}_add_{column}.py").write_text(text, encoding="utf-8")

    def current(self) -> str | None:
        return self.ws.current()

    # -- the database -------------------------------------------------------------------
    def execute(self, sql: str, params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None) -> None:
        with self.ws.engine.begin() as connection:
            connection.execute(sa.text(sql), params or {})

    def insert(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Insert rows the way the app would have, at whatever revision the database is.

        Rows given with their ids (as a data import writes them) move PostgreSQL's sequence
        past them, as MariaDB and SQLite do by themselves: the app's next insert, without an
        id, must not collide with them.
        """
        columns = list(rows[0])
        target = sa.table(table, *(sa.column(c) for c in columns))
        with self.ws.engine.begin() as connection:
            connection.execute(target.insert(), [dict(r) for r in rows])
            if "id" in columns and connection.dialect.name == "postgresql":
                quoted = self.quote(table)
                connection.execute(sa.text(
                    f"SELECT setval(pg_get_serial_sequence(:table, 'id'), (SELECT max(id) FROM {quoted}))"
                ), {"table": quoted})

    def rows(self, sql: str, **params: Any) -> list[tuple]:
        with self.ws.engine.connect() as connection:
            return [tuple(r) for r in connection.execute(sa.text(sql), params)]

    def quote(self, name: str) -> str:
        return self.ws.engine.dialect.identifier_preparer.quote(name)

    @contextlib.contextmanager
    def inspector(self) -> Iterator[sa.Inspector]:
        """An Inspector on one connection: an Engine's would open one for each question
        (NullPool), a new server process per table and question on PostgreSQL."""
        with self.ws.engine.connect() as connection:
            yield sa.inspect(connection)

    def tables(self) -> set[str]:
        with self.inspector() as inspector:
            return set(inspector.get_table_names()) - {"alembic_version"}

    def columns(self, table: str) -> dict[str, dict]:
        with self.inspector() as inspector:
            if table not in inspector.get_table_names():
                return {}
            return {c["name"]: c for c in inspector.get_columns(table)}

    def type_name(self, column: dict) -> str:
        return str(column["type"].compile(dialect=self.ws.engine.dialect))

    def foreign_keys(self, table: str) -> list[dict]:
        with self.inspector() as inspector:
            return inspector.get_foreign_keys(table)

    def snapshot(self) -> dict:
        """The schema as the database reports it, in a form two snapshots can be compared in."""
        shot: dict = {}
        with self.inspector() as inspector:
            for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
                shot[table] = {
                    "columns": {
                        c["name"]: {"type": self.type_name(c), "nullable": bool(c["nullable"]), "comment": c.get("comment")}
                        for c in inspector.get_columns(table)
                    },
                    "indexes": {
                        i["name"]: (tuple(i["column_names"]), bool(i["unique"]))
                        for i in inspector.get_indexes(table)
                        if not i.get("duplicates_constraint")
                    },
                    "uniques": {u["name"] or "(unnamed)": tuple(u["column_names"]) for u in inspector.get_unique_constraints(table)},
                    "foreign_keys": {
                        fk["name"] or "(unnamed)": (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                        for fk in inspector.get_foreign_keys(table)
                    },
                }
        return shot

    # -- the models ---------------------------------------------------------------------
    def model_tables(self) -> set[str]:
        """The tables in the workspace's Base.metadata, the models imported afresh (in a child)."""
        return set(self._child("model_tables", _('importing app.models')))

    def differences(self) -> list[str]:
        """What `alembic revision --autogenerate` would change now, and the VARCHAR lengths it
        lets pass, each as a sentence."""
        return self._child("differences", _('comparing the database with the models'))

    def expect_matches_models(self, when: str) -> None:
        """Fail with the first difference between the database and the models."""
        for problem in self.differences():
            raise Fail(_('{when}, {problem}').format(when=when, problem=problem))

    def describe(self, diff: tuple) -> str:
        return describe(diff, self.ws.engine)

    # -- errors, in words -------------------------------------------------------------
    def explain(self, exc: BaseException, doing: str) -> str:
        # Paths inside the throwaway copy mean nothing to the learner: say them from its root.
        text = explain(exc, doing, self.learner_files)
        for root in {str(self.ws.path), str(self.ws.path.resolve())}:
            text = text.replace(root + os.sep, "")
        return text


@contextlib.contextmanager
def while_it_waits(run: Run, statement_start: str, when_waiting, release, bound: float = 30.0):
    """For a step that runs the learner's migration inside the block, while the check holds a
    lock the migration needs: a thread waits until a session of the workspace's database runs a
    statement starting with `statement_start` and waits for a lock, then calls `when_waiting()`
    (what it returns is kept in seen["then"]) and `release()`, which lets the migration go on.
    `release()` is called however things go (the migration never seen waiting within `bound`
    seconds, the step over, an error), so a check can never hang on its own lock. Yields `seen`:
    {"waited": bool, "then": ...}; the thread is joined when the block ends."""
    import threading
    import time

    from course.lessons.locks import waiting

    finished = threading.Event()
    seen: dict = {"waited": False}

    def watch():
        try:
            deadline = time.monotonic() + bound
            with run.ws.engine.connect() as watcher:  # one session for every question
                while not finished.is_set() and time.monotonic() < deadline:
                    if waiting(watcher, statement_start):
                        seen["waited"] = True
                        break
                    time.sleep(0.02)
            if seen["waited"]:
                seen["then"] = when_waiting()
        except Exception as exc:  # noqa: BLE001 - a bug of the check, raised below
            seen["error"] = exc
        finally:
            try:
                release()
            except Exception as exc:  # noqa: BLE001
                seen.setdefault("error", exc)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield seen
    finally:
        finished.set()
        watcher.join(bound + 10)
    if "error" in seen:
        raise seen["error"]


def _heads(revisions: Mapping[str, tuple[str, ...]]) -> list[str]:
    """The revisions no other revision follows."""
    parents = {p for down in revisions.values() for p in down}
    return sorted(set(revisions) - parents)


def compare(before: dict, after: dict, *, what: str) -> Iterator[str]:
    """The differences between two snapshots, each as a sentence; `what` names the step."""
    for table in sorted(set(after) - set(before)):
        yield _('{what} left table {table} behind').format(what=what, table=table)
    for table in sorted(set(before) - set(after)):
        yield _('{what} lost table {table}').format(what=what, table=table)
    for table in sorted(set(before) & set(after)):
        b, a = before[table], after[table]
        for column in sorted(set(a["columns"]) - set(b["columns"])):
            yield _('{what} left column {table}.{column} behind').format(what=what, table=table, column=column)
        for column in sorted(set(b["columns"]) - set(a["columns"])):
            yield _('{what} lost column {table}.{column}').format(what=what, table=table, column=column)
        for column in sorted(set(b["columns"]) & set(a["columns"])):
            was, now = b["columns"][column], a["columns"][column]
            if was["type"] != now["type"]:
                yield _('after {what}, {table}.{column} is {now}; it was {was}').format(
                          what=what, table=table, column=column, now=now['type'], was=was['type'])
            if was["nullable"] != now["nullable"]:
                state = _("allows NULL") if now["nullable"] else _("is NOT NULL")
                yield _('after {what}, {table}.{column} {state}; it was {value}').format(
                          what=what, table=table, column=column, state=state, value='nullable' if was['nullable'] else _('NOT NULL'))
            if (was["comment"] or None) != (now["comment"] or None):
                yield _('after {what}, {table}.{column} has comment {now!r}; it was {was!r}').format(
                          what=what, table=table, column=column, now=now['comment'], was=was['comment'])
        for kind, label in (("indexes", "index"), ("uniques", _("unique constraint")), ("foreign_keys", _("foreign key"))):
            for name in sorted(set(a[kind]) - set(b[kind])):
                yield _('{what} left {label} {name} on {table} behind').format(what=what, label=label, name=name, table=table)
            for name in sorted(set(b[kind]) - set(a[kind])):
                yield _('{what} lost {label} {name} on {table}').format(what=what, label=label, name=name, table=table)
            for name in sorted(set(a[kind]) & set(b[kind])):
                if a[kind][name] != b[kind][name]:
                    yield _('after {what}, {label} {name} on {table} is {value}; it was {value2}').format(
                              what=what, label=label, name=name, table=table, value=a[kind][name], value2=b[kind][name])


# -- describing autogenerate's differences ---------------------------------------------

def _columns(constraint) -> str:
    return ", ".join(c.name for c in constraint.columns)


def describe(diff: tuple, engine: sa.Engine | sa.Connection | None = None) -> str:
    """One difference autogenerate found, as a sentence; `engine` (or a connection, to ask on
    that one) names its types in the database's dialect and looks up what the database has."""
    kind = diff[0]
    dialect = engine.dialect if engine is not None else None

    def typename(t) -> str:
        try:
            return str(t.compile(dialect=dialect)) if dialect is not None else repr(t)
        except Exception:
            return repr(t)

    if kind == "add_table":
        return _('table {name} is in the models but not in the database').format(name=diff[1].name)
    if kind == "remove_table":
        return _('the database has a table {name} that no model describes').format(name=diff[1].name)
    if kind == "add_column":
        return _('column {diff}.{name} is in the model but not in the database').format(diff=diff[2], name=diff[3].name)
    if kind == "remove_column":
        return _('the database has a column {diff}.{name} that the model does not have').format(diff=diff[2], name=diff[3].name)
    if kind == "modify_nullable":
        table, column, new = diff[2], diff[3], diff[6]
        if new:
            return _('{table}.{column} is NOT NULL in the database, but the model allows NULL').format(table=table, column=column)
        return _('{table}.{column} allows NULL in the database, but the model says NOT NULL').format(table=table, column=column)
    if kind == "modify_type":
        return _('{diff}.{diff2} is {typename} in the database, but the model says {typename2}').format(
                   diff=diff[2], diff2=diff[3], typename=typename(diff[5]), typename2=typename(diff[6]))
    if kind == "modify_default":
        return _('{diff}.{diff2} has server default {diff3!r} in the database, the model {diff4!r}').format(
                   diff=diff[2], diff2=diff[3], diff3=diff[5], diff4=diff[6])
    if kind == "modify_comment":
        return _('{diff}.{diff2} has comment {diff3!r} in the database, but the model says {diff4!r}').format(
                   diff=diff[2], diff2=diff[3], diff3=diff[5], diff4=diff[6])
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        unique = _("unique index") if index.unique else "index"
        if kind == "add_index":
            return _('{unique} {name} on {name2}({columns}) is in the model but not in the database').format(
                       unique=unique, name=index.name, name2=index.table.name, columns=_columns(index))
        article = "a" if index.unique else "an"
        return _('the database has {article} {unique} {name} on {name2}({columns}) that the model does'
                 ' not have').format(
                   article=article, unique=unique, name=index.name, name2=index.table.name, columns=_columns(index))
    if kind in ("add_constraint", "remove_constraint"):
        constraint = diff[1]
        label = _("unique constraint") if isinstance(constraint, sa.UniqueConstraint) else "constraint"
        name = constraint.name or "(unnamed)"
        table = constraint.table.name
        if kind == "add_constraint":
            if isinstance(constraint, sa.UniqueConstraint) and engine is not None:
                for found in sa.inspect(engine).get_unique_constraints(table):
                    if set(found["column_names"]) == {c.name for c in constraint.columns}:
                        named = _('is named {found}').format(found=found['name']) if found["name"] else _("has no name")
                        return (
                            _('the unique constraint on {table}({columns}) {named} in the database; the naming '
                              'convention calls it {name} (give it name=op.f({name!r}), or later migrations cannot '
                              'find it to drop it)').format(
                                table=table, columns=_columns(constraint), named=named, name=constraint.name)
                        )
            return _('{label} {name} on {table}({columns}) is in the model but not in the database').format(
                       label=label, name=name, table=table, columns=_columns(constraint))
        return _('the database has a {label} {name} on {table}({columns}) that the model does not have').format(
                   label=label, name=name, table=table, columns=_columns(constraint))
    if kind in ("add_fk", "remove_fk"):
        fk = diff[1]
        target = f"{fk.referred_table.name}({', '.join(e.column.name for e in fk.elements)})"
        where = f"{fk.parent.name}({', '.join(c.name for c in fk.columns)}) -> {target}"
        if kind == "add_fk":
            return _('foreign key {value} {where} is in the model but not in the database').format(value=fk.name or '', where=where).replace("  ", " ")
        return _('the database has a foreign key {value} {where} that the model does not have').format(value=fk.name or '', where=where).replace("  ", " ")
    return _('autogenerate still finds a difference: {kind} {diff!r}').format(kind=kind, diff=diff[1:])


# -- errors, in words ------------------------------------------------------------------



def _learner_frame(exc: BaseException, learner_files: Mapping[Path, Path]) -> tuple[Path, int] | None:
    """The innermost traceback frame that lies in one of the learner's files."""
    resolved = {Path(k).resolve(): Path(v) for k, v in learner_files.items()}
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        here = Path(frame.filename).resolve() if frame.filename else None
        if here in resolved:
            found = (resolved[here], frame.lineno or 0)
    return found


def explain(exc: BaseException, doing: str, learner_files: Mapping[Path, Path] = {}) -> str:
    """One line saying what went wrong while `doing` something, pointing at the learner's file."""
    if isinstance(exc, SyntaxError) and exc.filename:
        where = Path(exc.filename).resolve()
        mapped = {Path(k).resolve(): v for k, v in learner_files.items()}.get(where, Path(exc.filename))
        return f"{shown(mapped)}:{exc.lineno}: {type(exc).__name__}: {exc.msg}"
    if isinstance(exc, sa.exc.DBAPIError):
        said = errors.said(exc)
        if 'near "ALTER"' in said:
            said += _(" (SQLite cannot ALTER a column in place: use op.batch_alter_table)")
        if "_alembic_tmp_" in said:  # batch mode's copy of the table: name the table itself
            said = said.replace("_alembic_tmp_", "") + _(" (while batch mode copied the table into its new shape)")
        return _('{doing} failed; the database said: {said}').format(doing=doing, said=said)
    if isinstance(exc, CommandError):
        text = errors.one_line(exc)
        if "does not provide a MetaData object" in text:
            text = _("env.py gives Alembic no models to compare with (target_metadata is None)")
        return _("{doing} failed: {error}").format(doing=doing, error=text)
    if isinstance(exc, NotImplementedError) and "batch" in str(exc).lower():
        return _("{doing} failed: {error}").format(doing=doing, error=exc)
    frame = _learner_frame(exc, learner_files)
    message = errors.first_line(exc)
    described = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    if isinstance(exc, AttributeError) and "sorted_tables" in message:
        described += _(" (target_metadata must be a MetaData, such as Base.metadata)")
    if frame is not None:
        path, line = frame
        return _("{doing} failed: {error}").format(doing=doing, error=f"{shown(path)}:{line}: {described}")
    if isinstance(exc, NotImplementedError):
        return _('{doing} failed: {value} (on SQLite, ALTER needs op.batch_alter_table)').format(
                   doing=doing, value=described or 'NotImplementedError')
    return _("{doing} failed: {error}").format(doing=doing, error=described)


def plural(count: int, word: str, many: str | None = None) -> str:
    """"1 user", "3 users"; in a language with one form for both (Chinese: "3 个用户"), the
    word's translation (locale/<language>/messages.po has `word` as its own message)."""
    english = word if count == 1 else (many or word + "s")
    translated = i18n.translate("messages", None, word)
    return Text(f"{count} {english if translated == word else translated}", f"{count} {english}")


def listing(items: Iterable[object]) -> str:
    return i18n.join(", ", (i if isinstance(i, Text) else str(i) for i in items))
