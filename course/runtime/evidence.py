"""Every engine's evidence beside the prose: what this run's engine did, and what the others did.

A notebook's stored outputs come from SQLite, but its prose also speaks for MariaDB and
PostgreSQL. Where it does, a cell computes the fact on the engine it runs on and hands it to
`show`, which prints it together with the value recorded on each other engine:

    from course import evidence
    seen = evidence.For("08b_foreign_key_violations", ws)
    seen.show("plain foreign key", f"{type(error).__name__}: {reason}")

The recorded values live in chapters/<chapter>/evidence/<notebook>.json. Every run compares
this engine's value with its recorded one and stops, in one line, when they differ or none
was recorded: so the stored SQLite output (nbval) and the runs on the servers
(tests/test_notebooks_on_servers.py) both re-check what the reader sees. A maintainer records
them by running the notebook on the three engines:

    python -m course.maintainer.evidence notebooks/08b_foreign_key_violations.ipynb

(which sets COURSE_EVIDENCE_RECORD to a file `show` writes into instead of comparing), then
re-records the notebook's SQLite outputs with `make record`, which now show the new values.
"""

import json
import os
from pathlib import Path

from sqlalchemy.engine import make_url

from course import REPO, syllabus
from course.runtime import engines
from course.runtime.errors import error_text  # noqa: F401 - notebooks call evidence.error_text

RECORD_SETTING = "COURSE_EVIDENCE_RECORD"  # set by course.maintainer.evidence only
ENGINE_ORDER = ("sqlite", "mariadb", "postgresql")


class EvidenceError(AssertionError):
    """A value that differs from the recorded one, or was never recorded."""


def file_for(notebook: str, root: Path = REPO) -> Path:
    """chapters/<chapter>/evidence/<notebook>.json for a notebook's stem."""
    for entry in syllabus.current().notebooks():
        if Path(entry.file).stem == notebook:
            return root / "chapters" / entry.chapter / "evidence" / f"{notebook}.json"
    raise LookupError(f"no notebook {notebook!r} in syllabus.toml")


def _title(engine: str, versions: dict) -> str:
    title = engines.ENGINE_TITLES.get(engine, engine)
    return f"{title} {versions[engine]}" if engine in versions else title


def _version(ws) -> str:
    """The server's version as it reports it (MariaDB's without its '-MariaDB...' suffix)."""
    with ws.engine.connect() as connection:
        info = connection.dialect.server_version_info
    return ".".join(str(part) for part in info if isinstance(part, int))


class For:
    """The evidence of one notebook, on the engine of its workspace `ws`."""

    def __init__(self, notebook: str, ws, path: Path | None = None):
        self.notebook, self.ws = notebook, ws
        self.path = path or file_for(notebook)
        self.engine = ws.engine_name

    def _load(self, path: Path) -> dict:
        if not path.exists():
            return {"versions": {}, "values": {}}
        return json.loads(path.read_text(encoding="utf-8"))

    def show(self, key: str, value: str) -> None:
        """Print `value` (this run) beside the recorded values of the other engines; check it."""
        value = str(value).rstrip("\n")
        database = make_url(str(self.ws.url)).database if self.engine != "sqlite" else None
        if database:  # a server database's name is new on every run
            value = value.replace(database, "<db>")
        recording = os.environ.get(RECORD_SETTING)
        if recording:  # the maintainer's run: store, compare nothing
            path = Path(recording)
            data = self._load(path)
            data["versions"][self.engine] = _version(self.ws)
            data["values"].setdefault(key, {})[self.engine] = value
            path.write_text(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True) + "\n", encoding="utf-8")
        data = self._load(self.path)
        recorded = data["values"].get(key, {})
        others = [e for e in ENGINE_ORDER if e != self.engine and e in recorded]
        rows = [(f"{_title(self.engine, data['versions'])} (this run)", value)]
        rows += [(f"{_title(e, data['versions'])} (recorded)", recorded[e]) for e in others]
        if all("\n" not in v for _, v in rows):
            width = max(len(name) for name, _ in rows)
            print("\n".join(f"{name:<{width}} | {v}" for name, v in rows))
        else:
            print("\n\n".join(f"-- {name}\n{v}" for name, v in rows))
        if not recording and self.engine in ENGINE_ORDER:
            relative = self.path.relative_to(REPO) if self.path.is_relative_to(REPO) else self.path
            if self.engine not in recorded:
                raise EvidenceError(
                    f"{key!r}: nothing recorded on {self.engine} in {relative}; "
                    f"record it: python -m course.maintainer.evidence notebooks/{self.notebook}.ipynb")
            if recorded[self.engine] != value:
                raise EvidenceError(
                    f"{key!r} on {self.engine}: recorded {recorded[self.engine]!r}, this run {value!r} "
                    f"({relative}; re-record: python -m course.maintainer.evidence notebooks/{self.notebook}.ipynb)")
