"""Record what a notebook's evidence cells show on every engine:
`python -m course.maintainer.evidence notebooks/08b_foreign_key_violations.ipynb [...]`.

Runs each notebook top to bottom on SQLite, MariaDB and PostgreSQL (the servers of
COURSE_TEST_MARIADB_URL and COURSE_TEST_POSTGRESQL_URL), with COURSE_EVIDENCE_RECORD set, so
that every `evidence.For(...).show(key, value)` writes its value instead of checking it. Only
when all three runs succeed does it replace chapters/<chapter>/evidence/<notebook>.json (a
key no longer shown disappears with the old file). Then re-record the notebook's stored
outputs (`make record NOTEBOOKS=...`): they print the recorded values.
"""

import os
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from course import settings
from course.runtime import evidence, reaper


def record(path: Path) -> Path | None:
    """Run `path` on the three engines; write its evidence file. None if it shows no evidence."""
    scratch = Path(reaper.scratch_dir("mip-evidence-"))
    try:
        out = scratch / "evidence.json"
        current = settings.suite()
        for engine in evidence.ENGINE_ORDER:
            env = {**os.environ, evidence.RECORD_SETTING: str(out), "COURSE_WORKDIR": str(scratch / engine),
                   "COURSE_LEARNER_DIR": str(scratch / "learner"), "COURSE_PROGRESS_FILE": str(scratch / "progress.json")}
            env.pop("COURSE_DATABASE_URL", None)
            if engine != "sqlite":
                env["COURSE_DATABASE_URL"] = current.server_url(engine)
            notebook = nbformat.read(path, as_version=4)
            client = NotebookClient(notebook, timeout=600, kernel_name="python3",
                                    resources={"metadata": {"path": str(path.parent)}})
            try:
                client.execute(env=env)
            except CellExecutionError as exc:
                raise SystemExit(f"{path.name} on {engine}: {str(exc).strip().splitlines()[-1]}") from None
            print(f"{path.name}: ran on {engine}", file=sys.stderr)
        if not out.exists():
            return None
        target = evidence.file_for(path.stem)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, target)
        return target
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__.strip().splitlines()[0], file=sys.stderr)
        return 2
    for name in argv:
        written = record(Path(name))
        print(f"{name}: " + (f"wrote {written}" if written else "no evidence cells"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
