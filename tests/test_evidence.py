"""course.runtime.evidence: each engine's recorded answer beside this run's, and checked.

The notebooks' own runs (nbval on SQLite, tests/test_notebooks_on_servers.py on the servers)
are what re-check the recorded values; these tests hold the mechanism and the files."""

import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
import sqlalchemy as sa

from course import REPO, syllabus
from course.runtime import evidence


@dataclass
class FakeWorkspace:
    engine_name: str
    url: str
    engine: sa.Engine


def recorded(tmp_path: Path, values: dict) -> Path:
    path = tmp_path / "nb.json"
    path.write_text(json.dumps({"versions": {"sqlite": "3.40.1", "mariadb": "10.11.19", "postgresql": "15.20"},
                                "values": values}), encoding="utf-8")
    return path


def on(engine_name: str, tmp_path: Path, url: str | None = None) -> FakeWorkspace:
    return FakeWorkspace(engine_name, url or f"sqlite:///{tmp_path / 'x.db'}", sa.create_engine(f"sqlite:///{tmp_path / 'x.db'}"))


def test_this_run_is_shown_first_then_the_recorded_engines(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv(evidence.RECORD_SETTING, raising=False)
    path = recorded(tmp_path, {"k": {"sqlite": "refused", "mariadb": "ok, filled ''", "postgresql": "NotNullViolation"}})
    seen = evidence.For("nb", on("postgresql", tmp_path, "postgresql+psycopg://h/mip_abc"), path=path)
    assert seen.show("k", "NotNullViolation") is None  # nothing for Jupyter to echo
    assert capsys.readouterr().out.splitlines() == [
        "PostgreSQL 15.20 (this run) | NotNullViolation",
        "SQLite 3.40.1 (recorded)    | refused",
        "MariaDB 10.11.19 (recorded) | ok, filled ''",
    ]


def test_a_value_that_differs_from_the_record_fails_in_one_line(tmp_path, monkeypatch):
    monkeypatch.delenv(evidence.RECORD_SETTING, raising=False)
    path = recorded(tmp_path, {"k": {"sqlite": "refused", "mariadb": "ok", "postgresql": "error"}})
    with pytest.raises(evidence.EvidenceError) as failed:
        evidence.For("nb", on("mariadb", tmp_path, "mysql+pymysql://h/mip_abc"), path=path).show("k", "refused")
    message = str(failed.value)
    assert "\n" not in message and "'k' on mariadb: recorded 'ok', this run 'refused'" in message
    assert "python -m course.maintainer.evidence notebooks/nb.ipynb" in message


def test_a_value_never_recorded_on_this_engine_fails_and_says_how_to_record_it(tmp_path, monkeypatch):
    monkeypatch.delenv(evidence.RECORD_SETTING, raising=False)
    path = recorded(tmp_path, {"k": {"sqlite": "refused"}})
    with pytest.raises(evidence.EvidenceError, match="nothing recorded on postgresql"):
        evidence.For("nb", on("postgresql", tmp_path, "postgresql+psycopg://h/x"), path=path).show("k", "x")


def test_recording_writes_the_value_and_the_version_and_checks_nothing(tmp_path, monkeypatch, capsys):
    out = tmp_path / "recording.json"
    monkeypatch.setenv(evidence.RECORD_SETTING, str(out))
    path = recorded(tmp_path, {"k": {"sqlite": "old"}})
    evidence.For("nb", on("sqlite", tmp_path), path=path).show("k", "new\n")
    written = json.loads(out.read_text(encoding="utf-8"))
    assert written["values"] == {"k": {"sqlite": "new"}}
    assert re.fullmatch(r"3\.\d+\.\d+", written["versions"]["sqlite"])


def test_a_server_database_name_is_masked(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv(evidence.RECORD_SETTING, raising=False)
    path = recorded(tmp_path, {"k": {"sqlite": "-", "mariadb": "Table '<db>.user' doesn't exist", "postgresql": "-"}})
    seen = evidence.For("nb", on("mariadb", tmp_path, "mysql+pymysql://root@h/mip_run1_x7"), path=path)
    seen.show("k", "Table 'mip_run1_x7.user' doesn't exist")
    assert "(this run) | Table '<db>.user' doesn't exist" in capsys.readouterr().out


def evidence_files():
    return sorted((REPO / "chapters").glob("*/evidence/*.json"))


def test_there_is_evidence():
    assert len(evidence_files()) >= 5


@pytest.mark.parametrize("path", evidence_files(), ids=lambda p: p.stem)
def test_every_recorded_key_has_all_three_engines_and_is_still_shown_by_its_notebook(path):
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data["versions"]) == set(evidence.ENGINE_ORDER)
    notebook = REPO / syllabus.NOTEBOOKS / f"{path.stem}.ipynb"
    assert evidence.file_for(path.stem) == path, "the file sits in its notebook's chapter"
    source = "\n".join(c.source for c in nbformat.read(notebook, as_version=4).cells if c.cell_type == "code")
    for key, values in data["values"].items():
        assert set(values) == set(evidence.ENGINE_ORDER), key
        assert json.dumps(key, ensure_ascii=False) in source or repr(key) in source, f"{key!r} is no longer shown"
