"""Every notebook, run top to bottom on MariaDB and on PostgreSQL.

The stored outputs are SQLite's, so here nothing is compared as text: a notebook passes when
every cell runs (cells tagged raises-exception may raise) and so every assertion cell holds,
and those state each lesson's facts for the engine they run on.

Not the notebooks about one server engine (metadata course.engines, chapter 3): they choose
their servers themselves and their stored outputs are those servers', compared under strict
nbval once per run (conftest.py); running them again here would only repeat that run.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course import syllabus
from course.runtime import engines

NOTEBOOKS = [path for path in syllabus.current().notebook_paths() if not syllabus.notebook_engines(path)]


@pytest.mark.long
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_on_server(server_url, notebook: Path, tmp_path):
    env = {
        **os.environ,
        engines.SETTING: server_url.render_as_string(hide_password=False),
        # Its own working copies: the SQLite run of the same notebook may be running now.
        "COURSE_WORKDIR": str(tmp_path),
    }
    client = NotebookClient(
        nbformat.read(notebook, as_version=4), timeout=300, kernel_name="python3",
        resources={"metadata": {"path": str(notebook.parent)}},
    )
    try:
        client.execute(env=env)
    except CellExecutionError as exc:
        pytest.fail(f"{notebook.name} on {server_url.get_backend_name()}:\n{exc}", pytrace=False)
