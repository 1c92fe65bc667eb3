"""Small, stable displays for notebooks: a file, a table's schema, rows of a query, an API response."""

from collections.abc import Iterable, Sequence
from pathlib import Path

from sqlalchemy import Engine, inspect, text


def file(path: Path | str, start: int | None = None, end: int | None = None) -> None:
    """Print a file (or lines start..end, 1-based, inclusive) under a header with its name."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    chosen = lines[(start or 1) - 1 : end]
    print(f"# {path.name}" + (f", lines {start or 1}-{end or len(lines)}" if start or end else ""))
    print("\n".join(chosen))


def table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """Print rows as an aligned plain-text table (what a reader would see in a SQL shell)."""
    cells = [[str(h) for h in headers], *[["NULL" if v is None else str(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [" | ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in cells]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    print("\n".join(lines))


def rows(engine: Engine, sql: str, **params: object) -> None:
    """Run a query and print its result as a table."""
    with engine.connect() as connection:
        result = connection.execute(text(sql), params)
        table(list(result.keys()), result.all())


def tables(engine: Engine) -> list[str]:
    """The table names in the database, sorted."""
    return sorted(inspect(engine).get_table_names())


def schema(engine: Engine, table_name: str) -> None:
    """Print a table's columns and constraints as the database reports them (read through one
    connection: an Inspector on an Engine opens one for each question)."""
    with engine.connect() as connection:
        inspector = inspect(connection)
        columns = inspector.get_columns(table_name)
        uniques = inspector.get_unique_constraints(table_name)
        foreign_keys = inspector.get_foreign_keys(table_name)
    table(
        ["column", "type", "nullable", "comment"],
        [(c["name"], c["type"], "yes" if c["nullable"] else "no", c.get("comment") or "") for c in columns],
    )
    for unique in uniques:
        print(f"unique {unique['name']} ({', '.join(unique['column_names'])})")
    for fk in foreign_keys:
        target = f"{fk['referred_table']}({', '.join(fk['referred_columns'])})"
        print(f"foreign key {fk['name']} ({', '.join(fk['constrained_columns'])}) -> {target}")


def excerpt(path: Path | str, first: str, last: str | None = None) -> None:
    """Print the part of a file from the first line containing `first` to the next line
    after it containing `last` (both inclusive; without `last`, `first`'s line alone), under
    a header with the line numbers. Found by content, so the excerpt follows edits to the file."""
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next((i for i, line in enumerate(lines) if first in line), None)
    if start is None:
        raise ValueError(f"{path.name} has no line containing {first!r}")
    end = start if last is None else next((i for i in range(start + 1, len(lines)) if last in lines[i]), None)
    if end is None:
        raise ValueError(f"{path.name} has no line containing {last!r} after line {start + 1}")
    print(f"# {path.name}, " + (f"line {start + 1}" if end == start else f"lines {start + 1}-{end + 1}"))
    print("\n".join(lines[start : end + 1]))


def query(engine: Engine, statement) -> None:
    """Run a SQLAlchemy Core statement and print its rows as a table.

    Unlike `rows`, which takes raw SQL, the dialect quotes names for you: `user` is reserved
    in PostgreSQL and needs backticks on MariaDB, and `sa.table("user", ...)` handles both.
    """
    with engine.connect() as connection:
        result = connection.execute(statement)
        table(list(result.keys()), result.all())


def response(response) -> None:
    """Print an HTTP response as an API client receives it: the request and status, then the
    JSON body, one object a line (a list's items each on their own)."""
    import json

    print(f"{response.request.method} {response.request.url.path} -> {response.status_code} {response.reason_phrase}")
    body = response.json()
    for item in body if isinstance(body, list) else [body]:
        print("  ", json.dumps(item, ensure_ascii=False))
