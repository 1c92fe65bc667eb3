"""What a reader of each notebook faces: `python -m course.maintainer.reading [--against REF]`.

Per notebook: code cells, the visible ones (check cells are hidden, see record.py), the words
of its prose (markdown cells, split on white space) and an honest reading time: 200 words of
prose a minute, plus READ_CELL_MINUTES for each visible code cell (read it, run it, read its
output). syllabus.toml's minutes should not be below it (tests/test_syllabus.py).
`--against REF` puts the same numbers for a git revision beside them (before/after).
"""

import json
import math
import subprocess
import sys
from pathlib import Path

from course import REPO, syllabus

WORDS_PER_MINUTE = 200
READ_CELL_MINUTES = 0.3


def is_hidden(cell: dict) -> bool:
    return bool(cell.get("metadata", {}).get("jupyter", {}).get("source_hidden")) or \
        "remove-cell" in cell.get("metadata", {}).get("tags", [])


def measure(notebook: dict) -> dict:
    code = [c for c in notebook["cells"] if c["cell_type"] == "code"]
    visible = [c for c in code if not is_hidden(c)]
    words = sum(len("".join(c["source"]).split()) for c in notebook["cells"] if c["cell_type"] == "markdown")
    return {"code": len(code), "visible": len(visible), "words": words,
            "minutes": math.ceil(words / WORDS_PER_MINUTE + READ_CELL_MINUTES * len(visible))}


def at_revision(ref: str, root: Path = REPO) -> dict[str, dict]:
    """measure() of every notebook in notebooks/ at git revision `ref`, by file name."""
    names = subprocess.run(["git", "ls-tree", "--name-only", ref, "notebooks/"], cwd=root,
                           capture_output=True, text=True, check=True).stdout.split()
    # A notebook renamed since `ref` is measured under its new name.
    status = subprocess.run(["git", "diff", "--find-renames", "--name-status", ref, "--", "notebooks/"], cwd=root,
                            capture_output=True, text=True, check=True).stdout.splitlines()
    renamed = {old: new for kind, old, new in (line.split("\t") for line in status if line.startswith("R"))}
    found = {}
    for name in names:
        if name.endswith(".ipynb"):
            text = subprocess.run(["git", "show", f"{ref}:{name}"], cwd=root, capture_output=True, text=True,
                                  check=True).stdout
            found[Path(renamed.get(name, name)).name] = measure(json.loads(text))
    return found


def now() -> dict[str, dict]:
    return {p.name: measure(json.loads(p.read_text(encoding="utf-8"))) for p in syllabus.current().notebook_paths()}


def main(argv: list[str]) -> int:
    before = at_revision(argv[argv.index("--against") + 1]) if "--against" in argv else None
    after = now()
    minutes = {n.file: n.minutes for n in syllabus.notebooks()}
    head = ["notebook", "code", "visible", "words", "est. min", "syllabus min"]
    if before is not None:
        head = ["notebook", "visible before", "visible after", "words before", "words after", "est. min", "syllabus min"]
    print(" | ".join(head))
    totals = [0, 0, 0, 0, 0]
    for name, m in after.items():
        if before is not None:
            b = before.get(name, {"visible": 0, "words": 0})
            print(f"{name} | {b['visible']} | {m['visible']} | {b['words']:,} | {m['words']:,} | {m['minutes']} | {minutes[name]}")
        else:
            print(f"{name} | {m['code']} | {m['visible']} | {m['words']:,} | {m['minutes']} | {minutes[name]}")
        totals = [totals[0] + m["code"], totals[1] + m["visible"], totals[2] + m["words"], *totals[3:]]
    print(f"total now: {totals[0]} code cells, {totals[1]} visible, {totals[2]:,} words")
    if before is not None:
        print(f"total at {argv[argv.index('--against') + 1]}: {sum(b['code'] for b in before.values())} code cells, "
              f"{sum(b['visible'] for b in before.values())} visible, {sum(b['words'] for b in before.values()):,} words")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
