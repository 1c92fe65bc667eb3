"""Re-execute notebooks and store their outputs, byte-stable: `python -m course.maintainer.record [paths]`
(no paths: every notebook of syllabus.toml, in reading order).

Outputs are what strict nbval compares against, so they are recorded the way nbval reads
them: timing metadata off, consecutive stream outputs of one name merged into one.

Check cells (no output, at least one top-level `assert`, no function or class defined) exist
for the tests, not for the reader: recording hides their source in JupyterLab (standard
`jupyter.source_hidden` metadata) and tags them `remove-cell`, which site builders (myst-nb,
Jupyter Book) drop. nbval runs them all the same. `--hide-checks` does only that, without
executing anything.
"""

import ast

import os
import sys
import shutil
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from course import syllabus
from course.runtime import reaper

# What JupyterLab writes into a notebook when its kernel starts: the kernelspec of the kernel
# that the pinned ipykernel installs. Stored as is, so that opening a lesson changes nothing.
KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}


def _merge_streams(outputs: list) -> list:
    merged: list = []
    for output in outputs:
        last = merged[-1] if merged else None
        if output.output_type == "stream" and last is not None and last.output_type == "stream" and last.name == output.name:
            last.text += output.text
        else:
            merged.append(output)
    return merged


HIDDEN_CHECK_TAG = "remove-cell"


def is_check_cell(cell) -> bool:
    """A code cell that only checks: no output, a top-level assert, nothing defined for later."""
    if cell.get("cell_type") != "code" or cell.get("outputs"):
        return False
    try:
        body = ast.parse("".join(cell.get("source", ""))).body
    except SyntaxError:
        return False
    return any(isinstance(node, ast.Assert) for node in body) and not any(
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) for node in body
    )


def hide_check_cells(notebook) -> None:
    """Mark each check cell hidden and removable; unmark a cell that is no longer one."""
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        jupyter = dict(cell.metadata.get("jupyter", {}))
        if is_check_cell(cell):
            jupyter["source_hidden"] = True
            if HIDDEN_CHECK_TAG not in tags:
                tags.append(HIDDEN_CHECK_TAG)
        else:
            jupyter.pop("source_hidden", None)
            tags = [t for t in tags if t != HIDDEN_CHECK_TAG]
        for key, value in (("jupyter", jupyter), ("tags", tags)):
            if value:
                cell.metadata[key] = value
            else:
                cell.metadata.pop(key, None)


def record(path: Path, env: dict[str, str] | None = None) -> str:
    """Execute the notebook at `path` (its kernel gets `env`, default this process's
    environment) and store its outputs."""
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=dict(os.environ) if env is None else env)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = _merge_streams(cell.outputs)
            cell.metadata.pop("execution", None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    hide_check_cells(notebook)
    nbformat.write(notebook, path)
    return path.name


def main(argv: list[str]) -> int:
    if argv[:1] == ["--hide-checks"]:
        for path in [Path(a) for a in argv[1:]] or syllabus.current().notebook_paths():
            notebook = nbformat.read(path, as_version=4)
            hide_check_cells(notebook)
            nbformat.write(notebook, path)
        return 0
    paths = [Path(a) for a in argv] or syllabus.current().notebook_paths()
    # As in a test run: exercise checks in notebooks see the untouched starters.
    scratch = reaper.scratch_dir("mip-record-")
    # Given to the kernels, not set here: nothing of this process's environment changes.
    env = {**os.environ, "COURSE_LEARNER_DIR": os.path.join(scratch, "learner"),
           "COURSE_PROGRESS_FILE": os.path.join(scratch, "progress.json")}
    try:
        with ProcessPoolExecutor(max_workers=2) as pool:
            for name in pool.map(record, paths, [env] * len(paths)):
                print(f"recorded {name}")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
