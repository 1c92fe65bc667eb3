"""A database error in one line: one reading of the error, a few ways of saying it.

`read(exc)` is the one place that knows how each driver reports an error: the driver's
exception inside SQLAlchemy's wrapper, PyMySQL's (number, message) pair, psycopg's error
class and its DETAIL line, SQLite's plain message. Every other module words errors through
the functions below, which only choose what to keep of that reading:

    short(exc)       "error 1452: Cannot add or update a child row", "error: NotNullViolation":
                     the same on every run (names and values cut off), for tables and lessons
                     that compare outcomes (course/lessons/engine_probes.py, notebooks 09, 14, 15)
    reason(exc)      "1846: LOCK=NONE is not supported. Reason: Cannot change column type. ...":
                     as short, but the sentence kept whole (the benchmark's lock probes, whose
                     MariaDB reasons are the finding; stored in notebook 13; notebooks 04, 08b)
    said(exc)        "(1452) Cannot add or update a child row: ... (`db`.`post`, ...)": what the
                     database said, names included, for a person fixing it (exercise checks)
    typed(exc)       "OperationalError: duplicate column name: nickname": the error's class and
                     its first line, for any exception, database or not (course/lessons/startup.py,
                     notebooks 06, 08b)
    error_text(exc)  "(1452) Cannot add or update a child row: a foreign key constraint fails",
                     "NotNullViolation: null value in column ... DETAIL: ...": the driver's
                     class or number and its message, without MariaDB's run-dependent names:
                     evidence compared across engines and runs (notebooks 05, 06, 08a-08c, as
                     course.evidence.error_text)
    one_line(text)   any text with its line breaks and runs of spaces made single spaces
    first_line(text) its first line that is not blank (what a learner's error says, checks.py)

Each format is stored somewhere (engines.json, notebook outputs, evidence files, exercise.toml's
expected messages) or called by a notebook, which is why there are five and not one.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass


def one_line(text: object) -> str:
    """`text` on one line: line breaks and runs of white space become one space."""
    return " ".join(str(text).split())


def first_line(text: object) -> str:
    """The first line of `text` that is not blank, stripped ("" if there is none)."""
    return next((line.strip() for line in str(text).splitlines() if line.strip()), "")


def driver_error(exc: BaseException) -> BaseException:
    """The driver's own exception inside SQLAlchemy's wrapper (its `orig`), else `exc`."""
    return getattr(exc, "orig", None) or exc


@dataclass(frozen=True)
class Reading:
    """What an error says, per driver."""

    driver: str  # "pymysql", "psycopg", "sqlite" or "" (not a database driver's error)
    kind: str  # the driver's error class: IntegrityError, NotNullViolation, ...
    code: int | None  # MariaDB's error number (PyMySQL)
    message: str  # the message's first line, without the number
    detail: tuple[str, ...] = ()  # PostgreSQL's DETAIL: lines


def read(exc: BaseException) -> Reading:
    orig = driver_error(exc)
    kind = type(orig).__name__
    module = type(orig).__module__
    args = getattr(orig, "args", ())
    # PyMySQL: (1452, 'Cannot add or update a child row: ...')
    if module.startswith("pymysql") and len(args) == 2 and isinstance(args[0], int):
        return Reading("pymysql", kind, args[0], first_line(args[1]))
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    message = lines[0] if lines else ""
    if module.startswith("psycopg"):
        return Reading("psycopg", kind, None, message, tuple(line for line in lines[1:] if line.startswith("DETAIL:")))
    if isinstance(orig, sqlite3.Error):
        return Reading("sqlite", kind, None, message)
    return Reading("", kind, None, message)


_NAMES_START = re.compile(r"[:;'`(]")  # in MariaDB's messages, names and values start here


def short(exc: BaseException) -> str:
    """A short summary of a database error, the same on every run.

    PostgreSQL: the error class (NotNullViolation). MariaDB: the error number and the message
    up to its first quoted name or colon. SQLite: the message up to its first colon (names
    after it vary), whole for a syntax error (there the name before the colon says what was
    refused). Anything else: its class.
    """
    found = read(exc)
    if found.driver == "pymysql":
        return f"error {found.code}: {_NAMES_START.split(found.message)[0].strip()}"
    if found.driver == "sqlite":
        if found.message.endswith(": syntax error"):  # 'near "ALTER": syntax error': the name is the point
            return f"error: {found.message}"
        return f"error: {found.message.split(':')[0].strip()}"
    return f"error: {found.kind}"


def reason(exc: BaseException) -> str:
    """Like short(), with MariaDB's sentence kept up to its first semicolon (the reason, not the
    advice after it) and without the word "error"; SQLite's first line, at most 60 characters."""
    found = read(exc)
    if found.code is not None:
        return f"{found.code}: {found.message.split(';')[0]}".strip()
    if found.driver == "psycopg":
        return found.kind
    return found.message[:60]


def said(exc: BaseException) -> str:
    """What the database said, without the SQL statement and the link SQLAlchemy appends."""
    if getattr(exc, "orig", None) is None:
        return first_line(exc)
    found = read(exc)
    if found.code is not None:
        return f"({found.code}) {found.message}"
    return " ".join([found.message, *found.detail]) if found.message else found.kind


def typed(exc: BaseException) -> str:
    """`Type: first line of its message`, the driver's error for a database error."""
    orig = driver_error(exc)
    return f"{type(orig).__name__}: {first_line(orig)}"


def error_text(exc: BaseException) -> str:
    """An error as evidence: the driver's class or number and its message, without the names
    that change from run to run (MariaDB's trailing "(`db`.`#sql-...`, ...)")."""
    found = read(exc)
    if found.driver == "pymysql":
        return f"({found.code}) {found.message.split(' (`')[0]}"
    if found.driver == "psycopg":
        return one_line(" ".join([f"{found.kind}: {found.message}", *found.detail]))
    if found.driver == "sqlite":
        return f"{found.kind}: {found.message}"
    return typed(exc)
