"""What strict nbval needs from a stored notebook, and what it cannot check by itself.

A notebook stripped of outputs passes nbval trivially, a `raises-exception` tag does not check
that the cell raised, and a stored traceback in a stream or a dated `Create Date:` makes the
next run differ. Each notebook is checked on its own (the glob runs at collection time).
"""

import json
import re
from pathlib import Path

import pytest

from course import syllabus

NOTEBOOKS = syllabus.current().notebook_paths()  # every lesson (the syllabus refuses an unlisted one)
CREATE_DATE = re.compile(r"Create Date:\s*\d{4}-\d{2}-\d{2}")


def text(value) -> str:
    return "".join(value) if isinstance(value, list) else str(value)


def output_texts(output: dict) -> list[str]:
    if output["output_type"] == "stream":
        return [text(output["text"])]
    if output["output_type"] == "error":
        return [output["ename"], output["evalue"], *output.get("traceback", [])]
    return [text(v) for v in output.get("data", {}).values() if isinstance(v, (str, list))]


def code_cells(notebook: dict) -> list[tuple[int, dict]]:
    return [(i, c) for i, c in enumerate(notebook["cells"]) if c["cell_type"] == "code"]


@pytest.fixture(params=NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def notebook(request) -> dict:
    path: Path = request.param
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks():
    assert NOTEBOOKS, "syllabus.toml lists no notebooks"


def test_kernelspec_is_what_the_installed_kernel_writes(notebook):
    """JupyterLab copies the running kernel's kernelspec into a notebook when it opens it: a
    stored one that differs makes reading a lesson rewrite it (course/maintainer/record.py stores this)."""
    from jupyter_client.kernelspec import KernelSpecManager

    from course.maintainer.record import KERNELSPEC

    installed = KernelSpecManager().get_kernel_spec("python3")
    assert KERNELSPEC == {"name": "python3", "display_name": installed.display_name, "language": installed.language}
    assert notebook["metadata"]["kernelspec"] == KERNELSPEC, "re-record it (make record), or store course.maintainer.record.KERNELSPEC in its metadata"


def test_stored_outputs_and_execution_counts(notebook):
    missing = [i for i, c in code_cells(notebook) if text(c["source"]).strip() and not isinstance(c.get("execution_count"), int)]
    assert not missing, f"code cells without an execution_count (not executed before saving): {missing}"
    assert any(c.get("outputs") for _, c in code_cells(notebook)), "no stored outputs: nbval would pass trivially"


def test_raises_exception_tags_match_error_outputs(notebook):
    for i, cell in code_cells(notebook):
        tagged = "raises-exception" in cell.get("metadata", {}).get("tags", [])
        raised = any(o["output_type"] == "error" for o in cell.get("outputs", []))
        assert tagged == raised, (
            f"cell {i}: tagged raises-exception but no stored error output" if tagged
            else f"cell {i}: stored error output without the raises-exception tag"
        )


def test_no_unstable_or_misplaced_output(notebook):
    for i, cell in code_cells(notebook):
        for output in cell.get("outputs", []):
            for piece in output_texts(output):
                assert not CREATE_DATE.search(piece), f"cell {i}: a dated Create Date (leave it out of script.py.mako)"
            if output["output_type"] == "stream":
                assert "Traceback" not in text(output["text"]), f"cell {i}: a traceback in {output['name']}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_check_cells_are_hidden_from_the_reader_and_only_they(notebook: Path):
    """A cell that only checks (no output, a top-level assert, nothing defined) is collapsed in
    JupyterLab and tagged for site builders to drop; nbval still runs it. A cell with an output
    or a definition is part of the lesson and stays in view. `make record` keeps this true;
    `python -m course.maintainer.record --hide-checks` fixes it without executing anything."""
    import nbformat

    from course.maintainer.record import HIDDEN_CHECK_TAG, is_check_cell

    for index, cell in enumerate(nbformat.read(notebook, as_version=4).cells):
        if cell.cell_type != "code":
            continue
        hidden = cell.metadata.get("jupyter", {}).get("source_hidden", False)
        tagged = HIDDEN_CHECK_TAG in cell.metadata.get("tags", [])
        if is_check_cell(cell):
            assert hidden and tagged, f"cell {index} only checks: run `python -m course.maintainer.record --hide-checks`"
        else:
            assert not hidden and not tagged, f"cell {index} is part of the lesson but hidden from the reader"
