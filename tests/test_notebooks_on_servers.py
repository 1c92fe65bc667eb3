"""Every notebook, run top to bottom on MariaDB and on PostgreSQL.

The stored outputs are SQLite's, so here nothing is compared as text: a notebook passes when
every cell runs (cells tagged raises-exception may raise) and so every assertion cell holds,
and those state each lesson's facts for the engine they run on.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course import REPO, engines

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


def run_on_server(notebook: Path, server_url, workdir: Path) -> None:
    env = {
        **os.environ,
        engines.SETTING: server_url.render_as_string(hide_password=False),
        # Its own working copies: the SQLite run of the same notebook may be running now.
        "COURSE_WORKDIR": str(workdir),
    }
    client = NotebookClient(
        nbformat.read(notebook, as_version=4), timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        pytest.fail(f"{notebook.name} on {server_url.get_backend_name()}:\n{exc}", pytrace=False)


def _test_class(notebook: Path) -> type:
    def test_runs_on_server(self, server_url, tmp_path):
        run_on_server(notebook, server_url, tmp_path)

    return type(f"TestNotebook{notebook.stem}", (), {"test_runs_on_server": test_runs_on_server})


# One class per notebook: `--dist loadscope` schedules by class, so the notebooks spread
# over the xdist workers instead of queueing on one.
for _notebook in NOTEBOOKS:
    _cls = _test_class(_notebook)
    globals()[_cls.__name__] = _cls
